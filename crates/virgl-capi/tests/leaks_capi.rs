//! Leaks through the C ABI: 10,000 contexts and resources created, used and destroyed the way
//! QEMU does it (`virgl_renderer_init(USE_EGL | USE_SURFACELESS)`, callbacks v1 with only
//! `write_fence`), after which open fds and RSS are back at their baseline and every resource
//! is gone from the renderer (`virgl_renderer_resource_get_info` refuses each id).
//!
//! The exports are called as a C embedder calls them, through `extern "C"` declarations that
//! the linker resolves to this crate's `#[no_mangle]` functions.

use std::ffi::{c_int, c_void};
use std::time::Instant;

use virgl_capi::ffi::types::{
    virgl_renderer_callbacks, virgl_renderer_resource_create_args, virgl_renderer_resource_info,
};

// Link this crate's exports into the test binary.
extern crate virgl_capi;

extern "C" {
    fn virgl_renderer_init(
        cookie: *mut c_void,
        flags: c_int,
        cb: *mut virgl_renderer_callbacks,
    ) -> c_int;
    fn virgl_renderer_cleanup(cookie: *mut c_void);
    fn virgl_renderer_context_create(handle: u32, nlen: u32, name: *const u8) -> c_int;
    fn virgl_renderer_context_destroy(handle: u32);
    fn virgl_renderer_resource_create(
        args: *mut virgl_renderer_resource_create_args,
        iov: *mut libc::iovec,
        num_iovs: u32,
    ) -> c_int;
    fn virgl_renderer_resource_unref(res_handle: u32);
    fn virgl_renderer_ctx_attach_resource(ctx_id: c_int, res_handle: c_int);
    fn virgl_renderer_ctx_detach_resource(ctx_id: c_int, res_handle: c_int);
    fn virgl_renderer_submit_cmd(buffer: *mut c_void, ctx_id: c_int, ndw: c_int) -> c_int;
    fn virgl_renderer_resource_get_info(
        res_handle: c_int,
        info: *mut virgl_renderer_resource_info,
    ) -> c_int;
    fn virgl_renderer_create_fence(client_fence_id: c_int, ctx_id: u32) -> c_int;
    fn virgl_renderer_poll();
}

const USE_EGL: c_int = 1;
const USE_SURFACELESS: c_int = 1 << 3;
const ITERATIONS: u32 = 10_000;
/// RSS may grow by this much over the loop (allocator caches, Mesa's shader/state caches).
const RSS_TOLERANCE_KIB: u64 = 8 * 1024;

static FENCES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

unsafe extern "C" fn write_fence(_cookie: *mut c_void, fence: u32) {
    FENCES.store(fence, std::sync::atomic::Ordering::SeqCst);
}

pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One QEMU-like round: context, resource, attach, a clear through the command stream, fence,
/// detach, unref, destroy.
fn round(i: u32) {
    let ctx = 1 + i % 64;
    let res = 1 + i;
    let name = b"leak";
    let mut args = virgl_renderer_resource_create_args {
        handle: res,
        target: 2,   // PIPE_TEXTURE_2D
        format: 67,  // VIRGL_FORMAT_R8G8B8A8_UNORM
        bind: 2 | 8, // RENDER_TARGET | SAMPLER_VIEW
        width: 64,
        height: 64,
        depth: 1,
        array_size: 1,
        last_level: 0,
        nr_samples: 0,
        flags: 0,
    };
    // CREATE_OBJECT(SURFACE), SET_FRAMEBUFFER_STATE, CLEAR color0.
    let mut cmds: Vec<u32> = vec![
        1 | (8 << 8) | (5 << 16),
        10,
        res,
        67,
        0,
        0,
        5 | (3 << 16),
        1,
        0,
        10,
        7 | (8 << 16),
        4,
        0,
        1.0f32.to_bits(),
        0,
        1.0f32.to_bits(),
        0,
        0,
        0,
    ];
    // SAFETY: valid pointers for the calls' durations; the renderer is initialised.
    unsafe {
        assert_eq!(virgl_renderer_context_create(ctx, 4, name.as_ptr()), 0);
        assert_eq!(
            virgl_renderer_resource_create(&mut args, std::ptr::null_mut(), 0),
            0
        );
        virgl_renderer_ctx_attach_resource(ctx as c_int, res as c_int);
        let rc =
            virgl_renderer_submit_cmd(cmds.as_mut_ptr().cast(), ctx as c_int, cmds.len() as c_int);
        assert_eq!(rc, 0, "submit in round {i}");
        assert_eq!(virgl_renderer_create_fence(i as c_int, 0), 0);
        virgl_renderer_poll();
        virgl_renderer_ctx_detach_resource(ctx as c_int, res as c_int);
        virgl_renderer_resource_unref(res);
        virgl_renderer_context_destroy(ctx);
    }
}

#[test]
fn ten_thousand_contexts_and_resources_leak_nothing() {
    let mut cb = virgl_renderer_callbacks {
        version: 1,
        write_fence: Some(write_fence),
        create_gl_context: None,
        destroy_gl_context: None,
        make_current: None,
        get_drm_fd: None,
        write_context_fence: None,
        get_server_fd: None,
        get_egl_display: None,
    };
    // SAFETY: `cb` outlives the renderer (cleaned up below, on this thread).
    let rc =
        unsafe { virgl_renderer_init(std::ptr::null_mut(), USE_EGL | USE_SURFACELESS, &mut cb) };
    assert_eq!(rc, 0, "virgl_renderer_init");
    // Warm up: Mesa's caches, the allocator's arenas, lazily loaded driver parts.
    for i in 0..200 {
        round(i);
    }
    let fds = open_fds();
    let rss = rss_kib();
    let start = Instant::now();
    for i in 200..200 + ITERATIONS {
        round(i);
    }
    let elapsed = start.elapsed();
    let fds_after = open_fds();
    let rss_after = rss_kib();
    eprintln!(
        "{ITERATIONS} rounds in {elapsed:?}: fds {fds} -> {fds_after}, RSS {rss} -> {rss_after} KiB"
    );
    assert_eq!(
        FENCES.load(std::sync::atomic::Ordering::SeqCst),
        200 + ITERATIONS - 1
    );
    for res in 1..=200 + ITERATIONS {
        let mut info = virgl_renderer_resource_info::default();
        // SAFETY: `info` is valid for writes.
        let rc = unsafe { virgl_renderer_resource_get_info(res as c_int, &mut info) };
        assert_ne!(rc, 0, "resource {res} still known after unref");
    }
    // SAFETY: initialised above on this thread.
    unsafe { virgl_renderer_cleanup(std::ptr::null_mut()) };
    assert_eq!(fds_after, fds, "fds leaked");
    assert!(
        rss_after <= rss + RSS_TOLERANCE_KIB,
        "RSS grew by {} KiB over {ITERATIONS} rounds",
        rss_after.saturating_sub(rss)
    );
}
