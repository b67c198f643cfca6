//! Issue 9 with a real Venus context: device memory allocated by the guest through the Venus
//! protocol as Mesa's venus driver allocates a window image or shareable memory (vkAllocateMemory
//! of host-visible memory with VkExportMemoryAllocateInfo naming the renderer's handle type,
//! dma-buf, on a device with VK_KHR_external_memory_fd and VK_EXT_external_memory_dma_buf),
//! handed out as a HOST3D blob, written through the blob's mapping the way a guest writes a
//! window image it mapped, then typed by a GL context with PIPE_RESOURCE_SET_TYPE and scanned
//! out with `resource_info` and `get_rect`.
//!
//! On lavapipe without /dev/udmabuf the dma-buf allocation fails and the backend falls back to
//! OPAQUE_FD (what llvmpipe's glImportMemoryFdEXT takes); the blob's guest mapping then comes
//! from the backend's own Vulkan import of that fd (virgl-venus `mapper`).
//!
//! Needs lavapipe (`lvp_icd.json`) and GL_EXT_memory_object_fd (llvmpipe); without them the
//! test prints why and passes. Runs twice: with the Venus backend in-process and in a
//! `virgl-render-server` worker (built on demand). Its tests set VK_DRIVER_FILES and
//! RENDER_SERVER_EXEC_PATH once, before loading Vulkan.

#[path = "../../../tests/support/venus_stream.rs"]
mod venus_stream;
#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use venus_stream::Stream;

use virgl_capi::{capset, Renderer, RendererFlags};
use virgl_protocol::command::{Command, Encoder, PipeResourceSetType, Records};
use virgl_resource::{BlobFlags, BlobInfo, BlobMem, FdType};

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

fn venus_device_memory(r: &mut Renderer, size: u64) {
    let mut s = Stream::default();
    // vkCreateInstance, vkEnumeratePhysicalDevices (one), vkCreateDevice (one queue).
    s.cmd(0).u64(1).u32(1).u64(0).u32(0).u64(0);
    s.u32(0).u64(0).u32(0).u64(0);
    s.alloc_and_out(INSTANCE);
    s.cmd(2).u64(INSTANCE).u64(1).u32(1).u64(1).u64(PHYSICAL);
    // The device enables the external memory extensions Mesa's venus enables for its
    // renderer handle type.
    s.cmd(11).u64(PHYSICAL).u64(1).u32(3).u64(0).u32(0).u32(1);
    s.u64(1).u32(2).u64(0).u32(0).u32(0).u32(1).u64(1).f32(1.0);
    s.u32(0).u64(0).u32(2).u64(2);
    s.string("VK_KHR_external_memory_fd");
    s.string("VK_EXT_external_memory_dma_buf");
    s.u64(0);
    s.alloc_and_out(DEVICE);
    // vkAllocateMemory {sType 5, pNext -> VkExportMemoryAllocateInfo {sType 1000072002,
    // handleTypes DMA_BUF_EXT}, size, memoryTypeIndex 0 (host visible)}.
    s.cmd(21).u64(DEVICE).u64(1).u32(5);
    s.u64(1).u32(1000072002).u64(0).u32(0x200);
    s.u64(size).u32(0);
    s.alloc_and_out(MEMORY);
    r.submit_cmd(VK_CTX, &s.dwords())
        .expect("Venus: instance, device, memory");
}

fn bgra(x: u32, y: u32) -> [u8; 4] {
    [(x * 7) as u8, (y * 13) as u8, (255 - x * 3) as u8, 0xff]
}

#[test]
fn venus_device_memory_is_scanned_out_by_gl() {
    scanned_out_by_gl(RendererFlags::empty());
}

/// The same with the Venus context in a `virgl-render-server` worker: the blob's fd crosses a
/// process boundary, and the proxy maps the OPAQUE_FD for the guest itself.
#[test]
fn venus_device_memory_is_scanned_out_by_gl_through_the_render_server() {
    scanned_out_by_gl(RendererFlags::RENDER_SERVER);
}

fn scanned_out_by_gl(extra: RendererFlags) {
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
    let fd_type = r.resources().get(IMG).unwrap().backing().unwrap().fd_type();
    assert!(
        matches!(fd_type, Some(FdType::Opaque | FdType::Dmabuf)),
        "exportable memory is the driver's, not a memfd of ours: {fd_type:?}"
    );
    eprintln!("Venus blob exported as {fd_type:?}");

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
