//! Issue 9, Xen mode: the hypervisor cannot map host memory into the guest, so the renderer
//! runs with `VIRGL_RENDERER_USE_GUEST_VRAM`, the Venus capset says `use_guest_vram`, and the
//! guest backs its device memory with guest-VRAM blobs the VMM hands over
//! (`virgl_renderer_resource_import_blob`, here memfds) and imports them with
//! VkImportMemoryResourceInfoMESA. The stream is encoded by hand as Mesa's venus encodes it;
//! the Venus side fills one imported buffer and copies the other into it, and both directions
//! are checked through the VRAM bytes themselves.
//!
//! Needs lavapipe (`lvp_icd.json`, which has VK_EXT_external_memory_host); without it the test
//! prints why and passes. The guest-VRAM test runs in-process and through `virgl-render-server`
//! (built on demand). Its tests set VK_DRIVER_FILES and RENDER_SERVER_EXEC_PATH once, before
//! loading Vulkan.

#[path = "../../../tests/support/venus_stream.rs"]
mod venus_stream;
#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use venus_stream::Stream;

use virgl_capi::{capset, Renderer, RendererFlags};
use virgl_resource::{BlobMem, FdType, SharedMemory};

const VK_CTX: u32 = 1;
const VRAM_A: u32 = 7;
const VRAM_B: u32 = 8;
const VRAM_SIZE: u64 = 64 * 1024;

const INSTANCE: u64 = 0x100;
const PHYSICAL: u64 = 0x200;
const DEVICE: u64 = 0x300;
const QUEUE: u64 = 0x380;
const POOL: u64 = 0x400;
const CB: u64 = 0x401;
const BUF_A: u64 = 0x500;
const BUF_B: u64 = 0x501;
const MEM_A: u64 = 0x600;
const MEM_B: u64 = 0x601;

/// Commands only these tests use, on the shared encoder.
impl Stream {
    /// vkCreateInstance, vkEnumeratePhysicalDevices (one), vkCreateDevice (one queue),
    /// vkGetDeviceQueue.
    fn device(&mut self) -> &mut Self {
        self.cmd(0).u64(1).u32(1).u64(0).u32(0).u64(0);
        self.u32(0).u64(0).u32(0).u64(0);
        self.alloc_and_out(INSTANCE);
        self.cmd(2).u64(INSTANCE).u64(1).u32(1).u64(1).u64(PHYSICAL);
        self.cmd(11)
            .u64(PHYSICAL)
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
        self.alloc_and_out(DEVICE);
        self.cmd(17).u64(DEVICE).u32(0).u32(0).u64(1).u64(QUEUE)
    }

    /// vkAllocateMemory {sType 5, pNext -> VkImportMemoryResourceInfoMESA {sType 1000384002,
    /// resourceId}, size, memoryTypeIndex 0}: what Mesa's venus sends for guest VRAM.
    fn import_memory(&mut self, id: u64, res_id: u32, size: u64) -> &mut Self {
        self.cmd(21).u64(DEVICE).u64(1).u32(5);
        self.u64(1).u32(1000384002).u64(0).u32(res_id);
        self.u64(size).u32(0);
        self.alloc_and_out(id)
    }

    /// vkCreateBuffer (TRANSFER_SRC | TRANSFER_DST, exclusive) then vkBindBufferMemory.
    fn buffer_on(&mut self, id: u64, size: u64, memory: u64) -> &mut Self {
        self.cmd(50)
            .u64(DEVICE)
            .u64(1)
            .u32(12)
            .u64(0)
            .u32(0)
            .u64(size)
            .u32(3);
        self.u32(0).u32(0).u64(0);
        self.alloc_and_out(id);
        self.cmd(28).u64(DEVICE).u64(id).u64(memory).u64(0)
    }

    /// A command pool, one primary command buffer, begun.
    fn begin(&mut self) -> &mut Self {
        self.cmd(85).u64(DEVICE).u64(1).u32(39).u64(0).u32(0).u32(0);
        self.alloc_and_out(POOL);
        self.cmd(88)
            .u64(DEVICE)
            .u64(1)
            .u32(40)
            .u64(0)
            .u64(POOL)
            .u32(0);
        self.u32(1).u64(1).u64(CB);
        self.cmd(90).u64(CB).u64(1).u32(42).u64(0).u32(0).u64(0)
    }

    /// vkEndCommandBuffer, vkQueueSubmit (one VkSubmitInfo, no semaphores, no fence),
    /// vkQueueWaitIdle.
    fn submit_and_wait(&mut self) -> &mut Self {
        self.cmd(91).u64(CB);
        self.cmd(18).u64(QUEUE).u32(1).u64(1);
        self.u32(4).u64(0).u32(0).u64(0).u64(0);
        self.u32(1).u64(1).u64(CB);
        self.u32(0).u64(0);
        self.u64(0);
        self.cmd(19).u64(QUEUE)
    }
}

fn renderer(extra: RendererFlags) -> Renderer {
    let flags =
        RendererFlags::VENUS | RendererFlags::NO_VIRGL | RendererFlags::USE_GUEST_VRAM | extra;
    Renderer::builder(flags).build().unwrap()
}

/// What the VMM does for a guest-VRAM blob: hands the renderer an fd of its VRAM region.
fn guest_vram(r: &mut Renderer, res_id: u32) -> SharedMemory {
    let vram = SharedMemory::new("guest-vram", VRAM_SIZE).unwrap();
    r.import_blob(
        res_id,
        BlobMem::GuestVram,
        FdType::Shm,
        vram.try_clone_fd().unwrap(),
        VRAM_SIZE,
    )
    .unwrap();
    r.ctx_attach_resource(VK_CTX, res_id);
    vram
}

#[test]
fn venus_uses_guest_vram_blobs_as_device_memory() {
    guest_vram_fill_and_copy(RendererFlags::empty());
}

/// The same with the Venus context in a `virgl-render-server` worker (the VRAM fds travel to
/// it with IMPORT_RESOURCE).
#[test]
fn venus_uses_guest_vram_blobs_through_the_render_server() {
    guest_vram_fill_and_copy(RendererFlags::RENDER_SERVER);
}

fn guest_vram_fill_and_copy(extra: RendererFlags) {
    if !workspace::lavapipe_and_render_server() {
        return;
    }
    let mut r = renderer(extra);
    let caps = r.fill_caps(capset::VENUS, 0).unwrap();
    let word = |i: usize| u32::from_le_bytes(caps[i * 4..i * 4 + 4].try_into().unwrap());
    assert_eq!(word(39), 1, "capset use_guest_vram");

    r.create_context(VK_CTX, capset::VENUS, "venus").unwrap();
    let vram_a = guest_vram(&mut r, VRAM_A);
    let mut vram_b = guest_vram(&mut r, VRAM_B);
    // The guest wrote B through its VRAM mapping before the GPU reads it.
    let pattern: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    vram_b.write_at(0, &pattern).unwrap();

    let mut s = Stream::default();
    s.device();
    s.import_memory(MEM_A, VRAM_A, 8192);
    s.import_memory(MEM_B, VRAM_B, 4096);
    s.buffer_on(BUF_A, 8192, MEM_A);
    s.buffer_on(BUF_B, 4096, MEM_B);
    s.begin();
    // vkCmdFillBuffer(A, 0, 4096, 0xc0ffee11); vkCmdCopyBuffer(B -> A at 4096, 4096 bytes).
    s.cmd(118)
        .u64(CB)
        .u64(BUF_A)
        .u64(0)
        .u64(4096)
        .u32(0xc0ff_ee11);
    s.cmd(112).u64(CB).u64(BUF_B).u64(BUF_A).u32(1).u64(1);
    s.u64(0).u64(4096).u64(4096);
    s.submit_and_wait();
    r.submit_cmd(VK_CTX, &s.dwords())
        .expect("Venus: import guest VRAM, fill, copy");
    assert!(r.context_is_usable(VK_CTX));

    // The GPU's writes are in the guest's VRAM, and what it read was the guest's bytes. A
    // render-server worker runs the stream asynchronously: wait for the bytes to land.
    let mut out = vec![0u8; 8192];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        vram_a.read_at(0, &mut out).unwrap();
        if out[4096..] == pattern[..] || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        out[..4096]
            .chunks_exact(4)
            .all(|c| c == 0xc0ff_ee11u32.to_le_bytes()),
        "vkCmdFillBuffer did not land in guest VRAM"
    );
    assert!(
        out[4096..] == pattern[..],
        "vkCmdCopyBuffer did not read guest VRAM"
    );

    if extra.contains(RendererFlags::RENDER_SERVER) {
        // Errors of a worker's stream show up later, asynchronously: checked in-process.
        return;
    }
    // Memory larger than the resource is refused (VK_ERROR_INVALID_EXTERNAL_HANDLE: no memory
    // object, so binding it is an unknown-object error), without touching the context's
    // other objects.
    s.import_memory(0x602, VRAM_B, VRAM_SIZE + 4096);
    r.submit_cmd(VK_CTX, &s.dwords())
        .expect("a refused import is a Vulkan result");
    s.cmd(28).u64(DEVICE).u64(BUF_B).u64(0x602).u64(0);
    assert!(r.submit_cmd(VK_CTX, &s.dwords()).is_err());

    // Freeing the memory and the resource in the guest's order leaves nothing behind.
    drop(r);
    let mut out = [0u8; 4];
    vram_a.read_at(0, &mut out).unwrap();
    assert_eq!(out, 0xc0ff_ee11u32.to_le_bytes(), "VRAM stays the VMM's");
}

#[test]
fn importing_a_resource_not_attached_is_a_guest_error() {
    if !workspace::lavapipe_and_render_server() {
        return;
    }
    let mut r = renderer(RendererFlags::empty());
    r.create_context(VK_CTX, capset::VENUS, "venus").unwrap();
    let vram = SharedMemory::new("guest-vram", VRAM_SIZE).unwrap();
    r.import_blob(
        VRAM_A,
        BlobMem::GuestVram,
        FdType::Shm,
        vram.try_clone_fd().unwrap(),
        VRAM_SIZE,
    )
    .unwrap();
    // Never attached to the Venus context.
    let mut s = Stream::default();
    s.device();
    r.submit_cmd(VK_CTX, &s.dwords()).unwrap();
    s.import_memory(MEM_A, VRAM_A, 4096);
    assert!(r.submit_cmd(VK_CTX, &s.dwords()).is_err());
    assert!(!r.context_is_usable(VK_CTX));
}

/// The fd path of VkImportMemoryResourceInfoMESA: a blob of exportable memory of one Venus
/// context (OPAQUE_FD on lavapipe) attached to another, which imports it, fills it on its
/// queue, and the exporter's blob mapping shows the bytes.
#[test]
fn opaque_blob_of_one_venus_context_is_imported_by_another() {
    use virgl_resource::{BlobFlags, BlobInfo};
    const EXPORTER: u32 = 2;
    const BLOB: u32 = 9;
    if !workspace::lavapipe_and_render_server() {
        return;
    }
    let mut r = Renderer::builder(RendererFlags::VENUS | RendererFlags::NO_VIRGL)
        .build()
        .unwrap();
    r.create_context(EXPORTER, capset::VENUS, "exporter")
        .unwrap();
    r.create_context(VK_CTX, capset::VENUS, "importer").unwrap();
    let mut s = Stream::default();
    s.device();
    // vkAllocateMemory with VkExportMemoryAllocateInfo {sType 1000072002, OPAQUE_FD}.
    s.cmd(21).u64(DEVICE).u64(1).u32(5);
    s.u64(1).u32(1000072002).u64(0).u32(1);
    s.u64(8192).u32(0);
    s.alloc_and_out(MEM_A);
    r.submit_cmd(EXPORTER, &s.dwords()).unwrap();
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE | BlobFlags::SHAREABLE,
        blob_id: MEM_A,
        size: 8192,
    };
    r.create_blob(EXPORTER, BLOB, info, None).unwrap();
    let res = r.resources().get(BLOB).unwrap();
    assert_eq!(res.backing().unwrap().fd_type(), Some(FdType::Opaque));
    let vk_info = res
        .backing()
        .and_then(|b| b.fd_memory())
        .and_then(|m| m.vulkan_info().copied())
        .expect("OPAQUE blob carries its Vulkan info");
    assert_eq!(
        (vk_info.allocation_size, vk_info.memory_type_index),
        (8192, 0)
    );
    let region = r.resources_mut().get_mut(BLOB).unwrap().map().unwrap();
    assert!(region.len >= 8192);
    // SAFETY: the mapping is at least 8192 bytes and stays until unmap below.
    unsafe { std::ptr::write_bytes(region.ptr, 0x5a, 8192) };

    r.ctx_attach_resource(VK_CTX, BLOB);
    s.device();
    s.import_memory(MEM_B, BLOB, 8192);
    s.buffer_on(BUF_B, 4096, MEM_B);
    s.begin();
    s.cmd(118)
        .u64(CB)
        .u64(BUF_B)
        .u64(0)
        .u64(4096)
        .u32(0x0102_0304);
    s.submit_and_wait();
    r.submit_cmd(VK_CTX, &s.dwords())
        .expect("Venus: import another context's blob, fill");
    let mut bytes = vec![0u8; 8192];
    // SAFETY: as above; read while the blob is mapped.
    unsafe { std::ptr::copy_nonoverlapping(region.ptr, bytes.as_mut_ptr(), 8192) };
    assert!(bytes[..4096]
        .chunks_exact(4)
        .all(|c| c == 0x0102_0304u32.to_le_bytes()));
    assert!(
        bytes[4096..].iter().all(|&b| b == 0x5a),
        "bytes past the fill kept"
    );
    r.resources_mut().get_mut(BLOB).unwrap().unmap().unwrap();

    // The exporter frees its memory: the blob (and the importer's memory) stay valid.
    s.cmd(22).u64(DEVICE).u64(MEM_A).u64(0);
    r.submit_cmd(EXPORTER, &s.dwords()).unwrap();
    let region = r.resources_mut().get_mut(BLOB).unwrap().map().unwrap();
    let mut first = [0u8; 4];
    // SAFETY: as above.
    unsafe { std::ptr::copy_nonoverlapping(region.ptr, first.as_mut_ptr(), 4) };
    assert_eq!(first, 0x0102_0304u32.to_le_bytes());
    r.resources_mut().get_mut(BLOB).unwrap().unmap().unwrap();
    r.unref_resource(BLOB);
    assert!(r.context_is_usable(VK_CTX) && r.context_is_usable(EXPORTER));
}
