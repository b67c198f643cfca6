//! The one error type of the Venus backend.

use thiserror::Error;

/// Errors of the Venus backend. Decoding errors make the context fatal (as upstream).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VenusError {
    /// The stream ended inside an item.
    #[error("command stream truncated: need {needed} bytes, {left} left")]
    Truncated { needed: usize, left: usize },
    /// An array size marker disagrees with the count it must match.
    #[error("array size {got} where {expected} was required")]
    ArraySize { expected: u64, got: u64 },
    /// A count or allocation exceeds what the stream or the decode budget allows.
    #[error("{0} too large")]
    TooLarge(&'static str),
    /// A structure in a `pNext` chain that the parent does not accept (or we do not support).
    #[error("unsupported sType {0} in a pNext chain")]
    UnknownStype(i32),
    /// A structure's `sType` is not the one its position requires.
    #[error("sType {got} where {expected} was required")]
    BadStype { expected: i32, got: i32 },
    /// A union member index out of range.
    #[error("union tag {0} out of range")]
    UnionTag(u32),
    /// A required pointer parameter was NULL.
    #[error("required parameter {0} is NULL")]
    NullParam(&'static str),
    /// The guest sent a `pAllocator` (never allowed on the wire).
    #[error("pAllocator must be NULL")]
    AllocatorPresent,
    /// An object id that does not name a live object of the expected type.
    #[error("unknown object id {id:#x} (object type {object_type})")]
    UnknownObject { object_type: i32, id: u64 },
    /// A command type we do not implement.
    #[error("unsupported command {0} ({1})")]
    UnsupportedCommand(u32, &'static str),
    /// An object id the guest tried to create twice, or 0.
    #[error("invalid new object id {0:#x}")]
    InvalidObjectId(u64),
    /// Something the guest asked for is invalid (the message says what).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The host Vulkan driver failed or is missing.
    #[error("host Vulkan: {0}")]
    Host(String),
    /// The Venus backend cannot run on this host.
    #[error("the Venus backend is not available: {0}")]
    NotAvailable(String),
    /// The render-server connection failed or carried something invalid.
    #[error("render server: {0}")]
    RenderServer(String),
}
