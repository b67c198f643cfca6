//! The draw path: the bindings draws use (vertex/index buffers, shaders, sampler views and
//! states, constants, uniform buffers) and `DRAW_VBO` itself.
//!
//! Binding commands only record handles and ranges after checking them; everything is resolved
//! and handed to GL when a draw happens: shader variants are picked for the current state,
//! the program is linked (or found in the cache), fixed-function state is emitted where it
//! changed ([`crate::state`]), then textures, samplers, uniform buffers, vertex buffers and the
//! index buffer are bound and the draw is issued.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use glow::HasContext;
use virgl_protocol::command::{
    DrawVbo, ImageView, RasterizerFlags, SetAtomicBuffers, SetIndexBuffer, SetShaderBuffers,
    SetShaderImages, SetUniformBuffer, VertexBuffer,
};
use virgl_protocol::format::ChannelKind;
use virgl_protocol::pipe::{limits, ShaderType, SHADER_TYPES};
use virgl_protocol::VirglFormat;

use crate::backend::Shared;
use crate::context::SubContext;
use crate::error::{VrendError, VrendResult};
use crate::features::Feature;
use crate::formats::swz;
use crate::glenum;
use crate::objects::{Object, ObjectTable, ObjectType};
use crate::program::{processor, LinkedProgram, ShaderObj};
use crate::resource::{GlResource, Storage};
use crate::state::{self, FixedState, StateInputs};
use crate::tgsi::{AlphaFunc, ShaderInterface, ShaderKey, VaryingInterp};

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

/// Largest inline constant buffer accepted per stage, in dwords (4096 vec4s, well above what
/// GL guarantees for a default uniform block).
const MAX_CONSTANT_DWORDS: usize = 4096 * 4;

/// A bound uniform buffer range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UboBinding {
    pub res_id: u32,
    pub offset: u32,
    pub length: u32,
}

/// The bound index buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexBinding {
    pub res_id: u32,
    pub index_size: u32,
    pub offset: u32,
}

/// What the guest has bound for draws (handles and ranges, resolved at draw time).
#[derive(Debug, Default)]
pub(crate) struct DrawState {
    pub vertex_buffers: Vec<VertexBuffer>,
    pub index_buffer: Option<IndexBinding>,
    pub shaders: [u32; SHADER_TYPES],
    pub views: [Vec<u32>; SHADER_TYPES],
    pub samplers: [Vec<u32>; SHADER_TYPES],
    pub constants: [Vec<u32>; SHADER_TYPES],
    /// Bumped on every constant upload; programs remember the generation they saw.
    pub const_gen: [u64; SHADER_TYPES],
    pub ubos: [Vec<Option<UboBinding>>; SHADER_TYPES],
    /// Shader storage buffers (`BUFFER[n]`, binding n).
    pub ssbos: [Vec<Option<UboBinding>>; SHADER_TYPES],
    /// Shader images (`IMAGE[n]`, unit n).
    pub images: [Vec<Option<ImageView>>; SHADER_TYPES],
    /// Atomic counter buffers (`HWATOMIC[n]`, binding n), shared by every stage.
    pub atomics: Vec<Option<UboBinding>>,
    /// Attributes enabled on the VAO by the previous draw.
    pub enabled_attribs: u32,
    /// A conditional render is active on the GL context.
    pub render_condition: bool,
    /// Default outer/inner tessellation levels (used when no TCS is bound).
    pub tess_levels: ([f32; 4], [f32; 2]),
    /// Buffer textures made for buffer images, by (resource, format, offset, size).
    pub image_buffers: ImageBuffers,
    /// Stream-output targets and the transform feedback session.
    pub so: crate::streamout::StreamOut,
}

/// Buffer textures of buffer images, by (resource, format, byte offset, byte size).
pub(crate) type ImageBuffers = std::cell::RefCell<HashMap<(u32, u32, u32, u32), glow::Texture>>;

/// Buffer textures kept for buffer images before the cache is emptied.
const MAX_IMAGE_BUFFERS: usize = 64;

impl DrawState {
    /// Deletes the GL objects the bindings own (sub-context teardown).
    pub fn release(&mut self, gl: &glow::Context) {
        self.so.release(gl);
        for (_, tex) in self.image_buffers.get_mut().drain() {
            // SAFETY: the texture was created by `bind_image` and is owned by this cache.
            unsafe { gl.delete_texture(tex) };
        }
    }
}

fn set_slots(list: &mut Vec<u32>, start: u32, handles: &[u32], max: usize) -> VrendResult<()> {
    let start = start as usize;
    let end = start
        .checked_add(handles.len())
        .filter(|&e| e <= max)
        .ok_or_else(|| invalid(format!("slots {start}+{} beyond {max}", handles.len())))?;
    if list.len() < end {
        list.resize(end, 0);
    }
    list[start..end].copy_from_slice(handles);
    while list.last() == Some(&0) {
        list.pop();
    }
    Ok(())
}

impl DrawState {
    pub fn set_vertex_buffers(&mut self, vbs: impl Iterator<Item = VertexBuffer>) {
        self.vertex_buffers = vbs.take(limits::MAX_ATTRIBS).collect();
    }

    pub fn set_index_buffer(&mut self, ib: &SetIndexBuffer) -> VrendResult<()> {
        self.index_buffer = match (ib.handle, ib.layout) {
            (0, _) | (_, None) => None,
            (res_id, Some(l)) => {
                if !matches!(l.index_size, 1 | 2 | 4) {
                    return Err(invalid(format!("index size {}", l.index_size)));
                }
                Some(IndexBinding {
                    res_id,
                    index_size: l.index_size,
                    offset: l.offset,
                })
            }
        };
        Ok(())
    }

    pub fn set_views(&mut self, stage: ShaderType, start: u32, handles: &[u32]) -> VrendResult<()> {
        set_slots(
            &mut self.views[stage.index()],
            start,
            handles,
            limits::MAX_SHADER_SAMPLER_VIEWS,
        )
    }

    pub fn set_samplers(
        &mut self,
        stage: ShaderType,
        start: u32,
        handles: &[u32],
    ) -> VrendResult<()> {
        set_slots(
            &mut self.samplers[stage.index()],
            start,
            handles,
            limits::MAX_SAMPLERS,
        )
    }

    pub fn set_constants(
        &mut self,
        stage: ShaderType,
        index: u32,
        data: &[u32],
    ) -> VrendResult<()> {
        if index != 0 && data.is_empty() {
            // Mesa unbinds every constant buffer slot this way (and sends SET_UNIFORM_BUFFER
            // with handle 0 alongside).
            return Ok(());
        }
        if index != 0 {
            return Err(VrendError::Unsupported(format!(
                "inline constant buffer {index} (only buffer 0 is a uniform array)"
            )));
        }
        if data.len() > MAX_CONSTANT_DWORDS {
            return Err(invalid(format!("{} dwords of constants", data.len())));
        }
        let s = stage.index();
        self.constants[s].clear();
        self.constants[s].extend_from_slice(data);
        self.const_gen[s] = self.const_gen.iter().max().copied().unwrap_or(0) + 1;
        Ok(())
    }

    pub fn set_ssbos(&mut self, b: &SetShaderBuffers<'_>) -> VrendResult<()> {
        let list = &mut self.ssbos[b.shader_type.index()];
        let start = b.start_slot as usize;
        let end = start + b.buffers.len();
        if end > limits::MAX_SHADER_BUFFERS {
            return Err(invalid("shader buffer slots beyond 32"));
        }
        if list.len() < end {
            list.resize(end, None);
        }
        for (slot, x) in list[start..end].iter_mut().zip(b.buffers.iter()) {
            *slot = (x.handle != 0).then_some(UboBinding {
                res_id: x.handle,
                offset: x.offset,
                length: x.length,
            });
        }
        Ok(())
    }

    pub fn set_atomic_buffers(&mut self, a: &SetAtomicBuffers<'_>) -> VrendResult<()> {
        let start = a.start_slot as usize;
        let end = start
            .checked_add(a.buffers.len())
            .filter(|&e| e <= limits::MAX_HW_ATOMIC_BUFFERS)
            .ok_or_else(|| invalid("atomic buffer slots beyond the limit"))?;
        if self.atomics.len() < end {
            self.atomics.resize(end, None);
        }
        for (slot, x) in self.atomics[start..end].iter_mut().zip(a.buffers.iter()) {
            *slot = (x.handle != 0).then_some(UboBinding {
                res_id: x.handle,
                offset: x.offset,
                length: x.length,
            });
        }
        while self.atomics.last() == Some(&None) {
            self.atomics.pop();
        }
        Ok(())
    }

    pub fn set_images(&mut self, i: &SetShaderImages<'_>) -> VrendResult<()> {
        let list = &mut self.images[i.shader_type.index()];
        let start = i.start_slot as usize;
        let end = start + i.images.len();
        if end > limits::MAX_SHADER_IMAGES {
            return Err(invalid("image slots beyond 32"));
        }
        if list.len() < end {
            list.resize(end, None);
        }
        for (slot, x) in list[start..end].iter_mut().zip(i.images.iter()) {
            *slot = (x.handle != 0).then_some(x);
        }
        Ok(())
    }

    pub fn set_ubo(&mut self, u: &SetUniformBuffer) {
        let list = &mut self.ubos[u.shader_type.index()];
        let i = u.index as usize;
        if list.len() <= i {
            list.resize(i + 1, None);
        }
        list[i] = (u.handle != 0).then_some(UboBinding {
            res_id: u.handle,
            offset: u.offset,
            length: u.length,
        });
    }
}

/// Stages in pipeline order (compute excluded).
const GRAPHICS: [ShaderType; 5] = [
    ShaderType::Vertex,
    ShaderType::TessCtrl,
    ShaderType::TessEval,
    ShaderType::Geometry,
    ShaderType::Fragment,
];

fn buffer_of(res: &GlResource) -> VrendResult<glow::Buffer> {
    match res.storage {
        Storage::Buffer(b) => Ok(b),
        _ => Err(invalid(format!(
            "resource {} is not a host buffer",
            res.args.handle
        ))),
    }
}

/// Everything `draw_vbo` needs besides the sub-context.
pub(crate) struct DrawCtx<'a> {
    pub shared: &'a Shared,
    pub attached: &'a HashSet<u32>,
}

impl DrawCtx<'_> {
    fn resource<'r>(
        &self,
        resources: &'r HashMap<u32, GlResource>,
        id: u32,
    ) -> VrendResult<&'r GlResource> {
        if !self.attached.contains(&id) {
            return Err(invalid(format!("resource {id} is not attached")));
        }
        resources
            .get(&id)
            .ok_or_else(|| invalid(format!("unknown resource {id}")))
    }
}

/// Formats of the bound colour buffers: (no-alpha mask, signed-int mask, unsigned-int mask,
/// sRGB of buffer 0).
fn cbuf_info(sub: &SubContext) -> (u8, u8, u8, bool) {
    let mut no_alpha = 0u8;
    let mut sint = 0u8;
    let mut uint = 0u8;
    let mut srgb = false;
    for (i, cbuf) in sub.fb.cbufs.iter().enumerate().take(8) {
        let Some(s) = cbuf else { continue };
        let Some(f) = VirglFormat::from_raw(s.format) else {
            continue;
        };
        let info = f.info();
        if !info.channels.iter().any(|c| c.kind == ChannelKind::A) {
            no_alpha |= 1 << i;
        }
        if info.is_pure_integer() {
            let signed = info
                .channels
                .iter()
                .any(|c| c.ty == virgl_protocol::format::ChannelType::Sint);
            if signed {
                sint |= 1 << i;
            } else {
                uint |= 1 << i;
            }
        }
        if i == 0 {
            srgb = f.is_srgb();
        }
    }
    (no_alpha, sint, uint, srgb)
}

/// Whether the framebuffer's first attachment is a Y_0_TOP resource.
fn origin_upper_left(sub: &SubContext, resources: &HashMap<u32, GlResource>) -> bool {
    let first = sub
        .fb
        .cbufs
        .iter()
        .flatten()
        .next()
        .or(sub.fb.zsurf.as_ref());
    first
        .and_then(|s| resources.get(&s.res_id))
        .is_some_and(|r| r.y_0_top())
}

/// Height in pixels of the framebuffer's first attachment (what a GLES fragment shader needs
/// to turn its lower-left `gl_FragCoord` into an upper-left one).
fn fb_height(sub: &SubContext, resources: &HashMap<u32, GlResource>) -> f32 {
    let first = sub
        .fb
        .cbufs
        .iter()
        .flatten()
        .next()
        .or(sub.fb.zsurf.as_ref());
    first
        .and_then(|s| Some((resources.get(&s.res_id)?, s.level)))
        .map_or(0.0, |(r, level)| {
            (r.args.height >> level.min(31)).max(1) as f32
        })
}

fn next_interp(iface: &ShaderInterface) -> Vec<VaryingInterp> {
    iface
        .inputs
        .iter()
        .filter_map(|v| {
            Some(VaryingInterp {
                semantic: v.semantic,
                interpolation: v.interpolation?,
                location: v.location,
            })
        })
        .collect()
}

/// `DRAW_VBO`.
pub(crate) fn draw_vbo(dc: &DrawCtx<'_>, sub: &mut SubContext, info: &DrawVbo) -> VrendResult<()> {
    let host = &dc.shared.host;
    let gl = &host.gl;
    let resources = dc.shared.resources.borrow();
    let mode = glenum::prim_mode(info.mode)
        .ok_or_else(|| invalid(format!("primitive mode {}", info.mode)))?;
    if matches!(
        mode,
        glow::QUADS | glenum::GL_QUAD_STRIP | glenum::GL_POLYGON
    ) && host.core_profile
    {
        return Err(VrendError::Unsupported(
            "quads/polygons on a core profile host (not advertised in the caps)".into(),
        ));
    }
    if info.count_from_so != 0 && (info.indexed || info.indirect.is_some()) {
        return Err(invalid(
            "indexed or indirect draw counted from stream output",
        ));
    }

    // Resolve the bound state objects (Gallium's zeroed defaults where none is bound).
    let default_blend = state::default_blend();
    let default_dsa = state::default_dsa();
    let default_rs = state::default_rasterizer();
    let blend = match sub.objects.bound_object(ObjectType::Blend) {
        Some(Object::Blend(b)) => b,
        _ => &default_blend,
    };
    let dsa = match sub.objects.bound_object(ObjectType::Dsa) {
        Some(Object::Dsa(d)) => d,
        _ => &default_dsa,
    };
    let rs = match sub.objects.bound_object(ObjectType::Rasterizer) {
        Some(Object::Rasterizer(r)) => r,
        _ => &default_rs,
    };
    let ve = match sub.objects.bound_object(ObjectType::VertexElements) {
        Some(Object::VertexElements(v)) => Some(v),
        _ => None,
    };

    // Shaders of the present stages.
    let mut stages: Vec<(ShaderType, Rc<ShaderObj>)> = Vec::new();
    for st in GRAPHICS {
        let h = sub.draw.shaders[st.index()];
        if h == 0 {
            continue;
        }
        match sub.objects.get(ObjectType::Shader, h)? {
            Object::Shader(s) => stages.push((st, s.clone())),
            _ => return Err(invalid("shader handle of another type")),
        }
    }
    if !stages.iter().any(|(st, _)| *st == ShaderType::Vertex) {
        return Err(invalid("draw without a vertex shader"));
    }
    let last_vertex = stages
        .iter()
        .rev()
        .find(|(st, _)| *st != ShaderType::Fragment && *st != ShaderType::TessCtrl)
        .map(|(st, _)| *st)
        .unwrap_or(ShaderType::Vertex);
    let flip_y = sub.state.viewports.first().is_some_and(|vp| vp[1] < 0.0);
    let (no_alpha, sint, uint, srgb) = cbuf_info(sub);
    let upper_left = origin_upper_left(sub, &resources);
    let fb_h = fb_height(sub, &resources);

    // Keys from the last stage backwards: producers learn their consumer's interpolation.
    let target = sub.programs.target(host);
    let mut picked: Vec<(u64, Rc<ShaderObj>, Rc<ShaderInterface>)> = Vec::new();
    let mut consumer: Option<Rc<ShaderInterface>> = None;
    let mut dropped = Vec::new();
    for (i, (st, obj)) in stages.iter().enumerate().rev() {
        let mut key = ShaderKey {
            prev_stage: (i > 0).then(|| processor(stages[i - 1].0)),
            last_vertex_stage: Some(*st == last_vertex),
            next_interp: consumer.as_deref().map(next_interp).unwrap_or_default(),
            next_inputs: consumer
                .as_deref()
                .map(|c| c.inputs.iter().map(|v| v.semantic).collect())
                .unwrap_or_default(),
            ..Default::default()
        };
        if *st == last_vertex {
            key.flip_y = flip_y;
            // The stage feeding the fragment shader declares flat colours too: GLSL ES (and
            // desktop GLSL before 4.40) links only when both sides' qualifiers match.
            key.flatshade = rs.flags.contains(RasterizerFlags::FLATSHADE);
            key.clip_plane_enable = rs.clip_plane_enable;
            // Always, not only while targets are bound (upstream compiles them into the
            // shader itself): one program serves captures, the draws around them and draws
            // counted from them, so binding targets does not switch programs.
            key.stream_output = obj.so.clone();
        }
        key.gl_clamp = crate::views::gl_clamp_masks(
            sub.draw.samplers[st.index()]
                .iter()
                .enumerate()
                .filter_map(
                    |(i, &h)| match sub.objects.get(ObjectType::SamplerState, h) {
                        Ok(Object::SamplerState(o)) if h != 0 => Some((i, &**o)),
                        _ => None,
                    },
                ),
        );
        match st {
            ShaderType::Fragment => {
                let f = rs.flags;
                key.flatshade = f.contains(RasterizerFlags::FLATSHADE);
                key.color_two_side = f.contains(RasterizerFlags::LIGHT_TWOSIDE);
                if dsa.alpha_enabled {
                    let func = AlphaFunc::from_pipe(u32::from(dsa.alpha_func))
                        .unwrap_or(AlphaFunc::Always);
                    key.alpha_test = Some((func, dsa.alpha_ref));
                }
                if f.contains(RasterizerFlags::POINT_QUAD_RASTERIZATION) {
                    key.sprite_coord_enable = rs.sprite_coord_enable;
                }
                // Gallium's upper-left point origin is GL's lower-left here (y runs the other
                // way) unless the draw is Y-flipped.
                let gallium_upper_left = !f.contains(RasterizerFlags::SPRITE_COORD_MODE);
                key.sprite_coord_upper_left = gallium_upper_left == flip_y;
                // Gallium's window y = 0 is the first row in memory, which is GL's window
                // y = 0 of a normal FBO: GL's default (lower-left) gl_FragCoord is Gallium's
                // upper-left one, unless the framebuffer is a Y_0_TOP resource (stored
                // bottom-up). Upstream's `lower_left_origin` key does the same.
                key.fragcoord_origin_flip = !upper_left;
                key.cbuf_signed_int = sint;
                key.cbuf_unsigned_int = uint;
                key.nr_cbufs = sub.fb.cbufs.len() as u8;
            }
            ShaderType::TessEval => {
                key.prev_patch_array = stages
                    .iter()
                    .find(|(s, _)| *s == ShaderType::TessCtrl)
                    .and_then(|(_, tcs)| crate::tgsi::glsl::tcs_patch_array(&tcs.tgsi));
            }
            ShaderType::Vertex => {
                if let Some(ve) = ve {
                    let (s, u) = ve.int_masks();
                    key.attrib_signed_int = s;
                    key.attrib_unsigned_int = u;
                }
            }
            _ => {}
        }
        let (id, iface) = obj.variant(
            host,
            target,
            &key,
            &sub.programs.next_variant_id,
            &mut dropped,
        )?;
        consumer = Some(iface.clone());
        picked.push((id, obj.clone(), iface));
    }
    picked.reverse();
    sub.programs.forget(gl, &dropped);
    let shader_refs: Vec<(u64, &ShaderObj, Rc<ShaderInterface>)> = picked
        .iter()
        .map(|(id, obj, iface)| (*id, obj.as_ref(), iface.clone()))
        .collect();
    let program = sub.programs.get_or_link(host, &shader_refs)?;
    let has_so = program.has_so;

    // The GL calls of the draw path share one justification, referred to as "see
    // `draw_vbo`": the sub-context's GL context is current; every object handed to GL is live
    // (resources are looked up in the shared table, views and samplers in the object table);
    // offsets and sizes were checked against the resources.
    if sub.shadow.program != Some(program.program) {
        // SAFETY: see `draw_vbo`.
        unsafe { gl.use_program(Some(program.program)) };
        sub.shadow.program = Some(program.program);
    }

    bind_resources(
        dc,
        &resources,
        program,
        &sub.draw,
        &sub.objects,
        &sub.state.clip_planes,
    )?;
    if let Some(loc) = program.stages.iter().find_map(|b| b.fb_height.as_ref()) {
        // SAFETY: see `draw_vbo`; a float uniform of the bound program.
        unsafe { gl.uniform_1_f32(Some(loc), fb_h) };
    }

    // Fixed-function state.
    let fb_samples = sub
        .fb
        .cbufs
        .iter()
        .flatten()
        .chain(sub.fb.zsurf.iter())
        .filter_map(|s| resources.get(&s.res_id))
        .map(|r| r.args.nr_samples)
        .max()
        .unwrap_or(0);
    let default_vp = [[0.0f32; 6]];
    let viewports: &[[f32; 6]] = if sub.state.viewports.is_empty() {
        &default_vp
    } else {
        &sub.state.viewports
    };
    state::apply(
        host,
        &mut sub.shadow,
        &StateInputs {
            fixed: FixedState {
                blend,
                dsa,
                rs,
                no_alpha_cbufs: no_alpha,
                origin_upper_left: upper_left,
                nr_cbufs: sub.fb.cbufs.len(),
            },
            viewports,
            scissors: &sub.state.scissors,
            stencil_ref: sub.state.stencil_ref,
            blend_color: sub.state.blend_color,
            sample_mask: sub.state.sample_mask,
            min_samples: sub.state.min_samples,
            fb_samples,
        },
    )?;
    state::apply_srgb(host, &mut sub.shadow, srgb);

    // SAFETY: see `draw_vbo`.
    unsafe { gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, sub.fbo) };

    // Vertex array.
    if sub.vao.is_none() {
        // SAFETY: see `draw_vbo`; the VAO belongs to this sub-context's GL context.
        sub.vao = Some(unsafe { gl.create_vertex_array() }.map_err(VrendError::HostGlMissing)?);
    }
    // SAFETY: see `draw_vbo`.
    unsafe { gl.bind_vertex_array(sub.vao) };
    let mut enabled = 0;
    if let Some(ve) = ve {
        ve.apply_formats(gl, sub.draw.enabled_attribs);
        enabled = ve.elements.len() as u32;
        for (i, e) in ve.elements.iter().enumerate() {
            let vb = sub
                .draw
                .vertex_buffers
                .get(e.vertex_buffer_index as usize)
                .filter(|vb| vb.handle != 0);
            let Some(vb) = vb else {
                // SAFETY: see `draw_vbo`; a constant zero instead of a missing buffer.
                unsafe {
                    gl.disable_vertex_attrib_array(i as u32);
                    gl.vertex_attrib_4_f32(i as u32, 0.0, 0.0, 0.0, 0.0);
                }
                continue;
            };
            let res = dc.resource(&resources, vb.handle)?;
            let buf = buffer_of(res)?;
            let offset = u64::from(vb.offset) + u64::from(e.src_offset);
            let offset = i32::try_from(offset)
                .map_err(|_| invalid(format!("vertex buffer offset {offset}")))?;
            let stride = i32::try_from(vb.stride)
                .ok()
                .filter(|&s| s <= 2048)
                .ok_or_else(|| invalid(format!("vertex stride {}", vb.stride)))?;
            // SAFETY: see `draw_vbo`; GL bounds-checks reads within the buffer (robust access) or
            // reads inside it for valid indices.
            unsafe { gl.bind_vertex_buffer(i as u32, Some(buf), offset, stride) };
        }
    } else {
        for i in 0..sub.draw.enabled_attribs {
            // SAFETY: see `draw_vbo`.
            unsafe { gl.disable_vertex_attrib_array(i) };
        }
    }
    sub.draw.enabled_attribs = enabled;

    if mode == glow::PATCHES {
        let n = info.tess.map_or(3, |t| t.vertices_per_patch);
        if n == 0 || n > 32 {
            return Err(invalid(format!("{n} vertices per patch")));
        }
        // SAFETY: see `draw_vbo`; the level arrays have the 4 and 2 floats GL reads.
        unsafe {
            gl.patch_parameter_i32(glow::PATCH_VERTICES, n as i32);
            if let Some(set) = host.extra.patch_parameter_fv {
                let (outer, inner) = &sub.draw.tess_levels;
                set(glow::PATCH_DEFAULT_OUTER_LEVEL, outer.as_ptr());
                set(glow::PATCH_DEFAULT_INNER_LEVEL, inner.as_ptr());
            }
        }
    }

    let instances = info.instance_count.max(1) as i32;
    let base_instance_ok = info.start_instance == 0 || host.features.has(Feature::BaseInstance);
    if !base_instance_ok {
        return Err(VrendError::Unsupported("base instance".into()));
    }
    let index = if info.indexed {
        let ib = sub
            .draw
            .index_buffer
            .ok_or_else(|| invalid("indexed draw without an index buffer"))?;
        let res = dc.resource(&resources, ib.res_id)?;
        let buf = buffer_of(res)?;
        // SAFETY: see `draw_vbo`; ELEMENT_ARRAY_BUFFER is VAO state of the bound VAO.
        unsafe { gl.bind_buffer(glow::ELEMENT_ARRAY_BUFFER, Some(buf)) };
        let ty = match ib.index_size {
            1 => glow::UNSIGNED_BYTE,
            2 => glow::UNSIGNED_SHORT,
            _ => glow::UNSIGNED_INT,
        };
        state::apply_restart(
            host,
            &mut sub.shadow,
            info.primitive_restart.then_some(info.restart_index),
            ib.index_size,
        )?;
        Some((ib, ty, res.args.width))
    } else {
        state::apply_restart(host, &mut sub.shadow, None, 4)?;
        None
    };

    // Stream output: capture into the bound targets while this draw runs.
    let last_tgsi = stages
        .iter()
        .rev()
        .find(|(st, _)| *st != ShaderType::Fragment && *st != ShaderType::TessCtrl)
        .map(|(_, o)| &o.tgsi);
    let prim = crate::streamout::capture_primitive(last_tgsi, mode);
    let auto = match info.count_from_so {
        0 => None,
        size => Some(sub.draw.so.draw_auto_source(gl, size)?),
    };
    sub.draw
        .so
        .before_draw(gl, &resources, dc.attached, has_so, prim)?;
    let draw_once = |dc: &DrawCtx<'_>| match auto {
        Some(tfo) => draw_auto(dc, mode, tfo, instances),
        None => issue_draw(dc, &resources, info, mode, index, instances),
    };
    let result = match state::polygon_passes(host.is_gles(), rs, prim, has_so) {
        None => draw_once(dc),
        Some(passes) => passes.into_iter().try_for_each(|pass| {
            sub.shadow.polygon_pass(host, pass);
            draw_once(dc)
        }),
    };
    sub.draw.so.after_draw(gl);
    result
}

/// A draw of what a stream output capture wrote (`count_from_so`).
fn draw_auto(
    dc: &DrawCtx<'_>,
    mode: u32,
    tfo: glow::TransformFeedback,
    instances: i32,
) -> VrendResult<()> {
    let host = &dc.shared.host;
    let draw = host
        .extra
        .draw_transform_feedback_instanced
        .ok_or_else(|| VrendError::Unsupported("draws counted from stream output".into()))?;
    // SAFETY: see `draw_vbo`; a transform feedback object of this context whose capture has
    // ended.
    unsafe { draw(mode, tfo.0.get(), instances) };
    host.check("draw counted from stream output")
}

/// The GL draw call of `draw_vbo` (state, program and buffers are in place).
fn issue_draw(
    dc: &DrawCtx<'_>,
    resources: &HashMap<u32, GlResource>,
    info: &DrawVbo,
    mode: u32,
    index: Option<(IndexBinding, u32, u32)>,
    instances: i32,
) -> VrendResult<()> {
    let host = &dc.shared.host;
    let gl = &host.gl;
    if let Some(ind) = info.indirect {
        return draw_indirect(dc, resources, mode, index.map(|i| i.1), &ind);
    }
    if info.count == 0 {
        return Ok(());
    }
    match index {
        Some((ib, ty, size)) => {
            // Mesa's virgl driver folds the draw's start into the index buffer offset; the
            // start field of indexed draws is informational (upstream ignores it too).
            let first = u64::from(ib.offset);
            let end = first + u64::from(info.count) * u64::from(ib.index_size);
            if end > u64::from(size) {
                return Err(invalid(format!(
                    "{} indices at byte {first} beyond the {size}-byte index buffer",
                    info.count
                )));
            }
            // SAFETY: see `draw_vbo`; the index range lies inside the index buffer.
            unsafe {
                if info.start_instance != 0 {
                    gl.draw_elements_instanced_base_vertex_base_instance(
                        mode,
                        info.count as i32,
                        ty,
                        first as i32,
                        instances,
                        info.index_bias,
                        info.start_instance,
                    );
                } else {
                    gl.draw_elements_instanced_base_vertex(
                        mode,
                        info.count as i32,
                        ty,
                        first as i32,
                        instances,
                        info.index_bias,
                    );
                }
            }
        }
        None => {
            let start = i32::try_from(info.start)
                .map_err(|_| invalid(format!("first vertex {}", info.start)))?;
            // SAFETY: see `draw_vbo`.
            unsafe {
                if info.start_instance != 0 {
                    gl.draw_arrays_instanced_base_instance(
                        mode,
                        start,
                        info.count as i32,
                        instances,
                        info.start_instance,
                    );
                } else {
                    gl.draw_arrays_instanced(mode, start, info.count as i32, instances);
                }
            }
        }
    }
    host.check("draw")
}

/// Binds what the program's stages read: constant buffer 0, clip planes, uniform buffers,
/// sampler views and states, shader buffers and images.
pub(crate) fn bind_resources(
    dc: &DrawCtx<'_>,
    resources: &HashMap<u32, GlResource>,
    program: &LinkedProgram,
    draw: &DrawState,
    objects: &ObjectTable,
    clip_planes: &[[f32; 4]; 8],
) -> VrendResult<()> {
    let host = &dc.shared.host;
    let gl = &host.gl;
    for b in &program.stages {
        let Some(st) = b.stage else { continue };
        let s = st.index();
        if let Some((loc, vec4s)) = &b.const0 {
            if b.uploaded.get() != draw.const_gen[s] {
                let data = &draw.constants[s];
                let n = (data.len() / 4).min(*vec4s as usize) * 4;
                if n > 0 {
                    // SAFETY: see `draw_vbo`; `n` whole vec4s, at most the declared length.
                    unsafe { gl.uniform_4_u32_slice(Some(loc), &data[..n]) };
                }
                b.uploaded.set(draw.const_gen[s]);
            }
        }
        if let Some(loc) = &b.clip_planes {
            let planes: Vec<f32> = clip_planes.iter().flatten().copied().collect();
            // SAFETY: see `draw_vbo`; 8 vec4s, the declared array length.
            unsafe { gl.uniform_4_f32_slice(Some(loc), &planes) };
        }
        for &(index, binding, vec4s) in &b.ubos {
            let ubo = draw.ubos[s].get(index as usize).copied().flatten();
            let Some(u) = ubo else {
                // SAFETY: see `draw_vbo`.
                unsafe { gl.bind_buffer_base(glow::UNIFORM_BUFFER, binding, None) };
                continue;
            };
            let res = dc.resource(resources, u.res_id)?;
            let buf = buffer_of(res)?;
            let end = u64::from(u.offset) + u64::from(u.length);
            if end > u64::from(res.args.width) || u.length == 0 {
                return Err(invalid(format!(
                    "uniform buffer range {}+{} beyond {} bytes",
                    u.offset, u.length, res.args.width
                )));
            }
            let _ = vec4s;
            // SAFETY: see `draw_vbo`; the range lies inside the buffer.
            unsafe {
                gl.bind_buffer_range(
                    glow::UNIFORM_BUFFER,
                    binding,
                    Some(buf),
                    u.offset as i32,
                    u.length as i32,
                )
            };
        }
        for &(index, unit) in &b.samplers {
            let view = draw.views[s].get(index as usize).copied().unwrap_or(0);
            let mut border = crate::views::BorderMode::IDENTITY;
            match (view, objects.get(ObjectType::SamplerView, view)) {
                (0, _) | (_, Err(_)) => {
                    // No view: GL samples an incomplete texture (zeros), as Gallium does.
                    // SAFETY: see `draw_vbo`.
                    unsafe {
                        gl.active_texture(glow::TEXTURE0 + unit);
                        gl.bind_texture(glow::TEXTURE_2D, None);
                    }
                }
                (_, Ok(Object::SamplerView(v))) => {
                    if v.borrows_resource() {
                        dc.resource(resources, v.res_id)?;
                    }
                    if b.shadow_swizzles.iter().any(|x| x.0 == index) {
                        v.bind_shadow(gl, unit);
                    } else {
                        v.bind(gl, unit);
                    }
                    border = v.border;
                }
                _ => return Err(invalid("sampler view handle of another type")),
            }
            let smp = draw.samplers[s].get(index as usize).copied().unwrap_or(0);
            match objects.get(ObjectType::SamplerState, smp) {
                Ok(Object::SamplerState(o)) if smp != 0 => o.bind(host, unit, border),
                // SAFETY: see `draw_vbo`.
                _ => unsafe { gl.bind_sampler(unit, None) },
            }
        }
        for (index, mask_loc, add_loc) in &b.shadow_swizzles {
            let view = draw.views[s].get(*index as usize).copied().unwrap_or(0);
            let swizzle = match objects.get(ObjectType::SamplerView, view) {
                Ok(Object::SamplerView(v)) if view != 0 => v.swizzle,
                _ => [swz::X, swz::Y, swz::Z, swz::W],
            };
            let (mask, add) = shadow_swizzle(swizzle);
            // SAFETY: see `draw_vbo`; vec4 uniforms of the bound program.
            unsafe {
                gl.uniform_4_f32_slice(Some(mask_loc), &mask);
                gl.uniform_4_f32_slice(Some(add_loc), &add);
            }
        }
        for &index in &b.storage {
            let binding = draw.ssbos[s].get(index as usize).copied().flatten();
            // SAFETY: see `draw_vbo`; ranges are checked against the buffers.
            unsafe {
                match binding {
                    None => gl.bind_buffer_base(glow::SHADER_STORAGE_BUFFER, index, None),
                    Some(u) => {
                        let res = dc.resource(resources, u.res_id)?;
                        let buf = buffer_of(res)?;
                        let end = u64::from(u.offset) + u64::from(u.length);
                        if end > u64::from(res.args.width) {
                            return Err(invalid("shader buffer range beyond its resource"));
                        }
                        gl.bind_buffer_range(
                            glow::SHADER_STORAGE_BUFFER,
                            index,
                            Some(buf),
                            u.offset as i32,
                            u.length as i32,
                        );
                    }
                }
            }
        }
        for &index in &b.images {
            let view = draw.images[s].get(index as usize).copied().flatten();
            bind_image(dc, resources, index, view.as_ref(), &draw.image_buffers)?;
        }
        for &index in &b.atomics {
            let binding = draw.atomics.get(index as usize).copied().flatten();
            // SAFETY: see `draw_vbo`; ranges are checked against the buffers.
            unsafe {
                match binding {
                    None => gl.bind_buffer_base(glow::ATOMIC_COUNTER_BUFFER, index, None),
                    Some(u) => {
                        let res = dc.resource(resources, u.res_id)?;
                        let buf = buffer_of(res)?;
                        let end = u64::from(u.offset) + u64::from(u.length);
                        if end > u64::from(res.args.width) || u.length == 0 {
                            return Err(invalid("atomic buffer range beyond its resource"));
                        }
                        gl.bind_buffer_range(
                            glow::ATOMIC_COUNTER_BUFFER,
                            index,
                            Some(buf),
                            u.offset as i32,
                            u.length as i32,
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// The (mask, add) a shadow comparison result `r` is mapped with, `vec4(r) * mask + add`, so
/// that it reads as the view's swizzle of `(r, r, r, r)` would (ZERO and ONE constants).
fn shadow_swizzle(swizzle: [u8; 4]) -> ([f32; 4], [f32; 4]) {
    let mut mask = [1.0; 4];
    let mut add = [0.0; 4];
    for (c, &s) in swizzle.iter().enumerate() {
        if s == swz::ZERO || s == swz::ONE {
            mask[c] = 0.0;
        }
        if s == swz::ONE {
            add[c] = 1.0;
        }
    }
    (mask, add)
}

/// Binds image unit `unit` to a shader image view (or unbinds it).
fn bind_image(
    dc: &DrawCtx<'_>,
    resources: &HashMap<u32, GlResource>,
    unit: u32,
    view: Option<&ImageView>,
    buffers: &ImageBuffers,
) -> VrendResult<()> {
    let host = &dc.shared.host;
    let gl = &host.gl;
    let Some(v) = view else {
        // SAFETY: unbinding an image unit below the host's count (TGSI index, validated by
        // the translator against the guest's limits).
        unsafe { gl.bind_image_texture(unit, None, 0, false, 0, glow::READ_ONLY, glow::R8) };
        return Ok(());
    };
    let res = dc.resource(resources, v.handle)?;
    let f = host
        .formats
        .get(v.format)
        .ok_or_else(|| invalid(format!("image format {}", v.format)))?;
    let access = match v.access & 3 {
        1 => glow::READ_ONLY,
        2 => glow::WRITE_ONLY,
        _ => glow::READ_WRITE,
    };
    if let Storage::Buffer(buf) = res.storage {
        // Buffer images: `layer_offset`/`level_size` are the byte offset and size.
        let (offset, size) = (v.layer_offset, v.level_size);
        if size == 0 || u64::from(offset) + u64::from(size) > u64::from(res.args.width) {
            return Err(invalid("buffer image range beyond its resource"));
        }
        let key = (v.handle, v.format, offset, size);
        let mut cache = buffers.borrow_mut();
        let tex = match cache.get(&key) {
            Some(&t) => t,
            None => {
                if cache.len() >= MAX_IMAGE_BUFFERS {
                    for (_, t) in cache.drain() {
                        // SAFETY: cached buffer textures are re-bound before every use.
                        unsafe { gl.delete_texture(t) };
                    }
                }
                // SAFETY: current context; a new buffer texture over a checked range.
                let t = unsafe {
                    let t = gl.create_texture().map_err(VrendError::HostGlMissing)?;
                    gl.bind_texture(glow::TEXTURE_BUFFER, Some(t));
                    match host.extra.tex_buffer_range {
                        Some(range) => range(
                            glow::TEXTURE_BUFFER,
                            f.entry.internal,
                            buf.0.get(),
                            offset as isize,
                            size as isize,
                        ),
                        None => gl.tex_buffer(glow::TEXTURE_BUFFER, f.entry.internal, Some(buf)),
                    }
                    gl.bind_texture(glow::TEXTURE_BUFFER, None);
                    t
                };
                cache.insert(key, t);
                t
            }
        };
        // SAFETY: current context; a live buffer texture.
        unsafe { gl.bind_image_texture(unit, Some(tex), 0, false, 0, access, f.entry.internal) };
        return Ok(());
    }
    let Storage::Texture { tex, .. } = res.storage else {
        return Err(invalid("image of a staging resource"));
    };
    let level = v.level_size & 0xff;
    if level > res.args.last_level {
        return Err(invalid(format!("image level {level}")));
    }
    let (first, last) = (v.layer_offset & 0xffff, v.layer_offset >> 16);
    let (_, _, layers) = res.level_size(level);
    if first > last || last >= layers.max(1) {
        return Err(invalid(format!(
            "image layers {first}..={last} of {layers}"
        )));
    }
    let layered = layers > 1 && first != last;
    // SAFETY: current context; level and layers were checked against the texture.
    unsafe {
        gl.bind_image_texture(
            unit,
            Some(tex),
            level as i32,
            layered,
            if layered { 0 } else { first as i32 },
            access,
            f.entry.internal,
        )
    };
    Ok(())
}

/// `LAUNCH_GRID`: runs the bound compute shader (block size comes from its TGSI properties).
pub(crate) fn launch_grid(
    dc: &DrawCtx<'_>,
    sub: &mut SubContext,
    grid: &virgl_protocol::command::LaunchGrid,
) -> VrendResult<()> {
    let host = &dc.shared.host;
    let gl = &host.gl;
    if !host.features.has(Feature::ComputeShader) {
        return Err(VrendError::Unsupported("compute shaders".into()));
    }
    let h = sub.draw.shaders[ShaderType::Compute.index()];
    let obj = match sub.objects.get(ObjectType::Shader, h) {
        Ok(Object::Shader(s)) if h != 0 => s.clone(),
        _ => return Err(invalid("LAUNCH_GRID without a compute shader")),
    };
    let key = ShaderKey {
        last_vertex_stage: Some(false),
        shared_mem_bytes: obj.req_local_mem,
        ..Default::default()
    };
    let mut dropped = Vec::new();
    let (id, iface) = obj.variant(
        host,
        sub.programs.target(host),
        &key,
        &sub.programs.next_variant_id,
        &mut dropped,
    )?;
    sub.programs.forget(gl, &dropped);
    let program = sub
        .programs
        .get_or_link(host, &[(id, obj.as_ref(), iface)])?;
    // SAFETY: the sub-context's GL context is current; the program is live.
    unsafe { gl.use_program(Some(program.program)) };
    sub.shadow.program = Some(program.program);
    let resources = dc.shared.resources.borrow();
    bind_resources(
        dc,
        &resources,
        program,
        &sub.draw,
        &sub.objects,
        &sub.state.clip_planes,
    )?;
    if grid.indirect_handle != 0 {
        let res = dc.resource(&resources, grid.indirect_handle)?;
        let buf = buffer_of(res)?;
        if u64::from(grid.indirect_offset) + 12 > u64::from(res.args.width)
            || !grid.indirect_offset.is_multiple_of(4)
        {
            return Err(invalid("indirect dispatch record beyond its buffer"));
        }
        // SAFETY: the 3-dword record lies inside the bound buffer.
        unsafe {
            gl.bind_buffer(glow::DISPATCH_INDIRECT_BUFFER, Some(buf));
            gl.dispatch_compute_indirect(grid.indirect_offset as i32);
            gl.bind_buffer(glow::DISPATCH_INDIRECT_BUFFER, None);
        }
    } else {
        let [x, y, z] = grid.grid;
        // SAFETY: GL checks the counts against MAX_COMPUTE_WORK_GROUP_COUNT (error below).
        unsafe { gl.dispatch_compute(x, y, z) };
    }
    host.check("launch grid")
}

fn draw_indirect(
    dc: &DrawCtx<'_>,
    resources: &HashMap<u32, GlResource>,
    mode: u32,
    index_type: Option<u32>,
    ind: &virgl_protocol::command::DrawIndirect,
) -> VrendResult<()> {
    let host = &dc.shared.host;
    let gl = &host.gl;
    if !host.features.has(Feature::IndirectDraw) {
        return Err(VrendError::Unsupported("indirect draws".into()));
    }
    let res = dc.resource(resources, ind.handle)?;
    let buf = buffer_of(res)?;
    // DrawArraysIndirectCommand is 4 dwords, DrawElementsIndirectCommand 5.
    let cmd_size: u64 = if index_type.is_some() { 20 } else { 16 };
    let count = u64::from(ind.draw_count.max(1));
    let stride = if ind.stride == 0 {
        cmd_size
    } else {
        u64::from(ind.stride)
    };
    let end = u64::from(ind.offset) + (count - 1) * stride + cmd_size;
    if end > u64::from(res.args.width) || !ind.offset.is_multiple_of(4) || !stride.is_multiple_of(4)
    {
        return Err(invalid("indirect draw records beyond the buffer"));
    }
    let offset = ind.offset as usize as *const std::ffi::c_void;
    // SAFETY: current context; the indirect buffer is bound and the records lie inside it;
    // pointer arguments are byte offsets into the bound DRAW_INDIRECT/PARAMETER buffers.
    unsafe {
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, Some(buf));
        if ind.draw_count_handle != 0 {
            let cres = dc.resource(resources, ind.draw_count_handle)?;
            let cbuf = buffer_of(cres)?;
            if u64::from(ind.draw_count_offset) + 4 > u64::from(cres.args.width) {
                return Err(invalid("indirect draw count beyond its buffer"));
            }
            gl.bind_buffer(glow::PARAMETER_BUFFER, Some(cbuf));
            let off = ind.draw_count_offset as isize;
            match index_type {
                Some(ty) => {
                    let f = host
                        .extra
                        .multi_draw_elements_indirect_count
                        .ok_or_else(|| VrendError::Unsupported("indirect draw counts".into()))?;
                    f(mode, ty, offset, off, ind.draw_count as i32, stride as i32);
                }
                None => {
                    let f = host
                        .extra
                        .multi_draw_arrays_indirect_count
                        .ok_or_else(|| VrendError::Unsupported("indirect draw counts".into()))?;
                    f(mode, offset, off, ind.draw_count as i32, stride as i32);
                }
            }
        } else if ind.draw_count > 1 {
            match index_type {
                Some(ty) => {
                    let f = host
                        .extra
                        .multi_draw_elements_indirect
                        .ok_or_else(|| VrendError::Unsupported("multi-draw indirect".into()))?;
                    f(mode, ty, offset, ind.draw_count as i32, stride as i32);
                }
                None => {
                    let f = host
                        .extra
                        .multi_draw_arrays_indirect
                        .ok_or_else(|| VrendError::Unsupported("multi-draw indirect".into()))?;
                    f(mode, offset, ind.draw_count as i32, stride as i32);
                }
            }
        } else {
            match index_type {
                Some(ty) => gl.draw_elements_indirect_offset(mode, ty, ind.offset as i32),
                None => gl.draw_arrays_indirect_offset(mode, ind.offset as i32),
            }
        }
        gl.bind_buffer(glow::DRAW_INDIRECT_BUFFER, None);
    }
    host.check("indirect draw")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadow_swizzle_masks() {
        // GL_DEPTH_TEXTURE_MODE LUMINANCE as Mesa sends it: (X, X, X, ONE).
        assert_eq!(
            shadow_swizzle([swz::X, swz::X, swz::X, swz::ONE]),
            ([1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0])
        );
        assert_eq!(
            shadow_swizzle([swz::X, swz::ZERO, swz::ZERO, swz::ONE]),
            ([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0])
        );
    }

    #[test]
    fn slots_grow_and_trim() {
        let mut l = Vec::new();
        set_slots(&mut l, 2, &[5, 6], 8).unwrap();
        assert_eq!(l, vec![0, 0, 5, 6]);
        set_slots(&mut l, 3, &[0], 8).unwrap();
        assert_eq!(l, vec![0, 0, 5]);
        assert!(set_slots(&mut l, 7, &[1, 2], 8).is_err());
        assert!(set_slots(&mut l, u32::MAX, &[1], 8).is_err());
    }
}
