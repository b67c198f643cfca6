//! The seam between the vtest server and `virgl_capi::Renderer`.
//!
//! Everything the server asks of the renderer goes through these few functions, so that the
//! session logic reads in vtest terms and the renderer API is used in one place.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use virgl_capi::{Renderer, RendererCallbacks, RendererError, RendererFlags};
use virgl_resource::{
    Backing, BlobFlags, BlobInfo, BlobMem, ContextError, FdType, GuestMemory, Resource,
    ResourceCreateArgs, SharedMemory, TransferDirection, TransferRequest,
};

/// A fence the renderer reported retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetiredFence {
    pub ctx_id: u32,
    pub ring_idx: u32,
    pub fence_id: u64,
}

/// Collects fence callbacks; the server drains them after each `poll`.
#[derive(Clone, Default)]
pub struct FenceQueue(Arc<Mutex<Vec<RetiredFence>>>);

impl FenceQueue {
    /// Takes every fence reported since the last call.
    pub fn drain(&self) -> Vec<RetiredFence> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl RendererCallbacks for FenceQueue {
    fn write_fence(&self, _fence_id: u32) {
        // vtest fences every busy-wait on the client's own context, never on context 0.
    }

    fn write_context_fence(&self, ctx_id: u32, ring_idx: u32, fence_id: u64) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(RetiredFence {
                ctx_id,
                ring_idx,
                fence_id,
            });
    }
}

/// Creates the renderer for the server's flags, reporting fences into `fences`; with
/// `USE_VIDEO`, video decode runs on `rendernode` (upstream's `get_drm_fd` opens it the same way).
pub fn new_renderer(
    flags: RendererFlags,
    fences: FenceQueue,
    rendernode: Option<&str>,
) -> Result<Renderer, RendererError> {
    let drm_fd = rendernode
        .filter(|_| flags.contains(RendererFlags::USE_VIDEO))
        .and_then(|path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .inspect_err(|e| tracing::warn!(path, error = %e, "cannot open the render node"))
                .ok()
        })
        .map(OwnedFd::from);
    Renderer::builder(flags)
        .callbacks(Box::new(fences))
        .drm_fd(drm_fd)
        .build()
}

/// Creates a 3D resource, backed by `shm` when the client has one (RESOURCE_CREATE2).
pub fn create_resource(
    renderer: &mut Renderer,
    owner_ctx: u32,
    args: ResourceCreateArgs,
    shm: Option<SharedMemory>,
) -> Result<(), RendererError> {
    renderer.create_resource_owned(owner_ctx, args)?;
    if let Some(shm) = shm {
        if let Err(error) = renderer
            .resources_mut()
            .attach_backing(args.handle, Backing::Shm(shm))
        {
            renderer.unref_resource(args.handle);
            return Err(error.into());
        }
    }
    Ok(())
}

/// A transfer through a temporary buffer (protocol-0 TRANSFER_GET/PUT carry data inline), as
/// upstream passes an iovec over its temporary buffer.
#[allow(clippy::ptr_arg)] // `dyn GuestMemory` needs a sized type; `Vec<u8>` is one.
pub fn transfer_inline(
    renderer: &mut Renderer,
    ctx_id: u32,
    request: &TransferRequest,
    direction: TransferDirection,
    data: &mut Vec<u8>,
) -> Result<(), RendererError> {
    renderer.transfer(
        ctx_id,
        request,
        direction,
        Some(data as &mut dyn GuestMemory),
    )
}

/// A transfer through the resource's own backing (its shm).
pub fn transfer(
    renderer: &mut Renderer,
    ctx_id: u32,
    request: &TransferRequest,
    direction: TransferDirection,
) -> Result<(), RendererError> {
    renderer.transfer(ctx_id, request, direction, None)
}

/// RESOURCE_CREATE_BLOB.
///
/// GUEST blobs are plain shared memory, as upstream builds them from the client's iovec, and go
/// straight into the resource table. HOST3D and HOST3D_GUEST blobs need a context to allocate
/// host memory, which the renderer API does not offer yet: they are refused explicitly.
#[allow(clippy::too_many_arguments)]
pub fn create_blob(
    renderer: &mut Renderer,
    ctx_id: u32,
    res_id: u32,
    blob_mem: u32,
    blob_flags: u32,
    blob_id: u64,
    size: u64,
    shm: Option<SharedMemory>,
) -> Result<(), RendererError> {
    let info = BlobInfo {
        blob_mem: BlobMem::from_raw(blob_mem)?,
        blob_flags: BlobFlags::from_bits_truncate(blob_flags),
        blob_id,
        size,
    };
    match (info.blob_mem, shm) {
        (BlobMem::Guest, Some(shm)) => {
            let resource = Resource::blob(res_id, info, Backing::Shm(shm))?.with_owner(ctx_id);
            renderer.resources_mut().insert(resource)?;
            Ok(())
        }
        // HOST3D: the context allocates (Venus shared memory, device memory); the session
        // then exports the fd to the client.
        (BlobMem::Host3d, None) => renderer.create_blob(ctx_id, res_id, info, None),
        _ => Err(RendererError::Context(ContextError::Unsupported(
            "HOST3D_GUEST blobs through vtest",
        ))),
    }
}

/// Exports a blob's memory as an fd (`virgl_renderer_resource_export_blob`).
pub fn export_blob(renderer: &Renderer, res_id: u32) -> Result<(FdType, OwnedFd), RendererError> {
    Ok(renderer.resources().require(res_id)?.export()?)
}
