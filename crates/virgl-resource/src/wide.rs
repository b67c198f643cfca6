//! Wide lookup: finding a resource a context has no own storage for, importing external memory.
//!
//! A GL context may be asked to use a resource that exists only as external memory: a Venus
//! image exported by another context, or memory handed over by a render server. Upstream's
//! first attempt (`vrend_resource_lookup_wide`) searched other contexts and imported the memory
//! as a new GL resource; here the lookup is explicit and typed:
//!
//! 1. the resource attached to the asking context with storage of the asking backend's type `T`;
//! 2. otherwise the resource from the global table, if it carries storage of type `T`;
//! 3. otherwise, if it is fd-backed, the [`Importer`] registered for `T` turns the fd (plus
//!    size, fd type, Vulkan info and image description) into a `T` **once**; the result is
//!    cached and reported as [`WideOrigin::Imported`] (GL needs to know: BGRA swizzles differ).
//!
//! Lifetime rules:
//! - An import holds its own `dup` of the source fd for as long as the import lives, so it does
//!   not depend on the source's fd number staying valid. An importer whose API consumes fds
//!   (`glImportMemoryFdEXT`, `vkAllocateMemory` with `VkImportMemoryFdInfoKHR`) must `dup` the
//!   borrowed fd it is given again.
//! - Removing the source resource from the table ([`crate::ResourceTable::remove`]) drops every
//!   import made from it: the `T` is dropped (its `Drop` releases the backend object) and the fd
//!   dup is closed. A later resource reusing the id starts with an empty cache.
//! - Imports are per resource, not per context: two contexts of one backend share one import.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::backing::{FdType, VulkanInfo};
use crate::error::{ResourceError, ResourceResult};
use crate::mem::dup_fd;
use crate::table::{ImageDesc, Resource, ResourceTable};

/// What an importer is given.
#[derive(Debug, Clone, Copy)]
pub struct ImportRequest<'a> {
    pub res_id: u32,
    /// The import's own fd (a dup of the source's); borrow only, dup again to consume.
    pub fd: BorrowedFd<'a>,
    pub fd_type: FdType,
    /// Bytes of memory behind the fd.
    pub size: u64,
    /// The image in the memory, if known (from the resource's `image` or its create args).
    pub image: Option<ImageDesc>,
    pub vulkan_info: Option<&'a VulkanInfo>,
}

/// Turns external memory into a backend's own storage (a GL texture over a memory object, a
/// Vulkan image over imported memory). Registered per storage type with
/// [`ResourceTable::register_importer`].
pub trait Importer: Send {
    /// The backend storage type this importer produces.
    type Storage: Any + Send;

    /// Imports; an error string says why, for the log and the guest-visible error.
    fn import(&mut self, request: &ImportRequest<'_>) -> Result<Self::Storage, String>;
}

trait ErasedImporter: Send {
    fn import_erased(&mut self, request: &ImportRequest<'_>)
        -> Result<Box<dyn Any + Send>, String>;
}

impl<I: Importer> ErasedImporter for I {
    fn import_erased(
        &mut self,
        request: &ImportRequest<'_>,
    ) -> Result<Box<dyn Any + Send>, String> {
        self.import(request)
            .map(|storage| Box::new(storage) as Box<dyn Any + Send>)
    }
}

struct ImportEntry {
    /// Keeps the memory alive independently of the source resource's fd.
    _fd: OwnedFd,
    storage: Box<dyn Any + Send>,
}

/// Registered importers and the imports they made, keyed by storage type.
#[derive(Default)]
pub(crate) struct ImportCache {
    importers: HashMap<TypeId, Box<dyn ErasedImporter>>,
    entries: HashMap<(u32, TypeId), ImportEntry>,
}

impl std::fmt::Debug for ImportCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportCache")
            .field("importers", &self.importers.len())
            .field(
                "imports",
                &self.entries.keys().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ImportCache {
    /// Drops every import of `res_id`.
    pub(crate) fn invalidate(&mut self, res_id: u32) {
        self.entries.retain(|&(id, _), _| id != res_id);
    }
}

/// Where [`ResourceTable::lookup_wide`] found the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideOrigin {
    /// Attached to the asking context, with the backend's own storage.
    Attached,
    /// Not attached, but in the global table with the backend's own storage.
    Global,
    /// Imported from the resource's external memory (now or earlier, cached).
    Imported,
}

/// The result of a wide lookup.
#[derive(Debug)]
pub struct WideRef<'a, T> {
    pub resource: &'a Resource,
    pub storage: &'a T,
    pub origin: WideOrigin,
}

impl<T> WideRef<'_, T> {
    /// True when the storage was imported from external memory.
    pub fn is_imported(&self) -> bool {
        self.origin == WideOrigin::Imported
    }
}

impl ResourceTable {
    /// Registers the importer for storage type `I::Storage`, replacing any earlier one.
    pub fn register_importer<I: Importer + 'static>(&mut self, importer: I) {
        self.imports
            .importers
            .insert(TypeId::of::<I::Storage>(), Box::new(importer));
    }

    /// Whether an import of `res_id` into `T` is cached.
    pub fn has_import<T: Any>(&self, res_id: u32) -> bool {
        self.imports
            .entries
            .contains_key(&(res_id, TypeId::of::<T>()))
    }

    /// Finds storage of type `T` for `res_id` on behalf of `ctx_id`; see the module docs for the
    /// order. Fails with [`ResourceError::UnknownId`], or [`ResourceError::NotImportable`] when
    /// the resource has neither `T` storage nor importable fd memory, or
    /// [`ResourceError::ImportFailed`] when the importer refuses.
    pub fn lookup_wide<T: Any + Send>(
        &mut self,
        ctx_id: u32,
        res_id: u32,
    ) -> ResourceResult<WideRef<'_, T>> {
        let key = (res_id, TypeId::of::<T>());
        let resource = self
            .resources
            .get(&res_id)
            .ok_or(ResourceError::UnknownId(res_id))?;
        if resource.private_ref::<T>().is_some() {
            let origin = if self.is_attached(ctx_id, res_id) {
                WideOrigin::Attached
            } else {
                WideOrigin::Global
            };
            let resource = self
                .resources
                .get(&res_id)
                .ok_or(ResourceError::UnknownId(res_id))?;
            let storage = resource
                .private_ref::<T>()
                .ok_or(ResourceError::UnknownId(res_id))?;
            return Ok(WideRef {
                resource,
                storage,
                origin,
            });
        }

        if !self.imports.entries.contains_key(&key) {
            let memory = resource
                .backing()
                .and_then(crate::Backing::fd_memory)
                .ok_or(ResourceError::NotImportable(res_id, "no external memory"))?;
            let fd = memory
                .fd()
                .ok_or(ResourceError::NotImportable(res_id, "opaque handle"))?;
            let importer =
                self.imports
                    .importers
                    .get_mut(&key.1)
                    .ok_or(ResourceError::NotImportable(
                        res_id,
                        "no importer for this backend",
                    ))?;
            let own_fd = dup_fd(fd)?;
            let image = resource.image.or_else(|| {
                resource.args.map(|a| ImageDesc {
                    width: a.width,
                    height: a.height,
                    format: a.format,
                    ..ImageDesc::default()
                })
            });
            let request = ImportRequest {
                res_id,
                fd: own_fd.as_fd(),
                fd_type: memory.fd_type(),
                size: memory.size(),
                image,
                vulkan_info: memory.vulkan_info(),
            };
            let storage = importer
                .import_erased(&request)
                .map_err(|reason| ResourceError::ImportFailed { res_id, reason })?;
            tracing::debug!(ctx_id, res_id, "imported external resource memory");
            self.imports.entries.insert(
                key,
                ImportEntry {
                    _fd: own_fd,
                    storage,
                },
            );
        }

        let resource = self
            .resources
            .get(&res_id)
            .ok_or(ResourceError::UnknownId(res_id))?;
        let storage = self
            .imports
            .entries
            .get(&key)
            .and_then(|entry| entry.storage.downcast_ref::<T>())
            .ok_or(ResourceError::NotImportable(
                res_id,
                "import cache type mismatch",
            ))?;
        Ok(WideRef {
            resource,
            storage,
            origin: WideOrigin::Imported,
        })
    }
}
