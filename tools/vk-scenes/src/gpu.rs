//! A small Vulkan harness for offscreen scenes: instance, device, one queue, buffers and images
//! with memory, one-shot command buffers, read-back. No swapchain, no validation layers:
//! whatever driver the loader picks (lavapipe directly, or Mesa's venus through virgl-vtest)
//! gets the same calls.

use ash::vk;

pub type Result<T> = std::result::Result<T, String>;

fn vkr<T>(what: &str, r: std::result::Result<T, vk::Result>) -> Result<T> {
    r.map_err(|e| format!("{what}: {e}"))
}

pub struct Gpu {
    _entry: ash::Entry,
    pub instance: ash::Instance,
    pub device: ash::Device,
    pub queue: vk::Queue,
    pub pool: vk::CommandPool,
    pub mem_props: vk::PhysicalDeviceMemoryProperties,
    pub device_name: String,
    /// Whether timeline semaphores are enabled.
    pub has_timeline: bool,
    /// VK_KHR_dynamic_rendering entry points, when enabled.
    pub dynamic_rendering: Option<ash::khr::dynamic_rendering::Device>,
    /// The descriptor-indexing features the descriptor-indexing scene needs, when the device
    /// exposes all of them (and they are enabled); `None` otherwise.
    pub descriptor_indexing: Option<DescriptorIndexing>,
}

/// Descriptor indexing as enabled on the device: runtime descriptor arrays, non-uniform
/// indexing of storage-buffer arrays, variable descriptor counts and partially bound bindings
/// are all required; update-after-bind of storage buffers is optional.
#[derive(Clone, Copy, Debug)]
pub struct DescriptorIndexing {
    pub update_after_bind: bool,
}

pub struct Buffer {
    pub buffer: vk::Buffer,
    pub memory: vk::DeviceMemory,
    pub size: u64,
}

pub struct Image {
    pub image: vk::Image,
    /// Kept with the image: freed with the device when the scene ends.
    pub _memory: vk::DeviceMemory,
    pub view: vk::ImageView,
}

impl Gpu {
    pub fn new() -> Result<Self> {
        // SAFETY: loading the system Vulkan loader.
        let entry = unsafe { ash::Entry::load() }.map_err(|e| format!("libvulkan: {e}"))?;
        let app = vk::ApplicationInfo::default()
            .application_name(c"vk-scenes")
            .api_version(vk::API_VERSION_1_2);
        let info = vk::InstanceCreateInfo::default().application_info(&app);
        // SAFETY: valid create info.
        let instance = vkr("vkCreateInstance", unsafe {
            entry.create_instance(&info, None)
        })?;
        // SAFETY: valid instance.
        let pds = vkr("vkEnumeratePhysicalDevices", unsafe {
            instance.enumerate_physical_devices()
        })?;
        let pd = *pds.first().ok_or("no Vulkan physical device")?;
        // SAFETY: valid physical device.
        let props = unsafe { instance.get_physical_device_properties(pd) };
        let device_name = props
            .device_name_as_c_str()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // SAFETY: valid physical device.
        let families = unsafe { instance.get_physical_device_queue_family_properties(pd) };
        let family = families
            .iter()
            .position(|f| {
                f.queue_flags
                    .contains(vk::QueueFlags::GRAPHICS | vk::QueueFlags::COMPUTE)
            })
            .ok_or("no graphics+compute queue family")? as u32;
        let prio = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(family)
            .queue_priorities(&prio)];
        // Timeline semaphores (the sync scene) when the driver has them.
        let mut timeline = vk::PhysicalDeviceTimelineSemaphoreFeatures::default();
        let mut features = vk::PhysicalDeviceFeatures2::default().push_next(&mut timeline);
        // SAFETY: valid physical device; the chain is ours.
        unsafe { instance.get_physical_device_features2(pd, &mut features) };
        let has_timeline = timeline.timeline_semaphore == vk::TRUE;
        let mut enable_timeline =
            vk::PhysicalDeviceTimelineSemaphoreFeatures::default().timeline_semaphore(has_timeline);
        // VK_KHR_dynamic_rendering (the dynamic-rendering scene) when the driver has it.
        // SAFETY: valid physical device.
        let exts = unsafe { instance.enumerate_device_extension_properties(pd) }
            .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e}"))?;
        let has_dynamic_rendering = exts
            .iter()
            .any(|e| e.extension_name_as_c_str() == Ok(ash::khr::dynamic_rendering::NAME));
        let mut enable_dynamic_rendering =
            vk::PhysicalDeviceDynamicRenderingFeatures::default().dynamic_rendering(true);
        // Descriptor indexing (the descriptor-indexing scene): core in Vulkan 1.2, an extension
        // before. Queried with its own chain so the timeline query above stays as it was.
        let has_indexing_ext = exts
            .iter()
            .any(|e| e.extension_name_as_c_str() == Ok(ash::ext::descriptor_indexing::NAME));
        let indexing_core = props.api_version >= vk::API_VERSION_1_2;
        let mut indexing = vk::PhysicalDeviceDescriptorIndexingFeatures::default();
        if indexing_core || has_indexing_ext {
            let mut features = vk::PhysicalDeviceFeatures2::default().push_next(&mut indexing);
            // SAFETY: valid physical device; the chain is ours.
            unsafe { instance.get_physical_device_features2(pd, &mut features) };
        }
        let descriptor_indexing = (indexing.runtime_descriptor_array == vk::TRUE
            && indexing.shader_storage_buffer_array_non_uniform_indexing == vk::TRUE
            && indexing.descriptor_binding_variable_descriptor_count == vk::TRUE
            && indexing.descriptor_binding_partially_bound == vk::TRUE)
            .then_some(DescriptorIndexing {
                update_after_bind: indexing.descriptor_binding_storage_buffer_update_after_bind
                    == vk::TRUE,
            });
        let mut enable_indexing = vk::PhysicalDeviceDescriptorIndexingFeatures::default()
            .runtime_descriptor_array(true)
            .shader_storage_buffer_array_non_uniform_indexing(true)
            .descriptor_binding_variable_descriptor_count(true)
            .descriptor_binding_partially_bound(true)
            .descriptor_binding_storage_buffer_update_after_bind(
                descriptor_indexing.is_some_and(|d| d.update_after_bind),
            );
        let mut ext_names = Vec::new();
        if has_dynamic_rendering {
            ext_names.push(ash::khr::dynamic_rendering::NAME.as_ptr());
        }
        if descriptor_indexing.is_some() && !indexing_core {
            ext_names.push(ash::ext::descriptor_indexing::NAME.as_ptr());
        }
        let mut info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(&ext_names)
            .push_next(&mut enable_timeline);
        if has_dynamic_rendering {
            info = info.push_next(&mut enable_dynamic_rendering);
        }
        if descriptor_indexing.is_some() {
            info = info.push_next(&mut enable_indexing);
        }
        // SAFETY: valid physical device and create info.
        let device = vkr("vkCreateDevice", unsafe {
            instance.create_device(pd, &info, None)
        })?;
        // SAFETY: the family/index the device was created with.
        let queue = unsafe { device.get_device_queue(family, 0) };
        let info = vk::CommandPoolCreateInfo::default()
            .queue_family_index(family)
            .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER);
        let dynamic_rendering = has_dynamic_rendering
            .then(|| ash::khr::dynamic_rendering::Device::new(&instance, &device));
        // SAFETY: valid device.
        let pool = vkr("vkCreateCommandPool", unsafe {
            device.create_command_pool(&info, None)
        })?;
        // SAFETY: valid physical device.
        let mem_props = unsafe { instance.get_physical_device_memory_properties(pd) };
        Ok(Self {
            _entry: entry,
            instance,
            device,
            queue,
            pool,
            mem_props,
            device_name,
            has_timeline,
            dynamic_rendering,
            descriptor_indexing,
        })
    }

    fn memory_type(&self, bits: u32, want: vk::MemoryPropertyFlags) -> Result<u32> {
        self.mem_props
            .memory_types_as_slice()
            .iter()
            .enumerate()
            .position(|(i, t)| bits & (1 << i) != 0 && t.property_flags.contains(want))
            .map(|i| i as u32)
            .ok_or_else(|| format!("no memory type {want:?} in {bits:#x}"))
    }

    fn allocate(
        &self,
        req: vk::MemoryRequirements,
        want: vk::MemoryPropertyFlags,
    ) -> Result<vk::DeviceMemory> {
        let info = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(self.memory_type(req.memory_type_bits, want)?);
        // SAFETY: valid device and info.
        vkr("vkAllocateMemory", unsafe {
            self.device.allocate_memory(&info, None)
        })
    }

    /// A host-visible, coherent buffer.
    pub fn buffer(&self, size: u64, usage: vk::BufferUsageFlags) -> Result<Buffer> {
        let info = vk::BufferCreateInfo::default().size(size).usage(usage);
        // SAFETY: valid device and info.
        let buffer = vkr("vkCreateBuffer", unsafe {
            self.device.create_buffer(&info, None)
        })?;
        // SAFETY: valid buffer.
        let req = unsafe { self.device.get_buffer_memory_requirements(buffer) };
        let memory = self.allocate(
            req,
            vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT,
        )?;
        // SAFETY: fresh memory of the required size.
        vkr("vkBindBufferMemory", unsafe {
            self.device.bind_buffer_memory(buffer, memory, 0)
        })?;
        Ok(Buffer {
            buffer,
            memory,
            size,
        })
    }

    /// A buffer holding `data`.
    pub fn buffer_with(&self, data: &[u8], usage: vk::BufferUsageFlags) -> Result<Buffer> {
        let b = self.buffer(data.len() as u64, usage)?;
        self.write(&b, data)?;
        Ok(b)
    }

    pub fn write(&self, b: &Buffer, data: &[u8]) -> Result<()> {
        // SAFETY: host-visible memory, mapped for the copy only.
        unsafe {
            let p = vkr(
                "vkMapMemory",
                self.device
                    .map_memory(b.memory, 0, b.size, vk::MemoryMapFlags::empty()),
            )?;
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                p.cast::<u8>(),
                data.len().min(b.size as usize),
            );
            self.device.unmap_memory(b.memory);
        }
        Ok(())
    }

    pub fn read(&self, b: &Buffer) -> Result<Vec<u8>> {
        let mut out = vec![0u8; b.size as usize];
        // SAFETY: as in `write`.
        unsafe {
            let p = vkr(
                "vkMapMemory",
                self.device
                    .map_memory(b.memory, 0, b.size, vk::MemoryMapFlags::empty()),
            )?;
            std::ptr::copy_nonoverlapping(p.cast::<u8>(), out.as_mut_ptr(), out.len());
            self.device.unmap_memory(b.memory);
        }
        Ok(out)
    }

    /// A 2D optimal-tiling image in device-local memory, with a view.
    pub fn image(
        &self,
        (w, h): (u32, u32),
        format: vk::Format,
        usage: vk::ImageUsageFlags,
        aspect: vk::ImageAspectFlags,
    ) -> Result<Image> {
        let info = vk::ImageCreateInfo::default()
            .image_type(vk::ImageType::TYPE_2D)
            .format(format)
            .extent(vk::Extent3D {
                width: w,
                height: h,
                depth: 1,
            })
            .mip_levels(1)
            .array_layers(1)
            .samples(vk::SampleCountFlags::TYPE_1)
            .tiling(vk::ImageTiling::OPTIMAL)
            .usage(usage)
            .initial_layout(vk::ImageLayout::UNDEFINED);
        // SAFETY: valid device and info.
        let image = vkr("vkCreateImage", unsafe {
            self.device.create_image(&info, None)
        })?;
        // SAFETY: valid image.
        let req = unsafe { self.device.get_image_memory_requirements(image) };
        let memory = self.allocate(req, vk::MemoryPropertyFlags::DEVICE_LOCAL)?;
        // SAFETY: fresh memory of the required size.
        vkr("vkBindImageMemory", unsafe {
            self.device.bind_image_memory(image, memory, 0)
        })?;
        let info = vk::ImageViewCreateInfo::default()
            .image(image)
            .view_type(vk::ImageViewType::TYPE_2D)
            .format(format)
            .subresource_range(range(aspect));
        // SAFETY: valid image.
        let view = vkr("vkCreateImageView", unsafe {
            self.device.create_image_view(&info, None)
        })?;
        Ok(Image {
            image,
            _memory: memory,
            view,
        })
    }

    pub fn shader(&self, words: &[u32]) -> Result<vk::ShaderModule> {
        let info = vk::ShaderModuleCreateInfo::default().code(words);
        // SAFETY: valid device; the words are validated SPIR-V.
        vkr("vkCreateShaderModule", unsafe {
            self.device.create_shader_module(&info, None)
        })
    }

    /// Records commands with `record`, submits them with a fence and waits.
    pub fn run(&self, record: impl FnOnce(vk::CommandBuffer)) -> Result<()> {
        let info = vk::CommandBufferAllocateInfo::default()
            .command_pool(self.pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(1);
        // SAFETY: valid device and pool.
        let cb = vkr("vkAllocateCommandBuffers", unsafe {
            self.device.allocate_command_buffers(&info)
        })?[0];
        let begin = vk::CommandBufferBeginInfo::default()
            .flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
        // SAFETY: a fresh command buffer.
        vkr("vkBeginCommandBuffer", unsafe {
            self.device.begin_command_buffer(cb, &begin)
        })?;
        record(cb);
        // SAFETY: recording.
        vkr("vkEndCommandBuffer", unsafe {
            self.device.end_command_buffer(cb)
        })?;
        // SAFETY: valid device.
        let fence = vkr("vkCreateFence", unsafe {
            self.device
                .create_fence(&vk::FenceCreateInfo::default(), None)
        })?;
        let cbs = [cb];
        let submit = [vk::SubmitInfo::default().command_buffers(&cbs)];
        // SAFETY: executable command buffer, unsignaled fence.
        unsafe {
            vkr(
                "vkQueueSubmit",
                self.device.queue_submit(self.queue, &submit, fence),
            )?;
            vkr(
                "vkWaitForFences",
                self.device.wait_for_fences(&[fence], true, 10_000_000_000),
            )?;
            self.device.destroy_fence(fence, None);
            self.device.free_command_buffers(self.pool, &cbs);
        }
        Ok(())
    }

    /// An image layout transition (whole color/depth image, one barrier).
    pub fn barrier(
        &self,
        cb: vk::CommandBuffer,
        image: vk::Image,
        aspect: vk::ImageAspectFlags,
        (from, to): (vk::ImageLayout, vk::ImageLayout),
        (src, dst): (vk::AccessFlags, vk::AccessFlags),
        (src_stage, dst_stage): (vk::PipelineStageFlags, vk::PipelineStageFlags),
    ) {
        let b = [vk::ImageMemoryBarrier::default()
            .old_layout(from)
            .new_layout(to)
            .src_access_mask(src)
            .dst_access_mask(dst)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(image)
            .subresource_range(range(aspect))];
        // SAFETY: recording command buffer, live image.
        unsafe {
            self.device.cmd_pipeline_barrier(
                cb,
                src_stage,
                dst_stage,
                vk::DependencyFlags::empty(),
                &[],
                &[],
                &b,
            )
        };
    }

    /// Copies a color image (in TRANSFER_SRC_OPTIMAL) into a buffer, tightly packed.
    pub fn copy_to_buffer(
        &self,
        cb: vk::CommandBuffer,
        image: vk::Image,
        (w, h): (u32, u32),
        dst: &Buffer,
    ) {
        let region = [vk::BufferImageCopy::default()
            .image_subresource(layers(vk::ImageAspectFlags::COLOR))
            .image_extent(vk::Extent3D {
                width: w,
                height: h,
                depth: 1,
            })];
        // SAFETY: recording command buffer; the buffer holds w*h texels.
        unsafe {
            self.device.cmd_copy_image_to_buffer(
                cb,
                image,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                dst.buffer,
                &region,
            )
        };
    }

    /// A graphics pipeline with one vertex binding, triangle list/strip, no blending. Without a
    /// render pass it is made for dynamic rendering into one RGBA8 attachment, with viewport
    /// and scissor as dynamic state.
    #[allow(clippy::too_many_arguments)]
    pub fn graphics_pipeline(
        &self,
        layout: vk::PipelineLayout,
        render_pass: Option<vk::RenderPass>,
        vs: vk::ShaderModule,
        fs: vk::ShaderModule,
        stride: u32,
        attributes: &[(vk::Format, u32)],
        topology: vk::PrimitiveTopology,
        depth: bool,
        (w, h): (u32, u32),
    ) -> Result<vk::Pipeline> {
        let stages = [
            vk::PipelineShaderStageCreateInfo::default()
                .stage(vk::ShaderStageFlags::VERTEX)
                .module(vs)
                .name(c"main"),
            vk::PipelineShaderStageCreateInfo::default()
                .stage(vk::ShaderStageFlags::FRAGMENT)
                .module(fs)
                .name(c"main"),
        ];
        let bindings = [vk::VertexInputBindingDescription::default()
            .binding(0)
            .stride(stride)
            .input_rate(vk::VertexInputRate::VERTEX)];
        let attrs: Vec<vk::VertexInputAttributeDescription> = attributes
            .iter()
            .enumerate()
            .map(|(i, &(format, offset))| {
                vk::VertexInputAttributeDescription::default()
                    .location(i as u32)
                    .binding(0)
                    .format(format)
                    .offset(offset)
            })
            .collect();
        let vertex_input = vk::PipelineVertexInputStateCreateInfo::default()
            .vertex_binding_descriptions(&bindings)
            .vertex_attribute_descriptions(&attrs);
        let assembly = vk::PipelineInputAssemblyStateCreateInfo::default().topology(topology);
        let viewports = [vk::Viewport {
            x: 0.0,
            y: 0.0,
            width: w as f32,
            height: h as f32,
            min_depth: 0.0,
            max_depth: 1.0,
        }];
        let scissors = [vk::Rect2D {
            offset: vk::Offset2D { x: 0, y: 0 },
            extent: vk::Extent2D {
                width: w,
                height: h,
            },
        }];
        let viewport = vk::PipelineViewportStateCreateInfo::default()
            .viewports(&viewports)
            .scissors(&scissors);
        let raster = vk::PipelineRasterizationStateCreateInfo::default()
            .polygon_mode(vk::PolygonMode::FILL)
            .cull_mode(vk::CullModeFlags::NONE)
            .front_face(vk::FrontFace::COUNTER_CLOCKWISE)
            .line_width(1.0);
        let multisample = vk::PipelineMultisampleStateCreateInfo::default()
            .rasterization_samples(vk::SampleCountFlags::TYPE_1);
        let depth_state = vk::PipelineDepthStencilStateCreateInfo::default()
            .depth_test_enable(depth)
            .depth_write_enable(depth)
            .depth_compare_op(vk::CompareOp::LESS);
        let blend_attachments = [vk::PipelineColorBlendAttachmentState::default()
            .color_write_mask(vk::ColorComponentFlags::RGBA)];
        let blend =
            vk::PipelineColorBlendStateCreateInfo::default().attachments(&blend_attachments);
        let formats = [vk::Format::R8G8B8A8_UNORM];
        let mut rendering =
            vk::PipelineRenderingCreateInfo::default().color_attachment_formats(&formats);
        let dynamic_states = [vk::DynamicState::VIEWPORT, vk::DynamicState::SCISSOR];
        let dynamic = vk::PipelineDynamicStateCreateInfo::default().dynamic_states(&dynamic_states);
        let mut info = [vk::GraphicsPipelineCreateInfo::default()
            .stages(&stages)
            .vertex_input_state(&vertex_input)
            .input_assembly_state(&assembly)
            .viewport_state(&viewport)
            .rasterization_state(&raster)
            .multisample_state(&multisample)
            .depth_stencil_state(&depth_state)
            .color_blend_state(&blend)
            .layout(layout)
            .render_pass(render_pass.unwrap_or_default())
            .subpass(0)];
        if render_pass.is_none() {
            info[0] = info[0].dynamic_state(&dynamic).push_next(&mut rendering);
        }
        // SAFETY: valid device and create info.
        let pipelines = unsafe {
            self.device
                .create_graphics_pipelines(vk::PipelineCache::null(), &info, None)
        }
        .map_err(|(_, e)| format!("vkCreateGraphicsPipelines: {e}"))?;
        Ok(pipelines[0])
    }

    /// A single-subpass render pass: one color attachment (cleared, then TRANSFER_SRC), and
    /// optionally a depth attachment; made with vkCreateRenderPass2 when `v2`.
    pub fn render_pass(
        &self,
        color: vk::Format,
        depth: Option<vk::Format>,
        v2: bool,
    ) -> Result<vk::RenderPass> {
        if v2 {
            let mut attachments = vec![vk::AttachmentDescription2::default()
                .format(color)
                .samples(vk::SampleCountFlags::TYPE_1)
                .load_op(vk::AttachmentLoadOp::CLEAR)
                .store_op(vk::AttachmentStoreOp::STORE)
                .initial_layout(vk::ImageLayout::UNDEFINED)
                .final_layout(vk::ImageLayout::TRANSFER_SRC_OPTIMAL)];
            if let Some(d) = depth {
                attachments.push(
                    vk::AttachmentDescription2::default()
                        .format(d)
                        .samples(vk::SampleCountFlags::TYPE_1)
                        .load_op(vk::AttachmentLoadOp::CLEAR)
                        .store_op(vk::AttachmentStoreOp::DONT_CARE)
                        .initial_layout(vk::ImageLayout::UNDEFINED)
                        .final_layout(vk::ImageLayout::DEPTH_STENCIL_ATTACHMENT_OPTIMAL),
                );
            }
            let color_ref = [vk::AttachmentReference2::default()
                .attachment(0)
                .layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
                .aspect_mask(vk::ImageAspectFlags::COLOR)];
            let depth_ref = vk::AttachmentReference2::default()
                .attachment(1)
                .layout(vk::ImageLayout::DEPTH_STENCIL_ATTACHMENT_OPTIMAL)
                .aspect_mask(vk::ImageAspectFlags::DEPTH);
            let mut subpass = vk::SubpassDescription2::default()
                .pipeline_bind_point(vk::PipelineBindPoint::GRAPHICS)
                .color_attachments(&color_ref);
            if depth.is_some() {
                subpass = subpass.depth_stencil_attachment(&depth_ref);
            }
            let subpasses = [subpass];
            let info = vk::RenderPassCreateInfo2::default()
                .attachments(&attachments)
                .subpasses(&subpasses);
            // SAFETY: valid device and info.
            return vkr("vkCreateRenderPass2", unsafe {
                self.device.create_render_pass2(&info, None)
            });
        }
        let mut attachments = vec![vk::AttachmentDescription::default()
            .format(color)
            .samples(vk::SampleCountFlags::TYPE_1)
            .load_op(vk::AttachmentLoadOp::CLEAR)
            .store_op(vk::AttachmentStoreOp::STORE)
            .initial_layout(vk::ImageLayout::UNDEFINED)
            .final_layout(vk::ImageLayout::TRANSFER_SRC_OPTIMAL)];
        if let Some(d) = depth {
            attachments.push(
                vk::AttachmentDescription::default()
                    .format(d)
                    .samples(vk::SampleCountFlags::TYPE_1)
                    .load_op(vk::AttachmentLoadOp::CLEAR)
                    .store_op(vk::AttachmentStoreOp::DONT_CARE)
                    .initial_layout(vk::ImageLayout::UNDEFINED)
                    .final_layout(vk::ImageLayout::DEPTH_STENCIL_ATTACHMENT_OPTIMAL),
            );
        }
        let color_ref = [vk::AttachmentReference {
            attachment: 0,
            layout: vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL,
        }];
        let depth_ref = vk::AttachmentReference {
            attachment: 1,
            layout: vk::ImageLayout::DEPTH_STENCIL_ATTACHMENT_OPTIMAL,
        };
        let mut subpass = vk::SubpassDescription::default()
            .pipeline_bind_point(vk::PipelineBindPoint::GRAPHICS)
            .color_attachments(&color_ref);
        if depth.is_some() {
            subpass = subpass.depth_stencil_attachment(&depth_ref);
        }
        let subpasses = [subpass];
        let info = vk::RenderPassCreateInfo::default()
            .attachments(&attachments)
            .subpasses(&subpasses);
        // SAFETY: valid device and info.
        vkr("vkCreateRenderPass", unsafe {
            self.device.create_render_pass(&info, None)
        })
    }

    pub fn framebuffer(
        &self,
        rp: vk::RenderPass,
        views: &[vk::ImageView],
        (w, h): (u32, u32),
    ) -> Result<vk::Framebuffer> {
        let info = vk::FramebufferCreateInfo::default()
            .render_pass(rp)
            .attachments(views)
            .width(w)
            .height(h)
            .layers(1);
        // SAFETY: valid device and info.
        vkr("vkCreateFramebuffer", unsafe {
            self.device.create_framebuffer(&info, None)
        })
    }

    pub fn pipeline_layout(
        &self,
        sets: &[vk::DescriptorSetLayout],
        push: &[vk::PushConstantRange],
    ) -> Result<vk::PipelineLayout> {
        let info = vk::PipelineLayoutCreateInfo::default()
            .set_layouts(sets)
            .push_constant_ranges(push);
        // SAFETY: valid device and info.
        vkr("vkCreatePipelineLayout", unsafe {
            self.device.create_pipeline_layout(&info, None)
        })
    }

    pub fn name(&self) -> &str {
        &self.device_name
    }
}

impl Drop for Gpu {
    fn drop(&mut self) {
        // SAFETY: our objects; the queue is idle after `run`. Children the scenes leaked are
        // destroyed with the device (scenes are one-shot programs).
        unsafe {
            let _ = self.device.device_wait_idle();
            self.device.destroy_command_pool(self.pool, None);
            self.device.destroy_device(None);
            self.instance.destroy_instance(None);
        }
    }
}

pub fn range(aspect: vk::ImageAspectFlags) -> vk::ImageSubresourceRange {
    vk::ImageSubresourceRange {
        aspect_mask: aspect,
        base_mip_level: 0,
        level_count: 1,
        base_array_layer: 0,
        layer_count: 1,
    }
}

pub fn layers(aspect: vk::ImageAspectFlags) -> vk::ImageSubresourceLayers {
    vk::ImageSubresourceLayers {
        aspect_mask: aspect,
        mip_level: 0,
        base_array_layer: 0,
        layer_count: 1,
    }
}

/// Bytes of plain-old-data values (vertex data, push constants).
pub fn bytes_of<T: Copy>(v: &[T]) -> Vec<u8> {
    let n = std::mem::size_of_val(v);
    let mut out = vec![0u8; n];
    // SAFETY: `v` is `n` initialised bytes of Copy data (floats/ints without padding here).
    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr().cast::<u8>(), out.as_mut_ptr(), n) };
    out
}
