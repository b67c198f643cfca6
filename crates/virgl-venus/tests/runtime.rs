//! The Venus runtime on a real driver (lavapipe): streams encoded as Mesa encodes them run
//! through `VenusContext::execute`, checking the object bookkeeping of the generic command
//! path against hostile sequences — ids reused, unknown ids, commands on command buffers
//! whose pool is gone — and that host-visible device memory becomes a mappable blob whose
//! bytes are the memory.
//!
//! Needs lavapipe (`lvp_icd.json`); without it the test prints why and passes.

use std::sync::Arc;

use virgl_resource::{BlobFlags, Context, ContextBlob, FdType, ResourceTable};
use virgl_venus::VenusContext;

const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";

/// A command stream under construction (every item 4-byte aligned, little endian).
#[derive(Default)]
struct Stream(Vec<u8>);

impl Stream {
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn f32(&mut self, v: f32) -> &mut Self {
        self.u32(v.to_bits())
    }
    /// Command header, no reply.
    fn cmd(&mut self, ty: u32) -> &mut Self {
        self.u32(ty).u32(0)
    }
    /// `pAllocator` (always NULL) then an out handle `1, id`.
    fn alloc_and_out(&mut self, id: u64) -> &mut Self {
        self.u64(0).u64(1).u64(id)
    }
    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

const INSTANCE: u64 = 0x100;
const PHYSICAL: u64 = 0x200;
const DEVICE: u64 = 0x300;

fn create_instance_and_device(ctx: &mut VenusContext) {
    let mut s = Stream::default();
    // vkCreateInstance: VkInstanceCreateInfo {sType 1, pNext, flags, pApplicationInfo, layers,
    // extensions}.
    s.cmd(0).u64(1).u32(1).u64(0).u32(0).u64(0);
    s.u32(0).u64(0).u32(0).u64(0);
    s.alloc_and_out(INSTANCE);
    // vkEnumeratePhysicalDevices(instance, count = 1, [PHYSICAL]).
    s.cmd(2).u64(INSTANCE).u64(1).u32(1).u64(1).u64(PHYSICAL);
    // vkCreateDevice: one queue of family 0.
    s.cmd(11).u64(PHYSICAL).u64(1).u32(3).u64(0).u32(0).u32(1);
    s.u64(1).u32(2).u64(0).u32(0).u32(0).u32(1).u64(1).f32(1.0);
    s.u32(0).u64(0).u32(0).u64(0).u64(0);
    s.alloc_and_out(DEVICE);
    ctx.execute(&s.take()).expect("instance and device");
}

fn create_command_pool(s: &mut Stream, id: u64) {
    s.cmd(85).u64(DEVICE).u64(1).u32(39).u64(0).u32(0).u32(0);
    s.alloc_and_out(id);
}

fn allocate_command_buffers(s: &mut Stream, pool: u64, ids: &[u64]) {
    s.cmd(88).u64(DEVICE).u64(1).u32(40).u64(0).u64(pool).u32(0);
    s.u32(ids.len() as u32).u64(ids.len() as u64);
    for &id in ids {
        s.u64(id);
    }
}

fn begin_command_buffer(s: &mut Stream, cb: u64) {
    // VkCommandBufferBeginInfo {sType 42, pNext, flags, pInheritanceInfo NULL}.
    s.cmd(90).u64(cb).u64(1).u32(42).u64(0).u32(0).u64(0);
}

fn create_buffer(s: &mut Stream, id: u64) {
    // VkBufferCreateInfo {sType 12, pNext, flags, size, usage TRANSFER_DST, exclusive, 0, NULL}.
    s.cmd(50)
        .u64(DEVICE)
        .u64(1)
        .u32(12)
        .u64(0)
        .u32(0)
        .u64(4096)
        .u32(2);
    s.u32(0).u32(0).u64(0);
    s.alloc_and_out(id);
}

fn allocate_memory(s: &mut Stream, id: u64, size: u64) {
    s.cmd(21).u64(DEVICE).u64(1).u32(5).u64(0).u64(size).u32(0);
    s.alloc_and_out(id);
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
    create_command_pool(&mut s, 0x400);
    allocate_command_buffers(&mut s, 0x400, &[0x401, 0x402]);
    begin_command_buffer(&mut s, 0x401);
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
    create_buffer(&mut s, 0x500);
    ctx.execute(&s.take()).expect("buffer");
    create_buffer(&mut s, 0x500);
    assert!(ctx.execute(&s.take()).is_err(), "id reused");
    create_buffer(&mut s, 0);
    assert!(ctx.execute(&s.take()).is_err(), "id 0");
    s.cmd(51).u64(DEVICE).u64(0x501).u64(0);
    assert!(ctx.execute(&s.take()).is_err(), "unknown buffer destroyed");
    s.cmd(22).u64(DEVICE).u64(0x500).u64(0);
    assert!(ctx.execute(&s.take()).is_err(), "buffer freed as memory");
    s.cmd(51).u64(DEVICE).u64(0x500).u64(0);
    ctx.execute(&s.take()).expect("destroy buffer");
    create_buffer(&mut s, 0x500);
    ctx.execute(&s.take()).expect("id free again after destroy");

    // Device memory becomes a blob whose bytes are the memory: the guest's mapping and the
    // host's view (what the driver reads) are the same pages.
    allocate_memory(&mut s, 0x600, 1000);
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
