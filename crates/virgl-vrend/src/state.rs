//! Fixed-function state to GL, applied lazily before a draw and only where it changed.
//!
//! Each sub-context owns a GL context, so its [`GlShadow`] records what that context was last
//! given; a state is re-emitted only when the guest's object (or value) differs from the one
//! emitted. Commands that touch the same GL state behind the draw path's back (clears, blits,
//! transfers) call [`GlShadow::invalidate`], so the next draw re-emits everything.
//!
//! Coordinate conventions: Gallium's window space has y = 0 at the first row in memory, and so
//! has a GL framebuffer object (row 0 is window y = 0), so viewports and scissors pass through
//! unchanged. Triangle winding is seen mirrored (Gallium's y axis points down, GL's up), so the
//! front face is inverted unless the colour buffer is a `Y_0_TOP` resource; a negative viewport
//! height (Gallium's way of rendering upside down) is done by negating `gl_Position.y` in the
//! last vertex stage (shader key `flip_y`) with a positive GL viewport — as upstream does.

use glow::HasContext;
use virgl_protocol::command::{
    BlendState, DsaState, RasterizerFlags, RasterizerState, RtBlend, Scissor,
};

use crate::error::{VrendError, VrendResult};
use crate::features::Feature;
use crate::glenum;
use crate::host::HostGl;

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

/// The state a draw needs from the sub-context, resolved from the bound objects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedState<'a> {
    pub blend: &'a BlendState,
    pub dsa: &'a DsaState,
    pub rs: &'a RasterizerState,
    /// Colour buffers whose format has no alpha channel (bit = buffer): destination alpha
    /// reads as one.
    pub no_alpha_cbufs: u8,
    /// The framebuffer's first attachment is a `Y_0_TOP` resource.
    pub origin_upper_left: bool,
    pub nr_cbufs: usize,
}

/// What the sub-context's GL context was last given (`None`: unknown, emit).
#[derive(Debug, Default)]
pub(crate) struct GlShadow {
    blend: Option<(BlendState, u8, usize)>,
    dsa: Option<(DsaState, [u8; 2])>,
    rs: Option<(RasterizerState, bool)>,
    viewports: Option<(Vec<[f32; 6]>, bool)>,
    scissors: Option<Vec<Scissor>>,
    blend_color: Option<[f32; 4]>,
    sample_mask: Option<u32>,
    min_samples: Option<u32>,
    restart: Option<Option<u32>>,
    srgb: Option<bool>,
    pub program: Option<glow::Program>,
}

impl GlShadow {
    /// Forgets everything (after commands that changed GL state outside the draw path).
    pub fn invalidate(&mut self) {
        *self = GlShadow::default();
    }

    /// Sets up one pass of a draw split by [`polygon_passes`]: cull the other face, rasterize
    /// this one in its mode. The next draw re-emits the rasterizer state.
    pub(crate) fn polygon_pass(&mut self, host: &HostGl, pass: PolygonPass) {
        let gl = &host.gl;
        set(gl, glow::CULL_FACE, true);
        // SAFETY: state setters with constant enums on the current (desktop) context.
        unsafe {
            gl.cull_face(pass.cull);
            gl.polygon_mode(glow::FRONT_AND_BACK, pass.mode);
        }
        self.rs = None;
    }
}

/// One pass of a draw whose front and back faces use different polygon modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PolygonPass {
    /// The face culled in this pass (`GL_FRONT` or `GL_BACK`).
    pub cull: u32,
    /// The polygon mode of the face drawn.
    pub mode: u32,
}

/// Core profiles have a single glPolygonMode (`GL_FRONT_AND_BACK`), so a draw whose front and
/// back faces use different modes and culls neither runs twice, once per face with the other
/// culled (upstream draws such states with one mode and warns). `rasterized` is the primitive
/// class that reaches the rasterizer (after a geometry or tessellation stage): only triangles
/// have faces. Draws that capture stream output keep one pass (the capture would be doubled),
/// as do draws without rasterization; a shader's memory writes and a PRIMITIVES_GENERATED
/// query do see both passes. Otherwise `emit_rasterizer` uses the drawn face's mode.
pub(crate) fn polygon_passes(
    gles: bool,
    rs: &RasterizerState,
    rasterized: u32,
    stream_out: bool,
) -> Option<[PolygonPass; 2]> {
    let split = !gles
        && rs.cull_face == 0
        && polygon_mode(rs.fill_front) != polygon_mode(rs.fill_back)
        && rasterized == glow::TRIANGLES
        && !stream_out
        && !rs.flags.contains(RasterizerFlags::RASTERIZER_DISCARD);
    split.then(|| {
        [
            PolygonPass {
                cull: glow::BACK,
                mode: polygon_mode(rs.fill_front),
            },
            PolygonPass {
                cull: glow::FRONT,
                mode: polygon_mode(rs.fill_back),
            },
        ]
    })
}

/// Defaults used while the guest has no object of a kind bound (Gallium's zeroed states).
pub(crate) fn default_blend() -> BlendState {
    BlendState {
        handle: 0,
        independent_blend_enable: false,
        logicop_enable: false,
        dither: false,
        alpha_to_coverage: false,
        alpha_to_one: false,
        logicop_func: 0,
        rt: [RtBlend {
            colormask: 0xf,
            ..Default::default()
        }; 8],
    }
}

pub(crate) fn default_dsa() -> DsaState {
    DsaState {
        handle: 0,
        depth_enabled: false,
        depth_writemask: false,
        depth_func: 0,
        alpha_enabled: false,
        alpha_func: 0,
        stencil: Default::default(),
        alpha_ref: 0.0,
    }
}

pub(crate) fn default_rasterizer() -> RasterizerState {
    RasterizerState {
        handle: 0,
        flags: RasterizerFlags::DEPTH_CLIP | RasterizerFlags::HALF_PIXEL_CENTER,
        cull_face: 0,
        fill_front: 0,
        fill_back: 0,
        point_size: 1.0,
        sprite_coord_enable: 0,
        line_stipple_pattern: 0,
        line_stipple_factor: 0,
        clip_plane_enable: 0,
        line_width: 1.0,
        offset_units: 0.0,
        offset_scale: 0.0,
        offset_clamp: 0.0,
    }
}

fn set(gl: &glow::Context, cap: u32, on: bool) {
    // SAFETY: glEnable/glDisable of a capability valid on the host (callers only pass caps of
    // the host's profile).
    unsafe {
        if on {
            gl.enable(cap)
        } else {
            gl.disable(cap)
        }
    }
}

/// The blend factors of one render target, with destination alpha replaced by one when the
/// buffer has no alpha channel (the host format may hold garbage or zero there).
fn rt_factors(rt: &RtBlend, no_alpha: bool) -> VrendResult<[u32; 4]> {
    let fix = |f: u32| -> u32 {
        if !no_alpha {
            return f;
        }
        match f {
            glow::DST_ALPHA => glow::ONE,
            glow::ONE_MINUS_DST_ALPHA => glow::ZERO,
            glow::SRC_ALPHA_SATURATE => glow::ZERO,
            other => other,
        }
    };
    let f = |raw: u8| {
        glenum::blend_factor(raw)
            .map(fix)
            .ok_or_else(|| invalid(format!("blend factor {raw:#x}")))
    };
    Ok([
        f(rt.rgb_src_factor)?,
        f(rt.rgb_dst_factor)?,
        f(rt.alpha_src_factor)?,
        f(rt.alpha_dst_factor)?,
    ])
}

fn rt_equations(rt: &RtBlend) -> VrendResult<(u32, u32)> {
    let f =
        |raw: u8| glenum::blend_func(raw).ok_or_else(|| invalid(format!("blend function {raw}")));
    Ok((f(rt.rgb_func)?, f(rt.alpha_func)?))
}

fn emit_blend(host: &HostGl, b: &BlendState, no_alpha: u8, nr_cbufs: usize) -> VrendResult<()> {
    let gl = &host.gl;
    let logic = b.logicop_enable && !host.is_gles();
    if b.logicop_enable && host.is_gles() {
        return Err(VrendError::Unsupported("logic ops on a GLES host".into()));
    }
    if !host.is_gles() {
        // GLES has no GL_COLOR_LOGIC_OP: touching it is GL_INVALID_ENUM.
        set(gl, glow::COLOR_LOGIC_OP, logic);
    }
    if logic {
        let op = glenum::logic_op(b.logicop_func)
            .ok_or_else(|| invalid(format!("logic op {}", b.logicop_func)))?;
        if let Some(f) = host.extra.logic_op {
            // SAFETY: a valid logic op enum on the current (desktop) context.
            unsafe { f(op) };
        }
    }
    let per_rt = b.independent_blend_enable && host.features.has(Feature::IndepBlendFunc);
    let count = nr_cbufs.clamp(1, 8);
    // SAFETY: state setters with validated enums on the current context; draw buffer indices
    // are below 8 ≤ GL_MAX_DRAW_BUFFERS (clamped at init).
    unsafe {
        if per_rt {
            for i in 0..count {
                let rt = &b.rt[i];
                let on = rt.blend_enable && !logic;
                if on {
                    gl.enable_draw_buffer(glow::BLEND, i as u32);
                    let [s, d, sa, da] = rt_factors(rt, no_alpha & (1 << i) != 0)?;
                    let (e, ea) = rt_equations(rt)?;
                    gl.blend_func_separate_draw_buffer(i as u32, s, d, sa, da);
                    gl.blend_equation_separate_draw_buffer(i as u32, e, ea);
                } else {
                    gl.disable_draw_buffer(glow::BLEND, i as u32);
                }
            }
        } else {
            let rt = &b.rt[0];
            let on = rt.blend_enable && !logic;
            set(gl, glow::BLEND, on);
            if on {
                let [s, d, sa, da] = rt_factors(rt, no_alpha & 1 != 0)?;
                let (e, ea) = rt_equations(rt)?;
                gl.blend_func_separate(s, d, sa, da);
                gl.blend_equation_separate(e, ea);
            }
        }
        if b.independent_blend_enable && host.features.has(Feature::IndepBlend) {
            for i in 0..count {
                let m = b.rt[i].colormask;
                gl.color_mask_draw_buffer(i as u32, m & 1 != 0, m & 2 != 0, m & 4 != 0, m & 8 != 0);
            }
        } else {
            let m = b.rt[0].colormask;
            gl.color_mask(m & 1 != 0, m & 2 != 0, m & 4 != 0, m & 8 != 0);
        }
    }
    set(gl, glow::SAMPLE_ALPHA_TO_COVERAGE, b.alpha_to_coverage);
    if !host.is_gles() {
        set(gl, glow::SAMPLE_ALPHA_TO_ONE, b.alpha_to_one);
    }
    set(gl, glow::DITHER, b.dither);
    Ok(())
}

fn emit_dsa(host: &HostGl, d: &DsaState, stencil_ref: [u8; 2]) {
    let gl = &host.gl;
    set(gl, glow::DEPTH_TEST, d.depth_enabled);
    // SAFETY: state setters with enums from total conversions on the current context.
    unsafe {
        gl.depth_mask(d.depth_writemask);
        gl.depth_func(glenum::compare_func(d.depth_func));
        let [front, back] = d.stencil;
        set(gl, glow::STENCIL_TEST, front.enabled);
        let faces: [(u32, _, u8); 2] = if back.enabled {
            [
                (glow::FRONT, front, stencil_ref[0]),
                (glow::BACK, back, stencil_ref[1]),
            ]
        } else {
            [
                (glow::FRONT_AND_BACK, front, stencil_ref[0]),
                (glow::FRONT_AND_BACK, front, stencil_ref[0]),
            ]
        };
        for (face, s, r) in faces {
            gl.stencil_func_separate(
                face,
                glenum::compare_func(s.func),
                i32::from(r),
                u32::from(s.valuemask),
            );
            gl.stencil_op_separate(
                face,
                glenum::stencil_op(s.fail_op),
                glenum::stencil_op(s.zfail_op),
                glenum::stencil_op(s.zpass_op),
            );
            gl.stencil_mask_separate(face, u32::from(s.writemask));
        }
    }
}

fn polygon_mode(raw: u8) -> u32 {
    match raw {
        1 => glow::LINE,
        2 => glow::POINT,
        _ => glow::FILL,
    }
}

fn emit_rasterizer(host: &HostGl, rs: &RasterizerState, origin_upper_left: bool) {
    let gl = &host.gl;
    let f = rs.flags;
    let desktop = !host.is_gles();
    // SAFETY: state setters with valid enums (every branch maps to a GL constant) on the
    // current context; desktop-only entry points are only called on desktop hosts.
    unsafe {
        if desktop {
            // Core profiles only take FRONT_AND_BACK: use the mode of the face that is drawn
            // (draws that show both faces in different modes are split: `polygon_passes`).
            let mode = if rs.cull_face == 1 {
                rs.fill_back
            } else {
                rs.fill_front
            };
            gl.polygon_mode(glow::FRONT_AND_BACK, polygon_mode(mode));
        }
        set(gl, glow::CULL_FACE, rs.cull_face != 0);
        match rs.cull_face {
            1 => gl.cull_face(glow::FRONT),
            2 => gl.cull_face(glow::BACK),
            3 => gl.cull_face(glow::FRONT_AND_BACK),
            _ => {}
        }
        let ccw = f.contains(RasterizerFlags::FRONT_CCW) ^ !origin_upper_left;
        gl.front_face(if ccw { glow::CCW } else { glow::CW });
        set(
            gl,
            glow::POLYGON_OFFSET_FILL,
            f.contains(RasterizerFlags::OFFSET_TRI),
        );
        if desktop {
            set(
                gl,
                glow::POLYGON_OFFSET_LINE,
                f.contains(RasterizerFlags::OFFSET_LINE),
            );
            set(
                gl,
                glow::POLYGON_OFFSET_POINT,
                f.contains(RasterizerFlags::OFFSET_POINT),
            );
        }
        let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
        match host.extra.polygon_offset_clamp {
            Some(clamp) if rs.offset_clamp != 0.0 => clamp(
                finite(rs.offset_scale),
                finite(rs.offset_units),
                finite(rs.offset_clamp),
            ),
            _ => gl.polygon_offset(finite(rs.offset_scale), finite(rs.offset_units)),
        }
        if let Some(clip_control) = host.extra.clip_control {
            let depth = if f.contains(RasterizerFlags::CLIP_HALFZ) {
                glow::ZERO_TO_ONE
            } else {
                glow::NEGATIVE_ONE_TO_ONE
            };
            clip_control(glow::LOWER_LEFT, depth);
        }
        set(gl, glow::SCISSOR_TEST, f.contains(RasterizerFlags::SCISSOR));
        set(
            gl,
            glow::RASTERIZER_DISCARD,
            f.contains(RasterizerFlags::RASTERIZER_DISCARD),
        );
        // Core profiles only accept widths up to ALIASED_LINE_WIDTH_RANGE; GL clamps.
        let lw = if rs.line_width.is_finite() && rs.line_width > 0.0 {
            rs.line_width
        } else {
            1.0
        };
        gl.line_width(lw);
        if desktop {
            set(
                gl,
                glow::LINE_SMOOTH,
                f.contains(RasterizerFlags::LINE_SMOOTH),
            );
            set(
                gl,
                glow::POLYGON_SMOOTH,
                f.contains(RasterizerFlags::POLY_SMOOTH),
            );
            set(
                gl,
                glow::MULTISAMPLE,
                f.contains(RasterizerFlags::MULTISAMPLE),
            );
            set(
                gl,
                glow::DEPTH_CLAMP,
                !f.contains(RasterizerFlags::DEPTH_CLIP),
            );
            set(
                gl,
                glow::PROGRAM_POINT_SIZE,
                f.contains(RasterizerFlags::POINT_SIZE_PER_VERTEX),
            );
            if let Some(ps) = host.extra.point_size {
                if rs.point_size.is_finite() && rs.point_size > 0.0 {
                    ps(rs.point_size);
                }
            }
            if let Some(pv) = host.extra.provoking_vertex {
                pv(if f.contains(RasterizerFlags::FLATSHADE_FIRST) {
                    glow::FIRST_VERTEX_CONVENTION
                } else {
                    glow::LAST_VERTEX_CONVENTION
                });
            }
        }
        for i in 0..8u32 {
            set(
                gl,
                glow::CLIP_DISTANCE0 + i,
                rs.clip_plane_enable & (1 << i) != 0,
            );
        }
    }
}

/// Viewports as GL wants them: `(x, y, w, h, near, far)` with positive sizes; whether the
/// first one is Y-inverted is returned separately (it becomes the `flip_y` shader key).
pub(crate) fn gl_viewport(vp: &[f32; 6], clip_halfz: bool) -> [f32; 6] {
    let [s0, s1, s2, t0, t1, t2] = vp.map(|v| if v.is_finite() { v } else { 0.0 });
    let (w, h) = (s0.abs() * 2.0, s1.abs() * 2.0);
    let (x, y) = (t0 - s0.abs(), t1 - s1.abs());
    let (near, far) = if clip_halfz {
        (t2, t2 + s2)
    } else {
        (t2 - s2, t2 + s2)
    };
    [x, y, w, h, near, far]
}

/// Emits what changed. `viewports`/`scissors` are the guest's slots.
pub(crate) struct StateInputs<'a> {
    pub fixed: FixedState<'a>,
    pub viewports: &'a [[f32; 6]],
    pub scissors: &'a [Scissor],
    pub stencil_ref: [u8; 2],
    pub blend_color: [f32; 4],
    pub sample_mask: u32,
    pub min_samples: u32,
    pub fb_samples: u32,
}

pub(crate) fn apply(host: &HostGl, shadow: &mut GlShadow, s: &StateInputs<'_>) -> VrendResult<()> {
    let gl = &host.gl;
    let fx = &s.fixed;
    let blend_key = (*fx.blend, fx.no_alpha_cbufs, fx.nr_cbufs);
    if shadow.blend.as_ref() != Some(&blend_key) {
        emit_blend(host, fx.blend, fx.no_alpha_cbufs, fx.nr_cbufs)?;
        shadow.blend = Some(blend_key);
    }
    let dsa_key = (*fx.dsa, s.stencil_ref);
    if shadow.dsa.as_ref() != Some(&dsa_key) {
        emit_dsa(host, fx.dsa, s.stencil_ref);
        shadow.dsa = Some(dsa_key);
    }
    let rs_key = (*fx.rs, fx.origin_upper_left);
    if shadow.rs.as_ref() != Some(&rs_key) {
        emit_rasterizer(host, fx.rs, fx.origin_upper_left);
        shadow.rs = Some(rs_key);
    }
    let halfz = fx.rs.flags.contains(RasterizerFlags::CLIP_HALFZ);
    let vp_same = shadow
        .viewports
        .as_ref()
        .is_some_and(|(v, h)| v.as_slice() == s.viewports && *h == halfz);
    if !vp_same {
        let multi = host.features.has(Feature::ViewportArray);
        for (i, vp) in s.viewports.iter().enumerate() {
            let [x, y, w, h, n, f] = gl_viewport(vp, halfz);
            // SAFETY: viewport setters with non-negative sizes on the current context; indices
            // above 0 only with ARB_viewport_array (and below 16, its minimum count).
            unsafe {
                if i == 0 {
                    gl.viewport(x as i32, y as i32, w as i32, h as i32);
                    gl.depth_range(f64::from(n), f64::from(f));
                } else if multi {
                    gl.viewport_f32_slice(i as u32, 1, &[[x, y, w, h]]);
                    if !host.is_gles() {
                        gl.depth_range_f64_slice(i as u32, 1, &[[f64::from(n), f64::from(f)]]);
                    } else if let Some(set) = host.extra.depth_range_indexed_f {
                        set(i as u32, n, f);
                    }
                }
            }
        }
        shadow.viewports = Some((s.viewports.to_vec(), halfz));
    }
    if shadow.scissors.as_deref() != Some(s.scissors) {
        let multi = host.features.has(Feature::ViewportArray);
        for (i, sc) in s.scissors.iter().enumerate() {
            let (x, y) = (i32::from(sc.minx), i32::from(sc.miny));
            let w = i32::from(sc.maxx.saturating_sub(sc.minx));
            let h = i32::from(sc.maxy.saturating_sub(sc.miny));
            // SAFETY: scissor setters with non-negative sizes on the current context.
            unsafe {
                if i == 0 {
                    gl.scissor(x, y, w, h);
                } else if multi {
                    gl.scissor_slice(i as u32, 1, &[[x, y, w, h]]);
                }
            }
        }
        shadow.scissors = Some(s.scissors.to_vec());
    }
    if shadow.blend_color != Some(s.blend_color) {
        let [r, g, b, a] = s.blend_color;
        // SAFETY: plain state setter.
        unsafe { gl.blend_color(r, g, b, a) };
        shadow.blend_color = Some(s.blend_color);
    }
    if shadow.sample_mask != Some(s.sample_mask) {
        if let Some(mask) = host.extra.sample_mask_i {
            let all = s.sample_mask == !0;
            set(gl, glow::SAMPLE_MASK, !all);
            // SAFETY: word 0 always exists.
            unsafe { mask(0, s.sample_mask) };
        }
        shadow.sample_mask = Some(s.sample_mask);
    }
    if shadow.min_samples != Some(s.min_samples) {
        if let Some(min) = host.extra.min_sample_shading {
            let on = s.min_samples > 1 && s.fb_samples > 1;
            set(gl, glow::SAMPLE_SHADING, on);
            if on {
                // SAFETY: a fraction in [0, 1].
                unsafe { min((s.min_samples as f32 / s.fb_samples as f32).min(1.0)) };
            }
        }
        shadow.min_samples = Some(s.min_samples);
    }
    Ok(())
}

/// Primitive restart (a fixed index on desktop GL; GLES only knows the all-ones index).
pub(crate) fn apply_restart(
    host: &HostGl,
    shadow: &mut GlShadow,
    restart: Option<u32>,
    index_size: u32,
) -> VrendResult<()> {
    if shadow.restart == Some(restart) {
        return Ok(());
    }
    let gl = &host.gl;
    match (restart, host.extra.primitive_restart_index) {
        (None, _) => {
            if host.is_gles() {
                set(gl, glow::PRIMITIVE_RESTART_FIXED_INDEX, false);
            } else {
                set(gl, glow::PRIMITIVE_RESTART, false);
            }
        }
        (Some(idx), Some(f)) => {
            set(gl, glow::PRIMITIVE_RESTART, true);
            // SAFETY: any index value is valid.
            unsafe { f(idx) };
        }
        (Some(idx), None) => {
            let all_ones = match index_size {
                1 => 0xff,
                2 => 0xffff,
                _ => 0xffff_ffff,
            };
            if idx != all_ones {
                return Err(VrendError::Unsupported(format!(
                    "primitive restart index {idx:#x} on a GLES host"
                )));
            }
            set(gl, glow::PRIMITIVE_RESTART_FIXED_INDEX, true);
        }
    }
    shadow.restart = Some(restart);
    Ok(())
}

/// GL_FRAMEBUFFER_SRGB follows the first colour buffer's format.
pub(crate) fn apply_srgb(host: &HostGl, shadow: &mut GlShadow, on: bool) {
    if shadow.srgb == Some(on) || host.is_gles() {
        return;
    }
    set(&host.gl, glow::FRAMEBUFFER_SRGB, on);
    shadow.srgb = Some(on);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewports_convert_like_upstream() {
        // 100x50 viewport at the origin, depth [0, 1] in -1..1 clip space.
        let vp = [50.0, 25.0, 0.5, 50.0, 25.0, 0.5];
        assert_eq!(gl_viewport(&vp, false), [0.0, 0.0, 100.0, 50.0, 0.0, 1.0]);
        // Y-inverted: same rectangle (the flip happens in the shader).
        let inv = [50.0, -25.0, 0.5, 50.0, 25.0, 0.5];
        assert_eq!(gl_viewport(&inv, false), [0.0, 0.0, 100.0, 50.0, 0.0, 1.0]);
        // Half-z: near = translate, far = translate + scale.
        let hz = [50.0, 25.0, 1.0, 50.0, 25.0, 0.0];
        assert_eq!(gl_viewport(&hz, true)[4..], [0.0, 1.0]);
        // NaNs from a hostile guest never reach GL.
        let nan = [f32::NAN; 6];
        assert!(gl_viewport(&nan, false).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn different_face_modes_split_the_draw() {
        let rs = RasterizerState {
            fill_front: 0,
            fill_back: 2,
            ..default_rasterizer()
        };
        let passes = polygon_passes(false, &rs, glow::TRIANGLES, false).unwrap();
        assert_eq!(
            passes,
            [
                PolygonPass {
                    cull: glow::BACK,
                    mode: glow::FILL
                },
                PolygonPass {
                    cull: glow::FRONT,
                    mode: glow::POINT
                }
            ]
        );
        // One pass: same modes, culling, lines, stream output, GLES, no rasterization.
        let same = RasterizerState { fill_back: 0, ..rs };
        assert!(polygon_passes(false, &same, glow::TRIANGLES, false).is_none());
        let culled = RasterizerState { cull_face: 2, ..rs };
        assert!(polygon_passes(false, &culled, glow::TRIANGLES, false).is_none());
        assert!(polygon_passes(false, &rs, glow::LINES, false).is_none());
        assert!(polygon_passes(false, &rs, glow::TRIANGLES, true).is_none());
        assert!(polygon_passes(true, &rs, glow::TRIANGLES, false).is_none());
        let discard = RasterizerState {
            flags: rs.flags | RasterizerFlags::RASTERIZER_DISCARD,
            ..rs
        };
        assert!(polygon_passes(false, &discard, glow::TRIANGLES, false).is_none());
    }

    #[test]
    fn missing_alpha_turns_dst_alpha_into_one() {
        let rt = RtBlend {
            blend_enable: true,
            rgb_src_factor: 0x04,   // DST_ALPHA
            rgb_dst_factor: 0x14,   // INV_DST_ALPHA
            alpha_src_factor: 0x06, // SRC_ALPHA_SATURATE
            alpha_dst_factor: 0x01,
            ..Default::default()
        };
        assert_eq!(
            rt_factors(&rt, true).unwrap(),
            [glow::ONE, glow::ZERO, glow::ZERO, glow::ONE]
        );
        assert_eq!(rt_factors(&rt, false).unwrap()[0], glow::DST_ALPHA);
        let bad = RtBlend {
            rgb_src_factor: 0x1f,
            ..rt
        };
        assert!(rt_factors(&bad, false).is_err());
    }
}
