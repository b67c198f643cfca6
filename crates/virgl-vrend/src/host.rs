//! The renderer-wide host GL state: the root context, loaded GL entry points, the host's
//! version, extensions, features, limits and the probed format table.
//!
//! Every guest context and sub-context gets its own GL context created *shared* with the root
//! one, so textures and buffers (resources) are visible everywhere while framebuffers and
//! vertex arrays (container objects) stay per context.

use std::collections::HashSet;
use std::ffi::{c_void, CString};
use std::rc::Rc;

use glow::HasContext;

use crate::egl::{GlContextHandle, GlContextParams, GlContextProvider, GLES_VERSIONS, GL_VERSIONS};
use crate::error::{VrendError, VrendResult};
use crate::features::{Feature, Features};
use crate::formats::{FormatTable, ProbeOptions};

/// Limits read once from the host.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// GL_MAX_DRAW_BUFFERS clamped to 8 (the guest uses 8-bit colour-buffer masks).
    pub max_draw_buffers: u32,
    pub max_vertex_attribs: u32,
    pub max_texture_2d_size: u32,
    pub max_texture_3d_size: u32,
    pub max_texture_cube_size: u32,
    pub max_array_layers: u32,
    pub max_samples: u32,
}

type GetTextureSubImageFn =
    unsafe extern "system" fn(u32, i32, i32, i32, i32, i32, i32, i32, u32, u32, i32, *mut c_void);
type GetCompressedTextureSubImageFn =
    unsafe extern "system" fn(u32, i32, i32, i32, i32, i32, i32, i32, i32, *mut c_void);
type ClearTexSubImageFn =
    unsafe extern "system" fn(u32, i32, i32, i32, i32, i32, i32, i32, u32, u32, *const c_void);
type GetMultisampleFn = unsafe extern "system" fn(u32, u32, *mut f32);
type TexSubImage1dFn = unsafe extern "system" fn(u32, i32, i32, i32, u32, u32, *const c_void);
type CompressedTexSubImage1dFn =
    unsafe extern "system" fn(u32, i32, i32, i32, u32, i32, *const c_void);
type FramebufferParameteriFn = unsafe extern "system" fn(u32, u32, i32);
type TexStorage3dMultisampleFn = unsafe extern "system" fn(u32, i32, u32, i32, i32, i32, u8);
type U32Fn = unsafe extern "system" fn(u32);
type U32U32Fn = unsafe extern "system" fn(u32, u32);
type U32U32U32Fn = unsafe extern "system" fn(u32, u32, u32);
type F32Fn = unsafe extern "system" fn(f32);
type DepthRangeIndexedFFn = unsafe extern "system" fn(u32, f32, f32);
type F32x3Fn = unsafe extern "system" fn(f32, f32, f32);
type TextureViewFn = unsafe extern "system" fn(u32, u32, u32, u32, u32, u32, u32, u32);
type TexBufferRangeFn = unsafe extern "system" fn(u32, u32, u32, isize, isize);
type VoidFn = unsafe extern "system" fn();
type MultiDrawIndirectFn = unsafe extern "system" fn(u32, *const c_void, i32, i32);
type MultiDrawElementsIndirectFn = unsafe extern "system" fn(u32, u32, *const c_void, i32, i32);
type MultiDrawIndirectCountFn = unsafe extern "system" fn(u32, *const c_void, isize, i32, i32);
type MultiDrawElementsIndirectCountFn =
    unsafe extern "system" fn(u32, u32, *const c_void, isize, i32, i32);
type SamplerParameterIuivFn = unsafe extern "system" fn(u32, u32, *const u32);
type PatchParameterFvFn = unsafe extern "system" fn(u32, *const f32);
type DrawTransformFeedbackInstancedFn = unsafe extern "system" fn(u32, u32, i32);
type GetQueryObjectBufferFn = unsafe extern "system" fn(u32, u32, *mut c_void);

/// GL entry points glow does not wrap, loaded by hand.
#[derive(Clone, Copy, Default)]
pub(crate) struct ExtraGl {
    /// glGetTextureSubImage (GL 4.5 / ARB_get_texture_sub_image).
    pub get_texture_sub_image: Option<GetTextureSubImageFn>,
    /// glGetCompressedTextureSubImage.
    pub get_compressed_texture_sub_image: Option<GetCompressedTextureSubImageFn>,
    /// glClearTexSubImage (GL 4.4 / ARB_clear_texture).
    pub clear_tex_sub_image: Option<ClearTexSubImageFn>,
    /// glGetMultisamplefv (sample positions for the caps).
    pub get_multisample_fv: Option<GetMultisampleFn>,
    /// glTexSubImage1D.
    pub tex_sub_image_1d: Option<TexSubImage1dFn>,
    /// glCompressedTexSubImage1D.
    pub compressed_tex_sub_image_1d: Option<CompressedTexSubImage1dFn>,
    /// glTexStorage3DMultisample.
    pub tex_storage_3d_multisample: Option<TexStorage3dMultisampleFn>,
    /// glFramebufferParameteri (ARB_framebuffer_no_attachments).
    pub framebuffer_parameteri: Option<FramebufferParameteriFn>,
    /// glLogicOp (desktop GL only).
    pub logic_op: Option<U32Fn>,
    /// glClipControl (GL 4.5 / ARB_clip_control).
    pub clip_control: Option<U32U32Fn>,
    /// glPolygonOffsetClamp (GL 4.6 / ARB_polygon_offset_clamp).
    pub polygon_offset_clamp: Option<F32x3Fn>,
    /// glSampleMaski.
    pub sample_mask_i: Option<U32U32Fn>,
    /// glMinSampleShading.
    pub min_sample_shading: Option<F32Fn>,
    /// glPointSize (desktop GL only).
    pub point_size: Option<F32Fn>,
    /// glProvokingVertex (desktop GL only).
    pub provoking_vertex: Option<U32Fn>,
    /// glPrimitiveRestartIndex (desktop GL 3.1).
    pub primitive_restart_index: Option<U32Fn>,
    /// glTextureView (GL 4.3 / ARB_texture_view).
    pub texture_view: Option<TextureViewFn>,
    /// glTexBufferRange (GL 4.3 / ARB_texture_buffer_range).
    pub tex_buffer_range: Option<TexBufferRangeFn>,
    /// glTextureBarrier (GL 4.5 / ARB_texture_barrier).
    pub texture_barrier: Option<VoidFn>,
    /// glBeginConditionalRender / glEndConditionalRender (GL 3.0).
    pub begin_conditional_render: Option<U32U32Fn>,
    pub end_conditional_render: Option<VoidFn>,
    /// glBeginQueryIndexed / glEndQueryIndexed (GL 4.0 / ARB_transform_feedback3).
    pub begin_query_indexed: Option<U32U32U32Fn>,
    pub end_query_indexed: Option<U32U32Fn>,
    /// glMultiDraw{Arrays,Elements}Indirect (GL 4.3).
    pub multi_draw_arrays_indirect: Option<MultiDrawIndirectFn>,
    pub multi_draw_elements_indirect: Option<MultiDrawElementsIndirectFn>,
    /// glMultiDraw{Arrays,Elements}IndirectCount (GL 4.6 / ARB_indirect_parameters).
    pub multi_draw_arrays_indirect_count: Option<MultiDrawIndirectCountFn>,
    pub multi_draw_elements_indirect_count: Option<MultiDrawElementsIndirectCountFn>,
    /// glPatchParameterfv (default tessellation levels).
    pub patch_parameter_fv: Option<PatchParameterFvFn>,
    /// glDrawTransformFeedbackInstanced (draws counted from stream output).
    pub draw_transform_feedback_instanced: Option<DrawTransformFeedbackInstancedFn>,
    /// glDepthRangeIndexedfOES (GLES OES_viewport_array: floats where desktop GL's
    /// glDepthRangeArrayv takes doubles and is no GLES entry point).
    pub depth_range_indexed_f: Option<DepthRangeIndexedFFn>,
    /// glSamplerParameterIuiv (integer border colours).
    pub sampler_parameter_iuiv: Option<SamplerParameterIuivFn>,
    /// glGetQueryObject{i,ui,i64,ui64}v with a QUERY_BUFFER bound (offset as pointer).
    pub get_query_object_iv: Option<GetQueryObjectBufferFn>,
    pub get_query_object_uiv: Option<GetQueryObjectBufferFn>,
    pub get_query_object_i64v: Option<GetQueryObjectBufferFn>,
    pub get_query_object_ui64v: Option<GetQueryObjectBufferFn>,
}

impl ExtraGl {
    fn load(provider: &dyn GlContextProvider) -> Self {
        fn load<T: Copy>(provider: &dyn GlContextProvider, name: &str) -> Option<T> {
            let name = CString::new(name).ok()?;
            let ptr = provider.get_proc_address(&name);
            if ptr.is_null() {
                return None;
            }
            debug_assert_eq!(
                std::mem::size_of::<T>(),
                std::mem::size_of::<*const c_void>()
            );
            // SAFETY: `T` is always an `unsafe extern "system" fn` type (pointer sized) whose
            // signature matches the GL entry point named `name` in the Khronos registry; the
            // provider returned a non-null address for that name.
            Some(unsafe { std::mem::transmute_copy::<*const c_void, T>(&ptr) })
        }
        Self {
            get_texture_sub_image: load(provider, "glGetTextureSubImage"),
            get_compressed_texture_sub_image: load(provider, "glGetCompressedTextureSubImage"),
            clear_tex_sub_image: load(provider, "glClearTexSubImage"),
            get_multisample_fv: load(provider, "glGetMultisamplefv"),
            tex_sub_image_1d: load(provider, "glTexSubImage1D"),
            compressed_tex_sub_image_1d: load(provider, "glCompressedTexSubImage1D"),
            tex_storage_3d_multisample: load(provider, "glTexStorage3DMultisample"),
            framebuffer_parameteri: load(provider, "glFramebufferParameteri"),
            logic_op: load(provider, "glLogicOp"),
            clip_control: load(provider, "glClipControl"),
            polygon_offset_clamp: load(provider, "glPolygonOffsetClamp"),
            sample_mask_i: load(provider, "glSampleMaski"),
            min_sample_shading: load(provider, "glMinSampleShading"),
            point_size: load(provider, "glPointSize"),
            provoking_vertex: load(provider, "glProvokingVertex"),
            primitive_restart_index: load(provider, "glPrimitiveRestartIndex"),
            texture_view: load(provider, "glTextureView"),
            tex_buffer_range: load(provider, "glTexBufferRange"),
            texture_barrier: load(provider, "glTextureBarrier"),
            begin_conditional_render: load(provider, "glBeginConditionalRender"),
            end_conditional_render: load(provider, "glEndConditionalRender"),
            begin_query_indexed: load(provider, "glBeginQueryIndexed"),
            end_query_indexed: load(provider, "glEndQueryIndexed"),
            multi_draw_arrays_indirect: load(provider, "glMultiDrawArraysIndirect"),
            multi_draw_elements_indirect: load(provider, "glMultiDrawElementsIndirect"),
            multi_draw_arrays_indirect_count: load(provider, "glMultiDrawArraysIndirectCount"),
            multi_draw_elements_indirect_count: load(provider, "glMultiDrawElementsIndirectCount"),
            sampler_parameter_iuiv: load(provider, "glSamplerParameterIuiv"),
            depth_range_indexed_f: load(provider, "glDepthRangeIndexedfOES"),
            patch_parameter_fv: load(provider, "glPatchParameterfv"),
            draw_transform_feedback_instanced: load(provider, "glDrawTransformFeedbackInstanced"),
            get_query_object_iv: load(provider, "glGetQueryObjectiv"),
            get_query_object_uiv: load(provider, "glGetQueryObjectuiv"),
            get_query_object_i64v: load(provider, "glGetQueryObjecti64v"),
            get_query_object_ui64v: load(provider, "glGetQueryObjectui64v"),
        }
    }
}

impl ExtraGl {
    /// Forgets the entry points the context's version and extensions do not provide.
    fn drop_unsupported(&mut self, gles: bool, gl_ver: u32, f: &Features) {
        if gles {
            self.logic_op = None;
            self.point_size = None;
            self.provoking_vertex = None;
            self.primitive_restart_index = None;
            self.begin_conditional_render = None;
            self.end_conditional_render = None;
            self.draw_transform_feedback_instanced = None;
        } else {
            self.depth_range_indexed_f = None;
        }
        if gles || !f.has(Feature::Tessellation) {
            // GLES has no default levels: a TCS is mandatory there.
            self.patch_parameter_fv = None;
        }
        if !f.has(Feature::SamplerBorderColors) {
            self.sampler_parameter_iuiv = None;
        }
        if !f.has(Feature::ClipControl) {
            self.clip_control = None;
        }
        if !f.has(Feature::PolygonOffsetClamp) {
            self.polygon_offset_clamp = None;
        }
        if !f.has(Feature::SampleMask) {
            self.sample_mask_i = None;
        }
        if !f.has(Feature::SampleShading) {
            self.min_sample_shading = None;
        }
        if !f.has(Feature::TextureView) {
            self.texture_view = None;
        }
        if !f.has(Feature::TextureBufferRange) {
            self.tex_buffer_range = None;
        }
        if !f.has(Feature::TextureBarrier) {
            self.texture_barrier = None;
        }
        if !f.has(Feature::TransformFeedback3) {
            self.begin_query_indexed = None;
            self.end_query_indexed = None;
        }
        if !f.has(Feature::MultiDrawIndirect) {
            self.multi_draw_arrays_indirect = None;
            self.multi_draw_elements_indirect = None;
        }
        if !f.has(Feature::IndirectParams) {
            self.multi_draw_arrays_indirect_count = None;
            self.multi_draw_elements_indirect_count = None;
        }
        if gles || gl_ver < 33 {
            // Only the 64-bit getters need GL 3.3 / ARB_timer_query; the QBO path needs 4.4.
            self.get_query_object_i64v = None;
            self.get_query_object_ui64v = None;
        }
        if !f.has(Feature::Qbo) {
            self.get_query_object_iv = None;
            self.get_query_object_uiv = None;
            self.get_query_object_i64v = None;
            self.get_query_object_ui64v = None;
        }
    }
}

/// The host GL as the whole renderer shares it.
pub struct HostGl {
    provider: Rc<dyn GlContextProvider>,
    root: GlContextHandle,
    /// Live contexts made by [`Self::create_shared_context`] (guest sub-contexts), so that a
    /// renderer-wide fence can wait for the work of every one of them.
    shared_contexts: std::cell::RefCell<Vec<GlContextHandle>>,
    context_version: (u32, u32),
    pub(crate) gl: glow::Context,
    pub(crate) extra: ExtraGl,
    /// Desktop GL version × 10, 0 on GLES.
    pub gl_ver: u32,
    /// GLES version × 10, 0 on desktop GL.
    pub gles_ver: u32,
    /// A core profile (or GLES) context: no fixed-function paths.
    pub core_profile: bool,
    pub features: Features,
    pub formats: FormatTable,
    pub limits: Limits,
    extensions: HashSet<String>,
    pub renderer: String,
    pub vendor: String,
    /// Programs of the drawing blitter (shared by every context of the share group).
    pub(crate) blit_programs: crate::blitter::BlitPrograms,
}

impl std::fmt::Debug for HostGl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostGl")
            .field("gl_ver", &self.gl_ver)
            .field("gles_ver", &self.gles_ver)
            .field("renderer", &self.renderer)
            .finish_non_exhaustive()
    }
}

impl HostGl {
    /// Creates the root context (newest version the provider accepts), loads GL and probes the
    /// host. Leaves the root context current.
    pub fn new(provider: Rc<dyn GlContextProvider>) -> VrendResult<Self> {
        let versions = if provider.is_gles() {
            GLES_VERSIONS
        } else {
            GL_VERSIONS
        };
        let (root, context_version) = versions
            .iter()
            .find_map(|&(major, minor)| {
                provider
                    .create_context(&GlContextParams {
                        shared: false,
                        major,
                        minor,
                        compat: false,
                    })
                    .ok()
                    .map(|c| (c, (major, minor)))
            })
            .ok_or_else(|| {
                VrendError::HostGlMissing("a GL >= 3.1 / GLES >= 3.0 context".to_string())
            })?;
        if let Err(e) = provider.make_current(Some(root)) {
            provider.destroy_context(root);
            return Err(e);
        }
        let p = provider.clone();
        // SAFETY: the root context is current; the loader returns entry points of that GL
        // implementation (null for unknown names, which glow records as not loaded).
        let gl =
            unsafe { glow::Context::from_loader_function_cstr(|name| p.get_proc_address(name)) };
        let mut extra = ExtraGl::load(provider.as_ref());
        let version = gl.version().clone();
        let gles = version.is_embedded;
        let ver = version.major * 10 + version.minor;
        let (gl_ver, gles_ver) = if gles { (0, ver) } else { (ver, 0) };
        let extensions = gl.supported_extensions().clone();
        // eglGetProcAddress answers for any name; keep only what this context really has.
        if gles || (gl_ver < 45 && !extensions.contains("GL_ARB_get_texture_sub_image")) {
            extra.get_texture_sub_image = None;
            extra.get_compressed_texture_sub_image = None;
        }
        if gl_ver < 44
            && !extensions.contains("GL_ARB_clear_texture")
            && !extensions.contains("GL_EXT_clear_texture")
        {
            extra.clear_tex_sub_image = None;
        }
        if gles {
            extra.tex_sub_image_1d = None;
            extra.compressed_tex_sub_image_1d = None;
        }
        if gl_ver < 43 && gles_ver < 32 {
            extra.tex_storage_3d_multisample = None;
        }
        // eglGetProcAddress answers for any name: drop what this context does not provide.
        let feats = Features::detect(gl_ver, gles_ver, &extensions);
        extra.drop_unsupported(gles, gl_ver, &feats);
        let core_profile = gles || (ver > 30 && !extensions.contains("GL_ARB_compatibility"));
        let features = Features::detect(gl_ver, gles_ver, &extensions);
        // SAFETY: plain state queries on the current root context.
        let (renderer, vendor, limits) = unsafe {
            let get = |p| u32::try_from(gl.get_parameter_i32(p)).unwrap_or(0);
            let limits = Limits {
                max_draw_buffers: get(glow::MAX_DRAW_BUFFERS).min(8),
                max_vertex_attribs: get(glow::MAX_VERTEX_ATTRIBS),
                max_texture_2d_size: get(glow::MAX_TEXTURE_SIZE),
                max_texture_3d_size: get(glow::MAX_3D_TEXTURE_SIZE),
                max_texture_cube_size: get(glow::MAX_CUBE_MAP_TEXTURE_SIZE),
                max_array_layers: get(glow::MAX_ARRAY_TEXTURE_LAYERS),
                max_samples: get(glow::MAX_SAMPLES),
            };
            (
                gl.get_parameter_string(glow::RENDERER),
                gl.get_parameter_string(glow::VENDOR),
                limits,
            )
        };
        let has_ext = |e: &str| extensions.contains(e);
        let formats = FormatTable::probe(
            &gl,
            &ProbeOptions {
                gles,
                gl_version: ver,
                texture_storage: features.has(Feature::TextureStorage),
                multisample: features.has(Feature::Multisample),
                storage_multisample: features.has(Feature::StorageMultisample),
            },
            &has_ext,
        );
        let formats = match formats {
            Ok(f) => f,
            Err(e) => {
                let _ = provider.make_current(None);
                provider.destroy_context(root);
                return Err(e);
            }
        };
        if !features.has(Feature::Ubo) {
            let _ = provider.make_current(None);
            provider.destroy_context(root);
            return Err(VrendError::HostGlMissing(
                "ARB_uniform_buffer_object".into(),
            ));
        }
        // SAFETY: a plain state query on the current root context.
        let flags = unsafe { gl.get_parameter_i32(glow::CONTEXT_FLAGS) } as u32;
        let robust_access = flags & glow::CONTEXT_FLAG_ROBUST_ACCESS_BIT != 0;
        tracing::info!(
            renderer,
            gl_ver,
            gles_ver,
            core_profile,
            robust_access,
            "host GL initialised"
        );
        Ok(Self {
            provider,
            root,
            shared_contexts: Default::default(),
            context_version,
            gl,
            extra,
            gl_ver,
            gles_ver,
            core_profile,
            features,
            formats,
            limits,
            extensions,
            renderer,
            vendor,
            blit_programs: Default::default(),
        })
    }

    pub fn is_gles(&self) -> bool {
        self.gles_ver > 0
    }

    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.contains(name)
    }

    /// The context's extensions, sorted.
    pub fn extension_list(&self) -> Vec<String> {
        let mut v: Vec<String> = self.extensions.iter().cloned().collect();
        v.sort();
        v
    }

    /// The address of a GL entry point (null if the provider has none), for loaders of entry
    /// points outside [`ExtraGl`] (the memory-object import in `import.rs`).
    pub(crate) fn proc_address(&self, name: &str) -> *const c_void {
        match CString::new(name) {
            Ok(name) => self.provider.get_proc_address(&name),
            Err(_) => std::ptr::null(),
        }
    }

    /// Makes the renderer-wide context current.
    pub fn make_root_current(&self) -> VrendResult<()> {
        self.provider.make_current(Some(self.root))
    }

    /// Makes `ctx` current.
    pub fn make_current(&self, ctx: GlContextHandle) -> VrendResult<()> {
        self.provider.make_current(Some(ctx))
    }

    /// Creates a context sharing objects with the root one (the root is made current first).
    pub fn create_shared_context(&self) -> VrendResult<GlContextHandle> {
        self.make_root_current()?;
        let (major, minor) = self.context_version;
        let ctx = self.provider.create_context(&GlContextParams {
            shared: true,
            major,
            minor,
            compat: false,
        })?;
        self.shared_contexts.borrow_mut().push(ctx);
        Ok(ctx)
    }

    /// Destroys a context made by [`Self::create_shared_context`]; the root is current after.
    pub fn destroy_context(&self, ctx: GlContextHandle) {
        let _ = self.make_root_current();
        self.shared_contexts.borrow_mut().retain(|&c| c != ctx);
        self.provider.destroy_context(ctx);
    }

    /// Waits until the GL work issued so far in every context (guest sub-contexts and the root)
    /// is complete: what a renderer-wide (context 0) fence promises. The root is current after.
    pub fn finish_all(&self) -> VrendResult<()> {
        let contexts = self.shared_contexts.borrow().clone();
        for ctx in contexts {
            self.make_current(ctx)?;
            // SAFETY: `ctx` is current; glFinish has no preconditions.
            unsafe { self.gl.finish() };
        }
        self.make_root_current()?;
        // SAFETY: the root context is current.
        unsafe { self.gl.finish() };
        Ok(())
    }

    /// Drains pending GL errors, returning the first one (0 if none).
    pub(crate) fn take_error(&self) -> u32 {
        let mut first = glow::NO_ERROR;
        for _ in 0..16 {
            // SAFETY: glGetError on whatever context the caller made current.
            let e = unsafe { self.gl.get_error() };
            if e == glow::NO_ERROR {
                break;
            }
            if first == glow::NO_ERROR {
                first = e;
            }
        }
        first
    }

    /// Fails with the first pending GL error, naming `what`.
    pub(crate) fn check(&self, what: &'static str) -> VrendResult<()> {
        match self.take_error() {
            glow::NO_ERROR => Ok(()),
            code => Err(VrendError::Gl { what, code }),
        }
    }
}

impl Drop for HostGl {
    fn drop(&mut self) {
        if self.make_root_current().is_ok() {
            self.blit_programs.release(&self.gl);
        }
        let _ = self.provider.make_current(None);
        self.provider.destroy_context(self.root);
    }
}
