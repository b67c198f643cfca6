//! The scenes. Each returns the bytes it read back (RGBA8 pixels, or a storage buffer) and
//! checks a few values it can predict, so a broken run fails on its own and not only when
//! compared with another driver.

use ash::vk;

use crate::gpu::{bytes_of, Gpu, Result};
use crate::spirv;

pub const SIZE: (u32, u32) = (64, 64);
const COLOR: vk::Format = vk::Format::R8G8B8A8_UNORM;
/// 26/255 exactly, so every host converts it to 26 (0.1 gives 26 on lavapipe, 25 on NVIDIA).
const CLEAR: [f32; 4] = [26.0 / 255.0, 26.0 / 255.0, 26.0 / 255.0, 1.0];

/// Names, for `--list` and the tests.
pub const SCENES: &[&str] = &[
    "triangle",
    "compute",
    "textured",
    "depth",
    "push-constants",
    "sync",
    "dynamic-rendering",
    "transfer",
    "descriptor-indexing",
];

pub fn run(gpu: &Gpu, name: &str) -> Result<Vec<u8>> {
    match name {
        "triangle" => triangle(gpu),
        "compute" => compute(gpu),
        "textured" => textured(gpu),
        "depth" => depth(gpu),
        "push-constants" => push_constants(gpu),
        "sync" => sync(gpu),
        "dynamic-rendering" => dynamic_rendering(gpu),
        "transfer" => transfer(gpu),
        "descriptor-indexing" => descriptor_indexing(gpu),
        _ => Err(format!(
            "unknown scene {name:?} (scenes: {})",
            SCENES.join(", ")
        )),
    }
}

fn pixel(px: &[u8], x: u32, y: u32) -> [u8; 4] {
    let i = ((y * SIZE.0 + x) * 4) as usize;
    [px[i], px[i + 1], px[i + 2], px[i + 3]]
}

fn expect(what: &str, got: [u8; 4], want: [u8; 4]) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}

/// A color target plus the buffer it is copied into.
struct Target {
    color: crate::gpu::Image,
    depth: Option<crate::gpu::Image>,
    render_pass: vk::RenderPass,
    framebuffer: vk::Framebuffer,
    readback: crate::gpu::Buffer,
}

fn target(gpu: &Gpu, depth: bool, v2: bool) -> Result<Target> {
    let color = gpu.image(
        SIZE,
        COLOR,
        vk::ImageUsageFlags::COLOR_ATTACHMENT | vk::ImageUsageFlags::TRANSFER_SRC,
        vk::ImageAspectFlags::COLOR,
    )?;
    let depth = if depth {
        Some(gpu.image(
            SIZE,
            vk::Format::D32_SFLOAT,
            vk::ImageUsageFlags::DEPTH_STENCIL_ATTACHMENT,
            vk::ImageAspectFlags::DEPTH,
        )?)
    } else {
        None
    };
    let render_pass = gpu.render_pass(COLOR, depth.as_ref().map(|_| vk::Format::D32_SFLOAT), v2)?;
    let mut views = vec![color.view];
    views.extend(depth.as_ref().map(|d| d.view));
    let framebuffer = gpu.framebuffer(render_pass, &views, SIZE)?;
    let readback = gpu.buffer(
        u64::from(SIZE.0 * SIZE.1 * 4),
        vk::BufferUsageFlags::TRANSFER_DST,
    )?;
    Ok(Target {
        color,
        depth,
        render_pass,
        framebuffer,
        readback,
    })
}

/// Begins the render pass (clear), runs `draw`, ends it and copies the color image out.
fn render(gpu: &Gpu, t: &Target, draw: impl FnOnce(vk::CommandBuffer)) -> Result<Vec<u8>> {
    gpu.run(|cb| {
        let mut clears = vec![vk::ClearValue {
            color: vk::ClearColorValue { float32: CLEAR },
        }];
        if t.depth.is_some() {
            clears.push(vk::ClearValue {
                depth_stencil: vk::ClearDepthStencilValue {
                    depth: 1.0,
                    stencil: 0,
                },
            });
        }
        let begin = vk::RenderPassBeginInfo::default()
            .render_pass(t.render_pass)
            .framebuffer(t.framebuffer)
            .render_area(vk::Rect2D {
                offset: vk::Offset2D { x: 0, y: 0 },
                extent: vk::Extent2D {
                    width: SIZE.0,
                    height: SIZE.1,
                },
            })
            .clear_values(&clears);
        // SAFETY: recording command buffer; render pass and framebuffer match.
        unsafe {
            gpu.device
                .cmd_begin_render_pass(cb, &begin, vk::SubpassContents::INLINE)
        };
        draw(cb);
        // SAFETY: inside the render pass begun above.
        unsafe { gpu.device.cmd_end_render_pass(cb) };
        // The render pass left the image in TRANSFER_SRC_OPTIMAL (its final layout).
        gpu.copy_to_buffer(cb, t.color.image, SIZE, &t.readback);
        let to_host = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::HOST_READ)];
        // SAFETY: recording command buffer.
        unsafe {
            gpu.device.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::HOST,
                vk::DependencyFlags::empty(),
                &to_host,
                &[],
                &[],
            )
        };
    })?;
    gpu.read(&t.readback)
}

/// Scene 1: a triangle from a vertex buffer (position + color per vertex).
fn triangle(gpu: &Gpu) -> Result<Vec<u8>> {
    let t = target(gpu, false, false)?;
    #[rustfmt::skip]
    let vertices: [f32; 15] = [
        -0.8,  0.8,   1.0, 0.0, 0.0,
         0.8,  0.8,   0.0, 1.0, 0.0,
         0.0, -0.8,   0.0, 0.0, 1.0,
    ];
    let vb = gpu.buffer_with(&bytes_of(&vertices), vk::BufferUsageFlags::VERTEX_BUFFER)?;
    let layout = gpu.pipeline_layout(&[], &[])?;
    let vs = gpu.shader(spirv::TRIANGLE_VERT)?;
    let fs = gpu.shader(spirv::COLOR_FRAG)?;
    let pipeline = gpu.graphics_pipeline(
        layout,
        Some(t.render_pass),
        vs,
        fs,
        20,
        &[
            (vk::Format::R32G32_SFLOAT, 0),
            (vk::Format::R32G32B32_SFLOAT, 8),
        ],
        vk::PrimitiveTopology::TRIANGLE_LIST,
        false,
        SIZE,
    )?;
    let px = render(gpu, &t, |cb| {
        // SAFETY: recording inside the render pass; pipeline and buffer are live.
        unsafe {
            gpu.device
                .cmd_bind_pipeline(cb, vk::PipelineBindPoint::GRAPHICS, pipeline);
            gpu.device
                .cmd_bind_vertex_buffers(cb, 0, &[vb.buffer], &[0]);
            gpu.device.cmd_draw(cb, 3, 1, 0, 0);
        }
    })?;
    expect("corner (clear)", pixel(&px, 0, 0), [26, 26, 26, 255])?;
    let center = pixel(&px, 32, 40);
    if center[..3] == [26, 26, 26] || center[3] != 255 {
        return Err(format!("triangle center not drawn: {center:?}"));
    }
    Ok(px)
}

/// Scene 2: a compute shader writes `i * i + 7` into a storage buffer.
fn compute(gpu: &Gpu) -> Result<Vec<u8>> {
    const N: u32 = 256;
    let buffer = gpu.buffer(u64::from(N * 4), vk::BufferUsageFlags::STORAGE_BUFFER)?;
    gpu.write(&buffer, &vec![0xee; (N * 4) as usize])?;
    let d = &gpu.device;
    let bindings = [vk::DescriptorSetLayoutBinding::default()
        .binding(0)
        .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
        .descriptor_count(1)
        .stage_flags(vk::ShaderStageFlags::COMPUTE)];
    let info = vk::DescriptorSetLayoutCreateInfo::default().bindings(&bindings);
    // SAFETY: valid device and info (all calls below likewise).
    let set_layout = unsafe { d.create_descriptor_set_layout(&info, None) }
        .map_err(|e| format!("vkCreateDescriptorSetLayout: {e}"))?;
    let sizes = [vk::DescriptorPoolSize {
        ty: vk::DescriptorType::STORAGE_BUFFER,
        descriptor_count: 1,
    }];
    let info = vk::DescriptorPoolCreateInfo::default()
        .max_sets(1)
        .pool_sizes(&sizes);
    // SAFETY: as above.
    let pool = unsafe { d.create_descriptor_pool(&info, None) }
        .map_err(|e| format!("vkCreateDescriptorPool: {e}"))?;
    let layouts = [set_layout];
    let info = vk::DescriptorSetAllocateInfo::default()
        .descriptor_pool(pool)
        .set_layouts(&layouts);
    // SAFETY: as above.
    let set = unsafe { d.allocate_descriptor_sets(&info) }
        .map_err(|e| format!("vkAllocateDescriptorSets: {e}"))?[0];
    let buffer_info = [vk::DescriptorBufferInfo {
        buffer: buffer.buffer,
        offset: 0,
        range: vk::WHOLE_SIZE,
    }];
    let write = [vk::WriteDescriptorSet::default()
        .dst_set(set)
        .dst_binding(0)
        .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
        .buffer_info(&buffer_info)];
    // SAFETY: as above.
    unsafe { d.update_descriptor_sets(&write, &[]) };
    let layout = gpu.pipeline_layout(&layouts, &[])?;
    let pipeline = compute_pipeline(gpu, spirv::FILL_COMP, layout)?;
    gpu.run(|cb| {
        dispatch_for_host(d, cb, pipeline, layout, set, N / 64);
    })?;
    let out = gpu.read(&buffer)?;
    for i in 0..N {
        let o = (i * 4) as usize;
        let v = u32::from_le_bytes([out[o], out[o + 1], out[o + 2], out[o + 3]]);
        if v != i * i + 7 {
            return Err(format!("data[{i}] = {v}, expected {}", i * i + 7));
        }
    }
    Ok(out)
}

/// The 8x8 texture of scene 3: a checkerboard of two colors with a red first texel.
fn texel(x: u32, y: u32) -> [u8; 4] {
    if x == 0 && y == 0 {
        [255, 0, 0, 255]
    } else if (x + y).is_multiple_of(2) {
        [240, 200, 40, 255]
    } else {
        [20, 60, 200, 255]
    }
}

/// Scene 3: a textured quad; the texture is uploaded through a staging buffer and sampled
/// with a nearest-filtering sampler.
fn textured(gpu: &Gpu) -> Result<Vec<u8>> {
    let t = target(gpu, false, false)?;
    let d = &gpu.device;
    let texels: Vec<u8> = (0..64).flat_map(|i| texel(i % 8, i / 8)).collect();
    let staging = gpu.buffer_with(&texels, vk::BufferUsageFlags::TRANSFER_SRC)?;
    let tex = gpu.image(
        (8, 8),
        COLOR,
        vk::ImageUsageFlags::SAMPLED | vk::ImageUsageFlags::TRANSFER_DST,
        vk::ImageAspectFlags::COLOR,
    )?;
    gpu.run(|cb| {
        gpu.barrier(
            cb,
            tex.image,
            vk::ImageAspectFlags::COLOR,
            (
                vk::ImageLayout::UNDEFINED,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
            ),
            (vk::AccessFlags::empty(), vk::AccessFlags::TRANSFER_WRITE),
            (
                vk::PipelineStageFlags::TOP_OF_PIPE,
                vk::PipelineStageFlags::TRANSFER,
            ),
        );
        let region = [vk::BufferImageCopy::default()
            .image_subresource(crate::gpu::layers(vk::ImageAspectFlags::COLOR))
            .image_extent(vk::Extent3D {
                width: 8,
                height: 8,
                depth: 1,
            })];
        // SAFETY: recording; staging holds 8x8 texels.
        unsafe {
            d.cmd_copy_buffer_to_image(
                cb,
                staging.buffer,
                tex.image,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &region,
            )
        };
        gpu.barrier(
            cb,
            tex.image,
            vk::ImageAspectFlags::COLOR,
            (
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
            ),
            (
                vk::AccessFlags::TRANSFER_WRITE,
                vk::AccessFlags::SHADER_READ,
            ),
            (
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::FRAGMENT_SHADER,
            ),
        );
    })?;
    let info = vk::SamplerCreateInfo::default()
        .mag_filter(vk::Filter::NEAREST)
        .min_filter(vk::Filter::NEAREST)
        .mipmap_mode(vk::SamplerMipmapMode::NEAREST)
        .address_mode_u(vk::SamplerAddressMode::CLAMP_TO_EDGE)
        .address_mode_v(vk::SamplerAddressMode::CLAMP_TO_EDGE)
        .address_mode_w(vk::SamplerAddressMode::CLAMP_TO_EDGE)
        .max_lod(0.0);
    // SAFETY: valid device and info (all calls below likewise).
    let sampler =
        unsafe { d.create_sampler(&info, None) }.map_err(|e| format!("vkCreateSampler: {e}"))?;
    let bindings = [vk::DescriptorSetLayoutBinding::default()
        .binding(0)
        .descriptor_type(vk::DescriptorType::COMBINED_IMAGE_SAMPLER)
        .descriptor_count(1)
        .stage_flags(vk::ShaderStageFlags::FRAGMENT)];
    let info = vk::DescriptorSetLayoutCreateInfo::default().bindings(&bindings);
    // SAFETY: as above.
    let set_layout = unsafe { d.create_descriptor_set_layout(&info, None) }
        .map_err(|e| format!("vkCreateDescriptorSetLayout: {e}"))?;
    let sizes = [vk::DescriptorPoolSize {
        ty: vk::DescriptorType::COMBINED_IMAGE_SAMPLER,
        descriptor_count: 1,
    }];
    let info = vk::DescriptorPoolCreateInfo::default()
        .max_sets(1)
        .pool_sizes(&sizes);
    // SAFETY: as above.
    let pool = unsafe { d.create_descriptor_pool(&info, None) }
        .map_err(|e| format!("vkCreateDescriptorPool: {e}"))?;
    let layouts = [set_layout];
    let info = vk::DescriptorSetAllocateInfo::default()
        .descriptor_pool(pool)
        .set_layouts(&layouts);
    // SAFETY: as above.
    let set = unsafe { d.allocate_descriptor_sets(&info) }
        .map_err(|e| format!("vkAllocateDescriptorSets: {e}"))?[0];
    let image_info = [vk::DescriptorImageInfo {
        sampler,
        image_view: tex.view,
        image_layout: vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
    }];
    let write = [vk::WriteDescriptorSet::default()
        .dst_set(set)
        .dst_binding(0)
        .descriptor_type(vk::DescriptorType::COMBINED_IMAGE_SAMPLER)
        .image_info(&image_info)];
    // SAFETY: as above.
    unsafe { d.update_descriptor_sets(&write, &[]) };
    #[rustfmt::skip]
    let vertices: [f32; 16] = [
        -1.0, -1.0,   0.0, 0.0,
         1.0, -1.0,   1.0, 0.0,
        -1.0,  1.0,   0.0, 1.0,
         1.0,  1.0,   1.0, 1.0,
    ];
    let vb = gpu.buffer_with(&bytes_of(&vertices), vk::BufferUsageFlags::VERTEX_BUFFER)?;
    let layout = gpu.pipeline_layout(&layouts, &[])?;
    let vs = gpu.shader(spirv::TEXTURED_VERT)?;
    let fs = gpu.shader(spirv::TEXTURED_FRAG)?;
    let pipeline = gpu.graphics_pipeline(
        layout,
        Some(t.render_pass),
        vs,
        fs,
        16,
        &[
            (vk::Format::R32G32_SFLOAT, 0),
            (vk::Format::R32G32_SFLOAT, 8),
        ],
        vk::PrimitiveTopology::TRIANGLE_STRIP,
        false,
        SIZE,
    )?;
    let px = render(gpu, &t, |cb| {
        // SAFETY: recording inside the render pass; all objects live.
        unsafe {
            d.cmd_bind_pipeline(cb, vk::PipelineBindPoint::GRAPHICS, pipeline);
            d.cmd_bind_descriptor_sets(cb, vk::PipelineBindPoint::GRAPHICS, layout, 0, &[set], &[]);
            d.cmd_bind_vertex_buffers(cb, 0, &[vb.buffer], &[0]);
            d.cmd_draw(cb, 4, 1, 0, 0);
        }
    })?;
    // 64 pixels over 8 texels: texel (x, y) covers pixels [8x, 8x+8) x [8y, 8y+8).
    for (x, y) in [(0, 0), (1, 0), (0, 1), (5, 3), (7, 7)] {
        expect(
            &format!("texel ({x}, {y})"),
            pixel(&px, x * 8 + 4, y * 8 + 4),
            texel(x, y),
        )?;
    }
    Ok(px)
}

/// Scene 4: depth testing (render pass made with vkCreateRenderPass2, D32 depth): a near
/// green triangle drawn first stays in front of a far red one drawn after it.
fn depth(gpu: &Gpu) -> Result<Vec<u8>> {
    let t = target(gpu, true, true)?;
    #[rustfmt::skip]
    let vertices: [f32; 36] = [
        // near, green
        -0.6,  0.6, 0.25,   0.0, 1.0, 0.0,
         0.6,  0.6, 0.25,   0.0, 1.0, 0.0,
         0.0, -0.6, 0.25,   0.0, 1.0, 0.0,
        // far, red, larger
        -0.9,  0.9, 0.75,   1.0, 0.0, 0.0,
         0.9,  0.9, 0.75,   1.0, 0.0, 0.0,
         0.0, -0.9, 0.75,   1.0, 0.0, 0.0,
    ];
    let vb = gpu.buffer_with(&bytes_of(&vertices), vk::BufferUsageFlags::VERTEX_BUFFER)?;
    let layout = gpu.pipeline_layout(&[], &[])?;
    let vs = gpu.shader(spirv::DEPTH_VERT)?;
    let fs = gpu.shader(spirv::COLOR_FRAG)?;
    let pipeline = gpu.graphics_pipeline(
        layout,
        Some(t.render_pass),
        vs,
        fs,
        24,
        &[
            (vk::Format::R32G32B32_SFLOAT, 0),
            (vk::Format::R32G32B32_SFLOAT, 12),
        ],
        vk::PrimitiveTopology::TRIANGLE_LIST,
        true,
        SIZE,
    )?;
    let px = render(gpu, &t, |cb| {
        // SAFETY: recording inside the render pass; all objects live.
        unsafe {
            gpu.device
                .cmd_bind_pipeline(cb, vk::PipelineBindPoint::GRAPHICS, pipeline);
            gpu.device
                .cmd_bind_vertex_buffers(cb, 0, &[vb.buffer], &[0]);
            gpu.device.cmd_draw(cb, 6, 1, 0, 0);
        }
    })?;
    expect(
        "center (near triangle)",
        pixel(&px, 32, 40),
        [0, 255, 0, 255],
    )?;
    expect("edge (far triangle)", pixel(&px, 32, 58), [255, 0, 0, 255])?;
    expect("corner (clear)", pixel(&px, 0, 63), [26, 26, 26, 255])?;
    Ok(px)
}

/// Scene 5: one quad drawn four times, placed and colored by push constants.
fn push_constants(gpu: &Gpu) -> Result<Vec<u8>> {
    let t = target(gpu, false, false)?;
    #[rustfmt::skip]
    let vertices: [f32; 8] = [
        -1.0, -1.0,
         1.0, -1.0,
        -1.0,  1.0,
         1.0,  1.0,
    ];
    let vb = gpu.buffer_with(&bytes_of(&vertices), vk::BufferUsageFlags::VERTEX_BUFFER)?;
    let push = [vk::PushConstantRange {
        stage_flags: vk::ShaderStageFlags::VERTEX,
        offset: 0,
        size: 32,
    }];
    let layout = gpu.pipeline_layout(&[], &push)?;
    let vs = gpu.shader(spirv::PUSH_VERT)?;
    let fs = gpu.shader(spirv::COLOR_FRAG)?;
    let pipeline = gpu.graphics_pipeline(
        layout,
        Some(t.render_pass),
        vs,
        fs,
        8,
        &[(vk::Format::R32G32_SFLOAT, 0)],
        vk::PrimitiveTopology::TRIANGLE_STRIP,
        false,
        SIZE,
    )?;
    let quads: [([f32; 4], [f32; 4]); 4] = [
        ([-0.5, -0.5, 0.4, 0.4], [1.0, 0.0, 0.0, 1.0]),
        ([0.5, -0.5, 0.4, 0.4], [0.0, 1.0, 0.0, 1.0]),
        ([-0.5, 0.5, 0.4, 0.4], [0.0, 0.0, 1.0, 1.0]),
        ([0.5, 0.5, 0.4, 0.4], [1.0, 1.0, 1.0, 1.0]),
    ];
    let px = render(gpu, &t, |cb| {
        // SAFETY: recording inside the render pass; all objects live; 32 bytes of constants.
        unsafe {
            gpu.device
                .cmd_bind_pipeline(cb, vk::PipelineBindPoint::GRAPHICS, pipeline);
            gpu.device
                .cmd_bind_vertex_buffers(cb, 0, &[vb.buffer], &[0]);
            for (offset_scale, color) in &quads {
                let mut constants = bytes_of(offset_scale);
                constants.extend(bytes_of(color));
                gpu.device.cmd_push_constants(
                    cb,
                    layout,
                    vk::ShaderStageFlags::VERTEX,
                    0,
                    &constants,
                );
                gpu.device.cmd_draw(cb, 4, 1, 0, 0);
            }
        }
    })?;
    expect("top left", pixel(&px, 16, 16), [255, 0, 0, 255])?;
    expect("top right", pixel(&px, 48, 16), [0, 255, 0, 255])?;
    expect("bottom left", pixel(&px, 16, 48), [0, 0, 255, 255])?;
    expect("bottom right", pixel(&px, 48, 48), [255, 255, 255, 255])?;
    expect("middle (clear)", pixel(&px, 32, 32), [26, 26, 26, 255])?;
    Ok(px)
}

/// Scene 6: synchronisation and queries. One submission draws the scene-1 triangle inside an
/// occlusion query, sets an event and signals a timeline semaphore to 1; the host waits on the
/// semaphore (vkWaitSemaphores), reads the query (vkGetQueryPoolResults with WAIT) and the
/// event status. Returns the semaphore value, the sample count and the event status (u64 each)
/// followed by the pixels.
fn sync(gpu: &Gpu) -> Result<Vec<u8>> {
    if !gpu.has_timeline {
        return Err("timeline semaphores are not supported".into());
    }
    let d = &gpu.device;
    let t = target(gpu, false, false)?;
    #[rustfmt::skip]
    let vertices: [f32; 15] = [
        -0.5,  0.5,   1.0, 1.0, 0.0,
         0.5,  0.5,   0.0, 1.0, 1.0,
         0.0, -0.5,   1.0, 0.0, 1.0,
    ];
    let vb = gpu.buffer_with(&bytes_of(&vertices), vk::BufferUsageFlags::VERTEX_BUFFER)?;
    let layout = gpu.pipeline_layout(&[], &[])?;
    let vs = gpu.shader(spirv::TRIANGLE_VERT)?;
    let fs = gpu.shader(spirv::COLOR_FRAG)?;
    let pipeline = gpu.graphics_pipeline(
        layout,
        Some(t.render_pass),
        vs,
        fs,
        20,
        &[
            (vk::Format::R32G32_SFLOAT, 0),
            (vk::Format::R32G32B32_SFLOAT, 8),
        ],
        vk::PrimitiveTopology::TRIANGLE_LIST,
        false,
        SIZE,
    )?;
    let info = vk::QueryPoolCreateInfo::default()
        .query_type(vk::QueryType::OCCLUSION)
        .query_count(1);
    // SAFETY: valid device and create infos (all calls below likewise).
    let queries = unsafe { d.create_query_pool(&info, None) }
        .map_err(|e| format!("vkCreateQueryPool: {e}"))?;
    // SAFETY: as above.
    let event = unsafe { d.create_event(&vk::EventCreateInfo::default(), None) }
        .map_err(|e| format!("vkCreateEvent: {e}"))?;
    let mut type_info = vk::SemaphoreTypeCreateInfo::default()
        .semaphore_type(vk::SemaphoreType::TIMELINE)
        .initial_value(0);
    let info = vk::SemaphoreCreateInfo::default().push_next(&mut type_info);
    // SAFETY: as above.
    let semaphore = unsafe { d.create_semaphore(&info, None) }
        .map_err(|e| format!("vkCreateSemaphore: {e}"))?;

    let info = vk::CommandBufferAllocateInfo::default()
        .command_pool(gpu.pool)
        .level(vk::CommandBufferLevel::PRIMARY)
        .command_buffer_count(1);
    // SAFETY: as above.
    let cb = unsafe { d.allocate_command_buffers(&info) }
        .map_err(|e| format!("vkAllocateCommandBuffers: {e}"))?[0];
    let begin = vk::CommandBufferBeginInfo::default();
    // SAFETY: a fresh command buffer; everything recorded below is live.
    unsafe {
        d.begin_command_buffer(cb, &begin)
            .map_err(|e| format!("vkBeginCommandBuffer: {e}"))?;
        d.cmd_reset_query_pool(cb, queries, 0, 1);
        let clears = [vk::ClearValue {
            color: vk::ClearColorValue { float32: CLEAR },
        }];
        let rp_begin = vk::RenderPassBeginInfo::default()
            .render_pass(t.render_pass)
            .framebuffer(t.framebuffer)
            .render_area(vk::Rect2D {
                offset: vk::Offset2D { x: 0, y: 0 },
                extent: vk::Extent2D {
                    width: SIZE.0,
                    height: SIZE.1,
                },
            })
            .clear_values(&clears);
        d.cmd_begin_render_pass(cb, &rp_begin, vk::SubpassContents::INLINE);
        d.cmd_begin_query(cb, queries, 0, vk::QueryControlFlags::PRECISE);
        d.cmd_bind_pipeline(cb, vk::PipelineBindPoint::GRAPHICS, pipeline);
        d.cmd_bind_vertex_buffers(cb, 0, &[vb.buffer], &[0]);
        d.cmd_draw(cb, 3, 1, 0, 0);
        d.cmd_end_query(cb, queries, 0);
        d.cmd_end_render_pass(cb);
        gpu.copy_to_buffer(cb, t.color.image, SIZE, &t.readback);
        d.cmd_set_event(cb, event, vk::PipelineStageFlags::TRANSFER);
        d.end_command_buffer(cb)
            .map_err(|e| format!("vkEndCommandBuffer: {e}"))?;
        let signal = [1u64];
        let mut timeline_info =
            vk::TimelineSemaphoreSubmitInfo::default().signal_semaphore_values(&signal);
        let cbs = [cb];
        let semaphores = [semaphore];
        let submit = [vk::SubmitInfo::default()
            .command_buffers(&cbs)
            .signal_semaphores(&semaphores)
            .push_next(&mut timeline_info)];
        d.queue_submit(gpu.queue, &submit, vk::Fence::null())
            .map_err(|e| format!("vkQueueSubmit: {e}"))?;
        let values = [1u64];
        let wait = vk::SemaphoreWaitInfo::default()
            .semaphores(&semaphores)
            .values(&values);
        d.wait_semaphores(&wait, 10_000_000_000)
            .map_err(|e| format!("vkWaitSemaphores: {e}"))?;
    }
    // SAFETY: as above.
    let value = unsafe { d.get_semaphore_counter_value(semaphore) }
        .map_err(|e| format!("vkGetSemaphoreCounterValue: {e}"))?;
    let mut samples = [0u64];
    // SAFETY: as above; one 64-bit result.
    unsafe {
        d.get_query_pool_results(
            queries,
            0,
            &mut samples,
            vk::QueryResultFlags::TYPE_64 | vk::QueryResultFlags::WAIT,
        )
    }
    .map_err(|e| format!("vkGetQueryPoolResults: {e}"))?;
    // SAFETY: as above.
    let event_set =
        unsafe { d.get_event_status(event) }.map_err(|e| format!("vkGetEventStatus: {e}"))?;
    // SAFETY: the queue is done with everything (semaphore reached 1 after the last command).
    unsafe { d.queue_wait_idle(gpu.queue) }.map_err(|e| format!("vkQueueWaitIdle: {e}"))?;
    let px = gpu.read(&t.readback)?;
    if value != 1 {
        return Err(format!("timeline semaphore at {value}, expected 1"));
    }
    if !event_set {
        return Err("event not set".into());
    }
    let covered = px
        .chunks_exact(4)
        .filter(|p| p[..3] != [26, 26, 26])
        .count() as u64;
    if samples[0] != covered {
        return Err(format!(
            "occlusion query counted {} samples, {covered} pixels were drawn",
            samples[0]
        ));
    }
    let mut out = bytes_of(&[value, samples[0], u64::from(event_set)]);
    out.extend(px);
    Ok(out)
}

/// Scene 7: VK_KHR_dynamic_rendering (no render pass or framebuffer), explicit layout
/// transitions, viewport and scissor as dynamic state (the scissor keeps the left half), and
/// an indexed draw of a quad.
fn dynamic_rendering(gpu: &Gpu) -> Result<Vec<u8>> {
    let dr = gpu
        .dynamic_rendering
        .as_ref()
        .ok_or("VK_KHR_dynamic_rendering is not supported")?;
    let d = &gpu.device;
    let color = gpu.image(
        SIZE,
        COLOR,
        vk::ImageUsageFlags::COLOR_ATTACHMENT | vk::ImageUsageFlags::TRANSFER_SRC,
        vk::ImageAspectFlags::COLOR,
    )?;
    let readback = gpu.buffer(
        u64::from(SIZE.0 * SIZE.1 * 4),
        vk::BufferUsageFlags::TRANSFER_DST,
    )?;
    #[rustfmt::skip]
    let vertices: [f32; 20] = [
        -0.75, -0.75,   1.0, 0.5, 0.0,
         0.75, -0.75,   0.0, 1.0, 0.5,
        -0.75,  0.75,   0.5, 0.0, 1.0,
         0.75,  0.75,   1.0, 1.0, 1.0,
    ];
    let indices: [u16; 6] = [0, 1, 2, 2, 1, 3];
    let vb = gpu.buffer_with(&bytes_of(&vertices), vk::BufferUsageFlags::VERTEX_BUFFER)?;
    let ib = gpu.buffer_with(&bytes_of(&indices), vk::BufferUsageFlags::INDEX_BUFFER)?;
    let layout = gpu.pipeline_layout(&[], &[])?;
    let vs = gpu.shader(spirv::TRIANGLE_VERT)?;
    let fs = gpu.shader(spirv::COLOR_FRAG)?;
    let pipeline = gpu.graphics_pipeline(
        layout,
        None,
        vs,
        fs,
        20,
        &[
            (vk::Format::R32G32_SFLOAT, 0),
            (vk::Format::R32G32B32_SFLOAT, 8),
        ],
        vk::PrimitiveTopology::TRIANGLE_LIST,
        false,
        SIZE,
    )?;
    gpu.run(|cb| {
        gpu.barrier(
            cb,
            color.image,
            vk::ImageAspectFlags::COLOR,
            (
                vk::ImageLayout::UNDEFINED,
                vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL,
            ),
            (
                vk::AccessFlags::empty(),
                vk::AccessFlags::COLOR_ATTACHMENT_WRITE,
            ),
            (
                vk::PipelineStageFlags::TOP_OF_PIPE,
                vk::PipelineStageFlags::COLOR_ATTACHMENT_OUTPUT,
            ),
        );
        let attachments = [vk::RenderingAttachmentInfo::default()
            .image_view(color.view)
            .image_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
            .load_op(vk::AttachmentLoadOp::CLEAR)
            .store_op(vk::AttachmentStoreOp::STORE)
            .clear_value(vk::ClearValue {
                color: vk::ClearColorValue { float32: CLEAR },
            })];
        let area = vk::Rect2D {
            offset: vk::Offset2D { x: 0, y: 0 },
            extent: vk::Extent2D {
                width: SIZE.0,
                height: SIZE.1,
            },
        };
        let info = vk::RenderingInfo::default()
            .render_area(area)
            .layer_count(1)
            .color_attachments(&attachments);
        // SAFETY: recording; the attachment is in COLOR_ATTACHMENT_OPTIMAL; all objects live.
        unsafe {
            dr.cmd_begin_rendering(cb, &info);
            d.cmd_bind_pipeline(cb, vk::PipelineBindPoint::GRAPHICS, pipeline);
            d.cmd_set_viewport(
                cb,
                0,
                &[vk::Viewport {
                    x: 0.0,
                    y: 0.0,
                    width: SIZE.0 as f32,
                    height: SIZE.1 as f32,
                    min_depth: 0.0,
                    max_depth: 1.0,
                }],
            );
            d.cmd_set_scissor(
                cb,
                0,
                &[vk::Rect2D {
                    offset: vk::Offset2D { x: 0, y: 0 },
                    extent: vk::Extent2D {
                        width: SIZE.0 / 2,
                        height: SIZE.1,
                    },
                }],
            );
            d.cmd_bind_vertex_buffers(cb, 0, &[vb.buffer], &[0]);
            d.cmd_bind_index_buffer(cb, ib.buffer, 0, vk::IndexType::UINT16);
            d.cmd_draw_indexed(cb, 6, 1, 0, 0, 0);
            dr.cmd_end_rendering(cb);
        }
        gpu.barrier(
            cb,
            color.image,
            vk::ImageAspectFlags::COLOR,
            (
                vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
            ),
            (
                vk::AccessFlags::COLOR_ATTACHMENT_WRITE,
                vk::AccessFlags::TRANSFER_READ,
            ),
            (
                vk::PipelineStageFlags::COLOR_ATTACHMENT_OUTPUT,
                vk::PipelineStageFlags::TRANSFER,
            ),
        );
        gpu.copy_to_buffer(cb, color.image, SIZE, &readback);
        let to_host = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::HOST_READ)];
        // SAFETY: recording command buffer.
        unsafe {
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::HOST,
                vk::DependencyFlags::empty(),
                &to_host,
                &[],
                &[],
            )
        };
    })?;
    let px = gpu.read(&readback)?;
    expect(
        "right half (scissored away)",
        pixel(&px, 48, 32),
        [26, 26, 26, 255],
    )?;
    expect("outside the quad", pixel(&px, 2, 2), [26, 26, 26, 255])?;
    let inside = pixel(&px, 16, 32);
    if inside[..3] == [26, 26, 26] {
        return Err(format!("quad not drawn: {inside:?}"));
    }
    Ok(px)
}

/// Scene 8: transfer commands recorded in a secondary command buffer run by
/// vkCmdExecuteCommands: vkCmdUpdateBuffer + vkCmdCopyBuffer stage an 8x8 pattern,
/// vkCmdClearColorImage clears a 16x16 image red, vkCmdCopyBufferToImage puts the pattern at
/// (4, 4), vkCmdBlitImage scales the image 2x (nearest) into the top-left of a 64x64 image and
/// vkCmdCopyImage copies it unscaled to (40, 40).
fn transfer(gpu: &Gpu) -> Result<Vec<u8>> {
    let d = &gpu.device;
    let usage = vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST;
    let small = gpu.image((16, 16), COLOR, usage, vk::ImageAspectFlags::COLOR)?;
    let big = gpu.image(SIZE, COLOR, usage, vk::ImageAspectFlags::COLOR)?;
    let staging = gpu.buffer(
        256,
        vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST,
    )?;
    let pattern_src = gpu.buffer(
        256,
        vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST,
    )?;
    let readback = gpu.buffer(
        u64::from(SIZE.0 * SIZE.1 * 4),
        vk::BufferUsageFlags::TRANSFER_DST,
    )?;
    let pattern: Vec<u8> = (0..64u32)
        .flat_map(|i| {
            [
                (i * 4) as u8,
                (255 - i * 4) as u8,
                ((i % 8) * 32) as u8,
                255,
            ]
        })
        .collect();
    let info = vk::CommandBufferAllocateInfo::default()
        .command_pool(gpu.pool)
        .level(vk::CommandBufferLevel::SECONDARY)
        .command_buffer_count(1);
    // SAFETY: valid device and pool.
    let secondary = unsafe { d.allocate_command_buffers(&info) }
        .map_err(|e| format!("vkAllocateCommandBuffers: {e}"))?[0];
    let inheritance = vk::CommandBufferInheritanceInfo::default();
    let begin = vk::CommandBufferBeginInfo::default().inheritance_info(&inheritance);
    let transfer_barrier = [vk::MemoryBarrier::default()
        .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
        .dst_access_mask(vk::AccessFlags::TRANSFER_READ | vk::AccessFlags::TRANSFER_WRITE)];
    let full = |w: i32, h: i32| {
        [
            vk::Offset3D { x: 0, y: 0, z: 0 },
            vk::Offset3D { x: w, y: h, z: 1 },
        ]
    };
    // SAFETY: a fresh secondary command buffer; everything recorded is live; barriers order
    // each transfer after the one it reads.
    unsafe {
        d.begin_command_buffer(secondary, &begin)
            .map_err(|e| format!("vkBeginCommandBuffer: {e}"))?;
        let barrier = |cb| {
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::TRANSFER,
                vk::DependencyFlags::empty(),
                &transfer_barrier,
                &[],
                &[],
            )
        };
        d.cmd_update_buffer(secondary, pattern_src.buffer, 0, &pattern);
        barrier(secondary);
        d.cmd_copy_buffer(
            secondary,
            pattern_src.buffer,
            staging.buffer,
            &[vk::BufferCopy {
                src_offset: 0,
                dst_offset: 0,
                size: 256,
            }],
        );
        for image in [small.image, big.image] {
            gpu.barrier(
                secondary,
                image,
                vk::ImageAspectFlags::COLOR,
                (vk::ImageLayout::UNDEFINED, vk::ImageLayout::GENERAL),
                (vk::AccessFlags::empty(), vk::AccessFlags::TRANSFER_WRITE),
                (
                    vk::PipelineStageFlags::TOP_OF_PIPE,
                    vk::PipelineStageFlags::TRANSFER,
                ),
            );
        }
        let range = [crate::gpu::range(vk::ImageAspectFlags::COLOR)];
        d.cmd_clear_color_image(
            secondary,
            small.image,
            vk::ImageLayout::GENERAL,
            &vk::ClearColorValue {
                float32: [1.0, 0.0, 0.0, 1.0],
            },
            &range,
        );
        d.cmd_clear_color_image(
            secondary,
            big.image,
            vk::ImageLayout::GENERAL,
            &vk::ClearColorValue { float32: CLEAR },
            &range,
        );
        barrier(secondary);
        d.cmd_copy_buffer_to_image(
            secondary,
            staging.buffer,
            small.image,
            vk::ImageLayout::GENERAL,
            &[vk::BufferImageCopy::default()
                .image_subresource(crate::gpu::layers(vk::ImageAspectFlags::COLOR))
                .image_offset(vk::Offset3D { x: 4, y: 4, z: 0 })
                .image_extent(vk::Extent3D {
                    width: 8,
                    height: 8,
                    depth: 1,
                })],
        );
        barrier(secondary);
        let layers = crate::gpu::layers(vk::ImageAspectFlags::COLOR);
        d.cmd_blit_image(
            secondary,
            small.image,
            vk::ImageLayout::GENERAL,
            big.image,
            vk::ImageLayout::GENERAL,
            &[vk::ImageBlit {
                src_subresource: layers,
                src_offsets: full(16, 16),
                dst_subresource: layers,
                dst_offsets: full(32, 32),
            }],
            vk::Filter::NEAREST,
        );
        d.cmd_copy_image(
            secondary,
            small.image,
            vk::ImageLayout::GENERAL,
            big.image,
            vk::ImageLayout::GENERAL,
            &[vk::ImageCopy {
                src_subresource: layers,
                src_offset: vk::Offset3D { x: 0, y: 0, z: 0 },
                dst_subresource: layers,
                dst_offset: vk::Offset3D { x: 40, y: 40, z: 0 },
                extent: vk::Extent3D {
                    width: 16,
                    height: 16,
                    depth: 1,
                },
            }],
        );
        barrier(secondary);
        d.cmd_copy_image_to_buffer(
            secondary,
            big.image,
            vk::ImageLayout::GENERAL,
            readback.buffer,
            &[vk::BufferImageCopy::default()
                .image_subresource(layers)
                .image_extent(vk::Extent3D {
                    width: SIZE.0,
                    height: SIZE.1,
                    depth: 1,
                })],
        );
        d.end_command_buffer(secondary)
            .map_err(|e| format!("vkEndCommandBuffer: {e}"))?;
    }
    gpu.run(|cb| {
        let to_host = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::HOST_READ)];
        // SAFETY: recording a primary command buffer; the secondary is executable.
        unsafe {
            d.cmd_execute_commands(cb, &[secondary]);
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::HOST,
                vk::DependencyFlags::empty(),
                &to_host,
                &[],
                &[],
            );
        }
    })?;
    let px = gpu.read(&readback)?;
    let texel = |x: u32, y: u32| {
        let o = ((y * 8 + x) * 4) as usize;
        [pattern[o], pattern[o + 1], pattern[o + 2], pattern[o + 3]]
    };
    expect("blit: red border", pixel(&px, 1, 1), [255, 0, 0, 255])?;
    expect("blit: pattern (0, 0) scaled", pixel(&px, 9, 9), texel(0, 0))?;
    expect(
        "blit: pattern (3, 5) scaled",
        pixel(&px, 8 + 6 + 1, 8 + 10),
        texel(3, 5),
    )?;
    expect(
        "copy: pattern (7, 7)",
        pixel(&px, 40 + 11, 40 + 11),
        texel(7, 7),
    )?;
    expect(
        "copy: red border",
        pixel(&px, 40 + 15, 40),
        [255, 0, 0, 255],
    )?;
    expect("cleared", pixel(&px, 36, 20), [26, 26, 26, 255])?;
    Ok(px)
}

/// What the descriptor-indexing scene returns, instead of a buffer, on a device that lacks
/// one of the features it needs. Two runs compare equal with it only if both devices lack
/// them; the Venus frame test names it when only one side does.
pub const DESCRIPTOR_INDEXING_MARKER: &[u8] = b"vk-scenes: descriptor indexing not exposed\n";

/// Scene 9: descriptor indexing. A compute shader reads a runtime-sized array of storage
/// buffers (binding 1) with a `nonuniformEXT` index derived from the invocation id and writes
/// `inputs[(i * 7) % 4].values[i % 16] + i` into an output buffer (binding 0). Binding 1 has a
/// variable descriptor count (6 allocated, of at most 8) and is partially bound (only 4 are
/// written); where storage-buffer update-after-bind is exposed the layout, pool and binding are
/// update-after-bind and one input's descriptor is written after the set is bound and the
/// dispatch recorded. Without the features it returns [`DESCRIPTOR_INDEXING_MARKER`].
fn descriptor_indexing(gpu: &Gpu) -> Result<Vec<u8>> {
    const N: u32 = 256;
    const INPUTS: u32 = 4;
    const VALUES: u32 = 16;
    const MAX_INPUTS: u32 = 8;
    const ALLOCATED: u32 = 6;
    let Some(features) = gpu.descriptor_indexing else {
        return Ok(DESCRIPTOR_INDEXING_MARKER.to_vec());
    };
    let uab = features.update_after_bind;
    let value = |b: u32, j: u32| (b << 16) | (j * 3 + 1);
    let output = gpu.buffer(u64::from(N * 4), vk::BufferUsageFlags::STORAGE_BUFFER)?;
    gpu.write(&output, &vec![0xee; (N * 4) as usize])?;
    let inputs = (0..INPUTS)
        .map(|b| {
            let words: Vec<u32> = (0..VALUES).map(|j| value(b, j)).collect();
            gpu.buffer_with(&bytes_of(&words), vk::BufferUsageFlags::STORAGE_BUFFER)
        })
        .collect::<Result<Vec<_>>>()?;
    let d = &gpu.device;
    let bindings = [
        vk::DescriptorSetLayoutBinding::default()
            .binding(0)
            .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
            .descriptor_count(1)
            .stage_flags(vk::ShaderStageFlags::COMPUTE),
        vk::DescriptorSetLayoutBinding::default()
            .binding(1)
            .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
            .descriptor_count(MAX_INPUTS)
            .stage_flags(vk::ShaderStageFlags::COMPUTE),
    ];
    let mut array_flags = vk::DescriptorBindingFlags::VARIABLE_DESCRIPTOR_COUNT
        | vk::DescriptorBindingFlags::PARTIALLY_BOUND;
    let mut layout_flags = vk::DescriptorSetLayoutCreateFlags::empty();
    let mut pool_flags = vk::DescriptorPoolCreateFlags::empty();
    if uab {
        array_flags |= vk::DescriptorBindingFlags::UPDATE_AFTER_BIND;
        layout_flags |= vk::DescriptorSetLayoutCreateFlags::UPDATE_AFTER_BIND_POOL;
        pool_flags |= vk::DescriptorPoolCreateFlags::UPDATE_AFTER_BIND;
    }
    let binding_flags = [vk::DescriptorBindingFlags::empty(), array_flags];
    let mut flags_info =
        vk::DescriptorSetLayoutBindingFlagsCreateInfo::default().binding_flags(&binding_flags);
    let info = vk::DescriptorSetLayoutCreateInfo::default()
        .flags(layout_flags)
        .bindings(&bindings)
        .push_next(&mut flags_info);
    // SAFETY: valid device and info (all calls below likewise).
    let set_layout = unsafe { d.create_descriptor_set_layout(&info, None) }
        .map_err(|e| format!("vkCreateDescriptorSetLayout: {e}"))?;
    let sizes = [vk::DescriptorPoolSize {
        ty: vk::DescriptorType::STORAGE_BUFFER,
        descriptor_count: 1 + ALLOCATED,
    }];
    let info = vk::DescriptorPoolCreateInfo::default()
        .flags(pool_flags)
        .max_sets(1)
        .pool_sizes(&sizes);
    // SAFETY: as above.
    let pool = unsafe { d.create_descriptor_pool(&info, None) }
        .map_err(|e| format!("vkCreateDescriptorPool: {e}"))?;
    let layouts = [set_layout];
    let counts = [ALLOCATED];
    let mut count_info =
        vk::DescriptorSetVariableDescriptorCountAllocateInfo::default().descriptor_counts(&counts);
    let info = vk::DescriptorSetAllocateInfo::default()
        .descriptor_pool(pool)
        .set_layouts(&layouts)
        .push_next(&mut count_info);
    // SAFETY: as above.
    let set = unsafe { d.allocate_descriptor_sets(&info) }
        .map_err(|e| format!("vkAllocateDescriptorSets: {e}"))?[0];
    let whole = |b: &crate::gpu::Buffer| {
        [vk::DescriptorBufferInfo {
            buffer: b.buffer,
            offset: 0,
            range: vk::WHOLE_SIZE,
        }]
    };
    let output_info = whole(&output);
    let input_infos: Vec<_> = inputs.iter().map(whole).collect();
    let write = |binding: u32, element: u32, info: &[vk::DescriptorBufferInfo; 1]| {
        let w = [vk::WriteDescriptorSet::default()
            .dst_set(set)
            .dst_binding(binding)
            .dst_array_element(element)
            .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
            .buffer_info(info)];
        // SAFETY: as above; with update-after-bind the set may already be bound in the
        // command buffer being recorded (binding 1 only).
        unsafe { d.update_descriptor_sets(&w, &[]) };
    };
    // Input 2 is written after binding when update-after-bind is on; 4 and 5 never are.
    const LATE: u32 = 2;
    write(0, 0, &output_info);
    for (b, info) in input_infos.iter().enumerate() {
        if !(uab && b as u32 == LATE) {
            write(1, b as u32, info);
        }
    }
    let layout = gpu.pipeline_layout(&layouts, &[])?;
    let pipeline = compute_pipeline(gpu, spirv::DESCRIPTOR_INDEXING_COMP, layout)?;
    gpu.run(|cb| {
        dispatch_for_host(d, cb, pipeline, layout, set, N / 64);
        if uab {
            write(1, LATE, &input_infos[LATE as usize]);
        }
    })?;
    let out = gpu.read(&output)?;
    for i in 0..N {
        let o = (i * 4) as usize;
        let v = u32::from_le_bytes([out[o], out[o + 1], out[o + 2], out[o + 3]]);
        let want = value((i * 7) % INPUTS, i % VALUES) + i;
        if v != want {
            return Err(format!("result[{i}] = {v:#x}, expected {want:#x}"));
        }
    }
    Ok(out)
}

/// A compute pipeline running `code`'s `main` with `layout`.
fn compute_pipeline(gpu: &Gpu, code: &[u32], layout: vk::PipelineLayout) -> Result<vk::Pipeline> {
    let module = gpu.shader(code)?;
    let info = [vk::ComputePipelineCreateInfo::default()
        .stage(
            vk::PipelineShaderStageCreateInfo::default()
                .stage(vk::ShaderStageFlags::COMPUTE)
                .module(module)
                .name(c"main"),
        )
        .layout(layout)];
    // SAFETY: valid device, module and layout (owned by `gpu`, which outlives the pipeline).
    unsafe {
        gpu.device
            .create_compute_pipelines(vk::PipelineCache::null(), &info, None)
    }
    .map(|p| p[0])
    .map_err(|(_, e)| format!("vkCreateComputePipelines: {e}"))
}

/// Records a compute dispatch of `groups` workgroups with `set` bound, then a barrier that makes
/// the shader's writes visible to host reads.
fn dispatch_for_host(
    d: &ash::Device,
    cb: vk::CommandBuffer,
    pipeline: vk::Pipeline,
    layout: vk::PipelineLayout,
    set: vk::DescriptorSet,
    groups: u32,
) {
    // SAFETY: `cb` is recording; the pipeline, layout and set are live objects of `d`.
    unsafe {
        d.cmd_bind_pipeline(cb, vk::PipelineBindPoint::COMPUTE, pipeline);
        d.cmd_bind_descriptor_sets(cb, vk::PipelineBindPoint::COMPUTE, layout, 0, &[set], &[]);
        d.cmd_dispatch(cb, groups, 1, 1);
        let to_host = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::SHADER_WRITE)
            .dst_access_mask(vk::AccessFlags::HOST_READ)];
        d.cmd_pipeline_barrier(
            cb,
            vk::PipelineStageFlags::COMPUTE_SHADER,
            vk::PipelineStageFlags::HOST,
            vk::DependencyFlags::empty(),
            &to_host,
            &[],
            &[],
        );
    }
}
