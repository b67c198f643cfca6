//! Draws on a host GLES context (llvmpipe's GLES 3.2 through EGL surfaceless), next to the same
//! draws on desktop GL: what Mesa's virgl driver sends must give the same pixels on both.
//!
//! Covers the GLES paths that differ from desktop GL: `gl_FragCoord` conventions (GLSL ES has
//! no `layout(origin_upper_left, pixel_center_integer)`: the shader flips y against the
//! framebuffer height and shifts the centres itself), on normal and Y_0_TOP (bottom-up)
//! render targets; blend state without logic ops (GLES has no `GL_COLOR_LOGIC_OP`: touching it
//! is an error that used to break every context's first draw); depth readback (GLES has no
//! glGetTexImage: glReadPixels on the depth attachment, NV_read_depth).

use virgl_protocol::command::{
    BindShader, BlendState, Box3, Clear, Command, CreateObject, DrawVbo, Encoder, ObjectType,
    Records, ResourceInlineWrite, RtBlend, SetFramebufferState, SetViewportStates, ShaderSource,
    Surface, Transfer3d, TransferRegion, VertexBuffer, VertexElement, VertexElements, Viewport,
};
use virgl_protocol::pipe::{ShaderType, TransferDirection as WireDirection};
use virgl_resource::{
    Backend, Backing, Context, GuestMemory, Resource, ResourceCreateArgs, ResourceTable,
    SharedMemory,
};
use virgl_vrend::formats::vf;
use virgl_vrend::{pipe_target, virgl_bind, EglOptions, VrendBackend, RESOURCE_Y_0_TOP};

const W: u32 = 32;
const H: u32 = 24;
const RT: u32 = 1;
const VB: u32 = 2;
const TRIANGLES: u32 = 4;

const VS: &str = "VERT
DCL IN[0]
DCL OUT[0], POSITION
  0: MOV OUT[0], IN[0]
  1: END
";

struct Scene {
    backend: VrendBackend,
    table: ResourceTable,
    ctx: Box<dyn Context>,
    enc: Encoder,
    next_handle: u32,
}

fn resource(
    backend: &mut VrendBackend,
    table: &mut ResourceTable,
    args: ResourceCreateArgs,
    size: u64,
) {
    let shm = SharedMemory::new("vrend-gles", size).unwrap();
    table
        .insert(Resource::pipe(args).with_backing(Backing::Shm(shm)))
        .unwrap();
    backend.create_resource(table, &args).unwrap();
}

impl Scene {
    /// A 32x32 RGBA8 render target (`flags` = its resource flags) on a GLES or desktop host,
    /// a full-window viewport, a pass-through vertex shader and a quad covering the target.
    fn new(use_gles: bool, flags: u32) -> Self {
        Self::with_viewport(use_gles, flags, flags & RESOURCE_Y_0_TOP != 0)
    }

    /// As [`Scene::new`], the viewport's y scale negative when `flip`.
    fn with_viewport(use_gles: bool, flags: u32, flip: bool) -> Self {
        let mut backend = VrendBackend::new(&EglOptions {
            use_gles,
            ..Default::default()
        })
        .unwrap();
        let mut table = ResourceTable::new();
        let rt = ResourceCreateArgs {
            handle: RT,
            target: pipe_target::TEXTURE_2D,
            format: vf::R8G8B8A8_UNORM,
            bind: virgl_bind::RENDER_TARGET,
            width: W,
            height: H,
            depth: 1,
            array_size: 1,
            flags,
            ..Default::default()
        };
        resource(&mut backend, &mut table, rt, u64::from(W * H * 4));
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
        resource(&mut backend, &mut table, vb, 4096);
        let mut ctx = backend
            .create_context(1, virgl_protocol::caps::CAPSET_VIRGL2, "gles-test")
            .unwrap();
        ctx.attach_resource(&mut table, RT);
        ctx.attach_resource(&mut table, VB);
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
        // Mesa draws into window-system buffers with y inverted.
        let sy = if flip { -16.0f32 } else { 16.0 };
        let vp = [16.0f32, sy, 0.5, 16.0, 16.0, 0.5].map(f32::to_bits);
        s.push(Command::SetViewportState(SetViewportStates {
            start_slot: 0,
            viewports: Records::<Viewport>::new(&vp),
        }));
        let vs = s.shader(ShaderType::Vertex, VS);
        s.bind(ShaderType::Vertex, vs);
        let ve = s.handle();
        let elems = [VertexElement {
            src_offset: 0,
            instance_divisor: 0,
            vertex_buffer_index: 0,
            src_format: vf::R32G32B32A32_FLOAT,
        }];
        let raw = VertexElements::dwords_of(&elems);
        s.push(Command::CreateObject(CreateObject::VertexElements(
            VertexElements::new(ve, &raw),
        )));
        s.push(Command::BindObject {
            object_type: ObjectType::VertexElements,
            handle: ve,
        });
        s.quad();
        s.push(Command::Clear(Clear {
            buffers: 0x4,
            color: [0.0, 0.0, 0.0, 1.0f32].map(f32::to_bits),
            depth: 1.0,
            stencil: 0,
        }));
        s
    }

    /// A 2D texture resource of `format`, attached to the context.
    fn texture(&mut self, handle: u32, format: u32, bind: u32, bytes_per_px: u32) {
        let args = ResourceCreateArgs {
            handle,
            target: pipe_target::TEXTURE_2D,
            format,
            bind,
            width: W,
            height: H,
            depth: 1,
            array_size: 1,
            ..Default::default()
        };
        let size = u64::from(W * H * bytes_per_px);
        resource(&mut self.backend, &mut self.table, args, size);
        self.ctx.attach_resource(&mut self.table, handle);
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

    fn shader(&mut self, ty: ShaderType, text: &str) -> u32 {
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
        h
    }

    fn bind(&mut self, ty: ShaderType, handle: u32) {
        self.push(Command::BindShader(BindShader {
            handle,
            shader_type: ty,
        }));
    }

    /// Two triangles covering the target, as vertex buffer 0.
    fn quad(&mut self) {
        let corners = [
            [-1.0f32, -1.0],
            [1.0, -1.0],
            [-1.0, 1.0],
            [-1.0, 1.0],
            [1.0, -1.0],
            [1.0, 1.0],
        ];
        let bytes: Vec<u8> = corners
            .iter()
            .flat_map(|[x, y]| [*x, *y, 0.5, 1.0])
            .flat_map(f32::to_le_bytes)
            .collect();
        let region = TransferRegion {
            handle: VB,
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
        };
        let dwords = virgl_protocol::command::bytes_to_dwords(&bytes);
        self.push(Command::ResourceInlineWrite(ResourceInlineWrite {
            region,
            data: &dwords,
        }));
        let vb = [VertexBuffer {
            stride: 16,
            offset: 0,
            handle: VB,
        }];
        let raw = Records::<VertexBuffer>::dwords_of(&vb);
        self.push(Command::SetVertexBuffers(Records::new(&raw)));
    }

    fn draw(&mut self) {
        self.push(Command::DrawVbo(DrawVbo {
            mode: TRIANGLES,
            count: 6,
            instance_count: 1,
            max_index: 5,
            ..Default::default()
        }));
    }

    /// The render target as the guest sees it (rows in memory order: Gallium's y = 0 first).
    fn pixels(&mut self) -> Vec<[u8; 4]> {
        self.read(RT)
            .chunks(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect()
    }

    /// The bytes of 4-byte-per-pixel texture `res` as the guest reads them back.
    fn read(&mut self, res: u32) -> Vec<u8> {
        let region = TransferRegion {
            handle: res,
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
            .get_mut(res)
            .unwrap()
            .backing_for_cpu()
            .unwrap()
            .read_at(0, &mut px)
            .unwrap();
        px
    }
}

/// Red = gl_FragCoord.y / 32 under the given conventions.
fn fs_fragcoord(origin: &str, center: &str) -> String {
    format!(
        "FRAG
PROPERTY FS_COORD_ORIGIN {origin}
PROPERTY FS_COORD_PIXEL_CENTER {center}
DCL IN[0], POSITION, LINEAR
DCL OUT[0], COLOR
IMM[0] FLT32 {{ 0.03125, 0.0000, 1.0000, 0.0000}}
  0: MUL OUT[0].x, IN[0].yyyy, IMM[0].xxxx
  1: MOV OUT[0].yzw, IMM[0].wwwz
  2: END
"
    )
}

/// Red of guest row `row` for gl_FragCoord.y in Gallium's window rows.
fn expected(origin_upper: bool, integer: bool, row: u32) -> u8 {
    let y = if origin_upper { row } else { H - 1 - row } as f32;
    let y = if integer { y } else { y + 0.5 };
    (y / 32.0 * 255.0).round() as u8
}

fn fragcoord_rows(use_gles: bool, flags: u32, flip: bool) {
    for (origin, upper) in [("UPPER_LEFT", true), ("LOWER_LEFT", false)] {
        for (center, integer) in [("HALF_INTEGER", false), ("INTEGER", true)] {
            let mut s = Scene::with_viewport(use_gles, flags, flip);
            let fs = s.shader(ShaderType::Fragment, &fs_fragcoord(origin, center));
            s.bind(ShaderType::Fragment, fs);
            s.draw();
            let px = s.pixels();
            for row in [0, 1, H / 2, H - 2, H - 1] {
                let got = px[(row * W + 5) as usize][0];
                let want = expected(upper, integer, row);
                assert!(
                    got.abs_diff(want) <= 1,
                    "gles {use_gles} flags {flags:#x} flip {flip} {origin} {center}: row {row} red {got}, \
                     want {want}"
                );
            }
        }
    }
}

#[test]
fn frag_coord_conventions_on_gles_match_desktop() {
    for use_gles in [false, true] {
        for flip in [false, true] {
            fragcoord_rows(use_gles, 0, flip);
            fragcoord_rows(use_gles, RESOURCE_Y_0_TOP, flip);
        }
    }
}

#[test]
fn blend_state_without_logic_ops_draws_on_gles() {
    let mut s = Scene::new(true, 0);
    let h = s.handle();
    let rt = RtBlend {
        colormask: 0xf,
        ..Default::default()
    };
    s.push(Command::CreateObject(CreateObject::Blend(BlendState {
        handle: h,
        independent_blend_enable: false,
        logicop_enable: false,
        dither: true,
        alpha_to_coverage: false,
        alpha_to_one: false,
        logicop_func: 0,
        rt: [rt; 8],
    })));
    s.push(Command::BindObject {
        object_type: ObjectType::Blend,
        handle: h,
    });
    let fs = s.shader(
        ShaderType::Fragment,
        "FRAG
DCL OUT[0], COLOR
IMM[0] FLT32 { 0.0000, 1.0000, 0.0000, 1.0000}
  0: MOV OUT[0], IMM[0]
  1: END
",
    );
    s.bind(ShaderType::Fragment, fs);
    s.draw();
    let px = s.pixels();
    assert_eq!(px[(7 * W + 9) as usize], [0, 255, 0, 255]);
}

#[test]
fn depth_reads_back_on_gles() {
    const DEPTH: u32 = 3;
    for use_gles in [false, true] {
        let mut s = Scene::new(use_gles, 0);
        s.texture(DEPTH, vf::Z32_FLOAT, virgl_bind::DEPTH_STENCIL, 4);
        let zs = s.handle();
        s.push(Command::CreateObject(CreateObject::Surface(Surface {
            handle: zs,
            res_handle: DEPTH,
            format: vf::Z32_FLOAT,
            val0: 0,
            val1: 0,
        })));
        s.push(Command::SetFramebufferState(SetFramebufferState {
            zsurf_handle: zs,
            cbufs: &[],
        }));
        s.push(Command::Clear(Clear {
            buffers: 0x1,
            color: [0; 4],
            depth: 0.25,
            stencil: 0,
        }));
        let z = s.read(DEPTH);
        for px in [0usize, 17, (W * H - 1) as usize] {
            let v = f32::from_le_bytes(z[px * 4..px * 4 + 4].try_into().unwrap());
            assert_eq!(v, 0.25, "gles {use_gles}: pixel {px}");
        }
    }
}
