//! Images bound to device memory after its blob exists, by a command stream that runs without
//! the resource table (as ring threads run them): the description waits in the backend's
//! [`BoundImages`] until the table's holder applies it, and reaches only that blob. Images
//! whose layout the driver cannot tell (OPTIMAL tiling) are not described.
//!
//! Needs lavapipe (`lvp_icd.json`); without it the test prints why and passes.

#[path = "../../../tests/support/venus_stream.rs"]
mod venus_stream;

use std::sync::Arc;

use venus_stream::Stream;
use virgl_resource::{BlobFlags, BlobInfo, BlobMem, Context, ContextBlob, Resource, ResourceTable};
use virgl_venus::{BoundImages, VenusContext};

const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";
const CTX: u32 = 1;
const DEVICE: u64 = 0x300;
const LINEAR: u64 = 0x500;
const OPTIMAL: u64 = 0x501;
const MEMORY: u64 = 0x600;
const MEMORY_OPTIMAL: u64 = 0x601;
const SIZE: u64 = 64 * 1024;

/// The blob of `memory` as the renderer makes it: the context's memory, inserted in the table.
fn blob(ctx: &mut VenusContext, table: &mut ResourceTable, res_id: u32, memory: u64) {
    let flags = BlobFlags::SHAREABLE;
    let blob = ctx.get_blob(table, res_id, memory, SIZE, flags).unwrap();
    assert!(
        matches!(blob, ContextBlob::Memory { image: None, .. }),
        "nothing bound yet"
    );
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: flags,
        blob_id: memory,
        size: SIZE,
    };
    let resource = Resource::from_context_blob(res_id, info, blob, None).unwrap();
    table.insert(resource.with_owner(CTX)).unwrap();
}

#[test]
fn late_binds_wait_for_the_table() {
    if !std::path::Path::new(LVP_ICD).exists() {
        eprintln!("SKIP bound images: {LVP_ICD} is not installed");
        return;
    }
    // The only test in this binary: the loader reads this when it loads.
    std::env::set_var("VK_DRIVER_FILES", LVP_ICD);
    // SAFETY: loading the system Vulkan loader.
    let entry = Arc::new(unsafe { ash::Entry::load() }.expect("libvulkan"));
    let bound = Arc::new(BoundImages::default());
    let mut ctx = VenusContext::with_bound_images(CTX, entry, bound.clone());
    let mut table = ResourceTable::new();

    let mut s = Stream::default();
    s.instance_and_device(0x100, 0x200, DEVICE)
        .create_image(DEVICE, LINEAR, 44, (32, 16), 1)
        .create_image(DEVICE, OPTIMAL, 44, (32, 16), 0)
        .allocate_exportable_memory(DEVICE, MEMORY, SIZE, 0)
        .allocate_exportable_memory(DEVICE, MEMORY_OPTIMAL, SIZE, 0);
    ctx.execute(&s.take()).unwrap();
    blob(&mut ctx, &mut table, 5, MEMORY);
    blob(&mut ctx, &mut table, 6, MEMORY_OPTIMAL);

    s.bind_image_memory(DEVICE, LINEAR, MEMORY, 0)
        .bind_image_memory(DEVICE, OPTIMAL, MEMORY_OPTIMAL, 0);
    ctx.execute(&s.take()).unwrap();
    assert!(table.get(5).unwrap().image.is_none(), "no table yet");
    assert_eq!(
        bound.apply(&mut table),
        1,
        "only the LINEAR image is described"
    );
    let image = table.get(5).unwrap().image.unwrap();
    assert_eq!((image.width, image.height, image.format), (32, 16, 1));
    assert!(image.stride >= 32 * 4);
    assert!(table.get(6).unwrap().image.is_none());

    // A later blob of the same memory gets the image directly.
    let blob = ctx.get_blob(&mut table, 7, MEMORY, SIZE, BlobFlags::SHAREABLE);
    assert!(matches!(blob, Ok(ContextBlob::Memory { image: Some(i), .. }) if i == image));

    // Freed memory forgets its image: a rebind of the id is a new memory.
    s.cmd(22).u64(DEVICE).u64(MEMORY).u64(0);
    ctx.execute(&s.take()).unwrap();
    assert!(ctx
        .get_blob(&mut table, 8, MEMORY, SIZE, BlobFlags::SHAREABLE)
        .is_err());
    drop(ctx);
    assert!(bound.is_empty());
}
