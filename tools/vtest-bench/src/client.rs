//! A minimal vtest client: Mesa's handshake, requests, replies, and the shm fds the server
//! sends with SCM_RIGHTS.

use std::collections::VecDeque;
use std::io::{IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::ptr::NonNull;
use std::time::Duration;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use virgl_protocol::vtest::{
    CreateRenderer, Header, Reply, Request, ResourceCreate2, ResourceDesc, VcmdId,
    BUSY_WAIT_FLAG_WAIT, HEADER_SIZE, PROTOCOL_VERSION,
};

use crate::error::{BenchError, BenchResult};

/// One connection to a vtest server.
pub struct Client {
    stream: UnixStream,
    pending: Vec<u8>,
    fds: VecDeque<OwnedFd>,
    /// The version the server agreed to.
    pub version: u32,
}

impl Client {
    /// Connects and performs the handshake Mesa's virgl winsys does: CREATE_RENDERER, a
    /// PING_PROTOCOL_VERSION with a dummy BUSY_WAIT, then PROTOCOL_VERSION.
    pub fn connect(path: &Path, name: &str) -> BenchResult<Client> {
        let stream = UnixStream::connect(path).map_err(BenchError::io("connecting"))?;
        // A server that stops answering must not hang the comparison forever.
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(BenchError::io("socket timeout"))?;
        let mut client = Client {
            stream,
            pending: Vec::new(),
            fds: VecDeque::new(),
            version: 0,
        };
        client.send(&Request::CreateRenderer(CreateRenderer::new(name)))?;
        client.send(&Request::PingProtocolVersion)?;
        client.send(&Request::ResourceBusyWait {
            handle: 0,
            flags: 0,
        })?;
        client.reply(VcmdId::PingProtocolVersion)?;
        client.reply(VcmdId::ResourceBusyWait)?;
        client.send(&Request::ProtocolVersion {
            version: PROTOCOL_VERSION,
        })?;
        client.version = match client.reply(VcmdId::ProtocolVersion)? {
            Reply::ProtocolVersion { version } => version,
            other => return Err(unexpected("PROTOCOL_VERSION", &other)),
        };
        if client.version < 3 {
            return Err(BenchError::OldProtocol(client.version));
        }
        Ok(client)
    }

    pub fn send(&mut self, request: &Request) -> BenchResult<()> {
        self.send_bytes(&request.encode(self.version.max(2)))
    }

    /// Sends bytes already encoded (a pre-built SUBMIT_CMD, say).
    pub fn send_bytes(&mut self, bytes: &[u8]) -> BenchResult<()> {
        self.stream
            .write_all(bytes)
            .map_err(|_| BenchError::Closed("while sending"))
    }

    fn fill(&mut self, n: usize) -> BenchResult<()> {
        let mut buf = [0u8; 4096];
        while self.pending.len() < n {
            let mut cmsg = nix::cmsg_space!([RawFd; 8]);
            let mut iov = [IoSliceMut::new(&mut buf)];
            let msg = loop {
                match recvmsg::<()>(
                    self.stream.as_raw_fd(),
                    &mut iov,
                    Some(&mut cmsg),
                    MsgFlags::MSG_CMSG_CLOEXEC,
                ) {
                    Ok(msg) => break msg,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(nix::errno::Errno::ECONNRESET) => return Err(BenchError::Closed("reset")),
                    Err(source) => {
                        return Err(BenchError::Errno {
                            what: "recvmsg",
                            source,
                        })
                    }
                }
            };
            let got = msg.bytes;
            let cmsgs = msg.cmsgs().map_err(|source| BenchError::Errno {
                what: "recvmsg control data",
                source,
            })?;
            for c in cmsgs {
                if let ControlMessageOwned::ScmRights(raw) = c {
                    for fd in raw {
                        // SAFETY: the kernel just installed `fd` in our table for this message;
                        // nothing else owns it.
                        self.fds.push_back(unsafe { OwnedFd::from_raw_fd(fd) });
                    }
                }
            }
            if got == 0 {
                return Err(BenchError::Closed("end of stream"));
            }
            self.pending.extend_from_slice(&buf[..got]);
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> BenchResult<Vec<u8>> {
        self.fill(n)?;
        Ok(self.pending.drain(..n).collect())
    }

    /// Reads the reply to `asked`.
    pub fn reply(&mut self, asked: VcmdId) -> BenchResult<Reply> {
        let header = Header::from_bytes(&self.take(HEADER_SIZE)?)?;
        let payload = self.take(Reply::payload_size(asked, header, 0))?;
        Ok(Reply::decode(asked, header, &payload)?)
    }

    /// The fd that comes with a one-byte message after some replies.
    fn fd(&mut self) -> BenchResult<OwnedFd> {
        self.take(1)?;
        self.fds
            .pop_front()
            .ok_or(BenchError::Closed("no fd came with the shm message"))
    }

    /// Returns once the server has executed everything sent before (BUSY_WAIT with WAIT).
    pub fn sync(&mut self, handle: u32) -> BenchResult<()> {
        self.send(&Request::ResourceBusyWait {
            handle,
            flags: BUSY_WAIT_FLAG_WAIT,
        })?;
        match self.reply(VcmdId::ResourceBusyWait)? {
            Reply::BusyWait { .. } => Ok(()),
            other => Err(unexpected("RESOURCE_BUSY_WAIT", &other)),
        }
    }

    /// RESOURCE_CREATE2 with `shm_size` bytes of shared memory; the server picks the id.
    pub fn create_resource(&mut self, desc: ResourceDesc, shm_size: u32) -> BenchResult<Resource> {
        self.send(&Request::ResourceCreate2(ResourceCreate2 {
            desc: ResourceDesc { handle: 0, ..desc },
            data_size: shm_size,
        }))?;
        let id = match self.reply(VcmdId::ResourceCreate2)? {
            Reply::ResourceId { res_id, .. } => res_id,
            other => return Err(unexpected("RESOURCE_CREATE2", &other)),
        };
        let shm = if shm_size > 0 {
            Some(Mapping::new(&self.fd()?, shm_size as usize)?)
        } else {
            None
        };
        Ok(Resource { id, shm })
    }
}

fn unexpected(asked: &'static str, got: &Reply) -> BenchError {
    BenchError::UnexpectedReply {
        asked,
        got: format!("{got:?}"),
    }
}

/// A server resource and its shm, mapped here.
pub struct Resource {
    pub id: u32,
    pub shm: Option<Mapping>,
}

/// A shared read/write mapping of a whole shm fd.
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(fd: &OwnedFd, len: usize) -> BenchResult<Mapping> {
        // SAFETY: a fresh shared mapping of `len` bytes of an fd we own; the kernel chooses the
        // address, so no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(BenchError::Io {
                what: "mmap of the resource shm",
                source: std::io::Error::last_os_error(),
            });
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(BenchError::Closed("mmap returned null"))?;
        Ok(Mapping { ptr, len })
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes, readable and writable, and lives as long as
        // `self`; the server only touches it while it executes a transfer we asked for and
        // waited on (every use here is between syncs), so there is no concurrent access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned; no slice outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}
