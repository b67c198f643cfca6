//! Fixed-function emulations on a core-profile host, drawn on llvmpipe through command
//! streams: different front/back polygon modes (one draw split into a pass per face), border
//! colours of formats the host stores in other channels (A8 in R8), and GL_CLAMP with linear
//! filtering (CLAMP_TO_BORDER plus coordinates clamped in the shader). piglit's polygon-mode
//! and texwrap tests cover the same through Mesa (`cargo xtask conformance`).

use virgl_protocol::command::{
    BindSamplerStates, BindShader, Box3, Clear, Command, CreateObject, DrawVbo, Encoder,
    ObjectType, RasterizerFlags, RasterizerState, Records, ResourceInlineWrite, SamplerState,
    SamplerView, SetFramebufferState, SetSamplerViews, SetViewportStates, ShaderSource, Surface,
    Transfer3d, TransferRegion, VertexBuffer, VertexElement, VertexElements, Viewport,
};
use virgl_protocol::pipe::{ShaderType, TransferDirection as WireDirection};
use virgl_resource::{
    Backend, Backing, Context, GuestMemory, Resource, ResourceCreateArgs, ResourceTable,
    SharedMemory,
};
use virgl_vrend::formats::vf;
use virgl_vrend::{pipe_target, virgl_bind, EglOptions, VrendBackend};

const W: u32 = 32;
const H: u32 = 32;
const RT: u32 = 1;
const VB: u32 = 2;
const TEX: u32 = 3;
const TRIANGLES: u32 = 4;

const VS: &str = "VERT
DCL IN[0]
DCL IN[1]
DCL OUT[0], POSITION
DCL OUT[1], GENERIC[0]
  0: MOV OUT[0], IN[0]
  1: MOV OUT[1], IN[1]
  2: END
";

const FS_COLOR: &str = "FRAG
DCL IN[0], GENERIC[0], PERSPECTIVE
DCL OUT[0], COLOR
  0: MOV OUT[0], IN[0]
  1: END
";

const FS_TEX: &str = "FRAG
DCL IN[0], GENERIC[0], PERSPECTIVE
DCL OUT[0], COLOR
DCL SAMP[0]
DCL SVIEW[0], 2D, FLOAT
  0: TEX OUT[0], IN[0], SAMP[0], 2D
  1: END
";

/// A vertex: clip-space position and a vec4 attribute.
type Vertex = ([f32; 4], [f32; 4]);

fn tex2d(handle: u32, format: u32, w: u32, h: u32, bind: u32) -> ResourceCreateArgs {
    ResourceCreateArgs {
        handle,
        target: pipe_target::TEXTURE_2D,
        format,
        bind,
        width: w,
        height: h,
        depth: 1,
        array_size: 1,
        ..Default::default()
    }
}

struct Scene {
    backend: VrendBackend,
    table: ResourceTable,
    ctx: Box<dyn Context>,
    enc: Encoder,
    next_handle: u32,
}

impl Scene {
    /// A 32x32 RGBA8 render target cleared to opaque black, a vertex buffer, viewport and the
    /// pass-through vertex shader.
    fn new() -> Self {
        let mut backend = VrendBackend::new(&EglOptions::default()).unwrap();
        let mut table = ResourceTable::new();
        let rt = tex2d(RT, vf::R8G8B8A8_UNORM, W, H, virgl_bind::RENDER_TARGET);
        add(&mut backend, &mut table, rt, u64::from(W * H * 4));
        let vb = ResourceCreateArgs {
            handle: VB,
            target: pipe_target::BUFFER,
            format: vf::R8_UNORM,
            bind: virgl_bind::VERTEX_BUFFER,
            width: 4096,
            height: 1,
            depth: 1,
            array_size: 1,
            ..Default::default()
        };
        add(&mut backend, &mut table, vb, 4096);
        let mut ctx = backend
            .create_context(1, virgl_protocol::caps::CAPSET_VIRGL2, "state-test")
            .unwrap();
        for r in [RT, VB] {
            ctx.attach_resource(&mut table, r);
        }
        let mut s = Scene {
            backend,
            table,
            ctx,
            enc: Encoder::new(),
            next_handle: 100,
        };
        let cb = s.handle();
        s.push(Command::CreateObject(CreateObject::Surface(Surface {
            handle: cb,
            res_handle: RT,
            format: vf::R8G8B8A8_UNORM,
            val0: 0,
            val1: 0,
        })));
        s.push(Command::SetFramebufferState(SetFramebufferState {
            zsurf_handle: 0,
            cbufs: &[cb],
        }));
        let vp = [16.0f32, 16.0, 0.5, 16.0, 16.0, 0.5].map(f32::to_bits);
        s.push(Command::SetViewportState(SetViewportStates {
            start_slot: 0,
            viewports: Records::<Viewport>::new(&vp),
        }));
        s.shader(ShaderType::Vertex, VS);
        let ve = s.handle();
        let elem = |src_offset| VertexElement {
            src_offset,
            instance_divisor: 0,
            vertex_buffer_index: 0,
            src_format: vf::R32G32B32A32_FLOAT,
        };
        let raw = VertexElements::dwords_of(&[elem(0), elem(16)]);
        s.push(Command::CreateObject(CreateObject::VertexElements(
            VertexElements::new(ve, &raw),
        )));
        s.push(Command::BindObject {
            object_type: ObjectType::VertexElements,
            handle: ve,
        });
        s.push(Command::Clear(Clear {
            buffers: 0x4,
            color: [0.0f32, 0.0, 0.0, 1.0].map(f32::to_bits),
            depth: 1.0,
            stencil: 0,
        }));
        s
    }

    fn handle(&mut self) -> u32 {
        self.next_handle += 1;
        self.next_handle
    }

    fn push(&mut self, c: Command<'_>) {
        self.enc.push(&c).unwrap();
    }

    fn flush(&mut self) {
        let cmds = std::mem::take(&mut self.enc);
        self.ctx
            .submit_cmd(&mut self.table, cmds.as_slice())
            .unwrap();
    }

    /// Creates and binds a shader of `ty`.
    fn shader(&mut self, ty: ShaderType, text: &str) {
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
            .unwrap();
        self.push(Command::BindShader(BindShader {
            handle: h,
            shader_type: ty,
        }));
    }

    fn write(&mut self, res: u32, width: u32, height: u32, stride: u32, data: &[u8]) {
        let mut padded = data.to_vec();
        padded.resize(data.len().div_ceil(4) * 4, 0);
        let dwords = virgl_protocol::command::bytes_to_dwords(&padded);
        let region = TransferRegion {
            handle: res,
            level: 0,
            usage: 0,
            stride,
            layer_stride: 0,
            bx: Box3 {
                x: 0,
                y: 0,
                z: 0,
                width,
                height,
                depth: 1,
            },
        };
        self.push(Command::ResourceInlineWrite(ResourceInlineWrite {
            region,
            data: &dwords,
        }));
    }

    fn draw(&mut self, v: &[Vertex]) {
        let flat: Vec<u8> = v
            .iter()
            .flat_map(|(p, a)| p.iter().chain(a))
            .flat_map(|f| f.to_le_bytes())
            .collect();
        self.write(VB, flat.len() as u32, 1, 0, &flat);
        let vb = [VertexBuffer {
            stride: 32,
            offset: 0,
            handle: VB,
        }];
        let raw = Records::<VertexBuffer>::dwords_of(&vb);
        self.push(Command::SetVertexBuffers(Records::new(&raw)));
        self.push(Command::DrawVbo(DrawVbo {
            mode: TRIANGLES,
            count: v.len() as u32,
            instance_count: 1,
            max_index: v.len() as u32 - 1,
            ..Default::default()
        }));
    }

    fn rasterizer(&mut self, cull_face: u8, fill_front: u8, fill_back: u8) {
        let h = self.handle();
        self.push(Command::CreateObject(CreateObject::Rasterizer(
            RasterizerState {
                handle: h,
                flags: RasterizerFlags::FRONT_CCW
                    | RasterizerFlags::DEPTH_CLIP
                    | RasterizerFlags::HALF_PIXEL_CENTER,
                cull_face,
                fill_front,
                fill_back,
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
        self.push(Command::BindObject {
            object_type: ObjectType::Rasterizer,
            handle: h,
        });
    }

    /// A 2x2 texture of `format` with `texels`, sampled by the fragment shader through a
    /// sampler wrapping with `wrap` and filtering with `filter` (0 nearest, 1 linear).
    fn texture(&mut self, format: u32, texels: &[u8], wrap: u8, filter: u8, border: [f32; 4]) {
        let args = tex2d(TEX, format, 2, 2, virgl_bind::SAMPLER_VIEW);
        add(&mut self.backend, &mut self.table, args, 16);
        self.ctx.attach_resource(&mut self.table, TEX);
        let stride = texels.len() as u32 / 2;
        self.write(TEX, 2, 2, stride, texels);
        let view = self.handle();
        self.push(Command::CreateObject(CreateObject::SamplerView(
            SamplerView {
                handle: view,
                res_handle: TEX,
                format,
                target: 2,
                val0: 0,
                val1: 0,
                swizzle: [0, 1, 2, 3],
            },
        )));
        let smp = self.handle();
        self.push(Command::CreateObject(CreateObject::SamplerState(
            SamplerState {
                handle: smp,
                wrap_s: wrap,
                wrap_t: wrap,
                wrap_r: wrap,
                min_img_filter: filter,
                min_mip_filter: 2,
                mag_img_filter: filter,
                compare_mode: false,
                compare_func: 0,
                seamless_cube_map: false,
                max_anisotropy: 0,
                lod_bias: 0.0,
                min_lod: 0.0,
                max_lod: 0.0,
                border_color: border.map(f32::to_bits),
            },
        )));
        self.push(Command::SetSamplerViews(SetSamplerViews {
            shader_type: ShaderType::Fragment,
            start_slot: 0,
            handles: &[view],
        }));
        self.push(Command::BindSamplerStates(BindSamplerStates {
            shader_type: ShaderType::Fragment,
            start_slot: 0,
            handles: &[smp],
        }));
        self.shader(ShaderType::Fragment, FS_TEX);
    }

    /// Reads the render target back (rows in memory order).
    fn pixels(&mut self) -> Vec<[u8; 4]> {
        let region = TransferRegion {
            handle: RT,
            level: 0,
            usage: 0,
            stride: W * 4,
            layer_stride: 0,
            bx: Box3 {
                x: 0,
                y: 0,
                z: 0,
                width: W,
                height: H,
                depth: 1,
            },
        };
        self.push(Command::Transfer3d(Transfer3d {
            region,
            offset: 0,
            direction: WireDirection::FromHost,
        }));
        self.flush();
        let mut px = vec![0u8; (W * H * 4) as usize];
        self.table
            .get_mut(RT)
            .unwrap()
            .backing_for_cpu()
            .unwrap()
            .read_at(0, &mut px)
            .unwrap();
        px.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect()
    }
}

fn add(backend: &mut VrendBackend, table: &mut ResourceTable, args: ResourceCreateArgs, size: u64) {
    let shm = SharedMemory::new("vrend-state", size).unwrap();
    table
        .insert(Resource::pipe(args).with_backing(Backing::Shm(shm)))
        .unwrap();
    backend.create_resource(table, &args).unwrap();
}

fn at(px: &[[u8; 4]], x: u32, y: u32) -> [u8; 4] {
    px[(y * W + x) as usize]
}

/// A full-screen quad whose attribute is `attr` everywhere.
fn screen(attr: [f32; 4]) -> [Vertex; 6] {
    let c = |x: f32, y: f32| ([x, y, 0.5, 1.0], attr);
    [
        c(-1.0, -1.0),
        c(1.0, -1.0),
        c(-1.0, 1.0),
        c(-1.0, 1.0),
        c(1.0, -1.0),
        c(1.0, 1.0),
    ]
}

#[test]
fn front_and_back_faces_keep_their_own_polygon_modes() {
    const RED: [f32; 4] = [1.0, 0.0, 0.0, 1.0];
    const GREEN: [f32; 4] = [0.0, 1.0, 0.0, 1.0];
    // In Gallium's window space (y down) with FRONT_CCW, this left-half triangle is a back
    // face and the right-half one (opposite winding) a front face. Vertices sit on pixel
    // centres (1.5, 13.5 / 18.5, 30.5) so that their points cover whole pixels.
    let (a, b) = (1.5 / 16.0 - 1.0, 13.5 / 16.0 - 1.0);
    let (c, d) = (18.5 / 16.0 - 1.0, 30.5 / 16.0 - 1.0);
    let back = [
        ([a, a, 0.5, 1.0], RED),
        ([b, a, 0.5, 1.0], RED),
        ([a, d, 0.5, 1.0], RED),
    ];
    let front = [
        ([c, a, 0.5, 1.0], GREEN),
        ([c, d, 0.5, 1.0], GREEN),
        ([d, a, 0.5, 1.0], GREEN),
    ];
    let mut s = Scene::new();
    s.shader(ShaderType::Fragment, FS_COLOR);
    // Front faces filled, back faces as points (PIPE_POLYGON_MODE_POINT = 2), no culling.
    s.rasterizer(0, 0, 2);
    s.draw(&[back, front].concat());
    let px = s.pixels();
    assert_eq!(at(&px, 22, 4), [0, 255, 0, 255], "the front face is filled");
    assert_eq!(
        at(&px, 4, 4),
        [0, 0, 0, 255],
        "the back face is only points"
    );
    let red_pixels = px.iter().filter(|p| **p == [255, 0, 0, 255]).count();
    assert!(
        (3..=12).contains(&red_pixels),
        "{red_pixels} red pixels: the back face's three vertices"
    );
    // The other way round: back faces filled, front faces as points.
    let mut s = Scene::new();
    s.shader(ShaderType::Fragment, FS_COLOR);
    s.rasterizer(0, 2, 0);
    s.draw(&[back, front].concat());
    let px = s.pixels();
    assert_eq!(at(&px, 4, 4), [255, 0, 0, 255], "the back face is filled");
    assert_eq!(
        at(&px, 22, 4),
        [0, 0, 0, 255],
        "the front face is only points"
    );
    // Culling the back face leaves the front face's mode alone.
    let mut s = Scene::new();
    s.shader(ShaderType::Fragment, FS_COLOR);
    s.rasterizer(2, 0, 2);
    s.draw(&[back, front].concat());
    let px = s.pixels();
    assert_eq!(at(&px, 22, 4), [0, 255, 0, 255]);
    assert!(
        px.iter().all(|p| *p != [255, 0, 0, 255]),
        "the back face is culled"
    );
}

#[test]
fn alpha_textures_take_the_border_alpha() {
    let mut s = Scene::new();
    // A8 texels of 255; the border colour's alpha is 0.8 (PIPE_TEX_WRAP_CLAMP_TO_BORDER = 3).
    s.texture(
        vf::A8_UNORM,
        &[255, 255, 255, 255],
        3,
        0,
        [0.0, 0.0, 0.0, 0.8],
    );
    s.draw(&screen([-1.0, 0.5, 0.0, 1.0]));
    let px = s.pixels();
    assert_eq!(at(&px, 16, 16), [0, 0, 0, 204]);
}

#[test]
fn gl_clamp_with_linear_filtering_blends_with_the_border() {
    let white = [255u8; 16];
    // PIPE_TEX_WRAP_CLAMP = 1; s = 1.0 lies on the texture's right edge, s = 2.0 is clamped
    // there: half edge texel, half border colour (black) under linear filtering.
    for s_coord in [1.0f32, 2.0] {
        let mut s = Scene::new();
        s.texture(vf::R8G8B8A8_UNORM, &white, 1, 1, [0.0, 0.0, 0.0, 1.0]);
        s.draw(&screen([s_coord, 0.5, 0.0, 1.0]));
        let px = s.pixels();
        let [r, _, _, a] = at(&px, 16, 16);
        assert!((126..=129).contains(&r), "s = {s_coord}: red {r}");
        assert_eq!(a, 255);
    }
    // Nearest filtering: the edge texel (CLAMP_TO_EDGE behaviour).
    let mut s = Scene::new();
    s.texture(vf::R8G8B8A8_UNORM, &white, 1, 0, [0.0, 0.0, 0.0, 1.0]);
    s.draw(&screen([2.0, 0.5, 0.0, 1.0]));
    assert_eq!(at(&s.pixels(), 16, 16), [255, 255, 255, 255]);
}
