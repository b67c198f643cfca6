//! Server replies.

use super::{count_u32, dw_len, malformed, Header, Reader, VcmdId, Writer};
use crate::ProtocolError;

/// A server's answer to a request.
///
/// Replies that come with an fd (`RESOURCE_CREATE2` with shm, `RESOURCE_CREATE_BLOB`,
/// `SYNC_WAIT`, `RESOURCE_EXPORT_FD`, ...) send it with SCM_RIGHTS right after these bytes; the fd
/// is not part of this value. `TRANSFER_GET(2)` data has no header and is not a `Reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// Echo of `PING_PROTOCOL_VERSION` (len 0).
    PingProtocolVersion,
    /// The negotiated version.
    ProtocolVersion { version: u32 },
    /// `GET_CAPS` (`capset` 1) or `GET_CAPS2` (`capset` 2): `len` is `caps.len() + 1`, in bytes.
    Caps { capset: u32, caps: Vec<u8> },
    /// `RESOURCE_BUSY_WAIT`: whether the resource is still busy.
    BusyWait { busy: bool },
    /// The server-chosen id answering `RESOURCE_CREATE`, `RESOURCE_CREATE2` (protocol 3+) or
    /// `RESOURCE_CREATE_BLOB`; `cmd` says which.
    ResourceId { cmd: VcmdId, res_id: u32 },
    /// `GET_PARAM`: validity and value.
    GetParam { valid: bool, value: u32 },
    /// `GET_CAPSET`: the capset bytes (a multiple of 4) or `None` when unsupported.
    GetCapset { caps: Option<Vec<u8>> },
    /// `SYNC_CREATE`: the new sync id.
    SyncCreate { sync_id: u32 },
    /// `SYNC_READ`: the current value.
    SyncRead { value: u64 },
    /// `SYNC_WAIT` (len 0; an fd follows).
    SyncWait,
    /// `RESOURCE_EXPORT_FD` (len 0; an fd follows).
    ResourceExportFd,
    /// `DRM_SYNC_CREATE`: the new handle.
    DrmSyncCreate { handle: u32 },
    /// `DRM_SYNC_HANDLE_TO_FD` (len 0; an fd follows).
    DrmSyncHandleToFd,
    /// `DRM_SYNC_FD_TO_HANDLE`: upstream answers with the `HANDLE_TO_FD` id and len 1.
    DrmSyncFdToHandle { handle: u32 },
    /// `DRM_SYNC_EXPORT_SYNC_FILE` (len 0; an fd follows).
    DrmSyncExportSyncFile,
    /// `DRM_SYNC_WAIT` / `DRM_SYNC_TIMELINE_WAIT` (both use the `DRM_SYNC_WAIT` id): with
    /// `WAIT_FD` an fd follows a len-0 header, otherwise `{first_signaled, status}`.
    DrmSyncWait { result: Option<(u32, i32)> },
    /// `DRM_SYNC_QUERY`: upstream sends len 0 followed by one `u64` point per handle.
    DrmSyncQuery { points: Vec<u64> },
}

impl Reply {
    /// The wire bytes of this reply.
    pub fn encode(&self) -> Vec<u8> {
        use VcmdId as V;
        let w = match self {
            Reply::PingProtocolVersion => Writer::header(V::PingProtocolVersion, 0),
            Reply::ProtocolVersion { version } => {
                let mut w = Writer::header(V::ProtocolVersion, 1);
                w.u32(*version);
                w
            }
            Reply::Caps { capset, caps } => {
                // Upstream's quirk: the length is the caps size in bytes plus one.
                let len = count_u32(caps.len()).saturating_add(1);
                let mut w = Writer::default();
                w.u32(len).u32(*capset).bytes(caps);
                w
            }
            Reply::BusyWait { busy } => {
                let mut w = Writer::header(V::ResourceBusyWait, 1);
                w.u32(u32::from(*busy));
                w
            }
            Reply::ResourceId { cmd, res_id } => {
                let mut w = Writer::header(*cmd, 1);
                w.u32(*res_id);
                w
            }
            Reply::GetParam { valid, value } => {
                let mut w = Writer::header(V::GetParam, 2);
                w.u32(u32::from(*valid)).u32(*value);
                w
            }
            Reply::GetCapset { caps: None } => {
                let mut w = Writer::header(V::GetCapset, 1);
                w.u32(0);
                w
            }
            Reply::GetCapset { caps: Some(caps) } => {
                let mut w = Writer::header(V::GetCapset, dw_len(caps.len()).saturating_add(1));
                w.u32(1).bytes(caps);
                // Keep the dword framing even if a capset size were not a multiple of 4.
                w.out.resize(w.out.len() + (4 - caps.len() % 4) % 4, 0);
                w
            }
            Reply::SyncCreate { sync_id } => {
                let mut w = Writer::header(V::SyncCreate, 1);
                w.u32(*sync_id);
                w
            }
            Reply::SyncRead { value } => {
                let mut w = Writer::header(V::SyncRead, 2);
                w.u64_lo_hi(*value);
                w
            }
            Reply::SyncWait => Writer::header(V::SyncWait, 0),
            Reply::ResourceExportFd => Writer::header(V::ResourceExportFd, 0),
            Reply::DrmSyncCreate { handle } => {
                let mut w = Writer::header(V::DrmSyncCreate, 1);
                w.u32(*handle);
                w
            }
            Reply::DrmSyncHandleToFd => Writer::header(V::DrmSyncHandleToFd, 0),
            Reply::DrmSyncFdToHandle { handle } => {
                let mut w = Writer::header(V::DrmSyncHandleToFd, 1);
                w.u32(*handle);
                w
            }
            Reply::DrmSyncExportSyncFile => Writer::header(V::DrmSyncExportSyncFile, 0),
            Reply::DrmSyncWait { result: None } => Writer::header(V::DrmSyncWait, 0),
            Reply::DrmSyncWait {
                result: Some((first, status)),
            } => {
                let mut w = Writer::header(V::DrmSyncWait, 2);
                w.u32(*first).u32(*status as u32);
                w
            }
            Reply::DrmSyncQuery { points } => {
                let mut w = Writer::header(V::DrmSyncQuery, 0);
                points.iter().for_each(|&p| {
                    w.u64(p);
                });
                w
            }
        };
        w.out
    }

    /// Bytes that follow the header of the reply to `asked`.
    ///
    /// Replies are not self-describing (the `GET_CAPS2` reply carries id 2, which is also
    /// `RESOURCE_CREATE`), so the client says what it asked. `DRM_SYNC_QUERY` replies do not
    /// announce their size either: pass the number of handles queried as `query_handles`.
    pub fn payload_size(asked: VcmdId, header: Header, query_handles: usize) -> usize {
        use VcmdId as V;
        match asked {
            V::GetCaps | V::GetCaps2 => header.len.saturating_sub(1) as usize,
            V::DrmSyncQuery => query_handles.saturating_mul(8),
            _ => (header.len as usize).saturating_mul(4),
        }
    }

    /// Decodes the reply to `asked` from its header and complete payload.
    pub fn decode(asked: VcmdId, header: Header, payload: &[u8]) -> Result<Reply, ProtocolError> {
        use VcmdId as V;
        let mut r = Reader::new(payload);
        Ok(match asked {
            V::PingProtocolVersion => Reply::PingProtocolVersion,
            V::ProtocolVersion => Reply::ProtocolVersion { version: r.u32()? },
            V::GetCaps | V::GetCaps2 => {
                let n = header.len.saturating_sub(1) as usize;
                Reply::Caps {
                    capset: header.cmd,
                    caps: r.take(n)?.to_vec(),
                }
            }
            V::ResourceBusyWait => Reply::BusyWait {
                busy: r.u32()? != 0,
            },
            V::ResourceCreate | V::ResourceCreate2 | V::ResourceCreateBlob => Reply::ResourceId {
                cmd: asked,
                res_id: r.u32()?,
            },
            V::GetParam => Reply::GetParam {
                valid: r.u32()? != 0,
                value: r.u32()?,
            },
            V::GetCapset => {
                if r.u32()? != 0 {
                    let n = (header.len.saturating_sub(1) as usize).saturating_mul(4);
                    Reply::GetCapset {
                        caps: Some(r.take(n)?.to_vec()),
                    }
                } else {
                    Reply::GetCapset { caps: None }
                }
            }
            V::SyncCreate => Reply::SyncCreate { sync_id: r.u32()? },
            V::SyncRead => Reply::SyncRead {
                value: r.u64_lo_hi()?,
            },
            V::SyncWait => Reply::SyncWait,
            V::ResourceExportFd => Reply::ResourceExportFd,
            V::DrmSyncCreate => Reply::DrmSyncCreate { handle: r.u32()? },
            V::DrmSyncHandleToFd => Reply::DrmSyncHandleToFd,
            V::DrmSyncFdToHandle => Reply::DrmSyncFdToHandle { handle: r.u32()? },
            V::DrmSyncExportSyncFile => Reply::DrmSyncExportSyncFile,
            V::DrmSyncWait | V::DrmSyncTimelineWait if header.len == 0 => {
                Reply::DrmSyncWait { result: None }
            }
            V::DrmSyncWait | V::DrmSyncTimelineWait => Reply::DrmSyncWait {
                result: Some((r.u32()?, r.u32()? as i32)),
            },
            V::DrmSyncQuery => {
                let n = payload.len() / 8;
                Reply::DrmSyncQuery { points: r.u64s(n)? }
            }
            _ => return Err(malformed(asked, "this command has no reply")),
        })
    }
}
