//! Wire formats spoken by the virgl-rs host renderer.
//!
//! This crate decodes and encodes, without I/O and without a GPU:
//! - the virgl command stream (`VIRGL_CCMD_*`, object types, shader payloads),
//! - the virgl format table, bind flags and the `virgl_caps_v1`/`v2` capability structs,
//! - the vtest protocol (versions 0–4) and its framing,
//! - the render-server protocol used between the Venus proxy and `virgl-render-server`,
//! - video picture descriptions (`union virgl_picture_desc`) and video caps.
//!
//! It does **not** execute anything: backends (`virgl-vrend`, `virgl-venus`, `virgl-video`)
//! interpret the decoded values. Every decoder treats its input as hostile: arbitrary bytes yield a
//! typed [`ProtocolError`], never a panic, an overflow or an unbounded allocation.
#![forbid(unsafe_code)]

pub mod bind;
pub mod caps;
pub mod command;
mod error;
pub mod format;
pub mod pipe;
pub mod render_server;
pub mod video;
pub mod vtest;
mod wire;

pub use error::ProtocolError;
pub use format::{FormatInfo, VirglFormat};
