//! Command throughput: a stream of many small commands, built with virgl-protocol's `Encoder`
//! the way Mesa's virgl driver encodes them, replayed through SUBMIT_CMD.
//!
//! Two streams, both on a 64x64 RGBA8 render target with a pass-through shader pair:
//! - `state`: state changes only (blend colour, stencil ref, scissor, viewport, blend object
//!   binds, fragment constants): the decoder plus the cheap GL state calls behind it;
//! - `draw`: a blend bind, a blend colour and a 3-vertex draw per group: the draw path, with the
//!   host GL driver's per-draw validation in it.
//!
//! Each submit carries about 4,000 dwords, as Mesa's command buffers do when they fill; every
//! 64 submits a BUSY_WAIT round trip keeps the client from running ahead of the server (fewer
//! round trips: on a loaded machine each costs scheduler latency that is not the server's work).
//! The server's CPU time comes from /proc/<pid>/stat of the process that serves this client.

use std::time::{Duration, Instant};

use virgl_protocol::command::{bytes_to_dwords, Box3};
use virgl_protocol::command::{
    BindShader, BlendState, Clear, Command, CreateObject, DrawVbo, DsaState, Encoder, ObjectType,
    RasterizerFlags, RasterizerState, Records, ResourceInlineWrite, RtBlend, Scissor,
    SetConstantBuffer, SetFramebufferState, SetScissorStates, SetViewportStates, ShaderSource,
    StencilRef, StencilState, Surface, TransferRegion, VertexBuffer, VertexElement, VertexElements,
    Viewport,
};
use virgl_protocol::pipe::ShaderType;
use virgl_protocol::vtest::{Request, ResourceDesc, Transfer2, TransferBox};

use crate::client::{Client, Resource};
use crate::error::{BenchError, BenchResult};

const SIZE: u32 = 64;
const FORMAT_B8G8R8A8_UNORM: u32 = 1;
const FORMAT_R8_UNORM: u32 = 64;
const FORMAT_R32G32B32A32_FLOAT: u32 = 31;
const PRIM_TRIANGLES: u32 = 4;
const SUBMITS_PER_SYNC: usize = 64;

const VS: &str = "VERT\nDCL IN[0]\nDCL IN[1]\nDCL OUT[0], POSITION\nDCL OUT[1], GENERIC[0]\n\
  0: MOV OUT[0], IN[0]\n  1: MOV OUT[1], IN[1]\n  2: END\n";
const FS: &str = "FRAG\nDCL IN[0], GENERIC[0], PERSPECTIVE\nDCL OUT[0], COLOR\nDCL CONST[0]\n\
  0: MUL OUT[0], IN[0], CONST[0]\n  1: END\n";

/// Which stream to replay.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    State,
    Draw,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::State => "state",
            Stream::Draw => "draw",
        }
    }
}

/// Throughput of one stream.
pub struct Throughput {
    pub commands_per_s: f64,
    /// Server CPU (all its threads) per command, when the server process is known.
    pub server_cpu_ns_per_command: Option<f64>,
    /// Server CPU time over wall time (1.0 = one core busy).
    pub server_cpu_share: Option<f64>,
}

struct Builder {
    enc: Encoder,
    commands: usize,
    next: u32,
}

impl Builder {
    fn push(&mut self, c: Command<'_>) -> BenchResult<()> {
        self.enc.push(&c).map_err(BenchError::Encode)?;
        self.commands += 1;
        Ok(())
    }

    fn handle(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    fn shader(&mut self, ty: ShaderType, text: &str) -> BenchResult<u32> {
        let h = self.handle();
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        self.enc
            .create_shader(
                &ShaderSource {
                    handle: h,
                    shader_type: ty,
                    num_tokens: 300,
                    req_local_mem: 0,
                    stream_output: None,
                    text: &bytes,
                },
                1000,
            )
            .map_err(BenchError::Encode)?;
        self.commands += 1;
        self.push(Command::BindShader(BindShader {
            handle: h,
            shader_type: ty,
        }))?;
        Ok(h)
    }

    fn blend(&mut self, enable: bool) -> BenchResult<u32> {
        let h = self.handle();
        let rt = RtBlend {
            blend_enable: enable,
            rgb_func: 0,
            rgb_src_factor: 0x7, // CONST_COLOR: the blend colour the stream changes
            rgb_dst_factor: 0x13, // INV_SRC_ALPHA
            alpha_func: 0,
            alpha_src_factor: 0x1,
            alpha_dst_factor: 0x11,
            colormask: 0xf,
        };
        self.push(Command::CreateObject(CreateObject::Blend(BlendState {
            handle: h,
            independent_blend_enable: false,
            logicop_enable: false,
            dither: false,
            alpha_to_coverage: false,
            alpha_to_one: false,
            logicop_func: 0,
            rt: [rt; 8],
        })))?;
        Ok(h)
    }
}

/// Creates the render target and vertex buffer and sets up the pipeline; returns the render
/// target and the blend objects the streams alternate between.
fn setup(client: &mut Client, b: &mut Builder) -> BenchResult<(Resource, [u32; 2])> {
    let rt_desc = ResourceDesc {
        handle: 0,
        target: 2,
        format: FORMAT_B8G8R8A8_UNORM,
        bind: (1 << 1) | (1 << 3),
        width: SIZE,
        height: SIZE,
        depth: 1,
        array_size: 1,
        last_level: 0,
        nr_samples: 0,
    };
    let rt_res = client.create_resource(rt_desc, SIZE * SIZE * 4)?;
    let rt = rt_res.id;
    let vb_desc = ResourceDesc {
        target: 0,
        format: FORMAT_R8_UNORM,
        bind: 1 << 4,
        width: 4096,
        height: 1,
        ..rt_desc
    };
    let vb = client.create_resource(vb_desc, 4096)?.id;

    b.push(Command::CreateSubCtx { sub_ctx_id: 1 })?;
    b.push(Command::SetSubCtx { sub_ctx_id: 1 })?;
    let surf = b.handle();
    b.push(Command::CreateObject(CreateObject::Surface(Surface {
        handle: surf,
        res_handle: rt,
        format: FORMAT_B8G8R8A8_UNORM,
        val0: 0,
        val1: 0,
    })))?;
    b.push(Command::SetFramebufferState(SetFramebufferState {
        zsurf_handle: 0,
        cbufs: &[surf],
    }))?;
    let half = SIZE as f32 / 2.0;
    let vp = [half, half, 0.5, half, half, 0.5].map(f32::to_bits);
    b.push(Command::SetViewportState(SetViewportStates {
        start_slot: 0,
        viewports: Records::<Viewport>::new(&vp),
    }))?;
    b.shader(ShaderType::Vertex, VS)?;
    b.shader(ShaderType::Fragment, FS)?;
    let ve = b.handle();
    let elems = [0u32, 16].map(|src_offset| VertexElement {
        src_offset,
        instance_divisor: 0,
        vertex_buffer_index: 0,
        src_format: FORMAT_R32G32B32A32_FLOAT,
    });
    let raw = VertexElements::dwords_of(&elems);
    b.push(Command::CreateObject(CreateObject::VertexElements(
        VertexElements::new(ve, &raw),
    )))?;
    b.push(Command::BindObject {
        object_type: ObjectType::VertexElements,
        handle: ve,
    })?;
    let verts: [[f32; 8]; 3] = [
        [-1.0, -1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
        [1.0, -1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        [-1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0],
    ];
    let bytes: Vec<u8> = verts
        .iter()
        .flatten()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    let data = bytes_to_dwords(&bytes);
    b.push(Command::ResourceInlineWrite(ResourceInlineWrite {
        region: TransferRegion {
            handle: vb,
            level: 0,
            usage: 0,
            stride: 0,
            layer_stride: 0,
            bx: Box3 {
                x: 0,
                y: 0,
                z: 0,
                width: bytes.len() as u32,
                height: 1,
                depth: 1,
            },
        },
        data: &data,
    }))?;
    let vbs = Records::<VertexBuffer>::dwords_of(&[VertexBuffer {
        stride: 32,
        offset: 0,
        handle: vb,
    }]);
    b.push(Command::SetVertexBuffers(Records::new(&vbs)))?;
    let blends = [b.blend(false)?, b.blend(true)?];
    let dsa = b.handle();
    b.push(Command::CreateObject(CreateObject::Dsa(DsaState {
        handle: dsa,
        depth_enabled: false,
        depth_writemask: false,
        depth_func: 0,
        alpha_enabled: false,
        alpha_func: 0,
        stencil: [StencilState::default(); 2],
        alpha_ref: 0.0,
    })))?;
    b.push(Command::BindObject {
        object_type: ObjectType::Dsa,
        handle: dsa,
    })?;
    let rs = b.handle();
    b.push(Command::CreateObject(CreateObject::Rasterizer(
        RasterizerState {
            handle: rs,
            // No scissor test: the state stream changes the scissor rectangle, the draw
            // stream sets none.
            flags: RasterizerFlags::DEPTH_CLIP | RasterizerFlags::HALF_PIXEL_CENTER,
            cull_face: 0,
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
    )))?;
    b.push(Command::BindObject {
        object_type: ObjectType::Rasterizer,
        handle: rs,
    })?;
    let consts = [1.0f32; 4].map(f32::to_bits);
    b.push(Command::SetConstantBuffer(SetConstantBuffer {
        shader_type: ShaderType::Fragment,
        index: 0,
        data: &consts,
    }))?;
    b.push(Command::Clear(Clear {
        buffers: 1 << 2,
        color: [0.0f32, 0.0, 0.0, 1.0].map(f32::to_bits),
        depth: 1.0,
        stencil: 0,
    }))?;
    Ok((rt_res, blends))
}

/// One submit's worth of the stream (about 4,000 dwords); returns its command count.
fn batch(b: &mut Builder, stream: Stream, blends: [u32; 2]) -> BenchResult<usize> {
    let before = b.commands;
    let mut i = 0u32;
    while b.enc.len() < 4000 {
        let f = (i % 16) as f32 / 16.0;
        b.push(Command::BindObject {
            object_type: ObjectType::Blend,
            handle: blends[(i % 2) as usize],
        })?;
        b.push(Command::SetBlendColor([f, 1.0 - f, 0.5, 1.0]))?;
        match stream {
            Stream::Draw => b.push(Command::DrawVbo(DrawVbo {
                mode: PRIM_TRIANGLES,
                count: 3,
                instance_count: 1,
                max_index: 2,
                ..Default::default()
            }))?,
            Stream::State => {
                b.push(Command::SetStencilRef(StencilRef {
                    front: i as u8,
                    back: i as u8,
                }))?;
                let edge = (i % SIZE) as u16;
                let sc = Records::<Scissor>::dwords_of(&[Scissor {
                    minx: 0,
                    miny: 0,
                    maxx: edge + 1,
                    maxy: SIZE as u16,
                }]);
                b.push(Command::SetScissorState(SetScissorStates {
                    start_slot: 0,
                    scissors: Records::new(&sc),
                }))?;
                let half = SIZE as f32 / 2.0 - (i % 4) as f32;
                let vp = [half, half, 0.5, half, half, 0.5].map(f32::to_bits);
                b.push(Command::SetViewportState(SetViewportStates {
                    start_slot: 0,
                    viewports: Records::<Viewport>::new(&vp),
                }))?;
                let consts = [1.0, f, f, 1.0].map(f32::to_bits);
                b.push(Command::SetConstantBuffer(SetConstantBuffer {
                    shader_type: ShaderType::Fragment,
                    index: 0,
                    data: &consts,
                }))?;
            }
        }
        i += 1;
    }
    Ok(b.commands - before)
}

/// Replays `stream` for `budget` and measures it; `server_pid` is the process serving us.
pub fn run(
    client: &mut Client,
    stream: Stream,
    budget: Duration,
    server_pid: Option<u32>,
) -> BenchResult<Throughput> {
    let mut b = Builder {
        enc: Encoder::new(),
        commands: 0,
        next: 1000,
    };
    let (mut rt, blends) = setup(client, &mut b)?;
    client.send(&Request::SubmitCmd {
        cmds: std::mem::take(&mut b.enc).into_inner(),
    })?;
    client.sync(0)?;
    let per_submit = batch(&mut b, stream, blends)?;
    let submit = Request::SubmitCmd {
        cmds: std::mem::take(&mut b.enc).into_inner(),
    }
    .encode(client.version);
    // Warm up (shader variants, first draws), then measure.
    for _ in 0..16 {
        client.send_bytes(&submit)?;
    }
    client.sync(0)?;
    let cpu_before = server_pid.and_then(crate::procstat::cpu_seconds);
    let start = Instant::now();
    let mut submits = 0usize;
    while start.elapsed() < budget || submits == 0 {
        for _ in 0..SUBMITS_PER_SYNC {
            client.send_bytes(&submit)?;
        }
        submits += SUBMITS_PER_SYNC;
        client.sync(0)?;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu_after = server_pid.and_then(crate::procstat::cpu_seconds);
    let commands = (submits * per_submit) as f64;
    let cpu = cpu_before.zip(cpu_after).map(|(a, b)| b - a);
    if stream == Stream::Draw {
        check_drawn(client, &mut rt)?;
    }
    Ok(Throughput {
        commands_per_s: commands / wall,
        server_cpu_ns_per_command: cpu.map(|c| c * 1e9 / commands),
        server_cpu_share: cpu.map(|c| c / wall),
    })
}

/// The draws must have reached the render target: read it back (TRANSFER_GET2) and look for
/// pixels other than the opaque black it was cleared to.
fn check_drawn(client: &mut Client, rt: &mut Resource) -> BenchResult<()> {
    client.send(&Request::TransferGet2(Transfer2 {
        handle: rt.id,
        level: 0,
        region: TransferBox {
            x: 0,
            y: 0,
            z: 0,
            width: SIZE,
            height: SIZE,
            depth: 1,
        },
        data_size: SIZE * SIZE * 4,
        offset: 0,
    }))?;
    client.sync(rt.id)?;
    let shm = rt
        .shm
        .as_mut()
        .ok_or(BenchError::Mismatch("render target without shm".into()))?;
    let drawn = shm
        .bytes_mut()
        .chunks_exact(4)
        .filter(|px| px != &[0, 0, 0, 255])
        .count();
    if drawn == 0 {
        return Err(BenchError::Mismatch(
            "the draw stream left the render target as cleared".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use virgl_protocol::command::CommandIter;

    fn builder() -> Builder {
        Builder {
            enc: Encoder::new(),
            commands: 0,
            next: 1000,
        }
    }

    /// Both streams decode cleanly with the protocol crate, and the count the throughput is
    /// computed from is the number of commands really in the buffer.
    #[test]
    fn streams_decode_and_are_counted_exactly() {
        for stream in [Stream::State, Stream::Draw] {
            let mut b = builder();
            let n = batch(&mut b, stream, [1, 2]).unwrap();
            let words = b.enc.into_inner();
            assert!(words.len() >= 4000 && words.len() < 4100);
            let decoded: Vec<_> = CommandIter::new(&words).collect();
            assert!(decoded.iter().all(Result::is_ok), "{:?}", stream.name());
            assert_eq!(decoded.len(), n);
        }
    }
}
