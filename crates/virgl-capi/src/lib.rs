//! The façade of virgl-rs: a safe Rust [`Renderer`] API and the C ABI of `virglrenderer.h`.
//!
//! [`Renderer`] owns the resource table, creates contexts by capset (VIRGL and VIRGL2 on the GL
//! backend; VENUS in-process or, with `RENDER_SERVER`, through the [`proxy`] to
//! `virgl-render-server`; DRM is refused with a clear error), routes
//! commands, marks a context broken on its first guest-caused error, and runs fences. The
//! [`ffi`] module exports the functions of upstream virglrenderer 1.3.0 so that an unmodified
//! QEMU can load `libvirglrenderer.so.1` built from this crate.
//!
//! It does **not** decode command streams or touch GL itself: it composes the layers.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod ffi;
mod limits;
pub mod proxy;
mod renderer;

pub use renderer::{
    capset, static_capset_info, CursorData, ExternalImport, Renderer, RendererBuilder,
    RendererCallbacks, RendererError, RendererFlags, ResourceInfo, CONTEXT_FLAG_CAPSET_ID_MASK,
};
