//! Starting a `virgl-render-server` process connected to us (upstream `proxy_server_fork`).

use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};

use super::server::WorkerMode;
use super::transport::{channel_pair, Channel};
use crate::VenusError;

/// Starts the server binary at `path` with `--socket-fd` (and `--worker-threads` for
/// [`WorkerMode::Thread`]) and returns the child and our end of the connection.
///
/// The child gets its own process group, as upstream does, so a terminal's signals meant for
/// the embedder do not reach it; it exits when our end closes.
pub fn spawn_server(path: &Path, mode: WorkerMode) -> Result<(Child, Channel), VenusError> {
    let (ours, remote) = channel_pair()?;
    let remote_fd: RawFd = remote.as_fd().as_raw_fd();
    let mut cmd = Command::new(path);
    cmd.arg("--socket-fd").arg(remote_fd.to_string());
    if mode == WorkerMode::Thread {
        cmd.arg("--worker-threads");
    }
    cmd.process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only calls fcntl, which is
    // async-signal-safe; `remote_fd` stays open in the child (our `remote` lives until spawn
    // returns).
    unsafe {
        cmd.pre_exec(move || {
            // Let exactly this fd survive exec (the pair is created close-on-exec).
            if libc_clear_cloexec(remote_fd) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| VenusError::RenderServer(format!("cannot start {}: {e}", path.display())))?;
    drop(remote);
    Ok((child, ours))
}

/// `fcntl(fd, F_SETFD, 0)` without allocating (we are between fork and exec).
fn libc_clear_cloexec(fd: RawFd) -> i32 {
    // SAFETY: `fd` is open in this (child) process for the whole call.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    match nix::fcntl::fcntl(
        borrowed,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    ) {
        Ok(_) => 0,
        Err(_) => -1,
    }
}
