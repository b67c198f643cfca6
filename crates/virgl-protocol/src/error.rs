//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong while decoding a wire format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ended before a complete message or field.
    #[error("truncated input: needed {needed} more units at offset {offset}")]
    Truncated { offset: usize, needed: usize },
}
