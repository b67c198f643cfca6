//! Virgl formats (`enum virgl_formats`) and a data table describing each one.
//!
//! The guest names every resource, surface, sampler view and vertex element by a 32-bit format
//! value. [`VirglFormat::from_guest`] turns such a value into a [`VirglFormat`] (rejecting gaps and
//! host-only values) and [`VirglFormat::info`] answers the questions a host backend asks: block
//! size, bytes per block, channel layout, depth/stencil/compressed/sRGB/YUV, and for planar YUV
//! formats the layout of every plane. Size helpers compute strides and image sizes with checked
//! arithmetic, since the dimensions come from the guest.
//!
//! This module does not map formats to GL or Vulkan; that is the backends' job.

mod table;
mod values;

use bitflags::bitflags;

pub use values::VirglFormat;

use crate::ProtocolError;
use table::FORMATS;

/// `VIRGL_FORMAT_MAX`: one past the last format a guest may use.
pub const VIRGL_FORMAT_MAX: u32 = 481;

/// `VIRGL_FORMAT_MAX_EXTENDED`: one past the last host-only (emulated) format.
pub const VIRGL_FORMAT_MAX_EXTENDED: u32 = 484;

/// What a channel holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Red.
    R,
    /// Green.
    G,
    /// Blue.
    B,
    /// Alpha.
    A,
    /// Padding: bits that are present but ignored.
    X,
    /// Luminance (replicated to RGB when sampled).
    L,
    /// Intensity (replicated to RGBA when sampled).
    I,
    /// Depth.
    Z,
    /// Stencil.
    S,
    /// Shared exponent of `R9G9B9E5_FLOAT`.
    E,
    /// Luma.
    Y,
    /// Chroma blue-difference (Cb).
    U,
    /// Chroma red-difference (Cr).
    V,
}

/// How the bits of a channel are interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelType {
    /// Padding or a value with no standalone meaning (the `E` of `R9G9B9E5`).
    Void,
    /// Unsigned normalized to [0, 1].
    Unorm,
    /// Signed normalized to [-1, 1].
    Snorm,
    /// Pure unsigned integer.
    Uint,
    /// Pure signed integer.
    Sint,
    /// Unsigned integer converted to float without normalization (vertex formats).
    Uscaled,
    /// Signed integer converted to float without normalization (vertex formats).
    Sscaled,
    /// IEEE float (16, 32, 64 bits) or the small unsigned floats of `R11G11B10`/`R9G9B9E5`.
    Float,
    /// 16.16 fixed point (`GL_FIXED`).
    Fixed,
    /// Unsigned normalized, sRGB-encoded.
    Srgb,
}

/// One channel of a format: what it is, how it is encoded and how many bits it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Channel {
    /// What the channel holds.
    pub kind: ChannelKind,
    /// How its bits are interpreted.
    pub ty: ChannelType,
    /// Width in bits.
    pub bits: u8,
}

/// The family of a block-compressed format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// S3TC / DXTn / BC1–3.
    S3tc,
    /// RGTC / BC4–5.
    Rgtc,
    /// LATC (luminance-alpha variant of RGTC).
    Latc,
    /// BPTC / BC6H–7.
    Bptc,
    /// ETC1.
    Etc1,
    /// ETC2 and EAC.
    Etc2,
    /// ASTC, 2D and 3D, LDR, sRGB and HDR (`_FLOAT`).
    Astc,
    /// AMD/Qualcomm ATC.
    Atc,
    /// 3dfx FXT1.
    Fxt1,
}

/// How a format's pixels are arranged in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormatLayout {
    /// One pixel per block, channels as listed.
    Plain,
    /// Packed in a way the channel list alone does not describe (shared exponents, padding
    /// computed on read, packed YUV, 1-bit).
    Other,
    /// Horizontally subsampled packed pixels (2×1 blocks), e.g. YUYV.
    Subsampled,
    /// Block-compressed.
    Compressed(Compression),
    /// Two planes (e.g. NV12, P010); see [`FormatInfo::planes`].
    Planar2,
    /// Three planes (e.g. I420, YV12); see [`FormatInfo::planes`].
    Planar3,
}

/// The color space of a format's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColorSpace {
    /// Linear RGB (or no color at all, as for vertex formats).
    Rgb,
    /// sRGB-encoded color channels.
    Srgb,
    /// Luma/chroma.
    Yuv,
    /// Depth and/or stencil.
    Zs,
}

bitflags! {
    /// Boolean properties of a format.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct FormatFlags: u16 {
        /// Has a depth channel.
        const DEPTH = 1 << 0;
        /// Has a stencil channel.
        const STENCIL = 1 << 1;
        /// Block-compressed.
        const COMPRESSED = 1 << 2;
        /// sRGB-encoded.
        const SRGB = 1 << 3;
        /// Luma/chroma (YUV) data, packed or planar.
        const YUV = 1 << 4;
        /// More than one plane.
        const PLANAR = 1 << 5;
        /// Horizontally subsampled packed pixels.
        const SUBSAMPLED = 1 << 6;
        /// Pure integer color channels (no filtering).
        const PURE_INTEGER = 1 << 7;
        /// Host-only emulated format that a guest must never send.
        const HOST_ONLY = 1 << 8;
    }
}

/// One plane of a planar format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Plane {
    /// Width in samples of one block of this plane.
    pub block_width: u8,
    /// Height in samples of one block of this plane.
    pub block_height: u8,
    /// Bytes of one block of this plane.
    pub block_bytes: u8,
    /// Horizontal subsampling of this plane relative to the image (2 for 4:2:0 and 4:2:2 chroma).
    pub subsample_x: u8,
    /// Vertical subsampling of this plane relative to the image (2 for 4:2:0 chroma).
    pub subsample_y: u8,
}

impl Plane {
    /// Bytes of one row of this plane for an image `width` pixels wide, or `None` on overflow.
    pub fn row_bytes(&self, width: u32) -> Option<u64> {
        let samples = u64::from(width).div_ceil(u64::from(self.subsample_x));
        samples
            .div_ceil(u64::from(self.block_width))
            .checked_mul(u64::from(self.block_bytes))
    }

    /// Rows of blocks of this plane for an image `height` pixels high.
    pub fn rows(&self, height: u32) -> u64 {
        u64::from(height)
            .div_ceil(u64::from(self.subsample_y))
            .div_ceil(u64::from(self.block_height))
    }
}

/// Everything the table knows about one format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatInfo {
    /// The format described.
    pub format: VirglFormat,
    /// Upstream name without the `VIRGL_FORMAT_` prefix.
    pub name: &'static str,
    /// Memory arrangement.
    pub layout: FormatLayout,
    /// Color space of the values.
    pub color_space: ColorSpace,
    /// Block width in pixels (4 for BC formats, 2 for subsampled, 1 for plain).
    pub block_width: u8,
    /// Block height in pixels.
    pub block_height: u8,
    /// Block depth in pixels (above 1 only for 3D ASTC).
    pub block_depth: u8,
    /// Bytes of one block (of plane 0 for planar formats).
    pub block_bytes: u8,
    /// Channels in name order; empty for compressed formats and `NONE`.
    pub channels: &'static [Channel],
    /// Per-plane layout; empty for single-plane formats.
    pub planes: &'static [Plane],
    /// Boolean properties.
    pub flags: FormatFlags,
}

impl FormatInfo {
    /// Has a depth channel.
    pub fn is_depth(&self) -> bool {
        self.flags.contains(FormatFlags::DEPTH)
    }
    /// Has a stencil channel.
    pub fn has_stencil(&self) -> bool {
        self.flags.contains(FormatFlags::STENCIL)
    }
    /// Block-compressed.
    pub fn is_compressed(&self) -> bool {
        self.flags.contains(FormatFlags::COMPRESSED)
    }
    /// sRGB-encoded.
    pub fn is_srgb(&self) -> bool {
        self.flags.contains(FormatFlags::SRGB)
    }
    /// Luma/chroma data.
    pub fn is_yuv(&self) -> bool {
        self.flags.contains(FormatFlags::YUV)
    }
    /// More than one plane.
    pub fn is_planar(&self) -> bool {
        self.flags.contains(FormatFlags::PLANAR)
    }
    /// Pure integer color channels.
    pub fn is_pure_integer(&self) -> bool {
        self.flags.contains(FormatFlags::PURE_INTEGER)
    }
    /// Host-only: must never arrive from a guest.
    pub fn is_host_only(&self) -> bool {
        self.flags.contains(FormatFlags::HOST_ONLY)
    }

    /// Bytes of one row of `width` pixels (plane 0 for planar formats), or `None` on overflow.
    pub fn row_stride(&self, width: u32) -> Option<u64> {
        u64::from(width)
            .div_ceil(u64::from(self.block_width))
            .checked_mul(u64::from(self.block_bytes))
    }

    /// Bytes of a tightly packed `width`×`height`×`depth` image, all planes included, or
    /// `None` on overflow.
    pub fn image_size(&self, width: u32, height: u32, depth: u32) -> Option<u64> {
        let layers = u64::from(depth).div_ceil(u64::from(self.block_depth));
        let per_layer = if self.planes.is_empty() {
            let rows = u64::from(height).div_ceil(u64::from(self.block_height));
            self.row_stride(width)?.checked_mul(rows)?
        } else {
            self.planes.iter().try_fold(0u64, |acc, p| {
                acc.checked_add(p.row_bytes(width)?.checked_mul(p.rows(height))?)
            })?
        };
        per_layer.checked_mul(layers)
    }
}

impl VirglFormat {
    /// The format for a value received from the guest: unassigned values and the host-only
    /// emulated formats are rejected.
    pub fn from_guest(raw: u32) -> Result<Self, ProtocolError> {
        match Self::from_raw(raw) {
            Some(f) if !f.info().is_host_only() => Ok(f),
            _ => Err(ProtocolError::InvalidFormat(raw)),
        }
    }

    /// The wire value.
    pub const fn raw(self) -> u32 {
        self as u32
    }

    /// The table row of this format.
    pub fn info(self) -> &'static FormatInfo {
        // FORMATS is sorted by value and has a row for every variant (checked by tests), so the
        // search always hits; falling back to row 0 (`NONE`) keeps this panic-free regardless.
        let idx = FORMATS
            .binary_search_by_key(&self.raw(), |i| i.format.raw())
            .unwrap_or(0);
        &FORMATS[idx]
    }

    /// Upstream name without the `VIRGL_FORMAT_` prefix.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Every format (guest-visible and host-only), in ascending wire value.
    pub fn iter() -> impl ExactSizeIterator<Item = VirglFormat> {
        FORMATS.iter().map(|i| i.format)
    }

    /// Number of assigned formats, host-only ones included.
    pub const COUNT: usize = FORMATS.len();

    /// Has a depth channel.
    pub fn is_depth(self) -> bool {
        self.info().is_depth()
    }
    /// Has a stencil channel.
    pub fn has_stencil(self) -> bool {
        self.info().has_stencil()
    }
    /// Block-compressed.
    pub fn is_compressed(self) -> bool {
        self.info().is_compressed()
    }
    /// sRGB-encoded.
    pub fn is_srgb(self) -> bool {
        self.info().is_srgb()
    }
    /// Luma/chroma data.
    pub fn is_yuv(self) -> bool {
        self.info().is_yuv()
    }
    /// Bytes of one block.
    pub fn block_bytes(self) -> u8 {
        self.info().block_bytes
    }
    /// Block width and height in pixels.
    pub fn block_size(self) -> (u8, u8) {
        let i = self.info();
        (i.block_width, i.block_height)
    }
}

impl TryFrom<u32> for VirglFormat {
    type Error = ProtocolError;

    /// Same as [`VirglFormat::from_guest`].
    fn try_from(raw: u32) -> Result<Self, ProtocolError> {
        Self::from_guest(raw)
    }
}

impl From<VirglFormat> for u32 {
    fn from(f: VirglFormat) -> u32 {
        f.raw()
    }
}

impl core::fmt::Display for VirglFormat {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Table-building shorthand for a channel.
const fn ch(kind: ChannelKind, ty: ChannelType, bits: u8) -> Channel {
    Channel { kind, ty, bits }
}

/// Table-building shorthand for a plane.
const fn pl(
    block_width: u8,
    block_height: u8,
    block_bytes: u8,
    subsample_x: u8,
    subsample_y: u8,
) -> Plane {
    Plane {
        block_width,
        block_height,
        block_bytes,
        subsample_x,
        subsample_y,
    }
}

#[cfg(test)]
mod tests;
