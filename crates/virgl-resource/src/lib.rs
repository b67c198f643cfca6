//! Resources shared by every virgl-rs backend.
//!
//! This layer owns the global resource table keyed by the guest's resource id, per-context
//! attachment sets, backing memory (guest iovecs, shared memory, host blobs, imported fds, guest
//! VRAM), the bounds-checked transfer engine between guest memory and linear host staging, and
//! the cross-context wide lookup through which one backend imports another's memory.
//!
//! It also defines the two traits every backend implements, [`Backend`] (renderer-wide state:
//! caps, host storage for resources) and [`Context`] (one guest context), so that the façade in
//! `virgl-capi` composes backends without knowing them.
//!
//! It does **not** talk to GL, Vulkan or VA-API: backends plug in through those traits.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod context;
mod error;
mod table;

pub use context::{
    Backend, Context, ContextError, FenceSignal, TransferDirection, TransferRequest,
};
pub use error::ResourceError;
pub use table::{Resource, ResourceCreateArgs, ResourceTable};
