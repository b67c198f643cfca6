//! The Venus proxy: Venus contexts served by `virgl-render-server` instead of in this process
//! (upstream `src/proxy`), used when the embedder sets `VIRGL_RENDERER_RENDER_SERVER`.
//!
//! [`ProxyBackend`] holds the connection to the server — one the embedder handed over through
//! the `get_server_fd` callback, or a server we start ourselves (see [`server_path`] for where
//! the binary is looked for) — and creates [`ProxyContext`]s, each talking to its own worker:
//! - command streams and fences are forwarded without a reply, as upstream does; a fence
//!   retires when the worker has written its seqno into the shared timeline array (64 rings),
//!   which [`Context::retire_fences`] polls (the eventfd is the context's poll fd);
//! - a HOST3D blob is created by the worker and comes back as an fd; the resource holds it
//!   (`FdMemory`), so mapping, export and the wide lookup work as for in-process contexts;
//!   resources from elsewhere (shm, dma-buf) are imported into the worker on attach;
//! - [`ProxyRegistry::get_resource`] asks the owning worker to describe and export a resource
//!   (our `GET_RESOURCE`), for importers that were never told the image layout.
//!
//! The capset is computed here from the same code the server uses (as upstream's proxy calls
//! `vkr_get_capset` locally), so no round trip and no Vulkan is needed in this process.
//!
//! A worker that dies (crash, SIGKILL, a command stream its Venus decoder rejected) breaks only
//! its context: the next submit fails with [`ContextError::Broken`], its pending fences retire
//! (so the guest cannot hang on them) and the server and other contexts carry on. Not done:
//! transfers on proxy contexts (upstream has none either) and DRM native contexts.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU32, Ordering};

use virgl_protocol::render_server::{
    ClientRequest, ContextInitRequest, ContextRequest, CreateContextReply, CreateContextRequest,
    CreateResourceReply, CreateResourceRequest, FdType as WireFdType, GetResourceReply,
    ImportResourceRequest, OpHeader, SubmitCmd, SubmitFenceRequest, VulkanInfo as WireVulkanInfo,
    MAX_SUBMIT_CMD_SIZE, RENDER_SERVER_VERSION, SUBMIT_CMD_INLINE_SIZE,
};
use virgl_resource::{
    Backend, Backing, BlobFlags, Context, ContextBlob, ContextError, FdMemory, FdType, FenceSignal,
    ResourceTable, SharedMemory, VulkanInfo,
};
use virgl_venus::render_server::{spawn_server, transport::Channel, WorkerMode};
use virgl_venus::{capset_bytes, CAPSET_SIZE, CAPSET_VENUS};

/// Rings with a timeline (upstream `PROXY_CONTEXT_TIMELINE_COUNT`).
pub const TIMELINE_COUNT: u32 = 64;

/// The server binary's file name.
pub const SERVER_NAME: &str = "virgl-render-server";

/// Where the server binary is: `$RENDER_SERVER_EXEC_PATH` (as upstream), else next to the
/// current executable or one directory up (cargo puts test binaries in `deps/`), else in
/// `../libexec` of this library's directory or next to it, else `$PATH`.
pub fn server_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RENDER_SERVER_EXEC_PATH") {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            dirs.push(dir.to_path_buf());
            if let Some(up) = dir.parent() {
                dirs.push(up.to_path_buf());
            }
        }
    }
    if let Some(dir) = library_dir() {
        dirs.push(dir.join("../libexec"));
        dirs.push(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join(SERVER_NAME))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The directory of the shared object holding this code (libvirglrenderer.so.1 when loaded
/// by an embedder), from the dynamic linker.
fn library_dir() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only reads the address and fills `info`; the address is a function of
    // this object.
    let found = unsafe { libc::dladdr(server_path as *const libc::c_void, info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded, so `info` is initialised.
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the dynamic linker.
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes()));
    path.parent().map(Path::to_path_buf)
}

fn host(e: impl std::fmt::Display) -> ContextError {
    ContextError::Host(format!("render server: {e}"))
}

/// The connection to the server, shared by the backend and its contexts.
struct ServerConn {
    chan: Channel,
    /// The server process when we started it (killed and reaped on drop, as upstream).
    child: Option<Child>,
}

impl Drop for ServerConn {
    fn drop(&mut self) {
        self.chan.shutdown();
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One context's worker connection and what the registry needs of it.
struct Worker {
    ctx_id: u32,
    chan: Channel,
    /// The largest packet the socket carries (a command stream's overflow is one packet).
    max_packet: usize,
    /// Why the worker is gone, once it is.
    dead: RefCell<Option<String>>,
}

impl Worker {
    fn mark_dead(&self, why: String) -> ContextError {
        let mut dead = self.dead.borrow_mut();
        if dead.is_none() {
            tracing::error!(ctx_id = self.ctx_id, %why, "render worker lost: context broken");
            *dead = Some(why);
        }
        ContextError::Broken(dead.clone().unwrap_or_default())
    }

    fn check_alive(&self) -> Result<(), ContextError> {
        if let Some(why) = self.dead.borrow().as_ref() {
            return Err(ContextError::Broken(why.clone()));
        }
        if self.chan.peer_closed() {
            return Err(self.mark_dead("the render worker exited".into()));
        }
        Ok(())
    }

    fn send(&self, bytes: &[u8], fds: &[std::os::fd::BorrowedFd<'_>]) -> Result<(), ContextError> {
        self.check_alive()?;
        self.chan
            .send(bytes, fds)
            .map_err(|e| self.mark_dead(e.to_string()))
    }

    fn recv_reply(&self, len: usize) -> Result<(Vec<u8>, Option<OwnedFd>), ContextError> {
        let (bytes, fds) = self
            .chan
            .recv_exact(len, 1)
            .map_err(|e| self.mark_dead(e.to_string()))?;
        Ok((bytes, fds.into_iter().next()))
    }
}

/// A resource as its render worker describes it (our `GET_RESOURCE`).
#[derive(Debug)]
pub struct RemoteResource {
    pub fd_type: FdType,
    pub fd: OwnedFd,
    pub width: u32,
    pub height: u32,
    /// `enum virgl_formats`, 0 for a plain blob.
    pub format: u32,
    pub stride: u32,
    pub map_info: u32,
    pub vulkan_info: Option<VulkanInfo>,
}

/// The live proxy contexts by id, for requests that are not context calls (`GET_RESOURCE`).
#[derive(Default)]
pub struct ProxyRegistry {
    workers: RefCell<HashMap<u32, Weak<Worker>>>,
}

impl ProxyRegistry {
    /// Asks context `ctx_id`'s worker to describe and export resource `res_id`. Unknown
    /// contexts, unknown resources and dead workers are errors (nothing is leaked).
    pub fn get_resource(&self, ctx_id: u32, res_id: u32) -> Result<RemoteResource, ContextError> {
        let worker = self
            .workers
            .borrow()
            .get(&ctx_id)
            .and_then(Weak::upgrade)
            .ok_or_else(|| ContextError::InvalidCommand(format!("no proxy context {ctx_id}")))?;
        worker.send(&ContextRequest::GetResource { res_id }.encode(), &[])?;
        let (bytes, fd) = worker.recv_reply(GetResourceReply::SIZE)?;
        let reply = GetResourceReply::decode_packet(&bytes).map_err(host)?;
        let fd_type = reply.fd_type().map_err(host)?;
        let (fd_type, fd) = match (wire_fd_type(fd_type), fd) {
            (Some(t), Some(fd)) => (t, fd),
            (None, None) => {
                return Err(ContextError::Resource(
                    virgl_resource::ResourceError::UnknownId(res_id),
                ))
            }
            _ => return Err(host("GET_RESOURCE reply and fd disagree")),
        };
        Ok(RemoteResource {
            fd_type,
            fd,
            width: reply.width,
            height: reply.height,
            format: reply.format,
            stride: reply.stride,
            map_info: reply.map_info,
            vulkan_info: (fd_type == FdType::Opaque).then(|| res_vk(&reply.vulkan_info)),
        })
    }
}

fn wire_fd_type(t: WireFdType) -> Option<FdType> {
    match t {
        WireFdType::Dmabuf => Some(FdType::Dmabuf),
        WireFdType::Opaque => Some(FdType::Opaque),
        WireFdType::Shm => Some(FdType::Shm),
        WireFdType::OpaqueHandle | WireFdType::Invalid => None,
    }
}

fn res_vk(v: &WireVulkanInfo) -> VulkanInfo {
    VulkanInfo {
        device_uuid: v.device_uuid,
        driver_uuid: v.driver_uuid,
        allocation_size: v.allocation_size,
        memory_type_index: v.memory_type_index,
    }
}

/// The Venus backend of a renderer with `RENDER_SERVER`: contexts live in the server.
pub struct ProxyBackend {
    server: Rc<ServerConn>,
    registry: Rc<ProxyRegistry>,
    /// `VIRGL_RENDERER_USE_GUEST_VRAM` (Xen): the capset's `use_guest_vram`.
    use_guest_vram: bool,
}

impl std::fmt::Debug for ProxyBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyBackend")
            .field("server_pid", &self.server.child.as_ref().map(Child::id))
            .finish_non_exhaustive()
    }
}

impl ProxyBackend {
    /// Connects through `server_fd` (from the embedder's `get_server_fd`) or starts the
    /// server binary, then sends `RENDER_CLIENT_OP_INIT` with the renderer's flags.
    ///
    /// `$VIRGL_RENDER_SERVER_WORKER=thread` starts a server with worker threads instead of
    /// worker processes.
    pub fn start(init_flags: u32, server_fd: Option<OwnedFd>) -> Result<Self, ContextError> {
        let server = match server_fd {
            Some(fd) => ServerConn {
                chan: Channel::from_fd(fd).map_err(host)?,
                child: None,
            },
            None => {
                let path = server_path().ok_or_else(|| {
                    host(format!(
                        "{SERVER_NAME} not found (set RENDER_SERVER_EXEC_PATH)"
                    ))
                })?;
                let mode = match std::env::var("VIRGL_RENDER_SERVER_WORKER").as_deref() {
                    Ok("thread") => WorkerMode::Thread,
                    _ => WorkerMode::Process,
                };
                let (child, chan) = spawn_server(&path, mode).map_err(host)?;
                tracing::info!(pid = child.id(), path = %path.display(), ?mode, "render server started");
                ServerConn {
                    chan,
                    child: Some(child),
                }
            }
        };
        server
            .chan
            .send(&ClientRequest::Init { flags: init_flags }.encode(), &[])
            .map_err(host)?;
        Ok(Self {
            server: Rc::new(server),
            registry: Rc::default(),
            use_guest_vram: init_flags & (1 << 14) != 0,
        })
    }

    /// The registry of this backend's live contexts.
    pub fn registry(&self) -> Rc<ProxyRegistry> {
        self.registry.clone()
    }

    /// The server's pid when this backend started it.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.child.as_ref().map(Child::id)
    }
}

impl Backend for ProxyBackend {
    fn capset_ids(&self) -> &[u32] {
        &[CAPSET_VENUS]
    }

    fn capset_info(&self, capset_id: u32) -> Option<(u32, u32)> {
        (capset_id == CAPSET_VENUS).then_some((0, CAPSET_SIZE as u32))
    }

    fn fill_caps(&self, capset_id: u32, _version: u32) -> Result<Vec<u8>, ContextError> {
        if capset_id != CAPSET_VENUS {
            return Err(ContextError::Unsupported("capset"));
        }
        Ok(capset_bytes(self.use_guest_vram))
    }

    fn create_context(
        &mut self,
        ctx_id: u32,
        capset_id: u32,
        name: &str,
    ) -> Result<Box<dyn Context>, ContextError> {
        if capset_id != CAPSET_VENUS {
            return Err(ContextError::Unsupported("capset"));
        }
        let chan = &self.server.chan;
        let req = ClientRequest::CreateContext(CreateContextRequest::new(ctx_id, name));
        chan.send(&req.encode(), &[]).map_err(host)?;
        let (reply, fds) = chan.recv_exact(CreateContextReply::SIZE, 1).map_err(host)?;
        let ok = CreateContextReply::decode(&reply).map_err(host)?.ok;
        let fd = match (ok, fds.into_iter().next()) {
            (true, Some(fd)) => fd,
            (false, None) => return Err(host(format!("context {ctx_id} refused"))),
            _ => return Err(host("CREATE_CONTEXT reply and fd disagree")),
        };
        let chan = Channel::from_fd(fd).map_err(host)?;
        let max_packet = chan.reserve_send(MAX_SUBMIT_CMD_SIZE as usize + 4096);
        let worker = Rc::new(Worker {
            ctx_id,
            chan,
            max_packet,
            dead: RefCell::new(None),
        });
        let ctx = ProxyContext::init(ctx_id, capset_id, self.server.clone(), worker.clone());
        match ctx {
            Ok(ctx) => {
                self.registry
                    .workers
                    .borrow_mut()
                    .insert(ctx_id, Rc::downgrade(&worker));
                Ok(Box::new(ctx))
            }
            Err(e) => {
                let _ = self
                    .server
                    .chan
                    .send(&ClientRequest::DestroyContext { ctx_id }.encode(), &[]);
                Err(e)
            }
        }
    }
}

/// Fences of one ring waiting for their seqno.
#[derive(Default)]
struct Timeline {
    next_seqno: u32,
    pending: VecDeque<(u32, u64)>,
}

/// A Venus context served by a render worker (upstream `proxy_context`).
pub struct ProxyContext {
    ctx_id: u32,
    server: Rc<ServerConn>,
    worker: Rc<Worker>,
    timelines: SharedMemory,
    eventfd: OwnedFd,
    rings: Vec<Timeline>,
    /// Resources the worker knows (created by it or imported into it).
    resources: HashSet<u32>,
}

impl ProxyContext {
    fn init(
        ctx_id: u32,
        capset_id: u32,
        server: Rc<ServerConn>,
        worker: Rc<Worker>,
    ) -> Result<Self, ContextError> {
        let size = u64::from(TIMELINE_COUNT) * 4;
        let timelines = SharedMemory::new("proxy-timelines", size)?;
        // SAFETY: plain syscall creating a new fd, which we own at once.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return Err(host(format!(
                "eventfd: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: `raw` is a new fd nothing else owns.
        let eventfd = unsafe { OwnedFd::from_raw_fd(raw) };
        let req = ContextRequest::Init(ContextInitRequest {
            header: OpHeader,
            flags: capset_id,
            shmem_size: size,
        });
        worker.send(&req.encode(), &[timelines.as_fd(), eventfd.as_fd()])?;
        let rings = (0..TIMELINE_COUNT)
            .map(|_| Timeline {
                next_seqno: 1,
                pending: VecDeque::new(),
            })
            .collect();
        Ok(Self {
            ctx_id,
            server,
            worker,
            timelines,
            eventfd,
            rings,
            resources: HashSet::new(),
        })
    }

    fn load_seqno(&self, ring: usize) -> u32 {
        // SAFETY: `ring < TIMELINE_COUNT` (callers iterate the rings), the mapping holds
        // TIMELINE_COUNT u32 words, is page-aligned and lives as long as `self`; the worker
        // stores them atomically.
        let word =
            unsafe { &*(self.timelines.mapping().as_ptr().add(ring * 4) as *const AtomicU32) };
        word.load(Ordering::Acquire)
    }

    fn drain_eventfd(&self) {
        let mut buf = [0u8; 8];
        // SAFETY: reads at most 8 bytes into `buf` from our own nonblocking eventfd.
        let _ = unsafe {
            libc::read(
                self.eventfd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
            )
        };
    }
}

impl Drop for ProxyContext {
    fn drop(&mut self) {
        // As upstream: the server stops the worker; closing our end (when the last Rc of the
        // worker goes) makes it exit in any case.
        let _ = self.server.chan.send(
            &ClientRequest::DestroyContext {
                ctx_id: self.ctx_id,
            }
            .encode(),
            &[],
        );
    }
}

/// Shared memory from a worker must be sealed against shrinking (else mapping it could fault
/// later) and hold the whole blob.
fn check_shm(fd: &OwnedFd) -> Result<(), ContextError> {
    // SAFETY: F_GET_SEALS on our own fd takes no pointer.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals < 0 || seals & libc::F_SEAL_SHRINK == 0 {
        return Err(host(
            "shared memory from the worker is not sealed against shrinking",
        ));
    }
    Ok(())
}

impl Context for ProxyContext {
    fn ctx_id(&self) -> u32 {
        self.ctx_id
    }

    fn capset_id(&self) -> u32 {
        CAPSET_VENUS
    }

    fn submit_cmd(&mut self, _table: &mut ResourceTable, cmd: &[u32]) -> Result<(), ContextError> {
        self.worker.check_alive()?;
        if cmd.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = cmd.iter().flat_map(|d| d.to_le_bytes()).collect();
        let (head, rest) =
            SubmitCmd::split(&bytes).map_err(|e| ContextError::InvalidCommand(e.to_string()))?;
        if rest.len() > self.worker.max_packet {
            // Refused before anything is sent, so the worker's stream stays in step.
            return Err(ContextError::InvalidCommand(format!(
                "command stream of {} bytes is more than the render-server socket carries \
                 ({} bytes; raise net.core.wmem_max)",
                bytes.len(),
                self.worker.max_packet + SUBMIT_CMD_INLINE_SIZE
            )));
        }
        self.worker
            .send(&ContextRequest::SubmitCmd(head).encode(), &[])?;
        if !rest.is_empty() {
            self.worker.send(rest, &[])?;
        }
        Ok(())
    }

    fn attach_resource(&mut self, table: &mut ResourceTable, res_id: u32) {
        if self.resources.contains(&res_id) || self.worker.check_alive().is_err() {
            return;
        }
        let Some(res) = table.get(res_id) else {
            return;
        };
        let size = match res.backing() {
            Some(Backing::Shm(shm)) => shm.len(),
            Some(b) => match b.fd_memory() {
                Some(m) => m.size(),
                None => return,
            },
            None => return,
        };
        // Only shm and dma-bufs can be imported into the worker (upstream's rule too).
        let (fd_type, fd) = match res.export() {
            Ok((t @ (FdType::Shm | FdType::Dmabuf), fd)) => (t, fd),
            Ok((t, _)) => {
                tracing::debug!(res_id, ?t, "resource not imported into the render worker");
                return;
            }
            Err(_) => return,
        };
        let req = ContextRequest::ImportResource(ImportResourceRequest {
            header: OpHeader,
            res_id,
            fd_type: fd_type.raw() as i32,
            size,
        });
        if self.worker.send(&req.encode(), &[fd.as_fd()]).is_ok() {
            self.resources.insert(res_id);
        }
    }

    fn detach_resource(&mut self, _table: &mut ResourceTable, res_id: u32) {
        if self.resources.remove(&res_id) {
            let _ = self
                .worker
                .send(&ContextRequest::DestroyResource { res_id }.encode(), &[]);
        }
    }

    fn get_blob(
        &mut self,
        _table: &mut ResourceTable,
        res_id: u32,
        blob_id: u64,
        size: u64,
        flags: BlobFlags,
    ) -> Result<ContextBlob, ContextError> {
        let req = ContextRequest::CreateResource(CreateResourceRequest {
            header: OpHeader,
            res_id,
            blob_id,
            blob_size: size,
            blob_flags: flags.bits(),
        });
        self.worker.send(&req.encode(), &[])?;
        let (bytes, fd) = self.worker.recv_reply(CreateResourceReply::SIZE)?;
        let reply = CreateResourceReply::decode_packet(&bytes).map_err(host)?;
        let fd_type = wire_fd_type(reply.fd_type().map_err(host)?);
        let (fd_type, fd) = match (fd_type, fd) {
            (Some(t), Some(fd)) => (t, fd),
            (None, None) => {
                return Err(ContextError::InvalidCommand(format!(
                    "the render worker could not create blob {blob_id:#x} for resource {res_id}"
                )))
            }
            _ => return Err(host("CREATE_RESOURCE reply and fd disagree")),
        };
        // The worker has the resource now, whatever happens here: it is ours to destroy.
        self.resources.insert(res_id);
        if fd_type == FdType::Shm {
            check_shm(&fd)?;
        }
        let mut memory = FdMemory::from_fd(fd_type, fd, size)?.with_map_info(reply.map_info);
        if fd_type == FdType::Opaque {
            let info = res_vk(&reply.vulkan_info);
            memory = memory.with_vulkan_info(info);
            if flags.contains(BlobFlags::MAPPABLE) {
                // An OPAQUE_FD is not mmap-able: the guest mapping comes through Vulkan here
                // (upstream's vkr_allocator), as the in-process backend's does.
                let (_, fd) = memory.export(res_id)?;
                let mapping = virgl_venus::map_opaque_memory(&info, fd, size).map_err(host)?;
                memory = memory.with_mapping(mapping)?;
            }
        }
        Ok(ContextBlob::Memory {
            memory,
            image: None,
        })
    }

    fn submit_fence(
        &mut self,
        _flags: u32,
        ring_idx: u32,
        fence_id: u64,
    ) -> Result<(), ContextError> {
        let ring = self
            .rings
            .get_mut(ring_idx as usize)
            .ok_or_else(|| ContextError::InvalidCommand(format!("fence on ring {ring_idx}")))?;
        let seqno = ring.next_seqno;
        ring.next_seqno = ring.next_seqno.wrapping_add(1);
        ring.pending.push_back((seqno, fence_id));
        // Fences are always merged by the server (upstream sends MERGEABLE too).
        let req = ContextRequest::SubmitFence(SubmitFenceRequest {
            header: OpHeader,
            flags: 1,
            ring_index: ring_idx,
            seqno,
        });
        // A dead worker's fences retire in retire_fences; the error still reaches the caller.
        self.worker.send(&req.encode(), &[])
    }

    fn retire_fences(&mut self) -> Vec<FenceSignal> {
        self.drain_eventfd();
        let dead = self.worker.check_alive().is_err();
        let mut out = Vec::new();
        for ring in 0..self.rings.len() {
            if self.rings[ring].pending.is_empty() {
                continue;
            }
            let cur = self.load_seqno(ring);
            let pending = &mut self.rings[ring].pending;
            while let Some(&(seqno, fence_id)) = pending.front() {
                // Wrapping comparison: seqno is at or before cur.
                if !dead && (cur.wrapping_sub(seqno) as i32) < 0 {
                    break;
                }
                pending.pop_front();
                out.push(FenceSignal {
                    ring_idx: ring as u32,
                    fence_id,
                });
            }
        }
        out
    }

    fn fencing_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        Some(self.eventfd.as_fd())
    }
}

/// The server version we speak, for `get_server_fd`.
pub const SERVER_VERSION: u32 = RENDER_SERVER_VERSION;
