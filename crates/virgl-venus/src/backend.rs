//! The renderer-wide half of the Venus backend: the host Vulkan loader and the capset.

use std::sync::Arc;

use ash::vk;
use virgl_resource::{Backend, Context, ContextError};

use crate::context::{VenusContext, CAPSET_VENUS};
use crate::dispatch::{load_entry, serves_extension};
use crate::generated::extensions::EXTENSIONS;
use crate::images::BoundImages;
use crate::VenusError;

/// `sizeof(struct virgl_renderer_capset_venus)`.
pub const CAPSET_SIZE: usize = 160;

/// VK_MAKE_API_VERSION(0, 1, 4, 334): the vk.xml the protocol was generated from.
pub const VK_XML_VERSION: u32 = vk::make_api_version(0, 1, 4, 334);

/// The Venus capset (40 u32): versions, the extension mask of what we serve, flags.
pub fn capset_bytes(use_guest_vram: bool) -> Vec<u8> {
    let mut mask = [0u32; 32];
    mask[0] |= 1; // bit 0: the mask is valid
    for (name, number, _) in EXTENSIONS {
        if serves_extension(name).is_some() && (*number as usize) < 32 * 32 {
            mask[*number as usize / 32] |= 1 << (number % 32);
        }
    }
    let mut words = vec![1, VK_XML_VERSION, 1, 3, 1];
    words.extend_from_slice(&mask);
    words.extend_from_slice(&[1, 1, u32::from(use_guest_vram)]);
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The Venus backend (capset 4), running contexts in-process on the host Vulkan driver.
pub struct VenusBackend {
    entry: Arc<ash::Entry>,
    /// `VIRGL_RENDERER_USE_GUEST_VRAM`: told to the guest in the capset (`use_guest_vram`).
    use_guest_vram: bool,
    /// Image descriptions of blobs made before their memory was bound, for every context of
    /// this backend ([`crate::images`]).
    bound_images: Arc<BoundImages>,
}

impl std::fmt::Debug for VenusBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VenusBackend").finish_non_exhaustive()
    }
}

impl VenusBackend {
    /// Loads the host Vulkan loader; fails when there is none or it is older than 1.1.
    pub fn new() -> Result<Self, VenusError> {
        let entry = load_entry()?;
        // SAFETY: a plain query on a loaded entry.
        let version = unsafe { entry.try_enumerate_instance_version() }
            .ok()
            .flatten()
            .unwrap_or(vk::API_VERSION_1_0);
        if version < vk::API_VERSION_1_1 {
            return Err(VenusError::NotAvailable(
                "host Vulkan instance version below 1.1".into(),
            ));
        }
        Ok(Self {
            entry: Arc::new(entry),
            use_guest_vram: false,
            bound_images: Arc::default(),
        })
    }

    /// The queue of image descriptions the contexts' late binds produce: the holder of the
    /// resource table applies it before importing a blob ([`BoundImages::apply`]).
    pub fn bound_images(&self) -> Arc<BoundImages> {
        self.bound_images.clone()
    }

    /// Guest VRAM mode (`VIRGL_RENDERER_USE_GUEST_VRAM`, Xen): the capset tells the guest to
    /// back host-visible and exportable memory with guest-VRAM blobs it then imports
    /// (VkImportMemoryResourceInfoMESA), as the VMM cannot map host memory into the guest.
    pub fn with_guest_vram(mut self, on: bool) -> Self {
        self.use_guest_vram = on;
        self
    }
}

impl Backend for VenusBackend {
    fn capset_ids(&self) -> &[u32] {
        &[CAPSET_VENUS]
    }

    fn capset_info(&self, capset_id: u32) -> Option<(u32, u32)> {
        (capset_id == CAPSET_VENUS).then_some((0, CAPSET_SIZE as u32))
    }

    fn fill_caps(&self, capset_id: u32, _version: u32) -> Result<Vec<u8>, ContextError> {
        if capset_id != CAPSET_VENUS {
            return Err(ContextError::Unsupported("capset"));
        }
        Ok(capset_bytes(self.use_guest_vram))
    }

    fn create_context(
        &mut self,
        ctx_id: u32,
        capset_id: u32,
        _name: &str,
    ) -> Result<Box<dyn Context>, ContextError> {
        if capset_id != CAPSET_VENUS {
            return Err(ContextError::Unsupported("capset"));
        }
        Ok(Box::new(VenusContext::with_bound_images(
            ctx_id,
            self.entry.clone(),
            self.bound_images.clone(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capset_layout() {
        let b = capset_bytes(false);
        assert_eq!(b.len(), CAPSET_SIZE);
        let w = |i: usize| u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!(w(0), 1);
        assert_eq!(w(1), 0x0040_414e);
        assert_eq!(w(3), 3);
        assert_eq!(w(5) & 1, 1, "mask valid bit");
        assert_eq!((w(37), w(38), w(39)), (1, 1, 0));
        // VK_KHR_maintenance1 (70) is served, VK_KHR_acceleration_structure (151) is not.
        assert_ne!(w(5 + 70 / 32) & (1 << (70 % 32)), 0);
        assert_eq!(w(5 + 151 / 32) & (1 << (151 % 32)), 0);
    }
}
