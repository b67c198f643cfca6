//! The vtest server of virgl-rs.
//!
//! Mesa's virgl (`GALLIUM_DRIVER=virpipe`) and venus (`VN_DEBUG=vtest`) drivers connect to a unix
//! socket and speak the vtest protocol; this crate accepts them, frames their requests with
//! `virgl-protocol`, and drives the safe `Renderer` API of `virgl-capi` like any other embedder.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
