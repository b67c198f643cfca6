//! The Venus runtime on a real driver (lavapipe): streams encoded as Mesa encodes them run
//! through `VenusContext::execute`, checking the object bookkeeping of the generic command
//! path against hostile sequences — ids reused, unknown ids, commands on command buffers
//! whose pool is gone — and that host-visible device memory becomes a mappable blob whose
//! bytes are the memory.
//!
//! Needs lavapipe (`lvp_icd.json`); without it the test prints why and passes.

#[path = "../../../tests/support/venus_stream.rs"]
mod venus_stream;

use std::sync::Arc;

use venus_stream::Stream;
use virgl_resource::{BlobFlags, Context, ContextBlob, FdType, ResourceTable};
use virgl_venus::VenusContext;

const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";

const INSTANCE: u64 = 0x100;
const PHYSICAL: u64 = 0x200;
const DEVICE: u64 = 0x300;
/// `VK_BUFFER_USAGE_TRANSFER_DST_BIT`.
const TRANSFER_DST: u32 = 2;

fn create_instance_and_device(ctx: &mut VenusContext) {
    let mut s = Stream::default();
    s.instance_and_device(INSTANCE, PHYSICAL, DEVICE);
    ctx.execute(&s.take()).expect("instance and device");
}

#[test]
fn runtime_bookkeeping_on_lavapipe() {
    if !std::path::Path::new(LVP_ICD).exists() {
        eprintln!("SKIP venus runtime: {LVP_ICD} is not installed");
        return;
    }
    // The only test in this binary: the loader reads this when it loads.
    std::env::set_var("VK_DRIVER_FILES", LVP_ICD);
    // SAFETY: loading the system Vulkan loader.
    let entry = Arc::new(unsafe { ash::Entry::load() }.expect("libvulkan"));

    // Command buffers die with their pool: using one afterwards is an unknown-object error,
    // never a call on freed memory.
    let mut ctx = VenusContext::new(1, entry.clone());
    create_instance_and_device(&mut ctx);
    let mut s = Stream::default();
    s.create_command_pool(DEVICE, 0x400);
    s.allocate_command_buffers(DEVICE, 0x400, &[0x401, 0x402]);
    s.begin_command_buffer(0x401);
    ctx.execute(&s.take()).expect("pool, buffers, begin");
    s.cmd(86).u64(DEVICE).u64(0x400).u64(0);
    ctx.execute(&s.take()).expect("destroy pool");
    s.cmd(106).u64(0x402).u32(3).u32(1).u32(0).u32(0);
    let e = ctx.execute(&s.take()).unwrap_err();
    assert!(e.to_string().contains("unknown object"), "{e}");

    // Ids: reusing a live id, or 0, is refused; so is destroying what does not exist or
    // destroying with the wrong type.
    let mut ctx = VenusContext::new(2, entry.clone());
    create_instance_and_device(&mut ctx);
    s.create_buffer(DEVICE, 0x500, 4096, TRANSFER_DST);
    ctx.execute(&s.take()).expect("buffer");
    s.create_buffer(DEVICE, 0x500, 4096, TRANSFER_DST);
    assert!(ctx.execute(&s.take()).is_err(), "id reused");
    s.create_buffer(DEVICE, 0, 4096, TRANSFER_DST);
    assert!(ctx.execute(&s.take()).is_err(), "id 0");
    s.cmd(51).u64(DEVICE).u64(0x501).u64(0);
    assert!(ctx.execute(&s.take()).is_err(), "unknown buffer destroyed");
    s.cmd(22).u64(DEVICE).u64(0x500).u64(0);
    assert!(ctx.execute(&s.take()).is_err(), "buffer freed as memory");
    s.cmd(51).u64(DEVICE).u64(0x500).u64(0);
    ctx.execute(&s.take()).expect("destroy buffer");
    s.create_buffer(DEVICE, 0x500, 4096, TRANSFER_DST);
    ctx.execute(&s.take()).expect("id free again after destroy");

    // Device memory becomes a blob whose bytes are the memory: the guest's mapping and the
    // host's view (what the driver reads) are the same pages.
    s.allocate_memory(DEVICE, 0x600, 1000, 0);
    ctx.execute(&s.take()).expect("allocate memory");
    let mut table = ResourceTable::new();
    let blob = ctx
        .get_blob(&mut table, 7, 0x600, 1000, BlobFlags::MAPPABLE)
        .expect("device memory blob");
    let ContextBlob::Memory { memory, .. } = blob else {
        panic!("device memory blob is not memory");
    };
    assert_eq!(memory.size(), 1000);
    assert_eq!(memory.fd_type(), FdType::Shm, "guest-mappable memory");
    let (_, fd) = memory.export(7).expect("export");
    let file = std::fs::File::from(fd);
    assert!(file.metadata().unwrap().len() >= 1000);
    assert!(
        ctx.get_blob(&mut table, 8, 0x601, 1000, BlobFlags::MAPPABLE)
            .is_err(),
        "blob for unknown memory"
    );
    assert!(
        ctx.get_blob(&mut table, 9, 0x600, 1 << 20, BlobFlags::MAPPABLE)
            .is_err(),
        "blob larger than the memory"
    );
    s.cmd(22).u64(DEVICE).u64(0x600).u64(0);
    ctx.execute(&s.take()).expect("free memory");
    assert!(
        ctx.get_blob(&mut table, 10, 0x600, 1000, BlobFlags::MAPPABLE)
            .is_err(),
        "blob for freed memory"
    );
}
