//! Fuzz harness: the virgl command stream *executed* on a real GL context (llvmpipe, surfaceless
//! EGL). Shared by `fuzz_targets/command_exec.rs` and `crates/virgl-vrend/tests/smoke_exec.rs`.
//!
//! One `VrendBackend` and a handful of resources (2D RGBA8 and depth textures, a 2D array, a
//! buffer, a 3D texture) live for the whole run, as in a real renderer. Each input gets a fresh
//! context (capset VIRGL or VIRGL2 by the first byte) with every resource attached, executes the
//! rest as one command buffer, and is dropped. Checked: no panic/abort/sanitizer report, a failed
//! submit marks the context broken (the next submit is refused), and the shared resources stay
//! readable by a well-behaved transfer afterwards (a hostile context cannot wedge the backend).

use std::cell::RefCell;

use virgl_protocol::caps::{CAPSET_VIRGL, CAPSET_VIRGL2};
use virgl_resource::{
    Backend, ContextError, ResourceCreateArgs, ResourceTable, TransferDirection, TransferRequest,
};
use virgl_vrend::formats::vf;
use virgl_vrend::{pipe_target, virgl_bind, EglOptions, VrendBackend};

/// The resources every fuzz context sees (ids 1..=5).
pub fn resources() -> Vec<ResourceCreateArgs> {
    let tex = |handle, target, format, bind, w, h, depth, array_size| ResourceCreateArgs {
        handle,
        target,
        format,
        bind,
        width: w,
        height: h,
        depth,
        array_size,
        ..Default::default()
    };
    let rt = virgl_bind::RENDER_TARGET | virgl_bind::SAMPLER_VIEW;
    vec![
        tex(
            1,
            pipe_target::TEXTURE_2D,
            vf::R8G8B8A8_UNORM,
            rt,
            16,
            16,
            1,
            1,
        ),
        tex(
            2,
            pipe_target::TEXTURE_2D,
            vf::B8G8R8A8_UNORM,
            rt,
            32,
            8,
            1,
            1,
        ),
        tex(
            3,
            pipe_target::TEXTURE_2D,
            vf::S8_UINT_Z24_UNORM,
            virgl_bind::DEPTH_STENCIL,
            16,
            16,
            1,
            1,
        ),
        tex(
            4,
            pipe_target::TEXTURE_2D_ARRAY,
            vf::R8G8B8A8_UNORM,
            rt,
            8,
            8,
            1,
            4,
        ),
        tex(
            5,
            pipe_target::BUFFER,
            vf::R8_UNORM,
            virgl_bind::VERTEX_BUFFER | virgl_bind::CONSTANT_BUFFER,
            4096,
            1,
            1,
            1,
        ),
        tex(
            6,
            pipe_target::TEXTURE_3D,
            vf::R8G8B8A8_UNORM,
            virgl_bind::SAMPLER_VIEW,
            4,
            4,
            4,
            1,
        ),
    ]
}

pub struct Exec {
    backend: VrendBackend,
    table: ResourceTable,
    next_ctx: u32,
}

impl Exec {
    /// The backend on llvmpipe with [`resources`] created.
    pub fn new() -> Exec {
        let mut backend = VrendBackend::new(&EglOptions::default()).expect("surfaceless EGL");
        let mut table = ResourceTable::new();
        for args in resources() {
            table.insert_pipe(args).expect("fresh table");
            backend
                .create_resource(&mut table, &args)
                .unwrap_or_else(|e| panic!("creating resource {}: {e}", args.handle));
        }
        Exec {
            backend,
            table,
            next_ctx: 1,
        }
    }

    /// Runs one input; returns whether the submit succeeded.
    pub fn run(&mut self, data: &[u8]) -> bool {
        let Some((&sel, rest)) = data.split_first() else {
            return true;
        };
        let capset = if sel & 1 == 0 {
            CAPSET_VIRGL2
        } else {
            CAPSET_VIRGL
        };
        let words: Vec<u32> = rest
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let ctx_id = self.next_ctx;
        self.next_ctx = self.next_ctx.wrapping_add(1).max(1);
        let mut ctx = self
            .backend
            .create_context(ctx_id, capset, "fuzz")
            .expect("context creation");
        for args in resources() {
            self.table.attach(ctx_id, args.handle).expect("attach");
            ctx.attach_resource(&mut self.table, args.handle);
        }
        let ok = match ctx.submit_cmd(&mut self.table, &words) {
            Ok(()) => true,
            Err(_) => {
                // The context is broken now: everything it submits later is refused.
                let again = ctx.submit_cmd(&mut self.table, &[]);
                assert!(
                    matches!(again, Err(ContextError::Broken(_))),
                    "a failed context accepted more work: {again:?}"
                );
                false
            }
        };
        for args in resources() {
            ctx.detach_resource(&mut self.table, args.handle);
            self.table.detach(ctx_id, args.handle);
        }
        drop(ctx);
        self.table.forget_context(ctx_id);
        // The shared resources are still usable by a well-behaved reader.
        let mut px = vec![0u8; 16 * 16 * 4];
        let req = TransferRequest {
            res_id: 1,
            width: 16,
            height: 16,
            depth: 1,
            ..Default::default()
        };
        self.backend
            .transfer_with(&req, TransferDirection::FromHost, &mut px)
            .expect("resource 1 still readable after a hostile context");
        ok
    }
}

thread_local! {
    static EXEC: RefCell<Option<Exec>> = const { RefCell::new(None) };
}

/// Runs one input on this thread's shared backend (created on first use).
pub fn run(data: &[u8]) -> bool {
    EXEC.with(|cell| {
        let mut slot = cell.borrow_mut();
        slot.get_or_insert_with(Exec::new).run(data)
    })
}
