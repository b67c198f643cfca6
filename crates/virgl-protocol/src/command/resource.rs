//! Resource data movement and creation: inline writes, transfers, `PIPE_RESOURCE_*`.
//!
//! Nothing here checks that a box fits its resource; `virgl-resource`'s transfer math does that
//! with the resource in hand.

use super::reader::{Reader, Result};
use super::records::{Record, Records};
use crate::pipe::TransferDirection;

/// A 3D box as the guest sent it (`pipe_box`: x, y, z, width, height, depth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Box3 {
    pub x: u32,
    pub y: u32,
    pub z: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
}

impl Box3 {
    pub(crate) fn read(r: &Reader<'_>, at: usize) -> Self {
        let [x, y, z, width, height, depth] = r.array(at);
        Box3 {
            x,
            y,
            z,
            width,
            height,
            depth,
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u32>) {
        out.extend([self.x, self.y, self.z, self.width, self.height, self.depth]);
    }
}

/// The 11 dwords shared by `RESOURCE_INLINE_WRITE`, `TRANSFER3D` and `COPY_TRANSFER3D`
/// (`VIRGL_RESOURCE_IW_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransferRegion {
    pub handle: u32,
    pub level: u32,
    /// `PIPE_TRANSFER_*` bits (informational; upstream ignores them).
    pub usage: u32,
    /// Bytes per row of the guest data, 0 to let the host infer it.
    pub stride: u32,
    /// Bytes per layer of the guest data, 0 to let the host infer it.
    pub layer_stride: u32,
    pub bx: Box3,
}

impl TransferRegion {
    pub const DWORDS: usize = 11;

    fn read(r: &Reader<'_>) -> Self {
        TransferRegion {
            handle: r.dw(1),
            level: r.dw(2),
            usage: r.dw(3),
            stride: r.dw(4),
            layer_stride: r.dw(5),
            bx: Box3::read(r, 6),
        }
    }

    fn write(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.level,
            self.usage,
            self.stride,
            self.layer_stride,
        ]);
        self.bx.write(out);
    }
}

/// `RESOURCE_INLINE_WRITE`: 11 dwords of region then at least one dword of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInlineWrite<'a> {
    pub region: TransferRegion,
    /// The data dwords (the byte length is `4 * data.len()`; the box decides how much is used).
    pub data: &'a [u32],
}

impl<'a> ResourceInlineWrite<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(
            12,
            "VIRGL_RESOURCE_IW_DATA_START with at least one data dword",
        )?;
        Ok(ResourceInlineWrite {
            region: TransferRegion::read(r),
            data: r.tail(12),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        self.region.write(out);
        out.extend_from_slice(self.data);
    }

    /// The data as little-endian bytes.
    pub fn data_bytes(&self) -> impl ExactSizeIterator<Item = u8> + 'a {
        super::shader::dword_bytes(self.data)
    }
}

/// `TRANSFER3D` (13 dwords): move data between a resource and its guest backing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer3d {
    pub region: TransferRegion,
    /// Byte offset into the guest backing.
    pub offset: u32,
    pub direction: TransferDirection,
}

impl Transfer3d {
    pub const SIZE: usize = 13;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        // Upstream accepts trailing dwords; no guest sends them, so we do not.
        r.exact(Self::SIZE, "VIRGL_TRANSFER3D_SIZE")?;
        let dir = r.dw(13);
        let direction =
            TransferDirection::from_raw(dir).ok_or_else(|| r.invalid("direction", dir))?;
        Ok(Transfer3d {
            region: TransferRegion::read(r),
            offset: r.dw(12),
            direction,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        self.region.write(out);
        out.extend([self.offset, self.direction.raw()]);
    }
}

/// `VIRGL_COPY_TRANSFER3D_FLAGS_SYNCHRONIZED`.
pub const COPY_TRANSFER3D_SYNCHRONIZED: u32 = 1 << 0;
/// `VIRGL_COPY_TRANSFER3D_FLAGS_READ_FROM_HOST`.
pub const COPY_TRANSFER3D_READ_FROM_HOST: u32 = 1 << 1;

/// `COPY_TRANSFER3D` (14 dwords): copy between a resource region and a staging buffer.
///
/// Without `READ_FROM_HOST`, `region.handle` is the destination and `staging_handle` the source;
/// with it, data flows from `region.handle` into `staging_handle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyTransfer3d {
    pub region: TransferRegion,
    pub staging_handle: u32,
    pub staging_offset: u32,
    /// `COPY_TRANSFER3D_*` bits (other bits are kept and ignored).
    pub flags: u32,
}

impl CopyTransfer3d {
    pub const SIZE: usize = 14;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_COPY_TRANSFER3D_SIZE")?;
        Ok(CopyTransfer3d {
            region: TransferRegion::read(r),
            staging_handle: r.dw(12),
            staging_offset: r.dw(13),
            flags: r.dw(14),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        self.region.write(out);
        out.extend([self.staging_handle, self.staging_offset, self.flags]);
    }

    pub fn synchronized(&self) -> bool {
        self.flags & COPY_TRANSFER3D_SYNCHRONIZED != 0
    }

    pub fn read_from_host(&self) -> bool {
        self.flags & COPY_TRANSFER3D_READ_FROM_HOST != 0
    }
}

/// `PIPE_RESOURCE_CREATE` (11 dwords): describe the pipe resource behind a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeResourceCreate {
    /// `pipe_texture_target`.
    pub target: u32,
    /// `virgl_formats` value.
    pub format: u32,
    /// `VIRGL_BIND_*` bits.
    pub bind: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub array_size: u32,
    pub last_level: u32,
    pub nr_samples: u32,
    pub flags: u32,
    /// The blob id a later `RESOURCE_CREATE_BLOB` uses to claim it.
    pub blob_id: u32,
}

impl PipeResourceCreate {
    pub const SIZE: usize = 11;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_PIPE_RES_CREATE_SIZE")?;
        let [target, format, bind, width, height, depth, array_size, last_level, nr_samples, flags, blob_id] =
            r.array(1);
        Ok(PipeResourceCreate {
            target,
            format,
            bind,
            width,
            height,
            depth,
            array_size,
            last_level,
            nr_samples,
            flags,
            blob_id,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.target,
            self.format,
            self.bind,
            self.width,
            self.height,
            self.depth,
            self.array_size,
            self.last_level,
            self.nr_samples,
            self.flags,
            self.blob_id,
        ]);
    }
}

/// One plane of [`PipeResourceSetType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaneLayout {
    pub stride: u32,
    pub offset: u32,
}

impl Record for PlaneLayout {
    const DWORDS: usize = 2;
    fn from_dwords(d: &[u32]) -> Self {
        PlaneLayout {
            stride: d[0],
            offset: d[1],
        }
    }
    fn write(&self, out: &mut Vec<u32>) {
        out.extend([self.stride, self.offset]);
    }
}

/// `PIPE_RESOURCE_SET_TYPE`: `8 + 2 * planes` dwords, 1..=4 planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeResourceSetType<'a> {
    pub handle: u32,
    pub format: u32,
    pub bind: u32,
    pub width: u32,
    pub height: u32,
    pub usage: u32,
    /// DRM format modifier.
    pub modifier: u64,
    pub planes: Records<'a, PlaneLayout>,
}

impl<'a> PipeResourceSetType<'a> {
    /// `VIRGL_RESOURCE_MAX_PLANES` / upstream's `VIRGL_GBM_MAX_PLANES`.
    pub const MAX_PLANES: usize = 4;

    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        let len = r.len();
        if len < 10 || !(len - 8).is_multiple_of(2) || (len - 8) / 2 > Self::MAX_PLANES {
            return Err(r.bad_len("VIRGL_PIPE_RES_SET_TYPE_SIZE(nplanes) = 8 + 2n, n in 1..=4"));
        }
        Ok(PipeResourceSetType {
            handle: r.dw(1),
            format: r.dw(2),
            bind: r.dw(3),
            width: r.dw(4),
            height: r.dw(5),
            usage: r.dw(6),
            modifier: r.dw(7) as u64 | (r.dw(8) as u64) << 32,
            planes: Records::new(r.tail(9)),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.format,
            self.bind,
            self.width,
            self.height,
            self.usage,
        ]);
        out.extend([self.modifier as u32, (self.modifier >> 32) as u32]);
        out.extend_from_slice(self.planes.as_dwords());
    }
}

/// `GET_PIPE_RESOURCE_LAYOUT` (2 dwords): write a `virgl_resource_layout` of `target_handle`
/// into `out_handle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetPipeResourceLayout {
    pub out_handle: u32,
    pub target_handle: u32,
}
