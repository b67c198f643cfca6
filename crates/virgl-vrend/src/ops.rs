//! GL execution of framebuffer binding, clears, blits and region copies.
//!
//! Callers have validated handles and attachment; these functions validate levels, layers and
//! boxes against the resources before touching GL and report GL errors as host failures.

use std::collections::HashMap;

use glow::HasContext;
use virgl_protocol::VirglFormat;

use crate::context::SubContext;
use crate::error::{VrendError, VrendResult};
use crate::features::Feature;
use crate::formats::HostFormat;
use crate::host::HostGl;
use crate::objects::Surface;
use crate::resource::{GlResource, Storage, TexBox};

/// `PIPE_CLEAR_*`.
mod pipe_clear {
    pub const DEPTH: u32 = 1 << 0;
    pub const STENCIL: u32 = 1 << 1;
    pub const COLOR0: u32 = 1 << 2;
}

/// `PIPE_MASK_*` of a blit.
mod pipe_mask {
    pub const RGBA: u32 = 0xf;
    pub const Z: u32 = 1 << 4;
    pub const S: u32 = 1 << 5;
}

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

/// A clear value as the guest sends it (colour dwords are floats or integers by format).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClearValue {
    pub color: [u32; 4],
    pub depth: f64,
    pub stencil: u32,
}

fn resource(resources: &HashMap<u32, GlResource>, id: u32) -> VrendResult<&GlResource> {
    resources
        .get(&id)
        .ok_or_else(|| invalid(format!("unknown resource {id}")))
}

fn texture_of(res: &GlResource) -> VrendResult<(glow::Texture, u32)> {
    match res.storage {
        Storage::Texture { tex, target } => Ok((tex, target)),
        _ => Err(invalid(format!(
            "resource {} is not a texture",
            res.args.handle
        ))),
    }
}

fn host_format(host: &HostGl, res: &GlResource, format: u32) -> VrendResult<HostFormat> {
    host.formats
        .get(format)
        .copied()
        .or(res.format)
        .ok_or_else(|| invalid("format"))
}

fn is_srgb(format: u32) -> bool {
    VirglFormat::from_raw(format).is_some_and(|f| f.is_srgb())
}

/// The attachment point for a depth/stencil format.
fn ds_attachment(f: &HostFormat) -> u32 {
    match (f.entry.has_depth(), f.entry.has_stencil()) {
        (true, true) => glow::DEPTH_STENCIL_ATTACHMENT,
        (false, true) => glow::STENCIL_ATTACHMENT,
        _ => glow::DEPTH_ATTACHMENT,
    }
}

/// Attaches `layer` (or all layers when `None`) of `level` of a texture resource.
fn attach(
    gl: &glow::Context,
    fb_target: u32,
    attachment: u32,
    res: &GlResource,
    level: u32,
    layer: Option<u32>,
) -> VrendResult<()> {
    let (tex, target) = texture_of(res)?;
    let (_, _, layers) = res.level_size(level);
    if level > res.args.last_level || layer.is_some_and(|l| l >= layers) {
        return Err(invalid("attachment level/layer outside the resource"));
    }
    let l = level as i32;
    // SAFETY: a current context with a framebuffer bound to `fb_target`; the texture is live
    // and level/layer were checked against it.
    unsafe {
        match (target, layer) {
            (glow::TEXTURE_2D | glow::TEXTURE_RECTANGLE | glow::TEXTURE_2D_MULTISAMPLE, _) => {
                gl.framebuffer_texture_2d(fb_target, attachment, target, Some(tex), l)
            }
            (glow::TEXTURE_1D, _) => gl.framebuffer_texture(fb_target, attachment, Some(tex), l),
            (glow::TEXTURE_CUBE_MAP, Some(face)) => gl.framebuffer_texture_2d(
                fb_target,
                attachment,
                glow::TEXTURE_CUBE_MAP_POSITIVE_X + face,
                Some(tex),
                l,
            ),
            (_, Some(layer)) => {
                gl.framebuffer_texture_layer(fb_target, attachment, Some(tex), l, layer as i32)
            }
            (_, None) => gl.framebuffer_texture(fb_target, attachment, Some(tex), l),
        }
    }
    Ok(())
}

fn attach_surface(
    gl: &glow::Context,
    fb_target: u32,
    attachment: u32,
    res: &GlResource,
    s: &Surface,
) -> VrendResult<()> {
    if let Some((view, target)) = s.view {
        let single = s.first_layer == s.last_layer;
        // SAFETY: a current context with a framebuffer bound to `fb_target`; the view is live
        // and covers exactly the surface (level 0, layers relative to the first).
        unsafe {
            match target {
                glow::TEXTURE_2D | glow::TEXTURE_RECTANGLE | glow::TEXTURE_2D_MULTISAMPLE => {
                    gl.framebuffer_texture_2d(fb_target, attachment, target, Some(view), 0)
                }
                _ if single => {
                    gl.framebuffer_texture_layer(fb_target, attachment, Some(view), 0, 0)
                }
                _ => gl.framebuffer_texture(fb_target, attachment, Some(view), 0),
            }
        }
        return Ok(());
    }
    let layer = (s.first_layer == s.last_layer).then_some(s.first_layer);
    let layer = if res.args.target == crate::resource::pipe_target::TEXTURE_2D
        || res.args.target == crate::resource::pipe_target::TEXTURE_RECT
    {
        None
    } else {
        layer
    };
    attach(gl, fb_target, attachment, res, s.level, layer)
}

/// A texture view of one level and a layer range of `res` in another format, for a surface
/// or blit that reads or renders "as" that format. `None` where GL cannot make one (mutable storage, 3D
/// textures, no ARB_texture_view): the surface then renders in the resource's own format.
pub(crate) fn format_view(
    host: &HostGl,
    res: &GlResource,
    format: u32,
    level: u32,
    first: u32,
    last: u32,
) -> VrendResult<Option<(glow::Texture, u32)>> {
    let (Some(make_view), Storage::Texture { tex, target }) =
        (host.extra.texture_view, &res.storage)
    else {
        return Ok(None);
    };
    let Some(f) = host.formats.get(format) else {
        return Ok(None);
    };
    let view_target = match *target {
        glow::TEXTURE_3D => return Ok(None),
        glow::TEXTURE_CUBE_MAP => glow::TEXTURE_2D_ARRAY,
        t => t,
    };
    let gl = &host.gl;
    // SAFETY: current context; the resource's texture is live; GL checks view compatibility
    // and reports an error, after which the view is deleted and the surface falls back.
    unsafe {
        gl.bind_texture(*target, Some(*tex));
        let immutable = gl.get_tex_parameter_i32(*target, glow::TEXTURE_IMMUTABLE_FORMAT);
        gl.bind_texture(*target, None);
        if immutable == 0 {
            return Ok(None);
        }
        host.take_error();
        let view = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        let layered = !matches!(
            view_target,
            glow::TEXTURE_2D
                | glow::TEXTURE_RECTANGLE
                | glow::TEXTURE_1D
                | glow::TEXTURE_2D_MULTISAMPLE
        );
        make_view(
            view.0.get(),
            view_target,
            tex.0.get(),
            f.entry.internal,
            level,
            1,
            if layered { first } else { 0 },
            if layered { last - first + 1 } else { 1 },
        );
        if host.take_error() != glow::NO_ERROR {
            gl.delete_texture(view);
            tracing::debug!(
                format,
                "surface view refused by GL; rendering in the resource's format"
            );
            return Ok(None);
        }
        Ok(Some((view, view_target)))
    }
}

/// Attaches layer `layer` (or all layers) of a view made by [`format_view`] covering every
/// layer of one level.
fn attach_view(
    gl: &glow::Context,
    fb_target: u32,
    attachment: u32,
    (view, target): (glow::Texture, u32),
    layer: Option<u32>,
) {
    // SAFETY: a current context with a framebuffer bound to `fb_target`; the view is live and
    // its level 0 is the level being attached; `layer` was checked against the level.
    unsafe {
        match (target, layer) {
            (glow::TEXTURE_2D | glow::TEXTURE_RECTANGLE | glow::TEXTURE_2D_MULTISAMPLE, _) => {
                gl.framebuffer_texture_2d(fb_target, attachment, target, Some(view), 0)
            }
            (_, Some(l)) => {
                gl.framebuffer_texture_layer(fb_target, attachment, Some(view), 0, l as i32)
            }
            (_, None) => gl.framebuffer_texture(fb_target, attachment, Some(view), 0),
        }
    }
}

/// A texture deleted on drop (temporary views).
struct TempTex<'a> {
    gl: &'a glow::Context,
    tex: Option<(glow::Texture, u32)>,
}

impl Drop for TempTex<'_> {
    fn drop(&mut self) {
        if let Some((t, _)) = self.tex {
            // SAFETY: the view was created by this blit and is referenced nowhere else.
            unsafe { self.gl.delete_texture(t) };
        }
    }
}

/// Binds the sub-context's framebuffer with its current attachments.
pub(crate) fn bind_framebuffer(
    host: &HostGl,
    sub: &SubContext,
    resources: &HashMap<u32, GlResource>,
) -> VrendResult<()> {
    let gl = &host.gl;
    let fbo = sub
        .fbo
        .ok_or_else(|| VrendError::HostGlMissing("framebuffer objects".into()))?;
    // SAFETY: the sub-context's GL context is current and owns `fbo`.
    unsafe {
        gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fbo));
        for i in 0..8 {
            gl.framebuffer_texture(glow::FRAMEBUFFER, glow::COLOR_ATTACHMENT0 + i, None, 0);
        }
        gl.framebuffer_texture(glow::FRAMEBUFFER, glow::DEPTH_STENCIL_ATTACHMENT, None, 0);
    }
    let mut draw = Vec::new();
    for (i, cbuf) in sub.fb.cbufs.iter().enumerate() {
        match cbuf {
            Some(s) => {
                let res = resource(resources, s.res_id)?;
                attach_surface(
                    gl,
                    glow::FRAMEBUFFER,
                    glow::COLOR_ATTACHMENT0 + i as u32,
                    res,
                    s,
                )?;
                draw.push(glow::COLOR_ATTACHMENT0 + i as u32);
            }
            None => draw.push(glow::NONE),
        }
    }
    if let Some(z) = &sub.fb.zsurf {
        let res = resource(resources, z.res_id)?;
        let f = host_format(host, res, z.format)?;
        if !f.entry.is_depth_stencil() {
            return Err(invalid(format!("zsurf of colour format {}", z.format)));
        }
        attach_surface(gl, glow::FRAMEBUFFER, ds_attachment(&f), res, z)?;
    }
    // SAFETY: as above.
    unsafe {
        if draw.is_empty() {
            gl.draw_buffers(&[glow::NONE]);
        } else {
            gl.draw_buffers(&draw);
        }
        if let Some((w, h, layers, samples)) = sub.fb.no_attach {
            let set = host
                .extra
                .framebuffer_parameteri
                .filter(|_| host.features.has(Feature::FbNoAttach))
                .ok_or_else(|| {
                    VrendError::Unsupported("framebuffers without attachments".into())
                })?;
            set(glow::FRAMEBUFFER, glow::FRAMEBUFFER_DEFAULT_WIDTH, w as i32);
            set(
                glow::FRAMEBUFFER,
                glow::FRAMEBUFFER_DEFAULT_HEIGHT,
                h as i32,
            );
            if !host.is_gles() {
                set(
                    glow::FRAMEBUFFER,
                    glow::FRAMEBUFFER_DEFAULT_LAYERS,
                    layers as i32,
                );
            }
            set(
                glow::FRAMEBUFFER,
                glow::FRAMEBUFFER_DEFAULT_SAMPLES,
                samples as i32,
            );
        }
    }
    host.check("set framebuffer")
}

/// Puts the write masks and tests that clears must ignore into their neutral state.
fn neutral_write_state(gl: &glow::Context) {
    // SAFETY: state setters on the current context.
    unsafe {
        gl.disable(glow::SCISSOR_TEST);
        gl.disable(glow::RASTERIZER_DISCARD);
        gl.color_mask(true, true, true, true);
        gl.depth_mask(true);
        gl.stencil_mask(!0);
    }
}

/// Clears draw buffer `index` (or depth/stencil) of the bound draw framebuffer.
fn clear_color(gl: &glow::Context, index: u32, f: &HostFormat, v: &ClearValue) {
    // SAFETY: a current context with a draw framebuffer whose draw buffer `index` exists.
    unsafe {
        if f.entry.is_integer() {
            let signed = matches!(f.entry.ty, glow::BYTE | glow::SHORT | glow::INT);
            if signed {
                gl.clear_buffer_i32_slice(glow::COLOR, index, &v.color.map(|c| c as i32));
            } else {
                gl.clear_buffer_u32_slice(glow::COLOR, index, &v.color);
            }
        } else {
            gl.clear_buffer_f32_slice(glow::COLOR, index, &v.color.map(f32::from_bits));
        }
    }
}

fn clear_depth_stencil(gl: &glow::Context, depth: bool, stencil: bool, v: &ClearValue) {
    // SAFETY: a current context with a draw framebuffer.
    unsafe {
        match (depth, stencil) {
            (true, true) => gl.clear_buffer_depth_stencil(
                glow::DEPTH_STENCIL,
                0,
                v.depth as f32,
                v.stencil as i32,
            ),
            (true, false) => gl.clear_buffer_f32_slice(glow::DEPTH, 0, &[v.depth as f32]),
            (false, true) => gl.clear_buffer_i32_slice(glow::STENCIL, 0, &[v.stencil as i32]),
            (false, false) => {}
        }
    }
}

fn set_srgb(host: &HostGl, on: bool) {
    if host.is_gles() {
        return;
    }
    // SAFETY: a state toggle on the current desktop GL context.
    unsafe {
        if on {
            host.gl.enable(glow::FRAMEBUFFER_SRGB);
        } else {
            host.gl.disable(glow::FRAMEBUFFER_SRGB);
        }
    }
}

/// `pipe->clear`: the whole framebuffer, ignoring scissor and write masks.
pub(crate) fn clear(
    host: &HostGl,
    sub: &SubContext,
    resources: &HashMap<u32, GlResource>,
    buffers: u32,
    value: &ClearValue,
) -> VrendResult<()> {
    let gl = &host.gl;
    // SAFETY: the sub-context's context is current and owns its FBO.
    unsafe { gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, sub.fbo) };
    neutral_write_state(gl);
    for (i, cbuf) in sub.fb.cbufs.iter().enumerate() {
        let Some(s) = cbuf else { continue };
        if buffers & (pipe_clear::COLOR0 << i) == 0 {
            continue;
        }
        let res = resource(resources, s.res_id)?;
        let f = host_format(host, res, s.format)?;
        set_srgb(host, is_srgb(s.format));
        clear_color(gl, i as u32, &f, value);
    }
    set_srgb(host, false);
    if sub.fb.zsurf.is_some() {
        clear_depth_stencil(
            gl,
            buffers & pipe_clear::DEPTH != 0,
            buffers & pipe_clear::STENCIL != 0,
            value,
        );
    }
    host.check("clear")
}

/// A temporary framebuffer on the current context, deleted on drop.
struct TempFbo<'a> {
    gl: &'a glow::Context,
    fbo: glow::Framebuffer,
}

impl<'a> TempFbo<'a> {
    fn new(gl: &'a glow::Context, target: u32) -> VrendResult<Self> {
        // SAFETY: creating and binding an FBO on the current context.
        unsafe {
            let fbo = gl.create_framebuffer().map_err(VrendError::HostGlMissing)?;
            gl.bind_framebuffer(target, Some(fbo));
            Ok(Self { gl, fbo })
        }
    }
}

impl Drop for TempFbo<'_> {
    fn drop(&mut self) {
        // SAFETY: the FBO was created on the current context by `new`.
        unsafe { self.gl.delete_framebuffer(self.fbo) };
    }
}

/// `CLEAR_SURFACE` (clear_render_target / clear_depth_stencil): a rectangle of one surface.
pub(crate) fn clear_surface(
    host: &HostGl,
    resources: &HashMap<u32, GlResource>,
    s: &Surface,
    buffers: u32,
    value: &ClearValue,
    rect: (u32, u32, u32, u32),
) -> VrendResult<()> {
    let gl = &host.gl;
    let res = resource(resources, s.res_id)?;
    let f = host_format(host, res, s.format)?;
    let (x, y, w, h) = rect;
    let (lw, lh, _) = res.level_size(s.level);
    if x.checked_add(w).is_none_or(|e| e > lw) || y.checked_add(h).is_none_or(|e| e > lh) {
        return Err(invalid("clear rectangle outside the surface"));
    }
    let y = if res.y_0_top() { lh - y - h } else { y };
    let _fbo = TempFbo::new(gl, glow::DRAW_FRAMEBUFFER)?;
    neutral_write_state(gl);
    if f.entry.is_depth_stencil() {
        attach_surface(gl, glow::DRAW_FRAMEBUFFER, ds_attachment(&f), res, s)?;
    } else {
        attach_surface(gl, glow::DRAW_FRAMEBUFFER, glow::COLOR_ATTACHMENT0, res, s)?;
    }
    // SAFETY: a current context with the temporary FBO bound for drawing.
    unsafe {
        gl.draw_buffers(&[if f.entry.is_depth_stencil() {
            glow::NONE
        } else {
            glow::COLOR_ATTACHMENT0
        }]);
        gl.enable(glow::SCISSOR_TEST);
        gl.scissor(x as i32, y as i32, w as i32, h as i32);
    }
    if f.entry.is_depth_stencil() {
        clear_depth_stencil(
            gl,
            buffers & pipe_clear::DEPTH != 0,
            buffers & pipe_clear::STENCIL != 0,
            value,
        );
    } else if buffers & pipe_clear::COLOR0 != 0 {
        set_srgb(host, is_srgb(s.format));
        clear_color(gl, 0, &f, value);
        set_srgb(host, false);
    }
    // SAFETY: state reset on the current context.
    unsafe { gl.disable(glow::SCISSOR_TEST) };
    host.check("clear surface")
}

/// `CLEAR_TEXTURE`: fills a box with one texel value given in the resource's format.
pub(crate) fn clear_texture(
    host: &HostGl,
    res: &GlResource,
    level: u32,
    bx: &TexBox,
    data: &[u32; 4],
) -> VrendResult<()> {
    let (tex, _) = texture_of(res)?;
    res.check_box(level, bx)?;
    let f = res
        .format
        .ok_or_else(|| invalid("texture without format"))?;
    let clear = host
        .extra
        .clear_tex_sub_image
        .ok_or_else(|| VrendError::Unsupported("CLEAR_TEXTURE without ARB_clear_texture".into()))?;
    let bytes: Vec<u8> = data.iter().flat_map(|d| d.to_le_bytes()).collect();
    let (_, lh, _) = res.level_size(level);
    let y = if res.y_0_top() {
        lh - bx.y - bx.height
    } else {
        bx.y
    };
    // SAFETY: the box was checked against the level; `bytes` holds 16 bytes, at least one texel
    // of any uncompressed format (GL reads one texel of format/type).
    unsafe {
        clear(
            tex.0.get(),
            level as i32,
            bx.x as i32,
            y as i32,
            bx.z as i32,
            bx.width as i32,
            bx.height as i32,
            bx.depth as i32,
            f.entry.format,
            f.entry.ty,
            bytes.as_ptr().cast(),
        )
    };
    host.check("clear texture")
}

/// One side of a blit (signed box: negative sizes mirror).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlitSide {
    pub res_id: u32,
    pub level: u32,
    pub format: u32,
    pub x: i32,
    pub y: i32,
    pub z: i32,
    pub w: i32,
    pub h: i32,
    pub d: i32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct BlitInfo {
    pub mask: u32,
    pub filter: u32,
    /// `(minx, miny, maxx, maxy)` when the scissor applies.
    pub scissor: Option<(u32, u32, u32, u32)>,
    pub dst: BlitSide,
    pub src: BlitSide,
}

/// GL rectangle `(x0, y0, x1, y1)` of a blit side, checked against its level.
fn blit_rect(res: &GlResource, s: &BlitSide) -> VrendResult<(i32, i32, i32, i32)> {
    let (lw, lh, _) = res.level_size(s.level);
    let (x0, x1) = (i64::from(s.x), i64::from(s.x) + i64::from(s.w));
    let (y0, y1) = (i64::from(s.y), i64::from(s.y) + i64::from(s.h));
    // Boxes may reach past the level (scaled blits of clipped rectangles do): GL clips the
    // blit to both framebuffers, so only sizes GL cannot represent are refused.
    const LIMIT: i64 = 1 << 20;
    let sane = |a: i64, b: i64| a.abs() <= LIMIT && b.abs() <= LIMIT;
    if !sane(x0, x1) || !sane(y0, y1) || s.w == 0 || s.h == 0 {
        return Err(invalid(format!(
            "blit box {s:?} unusable for a level of {lw}x{lh}"
        )));
    }
    let (y0, y1) = if res.y_0_top() {
        (i64::from(lh) - y0, i64::from(lh) - y1)
    } else {
        (y0, y1)
    };
    Ok((x0 as i32, y0 as i32, x1 as i32, y1 as i32))
}

/// `BLIT`: scaled/filtered copy between surfaces, also resolving multisample sources.
/// Whether a resource is imported BGRA memory (stored in an RGBA texture, see import.rs).
fn imported_bgra(res: &GlResource) -> bool {
    res.imported && crate::import::is_bgra(res.args.format)
}

pub(crate) fn blit(
    host: &HostGl,
    resources: &HashMap<u32, GlResource>,
    info: &BlitInfo,
) -> VrendResult<()> {
    let gl = &host.gl;
    let src = resource(resources, info.src.res_id)?;
    let dst = resource(resources, info.dst.res_id)?;
    texture_of(src)?;
    texture_of(dst)?;
    if info.src.level > src.args.last_level || info.dst.level > dst.args.last_level {
        return Err(invalid("blit level outside the resource"));
    }
    let sf = host_format(host, src, info.src.format)?;
    let df = host_format(host, dst, info.dst.format)?;
    let (s0x, s0y, s1x, s1y) = blit_rect(src, &info.src)?;
    let (d0x, d0y, d1x, d1y) = blit_rect(dst, &info.dst)?;
    let (_, _, src_layers) = src.level_size(info.src.level);
    let (_, _, dst_layers) = dst.level_size(info.dst.level);
    let layers = info.dst.d.unsigned_abs().max(1);
    let layer_ok =
        |z: i32, n: u32, lim: u32| z >= 0 && (z as u32).checked_add(n).is_some_and(|e| e <= lim);
    let src_n = if info.src.d.unsigned_abs() == layers {
        layers
    } else {
        1
    };
    if !layer_ok(info.dst.z, layers, dst_layers) || !layer_ok(info.src.z, src_n, src_layers) {
        return Err(invalid("blit layers outside the resources"));
    }
    let mut mask = 0;
    if info.mask & pipe_mask::RGBA != 0
        && !sf.entry.is_depth_stencil()
        && !df.entry.is_depth_stencil()
    {
        mask |= glow::COLOR_BUFFER_BIT;
    }
    if info.mask & pipe_mask::Z != 0 && sf.entry.has_depth() && df.entry.has_depth() {
        mask |= glow::DEPTH_BUFFER_BIT;
    }
    if info.mask & pipe_mask::S != 0 && sf.entry.has_stencil() && df.entry.has_stencil() {
        mask |= glow::STENCIL_BUFFER_BIT;
    }
    if mask == 0 {
        return Ok(());
    }
    let linear = info.filter == 1 && mask == glow::COLOR_BUFFER_BIT && !sf.entry.is_integer();
    let filter = if linear { glow::LINEAR } else { glow::NEAREST };
    // What glBlitFramebuffer refuses goes through the drawing blitter: depth between
    // different depth formats, colour from a format the host cannot attach.
    let depth_convert =
        mask & glow::DEPTH_BUFFER_BIT != 0 && sf.entry.internal != df.entry.internal;
    let color_unrenderable = mask == glow::COLOR_BUFFER_BIT
        && sf.caps.bind & crate::resource::virgl_bind::RENDER_TARGET == 0;
    // Imported BGRA memory sits in an RGBA texture: a blit between it and anything else
    // swaps red and blue, which only the drawing blitter can do.
    let swap_rb = mask == glow::COLOR_BUFFER_BIT && imported_bgra(src) != imported_bgra(dst);
    if depth_convert || color_unrenderable || swap_rb {
        return shader_blit(
            host,
            src,
            dst,
            info,
            (&sf, &df),
            (s0x, s0y, s1x, s1y),
            (d0x, d0y, d1x, d1y),
            layers,
            src_n,
        );
    }
    let read = TempFbo::new(gl, glow::READ_FRAMEBUFFER)?;
    let draw = TempFbo::new(gl, glow::DRAW_FRAMEBUFFER)?;
    neutral_write_state(gl);
    if let Some((minx, miny, maxx, maxy)) = info.scissor {
        let (_, lh, _) = dst.level_size(info.dst.level);
        let (y, h) = (miny.min(maxy), maxy.saturating_sub(miny));
        let y = if dst.y_0_top() {
            lh.saturating_sub(y + h)
        } else {
            y
        };
        // SAFETY: state setters on the current context.
        unsafe {
            gl.enable(glow::SCISSOR_TEST);
            gl.scissor(
                minx as i32,
                y as i32,
                maxx.saturating_sub(minx) as i32,
                h as i32,
            );
        }
    }
    set_srgb(host, is_srgb(info.dst.format));
    // A colour side whose format differs from its resource's reads or writes "as" that
    // format through a texture view (e.g. mipmap generation of an SNORM view of UNORM data).
    let side_view = |res: &GlResource, side: &BlitSide, f: &HostFormat| -> VrendResult<_> {
        let differs = res
            .format
            .is_some_and(|rf| rf.entry.internal != f.entry.internal);
        if mask != glow::COLOR_BUFFER_BIT || !differs {
            return Ok(None);
        }
        let (_, _, n) = res.level_size(side.level);
        let n = if res.args.target == crate::resource::pipe_target::TEXTURE_3D {
            1
        } else {
            n
        };
        format_view(host, res, side.format, side.level, 0, n - 1)
    };
    let src_view = TempTex {
        gl,
        tex: side_view(src, &info.src, &sf)?,
    };
    let dst_view = TempTex {
        gl,
        tex: side_view(dst, &info.dst, &df)?,
    };
    for i in 0..layers {
        let dz = info.dst.z as u32 + i;
        let sz = info.src.z as u32 + if src_n == layers { i } else { 0 };
        let single = |res: &GlResource, z: u32| {
            matches!(res.args.target, 1 | 2 | 5)
                .then_some(None)
                .unwrap_or(Some(z))
        };
        // SAFETY: the temporary FBOs are bound to their targets on the current context.
        unsafe {
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(read.fbo));
            gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, Some(draw.fbo));
        }
        if mask & glow::COLOR_BUFFER_BIT != 0 {
            match src_view.tex {
                Some(v) => attach_view(
                    gl,
                    glow::READ_FRAMEBUFFER,
                    glow::COLOR_ATTACHMENT0,
                    v,
                    single(src, sz),
                ),
                None => attach(
                    gl,
                    glow::READ_FRAMEBUFFER,
                    glow::COLOR_ATTACHMENT0,
                    src,
                    info.src.level,
                    single(src, sz),
                )?,
            }
            match dst_view.tex {
                Some(v) => attach_view(
                    gl,
                    glow::DRAW_FRAMEBUFFER,
                    glow::COLOR_ATTACHMENT0,
                    v,
                    single(dst, dz),
                ),
                None => attach(
                    gl,
                    glow::DRAW_FRAMEBUFFER,
                    glow::COLOR_ATTACHMENT0,
                    dst,
                    info.dst.level,
                    single(dst, dz),
                )?,
            }
        } else {
            attach(
                gl,
                glow::READ_FRAMEBUFFER,
                ds_attachment(&sf),
                src,
                info.src.level,
                single(src, sz),
            )?;
            attach(
                gl,
                glow::DRAW_FRAMEBUFFER,
                ds_attachment(&df),
                dst,
                info.dst.level,
                single(dst, dz),
            )?;
        }
        // SAFETY: both FBOs are complete or GL reports INVALID_FRAMEBUFFER_OPERATION, which
        // `check` turns into an error.
        unsafe {
            let cb = if mask & glow::COLOR_BUFFER_BIT != 0 {
                glow::COLOR_ATTACHMENT0
            } else {
                glow::NONE
            };
            gl.read_buffer(cb);
            gl.draw_buffers(&[cb]);
            gl.blit_framebuffer(s0x, s0y, s1x, s1y, d0x, d0y, d1x, d1y, mask, filter);
        }
    }
    set_srgb(host, false);
    // SAFETY: state reset on the current context.
    unsafe {
        gl.disable(glow::SCISSOR_TEST);
        gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, None);
    }
    drop((read, draw, src_view, dst_view));
    host.check("blit")
}

/// A GL rectangle `(x0, y0, x1, y1)`.
type Rect = (i32, i32, i32, i32);

/// The drawing-blitter path of [`blit`] (depth format conversion, unrenderable sources).
#[allow(clippy::too_many_arguments)]
fn shader_blit(
    host: &HostGl,
    src: &GlResource,
    dst: &GlResource,
    info: &BlitInfo,
    (sf, df): (&HostFormat, &HostFormat),
    src_rect: Rect,
    dst_rect: Rect,
    layers: u32,
    src_n: u32,
) -> VrendResult<()> {
    use crate::blitter::BlitKind;
    let depth = info.mask & pipe_mask::Z != 0 && sf.entry.has_depth() && df.entry.has_depth();
    let stencil = info.mask & pipe_mask::S != 0 && sf.entry.has_stencil() && df.entry.has_stencil();
    let color_kind = if df.entry.is_integer() {
        if matches!(df.entry.ty, glow::BYTE | glow::SHORT | glow::INT) {
            BlitKind::Sint
        } else {
            BlitKind::Uint
        }
    } else {
        BlitKind::Float
    };
    let kinds: Vec<BlitKind> = if depth || stencil {
        [(depth, BlitKind::Depth), (stencil, BlitKind::Stencil)]
            .into_iter()
            .filter_map(|(on, k)| on.then_some(k))
            .collect()
    } else {
        vec![color_kind]
    };
    for kind in kinds {
        shader_blit_pass(
            host,
            src,
            dst,
            info,
            (sf, df),
            (src_rect, dst_rect),
            (layers, src_n),
            kind,
        )?;
    }
    Ok(())
}

/// One pass of [`shader_blit`] (colour, depth or stencil).
#[allow(clippy::too_many_arguments)]
fn shader_blit_pass(
    host: &HostGl,
    src: &GlResource,
    dst: &GlResource,
    info: &BlitInfo,
    (sf, df): (&HostFormat, &HostFormat),
    (src_rect, dst_rect): (Rect, Rect),
    (layers, src_n): (u32, u32),
    kind: crate::blitter::BlitKind,
) -> VrendResult<()> {
    use crate::blitter::{BlitKind, ShaderBlit};
    let gl = &host.gl;
    let depth = matches!(kind, BlitKind::Depth | BlitKind::Stencil);
    let src_layers = (0..layers)
        .map(|i| info.src.z as u32 + if src_n == layers { i } else { 0 })
        .collect();
    let b = ShaderBlit {
        src,
        src_format: sf,
        src_level: info.src.level,
        src_rect,
        src_layers,
        kind,
        linear: info.filter == 1 && kind == BlitKind::Float,
        swap_rb: !depth && imported_bgra(src) != imported_bgra(dst),
    };
    let draw = TempFbo::new(gl, glow::DRAW_FRAMEBUFFER)?;
    neutral_write_state(gl);
    if let Some((minx, miny, maxx, maxy)) = info.scissor {
        let (_, lh, _) = dst.level_size(info.dst.level);
        let (y, h) = (miny.min(maxy), maxy.saturating_sub(miny));
        let y = if dst.y_0_top() {
            lh.saturating_sub(y + h)
        } else {
            y
        };
        // SAFETY: state setters on the current context.
        unsafe {
            gl.enable(glow::SCISSOR_TEST);
            gl.scissor(
                minx as i32,
                y as i32,
                maxx.saturating_sub(minx) as i32,
                h as i32,
            );
        }
    }
    set_srgb(host, is_srgb(info.dst.format));
    let single = matches!(dst.args.target, 1 | 2 | 5);
    let attachment = if depth {
        ds_attachment(df)
    } else {
        glow::COLOR_ATTACHMENT0
    };
    let result = crate::blitter::run(host, &b, dst_rect, |i| {
        let dz = info.dst.z as u32 + i as u32;
        attach(
            gl,
            glow::DRAW_FRAMEBUFFER,
            attachment,
            dst,
            info.dst.level,
            (!single).then_some(dz),
        )?;
        // SAFETY: the temporary draw framebuffer is bound on the current context.
        unsafe {
            gl.draw_buffers(&[if depth {
                glow::NONE
            } else {
                glow::COLOR_ATTACHMENT0
            }])
        };
        Ok(())
    });
    set_srgb(host, false);
    // SAFETY: state reset on the current context.
    unsafe {
        gl.disable(glow::SCISSOR_TEST);
        gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, None);
    }
    drop(draw);
    result
}

/// `RESOURCE_COPY_REGION`: a raw copy between two buffers or two textures.
pub(crate) fn copy_region(
    host: &HostGl,
    resources: &HashMap<u32, GlResource>,
    dst: (u32, u32, u32, u32, u32),
    src: (u32, u32),
    src_box: &TexBox,
) -> VrendResult<()> {
    let gl = &host.gl;
    let (dst_id, dst_level, dx, dy, dz) = dst;
    let (src_id, src_level) = src;
    let s = resource(resources, src_id)?;
    let d = resource(resources, dst_id)?;
    let dst_box = TexBox {
        x: dx,
        y: dy,
        z: dz,
        ..*src_box
    };
    s.check_box(src_level, src_box)?;
    d.check_box(dst_level, &dst_box)?;
    match (&s.storage, &d.storage) {
        (Storage::Buffer(sb), Storage::Buffer(db)) => {
            // SAFETY: both ranges were checked against the buffers' sizes.
            unsafe {
                gl.bind_buffer(glow::COPY_READ_BUFFER, Some(*sb));
                gl.bind_buffer(glow::COPY_WRITE_BUFFER, Some(*db));
                gl.copy_buffer_sub_data(
                    glow::COPY_READ_BUFFER,
                    glow::COPY_WRITE_BUFFER,
                    src_box.x as i32,
                    dx as i32,
                    src_box.width as i32,
                );
                gl.bind_buffer(glow::COPY_READ_BUFFER, None);
                gl.bind_buffer(glow::COPY_WRITE_BUFFER, None);
            }
        }
        (
            Storage::Texture {
                tex: st,
                target: stt,
            },
            Storage::Texture {
                tex: dt,
                target: dtt,
            },
        ) => {
            if !host.features.has(Feature::CopyImage) {
                return Err(VrendError::Unsupported(
                    "texture copies without ARB_copy_image".into(),
                ));
            }
            if s.layout().bytes != d.layout().bytes {
                return Err(invalid("copy between formats of different texel size"));
            }
            let sy = if s.y_0_top() {
                s.level_size(src_level).1 - src_box.y - src_box.height
            } else {
                src_box.y
            };
            let dy = if d.y_0_top() {
                d.level_size(dst_level).1 - dy - src_box.height
            } else {
                dy
            };
            // CopyImageSubData takes layers in z for every array target, 1D arrays included.
            let (sz, h, dep) = (src_box.z, src_box.height, src_box.depth);
            // SAFETY: both boxes were checked against their resources' levels.
            unsafe {
                gl.copy_image_sub_data(
                    *st,
                    *stt,
                    src_level as i32,
                    src_box.x as i32,
                    sy as i32,
                    sz as i32,
                    *dt,
                    *dtt,
                    dst_level as i32,
                    dx as i32,
                    dy as i32,
                    dz as i32,
                    src_box.width as i32,
                    h as i32,
                    dep as i32,
                );
            }
        }
        _ => {
            return Err(invalid(
                "RESOURCE_COPY_REGION between a buffer and a texture",
            ))
        }
    }
    host.check("copy region")
}
