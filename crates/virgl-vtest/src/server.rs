//! Accepting clients and the process model.
//!
//! - Default: one process per client. The listener accepts, then re-executes this binary with
//!   `--client-fd N` on the accepted socket, so a client that crashes its GL driver (or the
//!   renderer) takes down only its own process. Children are reaped as they exit.
//! - `--no-fork`: clients are served in this process, one at a time; the renderer is created
//!   when a client arrives and dropped when it leaves, as upstream does. `--no-loop-or-fork`
//!   stops after the first client.
//! - `--no-fork --multi-clients`: one poll loop over all clients, one shared renderer, each
//!   client its own renderer context. A client that misbehaves is dropped; the others go on.
//!
//! Running out of fds or memory while accepting is logged and retried after a short pause (the
//! connection waits in the backlog) instead of ending the server; a session whose fd number
//! poll reports as closed (POLLNVAL: a double close somewhere in the process) is dropped
//! without closing that number again.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use tracing::{error, info, warn};

use crate::args::Options;
use crate::session::{Outcome, Session, Shared, WRITE_STALL_LIMIT};
use crate::{socket, VtestError, VtestResult};

/// Runs the server as the options say; returns when it is done serving.
pub fn run(opts: &Options) -> VtestResult<()> {
    if let Some(fd) = opts.client_fd {
        return serve_inherited_client(fd, opts);
    }
    let listener = socket::listen(&opts.socket_path)?;
    info!(path = %opts.socket_path.display(), fork = opts.fork, "listening");
    let result = if opts.fork {
        run_forking(&listener, opts)
    } else {
        EventLoop::new(Some(listener), opts).run()
    };
    let _ = std::fs::remove_file(&opts.socket_path);
    result
}

/// How long the listener is left alone after accepting failed for lack of fds or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What one accept produced.
enum Accepted {
    Client(UnixStream),
    /// Nothing to take after all (the connection was aborted first).
    Nothing,
    /// The process is out of fds or memory: the connection waits in the backlog; try again
    /// after [`ACCEPT_BACKOFF`] (the listener stays readable, so polling it now would spin).
    Later,
}

/// Accepts one client. Only errors that say the listener itself is unusable end the server:
/// running out of fds (say, because clients hold many resources) must not stop the clients
/// already connected from being served.
fn accept(listener: &UnixListener) -> VtestResult<Accepted> {
    use nix::errno::Errno;
    loop {
        match listener.accept() {
            Ok((stream, _)) => return Ok(Accepted::Client(stream)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let errno = Errno::from_raw(e.raw_os_error().unwrap_or(0));
                return match errno {
                    Errno::EAGAIN | Errno::ECONNABORTED | Errno::EPROTO => Ok(Accepted::Nothing),
                    Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM => {
                        error!(error = %e, "cannot accept a client now; retrying shortly");
                        Ok(Accepted::Later)
                    }
                    _ => Err(VtestError::io("accept", e)),
                };
            }
        }
    }
}

fn run_forking(listener: &UnixListener, opts: &Options) -> VtestResult<()> {
    let exe = std::env::current_exe().map_err(|e| VtestError::io("current_exe", e))?;
    let mut children: Vec<Child> = Vec::new();
    loop {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        // Wake up now and then to reap exited client processes.
        match poll(&mut fds, PollTimeout::from(1000u16)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(VtestError::errno("poll", e)),
        }
        children.retain_mut(|child| match child.try_wait() {
            Ok(Some(status)) => {
                info!(pid = child.id(), %status, "client process exited");
                false
            }
            Ok(None) => true,
            Err(e) => {
                warn!(pid = child.id(), error = %e, "cannot wait for client process");
                false
            }
        });
        if !fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN))
        {
            continue;
        }
        let stream = match accept(listener)? {
            Accepted::Client(stream) => stream,
            Accepted::Nothing => continue,
            Accepted::Later => {
                std::thread::sleep(ACCEPT_BACKOFF);
                continue;
            }
        };
        // The child inherits exactly this fd: clear close-on-exec on it only. The parent is
        // single-threaded, so no other spawn can race and inherit it.
        fcntl(&stream, FcntlArg::F_SETFD(FdFlag::empty()))
            .map_err(|e| VtestError::errno("fcntl(F_SETFD)", e))?;
        let fd = stream.as_raw_fd();
        match Command::new(&exe).args(opts.child_args(fd)).spawn() {
            Ok(child) => {
                info!(pid = child.id(), "client process started");
                children.push(child);
            }
            Err(e) => error!(error = %e, "cannot start a client process; dropping the client"),
        }
        // Parent's copy closes here; the child keeps the connection.
        drop(stream);
    }
}

fn serve_inherited_client(fd: RawFd, opts: &Options) -> VtestResult<()> {
    // Refuse fds that are not open before taking ownership of the number.
    fcntl(
        // SAFETY: only borrowed for this one F_GETFD call; `fd` is a number from our command
        // line, and F_GETFD on a closed number just fails with EBADF.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
        FcntlArg::F_GETFD,
    )
    .map_err(|e| VtestError::errno("--client-fd", e))?;
    // SAFETY: `fd` is open (checked above) and was handed to this process by the listening
    // server for it to own; nothing else in this process refers to it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let stat = nix::sys::stat::fstat(&owned).map_err(|e| VtestError::errno("fstat", e))?;
    let kind = nix::sys::stat::SFlag::from_bits_truncate(stat.st_mode);
    if kind & nix::sys::stat::SFlag::S_IFMT != nix::sys::stat::SFlag::S_IFSOCK {
        return Err(VtestError::Usage(format!(
            "--client-fd {fd} is not a socket"
        )));
    }
    fcntl(&owned, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
        .map_err(|e| VtestError::errno("fcntl(F_SETFD)", e))?;
    let mut event_loop = EventLoop::new(None, opts);
    event_loop.add_client(UnixStream::from(owned))?;
    event_loop.run()
}

/// What poll said about one session's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    Idle,
    /// Input, room for queued replies, hang-up or an error.
    Readable,
    /// The fd is not open (POLLNVAL).
    Invalid,
}

/// The in-process loop (`--no-fork`, and each per-client process).
struct EventLoop<'a> {
    listener: Option<UnixListener>,
    opts: &'a Options,
    sessions: Vec<Session>,
    shared: Option<Shared>,
    /// Accepting resumes at this time (see [`Accepted::Later`]).
    accept_paused_until: Option<Instant>,
}

impl<'a> EventLoop<'a> {
    fn new(listener: Option<UnixListener>, opts: &'a Options) -> Self {
        Self {
            listener,
            opts,
            sessions: Vec::new(),
            shared: None,
            accept_paused_until: None,
        }
    }

    fn add_client(&mut self, stream: UnixStream) -> VtestResult<()> {
        if self.shared.is_none() {
            // Upstream stops serving when the renderer cannot be initialised.
            let flags = self.opts.renderer_flags()?;
            let node = self.opts.rendernode.as_deref();
            let shared = Shared::new(flags, self.opts.multi_clients, node)
                .inspect_err(|e| error!(error = %e, "failed to initialise the renderer"))?;
            self.shared = Some(shared);
        }
        self.sessions.push(Session::new(stream)?);
        info!(clients = self.sessions.len(), "client connected");
        Ok(())
    }

    fn run(&mut self) -> VtestResult<()> {
        let mut served_any = !self.sessions.is_empty();
        loop {
            let may_accept = self.listener.is_some()
                && (self.sessions.is_empty() || self.opts.multi_clients)
                && (self.opts.keep_looping || !served_any);
            if self.sessions.is_empty() && !may_accept {
                return Ok(());
            }
            let paused = self
                .accept_paused_until
                .is_some_and(|until| Instant::now() < until);
            let accepting = may_accept && !paused;
            // While accepting is paused, wake up when it may resume.
            let polling = paused || self.sessions.iter().any(Session::needs_poll);
            let (listen_ready, ready) = self.wait(accepting, polling)?;
            for (index, readiness) in ready.iter().enumerate().rev() {
                let shared = self.shared.as_mut().expect("sessions imply a renderer");
                match readiness {
                    Readiness::Idle => continue,
                    Readiness::Readable => {}
                    Readiness::Invalid => {
                        // Something in this process closed the session's fd number (a double
                        // close elsewhere). The number may already name another file, so the
                        // session gives it up without closing it again.
                        error!("client socket closed behind the server's back; dropping it");
                        self.sessions.swap_remove(index).abandon(shared);
                        continue;
                    }
                }
                let outcome = self.sessions[index].on_readable(shared);
                let close = match outcome {
                    Ok(Outcome::Open) => false,
                    Ok(Outcome::Closed) => {
                        info!("client disconnected");
                        true
                    }
                    Err(e) => {
                        warn!(error = %e, "dropping client");
                        true
                    }
                };
                if close {
                    self.sessions.swap_remove(index).close(shared);
                }
            }
            if let Some(shared) = self.shared.as_mut() {
                for fence in shared.poll_all() {
                    if let Some(s) = self
                        .sessions
                        .iter_mut()
                        .find(|s| s.ctx_id() == Some(fence.ctx_id))
                    {
                        s.on_fence(&fence);
                    }
                }
            }
            self.sessions.iter_mut().for_each(Session::collect_expired);
            for index in (0..self.sessions.len()).rev() {
                if self.sessions[index].write_stalled(WRITE_STALL_LIMIT) {
                    warn!("client stopped reading its replies; dropping it");
                    let shared = self.shared.as_mut().expect("sessions imply a renderer");
                    self.sessions.swap_remove(index).close(shared);
                }
            }
            if self.sessions.is_empty() && self.shared.is_some() {
                // Upstream cleans the renderer up after the last client.
                self.shared = None;
                info!("last client gone; renderer released");
            }
            if listen_ready {
                let listener = self
                    .listener
                    .as_ref()
                    .expect("accepting implies a listener");
                match accept(listener)? {
                    Accepted::Client(stream) => {
                        self.add_client(stream)?;
                        served_any = true;
                    }
                    Accepted::Nothing => {}
                    Accepted::Later => {
                        self.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                    }
                }
            }
        }
    }

    /// Waits for input; returns whether the listener is readable and each session's state.
    fn wait(&self, accepting: bool, polling: bool) -> VtestResult<(bool, Vec<Readiness>)> {
        let mut fds: Vec<PollFd<'_>> = self
            .sessions
            .iter()
            .map(|s| {
                // A session with replies queued reads nothing until they are written.
                let events = if s.wants_write() {
                    PollFlags::POLLOUT
                } else {
                    PollFlags::POLLIN
                };
                PollFd::new(s.fd(), events)
            })
            .collect();
        if accepting {
            let listener = self
                .listener
                .as_ref()
                .expect("accepting implies a listener");
            fds.push(PollFd::new(listener.as_fd(), PollFlags::POLLIN));
        }
        // Fences have no fd to wait on through the renderer API: poll it briefly while any are
        // outstanding, and sleep in poll(2) otherwise.
        let timeout = if polling {
            PollTimeout::from(1u8)
        } else {
            PollTimeout::from(1000u16)
        };
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {
                return Ok((false, vec![Readiness::Idle; self.sessions.len()]))
            }
            Err(e) => return Err(VtestError::errno("poll", e)),
        }
        let is_ready = |fd: &PollFd<'_>| {
            fd.revents().is_some_and(|r| {
                r.intersects(
                    PollFlags::POLLIN
                        | PollFlags::POLLOUT
                        | PollFlags::POLLHUP
                        | PollFlags::POLLERR,
                )
            })
        };
        // POLLNVAL is reported whatever was asked for; ignoring it would spin this loop.
        let readiness = |fd: &PollFd<'_>| match fd.revents() {
            Some(r) if r.contains(PollFlags::POLLNVAL) => Readiness::Invalid,
            _ if is_ready(fd) => Readiness::Readable,
            _ => Readiness::Idle,
        };
        let ready: Vec<Readiness> = fds[..self.sessions.len()].iter().map(readiness).collect();
        let listen_ready = accepting && fds.last().is_some_and(is_ready);
        Ok((listen_ready, ready))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_session_fd_closed_behind_our_back_is_reported_not_ignored() {
        let opts = Options::default();
        let mut event_loop = EventLoop::new(None, &opts);
        let (ours, _peer) = UnixStream::pair().unwrap();
        let (live, live_peer) = UnixStream::pair().unwrap();
        let raw = ours.as_raw_fd();
        event_loop.sessions.push(Session::new(ours).unwrap());
        event_loop.sessions.push(Session::new(live).unwrap());
        (&live_peer).write_all(b"x").unwrap();
        // SAFETY: closes the number the first session owns, as a double close elsewhere would;
        // that session is forgotten below, so the number is not closed twice.
        assert_eq!(unsafe { libc::close(raw) }, 0);
        let (listen_ready, ready) = event_loop.wait(false, false).unwrap();
        assert!(!listen_ready);
        assert_eq!(ready, [Readiness::Invalid, Readiness::Readable]);
        std::mem::forget(event_loop.sessions.swap_remove(0));
    }
}
