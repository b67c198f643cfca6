//! Issue 9 through the renderer façade: memory imported with `import_blob` (what QEMU does for
//! a Venus image under Xen: `virgl_renderer_resource_import_blob` with an opaque fd), typed by
//! a GL context's PIPE_RESOURCE_SET_TYPE, is scanned out by `resource_info` and `get_rect` with
//! the right size, format and bytes; unref frees it completely (fds and mappings at baseline),
//! and an unknown id stays a clean error.

#[path = "../../virgl-vrend/tests/import_vk/mod.rs"]
#[allow(dead_code)]
mod import_vk;

use import_vk::{memfd_mappings, open_fds, ExportedImage};
use virgl_capi::{capset, Renderer, RendererError, RendererFlags};
use virgl_protocol::command::{Command, Encoder, PipeResourceSetType, Records};
use virgl_resource::{BlobMem, FdType, ResourceError};

const W: u32 = 48;
const H: u32 = 16;
const GL_CTX: u32 = 1;
const IMG: u32 = 7;
/// `VIRGL_FORMAT_B8G8R8A8_UNORM`.
const BGRA8: u32 = 1;
const SAMPLER_VIEW_SCANOUT: u32 = (1 << 3) | (1 << 18);

fn bgra(x: u32, y: u32) -> [u8; 4] {
    [(x * 5) as u8, (y * 15) as u8, (250 - x * 5) as u8, 0xff]
}

fn set_type(res_id: u32, row_pitch: u32) -> Vec<u32> {
    let mut enc = Encoder::new();
    let planes = [row_pitch, 0];
    enc.push(&Command::PipeResourceSetType(PipeResourceSetType {
        handle: res_id,
        format: BGRA8,
        bind: SAMPLER_VIEW_SCANOUT,
        width: W,
        height: H,
        usage: 0,
        modifier: 0,
        planes: Records::new(&planes),
    }))
    .unwrap();
    enc.as_slice().to_vec()
}

fn renderer() -> Renderer {
    let mut r = Renderer::builder(RendererFlags::USE_EGL | RendererFlags::USE_SURFACELESS)
        .build()
        .unwrap();
    r.create_context(GL_CTX, capset::VIRGL2, "import-scanout")
        .unwrap();
    r
}

/// Imports, types and scans the image out once; returns the texture name it had.
fn scan_out(r: &mut Renderer, img: &ExportedImage) -> u32 {
    r.import_blob(
        IMG,
        BlobMem::Host3d,
        FdType::Opaque,
        img.export_fd(),
        img.size,
    )
    .unwrap();
    r.ctx_attach_resource(GL_CTX, IMG);
    r.submit_cmd(GL_CTX, &set_type(IMG, img.row_pitch as u32))
        .unwrap();
    let info = r.resource_info(IMG).unwrap();
    assert_eq!(
        (
            info.format,
            info.width,
            info.height,
            info.depth,
            info.stride
        ),
        (BGRA8, W, H, 1, W * 4)
    );
    assert_eq!(info.drm_fourcc, i32::from_le_bytes(*b"AR24"));
    assert_ne!(info.tex_id, 0);
    let mut px = vec![0u8; (W * H * 4) as usize];
    r.get_rect(IMG, (0, 0, W, H), &mut px, 0, W * 4).unwrap();
    let want: Vec<u8> = (0..H)
        .flat_map(|y| (0..W).flat_map(move |x| bgra(x, y)))
        .collect();
    assert!(px == want, "get_rect bytes differ from the image's memory");
    // A sub-rectangle into a wider destination.
    let mut sub = vec![0u8; 64 * 2];
    r.get_rect(IMG, (3, 5, 4, 2), &mut sub, 0, 64).unwrap();
    for (row, y) in (5..7).enumerate() {
        let want: Vec<u8> = (3..7).flat_map(|x| bgra(x, y)).collect();
        assert_eq!(&sub[row * 64..row * 64 + 16], &want[..]);
    }
    info.tex_id
}

#[test]
fn imported_venus_image_scans_out_and_unref_frees_it() {
    let Some(img) = ExportedImage::new(W, H, bgra) else {
        eprintln!("skipped: no Vulkan device exporting opaque fds");
        return;
    };
    let mut r = renderer();
    if !r
        .gl()
        .is_some_and(|gl| gl.host().has_extension("GL_EXT_memory_object_fd"))
    {
        eprintln!("skipped: host GL lacks GL_EXT_memory_object_fd");
        return;
    }
    scan_out(&mut r, &img);
    r.unref_resource(IMG);
    let (fds, maps) = (open_fds(), memfd_mappings());
    for _ in 0..10 {
        scan_out(&mut r, &img);
        r.unref_resource(IMG);
        assert!(matches!(
            r.resource_info(IMG),
            Err(RendererError::Resource(ResourceError::UnknownId(IMG)))
        ));
    }
    assert_eq!(open_fds(), fds, "fds leaked");
    assert_eq!(memfd_mappings(), maps, "imported memory still mapped");
    // The GL context is still usable after the source went away.
    assert!(r.context_is_usable(GL_CTX));

    // Typing an unknown id (attaching it is ignored, as upstream does) breaks only the context
    // that sent it. In this test rather than its own: a parallel test would move the fd count.
    r.create_context(2, capset::VIRGL2, "other").unwrap();
    r.ctx_attach_resource(2, 99);
    assert!(r.submit_cmd(2, &set_type(99, W * 4)).is_err());
    assert!(!r.context_is_usable(2));
    assert!(r.context_is_usable(GL_CTX));
    assert!(r.resource_info(99).is_err());
}
