//! What importers of device memory need to know, and the guest tells only the Venus side:
//! the image bound to the memory (recorded at vkCreateImage + vkBindImageMemory(2), see
//! [`crate::images`]), and vkGetMemoryResourcePropertiesMESA (which memory types can import a
//! resource attached to the context, and how large an import must be).

use std::sync::Arc;

use ash::vk::{self, Handle};
use virgl_resource::{FdType, ImageDesc};

use super::State;
use crate::generated::commands::{self as c, cmd};
use crate::images::{virgl_format, BoundImages};
use crate::objects::object_type as ot;
use crate::wire::{Arena, Cx, Reader, Writer};
use crate::VenusError;

/// `VK_STRUCTURE_TYPE_MEMORY_RESOURCE_PROPERTIES_MESA`.
const MEMORY_RESOURCE_PROPERTIES_MESA: u32 = 1000384001;
/// `VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA`.
const MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA: u32 = 1000384003;
/// `VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT` and the list variant.
const DRM_MODIFIER_EXPLICIT: i32 = 1000158004;
const DRM_MODIFIER_LIST: i32 = 1000158003;
/// `DRM_FORMAT_MOD_LINEAR` / `DRM_FORMAT_MOD_INVALID`.
const MOD_LINEAR: u64 = 0;
const MOD_INVALID: u64 = (1 << 56) - 1;
const IMAGE: i32 = vk::ObjectType::IMAGE.as_raw();
const DEVICE_MEMORY: i32 = vk::ObjectType::DEVICE_MEMORY.as_raw();
/// Most allocation-size links we answer in one chain (the guest sends one).
const MAX_SIZE_LINKS: usize = 8;

/// A 2D image whose layout importers can be told (LINEAR or DRM format modifier tiling, a
/// format of [`virgl_format`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImageInfo {
    device: u64,
    format: u32,
    width: u32,
    height: u32,
    drm_modifier: bool,
}

/// What a command about to run through the generic path does to images.
pub(super) enum ImageCommand {
    Create {
        id: u64,
        info: Option<ImageInfo>,
    },
    /// (image id, memory id, offset) per bind.
    Bind(Vec<(u64, u64, u64)>),
}

impl State {
    /// Routes the context's image descriptions for blobs made before the bind to `bound`
    /// (the backend's queue, see [`crate::images`]).
    pub(crate) fn set_bound_images(&mut self, ctx_id: u32, bound: Arc<BoundImages>) {
        self.bound = Some((ctx_id, bound));
    }

    /// A blob resource `res_id` of memory `memory_id` now exists: returns the image bound to
    /// the memory so far (if any) and remembers the resource for later binds.
    pub(crate) fn blob_created(&mut self, memory_id: u64, res_id: u32) -> Option<ImageDesc> {
        let blobs = self.memory_blobs.entry(memory_id).or_default();
        if !blobs.contains(&res_id) {
            blobs.push(res_id);
        }
        self.memory_images.get(&memory_id).copied()
    }

    /// Resource `res_id` left the context.
    pub(crate) fn blob_gone(&mut self, res_id: u32) {
        for blobs in self.memory_blobs.values_mut() {
            blobs.retain(|&r| r != res_id);
        }
        self.memory_blobs.retain(|_, b| !b.is_empty());
    }

    /// Forgets what was recorded about a destroyed image or freed memory.
    pub(super) fn forget_image_records(&mut self, id: u64) {
        self.images.remove(&id);
        self.memory_images.remove(&id);
        self.memory_blobs.remove(&id);
    }

    /// Decodes (without consuming `r`) what an image command will do, before it runs.
    pub(super) fn peek_image_command(
        &self,
        ty: u32,
        r: &Reader<'_>,
        arena: &Arena,
    ) -> Result<Option<ImageCommand>, VenusError> {
        let cx = Cx {
            arena,
            handles: &self.objects,
        };
        let mut peek = r.clone();
        Ok(match ty {
            cmd::vkCreateImage => {
                let a = c::decode_vkCreateImage(&mut peek, &cx)?;
                let id = a.pImage.as_deref().copied().unwrap_or(0);
                let info = a.pCreateInfo.and_then(|i| {
                    let tiling = vk::ImageTiling::from_raw(i.tiling);
                    // SAFETY: the decoder built the chain.
                    let stypes = unsafe { super::generic::chain_stypes(i.pNext) };
                    let drm_modifier = tiling == vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT
                        && stypes
                            .iter()
                            .any(|&s| s == DRM_MODIFIER_EXPLICIT || s == DRM_MODIFIER_LIST);
                    let describable = i.imageType == vk::ImageType::TYPE_2D.as_raw()
                        && i.samples == 1
                        && i.extent.depth == 1
                        && (tiling == vk::ImageTiling::LINEAR || drm_modifier);
                    describable.then_some(())?;
                    Some(ImageInfo {
                        device: a.device,
                        format: virgl_format(i.format)?,
                        width: i.extent.width,
                        height: i.extent.height,
                        drm_modifier,
                    })
                });
                Some(ImageCommand::Create { id, info })
            }
            cmd::vkBindImageMemory => {
                let a = c::decode_vkBindImageMemory(&mut peek, &cx)?;
                Some(ImageCommand::Bind(vec![(
                    a.image,
                    a.memory,
                    a.memoryOffset,
                )]))
            }
            cmd::vkBindImageMemory2 => {
                let a = c::decode_vkBindImageMemory2(&mut peek, &cx)?;
                // Struct members were translated to host handles while decoding.
                let binds = a
                    .pBindInfos
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|b| {
                        let image = self.objects.guest_id(IMAGE, b.image)?;
                        let memory = self.objects.guest_id(DEVICE_MEMORY, b.memory)?;
                        Some((image, memory, b.memoryOffset))
                    })
                    .collect();
                Some(ImageCommand::Bind(binds))
            }
            _ => None,
        })
    }

    /// Records what a successful image command did.
    pub(super) fn after_image_command(&mut self, command: ImageCommand) {
        match command {
            ImageCommand::Create { id, info } => {
                // Only when the driver created it (the id is now an image of ours).
                if let (Some(info), Ok(_)) = (info, self.objects.get(IMAGE, id)) {
                    self.images.insert(id, info);
                }
            }
            ImageCommand::Bind(binds) => {
                for (image, memory, offset) in binds {
                    if let Err(e) = self.image_bound(image, memory, offset) {
                        tracing::debug!(image, memory, error = %e, "bound image not described");
                    }
                }
            }
        }
    }

    /// Image `image` is bound to memory `memory` at `offset`: describe it for the memory's
    /// blobs (the driver tells the layout).
    fn image_bound(&mut self, image: u64, memory: u64, offset: u64) -> Result<(), VenusError> {
        let Some(info) = self.images.get(&image).copied() else {
            return Ok(());
        };
        if !self.memories.contains_key(&memory) {
            return Ok(());
        }
        let host_image = vk::Image::from_raw(self.objects.get(IMAGE, image)?);
        let inst = &self.instance()?.instance;
        let dev = self.device(info.device)?;
        let (aspect, modifier) = if info.drm_modifier {
            let fns = ash::ext::image_drm_format_modifier::Device::new(inst, dev);
            let mut props = vk::ImageDrmFormatModifierPropertiesEXT::default();
            // SAFETY: valid device and image (created with DRM format modifier tiling).
            let r = unsafe {
                (fns.fp().get_image_drm_format_modifier_properties_ext)(
                    dev.handle(),
                    host_image,
                    &mut props,
                )
            };
            let modifier = if r == vk::Result::SUCCESS {
                props.drm_format_modifier
            } else {
                MOD_INVALID
            };
            (vk::ImageAspectFlags::MEMORY_PLANE_0_EXT, modifier)
        } else {
            (vk::ImageAspectFlags::COLOR, MOD_LINEAR)
        };
        let sub = vk::ImageSubresource {
            aspect_mask: aspect,
            mip_level: 0,
            array_layer: 0,
        };
        let mut layout = vk::SubresourceLayout::default();
        // SAFETY: valid device and image; LINEAR / DRM-modifier images may be asked for the
        // layout of plane 0 / the colour aspect.
        unsafe {
            (dev.fp_v1_0().get_image_subresource_layout)(
                dev.handle(),
                host_image,
                &sub,
                &mut layout,
            )
        };
        let too_large = || VenusError::TooLarge("image offset or row pitch");
        let desc = ImageDesc {
            width: info.width,
            height: info.height,
            format: info.format,
            stride: u32::try_from(layout.row_pitch).map_err(|_| too_large())?,
            offset: offset
                .checked_add(layout.offset)
                .and_then(|o| u32::try_from(o).ok())
                .ok_or_else(too_large)?,
            modifier,
        };
        tracing::debug!(image, memory, ?desc, "image bound to device memory");
        self.memory_images.insert(memory, desc);
        if let (Some((ctx_id, bound)), Some(blobs)) = (&self.bound, self.memory_blobs.get(&memory))
        {
            for &res_id in blobs {
                bound.publish(*ctx_id, res_id, memory, desc);
            }
        }
        Ok(())
    }

    /// vkGetMemoryResourcePropertiesMESA (192, hand-written: not in vk.xml). Wire: device id,
    /// resourceId, then `VkMemoryResourcePropertiesMESA*` (presence, sType, a pNext chain of
    /// VkMemoryResourceAllocationSizePropertiesMESA links only, no input fields). The reply
    /// carries memoryTypeBits and each link's allocationSize. A resource the context does not
    /// have, or memory no memory type imports, is `VK_ERROR_INVALID_EXTERNAL_HANDLE` (upstream
    /// makes an unknown id fatal; a guest probing a stale id should not lose its context).
    pub(super) fn memory_resource_properties(
        &mut self,
        r: &mut Reader<'_>,
        w: &mut Writer,
    ) -> Result<(), VenusError> {
        let device = r.u64()?;
        let res_id = r.u32()?;
        if r.u64()? == 0 {
            return Err(VenusError::NullParam("pMemoryResourceProperties"));
        }
        if r.u32()? != MEMORY_RESOURCE_PROPERTIES_MESA {
            return Err(VenusError::Invalid(
                "vkGetMemoryResourcePropertiesMESA: wrong sType".into(),
            ));
        }
        let mut links = 0usize;
        while r.u64()? != 0 {
            if r.u32()? != MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA {
                return Err(VenusError::Invalid(
                    "vkGetMemoryResourcePropertiesMESA: unexpected chain link".into(),
                ));
            }
            links += 1;
            if links > MAX_SIZE_LINKS {
                return Err(VenusError::TooLarge("pMemoryResourceProperties chain"));
            }
        }
        self.device(device)?;
        let (result, bits, size) = self.resource_memory_types(device, res_id)?;
        w.u32(cmd::vkGetMemoryResourcePropertiesMESA);
        w.i32(result.as_raw());
        w.u64(1);
        w.u32(MEMORY_RESOURCE_PROPERTIES_MESA);
        for _ in 0..links {
            w.u64(1);
            w.u32(MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA);
        }
        w.u64(0);
        for _ in 0..links {
            w.u64(size);
        }
        w.u32(bits);
        Ok(())
    }

    /// Which memory types of `device` import resource `res_id`, and its size.
    fn resource_memory_types(
        &self,
        device: u64,
        res_id: u32,
    ) -> Result<(vk::Result, u32, u64), VenusError> {
        let refuse = |why: &str| {
            tracing::debug!(res_id, why, "vkGetMemoryResourcePropertiesMESA refused");
            Ok((vk::Result::ERROR_INVALID_EXTERNAL_HANDLE, 0, 0))
        };
        let inst = &self.instance()?.instance;
        let dev = self.device(device)?;
        let pd = *self
            .device_physical
            .get(&device)
            .ok_or(VenusError::UnknownObject {
                object_type: ot::DEVICE,
                id: device,
            })?;
        // SAFETY: valid physical device.
        let mem_props = unsafe { inst.get_physical_device_memory_properties(pd) };
        let all_types = 1u32
            .checked_shl(mem_props.memory_type_count)
            .map_or(u32::MAX, |b| b - 1);
        if let Some(shm) = self.shm.get(&res_id) {
            if !self.host_memory_devices.contains(&device) {
                return refuse("SHM resource without VK_EXT_external_memory_host");
            }
            let host_fns = ash::ext::external_memory_host::Device::new(inst, dev);
            let mut props = vk::MemoryHostPointerPropertiesEXT::default();
            // SAFETY: valid device; our page-aligned mapping of the resource.
            let r = unsafe {
                (host_fns.fp().get_memory_host_pointer_properties_ext)(
                    dev.handle(),
                    vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
                    shm.as_ptr().cast(),
                    &mut props,
                )
            };
            if r != vk::Result::SUCCESS {
                return Ok((r, 0, 0));
            }
            return Ok((
                vk::Result::SUCCESS,
                props.memory_type_bits,
                shm.len() as u64,
            ));
        }
        let Some(res) = self.resource_fds.get(&res_id) else {
            return refuse("resource not attached to the context");
        };
        if !self.memory_fd_devices.contains(&device) {
            return refuse("fd resource without VK_KHR_external_memory_fd");
        }
        match res.fd_type {
            FdType::Dmabuf => {
                let fns = ash::khr::external_memory_fd::Device::new(inst, dev);
                let mut props = vk::MemoryFdPropertiesKHR::default();
                // SAFETY: valid device; a dma-buf fd we hold (not consumed by the query).
                let r = unsafe {
                    (fns.fp().get_memory_fd_properties_khr)(
                        dev.handle(),
                        vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
                        std::os::fd::AsRawFd::as_raw_fd(&*res.fd),
                        &mut props,
                    )
                };
                if r != vk::Result::SUCCESS {
                    return Ok((r, 0, 0));
                }
                Ok((vk::Result::SUCCESS, props.memory_type_bits, res.size))
            }
            FdType::Opaque => {
                // An OPAQUE_FD import must name the memory type and size it was exported
                // with, on the same device and driver: with the exporter's Vulkan info that is
                // one type; without it, every type if the driver imports OPAQUE_FD at all.
                let mut ids = vk::PhysicalDeviceIDProperties::default();
                let mut props2 = vk::PhysicalDeviceProperties2::default().push_next(&mut ids);
                // SAFETY: valid physical device; the chain is ours.
                unsafe { inst.get_physical_device_properties2(pd, &mut props2) };
                if let Some(info) = &res.vulkan_info {
                    if info.device_uuid != ids.device_uuid || info.driver_uuid != ids.driver_uuid {
                        return refuse("OPAQUE_FD of another device or driver");
                    }
                    let Some(bit) = 1u32
                        .checked_shl(info.memory_type_index)
                        .filter(|_| info.memory_type_index < mem_props.memory_type_count)
                    else {
                        return refuse("exporter's memory type is not one of this device");
                    };
                    return Ok((vk::Result::SUCCESS, bit, info.allocation_size));
                }
                let info = vk::PhysicalDeviceExternalBufferInfo::default()
                    .usage(
                        vk::BufferUsageFlags::TRANSFER_SRC
                            | vk::BufferUsageFlags::TRANSFER_DST
                            | vk::BufferUsageFlags::STORAGE_BUFFER,
                    )
                    .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
                let mut ext = vk::ExternalBufferProperties::default();
                // SAFETY: valid physical device; structures are ours.
                unsafe { inst.get_physical_device_external_buffer_properties(pd, &info, &mut ext) };
                let importable = ext
                    .external_memory_properties
                    .external_memory_features
                    .contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE);
                if !importable {
                    return refuse("driver does not import OPAQUE_FD");
                }
                Ok((vk::Result::SUCCESS, all_types, res.size))
            }
            FdType::Shm | FdType::OpaqueHandle => refuse("fd type"),
        }
    }
}
