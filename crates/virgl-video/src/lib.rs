//! Video decode for virgl-rs guests through the host's VA-API.
//!
//! Layers (each testable alone):
//! - [`translate`]: pure functions from a guest `virgl_picture_desc` (decoded by
//!   `virgl-protocol`) plus the guest's bitstream buffers to the VA buffers a VA driver expects
//!   (picture parameters, IQ matrix, Huffman tables, slice parameters, slice data). No FFI calls,
//!   no GPU: only `libva-sys` struct layouts.
//! - [`va`]: the one safe module over `libva-sys` (display on a DRM fd, configs, contexts,
//!   surfaces, buffers, readback and dma-buf export).
//! - [`caps`]: the `virgl_video_caps` entries of caps v2, queried from the VA driver (never
//!   hard-coded).
//! - [`session`]: the video commands of one guest context (CREATE/DESTROY_VIDEO_CODEC,
//!   CREATE/DESTROY_VIDEO_BUFFER, BEGIN_FRAME, DECODE_BITSTREAM, END_FRAME): guest handles to
//!   VA objects, descriptions and bitstreams read from guest resources with their sizes checked,
//!   decoded pictures copied into the guest resources backing the video buffer.
//!
//! Not in this crate: the command-stream decoding (virgl-protocol), the guest resources' GL
//! storage (virgl-vrend reaches it through [`session::VideoResources`]), and encode (refused
//! with an explicit error).
//!
//! # Running on a host with a real VA-API driver
//!
//! - vtest: `virgl-vtest --rendernode=/dev/dri/renderD128` (or `VTEST_RENDERNODE`) turns video
//!   on; libva picks the driver for that node (`LIBVA_DRIVER_NAME=iHD|radeonsi|nvidia` to
//!   force one). In the guest, Mesa's virgl VA driver (`LIBVA_DRIVER_NAME=virtio_gpu`, or
//!   `vainfo` through virpipe) then sees the profiles this host decodes.
//! - QEMU / the C ABI: `virgl_renderer_init` with `VIRGL_RENDERER_USE_VIDEO` and callbacks of
//!   version 2 or later whose `get_drm_fd` returns the render node (the fd is duplicated; the
//!   embedder keeps its own).
//! - Without a usable node or VA driver the renderer starts without video (a warning is
//!   logged) and caps v2 lists no video profiles, so guests do not try.
//! - `RUST_LOG=virgl_video=debug,virgl_vrend=warn` shows the VA display, caps, and every video
//!   command that was dropped with its reason.
//!
//! CI has no GPU: tests run the real libva loader against `tools/test-va-driver`, which stands
//! in for hardware (records calls, fills surfaces with a pattern).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod caps;
pub mod session;
pub mod translate;
pub mod va;

pub use caps::video_caps;
pub use session::{VideoBackend, VideoContext, VideoResources};

use thiserror::Error;

/// Errors of the video backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VideoError {
    /// A picture description the guest sent cannot be translated (bad reference index,
    /// sizes past the buffer, unknown profile ...); no VA call was made with it.
    #[error("invalid {codec} picture description: {reason}")]
    InvalidPicture {
        /// The codec family.
        codec: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// No VA display could be opened on the DRM fd.
    #[error("no VA display: {0}")]
    NoDisplay(String),
    /// A VA call failed.
    #[error("{call} failed: {message} ({status:#x})")]
    Va {
        /// The libva function.
        call: &'static str,
        /// Its `VAStatus`.
        status: i32,
        /// `vaErrorStr` of the status.
        message: String,
    },
    /// A video command the guest sent is invalid (unknown handle, wrong state, bad size or
    /// format); nothing was passed to VA.
    #[error("invalid video command: {0}")]
    InvalidCommand(String),
    /// The profile, entrypoint or format is valid but this host does not serve it.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A guest resource could not be read or written.
    #[error(transparent)]
    Resource(#[from] virgl_resource::ResourceError),
}
