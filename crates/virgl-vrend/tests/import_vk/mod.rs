//! Exportable Vulkan image memory on the host's Vulkan (lavapipe here), the way a Venus context
//! owns a window image: a linear BGRA image in dedicated, host-visible memory exported as an
//! opaque fd (or a dma-buf, where a device exports them). Shared by the import tests of
//! virgl-vrend and virgl-capi.

use std::os::fd::{FromRawFd, OwnedFd};

use ash::vk;

/// One exported image; Vulkan objects live until drop.
pub struct ExportedImage {
    _entry: ash::Entry,
    instance: ash::Instance,
    device: ash::Device,
    image: vk::Image,
    memory: vk::DeviceMemory,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    /// Bytes of the allocation (what the fd holds).
    pub size: u64,
    /// Row pitch of the linear image.
    pub row_pitch: u64,
    pub device_uuid: [u8; 16],
    pub driver_uuid: [u8; 16],
    pub memory_type_index: u32,
}

impl ExportedImage {
    /// Allocates a `width`×`height` B8G8R8A8_UNORM linear image and fills it with `pixel(x, y)`
    /// (memory byte order B, G, R, A). `None` when no Vulkan device can export opaque fds.
    pub fn new(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 4]) -> Option<Self> {
        Self::with_handle_type(
            vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
            width,
            height,
            pixel,
        )
    }

    #[allow(dead_code)] // used by import_dmabuf only
    /// As [`Self::new`], exported as a dma-buf: `None` when no Vulkan device exports
    /// dma-bufs (VK_EXT_external_memory_dma_buf) into host-visible memory for such an image.
    pub fn new_dmabuf(
        width: u32,
        height: u32,
        pixel: impl Fn(u32, u32) -> [u8; 4],
    ) -> Option<Self> {
        Self::with_handle_type(
            vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
            width,
            height,
            pixel,
        )
    }

    fn with_handle_type(
        handle_type: vk::ExternalMemoryHandleTypeFlags,
        width: u32,
        height: u32,
        pixel: impl Fn(u32, u32) -> [u8; 4],
    ) -> Option<Self> {
        let dmabuf = handle_type == vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;
        // SAFETY: loading the system Vulkan loader; every call below follows the Vulkan spec
        // with handles created here and structures that outlive the calls.
        unsafe {
            let entry = ash::Entry::load().ok()?;
            let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_1);
            let instance = entry
                .create_instance(
                    &vk::InstanceCreateInfo::default().application_info(&app),
                    None,
                )
                .ok()?;
            let mut needed = vec![ash::khr::external_memory_fd::NAME];
            if dmabuf {
                needed.push(ash::ext::external_memory_dma_buf::NAME);
            }
            // The first device with every extension the handle type needs.
            let physical = instance
                .enumerate_physical_devices()
                .ok()?
                .into_iter()
                .find(|&physical| {
                    let exts = instance
                        .enumerate_device_extension_properties(physical)
                        .unwrap_or_default();
                    needed
                        .iter()
                        .all(|&name| exts.iter().any(|e| e.extension_name_as_c_str() == Ok(name)))
                });
            let Some(physical) = physical else {
                instance.destroy_instance(None);
                return None;
            };
            let mut id = vk::PhysicalDeviceIDProperties::default();
            let mut props2 = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
            instance.get_physical_device_properties2(physical, &mut props2);
            let (device_uuid, driver_uuid) = (id.device_uuid, id.driver_uuid);
            let priorities = [1.0f32];
            let queue = [vk::DeviceQueueCreateInfo::default()
                .queue_family_index(0)
                .queue_priorities(&priorities)];
            let ext_names: Vec<_> = needed.iter().map(|name| name.as_ptr()).collect();
            let device = instance
                .create_device(
                    physical,
                    &vk::DeviceCreateInfo::default()
                        .queue_create_infos(&queue)
                        .enabled_extension_names(&ext_names),
                    None,
                )
                .ok()?;
            let mut external =
                vk::ExternalMemoryImageCreateInfo::default().handle_types(handle_type);
            let image = device
                .create_image(
                    &vk::ImageCreateInfo::default()
                        .push_next(&mut external)
                        .image_type(vk::ImageType::TYPE_2D)
                        .format(vk::Format::B8G8R8A8_UNORM)
                        .extent(vk::Extent3D {
                            width,
                            height,
                            depth: 1,
                        })
                        .mip_levels(1)
                        .array_layers(1)
                        .samples(vk::SampleCountFlags::TYPE_1)
                        .tiling(vk::ImageTiling::LINEAR)
                        .usage(
                            vk::ImageUsageFlags::SAMPLED
                                | vk::ImageUsageFlags::COLOR_ATTACHMENT
                                | vk::ImageUsageFlags::TRANSFER_SRC,
                        )
                        .initial_layout(vk::ImageLayout::PREINITIALIZED),
                    None,
                )
                .ok()?;
            let reqs = device.get_image_memory_requirements(image);
            let mem_props = instance.get_physical_device_memory_properties(physical);
            let wanted =
                vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
            let memory_type_index = (0..mem_props.memory_type_count).find(|&i| {
                reqs.memory_type_bits & (1 << i) != 0
                    && mem_props.memory_types[i as usize]
                        .property_flags
                        .contains(wanted)
            })?;
            let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(handle_type);
            let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().image(image);
            let memory = device
                .allocate_memory(
                    &vk::MemoryAllocateInfo::default()
                        .push_next(&mut export)
                        .push_next(&mut dedicated)
                        .allocation_size(reqs.size)
                        .memory_type_index(memory_type_index),
                    None,
                )
                .ok()?;
            device.bind_image_memory(image, memory, 0).ok()?;
            let layout = device.get_image_subresource_layout(
                image,
                vk::ImageSubresource {
                    aspect_mask: vk::ImageAspectFlags::COLOR,
                    mip_level: 0,
                    array_layer: 0,
                },
            );
            let ptr = device
                .map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
                .ok()?
                .cast::<u8>();
            for y in 0..height {
                for x in 0..width {
                    let at = layout.offset + u64::from(y) * layout.row_pitch + u64::from(x) * 4;
                    let px = pixel(x, y);
                    std::ptr::copy_nonoverlapping(px.as_ptr(), ptr.add(at as usize), 4);
                }
            }
            device.unmap_memory(memory);
            Some(Self {
                _entry: entry,
                instance,
                device,
                image,
                memory,
                handle_type,
                size: reqs.size,
                row_pitch: layout.row_pitch,
                device_uuid,
                driver_uuid,
                memory_type_index,
            })
        }
    }

    /// A new fd of the memory, of the handle type it was made for (the caller owns it).
    pub fn export_fd(&self) -> OwnedFd {
        let loader = ash::khr::external_memory_fd::Device::new(&self.instance, &self.device);
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(self.memory)
            .handle_type(self.handle_type);
        // SAFETY: the memory was allocated exportable with this handle type on this device.
        let fd = unsafe { loader.get_memory_fd(&info) }.expect("vkGetMemoryFdKHR");
        // SAFETY: vkGetMemoryFdKHR returned a new fd that nobody else owns.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }
}

impl Drop for ExportedImage {
    fn drop(&mut self) {
        // SAFETY: the objects were created by `new` and are no longer used by the device.
        unsafe {
            self.device.destroy_image(self.image, None);
            self.device.free_memory(self.memory, None);
            self.device.destroy_device(None);
            self.instance.destroy_instance(None);
        }
    }
}

/// Open fds of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Mappings of memfds in this process (lavapipe memory, and llvmpipe's view of imports).
pub fn memfd_mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map_or(0, |m| m.lines().filter(|l| l.contains("/memfd:")).count())
}
