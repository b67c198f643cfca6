//! Video decode end to end: a raw vtest client drives CREATE_VIDEO_CODEC .. END_FRAME for
//! every codec family against the server with `--rendernode`, whose VA-API display runs on
//! tools/test-va-driver through the real libva (the driver stands in for hardware: no GPU in
//! CI). The test checks the caps the guest sees, the VA calls and buffers the driver recorded,
//! and the decoded surface read back through the guest's plane resources.
//!
//! Translation is probed in-process first ([`virgl_video::translate::translate`] on the same
//! description): where it succeeds the frame must decode completely; where it fails (a codec
//! whose translation has not landed, or a description it refuses) the server must drop the
//! command with that explicit error, make no VA buffer, and keep the context working.

// Descriptions are C structs of hundreds of fields; setting the few that matter after
// `default()` reads better than struct-update syntax.
#![allow(clippy::field_reassign_with_default)]

#[path = "reliability_common/mod.rs"]
mod common;
#[path = "../../../tools/test-va-driver/src/expect.rs"]
mod va_expect;
#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Client;
use va_expect::{call_names, logged_buffers, pattern_byte, slice_data_seed};
use virgl_protocol::caps::CapsV2;
use virgl_protocol::command::{
    Command as Cmd, CreateVideoBuffer, CreateVideoCodec, DecodeBitstream, Encoder, VideoFrame,
};
use virgl_protocol::video::{
    Av1PictureDesc, H264PictureDesc, H265PictureDesc, MjpegPictureDesc, Mpeg12PictureDesc,
    PictureDesc, Vc1PictureDesc, VideoProfile, Vp9PictureDesc,
};
use virgl_protocol::vtest::*;
use virgl_video::translate::{translate, SurfaceId, SurfaceMap};

const W: u32 = 64;
const H: u32 = 32;
const NV12: u32 = 166;
const R8: u32 = 64;
const R8G8: u32 = 65;
const PIPE_BUFFER: u32 = 0;
const PIPE_TEXTURE_2D: u32 = 2;
const BIND_SAMPLER_VIEW_RENDER_TARGET: u32 = 8 | 2;
const BIND_CUSTOM: u32 = 1 << 17;

/// Builds tools/test-va-driver with this test's cargo and target dir; returns the library.
fn driver_library() -> PathBuf {
    workspace::cargo_build("test-va-driver", &[]).join("libtest_va_driver.so")
}

/// The vtest server with video on the test driver.
struct VideoServer {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
    va_log: PathBuf,
    server_log: PathBuf,
}

impl VideoServer {
    fn start(name: &str, profiles: Option<&str>) -> Self {
        Self::start_with(name, profiles, &["--no-fork"])
    }

    fn start_with(name: &str, profiles: Option<&str>, args: &[&str]) -> Self {
        let lib = driver_library();
        let dir =
            std::env::temp_dir().join(format!("virgl-video-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(&lib, dir.join("virgltest_drv_video.so")).unwrap();
        let socket = dir.join("sock");
        let va_log = dir.join("va.log");
        let server_log = dir.join("server.log");
        let log = File::create(&server_log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_virgl-vtest"));
        cmd.arg(format!("--socket-path={}", socket.display()))
            .args(args)
            .arg("--rendernode=/dev/null")
            .env("XDG_RUNTIME_DIR", &dir)
            .env("RUST_LOG", "warn")
            .env("LD_PRELOAD", &lib)
            .env("LIBVA_DRIVERS_PATH", &dir)
            .env("LIBVA_DRIVER_NAME", "virgltest")
            .env("VIRGL_TEST_VA_LOG", &va_log)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if let Some(p) = profiles {
            cmd.env("VIRGL_TEST_VA_PROFILES", p);
        }
        let child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "server did not create its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            dir,
            socket,
            va_log,
            server_log,
        }
    }

    fn va_log(&self) -> String {
        std::fs::read_to_string(&self.va_log).unwrap_or_default()
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(&self.server_log).unwrap_or_default()
    }
}

impl Drop for VideoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("server and VA logs kept in {}", self.dir.display());
        }
    }
}

/// A guest resource with its shm.
struct Res {
    id: u32,
    shm: File,
}

fn create(c: &mut Client, target: u32, format: u32, bind: u32, w: u32, h: u32, size: u32) -> Res {
    let desc = ResourceDesc {
        handle: 0,
        target,
        format,
        bind,
        width: w,
        height: h,
        depth: 1,
        array_size: 1,
        last_level: 0,
        nr_samples: 0,
    };
    c.send(&Request::ResourceCreate2(ResourceCreate2 {
        desc,
        data_size: size,
    }));
    let id = match c.reply(VcmdId::ResourceCreate2) {
        Some(Reply::ResourceId { res_id, .. }) => res_id,
        other => panic!("{other:?}"),
    };
    Res {
        id,
        shm: File::from(c.fd()),
    }
}

/// A buffer resource holding `bytes` (descriptions, bitstreams), written into its shm.
fn buffer_with(c: &mut Client, bytes: &[u8]) -> Res {
    let r = create(
        c,
        PIPE_BUFFER,
        R8,
        BIND_CUSTOM,
        bytes.len() as u32,
        1,
        bytes.len() as u32,
    );
    r.shm.write_all_at(bytes, 0).unwrap();
    r
}

fn submit(c: &mut Client, cmds: &[Cmd<'_>]) {
    let mut e = Encoder::new();
    for cmd in cmds {
        e.push(cmd).unwrap();
    }
    c.send(&Request::SubmitCmd {
        cmds: e.into_inner(),
    });
}

/// Reads a whole `w`x`h` plane of `bpp` bytes per pixel back through TRANSFER_GET2.
fn read_plane(c: &mut Client, r: &Res, w: u32, h: u32, bpp: u32) -> Vec<u8> {
    let size = w * h * bpp;
    c.send(&Request::TransferGet2(Transfer2 {
        handle: r.id,
        level: 0,
        region: TransferBox {
            x: 0,
            y: 0,
            z: 0,
            width: w,
            height: h,
            depth: 1,
        },
        data_size: size,
        offset: 0,
    }));
    c.sync(r.id);
    let mut out = vec![0u8; size as usize];
    r.shm.read_exact_at(&mut out, 0).unwrap();
    out
}

/// What translation needs to know of the guest's video buffers, for the in-process probe.
struct Probe;

impl SurfaceMap for Probe {
    fn surface(&self, guest_handle: u32) -> Option<SurfaceId> {
        (guest_handle == TARGET).then_some(1)
    }
    fn target(&self) -> Option<SurfaceId> {
        Some(1)
    }
    fn coded_size(&self) -> Option<(u32, u32)> {
        Some((W, H))
    }
}

const CODEC: u32 = 1;
const TARGET: u32 = 2;

/// One codec family's frame: the codec profile, a description and a bitstream.
struct Case {
    name: &'static str,
    profile: VideoProfile,
    desc: PictureDesc,
    bitstream: Vec<u8>,
}

fn base(profile: VideoProfile) -> virgl_protocol::video::BasePictureDesc {
    let mut b = virgl_protocol::video::BasePictureDesc::default();
    b.profile = profile as u16;
    b.entry_point = 1;
    b
}

fn cases() -> Vec<Case> {
    let mut mpeg2 = Mpeg12PictureDesc::default();
    mpeg2.base = base(VideoProfile::Mpeg2Main);
    mpeg2.picture_coding_type = 1;
    mpeg2.picture_structure = 3;
    mpeg2.frame_pred_frame_dct = 1;
    mpeg2.f_code = [[14, 14], [14, 14]];

    // Frame numbers in 4 bits, POC type 2 (no POC in slice headers), progressive, 4:2:0.
    let mut h264 = H264PictureDesc::default();
    h264.base = base(VideoProfile::H264Main);
    h264.slice_count = 1;
    h264.is_reference = 1;
    h264.pps.sps.chroma_format_idc = 1;
    h264.pps.sps.pic_order_cnt_type = 2;
    h264.pps.sps.frame_mbs_only_flag = 1;
    h264.pps.sps.max_num_ref_frames = 1;

    // 64x32 4:2:0 8-bit, 8x8 minimum coding blocks, 16x16 CTBs.
    let mut hevc = H265PictureDesc::default();
    hevc.base = base(VideoProfile::HevcMain);
    hevc.pps.sps.chroma_format_idc = 1;
    hevc.pps.sps.pic_width_in_luma_samples = W;
    hevc.pps.sps.pic_height_in_luma_samples = H;
    hevc.pps.sps.log2_diff_max_min_luma_coding_block_size = 1;

    // One 8x8-sampled greyscale component.
    let mut jpeg = MjpegPictureDesc::default();
    jpeg.base = base(VideoProfile::JpegBaseline);
    jpeg.picture_parameter.picture_width = W as u16;
    jpeg.picture_parameter.picture_height = H as u16;
    jpeg.picture_parameter.num_components = 1;
    jpeg.picture_parameter.components[0].component_id = 1;
    jpeg.picture_parameter.components[0].h_sampling_factor = 1;
    jpeg.picture_parameter.components[0].v_sampling_factor = 1;

    let mut vc1 = Vc1PictureDesc::default();
    vc1.base = base(VideoProfile::Vc1Advanced);
    vc1.slice_count = 1;

    let mut vp9 = Vp9PictureDesc::default();
    vp9.base = base(VideoProfile::Vp9Profile0);
    vp9.picture_parameter.profile = 0;
    vp9.picture_parameter.bit_depth = 8;
    vp9.picture_parameter.frame_width = W as u16;
    vp9.picture_parameter.frame_height = H as u16;

    // One tile holding the whole (8-byte) bitstream.
    let mut av1 = Av1PictureDesc::default();
    av1.base = base(VideoProfile::Av1Main);
    av1.picture_parameter.frame_width = W as u16;
    av1.picture_parameter.frame_height = H as u16;
    av1.picture_parameter.tile_cols = 1;
    av1.picture_parameter.tile_rows = 1;
    av1.slice_parameter.slice_count = 1;
    av1.slice_parameter.slice_data_size[0] = 8;

    vec![
        Case {
            name: "mpeg12",
            profile: VideoProfile::Mpeg2Main,
            desc: PictureDesc::Mpeg12(Box::new(mpeg2)),
            // One slice (row 0, quantiser_scale_code 8) and some payload.
            bitstream: vec![0, 0, 1, 0x01, 0x40, 0x8a, 0x51, 0x23, 0x7e, 0x00, 0x11],
        },
        Case {
            name: "h264",
            profile: VideoProfile::H264Main,
            desc: PictureDesc::H264(Box::new(h264)),
            // An IDR I slice: first_mb 0, slice_type 7, pps 0, frame_num 0, idr_pic_id 0,
            // no_output_of_prior_pics 0, long_term_reference 0, slice_qp_delta 0.
            bitstream: vec![0, 0, 1, 0x65, 0x88, 0x84, 0x80, 0x33, 0xff],
        },
        Case {
            name: "hevc",
            profile: VideoProfile::HevcMain,
            desc: PictureDesc::H265(Box::new(hevc)),
            // An IDR_W_RADL slice segment: first in picture, pps 0, I slice, qp delta 0,
            // byte alignment, then payload.
            bitstream: vec![0, 0, 1, 0x26, 0x01, 0xaf, 0x84, 0x12, 0x34],
        },
        Case {
            name: "jpeg",
            profile: VideoProfile::JpegBaseline,
            desc: PictureDesc::Mjpeg(Box::new(jpeg)),
            // SOI, SOF0 (8-bit, 32x64, one component 1x1 on table 0), SOS, 3 bytes, EOI.
            bitstream: vec![
                0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 8, 0, 32, 0, 64, 1, 1, 0x11, 0, 0xff, 0xda,
                0x00, 0x08, 1, 1, 0x00, 0, 63, 0, 0x12, 0x34, 0x56, 0xff, 0xd9,
            ],
        },
        Case {
            name: "vc1",
            profile: VideoProfile::Vc1Advanced,
            desc: PictureDesc::Vc1(Box::new(vc1)),
            bitstream: vec![0, 0, 1, 0x0d, 0x12, 0x34, 0x56],
        },
        Case {
            name: "vp9",
            profile: VideoProfile::Vp9Profile0,
            desc: PictureDesc::Vp9(Box::new(vp9)),
            bitstream: vec![0x82, 0x49, 0x83, 0x42, 0x00, 0x03, 0xf0, 0x01, 0xf6],
        },
        Case {
            name: "av1",
            profile: VideoProfile::Av1Main,
            desc: PictureDesc::Av1(Box::new(av1)),
            bitstream: vec![0x32, 0x06, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00],
        },
    ]
}

/// What one frame showed.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Decoded,
    Refused(String),
}

/// Runs one codec's frame on a fresh codec/buffer pair and checks everything; returns what
/// happened.
fn run_case(server: &VideoServer, c: &mut Client, case: &Case) -> Outcome {
    // Each case starts with empty logs of its own.
    File::create(&server.va_log).unwrap();
    let server_log_start = server.server_log().len();

    let desc_bytes = case.desc.to_union_bytes();
    let desc = buffer_with(c, &desc_bytes);
    let bits = buffer_with(c, &case.bitstream);
    let y = create(
        c,
        PIPE_TEXTURE_2D,
        R8,
        BIND_SAMPLER_VIEW_RENDER_TARGET,
        W,
        H,
        W * H,
    );
    let uv = create(
        c,
        PIPE_TEXTURE_2D,
        R8G8,
        BIND_SAMPLER_VIEW_RENDER_TARGET,
        W / 2,
        H / 2,
        W * H / 2,
    );
    let planes = [y.id, uv.id];
    let frame = VideoFrame {
        codec_handle: CODEC,
        target_handle: TARGET,
    };
    submit(
        c,
        &[
            Cmd::CreateVideoCodec(CreateVideoCodec {
                handle: CODEC,
                profile: case.profile as u32,
                entrypoint: 1,
                chroma_format: 1,
                level: 0,
                width: W,
                height: H,
                max_references: Some(2),
            }),
            Cmd::CreateVideoBuffer(CreateVideoBuffer {
                handle: TARGET,
                format: NV12,
                width: W,
                height: H,
                plane_handles: &planes,
            }),
            Cmd::BeginFrame(frame),
            Cmd::DecodeBitstream(DecodeBitstream {
                codec_handle: CODEC,
                target_handle: TARGET,
                desc_handle: desc.id,
                buffer_handle: bits.id,
                buffer_size: case.bitstream.len() as u32,
            }),
            Cmd::EndFrame(frame),
        ],
    );
    c.sync(y.id);
    let luma = read_plane(c, &y, W, H, 1);
    let chroma = read_plane(c, &uv, W / 2, H / 2, 2);
    submit(
        c,
        &[
            Cmd::DestroyVideoBuffer { handle: TARGET },
            Cmd::DestroyVideoCodec { handle: CODEC },
        ],
    );
    c.sync(y.id);

    let va = server.va_log();
    let server_log = server.server_log()[server_log_start..].to_string();
    let calls = call_names(&va);
    let logged = logged_buffers(&va);
    let probe = translate(&case.desc, &[&case.bitstream], &Probe);
    let outcome = match &probe {
        Ok(expected) => {
            // The same buffers, in order, as the in-process translation (surface ids inside
            // picture parameters may differ; slice data must be byte-identical).
            assert_eq!(logged.len(), expected.len(), "{}: {va}", case.name);
            for (got, want) in logged.iter().zip(expected) {
                assert_eq!(got.kind, want.kind, "{}: buffer type", case.name);
                assert_eq!(got.size, want.element_size, "{}: element size", case.name);
                assert_eq!(got.num, want.count, "{}: count", case.name);
                if want.kind == 5 {
                    assert_eq!(got.data, want.data, "{}: slice data", case.name);
                }
            }
            assert!(calls.contains(&"RenderPicture"), "{}: {va}", case.name);
            Outcome::Decoded
        }
        Err(e) => {
            // Dropped with the explicit error; nothing reached VA but the frame bracket.
            assert!(
                logged.is_empty(),
                "{}: VA buffers from a refused picture: {va}",
                case.name
            );
            assert!(!calls.contains(&"RenderPicture"), "{}: {va}", case.name);
            let text = e.to_string();
            assert!(
                server_log.contains("video command failed") && server_log.contains(&text),
                "{}: server log lacks the error {text:?}:\n{server_log}",
                case.name
            );
            Outcome::Refused(text)
        }
    };
    // Every frame is bracketed and synced, then read back (copy path: no dma-buf export).
    let order: Vec<&str> = calls
        .iter()
        .copied()
        .filter(|c| {
            matches!(
                *c,
                "CreateConfig"
                    | "CreateContext"
                    | "CreateSurfaces"
                    | "BeginPicture"
                    | "EndPicture"
                    | "SyncSurface"
                    | "DeriveImage"
                    | "DestroySurfaces"
                    | "DestroyContext"
                    | "DestroyConfig"
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            "CreateConfig",
            "CreateContext",
            "CreateSurfaces",
            "BeginPicture",
            "EndPicture",
            "SyncSurface",
            "DeriveImage",
            "DestroySurfaces",
            "DestroyContext",
            "DestroyConfig"
        ],
        "{}: {va}",
        case.name
    );
    // The guest reads back exactly what the driver decoded into the surface.
    let seed = slice_data_seed(&va);
    for y in 0..H {
        for x in 0..W {
            let got = luma[(y * W + x) as usize];
            assert_eq!(
                got,
                pattern_byte(seed, 0, x, y),
                "{}: luma {x},{y}",
                case.name
            );
        }
    }
    for y in 0..H / 2 {
        for x in 0..W {
            let got = chroma[(y * W + x) as usize];
            assert_eq!(
                got,
                pattern_byte(seed, 1, x, y),
                "{}: chroma {x},{y}",
                case.name
            );
        }
    }
    for r in [desc, bits, y, uv] {
        c.send(&Request::ResourceUnref { handle: r.id });
    }
    outcome
}

fn caps(c: &mut Client) -> CapsV2 {
    c.send(&Request::GetCaps2);
    match c.reply(VcmdId::GetCaps2) {
        Some(Reply::Caps { caps, .. }) => CapsV2::from_bytes(&caps).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_codec_family_through_vtest() {
    let server = VideoServer::start("all", None);
    let mut c = Client::connect(&server.socket);
    c.handshake("video_decode");

    let caps = caps(&mut c);
    let profiles: Vec<u32> = caps.video_caps().iter().map(|v| v.profile()).collect();
    assert_eq!(profiles.len(), 14, "{profiles:?}");
    for v in caps.video_caps() {
        assert_eq!(
            (v.entrypoint(), v.max_width(), v.max_height()),
            (1, 4096, 4096)
        );
    }

    let mut report = Vec::new();
    for case in cases() {
        let outcome = run_case(&server, &mut c, &case);
        report.push((case.name, outcome));
    }
    eprintln!("video e2e outcomes: {report:#?}");
    // Every family's translation has landed: each frame decodes completely.
    for (name, outcome) in &report {
        assert_eq!(*outcome, Outcome::Decoded, "{name}");
    }
    // The context survived every refused picture.
    c.ping();
}

#[test]
fn caps_follow_the_driver_and_bad_input_keeps_the_context() {
    // Only MPEG-2 Main and VP9 profile 0 (19); AV1 profile 1 has no gallium profile.
    let server = VideoServer::start("caps", Some("1,19,33"));
    let mut c = Client::connect(&server.socket);
    c.handshake("video_caps");
    let caps = caps(&mut c);
    let profiles: Vec<u32> = caps.video_caps().iter().map(|v| v.profile()).collect();
    assert_eq!(
        profiles,
        [
            VideoProfile::Mpeg2Main as u32,
            VideoProfile::Vp9Profile0 as u32
        ]
    );

    // A profile the driver lacks: refused before any VA config; unknown handles, a bitstream
    // size past its resource: refused, nothing reaches VA.
    File::create(&server.va_log).unwrap();
    let bits = buffer_with(&mut c, &[0, 0, 1, 1, 0x40]);
    submit(
        &mut c,
        &[
            Cmd::CreateVideoCodec(CreateVideoCodec {
                handle: 5,
                profile: VideoProfile::HevcMain as u32,
                entrypoint: 1,
                chroma_format: 1,
                level: 0,
                width: W,
                height: H,
                max_references: None,
            }),
            Cmd::BeginFrame(VideoFrame {
                codec_handle: 5,
                target_handle: 6,
            }),
            Cmd::DecodeBitstream(DecodeBitstream {
                codec_handle: 5,
                target_handle: 6,
                desc_handle: bits.id,
                buffer_handle: bits.id,
                buffer_size: 1 << 20,
            }),
        ],
    );
    c.sync(bits.id);
    let va = server.va_log();
    assert!(
        !va.contains("BeginPicture") && !va.contains("CreateBuffer"),
        "{va}"
    );
    // HEVC Main is not in this driver's caps: refused without asking VA.
    assert!(!va.contains("CreateConfig"), "{va}");
    assert!(server.server_log().contains("video command failed"));

    // On the same context, a VP9 frame whose bit depth profile 0 forbids: dropped with the translator's error, no
    // VA buffer (run_case checks the log and that END_FRAME still closes the frame).
    let mut cases = cases();
    let mut vp9 = cases.remove(5);
    assert_eq!(vp9.name, "vp9");
    if let PictureDesc::Vp9(d) = &mut vp9.desc {
        d.picture_parameter.bit_depth = 10;
    }
    match run_case(&server, &mut c, &vp9) {
        Outcome::Refused(e) => assert!(e.contains("bit depth 10"), "{e}"),
        other => panic!("{other:?}"),
    }
    // The same context still decodes an MPEG-2 frame.
    assert_eq!(run_case(&server, &mut c, &cases[0]), Outcome::Decoded);
}

#[test]
fn forked_client_process_decodes_too() {
    // The default mode: one process per client, which opens the render node itself.
    let server = VideoServer::start_with("fork", None, &[]);
    let mut c = Client::connect(&server.socket);
    c.handshake("video_fork");
    assert_eq!(caps(&mut c).video_caps().len(), 14);
    let case = cases().into_iter().next().unwrap();
    assert_eq!(run_case(&server, &mut c, &case), Outcome::Decoded);
}
