//! [`VrendBackend`]: the renderer-wide half of the GL backend (capsets VIRGL and VIRGL2).
//!
//! It owns the host GL (root context, format table, caps computed once) and the GL storage of
//! every 3D resource, keyed by resource id, which all [`VrendContext`]s share: a texture a guest
//! context renders to is the one the embedder scans out.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use virgl_protocol::caps::{CapsV2, CAPSET_VIRGL, CAPSET_VIRGL2};
use virgl_resource::{
    Backend, Context, ContextError, ResourceCreateArgs, ResourceTable, TransferDirection,
    TransferRequest,
};

use crate::caps::{capset_bytes, capset_info, compute_caps};
use crate::context::VrendContext;
use crate::egl::{EglOptions, EglProvider, GlContextProvider};
use crate::error::VrendResult;
use crate::host::HostGl;
use crate::resource::{GlResource, GuestLayout, GuestMemory, TexBox};

/// State shared by the backend and its contexts (single-threaded: GL contexts are bound to the
/// thread that runs the renderer).
pub(crate) struct Shared {
    pub host: HostGl,
    pub resources: RefCell<HashMap<u32, GlResource>>,
    pub caps: CapsV2,
    /// Memory imported from other contexts (`import.rs`).
    pub imports: crate::import::ImportState,
    /// VA-API decode, when the embedder enabled video (`VrendBackend::enable_video`).
    pub video: Option<virgl_video::VideoBackend>,
}

impl Shared {
    /// Makes the root context current (before any renderer-wide GL call).
    pub fn root(&self) -> Result<&HostGl, ContextError> {
        self.host.make_root_current().map_err(ContextError::from)?;
        Ok(&self.host)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.host.make_root_current().is_ok() {
            self.imports
                .collect(&self.host, &mut self.resources.borrow_mut());
            for (_, res) in self.resources.borrow_mut().drain() {
                res.destroy(&self.host);
            }
        }
    }
}

/// What the embedder needs to scan a resource out (`virgl_renderer_resource_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    pub handle: u32,
    pub virgl_format: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub flags: u32,
    /// GL texture name (0 for buffers).
    pub tex_id: u32,
    /// Bytes per row of level 0, tightly packed.
    pub stride: u32,
}

/// The GL backend.
pub struct VrendBackend {
    shared: Rc<Shared>,
    /// Context-0 fences whose work is complete, waiting for `retire_ctx0_fences`.
    signalled_ctx0_fences: Vec<u32>,
}

impl std::fmt::Debug for VrendBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VrendBackend")
            .field("host", &self.shared.host)
            .finish_non_exhaustive()
    }
}

const CAPSET_IDS: [u32; 2] = [CAPSET_VIRGL, CAPSET_VIRGL2];

impl VrendBackend {
    /// Opens our own EGL display and initialises the backend on it.
    pub fn new(options: &EglOptions) -> VrendResult<Self> {
        Self::with_provider(Rc::new(EglProvider::new(options)?))
    }

    /// Initialises the backend on contexts from `provider` (e.g. the embedder's callbacks).
    pub fn with_provider(provider: Rc<dyn GlContextProvider>) -> VrendResult<Self> {
        let host = HostGl::new(provider)?;
        let caps = compute_caps(&host);
        Ok(Self {
            shared: Rc::new(Shared {
                host,
                resources: RefCell::new(HashMap::new()),
                caps,
                imports: Default::default(),
                video: None,
            }),
            signalled_ctx0_fences: Vec::new(),
        })
    }

    /// Serves the video commands of every context created from now on with `video`, and
    /// lists its decode profiles in caps v2 (`video_caps`). Call it right after creating the
    /// backend: it fails once contexts exist.
    pub fn enable_video(&mut self, video: virgl_video::VideoBackend) -> Result<(), ContextError> {
        let shared = Rc::get_mut(&mut self.shared).ok_or(ContextError::Unsupported(
            "enabling video after contexts were created",
        ))?;
        let entries = video.caps();
        let n = entries.len().min(shared.caps.video_caps.len());
        shared.caps.video_caps[..n].clone_from_slice(&entries[..n]);
        shared.caps.num_video_caps = n as u32;
        shared.video = Some(video);
        Ok(())
    }

    /// The caps served for capsets VIRGL/VIRGL2.
    pub fn caps(&self) -> &CapsV2 {
        &self.shared.caps
    }

    /// The host GL (renderer string, features, formats).
    pub fn host(&self) -> &HostGl {
        &self.shared.host
    }

    /// Deletes the GL objects of imports the resource table has dropped (their source resource
    /// was removed from it). The backend also does this on its own at its next resource
    /// create/destroy or PIPE_RESOURCE_SET_TYPE; an embedder that removes resources from the
    /// table calls this right after, so the imported memory (and the fd GL holds) goes at once.
    pub fn release_dropped_imports(&self) {
        if !self.shared.imports.has_released() {
            return;
        }
        if let Ok(host) = self.shared.root() {
            self.shared
                .imports
                .collect(host, &mut self.shared.resources.borrow_mut());
        }
    }

    /// Gives `res_id` GL storage over the external memory it holds (another context's
    /// image), described by `desc` rather than by a guest PIPE_RESOURCE_SET_TYPE: the entry
    /// point for a render server's GET_RESOURCE reply or an embedder that knows the image.
    /// Afterwards the resource scans out (`resource_info`, `get_rect`) and GL contexts it is
    /// attached to can use it. Fails cleanly for unknown ids and memory GL cannot import.
    pub fn import_image(
        &self,
        table: &mut ResourceTable,
        res_id: u32,
        desc: &virgl_resource::ImageDesc,
    ) -> Result<(), ContextError> {
        self.shared.root()?;
        let bind = crate::resource::virgl_bind::SAMPLER_VIEW | crate::resource::virgl_bind::SCANOUT;
        crate::import::import_image(&self.shared, table, 0, res_id, *desc, bind)
    }

    /// Scanout information of a resource.
    pub fn resource_info(&self, res_id: u32) -> Option<ResourceInfo> {
        let resources = self.shared.resources.borrow();
        let res = resources.get(&res_id)?;
        let a = &res.args;
        Some(ResourceInfo {
            handle: res_id,
            virgl_format: a.format,
            width: a.width,
            height: a.height,
            depth: a.depth,
            flags: a.flags,
            tex_id: res
                .texture_name()
                .map_or(0, |n| self.shared.imports.scanout_texture(res_id, n.get())),
            stride: u32::try_from(res.layout().row_bytes(a.width)).unwrap_or(0),
        })
    }

    /// A transfer between a resource and guest memory the caller provides (its backing).
    pub fn transfer_with(
        &self,
        request: &TransferRequest,
        direction: TransferDirection,
        mem: &mut dyn GuestMemory,
    ) -> Result<(), ContextError> {
        let host = self.shared.root()?;
        transfer(
            host,
            &self.shared.resources.borrow(),
            request,
            direction,
            mem,
        )
    }

    /// Reads a rectangle of level 0 into `dst` at `offset`, rows `stride` bytes apart
    /// (`virgl_renderer_get_rect`: the embedder's copy of a scanout).
    pub fn get_rect(
        &self,
        res_id: u32,
        rect: (u32, u32, u32, u32),
        dst: &mut dyn GuestMemory,
        offset: u64,
        stride: u32,
    ) -> Result<(), ContextError> {
        let (x, y, width, height) = rect;
        let request = TransferRequest {
            res_id,
            x,
            y,
            width,
            height,
            depth: 1,
            stride,
            offset,
            ..Default::default()
        };
        self.transfer_with(&request, TransferDirection::FromHost, dst)
    }
}

/// Runs one transfer on the current context.
pub(crate) fn transfer(
    host: &HostGl,
    resources: &HashMap<u32, GlResource>,
    request: &TransferRequest,
    direction: TransferDirection,
    mem: &mut dyn GuestMemory,
) -> Result<(), ContextError> {
    let res = resources
        .get(&request.res_id)
        .ok_or(ContextError::Resource(
            virgl_resource::ResourceError::UnknownId(request.res_id),
        ))?;
    let bx = TexBox {
        x: request.x,
        y: request.y,
        z: request.z,
        width: request.width,
        height: request.height,
        depth: request.depth,
    };
    let layout = GuestLayout {
        offset: request.offset,
        stride: request.stride,
        layer_stride: request.layer_stride,
    };
    match direction {
        TransferDirection::ToHost => res.write(host, request.level, &bx, mem, &layout),
        TransferDirection::FromHost => res.read(host, request.level, &bx, mem, &layout),
    }
    .map_err(ContextError::from)
}

impl Backend for VrendBackend {
    fn capset_ids(&self) -> &[u32] {
        &CAPSET_IDS
    }

    fn capset_info(&self, capset_id: u32) -> Option<(u32, u32)> {
        capset_info(capset_id)
    }

    fn fill_caps(&self, capset_id: u32, version: u32) -> Result<Vec<u8>, ContextError> {
        capset_bytes(&self.shared.caps, capset_id, version).ok_or_else(|| {
            ContextError::InvalidCommand(format!("capset {capset_id} version {version}"))
        })
    }

    fn create_context(
        &mut self,
        ctx_id: u32,
        capset_id: u32,
        name: &str,
    ) -> Result<Box<dyn Context>, ContextError> {
        if !CAPSET_IDS.contains(&capset_id) {
            return Err(ContextError::InvalidCommand(format!(
                "capset {capset_id} is not GL"
            )));
        }
        let ctx = VrendContext::new(self.shared.clone(), ctx_id, capset_id, name)?;
        Ok(Box::new(ctx))
    }

    fn create_resource(
        &mut self,
        _table: &mut ResourceTable,
        args: &ResourceCreateArgs,
    ) -> Result<(), ContextError> {
        let host = self.shared.root()?;
        let mut resources = self.shared.resources.borrow_mut();
        self.shared.imports.collect(host, &mut resources);
        if resources.contains_key(&args.handle) {
            return Err(ContextError::Resource(
                virgl_resource::ResourceError::DuplicateId(args.handle),
            ));
        }
        tracing::debug!(?args, "create resource");
        let res = GlResource::create(host, args)?;
        resources.insert(args.handle, res);
        Ok(())
    }

    fn submit_ctx0_fence(&mut self, fence_id: u32) -> Result<(), ContextError> {
        // Guest contexts submit synchronously on this thread; waiting for every GL context here
        // makes the fence cover all work submitted before it, whichever context issued it.
        self.shared.host.finish_all()?;
        self.signalled_ctx0_fences.push(fence_id);
        Ok(())
    }

    fn retire_ctx0_fences(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.signalled_ctx0_fences)
    }

    fn destroy_resource(&mut self, res_id: u32) {
        let Ok(host) = self.shared.root() else { return };
        let mut resources = self.shared.resources.borrow_mut();
        if let Some(res) = resources.remove(&res_id) {
            res.destroy(host);
        }
        self.shared.imports.collect(host, &mut resources);
    }

    fn transfer(
        &mut self,
        table: &mut ResourceTable,
        request: &TransferRequest,
        direction: TransferDirection,
    ) -> Result<(), ContextError> {
        let backing = table.require_mut(request.res_id)?.backing_for_cpu()?;
        self.transfer_with(request, direction, backing)
    }
}
