//! Command streams executed on llvmpipe: caps, surfaces + framebuffer + clear read back through
//! a transfer, blits, region copies, inline writes, broken-context isolation.

use virgl_protocol::caps::{CapsV1, CapsV2, VirglCaps, CAPSET_VIRGL, CAPSET_VIRGL2};
use virgl_resource::{
    Backend, Context, ContextError, ResourceCreateArgs, ResourceTable, TransferDirection,
    TransferRequest,
};
use virgl_vrend::formats::vf;
use virgl_vrend::{pipe_target, virgl_bind, EglOptions, VrendBackend, RESOURCE_Y_0_TOP};

const CREATE_OBJECT: u32 = 1;
const SET_FRAMEBUFFER_STATE: u32 = 5;
const CLEAR: u32 = 7;
const DRAW_VBO: u32 = 8;
const RESOURCE_INLINE_WRITE: u32 = 9;
const BLIT: u32 = 16;
const RESOURCE_COPY_REGION: u32 = 17;
const SET_SUB_CTX: u32 = 28;
const CREATE_SUB_CTX: u32 = 29;
const CLEAR_TEXTURE: u32 = 47;
const OBJ_SURFACE: u32 = 8;
const PIPE_CLEAR_COLOR0: u32 = 4;

fn cmd(out: &mut Vec<u32>, cmd: u32, obj: u32, payload: &[u32]) {
    out.push(cmd | (obj << 8) | ((payload.len() as u32) << 16));
    out.extend_from_slice(payload);
}

fn tex2d(handle: u32, format: u32, w: u32, h: u32) -> ResourceCreateArgs {
    ResourceCreateArgs {
        handle,
        target: pipe_target::TEXTURE_2D,
        format,
        bind: virgl_bind::RENDER_TARGET | virgl_bind::SAMPLER_VIEW,
        width: w,
        height: h,
        depth: 1,
        array_size: 1,
        ..Default::default()
    }
}

fn clear_cmds(out: &mut Vec<u32>, surface: u32, res: u32, format: u32, rgba: [f32; 4]) {
    cmd(
        out,
        CREATE_OBJECT,
        OBJ_SURFACE,
        &[surface, res, format, 0, 0],
    );
    cmd(out, SET_FRAMEBUFFER_STATE, 0, &[1, 0, surface]);
    let mut p = vec![PIPE_CLEAR_COLOR0];
    p.extend(rgba.map(f32::to_bits));
    p.extend([0, 0, 0]);
    cmd(out, CLEAR, 0, &p);
}

fn read_rgba8(b: &VrendBackend, res: u32, w: u32, h: u32) -> Vec<u8> {
    let mut mem = vec![0u8; (w * h * 4) as usize];
    let req = TransferRequest {
        res_id: res,
        width: w,
        height: h,
        depth: 1,
        ..Default::default()
    };
    b.transfer_with(&req, TransferDirection::FromHost, &mut mem)
        .unwrap();
    mem
}

struct Setup {
    backend: VrendBackend,
    table: ResourceTable,
}

fn setup() -> Setup {
    Setup {
        backend: VrendBackend::new(&EglOptions::default()).unwrap(),
        table: ResourceTable::new(),
    }
}

impl Setup {
    fn resource(&mut self, args: ResourceCreateArgs) {
        self.backend
            .create_resource(&mut self.table, &args)
            .unwrap();
    }
    fn context(&mut self, id: u32, resources: &[u32]) -> Box<dyn Context> {
        let mut ctx = self
            .backend
            .create_context(id, CAPSET_VIRGL2, "test")
            .unwrap();
        for &r in resources {
            ctx.attach_resource(&mut self.table, r);
        }
        ctx
    }
}

#[test]
fn caps_match_upstream_rules_on_llvmpipe() {
    let s = setup();
    let caps = s.backend.caps();
    if !s.backend.host().renderer.contains("llvmpipe") {
        // The expected values are llvmpipe's (what the project machines and CI run).
        eprintln!(
            "skipped: host GL is {}, not llvmpipe",
            s.backend.host().renderer
        );
        return;
    }
    assert_eq!(caps.host_feature_check_version, 23);
    assert!(caps.renderer().contains("LLVMPIPE"), "{}", caps.renderer());
    assert!(!caps.renderer().contains("llvmpipe"));
    // GL 4.5 core host: GLSL level 450, like upstream on the same host.
    assert_eq!(caps.v1.glsl_level, 450);
    assert!(caps
        .capability_bits
        .contains(VirglCaps::COPY_TRANSFER | VirglCaps::TRANSFER));
    assert!(caps.v1.max_render_targets >= 4 && caps.v1.max_render_targets <= 8);
    assert!(caps.v1.max_samples >= 4);
    let (v, size) = s.backend.capset_info(CAPSET_VIRGL2).unwrap();
    assert_eq!((v, size as usize), (2, CapsV2::SIZE));
    assert_eq!(
        s.backend.capset_info(CAPSET_VIRGL).unwrap(),
        (1, CapsV1::SIZE as u32)
    );
    let v2 = s.backend.fill_caps(CAPSET_VIRGL2, 2).unwrap();
    assert_eq!(v2.len(), 1408);
    assert_eq!(u32::from_le_bytes(v2[..4].try_into().unwrap()), 2);
    let v1 = s.backend.fill_caps(CAPSET_VIRGL, 1).unwrap();
    assert_eq!(v1.len(), 308);
    assert_eq!(u32::from_le_bytes(v1[..4].try_into().unwrap()), 1);
    assert!(s.backend.fill_caps(CAPSET_VIRGL, 2).is_err());
    assert!(s.backend.fill_caps(4, 0).is_err());
    let sampler_has = |f: u32| caps.v1.sampler.bitmask[(f / 32) as usize] & (1 << (f % 32)) != 0;
    let render_has = |f: u32| caps.v1.render.bitmask[(f / 32) as usize] & (1 << (f % 32)) != 0;
    assert!(sampler_has(vf::B8G8R8A8_UNORM) && render_has(vf::B8G8R8A8_UNORM));
    assert!(sampler_has(vf::DXT1_RGB) && !render_has(vf::DXT1_RGB));
}

#[test]
fn clear_through_a_command_stream_reads_back() {
    let mut s = setup();
    s.resource(tex2d(1, vf::B8G8R8A8_UNORM, 16, 8));
    let mut ctx = s.context(1, &[1]);
    let mut c = Vec::new();
    // 128/255 converts to 128 on every host (0.5 may round to 127 or 128: NVIDIA gives 127).
    clear_cmds(
        &mut c,
        10,
        1,
        vf::B8G8R8A8_UNORM,
        [1.0, 128.0 / 255.0, 0.0, 1.0],
    );
    ctx.submit_cmd(&mut s.table, &c).unwrap();
    let px = read_rgba8(&s.backend, 1, 16, 8);
    // B, G, R, A in memory.
    assert_eq!(&px[..4], &[0, 128, 255, 255]);
    assert!(px.chunks(4).all(|p| p == [0, 128, 255, 255]));
    ctx.submit_fence(0, 0, 7).unwrap();
    assert_eq!(ctx.retire_fences().len(), 1);
}

#[test]
fn y_0_top_transfers_flip_rows() {
    let mut s = setup();
    let mut args = tex2d(1, vf::R8G8B8A8_UNORM, 2, 2);
    args.flags = RESOURCE_Y_0_TOP;
    s.resource(args);
    let data: Vec<u8> = (0..16).collect();
    let req = TransferRequest {
        res_id: 1,
        width: 2,
        height: 2,
        depth: 1,
        ..Default::default()
    };
    let mut input = data.clone();
    s.backend
        .transfer_with(&req, TransferDirection::ToHost, &mut input)
        .unwrap();
    assert_eq!(
        read_rgba8(&s.backend, 1, 2, 2),
        data,
        "round trip is identity"
    );
    // A one-row read of guest row 0 (top) is GL row 1.
    let mut row = vec![0u8; 8];
    let req = TransferRequest {
        res_id: 1,
        y: 0,
        width: 2,
        height: 1,
        depth: 1,
        ..Default::default()
    };
    s.backend
        .transfer_with(&req, TransferDirection::FromHost, &mut row)
        .unwrap();
    assert_eq!(row, data[..8]);
}

#[test]
fn blit_scales_and_copy_region_copies() {
    let mut s = setup();
    s.resource(tex2d(1, vf::R8G8B8A8_UNORM, 4, 4));
    s.resource(tex2d(2, vf::R8G8B8A8_UNORM, 8, 8));
    s.resource(tex2d(3, vf::R8G8B8A8_UNORM, 8, 8));
    let mut ctx = s.context(1, &[1, 2, 3]);
    let mut c = Vec::new();
    clear_cmds(&mut c, 10, 1, vf::R8G8B8A8_UNORM, [0.0, 1.0, 0.0, 1.0]);
    clear_cmds(&mut c, 11, 2, vf::R8G8B8A8_UNORM, [0.0, 0.0, 1.0, 1.0]);
    // Blit all of 1 (4x4) into the top-left 4x4... scaled to 8x4 of 2.
    let mask_filter = 0xf | (1 << 8);
    let fmt = vf::R8G8B8A8_UNORM;
    cmd(
        &mut c,
        BLIT,
        0,
        &[
            mask_filter,
            0,
            0,
            2,
            0,
            fmt,
            0,
            0,
            0,
            8,
            4,
            1,
            1,
            0,
            fmt,
            0,
            0,
            0,
            4,
            4,
            1,
        ],
    );
    // Copy 2's 8x8 into 3.
    cmd(
        &mut c,
        RESOURCE_COPY_REGION,
        0,
        &[3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 8, 8, 1],
    );
    ctx.submit_cmd(&mut s.table, &c).unwrap();
    for res in [2, 3] {
        let px = read_rgba8(&s.backend, res, 8, 8);
        for y in 0..8 {
            for x in 0..8 {
                let p = &px[(y * 8 + x) * 4..][..4];
                let want = if y < 4 {
                    [0, 255, 0, 255]
                } else {
                    [0, 0, 255, 255]
                };
                assert_eq!(p, want, "res {res} at {x},{y}");
            }
        }
    }
}

#[test]
fn inline_write_and_clear_texture() {
    let mut s = setup();
    s.resource(tex2d(1, vf::R8G8B8A8_UNORM, 4, 1));
    let mut ctx = s.context(1, &[1]);
    let mut c = Vec::new();
    let words = [0x04030201u32, 0x08070605, 0x0c0b0a09, 0x100f0e0d];
    let mut p = vec![1, 0, 0, 0, 0, 0, 0, 0, 4, 1, 1];
    p.extend(words);
    cmd(&mut c, RESOURCE_INLINE_WRITE, 0, &p);
    ctx.submit_cmd(&mut s.table, &c).unwrap();
    let px = read_rgba8(&s.backend, 1, 4, 1);
    assert_eq!(px, (1..=16).collect::<Vec<u8>>());
    let mut c = Vec::new();
    cmd(
        &mut c,
        CLEAR_TEXTURE,
        0,
        &[1, 0, 1, 0, 0, 2, 1, 1, 0xddccbbaa, 0, 0, 0],
    );
    ctx.submit_cmd(&mut s.table, &c).unwrap();
    let px = read_rgba8(&s.backend, 1, 4, 1);
    assert_eq!(
        &px[4..12],
        &[0xaa, 0xbb, 0xcc, 0xdd, 0xaa, 0xbb, 0xcc, 0xdd]
    );
    assert_eq!(&px[..4], &[1, 2, 3, 4]);
}

#[test]
fn broken_context_is_refused_while_another_renders() {
    let mut s = setup();
    s.resource(tex2d(1, vf::R8G8B8A8_UNORM, 4, 4));
    let mut bad = s.context(1, &[1]);
    let mut good = s.context(2, &[1]);
    // Surface on a resource this context never attached.
    let mut c = Vec::new();
    cmd(
        &mut c,
        CREATE_OBJECT,
        OBJ_SURFACE,
        &[5, 99, vf::R8G8B8A8_UNORM, 0, 0],
    );
    assert!(matches!(
        bad.submit_cmd(&mut s.table, &c),
        Err(ContextError::InvalidCommand(_))
    ));
    let mut ok = Vec::new();
    clear_cmds(&mut ok, 10, 1, vf::R8G8B8A8_UNORM, [1.0, 0.0, 0.0, 1.0]);
    assert!(matches!(
        bad.submit_cmd(&mut s.table, &ok),
        Err(ContextError::Broken(_))
    ));
    good.submit_cmd(&mut s.table, &ok).unwrap();
    assert_eq!(&read_rgba8(&s.backend, 1, 4, 4)[..4], &[255, 0, 0, 255]);
}

#[test]
fn hostile_streams_are_errors_not_panics() {
    let mut s = setup();
    s.resource(tex2d(1, vf::R8G8B8A8_UNORM, 4, 4));
    let streams: Vec<Vec<u32>> = vec![
        vec![CREATE_OBJECT | (OBJ_SURFACE << 8) | (5 << 16), 1, 1], // overruns
        vec![
            CREATE_OBJECT | (OBJ_SURFACE << 8) | (5 << 16),
            0,
            1,
            vf::R8G8B8A8_UNORM,
            0,
            0,
        ],
        vec![
            CREATE_OBJECT | (OBJ_SURFACE << 8) | (5 << 16),
            3,
            1,
            vf::R8G8B8A8_UNORM,
            9,
            0,
        ],
        vec![
            CREATE_OBJECT | (OBJ_SURFACE << 8) | (5 << 16),
            3,
            1,
            9999,
            0,
            0,
        ],
        vec![CREATE_OBJECT | (12 << 8) | (1 << 16), 3],
        vec![SET_FRAMEBUFFER_STATE | (3 << 16), 1, 0, 77],
        vec![
            SET_FRAMEBUFFER_STATE | (11 << 16),
            9,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
        vec![SET_SUB_CTX | (1 << 16), 5],
        vec![DRAW_VBO | (12 << 16), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        vec![
            BLIT | (21 << 16),
            0xf,
            0,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            // Boxes past the level are clipped by GL; sizes GL cannot represent are refused.
            0x4000_0000,
            1,
            1,
            1,
            0,
            0,
            0,
            0,
            0,
            4,
            4,
            1,
        ],
        vec![
            RESOURCE_INLINE_WRITE | (12 << 16),
            1,
            0,
            0,
            0,
            0,
            3,
            3,
            0,
            4,
            4,
            1,
            0,
        ],
        vec![0xff | (2 << 16), 1, 2],
    ];
    for (i, stream) in streams.iter().enumerate() {
        let mut ctx = s.context(10 + i as u32, &[1]);
        let err = ctx.submit_cmd(&mut s.table, stream);
        assert!(err.is_err(), "stream {i} accepted");
        if i == 8 {
            // A draw with no shaders bound is the guest's error.
            assert!(
                matches!(&err, Err(ContextError::InvalidCommand(m)) if m.contains("vertex shader")),
                "{err:?}"
            );
        }
    }
}

#[test]
fn sub_contexts_keep_their_own_framebuffers() {
    let mut s = setup();
    s.resource(tex2d(1, vf::R8G8B8A8_UNORM, 2, 2));
    s.resource(tex2d(2, vf::R8G8B8A8_UNORM, 2, 2));
    let mut ctx = s.context(1, &[1, 2]);
    let mut c = Vec::new();
    clear_cmds(&mut c, 10, 1, vf::R8G8B8A8_UNORM, [1.0, 0.0, 0.0, 1.0]);
    cmd(&mut c, CREATE_SUB_CTX, 0, &[1]);
    cmd(&mut c, SET_SUB_CTX, 0, &[1]);
    // Handle 10 is free again in the new sub-context's own table.
    clear_cmds(&mut c, 10, 2, vf::R8G8B8A8_UNORM, [0.0, 0.0, 1.0, 1.0]);
    cmd(&mut c, SET_SUB_CTX, 0, &[0]);
    let mut p = vec![PIPE_CLEAR_COLOR0];
    p.extend([0.0f32, 1.0, 0.0, 1.0].map(f32::to_bits));
    p.extend([0, 0, 0]);
    cmd(&mut c, CLEAR, 0, &p);
    ctx.submit_cmd(&mut s.table, &c).unwrap();
    assert_eq!(&read_rgba8(&s.backend, 1, 2, 2)[..4], &[0, 255, 0, 255]);
    assert_eq!(&read_rgba8(&s.backend, 2, 2, 2)[..4], &[0, 0, 255, 255]);
}

mod backed {
    use super::*;
    use virgl_resource::{Backing, GuestMemory, Resource, SharedMemory};

    const TRANSFER3D: u32 = 43;
    const COPY_TRANSFER3D: u32 = 45;

    fn add(s: &mut Setup, args: ResourceCreateArgs, size: u64) {
        let shm = SharedMemory::new("vrend-test", size).unwrap();
        s.table
            .insert(Resource::pipe(args).with_backing(Backing::Shm(shm)))
            .unwrap();
        s.resource(args);
    }

    #[test]
    fn transfer3d_and_copy_transfer3d_use_the_table_backings() {
        let mut s = setup();
        add(&mut s, tex2d(1, vf::R8G8B8A8_UNORM, 4, 2), 32);
        let staging = ResourceCreateArgs {
            handle: 2,
            target: pipe_target::BUFFER,
            format: vf::R8_UNORM,
            bind: virgl_bind::STAGING,
            width: 64,
            height: 1,
            depth: 1,
            array_size: 1,
            ..Default::default()
        };
        add(&mut s, staging, 64);
        let mut ctx = s.context(1, &[1, 2]);
        // Guest writes its texture backing, then TRANSFER3D to host.
        let pixels: Vec<u8> = (0..32).collect();
        let tex = s.table.get_mut(1).unwrap().backing_for_cpu().unwrap();
        tex.write_at(0, &pixels).unwrap();
        let mut c = Vec::new();
        cmd(
            &mut c,
            TRANSFER3D,
            0,
            &[1, 0, 0, 16, 32, 0, 0, 0, 4, 2, 1, 0, 1],
        );
        ctx.submit_cmd(&mut s.table, &c).unwrap();
        assert_eq!(read_rgba8(&s.backend, 1, 4, 2), pixels);
        // COPY_TRANSFER3D from the staging buffer at offset 16 into row 1, then read host->guest
        // into the staging buffer at offset 0 with READ_FROM_HOST.
        let row: Vec<u8> = (100..116).collect();
        s.table
            .get_mut(2)
            .unwrap()
            .backing_for_cpu()
            .unwrap()
            .write_at(16, &row)
            .unwrap();
        let mut c = Vec::new();
        cmd(
            &mut c,
            COPY_TRANSFER3D,
            0,
            &[1, 0, 0, 16, 0, 0, 1, 0, 4, 1, 1, 2, 16, 0],
        );
        cmd(
            &mut c,
            COPY_TRANSFER3D,
            0,
            &[1, 0, 0, 16, 0, 0, 0, 0, 4, 2, 1, 2, 0, 2],
        );
        ctx.submit_cmd(&mut s.table, &c).unwrap();
        let mut back = vec![0u8; 32];
        s.table
            .get_mut(2)
            .unwrap()
            .backing_for_cpu()
            .unwrap()
            .read_at(0, &mut back)
            .unwrap();
        assert_eq!(&back[..16], &pixels[..16]);
        assert_eq!(&back[16..], &row[..]);
        // ctx-0 transfer through the Backend trait reads the same into the texture's backing.
        let req = TransferRequest {
            res_id: 1,
            width: 4,
            height: 2,
            depth: 1,
            ..Default::default()
        };
        s.backend
            .transfer(&mut s.table, &req, TransferDirection::FromHost)
            .unwrap();
        let mut tex_back = vec![0u8; 32];
        s.table
            .get_mut(1)
            .unwrap()
            .backing_for_cpu()
            .unwrap()
            .read_at(0, &mut tex_back)
            .unwrap();
        assert_eq!(tex_back, back);
        // A transfer beyond the backing is refused and breaks the context.
        let mut c = Vec::new();
        cmd(
            &mut c,
            TRANSFER3D,
            0,
            &[1, 0, 0, 16, 32, 0, 0, 0, 4, 2, 1, 8, 2],
        );
        assert!(ctx.submit_cmd(&mut s.table, &c).is_err());
    }
}

mod encoded {
    use super::*;
    use virgl_protocol::command::{
        Box3, Clear, Command, CreateObject, Encoder, SetFramebufferState, Surface, Transfer3d,
        TransferRegion,
    };
    use virgl_protocol::pipe::TransferDirection as WireDirection;
    use virgl_resource::{Backing, GuestMemory, Resource, SharedMemory};

    /// The Mesa flow through virgl-protocol's Encoder: surface, framebuffer, clear, then
    /// TRANSFER3D from host into the resource's guest backing.
    #[test]
    fn encoder_stream_clears_and_transfers_back() {
        let mut s = setup();
        let args = tex2d(1, vf::B8G8R8X8_UNORM, 8, 4);
        let shm = SharedMemory::new("vrend-encoded", 8 * 4 * 4).unwrap();
        s.table
            .insert(Resource::pipe(args).with_backing(Backing::Shm(shm)))
            .unwrap();
        s.resource(args);
        let mut ctx = s.context(1, &[1]);
        let mut enc = Encoder::new();
        let surface = Surface {
            handle: 3,
            res_handle: 1,
            format: vf::B8G8R8X8_UNORM,
            val0: 0,
            val1: 0,
        };
        enc.push(&Command::CreateObject(CreateObject::Surface(surface)))
            .unwrap();
        enc.push(&Command::SetFramebufferState(SetFramebufferState {
            zsurf_handle: 0,
            cbufs: &[3],
        }))
        .unwrap();
        // Exact unorm8 values, so every host converts them the same way.
        let color = [64.0f32 / 255.0, 128.0 / 255.0, 191.0 / 255.0, 1.0].map(f32::to_bits);
        enc.push(&Command::Clear(Clear {
            buffers: PIPE_CLEAR_COLOR0,
            color,
            depth: 1.0,
            stencil: 0,
        }))
        .unwrap();
        let region = TransferRegion {
            handle: 1,
            level: 0,
            usage: 0,
            stride: 32,
            layer_stride: 0,
            bx: Box3 {
                x: 0,
                y: 0,
                z: 0,
                width: 8,
                height: 4,
                depth: 1,
            },
        };
        enc.push(&Command::Transfer3d(Transfer3d {
            region,
            offset: 0,
            direction: WireDirection::FromHost,
        }))
        .unwrap();
        ctx.submit_cmd(&mut s.table, enc.as_slice()).unwrap();
        let mut px = vec![0u8; 128];
        s.table
            .get_mut(1)
            .unwrap()
            .backing_for_cpu()
            .unwrap()
            .read_at(0, &mut px)
            .unwrap();
        // B8G8R8X8 in memory: B, G, R, X (X is whatever GL keeps: alpha 1.0).
        for p in px.chunks(4) {
            assert_eq!(&p[..3], &[191, 128, 64], "{p:?}");
        }
    }
}
