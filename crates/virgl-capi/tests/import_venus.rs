//! Issue 9 with a real Venus context: device memory allocated by the guest through the Venus
//! protocol (vkAllocateMemory of host-visible memory on lavapipe, which the Venus backend makes
//! exportable), handed out as a HOST3D blob, written through the blob's mapping the way a
//! guest writes a window image it mapped, then typed by a GL context with
//! PIPE_RESOURCE_SET_TYPE and scanned out with `resource_info` and `get_rect`.
//!
//! Needs lavapipe (`lvp_icd.json`) and GL_EXT_memory_object_fd (llvmpipe); without them the
//! test prints why and passes. The only test in its binary: it sets VK_DRIVER_FILES.
//!
//! Ignored for now: the Venus backend allocates host-visible device memory as its own memfd
//! imported into lavapipe with VK_EXT_external_memory_host, and hands that memfd out as the
//! blob. llvmpipe's glImportMemoryFdEXT only accepts memory fds Mesa allocated itself (lavapipe's
//! vkGetMemoryFdKHR), so the import fails — cleanly: PIPE_RESOURCE_SET_TYPE returns
//! ImportFailed ("glTexStorageMem2DEXT ... GL error 0x505") and only the GL context is marked
//! broken. The same path with driver-exported memory passes (tests/import_scanout.rs,
//! virgl-vrend tests/import_gl.rs). Run with `--ignored` once Venus exports driver memory for
//! blobs another context may import.

use virgl_capi::{capset, Renderer, RendererFlags};
use virgl_protocol::command::{Command, Encoder, PipeResourceSetType, Records};
use virgl_resource::{BlobFlags, BlobInfo, BlobMem};

const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";
const VK_CTX: u32 = 1;
const GL_CTX: u32 = 2;
const IMG: u32 = 5;
const W: u32 = 32;
const H: u32 = 16;
/// `VIRGL_FORMAT_B8G8R8A8_UNORM`.
const BGRA8: u32 = 1;

const INSTANCE: u64 = 0x100;
const PHYSICAL: u64 = 0x200;
const DEVICE: u64 = 0x300;
const MEMORY: u64 = 0x600;

/// A Venus command stream (every item 4-byte aligned, little endian), encoded by hand as Mesa's
/// venus driver encodes it.
#[derive(Default)]
struct Stream(Vec<u8>);

impl Stream {
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn f32(&mut self, v: f32) -> &mut Self {
        self.u32(v.to_bits())
    }
    /// Command header, no reply.
    fn cmd(&mut self, ty: u32) -> &mut Self {
        self.u32(ty).u32(0)
    }
    /// `pAllocator` (NULL) then an out handle `1, id`.
    fn alloc_and_out(&mut self, id: u64) -> &mut Self {
        self.u64(0).u64(1).u64(id)
    }
    fn dwords(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.0)
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

fn venus_device_memory(r: &mut Renderer, size: u64) {
    let mut s = Stream::default();
    // vkCreateInstance, vkEnumeratePhysicalDevices (one), vkCreateDevice (one queue).
    s.cmd(0).u64(1).u32(1).u64(0).u32(0).u64(0);
    s.u32(0).u64(0).u32(0).u64(0);
    s.alloc_and_out(INSTANCE);
    s.cmd(2).u64(INSTANCE).u64(1).u32(1).u64(1).u64(PHYSICAL);
    s.cmd(11).u64(PHYSICAL).u64(1).u32(3).u64(0).u32(0).u32(1);
    s.u64(1).u32(2).u64(0).u32(0).u32(0).u32(1).u64(1).f32(1.0);
    s.u32(0).u64(0).u32(0).u64(0).u64(0);
    s.alloc_and_out(DEVICE);
    // vkAllocateMemory {sType 5, pNext NULL, size, memoryTypeIndex 0 (host visible)}.
    s.cmd(21).u64(DEVICE).u64(1).u32(5).u64(0).u64(size).u32(0);
    s.alloc_and_out(MEMORY);
    r.submit_cmd(VK_CTX, &s.dwords())
        .expect("Venus: instance, device, memory");
}

fn bgra(x: u32, y: u32) -> [u8; 4] {
    [(x * 7) as u8, (y * 13) as u8, (255 - x * 3) as u8, 0xff]
}

#[test]
#[ignore = "Venus blobs are the backend's own memfds, which llvmpipe's GL import refuses"]
fn venus_device_memory_is_scanned_out_by_gl() {
    if !std::path::Path::new(LVP_ICD).exists() {
        eprintln!("skipped: {LVP_ICD} is not installed");
        return;
    }
    // The only test in this binary: the loader reads this when the Venus backend loads it.
    std::env::set_var("VK_DRIVER_FILES", LVP_ICD);
    let flags = RendererFlags::USE_EGL | RendererFlags::USE_SURFACELESS | RendererFlags::VENUS;
    let mut r = Renderer::builder(flags).build().unwrap();
    if !r
        .gl()
        .is_some_and(|gl| gl.host().has_extension("GL_EXT_memory_object_fd"))
    {
        eprintln!("skipped: host GL lacks GL_EXT_memory_object_fd");
        return;
    }
    r.create_context(VK_CTX, capset::VENUS, "venus").unwrap();
    r.create_context(GL_CTX, capset::VIRGL2, "gl").unwrap();
    // A guest sizes image memory from vkGetImageMemoryRequirements, which on lavapipe pads the
    // linear layout beyond width * height * 4 (and llvmpipe's import checks the same padding).
    let size = 64 * 1024;
    venus_device_memory(&mut r, size);
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE | BlobFlags::SHAREABLE,
        blob_id: MEMORY,
        size,
    };
    r.create_blob(VK_CTX, IMG, info, None).unwrap();

    // The guest maps the blob and writes its window image (rows tightly packed).
    let region = r.resources_mut().get_mut(IMG).unwrap().map().unwrap();
    assert!(region.len >= size);
    let image: Vec<u8> = (0..H)
        .flat_map(|y| (0..W).flat_map(move |x| bgra(x, y)))
        .collect();
    // SAFETY: the mapping is `region.len` bytes long and stays mapped until unmap below.
    unsafe { std::ptr::copy_nonoverlapping(image.as_ptr(), region.ptr, image.len()) };
    r.resources_mut().get_mut(IMG).unwrap().unmap().unwrap();

    // The GL side types the blob and scans it out.
    r.ctx_attach_resource(GL_CTX, IMG);
    let mut enc = Encoder::new();
    let planes = [W * 4, 0];
    enc.push(&Command::PipeResourceSetType(PipeResourceSetType {
        handle: IMG,
        format: BGRA8,
        bind: (1 << 3) | (1 << 18),
        width: W,
        height: H,
        usage: 0,
        modifier: 0,
        planes: Records::new(&planes),
    }))
    .unwrap();
    r.submit_cmd(GL_CTX, enc.as_slice()).unwrap();
    let info = r.resource_info(IMG).unwrap();
    assert_eq!(
        (info.format, info.width, info.height, info.stride),
        (BGRA8, W, H, W * 4)
    );
    let mut px = vec![0u8; image.len()];
    r.get_rect(IMG, (0, 0, W, H), &mut px, 0, W * 4).unwrap();
    assert!(
        px == image,
        "GL scans out other bytes than the Venus memory holds"
    );

    // Later writes by the Venus side show through the same import (it is the memory, not a
    // copy).
    let region = r.resources_mut().get_mut(IMG).unwrap().map().unwrap();
    // SAFETY: as above; one texel.
    unsafe { std::ptr::copy_nonoverlapping([1u8, 2, 3, 4].as_ptr(), region.ptr, 4) };
    r.resources_mut().get_mut(IMG).unwrap().unmap().unwrap();
    let mut first = vec![0u8; 4];
    r.get_rect(IMG, (0, 0, 1, 1), &mut first, 0, 4).unwrap();
    assert_eq!(first, [1, 2, 3, 4]);

    r.unref_resource(IMG);
    assert!(r.resource_info(IMG).is_err());
    assert!(r.context_is_usable(GL_CTX) && r.context_is_usable(VK_CTX));
}
