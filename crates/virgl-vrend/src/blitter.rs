//! Blits `glBlitFramebuffer` cannot do, done by drawing: the source is sampled through a
//! `TEXTURE_2D_ARRAY` view and written by a full-viewport quad.
//!
//! Used for depth blits between different depth formats (GL requires identical ones) and for
//! colour blits from formats the host cannot render to (so they cannot be a read framebuffer
//! attachment either), e.g. mipmap generation of such textures. Sources that cannot be viewed
//! as a 2D array (1D, 3D, rectangle, multisample) are refused explicitly. Stencil is copied in
//! a second pass writing `gl_FragStencilRefARB`, where the host has stencil export.
//!
//! The caller has invalidated the sub-context's GL state shadow: this module changes program,
//! texture unit 0, sampler, viewport, depth and blend state freely.

use std::cell::RefCell;
use std::collections::HashMap;

use glow::HasContext;

use crate::error::{VrendError, VrendResult};
use crate::formats::HostFormat;
use crate::host::HostGl;
use crate::resource::GlResource;

/// What the fragment shader writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BlitKind {
    Float,
    Sint,
    Uint,
    Depth,
    /// Stencil through `gl_FragStencilRefARB` (GL_ARB_shader_stencil_export).
    Stencil,
}

/// Blit programs of one share group (programs are shared between the renderer's contexts).
#[derive(Debug, Default)]
pub(crate) struct BlitPrograms {
    programs: RefCell<HashMap<BlitKind, glow::Program>>,
}

impl BlitPrograms {
    fn get(&self, host: &HostGl, kind: BlitKind) -> VrendResult<glow::Program> {
        if let Some(&p) = self.programs.borrow().get(&kind) {
            return Ok(p);
        }
        let p = build(host, kind)?;
        self.programs.borrow_mut().insert(kind, p);
        Ok(p)
    }

    /// Deletes the programs (on any context of the share group).
    pub fn release(&self, gl: &glow::Context) {
        for (_, p) in self.programs.borrow_mut().drain() {
            // SAFETY: the programs were created by `build` and are used by nothing else.
            unsafe { gl.delete_program(p) };
        }
    }
}

fn sources(host: &HostGl, kind: BlitKind) -> (String, String) {
    let header = if host.is_gles() {
        "#version 300 es\nprecision highp float;\nprecision highp int;\n\
         precision highp sampler2DArray;\nprecision highp isampler2DArray;\n\
         precision highp usampler2DArray;\n"
    } else {
        "#version 330\n"
    };
    let vs = format!(
        "{header}uniform vec4 src_rect;\nout vec2 uv;\nvoid main() {{\n\
         vec2 c = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));\n\
         uv = mix(src_rect.xy, src_rect.zw, c);\n\
         gl_Position = vec4(c * 2.0 - 1.0, 0.0, 1.0);\n}}\n"
    );
    let (sampler, out, body) = match kind {
        BlitKind::Float => ("sampler2DArray", "out vec4 color;", "color = t;"),
        BlitKind::Sint => ("isampler2DArray", "out ivec4 color;", "color = t;"),
        BlitKind::Uint => ("usampler2DArray", "out uvec4 color;", "color = t;"),
        BlitKind::Depth => ("sampler2DArray", "", "gl_FragDepth = t.r;"),
        BlitKind::Stencil => ("usampler2DArray", "", "gl_FragStencilRefARB = int(t.r);"),
    };
    let ext = if kind == BlitKind::Stencil {
        "#extension GL_ARB_shader_stencil_export : require\n"
    } else {
        ""
    };
    let fs = format!(
        "{header}{ext}uniform {sampler} src;\nuniform float layer;\nin vec2 uv;\n{out}\n\
         void main() {{\n  {} t = texture(src, vec3(uv, layer));\n  {body}\n}}\n",
        match kind {
            BlitKind::Sint => "ivec4",
            BlitKind::Uint | BlitKind::Stencil => "uvec4",
            _ => "vec4",
        }
    );
    (vs, fs)
}

fn build(host: &HostGl, kind: BlitKind) -> VrendResult<glow::Program> {
    let gl = &host.gl;
    let (vs, fs) = sources(host, kind);
    // SAFETY: current context; shaders and program are created, linked and checked here.
    unsafe {
        let program = gl.create_program().map_err(VrendError::HostGlMissing)?;
        let mut shaders = Vec::new();
        for (ty, src) in [(glow::VERTEX_SHADER, &vs), (glow::FRAGMENT_SHADER, &fs)] {
            let s = gl.create_shader(ty).map_err(VrendError::HostGlMissing)?;
            gl.shader_source(s, src);
            gl.compile_shader(s);
            gl.attach_shader(program, s);
            shaders.push(s);
        }
        gl.link_program(program);
        for s in shaders {
            gl.detach_shader(program, s);
            gl.delete_shader(s);
        }
        if !gl.get_program_link_status(program) {
            let log = gl.get_program_info_log(program);
            gl.delete_program(program);
            return Err(VrendError::HostGlMissing(format!("blit program: {log}")));
        }
        Ok(program)
    }
}

/// One shader blit: source/destination rectangles in GL coordinates `(x0, y0, x1, y1)`.
pub(crate) struct ShaderBlit<'a> {
    pub src: &'a GlResource,
    pub src_format: &'a HostFormat,
    pub src_level: u32,
    pub src_rect: (i32, i32, i32, i32),
    /// Source layer per destination layer.
    pub src_layers: Vec<u32>,
    pub kind: BlitKind,
    pub linear: bool,
    /// Swap red and blue: exactly one side is imported BGRA memory (Venus window images),
    /// which sits in an RGBA texture (import.rs).
    pub swap_rb: bool,
}

/// Deletes GL objects on drop.
struct Temp<'a> {
    gl: &'a glow::Context,
    tex: Option<glow::Texture>,
    sampler: Option<glow::Sampler>,
    vao: Option<glow::VertexArray>,
}

impl Drop for Temp<'_> {
    fn drop(&mut self) {
        // SAFETY: the objects were created by this blit and are bound nowhere after it.
        unsafe {
            if let Some(t) = self.tex {
                self.gl.delete_texture(t);
            }
            if let Some(s) = self.sampler {
                self.gl.delete_sampler(s);
            }
            if let Some(v) = self.vao {
                self.gl.delete_vertex_array(v);
            }
        }
    }
}

/// Sets up the source view, sampler, program and state; `attach_layer(i)` attaches
/// destination layer `i` to the bound draw framebuffer before each draw. The viewport is the
/// destination rectangle `(x0, y0, x1, y1)` (mirroring handled here).
pub(crate) fn run(
    host: &HostGl,
    b: &ShaderBlit<'_>,
    dst_rect: (i32, i32, i32, i32),
    mut attach_layer: impl FnMut(usize) -> VrendResult<()>,
) -> VrendResult<()> {
    let gl = &host.gl;
    let (crate::resource::Storage::Texture { tex, target }, Some(make_view)) =
        (&b.src.storage, host.extra.texture_view)
    else {
        return Err(VrendError::Unsupported(
            "shader blit without a texture source and ARB_texture_view".into(),
        ));
    };
    if !matches!(
        *target,
        glow::TEXTURE_2D | glow::TEXTURE_2D_ARRAY | glow::TEXTURE_CUBE_MAP
    ) {
        return Err(VrendError::Unsupported(format!(
            "shader blit from GL target {target:#x}"
        )));
    }
    if b.kind == BlitKind::Stencil && !host.has_extension("GL_ARB_shader_stencil_export") {
        return Err(VrendError::Unsupported(
            "stencil blit between formats without GL_ARB_shader_stencil_export".into(),
        ));
    }
    let program = host.blit_programs.get(host, b.kind)?;
    let (_, _, layers) = b.src.level_size(b.src_level);
    let (sw, sh, _) = b.src.level_size(b.src_level);
    let mut t = Temp {
        gl,
        tex: None,
        sampler: None,
        vao: None,
    };
    // Mirroring: GL viewports are positive, so flip the source instead.
    let (mut s0x, mut s0y, mut s1x, mut s1y) = b.src_rect;
    let (mut d0x, mut d0y, mut d1x, mut d1y) = dst_rect;
    if d1x < d0x {
        std::mem::swap(&mut d0x, &mut d1x);
        std::mem::swap(&mut s0x, &mut s1x);
    }
    if d1y < d0y {
        std::mem::swap(&mut d0y, &mut d1y);
        std::mem::swap(&mut s0y, &mut s1y);
    }
    let filter = if b.linear {
        glow::LINEAR
    } else {
        glow::NEAREST
    };
    // SAFETY: current context; the view is made of the live source texture (GL checks
    // compatibility, error checked below); all objects are temporary and deleted by `Temp`.
    unsafe {
        host.take_error();
        let view = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        t.tex = Some(view);
        make_view(
            view.0.get(),
            glow::TEXTURE_2D_ARRAY,
            tex.0.get(),
            b.src_format.entry.internal,
            b.src_level,
            1,
            0,
            layers.max(1),
        );
        host.check("blit source view")?;
        gl.active_texture(glow::TEXTURE0);
        gl.bind_texture(glow::TEXTURE_2D_ARRAY, Some(view));
        if b.swap_rb {
            for (channel, from) in [
                (glow::TEXTURE_SWIZZLE_R, glow::BLUE),
                (glow::TEXTURE_SWIZZLE_B, glow::RED),
            ] {
                gl.tex_parameter_i32(glow::TEXTURE_2D_ARRAY, channel, from as i32);
            }
        }
        if b.src_format.entry.has_depth() && b.src_format.entry.has_stencil() {
            let mode = if b.kind == BlitKind::Stencil {
                glow::STENCIL_INDEX
            } else {
                glow::DEPTH_COMPONENT
            };
            gl.tex_parameter_i32(
                glow::TEXTURE_2D_ARRAY,
                glow::DEPTH_STENCIL_TEXTURE_MODE,
                mode as i32,
            );
        }
        let smp = gl.create_sampler().map_err(VrendError::HostGlMissing)?;
        t.sampler = Some(smp);
        gl.sampler_parameter_i32(smp, glow::TEXTURE_MIN_FILTER, filter as i32);
        gl.sampler_parameter_i32(smp, glow::TEXTURE_MAG_FILTER, filter as i32);
        for p in [glow::TEXTURE_WRAP_S, glow::TEXTURE_WRAP_T] {
            gl.sampler_parameter_i32(smp, p, glow::CLAMP_TO_EDGE as i32);
        }
        gl.sampler_parameter_i32(smp, glow::TEXTURE_COMPARE_MODE, glow::NONE as i32);
        gl.bind_sampler(0, Some(smp));
        let vao = gl
            .create_vertex_array()
            .map_err(VrendError::HostGlMissing)?;
        t.vao = Some(vao);
        gl.bind_vertex_array(Some(vao));
        gl.use_program(Some(program));
        let loc = |n: &str| gl.get_uniform_location(program, n);
        gl.uniform_1_i32(loc("src").as_ref(), 0);
        gl.uniform_4_f32(
            loc("src_rect").as_ref(),
            s0x as f32 / sw as f32,
            s0y as f32 / sh as f32,
            s1x as f32 / sw as f32,
            s1y as f32 / sh as f32,
        );
        gl.disable(glow::BLEND);
        gl.disable(glow::CULL_FACE);
        gl.disable(glow::STENCIL_TEST);
        gl.disable(glow::POLYGON_OFFSET_FILL);
        if !host.is_gles() {
            gl.polygon_mode(glow::FRONT_AND_BACK, glow::FILL);
        }
        if b.kind == BlitKind::Depth {
            gl.enable(glow::DEPTH_TEST);
            gl.depth_func(glow::ALWAYS);
            gl.depth_mask(true);
        } else {
            gl.disable(glow::DEPTH_TEST);
        }
        if b.kind == BlitKind::Stencil {
            gl.enable(glow::STENCIL_TEST);
            gl.stencil_func(glow::ALWAYS, 0, 0xff);
            gl.stencil_op(glow::KEEP, glow::KEEP, glow::REPLACE);
            gl.stencil_mask(0xff);
        }
        gl.viewport(d0x, d0y, d1x - d0x, d1y - d0y);
        let layer_loc = loc("layer");
        for (i, &sl) in b.src_layers.iter().enumerate() {
            attach_layer(i)?;
            gl.uniform_1_f32(layer_loc.as_ref(), sl as f32);
            gl.draw_arrays(glow::TRIANGLE_STRIP, 0, 4);
        }
        gl.disable(glow::STENCIL_TEST);
        gl.bind_sampler(0, None);
        gl.bind_texture(glow::TEXTURE_2D_ARRAY, None);
        gl.bind_vertex_array(None);
        gl.use_program(None);
    }
    drop(t);
    host.check("shader blit")
}
