//! One client connection: framing, the per-client context, and the command handlers.
//!
//! Semantics follow upstream's `vtest_renderer.c`: CREATE_RENDERER must come first; the renderer
//! context is created lazily by the first command that needs it (or by CONTEXT_INIT); resources
//! and syncs are per client; any failing command ends this client only.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};
use virgl_capi::{capset, Renderer, RendererFlags};
use virgl_protocol::vtest::{
    self, FrameDecoder, Reply, Request, ResourceDesc, Transfer, Transfer2, TransferBox, VcmdId,
    BLOB_TYPE_GUEST, BLOB_TYPE_HOST3D, BLOB_TYPE_HOST3D_GUEST, BUSY_WAIT_FLAG_WAIT,
    MAX_TIMELINE_COUNT, PARAM_MAX_TIMELINE_COUNT, SUBMIT_CMD2_FLAG_IN_FENCE_FD,
    SUBMIT_CMD2_FLAG_OUT_FENCE_FD, SUBMIT_CMD2_FLAG_RING_IDX,
};
use virgl_resource::{
    FdType, ResourceCreateArgs, SharedMemory, TransferDirection, TransferRequest,
};

use crate::host::{self, FenceQueue, RetiredFence};
use crate::socket::{self, Received};
use crate::sync::SyncState;
use crate::{VtestError, VtestResult};

/// `VIRGL_RENDERER_FENCE_FLAG_MERGEABLE`.
const FENCE_FLAG_MERGEABLE: u32 = 1;
/// Largest inline transfer the server buffers (TRANSFER_GET data is not bounded by the stream).
const MAX_INLINE_TRANSFER: usize = vtest::DEFAULT_MAX_PAYLOAD;
/// Socket reads per wakeup before other clients get their turn.
const READS_PER_WAKEUP: usize = 8;
/// How long queued replies may make no progress before the client is dropped (it stopped
/// reading; upstream's blocking writes would wait forever).
pub const WRITE_STALL_LIMIT: Duration = Duration::from_secs(30);

/// State shared by the sessions of one renderer (one per process, or all clients with
/// `--multi-clients`).
pub struct Shared {
    pub renderer: Renderer,
    fences: FenceQueue,
    /// Fences retired for contexts other than the one that polled, delivered by the server loop.
    undelivered: Vec<RetiredFence>,
    multi_clients: bool,
    next_ctx_id: u32,
    next_res_id: u32,
}

impl Shared {
    /// Initialises the renderer (`vtest_init_renderer`).
    pub fn new(
        flags: RendererFlags,
        multi_clients: bool,
        rendernode: Option<&str>,
    ) -> VtestResult<Self> {
        let fences = FenceQueue::default();
        let renderer = host::new_renderer(flags, fences.clone(), rendernode)?;
        Ok(Self {
            renderer,
            fences,
            undelivered: Vec::new(),
            multi_clients,
            next_ctx_id: 1,
            next_res_id: 1,
        })
    }

    fn alloc_ctx_id(&mut self) -> u32 {
        let id = self.next_ctx_id;
        self.next_ctx_id = self.next_ctx_id.checked_add(1).unwrap_or(1);
        id
    }

    /// A resource id no live resource uses (upstream hands out server ids from protocol 3 on).
    fn alloc_res_id(&mut self) -> u32 {
        loop {
            let id = self.next_res_id;
            self.next_res_id = self.next_res_id.checked_add(1).unwrap_or(1);
            if id != 0 && self.renderer.resources().get(id).is_none() {
                return id;
            }
        }
    }

    /// Polls the renderer; returns the fences of `ctx_id` and keeps the others for the loop.
    fn poll_for(&mut self, ctx_id: u32) -> Vec<RetiredFence> {
        self.renderer.poll();
        let (mine, others): (Vec<_>, Vec<_>) = self
            .fences
            .drain()
            .into_iter()
            .partition(|f| f.ctx_id == ctx_id);
        self.undelivered.extend(others);
        mine
    }

    /// Polls the renderer and returns every fence retired since the last call.
    pub fn poll_all(&mut self) -> Vec<RetiredFence> {
        self.renderer.poll();
        let mut all = std::mem::take(&mut self.undelivered);
        all.extend(self.fences.drain());
        all
    }
}

/// A resource this client created.
struct ClientResource {
    /// Bytes of the shm backing (0 when the resource has none).
    shm_len: u64,
}

/// What upstream calls `struct vtest_context`.
struct ClientContext {
    ctx_id: u32,
    name: String,
    protocol_version: u32,
    capset_id: u32,
    initialized: bool,
    resources: HashMap<u32, ClientResource>,
    sync: SyncState,
    next_fence: u64,
    /// Last fence behind a SUBMIT_CMD (what RESOURCE_BUSY_WAIT waits for), on ring 0.
    implicit_fence: u64,
    /// Highest fence retired per ring.
    retired: Vec<u64>,
}

impl ClientContext {
    fn busy(&self) -> bool {
        self.implicit_fence > self.retired[0]
    }

    fn fence_id(&mut self) -> u64 {
        let id = self.next_fence;
        self.next_fence += 1;
        id
    }

    fn on_fence(&mut self, f: &RetiredFence) {
        if let Some(r) = self.retired.get_mut(f.ring_idx as usize) {
            *r = (*r).max(f.fence_id);
        }
        self.sync.retire(f.ring_idx, f.fence_id);
    }

    fn resource(&self, cmd: &'static str, res_id: u32) -> VtestResult<&ClientResource> {
        self.resources
            .get(&res_id)
            .ok_or_else(|| VtestError::rejected(cmd, format!("unknown resource {res_id}")))
    }
}

/// Whether the connection goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Closed,
}

/// One connected client.
pub struct Session {
    stream: UnixStream,
    decoder: FrameDecoder,
    fds: VecDeque<OwnedFd>,
    ctx: Option<ClientContext>,
    buf: Vec<u8>,
    /// Replies not yet taken by the client's socket.
    out: RefCell<Outbox>,
}

/// One queued piece of output: reply bytes, or an fd with its one-byte message.
enum Out {
    Bytes { data: Vec<u8>, sent: usize },
    Fd(OwnedFd),
}

/// Output written without blocking: what the socket does not take now waits here, in order,
/// and the session reads no further requests until it is gone. So a client that stops reading
/// holds back only itself, and at most one request's reply is queued for it.
#[derive(Default)]
struct Outbox {
    queue: VecDeque<Out>,
    /// When the queue last became non-empty or the socket last took something.
    progress: Option<Instant>,
}

fn transfer_request(handle: u32, level: u32, b: TransferBox) -> TransferRequest {
    TransferRequest {
        res_id: handle,
        level,
        x: b.x,
        y: b.y,
        z: b.z,
        width: b.width,
        height: b.height,
        depth: b.depth,
        stride: 0,
        layer_stride: 0,
        offset: 0,
    }
}

/// Whether upstream creates the renderer context before running this command (`init_context`).
fn needs_context(id: VcmdId) -> bool {
    use VcmdId as V;
    !matches!(
        id,
        V::GetCaps
            | V::ResourceBusyWait
            | V::GetCaps2
            | V::PingProtocolVersion
            | V::ProtocolVersion
            | V::GetParam
            | V::GetCapset
            | V::ContextInit
            | V::CreateRenderer
    )
}

impl Session {
    /// A session over an accepted connection.
    pub fn new(stream: UnixStream) -> VtestResult<Self> {
        // Replies are sent without blocking (see `Outbox`); the server drops a client whose
        // replies make no progress for `WRITE_STALL_LIMIT`.
        Ok(Self {
            stream,
            decoder: FrameDecoder::default(),
            fds: VecDeque::new(),
            ctx: None,
            buf: vec![0; 64 * 1024],
            out: RefCell::default(),
        })
    }

    /// The fd to poll for input.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    /// The renderer context id, once CREATE_RENDERER arrived.
    pub fn ctx_id(&self) -> Option<u32> {
        self.ctx.as_ref().map(|c| c.ctx_id)
    }

    /// Whether fences are outstanding, so the server should keep polling the renderer.
    pub fn needs_poll(&self) -> bool {
        self.ctx
            .as_ref()
            .is_some_and(|c| c.initialized && (c.busy() || c.sync.has_queued()))
    }

    /// Delivers a retired fence of this client's context.
    pub fn on_fence(&mut self, fence: &RetiredFence) {
        if let Some(ctx) = &mut self.ctx {
            if ctx.ctx_id == fence.ctx_id {
                ctx.on_fence(fence);
            }
        }
    }

    /// Expires timed-out sync waits.
    pub fn collect_expired(&mut self) {
        if let Some(ctx) = &mut self.ctx {
            ctx.sync.collect_expired();
        }
    }

    /// Whether replies wait for the socket (poll it for writing, not reading).
    pub fn wants_write(&self) -> bool {
        !self.out.borrow().queue.is_empty()
    }

    /// Whether queued replies have made no progress for `limit` (the client stopped reading).
    pub fn write_stalled(&self, limit: Duration) -> bool {
        let out = self.out.borrow();
        !out.queue.is_empty() && out.progress.is_some_and(|t| t.elapsed() >= limit)
    }

    /// Writes what the socket takes now of the queued replies; then, once all are gone, runs
    /// the requests that were held back.
    pub fn on_writable(&mut self, shared: &mut Shared) -> VtestResult<Outcome> {
        self.flush()?;
        self.run_buffered(shared)?;
        Ok(Outcome::Open)
    }

    /// Reads what the client sent and runs every complete request.
    pub fn on_readable(&mut self, shared: &mut Shared) -> VtestResult<Outcome> {
        if self.wants_write() {
            // Hang-up or error while replies are queued: writing says which.
            return self.on_writable(shared);
        }
        for _ in 0..READS_PER_WAKEUP {
            match socket::recv_with_fds(&self.stream, &mut self.buf, &mut self.fds)? {
                Received::Closed => {
                    if self.decoder.buffered() > 0 {
                        debug!(
                            buffered = self.decoder.buffered(),
                            "client left mid-command"
                        );
                    }
                    return Ok(Outcome::Closed);
                }
                Received::WouldBlock => break,
                Received::Bytes(n) => {
                    self.decoder.feed(&self.buf[..n]);
                    self.run_buffered(shared)?;
                    if self.wants_write() {
                        break;
                    }
                }
            }
        }
        Ok(Outcome::Open)
    }

    /// Runs buffered complete requests until one leaves output the socket did not take.
    fn run_buffered(&mut self, shared: &mut Shared) -> VtestResult<()> {
        while !self.wants_write() {
            let Some(request) = self.decoder.next_request()? else {
                break;
            };
            self.dispatch(request, shared)?;
        }
        Ok(())
    }

    /// Queues reply bytes and writes what the socket takes now.
    fn send(&self, data: Vec<u8>) -> VtestResult<()> {
        self.queue(Out::Bytes { data, sent: 0 })
    }

    /// Queues an fd (sent with one byte, as `vtest_send_fd` does) and writes what fits now.
    fn send_fd(&self, fd: OwnedFd) -> VtestResult<()> {
        self.queue(Out::Fd(fd))
    }

    fn queue(&self, item: Out) -> VtestResult<()> {
        {
            let mut out = self.out.borrow_mut();
            if out.queue.is_empty() {
                out.progress = Some(Instant::now());
            }
            out.queue.push_back(item);
        }
        self.flush()
    }

    /// Writes queued output until the socket would block.
    fn flush(&self) -> VtestResult<()> {
        let mut out = self.out.borrow_mut();
        while let Some(front) = out.queue.front_mut() {
            let done = match front {
                Out::Bytes { data, sent } => {
                    match socket::try_send(&self.stream, &data[*sent..])? {
                        None => return Ok(()),
                        Some(n) => {
                            *sent += n;
                            *sent == data.len()
                        }
                    }
                }
                Out::Fd(fd) => {
                    if !socket::try_send_fd(&self.stream, fd.as_fd())? {
                        return Ok(());
                    }
                    true
                }
            };
            out.progress = Some(Instant::now());
            if done {
                out.queue.pop_front();
            }
        }
        Ok(())
    }

    /// Tears the client's context down (`vtest_destroy_context`): the renderer context first,
    /// then the resources it created.
    pub fn close(mut self, shared: &mut Shared) {
        destroy_context(self.ctx.take(), shared);
    }

    /// Ends a session whose fd number is no longer its own (poll reported POLLNVAL: something
    /// closed it behind our back): the context goes as in [`Session::close`], but the number,
    /// which may by now name another file, is not closed again.
    pub fn abandon(self, shared: &mut Shared) {
        let Session { stream, ctx, .. } = self;
        let _ = std::os::fd::IntoRawFd::into_raw_fd(stream);
        destroy_context(ctx, shared);
    }

    fn reply(&self, reply: &Reply) -> VtestResult<()> {
        self.send(reply.encode())
    }

    fn dispatch(&mut self, request: Request, shared: &mut Shared) -> VtestResult<()> {
        let id = request.id();
        let Some(ctx) = self.ctx.as_mut() else {
            let Request::CreateRenderer(c) = request else {
                return Err(VtestError::ContextMissing(id.raw()));
            };
            let ctx_id = shared.alloc_ctx_id();
            let name = c.name_lossy();
            info!(ctx_id, %name, "client context created");
            self.ctx = Some(ClientContext {
                ctx_id,
                name,
                protocol_version: 0,
                capset_id: 0,
                initialized: false,
                resources: HashMap::new(),
                sync: SyncState::default(),
                next_fence: 1,
                implicit_fence: 0,
                retired: vec![0; MAX_TIMELINE_COUNT as usize],
            });
            return Ok(());
        };
        debug!(ctx_id = ctx.ctx_id, cmd = id.name(), "request");
        if needs_context(id) {
            lazy_init(ctx, shared)?;
        }
        match request {
            Request::CreateRenderer(_) => Err(VtestError::Unexpected(id.name())),
            Request::PingProtocolVersion => self.reply(&Reply::PingProtocolVersion),
            Request::ProtocolVersion { version } => self.protocol_version(version, shared),
            Request::GetCaps => self.send_caps(capset::VIRGL, shared),
            Request::GetCaps2 => self.send_caps(capset::VIRGL2, shared),
            Request::GetParam { param } => {
                let reply = if param == PARAM_MAX_TIMELINE_COUNT {
                    Reply::GetParam {
                        valid: true,
                        value: MAX_TIMELINE_COUNT,
                    }
                } else {
                    // HAS_TIMELINE_SYNCOBJ needs DRM syncobjs, which this server lacks.
                    Reply::GetParam {
                        valid: false,
                        value: 0,
                    }
                };
                self.reply(&reply)
            }
            Request::GetCapset {
                id: capset_id,
                version,
            } => self.get_capset(capset_id, version, shared),
            Request::ContextInit { capset_id } => {
                if capset_id == 0 {
                    return Err(VtestError::rejected(id.name(), "capset 0"));
                }
                if ctx.initialized {
                    return if ctx.capset_id == capset_id {
                        Ok(())
                    } else {
                        Err(VtestError::rejected(
                            id.name(),
                            "context exists with another capset",
                        ))
                    };
                }
                ctx.capset_id = capset_id;
                lazy_init(ctx, shared)
            }
            Request::ResourceBusyWait { handle, flags } => self.busy_wait(handle, flags, shared),
            Request::ResourceCreate(desc) => self.create_resource(id, desc, 0, shared),
            Request::ResourceCreate2(c) => self.create_resource(id, c.desc, c.data_size, shared),
            Request::ResourceUnref { handle } => {
                if ctx.resources.remove(&handle).is_some() {
                    shared.renderer.unref_resource(handle);
                }
                Ok(())
            }
            Request::TransferGet(t) => self.transfer_inline(t, None, shared),
            Request::TransferPut(p) => self.transfer_inline(p.transfer, Some(p.data), shared),
            Request::TransferGet2(t) => self.transfer2(id, t, TransferDirection::FromHost, shared),
            Request::TransferPut2(t) => self.transfer2(id, t, TransferDirection::ToHost, shared),
            Request::SubmitCmd { cmds } => {
                shared.renderer.submit_cmd(ctx.ctx_id, &cmds)?;
                let fence = ctx.fence_id();
                match shared
                    .renderer
                    .context_create_fence(ctx.ctx_id, 0, 0, fence)
                {
                    Ok(()) => ctx.implicit_fence = fence,
                    // A backend without fences completes work before submit returns.
                    Err(error) => debug!(%error, "no implicit fence; treating work as done"),
                }
                Ok(())
            }
            Request::ResourceCreateBlob(b) => self.create_blob(b, shared),
            Request::ResourceExportFd { handle } => {
                ctx.resource(id.name(), handle)?;
                let (_, fd) = host::export_blob(&shared.renderer, handle)?;
                self.reply(&Reply::ResourceExportFd)?;
                self.send_fd(fd)
            }
            Request::SyncCreate { value } => {
                let sync_id = ctx.sync.create(value)?;
                self.reply(&Reply::SyncCreate { sync_id })
            }
            Request::SyncUnref { sync_id } => {
                ctx.sync.unref(sync_id);
                Ok(())
            }
            Request::SyncRead { sync_id } => {
                let value = ctx.sync.read(sync_id)?;
                self.reply(&Reply::SyncRead { value })
            }
            Request::SyncWrite { sync_id, value } => ctx.sync.write(sync_id, value),
            Request::SyncWait(w) => {
                let fd = ctx.sync.wait(w.flags, w.timeout_ms, &w.points)?;
                self.reply(&Reply::SyncWait)?;
                self.send_fd(fd.into())
            }
            Request::SubmitCmd2(s) => {
                for batch in s.batches {
                    self.submit_batch(batch, shared)?;
                }
                Ok(())
            }
            // Upstream serves DRM_SYNC_* only when built with DRM and started with --drm.
            _ => Err(VtestError::Unexpected(id.name())),
        }
    }

    fn ctx(&mut self) -> &mut ClientContext {
        self.ctx
            .as_mut()
            .expect("dispatch runs only with a context")
    }

    fn protocol_version(&mut self, requested: u32, shared: &mut Shared) -> VtestResult<()> {
        let mut version = requested.min(vtest::PROTOCOL_VERSION);
        // Protocol 1 is deprecated: such clients get 0 (memfd, needed by 2+, is always there).
        if version == 1 {
            version = 0;
        }
        if shared.multi_clients && version < 3 {
            return Err(VtestError::rejected(
                "PROTOCOL_VERSION",
                "--multi-clients needs protocol 3 (server-chosen resource ids)",
            ));
        }
        self.ctx().protocol_version = version;
        self.decoder.set_protocol_version(version);
        self.reply(&Reply::ProtocolVersion { version })
    }

    fn send_caps(&mut self, capset_id: u32, shared: &mut Shared) -> VtestResult<()> {
        let (max_version, max_size) = shared.renderer.capset_info(capset_id);
        let caps = if capset_id == capset::VIRGL2 {
            if max_size == 0 {
                return Err(VtestError::rejected(
                    "GET_CAPS2",
                    "the renderer has no VIRGL2 capset",
                ));
            }
            shared.renderer.fill_caps(capset_id, max_version)?
        } else {
            // Upstream answers GET_CAPS even without a virgl capset (with no bytes).
            shared.renderer.fill_caps(capset_id, 1).unwrap_or_default()
        };
        self.reply(&Reply::Caps {
            capset: capset_id,
            caps,
        })
    }

    fn get_capset(&mut self, id: u32, version: u32, shared: &mut Shared) -> VtestResult<()> {
        let (max_version, max_size) = shared.renderer.capset_info(id);
        if (max_version == 0 && max_size == 0) || version > max_version {
            return self.reply(&Reply::GetCapset { caps: None });
        }
        if max_size % 4 != 0 {
            return Err(VtestError::rejected(
                "GET_CAPSET",
                "capset size is not dword aligned",
            ));
        }
        let mut caps = shared.renderer.fill_caps(id, version)?;
        caps.resize(max_size as usize, 0);
        self.reply(&Reply::GetCapset { caps: Some(caps) })
    }

    fn busy_wait(&mut self, handle: u32, flags: u32, shared: &mut Shared) -> VtestResult<()> {
        let ctx = self.ctx();
        // Clients probe PING support with a BUSY_WAIT on handle 0 before any context exists.
        if !ctx.initialized && handle != 0 {
            return Err(VtestError::rejected("RESOURCE_BUSY_WAIT", "no context yet"));
        }
        let mut busy = ctx.initialized && ctx.busy();
        let mut backoff = Duration::from_micros(50);
        while busy {
            let ctx_id = ctx.ctx_id;
            for f in shared.poll_for(ctx_id) {
                ctx.on_fence(&f);
            }
            busy = ctx.busy();
            if !busy || flags & BUSY_WAIT_FLAG_WAIT == 0 {
                break;
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(2));
        }
        self.reply(&Reply::BusyWait { busy })
    }

    fn create_resource(
        &mut self,
        cmd: VcmdId,
        desc: ResourceDesc,
        data_size: u32,
        shared: &mut Shared,
    ) -> VtestResult<()> {
        let ctx = self.ctx();
        let ctx_id = ctx.ctx_id;
        let v3 = ctx.protocol_version >= 3;
        if v3 && desc.handle != 0 {
            return Err(VtestError::rejected(
                cmd.name(),
                "handle must be 0 from protocol 3 on",
            ));
        }
        if !v3 && ctx.resources.contains_key(&desc.handle) {
            return Err(VtestError::rejected(cmd.name(), "resource exists"));
        }
        let res_id = if desc.handle != 0 {
            desc.handle
        } else {
            shared.alloc_res_id()
        };
        let shm = match data_size {
            0 => None,
            n => Some(SharedMemory::new(
                &format!("vtest-res-{res_id}"),
                u64::from(n),
            )?),
        };
        let client_fd = shm.as_ref().map(SharedMemory::try_clone_fd).transpose()?;
        let args = ResourceCreateArgs {
            handle: res_id,
            target: desc.target,
            format: desc.format,
            bind: desc.bind,
            width: desc.width,
            height: desc.height,
            depth: desc.depth,
            array_size: desc.array_size,
            last_level: desc.last_level,
            nr_samples: desc.nr_samples,
            flags: 0,
        };
        host::create_resource(&mut shared.renderer, ctx_id, args, shm)?;
        shared.renderer.ctx_attach_resource(ctx_id, res_id);
        self.ctx().resources.insert(
            res_id,
            ClientResource {
                shm_len: u64::from(data_size),
            },
        );
        if v3 {
            self.reply(&Reply::ResourceId { cmd, res_id })?;
        }
        if let Some(fd) = client_fd {
            self.send_fd(fd)?;
        }
        Ok(())
    }

    fn transfer_inline(
        &mut self,
        t: Transfer,
        put_data: Option<Vec<u8>>,
        shared: &mut Shared,
    ) -> VtestResult<()> {
        let cmd = if put_data.is_some() {
            "TRANSFER_PUT"
        } else {
            "TRANSFER_GET"
        };
        let ctx = self.ctx();
        let ctx_id = ctx.ctx_id;
        let shm_len = ctx.resource(cmd, t.handle)?.shm_len;
        let mut request = transfer_request(t.handle, t.level, t.region);
        request.stride = t.stride;
        request.layer_stride = t.layer_stride;
        let data_size = t.data_size as usize;
        if data_size == 0 {
            // No inline data: the transfer goes through the resource's own backing.
            if shm_len == 0 {
                return Err(VtestError::rejected(cmd, "offset beyond the backing store"));
            }
            let dir = if put_data.is_some() {
                TransferDirection::ToHost
            } else {
                TransferDirection::FromHost
            };
            return Ok(host::transfer(&mut shared.renderer, ctx_id, &request, dir)?);
        }
        match put_data {
            Some(mut data) => Ok(host::transfer_inline(
                &mut shared.renderer,
                ctx_id,
                &request,
                TransferDirection::ToHost,
                &mut data,
            )?),
            None => {
                if data_size > MAX_INLINE_TRANSFER {
                    return Err(VtestError::rejected(
                        cmd,
                        "data size above the server's limit",
                    ));
                }
                let mut data = vec![0u8; data_size];
                // Upstream still sends the (zeroed) data when the read fails, so the client's
                // stream stays in sync; only the log tells.
                if let Err(error) = host::transfer_inline(
                    &mut shared.renderer,
                    ctx_id,
                    &request,
                    TransferDirection::FromHost,
                    &mut data,
                ) {
                    warn!(%error, res_id = t.handle, "TRANSFER_GET failed");
                    data.iter_mut().for_each(|b| *b = 0);
                }
                data.truncate(data_size);
                self.send(data)
            }
        }
    }

    fn transfer2(
        &mut self,
        cmd: VcmdId,
        t: Transfer2,
        direction: TransferDirection,
        shared: &mut Shared,
    ) -> VtestResult<()> {
        let ctx = self.ctx();
        let shm_len = ctx.resource(cmd.name(), t.handle)?.shm_len;
        if u64::from(t.offset) >= shm_len {
            return Err(VtestError::rejected(
                cmd.name(),
                "offset beyond the backing store",
            ));
        }
        let mut request = transfer_request(t.handle, t.level, t.region);
        request.offset = u64::from(t.offset);
        Ok(host::transfer(
            &mut shared.renderer,
            ctx.ctx_id,
            &request,
            direction,
        )?)
    }

    fn create_blob(
        &mut self,
        b: vtest::ResourceCreateBlob,
        shared: &mut Shared,
    ) -> VtestResult<()> {
        const CMD: &str = "RESOURCE_CREATE_BLOB";
        let ctx_id = self.ctx().ctx_id;
        let res_id = shared.alloc_res_id();
        let (shm, mut fd) = match b.blob_type {
            BLOB_TYPE_GUEST | BLOB_TYPE_HOST3D_GUEST => {
                let shm = SharedMemory::new(&format!("vtest-res-{res_id}"), b.size)?;
                let fd = shm.try_clone_fd()?;
                (Some(shm), Some(fd))
            }
            BLOB_TYPE_HOST3D => (None, None),
            other => return Err(VtestError::rejected(CMD, format!("blob type {other}"))),
        };
        let shm_len = if shm.is_some() { b.size } else { 0 };
        host::create_blob(
            &mut shared.renderer,
            ctx_id,
            res_id,
            b.blob_type,
            b.flags,
            b.blob_id,
            b.size,
            shm,
        )?;
        if b.blob_type == BLOB_TYPE_HOST3D {
            match host::export_blob(&shared.renderer, res_id) {
                Ok((FdType::Dmabuf | FdType::Shm, exported)) => fd = Some(exported),
                Ok((other, _)) => {
                    shared.renderer.unref_resource(res_id);
                    return Err(VtestError::rejected(
                        CMD,
                        format!("cannot pass a {other:?} fd"),
                    ));
                }
                Err(error) => {
                    shared.renderer.unref_resource(res_id);
                    return Err(error.into());
                }
            }
        }
        shared.renderer.ctx_attach_resource(ctx_id, res_id);
        self.ctx()
            .resources
            .insert(res_id, ClientResource { shm_len });
        self.reply(&Reply::ResourceId {
            cmd: VcmdId::ResourceCreateBlob,
            res_id,
        })?;
        let fd = fd.ok_or_else(|| VtestError::rejected(CMD, "no fd to pass"))?;
        self.send_fd(fd)
    }

    fn submit_batch(&mut self, batch: vtest::SubmitBatch, shared: &mut Shared) -> VtestResult<()> {
        const CMD: &str = "SUBMIT_CMD2";
        if !batch.in_syncobjs.is_empty() || !batch.out_syncobjs.is_empty() {
            return Err(VtestError::Unexpected("SUBMIT_CMD2 with DRM syncobjs"));
        }
        if batch.flags & SUBMIT_CMD2_FLAG_IN_FENCE_FD != 0 {
            // Take the fd so the stream stays consistent, then refuse: the renderer cannot wait
            // on foreign fences.
            self.fds.pop_front().ok_or(VtestError::MissingFd(CMD))?;
            return Err(VtestError::rejected(CMD, "IN_FENCE_FD is not supported"));
        }
        if batch.flags & SUBMIT_CMD2_FLAG_OUT_FENCE_FD != 0 {
            return Err(VtestError::rejected(CMD, "OUT_FENCE_FD is not supported"));
        }
        if batch.ring_idx >= MAX_TIMELINE_COUNT {
            return Err(VtestError::rejected(
                CMD,
                format!("ring {} too large", batch.ring_idx),
            ));
        }
        let ctx = self.ctx();
        let ctx_id = ctx.ctx_id;
        if !batch.cmds.is_empty() {
            shared.renderer.submit_cmd(ctx_id, &batch.cmds)?;
        }
        if batch.flags & SUBMIT_CMD2_FLAG_RING_IDX == 0 {
            return ctx.sync.signal_points(CMD, &batch.syncs);
        }
        if batch.syncs.is_empty() {
            return Ok(());
        }
        let fence = ctx.fence_id();
        ctx.sync.queue(batch.ring_idx, fence, &batch.syncs)?;
        shared.renderer.context_create_fence(
            ctx_id,
            FENCE_FLAG_MERGEABLE,
            batch.ring_idx,
            fence,
        )?;
        Ok(())
    }
}

/// `vtest_destroy_context`: the renderer context first, then the resources it created.
fn destroy_context(ctx: Option<ClientContext>, shared: &mut Shared) {
    let Some(ctx) = ctx else {
        return;
    };
    if ctx.initialized {
        shared.renderer.destroy_context(ctx.ctx_id);
    }
    for res_id in ctx.resources.keys() {
        shared.renderer.unref_resource(*res_id);
    }
    info!(ctx_id = ctx.ctx_id, name = %ctx.name, "client context destroyed");
}

/// Creates the renderer context on first need (`vtest_lazy_init_context`).
fn lazy_init(ctx: &mut ClientContext, shared: &mut Shared) -> VtestResult<()> {
    if ctx.initialized {
        return Ok(());
    }
    if shared.multi_clients && ctx.protocol_version < 3 {
        return Err(VtestError::rejected("context", "protocol version too low"));
    }
    // Without CONTEXT_INIT, a vtest context is a VIRGL2 (GL) one.
    let capset_id = if ctx.capset_id != 0 {
        ctx.capset_id
    } else {
        capset::VIRGL2
    };
    shared
        .renderer
        .create_context(ctx.ctx_id, capset_id, &ctx.name)?;
    ctx.initialized = true;
    Ok(())
}
