//! Resources shared by every virgl-rs backend.
//!
//! This layer owns the global resource table keyed by the guest's resource id, per-context
//! attachment sets, backing memory (guest iovecs, shared memory, host blobs, imported fds, guest
//! VRAM), the bounds-checked transfer engine between guest memory and linear host staging, and
//! the cross-context wide lookup through which one backend imports another's memory.
//!
//! It does **not** talk to GL, Vulkan or VA-API: backends plug in through traits.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
