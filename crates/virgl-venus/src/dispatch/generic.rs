//! The generic command path: every generated command without a hand-written handler is
//! decoded, its handles translated, and the host driver's own entry point (from
//! `vkGetDeviceProcAddr` / `vkGetInstanceProcAddr`) called with the arguments. This is how the
//! device-level commands run: `vkCmd*`, pipelines, descriptors, render passes, queue
//! submission, fences, semaphores, events, queries.
//!
//! Bookkeeping done here, so the guest's ids stay valid: objects a command creates (its out
//! handle slots) are registered under the guest's new ids as children of their device (and of
//! their pool for command buffers and descriptor sets); `vkDestroy*` / `vkFree*` forget them;
//! destroying or resetting a pool forgets what was allocated from it.
//!
//! Device memory needs more than a call: the guest maps host-visible memory through a blob
//! (RESOURCE_CREATE_BLOB with the memory's id), and other contexts import blobs. Plain
//! host-visible memory, where the driver has VK_EXT_external_memory_host, is a memfd of ours
//! imported as host memory, so the blob's fd *is* the memory from offset 0 (lavapipe's own
//! OPAQUE_FD export puts a private header before the data, and a VMM that cannot map host
//! memory needs a plain fd). Memory the guest asks to be exportable is the driver's: what GL's
//! `glImportMemoryFdEXT` accepts (llvmpipe only takes fds Mesa allocated); its blob mapping is
//! made through Vulkan ([`crate::mapper`]). Imports of attached resources
//! (VkImportMemoryResourceInfoMESA) go through our mapping (SHM) or a dup of their fd.
//! See [`State::allocate_memory`] and [`State::export_memory`].

use std::sync::Arc;

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

use ash::vk::{self, Handle};

use super::State;
use crate::generated::commands::{self as c, cmd};
use crate::generated::types;
use crate::objects::object_type as ot;
use crate::shm::Shm;
use crate::wire::{Arena, Cx, Reader, Writer};
use crate::VenusError;
use virgl_resource::{FdType, SharedMemory, VulkanInfo};

/// `VkStructureType` values this module looks for in chains.
mod stype {
    pub const EXPORT_MEMORY_ALLOCATE_INFO: i32 = 1000072002;
    pub const IMPORT_MEMORY_FD_INFO_KHR: i32 = 1000074000;
    pub const IMPORT_MEMORY_RESOURCE_INFO_MESA: i32 = 1000384002;
}

/// A device memory allocation (for blob export).
#[derive(Clone)]
pub(crate) struct Memory {
    pub device: u64,
    pub host: vk::DeviceMemory,
    pub size: u64,
    /// Handle types the allocation was made exportable with (empty: not exportable).
    pub export: vk::ExternalMemoryHandleTypeFlags,
    /// The memory type the guest asked for (an OPAQUE_FD import must name the same).
    pub memory_type_index: u32,
    /// Our memfd imported as host memory: it must outlive the VkDeviceMemory (dropped only
    /// after vkFreeMemory).
    pub shm: Option<Arc<SharedMemory>>,
    /// An attached SHM resource's mapping imported as host memory
    /// (VkImportMemoryResourceInfoMESA): kept, like `shm`, until after vkFreeMemory.
    pub imported: Option<Arc<Shm>>,
}

/// A device child: its device, object type, pool (command buffers, descriptor sets) and
/// creation order (children are destroyed newest first with their device).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Child {
    pub device: u64,
    pub object_type: i32,
    pub pool: Option<u64>,
    pub seq: u64,
}

/// The first link of sType `st` in a decoded chain.
///
/// # Safety
/// As [`chain_stypes`].
unsafe fn find_link(
    mut p: *mut std::ffi::c_void,
    st: i32,
) -> Option<*mut vk::BaseOutStructure<'static>> {
    let mut n = 0;
    while !p.is_null() && n < 64 {
        let link = p.cast::<vk::BaseOutStructure>();
        // SAFETY: per the contract every link is at least a VkBaseOutStructure.
        let base = unsafe { &*link };
        if base.s_type.as_raw() == st {
            return Some(link);
        }
        p = base.p_next.cast();
        n += 1;
    }
    None
}

/// Relinks a decoded chain without the links of the sTypes in `drop`; returns its new head.
///
/// # Safety
/// As [`chain_stypes`]; the chain is arena memory the caller may change.
unsafe fn relink_without(p: *mut std::ffi::c_void, drop: &[i32]) -> *mut std::ffi::c_void {
    let mut kept: Vec<*mut vk::BaseOutStructure> = Vec::new();
    let mut p = p.cast::<vk::BaseOutStructure>();
    let mut n = 0;
    while !p.is_null() && n < 64 {
        // SAFETY: a link of the decoded chain.
        let base = unsafe { &*p };
        if !drop.contains(&base.s_type.as_raw()) {
            kept.push(p);
        }
        p = base.p_next;
        n += 1;
    }
    let mut next: *mut vk::BaseOutStructure = std::ptr::null_mut();
    for &link in kept.iter().rev() {
        // SAFETY: a link of the decoded chain, ours to relink.
        unsafe { (*link).p_next = next };
        next = link;
    }
    next.cast()
}

/// vkAllocateMemory of `size` bytes of memory type `type_index` whose allocate info carries the
/// chain `p_next` (an import link in front of the guest's remaining links).
///
/// # Safety
/// `dev` is a live device and `p_next` a valid `VkMemoryAllocateInfo` chain (with whatever the
/// import links point at) that lives for the call.
unsafe fn allocate_with_chain(
    dev: &ash::Device,
    p_next: *const std::ffi::c_void,
    size: u64,
    type_index: u32,
) -> (vk::Result, vk::DeviceMemory) {
    let info = vk::MemoryAllocateInfo {
        p_next,
        allocation_size: size,
        memory_type_index: type_index,
        ..Default::default()
    };
    let mut host = vk::DeviceMemory::null();
    // SAFETY: the caller's contract; `info` and `host` live on this stack for the call.
    let result = unsafe {
        (dev.fp_v1_0().allocate_memory)(dev.handle(), &info, std::ptr::null(), &mut host)
    };
    (result, host)
}

fn align_up(size: u64, align: u64) -> Result<u64, VenusError> {
    Ok(size
        .checked_add(align - 1)
        .ok_or(VenusError::TooLarge("allocationSize"))?
        / align
        * align)
}

/// Walks a decoded `pNext` chain and returns the sTypes in it.
///
/// # Safety
/// `p` must be null or a chain the decoder built (every link starts with sType and pNext).
pub(super) unsafe fn chain_stypes(mut p: *const std::ffi::c_void) -> Vec<i32> {
    let mut out = Vec::new();
    while !p.is_null() && out.len() < 64 {
        // SAFETY: per the contract every link is at least a VkBaseInStructure.
        let base = unsafe { &*p.cast::<vk::BaseInStructure>() };
        out.push(base.s_type.as_raw());
        p = base.p_next.cast();
    }
    out
}

impl State {
    /// Runs command `ty` through the generic path; `Ok(false)` when it has no generated
    /// decoder (the caller reports it unsupported).
    pub(super) fn execute_generic(
        &mut self,
        ty: u32,
        r: &mut Reader<'_>,
        arena: &Arena,
        w: &mut Writer,
    ) -> Result<bool, VenusError> {
        let pool = self.allocation_pool(ty, r, arena)?;
        let cx = Cx {
            arena,
            handles: &self.objects,
        };
        let Some(mut command) = c::decode_command(ty, r, &cx)? else {
            return Ok(false);
        };
        let (dispatch_type, dispatch_id) = command.dispatcher();
        let device = self.owner_device(dispatch_type, dispatch_id)?;
        let pfn = self.entry_point(device, ty, command.name(), command.aliases())?;
        let new_ids = match command.created() {
            Some((t, slots)) => {
                for (i, &id) in slots.iter().enumerate() {
                    self.check_new_id(id)?;
                    if slots[..i].contains(&id) {
                        return Err(VenusError::InvalidObjectId(id));
                    }
                }
                Some((t, slots.to_vec()))
            }
            None => None,
        };
        let destroyed = command.destroyed();
        if let Some((t, ids)) = &destroyed {
            for &id in ids.iter().filter(|&&id| id != 0) {
                self.objects.get(*t, id)?;
            }
        }
        // SAFETY: `pfn` is the host entry point named after this very command; structures were
        // decoded with their handles translated through `self.objects`.
        unsafe { command.invoke(pfn, &self.objects)? };
        let result = command.result().unwrap_or(0);
        if result < 0 {
            tracing::debug!(ty, name = ?command.name(), result, "host command failed");
        }
        if let Some((t, ids)) = new_ids {
            let Some((_, slots)) = command.created() else {
                return Err(VenusError::Invalid("created handles vanished".into()));
            };
            for (slot, id) in slots.iter_mut().zip(ids) {
                let host = *slot;
                if result >= 0 && host != 0 {
                    self.add_child_in(device, id, t, host, pool)?;
                    *slot = id;
                } else {
                    *slot = 0;
                }
            }
        }
        if let Some((_, ids)) = destroyed {
            for id in ids.into_iter().filter(|&id| id != 0) {
                self.forget_child(id);
            }
        }
        if ty == cmd::vkResetDescriptorPool && result == 0 {
            if let Some(pool) = pool {
                self.forget_pool_children(pool);
            }
        }
        // SAFETY: output structures are what the decoder built and the driver filled in.
        unsafe { command.reply(w, &self.objects) };
        Ok(true)
    }

    /// For commands that allocate from (or reset) a pool: the pool's guest id.
    fn allocation_pool(
        &self,
        ty: u32,
        r: &Reader<'_>,
        arena: &Arena,
    ) -> Result<Option<u64>, VenusError> {
        let cx = Cx {
            arena,
            handles: &self.objects,
        };
        let mut peek = r.clone();
        Ok(match ty {
            cmd::vkAllocateCommandBuffers => {
                let a = c::decode_vkAllocateCommandBuffers(&mut peek, &cx)?;
                a.pAllocateInfo.and_then(|i| {
                    self.objects
                        .guest_id(vk::ObjectType::COMMAND_POOL.as_raw(), i.commandPool)
                })
            }
            cmd::vkAllocateDescriptorSets => {
                let a = c::decode_vkAllocateDescriptorSets(&mut peek, &cx)?;
                a.pAllocateInfo.and_then(|i| {
                    self.objects
                        .guest_id(vk::ObjectType::DESCRIPTOR_POOL.as_raw(), i.descriptorPool)
                })
            }
            cmd::vkResetDescriptorPool => {
                let a = c::decode_vkResetDescriptorPool(&mut peek, &cx)?;
                Some(a.descriptorPool)
            }
            _ => None,
        })
    }

    /// The guest id of the device a command runs on (0 for instance-level commands).
    fn owner_device(&self, object_type: i32, id: u64) -> Result<u64, VenusError> {
        match object_type {
            ot::PHYSICAL_DEVICE => {
                self.objects.get(ot::PHYSICAL_DEVICE, id)?;
                Ok(0)
            }
            ot::DEVICE => {
                self.device(id)?;
                Ok(id)
            }
            ot::QUEUE => self
                .queues
                .get(&id)
                .map(|&(_, dev)| dev)
                .ok_or(VenusError::UnknownObject { object_type, id }),
            0 => Err(VenusError::Invalid(
                "command without a dispatchable handle".into(),
            )),
            _ => match self.children.get(&id) {
                Some(child) if child.object_type == object_type => Ok(child.device),
                _ => Err(VenusError::UnknownObject { object_type, id }),
            },
        }
    }

    /// The host entry point of command `ty` on `device` (0: instance level), cached. The core
    /// name is tried first, then the extension aliases (a 1.2 device with
    /// VK_KHR_dynamic_rendering has only vkCmdBeginRenderingKHR).
    fn entry_point(
        &mut self,
        device: u64,
        ty: u32,
        name: &'static std::ffi::CStr,
        aliases: &'static [&'static std::ffi::CStr],
    ) -> Result<unsafe extern "system" fn(), VenusError> {
        if let Some(&f) = self.entry_points.get(&(device, ty)) {
            return Ok(f);
        }
        let inst = &self.instance()?.instance;
        let mut f = None;
        for n in std::iter::once(name).chain(aliases.iter().copied()) {
            f = if device == 0 {
                // SAFETY: valid instance, NUL-terminated name.
                unsafe {
                    (self.entry.static_fn().get_instance_proc_addr)(inst.handle(), n.as_ptr())
                }
            } else {
                let dev = self.device(device)?;
                // SAFETY: valid device, NUL-terminated name.
                unsafe { (inst.fp_v1_0().get_device_proc_addr)(dev.handle(), n.as_ptr()) }
            };
            if f.is_some() {
                break;
            }
        }
        let f = f.ok_or(VenusError::UnsupportedCommand(
            ty,
            c::command_name(ty).unwrap_or("unknown"),
        ))?;
        self.entry_points.insert((device, ty), f);
        Ok(f)
    }

    pub(super) fn add_child_in(
        &mut self,
        device: u64,
        id: u64,
        object_type: i32,
        host: u64,
        pool: Option<u64>,
    ) -> Result<(), VenusError> {
        self.objects.insert(id, object_type, host)?;
        self.child_seq += 1;
        self.children.insert(
            id,
            Child {
                device,
                object_type,
                pool: pool.filter(|_| {
                    object_type == vk::ObjectType::COMMAND_BUFFER.as_raw()
                        || object_type == vk::ObjectType::DESCRIPTOR_SET.as_raw()
                }),
                seq: self.child_seq,
            },
        );
        Ok(())
    }

    /// Forgets a child the guest destroyed (the host object is gone already), and what was
    /// allocated from it if it is a pool.
    fn forget_child(&mut self, id: u64) {
        if self.children.remove(&id).is_some() {
            self.objects.remove(id);
            self.memories.remove(&id);
            self.forget_image_records(id);
            self.forget_pool_children(id);
        }
    }

    fn forget_pool_children(&mut self, pool: u64) {
        let ids: Vec<u64> = self
            .children
            .iter()
            .filter(|(_, c)| c.pool == Some(pool))
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.children.remove(&id);
            self.objects.remove(id);
        }
    }

    /// vkAllocateMemory. Three ways, by what the guest's chain asks:
    /// - VkImportMemoryResourceInfoMESA (Xen / guest VRAM, imports of other contexts'
    ///   resources): the attached resource's memory is imported, see
    ///   [`State::import_resource_memory`];
    /// - VkExportMemoryAllocateInfo with handle types (Mesa's venus asks for it for WSI images
    ///   and shareable memory, with its renderer handle type): the driver allocates exportable
    ///   memory — dma-buf if asked and the driver manages, else OPAQUE_FD — so that another
    ///   context (GL's `glImportMemoryFdEXT`) can import the blob; its guest mapping comes from
    ///   [`crate::mapper`];
    /// - plain host-visible memory: our memfd imported as host memory
    ///   ([`State::allocate_host_memory`]; the guest maps the memfd itself, which also works
    ///   where the VMM cannot map driver memory), else driver memory made OPAQUE_FD-exportable.
    pub(super) fn allocate_memory(
        &mut self,
        a: &mut c::vkAllocateMemory_args<'_>,
    ) -> Result<(), VenusError> {
        let id = a.pMemory.as_deref().copied().unwrap_or(0);
        self.check_new_id(id)?;
        let info = *a
            .pAllocateInfo
            .ok_or(VenusError::NullParam("pAllocateInfo"))?;
        // SAFETY: the decoder built the chain.
        let stypes = unsafe { chain_stypes(info.pNext) };
        if stypes.contains(&stype::IMPORT_MEMORY_FD_INFO_KHR) {
            return Err(VenusError::Invalid(
                "guest fds cannot be imported (VkImportMemoryFdInfoKHR)".into(),
            ));
        }
        let dev_id = a.device;
        // SAFETY: the decoder built the chain.
        let resource_link =
            unsafe { find_link(info.pNext, stype::IMPORT_MEMORY_RESOURCE_INFO_MESA) };
        if let Some(link) = resource_link {
            // SAFETY: the sType says what the link is.
            let res_id =
                unsafe { (*link.cast::<types::VkImportMemoryResourceInfoMESA>()).resourceId };
            a.ret = self
                .import_resource_memory(dev_id, id, &info, res_id)?
                .as_raw();
            return Ok(());
        }
        let (host_visible, can_export) = self.memory_type_info(dev_id, info.memoryTypeIndex)?;
        // SAFETY: the decoder built the chain.
        let export_link = unsafe { find_link(info.pNext, stype::EXPORT_MEMORY_ALLOCATE_INFO) }
            .map(|p| p.cast::<vk::ExportMemoryAllocateInfo>());
        // SAFETY: the sType says what the link is.
        let requested = export_link
            .map_or(vk::ExternalMemoryHandleTypeFlags::empty(), |e| unsafe {
                (*e).handle_types
            });
        let host_memory = host_visible && self.host_memory_devices.contains(&dev_id);
        if requested.is_empty() && host_memory {
            if let Some(result) = self.allocate_host_memory(dev_id, id, &info)? {
                a.ret = result.as_raw();
                return Ok(());
            }
        }
        let dma_buf = vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;
        let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
        let candidates = if !requested.is_empty() && can_export {
            // A driver may advertise dma-buf export yet fail to allocate it (lavapipe without
            // /dev/udmabuf): OPAQUE_FD is what GL imports anyway.
            let mut c = Vec::with_capacity(2);
            if requested.contains(dma_buf) {
                c.push(dma_buf);
            }
            c.push(opaque);
            c
        } else if !requested.is_empty() {
            vec![requested]
        } else if host_visible && can_export {
            vec![opaque]
        } else {
            vec![vk::ExternalMemoryHandleTypeFlags::empty()]
        };
        let mut result = vk::Result::ERROR_OUT_OF_DEVICE_MEMORY;
        for types in candidates {
            let (r, host, size) = self.allocate_exportable(dev_id, &info, export_link, types)?;
            result = r;
            if r == vk::Result::SUCCESS {
                self.add_child_in(
                    dev_id,
                    id,
                    vk::ObjectType::DEVICE_MEMORY.as_raw(),
                    host.as_raw(),
                    None,
                )?;
                self.memories.insert(
                    id,
                    Memory {
                        device: dev_id,
                        host,
                        size,
                        memory_type_index: info.memoryTypeIndex,
                        export: types,
                        shm: None,
                        imported: None,
                    },
                );
                a.ret = r.as_raw();
                return Ok(());
            }
            tracing::debug!(?types, result = ?r, "exportable device memory allocation failed");
        }
        if !requested.is_empty() && host_memory {
            // The guest still gets memory it can map; other contexts cannot import it.
            tracing::warn!(
                ?requested,
                "driver cannot allocate exportable memory: using host memory, which other \
                 contexts cannot import"
            );
            if let Some(r) = self.allocate_host_memory(dev_id, id, &info)? {
                result = r;
            }
        }
        a.ret = result.as_raw();
        Ok(())
    }

    /// One vkAllocateMemory of the guest's `info` exportable as `types` (empty: as the guest
    /// asked). Exportable sizes are page-aligned: the guest's blob of the memory is (upstream
    /// does the same). Returns the result, the memory and its size.
    fn allocate_exportable(
        &self,
        dev_id: u64,
        info: &types::VkMemoryAllocateInfo,
        export_link: Option<*mut vk::ExportMemoryAllocateInfo<'static>>,
        types: vk::ExternalMemoryHandleTypeFlags,
    ) -> Result<(vk::Result, vk::DeviceMemory, u64), VenusError> {
        let mut host_info = *info;
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(types);
        if !types.is_empty() {
            host_info.allocationSize = align_up(info.allocationSize, 4096)?;
            match export_link {
                // SAFETY: a link of the decoded chain (arena memory, ours to change).
                Some(link) => unsafe { (*link).handle_types = types },
                None => {
                    export.p_next = info.pNext.cast_const();
                    host_info.pNext = std::ptr::from_mut(&mut export).cast();
                }
            }
        }
        let dev = self.device(dev_id)?;
        let mut host = vk::DeviceMemory::null();
        // SAFETY: valid device; the info and its chain were decoded into the arena (plus our
        // export link on the stack, alive for the call).
        let result = unsafe {
            (dev.fp_v1_0().allocate_memory)(
                dev.handle(),
                std::ptr::from_ref(&host_info).cast(),
                std::ptr::null(),
                &mut host,
            )
        };
        Ok((result, host, host_info.allocationSize))
    }

    /// VkImportMemoryResourceInfoMESA: memory of a resource attached to this context. SHM
    /// resources (guest VRAM and shm blobs: Xen, where the hypervisor cannot map host memory
    /// into the guest) are imported through our mapping of them with
    /// VK_EXT_external_memory_host; dma-buf and OPAQUE_FD resources through a dup of their fd
    /// (VkImportMemoryFdInfoKHR). The guest's other chain links are kept. A resource that is
    /// not attached is a guest error; memory the driver cannot import is
    /// `VK_ERROR_INVALID_EXTERNAL_HANDLE`.
    fn import_resource_memory(
        &mut self,
        dev_id: u64,
        id: u64,
        info: &types::VkMemoryAllocateInfo,
        res_id: u32,
    ) -> Result<vk::Result, VenusError> {
        let refuse = |why: &str| {
            tracing::debug!(res_id, why, "resource memory import refused");
            Ok(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE)
        };
        // A memory type the device has (the driver is not asked about others).
        self.memory_type_info(dev_id, info.memoryTypeIndex)?;
        // The guest's chain minus the resource link (and export requests: imported memory is
        // not re-exported; the guest has the resource already).
        // SAFETY: the decoder built the chain (arena memory, ours to relink).
        let rest = unsafe {
            relink_without(
                info.pNext,
                &[
                    stype::IMPORT_MEMORY_RESOURCE_INFO_MESA,
                    stype::EXPORT_MEMORY_ALLOCATE_INFO,
                ],
            )
        };
        let inst = &self.instance()?.instance;
        let dev = self.device(dev_id)?;
        let (host, size, imported) = if let Some(shm) = self.shm.get(&res_id).cloned() {
            if !self.host_memory_devices.contains(&dev_id) {
                return refuse("SHM resource without VK_EXT_external_memory_host");
            }
            let align = self.host_pointer_alignment(dev_id)?.max(4096);
            let size = align_up(info.allocationSize, align)?;
            if size > shm.len() as u64 || info.allocationSize == 0 {
                return refuse("allocationSize larger than the resource");
            }
            let ptr = shm.as_ptr().cast::<std::ffi::c_void>();
            let host_fns = ash::ext::external_memory_host::Device::new(inst, dev);
            let mut props = vk::MemoryHostPointerPropertiesEXT::default();
            // SAFETY: valid device; `ptr` is our page-aligned mapping of the resource.
            let r = unsafe {
                (host_fns.fp().get_memory_host_pointer_properties_ext)(
                    dev.handle(),
                    vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
                    ptr,
                    &mut props,
                )
            };
            if r != vk::Result::SUCCESS
                || props.memory_type_bits & (1u32.checked_shl(info.memoryTypeIndex).unwrap_or(0))
                    == 0
            {
                return refuse("memory type cannot import host memory");
            }
            let import = vk::ImportMemoryHostPointerInfoEXT {
                p_next: rest.cast_const(),
                handle_type: vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
                p_host_pointer: ptr,
                ..Default::default()
            };
            // SAFETY: the import points at our mapping of the resource, kept alive (the Arc in
            // `memories`) until after vkFreeMemory; the rest of the chain is the guest's.
            let (r, host) = unsafe {
                allocate_with_chain(
                    dev,
                    std::ptr::from_ref(&import).cast(),
                    size,
                    info.memoryTypeIndex,
                )
            };
            if r != vk::Result::SUCCESS {
                return Ok(r);
            }
            (host, size, Some(shm))
        } else if let Some(super::ResourceFd { fd_type, fd, .. }) =
            self.resource_fds.get(&res_id).cloned()
        {
            if !self.memory_fd_devices.contains(&dev_id) {
                return refuse("fd resource without VK_KHR_external_memory_fd");
            }
            let handle_type = match fd_type {
                FdType::Dmabuf => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
                FdType::Opaque => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
                FdType::Shm | FdType::OpaqueHandle => return refuse("fd type"),
            };
            let fd_fns = ash::khr::external_memory_fd::Device::new(inst, dev);
            if fd_type == FdType::Dmabuf {
                let mut props = vk::MemoryFdPropertiesKHR::default();
                // SAFETY: valid device; a dma-buf fd we hold.
                let r = unsafe {
                    (fd_fns.fp().get_memory_fd_properties_khr)(
                        dev.handle(),
                        handle_type,
                        fd.as_raw_fd(),
                        &mut props,
                    )
                };
                if r != vk::Result::SUCCESS
                    || props.memory_type_bits
                        & (1u32.checked_shl(info.memoryTypeIndex).unwrap_or(0))
                        == 0
                {
                    return refuse("dma-buf not importable as this memory type");
                }
            }
            let dup = fd
                .try_clone()
                .map_err(|e| VenusError::Host(format!("dup of a resource fd: {e}")))?;
            let import = vk::ImportMemoryFdInfoKHR {
                p_next: rest.cast_const(),
                handle_type,
                fd: dup.as_raw_fd(),
                ..Default::default()
            };
            // SAFETY: the import names an fd we own for the call; the rest of the chain is the
            // guest's.
            let (r, host) = unsafe {
                allocate_with_chain(
                    dev,
                    std::ptr::from_ref(&import).cast(),
                    info.allocationSize,
                    info.memoryTypeIndex,
                )
            };
            if r != vk::Result::SUCCESS {
                return Ok(r);
            }
            // A successful import owns the fd.
            let _ = dup.into_raw_fd();
            (host, info.allocationSize, None)
        } else {
            return Err(VenusError::Invalid(format!(
                "VkImportMemoryResourceInfoMESA: resource {res_id} is not attached to the context"
            )));
        };
        self.add_child_in(
            dev_id,
            id,
            vk::ObjectType::DEVICE_MEMORY.as_raw(),
            host.as_raw(),
            None,
        )?;
        self.memories.insert(
            id,
            Memory {
                device: dev_id,
                host,
                size,
                memory_type_index: info.memoryTypeIndex,
                export: vk::ExternalMemoryHandleTypeFlags::empty(),
                shm: None,
                imported,
            },
        );
        tracing::debug!(res_id, id, size, "resource memory imported");
        Ok(vk::Result::SUCCESS)
    }

    /// Host-visible memory backed by a memfd of ours, imported with
    /// VK_EXT_external_memory_host. `Ok(None)` when the driver cannot import it for this memory
    /// type (the caller then allocates normally). Export requests in the guest's chain are
    /// dropped: the blob is the only way the memory leaves the host, and it uses our memfd.
    fn allocate_host_memory(
        &mut self,
        dev_id: u64,
        id: u64,
        info: &crate::generated::types::VkMemoryAllocateInfo,
    ) -> Result<Option<vk::Result>, VenusError> {
        let align = self.host_pointer_alignment(dev_id)?.max(4096);
        let size = info
            .allocationSize
            .checked_add(align - 1)
            .ok_or(VenusError::TooLarge("allocationSize"))?
            / align
            * align;
        let shm = match SharedMemory::new("venus-device-memory", size) {
            Ok(m) => Arc::new(m),
            Err(e) => {
                tracing::debug!(error = %e, size, "cannot allocate device memory as a memfd");
                return Ok(Some(vk::Result::ERROR_OUT_OF_HOST_MEMORY));
            }
        };
        let ptr = shm.mapping().as_ptr().cast::<std::ffi::c_void>();
        let inst = &self.instance()?.instance;
        let dev = self.device(dev_id)?;
        let host_fns = ash::ext::external_memory_host::Device::new(inst, dev);
        let mut props = vk::MemoryHostPointerPropertiesEXT::default();
        // SAFETY: valid device; `ptr` is our page-aligned mapping of `size` bytes.
        let r = unsafe {
            (host_fns.fp().get_memory_host_pointer_properties_ext)(
                dev.handle(),
                vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
                ptr,
                &mut props,
            )
        };
        if r != vk::Result::SUCCESS
            || props.memory_type_bits & (1 << info.memoryTypeIndex.min(31)) == 0
        {
            return Ok(None);
        }
        let mut import = vk::ImportMemoryHostPointerInfoEXT::default()
            .handle_type(vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT)
            .host_pointer(ptr);
        // Keep the guest's chain (dedicated allocation, flags, priority...) minus any export or
        // import requests, which cannot be combined with a host pointer import.
        // SAFETY: the decoder built the chain (arena memory, ours to relink).
        import.p_next =
            unsafe { relink_without(info.pNext, &[stype::EXPORT_MEMORY_ALLOCATE_INFO]) }
                .cast_const();
        // SAFETY: the import points at our mapping, kept alive in `memories` until after
        // vkFreeMemory; the rest of the chain was decoded into the arena.
        let (result, host) = unsafe {
            allocate_with_chain(
                dev,
                std::ptr::from_ref(&import).cast(),
                size,
                info.memoryTypeIndex,
            )
        };
        if result == vk::Result::SUCCESS {
            self.add_child_in(
                dev_id,
                id,
                vk::ObjectType::DEVICE_MEMORY.as_raw(),
                host.as_raw(),
                None,
            )?;
            self.memories.insert(
                id,
                Memory {
                    device: dev_id,
                    host,
                    size,
                    memory_type_index: info.memoryTypeIndex,
                    export: vk::ExternalMemoryHandleTypeFlags::empty(),
                    shm: Some(shm),
                    imported: None,
                },
            );
        }
        Ok(Some(result))
    }

    /// `minImportedHostPointerAlignment` of a device's physical device.
    fn host_pointer_alignment(&self, device: u64) -> Result<u64, VenusError> {
        let pd = *self
            .device_physical
            .get(&device)
            .ok_or(VenusError::UnknownObject {
                object_type: ot::DEVICE,
                id: device,
            })?;
        let inst = &self.instance()?.instance;
        let mut host_props = vk::PhysicalDeviceExternalMemoryHostPropertiesEXT::default();
        let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut host_props);
        // SAFETY: valid physical device; the chain is ours.
        unsafe { inst.get_physical_device_properties2(pd, &mut props) };
        Ok(host_props.min_imported_host_pointer_alignment)
    }

    /// Whether memory type `index` of a device is host-visible, and whether the device can
    /// export memory as an opaque fd.
    fn memory_type_info(&self, device: u64, index: u32) -> Result<(bool, bool), VenusError> {
        let pd = *self
            .device_physical
            .get(&device)
            .ok_or(VenusError::UnknownObject {
                object_type: ot::DEVICE,
                id: device,
            })?;
        let inst = &self.instance()?.instance;
        // SAFETY: valid physical device.
        let props = unsafe { inst.get_physical_device_memory_properties(pd) };
        let ty = props
            .memory_types_as_slice()
            .get(index as usize)
            .ok_or_else(|| VenusError::Invalid(format!("memory type {index} out of range")))?;
        let visible = ty
            .property_flags
            .contains(vk::MemoryPropertyFlags::HOST_VISIBLE);
        Ok((visible, self.memory_fd_devices.contains(&device)))
    }

    /// Exports device memory `id` for a blob of `size` bytes.
    pub(crate) fn export_memory(
        &self,
        id: u64,
        size: u64,
    ) -> Result<(OwnedFd, FdType), VenusError> {
        let mem = self.memories.get(&id).ok_or(VenusError::UnknownObject {
            object_type: vk::ObjectType::DEVICE_MEMORY.as_raw(),
            id,
        })?;
        if size > mem.size {
            return Err(VenusError::Invalid(format!(
                "blob of {size} bytes for {} bytes of memory",
                mem.size
            )));
        }
        if mem.imported.is_some() {
            return Err(VenusError::Invalid(
                "device memory imported from a resource is that resource already".into(),
            ));
        }
        if let Some(shm) = &mem.shm {
            let fd = shm
                .try_clone_fd()
                .map_err(|e| VenusError::Host(format!("dup of a device memory memfd: {e}")))?;
            return Ok((fd, FdType::Shm));
        }
        let (handle_type, fd_type) = if mem
            .export
            .contains(vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT)
        {
            (
                vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
                FdType::Dmabuf,
            )
        } else if mem
            .export
            .contains(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD)
        {
            (vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD, FdType::Opaque)
        } else {
            return Err(VenusError::Invalid(
                "device memory was not allocated exportable (not host-visible?)".into(),
            ));
        };
        let inst = &self.instance()?.instance;
        let dev = self.device(mem.device)?;
        let fns = ash::khr::external_memory_fd::Device::new(inst, dev);
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(mem.host)
            .handle_type(handle_type);
        // SAFETY: valid device and memory, allocated exportable with this handle type.
        let fd = unsafe { fns.get_memory_fd(&info) }
            .map_err(|e| VenusError::Host(format!("vkGetMemoryFdKHR: {e}")))?;
        tracing::debug!(id, size, ?handle_type, "device memory exported for a blob");
        // SAFETY: vkGetMemoryFdKHR hands us a new fd we own.
        Ok((unsafe { OwnedFd::from_raw_fd(fd) }, fd_type))
    }
}

impl State {
    /// What an importer of exported device memory `id` must match (upstream's
    /// `virgl_resource_vulkan_info`: device and driver UUIDs, allocation size, memory type).
    pub(crate) fn memory_vulkan_info(&self, id: u64) -> Result<VulkanInfo, VenusError> {
        let mem = self.memories.get(&id).ok_or(VenusError::UnknownObject {
            object_type: vk::ObjectType::DEVICE_MEMORY.as_raw(),
            id,
        })?;
        let pd = *self
            .device_physical
            .get(&mem.device)
            .ok_or(VenusError::UnknownObject {
                object_type: ot::DEVICE,
                id: mem.device,
            })?;
        let inst = &self.instance()?.instance;
        let mut ids = vk::PhysicalDeviceIDProperties::default();
        let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut ids);
        // SAFETY: valid physical device; the chain is ours.
        unsafe { inst.get_physical_device_properties2(pd, &mut props) };
        Ok(VulkanInfo {
            device_uuid: ids.device_uuid,
            driver_uuid: ids.driver_uuid,
            allocation_size: mem.size,
            memory_type_index: mem.memory_type_index,
        })
    }

    /// A CPU mapping of `len` bytes of device memory `id` exported as the OPAQUE_FD `fd`, for
    /// the blob's guest mapping (see [`crate::mapper`]).
    pub(crate) fn map_exported(
        &self,
        id: u64,
        fd: OwnedFd,
        len: u64,
    ) -> Result<virgl_resource::Mapping, VenusError> {
        let info = self.memory_vulkan_info(id)?;
        crate::mapper::map_opaque(
            &self.entry,
            crate::mapper::OpaqueMemory {
                device_uuid: info.device_uuid,
                allocation_size: info.allocation_size,
                memory_type_index: info.memory_type_index,
            },
            fd,
            len,
        )
    }
}

impl State {
    /// Waits until every queue of every device is idle (a virtio-gpu fence retires only when
    /// the queue work submitted before it is done).
    pub(crate) fn wait_queues_idle(&self) {
        for &(queue, dev) in self.queues.values() {
            if let Some(d) = self.devices.get(&dev) {
                // SAFETY: a queue of a live device.
                if let Err(e) = unsafe { d.queue_wait_idle(queue) } {
                    tracing::warn!(error = %e, "vkQueueWaitIdle failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(st: i32) -> vk::BaseOutStructure<'static> {
        vk::BaseOutStructure {
            s_type: vk::StructureType::from_raw(st),
            p_next: std::ptr::null_mut(),
            ..Default::default()
        }
    }

    #[test]
    fn chain_links_are_found_and_dropped() {
        let mut c = link(3);
        let mut b = link(stype::IMPORT_MEMORY_RESOURCE_INFO_MESA);
        let mut a = link(stype::EXPORT_MEMORY_ALLOCATE_INFO);
        b.p_next = &mut c;
        a.p_next = &mut b;
        let head = std::ptr::from_mut(&mut a).cast::<std::ffi::c_void>();
        // SAFETY: a chain of BaseOutStructures on this stack frame.
        unsafe {
            let found = find_link(head, stype::IMPORT_MEMORY_RESOURCE_INFO_MESA).unwrap();
            assert_eq!(found, std::ptr::from_mut(&mut b));
            assert!(find_link(head, 77).is_none());
            assert!(find_link(std::ptr::null_mut(), 3).is_none());
            let rest = relink_without(
                head,
                &[
                    stype::EXPORT_MEMORY_ALLOCATE_INFO,
                    stype::IMPORT_MEMORY_RESOURCE_INFO_MESA,
                ],
            );
            assert_eq!(rest, std::ptr::from_mut(&mut c).cast());
            assert_eq!(chain_stypes(rest), vec![3]);
            assert!(relink_without(rest, &[3]).is_null());
        }
    }

    #[test]
    fn alignment_is_checked() {
        assert_eq!(align_up(1, 4096).unwrap(), 4096);
        assert_eq!(align_up(4096, 4096).unwrap(), 4096);
        assert_eq!(align_up(0, 4096).unwrap(), 0);
        assert!(align_up(u64::MAX - 10, 4096).is_err());
    }
}
