//! Cross-context import (issue 9) on lavapipe + llvmpipe: a BGRA window image in exportable
//! Vulkan memory, put in the resource table as a Venus context's blob (opaque fd with Vulkan
//! info), typed by a GL context with PIPE_RESOURCE_SET_TYPE, sampled by a draw into a GL
//! render target (red and blue swapped back), read for scanout (`resource_info`, `get_rect`);
//! then unknown ids, non-importable memory and a destroyed source fail cleanly without leaking
//! fds.

mod import_harness;
mod import_vk;

use glow::HasContext;
use import_harness::*;

#[test]
fn venus_bgra_image_is_sampled_and_scanned_out_by_gl() {
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        eprintln!("skipped: host GL lacks GL_EXT_memory_object_fd");
        return;
    }
    insert_venus_blob(&mut gl.table, &img, IMG);
    gl.attach(IMG);
    let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[img.row_pitch as u32, 0]);
    gl.ctx.submit_cmd(&mut gl.table, &st).unwrap();
    assert!(gl.table.has_import::<GlImport>(IMG));
    // Typing it again is a no-op (upstream returns success for typed resources).
    gl.ctx.submit_cmd(&mut gl.table, &st).unwrap();

    gl.draw_sampled(IMG, vf::B8G8R8A8_UNORM);
    same(&gl.rt_pixels(), &expected(rgba), "sampled BGRA import");

    let info = gl.backend.resource_info(IMG).unwrap();
    assert_eq!(
        (info.virgl_format, info.width, info.height, info.stride),
        (vf::B8G8R8A8_UNORM, W, H, W * 4)
    );
    assert_ne!(info.tex_id, 0);
    let mut scanout = vec![0u8; (W * H * 4) as usize];
    gl.backend
        .get_rect(IMG, (0, 0, W, H), &mut scanout, 0, W * 4)
        .unwrap();
    same(
        &scanout,
        &expected(bgra),
        "get_rect returns the memory's BGRA bytes",
    );
    // The embedder samples `tex_id` with its own shaders: it is a view of the imported texture
    // whose swizzle swaps red and blue back, of the image's size (the root context is current
    // after get_rect).
    let provider = EglProvider::new(&EglOptions::default()).unwrap();
    // SAFETY: loading GL entry points through EGL; used on the current (root) context only.
    let glc = unsafe { glow::Context::from_loader_function_cstr(|n| provider.get_proc_address(n)) };
    // SAFETY: queries on the current context about a texture name the backend handed out; the
    // binding is restored.
    let (swizzle, width, height) = unsafe {
        let tex = glow::NativeTexture(std::num::NonZeroU32::new(info.tex_id).unwrap());
        glc.bind_texture(glow::TEXTURE_2D, Some(tex));
        let swizzle = [
            glow::TEXTURE_SWIZZLE_R,
            glow::TEXTURE_SWIZZLE_G,
            glow::TEXTURE_SWIZZLE_B,
            glow::TEXTURE_SWIZZLE_A,
        ]
        .map(|p| glc.get_tex_parameter_i32(glow::TEXTURE_2D, p) as u32);
        let w = glc.get_tex_level_parameter_i32(glow::TEXTURE_2D, 0, glow::TEXTURE_WIDTH);
        let h = glc.get_tex_level_parameter_i32(glow::TEXTURE_2D, 0, glow::TEXTURE_HEIGHT);
        glc.bind_texture(glow::TEXTURE_2D, None);
        (swizzle, w as u32, h as u32)
    };
    assert_eq!(swizzle, [glow::BLUE, glow::GREEN, glow::RED, glow::ALPHA]);
    assert_eq!((width, height), (W, H));
}

#[test]
fn blit_into_an_imported_bgra_image() {
    use virgl_protocol::command::{Blit, BlitSurface, Box3, Scissor};
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        return;
    }
    insert_venus_blob(&mut gl.table, &img, IMG);
    gl.attach(IMG);
    let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[img.row_pitch as u32, 0]);
    gl.ctx.submit_cmd(&mut gl.table, &st).unwrap();
    // The render target gets the image's colours (RGBA), then its left half is blitted into
    // the image's right half: the memory must hold BGRA bytes again.
    gl.draw_sampled(IMG, vf::B8G8R8A8_UNORM);
    let bx = |x| Box3 {
        x,
        y: 0,
        z: 0,
        width: W / 2,
        height: H,
        depth: 1,
    };
    gl.push(Command::Blit(Blit {
        mask: 0xf,
        filter: 0,
        scissor_enable: false,
        render_condition_enable: false,
        alpha_blend: false,
        scissor: Scissor::default(),
        dst: BlitSurface {
            handle: IMG,
            level: 0,
            format: vf::B8G8R8A8_UNORM,
            bx: bx(W / 2),
        },
        src: BlitSurface {
            handle: RT,
            level: 0,
            format: vf::R8G8B8A8_UNORM,
            bx: bx(0),
        },
    }));
    gl.flush().unwrap();
    let mut memory = vec![0u8; (W * H * 4) as usize];
    gl.backend
        .get_rect(IMG, (0, 0, W, H), &mut memory, 0, W * 4)
        .unwrap();
    let want: Vec<u8> = (0..H)
        .flat_map(|y| (0..W).flat_map(move |x| bgra(if x < W / 2 { x } else { x - W / 2 }, y)))
        .collect();
    same(&memory, &want, "blit into an imported BGRA image");
}

#[test]
fn srgb_view_of_an_imported_image_is_not_decoded() {
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        return;
    }
    insert_venus_blob(&mut gl.table, &img, IMG);
    gl.attach(IMG);
    let st = set_type(IMG, vf::B8G8R8A8_SRGB, &[img.row_pitch as u32, 0]);
    gl.ctx.submit_cmd(&mut gl.table, &st).unwrap();
    gl.draw_sampled(IMG, vf::B8G8R8A8_SRGB);
    same(&gl.rt_pixels(), &expected(rgba), "sRGB view");
}

#[test]
fn unknown_and_unimportable_resources_are_clean_errors() {
    let mut gl = Gl::new();
    // Attached by id but never created.
    gl.attach(99);
    let err = gl
        .ctx
        .submit_cmd(
            &mut gl.table,
            &set_type(99, vf::B8G8R8A8_UNORM, &[W * 4, 0]),
        )
        .unwrap_err();
    assert!(
        matches!(err, ContextError::Resource(ResourceError::UnknownId(99))),
        "{err}"
    );

    // Guest memory (a shm blob) is not another context's image.
    let mut gl = Gl::new();
    let shm = SharedMemory::new("guest-blob", u64::from(W * H * 4)).unwrap();
    let info = BlobInfo {
        blob_mem: BlobMem::Guest,
        blob_flags: BlobFlags::MAPPABLE,
        blob_id: 0,
        size: u64::from(W * H * 4),
    };
    gl.table
        .insert(Resource::blob(11, info, Backing::Shm(shm)).unwrap())
        .unwrap();
    gl.attach(11);
    let err = gl
        .ctx
        .submit_cmd(
            &mut gl.table,
            &set_type(11, vf::B8G8R8A8_UNORM, &[W * 4, 0]),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            ContextError::Resource(ResourceError::NotImportable(11, _))
        ),
        "{err}"
    );

    // Not attached to the context.
    let mut gl = Gl::new();
    let err = gl
        .ctx
        .submit_cmd(
            &mut gl.table,
            &set_type(12, vf::B8G8R8A8_UNORM, &[W * 4, 0]),
        )
        .unwrap_err();
    assert!(matches!(err, ContextError::InvalidCommand(_)), "{err}");

    // Two planes: multi-planar imports are refused explicitly.
    let mut gl = Gl::new();
    gl.attach(13);
    let err = gl
        .ctx
        .submit_cmd(
            &mut gl.table,
            &set_type(13, vf::B8G8R8A8_UNORM, &[W * 4, 0, W * 4, W * H * 4]),
        )
        .unwrap_err();
    assert!(matches!(err, ContextError::Unsupported(_)), "{err}");
}

#[test]
fn oversized_description_is_refused_before_gl_sees_it() {
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        return;
    }
    insert_venus_blob(&mut gl.table, &img, IMG);
    gl.attach(IMG);
    // An offset that puts the image past the end of the memory.
    let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[W * 4, img.size as u32]);
    let err = gl.ctx.submit_cmd(&mut gl.table, &st).unwrap_err();
    assert!(
        matches!(
            err,
            ContextError::Resource(ResourceError::ImportFailed { .. })
        ),
        "{err}"
    );
    assert!(!gl.table.has_import::<GlImport>(IMG));
    // The refused description is not kept: another context may type it correctly.
    let mut ctx = gl
        .backend
        .create_context(3, virgl_protocol::caps::CAPSET_VIRGL2, "second")
        .unwrap();
    ctx.attach_resource(&mut gl.table, IMG);
    let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[img.row_pitch as u32, 0]);
    ctx.submit_cmd(&mut gl.table, &st).unwrap();
    assert!(gl.table.has_import::<GlImport>(IMG));
}

#[test]
fn image_description_imports_without_set_type() {
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        return;
    }
    insert_venus_blob(&mut gl.table, &img, IMG);
    // What a render server's GET_RESOURCE would say about the memory.
    let desc = ImageDesc {
        width: W,
        height: H,
        format: vf::B8G8R8A8_UNORM,
        stride: img.row_pitch as u32,
        offset: 0,
        modifier: 0,
    };
    gl.backend.import_image(&mut gl.table, IMG, &desc).unwrap();
    let info = gl.backend.resource_info(IMG).unwrap();
    assert_eq!(
        (info.virgl_format, info.width, info.height),
        (vf::B8G8R8A8_UNORM, W, H)
    );
    let mut scanout = vec![0u8; (W * H * 4) as usize];
    gl.backend
        .get_rect(IMG, (0, 0, W, H), &mut scanout, 0, W * 4)
        .unwrap();
    same(&scanout, &expected(bgra), "get_rect after import_image");
    // The guest's SET_TYPE of the already imported resource is a no-op; sampling works.
    gl.attach(IMG);
    let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[img.row_pitch as u32, 0]);
    gl.ctx.submit_cmd(&mut gl.table, &st).unwrap();
    gl.draw_sampled(IMG, vf::B8G8R8A8_UNORM);
    same(
        &gl.rt_pixels(),
        &expected(rgba),
        "sampled after import_image",
    );

    assert!(gl.backend.import_image(&mut gl.table, 77, &desc).is_err());
}

#[test]
fn guest_description_must_match_the_known_image() {
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        return;
    }
    insert_venus_blob(&mut gl.table, &img, IMG);
    gl.table.get_mut(IMG).unwrap().image = Some(ImageDesc {
        width: W / 2,
        height: H,
        format: vf::B8G8R8A8_UNORM,
        ..ImageDesc::default()
    });
    gl.attach(IMG);
    let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[img.row_pitch as u32, 0]);
    let err = gl.ctx.submit_cmd(&mut gl.table, &st).unwrap_err();
    assert!(matches!(err, ContextError::InvalidCommand(_)), "{err}");
    assert!(!gl.table.has_import::<GlImport>(IMG));
    assert!(gl.backend.resource_info(IMG).is_none());
}

#[test]
fn blit_from_an_imported_bgra_image() {
    use virgl_protocol::command::{Blit, BlitSurface, Box3, Scissor};
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        return;
    }
    insert_venus_blob(&mut gl.table, &img, IMG);
    gl.attach(IMG);
    let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[img.row_pitch as u32, 0]);
    gl.ctx.submit_cmd(&mut gl.table, &st).unwrap();
    let bx = Box3 {
        x: 0,
        y: 0,
        z: 0,
        width: W,
        height: H,
        depth: 1,
    };
    gl.push(Command::Blit(Blit {
        mask: 0xf,
        filter: 0,
        scissor_enable: false,
        render_condition_enable: false,
        alpha_blend: false,
        scissor: Scissor::default(),
        dst: BlitSurface {
            handle: RT,
            level: 0,
            format: vf::R8G8B8A8_UNORM,
            bx,
        },
        src: BlitSurface {
            handle: IMG,
            level: 0,
            format: vf::B8G8R8A8_UNORM,
            bx,
        },
    }));
    same(
        &gl.rt_pixels(),
        &expected(rgba),
        "blit of an imported BGRA image",
    );
}
