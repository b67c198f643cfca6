//! A destroyed import source: its GL texture, memory object and every fd go with it (rounds of
//! import, type, scan out, destroy leave the process's open fds where they were), and typing the
//! id again is a clean error. Alone in its test binary: other tests' threads open fds too.

mod import_harness;
mod import_vk;

use import_harness::*;

#[test]
fn destroyed_source_leaves_no_import_and_no_fd() {
    let Some(img) = image() else { return };
    let mut gl = Gl::new();
    if !gl.backend.host().has_extension("GL_EXT_memory_object_fd") {
        return;
    }
    // Warm up once (GL and Vulkan open their own fds lazily), then count.
    let round = |gl: &mut Gl, ctx_id: u32| {
        insert_venus_blob(&mut gl.table, &img, IMG);
        let mut ctx = gl
            .backend
            .create_context(ctx_id, virgl_protocol::caps::CAPSET_VIRGL2, "import-round")
            .unwrap();
        gl.table.attach(ctx_id, IMG).unwrap();
        ctx.attach_resource(&mut gl.table, IMG);
        let st = set_type(IMG, vf::B8G8R8A8_UNORM, &[img.row_pitch as u32, 0]);
        ctx.submit_cmd(&mut gl.table, &st).unwrap();
        let mut px = vec![0u8; (W * H * 4) as usize];
        gl.backend
            .get_rect(IMG, (0, 0, W, H), &mut px, 0, W * 4)
            .unwrap();
        same(&px, &expected(bgra), "get_rect");
        // What virgl-capi's unref_resource does.
        ctx.detach_resource(&mut gl.table, IMG);
        gl.backend.destroy_resource(IMG);
        gl.table.remove(IMG);
        gl.backend.release_dropped_imports();
        drop(ctx);
        assert!(gl.backend.resource_info(IMG).is_none());
        assert!(gl
            .backend
            .get_rect(IMG, (0, 0, W, H), &mut px, 0, W * 4)
            .is_err());
    };
    round(&mut gl, 5);
    let baseline = open_fds();
    let mapped = memfd_mappings();
    for i in 0..20 {
        round(&mut gl, 6 + i);
    }
    assert_eq!(open_fds(), baseline, "fds leaked by import rounds");
    assert_eq!(
        memfd_mappings(),
        mapped,
        "imported memory still mapped by GL"
    );

    // A context typing the destroyed id gets a clean error.
    gl.attach(IMG);
    let err = gl
        .ctx
        .submit_cmd(
            &mut gl.table,
            &set_type(IMG, vf::B8G8R8A8_UNORM, &[W * 4, 0]),
        )
        .unwrap_err();
    assert!(
        matches!(err, ContextError::Resource(ResourceError::UnknownId(IMG))),
        "{err}"
    );
}
