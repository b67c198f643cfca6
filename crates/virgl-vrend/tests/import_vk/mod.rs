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
        .ok()
    }

    #[allow(dead_code)] // used by import_dmabuf only
    /// As [`Self::new`], exported as a dma-buf; the error says why no Vulkan device could
    /// (none has VK_EXT_external_memory_dma_buf, or it refused such an image). Memory that is
    /// not host-visible (discrete GPUs) is filled by a copy from a staging buffer.
    pub fn new_dmabuf(
        width: u32,
        height: u32,
        pixel: impl Fn(u32, u32) -> [u8; 4],
    ) -> Result<Self, String> {
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
    ) -> Result<Self, String> {
        let dmabuf = handle_type == vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;
        // SAFETY: loading the system Vulkan loader; every call below follows the Vulkan spec
        // with handles created here and structures that outlive the calls.
        unsafe {
            let entry = ash::Entry::load().map_err(|e| format!("no Vulkan loader: {e}"))?;
            let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_1);
            let instance = entry
                .create_instance(
                    &vk::InstanceCreateInfo::default().application_info(&app),
                    None,
                )
                .map_err(|e| format!("vkCreateInstance: {e}"))?;
            let mut needed = vec![ash::khr::external_memory_fd::NAME];
            if dmabuf {
                needed.push(ash::ext::external_memory_dma_buf::NAME);
            }
            // The first device with every extension the handle type needs.
            let physical = instance
                .enumerate_physical_devices()
                .map_err(|e| format!("vkEnumeratePhysicalDevices: {e}"))?
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
                return Err(format!("no Vulkan device has {needed:?}"));
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
                .map_err(|e| format!("vkCreateDevice: {e}"))?;
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
                                | vk::ImageUsageFlags::TRANSFER_SRC
                                | vk::ImageUsageFlags::TRANSFER_DST,
                        )
                        .initial_layout(vk::ImageLayout::PREINITIALIZED),
                    None,
                )
                .map_err(|e| format!("vkCreateImage (linear, {handle_type:?}): {e}"))?;
            let reqs = device.get_image_memory_requirements(image);
            let mem_props = instance.get_physical_device_memory_properties(physical);
            let wanted =
                vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
            let find = |wanted: vk::MemoryPropertyFlags| {
                (0..mem_props.memory_type_count).find(|&i| {
                    reqs.memory_type_bits & (1 << i) != 0
                        && mem_props.memory_types[i as usize]
                            .property_flags
                            .contains(wanted)
                })
            };
            // Host-visible memory is written directly; only dma-buf images may fall back to
            // device memory filled by a copy (the opaque-fd tests rely on mappable memory).
            let host_visible = find(wanted);
            let memory_type_index = match (host_visible, dmabuf) {
                (Some(i), _) => i,
                (None, true) => find(vk::MemoryPropertyFlags::DEVICE_LOCAL)
                    .or_else(|| find(vk::MemoryPropertyFlags::empty()))
                    .ok_or("no memory type for the image")?,
                (None, false) => return Err("no host-visible memory type for the image".into()),
            };
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
                .map_err(|e| format!("vkAllocateMemory (exportable, {handle_type:?}): {e}"))?;
            device
                .bind_image_memory(image, memory, 0)
                .map_err(|e| format!("vkBindImageMemory: {e}"))?;
            let layout = device.get_image_subresource_layout(
                image,
                vk::ImageSubresource {
                    aspect_mask: vk::ImageAspectFlags::COLOR,
                    mip_level: 0,
                    array_layer: 0,
                },
            );
            if host_visible.is_some() {
                let ptr = device
                    .map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
                    .map_err(|e| format!("vkMapMemory: {e}"))?
                    .cast::<u8>();
                for y in 0..height {
                    for x in 0..width {
                        let at = layout.offset + u64::from(y) * layout.row_pitch + u64::from(x) * 4;
                        let px = pixel(x, y);
                        std::ptr::copy_nonoverlapping(px.as_ptr(), ptr.add(at as usize), 4);
                    }
                }
                device.unmap_memory(memory);
            } else {
                let texels: Vec<u8> = (0..height)
                    .flat_map(|y| (0..width).map(move |x| (y, x)))
                    .flat_map(|(y, x)| pixel(x, y))
                    .collect();
                upload(&instance, physical, &device, image, width, height, &texels)?;
            }
            Ok(Self {
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

/// Fills `image` (linear, PREINITIALIZED, device memory) with tightly packed `texels` through a
/// host-visible staging buffer, leaving it in GENERAL layout released to external users.
///
/// # Safety
/// `image` is a `width`×`height` B8G8R8A8 image of `device` with TRANSFER_DST usage, bound to
/// memory and not in use.
unsafe fn upload(
    instance: &ash::Instance,
    physical: vk::PhysicalDevice,
    device: &ash::Device,
    image: vk::Image,
    width: u32,
    height: u32,
    texels: &[u8],
) -> Result<(), String> {
    let size = texels.len() as u64;
    // SAFETY: per the caller's contract; every object made here is destroyed before return
    // (after the fence has signalled) and structures outlive the calls that read them.
    unsafe {
        let buffer = device
            .create_buffer(
                &vk::BufferCreateInfo::default()
                    .size(size)
                    .usage(vk::BufferUsageFlags::TRANSFER_SRC),
                None,
            )
            .map_err(|e| format!("staging vkCreateBuffer: {e}"))?;
        let reqs = device.get_buffer_memory_requirements(buffer);
        let props = instance.get_physical_device_memory_properties(physical);
        let wanted = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
        let index = (0..props.memory_type_count)
            .find(|&i| {
                reqs.memory_type_bits & (1 << i) != 0
                    && props.memory_types[i as usize]
                        .property_flags
                        .contains(wanted)
            })
            .ok_or("no host-visible memory for a staging buffer")?;
        let staging = device
            .allocate_memory(
                &vk::MemoryAllocateInfo::default()
                    .allocation_size(reqs.size)
                    .memory_type_index(index),
                None,
            )
            .map_err(|e| format!("staging vkAllocateMemory: {e}"))?;
        device
            .bind_buffer_memory(buffer, staging, 0)
            .map_err(|e| format!("staging vkBindBufferMemory: {e}"))?;
        let ptr = device
            .map_memory(staging, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
            .map_err(|e| format!("staging vkMapMemory: {e}"))?
            .cast::<u8>();
        std::ptr::copy_nonoverlapping(texels.as_ptr(), ptr, texels.len());
        device.unmap_memory(staging);

        let pool = device
            .create_command_pool(
                &vk::CommandPoolCreateInfo::default().queue_family_index(0),
                None,
            )
            .map_err(|e| format!("vkCreateCommandPool: {e}"))?;
        let cmd = device
            .allocate_command_buffers(
                &vk::CommandBufferAllocateInfo::default()
                    .command_pool(pool)
                    .level(vk::CommandBufferLevel::PRIMARY)
                    .command_buffer_count(1),
            )
            .map_err(|e| format!("vkAllocateCommandBuffers: {e}"))?[0];
        device
            .begin_command_buffer(
                cmd,
                &vk::CommandBufferBeginInfo::default()
                    .flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT),
            )
            .map_err(|e| format!("vkBeginCommandBuffer: {e}"))?;
        let range = vk::ImageSubresourceRange {
            aspect_mask: vk::ImageAspectFlags::COLOR,
            base_mip_level: 0,
            level_count: 1,
            base_array_layer: 0,
            layer_count: 1,
        };
        let to_dst = vk::ImageMemoryBarrier::default()
            .old_layout(vk::ImageLayout::PREINITIALIZED)
            .new_layout(vk::ImageLayout::TRANSFER_DST_OPTIMAL)
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(image)
            .subresource_range(range);
        device.cmd_pipeline_barrier(
            cmd,
            vk::PipelineStageFlags::TOP_OF_PIPE,
            vk::PipelineStageFlags::TRANSFER,
            vk::DependencyFlags::empty(),
            &[],
            &[],
            &[to_dst],
        );
        let region = vk::BufferImageCopy::default()
            .image_subresource(vk::ImageSubresourceLayers {
                aspect_mask: vk::ImageAspectFlags::COLOR,
                mip_level: 0,
                base_array_layer: 0,
                layer_count: 1,
            })
            .image_extent(vk::Extent3D {
                width,
                height,
                depth: 1,
            });
        device.cmd_copy_buffer_to_image(
            cmd,
            buffer,
            image,
            vk::ImageLayout::TRANSFER_DST_OPTIMAL,
            &[region],
        );
        // Released to the external user (the GL import), as Venus window images are.
        let release = vk::ImageMemoryBarrier::default()
            .old_layout(vk::ImageLayout::TRANSFER_DST_OPTIMAL)
            .new_layout(vk::ImageLayout::GENERAL)
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .src_queue_family_index(0)
            .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
            .image(image)
            .subresource_range(range);
        device.cmd_pipeline_barrier(
            cmd,
            vk::PipelineStageFlags::TRANSFER,
            vk::PipelineStageFlags::BOTTOM_OF_PIPE,
            vk::DependencyFlags::empty(),
            &[],
            &[],
            &[release],
        );
        device
            .end_command_buffer(cmd)
            .map_err(|e| format!("vkEndCommandBuffer: {e}"))?;
        let fence = device
            .create_fence(&vk::FenceCreateInfo::default(), None)
            .map_err(|e| format!("vkCreateFence: {e}"))?;
        let queue = device.get_device_queue(0, 0);
        let cmds = [cmd];
        let submitted = device
            .queue_submit(
                queue,
                &[vk::SubmitInfo::default().command_buffers(&cmds)],
                fence,
            )
            .and_then(|()| device.wait_for_fences(&[fence], true, 10_000_000_000));
        device.destroy_fence(fence, None);
        device.destroy_command_pool(pool, None);
        device.destroy_buffer(buffer, None);
        device.free_memory(staging, None);
        submitted.map_err(|e| format!("upload submit/wait: {e}"))
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
