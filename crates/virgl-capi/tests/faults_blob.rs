//! Faults around mapped blobs (issue 12): a HOST3D blob of Venus device memory that the VMM has
//! mapped for the guest while the guest frees the memory, destroys its device and then its
//! whole context. The mapping stays valid and keeps the memory's bytes, the GL import of the
//! same memory still scans them out, and the resource can still be unmapped and unref'd. Then
//! the misuse cases get clean errors and nothing else changes: unmapping twice, mapping or
//! unmapping (also through the C ABI's lookup rules: unknown ids) a resource after its unref,
//! making a blob of memory the guest freed, transfers naming an unref'd resource.
//!
//! Unref while mapped releases the mapping (as upstream does): the VMM must unmap first, as
//! QEMU does before it unrefs a blob; the test only checks that the renderer forgets it.
//!
//! Runs with the Venus backend in-process and in a `virgl-render-server` worker (built on
//! demand), whose process ends with the context while the blob is mapped.
//!
//! Needs lavapipe (`lvp_icd.json`) and GL_EXT_memory_object_fd (llvmpipe); without them the tests
//! print why and pass. They set VK_DRIVER_FILES and RENDER_SERVER_EXEC_PATH once, before
//! loading Vulkan.

#[path = "../../../tests/support/venus_stream.rs"]
mod venus_stream;
#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use venus_stream::Stream;
use virgl_capi::{capset, Renderer, RendererFlags};
use virgl_protocol::command::{Command, Encoder, PipeResourceSetType, Records};
use virgl_resource::{
    BlobFlags, BlobInfo, BlobMem, ResourceError, TransferDirection, TransferRequest,
};

const VK_CTX: u32 = 1;
const GL_CTX: u32 = 2;
const BLOB: u32 = 5;
const W: u32 = 32;
const H: u32 = 16;
/// `VIRGL_FORMAT_B8G8R8A8_UNORM`.
const BGRA8: u32 = 1;
const SIZE: u64 = 64 * 1024;

const INSTANCE: u64 = 0x100;
const PHYSICAL: u64 = 0x200;
const DEVICE: u64 = 0x300;
const MEMORY: u64 = 0x600;

/// Instance, device (external memory extensions on) and SIZE bytes of exportable, host-visible
/// memory, as Mesa's venus allocates window-image memory.
fn venus_device_memory(r: &mut Renderer) {
    let mut s = Stream::default();
    s.create_instance(INSTANCE)
        .enumerate_physical_device(INSTANCE, PHYSICAL);
    // vkCreateDevice as the shared helper's, with the external memory extensions Mesa's venus
    // enables for its renderer handle type.
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
    s.u64(SIZE).u32(0);
    s.alloc_and_out(MEMORY);
    r.submit_cmd(VK_CTX, &s.dwords())
        .expect("Venus: instance, device, memory");
}

fn bgra(x: u32, y: u32, salt: u8) -> [u8; 4] {
    [
        (x * 7) as u8 ^ salt,
        (y * 13) as u8,
        (255 - x * 3) as u8,
        0xff,
    ]
}

fn image(salt: u8) -> Vec<u8> {
    (0..H)
        .flat_map(|y| (0..W).flat_map(move |x| bgra(x, y, salt)))
        .collect()
}

fn blob_info() -> BlobInfo {
    BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE | BlobFlags::SHAREABLE,
        blob_id: MEMORY,
        size: SIZE,
    }
}

/// What GL scans out of the blob (typed as a W x H BGRA8 image on first use).
fn scanout(r: &mut Renderer) -> Vec<u8> {
    let mut px = vec![0u8; (W * H * 4) as usize];
    r.get_rect(BLOB, (0, 0, W, H), &mut px, 0, W * 4)
        .expect("get_rect of the blob");
    px
}

fn set_type(r: &mut Renderer) {
    r.ctx_attach_resource(GL_CTX, BLOB);
    let mut enc = Encoder::new();
    let planes = [W * 4, 0];
    enc.push(&Command::PipeResourceSetType(PipeResourceSetType {
        handle: BLOB,
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
}

#[test]
fn mapped_blob_outlives_the_guest_memory_and_misuse_errors_cleanly() {
    mapped_blob_faults(RendererFlags::empty());
}

/// The same with the Venus context in a `virgl-render-server` worker: the proxy maps the
/// worker's OPAQUE_FD itself, and the worker ends with the context while the blob is mapped.
#[test]
fn mapped_blob_outlives_the_render_server_worker() {
    mapped_blob_faults(RendererFlags::RENDER_SERVER);
}

fn mapped_blob_faults(extra: RendererFlags) {
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
    venus_device_memory(&mut r);
    r.create_blob(VK_CTX, BLOB, blob_info(), None).unwrap();
    let fd_type = r
        .resources()
        .get(BLOB)
        .unwrap()
        .backing()
        .unwrap()
        .fd_type();
    eprintln!("Venus blob exported as {fd_type:?}");

    // The VMM maps the blob for the guest, which writes its image.
    let first = image(0);
    let region = r.resources_mut().get_mut(BLOB).unwrap().map().unwrap();
    assert!(region.len >= SIZE);
    // SAFETY: the mapping is `region.len` bytes long; it stays mapped until the unmap below
    // (what this test checks is that nothing the guest does in between unmaps it).
    let mapped = unsafe { std::slice::from_raw_parts_mut(region.ptr, region.len as usize) };
    mapped[..first.len()].copy_from_slice(&first);
    set_type(&mut r);
    assert!(scanout(&mut r) == first, "GL does not see the mapped bytes");

    // Mapping again while mapped gives the same region.
    let again = r.resources_mut().get_mut(BLOB).unwrap().map().unwrap();
    assert_eq!(again, region);

    // The guest frees the memory, destroys its device, then its context goes: the blob's
    // mapping and the GL import hold their own references.
    let mut s = Stream::default();
    s.cmd(22).u64(DEVICE).u64(MEMORY).u64(0); // vkFreeMemory
    r.submit_cmd(VK_CTX, &s.dwords()).expect("vkFreeMemory");
    assert!(
        mapped[..first.len()] == first[..],
        "the mapping lost the bytes when the guest freed the memory"
    );
    // A blob of memory the guest freed is refused, and the context stays usable.
    let err = r
        .create_blob(VK_CTX, BLOB + 1, blob_info(), None)
        .expect_err("a blob of freed memory");
    eprintln!("blob of freed memory: {err}");
    assert!(r.resources().get(BLOB + 1).is_none());
    assert!(r.context_is_usable(VK_CTX));
    let mut s = Stream::default();
    s.cmd(12).u64(DEVICE).u64(0); // vkDestroyDevice
    s.cmd(1).u64(INSTANCE).u64(0); // vkDestroyInstance
    r.submit_cmd(VK_CTX, &s.dwords())
        .expect("destroy device, instance");
    r.destroy_context(VK_CTX);
    assert!(!r.has_context(VK_CTX));

    // The VMM still writes through its mapping (the guest's view of the blob), and GL still
    // scans out the same memory.
    let second = image(0x5a);
    mapped[..second.len()].copy_from_slice(&second);
    assert!(
        scanout(&mut r) == second,
        "GL lost the memory with the guest's context"
    );
    assert!(r.context_is_usable(GL_CTX));

    // Unmap once, unmap twice: the second is refused.
    r.resources_mut().get_mut(BLOB).unwrap().unmap().unwrap();
    assert!(matches!(
        r.resources_mut().get_mut(BLOB).unwrap().unmap(),
        Err(ResourceError::NotMapped(BLOB))
    ));
    // Mapped again after the unmap: the bytes are still there.
    let region = r.resources_mut().get_mut(BLOB).unwrap().map().unwrap();
    // SAFETY: mapped just above, `region.len` bytes, unmapped below.
    let remapped = unsafe { std::slice::from_raw_parts(region.ptr, second.len()) };
    assert!(remapped == second, "the bytes changed across unmap/map");

    // Unref while mapped: the renderer forgets the resource, and everything naming it
    // afterwards is an error, not a use of freed memory.
    r.unref_resource(BLOB);
    assert!(r.resources().get(BLOB).is_none());
    assert!(
        r.resources_mut().get_mut(BLOB).is_none(),
        "map/unmap target"
    );
    assert!(r.resource_info(BLOB).is_err());
    let mut px = vec![0u8; 4];
    assert!(r.get_rect(BLOB, (0, 0, 1, 1), &mut px, 0, 4).is_err());
    let request = TransferRequest {
        res_id: BLOB,
        width: 1,
        height: 1,
        depth: 1,
        ..Default::default()
    };
    assert!(r
        .transfer(GL_CTX, &request, TransferDirection::FromHost, None)
        .is_err());
    assert!(r
        .transfer(0, &request, TransferDirection::ToHost, None)
        .is_err());
    r.unref_resource(BLOB); // twice: ignored, as upstream

    // The GL context is untouched by all of it: it still renders.
    assert!(r.context_is_usable(GL_CTX));
    let mut enc = Encoder::new();
    enc.push(&Command::Nop(&[])).unwrap();
    r.submit_cmd(GL_CTX, enc.as_slice())
        .expect("the GL context still takes commands");
}
