//! Decode plus dispatch of small state changes inside the GL backend, without a socket: the
//! per-command server cost that `cargo xtask compare` measures end to end through vtest
//! (`commands state`). The stream is the one tools/vtest-bench replays: blend object binds,
//! blend colour, stencil reference, scissor, viewport and fragment constants, on a sub-context
//! with a bound render target, about 4,000 dwords per submit.
//!
//! Needs EGL (llvmpipe in CI); prints a note and measures nothing where the backend cannot start.
//! `cargo bench -p benches --bench submit -- --quick`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use virgl_protocol::command::*;
use virgl_protocol::pipe::ShaderType;
use virgl_resource::{Backend, Backing, Resource, ResourceCreateArgs, ResourceTable, SharedMemory};
use virgl_vrend::formats::vf;
use virgl_vrend::{pipe_target, virgl_bind, EglOptions, VrendBackend};

const RT: u32 = 1;
const SIZE: u32 = 64;

fn blend(handle: u32, enable: bool) -> Command<'static> {
    let rt = RtBlend {
        blend_enable: enable,
        rgb_src_factor: 0x7,
        rgb_dst_factor: 0x13,
        alpha_src_factor: 0x1,
        alpha_dst_factor: 0x11,
        colormask: 0xf,
        ..Default::default()
    };
    Command::CreateObject(CreateObject::Blend(BlendState {
        handle,
        independent_blend_enable: false,
        logicop_enable: false,
        dither: false,
        alpha_to_coverage: false,
        alpha_to_one: false,
        logicop_func: 0,
        rt: [rt; 8],
    }))
}

fn setup() -> Vec<u32> {
    let mut e = Encoder::new();
    let mut push = |c: Command<'_>| {
        e.push(&c).expect("setup fits");
    };
    push(Command::CreateSubCtx { sub_ctx_id: 1 });
    push(Command::SetSubCtx { sub_ctx_id: 1 });
    push(Command::CreateObject(CreateObject::Surface(Surface {
        handle: 10,
        res_handle: RT,
        format: vf::B8G8R8A8_UNORM,
        val0: 0,
        val1: 0,
    })));
    push(Command::SetFramebufferState(SetFramebufferState {
        zsurf_handle: 0,
        cbufs: &[10],
    }));
    push(blend(11, false));
    push(blend(12, true));
    e.into_inner()
}

/// One submit of state changes; returns the dwords and the number of commands.
fn stream() -> (Vec<u32>, usize) {
    let mut e = Encoder::with_capacity(4200);
    let mut n = 0;
    let mut i = 0u32;
    while e.len() < 4000 {
        let f = (i % 16) as f32 / 16.0;
        let sc = Records::<Scissor>::dwords_of(&[Scissor {
            minx: 0,
            miny: 0,
            maxx: (i % SIZE) as u16 + 1,
            maxy: SIZE as u16,
        }]);
        let half = SIZE as f32 / 2.0 - (i % 4) as f32;
        let vp = [half, half, 0.5, half, half, 0.5].map(f32::to_bits);
        let consts = [1.0, f, f, 1.0].map(f32::to_bits);
        let cmds = [
            Command::BindObject {
                object_type: ObjectType::Blend,
                handle: 11 + i % 2,
            },
            Command::SetBlendColor([f, 1.0 - f, 0.5, 1.0]),
            Command::SetStencilRef(StencilRef {
                front: i as u8,
                back: i as u8,
            }),
            Command::SetScissorState(SetScissorStates {
                start_slot: 0,
                scissors: Records::new(&sc),
            }),
            Command::SetViewportState(SetViewportStates {
                start_slot: 0,
                viewports: Records::<Viewport>::new(&vp),
            }),
            Command::SetConstantBuffer(SetConstantBuffer {
                shader_type: ShaderType::Fragment,
                index: 0,
                data: &consts,
            }),
        ];
        for c in &cmds {
            e.push(c).expect("stream fits");
            n += 1;
        }
        i += 1;
    }
    (e.into_inner(), n)
}

fn bench_submit(c: &mut Criterion) {
    let mut backend = match VrendBackend::new(&EglOptions::default()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("submit bench skipped: no GL backend here ({e})");
            return;
        }
    };
    let mut table = ResourceTable::new();
    let args = ResourceCreateArgs {
        handle: RT,
        target: pipe_target::TEXTURE_2D,
        format: vf::B8G8R8A8_UNORM,
        bind: virgl_bind::RENDER_TARGET | virgl_bind::SAMPLER_VIEW,
        width: SIZE,
        height: SIZE,
        depth: 1,
        array_size: 1,
        ..Default::default()
    };
    let shm = SharedMemory::new("bench-rt", u64::from(SIZE * SIZE * 4)).expect("shm");
    table
        .insert(Resource::pipe(args).with_backing(Backing::Shm(shm)))
        .expect("insert");
    backend.create_resource(&mut table, &args).expect("create");
    let mut ctx = backend
        .create_context(1, virgl_protocol::caps::CAPSET_VIRGL2, "submit-bench")
        .expect("context");
    ctx.attach_resource(&mut table, RT);
    ctx.submit_cmd(&mut table, &setup()).expect("setup");
    let (words, commands) = stream();
    let mut g = c.benchmark_group("submit");
    g.throughput(Throughput::Elements(commands as u64));
    g.bench_function("state-commands", |b| {
        b.iter(|| {
            ctx.submit_cmd(&mut table, black_box(&words))
                .expect("state stream")
        })
    });
    g.finish();
}

criterion_group!(benches, bench_submit);
criterion_main!(benches);
