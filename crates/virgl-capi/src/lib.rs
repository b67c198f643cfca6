//! The façade of virgl-rs: a safe Rust `Renderer` API and the C ABI of `virglrenderer.h`.
//!
//! `Renderer` owns the resource table, creates contexts by capset (VIRGL and VIRGL2 on the GL
//! backend, VENUS on the Vulkan backend), routes commands and runs fences. The `ffi` module
//! exports the functions of upstream virglrenderer 1.3.0 so that an unmodified QEMU can load
//! `libvirglrenderer.so.1` from this crate.
//!
//! It does **not** decode command streams or touch GL/Vulkan itself: it composes the layers.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
