//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong while decoding a wire format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ended before a complete message or field.
    #[error("truncated input: needed {needed} more units at offset {offset}")]
    Truncated { offset: usize, needed: usize },

    /// A format value is unassigned, or is a host-only format sent by the guest.
    #[error("invalid virgl format {0}")]
    InvalidFormat(u32),
    /// A struct of fixed size was given a buffer of another size.
    #[error("{what}: expected {expected} bytes, got {actual}")]
    SizeMismatch { what: &'static str, expected: usize, actual: usize },
    /// An operation/request id that the protocol does not define.
    #[error("{protocol}: unknown op {op}")]
    UnknownOp { protocol: &'static str, op: u32 },
    /// A field holds a value its enum or range does not allow.
    #[error("{what}: invalid value {value}")]
    InvalidValue { what: &'static str, value: u64 },

    /// A vtest header names a command id outside `VCMD_*` 1–38.
    #[error("vtest: unknown command id {0}")]
    VtestUnknownCommand(u32),
    /// A vtest request's payload is larger than the decoder's cap (checked before allocating).
    #[error("vtest command {cmd}: payload of {size} bytes exceeds the limit of {max}")]
    VtestPayloadTooLarge { cmd: u32, size: u64, max: usize },
    /// A vtest request's fields are inconsistent (lengths, offsets, counts).
    #[error("vtest command {cmd}: {reason}")]
    VtestMalformed { cmd: u32, reason: &'static str },
}
