//! Backing memory of a resource, whatever its kind, behind one copy interface.
//!
//! Kinds (upstream keeps them as loose fields of `struct virgl_resource`):
//! - guest iovecs ([`Backing::Iovecs`]): QEMU's attach_backing, GUEST blobs;
//! - shared memory ([`Backing::Shm`]): vtest RESOURCE_CREATE2 and vtest blobs;
//! - host blobs ([`Backing::HostBlob`]): HOST3D(_GUEST) memory a backend allocated and exposes as
//!   an fd (or an opaque handle), with its `map_info` cache type and Vulkan info;
//! - imported fds ([`Backing::Imported`]): `virgl_renderer_resource_import_blob`, render-server
//!   hand-overs;
//! - guest VRAM ([`Backing::GuestVram`]): an fd for the VMM's VRAM region (`BLOB_MEM_GUEST_VRAM`).
//!
//! [`GuestMemory`] is the uniform "length / read range / write range" interface the transfer
//! engine copies through, so it does not care which kind it has.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::error::{ResourceError, ResourceResult};
use crate::mem::{dup_fd, fd_size, GuestIovecs, Mapping, SharedMemory};

/// Byte-addressed memory a transfer can copy from and to.
///
/// Implementations check every range before copying; an out-of-range access copies nothing and
/// returns [`ResourceError::OutOfBounds`].
pub trait GuestMemory {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Copies `dst.len()` bytes starting at `offset` out of the memory.
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()>;
    /// Copies `src` into the memory starting at `offset`.
    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()>;
}

fn slice_range(offset: u64, len: usize, size: usize) -> ResourceResult<std::ops::Range<usize>> {
    let out = || ResourceError::OutOfBounds {
        what: "buffer",
        offset,
        len: len as u64,
        size: size as u64,
    };
    let start = usize::try_from(offset).map_err(|_| out())?;
    let end = start
        .checked_add(len)
        .filter(|&end| end <= size)
        .ok_or_else(out)?;
    Ok(start..end)
}

impl GuestMemory for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()> {
        let range = slice_range(offset, dst.len(), self.len())?;
        dst.copy_from_slice(&self[range]);
        Ok(())
    }
    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()> {
        let range = slice_range(offset, src.len(), self.len())?;
        self[range].copy_from_slice(src);
        Ok(())
    }
}

impl GuestMemory for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()> {
        self.as_slice().read_at(offset, dst)
    }
    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()> {
        self.as_mut_slice().write_at(offset, src)
    }
}

impl GuestMemory for GuestIovecs {
    fn size(&self) -> u64 {
        self.len()
    }
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()> {
        GuestIovecs::read_at(self, offset, dst)
    }
    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()> {
        GuestIovecs::write_at(self, offset, src)
    }
}

impl GuestMemory for Mapping {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()> {
        Mapping::read_at(self, offset, dst)
    }
    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()> {
        Mapping::write_at(self, offset, src)
    }
}

impl GuestMemory for SharedMemory {
    fn size(&self) -> u64 {
        self.len()
    }
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()> {
        SharedMemory::read_at(self, offset, dst)
    }
    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()> {
        SharedMemory::write_at(self, offset, src)
    }
}

/// What kind of memory an fd is (upstream `enum virgl_resource_fd_type`; the numbering is the
/// one the render-server protocol carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum FdType {
    /// A dma-buf.
    Dmabuf = 0,
    /// An opaque fd (Vulkan `OPAQUE_FD` memory): importable, not mappable by us.
    Opaque = 1,
    /// mmap-able shared memory (memfd, shm).
    Shm = 2,
    /// Not an fd: a handle (e.g. GEM) only the creating context can turn into one.
    OpaqueHandle = 3,
}

impl FdType {
    /// From upstream's internal / render-server value.
    pub fn from_raw(raw: u32) -> ResourceResult<Self> {
        match raw {
            0 => Ok(Self::Dmabuf),
            1 => Ok(Self::Opaque),
            2 => Ok(Self::Shm),
            3 => Ok(Self::OpaqueHandle),
            _ => Err(ResourceError::InvalidFdType(raw)),
        }
    }

    /// Upstream's internal / render-server value.
    pub fn raw(self) -> u32 {
        self as u32
    }

    /// From the C ABI's `VIRGL_RENDERER_BLOB_FD_TYPE_*` (DMABUF=1, OPAQUE=2, SHM=3).
    pub fn from_blob_fd_type(value: u32) -> ResourceResult<Self> {
        match value {
            1 => Ok(Self::Dmabuf),
            2 => Ok(Self::Opaque),
            3 => Ok(Self::Shm),
            _ => Err(ResourceError::InvalidFdType(value)),
        }
    }

    /// To the C ABI's `VIRGL_RENDERER_BLOB_FD_TYPE_*`; opaque handles have no ABI value.
    pub fn to_blob_fd_type(self) -> Option<u32> {
        match self {
            Self::Dmabuf => Some(1),
            Self::Opaque => Some(2),
            Self::Shm => Some(3),
            Self::OpaqueHandle => None,
        }
    }
}

/// `VIRGL_RENDERER_MAP_CACHE_*`: the cache type a mapping of the blob must use (map_info).
pub mod map_cache {
    /// Mask of the cache bits in map_info.
    pub const MASK: u32 = 0x0f;
    /// Not mappable / unknown.
    pub const NONE: u32 = 0;
    /// Write-back cached.
    pub const CACHED: u32 = 1;
    /// Uncached.
    pub const UNCACHED: u32 = 2;
    /// Write-combined.
    pub const WC: u32 = 3;
}

/// `VIRGL_RENDERER_BLOB_MEM_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum BlobMem {
    /// Guest memory (iovecs) only.
    Guest = 1,
    /// Host memory a context allocated.
    Host3d = 2,
    /// Host memory shadowing guest memory.
    Host3dGuest = 3,
    /// The VMM's guest VRAM region.
    GuestVram = 4,
}

impl BlobMem {
    /// From the wire/ABI value.
    pub fn from_raw(raw: u32) -> ResourceResult<Self> {
        match raw {
            1 => Ok(Self::Guest),
            2 => Ok(Self::Host3d),
            3 => Ok(Self::Host3dGuest),
            4 => Ok(Self::GuestVram),
            _ => Err(ResourceError::InvalidArgument("unknown blob_mem")),
        }
    }
}

bitflags::bitflags! {
    /// `VIRGL_RENDERER_BLOB_FLAG_*`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct BlobFlags: u32 {
        /// The guest may map the blob.
        const MAPPABLE = 1;
        /// The blob may be shared with other contexts/processes.
        const SHAREABLE = 2;
        /// The blob may be shared with other devices.
        const CROSS_DEVICE = 4;
    }
}

/// `struct virgl_resource_vulkan_info`: what a Vulkan importer needs to match the memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VulkanInfo {
    pub device_uuid: [u8; 16],
    pub driver_uuid: [u8; 16],
    pub allocation_size: u64,
    pub memory_type_index: u32,
}

/// How fd-backed memory is held.
#[derive(Debug)]
pub enum MemoryHandle {
    /// A real fd, owned (closed exactly once, when this value drops).
    Fd(OwnedFd),
    /// An opaque handle of context `ctx_id` (upstream `VIRGL_RESOURCE_OPAQUE_HANDLE`).
    OpaqueHandle { ctx_id: u32, handle: u32 },
}

/// Memory that lives behind an fd (or opaque handle): host blobs, imports, guest VRAM.
#[derive(Debug)]
pub struct FdMemory {
    handle: MemoryHandle,
    fd_type: FdType,
    size: u64,
    map_info: u32,
    vulkan_info: Option<VulkanInfo>,
    mapping: Option<Mapping>,
    /// The mapping was given by the creator ([`FdMemory::with_mapping`]) and stays until drop.
    pinned_mapping: bool,
}

impl FdMemory {
    /// Takes ownership of `fd` holding `size` bytes of `fd_type` memory.
    ///
    /// For `Shm` the file size is checked with `fstat`, so a later mapping cannot fault.
    /// `OpaqueHandle` is refused here: use [`FdMemory::opaque_handle`].
    pub fn from_fd(fd_type: FdType, fd: OwnedFd, size: u64) -> ResourceResult<Self> {
        if size == 0 {
            return Err(ResourceError::InvalidArgument("fd memory of size 0"));
        }
        match fd_type {
            FdType::OpaqueHandle => {
                return Err(ResourceError::InvalidArgument(
                    "opaque handle given as an fd",
                ))
            }
            FdType::Shm => {
                let actual = fd_size(fd.as_fd())?;
                if actual < size {
                    return Err(ResourceError::FdTooSmall {
                        actual,
                        needed: size,
                    });
                }
            }
            FdType::Dmabuf | FdType::Opaque => {}
        }
        Ok(Self {
            handle: MemoryHandle::Fd(fd),
            fd_type,
            size,
            map_info: map_cache::NONE,
            vulkan_info: None,
            mapping: None,
            pinned_mapping: false,
        })
    }

    /// Memory known only as context `ctx_id`'s opaque handle.
    pub fn opaque_handle(ctx_id: u32, handle: u32, size: u64) -> ResourceResult<Self> {
        if size == 0 {
            return Err(ResourceError::InvalidArgument("fd memory of size 0"));
        }
        Ok(Self {
            handle: MemoryHandle::OpaqueHandle { ctx_id, handle },
            fd_type: FdType::OpaqueHandle,
            size,
            map_info: map_cache::NONE,
            vulkan_info: None,
            mapping: None,
            pinned_mapping: false,
        })
    }

    /// Sets the `VIRGL_RENDERER_MAP_CACHE_*` value the creator reported.
    pub fn with_map_info(mut self, map_info: u32) -> Self {
        self.map_info = map_info;
        self
    }

    /// Gives memory that only its creator can map (Vulkan `OPAQUE_FD` memory: the creator maps
    /// it with `vkMapMemory`) the creator's mapping. It is what [`FdMemory::map`] returns and
    /// stays until this value drops ([`FdMemory::unmap`] keeps it). Must cover `size` bytes.
    pub fn with_mapping(mut self, mapping: Mapping) -> ResourceResult<Self> {
        if (mapping.len() as u64) < self.size {
            return Err(ResourceError::InvalidArgument(
                "creator's mapping is smaller than the memory",
            ));
        }
        self.mapping = Some(mapping);
        self.pinned_mapping = true;
        Ok(self)
    }

    /// Attaches the Vulkan description of the memory.
    pub fn with_vulkan_info(mut self, info: VulkanInfo) -> Self {
        self.vulkan_info = Some(info);
        self
    }

    pub fn fd_type(&self) -> FdType {
        self.fd_type
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn map_info(&self) -> u32 {
        self.map_info
    }

    pub fn vulkan_info(&self) -> Option<&VulkanInfo> {
        self.vulkan_info.as_ref()
    }

    pub fn handle(&self) -> &MemoryHandle {
        &self.handle
    }

    /// The fd, borrowed; `None` for opaque handles.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.handle {
            MemoryHandle::Fd(fd) => Some(fd.as_fd()),
            MemoryHandle::OpaqueHandle { .. } => None,
        }
    }

    /// A new fd for the same memory (the caller owns it) and its type.
    ///
    /// Opaque handles fail with [`ResourceError::OpaqueHandle`] naming the context that can
    /// export them; `res_id` is only used for that message.
    pub fn export(&self, res_id: u32) -> ResourceResult<(FdType, OwnedFd)> {
        match &self.handle {
            MemoryHandle::Fd(fd) => Ok((self.fd_type, dup_fd(fd.as_fd())?)),
            MemoryHandle::OpaqueHandle { ctx_id, .. } => Err(ResourceError::OpaqueHandle {
                res_id,
                ctx_id: *ctx_id,
            }),
        }
    }

    /// Maps the memory into this process (idempotent). Only SHM and dma-buf fds are mappable
    /// here; OPAQUE (Vulkan) memory and opaque handles must be mapped by their backend, which
    /// hands its mapping over with [`FdMemory::with_mapping`].
    pub fn map(&mut self) -> ResourceResult<&Mapping> {
        if self.mapping.is_none() {
            let fd = match (&self.handle, self.fd_type) {
                (MemoryHandle::Fd(fd), FdType::Shm | FdType::Dmabuf) => fd,
                (_, FdType::Opaque) => {
                    return Err(ResourceError::NotMappable("OPAQUE fd: the backend maps it"))
                }
                _ => return Err(ResourceError::NotMappable("opaque handle")),
            };
            self.mapping = Some(Mapping::new(fd.as_fd(), self.size)?);
        }
        Ok(self.mapping.as_ref().expect("mapping was just set"))
    }

    /// Drops the mapping (a creator's mapping stays); returns false if there was none.
    pub fn unmap(&mut self) -> bool {
        if self.pinned_mapping {
            return self.mapping.is_some();
        }
        self.mapping.take().is_some()
    }

    /// The current mapping, if mapped.
    pub fn mapping(&self) -> Option<&Mapping> {
        self.mapping.as_ref()
    }

    fn mapping_for_copy(&self) -> ResourceResult<&Mapping> {
        self.mapping
            .as_ref()
            .ok_or(ResourceError::NotMappable("fd memory is not mapped"))
    }

    fn mapping_for_copy_mut(&mut self) -> ResourceResult<&mut Mapping> {
        self.mapping
            .as_mut()
            .ok_or(ResourceError::NotMappable("fd memory is not mapped"))
    }
}

/// Which kind a [`Backing`] is, for logs and for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackingKind {
    Iovecs,
    Shm,
    HostBlob,
    Imported,
    GuestVram,
}

/// The memory behind a resource.
#[derive(Debug)]
pub enum Backing {
    /// Guest pages handed over by the VMM.
    Iovecs(GuestIovecs),
    /// memfd shared with a vtest client.
    Shm(SharedMemory),
    /// Host memory a backend created (HOST3D); for HOST3D_GUEST also the guest pages it shadows,
    /// which are then what CPU copies use.
    HostBlob {
        memory: FdMemory,
        guest: Option<GuestIovecs>,
    },
    /// Memory imported from an fd.
    Imported(FdMemory),
    /// The VMM's guest VRAM region.
    GuestVram(FdMemory),
}

impl Backing {
    pub fn kind(&self) -> BackingKind {
        match self {
            Self::Iovecs(_) => BackingKind::Iovecs,
            Self::Shm(_) => BackingKind::Shm,
            Self::HostBlob { .. } => BackingKind::HostBlob,
            Self::Imported(_) => BackingKind::Imported,
            Self::GuestVram(_) => BackingKind::GuestVram,
        }
    }

    /// The fd-backed part, if any.
    pub fn fd_memory(&self) -> Option<&FdMemory> {
        match self {
            Self::HostBlob { memory, .. } | Self::Imported(memory) | Self::GuestVram(memory) => {
                Some(memory)
            }
            Self::Iovecs(_) | Self::Shm(_) => None,
        }
    }

    /// The fd-backed part, mutably.
    pub fn fd_memory_mut(&mut self) -> Option<&mut FdMemory> {
        match self {
            Self::HostBlob { memory, .. } | Self::Imported(memory) | Self::GuestVram(memory) => {
                Some(memory)
            }
            Self::Iovecs(_) | Self::Shm(_) => None,
        }
    }

    /// The `fd_type` an export would report, if the backing can be exported.
    pub fn fd_type(&self) -> Option<FdType> {
        match self {
            Self::Shm(_) => Some(FdType::Shm),
            Self::Iovecs(_) => None,
            _ => self.fd_memory().map(FdMemory::fd_type),
        }
    }

    /// The map_info: SHM is ordinary cached memory; fd memory reports what its creator said.
    pub fn map_info(&self) -> u32 {
        match self {
            Self::Shm(_) => map_cache::CACHED,
            Self::Iovecs(_) => map_cache::NONE,
            _ => self.fd_memory().map_or(map_cache::NONE, FdMemory::map_info),
        }
    }

    /// Makes the backing CPU-accessible for [`GuestMemory`] copies (maps fd memory; a no-op for
    /// iovecs, shm and HOST3D_GUEST blobs, whose guest pages are used).
    pub fn prepare_cpu_access(&mut self) -> ResourceResult<()> {
        match self {
            Self::Iovecs(_) | Self::Shm(_) | Self::HostBlob { guest: Some(_), .. } => Ok(()),
            Self::HostBlob {
                memory,
                guest: None,
            }
            | Self::Imported(memory)
            | Self::GuestVram(memory) => memory.map().map(drop),
        }
    }

    fn memory(&self) -> ResourceResult<&dyn GuestMemory> {
        Ok(match self {
            Self::Iovecs(iov)
            | Self::HostBlob {
                guest: Some(iov), ..
            } => iov,
            Self::Shm(shm) => shm,
            Self::HostBlob {
                memory,
                guest: None,
            }
            | Self::Imported(memory)
            | Self::GuestVram(memory) => memory.mapping_for_copy()?,
        })
    }

    fn memory_mut(&mut self) -> ResourceResult<&mut dyn GuestMemory> {
        Ok(match self {
            Self::Iovecs(iov)
            | Self::HostBlob {
                guest: Some(iov), ..
            } => iov,
            Self::Shm(shm) => shm,
            Self::HostBlob {
                memory,
                guest: None,
            }
            | Self::Imported(memory)
            | Self::GuestVram(memory) => memory.mapping_for_copy_mut()?,
        })
    }
}

impl GuestMemory for Backing {
    /// The byte size: the guest pages for iovec kinds, the memory size otherwise.
    fn size(&self) -> u64 {
        match self {
            Self::Iovecs(iov)
            | Self::HostBlob {
                guest: Some(iov), ..
            } => iov.len(),
            Self::Shm(shm) => shm.len(),
            Self::HostBlob {
                memory,
                guest: None,
            }
            | Self::Imported(memory)
            | Self::GuestVram(memory) => memory.size(),
        }
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()> {
        self.memory()?.read_at(offset, dst)
    }

    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()> {
        self.memory_mut()?.write_at(offset, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::iovecs_over;

    #[test]
    fn fd_type_numbering() {
        for raw in 0..4 {
            assert_eq!(FdType::from_raw(raw).unwrap().raw(), raw);
        }
        assert!(FdType::from_raw(4).is_err());
        assert!(FdType::from_raw(u32::MAX).is_err());
        for abi in 1..4 {
            let t = FdType::from_blob_fd_type(abi).unwrap();
            assert_eq!(t.to_blob_fd_type(), Some(abi));
        }
        assert!(FdType::from_blob_fd_type(0).is_err());
        assert_eq!(FdType::OpaqueHandle.to_blob_fd_type(), None);
        assert!(BlobMem::from_raw(0).is_err());
        assert_eq!(BlobMem::from_raw(4).unwrap(), BlobMem::GuestVram);
    }

    #[test]
    fn every_kind_copies_through_one_interface() {
        let mut bufs = vec![vec![0u8; 7], vec![0u8; 9]];
        let (_raw, iov) = iovecs_over(&mut bufs);
        let shm = SharedMemory::new("b", 16).unwrap();
        let host = SharedMemory::new("host", 16).unwrap();
        let host_fd = FdMemory::from_fd(FdType::Shm, host.try_clone_fd().unwrap(), 16).unwrap();
        let imp = SharedMemory::new("imp", 16).unwrap();
        let imp_fd = FdMemory::from_fd(FdType::Shm, imp.try_clone_fd().unwrap(), 16).unwrap();
        let vram = SharedMemory::new("vram", 16).unwrap();
        let vram_fd = FdMemory::from_fd(FdType::Shm, vram.try_clone_fd().unwrap(), 16)
            .unwrap()
            .with_map_info(map_cache::WC);
        let mut all = vec![
            Backing::Iovecs(iov),
            Backing::Shm(shm),
            Backing::HostBlob {
                memory: host_fd,
                guest: None,
            },
            Backing::Imported(imp_fd),
            Backing::GuestVram(vram_fd),
        ];
        for backing in &mut all {
            assert_eq!(backing.size(), 16);
            backing.prepare_cpu_access().unwrap();
            let data: Vec<u8> = (1..=16).collect();
            backing.write_at(0, &data).unwrap();
            let mut out = [0u8; 10];
            backing.read_at(5, &mut out).unwrap();
            assert_eq!(out[..], data[5..15]);
            assert!(backing.write_at(10, &[0; 7]).is_err());
        }
        assert_eq!(all[4].map_info(), map_cache::WC);
        assert_eq!(all[1].map_info(), map_cache::CACHED);
        assert_eq!(all[0].fd_type(), None);
        assert_eq!(all[3].fd_type(), Some(FdType::Shm));
        // The host blob memory really is the memfd the backend created.
        let mut check = [0u8; 4];
        host.read_at(0, &mut check).unwrap();
        assert_eq!(check, [1, 2, 3, 4]);
        drop(all);
        assert_eq!(bufs[1][0], 8);
    }

    #[test]
    fn unmapped_and_unmappable_fd_memory() {
        let shm = SharedMemory::new("x", 64).unwrap();
        let mut opaque =
            FdMemory::from_fd(FdType::Opaque, shm.try_clone_fd().unwrap(), 64).unwrap();
        assert!(matches!(opaque.map(), Err(ResourceError::NotMappable(_))));
        let backing = Backing::Imported(opaque);
        let mut out = [0u8; 1];
        assert!(matches!(
            backing.read_at(0, &mut out),
            Err(ResourceError::NotMappable(_))
        ));
        let mut handle = FdMemory::opaque_handle(3, 77, 64).unwrap();
        assert!(handle.map().is_err());
        assert!(matches!(
            handle.export(9),
            Err(ResourceError::OpaqueHandle {
                res_id: 9,
                ctx_id: 3
            })
        ));
        assert!(FdMemory::from_fd(FdType::Shm, shm.try_clone_fd().unwrap(), 65).is_err());
        assert!(FdMemory::from_fd(FdType::Shm, shm.try_clone_fd().unwrap(), 0).is_err());
        assert!(FdMemory::from_fd(FdType::OpaqueHandle, shm.try_clone_fd().unwrap(), 1).is_err());
    }

    #[test]
    fn creator_mapping_of_opaque_memory_is_kept_until_drop() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        /// Holds the memory (as a driver holds its allocation) and notes its release.
        struct Owner {
            _memory: SharedMemory,
            dropped: Arc<AtomicBool>,
        }
        impl Drop for Owner {
            fn drop(&mut self) {
                self.dropped.store(true, Ordering::SeqCst);
            }
        }
        let shm = SharedMemory::new("creator", 4096).unwrap();
        let ptr = shm.mapping().as_ptr();
        let dropped = Arc::new(AtomicBool::new(false));
        let fd = shm.try_clone_fd().unwrap();
        let owner = Box::new(Owner {
            _memory: shm,
            dropped: dropped.clone(),
        });
        // SAFETY: the owner holds the SharedMemory whose 4096-byte mapping `ptr` is.
        let mapping = unsafe { Mapping::from_owner(ptr, 4096, owner) }.unwrap();
        let too_small = FdMemory::from_fd(FdType::Opaque, dup_fd(fd.as_fd()).unwrap(), 8192)
            .unwrap()
            .with_mapping(mapping);
        assert!(too_small.is_err());
        assert!(
            dropped.load(Ordering::SeqCst),
            "a refused mapping is released"
        );

        let shm = SharedMemory::new("creator", 4096).unwrap();
        let ptr = shm.mapping().as_ptr();
        let dropped = Arc::new(AtomicBool::new(false));
        let owner = Box::new(Owner {
            _memory: shm,
            dropped: dropped.clone(),
        });
        // SAFETY: as above.
        let mapping = unsafe { Mapping::from_owner(ptr, 4096, owner) }.unwrap();
        let memory = FdMemory::from_fd(FdType::Opaque, fd, 4000)
            .unwrap()
            .with_mapping(mapping)
            .unwrap();
        let mut b = Backing::HostBlob {
            memory,
            guest: None,
        };
        b.prepare_cpu_access().unwrap();
        b.write_at(10, &[1, 2, 3]).unwrap();
        let m = b.fd_memory_mut().unwrap();
        assert_eq!(
            m.map().unwrap().as_ptr(),
            ptr,
            "map returns the creator's mapping"
        );
        assert!(m.unmap());
        assert!(m.mapping().is_some(), "unmap keeps a creator's mapping");
        let mut out = [0u8; 3];
        b.read_at(10, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
        assert!(!dropped.load(Ordering::SeqCst));
        drop(b);
        assert!(
            dropped.load(Ordering::SeqCst),
            "the owner goes with the memory"
        );
    }

    #[test]
    fn host3d_guest_copies_use_guest_pages() {
        let mut bufs = vec![vec![0u8; 8]];
        let (_raw, iov) = iovecs_over(&mut bufs);
        let shm = SharedMemory::new("h", 8).unwrap();
        let memory = FdMemory::from_fd(FdType::Shm, shm.try_clone_fd().unwrap(), 8).unwrap();
        let mut b = Backing::HostBlob {
            memory,
            guest: Some(iov),
        };
        b.write_at(0, &[5; 8]).unwrap();
        drop(b);
        assert_eq!(bufs[0], [5; 8]);
        assert!(shm.as_slice().iter().all(|&x| x == 0));
    }
}
