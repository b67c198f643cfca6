use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;
use crate::backing::map_cache;
use crate::mem::{iovecs_over, SharedMemory};
use crate::wide::{ImportRequest, Importer, WideOrigin};

fn pipe_args(handle: u32) -> ResourceCreateArgs {
    ResourceCreateArgs {
        handle,
        target: 2,
        format: 1,
        width: 4,
        height: 4,
        depth: 1,
        array_size: 1,
        ..Default::default()
    }
}

fn shm_blob(id: u32, size: u64, flags: BlobFlags) -> Resource {
    let info = BlobInfo {
        blob_mem: BlobMem::Guest,
        blob_flags: flags,
        blob_id: 0,
        size,
    };
    Resource::blob(
        id,
        info,
        Backing::Shm(SharedMemory::new("t", size).unwrap()),
    )
    .unwrap()
}

/// A HOST3D blob whose host memory is a real memfd, as a backend would create it.
fn host_blob(id: u32, size: u64) -> (Resource, SharedMemory) {
    let host = SharedMemory::new("host3d", size).unwrap();
    let memory = FdMemory::from_fd(FdType::Shm, host.try_clone_fd().unwrap(), size)
        .unwrap()
        .with_map_info(map_cache::CACHED);
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE | BlobFlags::SHAREABLE,
        blob_id: 7,
        size,
    };
    let res = Resource::blob(
        id,
        info,
        Backing::HostBlob {
            memory,
            guest: None,
        },
    )
    .unwrap();
    (res, host)
}

#[test]
fn ids_zero_and_duplicates_are_refused() {
    let mut t = ResourceTable::new();
    assert!(matches!(
        t.insert_pipe(pipe_args(0)),
        Err(ResourceError::ZeroId)
    ));
    t.insert_pipe(pipe_args(5)).unwrap();
    assert!(matches!(
        t.insert_pipe(pipe_args(5)),
        Err(ResourceError::DuplicateId(5))
    ));
    assert_eq!(t.ids(), vec![5]);
    assert!(t.remove(5).is_some());
    assert!(t.remove(5).is_none());
    assert!(t.is_empty());
}

#[test]
fn contexts_see_only_attached_resources() {
    let mut t = ResourceTable::new();
    t.insert_pipe(pipe_args(1)).unwrap();
    t.insert_pipe(pipe_args(2)).unwrap();
    t.attach(10, 1).unwrap();
    t.attach(10, 1).unwrap();
    t.attach(11, 2).unwrap();
    assert!(t.lookup(10, 1).is_ok());
    assert!(matches!(
        t.lookup(10, 2),
        Err(ResourceError::NotAttached {
            ctx_id: 10,
            res_id: 2
        })
    ));
    assert!(matches!(t.lookup(10, 3), Err(ResourceError::UnknownId(3))));
    assert!(t.lookup_mut(11, 2).is_ok());
    assert!(matches!(
        t.attach(10, 99),
        Err(ResourceError::UnknownId(99))
    ));
    assert_eq!(t.attached_to(10), vec![1]);
    // Unknown detaches are no-ops.
    t.detach(10, 2);
    t.detach(10, 99);
    t.detach(12, 1);
    assert!(t.is_attached(10, 1));
    t.detach(10, 1);
    assert!(!t.is_attached(10, 1));
    // Removing a resource detaches it everywhere.
    t.remove(2);
    assert!(t.attached_to(11).is_empty());
    t.attach(11, 1).unwrap();
    t.forget_context(11);
    assert!(!t.is_attached(11, 1));
}

#[test]
fn iovec_backing_attach_detach_reattach() {
    let mut t = ResourceTable::new();
    t.insert_pipe(pipe_args(3)).unwrap();
    let mut bufs = vec![vec![0u8; 32], vec![0u8; 32]];
    let (raw, iov) = iovecs_over(&mut bufs);
    t.attach_backing(3, Backing::Iovecs(iov)).unwrap();
    let (raw2, iov2) = iovecs_over(&mut bufs);
    assert!(matches!(
        t.attach_backing(3, Backing::Iovecs(iov2)),
        Err(ResourceError::AlreadyBacked(3))
    ));
    t.require_mut(3)
        .unwrap()
        .backing_for_cpu()
        .unwrap()
        .write_at(30, &[1, 2, 3, 4])
        .unwrap();
    let back = t.detach_backing(3).unwrap();
    assert_eq!(back.raw_parts(), (raw.as_ptr(), 2));
    assert!(t.detach_backing(3).is_none());
    assert!(matches!(
        t.require_mut(3).unwrap().backing_for_cpu(),
        Err(ResourceError::NoBacking(3))
    ));
    // Re-attach the same pages.
    t.attach_backing(3, Backing::Iovecs(back)).unwrap();
    let mut out = [0u8; 4];
    t.get(3)
        .unwrap()
        .backing()
        .unwrap()
        .read_at(30, &mut out)
        .unwrap();
    assert_eq!(out, [1, 2, 3, 4]);
    assert!(matches!(
        t.attach_backing(9, Backing::Iovecs(raw2_iov(&raw2))),
        Err(ResourceError::UnknownId(9))
    ));
    t.remove(3);
    assert_eq!(bufs[0][30..], [1, 2]);
    assert_eq!(bufs[1][..2], [3, 4]);
}

fn raw2_iov(raw: &[libc::iovec]) -> crate::GuestIovecs {
    // SAFETY: `raw` points into the test's buffers, alive for the test.
    unsafe { crate::GuestIovecs::from_raw(raw.as_ptr(), raw.len()) }.unwrap()
}

#[test]
fn blob_kinds_and_their_checks() {
    let mut t = ResourceTable::new();
    // GUEST blob over iovecs.
    let mut bufs = vec![vec![0u8; 4096]];
    let (_raw, iov) = iovecs_over(&mut bufs);
    let info = BlobInfo {
        blob_mem: BlobMem::Guest,
        blob_flags: BlobFlags::empty(),
        blob_id: 0,
        size: 4096,
    };
    t.insert(Resource::blob(1, info, Backing::Iovecs(iov)).unwrap())
        .unwrap();
    assert!(matches!(
        t.get(1).unwrap().map_info(),
        Err(ResourceError::NoMapInfo(1))
    ));
    assert!(matches!(
        t.get(1).unwrap().export(),
        Err(ResourceError::NotExportable(1))
    ));
    // GUEST blob over shm (vtest).
    t.insert(shm_blob(2, 8192, BlobFlags::MAPPABLE)).unwrap();
    assert_eq!(t.get(2).unwrap().map_info().unwrap(), map_cache::CACHED);
    let (ty, fd) = t.get(2).unwrap().export().unwrap();
    assert_eq!(ty, FdType::Shm);
    assert_eq!(crate::mem::fd_size(fd.as_fd()).unwrap(), 8192);
    // HOST3D blob.
    let (res, host) = host_blob(3, 4096);
    t.insert(res).unwrap();
    let r = t.get_mut(3).unwrap();
    assert_eq!(r.map_info().unwrap(), map_cache::CACHED);
    let region = r.map().unwrap();
    assert_eq!(region.len, 4096);
    assert_eq!(r.map().unwrap(), region);
    r.backing_for_cpu().unwrap().write_at(0, b"blob").unwrap();
    assert_eq!(&host.as_slice()[..4], b"blob");
    r.unmap().unwrap();
    assert!(matches!(r.unmap(), Err(ResourceError::NotMapped(3))));
    // Imported fd and guest VRAM.
    let src = SharedMemory::new("import", 4096).unwrap();
    let imp = Resource::import(
        4,
        BlobMem::Host3d,
        FdType::Shm,
        src.try_clone_fd().unwrap(),
        4096,
    )
    .unwrap();
    t.insert(imp).unwrap();
    assert_eq!(
        t.get(4).unwrap().backing().unwrap().kind(),
        crate::BackingKind::Imported
    );
    let vram = Resource::import(
        5,
        BlobMem::GuestVram,
        FdType::Shm,
        src.try_clone_fd().unwrap(),
        4096,
    )
    .unwrap();
    t.insert(vram).unwrap();
    assert_eq!(
        t.get(5).unwrap().backing().unwrap().kind(),
        crate::BackingKind::GuestVram
    );
    // Non-MAPPABLE blobs refuse to map; iovec blobs are the VMM's to map.
    let mut nm = shm_blob(6, 4096, BlobFlags::empty());
    assert!(matches!(nm.map(), Err(ResourceError::BlobNotMappable(6))));
    // Mismatched kinds and sizes.
    let mismatch = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::empty(),
        blob_id: 0,
        size: 16,
    };
    assert!(Resource::blob(
        7,
        mismatch,
        Backing::Shm(SharedMemory::new("m", 16).unwrap())
    )
    .is_err());
    let big = BlobInfo {
        blob_mem: BlobMem::Guest,
        blob_flags: BlobFlags::empty(),
        blob_id: 0,
        size: 17,
    };
    assert!(matches!(
        Resource::blob(7, big, Backing::Shm(SharedMemory::new("m", 16).unwrap())),
        Err(ResourceError::OutOfBounds { .. })
    ));
    let zero = BlobInfo { size: 0, ..big };
    assert!(Resource::blob(7, zero, Backing::Shm(SharedMemory::new("m", 16).unwrap())).is_err());
    assert!(Resource::import(
        7,
        BlobMem::Guest,
        FdType::Shm,
        src.try_clone_fd().unwrap(),
        1
    )
    .is_err());
    assert!(Resource::import(
        7,
        BlobMem::Host3d,
        FdType::Shm,
        src.try_clone_fd().unwrap(),
        4097
    )
    .is_err());
    // Opaque-handle memory names the context that can export it.
    let handle = FdMemory::opaque_handle(9, 1234, 4096).unwrap();
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE,
        blob_id: 1,
        size: 4096,
    };
    let oh = Resource::blob(
        8,
        info,
        Backing::HostBlob {
            memory: handle,
            guest: None,
        },
    )
    .unwrap();
    assert!(matches!(
        oh.export(),
        Err(ResourceError::OpaqueHandle {
            res_id: 8,
            ctx_id: 9
        })
    ));
}

#[test]
fn quotas_count_and_bytes() {
    let mut t = ResourceTable::new();
    t.set_quota(
        1,
        Quota {
            max_resources: Some(2),
            max_host_bytes: Some(10_000),
        },
    );
    t.insert(shm_blob(1, 4096, BlobFlags::empty()).with_owner(1))
        .unwrap();
    assert!(matches!(
        t.insert(shm_blob(2, 8192, BlobFlags::empty()).with_owner(1)),
        Err(ResourceError::ByteQuota {
            ctx_id: 1,
            requested: 12288,
            limit: 10_000
        })
    ));
    t.insert(Resource::pipe(pipe_args(3)).with_owner(1))
        .unwrap();
    assert!(matches!(
        t.insert(Resource::pipe(pipe_args(4)).with_owner(1)),
        Err(ResourceError::ResourceQuota {
            ctx_id: 1,
            limit: 2
        })
    ));
    // The 4x4 BGRA texture is charged its 64 bytes of host storage.
    assert_eq!(
        t.usage(1),
        Usage {
            resources: 2,
            host_bytes: 4096 + 64
        }
    );
    // A backend charging its own allocation.
    assert!(matches!(
        t.charge_host_bytes(3, 6000),
        Err(ResourceError::ByteQuota { .. })
    ));
    t.charge_host_bytes(3, 5000).unwrap();
    assert_eq!(t.usage(1).host_bytes, 9160);
    assert!(t.charge_host_bytes(3, u64::MAX).is_err());
    // Other contexts use the default quota, and so does ctx 0, the renderer-wide account of
    // resources no context created.
    t.set_default_quota(Quota {
        max_resources: Some(1),
        max_host_bytes: None,
    });
    t.insert(Resource::pipe(pipe_args(5)).with_owner(2))
        .unwrap();
    assert!(t
        .insert(Resource::pipe(pipe_args(6)).with_owner(2))
        .is_err());
    t.insert(Resource::pipe(pipe_args(6))).unwrap();
    assert!(matches!(
        t.insert(Resource::pipe(pipe_args(7))),
        Err(ResourceError::ResourceQuota {
            ctx_id: 0,
            limit: 1
        })
    ));
    // Removal refunds.
    t.remove(3);
    assert_eq!(
        t.usage(1),
        Usage {
            resources: 1,
            host_bytes: 4096
        }
    );
    t.insert(shm_blob(2, 4096, BlobFlags::empty()).with_owner(1))
        .unwrap();
}

/// A test importer: maps the fd it is given (a real memfd) and keeps its first bytes, counting
/// imports and drops.
struct MapImporter {
    imports: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

struct Imported {
    prefix: Vec<u8>,
    fd_type: FdType,
    image: Option<ImageDesc>,
    drops: Arc<AtomicUsize>,
}

impl Drop for Imported {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

impl Importer for MapImporter {
    type Storage = Imported;

    fn import(&mut self, req: &ImportRequest<'_>) -> Result<Imported, String> {
        if req.fd_type != FdType::Shm {
            return Err(format!("cannot import {:?}", req.fd_type));
        }
        self.imports.fetch_add(1, Ordering::SeqCst);
        let shm = SharedMemory::from_fd(crate::mem::dup_fd(req.fd).unwrap(), req.size)
            .map_err(|e| e.to_string())?;
        Ok(Imported {
            prefix: shm.as_slice()[..8].to_vec(),
            fd_type: req.fd_type,
            image: req.image,
            drops: self.drops.clone(),
        })
    }
}

/// Storage a backend made itself (no import involved).
struct Own(u32);

#[test]
fn wide_lookup_own_global_and_imported() {
    let imports = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let mut t = ResourceTable::new();
    t.register_importer(MapImporter {
        imports: imports.clone(),
        drops: drops.clone(),
    });

    // A resource with our own storage: attached, then global.
    let mut own = Resource::pipe(pipe_args(1));
    own.private = Some(Box::new(Own(42)));
    t.insert(own).unwrap();
    t.attach(10, 1).unwrap();
    let w = t.lookup_wide::<Own>(10, 1).unwrap();
    assert_eq!((w.storage.0, w.origin), (42, WideOrigin::Attached));
    let w = t.lookup_wide::<Own>(11, 1).unwrap();
    assert_eq!(w.origin, WideOrigin::Global);
    assert!(!w.is_imported());

    // A Venus-style HOST3D blob created by another context: only external memory.
    let (mut res, mut host) = host_blob(2, 4096);
    res.image = Some(ImageDesc {
        width: 32,
        height: 32,
        format: 1,
        stride: 128,
        ..Default::default()
    });
    t.insert(res.with_owner(20)).unwrap();
    host.write_at(0, b"VKIMAGE!").unwrap();
    let w = t.lookup_wide::<Imported>(10, 2).unwrap();
    assert_eq!(w.origin, WideOrigin::Imported);
    assert_eq!(&w.storage.prefix, b"VKIMAGE!");
    assert_eq!(w.storage.fd_type, FdType::Shm);
    assert_eq!(w.storage.image.unwrap().stride, 128);
    assert_eq!(w.resource.id, 2);
    // Cached: the importer runs once.
    assert!(t.lookup_wide::<Imported>(11, 2).unwrap().is_imported());
    assert_eq!(imports.load(Ordering::SeqCst), 1);
    assert!(t.has_import::<Imported>(2));

    // Destroying the source drops the import (and its fd dup).
    t.remove(2);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(!t.has_import::<Imported>(2));
    assert!(matches!(
        t.lookup_wide::<Imported>(10, 2),
        Err(ResourceError::UnknownId(2))
    ));

    // A reused id starts from an empty cache.
    let (res, _host2) = host_blob(2, 4096);
    t.insert(res).unwrap();
    assert!(t.lookup_wide::<Imported>(10, 2).is_ok());
    assert_eq!(imports.load(Ordering::SeqCst), 2);

    // Not importable: iovec-backed, opaque handle, no importer for the type, importer refusal.
    let mut bufs = vec![vec![0u8; 64]];
    let (_raw, iov) = iovecs_over(&mut bufs);
    t.insert(Resource::pipe(pipe_args(3)).with_backing(Backing::Iovecs(iov)))
        .unwrap();
    assert!(matches!(
        t.lookup_wide::<Imported>(10, 3),
        Err(ResourceError::NotImportable(3, _))
    ));
    assert!(matches!(
        t.lookup_wide::<Own>(10, 2),
        Err(ResourceError::NotImportable(2, _))
    ));
    let opaque_src = SharedMemory::new("opaque", 4096).unwrap();
    let opaque = Resource::import(
        4,
        BlobMem::Host3d,
        FdType::Opaque,
        opaque_src.try_clone_fd().unwrap(),
        4096,
    )
    .unwrap();
    t.insert(opaque).unwrap();
    assert!(matches!(
        t.lookup_wide::<Imported>(10, 4),
        Err(ResourceError::ImportFailed { res_id: 4, .. })
    ));
    assert!(!t.has_import::<Imported>(4));
    assert!(matches!(
        t.lookup_wide::<Imported>(10, 77),
        Err(ResourceError::UnknownId(77))
    ));
    drop(t);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn blobs_from_context_get_blob() {
    use crate::context::ContextBlob;
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE,
        blob_id: 3,
        size: 4096,
    };
    // Venus-style: fd memory with Vulkan info.
    let host = SharedMemory::new("venus", 4096).unwrap();
    let memory = FdMemory::from_fd(FdType::Opaque, host.try_clone_fd().unwrap(), 4096)
        .unwrap()
        .with_vulkan_info(crate::VulkanInfo {
            allocation_size: 4096,
            memory_type_index: 2,
            ..Default::default()
        });
    let blob = ContextBlob::Memory {
        memory,
        image: None,
    };
    let res = Resource::from_context_blob(1, info, blob, None).unwrap();
    let fdm = res.backing().unwrap().fd_memory().unwrap();
    assert_eq!(fdm.vulkan_info().unwrap().memory_type_index, 2);
    assert_eq!(res.export().unwrap().0, FdType::Opaque);
    // vrend-style: backend storage, no fd.
    let blob = ContextBlob::Storage {
        args: pipe_args(2),
        private: Box::new(Own(9)),
    };
    let res = Resource::from_context_blob(2, info, blob, None).unwrap();
    assert_eq!(res.private_ref::<Own>().unwrap().0, 9);
    assert!(res.backing().is_none());
    assert!(matches!(res.export(), Err(ResourceError::NotExportable(2))));
    // HOST3D with iovecs, or HOST3D_GUEST without, is refused.
    let mut bufs = vec![vec![0u8; 4096]];
    let (_raw, iov) = iovecs_over(&mut bufs);
    let blob = ContextBlob::Storage {
        args: pipe_args(3),
        private: Box::new(Own(1)),
    };
    assert!(Resource::from_context_blob(3, info, blob, Some(iov)).is_err());
    let guest_info = BlobInfo {
        blob_mem: BlobMem::Host3dGuest,
        ..info
    };
    let blob = ContextBlob::Storage {
        args: pipe_args(3),
        private: Box::new(Own(1)),
    };
    assert!(Resource::from_context_blob(3, guest_info, blob, None).is_err());
    let (_raw2, iov2) = iovecs_over(&mut bufs);
    let blob = ContextBlob::Storage {
        args: pipe_args(3),
        private: Box::new(Own(1)),
    };
    let res = Resource::from_context_blob(3, guest_info, blob, Some(iov2)).unwrap();
    assert_eq!(res.backing().unwrap().kind(), crate::BackingKind::Iovecs);
}

#[test]
fn host_bytes_estimate_covers_levels_layers_and_samples() {
    let tex = |target, format, (width, height, depth), array_size, last_level, nr_samples| {
        ResourceCreateArgs {
            handle: 1,
            target,
            format,
            width,
            height,
            depth,
            array_size,
            last_level,
            nr_samples,
            ..Default::default()
        }
        .host_bytes_estimate()
    };
    // A buffer is its width in bytes.
    assert_eq!(tex(0, 0, (1000, 1, 1), 1, 0, 0), 1000);
    // 2D BGRA8 with a full mip chain: 16x16 + 8x8 + 4x4 + 2x2 + 1x1 texels of 4 bytes.
    assert_eq!(tex(2, 1, (16, 16, 1), 1, 4, 0), 4 * (256 + 64 + 16 + 4 + 1));
    // A 6-layer cube map, 4x multisampled.
    assert_eq!(tex(4, 1, (8, 8, 1), 6, 0, 4), 4 * 64 * 6 * 4);
    // 3D depth shrinks with the level; 2D array layers don't.
    assert_eq!(tex(3, 1, (4, 4, 4), 1, 1, 0), 4 * (64 + 4 * 2));
    assert_eq!(tex(7, 1, (4, 4, 1), 3, 1, 0), 4 * (16 + 4) * 3);
    // BC1 (DXT1_RGB, format 105): 8 bytes per 4x4 block.
    assert_eq!(tex(2, 105, (8, 8, 1), 1, 0, 0), 4 * 8);
    // An unknown format is bounded by 16 bytes a texel; hostile sizes saturate, never wrap.
    assert_eq!(tex(2, 0xffff, (2, 2, 1), 1, 0, 0), 64);
    assert_eq!(
        tex(
            3,
            1,
            (u32::MAX, u32::MAX, u32::MAX),
            u32::MAX,
            u32::MAX,
            u32::MAX
        ),
        u64::MAX
    );
}
