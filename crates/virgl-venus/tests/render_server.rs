//! `virgl-render-server` at the protocol level, as the proxy drives it: client ops on the
//! server socket, context ops on the worker socket, fds both ways (`SCM_RIGHTS`), in both
//! worker modes. Covers CREATE_CONTEXT, INIT (timeline shmem + eventfd), CREATE_RESOURCE
//! returning an mmap-able fd, GET_RESOURCE of that resource and of an unknown id, fences
//! written into the shmem, a worker that fails or is SIGKILLed losing only its own context.
//!
//! Needs lavapipe (`lvp_icd.json`) for the workers' Vulkan; without it the test says why and
//! passes.

#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::eventfd::{EfdFlags, EventFd};
use virgl_protocol::render_server::{
    ClientRequest, ContextInitRequest, ContextRequest, CreateContextReply, CreateContextRequest,
    CreateResourceReply, CreateResourceRequest, FdType, GetResourceReply, ImportResourceRequest,
    OpHeader, SubmitCmd, SubmitFenceRequest,
};
use virgl_resource::SharedMemory;
use virgl_venus::render_server::{spawn_server, transport::Channel, WorkerMode};
use workspace::children_of;

const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";
const SERVER: &str = env!("CARGO_BIN_EXE_virgl-render-server");
const CAPSET_VENUS: u32 = 4;

struct Server {
    child: Child,
    chan: Channel,
}

impl Server {
    fn start(mode: WorkerMode) -> Self {
        std::env::set_var("VK_DRIVER_FILES", LVP_ICD);
        let (child, chan) = spawn_server(Path::new(SERVER), mode).expect("spawn server");
        chan.send(&ClientRequest::Init { flags: 0 }.encode(), &[])
            .unwrap();
        Server { child, chan }
    }

    fn create_context(&self, ctx_id: u32) -> Option<Channel> {
        let req = ClientRequest::CreateContext(CreateContextRequest::new(ctx_id, "test"));
        self.chan.send(&req.encode(), &[]).unwrap();
        let (reply, fds) = self.chan.recv_exact(CreateContextReply::SIZE, 1).unwrap();
        let ok = CreateContextReply::decode(&reply).unwrap().ok;
        assert_eq!(ok, fds.len() == 1, "an fd comes exactly with ok");
        ok.then(|| Channel::from_fd(fds.into_iter().next().unwrap()).unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A worker connection after INIT, with its timeline shmem and eventfd.
struct Ctx {
    chan: Channel,
    timelines: SharedMemory,
    eventfd: EventFd,
}

impl Ctx {
    fn init(chan: Channel) -> Self {
        let timelines = SharedMemory::new("timelines", 64 * 4).unwrap();
        let eventfd =
            EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
                .unwrap();
        let req = ContextRequest::Init(ContextInitRequest {
            header: OpHeader,
            flags: CAPSET_VENUS,
            shmem_size: 64 * 4,
        });
        chan.send(&req.encode(), &[timelines.as_fd(), eventfd.as_fd()])
            .unwrap();
        Ctx {
            chan,
            timelines,
            eventfd,
        }
    }

    fn create_resource(
        &self,
        res_id: u32,
        blob_id: u64,
        size: u64,
    ) -> (CreateResourceReply, Vec<OwnedFd>) {
        let req = ContextRequest::CreateResource(CreateResourceRequest {
            header: OpHeader,
            res_id,
            blob_id,
            blob_size: size,
            blob_flags: 1, // MAPPABLE
        });
        self.chan.send(&req.encode(), &[]).unwrap();
        let (b, fds) = self.chan.recv_exact(CreateResourceReply::SIZE, 1).unwrap();
        (CreateResourceReply::decode_packet(&b).unwrap(), fds)
    }

    fn get_resource(&self, res_id: u32) -> (GetResourceReply, Vec<OwnedFd>) {
        self.chan
            .send(&ContextRequest::GetResource { res_id }.encode(), &[])
            .unwrap();
        let (b, fds) = self.chan.recv_exact(GetResourceReply::SIZE, 1).unwrap();
        (GetResourceReply::decode_packet(&b).unwrap(), fds)
    }

    fn submit_fence(&self, ring_index: u32, seqno: u32) {
        let req = ContextRequest::SubmitFence(SubmitFenceRequest {
            header: OpHeader,
            flags: 0,
            ring_index,
            seqno,
        });
        self.chan.send(&req.encode(), &[]).unwrap();
    }

    fn timeline(&self, ring: usize) -> u32 {
        // SAFETY: the mapping is 256 bytes, page-aligned, and lives as long as `self`; the
        // worker writes it atomically.
        let word =
            unsafe { &*(self.timelines.mapping().as_ptr().add(ring * 4) as *const AtomicU32) };
        word.load(Ordering::Acquire)
    }

    /// Waits until the worker has written `seqno` for `ring`.
    fn wait_timeline(&self, ring: usize, seqno: u32) {
        let start = Instant::now();
        while self.timeline(ring) != seqno {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "fence never signalled"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut v = [0u8; 8];
        assert_eq!(
            nix::unistd::read(&self.eventfd, &mut v),
            Ok(8),
            "eventfd signalled"
        );
    }

    /// Waits until the worker has closed its end.
    fn wait_closed(&self) {
        let start = Instant::now();
        while !self.chan.peer_closed() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "worker did not exit"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn exercise(mode: WorkerMode) {
    let srv = Server::start(mode);
    let ctx = Ctx::init(srv.create_context(1).expect("context 1"));
    // The same id twice is refused without an fd.
    assert!(srv.create_context(1).is_none());

    // A shared-memory blob: the fd maps the worker's memory.
    let (reply, fds) = ctx.create_resource(10, 0, 8192);
    assert_eq!(reply.fd_type(), Ok(FdType::Shm));
    assert_eq!(fds.len(), 1);
    let mut mine = SharedMemory::from_fd(fds.into_iter().next().unwrap(), 8192).unwrap();
    mine.write_at(100, b"venus").unwrap();

    // GET_RESOURCE exports the same memory again.
    let (got, fds) = ctx.get_resource(10);
    assert_eq!(got.fd_type(), Ok(FdType::Shm));
    assert_eq!(
        (got.width, got.height, got.format),
        (0, 0, 0),
        "a plain blob"
    );
    let again = SharedMemory::from_fd(fds.into_iter().next().unwrap(), 8192).unwrap();
    let mut b = [0u8; 5];
    again.read_at(100, &mut b).unwrap();
    assert_eq!(&b, b"venus");

    // Unknown ids: a clean error reply without an fd, and the worker carries on.
    let (none, fds) = ctx.get_resource(99);
    assert_eq!((none.fd_type(), fds.len()), (Ok(FdType::Invalid), 0));
    let (bad, fds) = ctx.create_resource(11, 0xdead, 4096);
    assert_eq!((bad.fd_type(), fds.len()), (Ok(FdType::Invalid), 0));

    // Fences retire into the timeline shmem and wake the eventfd.
    ctx.submit_fence(0, 5);
    ctx.wait_timeline(0, 5);
    ctx.submit_fence(3, 7);
    ctx.wait_timeline(3, 7);

    // IMPORT_RESOURCE: memory from elsewhere (a guest shm blob) becomes a worker resource;
    // GET_RESOURCE exports that same memory back.
    let mut guest = SharedMemory::new("guest-blob", 4096).unwrap();
    guest.write_at(8, b"imported").unwrap();
    let import = ContextRequest::ImportResource(ImportResourceRequest {
        header: OpHeader,
        res_id: 12,
        fd_type: FdType::Shm as i32,
        size: 4096,
    });
    ctx.chan.send(&import.encode(), &[guest.as_fd()]).unwrap();
    let (got, fds) = ctx.get_resource(12);
    assert_eq!(got.fd_type(), Ok(FdType::Shm));
    let back = SharedMemory::from_fd(fds.into_iter().next().unwrap(), 4096).unwrap();
    let mut b = [0u8; 8];
    back.read_at(8, &mut b).unwrap();
    assert_eq!(&b, b"imported");

    // DESTROY_RESOURCE: the id is gone for GET_RESOURCE.
    ctx.chan
        .send(
            &ContextRequest::DestroyResource { res_id: 10 }.encode(),
            &[],
        )
        .unwrap();
    assert_eq!(ctx.get_resource(10).0.fd_type(), Ok(FdType::Invalid));

    // A second context; then a command stream the decoder rejects (longer than the inline
    // part, so the overflow packet is read too) ends the first context's worker only.
    let ctx2 = Ctx::init(srv.create_context(2).expect("context 2"));
    let garbage: Vec<u8> = (0..300u32)
        .flat_map(|_| 0xffff_fff0u32.to_le_bytes())
        .collect();
    let (head, rest) = SubmitCmd::split(&garbage).unwrap();
    ctx.chan
        .send(&ContextRequest::SubmitCmd(head).encode(), &[])
        .unwrap();
    ctx.chan.send(rest, &[]).unwrap();
    ctx.wait_closed();
    ctx2.submit_fence(0, 1);
    ctx2.wait_timeline(0, 1);

    if mode == WorkerMode::Process {
        // SIGKILL a worker: only its context goes; the server creates new ones.
        let before = children_of(srv.child.id());
        let ctx3 = Ctx::init(srv.create_context(3).expect("context 3"));
        ctx3.submit_fence(0, 1);
        ctx3.wait_timeline(0, 1);
        let new: Vec<u32> = children_of(srv.child.id())
            .into_iter()
            .filter(|c| !before.contains(c))
            .map(|(pid, _)| pid)
            .collect();
        assert_eq!(new.len(), 1, "one new worker process: {new:?}");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(new[0] as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        ctx3.wait_closed();
        ctx2.submit_fence(0, 2);
        ctx2.wait_timeline(0, 2);
        let ctx4 = Ctx::init(srv.create_context(4).expect("context 4 after a crash"));
        ctx4.submit_fence(1, 9);
        ctx4.wait_timeline(1, 9);
    }

    // DESTROY_CONTEXT stops the worker.
    srv.chan
        .send(&ClientRequest::DestroyContext { ctx_id: 2 }.encode(), &[])
        .unwrap();
    ctx2.wait_closed();
}

fn lavapipe() -> bool {
    if Path::new(LVP_ICD).exists() {
        return true;
    }
    eprintln!("SKIP render_server: {LVP_ICD} is not installed (install mesa-vulkan-drivers)");
    false
}

#[test]
fn render_server_worker_processes() {
    if lavapipe() {
        exercise(WorkerMode::Process);
    }
}

#[test]
fn render_server_worker_threads() {
    if lavapipe() {
        exercise(WorkerMode::Thread);
    }
}

#[test]
fn render_server_exits_when_the_proxy_closes() {
    let (mut child, chan) = spawn_server(Path::new(SERVER), WorkerMode::Process).unwrap();
    drop(chan);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "server lingers");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn render_server_refuses_a_malformed_client_packet() {
    let (mut child, chan) = spawn_server(Path::new(SERVER), WorkerMode::Process).unwrap();
    chan.send(&[1, 0, 0, 0], &[]).unwrap(); // INIT without its flags
    let status = child.wait().unwrap();
    assert!(!status.success());
}
