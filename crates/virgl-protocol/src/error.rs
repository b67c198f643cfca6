//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong while decoding a wire format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ended before a complete message or field.
    #[error("truncated input: needed {needed} more units at offset {offset}")]
    Truncated { offset: usize, needed: usize },

    /// A command header names an id that is not a `VIRGL_CCMD_*` value (>= 64).
    #[error("unknown command id {cmd} at dword {offset}")]
    UnknownCommand { offset: usize, cmd: u8 },
    /// A command header declares more payload dwords than the buffer still holds.
    #[error("command at dword {offset} declares {len} payload dwords, only {available} remain")]
    CommandOverrun {
        offset: usize,
        len: usize,
        available: usize,
    },
    /// A command's payload length breaks that command's length rule.
    #[error("{cmd} at dword {offset}: payload of {len} dwords is invalid ({rule})")]
    BadCommandLength {
        offset: usize,
        cmd: &'static str,
        len: usize,
        rule: &'static str,
    },
    /// A command names an object type that it does not accept.
    #[error("{cmd} at dword {offset}: object type {obj} is not accepted")]
    BadObjectType {
        offset: usize,
        cmd: &'static str,
        obj: u8,
    },
    /// A command field holds a value outside the range the protocol allows.
    #[error("{cmd} at dword {offset}: {field} = {value} is out of range")]
    InvalidCommandField {
        offset: usize,
        cmd: &'static str,
        field: &'static str,
        value: u64,
    },
    /// A shader text split across `CREATE_OBJECT(SHADER)` commands does not reassemble.
    #[error("shader {handle}: {reason}")]
    ShaderAssembly { handle: u32, reason: &'static str },
    /// A command is too large to encode (payload over 65535 dwords).
    #[error("cannot encode {cmd}: payload of {len} dwords exceeds the 16-bit length field")]
    CommandTooLarge { cmd: &'static str, len: usize },

    /// A format value is unassigned, or is a host-only format sent by the guest.
    #[error("invalid virgl format {0}")]
    InvalidFormat(u32),
    /// A struct of fixed size was given a buffer of another size.
    #[error("{what}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
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
