//! A Venus command stream encoded by hand the way Mesa's venus driver encodes it, for the
//! tests that feed the Venus runtime directly or through the C API / render server (included
//! with `#[path = ".../tests/support/venus_stream.rs"] mod venus_stream;`).
//!
//! Every item is little endian and 4-byte aligned; a command is its `VkCommandTypeEXT` and a
//! flags dword (0: no reply). Object ids are the guest's handles, chosen by the test. Only the
//! commands several tests use are here, each with the struct it encodes spelled out once;
//! tests add their own with the raw writers.
#![allow(dead_code)] // each test binary uses part of this module

/// A command stream under construction.
#[derive(Default)]
pub struct Stream(Vec<u8>);

impl Stream {
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn f32(&mut self, v: f32) -> &mut Self {
        self.u32(v.to_bits())
    }

    /// A string: its size with the NUL, then its bytes padded to 4.
    pub fn string(&mut self, v: &str) -> &mut Self {
        self.u64(v.len() as u64 + 1);
        self.0.extend_from_slice(v.as_bytes());
        self.0.push(0);
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
        self
    }

    /// Command header, no reply.
    pub fn cmd(&mut self, ty: u32) -> &mut Self {
        self.u32(ty).u32(0)
    }

    /// `pAllocator` (always NULL) then an out handle `1, id`.
    pub fn alloc_and_out(&mut self, id: u64) -> &mut Self {
        self.u64(0).u64(1).u64(id)
    }

    /// The bytes so far (the stream is empty again).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }

    /// The bytes so far as dwords, as `submit_cmd` takes them (the stream is empty again).
    pub fn dwords(&mut self) -> Vec<u32> {
        self.take()
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    /// vkCreateInstance: `VkInstanceCreateInfo {sType 1, pNext, flags, pApplicationInfo NULL,
    /// no layers, no extensions}`.
    pub fn create_instance(&mut self, instance: u64) -> &mut Self {
        self.cmd(0).u64(1).u32(1).u64(0).u32(0).u64(0);
        self.u32(0).u64(0).u32(0).u64(0);
        self.alloc_and_out(instance)
    }

    /// vkEnumeratePhysicalDevices(instance, count = 1, [physical]).
    pub fn enumerate_physical_device(&mut self, instance: u64, physical: u64) -> &mut Self {
        self.cmd(2).u64(instance).u64(1).u32(1).u64(1).u64(physical)
    }

    /// vkCreateDevice: `VkDeviceCreateInfo {sType 3, one VkDeviceQueueCreateInfo {sType 2,
    /// family 0, one queue, priority 1.0}, no layers, no extensions, no features}`.
    pub fn create_device(&mut self, physical: u64, device: u64) -> &mut Self {
        self.cmd(11)
            .u64(physical)
            .u64(1)
            .u32(3)
            .u64(0)
            .u32(0)
            .u32(1);
        self.u64(1)
            .u32(2)
            .u64(0)
            .u32(0)
            .u32(0)
            .u32(1)
            .u64(1)
            .f32(1.0);
        self.u32(0).u64(0).u32(0).u64(0).u64(0);
        self.alloc_and_out(device)
    }

    /// An instance, its first physical device and a device with one queue of family 0.
    pub fn instance_and_device(&mut self, instance: u64, physical: u64, device: u64) -> &mut Self {
        self.create_instance(instance)
            .enumerate_physical_device(instance, physical)
            .create_device(physical, device)
    }

    /// vkGetDeviceQueue(device, family 0, index 0, out queue).
    pub fn get_device_queue(&mut self, device: u64, queue: u64) -> &mut Self {
        self.cmd(17).u64(device).u32(0).u32(0).u64(1).u64(queue)
    }

    /// vkCreateCommandPool: `VkCommandPoolCreateInfo {sType 39, pNext, flags 0, family 0}`.
    pub fn create_command_pool(&mut self, device: u64, pool: u64) -> &mut Self {
        self.cmd(85).u64(device).u64(1).u32(39).u64(0).u32(0).u32(0);
        self.alloc_and_out(pool)
    }

    /// vkAllocateCommandBuffers: `VkCommandBufferAllocateInfo {sType 40, pNext, pool, level
    /// PRIMARY, count}` and the out array `ids`.
    pub fn allocate_command_buffers(&mut self, device: u64, pool: u64, ids: &[u64]) -> &mut Self {
        self.cmd(88)
            .u64(device)
            .u64(1)
            .u32(40)
            .u64(0)
            .u64(pool)
            .u32(0);
        self.u32(ids.len() as u32).u64(ids.len() as u64);
        for &id in ids {
            self.u64(id);
        }
        self
    }

    /// vkBeginCommandBuffer: `VkCommandBufferBeginInfo {sType 42, pNext, flags 0,
    /// pInheritanceInfo NULL}`.
    pub fn begin_command_buffer(&mut self, cmdbuf: u64) -> &mut Self {
        self.cmd(90).u64(cmdbuf).u64(1).u32(42).u64(0).u32(0).u64(0)
    }

    /// vkEndCommandBuffer.
    pub fn end_command_buffer(&mut self, cmdbuf: u64) -> &mut Self {
        self.cmd(91).u64(cmdbuf)
    }

    /// vkQueueSubmit(queue, 1, [VkSubmitInfo {sType 4, no waits, [cmdbuf], no signals}],
    /// VK_NULL_HANDLE).
    pub fn queue_submit(&mut self, queue: u64, cmdbuf: u64) -> &mut Self {
        self.cmd(18).u64(queue).u32(1).u64(1);
        self.u32(4).u64(0).u32(0).u64(0).u64(0);
        self.u32(1).u64(1).u64(cmdbuf);
        self.u32(0).u64(0);
        self.u64(0)
    }

    /// vkCreateBuffer: `VkBufferCreateInfo {sType 12, pNext, flags 0, size, usage, EXCLUSIVE, no
    /// queue families}`.
    pub fn create_buffer(&mut self, device: u64, buffer: u64, size: u64, usage: u32) -> &mut Self {
        self.cmd(50)
            .u64(device)
            .u64(1)
            .u32(12)
            .u64(0)
            .u32(0)
            .u64(size)
            .u32(usage);
        self.u32(0).u32(0).u64(0);
        self.alloc_and_out(buffer)
    }

    /// vkAllocateMemory: `VkMemoryAllocateInfo {sType 5, pNext, size, memory type}`.
    pub fn allocate_memory(&mut self, device: u64, memory: u64, size: u64, ty: u32) -> &mut Self {
        self.cmd(21)
            .u64(device)
            .u64(1)
            .u32(5)
            .u64(0)
            .u64(size)
            .u32(ty);
        self.alloc_and_out(memory)
    }

    /// vkBindBufferMemory(device, buffer, memory, offset).
    pub fn bind_buffer_memory(
        &mut self,
        device: u64,
        buffer: u64,
        memory: u64,
        offset: u64,
    ) -> &mut Self {
        self.cmd(28).u64(device).u64(buffer).u64(memory).u64(offset)
    }
    /// vkCreateImage of a 2D `width` x `height` image with one level, layer and sample,
    /// usage TRANSFER_SRC | TRANSFER_DST | SAMPLED, exclusive, UNDEFINED: `VkImageCreateInfo
    /// {sType 14, pNext -> VkExternalMemoryImageCreateInfo {sType 1000072001, DMA_BUF}, ...}`
    /// as Mesa's venus creates window images. `tiling`: 0 OPTIMAL, 1 LINEAR.
    pub fn create_image(
        &mut self,
        device: u64,
        image: u64,
        format: u32,
        (width, height): (u32, u32),
        tiling: u32,
    ) -> &mut Self {
        self.cmd(54).u64(device).u64(1).u32(14);
        self.u64(1).u32(1000072001).u64(0).u32(0x200);
        self.u32(0).u32(1).u32(format).u32(width).u32(height).u32(1);
        self.u32(1).u32(1).u32(1).u32(tiling).u32(7).u32(0);
        self.u32(0).u64(0).u32(0);
        self.alloc_and_out(image)
    }

    /// vkAllocateMemory {sType 5, pNext -> VkExportMemoryAllocateInfo {sType 1000072002,
    /// DMA_BUF}, size, memory type}: exportable memory as Mesa's venus asks for window images.
    pub fn allocate_exportable_memory(
        &mut self,
        device: u64,
        memory: u64,
        size: u64,
        ty: u32,
    ) -> &mut Self {
        self.cmd(21).u64(device).u64(1).u32(5);
        self.u64(1).u32(1000072002).u64(0).u32(0x200);
        self.u64(size).u32(ty);
        self.alloc_and_out(memory)
    }

    /// vkBindImageMemory(device, image, memory, offset).
    pub fn bind_image_memory(
        &mut self,
        device: u64,
        image: u64,
        memory: u64,
        offset: u64,
    ) -> &mut Self {
        self.cmd(29).u64(device).u64(image).u64(memory).u64(offset)
    }
}
