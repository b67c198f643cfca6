//! Host GL features: which GL/GLES version or extension provides each capability the backend
//! relies on.
//!
//! A feature is present when the host's context version reaches the feature's core version, or
//! when any of its extensions is advertised — the same rule upstream virglrenderer applies, so
//! that the guest sees the same caps on the same host. The table is data; [`Features::detect`]
//! only reads it against the host's version and extension list.

use std::collections::HashSet;

/// "Not core in any version" for the version columns.
const NA: u32 = u32::MAX;

macro_rules! features {
    ($($name:ident = ($gl:expr, $gles:expr, $exts:expr),)*) => {
        /// One host capability the backend checks before using it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Feature { $($name,)* }

        impl Feature {
            /// Every feature, in table order.
            pub const ALL: &'static [Feature] = &[$(Feature::$name,)*];

            /// `(desktop GL version × 10, GLES version × 10, extensions)` that provide it.
            const fn requirement(self) -> (u32, u32, &'static [&'static str]) {
                match self { $(Feature::$name => ($gl, $gles, $exts),)* }
            }
        }
    };
}

features! {
    ArbOrGlesExtTextureBuffer = (31, NA, &["GL_ARB_texture_buffer_object", "GL_EXT_texture_buffer"]),
    ArbRobustness = (NA, NA, &["GL_ARB_robustness"]),
    ArbBufferStorage = (44, NA, &["GL_ARB_buffer_storage", "GL_EXT_buffer_storage"]),
    ArraysOfArrays = (43, 31, &["GL_ARB_arrays_of_arrays"]),
    AtiMeminfo = (NA, NA, &["GL_ATI_meminfo"]),
    AtomicCounters = (42, 31, &["GL_ARB_shader_atomic_counters"]),
    BaseInstance = (42, NA, &["GL_ARB_base_instance", "GL_EXT_base_instance"]),
    Barrier = (42, 31, &["GL_ARB_shader_image_load_store"]),
    BindVertexBuffers = (44, NA, &[]),
    BitEncoding = (33, NA, &["GL_ARB_shader_bit_encoding"]),
    BlendEquationAdvanced = (NA, 32, &["GL_KHR_blend_equation_advanced"]),
    ClearTexture = (44, NA, &["GL_ARB_clear_texture", "GL_EXT_clear_texture"]),
    ClipControl = (45, NA, &["GL_ARB_clip_control", "GL_EXT_clip_control"]),
    ComputeShader = (43, 31, &["GL_ARB_compute_shader"]),
    CopyImage = (43, 32, &["GL_ARB_copy_image", "GL_EXT_copy_image", "GL_OES_copy_image"]),
    ConditionalRenderInverted = (45, NA, &["GL_ARB_conditional_render_inverted"]),
    ConservativeDepth = (42, NA, &["GL_ARB_conservative_depth", "GL_EXT_conservative_depth"]),
    CubeMapArray = (40, 32, &["GL_ARB_texture_cube_map_array", "GL_EXT_texture_cube_map_array", "GL_OES_texture_cube_map_array"]),
    CullDistance = (45, NA, &["GL_ARB_cull_distance", "GL_EXT_clip_cull_distance"]),
    DebugCb = (NA, NA, &[]),
    DrawInstance = (31, 30, &["GL_ARB_draw_instanced"]),
    // Extension name spelt as upstream does (it never matches a real extension string), so
    // that a host yields the same caps as under upstream virglrenderer.
    DrawParameters = (46, NA, &["ARB_shader_draw_parameters"]),
    DualSrcBlend = (33, NA, &["GL_ARB_blend_func_extended", "GL_EXT_blend_func_extended"]),
    DepthClamp = (32, NA, &["GL_ARB_depth_clamp", "GL_EXT_depth_clamp", "GL_NV_depth_clamp"]),
    EnhancedLayouts = (44, NA, &["GL_ARB_enhanced_layouts"]),
    EglImage = (NA, NA, &["GL_OES_EGL_image"]),
    EglImageStorage = (NA, NA, &["GL_EXT_EGL_image_storage"]),
    FbNoAttach = (43, 31, &["GL_ARB_framebuffer_no_attachments"]),
    FramebufferFetch = (NA, NA, &["GL_EXT_shader_framebuffer_fetch"]),
    FramebufferFetchNonCoherent = (NA, NA, &["GL_EXT_shader_framebuffer_fetch_non_coherent"]),
    GeometryShader = (32, 32, &["GL_EXT_geometry_shader", "GL_OES_geometry_shader"]),
    GlConditionalRender = (30, NA, &[]),
    GlPrimRestart = (31, 30, &[]),
    GlesKhrRobustness = (NA, NA, &["GL_KHR_robustness"]),
    // Extension name spelt as upstream does (it never matches a real extension string), so
    // that a host yields the same caps as under upstream virglrenderer.
    Gles31Compatibility = (45, 31, &["ARB_ES3_1_compatibility"]),
    Gles31VertexAttribBinding = (43, 31, &["GL_ARB_vertex_attrib_binding"]),
    GpuShader5 = (40, 32, &["GL_ARB_gpu_shader5", "GL_EXT_gpu_shader5", "GL_OES_gpu_shader5"]),
    GroupVote = (46, NA, &["GL_ARB_shader_group_vote"]),
    Images = (42, 31, &["GL_ARB_shader_image_load_store"]),
    IndepBlend = (30, 32, &["GL_EXT_draw_buffers2", "GL_OES_draw_buffers_indexed"]),
    IndepBlendFunc = (40, 32, &["GL_ARB_draw_buffers_blend", "GL_OES_draw_buffers_indexed"]),
    IndirectDraw = (40, 31, &["GL_ARB_draw_indirect"]),
    IndirectParams = (46, NA, &["GL_ARB_indirect_parameters"]),
    KhrDebug = (43, 32, &["GL_KHR_debug"]),
    MemoryObject = (NA, NA, &["GL_EXT_memory_object"]),
    MemoryObjectFd = (NA, NA, &["GL_EXT_memory_object_fd"]),
    MesaInvert = (NA, NA, &["GL_MESA_pack_invert"]),
    MsScaledBlit = (NA, NA, &["GL_EXT_framebuffer_multisample_blit_scaled"]),
    Multisample = (32, 30, &["GL_ARB_texture_multisample"]),
    MultiDrawIndirect = (43, NA, &["GL_ARB_multi_draw_indirect", "GL_EXT_multi_draw_indirect"]),
    NvConditionalRender = (NA, NA, &["GL_NV_conditional_render"]),
    NvPrimRestart = (NA, NA, &["GL_NV_primitive_restart"]),
    ShaderNoperspectiveInterpolation = (31, NA, &["GL_NV_shader_noperspective_interpolation", "GL_EXT_gpu_shader4"]),
    NvxGpuMemoryInfo = (NA, NA, &["GL_NVX_gpu_memory_info"]),
    PipelineStatisticsQuery = (46, NA, &["GL_ARB_pipeline_statistics_query"]),
    PolygonOffsetClamp = (46, NA, &["GL_ARB_polygon_offset_clamp", "GL_EXT_polygon_offset_clamp"]),
    OcclusionQuery = (15, NA, &["GL_ARB_occlusion_query"]),
    OcclusionQueryBoolean = (33, 30, &["GL_EXT_occlusion_query_boolean", "GL_ARB_occlusion_query2"]),
    Qbo = (44, NA, &["GL_ARB_query_buffer_object"]),
    RobustBufferAccess = (43, NA, &["GL_ARB_robust_buffer_access_behavior", "GL_KHR_robust_buffer_access_behavior"]),
    SampleMask = (32, 31, &["GL_ARB_texture_multisample"]),
    SampleShading = (40, 32, &["GL_ARB_sample_shading", "GL_OES_sample_shading"]),
    Samplers = (33, 30, &["GL_ARB_sampler_objects"]),
    SamplerBorderColors = (33, 32, &["GL_ARB_sampler_objects", "GL_EXT_texture_border_clamp", "GL_OES_texture_border_clamp"]),
    // Extension name spelt as upstream does (it never matches a real extension string), so
    // that a host yields the same caps as under upstream virglrenderer.
    SeparateShaderObjects = (41, 31, &["GL_ARB_seperate_shader_objects"]),
    ShaderClock = (NA, NA, &["GL_ARB_shader_clock"]),
    Ssbo = (43, 31, &["GL_ARB_shader_storage_buffer_object"]),
    SsboBarrier = (43, 31, &["GL_ARB_shader_storage_buffer_object"]),
    SrgbWriteControl = (30, NA, &["GL_EXT_sRGB_write_control"]),
    StencilTexturing = (43, 31, &["GL_ARB_stencil_texturing"]),
    StorageMultisample = (43, 31, &["GL_ARB_texture_storage_multisample"]),
    Tessellation = (40, 32, &["GL_ARB_tessellation_shader", "GL_OES_tessellation_shader", "GL_EXT_tessellation_shader"]),
    TextureArray = (30, 30, &["GL_EXT_texture_array"]),
    TextureBarrier = (45, NA, &["GL_ARB_texture_barrier"]),
    TextureBufferRange = (43, 32, &["GL_ARB_texture_buffer_range"]),
    TextureGather = (40, 31, &["GL_ARB_texture_gather"]),
    TextureMirrorClampToEdge = (NA, NA, &["GL_ATI_texture_mirror_once", "GL_EXT_texture_mirror_clamp", "GL_ARB_texture_mirror_clamp_to_edge", "GL_EXT_texture_mirror_clamp_to_edge"]),
    TextureMirrorClamp = (NA, NA, &["GL_ATI_texture_mirror_once", "GL_EXT_texture_mirror_clamp"]),
    TextureMirrorClampToBorder = (NA, NA, &["GL_EXT_texture_mirror_clamp"]),
    TextureMultisample = (32, 31, &["GL_ARB_texture_multisample"]),
    TextureQueryLod = (40, NA, &["GL_ARB_texture_query_lod", "GL_EXT_texture_query_lod"]),
    TextureShadowLod = (NA, NA, &["GL_EXT_texture_shadow_lod"]),
    TextureSrgbDecode = (NA, NA, &["GL_EXT_texture_sRGB_decode"]),
    TextureStorage = (42, 30, &["GL_ARB_texture_storage"]),
    TextureView = (43, NA, &["GL_ARB_texture_view", "GL_OES_texture_view", "GL_EXT_texture_view"]),
    TimerQuery = (33, NA, &["GL_ARB_timer_query", "GL_EXT_disjoint_timer_query"]),
    TransformFeedback = (30, 30, &["GL_EXT_transform_feedback"]),
    TransformFeedback2 = (40, 30, &["GL_ARB_transform_feedback2"]),
    TransformFeedback3 = (40, NA, &["GL_ARB_transform_feedback3"]),
    TransformFeedbackOverflowQuery = (46, NA, &["GL_ARB_transform_feedback_overflow_query"]),
    Txqs = (45, NA, &["GL_ARB_shader_texture_image_samples"]),
    Ubo = (31, 30, &["GL_ARB_uniform_buffer_object"]),
    ViewportArray = (41, NA, &["GL_ARB_viewport_array", "GL_OES_viewport_array"]),
    ImplicitMsaa = (NA, NA, &["GL_EXT_multisampled_render_to_texture"]),
    AnisotropicFilter = (46, NA, &["GL_EXT_texture_filter_anisotropic", "GL_ARB_texture_filter_anisotropic"]),
    SeamlessCubemapPerTexture = (NA, NA, &["GL_AMD_seamless_cubemap_per_texture"]),
    VsLayerViewport = (NA, NA, &["GL_AMD_vertex_shader_layer"]),
    VsViewportIndex = (NA, NA, &["GL_AMD_vertex_shader_viewport_index"]),
}

/// The set of features the host provides.
#[derive(Debug, Clone, Default)]
pub struct Features {
    present: u128,
}

impl Features {
    /// Evaluates every feature against a host context's version (× 10, e.g. 45) and extensions.
    /// `gl_ver` is 0 on GLES hosts and `gles_ver` 0 on desktop GL hosts.
    pub fn detect(gl_ver: u32, gles_ver: u32, extensions: &HashSet<String>) -> Self {
        let mut present = 0u128;
        for &f in Feature::ALL {
            let (gl, gles, exts) = f.requirement();
            let by_version = (gl_ver > 0 && gl_ver >= gl) || (gles_ver > 0 && gles_ver >= gles);
            if by_version || exts.iter().any(|e| extensions.contains(*e)) {
                present |= 1u128 << (f as u8);
            }
        }
        Self { present }
    }

    pub fn has(&self, f: Feature) -> bool {
        self.present & (1u128 << (f as u8)) != 0
    }

    /// Removes a feature the host advertises but the backend must not use.
    pub fn clear(&mut self, f: Feature) {
        self.present &= !(1u128 << (f as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_in_mask_and_versions_gate() {
        assert!(Feature::ALL.len() <= 128);
        let none = HashSet::new();
        let gl45 = Features::detect(45, 0, &none);
        assert!(gl45.has(Feature::ClipControl));
        assert!(gl45.has(Feature::ComputeShader));
        assert!(!gl45.has(Feature::Qbo) || Feature::Qbo.requirement().0 <= 45);
        assert!(!gl45.has(Feature::DrawParameters));
        assert!(!gl45.has(Feature::MemoryObject));
        let gles32 = Features::detect(0, 32, &none);
        assert!(gles32.has(Feature::Tessellation));
        assert!(!gles32.has(Feature::ClipControl));
        let mut ext = HashSet::new();
        ext.insert("GL_ARB_clip_control".to_string());
        assert!(Features::detect(33, 0, &ext).has(Feature::ClipControl));
    }
}
