//! One Venus context: its command streams (SUBMIT_CMD), rings, shared-memory resources and
//! host blobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use virgl_resource::{
    map_cache, Backing, BlobFlags, Context, ContextBlob, ContextError, FdMemory, FdType,
    FenceSignal, ResourceTable, SharedMemory,
};

use crate::dispatch::{ResourceFd, State};
use crate::images::BoundImages;
use crate::ring::{Ring, RingCreateInfo};
use crate::shm::Shm;
use crate::wire::Reader;
use crate::VenusError;

/// Capset id of Venus.
pub const CAPSET_VENUS: u32 = 4;

mod ty {
    pub const CREATE_RING: u32 = 188;
    pub const DESTROY_RING: u32 = 189;
    pub const NOTIFY_RING: u32 = 190;
    pub const WRITE_RING_EXTRA: u32 = 191;
    pub const SUBMIT_VIRTQUEUE_SEQNO: u32 = 251;
    pub const WAIT_VIRTQUEUE_SEQNO: u32 = 252;
    pub const WAIT_RING_SEQNO: u32 = 253;
}

/// A Venus context (upstream `vkr_context`).
pub struct VenusContext {
    ctx_id: u32,
    state: Arc<Mutex<State>>,
    rings: HashMap<u64, Ring>,
    fatal: Option<String>,
    fences: Vec<FenceSignal>,
    /// Image descriptions for blobs made before their memory was bound (shared with the
    /// backend, see [`crate::images`]).
    bound: Arc<BoundImages>,
}

impl VenusContext {
    pub fn new(ctx_id: u32, entry: Arc<ash::Entry>) -> Self {
        Self::with_bound_images(ctx_id, entry, Arc::default())
    }

    /// A context whose late image descriptions (binds after the blob) go to `bound`, where the
    /// holder of the resource table picks them up ([`BoundImages::apply`]).
    pub fn with_bound_images(ctx_id: u32, entry: Arc<ash::Entry>, bound: Arc<BoundImages>) -> Self {
        let mut state = State::new(entry);
        state.set_bound_images(ctx_id, bound.clone());
        Self {
            ctx_id,
            state: Arc::new(Mutex::new(state)),
            rings: HashMap::new(),
            fatal: None,
            fences: Vec::new(),
            bound,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Executes a context command stream (SUBMIT_CMD / SUBMIT_CMD2 payload).
    pub fn execute(&mut self, bytes: &[u8]) -> Result<(), VenusError> {
        let mut r = Reader::new(bytes);
        while r.remaining() > 0 {
            let ty_ = r.clone().u32()?;
            match ty_ {
                ty::CREATE_RING => {
                    r.u32()?;
                    r.u32()?;
                    let id = r.u64()?;
                    let info = RingCreateInfo::decode(&mut r)?;
                    if id == 0 || self.rings.contains_key(&id) {
                        return Err(VenusError::InvalidObjectId(id));
                    }
                    let shm = self
                        .state()
                        .shm
                        .get(&info.resource_id)
                        .cloned()
                        .ok_or_else(|| {
                            VenusError::Invalid(format!(
                                "ring in non-SHM resource {}",
                                info.resource_id
                            ))
                        })?;
                    let layout = info.validate(shm)?;
                    let ring = Ring::start(id, layout, self.state.clone())?;
                    tracing::debug!(ctx = self.ctx_id, ring = id, "venus ring created");
                    self.rings.insert(id, ring);
                }
                ty::DESTROY_RING => {
                    r.u32()?;
                    r.u32()?;
                    let id = r.u64()?;
                    self.rings.remove(&id).ok_or(VenusError::UnknownObject {
                        object_type: -1,
                        id,
                    })?;
                }
                ty::NOTIFY_RING => {
                    r.u32()?;
                    r.u32()?;
                    let id = r.u64()?;
                    let _seqno = r.u32()?;
                    let _flags = r.u32()?;
                    self.ring(id)?.notify();
                }
                ty::WRITE_RING_EXTRA => {
                    r.u32()?;
                    r.u32()?;
                    let id = r.u64()?;
                    let offset = r.u64()?;
                    let value = r.u32()?;
                    self.ring(id)?.write_extra(offset, value)?;
                }
                ty::SUBMIT_VIRTQUEUE_SEQNO => {
                    r.u32()?;
                    r.u32()?;
                    let id = r.u64()?;
                    let seqno = r.u64()?;
                    self.ring(id)?.submit_virtqueue_seqno(seqno);
                }
                ty::WAIT_RING_SEQNO => {
                    r.u32()?;
                    r.u32()?;
                    let id = r.u64()?;
                    let seqno = r.u64()?;
                    self.ring(id)?.wait_seqno(seqno)?;
                }
                ty::WAIT_VIRTQUEUE_SEQNO => {
                    return Err(VenusError::Invalid(
                        "vkWaitVirtqueueSeqnoMESA outside a ring".into(),
                    ))
                }
                _ => {
                    let state = self.state.clone();
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    st.execute_one(&mut r)?;
                }
            }
        }
        Ok(())
    }

    fn ring(&self, id: u64) -> Result<&Ring, VenusError> {
        self.rings.get(&id).ok_or(VenusError::UnknownObject {
            object_type: -1,
            id,
        })
    }

    /// Registers shared memory under a resource id (ours or the guest's).
    fn add_shm(&mut self, res_id: u32, shm: Shm) {
        self.state().shm.insert(res_id, Arc::new(shm));
    }

    fn fail(&mut self, e: VenusError) -> ContextError {
        let msg = e.to_string();
        tracing::error!(ctx = self.ctx_id, error = %msg, "venus context is fatal");
        self.fatal = Some(msg.clone());
        ContextError::InvalidCommand(msg)
    }
}

impl Drop for VenusContext {
    fn drop(&mut self) {
        // Stop ring threads before the state (and its Vulkan objects) goes.
        self.rings.clear();
        self.bound.forget_context(self.ctx_id);
    }
}

impl Context for VenusContext {
    fn ctx_id(&self) -> u32 {
        self.ctx_id
    }

    fn capset_id(&self) -> u32 {
        CAPSET_VENUS
    }

    fn submit_cmd(&mut self, table: &mut ResourceTable, cmd: &[u32]) -> Result<(), ContextError> {
        if let Some(msg) = &self.fatal {
            return Err(ContextError::Broken(msg.clone()));
        }
        if let Some((id, _)) = self.rings.iter().find(|(_, r)| r.is_fatal()) {
            let e = VenusError::Invalid(format!("ring {id:#x} died"));
            return Err(self.fail(e));
        }
        let bytes: Vec<u8> = cmd.iter().flat_map(|d| d.to_le_bytes()).collect();
        let result = self.execute(&bytes).map_err(|e| self.fail(e));
        // Images bound by this stream or by ring threads since the last call.
        self.bound.apply(table);
        result
    }

    fn attach_resource(&mut self, table: &mut ResourceTable, res_id: u32) {
        {
            let st = self.state();
            if st.shm.contains_key(&res_id) || st.resource_fds.contains_key(&res_id) {
                return;
            }
        }
        let Some(res) = table.get(res_id) else {
            return;
        };
        // dma-buf / OPAQUE_FD memory: a dup kept for VkImportMemoryResourceInfoMESA (commands
        // run without the resource table, possibly on a ring thread).
        if let Some(fd_type @ (FdType::Dmabuf | FdType::Opaque)) =
            res.backing().and_then(Backing::fd_type)
        {
            let memory = res.backing().and_then(Backing::fd_memory);
            match res.export() {
                Ok((_, fd)) => {
                    let entry = ResourceFd {
                        fd_type,
                        fd: Arc::new(fd),
                        size: memory.map_or(0, FdMemory::size),
                        vulkan_info: memory.and_then(FdMemory::vulkan_info).copied(),
                    };
                    self.state().resource_fds.insert(res_id, entry);
                }
                Err(e) => tracing::debug!(res_id, error = %e, "attached resource has no fd"),
            }
            return;
        }
        let fd = match res.backing() {
            Some(Backing::Shm(shm)) => shm.try_clone_fd().ok().map(|fd| (fd, shm.len())),
            Some(b) if b.fd_type() == Some(FdType::Shm) => b
                .fd_memory()
                .and_then(|m| m.export(res_id).ok().map(|(_, fd)| (fd, m.size()))),
            _ => None,
        };
        if let Some((fd, size)) = fd {
            match Shm::from_fd(fd, size) {
                Ok(shm) => self.add_shm(res_id, shm),
                Err(e) => tracing::warn!(res_id, error = %e, "cannot map SHM resource"),
            }
        }
    }

    fn detach_resource(&mut self, _table: &mut ResourceTable, res_id: u32) {
        let mut st = self.state();
        st.shm.remove(&res_id);
        st.resource_fds.remove(&res_id);
        st.blob_gone(res_id);
    }

    fn get_blob(
        &mut self,
        table: &mut ResourceTable,
        res_id: u32,
        blob_id: u64,
        size: u64,
        flags: BlobFlags,
    ) -> Result<ContextBlob, ContextError> {
        if blob_id != 0 {
            // Device memory (blob_id = the VkDeviceMemory id): our memfd (host-pointer import)
            // is plain shared memory; a driver's dma-buf is a dma-buf (mmap-able); a driver's
            // OPAQUE_FD stays opaque (what GL imports), with the Vulkan description importers
            // match and — the fd itself not being mmap-able (lavapipe's has a header before
            // the data) — a mapping made through Vulkan for the guest (crate::mapper).
            self.bound.apply(table);
            let mut st = self.state();
            let invalid = |e: VenusError| ContextError::InvalidCommand(e.to_string());
            let (fd, fd_type) = st.export_memory(blob_id, size).map_err(invalid)?;
            let mut memory = FdMemory::from_fd(fd_type, fd, size)?.with_map_info(map_cache::CACHED);
            if fd_type == FdType::Opaque {
                memory = memory.with_vulkan_info(st.memory_vulkan_info(blob_id).map_err(invalid)?);
                if flags.contains(BlobFlags::MAPPABLE) {
                    let (_, fd) = memory.export(res_id)?;
                    let mapping = st.map_exported(blob_id, fd, size).map_err(invalid)?;
                    memory = memory.with_mapping(mapping)?;
                }
            }
            // The image bound to the memory so far (binds after this come through `bound`).
            let image = st.blob_created(blob_id, res_id);
            return Ok(ContextBlob::Memory { memory, image });
        }
        if !flags.contains(BlobFlags::MAPPABLE) {
            return Err(ContextError::InvalidCommand(
                "Venus shared memory blob without MAPPABLE".into(),
            ));
        }
        let mem = SharedMemory::new("vkr-shmem", size)?;
        let fd = mem.try_clone_fd()?;
        let memory = FdMemory::from_fd(FdType::Shm, fd, size)?.with_map_info(map_cache::CACHED);
        self.add_shm(res_id, Shm::new(mem));
        Ok(ContextBlob::Memory {
            memory,
            image: None,
        })
    }

    fn submit_fence(
        &mut self,
        _flags: u32,
        ring_idx: u32,
        fence_id: u64,
    ) -> Result<(), ContextError> {
        // Commands run synchronously in submit_cmd; queue work submitted before this fence is
        // waited for here (simple and correct; an async fence thread would overlap better).
        self.state().wait_queues_idle();
        self.fences.push(FenceSignal { ring_idx, fence_id });
        Ok(())
    }

    fn retire_fences(&mut self) -> Vec<FenceSignal> {
        std::mem::take(&mut self.fences)
    }
}
