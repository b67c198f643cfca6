//! The listening socket and fd passing.
//!
//! The socket file is created with owner-only permissions (the umask is narrowed around `bind`,
//! so there is no window where others could connect) and appears only once it accepts
//! connections (bound under a private name, renamed into place). An existing path is reused only
//! when it is a stale socket owned by us: a path owned by someone else, a non-socket, or a socket
//! a live server still answers on is refused.
//!
//! fds travel as upstream sends them: `SCM_RIGHTS` on a one-byte message.

use std::collections::VecDeque;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use nix::sys::socket::{recvmsg, send, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use nix::sys::stat::{umask, Mode};

use crate::{VtestError, VtestResult};

/// Most fds a client may have in flight before it is considered hostile.
pub const MAX_PENDING_FDS: usize = 64;

/// Binds and listens on `path` with mode 0600.
pub fn listen(path: &Path) -> VtestResult<UnixListener> {
    let path_error = |reason: String| VtestError::SocketPath {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if meta.uid() != nix::unistd::geteuid().as_raw() {
                return Err(path_error(format!(
                    "exists and is owned by uid {}",
                    meta.uid()
                )));
            }
            if !meta.file_type().is_socket() {
                return Err(path_error("exists and is not a socket".into()));
            }
            if UnixStream::connect(path).is_ok() {
                return Err(path_error("another server is listening on it".into()));
            }
            std::fs::remove_file(path)
                .map_err(|e| path_error(format!("cannot remove the stale socket: {e}")))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(path_error(e.to_string())),
    }
    // bind(2) creates the path before listen(2) makes it accept connections: a client that
    // connects in between (one started right after the server, watching for the path) is
    // refused. So the socket is bound under a private name in the same directory and renamed
    // into place once it listens. If that name cannot be bound (a path near the length limit),
    // the path is bound directly.
    let staging = path
        .parent()
        .map(|dir| dir.join(format!(".vtest-{:x}", std::process::id())));
    if let Some(staging) = staging {
        let _ = std::fs::remove_file(&staging);
        if let Ok(listener) = bind_owner_only(&staging) {
            return match std::fs::rename(&staging, path) {
                Ok(()) => Ok(listener),
                Err(e) => {
                    let _ = std::fs::remove_file(&staging);
                    Err(path_error(format!("rename into place: {e}")))
                }
            };
        }
    }
    bind_owner_only(path).map_err(|e| path_error(format!("bind: {e}")))
}

/// Binds and listens with mode 0600.
fn bind_owner_only(path: &Path) -> std::io::Result<UnixListener> {
    // The process is still single-threaded here, so narrowing the umask affects only this bind.
    let old = umask(Mode::from_bits_truncate(0o177));
    let listener = UnixListener::bind(path);
    umask(old);
    listener
}

/// Sends `fd` to the peer with one zero byte, as `vtest_send_fd` does.
pub fn send_fd(stream: &UnixStream, fd: BorrowedFd<'_>) -> VtestResult<()> {
    let raw = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&raw)];
    let iov = [IoSlice::new(&[0u8])];
    loop {
        match sendmsg::<()>(
            stream.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(1) => return Ok(()),
            Ok(_) => {
                return Err(VtestError::errno(
                    "sendmsg(SCM_RIGHTS)",
                    nix::errno::Errno::EIO,
                ))
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(VtestError::errno("sendmsg(SCM_RIGHTS)", e)),
        }
    }
}

/// Sends what the socket takes now of `bytes`; `None` when it takes nothing (it would block).
pub fn try_send(stream: &UnixStream, bytes: &[u8]) -> VtestResult<Option<usize>> {
    loop {
        match send(
            stream.as_raw_fd(),
            bytes,
            MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
        ) {
            Ok(n) => return Ok(Some(n)),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(VtestError::errno("send", e)),
        }
    }
}

/// [`send_fd`] without blocking: `false` when the socket has no room for it now.
pub fn try_send_fd(stream: &UnixStream, fd: BorrowedFd<'_>) -> VtestResult<bool> {
    let raw = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&raw)];
    let iov = [IoSlice::new(&[0u8])];
    loop {
        match sendmsg::<()>(
            stream.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(1) => return Ok(true),
            Ok(_) => {
                return Err(VtestError::errno(
                    "sendmsg(SCM_RIGHTS)",
                    nix::errno::Errno::EIO,
                ))
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => return Ok(false),
            Err(e) => return Err(VtestError::errno("sendmsg(SCM_RIGHTS)", e)),
        }
    }
}

/// What one non-blocking receive produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// This many bytes were stored (fds, if any, were queued).
    Bytes(usize),
    /// Nothing available right now.
    WouldBlock,
    /// The peer closed the connection.
    Closed,
}

/// Receives available bytes into `buf` without blocking, queueing any passed fds on `fds`.
pub fn recv_with_fds(
    stream: &UnixStream,
    buf: &mut [u8],
    fds: &mut VecDeque<OwnedFd>,
) -> VtestResult<Received> {
    let mut cmsg = nix::cmsg_space!([RawFd; 8]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => break msg,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => return Ok(Received::WouldBlock),
            Err(nix::errno::Errno::ECONNRESET) => return Ok(Received::Closed),
            Err(e) => return Err(VtestError::errno("recvmsg", e)),
        }
    };
    let mut received = Vec::new();
    for c in msg
        .cmsgs()
        .map_err(|e| VtestError::errno("recvmsg cmsgs", e))?
    {
        if let ControlMessageOwned::ScmRights(raw_fds) = c {
            for raw in raw_fds {
                // SAFETY: the kernel has just installed `raw` in our fd table for this message;
                // nothing else refers to it, so taking ownership here is the only ownership.
                received.push(unsafe { OwnedFd::from_raw_fd(raw) });
            }
        }
    }
    let truncated = msg.flags.contains(MsgFlags::MSG_CTRUNC);
    let bytes = msg.bytes;
    if truncated {
        return Err(VtestError::rejected(
            "recvmsg",
            "control data truncated (too many fds)",
        ));
    }
    if fds.len() + received.len() > MAX_PENDING_FDS {
        return Err(VtestError::rejected("recvmsg", "too many fds in flight"));
    }
    fds.extend(received);
    if bytes == 0 {
        return Ok(Received::Closed);
    }
    Ok(Received::Bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn listen_is_owner_only_and_refuses_live_or_foreign_paths() {
        let dir = std::env::temp_dir().join(format!("virgl-vtest-sock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let listener = listen(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Listening as soon as the path exists; the staging name is gone.
        drop(UnixStream::connect(&path).unwrap());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // A live server owns it.
        assert!(matches!(listen(&path), Err(VtestError::SocketPath { .. })));
        drop(listener);
        // Stale socket of ours: reused.
        let _again = listen(&path).unwrap();
        // Not a socket: refused.
        let file = dir.join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(listen(&file), Err(VtestError::SocketPath { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fds_travel_with_their_byte() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, _w) = std::io::pipe().unwrap();
        (&a).write_all(b"hdr").unwrap();
        send_fd(&a, std::os::fd::AsFd::as_fd(&r)).unwrap();
        let mut fds = VecDeque::new();
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while got.len() < 4 {
            match recv_with_fds(&b, &mut buf, &mut fds).unwrap() {
                Received::Bytes(n) => got.extend_from_slice(&buf[..n]),
                Received::WouldBlock => std::thread::yield_now(),
                Received::Closed => panic!("closed"),
            }
        }
        assert_eq!(got, b"hdr\0");
        assert_eq!(fds.len(), 1);
        drop(a);
        assert_eq!(
            recv_with_fds(&b, &mut buf, &mut fds).unwrap(),
            Received::Closed
        );
        let mut unused = [0u8; 1];
        let _ = (&b).read(&mut unused);
    }
}
