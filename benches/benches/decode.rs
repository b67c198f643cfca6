//! Decoding throughput of the virgl command stream on a generated, realistic frame: object
//! creation and state setup, then ~1000 draws with sampler view / sampler changes, per-draw
//! uniform data uploaded with `RESOURCE_INLINE_WRITE`, vertex buffer rebinds and `DRAW_VBO`.
//!
//! `cargo bench -p benches --bench decode -- --quick`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use virgl_protocol::command::*;
use virgl_protocol::pipe::{ShaderType, TransferDirection};

const DRAWS: u32 = 1000;

fn frame() -> Vec<u32> {
    let mut e = Encoder::with_capacity(64 * 1024);
    let mut push = |c: Command<'_>| {
        e.push(&c).expect("bench commands fit");
    };
    push(Command::SetSubCtx { sub_ctx_id: 1 });
    push(Command::CreateObject(CreateObject::Blend(BlendState {
        handle: 1,
        independent_blend_enable: false,
        logicop_enable: false,
        dither: false,
        alpha_to_coverage: false,
        alpha_to_one: false,
        logicop_func: 0,
        rt: [RtBlend {
            colormask: 0xf,
            ..Default::default()
        }; 8],
    })));
    push(Command::BindObject {
        object_type: ObjectType::Blend,
        handle: 1,
    });
    push(Command::CreateObject(CreateObject::Rasterizer(
        RasterizerState {
            handle: 2,
            flags: RasterizerFlags::DEPTH_CLIP | RasterizerFlags::HALF_PIXEL_CENTER,
            cull_face: 2,
            fill_front: 0,
            fill_back: 0,
            point_size: 1.0,
            sprite_coord_enable: 0,
            line_stipple_pattern: 0,
            line_stipple_factor: 0,
            clip_plane_enable: 0,
            line_width: 1.0,
            offset_units: 0.0,
            offset_scale: 0.0,
            offset_clamp: 0.0,
        },
    )));
    push(Command::BindObject {
        object_type: ObjectType::Rasterizer,
        handle: 2,
    });
    let ves = VertexElements::dwords_of(&[
        VertexElement {
            src_offset: 0,
            instance_divisor: 0,
            vertex_buffer_index: 0,
            src_format: 30,
        },
        VertexElement {
            src_offset: 12,
            instance_divisor: 0,
            vertex_buffer_index: 0,
            src_format: 29,
        },
        VertexElement {
            src_offset: 20,
            instance_divisor: 0,
            vertex_buffer_index: 0,
            src_format: 31,
        },
    ]);
    push(Command::CreateObject(CreateObject::VertexElements(
        VertexElements::new(3, &ves),
    )));
    push(Command::BindObject {
        object_type: ObjectType::VertexElements,
        handle: 3,
    });
    for i in 0..16 {
        push(Command::CreateObject(CreateObject::SamplerView(
            SamplerView {
                handle: 100 + i,
                res_handle: 1000 + i,
                format: 1,
                target: 2,
                val0: 0,
                val1: 10 << 8,
                swizzle: [0, 1, 2, 3],
            },
        )));
    }
    let cbufs = [50u32];
    push(Command::SetFramebufferState(SetFramebufferState {
        zsurf_handle: 51,
        cbufs: &cbufs,
    }));
    let vp = Records::<Viewport>::dwords_of(&[Viewport {
        scale: [960.0, -540.0, 0.5],
        translate: [960.0, 540.0, 0.5],
    }]);
    push(Command::SetViewportState(SetViewportStates {
        start_slot: 0,
        viewports: Records::new(&vp),
    }));
    push(Command::Clear(Clear {
        buffers: 0x7,
        color: [0; 4],
        depth: 1.0,
        stencil: 0,
    }));

    let uniforms: Vec<u32> = (0..64).map(|i: u32| (i as f32 * 0.5).to_bits()).collect();
    for d in 0..DRAWS {
        if d % 10 == 0 {
            let views = [100 + d % 16, 101 + d % 15, 102 + d % 14, 103 + d % 13];
            push(Command::SetSamplerViews(SetSamplerViews {
                shader_type: ShaderType::Fragment,
                start_slot: 0,
                handles: &views,
            }));
            let samplers = [200, 201];
            push(Command::BindSamplerStates(BindSamplerStates {
                shader_type: ShaderType::Fragment,
                start_slot: 0,
                handles: &samplers,
            }));
        }
        if d % 4 == 0 {
            let vb = Records::<VertexBuffer>::dwords_of(&[VertexBuffer {
                stride: 32,
                offset: d * 96,
                handle: 300 + d % 8,
            }]);
            push(Command::SetVertexBuffers(Records::new(&vb)));
        }
        // Per-draw uniforms: 256 bytes written inline into a UBO resource, then bound.
        push(Command::ResourceInlineWrite(ResourceInlineWrite {
            region: TransferRegion {
                handle: 400,
                level: 0,
                usage: 2,
                stride: 0,
                layer_stride: 0,
                bx: Box3 {
                    x: (d % 64) * 256,
                    y: 0,
                    z: 0,
                    width: 256,
                    height: 1,
                    depth: 1,
                },
            },
            data: &uniforms,
        }));
        push(Command::SetUniformBuffer(SetUniformBuffer {
            shader_type: ShaderType::Vertex,
            index: 1,
            offset: (d % 64) * 256,
            length: 256,
            handle: 400,
        }));
        push(Command::DrawVbo(DrawVbo {
            start: 0,
            count: 36 + d % 7,
            mode: 4,
            indexed: d % 2 == 0,
            instance_count: 1,
            max_index: !0,
            ..Default::default()
        }));
    }
    push(Command::Transfer3d(Transfer3d {
        region: TransferRegion {
            handle: 50,
            level: 0,
            usage: 1,
            stride: 0,
            layer_stride: 0,
            bx: Box3 {
                x: 0,
                y: 0,
                z: 0,
                width: 1920,
                height: 1080,
                depth: 1,
            },
        },
        offset: 0,
        direction: TransferDirection::FromHost,
    }));
    e.into_inner()
}

fn decode_all(words: &[u32]) -> usize {
    let mut n = 0;
    for item in CommandIter::new(words) {
        let (_, cmd) = item.expect("generated frame decodes");
        black_box(&cmd);
        n += 1;
    }
    n
}

fn bench_decode(c: &mut Criterion) {
    let words = frame();
    let commands = decode_all(&words) as u64;
    let bytes = (words.len() * 4) as u64;
    println!("frame: {commands} commands, {bytes} bytes, {DRAWS} draws");

    let mut g = c.benchmark_group("decode_frame");
    g.throughput(Throughput::Elements(commands));
    g.bench_function("commands", |b| b.iter(|| decode_all(black_box(&words))));
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("bytes", |b| b.iter(|| decode_all(black_box(&words))));
    g.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
