//! Every fd this crate takes is closed exactly once: counted in /proc/self/fd.
//!
//! One test in its own binary, so no other test opens or closes fds while it counts.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use virgl_resource::{
    Backing, BlobFlags, BlobInfo, BlobMem, FdMemory, FdType, GuestMemory, ImportRequest, Importer,
    Resource, ResourceTable, SharedMemory,
};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// Keeps a dup of the fd it is given, as a GL/Vulkan import would.
struct DupImporter;

impl Importer for DupImporter {
    type Storage = OwnedFd;

    fn import(&mut self, req: &ImportRequest<'_>) -> Result<OwnedFd, String> {
        req.fd.try_clone_to_owned().map_err(|e| e.to_string())
    }
}

fn scenario() {
    let mut table = ResourceTable::new();
    table.register_importer(DupImporter);

    // vtest RESOURCE_CREATE2: shm, exported twice (the fds we hand out are the caller's).
    let info = BlobInfo {
        blob_mem: BlobMem::Guest,
        blob_flags: BlobFlags::MAPPABLE,
        blob_id: 0,
        size: 4096,
    };
    let shm = SharedMemory::new("fd-test", 4096).unwrap();
    table
        .insert(Resource::blob(1, info, Backing::Shm(shm)).unwrap())
        .unwrap();
    let (_, exported) = table.get(1).unwrap().export().unwrap();
    drop(exported);
    table.get_mut(1).unwrap().map().unwrap();

    // A HOST3D blob over a backend's memfd, mapped, exported, imported wide.
    let host = SharedMemory::new("host", 8192).unwrap();
    let memory = FdMemory::from_fd(FdType::Shm, host.try_clone_fd().unwrap(), 8192).unwrap();
    drop(host);
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::MAPPABLE,
        blob_id: 1,
        size: 8192,
    };
    table
        .insert(
            Resource::blob(
                2,
                info,
                Backing::HostBlob {
                    memory,
                    guest: None,
                },
            )
            .unwrap(),
        )
        .unwrap();
    table.get_mut(2).unwrap().map().unwrap();
    let (_, e) = table.get(2).unwrap().export().unwrap();
    assert!(e.as_raw_fd() >= 0);
    drop(e);
    let wide = table.lookup_wide::<OwnedFd>(7, 2).unwrap();
    assert!(wide.is_imported());
    assert!(wide.storage.as_fd().as_raw_fd() >= 0);

    // import_blob: the fd is owned from now on.
    let src = SharedMemory::new("import", 4096).unwrap();
    let res = Resource::import(
        3,
        BlobMem::Host3d,
        FdType::Shm,
        src.try_clone_fd().unwrap(),
        4096,
    )
    .unwrap();
    table.insert(res).unwrap();
    table.lookup_wide::<OwnedFd>(7, 3).unwrap();
    table
        .get_mut(3)
        .unwrap()
        .backing_for_cpu()
        .unwrap()
        .write_at(0, b"x")
        .unwrap();

    // Failures close what they took: a too-small SHM fd, a duplicate id.
    assert!(Resource::import(
        4,
        BlobMem::Host3d,
        FdType::Shm,
        src.try_clone_fd().unwrap(),
        1 << 20
    )
    .is_err());
    let dup = Resource::import(
        3,
        BlobMem::Host3d,
        FdType::Shm,
        src.try_clone_fd().unwrap(),
        4096,
    )
    .unwrap();
    assert!(table.insert(dup).is_err());
    drop(src);

    // Unref one resource explicitly, drop the table with the rest.
    table.remove(2);
    drop(table);
}

#[test]
fn every_fd_is_closed_exactly_once() {
    // Warm up whatever the runtime opens lazily.
    scenario();
    let before = open_fds();
    for _ in 0..20 {
        scenario();
    }
    assert_eq!(open_fds(), before, "fds leaked");
}
