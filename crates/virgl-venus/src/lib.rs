//! The Vulkan (Venus) backend of virgl-rs (capset VENUS).
//!
//! Planned: generated Venus protocol decoders, dispatch to host Vulkan through ash, rings, the
//! render server and its proxy. Not implemented yet: creating a Venus context fails with
//! [`VenusError::NotImplemented`] rather than pretending to work.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use thiserror::Error;

/// Errors of the Venus backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VenusError {
    /// The Venus backend has not been written yet.
    #[error("the Venus backend is not implemented in this build")]
    NotImplemented,
}
