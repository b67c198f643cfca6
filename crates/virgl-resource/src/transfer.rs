//! The transfer copy engine: box/stride math and bounds-checked copies between guest memory and
//! linear host staging.
//!
//! A transfer (TRANSFER_TO_HOST / FROM_HOST, vtest TRANSFER_GET/PUT(2), QEMU's
//! `transfer_{read,write}_iov`) names a box of one mip level. In guest memory the box starts at
//! `offset` and its block rows are `stride` bytes apart, its layers (array layers, cube faces or
//! 3D slices: the `z` axis) `layer_stride` bytes apart; 0 means "the level's natural pitch", as
//! upstream does. On the host side the box goes to or from a linear buffer described by a
//! [`HostLayout`]: tightly packed staging ([`TransferPlan::packed_layout`], what `glTexSubImage`
//! uploads) or a whole linear image ([`LinearImageLayout`]).
//!
//! [`TransferPlan::new`] checks everything a hostile guest controls, with checked arithmetic,
//! before a single byte moves: level, box inside the level, block alignment of compressed
//! formats, strides not smaller than the rows they hold, and the guest span inside the guest
//! memory. A copy that fails copies nothing.
//!
//! This module does not know GL formats and never touches GL; a backend turns the plan into
//! `glTexSubImage*`/`glReadPixels` calls or copies into its own linear storage.

use crate::backing::GuestMemory;
use crate::error::{ResourceError, ResourceResult};
use crate::{ResourceCreateArgs, TransferDirection, TransferRequest};

/// `enum pipe_texture_target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Target {
    Buffer = 0,
    Texture1d = 1,
    Texture2d = 2,
    Texture3d = 3,
    Cube = 4,
    Rect = 5,
    Texture1dArray = 6,
    Texture2dArray = 7,
    CubeArray = 8,
}

impl Target {
    /// From the wire value.
    pub fn from_raw(raw: u32) -> ResourceResult<Self> {
        Ok(match raw {
            0 => Self::Buffer,
            1 => Self::Texture1d,
            2 => Self::Texture2d,
            3 => Self::Texture3d,
            4 => Self::Cube,
            5 => Self::Rect,
            6 => Self::Texture1dArray,
            7 => Self::Texture2dArray,
            8 => Self::CubeArray,
            _ => return Err(ResourceError::InvalidTarget(raw)),
        })
    }

    /// True when the `z` axis counts array layers or cube faces (virgl puts the layers of a 1D
    /// array on `z` too, not on `y`).
    pub fn is_layered(self) -> bool {
        matches!(
            self,
            Self::Texture1dArray | Self::Texture2dArray | Self::Cube | Self::CubeArray
        )
    }
}

/// How a format packs pixels: `block_width` x `block_height` pixels in `bytes_per_block` bytes
/// (1x1 for uncompressed formats, 4x4 for S3TC/RGTC/BPTC/ETC2, up to 12x12 for ASTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockLayout {
    pub block_width: u32,
    pub block_height: u32,
    pub bytes_per_block: u32,
}

impl BlockLayout {
    /// A layout; zero in any field is refused.
    pub fn new(block_width: u32, block_height: u32, bytes_per_block: u32) -> ResourceResult<Self> {
        if block_width == 0 || block_height == 0 || bytes_per_block == 0 {
            return Err(ResourceError::InvalidBlockLayout {
                block_width,
                block_height,
                bytes_per_block,
            });
        }
        Ok(Self {
            block_width,
            block_height,
            bytes_per_block,
        })
    }

    /// An uncompressed layout of `bytes_per_pixel` bytes.
    pub fn uncompressed(bytes_per_pixel: u32) -> ResourceResult<Self> {
        Self::new(1, 1, bytes_per_pixel)
    }

    /// The layout of a guest `enum virgl_formats` value, from virgl-protocol's format table.
    ///
    /// Refused with [`ResourceError::UnknownFormat`]: unassigned and host-only values, `NONE`,
    /// planar formats (each plane has its own layout; this engine moves one plane) and 3D ASTC
    /// (blocks deeper than one slice).
    pub fn for_format(format: u32) -> ResourceResult<Self> {
        let format = virgl_protocol::VirglFormat::from_guest(format)
            .map_err(|_| ResourceError::UnknownFormat(format))?;
        let info = format.info();
        if format == virgl_protocol::VirglFormat::NONE || info.is_planar() || info.block_depth > 1 {
            return Err(ResourceError::UnknownFormat(format.raw()));
        }
        Self::new(
            u32::from(info.block_width),
            u32::from(info.block_height),
            u32::from(info.block_bytes),
        )
        .map_err(|_| ResourceError::UnknownFormat(format.raw()))
    }

    /// Blocks needed to cover `width` pixels.
    pub fn blocks_x(&self, width: u32) -> u32 {
        width.div_ceil(self.block_width)
    }

    /// Blocks needed to cover `height` pixels.
    pub fn blocks_y(&self, height: u32) -> u32 {
        height.div_ceil(self.block_height)
    }

    /// Bytes of one block row covering `width` pixels (never overflows: u32 * u32 in u64).
    pub fn row_bytes(&self, width: u32) -> u64 {
        u64::from(self.blocks_x(width)) * u64::from(self.bytes_per_block)
    }
}

/// The shape of a resource as the transfer engine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageGeometry {
    pub target: Target,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub array_size: u32,
    pub last_level: u32,
    pub block: BlockLayout,
}

/// One mip level's extent: pixels across and down, and the count along `z` (3D slices or
/// layers/faces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelExtent {
    pub width: u32,
    pub height: u32,
    pub layers: u32,
}

fn minify(size: u32, level: u32) -> u32 {
    size.checked_shr(level).unwrap_or(0).max(1)
}

impl ImageGeometry {
    /// The geometry of a 3D resource created with `args`, its format packed as `block`.
    ///
    /// Zero width/height/depth, a last level above 31, and a layered target with no layers are
    /// refused. Non-layered targets ignore `array_size`.
    pub fn new(args: &ResourceCreateArgs, block: BlockLayout) -> ResourceResult<Self> {
        let target = Target::from_raw(args.target)?;
        if args.width == 0 || args.height == 0 || args.depth == 0 {
            return Err(ResourceError::InvalidArgument("resource dimension of 0"));
        }
        if args.last_level > 31 {
            return Err(ResourceError::InvalidArgument("last_level above 31"));
        }
        if target.is_layered() && args.array_size == 0 {
            return Err(ResourceError::InvalidArgument(
                "array resource with array_size 0",
            ));
        }
        Ok(Self {
            target,
            width: args.width,
            height: args.height,
            depth: args.depth,
            array_size: args.array_size,
            last_level: args.last_level,
            block,
        })
    }

    /// The extent of `level`, or [`ResourceError::InvalidLevel`].
    pub fn level_extent(&self, level: u32) -> ResourceResult<LevelExtent> {
        if level > self.last_level {
            return Err(ResourceError::InvalidLevel {
                level,
                last_level: self.last_level,
            });
        }
        let layers = match self.target {
            Target::Texture3d => minify(self.depth, level),
            t if t.is_layered() => self.array_size,
            _ => 1,
        };
        Ok(LevelExtent {
            width: minify(self.width, level),
            height: minify(self.height, level),
            layers,
        })
    }

    /// Tightly packed row pitch of `level`.
    pub fn level_stride(&self, level: u32) -> ResourceResult<u64> {
        Ok(self.block.row_bytes(self.level_extent(level)?.width))
    }

    /// Tightly packed layer pitch of `level` with rows `stride` apart.
    pub fn level_layer_stride(&self, level: u32, stride: u64) -> ResourceResult<u64> {
        let rows = self.block.blocks_y(self.level_extent(level)?.height);
        u64::from(rows)
            .checked_mul(stride)
            .ok_or(ResourceError::Overflow("layer stride"))
    }
}

/// A box in pixels (x, y) and layers/slices (z) of one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferBox {
    pub x: u32,
    pub y: u32,
    pub z: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
}

impl TransferBox {
    /// The box of a [`TransferRequest`].
    pub fn of(req: &TransferRequest) -> Self {
        Self {
            x: req.x,
            y: req.y,
            z: req.z,
            width: req.width,
            height: req.height,
            depth: req.depth,
        }
    }

    /// True when it covers no pixel.
    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0 || self.depth == 0
    }

    fn outside(&self) -> ResourceError {
        ResourceError::BoxOutside {
            x: self.x,
            y: self.y,
            z: self.z,
            width: self.width,
            height: self.height,
            depth: self.depth,
        }
    }
}

/// Where the box lives in a linear host buffer: its first block at `offset`, block rows `stride`
/// apart, layers `layer_stride` apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostLayout {
    pub offset: u64,
    pub stride: u64,
    pub layer_stride: u64,
}

/// A checked transfer: everything needed to copy, and proof that the guest side fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferPlan {
    level: u32,
    bx: TransferBox,
    /// Bytes of one block row of the box.
    row_bytes: u64,
    /// Block rows per layer.
    rows: u32,
    /// Layers (or slices).
    layers: u32,
    guest: HostLayout,
}

/// Bytes spanned by `layers` layers of `rows` rows of `row_bytes`, from the first byte of the
/// first row to the last byte of the last row. Zero when empty.
fn span(row_bytes: u64, rows: u32, layers: u32, stride: u64, layer_stride: u64) -> Option<u64> {
    if row_bytes == 0 || rows == 0 || layers == 0 {
        return Some(0);
    }
    u64::from(layers - 1)
        .checked_mul(layer_stride)?
        .checked_add(u64::from(rows - 1).checked_mul(stride)?)?
        .checked_add(row_bytes)
}

impl TransferPlan {
    /// Checks `req` against the resource `geom` and resolves its guest-side layout.
    ///
    /// The guest memory size is checked separately ([`TransferPlan::check_guest`]), because the
    /// same plan may be used with the resource's backing or with iovecs passed with the call.
    pub fn new(geom: &ImageGeometry, req: &TransferRequest) -> ResourceResult<Self> {
        let extent = geom.level_extent(req.level)?;
        let bx = TransferBox::of(req);
        let end_x = u64::from(bx.x) + u64::from(bx.width);
        let end_y = u64::from(bx.y) + u64::from(bx.height);
        let end_z = u64::from(bx.z) + u64::from(bx.depth);
        if end_x > u64::from(extent.width)
            || end_y > u64::from(extent.height)
            || end_z > u64::from(extent.layers)
        {
            return Err(bx.outside());
        }
        let block = geom.block;
        let aligned = |start: u32, len: u32, edge: u32, unit: u32| {
            start.is_multiple_of(unit)
                && (len.is_multiple_of(unit)
                    || u64::from(start) + u64::from(len) == u64::from(edge))
        };
        if !aligned(bx.x, bx.width, extent.width, block.block_width)
            || !aligned(bx.y, bx.height, extent.height, block.block_height)
        {
            return Err(ResourceError::UnalignedBox {
                block_width: block.block_width,
                block_height: block.block_height,
            });
        }

        let row_bytes = block.row_bytes(bx.width);
        let rows = block.blocks_y(bx.height);
        let stride = if req.stride == 0 {
            geom.level_stride(req.level)?
        } else {
            let stride = u64::from(req.stride);
            if stride < row_bytes {
                return Err(ResourceError::StrideTooSmall {
                    what: "stride",
                    stride,
                    min: row_bytes,
                });
            }
            stride
        };
        let layer_stride = if req.layer_stride == 0 {
            geom.level_layer_stride(req.level, stride)?
        } else {
            let layer_stride = u64::from(req.layer_stride);
            // Only layers after the first are placed by layer_stride, so a short one is harmless
            // (and Mesa sends arbitrary values) when there is a single layer.
            let min = u64::from(rows) * stride;
            if bx.depth > 1 && layer_stride < min {
                return Err(ResourceError::StrideTooSmall {
                    what: "layer_stride",
                    stride: layer_stride,
                    min,
                });
            }
            layer_stride
        };
        let (rows, layers) = if bx.is_empty() {
            (0, 0)
        } else {
            (rows, bx.depth)
        };
        let plan = Self {
            level: req.level,
            bx,
            row_bytes,
            rows,
            layers,
            guest: HostLayout {
                offset: req.offset,
                stride,
                layer_stride,
            },
        };
        plan.guest_end()?;
        Ok(plan)
    }

    /// The mip level.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// The box.
    pub fn transfer_box(&self) -> TransferBox {
        self.bx
    }

    /// Bytes of one block row of the box.
    pub fn row_bytes(&self) -> u64 {
        self.row_bytes
    }

    /// Block rows per layer (0 for an empty box).
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Layers or slices (0 for an empty box).
    pub fn layers(&self) -> u32 {
        self.layers
    }

    /// The resolved guest-side layout (offset, stride, layer_stride with 0 replaced).
    pub fn guest_layout(&self) -> HostLayout {
        self.guest
    }

    /// True when nothing will be copied.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// One past the last guest byte the transfer touches.
    pub fn guest_end(&self) -> ResourceResult<u64> {
        let g = self.guest;
        span(
            self.row_bytes,
            self.rows,
            self.layers,
            g.stride,
            g.layer_stride,
        )
        .and_then(|s| s.checked_add(g.offset))
        .ok_or(ResourceError::Overflow("guest transfer span"))
    }

    /// Fails unless the whole guest side lies inside `guest_size` bytes.
    pub fn check_guest(&self, guest_size: u64) -> ResourceResult<()> {
        let end = self.guest_end()?;
        if end > guest_size || self.guest.offset > guest_size {
            return Err(ResourceError::OutOfBounds {
                what: "transfer guest memory",
                offset: self.guest.offset,
                len: end.saturating_sub(self.guest.offset),
                size: guest_size,
            });
        }
        Ok(())
    }

    /// Size of the box tightly packed.
    pub fn packed_size(&self) -> ResourceResult<u64> {
        span(
            self.row_bytes,
            self.rows,
            self.layers,
            self.row_bytes,
            self.packed_layer_stride(),
        )
        .ok_or(ResourceError::Overflow("packed transfer size"))
    }

    fn packed_layer_stride(&self) -> u64 {
        // rows <= 2^32 and row_bytes <= 2^64 / 2^32 in practice; saturate so the checked span
        // computation reports the overflow.
        self.row_bytes.saturating_mul(u64::from(self.rows))
    }

    /// The layout of tightly packed staging (what [`TransferPlan::gather`] produces).
    pub fn packed_layout(&self) -> HostLayout {
        HostLayout {
            offset: 0,
            stride: self.row_bytes,
            layer_stride: self.packed_layer_stride(),
        }
    }

    fn check_host(&self, layout: &HostLayout, host_len: usize) -> ResourceResult<()> {
        if !self.is_empty() {
            if layout.stride < self.row_bytes || (self.rows > 1 && layout.stride == 0) {
                return Err(ResourceError::StrideTooSmall {
                    what: "host stride",
                    stride: layout.stride,
                    min: self.row_bytes,
                });
            }
            let min = u64::from(self.rows).saturating_mul(layout.stride);
            if self.layers > 1 && layout.layer_stride < min {
                return Err(ResourceError::StrideTooSmall {
                    what: "host layer_stride",
                    stride: layout.layer_stride,
                    min,
                });
            }
        }
        let end = span(
            self.row_bytes,
            self.rows,
            self.layers,
            layout.stride,
            layout.layer_stride,
        )
        .and_then(|s| s.checked_add(layout.offset))
        .ok_or(ResourceError::Overflow("host transfer span"))?;
        if end > host_len as u64 || layout.offset > host_len as u64 {
            return Err(ResourceError::OutOfBounds {
                what: "transfer host staging",
                offset: layout.offset,
                len: end.saturating_sub(layout.offset),
                size: host_len as u64,
            });
        }
        Ok(())
    }

    /// Calls `f(guest_offset, host_offset, len)` for every contiguous run of the box, merging
    /// rows (and layers) that are contiguous on both sides. Offsets fit `u64` (checked before).
    fn for_each_run(
        &self,
        host: &HostLayout,
        mut f: impl FnMut(u64, usize, usize) -> ResourceResult<()>,
    ) -> ResourceResult<()> {
        if self.is_empty() {
            return Ok(());
        }
        let g = &self.guest;
        let row = usize::try_from(self.row_bytes).map_err(|_| ResourceError::Overflow("row"))?;
        let to_usize = |v: u64| usize::try_from(v).map_err(|_| ResourceError::Overflow("offset"));
        let rows_contiguous = g.stride == self.row_bytes && host.stride == self.row_bytes;
        let layer_bytes = self.packed_layer_stride();
        if rows_contiguous
            && (self.layers == 1
                || (g.layer_stride == layer_bytes && host.layer_stride == layer_bytes))
        {
            let total = to_usize(layer_bytes * u64::from(self.layers))?;
            return f(g.offset, to_usize(host.offset)?, total);
        }
        for layer in 0..u64::from(self.layers) {
            let g_layer = g.offset + layer * g.layer_stride;
            let h_layer = host.offset + layer * host.layer_stride;
            if rows_contiguous {
                f(g_layer, to_usize(h_layer)?, to_usize(layer_bytes)?)?;
                continue;
            }
            for r in 0..u64::from(self.rows) {
                f(
                    g_layer + r * g.stride,
                    to_usize(h_layer + r * host.stride)?,
                    row,
                )?;
            }
        }
        Ok(())
    }

    /// TO_HOST: copies the box from `guest` into `host` laid out as `layout`.
    ///
    /// All bounds are checked first; on error nothing has been copied.
    pub fn guest_to_host(
        &self,
        guest: &dyn GuestMemory,
        host: &mut [u8],
        layout: &HostLayout,
    ) -> ResourceResult<()> {
        self.check_guest(guest.size())?;
        self.check_host(layout, host.len())?;
        self.for_each_run(layout, |g, h, len| guest.read_at(g, &mut host[h..h + len]))
    }

    /// FROM_HOST: copies the box from `host` laid out as `layout` into `guest`.
    ///
    /// Only the box's bytes are written; the gaps between rows in guest memory are left alone.
    /// All bounds are checked first; on error nothing has been copied.
    pub fn host_to_guest(
        &self,
        host: &[u8],
        layout: &HostLayout,
        guest: &mut dyn GuestMemory,
    ) -> ResourceResult<()> {
        self.check_guest(guest.size())?;
        self.check_host(layout, host.len())?;
        self.for_each_run(layout, |g, h, len| guest.write_at(g, &host[h..h + len]))
    }

    /// Copies in `direction` between `guest` and `host` laid out as `layout`
    /// ([`TransferPlan::guest_to_host`] or [`TransferPlan::host_to_guest`]).
    pub fn copy(
        &self,
        direction: TransferDirection,
        guest: &mut dyn GuestMemory,
        host: &mut [u8],
        layout: &HostLayout,
    ) -> ResourceResult<()> {
        match direction {
            TransferDirection::ToHost => self.guest_to_host(guest, host, layout),
            TransferDirection::FromHost => self.host_to_guest(host, layout, guest),
        }
    }

    /// TO_HOST into fresh tightly packed staging.
    pub fn gather(&self, guest: &dyn GuestMemory) -> ResourceResult<Vec<u8>> {
        self.check_guest(guest.size())?;
        let mut staging = zeroed_staging(self.packed_size()?)?;
        self.guest_to_host(guest, &mut staging, &self.packed_layout())?;
        Ok(staging)
    }

    /// FROM_HOST out of tightly packed staging (`packed_size()` bytes or more).
    pub fn scatter(&self, packed: &[u8], guest: &mut dyn GuestMemory) -> ResourceResult<()> {
        self.host_to_guest(packed, &self.packed_layout(), guest)
    }
}

/// Allocates `len` zeroed bytes without aborting on failure.
///
/// Host staging must start zeroed: handing the guest bytes it never wrote would leak host memory
/// (CVE-2022-0175, uninitialised blob memory returned by FROM_HOST).
pub fn zeroed_staging(len: u64) -> ResourceResult<Vec<u8>> {
    let n = usize::try_from(len).map_err(|_| ResourceError::Allocation(len))?;
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| ResourceError::Allocation(len))?;
    v.resize(n, 0);
    Ok(v)
}

/// A whole resource stored linearly on the host: levels one after another, each level its
/// layers one after another, each layer tightly packed block rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinearImageLayout {
    geom: ImageGeometry,
    /// `(offset, stride, layer_stride)` per level.
    levels: Vec<HostLayout>,
    size: u64,
}

impl LinearImageLayout {
    /// Computes the layout; fails if its size overflows `u64`.
    pub fn new(geom: &ImageGeometry) -> ResourceResult<Self> {
        let mut levels = Vec::with_capacity(geom.last_level as usize + 1);
        let mut offset: u64 = 0;
        for level in 0..=geom.last_level {
            let extent = geom.level_extent(level)?;
            let stride = geom.level_stride(level)?;
            let layer_stride = geom.level_layer_stride(level, stride)?;
            levels.push(HostLayout {
                offset,
                stride,
                layer_stride,
            });
            offset = u64::from(extent.layers)
                .checked_mul(layer_stride)
                .and_then(|size| size.checked_add(offset))
                .ok_or(ResourceError::Overflow("linear image size"))?;
        }
        Ok(Self {
            geom: *geom,
            levels,
            size: offset,
        })
    }

    /// Bytes of the whole image.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The layout of `level` from its first block.
    pub fn level(&self, level: u32) -> ResourceResult<HostLayout> {
        self.levels
            .get(level as usize)
            .copied()
            .ok_or(ResourceError::InvalidLevel {
                level,
                last_level: self.geom.last_level,
            })
    }

    /// The host layout of a plan's box inside this image (pass it to the plan's copies).
    pub fn box_layout(&self, plan: &TransferPlan) -> ResourceResult<HostLayout> {
        let level = self.level(plan.level)?;
        let b = plan.bx;
        let block = self.geom.block;
        let offset = u64::from(b.z)
            .checked_mul(level.layer_stride)
            .and_then(|o| o.checked_add(u64::from(b.y / block.block_height) * level.stride))
            .and_then(|o| o.checked_add(block.row_bytes(b.x)))
            .and_then(|o| o.checked_add(level.offset))
            .ok_or(ResourceError::Overflow("box offset"))?;
        Ok(HostLayout { offset, ..level })
    }
}

#[cfg(test)]
mod tests;
