//! Gallium enum values (as the guest sends them) to GL enums.
//!
//! Every conversion takes the raw wire value and returns `None` for a value outside the
//! gallium enum, so the caller turns a hostile value into a typed error instead of handing an
//! arbitrary number to GL.

use virgl_protocol::pipe::{
    BlendFactor, BlendFunc, CompareFunc, LogicOp, PrimType, StencilOp, TexWrap,
};

pub(crate) fn blend_factor(raw: u8) -> Option<u32> {
    use BlendFactor as F;
    Some(match F::from_raw(raw.into())? {
        F::One => glow::ONE,
        F::SrcColor => glow::SRC_COLOR,
        F::SrcAlpha => glow::SRC_ALPHA,
        F::DstAlpha => glow::DST_ALPHA,
        F::DstColor => glow::DST_COLOR,
        F::SrcAlphaSaturate => glow::SRC_ALPHA_SATURATE,
        F::ConstColor => glow::CONSTANT_COLOR,
        F::ConstAlpha => glow::CONSTANT_ALPHA,
        F::Src1Color => glow::SRC1_COLOR,
        F::Src1Alpha => glow::SRC1_ALPHA,
        F::Zero => glow::ZERO,
        F::InvSrcColor => glow::ONE_MINUS_SRC_COLOR,
        F::InvSrcAlpha => glow::ONE_MINUS_SRC_ALPHA,
        F::InvDstAlpha => glow::ONE_MINUS_DST_ALPHA,
        F::InvDstColor => glow::ONE_MINUS_DST_COLOR,
        F::InvConstColor => glow::ONE_MINUS_CONSTANT_COLOR,
        F::InvConstAlpha => glow::ONE_MINUS_CONSTANT_ALPHA,
        F::InvSrc1Color => glow::ONE_MINUS_SRC1_COLOR,
        F::InvSrc1Alpha => glow::ONE_MINUS_SRC1_ALPHA,
    })
}

pub(crate) fn blend_func(raw: u8) -> Option<u32> {
    use BlendFunc as F;
    Some(match F::from_raw(raw.into())? {
        F::Add => glow::FUNC_ADD,
        F::Subtract => glow::FUNC_SUBTRACT,
        F::ReverseSubtract => glow::FUNC_REVERSE_SUBTRACT,
        F::Min => glow::MIN,
        F::Max => glow::MAX,
    })
}

pub(crate) fn logic_op(raw: u8) -> Option<u32> {
    use LogicOp as L;
    Some(match L::from_raw(raw.into())? {
        L::Clear => glow::CLEAR,
        L::Nor => glow::NOR,
        L::AndInverted => glow::AND_INVERTED,
        L::CopyInverted => glow::COPY_INVERTED,
        L::AndReverse => glow::AND_REVERSE,
        L::Invert => glow::INVERT,
        L::Xor => glow::XOR,
        L::Nand => glow::NAND,
        L::And => glow::AND,
        L::Equiv => glow::EQUIV,
        L::Noop => glow::NOOP,
        L::OrInverted => glow::OR_INVERTED,
        L::Copy => glow::COPY,
        L::OrReverse => glow::OR_REVERSE,
        L::Or => glow::OR,
        L::Set => glow::SET,
    })
}

/// Compare functions are 3-bit fields: every value is valid.
pub(crate) fn compare_func(raw: u8) -> u32 {
    match CompareFunc::from_raw(u32::from(raw & 7)) {
        Some(CompareFunc::Never) | None => glow::NEVER,
        Some(CompareFunc::Less) => glow::LESS,
        Some(CompareFunc::Equal) => glow::EQUAL,
        Some(CompareFunc::LEqual) => glow::LEQUAL,
        Some(CompareFunc::Greater) => glow::GREATER,
        Some(CompareFunc::NotEqual) => glow::NOTEQUAL,
        Some(CompareFunc::GEqual) => glow::GEQUAL,
        Some(CompareFunc::Always) => glow::ALWAYS,
    }
}

/// Stencil ops are 3-bit fields: every value is valid.
pub(crate) fn stencil_op(raw: u8) -> u32 {
    match StencilOp::from_raw(u32::from(raw & 7)) {
        Some(StencilOp::Keep) | None => glow::KEEP,
        Some(StencilOp::Zero) => glow::ZERO,
        Some(StencilOp::Replace) => glow::REPLACE,
        Some(StencilOp::Incr) => glow::INCR,
        Some(StencilOp::Decr) => glow::DECR,
        Some(StencilOp::IncrWrap) => glow::INCR_WRAP,
        Some(StencilOp::DecrWrap) => glow::DECR_WRAP,
        Some(StencilOp::Invert) => glow::INVERT,
    }
}

/// A wrap mode; `mirror_clamp` says whether the host has EXT_texture_mirror_clamp (all three
/// mirror-clamp modes), `to_edge` whether it has MIRROR_CLAMP_TO_EDGE alone (GL 4.4, the
/// ARB/EXT extensions: what GLES hosts offer). Modes the host lacks fall back to
/// MIRRORED_REPEAT, as upstream's caps promise no more.
pub(crate) fn tex_wrap(raw: u8, mirror_clamp: bool, to_edge: bool) -> u32 {
    const MIRROR_CLAMP_EXT: u32 = 0x8742;
    const MIRROR_CLAMP_TO_EDGE_EXT: u32 = 0x8743;
    const MIRROR_CLAMP_TO_BORDER_EXT: u32 = 0x8912;
    match TexWrap::from_raw(u32::from(raw & 7)) {
        Some(TexWrap::Repeat) | None => glow::REPEAT,
        // GL_CLAMP is gone from core profiles; CLAMP_TO_EDGE is the closest.
        Some(TexWrap::Clamp) | Some(TexWrap::ClampToEdge) => glow::CLAMP_TO_EDGE,
        Some(TexWrap::ClampToBorder) => glow::CLAMP_TO_BORDER,
        Some(TexWrap::MirrorRepeat) => glow::MIRRORED_REPEAT,
        Some(TexWrap::MirrorClamp) if mirror_clamp => MIRROR_CLAMP_EXT,
        Some(TexWrap::MirrorClampToEdge) if mirror_clamp || to_edge => MIRROR_CLAMP_TO_EDGE_EXT,
        Some(TexWrap::MirrorClampToBorder) if mirror_clamp => MIRROR_CLAMP_TO_BORDER_EXT,
        Some(_) => glow::MIRRORED_REPEAT,
    }
}

/// The GL primitive of a `PIPE_PRIM_*`. Quads, quad strips and polygons have no core-profile
/// equivalent; they map to what the guest driver is told to lower them to (triangles fans for
/// polygons), and quads are refused by the caller when the host is core.
/// Compatibility-profile primitives glow does not define.
pub(crate) const GL_QUAD_STRIP: u32 = 0x0008;
pub(crate) const GL_POLYGON: u32 = 0x0009;

pub(crate) fn prim_mode(raw: u32) -> Option<u32> {
    use PrimType as P;
    Some(match P::from_raw(raw)? {
        P::Points => glow::POINTS,
        P::Lines => glow::LINES,
        P::LineLoop => glow::LINE_LOOP,
        P::LineStrip => glow::LINE_STRIP,
        P::Triangles => glow::TRIANGLES,
        P::TriangleStrip => glow::TRIANGLE_STRIP,
        P::TriangleFan => glow::TRIANGLE_FAN,
        P::Quads => glow::QUADS,
        P::QuadStrip => GL_QUAD_STRIP,
        P::Polygon => GL_POLYGON,
        P::LinesAdjacency => glow::LINES_ADJACENCY,
        P::LineStripAdjacency => glow::LINE_STRIP_ADJACENCY,
        P::TrianglesAdjacency => glow::TRIANGLES_ADJACENCY,
        P::TriangleStripAdjacency => glow::TRIANGLE_STRIP_ADJACENCY,
        P::Patches => glow::PATCHES,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_value_maps_or_is_refused() {
        for raw in 0..=255u8 {
            assert_eq!(
                blend_factor(raw).is_some(),
                BlendFactor::from_raw(raw.into()).is_some()
            );
            assert_eq!(
                blend_func(raw).is_some(),
                BlendFunc::from_raw(raw.into()).is_some()
            );
            assert_eq!(logic_op(raw).is_some(), raw < 16);
            // Total functions never panic.
            let _ = (
                compare_func(raw),
                stencil_op(raw),
                tex_wrap(raw, false, false),
            );
        }
        assert_eq!(prim_mode(4), Some(glow::TRIANGLES));
        assert_eq!(prim_mode(15), None);
        assert_eq!(blend_factor(0x11), Some(glow::ZERO));
        assert_eq!(compare_func(3), glow::LEQUAL);
    }
}
