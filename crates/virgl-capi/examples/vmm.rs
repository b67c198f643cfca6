//! How a Rust VMM's virtio-gpu device embeds virgl-rs through the safe [`Renderer`] API, without
//! the C ABI.
//!
//! The steps follow what a device model does for a guest running Mesa's virgl driver:
//!
//! 1. answer `VIRTIO_GPU_CMD_GET_CAPSET_INFO` / `GET_CAPSET` (capset ids, versions, bytes);
//! 2. `CTX_CREATE` a VIRGL2 context;
//! 3. `RESOURCE_CREATE_3D` a render target and `RESOURCE_ATTACH_BACKING` the guest pages that
//!    back it (here a `Vec<u8>` stands in for guest RAM, and the pages are two scattered ranges
//!    of it, as a guest's pages usually are);
//! 4. `SUBMIT_3D` a command buffer: what Mesa would encode for `glClear`, built with
//!    [`virgl_protocol::command::Encoder`];
//! 5. `TRANSFER_FROM_HOST_3D` into the attached pages;
//! 6. a fenced submit: the per-context fence is reported through [`RendererCallbacks`] when the
//!    device polls, which is when the VMM would complete the guest's fenced request.
//!
//! Run it with `cargo run -p virgl-capi --example vmm`; it renders on whatever GL the host's EGL
//! gives (llvmpipe in CI) and exits non-zero if any step fails or the pixels are wrong.

use std::cell::RefCell;
use std::error::Error;
use std::rc::Rc;

use virgl_capi::{capset, static_capset_info, Renderer, RendererCallbacks, RendererFlags};
use virgl_protocol::caps::CapsV2;
use virgl_protocol::command::{
    Clear, Command, CreateObject, Encoder, SetFramebufferState, Surface,
};
use virgl_protocol::pipe::{clear, TextureTarget};
use virgl_protocol::{bind::VirglBind, VirglFormat};
use virgl_resource::{
    Backing, GuestIovecs, ResourceCreateArgs, TransferDirection, TransferRequest,
};

const CTX_ID: u32 = 1;
const RES_ID: u32 = 7;
const SURFACE: u32 = 1;
const WIDTH: u32 = 64;
const HEIGHT: u32 = 32;
const BYTES_PER_PIXEL: usize = 4;
const FENCE_ID: u64 = 100;

/// Where the resource's pages sit in guest RAM: two ranges that are not adjacent.
const GUEST_RAM_SIZE: usize = 1 << 20;
const PAGE_RANGES: [(usize, usize); 2] = [(0x1_0000, 0x1000), (0x8_0000, 0x1000)];

/// The clear colour, RGBA.
const COLOUR: [f32; 4] = [0.2, 0.6, 1.0, 1.0];
/// The same colour as B8G8R8A8_UNORM bytes in memory.
const EXPECTED_BGRA: [u8; 4] = [255, 153, 51, 255];

/// Fence notifications as a device model records them: the VMM completes the guest's fenced
/// requests from here (QEMU and crosvm do it from the same thread that polls).
#[derive(Default, Clone)]
struct FenceLog {
    context_fences: Rc<RefCell<Vec<(u32, u32, u64)>>>,
    global_fences: Rc<RefCell<Vec<u32>>>,
}

impl RendererCallbacks for FenceLog {
    fn write_fence(&self, fence_id: u32) {
        self.global_fences.borrow_mut().push(fence_id);
    }

    fn write_context_fence(&self, ctx_id: u32, ring_idx: u32, fence_id: u64) {
        self.context_fences
            .borrow_mut()
            .push((ctx_id, ring_idx, fence_id));
    }
}

/// What the run observed.
#[derive(Debug)]
pub struct Summary {
    pub renderer_name: String,
    pub capset_virgl2: (u32, u32),
    pub pixels_checked: usize,
    pub fences: Vec<(u32, u32, u64)>,
}

/// The whole device flow; `main` prints its result, the integration test asserts it.
pub fn run() -> Result<Summary, Box<dyn Error>> {
    // 1. Capsets. GET_CAPSET_INFO may come before the renderer exists (QEMU asks at device
    // realize time): the sizes are fixed by the capset layouts.
    let (virgl2_version, virgl2_size) = static_capset_info(capset::VIRGL2);
    println!("capset VIRGL2 before init: version {virgl2_version}, {virgl2_size} bytes");

    let fences = FenceLog::default();
    let mut renderer = Renderer::builder(RendererFlags::USE_EGL | RendererFlags::USE_SURFACELESS)
        .callbacks(Box::new(fences.clone()))
        .build()?;
    let info = renderer.capset_info(capset::VIRGL2);
    if info != (virgl2_version, virgl2_size) {
        return Err(format!("capset info changed after init: {info:?}").into());
    }
    let caps_bytes = renderer.fill_caps(capset::VIRGL2, virgl2_version)?;
    let caps = CapsV2::from_bytes(&caps_bytes)?;
    let renderer_name = caps.renderer();
    println!(
        "GET_CAPSET VIRGL2 v{}: {} bytes, renderer \"{renderer_name}\", GLSL {}, \
         host_feature_check_version {}",
        caps.v1.max_version,
        caps_bytes.len(),
        caps.v1.glsl_level,
        caps.host_feature_check_version
    );

    // 2. A context for the guest's Mesa.
    renderer.create_context(CTX_ID, capset::VIRGL2, "vmm-example")?;
    println!("CTX_CREATE {CTX_ID}");

    // 3. A render target and its guest pages.
    renderer.create_resource(ResourceCreateArgs {
        handle: RES_ID,
        target: TextureTarget::Texture2D.raw(),
        format: VirglFormat::B8G8R8A8_UNORM.raw(),
        bind: (VirglBind::RENDER_TARGET | VirglBind::SAMPLER_VIEW).bits(),
        width: WIDTH,
        height: HEIGHT,
        depth: 1,
        array_size: 1,
        ..Default::default()
    })?;
    let mut guest_ram = vec![0u8; GUEST_RAM_SIZE];
    let image_bytes = WIDTH as usize * HEIGHT as usize * BYTES_PER_PIXEL;
    let base = guest_ram.as_mut_ptr();
    let iovecs: Vec<libc::iovec> = PAGE_RANGES
        .iter()
        .map(|&(offset, len)| {
            assert!(offset + len <= GUEST_RAM_SIZE);
            libc::iovec {
                // In bounds (asserted): a pointer into guest RAM, as the VMM's memory map gives.
                iov_base: base.wrapping_add(offset).cast(),
                iov_len: len,
            }
        })
        .collect();
    assert_eq!(PAGE_RANGES.iter().map(|r| r.1).sum::<usize>(), image_bytes);
    // SAFETY: the iovecs describe ranges inside `guest_ram`, which is neither moved, resized nor
    // otherwise accessed until the resource holding them is unref'd below; the array itself is
    // only read during this call.
    let pages = unsafe { GuestIovecs::from_raw(iovecs.as_ptr(), iovecs.len()) }?;
    renderer
        .resources_mut()
        .attach_backing(RES_ID, Backing::Iovecs(pages))?;
    renderer.ctx_attach_resource(CTX_ID, RES_ID);
    println!(
        "RESOURCE_CREATE_3D {RES_ID}: {WIDTH}x{HEIGHT} B8G8R8A8, backed by {} guest ranges",
        PAGE_RANGES.len()
    );

    // 4. SUBMIT_3D: surface, framebuffer, clear, as Mesa's virgl driver encodes glClear.
    let mut commands = Encoder::new();
    commands
        .push(&Command::CreateObject(CreateObject::Surface(Surface {
            handle: SURFACE,
            res_handle: RES_ID,
            format: VirglFormat::B8G8R8A8_UNORM.raw(),
            val0: 0, // level 0
            val1: 0, // layers 0..=0
        })))?
        .push(&Command::SetFramebufferState(SetFramebufferState {
            zsurf_handle: 0,
            cbufs: &[SURFACE],
        }))?
        .push(&Command::Clear(Clear {
            buffers: clear::COLOR0,
            color: COLOUR.map(f32::to_bits),
            depth: 1.0,
            stencil: 0,
        }))?;
    renderer.submit_cmd(CTX_ID, commands.as_slice())?;
    println!("SUBMIT_3D: {} dwords", commands.len());

    // 5. TRANSFER_FROM_HOST_3D into the attached guest pages (no explicit memory: the backing).
    let request = TransferRequest {
        res_id: RES_ID,
        width: WIDTH,
        height: HEIGHT,
        depth: 1,
        ..Default::default()
    };
    renderer.transfer(CTX_ID, &request, TransferDirection::FromHost, None)?;
    println!("TRANSFER_FROM_HOST_3D: {image_bytes} bytes into guest pages");

    // 6. The guest's fenced request completes when its fence signals.
    renderer.context_create_fence(CTX_ID, 0, 0, FENCE_ID)?;
    renderer.poll();
    let signalled = fences.context_fences.borrow().clone();
    if !signalled.contains(&(CTX_ID, 0, FENCE_ID)) {
        return Err(format!("fence {FENCE_ID} not reported after poll: {signalled:?}").into());
    }
    println!("fence {FENCE_ID} on ctx {CTX_ID} ring 0 signalled");

    // Teardown: the resource lets go of the guest pages, then the VMM may look at its RAM again.
    renderer.unref_resource(RES_ID);
    renderer.destroy_context(CTX_ID);
    drop(renderer);

    let mut image = Vec::with_capacity(image_bytes);
    for &(offset, len) in &PAGE_RANGES {
        image.extend_from_slice(&guest_ram[offset..offset + len]);
    }
    let wrong = image
        .chunks_exact(BYTES_PER_PIXEL)
        .filter(|px| {
            px.iter()
                .zip(EXPECTED_BGRA)
                .any(|(&got, want)| got.abs_diff(want) > 1)
        })
        .count();
    if wrong != 0 {
        let first: Vec<u8> = image[..BYTES_PER_PIXEL].to_vec();
        return Err(format!(
            "{wrong} of {} pixels are not the clear colour (first pixel {first:?}, want \
             {EXPECTED_BGRA:?})",
            image.len() / BYTES_PER_PIXEL
        )
        .into());
    }
    println!(
        "guest RAM holds the cleared image: {} pixels of BGRA {EXPECTED_BGRA:?}",
        image.len() / BYTES_PER_PIXEL
    );

    Ok(Summary {
        renderer_name,
        capset_virgl2: (virgl2_version, virgl2_size),
        pixels_checked: image.len() / BYTES_PER_PIXEL,
        fences: signalled,
    })
}

fn main() {
    match run() {
        Ok(summary) => println!("done: {summary:?}"),
        Err(error) => {
            eprintln!("vmm example failed: {error}");
            std::process::exit(1);
        }
    }
}
