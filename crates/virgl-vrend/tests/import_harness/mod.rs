//! The GL side of the import tests: a GL context with a render target and a vertex buffer,
//! a Venus-like blob over exported Vulkan memory, PIPE_RESOURCE_SET_TYPE streams and image
//! comparisons.
#![allow(dead_code, unused_imports)]

pub use super::import_vk::{memfd_mappings, open_fds, ExportedImage};
pub use virgl_protocol::command::{
    BindSamplerStates, BindShader, Box3, Command, CreateObject, DrawVbo, Encoder, ObjectType,
    PipeResourceSetType, Records, ResourceInlineWrite, SamplerState, SamplerView,
    SetFramebufferState, SetSamplerViews, SetViewportStates, ShaderSource, Surface, Transfer3d,
    TransferRegion, VertexBuffer, VertexElement, VertexElements, Viewport,
};
use virgl_protocol::pipe::{ShaderType, TransferDirection as WireDirection};
pub use virgl_resource::{
    Backend, Backing, BlobFlags, BlobInfo, BlobMem, Context, ContextBlob, ContextError, FdMemory,
    FdType, GuestMemory, ImageDesc, Resource, ResourceCreateArgs, ResourceError, ResourceTable,
    SharedMemory, VulkanInfo,
};
pub use virgl_vrend::formats::vf;
pub use virgl_vrend::{
    pipe_target, virgl_bind, EglOptions, EglProvider, GlContextProvider, GlImport, VrendBackend,
};

pub const W: u32 = 64;
pub const H: u32 = 32;
pub const RT: u32 = 1;
pub const VB: u32 = 2;
pub const IMG: u32 = 10;

/// The window image's texel (x, y) in memory order B, G, R, A.
pub fn bgra(x: u32, y: u32) -> [u8; 4] {
    [
        (x * 4) as u8,
        (y * 8) as u8,
        (255 - x * 4) as u8,
        (0x80 | (x + y)) as u8,
    ]
}

pub fn rgba(x: u32, y: u32) -> [u8; 4] {
    let [b, g, r, a] = bgra(x, y);
    [r, g, b, a]
}

pub const VS: &str = "VERT
DCL IN[0]
DCL IN[1]
DCL OUT[0], POSITION
DCL OUT[1], GENERIC[0]
  0: MOV OUT[0], IN[0]
  1: MOV OUT[1], IN[1]
  2: END
";

pub const FS_TEX: &str = "FRAG
DCL IN[0], GENERIC[0], PERSPECTIVE
DCL OUT[0], COLOR
DCL SAMP[0]
DCL SVIEW[0], 2D, FLOAT
  0: TEX OUT[0], IN[0], SAMP[0], 2D
  1: END
";

pub fn tex2d(handle: u32, format: u32, bind: u32) -> ResourceCreateArgs {
    ResourceCreateArgs {
        handle,
        target: pipe_target::TEXTURE_2D,
        format,
        bind,
        width: W,
        height: H,
        depth: 1,
        array_size: 1,
        ..Default::default()
    }
}

pub fn add(
    backend: &mut VrendBackend,
    table: &mut ResourceTable,
    args: ResourceCreateArgs,
    size: u64,
) {
    let shm = SharedMemory::new("import-test", size).unwrap();
    table
        .insert(Resource::pipe(args).with_backing(Backing::Shm(shm)))
        .unwrap();
    backend.create_resource(table, &args).unwrap();
}

/// Puts the image's memory in the table the way a Venus context's `get_blob` hands it over.
pub fn insert_venus_blob(table: &mut ResourceTable, img: &ExportedImage, res_id: u32) {
    let memory = FdMemory::from_fd(FdType::Opaque, img.export_fd(), img.size)
        .unwrap()
        .with_vulkan_info(VulkanInfo {
            device_uuid: img.device_uuid,
            driver_uuid: img.driver_uuid,
            allocation_size: img.size,
            memory_type_index: img.memory_type_index,
        });
    let info = BlobInfo {
        blob_mem: BlobMem::Host3d,
        blob_flags: BlobFlags::SHAREABLE,
        blob_id: 1,
        size: img.size,
    };
    let blob = ContextBlob::Memory {
        memory,
        image: None,
    };
    let res = Resource::from_context_blob(res_id, info, blob, None)
        .unwrap()
        .with_owner(2);
    table.insert(res).unwrap();
}

pub fn set_type(res_id: u32, format: u32, planes: &[u32]) -> Vec<u32> {
    let mut enc = Encoder::new();
    enc.push(&Command::PipeResourceSetType(PipeResourceSetType {
        handle: res_id,
        format,
        bind: virgl_bind::SAMPLER_VIEW | virgl_bind::SCANOUT,
        width: W,
        height: H,
        usage: 0,
        modifier: 0, // DRM_FORMAT_MOD_LINEAR
        planes: Records::new(planes),
    }))
    .unwrap();
    enc.as_slice().to_vec()
}

pub struct Gl {
    pub backend: VrendBackend,
    pub table: ResourceTable,
    pub ctx: Box<dyn Context>,
    enc: Encoder,
    next: u32,
}

impl Gl {
    pub fn new() -> Self {
        let mut backend = VrendBackend::new(&EglOptions::default()).unwrap();
        let mut table = ResourceTable::new();
        let rt = tex2d(RT, vf::R8G8B8A8_UNORM, virgl_bind::RENDER_TARGET);
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
            .create_context(1, virgl_protocol::caps::CAPSET_VIRGL2, "import-test")
            .unwrap();
        for r in [RT, VB] {
            table.attach(1, r).unwrap();
            ctx.attach_resource(&mut table, r);
        }
        Gl {
            backend,
            table,
            ctx,
            enc: Encoder::new(),
            next: 100,
        }
    }

    pub fn attach(&mut self, res_id: u32) {
        let _ = self.table.attach(1, res_id);
        self.ctx.attach_resource(&mut self.table, res_id);
    }

    pub fn handle(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    pub fn push(&mut self, c: Command<'_>) {
        self.enc.push(&c).unwrap();
    }

    pub fn flush(&mut self) -> Result<(), ContextError> {
        let cmds = std::mem::take(&mut self.enc);
        self.ctx.submit_cmd(&mut self.table, cmds.as_slice())
    }

    pub fn shader(&mut self, ty: ShaderType, text: &str) {
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

    /// Samples `res` (viewed as `format`) 1:1 over the whole render target.
    pub fn draw_sampled(&mut self, res: u32, format: u32) {
        let cb = self.handle();
        self.push(Command::CreateObject(CreateObject::Surface(Surface {
            handle: cb,
            res_handle: RT,
            format: vf::R8G8B8A8_UNORM,
            val0: 0,
            val1: 0,
        })));
        self.push(Command::SetFramebufferState(SetFramebufferState {
            zsurf_handle: 0,
            cbufs: &[cb],
        }));
        let (hw, hh) = (W as f32 / 2.0, H as f32 / 2.0);
        let vp = [hw, hh, 0.5, hw, hh, 0.5].map(f32::to_bits);
        self.push(Command::SetViewportState(SetViewportStates {
            start_slot: 0,
            viewports: Records::<Viewport>::new(&vp),
        }));
        self.shader(ShaderType::Vertex, VS);
        self.shader(ShaderType::Fragment, FS_TEX);
        let ve = self.handle();
        let elems = [0, 16].map(|src_offset| VertexElement {
            src_offset,
            instance_divisor: 0,
            vertex_buffer_index: 0,
            src_format: vf::R32G32B32A32_FLOAT,
        });
        let raw = VertexElements::dwords_of(&elems);
        self.push(Command::CreateObject(CreateObject::VertexElements(
            VertexElements::new(ve, &raw),
        )));
        self.push(Command::BindObject {
            object_type: ObjectType::VertexElements,
            handle: ve,
        });
        let view = self.handle();
        self.push(Command::CreateObject(CreateObject::SamplerView(
            SamplerView {
                handle: view,
                res_handle: res,
                format,
                target: pipe_target::TEXTURE_2D as u8,
                val0: 0,
                val1: 0,
                swizzle: [0, 1, 2, 3],
            },
        )));
        let smp = self.handle();
        self.push(Command::CreateObject(CreateObject::SamplerState(
            SamplerState {
                handle: smp,
                wrap_s: 2,
                wrap_t: 2,
                wrap_r: 2,
                min_img_filter: 0,
                min_mip_filter: 2,
                mag_img_filter: 0,
                compare_mode: false,
                compare_func: 0,
                seamless_cube_map: false,
                max_anisotropy: 0,
                lod_bias: 0.0,
                min_lod: 0.0,
                max_lod: 0.0,
                border_color: [0; 4],
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
        // A full-screen quad; texture coordinates (0,0) at memory row 0, like the window
        // coordinates the render target is read back in.
        let corners = [
            (-1.0f32, -1.0f32),
            (1.0, -1.0),
            (-1.0, 1.0),
            (1.0, -1.0),
            (1.0, 1.0),
            (-1.0, 1.0),
        ];
        let flat: Vec<f32> = corners
            .iter()
            .flat_map(|&(x, y)| [x, y, 0.5, 1.0, (x + 1.0) / 2.0, (y + 1.0) / 2.0, 0.0, 1.0])
            .collect();
        let bytes: Vec<u8> = flat.iter().flat_map(|f| f.to_le_bytes()).collect();
        let dwords = virgl_protocol::command::bytes_to_dwords(&bytes);
        self.push(Command::ResourceInlineWrite(ResourceInlineWrite {
            region: TransferRegion {
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
            },
            data: &dwords,
        }));
        let vb = [VertexBuffer {
            stride: 32,
            offset: 0,
            handle: VB,
        }];
        let raw = Records::<VertexBuffer>::dwords_of(&vb);
        self.push(Command::SetVertexBuffers(Records::new(&raw)));
        self.push(Command::DrawVbo(DrawVbo {
            mode: 4, // TRIANGLES
            count: 6,
            instance_count: 1,
            max_index: 5,
            ..Default::default()
        }));
    }

    /// The render target's pixels, row 0 first.
    pub fn rt_pixels(&mut self) -> Vec<u8> {
        self.push(Command::Transfer3d(Transfer3d {
            region: TransferRegion {
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
            },
            offset: 0,
            direction: WireDirection::FromHost,
        }));
        self.flush().unwrap();
        let mut px = vec![0u8; (W * H * 4) as usize];
        self.table
            .get_mut(RT)
            .unwrap()
            .backing_for_cpu()
            .unwrap()
            .read_at(0, &mut px)
            .unwrap();
        px
    }
}

pub fn expected(pixel: fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    (0..H)
        .flat_map(|y| (0..W).flat_map(move |x| pixel(x, y)))
        .collect()
}

/// Compares images, naming the first differing pixel instead of printing both.
pub fn same(got: &[u8], want: &[u8], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: size");
    if let Some(i) = (0..got.len() / 4).find(|&i| got[i * 4..i * 4 + 4] != want[i * 4..i * 4 + 4]) {
        let (x, y) = (i as u32 % W, i as u32 / W);
        panic!(
            "{what}: pixel ({x}, {y}) is {:?}, expected {:?}",
            &got[i * 4..i * 4 + 4],
            &want[i * 4..i * 4 + 4]
        );
    }
}

pub fn image() -> Option<ExportedImage> {
    let img = ExportedImage::new(W, H, bgra);
    if img.is_none() {
        eprintln!("skipped: no Vulkan device exporting opaque fds");
    }
    img
}
