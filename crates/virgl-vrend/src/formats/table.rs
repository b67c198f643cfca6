//! The candidate virgl → GL format mappings, as data (grouped and ordered as probed).
//!
//! Facts from `enum virgl_formats` and the Khronos GL registry; the probing logic lives in the
//! parent module.

use glow as gl;

use super::{swz, FormatEntry};

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
pub(super) mod ext {
    pub(crate) const ABGR_EXT: u32 = 0x8000;
    pub(crate) const ALPHA16: u32 = 0x803E;
    pub(crate) const ALPHA16F_ARB: u32 = 0x881C;
    pub(crate) const ALPHA16I_EXT: u32 = 0x8D8A;
    pub(crate) const ALPHA16UI_EXT: u32 = 0x8D78;
    pub(crate) const ALPHA16_SNORM: u32 = 0x9018;
    pub(crate) const ALPHA32F_ARB: u32 = 0x8816;
    pub(crate) const ALPHA32I_EXT: u32 = 0x8D84;
    pub(crate) const ALPHA32UI_EXT: u32 = 0x8D72;
    pub(crate) const ALPHA8: u32 = 0x803C;
    pub(crate) const ALPHA8I_EXT: u32 = 0x8D90;
    pub(crate) const ALPHA8UI_EXT: u32 = 0x8D7E;
    pub(crate) const ALPHA8_SNORM: u32 = 0x9014;
    pub(crate) const ALPHA_INTEGER: u32 = 0x8D97;
    pub(crate) const LUMINANCE16F_ARB: u32 = 0x881E;
    pub(crate) const LUMINANCE16I_EXT: u32 = 0x8D8C;
    pub(crate) const LUMINANCE16UI_EXT: u32 = 0x8D7A;
    pub(crate) const LUMINANCE16_ALPHA16_SNORM: u32 = 0x901A;
    pub(crate) const LUMINANCE32F_ARB: u32 = 0x8818;
    pub(crate) const LUMINANCE32I_EXT: u32 = 0x8D86;
    pub(crate) const LUMINANCE8I_EXT: u32 = 0x8D92;
    pub(crate) const LUMINANCE8UI_EXT: u32 = 0x8D80;
    pub(crate) const LUMINANCE8_ALPHA8_SNORM: u32 = 0x9016;
    pub(crate) const LUMINANCE_ALPHA16F_ARB: u32 = 0x881F;
    pub(crate) const LUMINANCE_ALPHA16I_EXT: u32 = 0x8D8D;
    pub(crate) const LUMINANCE_ALPHA16UI_EXT: u32 = 0x8D7B;
    pub(crate) const LUMINANCE_ALPHA32F_ARB: u32 = 0x8819;
    pub(crate) const LUMINANCE_ALPHA32I_EXT: u32 = 0x8D87;
    pub(crate) const LUMINANCE_ALPHA32UI_EXT: u32 = 0x8D75;
    pub(crate) const LUMINANCE_ALPHA8I_EXT: u32 = 0x8D93;
    pub(crate) const LUMINANCE_ALPHA8UI_EXT: u32 = 0x8D81;
    pub(crate) const LUMINANCE_ALPHA_INTEGER_EXT: u32 = 0x8D9D;
    pub(crate) const LUMINANCE_INTEGER_EXT: u32 = 0x8D9C;
    pub(crate) const SR8_EXT: u32 = 0x8FBD;
    pub(crate) const SRG8_EXT: u32 = 0x8FBE;
}

const RGB1: [u8; 4] = [swz::X, swz::Y, swz::Z, swz::ONE];
const RRR1: [u8; 4] = [swz::X, swz::X, swz::X, swz::ONE];
const OOOR: [u8; 4] = [swz::ZERO, swz::ZERO, swz::ZERO, swz::X];

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

pub(super) const BASE_RGBA_FORMATS: &[FormatEntry] = &[
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

pub(super) const GL_BASE_RGBA_FORMATS: &[FormatEntry] = &[
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

pub(super) const BASE_DEPTH_FORMATS: &[FormatEntry] = &[
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

pub(super) const GL_Z32_FORMAT: &[FormatEntry] = &[e(
    vf::Z32_UNORM,
    gl::DEPTH_COMPONENT32,
    gl::DEPTH_COMPONENT,
    gl::UNSIGNED_INT,
    None,
)];

pub(super) const GLES_Z32_FORMAT: &[FormatEntry] = &[e(
    vf::Z32_UNORM,
    gl::DEPTH_COMPONENT24,
    gl::DEPTH_COMPONENT,
    gl::UNSIGNED_INT,
    None,
)];

pub(super) const RG_BASE_FORMATS: &[FormatEntry] = &[
    e(vf::R8_UNORM, gl::R8, gl::RED, gl::UNSIGNED_BYTE, None),
    e(vf::R8G8_UNORM, gl::RG8, gl::RG, gl::UNSIGNED_BYTE, None),
    e(vf::R16_UNORM, gl::R16, gl::RED, gl::UNSIGNED_SHORT, None),
    e(vf::R16G16_UNORM, gl::RG16, gl::RG, gl::UNSIGNED_SHORT, None),
];

pub(super) const INTEGER_BASE_FORMATS: &[FormatEntry] = &[
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

pub(super) const INTEGER_3COMP_FORMATS: &[FormatEntry] = &[
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

pub(super) const FLOAT_BASE_FORMATS: &[FormatEntry] = &[
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

pub(super) const INTEGER_RG_FORMATS: &[FormatEntry] = &[
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

pub(super) const FLOAT_RG_FORMATS: &[FormatEntry] = &[
    e(vf::R16_FLOAT, gl::R16F, gl::RED, gl::HALF_FLOAT, None),
    e(vf::R16G16_FLOAT, gl::RG16F, gl::RG, gl::HALF_FLOAT, None),
    e(vf::R32_FLOAT, gl::R32F, gl::RED, gl::FLOAT, None),
    e(vf::R32G32_FLOAT, gl::RG32F, gl::RG, gl::FLOAT, None),
];

pub(super) const FLOAT_3COMP_FORMATS: &[FormatEntry] = &[
    e(
        vf::R16G16B16X16_FLOAT,
        gl::RGBA16F,
        gl::RGBA,
        gl::HALF_FLOAT,
        Some(RGB1),
    ),
    e(vf::R32G32B32_FLOAT, gl::RGB32F, gl::RGB, gl::FLOAT, None),
];

pub(super) const LA_FORMATS_FALLBACK: &[FormatEntry] = &[
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

pub(super) const LA_FORMATS_COMPAT: &[FormatEntry] = &[
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

pub(super) const SNORM_FORMATS: &[FormatEntry] = &[
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

pub(super) const SNORM_LA_FORMATS: &[FormatEntry] = &[
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

pub(super) const DXTN_FORMATS: &[FormatEntry] = &[
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

pub(super) const DXTN_SRGB_FORMATS: &[FormatEntry] = &[
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

pub(super) const ETC2_FORMATS: &[FormatEntry] = &[
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

pub(super) const ASTC_FORMATS: &[FormatEntry] = &[
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

pub(super) const RGTC_FORMATS: &[FormatEntry] = &[
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

pub(super) const SRGB_FORMATS: &[FormatEntry] = &[
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

pub(super) const BIT10_FORMATS: &[FormatEntry] = &[
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

pub(super) const GL_BIT10_FORMATS: &[FormatEntry] = &[
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

pub(super) const GLES_BIT10_FORMATS: &[FormatEntry] = &[
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

pub(super) const PACKED_FLOAT_FORMATS: &[FormatEntry] = &[e(
    vf::R11G11B10_FLOAT,
    gl::R11F_G11F_B10F,
    gl::RGB,
    gl::UNSIGNED_INT_10F_11F_11F_REV,
    None,
)];

pub(super) const EXPONENT_FLOAT_FORMATS: &[FormatEntry] = &[e(
    vf::R9G9B9E5_FLOAT,
    gl::RGB9_E5,
    gl::RGB,
    gl::UNSIGNED_INT_5_9_9_9_REV,
    None,
)];

pub(super) const BPTC_FORMATS: &[FormatEntry] = &[
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

pub(super) const GL_BGRA_FORMATS: &[FormatEntry] = &[
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

pub(super) const GLES_BGRA_FORMATS: &[FormatEntry] = &[
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
