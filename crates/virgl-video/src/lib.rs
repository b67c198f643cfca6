//! Video decode for virgl-rs guests through the host's VA-API.
//!
//! Layers (each testable alone):
//! - [`translate`]: pure functions from a guest `virgl_picture_desc` (decoded by
//!   `virgl-protocol`) plus the guest's bitstream buffers to the VA buffers a VA driver expects
//!   (picture parameters, IQ matrix, Huffman tables, slice parameters, slice data). No FFI calls,
//!   no GPU: only `libva-sys` struct layouts.
//! - the VA session (VA display, configs, contexts, surfaces) behind one small safe module.
//!
//! Not in this crate: the command-stream decoding (virgl-protocol) and the guest resources
//! backing video buffers (virgl-resource / virgl-vrend).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod translate;

use thiserror::Error;

/// Errors of the video backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VideoError {
    /// The video backend has not been written yet.
    #[error("video decode is not implemented in this build")]
    NotImplemented,
    /// A picture description the guest sent cannot be translated (bad reference index,
    /// sizes past the buffer, unknown profile ...); no VA call was made with it.
    #[error("invalid {codec} picture description: {reason}")]
    InvalidPicture {
        /// The codec family.
        codec: &'static str,
        /// What was wrong.
        reason: String,
    },
}
