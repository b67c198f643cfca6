//! The one error type of this crate.

use thiserror::Error;

/// Errors of the resource layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// Resource id 0 is reserved.
    #[error("resource id 0 is invalid")]
    ZeroId,
    /// A resource with this id exists already.
    #[error("resource {0} already exists")]
    DuplicateId(u32),
    /// No resource has this id.
    #[error("unknown resource {0}")]
    UnknownId(u32),
}
