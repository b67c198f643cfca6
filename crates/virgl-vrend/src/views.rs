//! Sampler views (`VIRGL_OBJECT_SAMPLER_VIEW`) and sampler states (`VIRGL_OBJECT_SAMPLER_STATE`)
//! as GL objects.
//!
//! A sampler view of a texture becomes a GL texture view (ARB_texture_view) of the resource's
//! immutable storage, carrying its own format, level/layer range and swizzle, so views of one
//! resource never fight over texture parameters. Where a view cannot be made (mutable storage,
//! incompatible formats, no ARB_texture_view) the view falls back to the resource's texture and
//! its parameters are set each time it is bound. A view of a buffer is a buffer texture over the
//! element range. A sampler state is a GL sampler object, shared through [`SamplerCache`] by all
//! sampler states of a sub-context with the same content.

use std::collections::HashMap;
use std::rc::Rc;

use glow::HasContext;
use virgl_protocol::command::{SamplerState, SamplerView};
use virgl_protocol::pipe::TexMipFilter;

use crate::error::{VrendError, VrendResult};
use crate::features::Feature;
use crate::formats::swz;
use crate::glenum;
use crate::host::HostGl;
use crate::resource::{gl_target, pipe_target, GlResource, Storage};

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

/// A sampler view with its GL texture.
#[derive(Debug)]
pub struct SamplerViewObj {
    pub res_id: u32,
    /// GL target to bind `tex` to.
    pub gl_target: u32,
    pub tex: glow::Texture,
    /// `tex` was created for this view (a texture view or a buffer texture) and is deleted
    /// with it; otherwise it is the resource's own texture.
    owned: bool,
    /// Parameters to set at bind time when `tex` is the resource's own texture.
    fallback: Option<Fallback>,
    /// How the sampler's border colour reaches this view's host storage.
    pub border: BorderMode,
    /// The guest's view swizzle (`swz::*`): shadow samplers apply it to the comparison
    /// result in the shader, where the texture swizzle cannot reach.
    pub swizzle: [u8; 4],
    /// The GL swizzle `tex` carries for ordinary sampling.
    gl_swizzle: [i32; 4],
    /// `bind_shadow` left an identity swizzle on `tex` (an owned view must get its own back).
    swizzle_reset: std::cell::Cell<bool>,
}

/// How a view's texels relate to the guest's border colour.
///
/// Gallium's border colour is the texel the view's format would give before the view swizzle
/// (Mesa already resolved GL_ALPHA/LUMINANCE/INTENSITY into it), and GL substitutes the border
/// colour for the stored texel, before `TEXTURE_SWIZZLE`. Where the host stores a format in
/// other channels (A8 in R8 read through (0, 0, 0, R), L8A8 in RG8...), the border colour must
/// move into the channels the host swizzle reads: upstream does this for alpha formats only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BorderMode {
    /// The view's format is a pure integer format (border colours are integers).
    pub integer: bool,
    /// For each guest channel, the host channel (`swz::X..=swz::W`) it is read from, or a
    /// constant (`swz::ZERO`/`swz::ONE`: the border colour's value is not stored).
    pub channels: [u8; 4],
}

impl BorderMode {
    /// Float border colour, stored channels as sampled.
    pub const IDENTITY: BorderMode = BorderMode {
        integer: false,
        channels: [swz::X, swz::Y, swz::Z, swz::W],
    };

    /// The border colour (raw dwords, guest channel order) in host storage order: each stored
    /// channel takes the first guest channel read from it; channels no guest channel reads keep
    /// the guest's value (they are never seen).
    pub fn host_border(&self, guest: [u32; 4]) -> [u32; 4] {
        let mut host = guest;
        let mut set = [false; 4];
        for (c, &k) in self.channels.iter().enumerate() {
            if let Some(k) = (k <= swz::W).then_some(usize::from(k)) {
                if !set[k] {
                    host[k] = guest[c];
                    set[k] = true;
                }
            }
        }
        host
    }
}

#[derive(Debug, Clone, Copy)]
struct Fallback {
    /// DEPTH_STENCIL_TEXTURE_MODE of a depth-stencil resource.
    ds_mode: Option<u32>,
    swizzle: [i32; 4],
    base_level: i32,
    max_level: i32,
}

const IDENTITY_SWIZZLE: [i32; 4] = [
    glow::RED as i32,
    glow::GREEN as i32,
    glow::BLUE as i32,
    glow::ALPHA as i32,
];

/// Sets the swizzle of the texture bound to `target` on the active unit.
fn set_swizzle(gl: &glow::Context, target: u32, swizzle: [i32; 4]) {
    let params = [
        glow::TEXTURE_SWIZZLE_R,
        glow::TEXTURE_SWIZZLE_G,
        glow::TEXTURE_SWIZZLE_B,
        glow::TEXTURE_SWIZZLE_A,
    ];
    for (p, v) in params.into_iter().zip(swizzle) {
        // SAFETY: current context; a texture is bound to `target` on the active unit.
        unsafe { gl.tex_parameter_i32(target, p, v) };
    }
}

/// Composes the guest's view swizzle with the swizzle that emulates the host format.
fn compose_swizzle(view: [u8; 4], format: Option<[u8; 4]>) -> [i32; 4] {
    let gl = |s: u8| -> i32 {
        (match s {
            swz::X => glow::RED,
            swz::Y => glow::GREEN,
            swz::Z => glow::BLUE,
            swz::W => glow::ALPHA,
            swz::ZERO => glow::ZERO,
            _ => glow::ONE,
        }) as i32
    };
    view.map(|s| match (s, format) {
        (swz::X..=swz::W, Some(f)) => gl(f[usize::from(s)]),
        (s, _) => gl(s),
    })
}

impl SamplerViewObj {
    /// Creates the GL side of a sampler view of `res` (current context).
    pub fn create(host: &HostGl, res: &GlResource, v: &SamplerView) -> VrendResult<Self> {
        let gl = &host.gl;
        // A depth or stencil view of a depth-stencil resource samples the resource's own
        // storage (GL picks the aspect with DEPTH_STENCIL_TEXTURE_MODE); stencil-only formats
        // such as S8X24_UINT have no host format of their own.
        let view_info = virgl_protocol::VirglFormat::from_raw(v.format).map(|f| f.info());
        let view_zs = view_info.is_some_and(|i| i.is_depth() || i.has_stencil());
        let stencil = view_info.is_some_and(|i| i.has_stencil() && !i.is_depth());
        // Imported BGRA memory (Venus window images) sits in an RGBA texture: views swap red and
        // blue and sample it without sRGB decoding, as upstream's `is_imported` rule does.
        let imported_bgra = res.imported && crate::import::is_bgra(res.args.format);
        let hf = match res.format {
            _ if imported_bgra => *host
                .formats
                .get(crate::import::sampled_format(v.format))
                .ok_or_else(|| invalid(format!("sampler view format {} unsupported", v.format)))?,
            Some(rf) if view_zs && rf.entry.is_depth_stencil() => rf,
            _ => *host
                .formats
                .get(v.format)
                .ok_or_else(|| invalid(format!("sampler view format {} unsupported", v.format)))?,
        };
        let ds_mode = (hf.entry.has_depth() && hf.entry.has_stencil()).then_some(if stencil {
            glow::STENCIL_INDEX
        } else {
            glow::DEPTH_COMPONENT
        });
        let integer = hf.entry.is_integer() || stencil;
        let mut channels = hf.entry.swizzle.unwrap_or(BorderMode::IDENTITY.channels);
        if imported_bgra {
            channels.swap(0, 2);
        }
        let border = BorderMode { integer, channels };
        match res.storage {
            Storage::Buffer(buf) => {
                let bytes = hf.entry.layout().bytes.max(1);
                let (first, last) = v.buffer_elements();
                let size = u64::from(res.args.width);
                let start = u64::from(first) * u64::from(bytes);
                let end = (u64::from(last) + 1) * u64::from(bytes);
                if last < first || end > size {
                    return Err(invalid(format!(
                        "buffer view elements {first}..={last} beyond {size} bytes"
                    )));
                }
                if !host.features.has(Feature::ArbOrGlesExtTextureBuffer) {
                    return Err(VrendError::Unsupported("buffer textures".into()));
                }
                // SAFETY: current context; the new texture is bound to TEXTURE_BUFFER only here
                // and the range was checked against the buffer's size.
                let tex = unsafe {
                    let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
                    gl.bind_texture(glow::TEXTURE_BUFFER, Some(tex));
                    match host.extra.tex_buffer_range {
                        Some(range) if start > 0 || end < size => range(
                            glow::TEXTURE_BUFFER,
                            hf.entry.internal,
                            buf.0.get(),
                            start as isize,
                            (end - start) as isize,
                        ),
                        _ => gl.tex_buffer(glow::TEXTURE_BUFFER, hf.entry.internal, Some(buf)),
                    }
                    gl.bind_texture(glow::TEXTURE_BUFFER, None);
                    tex
                };
                if let Err(e) = host.check("buffer texture") {
                    // SAFETY: created above, referenced nowhere.
                    unsafe { gl.delete_texture(tex) };
                    return Err(e);
                }
                Ok(Self {
                    res_id: res.args.handle,
                    gl_target: glow::TEXTURE_BUFFER,
                    tex,
                    owned: true,
                    fallback: None,
                    border,
                    swizzle: v.swizzle,
                    gl_swizzle: IDENTITY_SWIZZLE,
                    swizzle_reset: Default::default(),
                })
            }
            Storage::Texture { tex, target } => {
                let range = v.texture_range();
                let pipe_t = match u32::from(v.target) {
                    // Guests without VIRGL_CAP_TEXTURE_VIEW send 0 (BUFFER): the resource's own.
                    pipe_target::BUFFER => res.args.target,
                    t => t,
                };
                let view_target = gl_target(pipe_t, res.args.nr_samples)
                    .ok_or_else(|| invalid(format!("view target {pipe_t}")))?;
                let levels = res.args.last_level + 1;
                let first_level = u32::from(range.first_level);
                let last_level = u32::from(range.last_level).min(levels - 1);
                if first_level > last_level {
                    return Err(invalid(format!(
                        "view levels {first_level}..={last_level} of {levels}"
                    )));
                }
                let (first_layer, last_layer) =
                    (u32::from(range.first_layer), u32::from(range.last_layer));
                let layers = if res.args.target == pipe_target::TEXTURE_3D {
                    1
                } else {
                    res.layers()
                };
                if first_layer > last_layer || last_layer >= layers.max(1) {
                    return Err(invalid(format!(
                        "view layers {first_layer}..={last_layer} of {layers}"
                    )));
                }
                let mut swizzle = compose_swizzle(v.swizzle, hf.entry.swizzle);
                if imported_bgra {
                    swizzle.swap(0, 2);
                }
                let mut obj = Self {
                    res_id: res.args.handle,
                    gl_target: view_target,
                    tex,
                    owned: false,
                    fallback: Some(Fallback {
                        swizzle,
                        base_level: first_level as i32,
                        max_level: last_level as i32,
                        ds_mode: ds_mode.filter(|_| host.features.has(Feature::StencilTexturing)),
                    }),
                    border,
                    swizzle: v.swizzle,
                    gl_swizzle: swizzle,
                    swizzle_reset: Default::default(),
                };
                // Even a view identical to the resource gets its own texture view: it carries
                // its own parameters and keeps the storage alive if the guest destroys the
                // resource while the view is still bound (upstream holds a reference for that).
                let Some(make_view) = host.extra.texture_view else {
                    if view_target != target {
                        return Err(VrendError::Unsupported(
                            "sampler view with another target (no ARB_texture_view)".into(),
                        ));
                    }
                    return Ok(obj);
                };
                // SAFETY: current context; querying the bound texture's immutability, then
                // creating a view of it (GL validates compatibility and reports an error, which
                // is checked below); the view is bound to its target only while configured.
                unsafe {
                    gl.bind_texture(target, Some(tex));
                    let immutable =
                        gl.get_tex_parameter_i32(target, glow::TEXTURE_IMMUTABLE_FORMAT);
                    gl.bind_texture(target, None);
                    if immutable == 0 {
                        return Ok(obj);
                    }
                    host.take_error();
                    let view = gl.create_texture().map_err(VrendError::HostGlMissing)?;
                    let num_layers = match view_target {
                        glow::TEXTURE_3D => 1,
                        glow::TEXTURE_CUBE_MAP => 6,
                        _ => last_layer - first_layer + 1,
                    };
                    make_view(
                        view.0.get(),
                        view_target,
                        tex.0.get(),
                        hf.entry.internal,
                        first_level,
                        last_level - first_level + 1,
                        if view_target == glow::TEXTURE_3D {
                            0
                        } else {
                            first_layer
                        },
                        num_layers,
                    );
                    if host.take_error() != glow::NO_ERROR {
                        gl.delete_texture(view);
                        tracing::debug!(
                            format = v.format,
                            "texture view refused by GL; sampling the resource's texture"
                        );
                        return Ok(obj);
                    }
                    gl.bind_texture(view_target, Some(view));
                    for (i, p) in [
                        glow::TEXTURE_SWIZZLE_R,
                        glow::TEXTURE_SWIZZLE_G,
                        glow::TEXTURE_SWIZZLE_B,
                        glow::TEXTURE_SWIZZLE_A,
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        if view_target != glow::TEXTURE_BUFFER {
                            gl.tex_parameter_i32(view_target, p, swizzle[i]);
                        }
                    }
                    if let Some(mode) =
                        ds_mode.filter(|_| host.features.has(Feature::StencilTexturing))
                    {
                        gl.tex_parameter_i32(
                            view_target,
                            glow::DEPTH_STENCIL_TEXTURE_MODE,
                            mode as i32,
                        );
                    }
                    gl.bind_texture(view_target, None);
                    obj.tex = view;
                    obj.owned = true;
                    obj.fallback = None;
                }
                host.check("texture view")?;
                Ok(obj)
            }
            Storage::GuestOnly => Err(invalid(format!(
                "sampler view of staging resource {}",
                res.args.handle
            ))),
        }
    }

    /// Binds the view to texture unit `unit` (current context).
    pub fn bind(&self, gl: &glow::Context, unit: u32) {
        // SAFETY: current context; `tex` is live (a view we own or a resource texture that the
        // caller checked still exists); `unit` is below the host's unit count (caller).
        unsafe {
            gl.active_texture(glow::TEXTURE0 + unit);
            gl.bind_texture(self.gl_target, Some(self.tex));
            if let Some(f) = &self.fallback {
                let t = self.gl_target;
                if t != glow::TEXTURE_2D_MULTISAMPLE && t != glow::TEXTURE_2D_MULTISAMPLE_ARRAY {
                    gl.tex_parameter_i32(t, glow::TEXTURE_BASE_LEVEL, f.base_level);
                    gl.tex_parameter_i32(t, glow::TEXTURE_MAX_LEVEL, f.max_level);
                }
                gl.tex_parameter_i32(t, glow::TEXTURE_SWIZZLE_R, f.swizzle[0]);
                gl.tex_parameter_i32(t, glow::TEXTURE_SWIZZLE_G, f.swizzle[1]);
                gl.tex_parameter_i32(t, glow::TEXTURE_SWIZZLE_B, f.swizzle[2]);
                gl.tex_parameter_i32(t, glow::TEXTURE_SWIZZLE_A, f.swizzle[3]);
                if let Some(mode) = f.ds_mode {
                    gl.tex_parameter_i32(t, glow::DEPTH_STENCIL_TEXTURE_MODE, mode as i32);
                }
            }
        }
        if self.swizzle_reset.replace(false) && self.fallback.is_none() {
            set_swizzle(gl, self.gl_target, self.gl_swizzle);
        }
    }

    /// Binds the view for a shadow comparison: GL applies the texture swizzle to the
    /// comparison result before GLSL reduces it to a float, so the swizzle is made identity
    /// here and the shader applies the view's [`Self::swizzle`] itself (as upstream does).
    pub fn bind_shadow(&self, gl: &glow::Context, unit: u32) {
        self.bind(gl, unit);
        if self.gl_target == glow::TEXTURE_BUFFER {
            return;
        }
        set_swizzle(gl, self.gl_target, IDENTITY_SWIZZLE);
        self.swizzle_reset.set(true);
    }

    /// Whether sampling needs the resource's own texture (a view that owns a texture view or a
    /// buffer texture keeps its storage alive by itself).
    pub fn borrows_resource(&self) -> bool {
        !self.owned
    }

    pub fn release(self, gl: &glow::Context) {
        if self.owned {
            // SAFETY: the texture was created for this view and is referenced nowhere else.
            unsafe { gl.delete_texture(self.tex) };
        }
    }
}

/// A sampler state with its GL sampler object.
#[derive(Debug)]
pub struct SamplerObj {
    pub state: SamplerState,
    pub sampler: glow::Sampler,
    /// The border colour's form last set on `sampler` (integers for integer views, channels
    /// moved for emulated formats; GL keeps one border colour per sampler).
    border: std::cell::Cell<BorderMode>,
    /// GL_CLAMP wraps are CLAMP_TO_BORDER here and the shaders must clamp the coordinates
    /// ([`gl_clamp_masks`]).
    clamp_by_border: bool,
}

impl SamplerObj {
    pub fn create(host: &HostGl, s: &SamplerState) -> VrendResult<Self> {
        let gl = &host.gl;
        if !host.features.has(Feature::Samplers) {
            return Err(VrendError::HostGlMissing("sampler objects".into()));
        }
        // CLAMP_TO_BORDER needs border colour support (GLES hosts before 3.2 may lack it).
        let clamp_by_border =
            gl_clamp_by_border(s) && host.features.has(Feature::SamplerBorderColors);
        let mirror_clamp = host.features.has(Feature::TextureMirrorClamp);
        let to_edge = host.features.has(Feature::TextureMirrorClampToEdge);
        let min = match (
            s.min_img_filter,
            TexMipFilter::from_raw(s.min_mip_filter.into()),
        ) {
            (0, Some(TexMipFilter::None) | None) => glow::NEAREST,
            (_, Some(TexMipFilter::None) | None) => glow::LINEAR,
            (0, Some(TexMipFilter::Nearest)) => glow::NEAREST_MIPMAP_NEAREST,
            (0, Some(TexMipFilter::Linear)) => glow::NEAREST_MIPMAP_LINEAR,
            (_, Some(TexMipFilter::Nearest)) => glow::LINEAR_MIPMAP_NEAREST,
            (_, Some(TexMipFilter::Linear)) => glow::LINEAR_MIPMAP_LINEAR,
        };
        let mag = if s.mag_img_filter == 0 {
            glow::NEAREST
        } else {
            glow::LINEAR
        };
        let finite = |v: f32, d: f32| if v.is_finite() { v } else { d };
        // SAFETY: current context; a new sampler object configured with valid enums only.
        let sampler = unsafe {
            let smp = gl.create_sampler().map_err(VrendError::HostGlMissing)?;
            let i = |p, v: u32| gl.sampler_parameter_i32(smp, p, v as i32);
            let wrap = |raw: u8| {
                if raw & 7 == WRAP_CLAMP && clamp_by_border {
                    glow::CLAMP_TO_BORDER
                } else {
                    glenum::tex_wrap(raw, mirror_clamp, to_edge)
                }
            };
            i(glow::TEXTURE_WRAP_S, wrap(s.wrap_s));
            i(glow::TEXTURE_WRAP_T, wrap(s.wrap_t));
            i(glow::TEXTURE_WRAP_R, wrap(s.wrap_r));
            i(glow::TEXTURE_MIN_FILTER, min);
            i(glow::TEXTURE_MAG_FILTER, mag);
            i(
                glow::TEXTURE_COMPARE_MODE,
                if s.compare_mode {
                    glow::COMPARE_REF_TO_TEXTURE
                } else {
                    glow::NONE
                },
            );
            i(
                glow::TEXTURE_COMPARE_FUNC,
                glenum::compare_func(s.compare_func),
            );
            if !host.is_gles() {
                gl.sampler_parameter_f32(smp, glow::TEXTURE_LOD_BIAS, finite(s.lod_bias, 0.0));
            }
            gl.sampler_parameter_f32(smp, glow::TEXTURE_MIN_LOD, finite(s.min_lod, -1000.0));
            gl.sampler_parameter_f32(smp, glow::TEXTURE_MAX_LOD, finite(s.max_lod, 1000.0));
            if host.features.has(Feature::SamplerBorderColors) {
                gl.sampler_parameter_f32_slice(
                    smp,
                    glow::TEXTURE_BORDER_COLOR,
                    &s.border_color_f32(),
                );
            }
            if s.max_anisotropy > 1 && host.features.has(Feature::AnisotropicFilter) {
                gl.sampler_parameter_f32(
                    smp,
                    glow::TEXTURE_MAX_ANISOTROPY_EXT,
                    f32::from(s.max_anisotropy),
                );
            }
            if host.features.has(Feature::SeamlessCubemapPerTexture) {
                const TEXTURE_CUBE_MAP_SEAMLESS: u32 = 0x884F;
                i(TEXTURE_CUBE_MAP_SEAMLESS, u32::from(s.seamless_cube_map));
            }
            smp
        };
        if let Err(e) = host.check("sampler state") {
            // SAFETY: created above, bound nowhere.
            unsafe { gl.delete_sampler(sampler) };
            return Err(e);
        }
        Ok(Self {
            state: *s,
            sampler,
            border: std::cell::Cell::new(BorderMode::IDENTITY),
            clamp_by_border,
        })
    }

    /// Binds the sampler to `unit`, first giving it the border colour in the form the view
    /// reads it (float or integer, channels moved where the host format is emulated). One
    /// sampler state bound to two units whose views need different forms in the same draw
    /// gives both the last form (upstream shares that limit).
    pub fn bind(&self, host: &HostGl, unit: u32, view: BorderMode) {
        let gl = &host.gl;
        // SAFETY: current context; the sampler is live; `unit` is in range (caller); the
        // integer border colour is four dwords, as GL reads.
        unsafe {
            if view != self.border.get() && host.features.has(Feature::SamplerBorderColors) {
                let color = view.host_border(self.state.border_color);
                if view.integer {
                    if let Some(set) = host.extra.sampler_parameter_iuiv {
                        // The guest sends integer border colours as raw dwords.
                        set(
                            self.sampler.0.get(),
                            glow::TEXTURE_BORDER_COLOR,
                            color.as_ptr(),
                        );
                    }
                } else {
                    gl.sampler_parameter_f32_slice(
                        self.sampler,
                        glow::TEXTURE_BORDER_COLOR,
                        &color.map(f32::from_bits),
                    );
                }
                self.border.set(view);
            }
            gl.bind_sampler(unit, Some(self.sampler));
        }
    }
}

/// `PIPE_TEX_WRAP_CLAMP`: GL_CLAMP, which core profiles removed.
const WRAP_CLAMP: u8 = 1;

/// Whether GL_CLAMP of `s` is emulated with CLAMP_TO_BORDER and coordinates saturated in the
/// shader (shader key `gl_clamp`), which is exact when both filters are linear: GL_CLAMP
/// clamps the coordinate to [0, 1], and linear filtering there blends edge texels with the
/// border. Otherwise it becomes CLAMP_TO_EDGE, exact for nearest filtering (as upstream does
/// for every filter).
fn gl_clamp_by_border(s: &SamplerState) -> bool {
    s.min_img_filter != 0 && s.mag_img_filter != 0
}

/// The shader key's `gl_clamp` masks for the samplers bound to one stage: bit `i` of element
/// `c` clamps coordinate `c` (s, t, r) of sampler `i` to [0, 1].
pub(crate) fn gl_clamp_masks<'a>(
    samplers: impl IntoIterator<Item = (usize, &'a SamplerObj)>,
) -> [u32; 3] {
    clamp_masks(
        samplers
            .into_iter()
            .filter(|(_, o)| o.clamp_by_border)
            .map(|(i, o)| (i, &o.state)),
    )
}

fn clamp_masks<'a>(states: impl IntoIterator<Item = (usize, &'a SamplerState)>) -> [u32; 3] {
    let mut masks = [0u32; 3];
    for (i, s) in states {
        if i >= 32 || !gl_clamp_by_border(s) {
            continue;
        }
        for (c, w) in [s.wrap_s, s.wrap_t, s.wrap_r].into_iter().enumerate() {
            if w & 7 == WRAP_CLAMP {
                masks[c] |= 1 << i;
            }
        }
    }
    masks
}

/// The GL-relevant content of a sampler state (everything but the handle).
fn sampler_key(s: &SamplerState) -> [u32; 8] {
    let s0 = u32::from(s.wrap_s)
        | u32::from(s.wrap_t) << 3
        | u32::from(s.wrap_r) << 6
        | u32::from(s.min_img_filter) << 9
        | u32::from(s.min_mip_filter) << 11
        | u32::from(s.mag_img_filter) << 13
        | u32::from(s.compare_mode) << 15
        | u32::from(s.compare_func) << 16
        | u32::from(s.seamless_cube_map) << 19
        | u32::from(s.max_anisotropy) << 20;
    let [b0, b1, b2, b3] = s.border_color;
    [
        s0,
        s.lod_bias.to_bits(),
        s.min_lod.to_bits(),
        s.max_lod.to_bits(),
        b0,
        b1,
        b2,
        b3,
    ]
}

/// GL sampler objects of a sub-context, shared by every sampler state object with the same
/// content (guests create many identical states; a GL sampler per distinct state is enough).
#[derive(Debug, Default)]
pub struct SamplerCache {
    map: HashMap<[u32; 8], Rc<SamplerObj>>,
}

impl SamplerCache {
    /// The sampler for `s`, created on first use.
    pub fn get(&mut self, host: &HostGl, s: &SamplerState) -> VrendResult<Rc<SamplerObj>> {
        let key = sampler_key(s);
        if let Some(obj) = self.map.get(&key) {
            return Ok(obj.clone());
        }
        let obj = Rc::new(SamplerObj::create(host, s)?);
        self.map.insert(key, obj.clone());
        Ok(obj)
    }

    /// Drops one user of a sampler; the GL sampler goes with its last user.
    pub fn release(&mut self, gl: &glow::Context, obj: Rc<SamplerObj>) {
        let key = sampler_key(&obj.state);
        drop(obj);
        if self.map.get(&key).is_some_and(|o| Rc::strong_count(o) == 1) {
            if let Some(o) = self.map.remove(&key) {
                // SAFETY: no object refers to the sampler any more; it belongs to this cache.
                unsafe { gl.delete_sampler(o.sampler) };
            }
        }
    }

    /// Deletes every sampler (sub-context teardown).
    pub fn clear(&mut self, gl: &glow::Context) {
        for (_, o) in self.map.drain() {
            // SAFETY: as in `release`; the sub-context is going away with all its objects.
            unsafe { gl.delete_sampler(o.sampler) };
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_keys_ignore_the_handle_only() {
        let a = SamplerState {
            handle: 1,
            wrap_s: 2,
            wrap_t: 2,
            wrap_r: 2,
            min_img_filter: 1,
            min_mip_filter: 2,
            mag_img_filter: 1,
            compare_mode: false,
            compare_func: 0,
            seamless_cube_map: true,
            max_anisotropy: 0,
            lod_bias: 0.0,
            min_lod: 0.0,
            max_lod: 1000.0,
            border_color: [0; 4],
        };
        let b = SamplerState { handle: 2, ..a };
        assert_eq!(sampler_key(&a), sampler_key(&b));
        let c = SamplerState { wrap_t: 0, ..a };
        assert_ne!(sampler_key(&a), sampler_key(&c));
        let d = SamplerState {
            border_color: [0, 0, 0, 1],
            ..a
        };
        assert_ne!(sampler_key(&a), sampler_key(&d));
        assert_eq!(SamplerCache::default().len(), 0);
    }

    #[test]
    fn gl_clamp_is_emulated_only_with_linear_filters() {
        let base = SamplerState {
            handle: 1,
            wrap_s: WRAP_CLAMP,
            wrap_t: 2,
            wrap_r: WRAP_CLAMP,
            min_img_filter: 1,
            min_mip_filter: 0,
            mag_img_filter: 1,
            compare_mode: false,
            compare_func: 0,
            seamless_cube_map: false,
            max_anisotropy: 0,
            lod_bias: 0.0,
            min_lod: 0.0,
            max_lod: 1000.0,
            border_color: [0; 4],
        };
        let nearest = SamplerState {
            mag_img_filter: 0,
            ..base
        };
        assert_eq!(clamp_masks([(3, &base)]), [1 << 3, 0, 1 << 3]);
        assert_eq!(clamp_masks([(3, &nearest)]), [0; 3]);
        assert_eq!(clamp_masks([(40, &base)]), [0; 3]);
    }

    #[test]
    fn border_colours_move_into_the_emulating_channels() {
        let guest = [1, 2, 3, 4];
        assert_eq!(BorderMode::IDENTITY.host_border(guest), guest);
        // A8 in R8, read as (0, 0, 0, R): alpha is stored in red.
        let a8 = BorderMode {
            integer: false,
            channels: [swz::ZERO, swz::ZERO, swz::ZERO, swz::X],
        };
        assert_eq!(a8.host_border(guest)[0], 4);
        // L8A8 in RG8, read as (R, R, R, G): luminance from the guest's red, alpha in green.
        let la = BorderMode {
            integer: false,
            channels: [swz::X, swz::X, swz::X, swz::Y],
        };
        assert_eq!(la.host_border(guest)[..2], [1, 4]);
        // Imported BGRA: red and blue swap places.
        let bgra = BorderMode {
            integer: false,
            channels: [swz::Z, swz::Y, swz::X, swz::W],
        };
        assert_eq!(bgra.host_border(guest), [3, 2, 1, 4]);
    }

    #[test]
    fn swizzles_compose_with_the_format_emulation() {
        let id = [swz::X, swz::Y, swz::Z, swz::W];
        let gl = |v: u32| v as i32;
        assert_eq!(
            compose_swizzle(id, None),
            [
                gl(glow::RED),
                gl(glow::GREEN),
                gl(glow::BLUE),
                gl(glow::ALPHA)
            ]
        );
        // A8 stored as R8: (0, 0, 0, R).
        let a8 = [swz::ZERO, swz::ZERO, swz::ZERO, swz::X];
        assert_eq!(
            compose_swizzle([swz::W, swz::ONE, swz::X, swz::ZERO], Some(a8)),
            [gl(glow::RED), gl(glow::ONE), gl(glow::ZERO), gl(glow::ZERO)]
        );
    }
}
