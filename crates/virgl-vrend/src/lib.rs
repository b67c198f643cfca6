//! The OpenGL backend of virgl-rs (capsets VIRGL and VIRGL2).
//!
//! It replays the decoded virgl command stream on the host's OpenGL through glow, on an EGL
//! surfaceless display by default or on GL contexts the embedder provides through
//! [`GlContextProvider`]. It fills the guest-visible caps from what the host really supports
//! ([`caps`]), keeps the GL storage of every 3D resource ([`VrendBackend`]) and executes, per
//! guest context ([`VrendContext`]), sub-contexts, the object table, framebuffers, clears,
//! blits, region copies and transfers.
//!
//! Draws translate the guest's TGSI to GLSL ([`tgsi`]), link and cache programs per state,
//! apply state objects lazily with shadowing, and run DRAW_VBO (indexed, instanced, indirect),
//! queries, conditional rendering, compute, shader images/buffers, atomic counters and stream
//! output (transform feedback, draws counted from it on desktop GL hosts). GBM render nodes
//! are refused explicitly. It does not decode wire formats (that is `virgl-protocol`) nor own guest
//! memory (that is `virgl-resource`).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod backend;
mod blitter;
mod budget;
pub mod caps;
mod context;
mod draw;
mod egl;
mod error;
mod features;
pub mod formats;
mod glenum;
mod host;
mod import;
mod import_dmabuf;
mod objects;
mod ops;
mod program;
mod query;
mod resource;
mod state;
mod streamout;
pub mod tgsi;
mod vertex;
mod video;
mod views;

pub use backend::{ResourceInfo, VrendBackend};
pub use context::{BackingLookup, VrendContext};
pub use egl::{
    EglOptions, EglPlatform, EglProvider, GlContextHandle, GlContextParams, GlContextProvider,
};
pub use error::{VrendError, VrendResult};
pub use features::{Feature, Features};
pub use host::{HostGl, Limits};
pub use import::GlImport;
pub use objects::{ObjectType, Surface};
pub use resource::{
    gl_target, pipe_target, virgl_bind, GlResource, GuestLayout, GuestMemory, Storage, TexBox,
    RESOURCE_Y_0_TOP,
};
