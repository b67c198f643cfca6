//! Venus through the render server (`VENUS | RENDER_SERVER`), with faults: a context whose
//! worker is SIGKILLed while it has submits and a fence in flight errors cleanly (broken, its
//! fence retires, nothing hangs), a second context keeps rendering (a vkCmdFillBuffer read back
//! through its blob's mapping), the server keeps creating contexts, `GET_RESOURCE` answers for
//! live and unknown resources and fails cleanly for a dead worker, and the proxy's fds return
//! to their baseline (/proc/self/fd). The same with worker threads, where a context is broken
//! by a command stream its decoder rejects.
//!
//! Needs lavapipe (`lvp_icd.json`); without it the test prints why and passes. The only test
//! in its binary: it counts this process's fds and sets VK_DRIVER_FILES.

#[path = "../../../tests/support/venus_stream.rs"]
mod venus_stream;
#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use venus_stream::Stream;
use virgl_capi::{capset, Renderer, RendererCallbacks, RendererError, RendererFlags};
use virgl_resource::{BlobFlags, BlobInfo, BlobMem, ContextError, FdType};
use workspace::{children_of, workspace_bin};

const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";

const INSTANCE: u64 = 0x100;
const PHYSICAL: u64 = 0x200;
const DEVICE: u64 = 0x300;
const QUEUE: u64 = 0x310;
const BUFFER: u64 = 0x500;
const MEMORY: u64 = 0x600;
const POOL: u64 = 0x700;
const SIZE: u64 = 4096;

/// `VK_BUFFER_USAGE_TRANSFER_DST_BIT`.
const TRANSFER_DST: u32 = 2;

/// An instance, a device and its queue.
fn device_and_queue(s: &mut Stream) {
    s.instance_and_device(INSTANCE, PHYSICAL, DEVICE)
        .get_device_queue(DEVICE, QUEUE);
}

/// Host-visible memory (type 0 on lavapipe) with a transfer-destination buffer bound.
fn buffer_and_memory(s: &mut Stream) {
    s.create_buffer(DEVICE, BUFFER, SIZE, TRANSFER_DST)
        .allocate_memory(DEVICE, MEMORY, SIZE, 0)
        .bind_buffer_memory(DEVICE, BUFFER, MEMORY, 0);
}

/// Records vkCmdFillBuffer(buffer, 0, SIZE, value) in a new pool (ids from `round`) and
/// submits it to the queue.
fn fill_and_submit(s: &mut Stream, value: u32, round: u64) {
    let pool = POOL + 0x10 * round;
    let cmdbuf = pool + 1;
    s.create_command_pool(DEVICE, pool)
        .allocate_command_buffers(DEVICE, pool, &[cmdbuf])
        .begin_command_buffer(cmdbuf);
    s.cmd(118)
        .u64(cmdbuf)
        .u64(BUFFER)
        .u64(0)
        .u64(SIZE)
        .u32(value);
    s.end_command_buffer(cmdbuf).queue_submit(QUEUE, cmdbuf);
}

#[derive(Clone, Default)]
struct Fences(Arc<Mutex<Vec<(u32, u64)>>>);

impl RendererCallbacks for Fences {
    fn write_fence(&self, _fence_id: u32) {}
    fn write_context_fence(&self, ctx_id: u32, _ring_idx: u32, fence_id: u64) {
        self.0.lock().unwrap().push((ctx_id, fence_id));
    }
}

impl Fences {
    fn wait(&self, r: &mut Renderer, ctx_id: u32, fence_id: u64) {
        let start = Instant::now();
        while !self.0.lock().unwrap().contains(&(ctx_id, fence_id)) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "fence {fence_id} of context {ctx_id} never retired"
            );
            r.poll();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The worker process serving context `ctx_id` (named `vkr-<ctx_id>-...` by the server).
fn worker_pid(ctx_id: u32) -> u32 {
    let me = std::process::id();
    let (server, _) = children_of(me)
        .into_iter()
        .find(|(_, comm)| comm.starts_with("virgl-render"))
        .expect("a render server child");
    let prefix = format!("vkr-{ctx_id}-");
    // The forked worker names itself right after the fork: wait for it.
    let start = Instant::now();
    loop {
        let workers = children_of(server);
        if let Some((pid, _)) = workers.iter().find(|(_, comm)| comm.starts_with(&prefix)) {
            return *pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no worker {prefix}* among {workers:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn renderer(fences: &Fences) -> Renderer {
    let flags = RendererFlags::NO_VIRGL | RendererFlags::VENUS | RendererFlags::RENDER_SERVER;
    Renderer::builder(flags)
        .callbacks(Box::new(fences.clone()))
        .build()
        .expect("renderer with a render server")
}

/// A context that renders: fills a buffer on the GPU queue, fences, reads it through a new
/// blob of the memory. Round 0 creates the instance, device, buffer and memory first.
fn render_and_check(
    r: &mut Renderer,
    fences: &Fences,
    ctx_id: u32,
    res_id: u32,
    value: u32,
    round: u64,
) {
    let mut s = Stream::default();
    if round == 0 {
        device_and_queue(&mut s);
        buffer_and_memory(&mut s);
    }
    fill_and_submit(&mut s, value, round);
    r.submit_cmd(ctx_id, &s.dwords()).expect("fill buffer");
    let fence = u64::from(value);
    r.context_create_fence(ctx_id, 0, 0, fence).unwrap();
    fences.wait(r, ctx_id, fence);
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE,
        blob_id: MEMORY,
        size: SIZE,
    };
    r.create_blob(ctx_id, res_id, info, None)
        .expect("blob of the memory");
    let region = r.resources_mut().get_mut(res_id).unwrap().map().unwrap();
    // SAFETY: the mapping is SIZE bytes long and stays mapped until unmap below.
    let bytes = unsafe { std::slice::from_raw_parts(region.ptr, SIZE as usize) };
    assert!(
        bytes.chunks_exact(4).all(|w| w == value.to_le_bytes()),
        "the fill is visible through the blob"
    );
    r.resources_mut().get_mut(res_id).unwrap().unmap().unwrap();

    // GET_RESOURCE of that blob: the same memory, as an fd.
    let remote = r.render_server_get_resource(res_id).expect("GET_RESOURCE");
    assert_eq!(remote.fd_type, FdType::Shm);
    let shm = virgl_resource::SharedMemory::from_fd(remote.fd, SIZE).unwrap();
    assert_eq!(&shm.as_slice()[..4], &value.to_le_bytes());
}

fn broken(e: &RendererError) -> bool {
    matches!(
        e,
        RendererError::ContextBroken { .. } | RendererError::Context(ContextError::Broken(_))
    )
}

/// Keeps submitting to `ctx_id` until the proxy reports the context broken.
fn submit_until_broken(r: &mut Renderer, ctx_id: u32) -> RendererError {
    let start = Instant::now();
    loop {
        // vkDeviceWaitIdle: valid, cheap, no reply.
        let mut s = Stream::default();
        for _ in 0..64 {
            s.cmd(20).u64(DEVICE);
        }
        if let Err(e) = r.submit_cmd(ctx_id, &s.dwords()) {
            return e;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "context {ctx_id} never broke"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn worker_processes() {
    std::env::remove_var("VIRGL_RENDER_SERVER_WORKER");
    let baseline = open_fds();
    let fences = Fences::default();
    let mut r = renderer(&fences);
    r.create_context(2, capset::VENUS, "steady").unwrap();
    render_and_check(&mut r, &fences, 2, 20, 0x1111_1111, 0);
    let steady = open_fds();

    // A command stream larger than a default unix socket buffer: its overflow is one packet,
    // which fits when the host allows the send buffer the proxy asks for, and is refused
    // cleanly (before anything is sent) when it does not.
    r.create_context(5, capset::VENUS, "large").unwrap();
    let mut s = Stream::default();
    device_and_queue(&mut s);
    for _ in 0..40_000 {
        s.cmd(20).u64(DEVICE); // vkDeviceWaitIdle
    }
    let wmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    match r.submit_cmd(5, &s.dwords()) {
        Ok(()) => {
            r.context_create_fence(5, 0, 0, 5).unwrap();
            fences.wait(&mut r, 5, 5);
        }
        Err(e) => {
            assert!(
                wmem_max < 700_000,
                "refused although wmem_max is {wmem_max}: {e}"
            );
            assert!(e.to_string().contains("wmem_max"), "{e}");
        }
    }
    r.destroy_context(5);
    assert_eq!(open_fds(), steady, "fds after destroying context 5");

    // Context 1: in flight (submits and a fence) when its worker is killed.
    r.create_context(1, capset::VENUS, "victim").unwrap();
    let mut s = Stream::default();
    device_and_queue(&mut s);
    r.submit_cmd(1, &s.dwords()).unwrap();
    // A shared-memory blob of context 1 (blob id 0), for GET_RESOURCE after the crash.
    let shm_blob = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE,
        blob_id: 0,
        size: SIZE,
    };
    r.create_blob(1, 10, shm_blob, None).unwrap();
    assert!(r.render_server_get_resource(10).is_ok());
    let pid = worker_pid(1);
    let mut s = Stream::default();
    for _ in 0..2000 {
        s.cmd(20).u64(DEVICE);
    }
    r.submit_cmd(1, &s.dwords()).unwrap();
    r.context_create_fence(1, 0, 0, 77).unwrap();
    nix_kill(pid);
    let err = submit_until_broken(&mut r, 1);
    assert!(broken(&err), "a clean broken-context error, got {err}");
    assert!(!r.context_is_usable(1));
    // Its fence retires (the guest must not hang on a dead context).
    fences.wait(&mut r, 1, 77);
    // GET_RESOURCE through a dead worker: an error, not a hang; other contexts unaffected.
    let dead = r.render_server_get_resource(10);
    assert!(
        matches!(&dead, Err(e) if broken(e)),
        "GET_RESOURCE via a dead worker: {dead:?}"
    );
    assert!(r.render_server_get_resource(20).is_ok());

    // The other context keeps rendering; the server keeps creating contexts.
    render_and_check(&mut r, &fences, 2, 21, 0x2222_2222, 1);
    r.create_context(3, capset::VENUS, "after").unwrap();
    render_and_check(&mut r, &fences, 3, 30, 0x3333_3333, 0);
    assert!(matches!(
        r.render_server_get_resource(999),
        Err(RendererError::Resource(_))
    ));

    // Destroying the dead and the new context gives their fds back.
    r.destroy_context(1);
    r.unref_resource(10);
    r.unref_resource(21);
    r.unref_resource(30);
    r.destroy_context(3);
    assert_eq!(open_fds(), steady, "fds after destroying contexts 1 and 3");
    drop(r);
    assert_eq!(open_fds(), baseline, "fds after dropping the renderer");
}

fn worker_threads() {
    std::env::set_var("VIRGL_RENDER_SERVER_WORKER", "thread");
    let baseline = open_fds();
    let fences = Fences::default();
    let mut r = renderer(&fences);
    r.create_context(1, capset::VENUS, "hostile").unwrap();
    r.create_context(2, capset::VENUS, "steady").unwrap();
    // An unknown command type: the worker thread refuses it and ends.
    r.submit_cmd(1, &[0xffff_fff0, 0]).unwrap();
    let err = submit_until_broken(&mut r, 1);
    assert!(broken(&err), "{err}");
    render_and_check(&mut r, &fences, 2, 20, 0x4444_4444, 0);
    r.destroy_context(1);
    drop(r);
    assert_eq!(open_fds(), baseline, "fds after dropping the renderer");
    std::env::remove_var("VIRGL_RENDER_SERVER_WORKER");
}

fn nix_kill(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn proxy_worker_faults() {
    if !std::path::Path::new(LVP_ICD).exists() {
        eprintln!("SKIP proxy_faults: {LVP_ICD} is not installed (install mesa-vulkan-drivers)");
        return;
    }
    std::env::set_var("VK_DRIVER_FILES", LVP_ICD);
    std::env::set_var(
        "RENDER_SERVER_EXEC_PATH",
        workspace_bin("virgl-venus", "virgl-render-server"),
    );
    worker_processes();
    worker_threads();
}
