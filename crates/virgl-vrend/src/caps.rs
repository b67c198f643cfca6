//! Filling `virgl_caps_v1` / `virgl_caps_v2` from what the host GL really offers.
//!
//! The rules follow upstream virglrenderer's `vrend_renderer_fill_caps*` so that the same host
//! yields the same guest-visible driver (on llvmpipe: GL 4.3 compatibility and GLES 3.2 in the
//! guest): the GLSL level derived from the context version and features, the primitive mask,
//! the bool set, the limits queried from GL, and the format masks from the probed table.
//! Caps are computed once at start-up ([`compute_caps`]) and served from memory afterwards.

use glow::HasContext;
use virgl_protocol::caps::{
    CapsBoolSet1, CapsV1, CapsV2, FormatMask, VirglCaps, VirglCapsV2, CAPSET_VIRGL, CAPSET_VIRGL2,
};

use crate::features::Feature as F;
use crate::formats::{bind, vf};
use crate::host::HostGl;

/// Highest capset versions served (upstream `VREND_CAPSET_VIRGL{,2}_MAX_VERSION`).
pub const CAPSET_VIRGL_MAX_VERSION: u32 = 1;
pub const CAPSET_VIRGL2_MAX_VERSION: u32 = 2;

/// The `host_feature_check_version` upstream 1.3.0 reports.
pub const HOST_FEATURE_CHECK_VERSION: u32 = 23;

/// `enum pipe_prim_type` bits.
mod prim {
    pub const POINTS: u32 = 0;
    pub const LINES: u32 = 1;
    pub const LINE_LOOP: u32 = 2;
    pub const LINE_STRIP: u32 = 3;
    pub const TRIANGLES: u32 = 4;
    pub const TRIANGLE_STRIP: u32 = 5;
    pub const TRIANGLE_FAN: u32 = 6;
    pub const QUADS: u32 = 7;
    pub const QUAD_STRIP: u32 = 8;
    pub const POLYGON: u32 = 9;
    pub const LINES_ADJACENCY: u32 = 10;
    pub const LINE_STRIP_ADJACENCY: u32 = 11;
    pub const TRIANGLES_ADJACENCY: u32 = 12;
    pub const TRIANGLE_STRIP_ADJACENCY: u32 = 13;
    pub const PATCHES: u32 = 14;
}

/// `enum pipe_shader_type` indices of per-stage arrays.
mod stage {
    pub const VERTEX: usize = 0;
    pub const FRAGMENT: usize = 1;
    pub const GEOMETRY: usize = 2;
    pub const TESS_CTRL: usize = 3;
    pub const TESS_EVAL: usize = 4;
    pub const COMPUTE: usize = 5;
}

const PIPE_MAX_SHADER_BUFFERS: u32 = 32;
const PIPE_MAX_SHADER_IMAGES: u32 = 32;
const PIPE_MAX_SAMPLERS: u32 = 32;
const MAX_COMBINED_SSBO_BINDING_POINTS: u32 = 32;

// GL enums glow does not define.
const GL_MAX_PROGRAM_TEXTURE_GATHER_COMPONENTS_ARB: u32 = 0x8F9F;
const GL_SMOOTH_POINT_SIZE_RANGE: u32 = 0x0B12;
const GL_SMOOTH_LINE_WIDTH_RANGE: u32 = 0x0B22;
const GL_MAX_TEXTURE_MAX_ANISOTROPY: u32 = 0x84FF;

struct Query<'a> {
    gl: &'a glow::Context,
}

impl Query<'_> {
    fn i(&self, pname: u32) -> i32 {
        // SAFETY: a state query on the current root context; unknown enums only set an error,
        // which `compute_caps` drains afterwards.
        unsafe { self.gl.get_parameter_i32(pname) }
    }
    fn u(&self, pname: u32) -> u32 {
        u32::try_from(self.i(pname)).unwrap_or(0)
    }
    fn indexed(&self, pname: u32, index: u32) -> u32 {
        // SAFETY: as in `i`.
        u32::try_from(unsafe { self.gl.get_parameter_indexed_i32(pname, index) }).unwrap_or(0)
    }
    fn f2(&self, pname: u32) -> [f32; 2] {
        let mut out = [0.0f32; 2];
        // SAFETY: as in `i`; the queried enums all return two floats.
        unsafe { self.gl.get_parameter_f32_slice(pname, &mut out) };
        out
    }
    fn f(&self, pname: u32) -> f32 {
        // SAFETY: as in `i`.
        unsafe { self.gl.get_parameter_f32(pname) }
    }
}

fn set(mask: &mut FormatMask, format: u32) {
    if let Some(word) = mask.bitmask.get_mut((format / 32) as usize) {
        *word |= 1 << (format % 32);
    }
}

/// The guest's GLSL feature level, upstream's way (including its deliberate "lies" that make
/// gallium enable GS/tessellation/compute in the guest).
fn glsl_level(host: &HostGl) -> u32 {
    let (gl_ver, gles_ver) = (host.gl_ver, host.gles_ver);
    let mut level = 0;
    if gles_ver > 0 {
        level = match gles_ver {
            31.. => 310,
            30 => 130,
            _ => 120,
        };
    }
    if gl_ver > 0 {
        level = match gl_ver {
            31 => 140,
            32 => 150,
            33.. => 10 * gl_ver,
            _ => 130,
        };
    }
    let f = &host.features;
    if level < 400 && f.has(F::Tessellation) && f.has(F::GeometryShader) && f.has(F::GpuShader5) {
        level = 400;
        if f.has(F::SeparateShaderObjects) {
            level = if f.has(F::ComputeShader) { 430 } else { 410 };
        }
    }
    level
}

fn fill_v1(host: &HostGl, q: &Query<'_>, c: &mut CapsV1) {
    let f = &host.features;
    let (gl_ver, gles_ver) = (host.gl_ver, host.gles_ver);
    let has_ext = |e: &str| host.has_extension(e);
    c.glsl_level = glsl_level(host);
    let mut b = CapsBoolSet1::OCCLUSION_QUERY;
    let bit = |p: u32| 1u32 << p;
    c.prim_mask = [
        prim::POINTS,
        prim::LINES,
        prim::LINE_STRIP,
        prim::LINE_LOOP,
        prim::TRIANGLES,
        prim::TRIANGLE_STRIP,
        prim::TRIANGLE_FAN,
    ]
    .into_iter()
    .map(bit)
    .sum();
    if gl_ver > 0 && !host.core_profile {
        b |= CapsBoolSet1::POLY_STIPPLE;
        c.prim_mask |= bit(prim::QUADS) | bit(prim::QUAD_STRIP) | bit(prim::POLYGON);
    }
    if c.glsl_level >= 150 {
        c.prim_mask |= bit(prim::LINES_ADJACENCY)
            | bit(prim::LINE_STRIP_ADJACENCY)
            | bit(prim::TRIANGLES_ADJACENCY)
            | bit(prim::TRIANGLE_STRIP_ADJACENCY);
    }
    if c.glsl_level >= 400 || f.has(F::Tessellation) {
        c.prim_mask |= bit(prim::PATCHES);
    }
    if has_ext("GL_ARB_vertex_type_10f_11f_11f_rev") {
        set(&mut c.vertexbuffer, vf::R11G11B10_FLOAT);
    }
    let flag = |b: &mut CapsBoolSet1, cond: bool, v: CapsBoolSet1| {
        if cond {
            *b |= v;
        }
    };
    flag(
        &mut b,
        f.has(F::NvConditionalRender) || f.has(F::GlConditionalRender),
        CapsBoolSet1::CONDITIONAL_RENDER,
    );
    flag(
        &mut b,
        f.has(F::IndepBlend),
        CapsBoolSet1::INDEP_BLEND_ENABLE,
    );
    flag(&mut b, f.has(F::DrawInstance), CapsBoolSet1::INSTANCEID);
    if f.has(F::Ubo) {
        // GL counts blocks without the default uniform block, which the guest counts; the
        // shader translator needs one block of its own: +1 -1.
        c.max_uniform_blocks = q.u(glow::MAX_VERTEX_UNIFORM_BLOCKS);
    }
    flag(
        &mut b,
        f.has(F::DepthClamp),
        CapsBoolSet1::DEPTH_CLIP_DISABLE,
    );
    if gl_ver >= 32 {
        b |= CapsBoolSet1::FRAGMENT_COORD_CONVENTIONS | CapsBoolSet1::SEAMLESS_CUBE_MAP;
    } else {
        // GLES hosts: the shader translator emulates both conventions (y flipped against the
        // framebuffer height, centres shifted). Without this bit the guest lowers every
        // gl_FragCoord to Gallium's upper-left origin itself but still marks shaders
        // FS_COORD_ORIGIN LOWER_LEFT, so the property could not be trusted.
        flag(
            &mut b,
            has_ext("GL_ARB_fragment_coord_conventions") || gles_ver >= 30,
            CapsBoolSet1::FRAGMENT_COORD_CONVENTIONS,
        );
        flag(
            &mut b,
            has_ext("GL_ARB_seamless_cube_map") || gles_ver >= 30,
            CapsBoolSet1::SEAMLESS_CUBE_MAP,
        );
    }
    flag(
        &mut b,
        f.has(F::SeamlessCubemapPerTexture),
        CapsBoolSet1::SEAMLESS_CUBE_MAP_PER_TEXTURE,
    );
    flag(
        &mut b,
        f.has(F::TextureMultisample),
        CapsBoolSet1::TEXTURE_MULTISAMPLE,
    );
    flag(
        &mut b,
        f.has(F::Tessellation),
        CapsBoolSet1::HAS_TESSELLATION_SHADERS,
    );
    flag(
        &mut b,
        f.has(F::SampleShading),
        CapsBoolSet1::HAS_SAMPLE_SHADING,
    );
    flag(
        &mut b,
        f.has(F::IndirectDraw),
        CapsBoolSet1::HAS_INDIRECT_DRAW,
    );
    flag(
        &mut b,
        f.has(F::IndepBlendFunc),
        CapsBoolSet1::INDEP_BLEND_FUNC,
    );
    flag(&mut b, f.has(F::CubeMapArray), CapsBoolSet1::CUBE_MAP_ARRAY);
    flag(
        &mut b,
        f.has(F::TextureQueryLod),
        CapsBoolSet1::TEXTURE_QUERY_LOD,
    );
    flag(
        &mut b,
        gl_ver >= 40 || (has_ext("GL_ARB_gpu_shader_fp64") && has_ext("GL_ARB_gpu_shader5")),
        CapsBoolSet1::HAS_FP64,
    );
    flag(&mut b, f.has(F::BaseInstance), CapsBoolSet1::START_INSTANCE);
    flag(
        &mut b,
        has_ext("GL_ARB_shader_stencil_export"),
        CapsBoolSet1::SHADER_STENCIL_EXPORT,
    );
    flag(
        &mut b,
        f.has(F::ConditionalRenderInverted),
        CapsBoolSet1::CONDITIONAL_RENDER_INVERTED,
    );
    if gl_ver >= 45 {
        b |= CapsBoolSet1::HAS_CULL | CapsBoolSet1::DERIVATIVE_CONTROL;
    } else {
        flag(&mut b, f.has(F::CullDistance), CapsBoolSet1::HAS_CULL);
        flag(
            &mut b,
            has_ext("GL_ARB_derivative_control"),
            CapsBoolSet1::DERIVATIVE_CONTROL,
        );
    }
    flag(
        &mut b,
        f.has(F::PolygonOffsetClamp),
        CapsBoolSet1::POLYGON_OFFSET_CLAMP,
    );
    flag(
        &mut b,
        f.has(F::TransformFeedbackOverflowQuery),
        CapsBoolSet1::TRANSFORM_FEEDBACK_OVERFLOW_QUERY,
    );
    flag(
        &mut b,
        f.has(F::TextureMirrorClamp) || f.has(F::TextureMirrorClampToEdge),
        CapsBoolSet1::MIRROR_CLAMP,
    );
    if f.has(F::TextureArray) {
        c.max_texture_array_layers = q.u(glow::MAX_ARRAY_TEXTURE_LAYERS);
    }
    if f.has(F::TransformFeedback) {
        flag(
            &mut b,
            f.has(F::TransformFeedback2),
            CapsBoolSet1::STREAMOUT_PAUSE_RESUME,
        );
        if f.has(F::TransformFeedback3) {
            c.max_streamout_buffers = q.u(glow::MAX_TRANSFORM_FEEDBACK_BUFFERS);
        } else if gles_ver > 0 {
            if q.u(glow::MAX_TRANSFORM_FEEDBACK_SEPARATE_ATTRIBS) >= 4 {
                c.max_streamout_buffers = 4;
            }
        } else {
            c.max_streamout_buffers = 4;
        }
    }
    if f.has(F::DualSrcBlend) {
        c.max_dual_source_render_targets = q.u(glow::MAX_DUAL_SOURCE_DRAW_BUFFERS);
    }
    if f.has(F::ArbOrGlesExtTextureBuffer) {
        c.max_tbo_size = q.u(glow::MAX_TEXTURE_BUFFER_SIZE);
    }
    if f.has(F::TextureGather) {
        c.max_texture_gather_components = if gl_ver > 0 {
            q.u(GL_MAX_PROGRAM_TEXTURE_GATHER_COMPONENTS_ARB)
        } else {
            4
        };
    }
    c.max_viewports = if f.has(F::ViewportArray) {
        q.u(glow::MAX_VIEWPORTS)
    } else {
        1
    };
    flag(&mut b, f.has(F::TimerQuery), CapsBoolSet1::TIMER_QUERY);
    c.max_render_targets = host.limits.max_draw_buffers;
    c.max_samples = q.u(glow::MAX_SAMPLES);
    for hf in host.formats.iter() {
        if hf.caps.bind & bind::SAMPLER_VIEW != 0 {
            set(&mut c.sampler, hf.entry.virgl);
            if hf.caps.bind & bind::RENDER_TARGET != 0 {
                set(&mut c.render, hf.entry.virgl);
            }
        }
    }
    flag(
        &mut b,
        f.has(F::NvPrimRestart) || f.has(F::GlPrimRestart),
        CapsBoolSet1::PRIMITIVE_RESTART,
    );
    c.bset = b;
}

/// Sample positions per count (2, 4, 8, 16) packed as upstream does; returns the highest
/// sample count a framebuffer really accepts.
fn query_sample_locations(host: &HostGl, max_samples: u32, locations: &mut [u32; 8]) -> u32 {
    let gl = &host.gl;
    let Some(get_pos) = host.extra.get_multisample_fv else {
        return max_samples;
    };
    let counts = [2u32, 4, 8, 16];
    let offsets = [0usize, 1, 2, 4];
    let mut confirmed = 1;
    let mut lowest_working: Option<usize> = None;
    *locations = [0; 8];
    // SAFETY: current root context; every object made here is deleted before returning; the
    // sample-position query writes two floats into `pos`.
    unsafe {
        let Ok(fbo) = gl.create_framebuffer() else {
            return max_samples;
        };
        for i in (0..4).rev() {
            let n = counts[i];
            if n > max_samples {
                continue;
            }
            let Ok(tex) = gl.create_texture() else {
                continue;
            };
            gl.bind_texture(glow::TEXTURE_2D_MULTISAMPLE, Some(tex));
            gl.tex_storage_2d_multisample(
                glow::TEXTURE_2D_MULTISAMPLE,
                n as i32,
                glow::RGBA32F,
                64,
                64,
                true,
            );
            if gl.get_error() == glow::NO_ERROR {
                gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fbo));
                gl.framebuffer_texture_2d(
                    glow::FRAMEBUFFER,
                    glow::COLOR_ATTACHMENT0,
                    glow::TEXTURE_2D_MULTISAMPLE,
                    Some(tex),
                    0,
                );
                if gl.check_framebuffer_status(glow::FRAMEBUFFER) == glow::FRAMEBUFFER_COMPLETE {
                    confirmed = confirmed.max(n);
                    for k in 0..n {
                        let mut pos = [0.0f32; 2];
                        get_pos(glow::SAMPLE_POSITION, k, pos.as_mut_ptr());
                        let packed = (((pos[0] * 16.0).floor() as u32 & 0xf) << 4)
                            | ((pos[1] * 16.0).floor() as u32 & 0xf);
                        locations[offsets[i] + (k >> 2) as usize] |= packed << (8 * (k & 3));
                    }
                    lowest_working = Some(i);
                } else if let Some(w) = lowest_working.filter(|&w| w > 0) {
                    for k in 0..n {
                        locations[offsets[i] + (k >> 2) as usize] =
                            locations[offsets[w] + (k >> 2) as usize];
                    }
                }
                gl.bind_framebuffer(glow::FRAMEBUFFER, None);
            }
            gl.bind_texture(glow::TEXTURE_2D_MULTISAMPLE, None);
            gl.delete_texture(tex);
        }
        gl.delete_framebuffer(fbo);
    }
    confirmed
}

/// Whether an FBO accepts colour attachments of different formats (RGBA8 + R8).
fn mixed_color_attachments(gl: &glow::Context) -> bool {
    // SAFETY: current root context; the objects made here are deleted before returning.
    unsafe {
        let (Ok(t0), Ok(t1), Ok(fbo)) = (
            gl.create_texture(),
            gl.create_texture(),
            gl.create_framebuffer(),
        ) else {
            return false;
        };
        let none = || glow::PixelUnpackData::Slice(None);
        gl.bind_texture(glow::TEXTURE_2D, Some(t0));
        gl.tex_image_2d(
            glow::TEXTURE_2D,
            0,
            glow::RGBA8 as i32,
            32,
            32,
            0,
            glow::RGBA,
            glow::UNSIGNED_BYTE,
            none(),
        );
        gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fbo));
        gl.framebuffer_texture_2d(
            glow::FRAMEBUFFER,
            glow::COLOR_ATTACHMENT0,
            glow::TEXTURE_2D,
            Some(t0),
            0,
        );
        gl.bind_texture(glow::TEXTURE_2D, Some(t1));
        gl.tex_image_2d(
            glow::TEXTURE_2D,
            0,
            glow::R8 as i32,
            32,
            32,
            0,
            glow::RED,
            glow::UNSIGNED_BYTE,
            none(),
        );
        gl.framebuffer_texture_2d(
            glow::FRAMEBUFFER,
            glow::COLOR_ATTACHMENT1,
            glow::TEXTURE_2D,
            Some(t1),
            0,
        );
        let ok = gl.check_framebuffer_status(glow::FRAMEBUFFER) == glow::FRAMEBUFFER_COMPLETE;
        gl.bind_framebuffer(glow::FRAMEBUFFER, None);
        gl.bind_texture(glow::TEXTURE_2D, None);
        gl.delete_framebuffer(fbo);
        gl.delete_texture(t0);
        gl.delete_texture(t1);
        ok
    }
}

fn fill_v2(host: &HostGl, q: &Query<'_>, c: &mut CapsV2) {
    let f = &host.features;
    let (gl_ver, gles_ver) = (host.gl_ver, host.gles_ver);
    c.host_feature_check_version = HOST_FEATURE_CHECK_VERSION;
    // glamor rejects llvmpipe by name; upstream hides it the same way.
    c.set_renderer(&host.renderer.replacen("llvmpipe", "LLVMPIPE", 1));

    [c.min_aliased_point_size, c.max_aliased_point_size] = q.f2(glow::ALIASED_POINT_SIZE_RANGE);
    [c.min_aliased_line_width, c.max_aliased_line_width] = q.f2(glow::ALIASED_LINE_WIDTH_RANGE);
    if gl_ver > 0 {
        [c.min_smooth_point_size, c.max_smooth_point_size] = q.f2(GL_SMOOTH_POINT_SIZE_RANGE);
        [c.min_smooth_line_width, c.max_smooth_line_width] = q.f2(GL_SMOOTH_LINE_WIDTH_RANGE);
    }
    c.max_texture_lod_bias = q.f(glow::MAX_TEXTURE_LOD_BIAS);
    c.max_vertex_attribs = host.limits.max_vertex_attribs;
    let outputs = if gl_ver >= 32 || gles_ver >= 30 {
        q.u(glow::MAX_VERTEX_OUTPUT_COMPONENTS)
    } else {
        64
    };
    c.max_vertex_outputs = outputs / 4;
    c.min_texel_offset = q.i(glow::MIN_PROGRAM_TEXEL_OFFSET);
    c.max_texel_offset = q.i(glow::MAX_PROGRAM_TEXEL_OFFSET);
    c.uniform_buffer_offset_alignment = q.u(glow::UNIFORM_BUFFER_OFFSET_ALIGNMENT);
    c.max_texture_2d_size = host.limits.max_texture_2d_size;
    c.max_texture_3d_size = host.limits.max_texture_3d_size;
    c.max_texture_cube_size = host.limits.max_texture_cube_size;
    if f.has(F::GeometryShader) {
        c.max_geom_output_vertices = q.u(glow::MAX_GEOMETRY_OUTPUT_VERTICES);
        c.max_geom_total_output_components = q.u(glow::MAX_GEOMETRY_TOTAL_OUTPUT_COMPONENTS);
    }
    c.max_shader_patch_varyings = if f.has(F::Tessellation) {
        q.u(glow::MAX_TESS_PATCH_COMPONENTS) / 4
    } else {
        0
    };
    if f.has(F::TextureGather) {
        c.min_texture_gather_offset = q.i(glow::MIN_PROGRAM_TEXTURE_GATHER_OFFSET);
        c.max_texture_gather_offset = q.i(glow::MAX_PROGRAM_TEXTURE_GATHER_OFFSET);
    }
    if f.has(F::TextureBufferRange) {
        c.texture_buffer_offset_alignment = q.u(glow::TEXTURE_BUFFER_OFFSET_ALIGNMENT);
    }
    if f.has(F::Ssbo) {
        c.shader_buffer_offset_alignment = q.u(glow::SHADER_STORAGE_BUFFER_OFFSET_ALIGNMENT);
        let clamp = |v: u32| v.min(PIPE_MAX_SHADER_BUFFERS);
        c.max_shader_buffer_other_stages = clamp(q.u(glow::MAX_VERTEX_SHADER_STORAGE_BLOCKS));
        c.max_shader_storage_blocks[stage::VERTEX] = c.max_shader_buffer_other_stages;
        c.max_shader_buffer_frag_compute = clamp(q.u(glow::MAX_FRAGMENT_SHADER_STORAGE_BLOCKS));
        c.max_shader_storage_blocks[stage::FRAGMENT] = c.max_shader_buffer_frag_compute;
        if f.has(F::GeometryShader) {
            c.max_shader_storage_blocks[stage::GEOMETRY] =
                clamp(q.u(glow::MAX_GEOMETRY_SHADER_STORAGE_BLOCKS));
        }
        if f.has(F::Tessellation) {
            c.max_shader_storage_blocks[stage::TESS_CTRL] =
                clamp(q.u(glow::MAX_TESS_CONTROL_SHADER_STORAGE_BLOCKS));
            c.max_shader_storage_blocks[stage::TESS_EVAL] =
                clamp(q.u(glow::MAX_TESS_EVALUATION_SHADER_STORAGE_BLOCKS));
        }
        if f.has(F::ComputeShader) {
            c.max_shader_storage_blocks[stage::COMPUTE] =
                clamp(q.u(glow::MAX_COMPUTE_SHADER_STORAGE_BLOCKS));
        }
        c.max_combined_shader_buffers = q
            .u(glow::MAX_COMBINED_SHADER_STORAGE_BLOCKS)
            .min(MAX_COMBINED_SSBO_BINDING_POINTS);
    }
    if f.has(F::Images) {
        c.max_shader_image_other_stages = q
            .u(glow::MAX_VERTEX_IMAGE_UNIFORMS)
            .min(PIPE_MAX_SHADER_IMAGES);
        c.max_shader_image_frag_compute = q
            .u(glow::MAX_FRAGMENT_IMAGE_UNIFORMS)
            .min(PIPE_MAX_SHADER_IMAGES);
        if gl_ver > 0 {
            c.max_image_samples = q.u(glow::MAX_IMAGE_SAMPLES);
        }
    }
    if f.has(F::StorageMultisample) {
        c.v1.max_samples = query_sample_locations(host, c.v1.max_samples, &mut c.sample_locations);
    }
    let mut bits = VirglCaps::TGSI_INVARIANT
        | VirglCaps::SET_MIN_SAMPLES
        | VirglCaps::TGSI_PRECISE
        | VirglCaps::APP_TWEAK_SUPPORT;
    c.max_vertex_attrib_stride = if gl_ver >= 44 || gles_ver >= 31 {
        q.u(glow::MAX_VERTEX_ATTRIB_STRIDE)
    } else {
        2048
    };
    if f.has(F::ComputeShader) && (gles_ver > 0 || gl_ver >= 33) {
        c.max_compute_work_group_invocations = q.u(glow::MAX_COMPUTE_WORK_GROUP_INVOCATIONS);
        c.max_compute_shared_memory_size = q.u(glow::MAX_COMPUTE_SHARED_MEMORY_SIZE);
        for i in 0..3 {
            c.max_compute_grid_size[i] = q.indexed(glow::MAX_COMPUTE_WORK_GROUP_COUNT, i as u32);
            c.max_compute_block_size[i] = q.indexed(glow::MAX_COMPUTE_WORK_GROUP_SIZE, i as u32);
        }
        bits |= VirglCaps::COMPUTE_SHADER;
    }
    if f.has(F::AtomicCounters) {
        // GLES hosts lower atomics to SSBOs, so only desktop GL reports counters.
        if gl_ver > 0 {
            c.max_atomic_counters[stage::VERTEX] = q.u(glow::MAX_VERTEX_ATOMIC_COUNTERS);
            c.max_atomic_counters[stage::FRAGMENT] = q.u(glow::MAX_FRAGMENT_ATOMIC_COUNTERS);
            if f.has(F::GeometryShader) {
                c.max_atomic_counters[stage::GEOMETRY] = q.u(glow::MAX_GEOMETRY_ATOMIC_COUNTERS);
            }
            if f.has(F::Tessellation) {
                c.max_atomic_counters[stage::TESS_CTRL] =
                    q.u(glow::MAX_TESS_CONTROL_ATOMIC_COUNTERS);
                c.max_atomic_counters[stage::TESS_EVAL] =
                    q.u(glow::MAX_TESS_EVALUATION_ATOMIC_COUNTERS);
            }
            if f.has(F::ComputeShader) {
                c.max_atomic_counters[stage::COMPUTE] = q.u(glow::MAX_COMPUTE_ATOMIC_COUNTERS);
            }
            c.max_combined_atomic_counters = q.u(glow::MAX_COMBINED_ATOMIC_COUNTERS);
        }
        c.max_atomic_counter_buffers[stage::VERTEX] = q.u(glow::MAX_VERTEX_ATOMIC_COUNTER_BUFFERS);
        c.max_atomic_counter_buffers[stage::FRAGMENT] =
            q.u(glow::MAX_FRAGMENT_ATOMIC_COUNTER_BUFFERS);
        if f.has(F::GeometryShader) {
            c.max_atomic_counter_buffers[stage::GEOMETRY] =
                q.u(glow::MAX_GEOMETRY_ATOMIC_COUNTER_BUFFERS);
        }
        if f.has(F::Tessellation) {
            c.max_atomic_counter_buffers[stage::TESS_CTRL] =
                q.u(glow::MAX_TESS_CONTROL_ATOMIC_COUNTER_BUFFERS);
            c.max_atomic_counter_buffers[stage::TESS_EVAL] =
                q.u(glow::MAX_TESS_EVALUATION_ATOMIC_COUNTER_BUFFERS);
            c.max_tcs_outputs = q.u(glow::MAX_TESS_CONTROL_TOTAL_OUTPUT_COMPONENTS) / 4;
            c.max_tes_outputs = q.u(glow::MAX_TESS_EVALUATION_OUTPUT_COMPONENTS) / 4;
        }
        if f.has(F::ComputeShader) {
            c.max_atomic_counter_buffers[stage::COMPUTE] =
                q.u(glow::MAX_COMPUTE_ATOMIC_COUNTER_BUFFERS);
        }
        c.max_combined_atomic_counter_buffers = q.u(glow::MAX_COMBINED_ATOMIC_COUNTER_BUFFERS);
    }
    let mut on = |cond: bool, v: VirglCaps| {
        if cond {
            bits |= v;
        }
    };
    on(f.has(F::FbNoAttach), VirglCaps::FB_NO_ATTACH);
    on(f.has(F::TextureView), VirglCaps::TEXTURE_VIEW);
    on(f.has(F::Txqs), VirglCaps::TXQS);
    on(f.has(F::Barrier), VirglCaps::MEMORY_BARRIER);
    on(f.has(F::CopyImage), VirglCaps::COPY_IMAGE);
    on(
        f.has(F::RobustBufferAccess),
        VirglCaps::ROBUST_BUFFER_ACCESS,
    );
    on(f.has(F::FramebufferFetch), VirglCaps::TGSI_FBFETCH);
    on(f.has(F::ShaderClock), VirglCaps::SHADER_CLOCK);
    on(f.has(F::TextureBarrier), VirglCaps::TEXTURE_BARRIER);
    on(true, VirglCaps::TGSI_COMPONENTS);
    on(f.has(F::SrgbWriteControl), VirglCaps::SRGB_WRITE_CONTROL);
    on(f.has(F::TransformFeedback3), VirglCaps::TRANSFORM_FEEDBACK3);
    on(true, VirglCaps::GUEST_MAY_INIT_LOG);
    on(f.has(F::Qbo), VirglCaps::QBO);
    on(true, VirglCaps::TRANSFER);
    on(
        mixed_color_attachments(&host.gl),
        VirglCaps::FBO_MIXED_COLOR_FORMATS,
    );
    on(gles_ver > 0, VirglCaps::HOST_IS_GLES);
    on(f.has(F::IndirectDraw), VirglCaps::BIND_COMMAND_ARGS);
    on(f.has(F::MultiDrawIndirect), VirglCaps::MULTI_DRAW_INDIRECT);
    on(f.has(F::IndirectParams), VirglCaps::INDIRECT_PARAMS);
    on(f.has(F::ClearTexture), VirglCaps::CLEAR_TEXTURE);
    on(f.has(F::ClipControl), VirglCaps::CLIP_HALFZ);
    on(
        host.has_extension("GL_KHR_texture_compression_astc_sliced_3d"),
        VirglCaps::ASTC_3D,
    );
    on(true, VirglCaps::INDIRECT_INPUT_ADDR);
    on(true, VirglCaps::COPY_TRANSFER);
    // ARB_BUFFER_STORAGE (persistent guest mappings of host buffers) needs blob mapping,
    // which this backend does not implement yet: not advertised.
    c.capability_bits = bits;

    for hf in host.formats.iter() {
        if hf.caps.can_readback {
            set(&mut c.supported_readback_formats, hf.entry.virgl);
        }
        if hf.caps.can_multisample {
            set(&mut c.supported_multisample_formats, hf.entry.virgl);
        }
    }
    // Without GBM every format can be scanned out (the embedder reads it back or blits it).
    for format in 0..vf::MAX {
        set(&mut c.scanout, format);
    }
    set(&mut c.supported_multisample_formats, 0);

    let mut bits2 = VirglCapsV2::COPY_TRANSFER_BOTH_DIRECTIONS;
    let mut on2 = |cond: bool, v: VirglCapsV2| {
        if cond {
            bits2 |= v;
        }
    };
    on2(f.has(F::BlendEquationAdvanced), VirglCapsV2::BLEND_EQUATION);
    on2(f.has(F::KhrDebug), VirglCapsV2::STRING_MARKER);
    on2(f.has(F::ImplicitMsaa), VirglCapsV2::IMPLICIT_MSAA);
    on2(f.has(F::TextureShadowLod), VirglCapsV2::TEXTURE_SHADOW_LOD);
    on2(f.has(F::SeparateShaderObjects), VirglCapsV2::SSO);
    on2(f.has(F::VsLayerViewport), VirglCapsV2::VS_VERTEX_LAYER);
    on2(f.has(F::VsViewportIndex), VirglCapsV2::VS_VIEWPORT_INDEX);
    on2(
        f.has(F::PipelineStatisticsQuery),
        VirglCapsV2::PIPELINE_STATISTICS_QUERY,
    );
    on2(f.has(F::DrawParameters), VirglCapsV2::DRAW_PARAMETERS);
    on2(f.has(F::GroupVote), VirglCapsV2::GROUP_VOTE);
    on2(
        f.has(F::TextureMirrorClampToEdge),
        VirglCapsV2::MIRROR_CLAMP_TO_EDGE,
    );
    on2(f.has(F::TextureMirrorClamp), VirglCapsV2::MIRROR_CLAMP);
    // MEMINFO needs ATI_meminfo / NVX_gpu_memory_info, UNTYPED_RESOURCE needs
    // PIPE_RESOURCE_SET_TYPE (not implemented): neither is claimed.
    c.capability_bits_v2 = bits2;

    if f.has(F::AnisotropicFilter) {
        c.max_anisotropy = q.f(GL_MAX_TEXTURE_MAX_ANISOTROPY).min(16.0);
    }
    c.max_texture_samplers = PIPE_MAX_SAMPLERS;
    if f.has(F::Ubo) {
        c.max_uniform_block_size = q.u(glow::MAX_UNIFORM_BLOCK_SIZE);
    }
    c.max_const_buffer_size[stage::VERTEX] = q.u(glow::MAX_VERTEX_UNIFORM_COMPONENTS) * 4;
    c.max_const_buffer_size[stage::FRAGMENT] = q.u(glow::MAX_FRAGMENT_UNIFORM_COMPONENTS) * 4;
    if f.has(F::GeometryShader) {
        c.max_const_buffer_size[stage::GEOMETRY] = q.u(glow::MAX_GEOMETRY_UNIFORM_COMPONENTS) * 4;
    }
    if f.has(F::Tessellation) {
        c.max_const_buffer_size[stage::TESS_CTRL] =
            q.u(glow::MAX_TESS_CONTROL_UNIFORM_COMPONENTS) * 4;
        c.max_const_buffer_size[stage::TESS_EVAL] =
            q.u(glow::MAX_TESS_EVALUATION_UNIFORM_COMPONENTS) * 4;
    }
    if f.has(F::ComputeShader) {
        c.max_const_buffer_size[stage::COMPUTE] = q.u(glow::MAX_COMPUTE_UNIFORM_COMPONENTS) * 4;
    }
    c.num_video_caps = 0;
}

/// Computes the full caps (v2, whose prefix is v1) on the current root context.
pub fn compute_caps(host: &HostGl) -> CapsV2 {
    host.take_error();
    let q = Query { gl: &host.gl };
    let mut caps = CapsV2::default();
    fill_v1(host, &q, &mut caps.v1);
    fill_v2(host, &q, &mut caps);
    let err = host.take_error();
    if err != glow::NO_ERROR {
        tracing::debug!("GL error {err:#x} while querying caps (unsupported queries read as 0)");
    }
    caps
}

/// The bytes of capset `id` at `version`, with `max_version` set as upstream does.
pub fn capset_bytes(caps: &CapsV2, id: u32, version: u32) -> Option<Vec<u8>> {
    let mut caps = caps.clone();
    match id {
        CAPSET_VIRGL if version <= CAPSET_VIRGL_MAX_VERSION => {
            caps.v1.max_version = CAPSET_VIRGL_MAX_VERSION;
        }
        CAPSET_VIRGL2 if version <= CAPSET_VIRGL2_MAX_VERSION => {
            caps.v1.max_version = CAPSET_VIRGL2_MAX_VERSION;
        }
        _ => return None,
    }
    virgl_protocol::caps::virgl_capset_bytes(&caps, id, version).ok()
}

/// `(max_version, size)` of a capset, as `virgl_renderer_get_cap_set` reports.
pub fn capset_info(id: u32) -> Option<(u32, u32)> {
    match id {
        CAPSET_VIRGL => Some((CAPSET_VIRGL_MAX_VERSION, CapsV1::SIZE as u32)),
        CAPSET_VIRGL2 => Some((CAPSET_VIRGL2_MAX_VERSION, CapsV2::SIZE as u32)),
        _ => None,
    }
}
