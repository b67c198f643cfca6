//! Video decode for virgl-rs guests through the host's VA-API.
//!
//! Planned: translation of `virgl_picture_desc` to VA picture, IQ matrix and slice buffers for
//! h264, hevc, mpeg12, vc1, jpeg, vp9 and av1, and the VA-API session behind one small safe
//! module. Not implemented yet: every entry point returns [`VideoError::NotImplemented`].
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use thiserror::Error;

/// Errors of the video backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VideoError {
    /// The video backend has not been written yet.
    #[error("video decode is not implemented in this build")]
    NotImplemented,
}
