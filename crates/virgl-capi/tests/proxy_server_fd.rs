//! The embedder's `get_server_fd` callback (callbacks v3) through the C ABI: with
//! `VENUS | RENDER_SERVER` the library uses the connection the embedder hands over — a
//! `virgl-render-server` the embedder started itself — instead of starting its own; Venus
//! contexts get workers in that server, the capset comes back, and cleanup closes the
//! connection so the embedder's server exits.
//!
//! Needs lavapipe (`lvp_icd.json`); without it the test prints why and passes. The only test
//! in its binary (the C ABI's renderer is per thread and the test sets VK_DRIVER_FILES).

#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use std::ffi::{c_int, c_void};
use std::os::fd::IntoRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use virgl_capi::ffi::constants::*;
use virgl_capi::ffi::types::virgl_renderer_callbacks;
use virgl_venus::render_server::{spawn_server, WorkerMode};
use workspace::{children_of, workspace_bin};

const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";
const CAPSET_VENUS: u32 = 4;

extern "C" {
    fn virgl_renderer_init(
        cookie: *mut c_void,
        flags: c_int,
        cb: *mut virgl_renderer_callbacks,
    ) -> c_int;
    fn virgl_renderer_context_create_with_flags(
        ctx_id: u32,
        ctx_flags: u32,
        nlen: u32,
        name: *const std::ffi::c_char,
    ) -> c_int;
    fn virgl_renderer_context_destroy(handle: u32);
    fn virgl_renderer_fill_caps(set: u32, version: u32, caps: *mut c_void);
    fn virgl_renderer_cleanup(cookie: *mut c_void);
}

/// The fd the callback hands over (taken once), and how often it was asked.
static SERVER_FD: AtomicI32 = AtomicI32::new(-1);
static ASKED: AtomicU32 = AtomicU32::new(0);

unsafe extern "C" fn get_server_fd(_cookie: *mut c_void, version: u32) -> c_int {
    assert_eq!(version, 0, "RENDER_SERVER_VERSION");
    ASKED.fetch_add(1, Ordering::SeqCst);
    SERVER_FD.swap(-1, Ordering::SeqCst)
}

#[test]
fn proxy_uses_the_embedders_server_fd() {
    if !Path::new(LVP_ICD).exists() {
        eprintln!("SKIP proxy_server_fd: {LVP_ICD} is not installed");
        return;
    }
    std::env::set_var("VK_DRIVER_FILES", LVP_ICD);
    // No fallback: if the library started its own server, it would fail to find one.
    std::env::set_var(
        "RENDER_SERVER_EXEC_PATH",
        "/nonexistent/virgl-render-server",
    );
    let (mut server, chan) = spawn_server(
        &workspace_bin("virgl-venus", "virgl-render-server"),
        WorkerMode::Process,
    )
    .unwrap();
    SERVER_FD.store(chan.into_fd().into_raw_fd(), Ordering::SeqCst);

    // SAFETY: an all-zero callbacks struct is valid (every hook None).
    let mut cbs: virgl_renderer_callbacks = unsafe { std::mem::zeroed() };
    cbs.version = 3;
    cbs.get_server_fd = Some(get_server_fd);
    let flags = VIRGL_RENDERER_VENUS | VIRGL_RENDERER_RENDER_SERVER | VIRGL_RENDERER_NO_VIRGL;
    // SAFETY: `cbs` outlives the renderer (cleaned up below).
    let ret = unsafe { virgl_renderer_init(std::ptr::null_mut(), flags, &mut cbs) };
    assert_eq!(ret, 0);
    assert_eq!(ASKED.load(Ordering::SeqCst), 1, "get_server_fd called once");

    let mut caps = vec![0u8; 160];
    // SAFETY: 160 bytes is the Venus capset size.
    unsafe { virgl_renderer_fill_caps(CAPSET_VENUS, 0, caps.as_mut_ptr().cast()) };
    assert_eq!(&caps[0..4], &1u32.to_le_bytes(), "Venus wire format 1");

    let name = b"embedded";
    // SAFETY: `name` is valid for its length.
    let ret = unsafe {
        virgl_renderer_context_create_with_flags(
            7,
            CAPSET_VENUS,
            name.len() as u32,
            name.as_ptr().cast(),
        )
    };
    assert_eq!(ret, 0);
    // The context's worker is a child of the embedder's server.
    let start = Instant::now();
    while !children_of(server.id())
        .iter()
        .any(|(_, comm)| comm.starts_with("vkr-7-"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no worker for context 7"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: plain calls on the renderer this thread initialised.
    unsafe {
        virgl_renderer_context_destroy(7);
        virgl_renderer_cleanup(std::ptr::null_mut());
    }

    // Cleanup closed the connection: the embedder's server exits on its own.
    let start = Instant::now();
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server still running"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
