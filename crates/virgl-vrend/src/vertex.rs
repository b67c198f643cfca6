//! Vertex elements (`VIRGL_OBJECT_VERTEX_ELEMENTS`) as GL vertex attribute formats.
//!
//! Each Gallium vertex element becomes GL attribute *i* fed from GL binding point *i* (GL keeps
//! the instance divisor per binding, Gallium per element, so sharing bindings would merge
//! divisors): `glVertexAttrib{,I,L}Format(i)` + `glVertexAttribBinding(i, i)` +
//! `glVertexBindingDivisor(i)`, and at draw time binding *i* gets the element's vertex buffer at
//! `buffer offset + src_offset`.

use glow::HasContext;
use virgl_protocol::command::VertexElement;
use virgl_protocol::format::{ChannelKind, ChannelType, VirglFormat};

use crate::error::{VrendError, VrendResult};

/// How GL reads one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AttribFormat {
    /// Components (1..=4) or `GL_BGRA`.
    pub size: i32,
    pub ty: u32,
    pub normalized: bool,
    pub kind: AttribKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttribKind {
    Float,
    /// Pure signed integer (`glVertexAttribIFormat`).
    SignedInt,
    UnsignedInt,
}

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

/// GL's reading of a virgl vertex format.
pub(crate) fn attrib_format(format: u32) -> VrendResult<AttribFormat> {
    let vf =
        VirglFormat::from_raw(format).ok_or_else(|| invalid(format!("vertex format {format}")))?;
    let info = vf.info();
    let name = vf.name();
    // Packed formats GL knows as such.
    let packed = |ty, kind_signed: bool, normalized| AttribFormat {
        size: 4,
        ty,
        normalized,
        kind: if kind_signed {
            AttribKind::SignedInt
        } else {
            AttribKind::Float
        },
    };
    match name {
        "R10G10B10A2_UNORM" => return Ok(packed(glow::UNSIGNED_INT_2_10_10_10_REV, false, true)),
        "R10G10B10A2_USCALED" => {
            return Ok(packed(glow::UNSIGNED_INT_2_10_10_10_REV, false, false))
        }
        "R10G10B10A2_SNORM" => return Ok(packed(glow::INT_2_10_10_10_REV, false, true)),
        "R10G10B10A2_SSCALED" => return Ok(packed(glow::INT_2_10_10_10_REV, false, false)),
        "B10G10R10A2_UNORM" => {
            return Ok(AttribFormat {
                size: glow::BGRA as i32,
                ..packed(glow::UNSIGNED_INT_2_10_10_10_REV, false, true)
            })
        }
        "B10G10R10A2_SNORM" => {
            return Ok(AttribFormat {
                size: glow::BGRA as i32,
                ..packed(glow::INT_2_10_10_10_REV, false, true)
            })
        }
        "R11G11B10_FLOAT" => {
            return Ok(AttribFormat {
                size: 3,
                ty: glow::UNSIGNED_INT_10F_11F_11F_REV,
                normalized: false,
                kind: AttribKind::Float,
            })
        }
        _ => {}
    }
    let ch = info.channels;
    if ch.is_empty() || ch.len() > 4 || info.is_compressed() {
        return Err(invalid(format!("{name} is not a vertex format")));
    }
    let first = ch[0];
    if ch.iter().any(|c| c.ty != first.ty || c.bits != first.bits) {
        return Err(invalid(format!(
            "{name}: mixed channels are no vertex format"
        )));
    }
    let bgra = ch.len() == 4
        && ch[0].kind == ChannelKind::B
        && ch[2].kind == ChannelKind::R
        && first.bits == 8;
    let ty = match (first.ty, first.bits) {
        (ChannelType::Float, 16) => glow::HALF_FLOAT,
        (ChannelType::Float, 32) => glow::FLOAT,
        (ChannelType::Float, 64) => glow::DOUBLE,
        (ChannelType::Fixed, 32) => glow::FIXED,
        (ChannelType::Unorm | ChannelType::Uint | ChannelType::Uscaled, 8) => glow::UNSIGNED_BYTE,
        (ChannelType::Unorm | ChannelType::Uint | ChannelType::Uscaled, 16) => glow::UNSIGNED_SHORT,
        (ChannelType::Unorm | ChannelType::Uint | ChannelType::Uscaled, 32) => glow::UNSIGNED_INT,
        (ChannelType::Snorm | ChannelType::Sint | ChannelType::Sscaled, 8) => glow::BYTE,
        (ChannelType::Snorm | ChannelType::Sint | ChannelType::Sscaled, 16) => glow::SHORT,
        (ChannelType::Snorm | ChannelType::Sint | ChannelType::Sscaled, 32) => glow::INT,
        _ => return Err(invalid(format!("{name} is not a vertex format"))),
    };
    let kind = match first.ty {
        ChannelType::Uint => AttribKind::UnsignedInt,
        ChannelType::Sint => AttribKind::SignedInt,
        // 64-bit floats are converted to float like every other non-integer format: Gallium's
        // R64* vertex formats feed float inputs (Mesa splits dvec inputs into 32-bit pairs).
        _ => AttribKind::Float,
    };
    if bgra && kind != AttribKind::Float {
        return Err(invalid(format!("{name}: BGRA integer vertex format")));
    }
    Ok(AttribFormat {
        size: if bgra {
            glow::BGRA as i32
        } else {
            ch.len() as i32
        },
        ty,
        normalized: matches!(first.ty, ChannelType::Unorm | ChannelType::Snorm),
        kind,
    })
}

/// A vertex elements object: the guest's elements and their GL formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexElementsObj {
    pub elements: Vec<VertexElement>,
    pub(crate) formats: Vec<AttribFormat>,
}

impl VertexElementsObj {
    pub fn new(elements: Vec<VertexElement>, max_attribs: u32) -> VrendResult<Self> {
        if elements.len() > max_attribs as usize {
            return Err(VrendError::Unsupported(format!(
                "{} vertex elements (host has {max_attribs} attributes)",
                elements.len()
            )));
        }
        let formats = elements
            .iter()
            .map(|e| attrib_format(e.src_format))
            .collect::<VrendResult<_>>()?;
        Ok(Self { elements, formats })
    }

    /// Attributes with signed / unsigned integer formats (shader key bits).
    pub fn int_masks(&self) -> (u32, u32) {
        let mut signed = 0;
        let mut unsigned = 0;
        for (i, f) in self.formats.iter().enumerate().take(32) {
            match f.kind {
                AttribKind::SignedInt => signed |= 1 << i,
                AttribKind::UnsignedInt => unsigned |= 1 << i,
                _ => {}
            }
        }
        (signed, unsigned)
    }

    /// Sets the attribute formats and bindings on the bound vertex array; `enabled` is how many
    /// attributes the array had enabled before (the rest are disabled).
    pub(crate) fn apply_formats(&self, gl: &glow::Context, enabled: u32) {
        // SAFETY: a VAO is bound on the current context; attribute indices are below
        // GL_MAX_VERTEX_ATTRIBS (checked in `new`), types and sizes come from `attrib_format`.
        unsafe {
            for (i, (e, f)) in self.elements.iter().zip(&self.formats).enumerate() {
                let i = i as u32;
                match f.kind {
                    AttribKind::Float => {
                        gl.vertex_attrib_format_f32(i, f.size, f.ty, f.normalized, 0)
                    }
                    AttribKind::SignedInt | AttribKind::UnsignedInt => {
                        gl.vertex_attrib_format_i32(i, f.size, f.ty, 0)
                    }
                }
                gl.vertex_attrib_binding(i, i);
                gl.vertex_binding_divisor(i, e.instance_divisor);
                gl.enable_vertex_attrib_array(i);
            }
            for i in self.elements.len() as u32..enabled {
                gl.disable_vertex_attrib_array(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(name: &str) -> u32 {
        VirglFormat::iter()
            .find(|f| f.name() == name)
            .map(|f| f.raw())
            .unwrap()
    }

    #[test]
    fn common_vertex_formats() {
        let f = attrib_format(fmt("R32G32B32_FLOAT")).unwrap();
        assert_eq!(
            (f.size, f.ty, f.normalized, f.kind),
            (3, glow::FLOAT, false, AttribKind::Float)
        );
        let f = attrib_format(fmt("R8G8B8A8_UNORM")).unwrap();
        assert_eq!((f.size, f.ty, f.normalized), (4, glow::UNSIGNED_BYTE, true));
        let f = attrib_format(fmt("B8G8R8A8_UNORM")).unwrap();
        assert_eq!(f.size, glow::BGRA as i32);
        let f = attrib_format(fmt("R32G32_SINT")).unwrap();
        assert_eq!(f.kind, AttribKind::SignedInt);
        let f = attrib_format(fmt("R16G16_SSCALED")).unwrap();
        assert_eq!(
            (f.ty, f.normalized, f.kind),
            (glow::SHORT, false, AttribKind::Float)
        );
        let f = attrib_format(fmt("R64G64_FLOAT")).unwrap();
        assert_eq!((f.ty, f.kind), (glow::DOUBLE, AttribKind::Float));
        assert!(attrib_format(fmt("DXT1_RGB")).is_err());
        assert!(attrib_format(fmt("Z24_UNORM_S8_UINT")).is_err());
        assert!(attrib_format(100_000).is_err());
    }
}
