//! The traits a backend implements to plug into the renderer.
//!
//! Upstream's equivalent is `struct virgl_context` (a vtable per context) plus each backend's
//! global init; here a [`Backend`] is the renderer-wide half and a [`Context`] one guest context.
//! Methods a backend does not support keep their default body, which returns
//! [`ContextError::Unsupported`]: the caller gets an error, never a silent success.

use thiserror::Error;

use std::any::Any;

use crate::{BlobFlags, FdMemory, ImageDesc, ResourceCreateArgs, ResourceError, ResourceTable};

/// Errors a backend reports for one context or operation.
///
/// A guest-caused error (`InvalidCommand`, `Broken`...) marks the context broken: the renderer
/// refuses its later commands and keeps serving other contexts.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The backend does not implement this operation (for this context type or at all).
    #[error("{0} is not supported by this backend")]
    Unsupported(&'static str),
    /// The guest sent something invalid; the string says what, for the log.
    #[error("invalid command from the guest: {0}")]
    InvalidCommand(String),
    /// The context was marked broken by an earlier error and refuses further work.
    #[error("context is broken: {0}")]
    Broken(String),
    /// The host (GL, Vulkan, VA-API, the OS) failed.
    #[error("host failure: {0}")]
    Host(String),
    /// A resource-layer error (unknown id, bounds, quota...).
    #[error(transparent)]
    Resource(#[from] ResourceError),
}

/// Which way a transfer copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferDirection {
    /// Guest memory to host storage (TRANSFER_TO_HOST, vtest TRANSFER_PUT).
    ToHost,
    /// Host storage to guest memory (TRANSFER_FROM_HOST, vtest TRANSFER_GET).
    FromHost,
}

/// A transfer between a resource's host storage and its guest backing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferRequest {
    pub res_id: u32,
    pub level: u32,
    pub x: u32,
    pub y: u32,
    pub z: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    /// Bytes between rows in guest memory; 0 means tightly packed.
    pub stride: u32,
    /// Bytes between layers/slices in guest memory; 0 means tightly packed.
    pub layer_stride: u32,
    /// Byte offset into the guest backing.
    pub offset: u64,
}

/// A fence that a context has seen complete: `(ring_idx, fence_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FenceSignal {
    pub ring_idx: u32,
    pub fence_id: u64,
}

/// What a context hands over when the guest creates a HOST3D(_GUEST) blob from it (upstream
/// `struct virgl_context_blob`). Turn it into a resource with
/// [`crate::Resource::from_context_blob`].
pub enum ContextBlob {
    /// Memory behind an fd (or an opaque handle) with its map_info and Vulkan info (Venus
    /// device memory, a render-server allocation).
    Memory {
        memory: FdMemory,
        image: Option<ImageDesc>,
    },
    /// Storage only the backend can use (e.g. the GL resource created earlier with this
    /// blob_id), with its pipe description; it goes into the resource's `private` slot.
    Storage {
        args: ResourceCreateArgs,
        private: Box<dyn Any + Send>,
    },
}

impl std::fmt::Debug for ContextBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory { memory, image } => f
                .debug_struct("Memory")
                .field("memory", memory)
                .field("image", image)
                .finish(),
            Self::Storage { args, .. } => f.debug_struct("Storage").field("args", args).finish(),
        }
    }
}

/// The renderer-wide half of a backend (upstream: `vrend_renderer_init`, `vkr_renderer_init`).
pub trait Backend {
    /// The capset ids this backend serves (e.g. VIRGL 1 and VIRGL2 2 for GL).
    fn capset_ids(&self) -> &[u32];

    /// `(max_version, max_size)` of a capset, as `virgl_renderer_get_cap_set` reports.
    fn capset_info(&self, capset_id: u32) -> Option<(u32, u32)>;

    /// The bytes of a capset at `version` (at most `max_size`).
    fn fill_caps(&self, capset_id: u32, version: u32) -> Result<Vec<u8>, ContextError>;

    /// Creates one guest context.
    fn create_context(
        &mut self,
        ctx_id: u32,
        capset_id: u32,
        name: &str,
    ) -> Result<Box<dyn Context>, ContextError>;

    /// Creates host storage for a 3D resource the renderer has just added to `table`.
    fn create_resource(
        &mut self,
        _table: &mut ResourceTable,
        _args: &ResourceCreateArgs,
    ) -> Result<(), ContextError> {
        Err(ContextError::Unsupported("create_resource"))
    }

    /// Releases the host storage of a resource that is leaving the table.
    fn destroy_resource(&mut self, _res_id: u32) {}

    /// Queues a context-0 fence (`virgl_renderer_create_fence`): it signals once all work the
    /// backend has been given so far is complete.
    fn submit_ctx0_fence(&mut self, _fence_id: u32) -> Result<(), ContextError> {
        Err(ContextError::Unsupported("context-0 fences"))
    }

    /// Returns the context-0 fences that have signalled since the last call.
    fn retire_ctx0_fences(&mut self) -> Vec<u32> {
        Vec::new()
    }

    /// A transfer outside any context (ctx 0: QEMU's transfer_read/write_iov, vtest TRANSFER_*).
    fn transfer(
        &mut self,
        _table: &mut ResourceTable,
        _request: &TransferRequest,
        _direction: TransferDirection,
    ) -> Result<(), ContextError> {
        Err(ContextError::Unsupported("transfer"))
    }
}

/// One guest context of a backend (upstream: `struct virgl_context`).
pub trait Context {
    /// The guest's id for this context.
    fn ctx_id(&self) -> u32;

    /// The capset this context was created for.
    fn capset_id(&self) -> u32;

    /// Executes a command buffer from the guest (dwords).
    fn submit_cmd(&mut self, table: &mut ResourceTable, cmd: &[u32]) -> Result<(), ContextError>;

    /// Makes a resource visible to this context.
    fn attach_resource(&mut self, table: &mut ResourceTable, res_id: u32);

    /// Hides a resource from this context again.
    fn detach_resource(&mut self, table: &mut ResourceTable, res_id: u32);

    /// Hands over the host memory for a HOST3D(_GUEST) blob the guest is creating
    /// (`virgl_renderer_resource_create_blob`, vtest RESOURCE_CREATE_BLOB): `blob_id` names
    /// what the guest allocated earlier through this context's command stream.
    fn get_blob(
        &mut self,
        _table: &mut ResourceTable,
        _res_id: u32,
        _blob_id: u64,
        _size: u64,
        _flags: BlobFlags,
    ) -> Result<ContextBlob, ContextError> {
        Err(ContextError::Unsupported("get_blob"))
    }

    /// A transfer on behalf of this context.
    fn transfer(
        &mut self,
        _table: &mut ResourceTable,
        _request: &TransferRequest,
        _direction: TransferDirection,
    ) -> Result<(), ContextError> {
        Err(ContextError::Unsupported("transfer"))
    }

    /// Queues a fence on `ring_idx`; it signals once the work submitted before it is done.
    fn submit_fence(
        &mut self,
        flags: u32,
        ring_idx: u32,
        fence_id: u64,
    ) -> Result<(), ContextError>;

    /// Returns the fences that have completed since the last call.
    fn retire_fences(&mut self) -> Vec<FenceSignal>;

    /// An fd readable whenever a fence has signalled, if the backend has one.
    fn fencing_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        None
    }
}
