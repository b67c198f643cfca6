//! Issue 9 without PIPE_RESOURCE_SET_TYPE: a Venus context renders a BGRA pattern into a LINEAR
//! image bound to exportable device memory (in Mesa's venus order: vkAllocateMemory, the
//! memory's blob, then vkBindImageMemory), and a GL context of the same renderer that was
//! never told the image's size or format imports it on attach — in-process from what the
//! Venus backend recorded at the bind, through the render server from the worker's
//! GET_RESOURCE — then blits it into an RGBA render target (red and blue swapped) and scans it
//! out (`resource_info`, `get_rect`). Also vkGetMemoryResourcePropertiesMESA on attached
//! resources.
//!
//! Needs lavapipe (`lvp_icd.json`) and, for the GL half, GL_EXT_memory_object_fd (llvmpipe);
//! without them the tests print why and pass. Its tests set VK_DRIVER_FILES and
//! RENDER_SERVER_EXEC_PATH once, before loading Vulkan.

#[path = "../../../tests/support/venus_stream.rs"]
mod venus_stream;
#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use std::time::{Duration, Instant};

use venus_stream::Stream;
use virgl_capi::{capset, ExternalImport, Renderer, RendererFlags};
use virgl_protocol::command::{Blit, BlitSurface, Box3, Command, Encoder, Scissor};
use virgl_resource::{BlobFlags, BlobInfo, BlobMem, FdType, ResourceCreateArgs, SharedMemory};

const GL_CTX: u32 = 2;
const IMG: u32 = 5;
const RT: u32 = 6;
const W: u32 = 32;
const H: u32 = 16;
/// `VIRGL_FORMAT_B8G8R8A8_UNORM`, `VIRGL_FORMAT_R8G8B8A8_UNORM`.
const BGRA8: u32 = 1;
const RGBA8: u32 = 67;
/// `VK_ERROR_INVALID_EXTERNAL_HANDLE`.
const INVALID_EXTERNAL_HANDLE: i32 = -1000072003;

const INSTANCE: u64 = 0x100;
const PHYSICAL: u64 = 0x200;
const DEVICE: u64 = 0x300;
const QUEUE: u64 = 0x400;
const IMAGE: u64 = 0x500;
const MEMORY: u64 = 0x600;
const STAGING: u64 = 0x700;
const STAGING_MEMORY: u64 = 0x800;
const POOL: u64 = 0x900;
const CB: u64 = 0xa00;
const MEMORY_SIZE: u64 = 64 * 1024;

/// The guest's window image: BGRA bytes, a different colour per texel.
fn bgra(x: u32, y: u32) -> [u8; 4] {
    [(x * 7) as u8, (y * 13) as u8, (255 - x * 3) as u8, 0xff]
}

fn pattern() -> Vec<u8> {
    (0..H)
        .flat_map(|y| (0..W).flat_map(move |x| bgra(x, y)))
        .collect()
}

/// Commands of these tests on top of the shared stream helpers.
trait ImageStream {
    fn create_linear_image(&mut self) -> &mut Self;
    fn allocate_exportable(&mut self, memory: u64, size: u64) -> &mut Self;
    fn bind_image(&mut self, image: u64, memory: u64) -> &mut Self;
    fn upload_pattern(&mut self) -> &mut Self;
    fn memory_resource_properties(&mut self, res_id: u32, size_link: bool) -> &mut Self;
}

impl ImageStream for Stream {
    /// The window image: LINEAR B8G8R8A8_UNORM (44), W x H.
    fn create_linear_image(&mut self) -> &mut Self {
        self.create_image(DEVICE, IMAGE, 44, (W, H), 1)
    }

    fn allocate_exportable(&mut self, memory: u64, size: u64) -> &mut Self {
        self.allocate_exportable_memory(DEVICE, memory, size, 0)
    }

    fn bind_image(&mut self, image: u64, memory: u64) -> &mut Self {
        self.bind_image_memory(DEVICE, image, memory, 0)
    }

    /// Writes the pattern into a staging buffer (vkCmdUpdateBuffer), moves the image to
    /// GENERAL and copies the buffer into it, then waits for the queue.
    fn upload_pattern(&mut self) -> &mut Self {
        let bytes = pattern();
        self.create_buffer(DEVICE, STAGING, bytes.len() as u64, 1 | 2)
            .allocate_memory(DEVICE, STAGING_MEMORY, 4096, 0)
            .bind_buffer_memory(DEVICE, STAGING, STAGING_MEMORY, 0)
            .get_device_queue(DEVICE, QUEUE)
            .create_command_pool(DEVICE, POOL)
            .allocate_command_buffers(DEVICE, POOL, &[CB])
            .begin_command_buffer(CB);
        // vkCmdUpdateBuffer(cb, staging, 0, size, data).
        self.cmd(117)
            .u64(CB)
            .u64(STAGING)
            .u64(0)
            .u64(bytes.len() as u64);
        self.u64(bytes.len() as u64);
        for word in bytes.chunks_exact(4) {
            self.u32(u32::from_le_bytes(word.try_into().unwrap()));
        }
        // vkCmdPipelineBarrier(TRANSFER -> TRANSFER): the buffer write before the copy reads
        // it; the image UNDEFINED -> GENERAL.
        self.cmd(126).u64(CB).u32(0x1000).u32(0x1000).u32(0);
        self.u32(0).u64(0);
        self.u32(1).u64(1);
        self.u32(44).u64(0).u32(0x1000).u32(0x800);
        self.u32(!0)
            .u32(!0)
            .u64(STAGING)
            .u64(0)
            .u64(bytes.len() as u64);
        self.u32(1).u64(1);
        self.u32(45).u64(0).u32(0).u32(0x1000).u32(0).u32(1);
        self.u32(!0)
            .u32(!0)
            .u64(IMAGE)
            .u32(1)
            .u32(0)
            .u32(1)
            .u32(0)
            .u32(1);
        // vkCmdCopyBufferToImage(cb, staging, image, GENERAL, one region: the whole image,
        // rows tightly packed).
        self.cmd(115)
            .u64(CB)
            .u64(STAGING)
            .u64(IMAGE)
            .u32(1)
            .u32(1)
            .u64(1);
        self.u64(0).u32(0).u32(0);
        self.u32(1).u32(0).u32(0).u32(1);
        self.u32(0).u32(0).u32(0).u32(W).u32(H).u32(1);
        self.end_command_buffer(CB).queue_submit(QUEUE, CB);
        // vkQueueWaitIdle.
        self.cmd(19).u64(QUEUE)
    }

    /// vkGetMemoryResourcePropertiesMESA (192, with a reply): `device, resourceId,
    /// VkMemoryResourcePropertiesMESA {sType 1000384001, pNext -> (optionally)
    /// VkMemoryResourceAllocationSizePropertiesMESA {sType 1000384003}}`.
    fn memory_resource_properties(&mut self, res_id: u32, size_link: bool) -> &mut Self {
        self.u32(192).u32(1).u64(DEVICE).u32(res_id);
        self.u64(1).u32(1000384001);
        if size_link {
            self.u64(1).u32(1000384003);
        }
        self.u64(0)
    }
}

/// Reads one vkGetMemoryResourcePropertiesMESA reply: (result, memoryTypeBits, allocation
/// size if asked).
fn read_properties(reply: &[u8], at: &mut usize, size_link: bool) -> (i32, u32, Option<u64>) {
    let mut take = |n: usize| {
        let v = &reply[*at..*at + n];
        *at += n;
        v.to_vec()
    };
    let u32_of = |b: Vec<u8>| u32::from_le_bytes(b.try_into().unwrap());
    let u64_of = |b: Vec<u8>| u64::from_le_bytes(b.try_into().unwrap());
    assert_eq!(u32_of(take(4)), 192, "reply command type");
    let result = u32_of(take(4)) as i32;
    assert_eq!(u64_of(take(8)), 1, "pMemoryResourceProperties present");
    assert_eq!(u32_of(take(4)), 1000384001);
    if size_link {
        assert_eq!(u64_of(take(8)), 1);
        assert_eq!(u32_of(take(4)), 1000384003);
    }
    assert_eq!(u64_of(take(8)), 0, "end of the chain");
    let size = size_link.then(|| u64_of(take(8)));
    let bits = u32_of(take(4));
    (result, bits, size)
}

#[test]
fn memory_resource_properties_of_attached_resources() {
    if !workspace::lavapipe_and_render_server() {
        return;
    }
    const VK_CTX: u32 = 1;
    const REPLY: u32 = 10;
    const SHM: u32 = 11;
    const BLOB: u32 = 12;
    let flags = RendererFlags::VENUS | RendererFlags::NO_VIRGL;
    let mut r = Renderer::builder(flags).build().unwrap();
    r.create_context(VK_CTX, capset::VENUS, "venus").unwrap();
    // Shared-memory resources as a VMM hands them over (guest VRAM): one for replies, one to
    // ask about.
    let mut shm = |res_id: u32| {
        let mem = SharedMemory::new("guest-vram", 1 << 20).unwrap();
        let fd = mem.try_clone_fd().unwrap();
        r.import_blob(res_id, BlobMem::GuestVram, FdType::Shm, fd, 1 << 20)
            .unwrap();
        r.ctx_attach_resource(VK_CTX, res_id);
        mem
    };
    let reply = shm(REPLY);
    let _asked = shm(SHM);

    let mut s = Stream::default();
    s.instance_and_device(INSTANCE, PHYSICAL, DEVICE)
        .allocate_exportable(MEMORY, MEMORY_SIZE);
    r.submit_cmd(VK_CTX, &s.dwords()).unwrap();
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::SHAREABLE,
        blob_id: MEMORY,
        size: MEMORY_SIZE,
    };
    r.create_blob(VK_CTX, BLOB, info, None).unwrap();
    let blob_type = r
        .resources()
        .get(BLOB)
        .unwrap()
        .backing()
        .unwrap()
        .fd_type();

    // vkSetReplyCommandStreamMESA(REPLY, 0, 64 KiB), then the queries.
    s.cmd(178).u64(1).u32(REPLY).u64(0).u64(65536);
    s.memory_resource_properties(SHM, true)
        .memory_resource_properties(SHM, false)
        .memory_resource_properties(BLOB, true)
        .memory_resource_properties(99, true);
    r.submit_cmd(VK_CTX, &s.dwords()).unwrap();
    let mut bytes = vec![0u8; 4096];
    reply.read_at(0, &mut bytes).unwrap();
    let mut at = 0;

    let (result, bits, size) = read_properties(&bytes, &mut at, true);
    assert_eq!(result, 0, "shared memory imports as host memory");
    assert_ne!(bits, 0);
    assert_eq!(size, Some(1 << 20));
    let (result, bits_again, _) = read_properties(&bytes, &mut at, false);
    assert_eq!((result, bits_again), (0, bits));

    // The exportable memory's blob: its own memory type (0) for an OPAQUE_FD, what the
    // driver says for a dma-buf; the allocation size an import must name.
    let (result, bits, size) = read_properties(&bytes, &mut at, true);
    assert_eq!(result, 0, "{blob_type:?} blob");
    if blob_type == Some(FdType::Opaque) {
        assert_eq!(
            bits, 1,
            "OPAQUE_FD imports only as the exporter's memory type"
        );
    } else {
        assert_ne!(bits, 0);
    }
    assert_eq!(size, Some(MEMORY_SIZE));

    // Unknown resource: a Vulkan error, the context carries on.
    let (result, bits, _) = read_properties(&bytes, &mut at, true);
    assert_eq!((result, bits), (INVALID_EXTERNAL_HANDLE, 0));
    assert!(r.context_is_usable(VK_CTX));

    // A chain link the command does not take is a malformed stream.
    s.u32(192)
        .u32(1)
        .u64(DEVICE)
        .u32(SHM)
        .u64(1)
        .u32(1000384001);
    s.u64(1).u32(1000072002).u64(0);
    assert!(r.submit_cmd(VK_CTX, &s.dwords()).is_err());
}

#[test]
fn venus_image_is_used_by_gl_without_set_type() {
    venus_image_for_gl(RendererFlags::empty(), 3);
}

/// The same with the Venus context in a `virgl-render-server` worker: the GL side learns the
/// image from GET_RESOURCE. Ends with the worker killed: imports of its resources fail cleanly.
#[test]
fn venus_image_is_used_by_gl_without_set_type_through_the_render_server() {
    venus_image_for_gl(RendererFlags::RENDER_SERVER, 43);
}

fn venus_image_for_gl(extra: RendererFlags, vk_ctx: u32) {
    if !workspace::lavapipe_and_render_server() {
        return;
    }
    let flags =
        RendererFlags::USE_EGL | RendererFlags::USE_SURFACELESS | RendererFlags::VENUS | extra;
    let mut r = Renderer::builder(flags).build().unwrap();
    if !r
        .gl()
        .is_some_and(|gl| gl.host().has_extension("GL_EXT_memory_object_fd"))
    {
        eprintln!("skipped: host GL lacks GL_EXT_memory_object_fd");
        return;
    }
    r.create_context(vk_ctx, capset::VENUS, "venus").unwrap();
    r.create_context(GL_CTX, capset::VIRGL2, "gl").unwrap();

    // Mesa's order: the image, its exportable memory and the memory's blob, then the bind.
    let mut s = Stream::default();
    s.instance_and_device(INSTANCE, PHYSICAL, DEVICE)
        .create_linear_image()
        .allocate_exportable(MEMORY, MEMORY_SIZE);
    r.submit_cmd(vk_ctx, &s.dwords())
        .expect("Venus: device, image, memory");
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE | BlobFlags::SHAREABLE,
        blob_id: MEMORY,
        size: MEMORY_SIZE,
    };
    r.create_blob(vk_ctx, IMG, info, None).unwrap();
    s.bind_image(IMAGE, MEMORY).upload_pattern();
    r.submit_cmd(vk_ctx, &s.dwords())
        .expect("Venus: bind, upload the pattern");

    // The GL side never sends PIPE_RESOURCE_SET_TYPE: attaching imports the image.
    r.ctx_attach_resource(GL_CTX, IMG);
    assert_eq!(r.import_external_image(IMG).unwrap(), ExternalImport::Done);
    let info = r.resource_info(IMG).expect("imported on attach");
    assert_eq!((info.format, info.width, info.height), (BGRA8, W, H));
    assert_eq!(info.stride, W * 4);
    assert_ne!(info.tex_id, 0);
    let want = pattern();
    // A render worker runs streams asynchronously; GET_RESOURCE came after it on the same
    // socket, but the queue's writes may still be landing in the memory GL reads.
    let mut px = vec![0u8; want.len()];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        r.get_rect(IMG, (0, 0, W, H), &mut px, 0, W * 4).unwrap();
        if px == want || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        px == want,
        "get_rect: other bytes than the Venus image holds"
    );

    // A GL blit from the image into an RGBA render target: the colours, red and blue swapped
    // relative to the BGRA bytes.
    r.create_resource(ResourceCreateArgs {
        handle: RT,
        target: 2,
        format: RGBA8,
        bind: (1 << 1) | (1 << 3),
        width: W,
        height: H,
        depth: 1,
        array_size: 1,
        last_level: 0,
        nr_samples: 0,
        flags: 0,
    })
    .unwrap();
    r.ctx_attach_resource(GL_CTX, RT);
    let bx = Box3 {
        x: 0,
        y: 0,
        z: 0,
        width: W,
        height: H,
        depth: 1,
    };
    let mut enc = Encoder::new();
    enc.push(&Command::Blit(Blit {
        mask: 0xf,
        filter: 0,
        scissor_enable: false,
        render_condition_enable: false,
        alpha_blend: false,
        scissor: Scissor::default(),
        dst: BlitSurface {
            handle: RT,
            level: 0,
            format: RGBA8,
            bx,
        },
        src: BlitSurface {
            handle: IMG,
            level: 0,
            format: BGRA8,
            bx,
        },
    }))
    .unwrap();
    r.submit_cmd(GL_CTX, enc.as_slice()).unwrap();
    let mut rgba = vec![0u8; want.len()];
    r.get_rect(RT, (0, 0, W, H), &mut rgba, 0, W * 4).unwrap();
    let expected: Vec<u8> = want
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0], p[3]])
        .collect();
    assert!(
        rgba == expected,
        "the GL blit of the Venus image has other colours"
    );

    // Unknown ids are errors; resources that are not external memory need no import.
    assert!(r.import_external_image(999).is_err());
    assert_eq!(
        r.import_external_image(RT).unwrap(),
        ExternalImport::Done,
        "GL's own resource"
    );

    if extra.contains(RendererFlags::RENDER_SERVER) {
        // A second image's memory, then the worker dies before GL asks about it.
        const IMG2: u32 = 7;
        s.allocate_exportable(MEMORY + 1, MEMORY_SIZE);
        r.submit_cmd(vk_ctx, &s.dwords()).unwrap();
        let info = BlobInfo {
            blob_mem: BlobMem::Host3d,
            blob_flags: BlobFlags::SHAREABLE,
            blob_id: MEMORY + 1,
            size: MEMORY_SIZE,
        };
        r.create_blob(vk_ctx, IMG2, info, None).unwrap();
        // Nothing bound yet: no image to import, and no error.
        assert_eq!(
            r.import_external_image(IMG2).unwrap(),
            ExternalImport::NotYet
        );
        kill(worker_pid(vk_ctx));
        assert!(
            r.import_external_image(IMG2).is_err(),
            "GET_RESOURCE of a dead worker"
        );
        r.ctx_attach_resource(GL_CTX, IMG2);
        assert!(r.resource_info(IMG2).is_err());
        // The GL side and what it imported before carry on.
        r.get_rect(IMG, (0, 0, W, H), &mut px, 0, W * 4).unwrap();
        assert!(px == want);
        assert!(r.context_is_usable(GL_CTX));
        r.unref_resource(IMG2);
    }
    r.unref_resource(IMG);
    assert!(r.resource_info(IMG).is_err());
    r.unref_resource(RT);
}

#[test]
fn image_bound_before_the_blob_goes_with_it() {
    bound_before_the_blob(RendererFlags::empty());
}

#[test]
fn image_bound_before_the_blob_is_described_by_get_resource() {
    bound_before_the_blob(RendererFlags::RENDER_SERVER);
}

/// The other order (bind, then blob): the blob carries the image from the start, in the
/// resource table (in-process) or in the worker's GET_RESOURCE reply.
fn bound_before_the_blob(extra: RendererFlags) {
    if !workspace::lavapipe_and_render_server() {
        return;
    }
    const VK_CTX: u32 = 8;
    let flags = RendererFlags::VENUS | RendererFlags::NO_VIRGL | extra;
    let mut r = Renderer::builder(flags).build().unwrap();
    r.create_context(VK_CTX, capset::VENUS, "venus").unwrap();
    let mut s = Stream::default();
    s.instance_and_device(INSTANCE, PHYSICAL, DEVICE)
        .create_linear_image()
        .allocate_exportable(MEMORY, MEMORY_SIZE)
        .bind_image(IMAGE, MEMORY);
    r.submit_cmd(VK_CTX, &s.dwords()).unwrap();
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::SHAREABLE,
        blob_id: MEMORY,
        size: MEMORY_SIZE,
    };
    r.create_blob(VK_CTX, IMG, info, None).unwrap();
    if extra.contains(RendererFlags::RENDER_SERVER) {
        let remote = r.render_server_get_resource(IMG).unwrap();
        assert_eq!((remote.width, remote.height, remote.format), (W, H, BGRA8));
        assert!(remote.stride >= W * 4, "row pitch {}", remote.stride);
        assert!(matches!(remote.fd_type, FdType::Opaque | FdType::Dmabuf));
        assert!(r.render_server_get_resource(999).is_err());
    } else {
        let image = r.resources().get(IMG).unwrap().image.expect("described");
        assert_eq!((image.width, image.height, image.format), (W, H, BGRA8));
        assert!(image.stride >= W * 4, "row pitch {}", image.stride);
        assert_eq!((image.offset, image.modifier), (0, 0), "LINEAR at offset 0");
    }
    assert!(r.context_is_usable(VK_CTX));
}

/// The worker process serving context `ctx_id` (named `vkr-<ctx_id>-...` by its server).
fn worker_pid(ctx_id: u32) -> u32 {
    let prefix = format!("vkr-{ctx_id}-");
    let start = Instant::now();
    loop {
        let servers = workspace::children_of(std::process::id());
        let worker = servers
            .iter()
            .flat_map(|&(server, _)| workspace::children_of(server))
            .find(|(_, comm)| comm.starts_with(&prefix));
        if let Some((pid, _)) = worker {
            return pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no worker {prefix}*"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
