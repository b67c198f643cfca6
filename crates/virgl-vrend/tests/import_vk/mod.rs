//! Exportable Vulkan image memory on the host's Vulkan (lavapipe here), the way a Venus context
//! owns a window image: a linear BGRA image in dedicated, host-visible memory exported as an
//! opaque fd. Shared by the import tests of virgl-vrend and virgl-capi.

use std::os::fd::{FromRawFd, OwnedFd};

use ash::vk;

/// One exported image; Vulkan objects live until drop.
pub struct ExportedImage {
    _entry: ash::Entry,
    instance: ash::Instance,
    device: ash::Device,
    image: vk::Image,
    memory: vk::DeviceMemory,
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
            let physical = *instance.enumerate_physical_devices().ok()?.first()?;
            let exts = instance
                .enumerate_device_extension_properties(physical)
                .ok()?;
            let has_fd = exts
                .iter()
                .any(|e| e.extension_name_as_c_str() == Ok(ash::khr::external_memory_fd::NAME));
            if !has_fd {
                instance.destroy_instance(None);
                return None;
            }
            let mut id = vk::PhysicalDeviceIDProperties::default();
            let mut props2 = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
            instance.get_physical_device_properties2(physical, &mut props2);
            let (device_uuid, driver_uuid) = (id.device_uuid, id.driver_uuid);
            let priorities = [1.0f32];
            let queue = [vk::DeviceQueueCreateInfo::default()
                .queue_family_index(0)
                .queue_priorities(&priorities)];
            let ext_names = [ash::khr::external_memory_fd::NAME.as_ptr()];
            let device = instance
                .create_device(
                    physical,
                    &vk::DeviceCreateInfo::default()
                        .queue_create_infos(&queue)
                        .enabled_extension_names(&ext_names),
                    None,
                )
                .ok()?;
            let mut external = vk::ExternalMemoryImageCreateInfo::default()
                .handle_types(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
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
            let mut export = vk::ExportMemoryAllocateInfo::default()
                .handle_types(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
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
                size: reqs.size,
                row_pitch: layout.row_pitch,
                device_uuid,
                driver_uuid,
                memory_type_index,
            })
        }
    }

    /// A new opaque fd of the memory (the caller owns it).
    pub fn export_fd(&self) -> OwnedFd {
        let loader = ash::khr::external_memory_fd::Device::new(&self.instance, &self.device);
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(self.memory)
            .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
        // SAFETY: the memory was allocated exportable as OPAQUE_FD on this device.
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
