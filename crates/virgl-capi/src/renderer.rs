//! The safe Rust API: [`Renderer`] composes the backends over one resource table.
//!
//! This is what a Rust VMM embeds and what the vtest server drives; the C ABI in `ffi` is a thin
//! layer over it. Error conventions of the C functions (positive or negative errno) live in `ffi`,
//! not here: here every failure is a [`RendererError`].

use std::collections::BTreeMap;
use std::sync::Arc;

use bitflags::bitflags;
use std::rc::Rc;
use thiserror::Error;

use std::os::fd::OwnedFd;

use virgl_resource::{
    Backend, Backing, BlobInfo, BlobMem, Context, ContextError, FdType, GuestMemory, Resource,
    ResourceCreateArgs, ResourceError, ResourceTable, TransferDirection, TransferRequest,
};
use virgl_venus::{BoundImages, VenusBackend};

use crate::proxy::{ProxyBackend, ProxyRegistry, RemoteResource};
use virgl_vrend::{EglOptions, EglPlatform, GlContextProvider, VrendBackend};

bitflags! {
    /// `virgl_renderer_init` flags (`VIRGL_RENDERER_*`), bit for bit.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct RendererFlags: u32 {
        const USE_EGL = 1 << 0;
        const THREAD_SYNC = 1 << 1;
        const USE_GLX = 1 << 2;
        const USE_SURFACELESS = 1 << 3;
        const USE_GLES = 1 << 4;
        const USE_EXTERNAL_BLOB = 1 << 5;
        const VENUS = 1 << 6;
        const NO_VIRGL = 1 << 7;
        const ASYNC_FENCE_CB = 1 << 8;
        const RENDER_SERVER = 1 << 9;
        const DRM = 1 << 10;
        const USE_VIDEO = 1 << 11;
        const D3D11_SHARE_TEXTURE = 1 << 12;
        const COMPAT_PROFILE = 1 << 13;
        const USE_GUEST_VRAM = 1 << 14;
    }
}

/// Capset ids (`virtgpu_drm.h`).
pub mod capset {
    pub const VIRGL: u32 = 1;
    pub const VIRGL2: u32 = 2;
    pub const VENUS: u32 = 4;
    pub const DRM: u32 = 6;
}

/// The low byte of `ctx_flags` names the capset (`VIRGL_RENDERER_CONTEXT_FLAG_CAPSET_ID_MASK`).
pub const CONTEXT_FLAG_CAPSET_ID_MASK: u32 = 0xff;

/// How the renderer tells its embedder that fences have signalled.
///
/// Called from [`Renderer::poll`] (and from a backend's fence thread in async mode), never while
/// the caller of another `Renderer` method is inside it.
pub trait RendererCallbacks {
    /// A context-0 fence (`virgl_renderer_create_fence`) and every fence before it signalled.
    fn write_fence(&self, fence_id: u32);
    /// A per-context fence on `ring_idx` signalled.
    fn write_context_fence(&self, ctx_id: u32, ring_idx: u32, fence_id: u64);
}

/// Errors of the façade.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RendererError {
    /// Context id 0 is reserved for the renderer itself.
    #[error("context id 0 is reserved")]
    ZeroContextId,
    /// No context has this id.
    #[error("unknown context {0}")]
    UnknownContext(u32),
    /// A context with this id exists already, for another capset.
    #[error("context {ctx_id} exists already with capset {existing}")]
    ContextCapsetMismatch { ctx_id: u32, existing: u32 },
    /// Flags outside the capset byte were set.
    #[error("unsupported context flags {0:#x}")]
    UnsupportedContextFlags(u32),
    /// No backend of this renderer serves the capset.
    #[error("capset {0} is not served by this renderer")]
    UnsupportedCapset(u32),
    /// The context was marked broken by an earlier error.
    #[error("context {ctx_id} is broken: {reason}")]
    ContextBroken { ctx_id: u32, reason: String },
    /// The backend rejected or failed the operation.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// The resource layer rejected the operation.
    #[error(transparent)]
    Resource(#[from] ResourceError),
    /// No backend could be initialised for the requested flags.
    #[error("renderer initialisation failed: {0}")]
    Init(String),
    /// The operation needs the GL backend, which this renderer does not have (NO_VIRGL).
    #[error("the GL backend is not enabled")]
    NoGlBackend,
}

impl RendererError {
    /// The errno that upstream returns for this kind of failure (positive).
    pub fn errno(&self) -> i32 {
        match self {
            RendererError::Resource(ResourceError::DuplicateId(_)) => libc::EINVAL,
            RendererError::Context(ContextError::Unsupported(_)) => libc::EOPNOTSUPP,
            RendererError::Context(ContextError::Host(_)) => libc::ENOMEM,
            _ => libc::EINVAL,
        }
    }
}

/// One context and whether an earlier error broke it.
struct ContextSlot {
    context: Box<dyn Context>,
    /// Set on the first guest-caused error; later submits are refused with this reason.
    broken: Option<String>,
}

/// What [`Renderer::import_external_image`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalImport {
    /// The GL backend has storage for the resource (imported now or before).
    Done,
    /// External memory whose image is not known (yet): nothing imported.
    NotYet,
    /// Not external memory (GL's own resource, guest memory): nothing to import.
    NotExternal,
}

fn is_gl_capset(capset_id: u32) -> bool {
    capset_id == crate::capset::VIRGL || capset_id == crate::capset::VIRGL2
}

/// Scanout information of a resource (`virgl_renderer_resource_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    pub format: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub flags: u32,
    /// GL texture name of the resource (0 for buffers).
    pub tex_id: u32,
    /// Bytes per row of level 0.
    pub stride: u32,
    /// DRM fourcc of the format where one exists, else 0.
    pub drm_fourcc: i32,
}

/// A cursor image read back for the embedder (`virgl_renderer_get_cursor_data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorData {
    pub width: u32,
    pub height: u32,
    /// `width * height` pixels, 4 bytes each, top row first.
    pub pixels: Vec<u8>,
}

/// `(max_version, max_size)` of a capset as `virgl_renderer_get_cap_set` reports it before
/// `virgl_renderer_init`: fixed by the capset layouts, not by the host.
pub fn static_capset_info(capset_id: u32) -> (u32, u32) {
    virgl_vrend::caps::capset_info(capset_id).unwrap_or((0, 0))
}

/// Builds a [`Renderer`] from init flags.
pub struct RendererBuilder {
    flags: RendererFlags,
    callbacks: Option<Box<dyn RendererCallbacks>>,
    embedder_gl: Option<Box<dyn GlContextProvider>>,
    server_fd: Option<OwnedFd>,
    drm_fd: Option<OwnedFd>,
}

impl RendererBuilder {
    /// A connection to a running `virgl-render-server` (the embedder's `get_server_fd`); used
    /// with `VENUS | RENDER_SERVER` instead of starting the server ourselves.
    pub fn render_server_fd(mut self, fd: Option<OwnedFd>) -> Self {
        self.server_fd = fd;
        self
    }

    /// The DRM render node video decode runs on (the embedder's `get_drm_fd`, vtest's
    /// `--rendernode`); used with `USE_VIDEO`.
    pub fn drm_fd(mut self, fd: Option<OwnedFd>) -> Self {
        self.drm_fd = fd;
        self
    }

    /// Where fence notifications go.
    pub fn callbacks(mut self, callbacks: Box<dyn RendererCallbacks>) -> Self {
        self.callbacks = Some(callbacks);
        self
    }

    /// GL contexts from the embedder (QEMU's callbacks) instead of our own EGL display. Used
    /// when neither `USE_EGL` nor `USE_GLX` is set, as upstream does.
    pub fn embedder_gl(mut self, provider: Option<Box<dyn GlContextProvider>>) -> Self {
        self.embedder_gl = provider;
        self
    }

    pub fn build(self) -> Result<Renderer, RendererError> {
        let flags = self.flags;
        let mut proxy = None;
        let mut venus_images = None;
        let venus: Option<Box<dyn Backend>> = if !flags.contains(RendererFlags::VENUS) {
            None
        } else if flags.contains(RendererFlags::RENDER_SERVER) {
            let backend = ProxyBackend::start(flags.bits(), self.server_fd)
                .map_err(|e| RendererError::Init(e.to_string()))?;
            proxy = Some(backend.registry());
            Some(Box::new(backend))
        } else {
            let backend = VenusBackend::new()
                .map_err(|e| RendererError::Init(e.to_string()))?
                .with_guest_vram(flags.contains(RendererFlags::USE_GUEST_VRAM));
            venus_images = Some(backend.bound_images());
            Some(Box::new(backend))
        };
        if flags.contains(RendererFlags::DRM) {
            tracing::warn!("DRM native contexts are not supported; capset 6 will be refused");
        }
        let gl = if flags.contains(RendererFlags::NO_VIRGL) {
            None
        } else {
            let own_winsys = flags.intersects(RendererFlags::USE_EGL | RendererFlags::USE_GLX);
            let backend = match (own_winsys, self.embedder_gl) {
                (false, Some(provider)) => VrendBackend::with_provider(Rc::from(provider)),
                (false, None) => {
                    return Err(RendererError::Init(
                        "no winsys flag (USE_EGL) and no GL context callbacks".into(),
                    ))
                }
                (true, _) if flags.contains(RendererFlags::USE_GLX) => {
                    return Err(RendererError::Init("GLX is not supported; use EGL".into()))
                }
                (true, _) => VrendBackend::new(&EglOptions {
                    platform: EglPlatform::default(),
                    use_gles: flags.contains(RendererFlags::USE_GLES),
                }),
            };
            Some(backend.map_err(|e| RendererError::Init(e.to_string()))?)
        };
        let mut gl = gl;
        if flags.contains(RendererFlags::USE_VIDEO) {
            enable_video(gl.as_mut(), self.drm_fd);
        }
        Ok(Renderer {
            flags,
            callbacks: self.callbacks,
            resources: {
                let mut table = ResourceTable::new();
                table.set_default_quota(crate::limits::default_quota());
                table
            },
            gl,
            venus,
            proxy,
            venus_images,
            untyped_imports: BTreeMap::new(),
            contexts: BTreeMap::new(),
        })
    }
}

/// `USE_VIDEO`: VA-API decode on `drm_fd` for the GL backend's contexts. Like upstream, a host
/// where video cannot start (no fd, no VA driver) runs without it: the caps then list no video
/// profiles, so guests do not try.
fn enable_video(gl: Option<&mut VrendBackend>, drm_fd: Option<OwnedFd>) {
    let (Some(gl), Some(fd)) = (gl, drm_fd) else {
        tracing::warn!("USE_VIDEO needs the GL backend and a DRM fd; video disabled");
        return;
    };
    match virgl_video::VideoBackend::new(fd).map(|video| gl.enable_video(video)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "video disabled"),
        Err(e) => tracing::warn!(error = %e, "video disabled"),
    }
}

/// The renderer: backends, contexts and the resource table.
pub struct Renderer {
    flags: RendererFlags,
    callbacks: Option<Box<dyn RendererCallbacks>>,
    resources: ResourceTable,
    /// The GL backend (capsets VIRGL, VIRGL2), absent with `NO_VIRGL`.
    gl: Option<VrendBackend>,
    /// The Venus backend (capset VENUS), present with `VENUS`: in-process, or the proxy to
    /// the render server with `RENDER_SERVER`.
    venus: Option<Box<dyn Backend>>,
    /// The proxy's contexts, with `VENUS | RENDER_SERVER`.
    proxy: Option<Rc<ProxyRegistry>>,
    /// The in-process Venus backend's image descriptions of blobs bound after their creation.
    venus_images: Option<Arc<BoundImages>>,
    /// External resources attached to GL contexts whose image was not known yet at attach
    /// (the Venus side binds it later), with the tries so far: retried before those contexts'
    /// next submits.
    untyped_imports: BTreeMap<(u32, u32), u32>,
    contexts: BTreeMap<u32, ContextSlot>,
}

impl Renderer {
    /// Starts building a renderer with `virgl_renderer_init`-style flags.
    pub fn builder(flags: RendererFlags) -> RendererBuilder {
        RendererBuilder {
            flags,
            callbacks: None,
            embedder_gl: None,
            server_fd: None,
            drm_fd: None,
        }
    }

    /// The init flags this renderer was created with.
    pub fn flags(&self) -> RendererFlags {
        self.flags
    }

    /// The resource table (read-only view for embedders and tests).
    pub fn resources(&self) -> &ResourceTable {
        &self.resources
    }

    /// The resource table, for embedders that attach or detach backing memory.
    pub fn resources_mut(&mut self) -> &mut ResourceTable {
        &mut self.resources
    }

    /// The GL backend, if enabled.
    pub fn gl(&self) -> Option<&VrendBackend> {
        self.gl.as_ref()
    }

    fn gl_mut(&mut self) -> Result<&mut VrendBackend, RendererError> {
        self.gl.as_mut().ok_or(RendererError::NoGlBackend)
    }

    /// The backend serving a capset.
    fn backend_for(&mut self, capset_id: u32) -> Option<&mut dyn Backend> {
        if let Some(venus) = self.venus.as_mut() {
            if venus.capset_ids().contains(&capset_id) {
                return Some(venus.as_mut());
            }
        }
        match &mut self.gl {
            Some(gl) if gl.capset_ids().contains(&capset_id) => Some(gl),
            _ => None,
        }
    }

    /// The backend serving a capset, read-only.
    fn backend_ref(&self, capset_id: u32) -> Option<&dyn Backend> {
        if let Some(venus) = self.venus.as_ref() {
            if venus.capset_ids().contains(&capset_id) {
                return Some(venus.as_ref());
            }
        }
        match &self.gl {
            Some(gl) if gl.capset_ids().contains(&capset_id) => Some(gl),
            _ => None,
        }
    }

    /// `(max_version, max_size)` of a capset, `(0, 0)` when no backend serves it.
    pub fn capset_info(&self, capset_id: u32) -> (u32, u32) {
        self.backend_ref(capset_id)
            .and_then(|b| b.capset_info(capset_id))
            .unwrap_or((0, 0))
    }

    /// The capset's bytes at `version`.
    pub fn fill_caps(&self, capset_id: u32, version: u32) -> Result<Vec<u8>, RendererError> {
        let backend = self
            .backend_ref(capset_id)
            .ok_or(RendererError::UnsupportedCapset(capset_id))?;
        Ok(backend.fill_caps(capset_id, version)?)
    }

    /// Creates a context; creating an existing id again with the same capset is a no-op, as
    /// upstream does.
    pub fn create_context(
        &mut self,
        ctx_id: u32,
        ctx_flags: u32,
        name: &str,
    ) -> Result<(), RendererError> {
        if ctx_id == 0 {
            return Err(RendererError::ZeroContextId);
        }
        if ctx_flags & !CONTEXT_FLAG_CAPSET_ID_MASK != 0 {
            return Err(RendererError::UnsupportedContextFlags(ctx_flags));
        }
        let capset_id = ctx_flags & CONTEXT_FLAG_CAPSET_ID_MASK;
        if let Some(slot) = self.contexts.get(&ctx_id) {
            let existing = slot.context.capset_id();
            return if existing == capset_id {
                Ok(())
            } else {
                Err(RendererError::ContextCapsetMismatch { ctx_id, existing })
            };
        }
        let backend = self
            .backend_for(capset_id)
            .ok_or(RendererError::UnsupportedCapset(capset_id))?;
        let context = backend.create_context(ctx_id, capset_id, name)?;
        self.contexts.insert(
            ctx_id,
            ContextSlot {
                context,
                broken: None,
            },
        );
        Ok(())
    }

    /// Whether a context with this id exists (broken or not).
    pub fn has_context(&self, ctx_id: u32) -> bool {
        self.contexts.contains_key(&ctx_id)
    }

    /// Whether a context exists and is not broken.
    pub fn context_is_usable(&self, ctx_id: u32) -> bool {
        self.contexts
            .get(&ctx_id)
            .is_some_and(|slot| slot.broken.is_none())
    }

    /// Why a context was marked broken, if it was.
    pub fn context_broken_reason(&self, ctx_id: u32) -> Option<&str> {
        self.contexts
            .get(&ctx_id)
            .and_then(|slot| slot.broken.as_deref())
    }

    /// Destroys a context and everything it created; unknown ids are ignored.
    pub fn destroy_context(&mut self, ctx_id: u32) {
        if let Some(mut slot) = self.contexts.remove(&ctx_id) {
            for res_id in self.resources.attached_to(ctx_id) {
                slot.context.detach_resource(&mut self.resources, res_id);
            }
            self.resources.forget_context(ctx_id);
            self.untyped_imports.retain(|&(ctx, _), _| ctx != ctx_id);
            drop(slot);
            // Dropping the context destroyed its GL contexts and left none current. Embedders
            // make GL calls of their own on this thread expecting one to be (QEMU's SDL/GTK
            // display code does; libepoxy aborts with "Couldn't find current GLX or EGL
            // context" otherwise), so switch back to context 0 as upstream does here.
            self.force_ctx_0();
        }
    }

    /// Executes a command buffer in a context. The first error marks the context broken: its
    /// later submits are refused, other contexts carry on.
    pub fn submit_cmd(&mut self, ctx_id: u32, cmd: &[u32]) -> Result<(), RendererError> {
        let slot = self
            .contexts
            .get_mut(&ctx_id)
            .ok_or(RendererError::UnknownContext(ctx_id))?;
        if let Some(reason) = &slot.broken {
            return Err(RendererError::ContextBroken {
                ctx_id,
                reason: reason.clone(),
            });
        }
        self.retry_untyped_imports(ctx_id);
        let Some(slot) = self.contexts.get_mut(&ctx_id) else {
            return Err(RendererError::UnknownContext(ctx_id));
        };
        let result = slot.context.submit_cmd(&mut self.resources, cmd);
        if let Err(error) = &result {
            tracing::warn!(ctx_id, %error, "context marked broken");
            slot.broken = Some(error.to_string());
        }
        Ok(result?)
    }

    /// Creates a 3D resource with host storage from the GL backend, charged to the
    /// renderer-wide account (context 0), as QEMU's `RESOURCE_CREATE_3D` has no context.
    pub fn create_resource(&mut self, args: ResourceCreateArgs) -> Result<(), RendererError> {
        self.create_resource_owned(0, args)
    }

    /// Creates a 3D resource charged to context `owner_ctx`'s quotas (vtest, where each
    /// resource comes from one client's context).
    pub fn create_resource_owned(
        &mut self,
        owner_ctx: u32,
        args: ResourceCreateArgs,
    ) -> Result<(), RendererError> {
        let gl = self.gl.as_mut().ok_or(RendererError::NoGlBackend)?;
        self.resources
            .insert(Resource::pipe(args).with_owner(owner_ctx))?;
        if let Err(error) = gl.create_resource(&mut self.resources, &args) {
            self.resources.remove(args.handle);
            return Err(error.into());
        }
        Ok(())
    }

    /// Drops a resource: detaches it from every context, releases its host storage and backing.
    pub fn unref_resource(&mut self, res_id: u32) {
        if self.resources.get(res_id).is_none() {
            return;
        }
        for (ctx_id, slot) in &mut self.contexts {
            if self.resources.is_attached(*ctx_id, res_id) {
                slot.context.detach_resource(&mut self.resources, res_id);
            }
        }
        if let Some(gl) = &mut self.gl {
            gl.destroy_resource(res_id);
        }
        self.resources.remove(res_id);
        // GL imports of the resource's memory were dropped with it; free their GL objects now.
        if let Some(gl) = &self.gl {
            gl.release_dropped_imports();
        }
    }

    /// Makes a resource visible to a context; unknown ids are ignored, as upstream does.
    pub fn ctx_attach_resource(&mut self, ctx_id: u32, res_id: u32) {
        let Some(slot) = self.contexts.get_mut(&ctx_id) else {
            return;
        };
        if self.resources.attach(ctx_id, res_id).is_ok() {
            slot.context.attach_resource(&mut self.resources, res_id);
            if is_gl_capset(slot.context.capset_id()) {
                self.untyped_imports.insert((ctx_id, res_id), 0);
                self.retry_untyped_imports(ctx_id);
            }
        }
    }

    /// Imports the untyped external resources attached to GL context `ctx_id` whose image is
    /// known by now; those still without one stay queued, failures are dropped (logged).
    /// Through the render server each try is a GET_RESOURCE round trip, so a resource whose
    /// worker never describes an image (a buffer's memory) is given up after a few submits;
    /// in-process a try only looks at the resource.
    fn retry_untyped_imports(&mut self, ctx_id: u32) {
        const REMOTE_TRIES: u32 = 16;
        let queued: Vec<u32> = self
            .untyped_imports
            .range((ctx_id, 0)..=(ctx_id, u32::MAX))
            .map(|(&(_, res), _)| res)
            .collect();
        for res_id in queued {
            let tries = self
                .untyped_imports
                .get(&(ctx_id, res_id))
                .map_or(0, |t| t + 1);
            let given_up = self.proxy.is_some() && tries > REMOTE_TRIES;
            let keep = !given_up
                && self.resources.is_attached(ctx_id, res_id)
                && match self.import_external_image(res_id) {
                    Ok(imported) => imported == ExternalImport::NotYet,
                    Err(error) => {
                        tracing::debug!(ctx_id, res_id, %error, "external image not imported");
                        false
                    }
                };
            if keep {
                self.untyped_imports.insert((ctx_id, res_id), tries);
            } else {
                self.untyped_imports.remove(&(ctx_id, res_id));
            }
        }
    }

    /// Gives the GL backend storage over external memory the guest never typed for GL (no
    /// PIPE_RESOURCE_SET_TYPE): a Venus blob of device memory an image was bound to. The image
    /// comes from the resource (in-process: what the Venus backend recorded at the bind) or,
    /// through the render server, from the owning worker's `GET_RESOURCE`. Afterwards the
    /// resource scans out (`resource_info`, `get_rect`) and GL contexts sample or blit it.
    /// Called on attach to a GL context; embedders may call it before scanning out a
    /// resource no GL context has attached.
    pub fn import_external_image(&mut self, res_id: u32) -> Result<ExternalImport, RendererError> {
        if let Some(bound) = &self.venus_images {
            bound.apply(&mut self.resources);
        }
        let gl = self.gl.as_ref().ok_or(RendererError::NoGlBackend)?;
        if gl.resource_info(res_id).is_some() {
            return Ok(ExternalImport::Done);
        }
        let res = self.resources.require(res_id)?;
        if res.args.is_some() || res.backing().and_then(Backing::fd_memory).is_none() {
            return Ok(ExternalImport::NotExternal);
        }
        let desc = match res.image {
            Some(desc) => desc,
            None => {
                let owner = res.owner_ctx();
                let venus_owner = self
                    .contexts
                    .get(&owner)
                    .is_some_and(|s| s.context.capset_id() == crate::capset::VENUS);
                let Some(proxy) = self.proxy.as_ref().filter(|_| venus_owner) else {
                    return Ok(ExternalImport::NotYet);
                };
                let remote = proxy.get_resource(owner, res_id)?;
                if remote.width == 0 || remote.height == 0 || remote.format == 0 {
                    return Ok(ExternalImport::NotYet);
                }
                virgl_resource::ImageDesc {
                    width: remote.width,
                    height: remote.height,
                    format: remote.format,
                    stride: remote.stride,
                    // GET_RESOURCE has no offset: the image starts the memory (a dedicated
                    // allocation, as window images are).
                    offset: 0,
                    modifier: 0,
                }
            }
        };
        gl.import_image(&mut self.resources, res_id, &desc)?;
        tracing::debug!(res_id, ?desc, "external image imported for GL");
        Ok(ExternalImport::Done)
    }

    /// Hides a resource from a context again; unknown ids are ignored.
    pub fn ctx_detach_resource(&mut self, ctx_id: u32, res_id: u32) {
        let Some(slot) = self.contexts.get_mut(&ctx_id) else {
            return;
        };
        if self.resources.is_attached(ctx_id, res_id) {
            slot.context.detach_resource(&mut self.resources, res_id);
            self.resources.detach(ctx_id, res_id);
        }
    }

    /// A transfer between a resource's host storage and guest memory: `memory` when given
    /// (vtest's inline data, QEMU's explicit iovecs), else the resource's attached backing.
    /// `ctx_id != 0` transfers on behalf of a context, which must see the resource.
    pub fn transfer(
        &mut self,
        ctx_id: u32,
        request: &TransferRequest,
        direction: TransferDirection,
        memory: Option<&mut dyn GuestMemory>,
    ) -> Result<(), RendererError> {
        tracing::debug!(
            ctx_id,
            ?request,
            ?direction,
            explicit = memory.is_some(),
            "transfer"
        );
        if ctx_id != 0 {
            let slot = self
                .contexts
                .get(&ctx_id)
                .ok_or(RendererError::UnknownContext(ctx_id))?;
            if let Some(reason) = &slot.broken {
                return Err(RendererError::ContextBroken {
                    ctx_id,
                    reason: reason.clone(),
                });
            }
            self.resources.lookup(ctx_id, request.res_id)?;
            if memory.is_none() {
                // On the context's own GL context: what its command buffers rendered is visible
                // there without cross-context synchronisation.
                let slot = self.contexts.get_mut(&ctx_id).expect("looked up above");
                return Ok(slot
                    .context
                    .transfer(&mut self.resources, request, direction)?);
            }
        }
        let gl = self.gl.as_ref().ok_or(RendererError::NoGlBackend)?;
        match memory {
            Some(memory) => Ok(gl.transfer_with(request, direction, memory)?),
            None => {
                let resource = self.resources.require_mut(request.res_id)?;
                let backing = resource.backing_for_cpu()?;
                Ok(gl.transfer_with(request, direction, backing)?)
            }
        }
    }

    /// Creates a blob resource (`virgl_renderer_resource_create_blob`, vtest
    /// RESOURCE_CREATE_BLOB). Guest-memory blobs take `backing` (iovecs or shm); host blobs
    /// need a backend that allocates exportable host memory, which the GL backend does not.
    pub fn create_blob(
        &mut self,
        ctx_id: u32,
        res_id: u32,
        info: BlobInfo,
        backing: Option<Backing>,
    ) -> Result<(), RendererError> {
        if res_id == 0 {
            return Err(ResourceError::ZeroId.into());
        }
        match info.blob_mem {
            BlobMem::Guest => {
                let backing = backing.ok_or(ContextError::InvalidCommand(
                    "guest blob without guest memory".into(),
                ))?;
                let resource = Resource::blob(res_id, info, backing)?.with_owner(ctx_id);
                self.resources.insert(resource)?;
                if ctx_id != 0 && self.contexts.contains_key(&ctx_id) {
                    self.ctx_attach_resource(ctx_id, res_id);
                }
                Ok(())
            }
            BlobMem::Host3d => {
                // The context hands over the memory it allocated under `blob_id` (Venus:
                // shared memory for blob id 0, else device memory).
                let slot = self
                    .contexts
                    .get_mut(&ctx_id)
                    .ok_or(RendererError::UnknownContext(ctx_id))?;
                let blob = slot.context.get_blob(
                    &mut self.resources,
                    res_id,
                    info.blob_id,
                    info.size,
                    info.blob_flags,
                )?;
                let resource = Resource::from_context_blob(res_id, info, blob, None)?;
                self.resources.insert(resource.with_owner(ctx_id))?;
                self.ctx_attach_resource(ctx_id, res_id);
                Ok(())
            }
            BlobMem::Host3dGuest | BlobMem::GuestVram => {
                if !self.contexts.contains_key(&ctx_id) {
                    return Err(RendererError::UnknownContext(ctx_id));
                }
                Err(ContextError::Unsupported("HOST3D_GUEST / GUEST_VRAM blobs").into())
            }
        }
    }

    /// Imports external memory as a resource (`virgl_renderer_resource_import_blob`).
    pub fn import_blob(
        &mut self,
        res_id: u32,
        blob_mem: BlobMem,
        fd_type: FdType,
        fd: OwnedFd,
        size: u64,
    ) -> Result<(), RendererError> {
        let resource = Resource::import(res_id, blob_mem, fd_type, fd, size)?;
        Ok(self.resources.insert(resource)?)
    }

    /// Asks the render server to describe and export a resource one of its Venus contexts
    /// created (our `GET_RESOURCE`): for importers the guest never told the image layout.
    /// Fails without `VENUS | RENDER_SERVER`, for resources of no proxy context, and when
    /// the owning worker is gone.
    pub fn render_server_get_resource(&self, res_id: u32) -> Result<RemoteResource, RendererError> {
        let proxy = self.proxy.as_ref().ok_or(ContextError::Unsupported(
            "GET_RESOURCE without a render server",
        ))?;
        let owner = self.resources.require(res_id)?.owner_ctx();
        Ok(proxy.get_resource(owner, res_id)?)
    }

    /// Scanout information of a resource.
    pub fn resource_info(&self, res_id: u32) -> Result<ResourceInfo, RendererError> {
        let gl = self.gl.as_ref().ok_or(RendererError::NoGlBackend)?;
        let info = gl
            .resource_info(res_id)
            .ok_or(ResourceError::UnknownId(res_id))?;
        Ok(ResourceInfo {
            format: info.virgl_format,
            width: info.width,
            height: info.height,
            depth: info.depth,
            flags: info.flags,
            tex_id: info.tex_id,
            stride: info.stride,
            drm_fourcc: drm_fourcc(info.virgl_format),
        })
    }

    /// Reads a rectangle of a resource's level 0 into `memory` at `offset`, rows `stride` bytes
    /// apart (`virgl_renderer_get_rect`).
    pub fn get_rect(
        &self,
        res_id: u32,
        rect: (u32, u32, u32, u32),
        memory: &mut dyn GuestMemory,
        offset: u64,
        stride: u32,
    ) -> Result<(), RendererError> {
        let gl = self.gl.as_ref().ok_or(RendererError::NoGlBackend)?;
        Ok(gl.get_rect(res_id, rect, memory, offset, stride)?)
    }

    /// Reads a cursor resource back (top row first, as QEMU shows it).
    pub fn cursor_data(&self, res_id: u32) -> Result<CursorData, RendererError> {
        let info = self.resource_info(res_id)?;
        const MAX_CURSOR: u32 = 1024;
        if info.width == 0
            || info.height == 0
            || info.width > MAX_CURSOR
            || info.height > MAX_CURSOR
        {
            return Err(ContextError::InvalidCommand(format!(
                "cursor {res_id} has unusable size {}x{}",
                info.width, info.height
            ))
            .into());
        }
        let row = info.width as usize * 4;
        let mut pixels = vec![0u8; row * info.height as usize];
        self.get_rect(
            res_id,
            (0, 0, info.width, info.height),
            &mut pixels,
            0,
            row as u32,
        )?;
        // GL rows come bottom-up; cursors go to the embedder top-down.
        let flipped = pixels.chunks_exact(row).rev().flatten().copied().collect();
        Ok(CursorData {
            width: info.width,
            height: info.height,
            pixels: flipped,
        })
    }

    /// Queues a context-0 fence (`virgl_renderer_create_fence`).
    pub fn create_fence(&mut self, fence_id: u32) -> Result<(), RendererError> {
        Ok(self.gl_mut()?.submit_ctx0_fence(fence_id)?)
    }

    /// Queues a fence on a context's ring.
    pub fn context_create_fence(
        &mut self,
        ctx_id: u32,
        flags: u32,
        ring_idx: u32,
        fence_id: u64,
    ) -> Result<(), RendererError> {
        let slot = self
            .contexts
            .get_mut(&ctx_id)
            .ok_or(RendererError::UnknownContext(ctx_id))?;
        Ok(slot.context.submit_fence(flags, ring_idx, fence_id)?)
    }

    /// Retires signalled fences and reports them through the callbacks.
    pub fn poll(&mut self) {
        let ctx0_latest = self
            .gl
            .as_mut()
            .and_then(|gl| gl.retire_ctx0_fences().into_iter().max());
        let mut context_signals = Vec::new();
        for (ctx_id, slot) in &mut self.contexts {
            for signal in slot.context.retire_fences() {
                context_signals.push((*ctx_id, signal));
            }
        }
        let Some(callbacks) = &self.callbacks else {
            return;
        };
        if let Some(fence_id) = ctx0_latest {
            callbacks.write_fence(fence_id);
        }
        for (ctx_id, signal) in context_signals {
            callbacks.write_context_fence(ctx_id, signal.ring_idx, signal.fence_id);
        }
    }

    /// Retires the fences of one context only (`virgl_renderer_context_poll`).
    pub fn context_poll(&mut self, ctx_id: u32) {
        let Some(slot) = self.contexts.get_mut(&ctx_id) else {
            return;
        };
        let signals = slot.context.retire_fences();
        if let Some(callbacks) = &self.callbacks {
            for signal in signals {
                callbacks.write_context_fence(ctx_id, signal.ring_idx, signal.fence_id);
            }
        }
    }

    /// The fd that becomes readable when a context's fences signal, if it has one.
    pub fn context_poll_fd(&self, ctx_id: u32) -> Option<i32> {
        use std::os::fd::AsRawFd;
        self.contexts
            .get(&ctx_id)?
            .context
            .fencing_fd()
            .map(|fd| fd.as_raw_fd())
    }

    /// Makes the renderer-wide GL context current (for embedders that use GL themselves).
    pub fn force_ctx_0(&mut self) {
        if let Some(gl) = &self.gl {
            if let Err(error) = gl.host().make_root_current() {
                tracing::warn!(%error, "force_ctx_0 failed");
            }
        }
    }

    /// Destroys every context and resource (`virgl_renderer_reset`); backends stay initialised.
    pub fn reset(&mut self) {
        let ids: Vec<u32> = self.contexts.keys().copied().collect();
        for ctx_id in ids {
            self.destroy_context(ctx_id);
        }
        for res_id in self.resources.ids() {
            self.unref_resource(res_id);
        }
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        // Contexts first: they may hold references into backend state.
        self.reset();
    }
}

/// DRM fourcc of a virgl format, for the formats a scanout can have (the GBM correspondence
/// upstream uses); 0 for the rest.
fn drm_fourcc(virgl_format: u32) -> i32 {
    use virgl_protocol::format::VirglFormat as F;
    const fn fourcc(code: &[u8; 4]) -> i32 {
        (code[0] as u32 | (code[1] as u32) << 8 | (code[2] as u32) << 16 | (code[3] as u32) << 24)
            as i32
    }
    let Some(format) = F::from_raw(virgl_format) else {
        return 0;
    };
    match format {
        F::B5G6R5_UNORM => fourcc(b"RG16"),
        F::B8G8R8A8_UNORM => fourcc(b"AR24"),
        F::B8G8R8X8_UNORM => fourcc(b"XR24"),
        F::R8G8B8A8_UNORM => fourcc(b"AB24"),
        F::R8G8B8X8_UNORM => fourcc(b"XB24"),
        F::R10G10B10A2_UNORM => fourcc(b"AB30"),
        F::R10G10B10X2_UNORM => fourcc(b"XB30"),
        F::B10G10R10A2_UNORM => fourcc(b"AR30"),
        F::B10G10R10X2_UNORM => fourcc(b"XR30"),
        F::R16G16B16A16_FLOAT => fourcc(b"AB4H"),
        F::R16G16B16X16_FLOAT => fourcc(b"XB4H"),
        F::Y8_U8V8_420_UNORM => fourcc(b"NV12"),
        F::R8_UNORM => fourcc(b"R8  "),
        F::Y8_V8_U8_420_UNORM => fourcc(b"YV12"),
        _ => 0,
    }
}
