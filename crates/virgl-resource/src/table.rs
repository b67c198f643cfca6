//! Resources and the global resource table with per-context attachments and quotas.
//!
//! Upstream keeps one global hash of `struct virgl_resource` and lets every context keep its own
//! table of what was attached to it. Here [`ResourceTable`] owns both: the resources keyed by the
//! guest's id, and for each context the set of ids attached to it. A context sees only what is
//! attached ([`ResourceTable::lookup`]), except through the explicit wide lookup
//! ([`ResourceTable::lookup_wide`], see `wide.rs`).

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;

use crate::backing::{Backing, BlobFlags, BlobMem, FdMemory, FdType, GuestMemory};
use crate::context::ContextBlob;
use crate::error::{ResourceError, ResourceResult};
use crate::mem::GuestIovecs;
use crate::transfer::{BlockLayout, ImageGeometry};
use crate::wide::ImportCache;

/// What the guest asked for when it created a 3D resource (`virgl_renderer_resource_create_args`,
/// vtest RESOURCE_CREATE(2), `VIRGL_CCMD_PIPE_RESOURCE_CREATE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceCreateArgs {
    pub handle: u32,
    /// `enum pipe_texture_target` value.
    pub target: u32,
    /// `enum virgl_formats` value.
    pub format: u32,
    /// `VIRGL_BIND_*` flags.
    pub bind: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub array_size: u32,
    pub last_level: u32,
    pub nr_samples: u32,
    pub flags: u32,
}

impl ResourceCreateArgs {
    /// `PIPE_BUFFER`: `width` is a size in bytes.
    const TARGET_BUFFER: u32 = 0;
    /// `PIPE_TEXTURE_3D`: the only target whose depth shrinks with the mip level.
    const TARGET_3D: u32 = 3;
    /// Bytes of the largest plain texel (RGBA32F), the bound used for a format we don't know.
    const MAX_TEXEL_BYTES: u64 = 16;

    /// Host memory a backend will allocate for this resource: every mip level of every layer
    /// and sample, tightly packed. An estimate (drivers pad), saturating at `u64::MAX`, used to
    /// charge quotas before the allocation happens.
    pub fn host_bytes_estimate(&self) -> u64 {
        if self.target == Self::TARGET_BUFFER {
            return u64::from(self.width);
        }
        let format = virgl_protocol::format::VirglFormat::from_raw(self.format).map(|f| f.info());
        let layers =
            u64::from(self.array_size.max(1)).saturating_mul(u64::from(self.nr_samples.max(1)));
        let mut total = 0u64;
        // Levels past 31 cannot exist for 32-bit sizes; the cap keeps a hostile last_level cheap.
        for level in 0..=self.last_level.min(31) {
            let minify = |size: u32| (size >> level).max(1);
            let depth = if self.target == Self::TARGET_3D {
                minify(self.depth)
            } else {
                self.depth.max(1)
            };
            let (w, h) = (minify(self.width), minify(self.height));
            let bytes = format
                .and_then(|info| info.image_size(w, h, depth))
                .unwrap_or_else(|| {
                    Self::MAX_TEXEL_BYTES
                        .saturating_mul(u64::from(w))
                        .saturating_mul(u64::from(h))
                        .saturating_mul(u64::from(depth))
                });
            total = total.saturating_add(bytes.saturating_mul(layers));
        }
        total
    }
}

/// How a blob resource was created (`virgl_renderer_resource_create_blob_args` minus the iovecs,
/// which become its [`Backing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    pub blob_mem: BlobMem,
    pub blob_flags: BlobFlags,
    pub blob_id: u64,
    pub size: u64,
}

/// What an importer needs to know about external memory holding an image: a Venus image
/// exported to GL, a render-server `GET_RESOURCE` reply. Strides are those of the memory, not of
/// any guest transfer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageDesc {
    pub width: u32,
    pub height: u32,
    /// `enum virgl_formats` value.
    pub format: u32,
    /// Bytes between rows of the first plane; 0 if unknown.
    pub stride: u32,
    /// Byte offset of the first plane in the memory.
    pub offset: u32,
    /// DRM format modifier (`DRM_FORMAT_MOD_INVALID` = `u64::MAX>>8` if unknown).
    pub modifier: u64,
}

/// A pointer and length the VMM may map into the guest (`virgl_renderer_resource_map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapRegion {
    pub ptr: *mut u8,
    pub len: u64,
}

/// One resource as the renderer knows it.
///
/// `private` is the slot for the backend that owns the host storage (a GL texture, a Vulkan
/// image). It is `Box<dyn Any + Send>` rather than a backend enum so this crate stays ignorant of
/// backends while the owner still gets its own type back with `downcast_ref`; the wide lookup
/// uses that type to tell whether a resource already has storage of the asking backend. `Send`
/// because the table may be handed to another thread with the renderer. A storage type holding
/// names of a thread-bound API (GL) must hand them back to its owner thread in `Drop`.
pub struct Resource {
    pub id: u32,
    /// Present for 3D resources; blobs without a pipe description have none.
    pub args: Option<ResourceCreateArgs>,
    /// Present for blob resources.
    pub blob: Option<BlobInfo>,
    /// The image inside fd memory, when its creator knows it (for importers).
    pub image: Option<ImageDesc>,
    /// Host storage of the backend that owns it.
    pub private: Option<Box<dyn Any + Send>>,
    backing: Option<Backing>,
    owner_ctx: u32,
    host_bytes: u64,
    mapped: bool,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("id", &self.id)
            .field("args", &self.args)
            .field("blob", &self.blob)
            .field("image", &self.image)
            .field(
                "private",
                &self.private.as_ref().map(|_| "<backend storage>"),
            )
            .field("backing", &self.backing.as_ref().map(Backing::kind))
            .field("owner_ctx", &self.owner_ctx)
            .field("host_bytes", &self.host_bytes)
            .field("mapped", &self.mapped)
            .finish()
    }
}

impl Resource {
    fn bare(id: u32) -> Self {
        Self {
            id,
            args: None,
            blob: None,
            image: None,
            private: None,
            backing: None,
            owner_ctx: 0,
            host_bytes: 0,
            mapped: false,
        }
    }

    /// A 3D (pipe) resource; its id is `args.handle`. Backing comes later (attach_iov).
    ///
    /// The host storage a backend will allocate for it ([`ResourceCreateArgs::host_bytes_estimate`])
    /// is charged to its owner's byte quota on insert, so a guest is refused before the backend
    /// allocates, not after the host runs out of memory.
    pub fn pipe(args: ResourceCreateArgs) -> Self {
        Self {
            args: Some(args),
            host_bytes: args.host_bytes_estimate(),
            ..Self::bare(args.handle)
        }
    }

    /// A blob resource over `backing`.
    ///
    /// The backing must match `blob_mem` (GUEST: iovecs or shm; HOST3D(_GUEST): a host blob;
    /// GUEST_VRAM: guest VRAM) and hold at least `info.size` bytes. Host memory it brings
    /// (shm, host blobs) is charged to the owner context's byte quota on insert.
    pub fn blob(id: u32, info: BlobInfo, backing: Backing) -> ResourceResult<Self> {
        if info.size == 0 {
            return Err(ResourceError::InvalidArgument("blob of size 0"));
        }
        let fits = matches!(
            (&info.blob_mem, &backing),
            (BlobMem::Guest, Backing::Iovecs(_) | Backing::Shm(_))
                | (BlobMem::Host3d, Backing::HostBlob { guest: None, .. })
                | (BlobMem::Host3dGuest, Backing::HostBlob { .. })
                | (BlobMem::GuestVram, Backing::GuestVram(_))
        );
        if !fits {
            return Err(ResourceError::InvalidArgument(
                "backing does not match blob_mem",
            ));
        }
        let have = match backing.fd_memory() {
            Some(memory) => memory.size(),
            None => backing.size(),
        };
        if have < info.size {
            return Err(ResourceError::OutOfBounds {
                what: "blob backing",
                offset: 0,
                len: info.size,
                size: have,
            });
        }
        let host_bytes = host_bytes_of(&backing);
        Ok(Self {
            blob: Some(info),
            backing: Some(backing),
            host_bytes,
            ..Self::bare(id)
        })
    }

    /// A HOST3D or HOST3D_GUEST blob from what its context's `get_blob` returned; `guest` is
    /// the guest's iovecs for HOST3D_GUEST (refused for HOST3D).
    pub fn from_context_blob(
        id: u32,
        info: BlobInfo,
        blob: ContextBlob,
        guest: Option<GuestIovecs>,
    ) -> ResourceResult<Self> {
        match (info.blob_mem, &guest) {
            (BlobMem::Host3d, None) | (BlobMem::Host3dGuest, Some(_)) => {}
            _ => {
                return Err(ResourceError::InvalidArgument(
                    "blob_mem does not match its iovecs",
                ))
            }
        }
        match blob {
            ContextBlob::Memory { memory, image } => {
                let mut res = Self::blob(id, info, Backing::HostBlob { memory, guest })?;
                res.image = image;
                Ok(res)
            }
            ContextBlob::Storage { args, private } => {
                if info.size == 0 {
                    return Err(ResourceError::InvalidArgument("blob of size 0"));
                }
                Ok(Self {
                    args: Some(args),
                    blob: Some(info),
                    private: Some(private),
                    backing: guest.map(Backing::Iovecs),
                    ..Self::bare(id)
                })
            }
        }
    }

    /// A resource imported from an fd (`virgl_renderer_resource_import_blob`): `blob_mem` is
    /// HOST3D or GUEST_VRAM; the fd is owned from now on and closed when the resource goes.
    pub fn import(
        id: u32,
        blob_mem: BlobMem,
        fd_type: FdType,
        fd: OwnedFd,
        size: u64,
    ) -> ResourceResult<Self> {
        let memory = FdMemory::from_fd(fd_type, fd, size)?;
        let backing = match blob_mem {
            BlobMem::Host3d => Backing::Imported(memory),
            BlobMem::GuestVram => Backing::GuestVram(memory),
            _ => return Err(ResourceError::InvalidArgument("import of guest blob_mem")),
        };
        let info = BlobInfo {
            blob_mem,
            // Imported memory the host can map (shm, dma-buf) is mappable for the VMM, as
            // upstream's resource_map does for imports regardless of flags.
            blob_flags: if matches!(fd_type, FdType::Shm | FdType::Dmabuf) {
                BlobFlags::MAPPABLE
            } else {
                BlobFlags::empty()
            },
            blob_id: 0,
            size,
        };
        Ok(Self {
            blob: Some(info),
            backing: Some(backing),
            ..Self::bare(id)
        })
    }

    /// Sets the context that created the resource; its quotas pay for it.
    pub fn with_owner(mut self, ctx_id: u32) -> Self {
        self.owner_ctx = ctx_id;
        self
    }

    /// Sets the backing (for resources built with [`Resource::pipe`]).
    pub fn with_backing(mut self, backing: Backing) -> Self {
        self.host_bytes = host_bytes_of(&backing);
        self.backing = Some(backing);
        self
    }

    /// The context whose quota this resource counts against (0: none).
    pub fn owner_ctx(&self) -> u32 {
        self.owner_ctx
    }

    /// Host bytes charged for this resource.
    pub fn host_bytes(&self) -> u64 {
        self.host_bytes
    }

    pub fn backing(&self) -> Option<&Backing> {
        self.backing.as_ref()
    }

    pub fn backing_mut(&mut self) -> Option<&mut Backing> {
        self.backing.as_mut()
    }

    /// The backing, or [`ResourceError::NoBacking`].
    pub fn require_backing(&self) -> ResourceResult<&Backing> {
        self.backing
            .as_ref()
            .ok_or(ResourceError::NoBacking(self.id))
    }

    /// The backing mutably, made CPU-accessible (fd memory mapped), for transfers.
    pub fn backing_for_cpu(&mut self) -> ResourceResult<&mut Backing> {
        let backing = self
            .backing
            .as_mut()
            .ok_or(ResourceError::NoBacking(self.id))?;
        backing.prepare_cpu_access()?;
        Ok(backing)
    }

    /// The storage of the backend whose type is `T`, if that backend owns this resource.
    pub fn private_ref<T: Any>(&self) -> Option<&T> {
        self.private.as_ref()?.downcast_ref()
    }

    /// Mutable access to the backend storage of type `T`.
    pub fn private_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.private.as_mut()?.downcast_mut()
    }

    /// The transfer geometry of a 3D resource, its format packed as `block`.
    pub fn geometry(&self, block: BlockLayout) -> ResourceResult<ImageGeometry> {
        let args = self
            .args
            .as_ref()
            .ok_or(ResourceError::InvalidArgument("untyped resource"))?;
        ImageGeometry::new(args, block)
    }

    /// The map cache type (`virgl_renderer_resource_get_map_info`); fails when there is none.
    pub fn map_info(&self) -> ResourceResult<u32> {
        let info = self.backing.as_ref().map_or(0, Backing::map_info);
        if info & crate::backing::map_cache::MASK == crate::backing::map_cache::NONE {
            return Err(ResourceError::NoMapInfo(self.id));
        }
        Ok(info)
    }

    /// A new fd for the resource's memory and its type (`virgl_renderer_resource_export_blob`,
    /// vtest RESOURCE_EXPORT_FD). The caller owns the fd.
    pub fn export(&self) -> ResourceResult<(FdType, OwnedFd)> {
        match self.backing.as_ref() {
            Some(Backing::Shm(shm)) => Ok((FdType::Shm, shm.try_clone_fd()?)),
            Some(b) => match b.fd_memory() {
                Some(memory) => memory.export(self.id),
                None => Err(ResourceError::NotExportable(self.id)),
            },
            None => Err(ResourceError::NotExportable(self.id)),
        }
    }

    /// Maps the resource for the VMM (`virgl_renderer_resource_map`). Blobs must be MAPPABLE.
    /// Mapping twice returns the same region.
    pub fn map(&mut self) -> ResourceResult<MapRegion> {
        if let Some(info) = &self.blob {
            if !info.blob_flags.contains(BlobFlags::MAPPABLE) {
                return Err(ResourceError::BlobNotMappable(self.id));
            }
        }
        let region = match self.backing.as_mut() {
            Some(Backing::Shm(shm)) => MapRegion {
                ptr: shm.mapping().as_ptr(),
                len: shm.len(),
            },
            Some(Backing::Iovecs(_)) | Some(Backing::HostBlob { guest: Some(_), .. }) => {
                return Err(ResourceError::NotMappable(
                    "guest memory is mapped by the VMM",
                ))
            }
            Some(b) => {
                let memory = b.fd_memory_mut().ok_or(ResourceError::NoBacking(self.id))?;
                let mapping = memory.map()?;
                MapRegion {
                    ptr: mapping.as_ptr(),
                    len: mapping.len() as u64,
                }
            }
            None => return Err(ResourceError::NoBacking(self.id)),
        };
        self.mapped = true;
        Ok(region)
    }

    /// Undoes [`Resource::map`].
    pub fn unmap(&mut self) -> ResourceResult<()> {
        if !self.mapped {
            return Err(ResourceError::NotMapped(self.id));
        }
        if let Some(memory) = self.backing.as_mut().and_then(Backing::fd_memory_mut) {
            memory.unmap();
        }
        self.mapped = false;
        Ok(())
    }

    /// Whether the resource is mapped for the VMM.
    pub fn is_mapped(&self) -> bool {
        self.mapped
    }
}

fn host_bytes_of(backing: &Backing) -> u64 {
    match backing {
        Backing::Shm(shm) => shm.len(),
        Backing::HostBlob { memory, .. } => memory.size(),
        // Guest pages, VRAM and imports are memory someone else accounts for.
        Backing::Iovecs(_) | Backing::Imported(_) | Backing::GuestVram(_) => 0,
    }
}

/// Per-context limits. `None` means unlimited.
///
/// Context id 0 is the renderer-wide account: resources no context created (QEMU's
/// `RESOURCE_CREATE_3D` and context-less blobs) count against `quota(0)` like any context's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    pub max_resources: Option<u32>,
    pub max_host_bytes: Option<u64>,
}

/// What a context currently owns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub resources: u32,
    pub host_bytes: u64,
}

/// All resources of one renderer, keyed by the guest's resource id, plus which context sees
/// which resource, quotas, and the cache of wide-lookup imports.
#[derive(Default)]
pub struct ResourceTable {
    pub(crate) resources: HashMap<u32, Resource>,
    attachments: HashMap<u32, HashSet<u32>>,
    quotas: HashMap<u32, Quota>,
    default_quota: Quota,
    usage: HashMap<u32, Usage>,
    pub(crate) imports: ImportCache,
}

impl std::fmt::Debug for ResourceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTable")
            .field("resources", &self.resources)
            .field("attachments", &self.attachments)
            .field("quotas", &self.quotas)
            .field("default_quota", &self.default_quota)
            .field("usage", &self.usage)
            .field("imports", &self.imports)
            .finish()
    }
}

impl ResourceTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a resource; ids 0 and duplicates are refused, and the owner context's quotas are
    /// checked and charged (count and host bytes).
    pub fn insert(&mut self, resource: Resource) -> ResourceResult<()> {
        if resource.id == 0 {
            return Err(ResourceError::ZeroId);
        }
        if self.resources.contains_key(&resource.id) {
            return Err(ResourceError::DuplicateId(resource.id));
        }
        let ctx_id = resource.owner_ctx;
        let quota = self.quota(ctx_id);
        let usage = self.usage(ctx_id);
        if quota
            .max_resources
            .is_some_and(|max| usage.resources >= max)
        {
            return Err(ResourceError::ResourceQuota {
                ctx_id,
                limit: quota.max_resources.unwrap_or(0),
            });
        }
        let bytes = usage
            .host_bytes
            .checked_add(resource.host_bytes)
            .ok_or(ResourceError::Overflow("host byte usage"))?;
        if let Some(limit) = quota.max_host_bytes.filter(|&limit| bytes > limit) {
            return Err(ResourceError::ByteQuota {
                ctx_id,
                requested: bytes,
                limit,
            });
        }
        let entry = self.usage.entry(ctx_id).or_default();
        entry.resources += 1;
        entry.host_bytes = bytes;
        self.resources.insert(resource.id, resource);
        Ok(())
    }

    /// Adds a 3D resource described by `args` (no backing yet, no owner context).
    pub fn insert_pipe(&mut self, args: ResourceCreateArgs) -> ResourceResult<()> {
        self.insert(Resource::pipe(args))
    }

    pub fn get(&self, id: u32) -> Option<&Resource> {
        self.resources.get(&id)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Resource> {
        self.resources.get_mut(&id)
    }

    /// The resource, or [`ResourceError::UnknownId`].
    pub fn require(&self, id: u32) -> ResourceResult<&Resource> {
        self.resources.get(&id).ok_or(ResourceError::UnknownId(id))
    }

    /// The resource mutably, or [`ResourceError::UnknownId`].
    pub fn require_mut(&mut self, id: u32) -> ResourceResult<&mut Resource> {
        self.resources
            .get_mut(&id)
            .ok_or(ResourceError::UnknownId(id))
    }

    /// Every resource id, in no particular order.
    pub fn ids(&self) -> Vec<u32> {
        self.resources.keys().copied().collect()
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// True when the table holds no resource.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Removes a resource: detaches it from every context, refunds its owner's quota, and
    /// drops every wide-lookup import made from it (closing their fd dups). Its backing fds are
    /// closed when the returned value drops.
    pub fn remove(&mut self, id: u32) -> Option<Resource> {
        let resource = self.resources.remove(&id)?;
        for set in self.attachments.values_mut() {
            set.remove(&id);
        }
        self.imports.invalidate(id);
        if let Some(usage) = self.usage.get_mut(&resource.owner_ctx) {
            usage.resources = usage.resources.saturating_sub(1);
            usage.host_bytes = usage.host_bytes.saturating_sub(resource.host_bytes);
        }
        Some(resource)
    }

    /// Makes resource `res_id` visible to context `ctx_id` (ctx_attach_resource). Attaching
    /// twice is harmless.
    pub fn attach(&mut self, ctx_id: u32, res_id: u32) -> ResourceResult<()> {
        if !self.resources.contains_key(&res_id) {
            return Err(ResourceError::UnknownId(res_id));
        }
        self.attachments.entry(ctx_id).or_default().insert(res_id);
        Ok(())
    }

    /// Hides a resource from a context again (ctx_detach_resource). Detaching something that
    /// is not attached is a no-op with a log line, as upstream.
    pub fn detach(&mut self, ctx_id: u32, res_id: u32) {
        let removed = self
            .attachments
            .get_mut(&ctx_id)
            .is_some_and(|set| set.remove(&res_id));
        if !removed {
            tracing::debug!(ctx_id, res_id, "detach of a resource that is not attached");
        }
    }

    /// Whether `res_id` is attached to `ctx_id`.
    pub fn is_attached(&self, ctx_id: u32, res_id: u32) -> bool {
        self.attachments
            .get(&ctx_id)
            .is_some_and(|set| set.contains(&res_id))
    }

    /// The ids attached to a context.
    pub fn attached_to(&self, ctx_id: u32) -> Vec<u32> {
        self.attachments
            .get(&ctx_id)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Forgets a destroyed context: its attachment set and quota settings. The resources it
    /// created stay (the guest unrefs them); their usage stays charged until then.
    pub fn forget_context(&mut self, ctx_id: u32) {
        self.attachments.remove(&ctx_id);
        self.quotas.remove(&ctx_id);
        if self.usage(ctx_id) == Usage::default() {
            self.usage.remove(&ctx_id);
        }
    }

    /// A resource as context `ctx_id` sees it: only if attached.
    pub fn lookup(&self, ctx_id: u32, res_id: u32) -> ResourceResult<&Resource> {
        let resource = self.require(res_id)?;
        if !self.is_attached(ctx_id, res_id) {
            return Err(ResourceError::NotAttached { ctx_id, res_id });
        }
        Ok(resource)
    }

    /// Mutable [`ResourceTable::lookup`].
    pub fn lookup_mut(&mut self, ctx_id: u32, res_id: u32) -> ResourceResult<&mut Resource> {
        if !self.resources.contains_key(&res_id) {
            return Err(ResourceError::UnknownId(res_id));
        }
        if !self.is_attached(ctx_id, res_id) {
            return Err(ResourceError::NotAttached { ctx_id, res_id });
        }
        self.require_mut(res_id)
    }

    /// Gives guest iovecs to a resource (`virgl_renderer_resource_attach_iov`). Fails if it
    /// already has backing; upstream refuses that too.
    pub fn attach_backing(&mut self, res_id: u32, backing: Backing) -> ResourceResult<()> {
        let resource = self.require_mut(res_id)?;
        if resource.backing.is_some() {
            return Err(ResourceError::AlreadyBacked(res_id));
        }
        let bytes = host_bytes_of(&backing);
        if bytes != 0 {
            self.charge_host_bytes(res_id, bytes)?;
        }
        self.require_mut(res_id)?.backing = Some(backing);
        Ok(())
    }

    /// Takes the guest iovecs back (`virgl_renderer_resource_detach_iov`), so the VMM can free
    /// them; only iovec backing can be detached. `None` if there was none.
    pub fn detach_backing(&mut self, res_id: u32) -> Option<GuestIovecs> {
        let resource = self.resources.get_mut(&res_id)?;
        match resource.backing.take() {
            Some(Backing::Iovecs(iov)) => Some(iov),
            other => {
                resource.backing = other;
                None
            }
        }
    }

    /// Sets a context's quota (overrides the default).
    pub fn set_quota(&mut self, ctx_id: u32, quota: Quota) {
        self.quotas.insert(ctx_id, quota);
    }

    /// Sets the quota of contexts without their own.
    pub fn set_default_quota(&mut self, quota: Quota) {
        self.default_quota = quota;
    }

    /// The quota in force for a context.
    pub fn quota(&self, ctx_id: u32) -> Quota {
        self.quotas
            .get(&ctx_id)
            .copied()
            .unwrap_or(self.default_quota)
    }

    /// What a context currently owns.
    pub fn usage(&self, ctx_id: u32) -> Usage {
        self.usage.get(&ctx_id).copied().unwrap_or_default()
    }

    /// Charges `bytes` more host memory to a resource's owner (a backend allocating storage for
    /// it); refused with [`ResourceError::ByteQuota`] over the quota. Refunded on remove.
    pub fn charge_host_bytes(&mut self, res_id: u32, bytes: u64) -> ResourceResult<()> {
        let ctx_id = self.require(res_id)?.owner_ctx;
        let limit = self.quota(ctx_id).max_host_bytes;
        let used = self.usage(ctx_id).host_bytes;
        let requested = used
            .checked_add(bytes)
            .ok_or(ResourceError::Overflow("host byte usage"))?;
        if let Some(limit) = limit.filter(|&limit| requested > limit) {
            return Err(ResourceError::ByteQuota {
                ctx_id,
                requested,
                limit,
            });
        }
        self.usage.entry(ctx_id).or_default().host_bytes = requested;
        let resource = self.require_mut(res_id)?;
        resource.host_bytes = resource.host_bytes.saturating_add(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
