//! Capset ids and the non-virgl capsets: Venus (`venus_hw.h`) and DRM native contexts
//! (`drm_hw.h`).

use crate::wire::wire_struct;
use crate::ProtocolError;

/// `VIRTGPU_CAPSET_VIRGL`: `virgl_caps_v1`.
pub const CAPSET_VIRGL: u32 = 1;
/// `VIRTGPU_CAPSET_VIRGL2`: `virgl_caps_v2`.
pub const CAPSET_VIRGL2: u32 = 2;
/// `VIRTGPU_CAPSET_GFXSTREAM_VULKAN` (not served by virglrenderer).
pub const CAPSET_GFXSTREAM_VULKAN: u32 = 3;
/// `VIRTGPU_CAPSET_VENUS`: [`CapsetVenus`].
pub const CAPSET_VENUS: u32 = 4;
/// `VIRTGPU_CAPSET_CROSS_DOMAIN` (not served by virglrenderer).
pub const CAPSET_CROSS_DOMAIN: u32 = 5;
/// `VIRTGPU_CAPSET_DRM`: [`CapsetDrmHeader`] followed by a per-driver part.
pub const CAPSET_DRM: u32 = 6;

wire_struct! {
    /// `struct virgl_renderer_capset_venus` (160 bytes).
    pub struct CapsetVenus {
        pub wire_format_version: u32,
        pub vk_xml_version: u32,
        pub vk_ext_command_serialization_spec_version: u32,
        pub vk_mesa_venus_protocol_spec_version: u32,
        /// Render-server configuration flag (blob id 0 usable before attach).
        pub supports_blob_id_0: u32,
        /// Vulkan extension N is bit `N % 32` of word `N / 32`; bit 0 of word 0 says the mask
        /// is valid at all.
        pub vk_extension_mask1: [u32; 32],
        pub allow_vk_wait_syncs: u32,
        pub supports_multiple_timelines: u32,
        /// The hypervisor cannot inject host pages; blobs come from guest VRAM (Xen).
        pub use_guest_vram: u32,
    }
}

impl CapsetVenus {
    /// Mark Vulkan extension `number` (its registry number, 1..=1023) as supported. Numbers
    /// outside the mask are ignored.
    pub fn set_extension(&mut self, number: u32) {
        if let Some(w) = self.vk_extension_mask1.get_mut((number / 32) as usize) {
            *w |= 1 << (number % 32);
        }
    }

    /// Whether Vulkan extension `number` is marked supported.
    pub fn has_extension(&self, number: u32) -> bool {
        self.vk_extension_mask1
            .get((number / 32) as usize)
            .is_some_and(|w| w & (1 << (number % 32)) != 0)
    }
}

/// `VIRTGPU_DRM_CONTEXT_*`: which native-context driver a DRM capset describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum DrmContextType {
    /// Qualcomm Adreno (freedreno).
    Msm = 1,
    /// AMD.
    Amdgpu = 2,
    /// Intel.
    I915 = 3,
    /// Apple (asahi).
    Asahi = 4,
    /// Arm Mali (panfrost).
    Panfrost = 5,
}

impl TryFrom<u32> for DrmContextType {
    type Error = ProtocolError;
    fn try_from(v: u32) -> Result<Self, ProtocolError> {
        Ok(match v {
            1 => Self::Msm,
            2 => Self::Amdgpu,
            3 => Self::I915,
            4 => Self::Asahi,
            5 => Self::Panfrost,
            _ => {
                return Err(ProtocolError::InvalidValue {
                    what: "VIRTGPU_DRM_CONTEXT",
                    value: u64::from(v),
                })
            }
        })
    }
}

wire_struct! {
    /// The fixed head of `struct virgl_renderer_capset_drm` (24 bytes); the driver union `u`
    /// starts right after it, at offset 24.
    ///
    /// The amdgpu member of that union embeds libdrm structs whose size depends on the build,
    /// so only the MSM and Intel members are modelled ([`CapsetDrmMsm`], [`CapsetDrmIntel`]).
    pub struct CapsetDrmHeader {
        pub wire_format_version: u32,
        pub version_major: u32,
        pub version_minor: u32,
        pub version_patchlevel: u32,
        /// A [`DrmContextType`] value.
        pub context_type: u32,
        pub pad: u32,
    }
}

impl CapsetDrmHeader {
    /// Offset of the per-driver union within the capset.
    pub const UNION_OFFSET: usize = 24;

    /// The typed context type.
    pub fn context_type(&self) -> Result<DrmContextType, ProtocolError> {
        DrmContextType::try_from(self.context_type)
    }
}

wire_struct! {
    /// The `msm` member of the DRM capset union (88 bytes).
    pub struct CapsetDrmMsm {
        pub has_cached_coherent: u32,
        pub priorities: u32,
        pub va_start: u64,
        pub va_size: u64,
        pub gpu_id: u32,
        pub gmem_size: u32,
        pub gmem_base: u64,
        pub chip_id: u64,
        pub max_freq: u32,
        pub highest_bank_bit: u32,
        pub ubwc_swizzle: u64,
        pub macrotile_mode: u64,
        /// `VIRTGPU_CAP_BOOL_*`: 0 unsupported by host, `!0` false, 1 true.
        pub has_raytracing: u32,
        /// `VIRTGPU_CAP_BOOL_*`.
        pub has_preemption: u32,
        pub uche_trap_base: u64,
    }
}

wire_struct! {
    /// The `intel` member of the DRM capset union (24 bytes).
    pub struct CapsetDrmIntel {
        pub pci_bus: u32,
        pub pci_dev: u32,
        pub pci_func: u32,
        pub pci_revision_id: u32,
        pub pci_domain: u32,
        pub pci_device_id: u32,
    }
}
