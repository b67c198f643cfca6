//! The vtest server of virgl-rs.
//!
//! Mesa's virgl (`GALLIUM_DRIVER=virpipe`) and venus (`VN_DEBUG=vtest`) drivers connect to a unix
//! socket and speak the vtest protocol; this crate accepts them, frames their requests with
//! `virgl-protocol`, and drives the safe `Renderer` API of `virgl-capi` like any other embedder.
//!
//! Layout: [`args`] (upstream-compatible command line), [`socket`] (0600 listener, SCM_RIGHTS),
//! [`server`] (process model and poll loop), `session` (one client: context, resources, command
//! handlers), `sync` (sync objects, timelines, waits), `host` (the calls into the renderer).
//!
//! It does **not** serve DRM native contexts (`--drm`, `DRM_SYNC_*`): like an upstream server
//! started without `--drm`, it drops a client that sends those commands. Fence fds
//! (`SUBMIT_CMD2` `IN_FENCE_FD`/`OUT_FENCE_FD`) are refused the same way, since the renderer API
//! has no fence import/export; Mesa's clients do not use them over vtest.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod args;
mod error;
mod host;
pub mod server;
mod session;
pub mod socket;
mod sync;

pub use error::{VtestError, VtestResult};
