//! The conversion table from virgl formats to host GL formats, and its probing on the host.
//!
//! Each [`FormatEntry`] names the GL internal format, pixel format and type a virgl format is
//! stored and transferred with, plus the swizzle that emulates formats GL lacks (alpha-only,
//! luminance, RGBX...). Several entries may exist for one virgl format (e.g. GL_ALPHA8 on
//! compatibility contexts, GL_R8 + swizzle on core ones): at start-up [`FormatTable::probe`]
//! creates a texture of each candidate on the host and keeps the first one the host accepts,
//! recording whether it can be rendered to, read back, used with glTexStorage or multisampled.
//! Those results feed the guest-visible format masks in the caps.
//!
//! The byte layout of a pixel in guest memory is derived from the GL format/type pair (what GL
//! reads in glTexSubImage), so a transfer's size can be checked without trusting the guest.

use glow as gl;
use glow::HasContext;

use crate::error::{VrendError, VrendResult};

/// Virgl format numbers used in the table (`enum virgl_formats`).
#[allow(non_upper_case_globals)]
pub mod vf {
    pub const B8G8R8A8_UNORM: u32 = 1;
    pub const B8G8R8X8_UNORM: u32 = 2;
    pub const A8R8G8B8_UNORM: u32 = 3;
    pub const X8R8G8B8_UNORM: u32 = 4;
    pub const B5G5R5A1_UNORM: u32 = 5;
    pub const B4G4R4A4_UNORM: u32 = 6;
    pub const B5G6R5_UNORM: u32 = 7;
    pub const R10G10B10A2_UNORM: u32 = 8;
    pub const L8_UNORM: u32 = 9;
    pub const A8_UNORM: u32 = 10;
    pub const L16_UNORM: u32 = 13;
    pub const Z16_UNORM: u32 = 16;
    pub const Z32_UNORM: u32 = 17;
    pub const Z32_FLOAT: u32 = 18;
    pub const S8_UINT_Z24_UNORM: u32 = 20;
    pub const Z24X8_UNORM: u32 = 21;
    pub const R32_FLOAT: u32 = 28;
    pub const R32G32_FLOAT: u32 = 29;
    pub const R32G32B32_FLOAT: u32 = 30;
    pub const R32G32B32A32_FLOAT: u32 = 31;
    pub const R16_UNORM: u32 = 48;
    pub const R16G16_UNORM: u32 = 49;
    pub const R16G16B16A16_UNORM: u32 = 51;
    pub const R16_SNORM: u32 = 56;
    pub const R16G16_SNORM: u32 = 57;
    pub const R16G16B16A16_SNORM: u32 = 59;
    pub const R8_UNORM: u32 = 64;
    pub const R8G8_UNORM: u32 = 65;
    pub const R8G8B8A8_UNORM: u32 = 67;
    pub const R8_SNORM: u32 = 74;
    pub const R8G8_SNORM: u32 = 75;
    pub const R8G8B8A8_SNORM: u32 = 77;
    pub const R16_FLOAT: u32 = 91;
    pub const R16G16_FLOAT: u32 = 92;
    pub const R16G16B16A16_FLOAT: u32 = 94;
    pub const L8_SRGB: u32 = 95;
    pub const B8G8R8A8_SRGB: u32 = 100;
    pub const B8G8R8X8_SRGB: u32 = 101;
    pub const R8G8B8A8_SRGB: u32 = 104;
    pub const DXT1_RGB: u32 = 105;
    pub const DXT1_RGBA: u32 = 106;
    pub const DXT3_RGBA: u32 = 107;
    pub const DXT5_RGBA: u32 = 108;
    pub const DXT1_SRGB: u32 = 109;
    pub const DXT1_SRGBA: u32 = 110;
    pub const DXT3_SRGBA: u32 = 111;
    pub const DXT5_SRGBA: u32 = 112;
    pub const RGTC1_UNORM: u32 = 113;
    pub const RGTC1_SNORM: u32 = 114;
    pub const RGTC2_UNORM: u32 = 115;
    pub const RGTC2_SNORM: u32 = 116;
    pub const A8B8G8R8_UNORM: u32 = 121;
    pub const B5G5R5X1_UNORM: u32 = 122;
    pub const R11G11B10_FLOAT: u32 = 124;
    pub const R9G9B9E5_FLOAT: u32 = 125;
    pub const Z32_FLOAT_S8X24_UINT: u32 = 126;
    pub const B10G10R10A2_UNORM: u32 = 131;
    pub const R8G8B8X8_UNORM: u32 = 134;
    pub const B4G4R4X4_UNORM: u32 = 135;
    pub const X24S8_UINT: u32 = 136;
    pub const B2G3R3_UNORM: u32 = 139;
    pub const A16_UNORM: u32 = 141;
    pub const A8_SNORM: u32 = 147;
    pub const L8_SNORM: u32 = 148;
    pub const L8A8_SNORM: u32 = 149;
    pub const A16_SNORM: u32 = 151;
    pub const L16_SNORM: u32 = 152;
    pub const L16A16_SNORM: u32 = 153;
    pub const A16_FLOAT: u32 = 155;
    pub const L16_FLOAT: u32 = 156;
    pub const L16A16_FLOAT: u32 = 157;
    pub const A32_FLOAT: u32 = 159;
    pub const L32_FLOAT: u32 = 160;
    pub const L32A32_FLOAT: u32 = 161;
    pub const R8_UINT: u32 = 177;
    pub const R8G8_UINT: u32 = 178;
    pub const R8G8B8A8_UINT: u32 = 180;
    pub const R8_SINT: u32 = 181;
    pub const R8G8_SINT: u32 = 182;
    pub const R8G8B8A8_SINT: u32 = 184;
    pub const R16_UINT: u32 = 185;
    pub const R16G16_UINT: u32 = 186;
    pub const R16G16B16A16_UINT: u32 = 188;
    pub const R16_SINT: u32 = 189;
    pub const R16G16_SINT: u32 = 190;
    pub const R16G16B16A16_SINT: u32 = 192;
    pub const R32_UINT: u32 = 193;
    pub const R32G32_UINT: u32 = 194;
    pub const R32G32B32_UINT: u32 = 195;
    pub const R32G32B32A32_UINT: u32 = 196;
    pub const R32_SINT: u32 = 197;
    pub const R32G32_SINT: u32 = 198;
    pub const R32G32B32_SINT: u32 = 199;
    pub const R32G32B32A32_SINT: u32 = 200;
    pub const A8_UINT: u32 = 201;
    pub const L8_UINT: u32 = 203;
    pub const L8A8_UINT: u32 = 204;
    pub const A8_SINT: u32 = 205;
    pub const L8_SINT: u32 = 207;
    pub const L8A8_SINT: u32 = 208;
    pub const A16_UINT: u32 = 209;
    pub const L16_UINT: u32 = 211;
    pub const L16A16_UINT: u32 = 212;
    pub const A16_SINT: u32 = 213;
    pub const L16_SINT: u32 = 215;
    pub const L16A16_SINT: u32 = 216;
    pub const A32_UINT: u32 = 217;
    pub const L32_UINT: u32 = 219;
    pub const L32A32_UINT: u32 = 220;
    pub const A32_SINT: u32 = 221;
    pub const L32_SINT: u32 = 223;
    pub const L32A32_SINT: u32 = 224;
    pub const B10G10R10A2_UINT: u32 = 225;
    pub const R8G8B8X8_SNORM: u32 = 229;
    pub const R8G8B8X8_SRGB: u32 = 230;
    pub const R8G8B8X8_UINT: u32 = 231;
    pub const R8G8B8X8_SINT: u32 = 232;
    pub const B10G10R10X2_UNORM: u32 = 233;
    pub const R16G16B16X16_UNORM: u32 = 234;
    pub const R16G16B16X16_SNORM: u32 = 235;
    pub const R16G16B16X16_FLOAT: u32 = 236;
    pub const R16G16B16X16_UINT: u32 = 237;
    pub const R16G16B16X16_SINT: u32 = 238;
    pub const R10G10B10A2_UINT: u32 = 253;
    pub const BPTC_RGBA_UNORM: u32 = 255;
    pub const BPTC_SRGBA: u32 = 256;
    pub const BPTC_RGB_FLOAT: u32 = 257;
    pub const BPTC_RGB_UFLOAT: u32 = 258;
    pub const ETC2_RGB8: u32 = 269;
    pub const ETC2_SRGB8: u32 = 270;
    pub const ETC2_RGB8A1: u32 = 271;
    pub const ETC2_SRGB8A1: u32 = 272;
    pub const ETC2_RGBA8: u32 = 273;
    pub const ETC2_SRGBA8: u32 = 274;
    pub const ETC2_R11_UNORM: u32 = 275;
    pub const ETC2_R11_SNORM: u32 = 276;
    pub const ETC2_RG11_UNORM: u32 = 277;
    pub const ETC2_RG11_SNORM: u32 = 278;
    pub const ASTC_4x4: u32 = 279;
    pub const ASTC_5x4: u32 = 280;
    pub const ASTC_5x5: u32 = 281;
    pub const ASTC_6x5: u32 = 282;
    pub const ASTC_6x6: u32 = 283;
    pub const ASTC_8x5: u32 = 284;
    pub const ASTC_8x6: u32 = 285;
    pub const ASTC_8x8: u32 = 286;
    pub const ASTC_10x5: u32 = 287;
    pub const ASTC_10x6: u32 = 288;
    pub const ASTC_10x8: u32 = 289;
    pub const ASTC_10x10: u32 = 290;
    pub const ASTC_12x10: u32 = 291;
    pub const ASTC_12x12: u32 = 292;
    pub const ASTC_4x4_SRGB: u32 = 293;
    pub const ASTC_5x4_SRGB: u32 = 294;
    pub const ASTC_5x5_SRGB: u32 = 295;
    pub const ASTC_6x5_SRGB: u32 = 296;
    pub const ASTC_6x6_SRGB: u32 = 297;
    pub const ASTC_8x5_SRGB: u32 = 298;
    pub const ASTC_8x6_SRGB: u32 = 299;
    pub const ASTC_8x8_SRGB: u32 = 300;
    pub const ASTC_10x5_SRGB: u32 = 301;
    pub const ASTC_10x6_SRGB: u32 = 302;
    pub const ASTC_10x8_SRGB: u32 = 303;
    pub const ASTC_10x10_SRGB: u32 = 304;
    pub const ASTC_12x10_SRGB: u32 = 305;
    pub const ASTC_12x12_SRGB: u32 = 306;
    pub const R10G10B10X2_UNORM: u32 = 308;
    pub const A4B4G4R4_UNORM: u32 = 311;
    pub const R8_SRGB: u32 = 312;
    pub const R8G8_SRGB: u32 = 313;
    /// `VIRGL_FORMAT_MAX`: guest formats are below this.
    pub const MAX: u32 = 481;
}

/// GL enums of compatibility-profile and extension formats that glow does not define.
mod ext {
    pub(super) const ABGR_EXT: u32 = 0x8000;
    pub(super) const ALPHA16: u32 = 0x803E;
    pub(super) const ALPHA16F_ARB: u32 = 0x881C;
    pub(super) const ALPHA16I_EXT: u32 = 0x8D8A;
    pub(super) const ALPHA16UI_EXT: u32 = 0x8D78;
    pub(super) const ALPHA16_SNORM: u32 = 0x9018;
    pub(super) const ALPHA32F_ARB: u32 = 0x8816;
    pub(super) const ALPHA32I_EXT: u32 = 0x8D84;
    pub(super) const ALPHA32UI_EXT: u32 = 0x8D72;
    pub(super) const ALPHA8: u32 = 0x803C;
    pub(super) const ALPHA8I_EXT: u32 = 0x8D90;
    pub(super) const ALPHA8UI_EXT: u32 = 0x8D7E;
    pub(super) const ALPHA8_SNORM: u32 = 0x9014;
    pub(super) const ALPHA_INTEGER: u32 = 0x8D97;
    pub(super) const LUMINANCE16F_ARB: u32 = 0x881E;
    pub(super) const LUMINANCE16I_EXT: u32 = 0x8D8C;
    pub(super) const LUMINANCE16UI_EXT: u32 = 0x8D7A;
    pub(super) const LUMINANCE16_ALPHA16_SNORM: u32 = 0x901A;
    pub(super) const LUMINANCE32F_ARB: u32 = 0x8818;
    pub(super) const LUMINANCE32I_EXT: u32 = 0x8D86;
    pub(super) const LUMINANCE8I_EXT: u32 = 0x8D92;
    pub(super) const LUMINANCE8UI_EXT: u32 = 0x8D80;
    pub(super) const LUMINANCE8_ALPHA8_SNORM: u32 = 0x9016;
    pub(super) const LUMINANCE_ALPHA16F_ARB: u32 = 0x881F;
    pub(super) const LUMINANCE_ALPHA16I_EXT: u32 = 0x8D8D;
    pub(super) const LUMINANCE_ALPHA16UI_EXT: u32 = 0x8D7B;
    pub(super) const LUMINANCE_ALPHA32F_ARB: u32 = 0x8819;
    pub(super) const LUMINANCE_ALPHA32I_EXT: u32 = 0x8D87;
    pub(super) const LUMINANCE_ALPHA32UI_EXT: u32 = 0x8D75;
    pub(super) const LUMINANCE_ALPHA8I_EXT: u32 = 0x8D93;
    pub(super) const LUMINANCE_ALPHA8UI_EXT: u32 = 0x8D81;
    pub(super) const LUMINANCE_ALPHA_INTEGER_EXT: u32 = 0x8D9D;
    pub(super) const LUMINANCE_INTEGER_EXT: u32 = 0x8D9C;
    pub(super) const SR8_EXT: u32 = 0x8FBD;
    pub(super) const SRG8_EXT: u32 = 0x8FBE;
}

/// `VIRGL_BIND_*` bits this module reports.
pub mod bind {
    pub const DEPTH_STENCIL: u32 = 1 << 0;
    pub const RENDER_TARGET: u32 = 1 << 1;
    pub const SAMPLER_VIEW: u32 = 1 << 3;
}

/// `PIPE_SWIZZLE_*` values.
pub mod swz {
    pub const X: u8 = 0;
    pub const Y: u8 = 1;
    pub const Z: u8 = 2;
    pub const W: u8 = 3;
    pub const ZERO: u8 = 4;
    pub const ONE: u8 = 5;
}

const RGB1: [u8; 4] = [swz::X, swz::Y, swz::Z, swz::ONE];
const RRR1: [u8; 4] = [swz::X, swz::X, swz::X, swz::ONE];
const OOOR: [u8; 4] = [swz::ZERO, swz::ZERO, swz::ZERO, swz::X];

/// One candidate mapping of a virgl format to GL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatEntry {
    pub virgl: u32,
    pub internal: u32,
    pub format: u32,
    pub ty: u32,
    /// Swizzle applied when sampling (emulated channels), `None` for identity.
    pub swizzle: Option<[u8; 4]>,
}

const fn e(
    virgl: u32,
    internal: u32,
    format: u32,
    ty: u32,
    swizzle: Option<[u8; 4]>,
) -> FormatEntry {
    FormatEntry {
        virgl,
        internal,
        format,
        ty,
        swizzle,
    }
}

const BASE_RGBA_FORMATS: &[FormatEntry] = &[
    e(
        vf::R8G8B8X8_UNORM,
        gl::RGBA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        Some(RGB1),
    ),
    e(
        vf::R8G8B8A8_UNORM,
        gl::RGBA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::A8R8G8B8_UNORM,
        gl::RGBA8,
        gl::BGRA,
        gl::UNSIGNED_INT_8_8_8_8,
        None,
    ),
    e(
        vf::X8R8G8B8_UNORM,
        gl::RGBA8,
        gl::BGRA,
        gl::UNSIGNED_INT_8_8_8_8,
        None,
    ),
    e(
        vf::A8B8G8R8_UNORM,
        gl::RGBA8,
        ext::ABGR_EXT,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::B4G4R4X4_UNORM,
        gl::RGBA4,
        gl::BGRA,
        gl::UNSIGNED_SHORT_4_4_4_4_REV,
        Some(RGB1),
    ),
    e(
        vf::A4B4G4R4_UNORM,
        gl::RGBA4,
        gl::RGBA,
        gl::UNSIGNED_SHORT_4_4_4_4,
        None,
    ),
    e(
        vf::B5G5R5X1_UNORM,
        gl::RGB5_A1,
        gl::BGRA,
        gl::UNSIGNED_SHORT_1_5_5_5_REV,
        Some(RGB1),
    ),
    e(
        vf::B5G6R5_UNORM,
        gl::RGB565,
        gl::RGB,
        gl::UNSIGNED_SHORT_5_6_5,
        None,
    ),
    e(
        vf::B2G3R3_UNORM,
        gl::R3_G3_B2,
        gl::RGB,
        gl::UNSIGNED_BYTE_3_3_2,
        None,
    ),
    e(
        vf::R16G16B16X16_UNORM,
        gl::RGBA16,
        gl::RGBA,
        gl::UNSIGNED_SHORT,
        Some(RGB1),
    ),
    e(
        vf::R16G16B16A16_UNORM,
        gl::RGBA16,
        gl::RGBA,
        gl::UNSIGNED_SHORT,
        None,
    ),
];

const GL_BASE_RGBA_FORMATS: &[FormatEntry] = &[
    e(
        vf::B4G4R4A4_UNORM,
        gl::RGBA4,
        gl::BGRA,
        gl::UNSIGNED_SHORT_4_4_4_4_REV,
        None,
    ),
    e(
        vf::B5G5R5A1_UNORM,
        gl::RGB5_A1,
        gl::BGRA,
        gl::UNSIGNED_SHORT_1_5_5_5_REV,
        None,
    ),
];

const BASE_DEPTH_FORMATS: &[FormatEntry] = &[
    e(
        vf::Z16_UNORM,
        gl::DEPTH_COMPONENT16,
        gl::DEPTH_COMPONENT,
        gl::UNSIGNED_SHORT,
        None,
    ),
    e(
        vf::S8_UINT_Z24_UNORM,
        gl::DEPTH24_STENCIL8,
        gl::DEPTH_STENCIL,
        gl::UNSIGNED_INT_24_8,
        None,
    ),
    e(
        vf::Z24X8_UNORM,
        gl::DEPTH_COMPONENT24,
        gl::DEPTH_COMPONENT,
        gl::UNSIGNED_INT,
        None,
    ),
    e(
        vf::Z32_FLOAT,
        gl::DEPTH_COMPONENT32F,
        gl::DEPTH_COMPONENT,
        gl::FLOAT,
        None,
    ),
    e(
        vf::Z32_FLOAT_S8X24_UINT,
        gl::DEPTH32F_STENCIL8,
        gl::DEPTH_STENCIL,
        gl::FLOAT_32_UNSIGNED_INT_24_8_REV,
        None,
    ),
    e(
        vf::X24S8_UINT,
        gl::STENCIL_INDEX8,
        gl::STENCIL_INDEX,
        gl::UNSIGNED_BYTE,
        None,
    ),
];

const GL_Z32_FORMAT: &[FormatEntry] = &[e(
    vf::Z32_UNORM,
    gl::DEPTH_COMPONENT32,
    gl::DEPTH_COMPONENT,
    gl::UNSIGNED_INT,
    None,
)];

const GLES_Z32_FORMAT: &[FormatEntry] = &[e(
    vf::Z32_UNORM,
    gl::DEPTH_COMPONENT24,
    gl::DEPTH_COMPONENT,
    gl::UNSIGNED_INT,
    None,
)];

const RG_BASE_FORMATS: &[FormatEntry] = &[
    e(vf::R8_UNORM, gl::R8, gl::RED, gl::UNSIGNED_BYTE, None),
    e(vf::R8G8_UNORM, gl::RG8, gl::RG, gl::UNSIGNED_BYTE, None),
    e(vf::R16_UNORM, gl::R16, gl::RED, gl::UNSIGNED_SHORT, None),
    e(vf::R16G16_UNORM, gl::RG16, gl::RG, gl::UNSIGNED_SHORT, None),
];

const INTEGER_BASE_FORMATS: &[FormatEntry] = &[
    e(
        vf::R8G8B8A8_UINT,
        gl::RGBA8UI,
        gl::RGBA_INTEGER,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::R8G8B8A8_SINT,
        gl::RGBA8I,
        gl::RGBA_INTEGER,
        gl::BYTE,
        None,
    ),
    e(
        vf::R16G16B16A16_UINT,
        gl::RGBA16UI,
        gl::RGBA_INTEGER,
        gl::UNSIGNED_SHORT,
        None,
    ),
    e(
        vf::R16G16B16A16_SINT,
        gl::RGBA16I,
        gl::RGBA_INTEGER,
        gl::SHORT,
        None,
    ),
    e(
        vf::R32G32B32A32_UINT,
        gl::RGBA32UI,
        gl::RGBA_INTEGER,
        gl::UNSIGNED_INT,
        None,
    ),
    e(
        vf::R32G32B32A32_SINT,
        gl::RGBA32I,
        gl::RGBA_INTEGER,
        gl::INT,
        None,
    ),
];

const INTEGER_3COMP_FORMATS: &[FormatEntry] = &[
    e(
        vf::R8G8B8X8_UINT,
        gl::RGBA8UI,
        gl::RGBA_INTEGER,
        gl::UNSIGNED_BYTE,
        Some(RGB1),
    ),
    e(
        vf::R8G8B8X8_SINT,
        gl::RGBA8I,
        gl::RGBA_INTEGER,
        gl::BYTE,
        Some(RGB1),
    ),
    e(
        vf::R16G16B16X16_UINT,
        gl::RGBA16UI,
        gl::RGBA_INTEGER,
        gl::UNSIGNED_SHORT,
        Some(RGB1),
    ),
    e(
        vf::R16G16B16X16_SINT,
        gl::RGBA16I,
        gl::RGBA_INTEGER,
        gl::SHORT,
        Some(RGB1),
    ),
    e(
        vf::R32G32B32_UINT,
        gl::RGB32UI,
        gl::RGB_INTEGER,
        gl::UNSIGNED_INT,
        None,
    ),
    e(
        vf::R32G32B32_SINT,
        gl::RGB32I,
        gl::RGB_INTEGER,
        gl::INT,
        None,
    ),
];

const FLOAT_BASE_FORMATS: &[FormatEntry] = &[
    e(
        vf::R16G16B16A16_FLOAT,
        gl::RGBA16F,
        gl::RGBA,
        gl::HALF_FLOAT,
        None,
    ),
    e(
        vf::R32G32B32A32_FLOAT,
        gl::RGBA32F,
        gl::RGBA,
        gl::FLOAT,
        None,
    ),
];

const INTEGER_RG_FORMATS: &[FormatEntry] = &[
    e(
        vf::R8_UINT,
        gl::R8UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::R8G8_UINT,
        gl::RG8UI,
        gl::RG_INTEGER,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(vf::R8_SINT, gl::R8I, gl::RED_INTEGER, gl::BYTE, None),
    e(vf::R8G8_SINT, gl::RG8I, gl::RG_INTEGER, gl::BYTE, None),
    e(
        vf::R16_UINT,
        gl::R16UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_SHORT,
        None,
    ),
    e(
        vf::R16G16_UINT,
        gl::RG16UI,
        gl::RG_INTEGER,
        gl::UNSIGNED_SHORT,
        None,
    ),
    e(vf::R16_SINT, gl::R16I, gl::RED_INTEGER, gl::SHORT, None),
    e(vf::R16G16_SINT, gl::RG16I, gl::RG_INTEGER, gl::SHORT, None),
    e(
        vf::R32_UINT,
        gl::R32UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_INT,
        None,
    ),
    e(
        vf::R32G32_UINT,
        gl::RG32UI,
        gl::RG_INTEGER,
        gl::UNSIGNED_INT,
        None,
    ),
    e(vf::R32_SINT, gl::R32I, gl::RED_INTEGER, gl::INT, None),
    e(vf::R32G32_SINT, gl::RG32I, gl::RG_INTEGER, gl::INT, None),
];

const FLOAT_RG_FORMATS: &[FormatEntry] = &[
    e(vf::R16_FLOAT, gl::R16F, gl::RED, gl::HALF_FLOAT, None),
    e(vf::R16G16_FLOAT, gl::RG16F, gl::RG, gl::HALF_FLOAT, None),
    e(vf::R32_FLOAT, gl::R32F, gl::RED, gl::FLOAT, None),
    e(vf::R32G32_FLOAT, gl::RG32F, gl::RG, gl::FLOAT, None),
];

const FLOAT_3COMP_FORMATS: &[FormatEntry] = &[
    e(
        vf::R16G16B16X16_FLOAT,
        gl::RGBA16F,
        gl::RGBA,
        gl::HALF_FLOAT,
        Some(RGB1),
    ),
    e(vf::R32G32B32_FLOAT, gl::RGB32F, gl::RGB, gl::FLOAT, None),
];

const LA_FORMATS_FALLBACK: &[FormatEntry] = &[
    e(vf::A8_UNORM, gl::R8, gl::RED, gl::UNSIGNED_BYTE, Some(OOOR)),
    e(vf::L8_UNORM, gl::R8, gl::RED, gl::UNSIGNED_BYTE, Some(RRR1)),
    e(
        vf::A16_UNORM,
        gl::R16,
        gl::RED,
        gl::UNSIGNED_SHORT,
        Some(OOOR),
    ),
    e(
        vf::L16_UNORM,
        gl::R16,
        gl::RED,
        gl::UNSIGNED_SHORT,
        Some(RRR1),
    ),
    e(
        vf::A8_UINT,
        gl::R8UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_BYTE,
        Some(OOOR),
    ),
    e(
        vf::L8_UINT,
        gl::R8UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_BYTE,
        Some(RRR1),
    ),
    e(vf::A8_SINT, gl::R8I, gl::RED_INTEGER, gl::BYTE, Some(OOOR)),
    e(vf::L8_SINT, gl::R8I, gl::RED_INTEGER, gl::BYTE, Some(RRR1)),
    e(
        vf::A16_UINT,
        gl::R16UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_SHORT,
        Some(OOOR),
    ),
    e(
        vf::L16_UINT,
        gl::R16UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_SHORT,
        Some(RRR1),
    ),
    e(
        vf::A16_SINT,
        gl::R16I,
        gl::RED_INTEGER,
        gl::SHORT,
        Some(OOOR),
    ),
    e(
        vf::L16_SINT,
        gl::R16I,
        gl::RED_INTEGER,
        gl::SHORT,
        Some(RRR1),
    ),
    e(
        vf::A32_UINT,
        gl::R32UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_INT,
        Some(OOOR),
    ),
    e(
        vf::L32_UINT,
        gl::R32UI,
        gl::RED_INTEGER,
        gl::UNSIGNED_INT,
        Some(RRR1),
    ),
    e(vf::A32_SINT, gl::R32I, gl::RED_INTEGER, gl::INT, Some(OOOR)),
    e(vf::L32_SINT, gl::R32I, gl::RED_INTEGER, gl::INT, Some(RRR1)),
    e(vf::L16_FLOAT, gl::R16F, gl::RED, gl::HALF_FLOAT, Some(RRR1)),
    e(vf::L32_FLOAT, gl::R32F, gl::RED, gl::FLOAT, Some(RRR1)),
];

const LA_FORMATS_COMPAT: &[FormatEntry] = &[
    e(
        vf::A8_UNORM,
        ext::ALPHA8,
        gl::ALPHA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::A16_UNORM,
        ext::ALPHA16,
        gl::ALPHA,
        gl::UNSIGNED_SHORT,
        None,
    ),
    e(
        vf::A8_UINT,
        ext::ALPHA8UI_EXT,
        ext::ALPHA_INTEGER,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::L8_UINT,
        ext::LUMINANCE8UI_EXT,
        ext::LUMINANCE_INTEGER_EXT,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::L8A8_UINT,
        ext::LUMINANCE_ALPHA8UI_EXT,
        ext::LUMINANCE_ALPHA_INTEGER_EXT,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::A8_SINT,
        ext::ALPHA8I_EXT,
        ext::ALPHA_INTEGER,
        gl::BYTE,
        None,
    ),
    e(
        vf::L8_SINT,
        ext::LUMINANCE8I_EXT,
        ext::LUMINANCE_INTEGER_EXT,
        gl::BYTE,
        None,
    ),
    e(
        vf::L8A8_SINT,
        ext::LUMINANCE_ALPHA8I_EXT,
        ext::LUMINANCE_ALPHA_INTEGER_EXT,
        gl::BYTE,
        None,
    ),
    e(
        vf::A16_UINT,
        ext::ALPHA16UI_EXT,
        ext::ALPHA_INTEGER,
        gl::UNSIGNED_SHORT,
        None,
    ),
    e(
        vf::L16_UINT,
        ext::LUMINANCE16UI_EXT,
        ext::LUMINANCE_INTEGER_EXT,
        gl::UNSIGNED_SHORT,
        Some(RRR1),
    ),
    e(
        vf::L16A16_UINT,
        ext::LUMINANCE_ALPHA16UI_EXT,
        ext::LUMINANCE_ALPHA_INTEGER_EXT,
        gl::UNSIGNED_SHORT,
        None,
    ),
    e(
        vf::A16_SINT,
        ext::ALPHA16I_EXT,
        ext::ALPHA_INTEGER,
        gl::SHORT,
        None,
    ),
    e(
        vf::L16_SINT,
        ext::LUMINANCE16I_EXT,
        ext::LUMINANCE_INTEGER_EXT,
        gl::SHORT,
        None,
    ),
    e(
        vf::L16A16_SINT,
        ext::LUMINANCE_ALPHA16I_EXT,
        ext::LUMINANCE_ALPHA_INTEGER_EXT,
        gl::SHORT,
        None,
    ),
    e(
        vf::A32_UINT,
        ext::ALPHA32UI_EXT,
        ext::ALPHA_INTEGER,
        gl::UNSIGNED_INT,
        None,
    ),
    e(
        vf::L32_UINT,
        gl::R32UI,
        ext::LUMINANCE_INTEGER_EXT,
        gl::UNSIGNED_INT,
        None,
    ),
    e(
        vf::L32A32_UINT,
        ext::LUMINANCE_ALPHA32UI_EXT,
        ext::LUMINANCE_ALPHA_INTEGER_EXT,
        gl::UNSIGNED_INT,
        None,
    ),
    e(
        vf::A32_SINT,
        ext::ALPHA32I_EXT,
        ext::ALPHA_INTEGER,
        gl::INT,
        None,
    ),
    e(
        vf::L32_SINT,
        ext::LUMINANCE32I_EXT,
        ext::LUMINANCE_INTEGER_EXT,
        gl::INT,
        None,
    ),
    e(
        vf::L32A32_SINT,
        ext::LUMINANCE_ALPHA32I_EXT,
        ext::LUMINANCE_ALPHA_INTEGER_EXT,
        gl::INT,
        None,
    ),
    e(
        vf::A16_FLOAT,
        ext::ALPHA16F_ARB,
        gl::ALPHA,
        gl::HALF_FLOAT,
        None,
    ),
    e(
        vf::L16_FLOAT,
        ext::LUMINANCE16F_ARB,
        gl::LUMINANCE,
        gl::HALF_FLOAT,
        None,
    ),
    e(
        vf::L16A16_FLOAT,
        ext::LUMINANCE_ALPHA16F_ARB,
        gl::LUMINANCE_ALPHA,
        gl::HALF_FLOAT,
        None,
    ),
    e(vf::A32_FLOAT, ext::ALPHA32F_ARB, gl::ALPHA, gl::FLOAT, None),
    e(
        vf::L32_FLOAT,
        ext::LUMINANCE32F_ARB,
        gl::LUMINANCE,
        gl::FLOAT,
        None,
    ),
    e(
        vf::L32A32_FLOAT,
        ext::LUMINANCE_ALPHA32F_ARB,
        gl::LUMINANCE_ALPHA,
        gl::FLOAT,
        None,
    ),
];

const SNORM_FORMATS: &[FormatEntry] = &[
    e(vf::R8_SNORM, gl::R8_SNORM, gl::RED, gl::BYTE, None),
    e(vf::R8G8_SNORM, gl::RG8_SNORM, gl::RG, gl::BYTE, None),
    e(
        vf::R8G8B8A8_SNORM,
        gl::RGBA8_SNORM,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::R8G8B8X8_SNORM,
        gl::RGBA8_SNORM,
        gl::RGBA,
        gl::BYTE,
        Some(RGB1),
    ),
    e(vf::R16_SNORM, gl::R16_SNORM, gl::RED, gl::SHORT, None),
    e(vf::R16G16_SNORM, gl::RG16_SNORM, gl::RG, gl::SHORT, None),
    e(
        vf::R16G16B16A16_SNORM,
        gl::RGBA16_SNORM,
        gl::RGBA,
        gl::SHORT,
        None,
    ),
    e(
        vf::R16G16B16X16_SNORM,
        gl::RGBA16_SNORM,
        gl::RGBA,
        gl::SHORT,
        Some(RGB1),
    ),
];

const SNORM_LA_FORMATS: &[FormatEntry] = &[
    e(vf::A8_SNORM, ext::ALPHA8_SNORM, gl::ALPHA, gl::BYTE, None),
    e(vf::L8_SNORM, gl::R8_SNORM, gl::RED, gl::BYTE, Some(RRR1)),
    e(
        vf::L8A8_SNORM,
        ext::LUMINANCE8_ALPHA8_SNORM,
        gl::LUMINANCE_ALPHA,
        gl::BYTE,
        None,
    ),
    e(
        vf::A16_SNORM,
        ext::ALPHA16_SNORM,
        gl::ALPHA,
        gl::SHORT,
        None,
    ),
    e(vf::L16_SNORM, gl::R16_SNORM, gl::RED, gl::SHORT, Some(RRR1)),
    e(
        vf::L16A16_SNORM,
        ext::LUMINANCE16_ALPHA16_SNORM,
        gl::LUMINANCE_ALPHA,
        gl::SHORT,
        None,
    ),
];

const DXTN_FORMATS: &[FormatEntry] = &[
    e(
        vf::DXT1_RGB,
        gl::COMPRESSED_RGB_S3TC_DXT1_EXT,
        gl::RGB,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::DXT1_RGBA,
        gl::COMPRESSED_RGBA_S3TC_DXT1_EXT,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::DXT3_RGBA,
        gl::COMPRESSED_RGBA_S3TC_DXT3_EXT,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::DXT5_RGBA,
        gl::COMPRESSED_RGBA_S3TC_DXT5_EXT,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
];

const DXTN_SRGB_FORMATS: &[FormatEntry] = &[
    e(
        vf::DXT1_SRGB,
        gl::COMPRESSED_SRGB_S3TC_DXT1_EXT,
        gl::RGB,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::DXT1_SRGBA,
        gl::COMPRESSED_SRGB_ALPHA_S3TC_DXT1_EXT,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::DXT3_SRGBA,
        gl::COMPRESSED_SRGB_ALPHA_S3TC_DXT3_EXT,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::DXT5_SRGBA,
        gl::COMPRESSED_SRGB_ALPHA_S3TC_DXT5_EXT,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
];

const ETC2_FORMATS: &[FormatEntry] = &[
    e(
        vf::ETC2_RGB8,
        gl::COMPRESSED_RGB8_ETC2,
        gl::RGB,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ETC2_SRGB8,
        gl::COMPRESSED_SRGB8_ETC2,
        gl::RGB,
        gl::BYTE,
        None,
    ),
    e(
        vf::ETC2_RGB8A1,
        gl::COMPRESSED_RGB8_PUNCHTHROUGH_ALPHA1_ETC2,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ETC2_SRGB8A1,
        gl::COMPRESSED_SRGB8_PUNCHTHROUGH_ALPHA1_ETC2,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ETC2_RGBA8,
        gl::COMPRESSED_RGBA8_ETC2_EAC,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ETC2_SRGBA8,
        gl::COMPRESSED_SRGB8_ALPHA8_ETC2_EAC,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ETC2_R11_UNORM,
        gl::COMPRESSED_R11_EAC,
        gl::RED,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ETC2_R11_SNORM,
        gl::COMPRESSED_SIGNED_R11_EAC,
        gl::RED,
        gl::BYTE,
        None,
    ),
    e(
        vf::ETC2_RG11_UNORM,
        gl::COMPRESSED_RG11_EAC,
        gl::RG,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ETC2_RG11_SNORM,
        gl::COMPRESSED_SIGNED_RG11_EAC,
        gl::RG,
        gl::BYTE,
        None,
    ),
];

const ASTC_FORMATS: &[FormatEntry] = &[
    e(
        vf::ASTC_4x4,
        gl::COMPRESSED_RGBA_ASTC_4x4_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_4x4_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_4x4_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_5x4,
        gl::COMPRESSED_RGBA_ASTC_5x4_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_5x4_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_5x4_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_5x5,
        gl::COMPRESSED_RGBA_ASTC_5x5_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_5x5_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_5x5_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_6x5,
        gl::COMPRESSED_RGBA_ASTC_6x5_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_6x5_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_6x5_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_6x6,
        gl::COMPRESSED_RGBA_ASTC_6x6_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_6x6_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_6x6_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_8x5,
        gl::COMPRESSED_RGBA_ASTC_8x5_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_8x5_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_8x5_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_8x6,
        gl::COMPRESSED_RGBA_ASTC_8x6_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_8x6_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_8x6_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_8x8,
        gl::COMPRESSED_RGBA_ASTC_8x8_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_8x8_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_8x8_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_10x5,
        gl::COMPRESSED_RGBA_ASTC_10x5_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_10x5_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_10x5_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_10x6,
        gl::COMPRESSED_RGBA_ASTC_10x6_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_10x6_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_10x6_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_10x8,
        gl::COMPRESSED_RGBA_ASTC_10x8_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_10x8_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_10x8_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_10x10,
        gl::COMPRESSED_RGBA_ASTC_10x10_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_10x10_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_10x10_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_12x10,
        gl::COMPRESSED_RGBA_ASTC_12x10_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_12x10_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_12x10_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
    e(
        vf::ASTC_12x12,
        gl::COMPRESSED_RGBA_ASTC_12x12_KHR,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::ASTC_12x12_SRGB,
        gl::COMPRESSED_SRGB8_ALPHA8_ASTC_12x12_KHR,
        gl::RGBA,
        gl::BYTE,
        None,
    ),
];

const RGTC_FORMATS: &[FormatEntry] = &[
    e(
        vf::RGTC1_UNORM,
        gl::COMPRESSED_RED_RGTC1,
        gl::RED,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::RGTC1_SNORM,
        gl::COMPRESSED_SIGNED_RED_RGTC1,
        gl::RED,
        gl::BYTE,
        None,
    ),
    e(
        vf::RGTC2_UNORM,
        gl::COMPRESSED_RG_RGTC2,
        gl::RG,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::RGTC2_SNORM,
        gl::COMPRESSED_SIGNED_RG_RGTC2,
        gl::RG,
        gl::BYTE,
        None,
    ),
];

const SRGB_FORMATS: &[FormatEntry] = &[
    e(
        vf::R8G8B8X8_SRGB,
        gl::SRGB8_ALPHA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        Some(RGB1),
    ),
    e(
        vf::R8G8B8A8_SRGB,
        gl::SRGB8_ALPHA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::L8_SRGB,
        ext::SR8_EXT,
        gl::RED,
        gl::UNSIGNED_BYTE,
        Some(RRR1),
    ),
    e(vf::R8_SRGB, ext::SR8_EXT, gl::RED, gl::UNSIGNED_BYTE, None),
    e(
        vf::R8G8_SRGB,
        ext::SRG8_EXT,
        gl::RG,
        gl::UNSIGNED_BYTE,
        None,
    ),
];

const BIT10_FORMATS: &[FormatEntry] = &[
    e(
        vf::B10G10R10A2_UINT,
        gl::RGB10_A2UI,
        gl::BGRA_INTEGER,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        None,
    ),
    e(
        vf::R10G10B10X2_UNORM,
        gl::RGB10_A2,
        gl::RGBA,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        Some(RGB1),
    ),
    e(
        vf::R10G10B10A2_UNORM,
        gl::RGB10_A2,
        gl::RGBA,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        None,
    ),
    e(
        vf::R10G10B10A2_UINT,
        gl::RGB10_A2UI,
        gl::RGBA_INTEGER,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        None,
    ),
];

const GL_BIT10_FORMATS: &[FormatEntry] = &[
    e(
        vf::B10G10R10X2_UNORM,
        gl::RGB10_A2,
        gl::BGRA,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        Some(RGB1),
    ),
    e(
        vf::B10G10R10A2_UNORM,
        gl::RGB10_A2,
        gl::BGRA,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        None,
    ),
];

const GLES_BIT10_FORMATS: &[FormatEntry] = &[
    e(
        vf::B10G10R10X2_UNORM,
        gl::RGB10_A2,
        gl::RGBA,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        Some(RGB1),
    ),
    e(
        vf::B10G10R10A2_UNORM,
        gl::RGB10_A2,
        gl::RGBA,
        gl::UNSIGNED_INT_2_10_10_10_REV,
        None,
    ),
];

const PACKED_FLOAT_FORMATS: &[FormatEntry] = &[e(
    vf::R11G11B10_FLOAT,
    gl::R11F_G11F_B10F,
    gl::RGB,
    gl::UNSIGNED_INT_10F_11F_11F_REV,
    None,
)];

const EXPONENT_FLOAT_FORMATS: &[FormatEntry] = &[e(
    vf::R9G9B9E5_FLOAT,
    gl::RGB9_E5,
    gl::RGB,
    gl::UNSIGNED_INT_5_9_9_9_REV,
    None,
)];

const BPTC_FORMATS: &[FormatEntry] = &[
    e(
        vf::BPTC_RGBA_UNORM,
        gl::COMPRESSED_RGBA_BPTC_UNORM,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::BPTC_SRGBA,
        gl::COMPRESSED_SRGB_ALPHA_BPTC_UNORM,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::BPTC_RGB_FLOAT,
        gl::COMPRESSED_RGB_BPTC_SIGNED_FLOAT,
        gl::RGB,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::BPTC_RGB_UFLOAT,
        gl::COMPRESSED_RGB_BPTC_UNSIGNED_FLOAT,
        gl::RGB,
        gl::UNSIGNED_BYTE,
        None,
    ),
];

const GL_BGRA_FORMATS: &[FormatEntry] = &[
    e(
        vf::B8G8R8X8_UNORM,
        gl::RGBA8,
        gl::BGRA,
        gl::UNSIGNED_BYTE,
        Some(RGB1),
    ),
    e(
        vf::B8G8R8A8_UNORM,
        gl::RGBA8,
        gl::BGRA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::B8G8R8X8_SRGB,
        gl::SRGB8_ALPHA8,
        gl::BGRA,
        gl::UNSIGNED_BYTE,
        Some(RGB1),
    ),
    e(
        vf::B8G8R8A8_SRGB,
        gl::SRGB8_ALPHA8,
        gl::BGRA,
        gl::UNSIGNED_BYTE,
        None,
    ),
];

const GLES_BGRA_FORMATS: &[FormatEntry] = &[
    e(
        vf::B8G8R8X8_UNORM,
        gl::RGBA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        Some(RGB1),
    ),
    e(
        vf::B8G8R8A8_UNORM,
        gl::RGBA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
    e(
        vf::B8G8R8X8_SRGB,
        gl::SRGB8_ALPHA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        Some(RGB1),
    ),
    e(
        vf::B8G8R8A8_SRGB,
        gl::SRGB8_ALPHA8,
        gl::RGBA,
        gl::UNSIGNED_BYTE,
        None,
    ),
];

/// How a format's texels are laid out in guest memory, derived from its GL transfer format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLayout {
    /// Block width and height in texels (1×1 for uncompressed formats).
    pub width: u32,
    pub height: u32,
    /// Bytes per block.
    pub bytes: u32,
    pub compressed: bool,
}

impl BlockLayout {
    /// Bytes of one row of blocks covering `texels` texels.
    pub fn row_bytes(&self, texels: u32) -> u64 {
        u64::from(texels.div_ceil(self.width)) * u64::from(self.bytes)
    }

    /// Rows of blocks covering `texels` texel rows.
    pub fn rows(&self, texels: u32) -> u32 {
        texels.div_ceil(self.height)
    }
}

/// Block dimensions and bytes of a compressed GL internal format, `None` if not compressed.
fn compressed_block(internal: u32) -> Option<(u32, u32, u32)> {
    use glow as g;
    Some(match internal {
        g::COMPRESSED_RGB_S3TC_DXT1_EXT
        | g::COMPRESSED_RGBA_S3TC_DXT1_EXT
        | g::COMPRESSED_SRGB_S3TC_DXT1_EXT
        | g::COMPRESSED_SRGB_ALPHA_S3TC_DXT1_EXT
        | g::COMPRESSED_RED_RGTC1
        | g::COMPRESSED_SIGNED_RED_RGTC1
        | g::COMPRESSED_RGB8_ETC2
        | g::COMPRESSED_SRGB8_ETC2
        | g::COMPRESSED_RGB8_PUNCHTHROUGH_ALPHA1_ETC2
        | g::COMPRESSED_SRGB8_PUNCHTHROUGH_ALPHA1_ETC2
        | g::COMPRESSED_R11_EAC
        | g::COMPRESSED_SIGNED_R11_EAC => (4, 4, 8),
        g::COMPRESSED_RGBA_S3TC_DXT3_EXT
        | g::COMPRESSED_RGBA_S3TC_DXT5_EXT
        | g::COMPRESSED_SRGB_ALPHA_S3TC_DXT3_EXT
        | g::COMPRESSED_SRGB_ALPHA_S3TC_DXT5_EXT
        | g::COMPRESSED_RG_RGTC2
        | g::COMPRESSED_SIGNED_RG_RGTC2
        | g::COMPRESSED_RGBA_BPTC_UNORM
        | g::COMPRESSED_SRGB_ALPHA_BPTC_UNORM
        | g::COMPRESSED_RGB_BPTC_SIGNED_FLOAT
        | g::COMPRESSED_RGB_BPTC_UNSIGNED_FLOAT
        | g::COMPRESSED_RGBA8_ETC2_EAC
        | g::COMPRESSED_SRGB8_ALPHA8_ETC2_EAC
        | g::COMPRESSED_RG11_EAC
        | g::COMPRESSED_SIGNED_RG11_EAC => (4, 4, 16),
        _ => {
            // The KHR ASTC enums are two runs of 14 block sizes in the same order.
            const ASTC: [(u32, u32); 14] = [
                (4, 4),
                (5, 4),
                (5, 5),
                (6, 5),
                (6, 6),
                (8, 5),
                (8, 6),
                (8, 8),
                (10, 5),
                (10, 6),
                (10, 8),
                (10, 10),
                (12, 10),
                (12, 12),
            ];
            let idx = match internal {
                0x93B0..=0x93BD => internal - 0x93B0,
                0x93D0..=0x93DD => internal - 0x93D0,
                _ => return None,
            };
            let (w, h) = ASTC[idx as usize];
            (w, h, 16)
        }
    })
}

/// Components a GL pixel transfer format carries.
fn components(format: u32) -> Option<u32> {
    use glow as g;
    Some(match format {
        g::RED
        | g::ALPHA
        | g::LUMINANCE
        | g::DEPTH_COMPONENT
        | g::STENCIL_INDEX
        | g::DEPTH_STENCIL
        | g::RED_INTEGER
        | ext::ALPHA_INTEGER
        | ext::LUMINANCE_INTEGER_EXT => 1,
        g::RG | g::LUMINANCE_ALPHA | g::RG_INTEGER | ext::LUMINANCE_ALPHA_INTEGER_EXT => 2,
        g::RGB | g::BGR | g::RGB_INTEGER => 3,
        g::RGBA | g::BGRA | ext::ABGR_EXT | g::RGBA_INTEGER | g::BGRA_INTEGER => 4,
        _ => return None,
    })
}

impl FormatEntry {
    /// The guest-memory layout of this entry's texels.
    pub fn layout(&self) -> BlockLayout {
        use glow as g;
        if let Some((width, height, bytes)) = compressed_block(self.internal) {
            return BlockLayout {
                width,
                height,
                bytes,
                compressed: true,
            };
        }
        let bytes = match self.ty {
            g::UNSIGNED_BYTE_3_3_2 => 1,
            g::UNSIGNED_SHORT_5_6_5
            | g::UNSIGNED_SHORT_4_4_4_4
            | g::UNSIGNED_SHORT_4_4_4_4_REV
            | g::UNSIGNED_SHORT_1_5_5_5_REV
            | g::UNSIGNED_SHORT_5_5_5_1 => 2,
            g::UNSIGNED_INT_8_8_8_8
            | g::UNSIGNED_INT_8_8_8_8_REV
            | g::UNSIGNED_INT_2_10_10_10_REV
            | g::UNSIGNED_INT_10F_11F_11F_REV
            | g::UNSIGNED_INT_5_9_9_9_REV
            | g::UNSIGNED_INT_24_8 => 4,
            g::FLOAT_32_UNSIGNED_INT_24_8_REV => 8,
            ty => {
                let size = match ty {
                    g::UNSIGNED_BYTE | g::BYTE => 1,
                    g::UNSIGNED_SHORT | g::SHORT | g::HALF_FLOAT => 2,
                    _ => 4,
                };
                // Every entry's format is one `components` knows (tested exhaustively).
                components(self.format).unwrap_or(4) * size
            }
        };
        BlockLayout {
            width: 1,
            height: 1,
            bytes,
            compressed: false,
        }
    }

    /// Whether this is a depth and/or stencil format.
    pub fn is_depth_stencil(&self) -> bool {
        matches!(
            self.format,
            glow::DEPTH_COMPONENT | glow::DEPTH_STENCIL | glow::STENCIL_INDEX
        )
    }

    pub fn has_stencil(&self) -> bool {
        matches!(self.format, glow::DEPTH_STENCIL | glow::STENCIL_INDEX)
    }

    pub fn has_depth(&self) -> bool {
        matches!(self.format, glow::DEPTH_COMPONENT | glow::DEPTH_STENCIL)
    }

    /// Whether the GL transfer format is an integer one (clears and blits differ).
    pub fn is_integer(&self) -> bool {
        matches!(
            self.format,
            glow::RED_INTEGER
                | glow::RG_INTEGER
                | glow::RGB_INTEGER
                | glow::RGBA_INTEGER
                | glow::BGRA_INTEGER
                | ext::ALPHA_INTEGER
                | ext::LUMINANCE_INTEGER_EXT
                | ext::LUMINANCE_ALPHA_INTEGER_EXT
        )
    }
}

/// How a group of candidates is admitted.
#[derive(Debug, Clone, Copy)]
enum Admit {
    /// Probed: kept if a 32×32 texture of it can be created.
    Probe,
    /// Compressed: kept on the extension's word, sampler-only.
    Compressed,
}

/// The candidate groups in probing order (the first working entry per format wins).
fn candidate_groups(
    gles: bool,
    gl_version: u32,
    has_ext: &dyn Fn(&str) -> bool,
) -> Vec<(&'static [FormatEntry], Admit)> {
    use Admit::{Compressed, Probe};
    let mut groups = vec![
        (BASE_RGBA_FORMATS, Probe),
        (BASE_DEPTH_FORMATS, Probe),
        (FLOAT_BASE_FORMATS, Probe),
        (LA_FORMATS_COMPAT, Probe),
        (LA_FORMATS_FALLBACK, Probe),
        (FLOAT_3COMP_FORMATS, Probe),
        (INTEGER_BASE_FORMATS, Probe),
        (INTEGER_3COMP_FORMATS, Probe),
        (RG_BASE_FORMATS, Probe),
        (INTEGER_RG_FORMATS, Probe),
        (FLOAT_RG_FORMATS, Probe),
        (SNORM_FORMATS, Probe),
        (SNORM_LA_FORMATS, Probe),
    ];
    if has_ext("GL_S3_s3tc")
        || has_ext("GL_EXT_texture_compression_s3tc")
        || has_ext("GL_ANGLE_texture_compression_dxt")
    {
        groups.push((DXTN_FORMATS, Compressed));
        groups.push((DXTN_SRGB_FORMATS, Compressed));
    }
    if has_ext("GL_ARB_texture_compression_rgtc") || has_ext("GL_EXT_texture_compression_rgtc") {
        groups.push((RGTC_FORMATS, Compressed));
    }
    if has_ext("GL_ARB_texture_compression_bptc") || has_ext("GL_EXT_texture_compression_bptc") {
        groups.push((BPTC_FORMATS, Compressed));
    }
    groups.extend([
        (SRGB_FORMATS, Probe),
        (BIT10_FORMATS, Probe),
        (PACKED_FLOAT_FORMATS, Probe),
        (EXPONENT_FLOAT_FORMATS, Probe),
    ]);
    if gles {
        // GLES has no BGRA transfers worth the name: BGR* are stored as RGB* and swizzled on
        // the CPU during transfers; Z32 is faked with Z24.
        groups.extend([
            (GLES_BGRA_FORMATS, Probe),
            (GLES_Z32_FORMAT, Probe),
            (GLES_BIT10_FORMATS, Probe),
        ]);
        if has_ext("GL_KHR_texture_compression_astc_ldr") {
            groups.push((ASTC_FORMATS, Compressed));
        }
        if gl_version >= 30 {
            groups.push((ETC2_FORMATS, Compressed));
        }
    } else {
        groups.extend([
            (GL_Z32_FORMAT, Probe),
            (GL_BASE_RGBA_FORMATS, Probe),
            (GL_BGRA_FORMATS, Probe),
            (GL_BIT10_FORMATS, Probe),
        ]);
    }
    groups
}

/// What the host can do with a format, found by probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FormatCaps {
    /// `VIRGL_BIND_SAMPLER_VIEW | RENDER_TARGET | DEPTH_STENCIL` as the host allows.
    pub bind: u32,
    pub can_readback: bool,
    pub can_rectangle: bool,
    pub can_texture_storage: bool,
    pub can_multisample: bool,
}

/// A virgl format the host supports, with its GL mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFormat {
    pub entry: FormatEntry,
    pub caps: FormatCaps,
}

/// Options steering the probe, from the host's features.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProbeOptions {
    pub gles: bool,
    /// Context version × 10.
    pub gl_version: u32,
    pub texture_storage: bool,
    pub multisample: bool,
    pub storage_multisample: bool,
}

/// The probed conversion table, indexed by virgl format.
#[derive(Debug, Clone)]
pub struct FormatTable {
    formats: Vec<Option<HostFormat>>,
}

fn gl_error(gl: &glow::Context) -> u32 {
    // SAFETY: glGetError has no preconditions beyond a current context, which the caller of
    // `FormatTable::probe` guarantees.
    unsafe { gl.get_error() }
}

fn drain_errors(gl: &glow::Context) {
    // Bounded: a lost context may report errors forever.
    for _ in 0..16 {
        if gl_error(gl) == glow::NO_ERROR {
            break;
        }
    }
}

impl FormatTable {
    /// Probes every candidate on the current context of `gl`.
    ///
    /// The context must be current on this thread. GL state touched: texture bindings of
    /// TEXTURE_2D / RECTANGLE / 2D_MULTISAMPLE and the FRAMEBUFFER binding, reset to 0.
    pub fn probe(
        gl: &glow::Context,
        options: &ProbeOptions,
        has_ext: &dyn Fn(&str) -> bool,
    ) -> VrendResult<Self> {
        let mut formats = vec![None; vf::MAX as usize];
        drain_errors(gl);
        for (group, admit) in candidate_groups(options.gles, options.gl_version, has_ext) {
            for entry in group {
                let slot = formats
                    .get_mut(entry.virgl as usize)
                    .ok_or_else(|| VrendError::Invalid(format!("format {}", entry.virgl)))?;
                if slot.is_some() {
                    continue;
                }
                *slot = match admit {
                    Admit::Compressed => Some(HostFormat {
                        entry: *entry,
                        caps: FormatCaps {
                            bind: bind::SAMPLER_VIEW,
                            can_readback: !options.gles,
                            ..Default::default()
                        },
                    }),
                    Admit::Probe => probe_entry(gl, entry, options, has_ext)?,
                };
            }
        }
        if options.texture_storage {
            for host in formats.iter_mut().flatten() {
                host.caps.can_texture_storage = probe_storage(gl, &host.entry)?;
            }
        }
        if options.multisample {
            for host in formats.iter_mut().flatten() {
                let available = if host.caps.can_texture_storage {
                    options.storage_multisample
                } else {
                    !options.gles
                };
                if available && !host.entry.layout().compressed {
                    host.caps.can_multisample =
                        probe_multisample(gl, &host.entry, host.caps.can_texture_storage)?;
                }
            }
        }
        Ok(Self { formats })
    }

    /// The host mapping of a virgl format, if the host supports it.
    pub fn get(&self, virgl: u32) -> Option<&HostFormat> {
        self.formats.get(virgl as usize).and_then(Option::as_ref)
    }

    /// Every supported format.
    pub fn iter(&self) -> impl Iterator<Item = &HostFormat> {
        self.formats.iter().flatten()
    }
}

fn probe_entry(
    gl: &glow::Context,
    entry: &FormatEntry,
    options: &ProbeOptions,
    has_ext: &dyn Fn(&str) -> bool,
) -> VrendResult<Option<HostFormat>> {
    // SAFETY: the caller holds a current context; every object created here is deleted before
    // returning and bindings are reset to 0. Null pixel data is valid for glTexImage2D.
    unsafe {
        let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        let fbo = gl.create_framebuffer().map_err(VrendError::HostGlMissing)?;
        gl.bind_texture(glow::TEXTURE_2D, Some(tex));
        gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fbo));
        drain_errors(gl);
        gl.tex_image_2d(
            glow::TEXTURE_2D,
            0,
            entry.internal as i32,
            32,
            32,
            0,
            entry.format,
            entry.ty,
            glow::PixelUnpackData::Slice(None),
        );
        if gl_error(gl) != glow::NO_ERROR {
            gl.bind_texture(glow::TEXTURE_2D, None);
            gl.bind_framebuffer(glow::FRAMEBUFFER, None);
            gl.delete_texture(tex);
            gl.delete_framebuffer(fbo);
            return Ok(None);
        }
        let mut caps = FormatCaps::default();
        if !options.gles {
            let rect = gl.create_texture().map_err(VrendError::HostGlMissing)?;
            gl.bind_texture(glow::TEXTURE_RECTANGLE, Some(rect));
            gl.tex_image_2d(
                glow::TEXTURE_RECTANGLE,
                0,
                entry.internal as i32,
                32,
                32,
                0,
                entry.format,
                entry.ty,
                glow::PixelUnpackData::Slice(None),
            );
            caps.can_rectangle = gl_error(gl) == glow::NO_ERROR;
            gl.bind_texture(glow::TEXTURE_RECTANGLE, None);
            gl.delete_texture(rect);
        }
        let is_depth = entry.is_depth_stencil();
        if is_depth {
            // Stencil-bearing formats go to the combined attachment, as upstream does (which
            // leaves stencil-only formats unrenderable).
            let attachment = if entry.has_stencil() {
                glow::DEPTH_STENCIL_ATTACHMENT
            } else {
                glow::DEPTH_ATTACHMENT
            };
            gl.framebuffer_texture_2d(
                glow::FRAMEBUFFER,
                attachment,
                glow::TEXTURE_2D,
                Some(tex),
                0,
            );
            gl.draw_buffers(&[glow::NONE]);
        } else {
            gl.framebuffer_texture_2d(
                glow::FRAMEBUFFER,
                glow::COLOR_ATTACHMENT0,
                glow::TEXTURE_2D,
                Some(tex),
                0,
            );
            gl.draw_buffers(&[glow::COLOR_ATTACHMENT0]);
        }
        let complete = gl.check_framebuffer_status(glow::FRAMEBUFFER) == glow::FRAMEBUFFER_COMPLETE;
        caps.bind = bind::SAMPLER_VIEW;
        if complete {
            caps.bind |= if is_depth {
                bind::DEPTH_STENCIL
            } else {
                bind::RENDER_TARGET
            };
        }
        // Desktop GL reads any texture back with glGetTexImage; GLES only through glReadPixels
        // on formats the implementation agrees to.
        caps.can_readback = !options.gles
            || (complete
                && if is_depth {
                    depth_readback(entry, has_ext)
                } else {
                    color_readback(gl, entry, options.gl_version, has_ext)
                });
        gl.bind_texture(glow::TEXTURE_2D, None);
        gl.bind_framebuffer(glow::FRAMEBUFFER, None);
        gl.delete_texture(tex);
        gl.delete_framebuffer(fbo);
        drain_errors(gl);
        Ok(Some(HostFormat {
            entry: *entry,
            caps,
        }))
    }
}

fn depth_readback(entry: &FormatEntry, has_ext: &dyn Fn(&str) -> bool) -> bool {
    match (entry.has_depth(), entry.has_stencil()) {
        (true, false) => has_ext("GL_NV_read_depth"),
        (true, true) => has_ext("GL_NV_read_depth_stencil"),
        _ => has_ext("GL_NV_read_stencil"),
    }
}

fn color_readback(
    gl: &glow::Context,
    entry: &FormatEntry,
    gles_ver: u32,
    has_ext: &dyn Fn(&str) -> bool,
) -> bool {
    match entry.virgl {
        vf::R8G8B8A8_UNORM => return true,
        vf::R32G32B32A32_SINT | vf::R32G32B32A32_UINT if gles_ver >= 30 => return true,
        vf::R32G32B32A32_FLOAT if gles_ver >= 32 || has_ext("GL_EXT_color_buffer_float") => {
            return true
        }
        vf::B10G10R10A2_UNORM | vf::B10G10R10X2_UNORM => return false,
        _ => {}
    }
    // SAFETY: a current context with the probe framebuffer bound.
    unsafe {
        gl.get_parameter_i32(glow::IMPLEMENTATION_COLOR_READ_TYPE) == entry.ty as i32
            && gl.get_parameter_i32(glow::IMPLEMENTATION_COLOR_READ_FORMAT) == entry.format as i32
    }
}

fn probe_storage(gl: &glow::Context, entry: &FormatEntry) -> VrendResult<bool> {
    // SAFETY: current context; the texture is deleted before returning.
    unsafe {
        let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        gl.bind_texture(glow::TEXTURE_2D, Some(tex));
        drain_errors(gl);
        gl.tex_storage_2d(glow::TEXTURE_2D, 1, entry.internal, 32, 32);
        let ok = gl_error(gl) == glow::NO_ERROR;
        gl.bind_texture(glow::TEXTURE_2D, None);
        gl.delete_texture(tex);
        Ok(ok)
    }
}

fn probe_multisample(gl: &glow::Context, entry: &FormatEntry, storage: bool) -> VrendResult<bool> {
    // SAFETY: current context; the texture is deleted before returning.
    unsafe {
        let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        gl.bind_texture(glow::TEXTURE_2D_MULTISAMPLE, Some(tex));
        drain_errors(gl);
        if storage {
            gl.tex_storage_2d_multisample(
                glow::TEXTURE_2D_MULTISAMPLE,
                2,
                entry.internal,
                32,
                32,
                true,
            );
        } else {
            gl.tex_image_2d_multisample(
                glow::TEXTURE_2D_MULTISAMPLE,
                2,
                entry.internal as i32,
                32,
                32,
                true,
            );
        }
        let ok = gl_error(gl) == glow::NO_ERROR;
        gl.bind_texture(glow::TEXTURE_2D_MULTISAMPLE, None);
        gl.delete_texture(tex);
        Ok(ok)
    }
}

/// Every candidate entry of every group, for exhaustive tests.
pub fn all_entries() -> impl Iterator<Item = &'static FormatEntry> {
    candidate_groups(false, 45, &|_| true)
        .into_iter()
        .chain(candidate_groups(true, 32, &|_| true))
        .flat_map(|(g, _)| g.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_a_known_layout() {
        for entry in all_entries() {
            assert!(entry.virgl < vf::MAX);
            let layout = entry.layout();
            if !layout.compressed {
                assert!(
                    components(entry.format).is_some(),
                    "format {:#x}",
                    entry.format
                );
            }
            assert!(
                matches!(layout.bytes, 1 | 2 | 3 | 4 | 6 | 8 | 12 | 16),
                "{entry:?}"
            );
        }
    }

    #[test]
    fn layouts_of_well_known_formats() {
        let find = |v| all_entries().find(|e| e.virgl == v).unwrap().layout();
        assert_eq!(find(vf::B8G8R8A8_UNORM).bytes, 4);
        assert_eq!(find(vf::B5G6R5_UNORM).bytes, 2);
        assert_eq!(find(vf::R32G32B32_FLOAT).bytes, 12);
        assert_eq!(find(vf::Z32_FLOAT_S8X24_UINT).bytes, 8);
        let dxt1 = find(vf::DXT1_RGB);
        assert_eq!((dxt1.width, dxt1.height, dxt1.bytes), (4, 4, 8));
        let astc = find(vf::ASTC_10x8_SRGB);
        assert_eq!((astc.width, astc.height, astc.bytes), (10, 8, 16));
    }
}
