//! `CREATE_OBJECT` payloads for the state objects (everything but shaders, see `shader.rs`).
//!
//! Bit fields are kept as the raw masked integers the guest sent (gallium enum values); the
//! typed accessors and [`crate::pipe`] turn them into enums. Decoding checks lengths and the few
//! ranges upstream checks at decode time; it does not look up resources or formats.

use bitflags::bitflags;

use super::reader::{Reader, Result};
use crate::pipe::{self, limits};

const fn bit(v: u32, shift: u32) -> bool {
    (v >> shift) & 1 != 0
}

const fn field(v: u32, shift: u32, mask: u32) -> u8 {
    ((v >> shift) & mask) as u8
}

/// Per-render-target blend dword (`VIRGL_OBJ_BLEND_S2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtBlend {
    pub blend_enable: bool,
    /// `pipe_blend_func` (3 bits).
    pub rgb_func: u8,
    /// `pipe_blendfactor` (5 bits).
    pub rgb_src_factor: u8,
    pub rgb_dst_factor: u8,
    pub alpha_func: u8,
    /// For render target 0 Mesa puts the advanced blend equation here when one is enabled.
    pub alpha_src_factor: u8,
    pub alpha_dst_factor: u8,
    /// `PIPE_MASK_RGBA` bits.
    pub colormask: u8,
}

impl RtBlend {
    pub const fn from_raw(v: u32) -> Self {
        RtBlend {
            blend_enable: bit(v, 0),
            rgb_func: field(v, 1, 0x7),
            rgb_src_factor: field(v, 4, 0x1f),
            rgb_dst_factor: field(v, 9, 0x1f),
            alpha_func: field(v, 14, 0x7),
            alpha_src_factor: field(v, 17, 0x1f),
            alpha_dst_factor: field(v, 22, 0x1f),
            colormask: field(v, 27, 0xf),
        }
    }

    pub const fn to_raw(self) -> u32 {
        self.blend_enable as u32
            | (self.rgb_func as u32 & 0x7) << 1
            | (self.rgb_src_factor as u32 & 0x1f) << 4
            | (self.rgb_dst_factor as u32 & 0x1f) << 9
            | (self.alpha_func as u32 & 0x7) << 14
            | (self.alpha_src_factor as u32 & 0x1f) << 17
            | (self.alpha_dst_factor as u32 & 0x1f) << 22
            | (self.colormask as u32 & 0xf) << 27
    }

    pub fn rgb_func(&self) -> Option<pipe::BlendFunc> {
        pipe::BlendFunc::from_raw(self.rgb_func.into())
    }

    pub fn alpha_func(&self) -> Option<pipe::BlendFunc> {
        pipe::BlendFunc::from_raw(self.alpha_func.into())
    }
}

/// `VIRGL_OBJECT_BLEND` (`VIRGL_OBJ_BLEND_SIZE` = 11 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlendState {
    pub handle: u32,
    pub independent_blend_enable: bool,
    pub logicop_enable: bool,
    pub dither: bool,
    pub alpha_to_coverage: bool,
    pub alpha_to_one: bool,
    /// `pipe_logicop` (4 bits).
    pub logicop_func: u8,
    /// One entry per colour buffer; only `rt[0]` matters unless `independent_blend_enable`.
    pub rt: [RtBlend; limits::MAX_COLOR_BUFS],
}

impl BlendState {
    pub const SIZE: usize = 11;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_BLEND_SIZE")?;
        let s0 = r.dw(2);
        Ok(BlendState {
            handle: r.dw(1),
            independent_blend_enable: bit(s0, 0),
            logicop_enable: bit(s0, 1),
            dither: bit(s0, 2),
            alpha_to_coverage: bit(s0, 3),
            alpha_to_one: bit(s0, 4),
            logicop_func: field(r.dw(3), 0, 0xf),
            rt: core::array::from_fn(|i| RtBlend::from_raw(r.dw(4 + i))),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.handle);
        out.push(
            self.independent_blend_enable as u32
                | (self.logicop_enable as u32) << 1
                | (self.dither as u32) << 2
                | (self.alpha_to_coverage as u32) << 3
                | (self.alpha_to_one as u32) << 4,
        );
        out.push(self.logicop_func as u32 & 0xf);
        out.extend(self.rt.iter().map(|rt| rt.to_raw()));
    }

    pub fn logicop_func(&self) -> Option<pipe::LogicOp> {
        pipe::LogicOp::from_raw(self.logicop_func.into())
    }
}

bitflags! {
    /// The single-bit fields of `VIRGL_OBJ_RS_S0` (bits 8..14 are the 2-bit fields kept apart).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RasterizerFlags: u32 {
        const FLATSHADE = 1 << 0;
        const DEPTH_CLIP = 1 << 1;
        const CLIP_HALFZ = 1 << 2;
        const RASTERIZER_DISCARD = 1 << 3;
        const FLATSHADE_FIRST = 1 << 4;
        const LIGHT_TWOSIDE = 1 << 5;
        /// Set: `PIPE_SPRITE_COORD_LOWER_LEFT`.
        const SPRITE_COORD_MODE = 1 << 6;
        const POINT_QUAD_RASTERIZATION = 1 << 7;
        const SCISSOR = 1 << 14;
        const FRONT_CCW = 1 << 15;
        const CLAMP_VERTEX_COLOR = 1 << 16;
        const CLAMP_FRAGMENT_COLOR = 1 << 17;
        const OFFSET_LINE = 1 << 18;
        const OFFSET_POINT = 1 << 19;
        const OFFSET_TRI = 1 << 20;
        const POLY_SMOOTH = 1 << 21;
        const POLY_STIPPLE_ENABLE = 1 << 22;
        const POINT_SMOOTH = 1 << 23;
        const POINT_SIZE_PER_VERTEX = 1 << 24;
        const MULTISAMPLE = 1 << 25;
        const LINE_SMOOTH = 1 << 26;
        const LINE_STIPPLE_ENABLE = 1 << 27;
        const LINE_LAST_PIXEL = 1 << 28;
        const HALF_PIXEL_CENTER = 1 << 29;
        const BOTTOM_EDGE_RULE = 1 << 30;
        const FORCE_PERSAMPLE_INTERP = 1 << 31;
    }
}

/// `VIRGL_OBJECT_RASTERIZER` (`VIRGL_OBJ_RS_SIZE` = 9 dwords).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RasterizerState {
    pub handle: u32,
    pub flags: RasterizerFlags,
    /// `PIPE_FACE_*` (2 bits).
    pub cull_face: u8,
    /// `PIPE_POLYGON_MODE_*` (2 bits each).
    pub fill_front: u8,
    pub fill_back: u8,
    pub point_size: f32,
    /// Bit mask of generic inputs replaced by point sprite coordinates.
    pub sprite_coord_enable: u32,
    pub line_stipple_pattern: u16,
    pub line_stipple_factor: u8,
    pub clip_plane_enable: u8,
    pub line_width: f32,
    pub offset_units: f32,
    pub offset_scale: f32,
    pub offset_clamp: f32,
}

impl RasterizerState {
    pub const SIZE: usize = 9;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_RS_SIZE")?;
        let s0 = r.dw(2);
        let s3 = r.dw(5);
        Ok(RasterizerState {
            handle: r.dw(1),
            flags: RasterizerFlags::from_bits_truncate(s0),
            cull_face: field(s0, 8, 0x3),
            fill_front: field(s0, 10, 0x3),
            fill_back: field(s0, 12, 0x3),
            point_size: r.f32(3),
            sprite_coord_enable: r.dw(4),
            line_stipple_pattern: (s3 & 0xffff) as u16,
            line_stipple_factor: field(s3, 16, 0xff),
            clip_plane_enable: field(s3, 24, 0xff),
            line_width: r.f32(6),
            offset_units: r.f32(7),
            offset_scale: r.f32(8),
            offset_clamp: r.f32(9),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.handle);
        out.push(
            self.flags.bits()
                | (self.cull_face as u32 & 0x3) << 8
                | (self.fill_front as u32 & 0x3) << 10
                | (self.fill_back as u32 & 0x3) << 12,
        );
        out.push(self.point_size.to_bits());
        out.push(self.sprite_coord_enable);
        out.push(
            self.line_stipple_pattern as u32
                | (self.line_stipple_factor as u32) << 16
                | (self.clip_plane_enable as u32) << 24,
        );
        out.extend(
            [
                self.line_width,
                self.offset_units,
                self.offset_scale,
                self.offset_clamp,
            ]
            .map(f32::to_bits),
        );
    }
}

/// One face of the stencil state (`VIRGL_OBJ_DSA_S1`/`S2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StencilState {
    pub enabled: bool,
    /// `pipe_compare_func` (3 bits).
    pub func: u8,
    /// `pipe_stencil_op` (3 bits each).
    pub fail_op: u8,
    pub zpass_op: u8,
    pub zfail_op: u8,
    pub valuemask: u8,
    pub writemask: u8,
}

impl StencilState {
    pub const fn from_raw(v: u32) -> Self {
        StencilState {
            enabled: bit(v, 0),
            func: field(v, 1, 0x7),
            fail_op: field(v, 4, 0x7),
            zpass_op: field(v, 7, 0x7),
            zfail_op: field(v, 10, 0x7),
            valuemask: field(v, 13, 0xff),
            writemask: field(v, 21, 0xff),
        }
    }

    pub const fn to_raw(self) -> u32 {
        self.enabled as u32
            | (self.func as u32 & 0x7) << 1
            | (self.fail_op as u32 & 0x7) << 4
            | (self.zpass_op as u32 & 0x7) << 7
            | (self.zfail_op as u32 & 0x7) << 10
            | (self.valuemask as u32) << 13
            | (self.writemask as u32) << 21
    }
}

/// `VIRGL_OBJECT_DSA` (`VIRGL_OBJ_DSA_SIZE` = 5 dwords).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsaState {
    pub handle: u32,
    pub depth_enabled: bool,
    pub depth_writemask: bool,
    /// `pipe_compare_func` (3 bits).
    pub depth_func: u8,
    pub alpha_enabled: bool,
    pub alpha_func: u8,
    /// Front, back.
    pub stencil: [StencilState; 2],
    pub alpha_ref: f32,
}

impl DsaState {
    pub const SIZE: usize = 5;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_DSA_SIZE")?;
        let s0 = r.dw(2);
        Ok(DsaState {
            handle: r.dw(1),
            depth_enabled: bit(s0, 0),
            depth_writemask: bit(s0, 1),
            depth_func: field(s0, 2, 0x7),
            alpha_enabled: bit(s0, 8),
            alpha_func: field(s0, 9, 0x7),
            stencil: [
                StencilState::from_raw(r.dw(3)),
                StencilState::from_raw(r.dw(4)),
            ],
            alpha_ref: r.f32(5),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.handle);
        out.push(
            self.depth_enabled as u32
                | (self.depth_writemask as u32) << 1
                | (self.depth_func as u32 & 0x7) << 2
                | (self.alpha_enabled as u32) << 8
                | (self.alpha_func as u32 & 0x7) << 9,
        );
        out.push(self.stencil[0].to_raw());
        out.push(self.stencil[1].to_raw());
        out.push(self.alpha_ref.to_bits());
    }
}

/// One vertex element (`VIRGL_OBJ_VERTEX_ELEMENTS_V0_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VertexElement {
    pub src_offset: u32,
    pub instance_divisor: u32,
    /// Checked `< PIPE_MAX_ATTRIBS` by the decoder.
    pub vertex_buffer_index: u32,
    /// `virgl_formats` value.
    pub src_format: u32,
}

/// `VIRGL_OBJECT_VERTEX_ELEMENTS`: `4n + 1` dwords, `n <= PIPE_MAX_ATTRIBS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VertexElements<'a> {
    pub handle: u32,
    raw: &'a [u32],
}

impl<'a> VertexElements<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        let len = r.len();
        if len < 1 || !(len - 1).is_multiple_of(4) {
            return Err(r.bad_len("VIRGL_OBJ_VERTEX_ELEMENTS_SIZE(n) = 4n + 1"));
        }
        let n = (len - 1) / 4;
        r.check(n <= limits::MAX_ATTRIBS, "num_elements", n as u64)?;
        let raw = r.slice(2, 4 * n);
        for chunk in raw.chunks_exact(4) {
            r.check(
                chunk[2] < limits::MAX_ATTRIBS as u32,
                "vertex_buffer_index",
                chunk[2],
            )?;
        }
        Ok(VertexElements {
            handle: r.dw(1),
            raw,
        })
    }

    /// Views `raw` (4 dwords per element; a ragged tail is ignored) as vertex elements.
    pub fn new(handle: u32, raw: &'a [u32]) -> Self {
        VertexElements {
            handle,
            raw: &raw[..raw.len() / 4 * 4],
        }
    }

    pub fn len(&self) -> usize {
        self.raw.len() / 4
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<VertexElement> {
        let c = self.raw.get(i * 4..i * 4 + 4)?;
        Some(VertexElement {
            src_offset: c[0],
            instance_divisor: c[1],
            vertex_buffer_index: c[2],
            src_format: c[3],
        })
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = VertexElement> + 'a {
        self.raw.chunks_exact(4).map(|c| VertexElement {
            src_offset: c[0],
            instance_divisor: c[1],
            vertex_buffer_index: c[2],
            src_format: c[3],
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.handle);
        out.extend_from_slice(self.raw);
    }

    /// Packs elements into the dwords [`VertexElements::new`] views.
    pub fn dwords_of(elements: &[VertexElement]) -> Vec<u32> {
        elements
            .iter()
            .flat_map(|e| {
                [
                    e.src_offset,
                    e.instance_divisor,
                    e.vertex_buffer_index,
                    e.src_format,
                ]
            })
            .collect()
    }
}

/// Texture form of a sampler view's range dwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextureRange {
    pub first_layer: u16,
    pub last_layer: u16,
    pub first_level: u8,
    pub last_level: u8,
}

/// `VIRGL_OBJECT_SAMPLER_VIEW` (`VIRGL_OBJ_SAMPLER_VIEW_SIZE` = 6 dwords).
///
/// Dwords 4 and 5 mean `first_element`/`last_element` when the resource is a buffer and
/// `first_layer | last_layer << 16` / `first_level | last_level << 8` for textures; only the
/// consumer knows the resource target, so both readings are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplerView {
    pub handle: u32,
    pub res_handle: u32,
    /// `virgl_formats` value (low 24 bits of dword 3); never 0.
    pub format: u32,
    /// `pipe_texture_target` (high 8 bits of dword 3; 0 from guests without `VIRGL_CAP_TEXTURE_VIEW`).
    pub target: u8,
    pub val0: u32,
    pub val1: u32,
    /// `pipe_swizzle` per channel R, G, B, A (3 bits each).
    pub swizzle: [u8; 4],
}

impl SamplerView {
    pub const SIZE: usize = 6;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_SAMPLER_VIEW_SIZE")?;
        let fmt = r.dw(3);
        let format = fmt & 0x00ff_ffff;
        let target = (fmt >> 24) as u8;
        r.check(format != 0, "format", format)?;
        r.check(
            pipe::TextureTarget::from_raw(target.into()).is_some(),
            "target",
            target,
        )?;
        let sw = r.dw(6);
        Ok(SamplerView {
            handle: r.dw(1),
            res_handle: r.dw(2),
            format,
            target,
            val0: r.dw(4),
            val1: r.dw(5),
            swizzle: [
                field(sw, 0, 7),
                field(sw, 3, 7),
                field(sw, 6, 7),
                field(sw, 9, 7),
            ],
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        let sw = self.swizzle;
        out.extend([
            self.handle,
            self.res_handle,
            (self.format & 0x00ff_ffff) | (self.target as u32) << 24,
            self.val0,
            self.val1,
            (sw[0] as u32 & 7)
                | (sw[1] as u32 & 7) << 3
                | (sw[2] as u32 & 7) << 6
                | (sw[3] as u32 & 7) << 9,
        ]);
    }

    /// Buffer reading: `(first_element, last_element)`.
    pub fn buffer_elements(&self) -> (u32, u32) {
        (self.val0, self.val1)
    }

    /// Texture reading of the range dwords.
    pub fn texture_range(&self) -> TextureRange {
        TextureRange {
            first_layer: self.val0 as u16,
            last_layer: (self.val0 >> 16) as u16,
            first_level: self.val1 as u8,
            last_level: (self.val1 >> 8) as u8,
        }
    }

    pub fn target(&self) -> Option<pipe::TextureTarget> {
        pipe::TextureTarget::from_raw(self.target.into())
    }
}

/// `VIRGL_OBJECT_SAMPLER_STATE` (`VIRGL_OBJ_SAMPLER_STATE_SIZE` = 9 dwords).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerState {
    pub handle: u32,
    /// `pipe_tex_wrap` (3 bits each).
    pub wrap_s: u8,
    pub wrap_t: u8,
    pub wrap_r: u8,
    /// `pipe_tex_filter` (1 bit).
    pub min_img_filter: u8,
    /// `pipe_tex_mipfilter` (2 bits, 3 rejected as upstream does).
    pub min_mip_filter: u8,
    pub mag_img_filter: u8,
    pub compare_mode: bool,
    /// `pipe_compare_func` (3 bits).
    pub compare_func: u8,
    pub seamless_cube_map: bool,
    /// 5 bits.
    pub max_anisotropy: u8,
    pub lod_bias: f32,
    pub min_lod: f32,
    pub max_lod: f32,
    /// Border colour as raw dwords (float, int or uint depending on the view format).
    pub border_color: [u32; 4],
}

impl SamplerState {
    pub const SIZE: usize = 9;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_SAMPLER_STATE_SIZE")?;
        let s0 = r.dw(2);
        let min_mip_filter = field(s0, 11, 0x3);
        r.check(
            pipe::TexMipFilter::from_raw(min_mip_filter.into()).is_some(),
            "min_mip_filter",
            min_mip_filter,
        )?;
        Ok(SamplerState {
            handle: r.dw(1),
            wrap_s: field(s0, 0, 7),
            wrap_t: field(s0, 3, 7),
            wrap_r: field(s0, 6, 7),
            min_img_filter: field(s0, 9, 1),
            min_mip_filter,
            mag_img_filter: field(s0, 13, 1),
            compare_mode: bit(s0, 15),
            compare_func: field(s0, 16, 7),
            seamless_cube_map: bit(s0, 19),
            max_anisotropy: field(s0, 20, 0x1f),
            lod_bias: r.f32(3),
            min_lod: r.f32(4),
            max_lod: r.f32(5),
            border_color: r.array(6),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.handle);
        out.push(
            (self.wrap_s as u32 & 7)
                | (self.wrap_t as u32 & 7) << 3
                | (self.wrap_r as u32 & 7) << 6
                | (self.min_img_filter as u32 & 1) << 9
                | (self.min_mip_filter as u32 & 3) << 11
                | (self.mag_img_filter as u32 & 1) << 13
                | (self.compare_mode as u32) << 15
                | (self.compare_func as u32 & 7) << 16
                | (self.seamless_cube_map as u32) << 19
                | (self.max_anisotropy as u32 & 0x1f) << 20,
        );
        out.extend([self.lod_bias, self.min_lod, self.max_lod].map(f32::to_bits));
        out.extend_from_slice(&self.border_color);
    }

    /// Border colour as floats.
    pub fn border_color_f32(&self) -> [f32; 4] {
        self.border_color.map(f32::from_bits)
    }
}

/// `VIRGL_OBJECT_SURFACE` (5 dwords) and, with `sample_count`, `VIRGL_OBJECT_MSAA_SURFACE` (6).
///
/// Dwords 4/5 are `first_element`/`last_element` for buffers and `level` /
/// `first_layer | last_layer << 16` for textures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surface {
    pub handle: u32,
    pub res_handle: u32,
    /// `virgl_formats` value.
    pub format: u32,
    pub val0: u32,
    pub val1: u32,
}

impl Surface {
    pub const SIZE: usize = 5;
    pub const MSAA_SIZE: usize = 6;

    fn decode_common(r: &Reader<'_>) -> Result<Self> {
        let val1 = r.dw(5);
        // Upstream rejects an empty layer range for every surface (buffer or texture).
        r.check((val1 >> 16) >= (val1 & 0xffff), "layers", val1)?;
        Ok(Surface {
            handle: r.dw(1),
            res_handle: r.dw(2),
            format: r.dw(3),
            val0: r.dw(4),
            val1,
        })
    }

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_SURFACE_SIZE")?;
        Self::decode_common(r)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.res_handle,
            self.format,
            self.val0,
            self.val1,
        ]);
    }

    /// Texture reading: mip level.
    pub fn level(&self) -> u32 {
        self.val0
    }

    /// Texture reading: `(first_layer, last_layer)`.
    pub fn layers(&self) -> (u16, u16) {
        (self.val1 as u16, (self.val1 >> 16) as u16)
    }
}

/// `VIRGL_OBJECT_MSAA_SURFACE`: a surface with implicit multisampling
/// (`EXT_multisample_render_to_texture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsaaSurface {
    pub surface: Surface,
    pub sample_count: u32,
}

impl MsaaSurface {
    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Surface::MSAA_SIZE, "VIRGL_OBJ_MSAA_SURFACE_SIZE")?;
        Ok(MsaaSurface {
            surface: Surface::decode_common(r)?,
            sample_count: r.dw(6),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        self.surface.encode(out);
        out.push(self.sample_count);
    }
}

/// `VIRGL_OBJECT_QUERY` (`VIRGL_OBJ_QUERY_SIZE` = 4 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub handle: u32,
    /// `pipe_query_type` (low 16 bits).
    pub query_type: u16,
    /// Stream / statistic index (high 16 bits).
    pub index: u16,
    /// Byte offset of the result in `res_handle`.
    pub offset: u32,
    pub res_handle: u32,
}

impl Query {
    pub const SIZE: usize = 4;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_QUERY_SIZE")?;
        let ti = r.dw(2);
        Ok(Query {
            handle: r.dw(1),
            query_type: ti as u16,
            index: (ti >> 16) as u16,
            offset: r.dw(3),
            res_handle: r.dw(4),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.query_type as u32 | (self.index as u32) << 16,
            self.offset,
            self.res_handle,
        ]);
    }

    pub fn query_type(&self) -> Option<pipe::QueryType> {
        pipe::QueryType::from_raw(self.query_type.into())
    }
}

/// `VIRGL_OBJECT_STREAMOUT_TARGET` (`VIRGL_OBJ_STREAMOUT_SIZE` = 4 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamoutTarget {
    pub handle: u32,
    pub res_handle: u32,
    pub buffer_offset: u32,
    pub buffer_size: u32,
}

impl StreamoutTarget {
    pub const SIZE: usize = 4;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_STREAMOUT_SIZE")?;
        Ok(StreamoutTarget {
            handle: r.dw(1),
            res_handle: r.dw(2),
            buffer_offset: r.dw(3),
            buffer_size: r.dw(4),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.res_handle,
            self.buffer_offset,
            self.buffer_size,
        ]);
    }
}
