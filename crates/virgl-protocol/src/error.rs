//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong while decoding a wire format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ended before a complete message or field.
    #[error("truncated input: needed {needed} more units at offset {offset}")]
    Truncated { offset: usize, needed: usize },

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
