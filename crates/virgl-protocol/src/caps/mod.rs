//! Capability sets the host hands to the guest: `union virgl_caps` (capsets VIRGL=1 and
//! VIRGL2=2), the Venus capset (4) and the DRM native-context capset header (6).
//!
//! The structs mirror the C layouts of `virgl_hw.h`, `venus_hw.h` and `drm_hw.h` field for field
//! and encode to the exact little-endian bytes gcc would produce on x86_64. Filling in real
//! values from a GL or Vulkan driver is the backends' job; this module only defines the layout.

mod other;
#[cfg(test)]
mod tests;

use bitflags::bitflags;

pub use other::{
    CapsetDrmHeader, CapsetDrmIntel, CapsetDrmMsm, CapsetVenus, DrmContextType,
    CAPSET_CROSS_DOMAIN, CAPSET_DRM, CAPSET_GFXSTREAM_VULKAN, CAPSET_VENUS, CAPSET_VIRGL,
    CAPSET_VIRGL2,
};

use crate::format::VirglFormat;
use crate::wire::{bitfields, wire_bitflags, wire_struct};
use crate::ProtocolError;

/// The lowest `host_feature_check_version` at which Mesa's vtest client keeps protocol 3+.
pub const MIN_HOST_FEATURE_CHECK_VERSION: u32 = 23;

bitflags! {
    /// `struct virgl_caps_bool_set1`: 32 one-bit fields, first field in bit 0.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct CapsBoolSet1: u32 {
        const INDEP_BLEND_ENABLE = 1 << 0;
        const INDEP_BLEND_FUNC = 1 << 1;
        const CUBE_MAP_ARRAY = 1 << 2;
        const SHADER_STENCIL_EXPORT = 1 << 3;
        const CONDITIONAL_RENDER = 1 << 4;
        const START_INSTANCE = 1 << 5;
        const PRIMITIVE_RESTART = 1 << 6;
        const BLEND_EQ_SEP = 1 << 7;
        const INSTANCEID = 1 << 8;
        const VERTEX_ELEMENT_INSTANCE_DIVISOR = 1 << 9;
        const SEAMLESS_CUBE_MAP = 1 << 10;
        const OCCLUSION_QUERY = 1 << 11;
        const TIMER_QUERY = 1 << 12;
        const STREAMOUT_PAUSE_RESUME = 1 << 13;
        const TEXTURE_MULTISAMPLE = 1 << 14;
        const FRAGMENT_COORD_CONVENTIONS = 1 << 15;
        const DEPTH_CLIP_DISABLE = 1 << 16;
        const SEAMLESS_CUBE_MAP_PER_TEXTURE = 1 << 17;
        const UBO = 1 << 18;
        /// Not in GL 3.1 core profile.
        const COLOR_CLAMPING = 1 << 19;
        /// Not in GL 3.1 core profile.
        const POLY_STIPPLE = 1 << 20;
        const MIRROR_CLAMP = 1 << 21;
        const TEXTURE_QUERY_LOD = 1 << 22;
        const HAS_FP64 = 1 << 23;
        const HAS_TESSELLATION_SHADERS = 1 << 24;
        const HAS_INDIRECT_DRAW = 1 << 25;
        const HAS_SAMPLE_SHADING = 1 << 26;
        const HAS_CULL = 1 << 27;
        const CONDITIONAL_RENDER_INVERTED = 1 << 28;
        const DERIVATIVE_CONTROL = 1 << 29;
        const POLYGON_OFFSET_CLAMP = 1 << 30;
        const TRANSFORM_FEEDBACK_OVERFLOW_QUERY = 1 << 31;
    }
}

bitflags! {
    /// `VIRGL_CAP_*` (`capability_bits` of `virgl_caps_v2`): 32 bits plus the `NONE` and
    /// `FAKE_FP64` names upstream also defines (34 names).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct VirglCaps: u32 {
        const NONE = 0;
        const TGSI_INVARIANT = 1 << 0;
        const TEXTURE_VIEW = 1 << 1;
        const SET_MIN_SAMPLES = 1 << 2;
        const COPY_IMAGE = 1 << 3;
        const TGSI_PRECISE = 1 << 4;
        const TXQS = 1 << 5;
        const MEMORY_BARRIER = 1 << 6;
        const COMPUTE_SHADER = 1 << 7;
        const FB_NO_ATTACH = 1 << 8;
        const ROBUST_BUFFER_ACCESS = 1 << 9;
        const TGSI_FBFETCH = 1 << 10;
        const SHADER_CLOCK = 1 << 11;
        const TEXTURE_BARRIER = 1 << 12;
        const TGSI_COMPONENTS = 1 << 13;
        const GUEST_MAY_INIT_LOG = 1 << 14;
        const SRGB_WRITE_CONTROL = 1 << 15;
        const QBO = 1 << 16;
        const TRANSFER = 1 << 17;
        const FBO_MIXED_COLOR_FORMATS = 1 << 18;
        const HOST_IS_GLES = 1 << 19;
        const BIND_COMMAND_ARGS = 1 << 20;
        const MULTI_DRAW_INDIRECT = 1 << 21;
        const INDIRECT_PARAMS = 1 << 22;
        const TRANSFORM_FEEDBACK3 = 1 << 23;
        const ASTC_3D = 1 << 24;
        const INDIRECT_INPUT_ADDR = 1 << 25;
        const COPY_TRANSFER = 1 << 26;
        const CLIP_HALFZ = 1 << 27;
        const APP_TWEAK_SUPPORT = 1 << 28;
        const BGRA_SRGB_IS_EMULATED = 1 << 29;
        const CLEAR_TEXTURE = 1 << 30;
        const ARB_BUFFER_STORAGE = 1 << 31;
        /// Legacy alias of `HOST_IS_GLES`.
        const FAKE_FP64 = 1 << 19;
    }
}

bitflags! {
    /// `VIRGL_CAP_V2_*` (`capability_bits_v2` of `virgl_caps_v2`): 19 bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct VirglCapsV2: u32 {
        const BLEND_EQUATION = 1 << 0;
        const UNTYPED_RESOURCE = 1 << 1;
        const VIDEO_MEMORY = 1 << 2;
        const MEMINFO = 1 << 3;
        const STRING_MARKER = 1 << 4;
        const DIFFERENT_GPU = 1 << 5;
        const IMPLICIT_MSAA = 1 << 6;
        const COPY_TRANSFER_BOTH_DIRECTIONS = 1 << 7;
        const SCANOUT_USES_GBM = 1 << 8;
        const SSO = 1 << 9;
        const TEXTURE_SHADOW_LOD = 1 << 10;
        const VS_VERTEX_LAYER = 1 << 11;
        const VS_VIEWPORT_INDEX = 1 << 12;
        const PIPELINE_STATISTICS_QUERY = 1 << 13;
        const DRAW_PARAMETERS = 1 << 14;
        const GROUP_VOTE = 1 << 15;
        const MIRROR_CLAMP_TO_EDGE = 1 << 16;
        const MIRROR_CLAMP = 1 << 17;
        const RESOURCE_LAYOUT = 1 << 18;
    }
}

wire_bitflags!(CapsBoolSet1, VirglCaps, VirglCapsV2);

wire_struct! {
    /// `struct virgl_supported_format_mask`: one bit per [`VirglFormat`] value (512 bits).
    pub struct FormatMask {
        pub bitmask: [u32; 16],
    }
}

impl FormatMask {
    /// Whether `format`'s bit is set.
    pub fn contains(&self, format: VirglFormat) -> bool {
        let v = format.raw() as usize;
        self.bitmask
            .get(v / 32)
            .is_some_and(|w| w & (1 << (v % 32)) != 0)
    }

    /// Set `format`'s bit. Host-only formats (above 511 they would not fit) are ignored.
    pub fn insert(&mut self, format: VirglFormat) {
        let v = format.raw() as usize;
        if let Some(w) = self.bitmask.get_mut(v / 32) {
            *w |= 1 << (v % 32);
        }
    }

    /// Clear `format`'s bit.
    pub fn remove(&mut self, format: VirglFormat) {
        let v = format.raw() as usize;
        if let Some(w) = self.bitmask.get_mut(v / 32) {
            *w &= !(1 << (v % 32));
        }
    }

    /// The formats whose bits are set (unassigned bits are skipped).
    pub fn iter(&self) -> impl Iterator<Item = VirglFormat> + '_ {
        VirglFormat::iter().filter(move |f| self.contains(*f))
    }
}

impl FromIterator<VirglFormat> for FormatMask {
    fn from_iter<I: IntoIterator<Item = VirglFormat>>(iter: I) -> Self {
        let mut m = FormatMask::default();
        for f in iter {
            m.insert(f);
        }
        m
    }
}

wire_struct! {
    /// `struct virgl_caps_v1` (308 bytes), the whole of capset VIRGL version 1.
    pub struct CapsV1 {
        /// Highest capset version the host serves (1 or 2).
        pub max_version: u32,
        pub sampler: FormatMask,
        pub render: FormatMask,
        pub depthstencil: FormatMask,
        pub vertexbuffer: FormatMask,
        pub bset: CapsBoolSet1,
        pub glsl_level: u32,
        pub max_texture_array_layers: u32,
        pub max_streamout_buffers: u32,
        pub max_dual_source_render_targets: u32,
        pub max_render_targets: u32,
        pub max_samples: u32,
        pub prim_mask: u32,
        pub max_tbo_size: u32,
        pub max_uniform_blocks: u32,
        pub max_viewports: u32,
        pub max_texture_gather_components: u32,
    }
}

wire_struct! {
    /// `struct virgl_video_caps`: 16 bytes of bitfields, read through the accessors.
    pub struct VideoCaps {
        /// `profile:8, entrypoint:8, max_level:8, stacked_frames:8`.
        pub dw0: u32,
        /// `max_width:16, max_height:16`.
        pub dw1: u32,
        /// `prefered_format:16, max_macroblocks:16`.
        pub dw2: u32,
        /// `npot_texture:1, supports_progressive:1, supports_interlaced:1, prefers_interlaced:1,
        /// max_temporal_layers:8, reserved:20`.
        pub dw3: u32,
    }
}

bitfields!(VideoCaps {
    /// `enum pipe_video_profile` value.
    dw0.profile / set_profile: 0, 8;
    /// `enum pipe_video_entrypoint` value.
    dw0.entrypoint / set_entrypoint: 8, 8;
    dw0.max_level / set_max_level: 16, 8;
    dw0.stacked_frames / set_stacked_frames: 24, 8;
    dw1.max_width / set_max_width: 0, 16;
    dw1.max_height / set_max_height: 16, 16;
    /// A virgl format value (upstream spells it `prefered_format`).
    dw2.prefered_format / set_prefered_format: 0, 16;
    dw2.max_macroblocks / set_max_macroblocks: 16, 16;
    dw3.npot_texture / set_npot_texture: 0, 1;
    dw3.supports_progressive / set_supports_progressive: 1, 1;
    dw3.supports_interlaced / set_supports_interlaced: 2, 1;
    dw3.prefers_interlaced / set_prefers_interlaced: 3, 1;
    dw3.max_temporal_layers / set_max_temporal_layers: 4, 8;
});

wire_struct! {
    /// `struct virgl_caps_v2`, which is also the size of `union virgl_caps` (1408 bytes).
    ///
    /// Served for capset VIRGL2 (and, truncated to [`CapsV1::SIZE`], for VIRGL).
    pub struct CapsV2 {
        pub v1: CapsV1,
        pub min_aliased_point_size: f32,
        pub max_aliased_point_size: f32,
        pub min_smooth_point_size: f32,
        pub max_smooth_point_size: f32,
        pub min_aliased_line_width: f32,
        pub max_aliased_line_width: f32,
        pub min_smooth_line_width: f32,
        pub max_smooth_line_width: f32,
        pub max_texture_lod_bias: f32,
        pub max_geom_output_vertices: u32,
        pub max_geom_total_output_components: u32,
        pub max_vertex_outputs: u32,
        pub max_vertex_attribs: u32,
        pub max_shader_patch_varyings: u32,
        pub min_texel_offset: i32,
        pub max_texel_offset: i32,
        pub min_texture_gather_offset: i32,
        pub max_texture_gather_offset: i32,
        pub texture_buffer_offset_alignment: u32,
        pub uniform_buffer_offset_alignment: u32,
        pub shader_buffer_offset_alignment: u32,
        pub capability_bits: VirglCaps,
        pub sample_locations: [u32; 8],
        pub max_vertex_attrib_stride: u32,
        pub max_shader_buffer_frag_compute: u32,
        pub max_shader_buffer_other_stages: u32,
        pub max_shader_image_frag_compute: u32,
        pub max_shader_image_other_stages: u32,
        pub max_image_samples: u32,
        pub max_compute_work_group_invocations: u32,
        pub max_compute_shared_memory_size: u32,
        pub max_compute_grid_size: [u32; 3],
        pub max_compute_block_size: [u32; 3],
        pub max_texture_2d_size: u32,
        pub max_texture_3d_size: u32,
        pub max_texture_cube_size: u32,
        pub max_combined_shader_buffers: u32,
        pub max_atomic_counters: [u32; 6],
        pub max_atomic_counter_buffers: [u32; 6],
        pub max_combined_atomic_counters: u32,
        pub max_combined_atomic_counter_buffers: u32,
        /// Report at least [`MIN_HOST_FEATURE_CHECK_VERSION`] or Mesa's vtest client falls back
        /// to protocol 2.
        pub host_feature_check_version: u32,
        pub supported_readback_formats: FormatMask,
        pub scanout: FormatMask,
        pub capability_bits_v2: VirglCapsV2,
        pub max_video_memory: u32,
        /// NUL-terminated renderer string (`char renderer[64]`).
        pub renderer: [u8; 64],
        pub max_anisotropy: f32,
        /// Informs the guest's `PIPE_SHADER_CAP_MAX_TEXTURE_SAMPLERS`, not
        /// `GL_MAX_TEXTURE_IMAGE_UNITS`.
        pub max_texture_samplers: u32,
        pub supported_multisample_formats: FormatMask,
        /// Per `PIPE_SHADER_TYPES` (6).
        pub max_const_buffer_size: [u32; 6],
        pub num_video_caps: u32,
        pub video_caps: [VideoCaps; 32],
        pub max_uniform_block_size: u32,
        pub max_tcs_outputs: u32,
        pub max_tes_outputs: u32,
        /// Per `PIPE_SHADER_TYPES` (6).
        pub max_shader_storage_blocks: [u32; 6],
    }
}

impl CapsV2 {
    /// Set `renderer`, truncating to 63 bytes so a NUL terminator always remains.
    pub fn set_renderer(&mut self, name: &str) {
        self.renderer = [0; 64];
        let n = name.len().min(63);
        self.renderer[..n].copy_from_slice(&name.as_bytes()[..n]);
    }

    /// `renderer` up to its first NUL, lossily decoded.
    pub fn renderer(&self) -> String {
        let end = self.renderer.iter().position(|&b| b == 0).unwrap_or(64);
        String::from_utf8_lossy(&self.renderer[..end]).into_owned()
    }

    /// The video caps that `num_video_caps` declares valid (at most 32).
    pub fn video_caps(&self) -> &[VideoCaps] {
        let n = (self.num_video_caps as usize).min(self.video_caps.len());
        &self.video_caps[..n]
    }
}

/// The bytes a capset query answers with: the v2 struct for VIRGL2, the v1 prefix for VIRGL.
///
/// `capset_version` is the version the guest asked for; anything above 2 is rejected, as are
/// capset ids other than [`CAPSET_VIRGL`] and [`CAPSET_VIRGL2`].
pub fn virgl_capset_bytes(
    caps: &CapsV2,
    capset_id: u32,
    capset_version: u32,
) -> Result<Vec<u8>, ProtocolError> {
    if capset_version > 2 {
        return Err(ProtocolError::InvalidValue {
            what: "virgl capset version",
            value: u64::from(capset_version),
        });
    }
    let mut bytes = caps.to_bytes();
    match capset_id {
        CAPSET_VIRGL => bytes.truncate(CapsV1::SIZE),
        CAPSET_VIRGL2 => {}
        other => {
            return Err(ProtocolError::InvalidValue {
                what: "virgl capset id",
                value: u64::from(other),
            })
        }
    }
    Ok(bytes)
}
