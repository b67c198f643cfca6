//! One `SOCK_SEQPACKET` connection carrying render-server packets and their fds.
//!
//! Shared by the server, its workers and the proxy in `virgl-capi`, so both ends frame packets
//! and pass fds (`SCM_RIGHTS`) the same way. A packet that does not fit the receive buffer, or
//! that carries more fds than the receiver accepts, is an error: its extra fds are closed, never
//! leaked, and nothing is silently truncated.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};

use crate::VenusError;

/// Most fds one packet may carry (upstream receives into `int fds[8]`).
pub const MAX_PACKET_FDS: usize = 8;

/// What the kernel keeps back from a unix socket's send buffer per packet (`sk_sndbuf - 32`
/// bounds a `SOCK_SEQPACKET` packet in `unix_seqpacket_sendmsg`).
const UNIX_PACKET_OVERHEAD: usize = 32;

/// A connected `SOCK_SEQPACKET` socket (close-on-exec).
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// A new connected pair of channels.
pub fn channel_pair() -> Result<(Channel, Channel), VenusError> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| os("socketpair", e))?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

fn os(op: &'static str, errno: Errno) -> VenusError {
    VenusError::RenderServer(format!("{op}: {errno}"))
}

impl Channel {
    /// Wraps an fd that must be a `SOCK_SEQPACKET` unix socket (checked).
    pub fn from_fd(fd: OwnedFd) -> Result<Self, VenusError> {
        let ty = nix::sys::socket::getsockopt(&fd, nix::sys::socket::sockopt::SockType)
            .map_err(|e| os("getsockopt(SO_TYPE)", e))?;
        if ty != SockType::SeqPacket {
            return Err(VenusError::RenderServer(format!(
                "fd {} is a {ty:?} socket, not SOCK_SEQPACKET",
                fd.as_raw_fd()
            )));
        }
        Ok(Self { fd })
    }

    /// Gives the socket up as a plain fd (to hand it to another process or thread).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Sends one packet with `fds` attached. Never raises SIGPIPE: a closed peer is an error.
    pub fn send(&self, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> Result<(), VenusError> {
        let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let cmsgs = [ControlMessage::ScmRights(&raw)];
        let cmsgs: &[ControlMessage<'_>] = if raw.is_empty() { &[] } else { &cmsgs };
        let iov = [IoSlice::new(bytes)];
        loop {
            match sendmsg::<()>(
                self.fd.as_raw_fd(),
                &iov,
                cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Ok(n) if n == bytes.len() => return Ok(()),
                Ok(n) => {
                    return Err(VenusError::RenderServer(format!(
                        "short send: {n} of {} bytes",
                        bytes.len()
                    )))
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(os("sendmsg", e)),
            }
        }
    }

    /// Receives one packet into `buf`, accepting at most `max_fds` fds with it. Returns the
    /// packet length (0 when the peer has closed the connection) and the fds.
    pub fn recv(
        &self,
        buf: &mut [u8],
        max_fds: usize,
    ) -> Result<(usize, Vec<OwnedFd>), VenusError> {
        let mut cmsg = nix::cmsg_space!([RawFd; MAX_PACKET_FDS]);
        let (len, flags, fds) = loop {
            let mut iov = [IoSliceMut::new(buf)];
            match recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(msg) => {
                    let mut fds = Vec::new();
                    for c in msg.cmsgs().map_err(|e| os("recvmsg cmsgs", e))? {
                        if let ControlMessageOwned::ScmRights(raw) = c {
                            for fd in raw {
                                // SAFETY: SCM_RIGHTS installed this fd in our table just now;
                                // nothing else owns it.
                                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                            }
                        }
                    }
                    break (msg.bytes, msg.flags, fds);
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(os("recvmsg", e)),
            }
        };
        if flags.contains(MsgFlags::MSG_TRUNC) {
            return Err(VenusError::RenderServer(format!(
                "packet larger than {} bytes",
                buf.len()
            )));
        }
        if flags.contains(MsgFlags::MSG_CTRUNC) || fds.len() > max_fds {
            return Err(VenusError::RenderServer(format!(
                "packet carries more than {max_fds} fds"
            )));
        }
        Ok((len, fds))
    }

    /// Receives one packet of exactly `len` bytes (a reply, a command stream's overflow).
    /// A closed connection or a packet of another size is an error.
    pub fn recv_exact(
        &self,
        len: usize,
        max_fds: usize,
    ) -> Result<(Vec<u8>, Vec<OwnedFd>), VenusError> {
        // One spare byte so that a longer packet shows up as MSG_TRUNC, not as a match.
        let mut buf = vec![0u8; len + 1];
        let (n, fds) = self.recv(&mut buf, max_fds)?;
        if n == 0 && len != 0 {
            return Err(VenusError::RenderServer("connection closed".into()));
        }
        if n != len {
            return Err(VenusError::RenderServer(format!(
                "packet of {n} bytes where {len} were expected"
            )));
        }
        buf.truncate(len);
        Ok((buf, fds))
    }

    /// Asks for a send buffer of `bytes` (the kernel caps it at `net.core.wmem_max`) and returns
    /// the largest packet this socket can now send: a `SOCK_SEQPACKET` packet must fit the send
    /// buffer whole, and the default (about 208 KiB) is less than a large command stream.
    pub fn reserve_send(&self, bytes: usize) -> usize {
        use nix::sys::socket::{getsockopt, setsockopt, sockopt::SndBuf};
        let _ = setsockopt(&self.fd, SndBuf, &bytes);
        // The kernel reports (and refuses packets beyond) its doubled value less its overhead.
        getsockopt(&self.fd, SndBuf).map_or(0, |b| b.saturating_sub(UNIX_PACKET_OVERHEAD))
    }

    /// Whether the peer has hung up (checked without blocking).
    pub fn peer_closed(&self) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::empty())];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(_) => fds[0]
                .revents()
                .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR)),
            Err(_) => true,
        }
    }

    /// Shuts both directions down: the peer's next receive sees the end of the connection.
    pub fn shutdown(&self) {
        let _ = nix::sys::socket::shutdown(self.fd.as_raw_fd(), nix::sys::socket::Shutdown::Both);
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_and_fds_cross() {
        let (a, b) = channel_pair().unwrap();
        let (x, _y) = channel_pair().unwrap();
        a.send(b"hello", &[x.as_fd()]).unwrap();
        let (bytes, fds) = b.recv_exact(5, 1).unwrap();
        assert_eq!(bytes, b"hello");
        assert_eq!(fds.len(), 1);
        Channel::from_fd(fds.into_iter().next().unwrap()).expect("a seqpacket socket");

        // Too many fds: refused (and closed by the drop of the Vec).
        a.send(b"x", &[x.as_fd(), x.as_fd()]).unwrap();
        assert!(b.recv_exact(1, 1).is_err());
        // Too long: refused.
        a.send(&[0; 16], &[]).unwrap();
        assert!(b.recv_exact(8, 0).is_err());

        // A packet larger than the default send buffer, after reserving room for it.
        let big = vec![7u8; 512 * 1024];
        if a.reserve_send(big.len() + 4096) >= big.len() {
            a.send(&big, &[]).unwrap();
            assert_eq!(b.recv_exact(big.len(), 0).unwrap().0, big);
        }

        drop(a);
        assert!(b.peer_closed());
        let mut buf = [0u8; 4];
        assert_eq!(b.recv(&mut buf, 0).unwrap().0, 0);
    }
}
