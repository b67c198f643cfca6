//! The server process: the client-op loop on the proxy's socket and the context workers.
//!
//! Each `CREATE_CONTEXT` makes a new socket pair, hands one end to a new worker (a forked
//! process by default, a thread with [`WorkerMode::Thread`]) and replies `{ok}` with the other
//! end. A worker that dies (a crash, a SIGKILL, an error in its context) is reaped here and
//! loses only its own context; the server keeps serving. When the proxy closes the socket the
//! server kills its workers and returns.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::thread::JoinHandle;

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use virgl_protocol::render_server::{ClientRequest, CreateContextReply, CreateContextRequest};

use super::transport::{channel_pair, Channel};
use super::worker::{run_worker, WorkerArgs};
use crate::VenusError;

/// How context workers run (upstream's `render-server-worker` build option, here a flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerMode {
    /// One forked process per context: a crash loses only that context (default).
    #[default]
    Process,
    /// One thread per context in the server process: cheaper, but a crash (a segfault in the
    /// host driver) takes every context down.
    Thread,
}

/// What [`run_server`] returns to its caller.
#[derive(Debug)]
pub enum ServerExit {
    /// The proxy closed the connection; every worker has been stopped.
    Done,
    /// This is a freshly forked worker process: run [`run_worker`] with these arguments and
    /// exit (the server's own state was left to the parent).
    Worker(WorkerArgs),
}

enum WorkerHandle {
    Process {
        pid: Pid,
        /// Set once `waitpid` collected it: the pid may be reused, never signal it again.
        reaped: bool,
    },
    Thread {
        join: Option<JoinHandle<()>>,
        /// A duplicate of the worker's socket, to shut it down on destroy.
        control: OwnedFd,
    },
}

impl WorkerHandle {
    fn stop(&mut self) {
        match self {
            Self::Process { pid, reaped } => {
                if !*reaped {
                    // As upstream: kill so the worker exits in finite time, then reap.
                    let _ = kill(*pid, Signal::SIGKILL);
                    let _ = waitpid(*pid, None);
                    *reaped = true;
                }
            }
            Self::Thread { join, control } => {
                let _ = nix::sys::socket::shutdown(
                    std::os::fd::AsRawFd::as_raw_fd(control),
                    nix::sys::socket::Shutdown::Both,
                );
                if let Some(join) = join.take() {
                    let _ = join.join();
                }
            }
        }
    }
}

struct Server {
    client: Channel,
    mode: WorkerMode,
    init_flags: u32,
    workers: BTreeMap<u32, WorkerHandle>,
}

/// Serves client ops on `client` until the proxy closes it.
///
/// In [`WorkerMode::Process`] the server must be single-threaded when it calls this: workers
/// are forked from it.
pub fn run_server(client: Channel, mode: WorkerMode) -> Result<ServerExit, VenusError> {
    let mut srv = Server {
        client,
        mode,
        init_flags: 0,
        workers: BTreeMap::new(),
    };
    let result = srv.run();
    if !matches!(result, Ok(ServerExit::Worker(_))) {
        for (_, mut w) in std::mem::take(&mut srv.workers) {
            w.stop();
        }
    }
    result
}

impl Server {
    fn run(&mut self) -> Result<ServerExit, VenusError> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        // Larger than any client request (CREATE_CONTEXT, 40 bytes): decode checks exact sizes.
        let mut buf = [0u8; 64];
        loop {
            // Wake up now and then to reap workers that died on their own.
            let mut fds = [PollFd::new(self.client.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(500u16)) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => {
                    self.reap();
                    continue;
                }
                Ok(_) => {}
                Err(e) => return Err(VenusError::RenderServer(format!("poll: {e}"))),
            }
            self.reap();
            let (len, _fds) = self.client.recv(&mut buf, 0)?;
            if len == 0 {
                tracing::debug!("proxy closed the connection");
                return Ok(ServerExit::Done);
            }
            // A malformed packet ends the server, as upstream; a failed op is only logged.
            let request = ClientRequest::decode(&buf[..len])
                .map_err(|e| VenusError::RenderServer(format!("client request: {e}")))?;
            if let Some(worker) = self.dispatch(request)? {
                return Ok(ServerExit::Worker(worker));
            }
        }
    }

    /// Collects exited worker processes.
    fn reap(&mut self) {
        if self.mode != WorkerMode::Process {
            return;
        }
        for (ctx_id, w) in &mut self.workers {
            if let WorkerHandle::Process { pid, reaped } = w {
                if *reaped {
                    continue;
                }
                match waitpid(*pid, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) => {}
                    Ok(status) => {
                        *reaped = true;
                        tracing::warn!(ctx_id, ?status, "context worker exited");
                    }
                    Err(_) => *reaped = true,
                }
            }
        }
    }

    fn dispatch(&mut self, request: ClientRequest) -> Result<Option<WorkerArgs>, VenusError> {
        match request {
            ClientRequest::Nop => {}
            ClientRequest::Init { flags } => self.init_flags = flags,
            ClientRequest::Reset => {
                for (_, mut w) in std::mem::take(&mut self.workers) {
                    w.stop();
                }
            }
            ClientRequest::DestroyContext { ctx_id } => {
                if let Some(mut w) = self.workers.remove(&ctx_id) {
                    w.stop();
                }
            }
            ClientRequest::CreateContext(req) => return self.create_context(&req),
        }
        Ok(None)
    }

    fn create_context(
        &mut self,
        req: &CreateContextRequest,
    ) -> Result<Option<WorkerArgs>, VenusError> {
        let ctx_id = req.ctx_id;
        let refuse = |srv: &Self, why: String| {
            tracing::warn!(ctx_id, "create_context refused: {why}");
            srv.client
                .send(&CreateContextReply { ok: false }.encode(), &[])
        };
        if self.workers.contains_key(&ctx_id) {
            refuse(self, "the id is in use".into())?;
            return Ok(None);
        }
        let (ours, remote) = match channel_pair() {
            Ok(pair) => pair,
            Err(e) => {
                refuse(self, e.to_string())?;
                return Ok(None);
            }
        };
        let args = WorkerArgs {
            ctx_id,
            name: req.name(),
            init_flags: self.init_flags,
            channel: ours,
        };
        let handle = match self.mode {
            WorkerMode::Thread => {
                let control = match args.channel.as_fd().try_clone_to_owned() {
                    Ok(fd) => fd,
                    Err(e) => {
                        refuse(self, format!("dup: {e}"))?;
                        return Ok(None);
                    }
                };
                let spawned = std::thread::Builder::new()
                    .name(format!("vkr-ctx-{ctx_id}"))
                    .spawn(move || {
                        let _ = run_worker(args);
                    });
                match spawned {
                    Ok(join) => WorkerHandle::Thread {
                        join: Some(join),
                        control,
                    },
                    Err(e) => {
                        refuse(self, format!("thread: {e}"))?;
                        return Ok(None);
                    }
                }
            }
            WorkerMode::Process => {
                // SAFETY: in process mode the server is single-threaded (run_server's
                // contract), so the child may run arbitrary code after fork.
                match unsafe { fork() } {
                    Err(e) => {
                        refuse(self, format!("fork: {e}"))?;
                        return Ok(None);
                    }
                    Ok(ForkResult::Child) => {
                        // The child keeps only its own socket: the client connection and the
                        // other workers belong to the parent (forgotten, not stopped).
                        std::mem::forget(std::mem::take(&mut self.workers));
                        drop(remote);
                        // Die with the server rather than linger if it is killed.
                        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
                        let comm = format!("vkr-{ctx_id}-{}", args.name);
                        let comm: String = comm.chars().take(15).collect();
                        if let Ok(c) = std::ffi::CString::new(comm) {
                            let _ = nix::sys::prctl::set_name(&c);
                        }
                        return Ok(Some(args));
                    }
                    Ok(ForkResult::Parent { child }) => {
                        drop(args);
                        WorkerHandle::Process {
                            pid: child,
                            reaped: false,
                        }
                    }
                }
            }
        };
        self.workers.insert(ctx_id, handle);
        let sent = self
            .client
            .send(&CreateContextReply { ok: true }.encode(), &[remote.as_fd()]);
        drop(remote);
        sent.map(|()| None)
    }
}
