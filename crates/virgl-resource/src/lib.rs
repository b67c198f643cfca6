//! Resources shared by every virgl-rs backend.
//!
//! This layer owns the global resource table keyed by the guest's resource id, per-context
//! attachment sets and quotas, backing memory (guest iovecs, shared memory, host blobs, imported
//! fds, guest VRAM), the bounds-checked transfer engine between guest memory and linear host
//! staging, and the cross-context wide lookup through which one backend imports another's memory.
//!
//! It also defines the two traits every backend implements, [`Backend`] (renderer-wide state:
//! caps, host storage for resources) and [`Context`] (one guest context), so that the façade in
//! `virgl-capi` composes backends without knowing them.
//!
//! It does **not** talk to GL, Vulkan or VA-API: backends plug in through those traits and
//! through [`Importer`]. All `unsafe` code is in the `mem` module (raw guest iovecs, mmap).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod backing;
mod context;
mod error;
mod mem;
mod table;
mod transfer;
mod wide;

pub use backing::{
    map_cache, Backing, BackingKind, BlobFlags, BlobMem, FdMemory, FdType, GuestMemory,
    MemoryHandle, VulkanInfo,
};
pub use context::{
    Backend, Context, ContextBlob, ContextError, FenceSignal, TransferDirection, TransferRequest,
};
pub use error::{ResourceError, ResourceResult};
pub use mem::{GuestIovecs, Mapping, SharedMemory, MAX_IOVECS};
pub use table::{
    BlobInfo, ImageDesc, MapRegion, Quota, Resource, ResourceCreateArgs, ResourceTable, Usage,
};
pub use transfer::{
    zeroed_staging, BlockLayout, HostLayout, ImageGeometry, LevelExtent, LinearImageLayout, Target,
    TransferBox, TransferPlan,
};
pub use wide::{ImportRequest, Importer, WideOrigin, WideRef};
