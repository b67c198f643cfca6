//! The Vulkan (Venus) backend of virgl-rs (capset VENUS).
//!
//! Layers:
//! - [`wire`]: the Venus wire format (bounds-checked reader, reply writer, decode arena);
//! - `generated`: structures, argument decoders and reply encoders generated from vk.xml by
//!   `cargo xtask codegen` (see `xtask/src/venus_codegen` for what is generated and why);
//! - the runtime (backend, contexts, object tables, rings, reply streams) dispatching through ash
//!   on the host's Vulkan driver: hand-written handlers for the instance, physical devices,
//!   devices, queues and device memory; every other generated command (all `vkCmd*`, resources,
//!   pipelines, descriptors, render passes, submission, fences, semaphores, events, queries)
//!   through one generic path that translates the guest's ids and calls the driver's entry
//!   point, keeping the id tables (children of devices and pools) in step.
//!
//! [`render_server`] runs the same contexts in `virgl-render-server` (one worker process or
//! thread per context) for the proxy in `virgl-capi`.
//!
//! Device memory reaches the guest as blobs (RESOURCE_CREATE_BLOB with the memory's id):
//! plain host-visible memory is a memfd of ours imported with VK_EXT_external_memory_host, so
//! the guest's mapping is the memory itself; memory the guest allocates exportable
//! (VkExportMemoryAllocateInfo: WSI images, shareable memory) is the driver's exportable memory
//! (dma-buf or OPAQUE_FD), so other contexts — the GL backend — can import the blob; an
//! OPAQUE_FD blob's guest mapping is made by `mapper` (vtest cannot hand such a blob to its
//! client, which mmaps fds itself). VkImportMemoryResourceInfoMESA imports resources attached
//! to the context: SHM / guest-VRAM blobs (Xen, `use_guest_vram` in the capset) through our
//! mapping of them, dma-buf / OPAQUE_FD blobs through their fd.
//!
//! vkGetMemoryResourcePropertiesMESA says which memory types import an attached resource. The
//! image the guest binds to exportable memory (LINEAR or DRM-modifier 2D images of window
//! formats) is recorded and travels with the memory's blob ([`BoundImages`]), so importers —
//! the GL backend, a render server's `GET_RESOURCE` — know its size and format without the
//! guest's PIPE_RESOURCE_SET_TYPE.
//!
//! Not done: the sync-fd resource commands
//! (vkResetFenceResourceMESA, vkWaitSemaphoreResourceMESA, vkImportSemaphoreResourceMESA): they
//! fail explicitly (the context goes fatal); the sync-fd extensions that lead guests to the
//! latter are withheld. The driver is trusted with the guest's command buffers as upstream does (no
//! state tracking of recording/pending command buffers). Virtio-gpu fences retire after the
//! context's queues go idle (blocking, simple).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[rustfmt::skip]
#[allow(
    non_snake_case,
    non_camel_case_types,
    non_upper_case_globals,
    unused_unsafe,
    unused_parens,
    unused_imports,
    clippy::all,
    clippy::pedantic,
    missing_docs
)]
pub mod generated;
mod backend;
mod context;
mod dispatch;
mod error;
mod images;
mod mapper;
mod objects;
pub mod render_server;
mod ring;
mod shm;
pub mod wire;

pub use backend::{capset_bytes, VenusBackend, CAPSET_SIZE};
pub use context::{VenusContext, CAPSET_VENUS};
pub use dispatch::{serves_extension, MAX_API_VERSION, WITHHELD_EXTENSIONS};
pub use error::VenusError;
pub use images::BoundImages;
pub use mapper::map_opaque_memory;
