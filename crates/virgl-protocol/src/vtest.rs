//! The vtest protocol (`vtest/vtest_protocol.h`, protocol versions 0–4).
//!
//! vtest is how Mesa's guest drivers talk to a host renderer without a VM: a unix stream socket
//! carrying `{len, cmd}` headers (two little-endian `u32`s) followed by a payload, and file
//! descriptors passed with `SCM_RIGHTS` on a one-byte message.
//!
//! This module provides, without any I/O:
//! - every command id ([`VcmdId`]) with the protocol version that introduced it,
//! - a typed struct per request and the [`Request`] enum, each with an encoder producing exactly
//!   the bytes Mesa's clients send and a decoder accepting them,
//! - [`Reply`] encoders/decoders for every answer a server gives,
//! - [`FrameDecoder`], which cuts a byte stream into requests with a payload cap.
//!
//! The `len` field of a header is **not** a reliable frame length, and framing must follow what
//! upstream's server actually reads:
//! - `CREATE_RENDERER` counts bytes (the name including its NUL), not dwords;
//! - `TRANSFER_PUT` announces `11 + ceil(data_size / 4)` dwords but only `data_size` bytes follow
//!   the 11-dword header; `TRANSFER_PUT2` announces the same rounding yet carries no data at all;
//! - fixed-size commands (`GET_CAPS`, `RESOURCE_CREATE`, ...) are read at their fixed size whatever
//!   `len` says;
//! - the fds of `SUBMIT_CMD2` (`IN_FENCE_FD`) and of two `DRM_SYNC_*` commands each come with one
//!   extra stream byte, and protocol-4 `SUBMIT_CMD2` batches are followed by their DRM syncobj
//!   arrays, so that framing depends on the negotiated version.
//!
//! Replies have their own quirks, kept here for compatibility: the `GET_CAPS`/`GET_CAPS2` reply
//! length is the caps size in **bytes** plus one, `TRANSFER_GET` data comes without a header, and
//! the `DRM_SYNC_FD_TO_HANDLE` reply carries the `DRM_SYNC_HANDLE_TO_FD` id.
//!
//! Decoders never trust the guest: sizes are computed with checked arithmetic and compared with a
//! cap before anything is allocated.

use crate::ProtocolError;

mod frame;
mod reply;
mod submit2;

use submit2::{decode_submit_cmd2, encode_submit_cmd2, submit_cmd2_size};

pub use frame::FrameDecoder;
pub use reply::Reply;

/// The highest protocol version this implementation speaks (`VTEST_PROTOCOL_VERSION`).
pub const PROTOCOL_VERSION: u32 = 4;
/// Where servers listen and clients connect unless told otherwise (`VTEST_DEFAULT_SOCKET_NAME`).
pub const DEFAULT_SOCKET_NAME: &str = "/tmp/.virgl_test";
/// Size of the `{len, cmd}` header in bytes.
pub const HEADER_SIZE: usize = 8;
/// Number of per-context timelines (rings) upstream's server offers (`VTEST_MAX_TIMELINE_COUNT`).
pub const MAX_TIMELINE_COUNT: u32 = 64;
/// Longest `CREATE_RENDERER` name upstream accepts, in bytes.
pub const MAX_RENDERER_NAME: usize = 1024 * 1024;
/// Default cap on one request's payload: large enough for a 4096x4096x16-byte inline transfer.
pub const DEFAULT_MAX_PAYLOAD: usize = 256 << 20;

/// `VCMD_BUSY_WAIT_FLAG_WAIT`: block until the resource is idle.
pub const BUSY_WAIT_FLAG_WAIT: u32 = 1;
/// `VCMD_PARAM_MAX_TIMELINE_COUNT`.
pub const PARAM_MAX_TIMELINE_COUNT: u32 = 1;
/// `VCMD_PARAM_HAS_TIMELINE_SYNCOBJ`.
pub const PARAM_HAS_TIMELINE_SYNCOBJ: u32 = 2;
/// `VCMD_BLOB_TYPE_GUEST`: guest memory (a server-made shm).
pub const BLOB_TYPE_GUEST: u32 = 1;
/// `VCMD_BLOB_TYPE_HOST3D`: host memory exported by the renderer.
pub const BLOB_TYPE_HOST3D: u32 = 2;
/// `VCMD_BLOB_TYPE_HOST3D_GUEST`: host 3D resource backed by guest memory.
pub const BLOB_TYPE_HOST3D_GUEST: u32 = 3;
/// `VCMD_BLOB_FLAG_MAPPABLE`.
pub const BLOB_FLAG_MAPPABLE: u32 = 1 << 0;
/// `VCMD_BLOB_FLAG_SHAREABLE`.
pub const BLOB_FLAG_SHAREABLE: u32 = 1 << 1;
/// `VCMD_BLOB_FLAG_CROSS_DEVICE`.
pub const BLOB_FLAG_CROSS_DEVICE: u32 = 1 << 2;
/// `VCMD_SYNC_WAIT_FLAG_ANY`: the wait is satisfied by any one sync point.
pub const SYNC_WAIT_FLAG_ANY: u32 = 1 << 0;
/// `VCMD_SUBMIT_CMD2_FLAG_RING_IDX`: the batch's `ring_idx` is valid.
pub const SUBMIT_CMD2_FLAG_RING_IDX: u32 = 1 << 0;
/// `VCMD_SUBMIT_CMD2_FLAG_IN_FENCE_FD`: an fd to wait on follows the batch.
pub const SUBMIT_CMD2_FLAG_IN_FENCE_FD: u32 = 1 << 1;
/// `VCMD_SUBMIT_CMD2_FLAG_OUT_FENCE_FD`: the server answers the batch with a fence fd.
pub const SUBMIT_CMD2_FLAG_OUT_FENCE_FD: u32 = 1 << 2;
/// `DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FD`: the DRM wait is answered with a pollable fd.
pub const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FD: u32 = 1 << 31;

/// Dwords of a `SUBMIT_CMD2` batch descriptor (`struct vcmd_submit_cmd2_batch`).
const SUBMIT_CMD2_BATCH_DWORDS: usize = 8;
/// Bytes of one `struct drm_virtgpu_execbuffer_syncobj` {u32 handle, u32 flags, u64 point}.
const SYNCOBJ_BYTES: usize = 16;

macro_rules! vcmd_ids {
    ($($variant:ident = $id:literal, $name:literal, since $ver:literal;)*) => {
        /// A vtest command id (`VCMD_*`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum VcmdId {
            $(
                #[doc = concat!("`VCMD_", $name, "` (", $id, "), since protocol version ", $ver, ".")]
                $variant = $id,
            )*
        }

        impl VcmdId {
            /// Every command id, in numeric order.
            pub const ALL: &'static [VcmdId] = &[$(VcmdId::$variant),*];

            /// The id for a raw wire value, if it names a command.
            pub fn from_raw(raw: u32) -> Option<Self> {
                match raw {
                    $($id => Some(VcmdId::$variant),)*
                    _ => None,
                }
            }

            /// The upstream name without the `VCMD_` prefix, for logs.
            pub fn name(self) -> &'static str {
                match self {
                    $(VcmdId::$variant => $name,)*
                }
            }

            /// The protocol version that introduced this command.
            ///
            /// `PING_PROTOCOL_VERSION` and `PROTOCOL_VERSION` count as version 0: clients send
            /// them before anything is negotiated.
            pub fn since_version(self) -> u32 {
                match self {
                    $(VcmdId::$variant => $ver,)*
                }
            }
        }
    };
}

vcmd_ids! {
    GetCaps = 1, "GET_CAPS", since 0;
    ResourceCreate = 2, "RESOURCE_CREATE", since 0;
    ResourceUnref = 3, "RESOURCE_UNREF", since 0;
    TransferGet = 4, "TRANSFER_GET", since 0;
    TransferPut = 5, "TRANSFER_PUT", since 0;
    SubmitCmd = 6, "SUBMIT_CMD", since 0;
    ResourceBusyWait = 7, "RESOURCE_BUSY_WAIT", since 0;
    CreateRenderer = 8, "CREATE_RENDERER", since 0;
    GetCaps2 = 9, "GET_CAPS2", since 0;
    PingProtocolVersion = 10, "PING_PROTOCOL_VERSION", since 0;
    ProtocolVersion = 11, "PROTOCOL_VERSION", since 0;
    ResourceCreate2 = 12, "RESOURCE_CREATE2", since 2;
    TransferGet2 = 13, "TRANSFER_GET2", since 2;
    TransferPut2 = 14, "TRANSFER_PUT2", since 2;
    GetParam = 15, "GET_PARAM", since 3;
    GetCapset = 16, "GET_CAPSET", since 3;
    ContextInit = 17, "CONTEXT_INIT", since 3;
    ResourceCreateBlob = 18, "RESOURCE_CREATE_BLOB", since 3;
    SyncCreate = 19, "SYNC_CREATE", since 3;
    SyncUnref = 20, "SYNC_UNREF", since 3;
    SyncRead = 21, "SYNC_READ", since 3;
    SyncWrite = 22, "SYNC_WRITE", since 3;
    SyncWait = 23, "SYNC_WAIT", since 3;
    SubmitCmd2 = 24, "SUBMIT_CMD2", since 3;
    DrmSyncCreate = 25, "DRM_SYNC_CREATE", since 4;
    DrmSyncDestroy = 26, "DRM_SYNC_DESTROY", since 4;
    DrmSyncHandleToFd = 27, "DRM_SYNC_HANDLE_TO_FD", since 4;
    DrmSyncFdToHandle = 28, "DRM_SYNC_FD_TO_HANDLE", since 4;
    DrmSyncImportSyncFile = 29, "DRM_SYNC_IMPORT_SYNC_FILE", since 4;
    DrmSyncExportSyncFile = 30, "DRM_SYNC_EXPORT_SYNC_FILE", since 4;
    DrmSyncWait = 31, "DRM_SYNC_WAIT", since 4;
    DrmSyncReset = 32, "DRM_SYNC_RESET", since 4;
    DrmSyncSignal = 33, "DRM_SYNC_SIGNAL", since 4;
    DrmSyncTimelineSignal = 34, "DRM_SYNC_TIMELINE_SIGNAL", since 4;
    DrmSyncTimelineWait = 35, "DRM_SYNC_TIMELINE_WAIT", since 4;
    DrmSyncQuery = 36, "DRM_SYNC_QUERY", since 4;
    DrmSyncTransfer = 37, "DRM_SYNC_TRANSFER", since 4;
    ResourceExportFd = 38, "RESOURCE_EXPORT_FD", since 4;
}

impl VcmdId {
    /// The raw wire value.
    pub fn raw(self) -> u32 {
        self as u32
    }
}

/// The two-dword header in front of every request and most replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// `VTEST_CMD_LEN`: payload length, usually in dwords (see the module docs for exceptions).
    pub len: u32,
    /// `VTEST_CMD_ID`: the raw command id.
    pub cmd: u32,
}

impl Header {
    /// A header for `cmd` announcing `len`.
    pub fn new(cmd: VcmdId, len: u32) -> Self {
        Self {
            len,
            cmd: cmd.raw(),
        }
    }

    /// Parses the first [`HEADER_SIZE`] bytes of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        Ok(Self {
            len: r.u32()?,
            cmd: r.u32()?,
        })
    }

    /// The wire bytes.
    pub fn to_bytes(self) -> [u8; HEADER_SIZE] {
        let mut out = [0u8; HEADER_SIZE];
        out[..4].copy_from_slice(&self.len.to_le_bytes());
        out[4..].copy_from_slice(&self.cmd.to_le_bytes());
        out
    }

    /// The command id, if the raw value names one.
    pub fn id(self) -> Option<VcmdId> {
        VcmdId::from_raw(self.cmd)
    }
}

/// Little-endian dword reader over a byte slice that reports truncation as a typed error.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(ProtocolError::Truncated {
                offset: self.pos,
                needed: n.saturating_sub(self.bytes.len().saturating_sub(self.pos)),
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, ProtocolError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A 64-bit value sent as two dwords, low first.
    fn u64_lo_hi(&mut self) -> Result<u64, ProtocolError> {
        let lo = self.u32()?;
        let hi = self.u32()?;
        Ok(u64::from(lo) | (u64::from(hi) << 32))
    }

    /// A native 64-bit little-endian value (DRM arrays).
    fn u64(&mut self) -> Result<u64, ProtocolError> {
        self.u64_lo_hi()
    }

    fn u32s(&mut self, n: usize) -> Result<Vec<u32>, ProtocolError> {
        let bytes = self.take(n.checked_mul(4).ok_or(ProtocolError::VtestMalformed {
            cmd: 0,
            reason: "array length overflows",
        })?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn u64s(&mut self, n: usize) -> Result<Vec<u64>, ProtocolError> {
        (0..n).map(|_| self.u64()).collect()
    }

    fn rest(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

/// Little-endian writer.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn header(cmd: VcmdId, len: u32) -> Self {
        let mut w = Self::default();
        w.out.extend_from_slice(&Header::new(cmd, len).to_bytes());
        w
    }

    fn u32(&mut self, v: u32) -> &mut Self {
        self.out.extend_from_slice(&v.to_le_bytes());
        self
    }

    fn u64_lo_hi(&mut self, v: u64) -> &mut Self {
        self.u32(v as u32).u32((v >> 32) as u32)
    }

    fn u64(&mut self, v: u64) -> &mut Self {
        self.out.extend_from_slice(&v.to_le_bytes());
        self
    }

    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.out.extend_from_slice(b);
        self
    }
}

fn dw_len(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(4)).unwrap_or(u32::MAX)
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `CREATE_RENDERER`: the client's process name; must be the first request of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateRenderer {
    /// The raw name bytes as sent, normally NUL-terminated.
    pub name: Vec<u8>,
}

impl CreateRenderer {
    /// A request carrying `name` plus the terminating NUL Mesa sends.
    pub fn new(name: &str) -> Self {
        let mut bytes = name.as_bytes().to_vec();
        bytes.push(0);
        Self { name: bytes }
    }

    /// The name up to the first NUL, with invalid UTF-8 replaced.
    pub fn name_lossy(&self) -> String {
        let end = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name.len());
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
}

/// The pipe-resource description shared by `RESOURCE_CREATE` and `RESOURCE_CREATE2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceDesc {
    /// Client-chosen id before protocol 3; must be 0 from protocol 3 on (the server picks).
    pub handle: u32,
    pub target: u32,
    pub format: u32,
    pub bind: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub array_size: u32,
    pub last_level: u32,
    pub nr_samples: u32,
}

impl ResourceDesc {
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(Self {
            handle: r.u32()?,
            target: r.u32()?,
            format: r.u32()?,
            bind: r.u32()?,
            width: r.u32()?,
            height: r.u32()?,
            depth: r.u32()?,
            array_size: r.u32()?,
            last_level: r.u32()?,
            nr_samples: r.u32()?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(self.handle)
            .u32(self.target)
            .u32(self.format)
            .u32(self.bind)
            .u32(self.width)
            .u32(self.height)
            .u32(self.depth)
            .u32(self.array_size)
            .u32(self.last_level)
            .u32(self.nr_samples);
    }
}

/// `RESOURCE_CREATE2`: a resource plus the size of the shm the server creates for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceCreate2 {
    pub desc: ResourceDesc,
    /// Bytes of shared memory to back the resource; 0 for none (multisampled resources).
    pub data_size: u32,
}

/// The region of a transfer, shared by the v0 and v2 transfer commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransferBox {
    pub x: u32,
    pub y: u32,
    pub z: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
}

/// The 11-dword header of `TRANSFER_GET` / `TRANSFER_PUT` (protocol 0: data inline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transfer {
    pub handle: u32,
    pub level: u32,
    pub stride: u32,
    pub layer_stride: u32,
    pub region: TransferBox,
    /// Bytes of data that follow (PUT) or that the server sends back (GET).
    pub data_size: u32,
}

impl Transfer {
    const DWORDS: usize = 11;

    fn read(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(Self {
            handle: r.u32()?,
            level: r.u32()?,
            stride: r.u32()?,
            layer_stride: r.u32()?,
            region: TransferBox {
                x: r.u32()?,
                y: r.u32()?,
                z: r.u32()?,
                width: r.u32()?,
                height: r.u32()?,
                depth: r.u32()?,
            },
            data_size: r.u32()?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(self.handle)
            .u32(self.level)
            .u32(self.stride)
            .u32(self.layer_stride);
        let b = &self.region;
        w.u32(b.x)
            .u32(b.y)
            .u32(b.z)
            .u32(b.width)
            .u32(b.height)
            .u32(b.depth);
        w.u32(self.data_size);
    }
}

/// `TRANSFER_PUT`: the header and the inline data (exactly `header.data_size` bytes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransferPut {
    pub transfer: Transfer,
    pub data: Vec<u8>,
}

/// The 10-dword header of `TRANSFER_GET2` / `TRANSFER_PUT2` (data goes through the shm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transfer2 {
    pub handle: u32,
    pub level: u32,
    pub region: TransferBox,
    pub data_size: u32,
    /// Byte offset into the resource's shm.
    pub offset: u32,
}

impl Transfer2 {
    const DWORDS: usize = 10;

    fn read(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(Self {
            handle: r.u32()?,
            level: r.u32()?,
            region: TransferBox {
                x: r.u32()?,
                y: r.u32()?,
                z: r.u32()?,
                width: r.u32()?,
                height: r.u32()?,
                depth: r.u32()?,
            },
            data_size: r.u32()?,
            offset: r.u32()?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(self.handle).u32(self.level);
        let b = &self.region;
        w.u32(b.x)
            .u32(b.y)
            .u32(b.z)
            .u32(b.width)
            .u32(b.height)
            .u32(b.depth);
        w.u32(self.data_size).u32(self.offset);
    }
}

/// `RESOURCE_CREATE_BLOB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceCreateBlob {
    /// `BLOB_TYPE_*`.
    pub blob_type: u32,
    /// `BLOB_FLAG_*`.
    pub flags: u32,
    pub size: u64,
    pub blob_id: u64,
}

/// One `{sync id, value}` pair of `SYNC_WAIT` and `SUBMIT_CMD2` (3 dwords on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncPoint {
    pub sync_id: u32,
    pub value: u64,
}

impl SyncPoint {
    fn read(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(Self {
            sync_id: r.u32()?,
            value: r.u64_lo_hi()?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(self.sync_id).u64_lo_hi(self.value);
    }
}

/// `SYNC_WAIT`: wait for sync points; answered with a pollable fd.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncWait {
    /// `SYNC_WAIT_FLAG_*`.
    pub flags: u32,
    /// Milliseconds; `u32::MAX` waits forever, 0 only polls.
    pub timeout_ms: u32,
    pub points: Vec<SyncPoint>,
}

/// A `struct drm_virtgpu_execbuffer_syncobj` following a protocol-4 `SUBMIT_CMD2` batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecbufSyncobj {
    pub handle: u32,
    pub flags: u32,
    pub point: u64,
}

/// One batch of `SUBMIT_CMD2`, with its command dwords and sync points resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitBatch {
    /// `SUBMIT_CMD2_FLAG_*`.
    pub flags: u32,
    /// The command stream for the context.
    pub cmds: Vec<u32>,
    /// Sync points to signal once the batch completes (or at once without `FLAG_RING_IDX`).
    pub syncs: Vec<SyncPoint>,
    /// Only meaningful with [`SUBMIT_CMD2_FLAG_RING_IDX`].
    pub ring_idx: u32,
    /// DRM syncobjs to wait on (protocol 4 only; empty before).
    pub in_syncobjs: Vec<ExecbufSyncobj>,
    /// DRM syncobjs to signal (protocol 4 only; empty before).
    pub out_syncobjs: Vec<ExecbufSyncobj>,
}

/// `SUBMIT_CMD2`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitCmd2 {
    pub batches: Vec<SubmitBatch>,
}

/// `DRM_SYNC_WAIT`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DrmSyncWait {
    pub timeout: u64,
    pub flags: u32,
    pub handles: Vec<u32>,
}

/// `DRM_SYNC_TIMELINE_WAIT`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DrmSyncTimelineWait {
    pub timeout: u64,
    pub flags: u32,
    /// One point per handle.
    pub points: Vec<u64>,
    pub handles: Vec<u32>,
}

/// `DRM_SYNC_TRANSFER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrmSyncTransfer {
    pub dst_handle: u32,
    pub dst_point: u64,
    pub src_handle: u32,
    pub src_point: u64,
    pub flags: u32,
}

/// A decoded vtest request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    GetCaps,
    ResourceCreate(ResourceDesc),
    ResourceUnref {
        handle: u32,
    },
    TransferGet(Transfer),
    TransferPut(TransferPut),
    SubmitCmd {
        cmds: Vec<u32>,
    },
    ResourceBusyWait {
        handle: u32,
        flags: u32,
    },
    CreateRenderer(CreateRenderer),
    GetCaps2,
    PingProtocolVersion,
    ProtocolVersion {
        version: u32,
    },
    ResourceCreate2(ResourceCreate2),
    TransferGet2(Transfer2),
    TransferPut2(Transfer2),
    GetParam {
        param: u32,
    },
    GetCapset {
        id: u32,
        version: u32,
    },
    ContextInit {
        capset_id: u32,
    },
    ResourceCreateBlob(ResourceCreateBlob),
    SyncCreate {
        value: u64,
    },
    SyncUnref {
        sync_id: u32,
    },
    SyncRead {
        sync_id: u32,
    },
    SyncWrite {
        sync_id: u32,
        value: u64,
    },
    SyncWait(SyncWait),
    SubmitCmd2(SubmitCmd2),
    DrmSyncCreate {
        flags: u32,
    },
    DrmSyncDestroy {
        handle: u32,
    },
    DrmSyncHandleToFd {
        handle: u32,
    },
    /// The fd travels with SCM_RIGHTS after the header.
    DrmSyncFdToHandle,
    /// The fd travels with SCM_RIGHTS after the payload.
    DrmSyncImportSyncFile {
        handle: u32,
    },
    DrmSyncExportSyncFile {
        handle: u32,
    },
    DrmSyncWait(DrmSyncWait),
    DrmSyncReset {
        handles: Vec<u32>,
    },
    DrmSyncSignal {
        handles: Vec<u32>,
    },
    DrmSyncTimelineSignal {
        points: Vec<u64>,
        handles: Vec<u32>,
    },
    DrmSyncTimelineWait(DrmSyncTimelineWait),
    DrmSyncQuery {
        flags: u32,
        handles: Vec<u32>,
    },
    DrmSyncTransfer(DrmSyncTransfer),
    ResourceExportFd {
        handle: u32,
    },
}

/// How many bytes a request needs after its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadSize {
    /// The whole payload is this many bytes.
    Exact(usize),
    /// The size depends on fields in the first this-many bytes; ask again once they are there.
    AtLeast(usize),
}

fn malformed(cmd: VcmdId, reason: &'static str) -> ProtocolError {
    ProtocolError::VtestMalformed {
        cmd: cmd.raw(),
        reason,
    }
}

/// `a * b + c` in `usize`, reported as a too-large payload on overflow.
fn size_of(cmd: VcmdId, parts: &[(u64, u64)], max: usize) -> Result<usize, ProtocolError> {
    let mut total: u64 = 0;
    for &(count, unit) in parts {
        total = count
            .checked_mul(unit)
            .and_then(|p| total.checked_add(p))
            .ok_or(ProtocolError::VtestPayloadTooLarge {
                cmd: cmd.raw(),
                size: u64::MAX,
                max,
            })?;
    }
    let size = usize::try_from(total).map_err(|_| ProtocolError::VtestPayloadTooLarge {
        cmd: cmd.raw(),
        size: total,
        max,
    })?;
    if size > max {
        return Err(ProtocolError::VtestPayloadTooLarge {
            cmd: cmd.raw(),
            size: total,
            max,
        });
    }
    Ok(size)
}

fn prefix_u32(prefix: &[u8], index: usize) -> u32 {
    let at = index * 4;
    u32::from_le_bytes([prefix[at], prefix[at + 1], prefix[at + 2], prefix[at + 3]])
}

/// The payload size of a request with `header`, given the payload bytes received so far.
///
/// `protocol_version` is the version negotiated on the connection: protocol-4 `SUBMIT_CMD2`
/// batches carry syncobj arrays after the payload. Sizes above `max` are refused here, before
/// anybody allocates them.
pub fn payload_size(
    header: Header,
    prefix: &[u8],
    protocol_version: u32,
    max: usize,
) -> Result<PayloadSize, ProtocolError> {
    use PayloadSize::{AtLeast, Exact};
    use VcmdId as V;
    let id = header
        .id()
        .ok_or(ProtocolError::VtestUnknownCommand(header.cmd))?;
    let fixed = |dwords: u64| size_of(id, &[(dwords, 4)], max).map(Exact);
    match id {
        V::GetCaps | V::GetCaps2 | V::PingProtocolVersion => Ok(Exact(0)),
        V::CreateRenderer => {
            if header.len as usize > MAX_RENDERER_NAME {
                return Err(ProtocolError::VtestPayloadTooLarge {
                    cmd: id.raw(),
                    size: u64::from(header.len),
                    max: MAX_RENDERER_NAME,
                });
            }
            size_of(id, &[(u64::from(header.len), 1)], max).map(Exact)
        }
        V::ResourceCreate => fixed(10),
        V::ResourceCreate2 => fixed(11),
        V::ResourceUnref => fixed(1),
        V::TransferGet => fixed(Transfer::DWORDS as u64),
        V::TransferGet2 | V::TransferPut2 => fixed(Transfer2::DWORDS as u64),
        V::TransferPut => {
            let head = Transfer::DWORDS * 4;
            if prefix.len() < head {
                return Ok(AtLeast(head));
            }
            let data = u64::from(prefix_u32(prefix, Transfer::DWORDS - 1));
            size_of(id, &[(1, head as u64), (data, 1)], max).map(Exact)
        }
        V::SubmitCmd | V::SyncWait => fixed(u64::from(header.len)),
        V::SubmitCmd2 => submit_cmd2_size(header, prefix, protocol_version, max),
        V::ResourceBusyWait => fixed(2),
        V::ProtocolVersion | V::GetParam | V::ContextInit => fixed(1),
        V::GetCapset => fixed(2),
        V::ResourceCreateBlob => fixed(6),
        V::SyncCreate => fixed(2),
        V::SyncUnref | V::SyncRead => fixed(1),
        V::SyncWrite => fixed(3),
        V::DrmSyncCreate | V::DrmSyncDestroy | V::DrmSyncHandleToFd => fixed(1),
        V::DrmSyncExportSyncFile | V::ResourceExportFd => fixed(1),
        // One stream byte carries the fd.
        V::DrmSyncFdToHandle => Ok(Exact(1)),
        V::DrmSyncImportSyncFile => Ok(Exact(5)),
        V::DrmSyncTransfer => fixed(7),
        V::DrmSyncWait | V::DrmSyncTimelineWait => {
            if prefix.len() < 16 {
                return Ok(AtLeast(16));
            }
            let n = u64::from(prefix_u32(prefix, 0));
            let per = if id == V::DrmSyncWait { 4 } else { 12 };
            size_of(id, &[(1, 16), (n, per)], max).map(Exact)
        }
        V::DrmSyncReset | V::DrmSyncSignal | V::DrmSyncTimelineSignal => {
            if prefix.len() < 4 {
                return Ok(AtLeast(4));
            }
            let n = u64::from(prefix_u32(prefix, 0));
            let per = if id == V::DrmSyncTimelineSignal {
                12
            } else {
                4
            };
            size_of(id, &[(1, 4), (n, per)], max).map(Exact)
        }
        V::DrmSyncQuery => {
            if prefix.len() < 8 {
                return Ok(AtLeast(8));
            }
            let n = u64::from(prefix_u32(prefix, 0));
            size_of(id, &[(1, 8), (n, 4)], max).map(Exact)
        }
    }
}

impl Request {
    /// The command id of this request.
    pub fn id(&self) -> VcmdId {
        use VcmdId as V;
        match self {
            Request::GetCaps => V::GetCaps,
            Request::ResourceCreate(_) => V::ResourceCreate,
            Request::ResourceUnref { .. } => V::ResourceUnref,
            Request::TransferGet(_) => V::TransferGet,
            Request::TransferPut(_) => V::TransferPut,
            Request::SubmitCmd { .. } => V::SubmitCmd,
            Request::ResourceBusyWait { .. } => V::ResourceBusyWait,
            Request::CreateRenderer(_) => V::CreateRenderer,
            Request::GetCaps2 => V::GetCaps2,
            Request::PingProtocolVersion => V::PingProtocolVersion,
            Request::ProtocolVersion { .. } => V::ProtocolVersion,
            Request::ResourceCreate2(_) => V::ResourceCreate2,
            Request::TransferGet2(_) => V::TransferGet2,
            Request::TransferPut2(_) => V::TransferPut2,
            Request::GetParam { .. } => V::GetParam,
            Request::GetCapset { .. } => V::GetCapset,
            Request::ContextInit { .. } => V::ContextInit,
            Request::ResourceCreateBlob(_) => V::ResourceCreateBlob,
            Request::SyncCreate { .. } => V::SyncCreate,
            Request::SyncUnref { .. } => V::SyncUnref,
            Request::SyncRead { .. } => V::SyncRead,
            Request::SyncWrite { .. } => V::SyncWrite,
            Request::SyncWait(_) => V::SyncWait,
            Request::SubmitCmd2(_) => V::SubmitCmd2,
            Request::DrmSyncCreate { .. } => V::DrmSyncCreate,
            Request::DrmSyncDestroy { .. } => V::DrmSyncDestroy,
            Request::DrmSyncHandleToFd { .. } => V::DrmSyncHandleToFd,
            Request::DrmSyncFdToHandle => V::DrmSyncFdToHandle,
            Request::DrmSyncImportSyncFile { .. } => V::DrmSyncImportSyncFile,
            Request::DrmSyncExportSyncFile { .. } => V::DrmSyncExportSyncFile,
            Request::DrmSyncWait(_) => V::DrmSyncWait,
            Request::DrmSyncReset { .. } => V::DrmSyncReset,
            Request::DrmSyncSignal { .. } => V::DrmSyncSignal,
            Request::DrmSyncTimelineSignal { .. } => V::DrmSyncTimelineSignal,
            Request::DrmSyncTimelineWait(_) => V::DrmSyncTimelineWait,
            Request::DrmSyncQuery { .. } => V::DrmSyncQuery,
            Request::DrmSyncTransfer(_) => V::DrmSyncTransfer,
            Request::ResourceExportFd { .. } => V::ResourceExportFd,
        }
    }

    /// How many fds the client passes with this request (by SCM_RIGHTS, one per extra byte).
    pub fn fds_expected(&self) -> usize {
        match self {
            Request::SubmitCmd2(s) => s
                .batches
                .iter()
                .filter(|b| b.flags & SUBMIT_CMD2_FLAG_IN_FENCE_FD != 0)
                .count(),
            Request::DrmSyncFdToHandle | Request::DrmSyncImportSyncFile { .. } => 1,
            _ => 0,
        }
    }

    /// Encodes header and payload exactly as Mesa's clients do, for `protocol_version`.
    ///
    /// For the requests that carry an fd, the extra stream byte is included (as a 0): a client
    /// sends that byte with `sendmsg` and the fd attached.
    pub fn encode(&self, protocol_version: u32) -> Vec<u8> {
        let id = self.id();
        let w = match self {
            Request::GetCaps | Request::GetCaps2 | Request::PingProtocolVersion => {
                Writer::header(id, 0)
            }
            Request::CreateRenderer(c) => {
                let mut w = Writer::header(id, count_u32(c.name.len()));
                w.bytes(&c.name);
                w
            }
            Request::ResourceCreate(d) => {
                let mut w = Writer::header(id, 10);
                d.write(&mut w);
                w
            }
            Request::ResourceCreate2(c) => {
                let mut w = Writer::header(id, 11);
                c.desc.write(&mut w);
                w.u32(c.data_size);
                w
            }
            Request::TransferGet(t) => {
                let mut w = Writer::header(id, Transfer::DWORDS as u32);
                t.write(&mut w);
                w
            }
            Request::TransferPut(p) => {
                // Mesa announces the data rounded up to dwords but sends it unpadded.
                let len = (Transfer::DWORDS as u32).saturating_add(dw_len(p.data.len()));
                let mut w = Writer::header(id, len);
                let mut t = p.transfer;
                t.data_size = count_u32(p.data.len());
                t.write(&mut w);
                w.bytes(&p.data);
                w
            }
            Request::TransferGet2(t) => {
                let mut w = Writer::header(id, Transfer2::DWORDS as u32);
                t.write(&mut w);
                w
            }
            Request::TransferPut2(t) => {
                let len = (Transfer2::DWORDS as u32).saturating_add(t.data_size.div_ceil(4));
                let mut w = Writer::header(id, len);
                t.write(&mut w);
                w
            }
            Request::SubmitCmd { cmds } => {
                let mut w = Writer::header(id, count_u32(cmds.len()));
                cmds.iter().for_each(|&c| {
                    w.u32(c);
                });
                w
            }
            Request::ResourceBusyWait { handle, flags } => {
                let mut w = Writer::header(id, 2);
                w.u32(*handle).u32(*flags);
                w
            }
            Request::ProtocolVersion { version } => {
                let mut w = Writer::header(id, 1);
                w.u32(*version);
                w
            }
            Request::ResourceUnref { handle }
            | Request::DrmSyncDestroy { handle }
            | Request::DrmSyncHandleToFd { handle }
            | Request::DrmSyncExportSyncFile { handle }
            | Request::ResourceExportFd { handle } => {
                let mut w = Writer::header(id, 1);
                w.u32(*handle);
                w
            }
            Request::GetParam { param: v }
            | Request::ContextInit { capset_id: v }
            | Request::SyncUnref { sync_id: v }
            | Request::SyncRead { sync_id: v }
            | Request::DrmSyncCreate { flags: v } => {
                let mut w = Writer::header(id, 1);
                w.u32(*v);
                w
            }
            Request::GetCapset {
                id: capset,
                version,
            } => {
                let mut w = Writer::header(id, 2);
                w.u32(*capset).u32(*version);
                w
            }
            Request::ResourceCreateBlob(b) => {
                let mut w = Writer::header(id, 6);
                w.u32(b.blob_type)
                    .u32(b.flags)
                    .u64_lo_hi(b.size)
                    .u64_lo_hi(b.blob_id);
                w
            }
            Request::SyncCreate { value } => {
                let mut w = Writer::header(id, 2);
                w.u64_lo_hi(*value);
                w
            }
            Request::SyncWrite { sync_id, value } => {
                let mut w = Writer::header(id, 3);
                w.u32(*sync_id).u64_lo_hi(*value);
                w
            }
            Request::SyncWait(s) => {
                let len = count_u32(s.points.len())
                    .saturating_mul(3)
                    .saturating_add(2);
                let mut w = Writer::header(id, len);
                w.u32(s.flags).u32(s.timeout_ms);
                s.points.iter().for_each(|p| p.write(&mut w));
                w
            }
            Request::SubmitCmd2(s) => encode_submit_cmd2(s, protocol_version),
            Request::DrmSyncFdToHandle => {
                let mut w = Writer::header(id, 0);
                w.bytes(&[0]);
                w
            }
            Request::DrmSyncImportSyncFile { handle } => {
                let mut w = Writer::header(id, 1);
                w.u32(*handle).bytes(&[0]);
                w
            }
            Request::DrmSyncWait(d) => {
                let mut w = Writer::header(id, 4);
                w.u32(count_u32(d.handles.len()))
                    .u64_lo_hi(d.timeout)
                    .u32(d.flags);
                d.handles.iter().for_each(|&h| {
                    w.u32(h);
                });
                w
            }
            Request::DrmSyncTimelineWait(d) => {
                let mut w = Writer::header(id, 4);
                w.u32(count_u32(d.handles.len()))
                    .u64_lo_hi(d.timeout)
                    .u32(d.flags);
                d.points.iter().for_each(|&p| {
                    w.u64(p);
                });
                d.handles.iter().for_each(|&h| {
                    w.u32(h);
                });
                w
            }
            Request::DrmSyncReset { handles } | Request::DrmSyncSignal { handles } => {
                let mut w = Writer::header(id, 1);
                w.u32(count_u32(handles.len()));
                handles.iter().for_each(|&h| {
                    w.u32(h);
                });
                w
            }
            Request::DrmSyncTimelineSignal { points, handles } => {
                let mut w = Writer::header(id, 1);
                w.u32(count_u32(handles.len()));
                points.iter().for_each(|&p| {
                    w.u64(p);
                });
                handles.iter().for_each(|&h| {
                    w.u32(h);
                });
                w
            }
            Request::DrmSyncQuery { flags, handles } => {
                let mut w = Writer::header(id, 2);
                w.u32(count_u32(handles.len())).u32(*flags);
                handles.iter().for_each(|&h| {
                    w.u32(h);
                });
                w
            }
            Request::DrmSyncTransfer(t) => {
                let mut w = Writer::header(id, 7);
                w.u32(t.dst_handle)
                    .u64_lo_hi(t.dst_point)
                    .u32(t.src_handle)
                    .u64_lo_hi(t.src_point)
                    .u32(t.flags);
                w
            }
        };
        w.out
    }

    /// Decodes a request whose header and complete payload (as sized by [`payload_size`]) are
    /// given.
    pub fn decode(
        header: Header,
        payload: &[u8],
        protocol_version: u32,
    ) -> Result<Request, ProtocolError> {
        use VcmdId as V;
        let id = header
            .id()
            .ok_or(ProtocolError::VtestUnknownCommand(header.cmd))?;
        let mut r = Reader::new(payload);
        let req = match id {
            V::GetCaps => Request::GetCaps,
            V::GetCaps2 => Request::GetCaps2,
            V::PingProtocolVersion => Request::PingProtocolVersion,
            V::CreateRenderer => Request::CreateRenderer(CreateRenderer {
                name: r.take(header.len as usize)?.to_vec(),
            }),
            V::ResourceCreate => Request::ResourceCreate(ResourceDesc::read(&mut r)?),
            V::ResourceCreate2 => Request::ResourceCreate2(ResourceCreate2 {
                desc: ResourceDesc::read(&mut r)?,
                data_size: r.u32()?,
            }),
            V::ResourceUnref => Request::ResourceUnref { handle: r.u32()? },
            V::TransferGet => Request::TransferGet(Transfer::read(&mut r)?),
            V::TransferPut => {
                let transfer = Transfer::read(&mut r)?;
                let data = r.take(transfer.data_size as usize)?.to_vec();
                Request::TransferPut(TransferPut { transfer, data })
            }
            V::TransferGet2 => Request::TransferGet2(Transfer2::read(&mut r)?),
            V::TransferPut2 => Request::TransferPut2(Transfer2::read(&mut r)?),
            V::SubmitCmd => Request::SubmitCmd {
                cmds: r.u32s(header.len as usize)?,
            },
            V::ResourceBusyWait => Request::ResourceBusyWait {
                handle: r.u32()?,
                flags: r.u32()?,
            },
            V::ProtocolVersion => Request::ProtocolVersion { version: r.u32()? },
            V::GetParam => Request::GetParam { param: r.u32()? },
            V::GetCapset => Request::GetCapset {
                id: r.u32()?,
                version: r.u32()?,
            },
            V::ContextInit => Request::ContextInit {
                capset_id: r.u32()?,
            },
            V::ResourceCreateBlob => Request::ResourceCreateBlob(ResourceCreateBlob {
                blob_type: r.u32()?,
                flags: r.u32()?,
                size: r.u64_lo_hi()?,
                blob_id: r.u64_lo_hi()?,
            }),
            V::SyncCreate => Request::SyncCreate {
                value: r.u64_lo_hi()?,
            },
            V::SyncUnref => Request::SyncUnref { sync_id: r.u32()? },
            V::SyncRead => Request::SyncRead { sync_id: r.u32()? },
            V::SyncWrite => Request::SyncWrite {
                sync_id: r.u32()?,
                value: r.u64_lo_hi()?,
            },
            V::SyncWait => {
                let len = header.len as usize;
                if len < 2 || !(len - 2).is_multiple_of(3) {
                    return Err(malformed(id, "length is not 2 + 3n dwords"));
                }
                let flags = r.u32()?;
                let timeout_ms = r.u32()?;
                // The payload is complete (len dwords), which bounds the Vec.
                let n = (len - 2) / 3;
                if r.rest() < n * 12 {
                    return Err(ProtocolError::Truncated {
                        offset: 8,
                        needed: n * 12 - r.rest(),
                    });
                }
                let points = (0..n)
                    .map(|_| SyncPoint::read(&mut r))
                    .collect::<Result<_, _>>()?;
                Request::SyncWait(SyncWait {
                    flags,
                    timeout_ms,
                    points,
                })
            }
            V::SubmitCmd2 => decode_submit_cmd2(header, payload, protocol_version)?,
            V::DrmSyncCreate => Request::DrmSyncCreate { flags: r.u32()? },
            V::DrmSyncDestroy => Request::DrmSyncDestroy { handle: r.u32()? },
            V::DrmSyncHandleToFd => Request::DrmSyncHandleToFd { handle: r.u32()? },
            V::DrmSyncFdToHandle => {
                r.take(1)?;
                Request::DrmSyncFdToHandle
            }
            V::DrmSyncImportSyncFile => {
                let handle = r.u32()?;
                r.take(1)?;
                Request::DrmSyncImportSyncFile { handle }
            }
            V::DrmSyncExportSyncFile => Request::DrmSyncExportSyncFile { handle: r.u32()? },
            V::DrmSyncWait => {
                let n = r.u32()? as usize;
                let timeout = r.u64_lo_hi()?;
                let flags = r.u32()?;
                check_room(&r, n, 4)?;
                Request::DrmSyncWait(DrmSyncWait {
                    timeout,
                    flags,
                    handles: r.u32s(n)?,
                })
            }
            V::DrmSyncTimelineWait => {
                let n = r.u32()? as usize;
                let timeout = r.u64_lo_hi()?;
                let flags = r.u32()?;
                check_room(&r, n, 12)?;
                let points = r.u64s(n)?;
                let handles = r.u32s(n)?;
                Request::DrmSyncTimelineWait(DrmSyncTimelineWait {
                    timeout,
                    flags,
                    points,
                    handles,
                })
            }
            V::DrmSyncReset | V::DrmSyncSignal => {
                let n = r.u32()? as usize;
                check_room(&r, n, 4)?;
                let handles = r.u32s(n)?;
                if id == V::DrmSyncReset {
                    Request::DrmSyncReset { handles }
                } else {
                    Request::DrmSyncSignal { handles }
                }
            }
            V::DrmSyncTimelineSignal => {
                let n = r.u32()? as usize;
                check_room(&r, n, 12)?;
                let points = r.u64s(n)?;
                let handles = r.u32s(n)?;
                Request::DrmSyncTimelineSignal { points, handles }
            }
            V::DrmSyncQuery => {
                let n = r.u32()? as usize;
                let flags = r.u32()?;
                check_room(&r, n, 4)?;
                Request::DrmSyncQuery {
                    flags,
                    handles: r.u32s(n)?,
                }
            }
            V::DrmSyncTransfer => Request::DrmSyncTransfer(DrmSyncTransfer {
                dst_handle: r.u32()?,
                dst_point: r.u64_lo_hi()?,
                src_handle: r.u32()?,
                src_point: r.u64_lo_hi()?,
                flags: r.u32()?,
            }),
            V::ResourceExportFd => Request::ResourceExportFd { handle: r.u32()? },
        };
        Ok(req)
    }

    /// Parses one complete request from the front of `bytes`; returns it and the bytes used.
    ///
    /// `Ok(None)` means `bytes` holds only part of a request.
    pub fn parse(
        bytes: &[u8],
        protocol_version: u32,
        max_payload: usize,
    ) -> Result<Option<(Request, usize)>, ProtocolError> {
        if bytes.len() < HEADER_SIZE {
            return Ok(None);
        }
        let header = Header::from_bytes(bytes)?;
        let body = &bytes[HEADER_SIZE..];
        match payload_size(header, body, protocol_version, max_payload)? {
            // `payload_size` answers `AtLeast(n)` only while fewer than `n` bytes are there.
            PayloadSize::AtLeast(_) => Ok(None),
            PayloadSize::Exact(n) if body.len() < n => Ok(None),
            PayloadSize::Exact(n) => {
                let req = Request::decode(header, &body[..n], protocol_version)?;
                Ok(Some((req, HEADER_SIZE + n)))
            }
        }
    }
}

fn check_room(r: &Reader<'_>, n: usize, per: usize) -> Result<(), ProtocolError> {
    let need = n.checked_mul(per).ok_or(ProtocolError::VtestMalformed {
        cmd: 0,
        reason: "array length overflows",
    })?;
    if r.rest() < need {
        return Err(ProtocolError::Truncated {
            offset: r.pos,
            needed: need - r.rest(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_versions() {
        assert_eq!(VcmdId::ALL.len(), 38);
        for (i, id) in VcmdId::ALL.iter().enumerate() {
            assert_eq!(id.raw(), i as u32 + 1);
            assert_eq!(VcmdId::from_raw(id.raw()), Some(*id));
        }
        assert_eq!(VcmdId::from_raw(0), None);
        assert_eq!(VcmdId::from_raw(39), None);
        assert_eq!(VcmdId::ResourceCreate2.since_version(), 2);
        assert_eq!(VcmdId::SubmitCmd2.since_version(), 3);
        assert_eq!(VcmdId::ResourceExportFd.since_version(), 4);
        assert_eq!(VcmdId::DrmSyncTransfer.name(), "DRM_SYNC_TRANSFER");
    }

    #[test]
    fn mesa_handshake_bytes() {
        let init = Request::CreateRenderer(CreateRenderer::new("glxgears")).encode(0);
        assert_eq!(&init[..8], &[9, 0, 0, 0, 8, 0, 0, 0]);
        assert_eq!(&init[8..], b"glxgears\0");
        let put = Request::TransferPut(TransferPut {
            transfer: Transfer {
                handle: 1,
                ..Default::default()
            },
            data: vec![1, 2, 3, 4, 5],
        })
        .encode(0);
        // 11 + ceil(5 / 4) dwords announced, 44 + 5 bytes sent.
        assert_eq!(Header::from_bytes(&put).unwrap().len, 13);
        assert_eq!(put.len(), 8 + 44 + 5);
    }

    #[test]
    fn caps_reply_length_is_bytes_plus_one() {
        let r = Reply::Caps {
            capset: 2,
            caps: vec![7; 1408],
        };
        let bytes = r.encode();
        let h = Header::from_bytes(&bytes).unwrap();
        assert_eq!((h.len, h.cmd), (1409, 2));
        assert_eq!(Reply::payload_size(VcmdId::GetCaps2, h, 0), 1408);
        assert_eq!(Reply::decode(VcmdId::GetCaps2, h, &bytes[8..]).unwrap(), r);
    }

    #[test]
    fn oversized_header_is_refused_before_buffering() {
        let mut d = FrameDecoder::new(1024);
        d.feed(&Header::new(VcmdId::SubmitCmd, 1 << 20).to_bytes());
        assert!(matches!(
            d.next_request(),
            Err(ProtocolError::VtestPayloadTooLarge { .. })
        ));
        let mut d = FrameDecoder::new(1024);
        let mut put = Header::new(VcmdId::TransferPut, 11).to_bytes().to_vec();
        put.extend(std::iter::repeat_n(0xff, 44));
        d.feed(&put);
        assert!(matches!(
            d.next_request(),
            Err(ProtocolError::VtestPayloadTooLarge { .. })
        ));
    }

    #[test]
    fn submit_cmd2_rejects_out_of_range_batches() {
        let mut bytes = Header::new(VcmdId::SubmitCmd2, 9).to_bytes().to_vec();
        for v in [1u32, 0, 0, 100, 0, 0, 0, 0, 0] {
            bytes.extend(v.to_le_bytes());
        }
        assert!(matches!(
            Request::parse(&bytes, 3, DEFAULT_MAX_PAYLOAD),
            Err(ProtocolError::VtestMalformed { .. })
        ));
        let mut bytes = Header::new(VcmdId::SubmitCmd2, 1).to_bytes().to_vec();
        bytes.extend(u32::MAX.to_le_bytes());
        assert!(Request::parse(&bytes, 3, DEFAULT_MAX_PAYLOAD).is_err());
    }
}
