//! The render-server protocol (`server/render_protocol.h`, `RENDER_SERVER_VERSION` 0) spoken over
//! `SOCK_SEQPACKET` between the Venus proxy context and `virgl-render-server`, plus our own
//! `GET_RESOURCE` context op.
//!
//! Two request families exist:
//! - **client ops** ([`ClientRequest`]) go to the server process: init, reset, create and destroy
//!   a context (the create reply carries a socket fd for the new context's worker);
//! - **context ops** ([`ContextRequest`]) go to one context worker: init with a shmem of ring
//!   sequence numbers, create/import/destroy blob resources, submit commands and fences, and
//!   (our extension) look up a resource's memory so another backend can import it.
//!
//! Every message is one packet whose size must equal the C struct of its op exactly, as upstream
//! checks. File descriptors travel by `SCM_RIGHTS` alongside a packet; carrying them is the
//! transport's job, this module only says how many each op may carry ([`ContextOp::max_fds`]).
//! The macOS `SOCK_STREAM` framing header is not supported.
//!
//! Upstream declares the protocol internal with no backward compatibility, which is what allows
//! [`ContextOp::GetResource`]: only a server and proxy built from this crate speak it.

use crate::wire::{wire_struct, Wire};
use crate::ProtocolError;

/// `RENDER_SERVER_VERSION`.
pub const RENDER_SERVER_VERSION: u32 = 0;

/// Our cap on `SUBMIT_CMD` payloads. Upstream only says "size still must be small" and would
/// `malloc` any 32-bit size; we refuse more than this before allocating.
pub const MAX_SUBMIT_CMD_SIZE: u32 = 1 << 20;

/// Bytes of command stream carried inline in a `SUBMIT_CMD` request.
pub const SUBMIT_CMD_INLINE_SIZE: usize = 256;

/// The 4-byte op header that starts every request struct. It carries no data: it always
/// encodes `OP`, and decoding checks the value, so request structs compare equal across a
/// round trip and cannot be sent with the wrong op.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OpHeader<const OP: u32>;

impl<const OP: u32> Wire for OpHeader<OP> {
    const SIZE: usize = 4;
    const ALIGN: usize = 4;
    fn read_from(r: &mut crate::wire::Reader<'_>) -> Result<Self, ProtocolError> {
        match u32::read_from(r)? {
            v if v == OP => Ok(Self),
            v => Err(ProtocolError::UnknownOp {
                protocol: "render request header",
                op: v,
            }),
        }
    }
    fn write_to(&self, w: &mut crate::wire::Writer) {
        OP.write_to(w);
    }
    fn zeroed() -> Self {
        Self
    }
}

/// `enum virgl_resource_fd_type`: what kind of memory an fd refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum FdType {
    /// A dma-buf.
    Dmabuf = 0,
    /// An opaque Vulkan/GL memory fd; comes with a [`VulkanInfo`].
    Opaque = 1,
    /// `mmap()`-able shared memory (memfd or shm).
    Shm = 2,
    /// A handle (such as a GEM handle) from which an fd can be made on demand; never crosses
    /// a process boundary itself.
    OpaqueHandle = 3,
    /// No fd.
    Invalid = -1,
}

impl TryFrom<i32> for FdType {
    type Error = ProtocolError;
    fn try_from(v: i32) -> Result<Self, ProtocolError> {
        Ok(match v {
            0 => Self::Dmabuf,
            1 => Self::Opaque,
            2 => Self::Shm,
            3 => Self::OpaqueHandle,
            -1 => Self::Invalid,
            _ => {
                return Err(ProtocolError::InvalidValue {
                    what: "virgl_resource_fd_type",
                    value: v as u32 as u64,
                })
            }
        })
    }
}

wire_struct! {
    /// `struct virgl_resource_vulkan_info` (48 bytes): identifies the Vulkan device and memory
    /// behind an [`FdType::Opaque`] fd so an importer can check it is compatible.
    pub struct VulkanInfo {
        pub device_uuid: [u8; 16],
        pub driver_uuid: [u8; 16],
        pub allocation_size: u64,
        pub memory_type_index: u32,
    }
}

/// `enum render_client_op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ClientOp {
    /// Does nothing.
    Nop = 0,
    /// `virgl_renderer_init` in the server.
    Init = 1,
    /// Remove all contexts.
    Reset = 2,
    /// Create a context served by a new worker; replied with [`CreateContextReply`] + socket fd.
    CreateContext = 3,
    /// Destroy a context and its worker.
    DestroyContext = 4,
}

impl ClientOp {
    /// The op with wire value `v`.
    pub fn from_raw(v: u32) -> Result<Self, ProtocolError> {
        Ok(match v {
            0 => Self::Nop,
            1 => Self::Init,
            2 => Self::Reset,
            3 => Self::CreateContext,
            4 => Self::DestroyContext,
            _ => {
                return Err(ProtocolError::UnknownOp {
                    protocol: "render client",
                    op: v,
                })
            }
        })
    }

    /// Exact size of this op's request packet.
    pub fn request_size(self) -> usize {
        match self {
            Self::Nop | Self::Reset => 4,
            Self::Init | Self::DestroyContext => 8,
            Self::CreateContext => CreateContextRequest::SIZE,
        }
    }
}

wire_struct! {
    /// `struct render_client_op_create_context_request` (40 bytes).
    pub struct CreateContextRequest {
        pub header: OpHeader<3>,
        pub ctx_id: u32,
        /// NUL-padded name; the server uses at most the first 31 bytes.
        pub ctx_name: [u8; 32],
    }
}

impl CreateContextRequest {
    /// A request for context `ctx_id` named `name` (truncated to 31 bytes).
    pub fn new(ctx_id: u32, name: &str) -> Self {
        let mut ctx_name = [0u8; 32];
        let n = name.len().min(31);
        ctx_name[..n].copy_from_slice(&name.as_bytes()[..n]);
        Self {
            header: OpHeader,
            ctx_id,
            ctx_name,
        }
    }

    /// The name up to its first NUL (at most 31 bytes), lossily decoded.
    pub fn name(&self) -> String {
        let bytes = &self.ctx_name[..31];
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).into_owned()
    }
}

/// A request to the server process (`union render_client_op_request`).
#[derive(Clone, Debug, PartialEq)]
pub enum ClientRequest {
    /// `RENDER_CLIENT_OP_NOP`.
    Nop,
    /// `RENDER_CLIENT_OP_INIT {u32 flags}`: `VIRGL_RENDERER_USE_*` and other init flags.
    Init {
        /// Init flags.
        flags: u32,
    },
    /// `RENDER_CLIENT_OP_RESET`.
    Reset,
    /// `RENDER_CLIENT_OP_CREATE_CONTEXT`.
    CreateContext(CreateContextRequest),
    /// `RENDER_CLIENT_OP_DESTROY_CONTEXT {u32 ctx_id}`.
    DestroyContext {
        /// The context.
        ctx_id: u32,
    },
}

impl ClientRequest {
    /// The op of this request.
    pub fn op(&self) -> ClientOp {
        match self {
            Self::Nop => ClientOp::Nop,
            Self::Init { .. } => ClientOp::Init,
            Self::Reset => ClientOp::Reset,
            Self::CreateContext(_) => ClientOp::CreateContext,
            Self::DestroyContext { .. } => ClientOp::DestroyContext,
        }
    }

    /// Decode one packet; its size must be exactly that of the op's C struct.
    pub fn decode(packet: &[u8]) -> Result<Self, ProtocolError> {
        let op = ClientOp::from_raw(u32::decode(packet)?)?;
        check_size("render client request", op.request_size(), packet.len())?;
        let word = |i: usize| u32::decode(&packet[4 * i..]);
        Ok(match op {
            ClientOp::Nop => Self::Nop,
            ClientOp::Init => Self::Init { flags: word(1)? },
            ClientOp::Reset => Self::Reset,
            ClientOp::CreateContext => Self::CreateContext(CreateContextRequest::decode(packet)?),
            ClientOp::DestroyContext => Self::DestroyContext { ctx_id: word(1)? },
        })
    }

    /// Encode to one packet.
    pub fn encode(&self) -> Vec<u8> {
        let op = self.op() as u32;
        let mut out = op.encode();
        match self {
            Self::Nop | Self::Reset => {}
            Self::Init { flags } => out.extend(flags.encode()),
            Self::DestroyContext { ctx_id } => out.extend(ctx_id.encode()),
            Self::CreateContext(req) => out = req.encode(),
        }
        out
    }
}

/// `struct render_client_op_create_context_reply {bool ok}` (1 byte), followed by one socket fd
/// when `ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateContextReply {
    /// Whether the worker was created.
    pub ok: bool,
}

impl CreateContextReply {
    /// Size of the reply packet.
    pub const SIZE: usize = 1;

    /// Decode; the packet must be exactly one byte.
    pub fn decode(packet: &[u8]) -> Result<Self, ProtocolError> {
        check_size("create_context reply", Self::SIZE, packet.len())?;
        Ok(Self {
            ok: bool::decode(packet)?,
        })
    }

    /// Encode to one byte.
    pub fn encode(&self) -> Vec<u8> {
        self.ok.encode()
    }
}

/// `enum render_context_op`, plus our `GET_RESOURCE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ContextOp {
    /// Does nothing.
    Nop = 0,
    /// Set up the context with a shmem fd and an optional eventfd.
    Init = 1,
    /// Create and export a blob resource; replied with [`CreateResourceReply`] + fd.
    CreateResource = 2,
    /// Import a resource from an fd.
    ImportResource = 3,
    /// Free a resource.
    DestroyResource = 4,
    /// Submit a command stream.
    SubmitCmd = 5,
    /// Submit a fence on a ring.
    SubmitFence = 6,
    /// virgl-rs extension: describe a resource and export its memory; replied with
    /// [`GetResourceReply`] + fd.
    GetResource = 7,
}

impl ContextOp {
    /// The op with wire value `v`.
    pub fn from_raw(v: u32) -> Result<Self, ProtocolError> {
        Ok(match v {
            0 => Self::Nop,
            1 => Self::Init,
            2 => Self::CreateResource,
            3 => Self::ImportResource,
            4 => Self::DestroyResource,
            5 => Self::SubmitCmd,
            6 => Self::SubmitFence,
            7 => Self::GetResource,
            _ => {
                return Err(ProtocolError::UnknownOp {
                    protocol: "render context",
                    op: v,
                })
            }
        })
    }

    /// Exact size of this op's request packet.
    pub fn request_size(self) -> usize {
        match self {
            Self::Nop => 4,
            Self::Init => ContextInitRequest::SIZE,
            Self::CreateResource => CreateResourceRequest::SIZE,
            Self::ImportResource => ImportResourceRequest::SIZE,
            Self::DestroyResource | Self::GetResource => 8,
            Self::SubmitCmd => 8 + SUBMIT_CMD_INLINE_SIZE,
            Self::SubmitFence => SubmitFenceRequest::SIZE,
        }
    }

    /// How many fds may accompany the request (upstream's `max_fd_count`).
    pub fn max_fds(self) -> usize {
        match self {
            Self::Init => 2,
            Self::ImportResource => 1,
            _ => 0,
        }
    }
}

wire_struct! {
    /// `struct render_context_op_init_request` (16 bytes); followed by a shmem fd (an array of
    /// `atomic_uint` ring seqnos) and optionally an eventfd.
    pub struct ContextInitRequest {
        pub header: OpHeader<1>,
        /// `VIRGL_RENDERER_CONTEXT_FLAG_*`.
        pub flags: u32,
        /// `size_t` on x86_64/aarch64.
        pub shmem_size: u64,
    }
}

wire_struct! {
    /// `struct render_context_op_create_resource_request` (32 bytes).
    pub struct CreateResourceRequest {
        pub header: OpHeader<2>,
        pub res_id: u32,
        pub blob_id: u64,
        pub blob_size: u64,
        /// `VIRGL_RENDERER_BLOB_FLAG_*`.
        pub blob_flags: u32,
    }
}

wire_struct! {
    /// `struct render_context_op_import_resource_request` (24 bytes); followed by one fd.
    pub struct ImportResourceRequest {
        pub header: OpHeader<3>,
        pub res_id: u32,
        /// An [`FdType`] value, checked by [`ContextRequest::decode`].
        pub fd_type: i32,
        pub size: u64,
    }
}

wire_struct! {
    /// `struct render_context_op_submit_fence_request` (16 bytes).
    pub struct SubmitFenceRequest {
        pub header: OpHeader<6>,
        /// `VIRGL_RENDERER_FENCE_FLAG_*`.
        pub flags: u32,
        pub ring_index: u32,
        pub seqno: u32,
    }
}

/// The head of a `SUBMIT_CMD` request: the total size and the inline part of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitCmd {
    /// Total size of the command stream in bytes.
    pub size: u32,
    /// The first `min(size, 256)` bytes.
    pub inline: Vec<u8>,
}

impl SubmitCmd {
    /// Bytes that follow in a second packet (`size - 256` when `size > 256`).
    pub fn remaining(&self) -> usize {
        (self.size as usize).saturating_sub(SUBMIT_CMD_INLINE_SIZE)
    }

    /// Split a whole command stream into the request head and the overflow packet (empty when
    /// it fits inline). Streams over [`MAX_SUBMIT_CMD_SIZE`] are refused.
    pub fn split(cmd: &[u8]) -> Result<(Self, &[u8]), ProtocolError> {
        let size = u32::try_from(cmd.len())
            .ok()
            .filter(|&s| s <= MAX_SUBMIT_CMD_SIZE)
            .ok_or(ProtocolError::InvalidValue {
                what: "render SUBMIT_CMD size",
                value: cmd.len() as u64,
            })?;
        let n = cmd.len().min(SUBMIT_CMD_INLINE_SIZE);
        Ok((
            Self {
                size,
                inline: cmd[..n].to_vec(),
            },
            &cmd[n..],
        ))
    }
}

/// A request to a context worker (`union render_context_op_request` plus `GET_RESOURCE`).
#[derive(Clone, Debug, PartialEq)]
pub enum ContextRequest {
    /// `RENDER_CONTEXT_OP_NOP`.
    Nop,
    /// `RENDER_CONTEXT_OP_INIT`.
    Init(ContextInitRequest),
    /// `RENDER_CONTEXT_OP_CREATE_RESOURCE`.
    CreateResource(CreateResourceRequest),
    /// `RENDER_CONTEXT_OP_IMPORT_RESOURCE`.
    ImportResource(ImportResourceRequest),
    /// `RENDER_CONTEXT_OP_DESTROY_RESOURCE {u32 res_id}`.
    DestroyResource {
        /// The resource.
        res_id: u32,
    },
    /// `RENDER_CONTEXT_OP_SUBMIT_CMD`.
    SubmitCmd(SubmitCmd),
    /// `RENDER_CONTEXT_OP_SUBMIT_FENCE`.
    SubmitFence(SubmitFenceRequest),
    /// virgl-rs `GET_RESOURCE {u32 res_id}`.
    GetResource {
        /// The resource.
        res_id: u32,
    },
}

impl ContextRequest {
    /// The op of this request.
    pub fn op(&self) -> ContextOp {
        match self {
            Self::Nop => ContextOp::Nop,
            Self::Init(_) => ContextOp::Init,
            Self::CreateResource(_) => ContextOp::CreateResource,
            Self::ImportResource(_) => ContextOp::ImportResource,
            Self::DestroyResource { .. } => ContextOp::DestroyResource,
            Self::SubmitCmd(_) => ContextOp::SubmitCmd,
            Self::SubmitFence(_) => ContextOp::SubmitFence,
            Self::GetResource { .. } => ContextOp::GetResource,
        }
    }

    /// Decode one packet; its size must be exactly that of the op's C struct.
    pub fn decode(packet: &[u8]) -> Result<Self, ProtocolError> {
        let op = ContextOp::from_raw(u32::decode(packet)?)?;
        check_size("render context request", op.request_size(), packet.len())?;
        Ok(match op {
            ContextOp::Nop => Self::Nop,
            ContextOp::Init => Self::Init(ContextInitRequest::decode(packet)?),
            ContextOp::CreateResource => {
                Self::CreateResource(CreateResourceRequest::decode(packet)?)
            }
            ContextOp::ImportResource => {
                let req = ImportResourceRequest::decode(packet)?;
                FdType::try_from(req.fd_type)?;
                Self::ImportResource(req)
            }
            ContextOp::DestroyResource => Self::DestroyResource {
                res_id: u32::decode(&packet[4..])?,
            },
            ContextOp::SubmitCmd => {
                let size = u32::decode(&packet[4..])?;
                if size > MAX_SUBMIT_CMD_SIZE {
                    return Err(ProtocolError::InvalidValue {
                        what: "render SUBMIT_CMD size",
                        value: u64::from(size),
                    });
                }
                let n = (size as usize).min(SUBMIT_CMD_INLINE_SIZE);
                Self::SubmitCmd(SubmitCmd {
                    size,
                    inline: packet[8..8 + n].to_vec(),
                })
            }
            ContextOp::SubmitFence => Self::SubmitFence(SubmitFenceRequest::decode(packet)?),
            ContextOp::GetResource => Self::GetResource {
                res_id: u32::decode(&packet[4..])?,
            },
        })
    }

    /// Encode to one packet (for `SUBMIT_CMD`, only the first packet; send the overflow from
    /// [`SubmitCmd::split`] as a second one).
    pub fn encode(&self) -> Vec<u8> {
        let op = self.op() as u32;
        match self {
            Self::Nop => op.encode(),
            Self::Init(r) => r.encode(),
            Self::CreateResource(r) => r.encode(),
            Self::ImportResource(r) => r.encode(),
            Self::SubmitFence(r) => r.encode(),
            Self::DestroyResource { res_id } | Self::GetResource { res_id } => {
                let mut out = op.encode();
                out.extend(res_id.encode());
                out
            }
            Self::SubmitCmd(c) => {
                let mut out = op.encode();
                out.extend(c.size.encode());
                let n = c.inline.len().min(SUBMIT_CMD_INLINE_SIZE);
                out.extend_from_slice(&c.inline[..n]);
                out.resize(8 + SUBMIT_CMD_INLINE_SIZE, 0);
                out
            }
        }
    }
}

wire_struct! {
    /// `struct render_context_op_create_resource_reply` (56 bytes); followed by one fd unless
    /// `fd_type` is [`FdType::Invalid`].
    pub struct CreateResourceReply {
        /// An [`FdType`] value.
        pub fd_type: i32,
        /// `VIRGL_RENDERER_MAP_*` cache mode.
        pub map_info: u32,
        /// Set when `fd_type` is [`FdType::Opaque`].
        pub vulkan_info: VulkanInfo,
    }
}

wire_struct! {
    /// Reply to our `GET_RESOURCE` (72 bytes); followed by one fd unless `fd_type` is
    /// [`FdType::Invalid`] (which is also the answer for an unknown resource).
    ///
    /// `format` is a [`crate::VirglFormat`] value, or 0 (`NONE`) for a plain blob with no
    /// image description; `stride` is the row pitch in bytes of plane 0.
    pub struct GetResourceReply {
        /// An [`FdType`] value.
        pub fd_type: i32,
        pub width: u32,
        pub height: u32,
        pub format: u32,
        pub stride: u32,
        /// `VIRGL_RENDERER_MAP_*` cache mode.
        pub map_info: u32,
        /// Set when `fd_type` is [`FdType::Opaque`].
        pub vulkan_info: VulkanInfo,
    }
}

impl CreateResourceReply {
    /// Decode; the packet must be exactly [`Self::SIZE`] bytes and `fd_type` valid.
    pub fn decode_packet(packet: &[u8]) -> Result<Self, ProtocolError> {
        check_size("create_resource reply", Self::SIZE, packet.len())?;
        let r = Self::decode(packet)?;
        FdType::try_from(r.fd_type)?;
        Ok(r)
    }

    /// The typed fd type.
    pub fn fd_type(&self) -> Result<FdType, ProtocolError> {
        FdType::try_from(self.fd_type)
    }
}

impl GetResourceReply {
    /// Decode; the packet must be exactly [`Self::SIZE`] bytes and `fd_type` valid.
    pub fn decode_packet(packet: &[u8]) -> Result<Self, ProtocolError> {
        check_size("get_resource reply", Self::SIZE, packet.len())?;
        let r = Self::decode(packet)?;
        FdType::try_from(r.fd_type)?;
        Ok(r)
    }

    /// The typed fd type.
    pub fn fd_type(&self) -> Result<FdType, ProtocolError> {
        FdType::try_from(self.fd_type)
    }
}

fn check_size(what: &'static str, expected: usize, actual: usize) -> Result<(), ProtocolError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ProtocolError::SizeMismatch {
            what,
            expected,
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_upstream() {
        assert_eq!(VulkanInfo::SIZE, 48);
        assert_eq!(CreateContextRequest::SIZE, 40);
        assert_eq!(ContextInitRequest::SIZE, 16);
        assert_eq!(CreateResourceRequest::SIZE, 32);
        assert_eq!(ImportResourceRequest::SIZE, 24);
        assert_eq!(SubmitFenceRequest::SIZE, 16);
        assert_eq!(ContextOp::SubmitCmd.request_size(), 264);
        assert_eq!(CreateResourceReply::SIZE, 56);
        assert_eq!(GetResourceReply::SIZE, 72);
    }

    fn client_roundtrip(r: ClientRequest) {
        let b = r.encode();
        assert_eq!(b.len(), r.op().request_size());
        assert_eq!(ClientRequest::decode(&b), Ok(r));
    }

    fn context_roundtrip(r: ContextRequest) -> Vec<u8> {
        let b = r.encode();
        assert_eq!(b.len(), r.op().request_size());
        assert_eq!(ContextRequest::decode(&b), Ok(r));
        b
    }

    #[test]
    fn client_ops_roundtrip() {
        client_roundtrip(ClientRequest::Nop);
        client_roundtrip(ClientRequest::Init { flags: 0x240 });
        client_roundtrip(ClientRequest::Reset);
        client_roundtrip(ClientRequest::CreateContext(CreateContextRequest::new(
            7, "vkcube",
        )));
        client_roundtrip(ClientRequest::DestroyContext { ctx_id: 7 });
        let b =
            ClientRequest::CreateContext(CreateContextRequest::new(3, &"x".repeat(40))).encode();
        assert_eq!(&b[..8], &[3, 0, 0, 0, 3, 0, 0, 0]);
        let ClientRequest::CreateContext(c) = ClientRequest::decode(&b).unwrap() else {
            panic!()
        };
        assert_eq!(c.name().len(), 31);
        for ok in [false, true] {
            let r = CreateContextReply { ok };
            assert_eq!(CreateContextReply::decode(&r.encode()), Ok(r));
        }
    }

    #[test]
    fn context_ops_roundtrip_at_upstream_offsets() {
        context_roundtrip(ContextRequest::Nop);
        let b = context_roundtrip(ContextRequest::Init(ContextInitRequest {
            header: OpHeader,
            flags: 4,
            shmem_size: 4096,
        }));
        assert_eq!(&b[8..16], &4096u64.to_le_bytes());
        let b = context_roundtrip(ContextRequest::CreateResource(CreateResourceRequest {
            header: OpHeader,
            res_id: 9,
            blob_id: 0x1122_3344_5566_7788,
            blob_size: 1 << 20,
            blob_flags: 3,
        }));
        assert_eq!(&b[8..16], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&b[24..28], &3u32.to_le_bytes());
        let b = context_roundtrip(ContextRequest::ImportResource(ImportResourceRequest {
            header: OpHeader,
            res_id: 9,
            fd_type: FdType::Shm as i32,
            size: 65536,
        }));
        assert_eq!(&b[8..12], &2i32.to_le_bytes());
        assert_eq!(&b[16..24], &65536u64.to_le_bytes());
        context_roundtrip(ContextRequest::DestroyResource { res_id: 9 });
        context_roundtrip(ContextRequest::SubmitFence(SubmitFenceRequest {
            header: OpHeader,
            flags: 1,
            ring_index: 2,
            seqno: 3,
        }));
        context_roundtrip(ContextRequest::GetResource { res_id: 9 });
    }

    #[test]
    fn submit_cmd_inline_and_overflow() {
        let small = vec![0xab; 100];
        let (head, rest) = SubmitCmd::split(&small).unwrap();
        assert!(rest.is_empty() && head.remaining() == 0);
        context_roundtrip(ContextRequest::SubmitCmd(head));

        let big: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let (head, rest) = SubmitCmd::split(&big).unwrap();
        assert_eq!(
            (head.inline.len(), rest.len(), head.remaining()),
            (256, 744, 744)
        );
        let b = context_roundtrip(ContextRequest::SubmitCmd(head));
        assert_eq!(&b[4..8], &1000u32.to_le_bytes());
        assert_eq!(&b[8..264], &big[..256]);

        assert!(SubmitCmd::split(&vec![0; MAX_SUBMIT_CMD_SIZE as usize + 1]).is_err());
        let mut hostile = b.clone();
        hostile[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            ContextRequest::decode(&hostile),
            Err(ProtocolError::InvalidValue { .. })
        ));
    }

    #[test]
    fn replies_roundtrip() {
        let vk = VulkanInfo {
            device_uuid: [1; 16],
            driver_uuid: [2; 16],
            allocation_size: 1 << 30,
            memory_type_index: 3,
        };
        let r = CreateResourceReply {
            fd_type: 1,
            map_info: 3,
            vulkan_info: vk.clone(),
        };
        let b = r.to_bytes();
        assert_eq!(&b[8..24], &[1; 16]);
        assert_eq!(&b[40..48], &(1u64 << 30).to_le_bytes());
        assert_eq!(CreateResourceReply::decode_packet(&b), Ok(r.clone()));
        assert_eq!(r.fd_type(), Ok(FdType::Opaque));

        let g = GetResourceReply {
            fd_type: 0,
            width: 640,
            height: 480,
            format: 1,
            stride: 2560,
            map_info: 0,
            vulkan_info: vk,
        };
        let b = g.to_bytes();
        assert_eq!(&b[16..20], &2560u32.to_le_bytes());
        assert_eq!(&b[24..40], &[1; 16]);
        assert_eq!(GetResourceReply::decode_packet(&b), Ok(g));
        let none = GetResourceReply {
            fd_type: -1,
            ..Default::default()
        };
        assert_eq!(
            GetResourceReply::decode_packet(&none.to_bytes())
                .unwrap()
                .fd_type(),
            Ok(FdType::Invalid)
        );
    }

    #[test]
    fn malformed_packets_are_rejected() {
        assert!(matches!(
            ClientRequest::decode(&[]),
            Err(ProtocolError::Truncated { .. })
        ));
        assert!(matches!(
            ClientRequest::decode(&[5, 0, 0, 0]),
            Err(ProtocolError::UnknownOp { op: 5, .. })
        ));
        assert!(matches!(
            ClientRequest::decode(&[1, 0, 0, 0]),
            Err(ProtocolError::SizeMismatch {
                expected: 8,
                actual: 4,
                ..
            })
        ));
        assert!(matches!(
            ContextRequest::decode(&[8, 0, 0, 0]),
            Err(ProtocolError::UnknownOp { op: 8, .. })
        ));
        let mut imp = ContextRequest::ImportResource(ImportResourceRequest::default()).encode();
        imp[8..12].copy_from_slice(&7i32.to_le_bytes());
        assert!(matches!(
            ContextRequest::decode(&imp),
            Err(ProtocolError::InvalidValue { .. })
        ));
        let mut long = ContextRequest::Nop.encode();
        long.push(0);
        assert!(ContextRequest::decode(&long).is_err());
        assert!(CreateResourceReply::decode_packet(&[0; 55]).is_err());
        assert!(CreateContextReply::decode(&[]).is_err());
    }

    #[test]
    fn fd_counts() {
        assert_eq!(ContextOp::Init.max_fds(), 2);
        assert_eq!(ContextOp::ImportResource.max_fds(), 1);
        assert_eq!(ContextOp::GetResource.max_fds(), 0);
    }
}
