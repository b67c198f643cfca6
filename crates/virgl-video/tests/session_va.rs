//! The VA session through the real libva loader, with tools/test-va-driver (which stands in for
//! hardware) behind it: caps, a whole MPEG-2 frame into guest plane resources, bad input refused
//! before any VA call, untranslated codecs refused explicitly.
//!
//! libva only accepts DRM nodes as displays; the test driver, preloaded, lets `/dev/null` pass
//! (see its crate docs). `LD_PRELOAD` must be set before the process starts, so each test
//! re-runs this test binary for itself with the environment set.

#[path = "../../../tools/test-va-driver/src/expect.rs"]
mod va_expect;
#[path = "../../../tests/support/workspace.rs"]
mod workspace;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use va_expect::{call_names, fnv1a, logged_buffers, pattern_byte, slice_data_seed, FNV_BASIS};
use virgl_protocol::command::{CreateVideoBuffer, CreateVideoCodec, DecodeBitstream, VideoFrame};
use virgl_protocol::video::{Mpeg12PictureDesc, PictureDesc, VideoProfile};
use virgl_video::{VideoBackend, VideoContext, VideoError, VideoResources};

const CHILD: &str = "VIRGL_VIDEO_SESSION_CHILD";

/// Builds the test driver (cheap when fresh) and returns its path.
fn driver_library() -> PathBuf {
    let lib = workspace::cargo_build("test-va-driver", &[]).join("libtest_va_driver.so");
    assert!(lib.exists(), "{} missing", lib.display());
    lib
}

/// Runs test `name` again in a child with libva pointed at the test driver; returns the driver's
/// call log. `true` when this process is that child (the caller then runs the body).
fn in_child(name: &str, extra_env: &[(&str, &str)]) -> Option<String> {
    if std::env::var_os(CHILD).is_some() {
        return None;
    }
    let lib = driver_library();
    let dir = std::env::temp_dir().join(format!("virgl-video-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&lib, dir.join("virgltest_drv_video.so")).unwrap();
    let log = dir.join("calls.log");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("LD_PRELOAD", &lib)
        .env("LIBVA_DRIVERS_PATH", &dir)
        .env("LIBVA_DRIVER_NAME", "virgltest")
        .env("LIBVA_MESSAGING_LEVEL", "1")
        .env("VIRGL_TEST_VA_LOG", &log);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child {name} failed:\n{text}");
    assert!(text.contains("1 passed"), "child ran no test:\n{text}");
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    Some(calls)
}

fn backend() -> VideoBackend {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .unwrap();
    VideoBackend::new(null.into()).expect("VA display on the test driver")
}

fn log_path() -> PathBuf {
    PathBuf::from(std::env::var("VIRGL_TEST_VA_LOG").unwrap())
}

fn calls_so_far() -> String {
    std::fs::read_to_string(log_path()).unwrap_or_default()
}

/// Guest resources in memory: backings (descriptions, bitstreams) and plane contents.
#[derive(Default)]
struct Guest {
    backings: HashMap<u32, Vec<u8>>,
    /// res_id -> (virgl format, width, height, bytes per pixel, written rows).
    planes: HashMap<u32, (u32, u32, u32, u32, Vec<u8>)>,
}

impl Guest {
    fn plane(&mut self, id: u32, format: u32, w: u32, h: u32, bpp: u32) {
        self.planes.insert(id, (format, w, h, bpp, Vec::new()));
    }
}

impl VideoResources for Guest {
    fn backing_size(&mut self, res_id: u32) -> Option<u64> {
        self.backings.get(&res_id).map(|b| b.len() as u64)
    }
    fn read_backing(&mut self, res_id: u32, offset: u64, dst: &mut [u8]) -> Result<(), VideoError> {
        let b = &self.backings[&res_id];
        let start = offset as usize;
        dst.copy_from_slice(&b[start..start + dst.len()]);
        Ok(())
    }
    fn resource_info(&mut self, res_id: u32) -> Option<(u32, u32, u32)> {
        self.planes.get(&res_id).map(|p| (p.0, p.1, p.2))
    }
    fn write_plane(
        &mut self,
        res_id: u32,
        data: &[u8],
        offset: usize,
        stride: usize,
    ) -> Result<(), VideoError> {
        let p = self.planes.get_mut(&res_id).unwrap();
        let row = (p.1 * p.3) as usize;
        p.4.clear();
        for y in 0..p.2 as usize {
            let start = offset + y * stride;
            p.4.extend_from_slice(&data[start..start + row]);
        }
        Ok(())
    }
}

const NV12: u32 = 166;
const P010: u32 = 314;
const R8: u32 = 64;
const R8G8: u32 = 65;
const R16: u32 = 48;
const R16G16: u32 = 49;
const W: u32 = 64;
const H: u32 = 32;
const DESC: u32 = 50;
const BITS: u32 = 51;

fn codec(handle: u32, profile: VideoProfile) -> CreateVideoCodec {
    CreateVideoCodec {
        handle,
        profile: profile as u32,
        entrypoint: 1,
        chroma_format: 1,
        level: 0,
        width: W,
        height: H,
        max_references: Some(2),
    }
}

/// A 64x32 video buffer `handle` of `format` (NV12, or P010 with 16-bit samples) on plane
/// resources `handle*10 + {1,2}`.
fn video_buffer(ctx: &mut VideoContext, guest: &mut Guest, handle: u32, format: u32) {
    let planes = [handle * 10 + 1, handle * 10 + 2];
    let (luma, chroma, bytes) = if format == P010 {
        (R16, R16G16, 2)
    } else {
        (R8, R8G8, 1)
    };
    guest.plane(planes[0], luma, W, H, bytes);
    guest.plane(planes[1], chroma, W / 2, H / 2, 2 * bytes);
    ctx.create_buffer(
        &CreateVideoBuffer {
            handle,
            format,
            width: W,
            height: H,
            plane_handles: &planes,
        },
        guest,
    )
    .unwrap();
}

/// An intra MPEG-2 frame: one slice (row 0, quantiser_scale_code 8) and some payload.
fn mpeg2_picture(guest: &mut Guest, refs: [u32; 2]) -> Vec<u8> {
    let mut d = Mpeg12PictureDesc::default();
    d.base.profile = VideoProfile::Mpeg2Main as u16;
    d.base.entry_point = 1;
    d.picture_coding_type = if refs == [0, 0] { 1 } else { 2 };
    d.picture_structure = 3;
    d.frame_pred_frame_dct = 1;
    d.f_code = [[14, 14], [14, 14]];
    d.r#ref = refs;
    let bits = vec![0, 0, 1, 0x01, 0x40, 0x8a, 0x51, 0x23, 0x7e, 0x00, 0x11];
    guest
        .backings
        .insert(DESC, PictureDesc::Mpeg12(Box::new(d)).to_union_bytes());
    guest.backings.insert(BITS, bits.clone());
    bits
}

fn decode(handle: u32, target: u32, size: u32) -> DecodeBitstream {
    DecodeBitstream {
        codec_handle: handle,
        target_handle: target,
        desc_handle: DESC,
        buffer_handle: BITS,
        buffer_size: size,
    }
}

fn frame(codec: u32, target: u32) -> VideoFrame {
    VideoFrame {
        codec_handle: codec,
        target_handle: target,
    }
}

/// Codec 1 (MPEG-2 Main) decodes one intra picture into NV12 video buffer 7 (planes 71, 72);
/// returns the picture's bitstream.
fn decode_mpeg2_frame(ctx: &mut VideoContext, guest: &mut Guest) -> Vec<u8> {
    ctx.create_codec(&codec(1, VideoProfile::Mpeg2Main))
        .unwrap();
    video_buffer(ctx, guest, 7, NV12);
    let bits = mpeg2_picture(guest, [0, 0]);
    ctx.begin_frame(&frame(1, 7)).unwrap();
    ctx.decode_bitstream(&decode(1, 7, bits.len() as u32), guest)
        .unwrap();
    ctx.end_frame(&frame(1, 7), guest).unwrap();
    bits
}

#[test]
fn caps_are_what_the_driver_reports() {
    if let Some(calls) = in_child(
        "caps_are_what_the_driver_reports",
        &[
            ("VIRGL_TEST_VA_PROFILES", "1,19,33,4"),
            ("VIRGL_TEST_VA_MAX_SIZE", "1920x1088"),
        ],
    ) {
        assert!(calls.contains("QueryConfigProfiles"), "{calls}");
        assert!(calls.contains("GetConfigAttributes profile=19 entrypoint=1"));
        return;
    }
    let b = backend();
    assert_eq!(
        b.display().vendor(),
        "virgl-rs test VA driver (no hardware)"
    );
    // MPEG-2 Main and VP9 profile 0; AV1 profile 1 and MPEG-4 Main have no decode path here.
    let caps = b.caps();
    assert_eq!(caps.len(), 2, "{caps:?}");
    assert_eq!(caps[0].profile(), VideoProfile::Mpeg2Main as u32);
    assert_eq!(caps[1].profile(), VideoProfile::Vp9Profile0 as u32);
    for c in caps {
        assert_eq!(c.entrypoint(), 1);
        assert_eq!((c.max_width(), c.max_height()), (1920, 1088));
        assert_eq!(c.prefered_format(), NV12);
    }
}

#[test]
fn default_driver_lists_every_decode_profile() {
    if in_child("default_driver_lists_every_decode_profile", &[]).is_some() {
        return;
    }
    let b = backend();
    let profiles: Vec<u32> = b.caps().iter().map(|c| c.profile()).collect();
    use VideoProfile as P;
    let expected: Vec<u32> = [
        P::Mpeg2Simple,
        P::Mpeg2Main,
        P::H264Main,
        P::H264High,
        P::Vc1Simple,
        P::Vc1Main,
        P::Vc1Advanced,
        P::JpegBaseline,
        P::H264Baseline,
        P::HevcMain,
        P::HevcMain10,
        P::Vp9Profile0,
        P::Vp9Profile2,
        P::Av1Main,
    ]
    .iter()
    .map(|&p| p as u32)
    .collect();
    assert_eq!(profiles, expected);
    let main10 = b
        .caps()
        .iter()
        .find(|c| c.profile() == P::HevcMain10 as u32);
    assert_eq!(main10.unwrap().prefered_format(), P010);
}

#[test]
fn mpeg2_frame_reaches_the_guest_planes() {
    if let Some(calls) = in_child("mpeg2_frame_reaches_the_guest_planes", &[]) {
        let order: Vec<&str> = call_names(&calls)
            .into_iter()
            .filter(|c| {
                matches!(
                    *c,
                    "CreateConfig"
                        | "CreateContext"
                        | "CreateSurfaces"
                        | "BeginPicture"
                        | "RenderPicture"
                        | "EndPicture"
                        | "SyncSurface"
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
                "RenderPicture",
                "EndPicture",
                "SyncSurface"
            ],
            "{calls}"
        );
        assert!(calls.contains("CreateConfig profile=1 entrypoint=1 rt_format=0x1"));
        assert!(calls.contains("CreateSurfaces width=64 height=32 format=0x1 fourcc=NV12"));
        // Picture parameters, IQ matrix, slice parameters, slice data (the whole slice).
        let buffers = logged_buffers(&calls);
        let types: Vec<u32> = buffers.iter().map(|b| b.kind).collect();
        assert_eq!(types, [0, 1, 4, 5], "{calls}");
        let slice = &buffers[3];
        assert_eq!((slice.size, slice.num), (1, 11), "{calls}");
        assert_eq!(
            slice.data,
            [0, 0, 1, 1, 0x40, 0x8a, 0x51, 0x23, 0x7e, 0, 0x11]
        );
        return;
    }
    let b = backend();
    let mut ctx = b.new_context();
    let mut guest = Guest::default();
    let bits = decode_mpeg2_frame(&mut ctx, &mut guest);

    let seed = slice_data_seed(&calls_so_far());
    assert_eq!(seed, fnv1a(FNV_BASIS, &bits));
    for (plane, res) in [(0u32, 71u32), (1, 72)] {
        let (_, w, h, bpp, data) = &guest.planes[&res];
        assert_eq!(data.len(), (w * bpp * h) as usize);
        for y in 0..*h {
            for x in 0..w * bpp {
                let got = data[(y * w * bpp + x) as usize];
                assert_eq!(
                    got,
                    pattern_byte(seed, plane, x, y),
                    "plane {plane} x {x} y {y}"
                );
            }
        }
    }
    assert_eq!(ctx.object_counts(), (1, 1));
    ctx.destroy_codec(1);
    ctx.destroy_buffer(7).unwrap();
    assert_eq!(ctx.object_counts(), (0, 0));
}

#[test]
fn bad_input_makes_no_va_call_and_the_context_survives() {
    if let Some(calls) = in_child("bad_input_makes_no_va_call_and_the_context_survives", &[]) {
        // Only the final good frame rendered anything.
        assert_eq!(calls.matches("BeginPicture").count(), 1, "{calls}");
        assert_eq!(calls.matches("RenderPicture").count(), 1, "{calls}");
        assert_eq!(calls.matches("CreateConfig").count(), 1, "{calls}");
        return;
    }
    let b = backend();
    let mut ctx = b.new_context();
    let mut guest = Guest::default();

    // Unknown profile numbers, profiles without a decode path, encode: no config created.
    let mut bad = codec(1, VideoProfile::Mpeg2Main);
    bad.profile = 99;
    assert!(matches!(
        ctx.create_codec(&bad),
        Err(VideoError::Unsupported(_))
    ));
    let mpeg4 = codec(1, VideoProfile::Mpeg4Simple);
    assert!(matches!(
        ctx.create_codec(&mpeg4),
        Err(VideoError::Unsupported(_))
    ));
    let mut enc = codec(1, VideoProfile::H264Main);
    enc.entrypoint = 4;
    assert!(matches!(
        ctx.create_codec(&enc),
        Err(VideoError::Unsupported(_))
    ));
    let mut huge = codec(1, VideoProfile::Mpeg2Main);
    huge.width = 1 << 20;
    assert!(matches!(
        ctx.create_codec(&huge),
        Err(VideoError::InvalidCommand(_))
    ));
    assert!(!calls_so_far().contains("CreateConfig"));

    ctx.create_codec(&codec(1, VideoProfile::Mpeg2Main))
        .unwrap();
    assert!(
        ctx.create_codec(&codec(1, VideoProfile::Mpeg2Main))
            .is_err(),
        "handle reused"
    );

    // Video buffers: unknown format, plane count mismatch, missing plane resources.
    guest.plane(81, R8, W, H, 1);
    let one_plane = [81];
    let mut vb = CreateVideoBuffer {
        handle: 8,
        format: R8,
        width: W,
        height: H,
        plane_handles: &one_plane,
    };
    assert!(matches!(
        ctx.create_buffer(&vb, &mut guest),
        Err(VideoError::Unsupported(_))
    ));
    vb.format = NV12;
    assert!(
        ctx.create_buffer(&vb, &mut guest).is_err(),
        "NV12 needs two planes"
    );
    let missing = [81, 999];
    vb.plane_handles = &missing;
    assert!(
        ctx.create_buffer(&vb, &mut guest).is_err(),
        "unknown plane resource"
    );
    // Planes of the wrong format or size.
    guest.plane(82, R8, W / 2, H / 2, 1);
    guest.plane(83, R8G8, W, H, 2);
    let wrong_format = [81, 82];
    vb.plane_handles = &wrong_format;
    assert!(matches!(
        ctx.create_buffer(&vb, &mut guest),
        Err(VideoError::InvalidCommand(e)) if e.contains("format")
    ));
    let wrong_size = [81, 83];
    vb.plane_handles = &wrong_size;
    assert!(matches!(
        ctx.create_buffer(&vb, &mut guest),
        Err(VideoError::InvalidCommand(e)) if e.contains("32x16")
    ));
    assert!(!calls_so_far().contains("CreateSurfaces"));

    video_buffer(&mut ctx, &mut guest, 7, NV12);
    let bits = mpeg2_picture(&mut guest, [0, 0]);

    // Frames: unknown codec/target, decode outside a frame.
    assert!(ctx.begin_frame(&frame(2, 7)).is_err());
    assert!(ctx.begin_frame(&frame(1, 9)).is_err());
    assert!(ctx
        .decode_bitstream(&decode(1, 7, bits.len() as u32), &mut guest)
        .is_err());
    assert!(ctx.end_frame(&frame(1, 7), &mut guest).is_err());

    assert!(!calls_so_far().contains("BeginPicture"));

    ctx.begin_frame(&frame(1, 7)).unwrap();
    // Bitstream size past the resource's backing.
    assert!(matches!(
        ctx.decode_bitstream(&decode(1, 7, bits.len() as u32 + 1), &mut guest),
        Err(VideoError::InvalidCommand(_))
    ));
    // A reference handle that names no video buffer.
    mpeg2_picture(&mut guest, [1234, 0]);
    assert!(matches!(
        ctx.decode_bitstream(&decode(1, 7, bits.len() as u32), &mut guest),
        Err(VideoError::InvalidPicture { .. })
    ));
    // A description resource too short for the MPEG-2 member.
    guest.backings.insert(DESC, vec![0; 100]);
    assert!(ctx
        .decode_bitstream(&decode(1, 7, bits.len() as u32), &mut guest)
        .is_err());
    assert!(
        !calls_so_far().contains("CreateBuffer"),
        "no VA buffer from bad input"
    );
    // The target of an open frame cannot be destroyed.
    assert!(ctx.destroy_buffer(7).is_err());

    // The context still decodes.
    mpeg2_picture(&mut guest, [0, 0]);
    ctx.decode_bitstream(&decode(1, 7, bits.len() as u32), &mut guest)
        .unwrap();
    ctx.end_frame(&frame(1, 7), &mut guest).unwrap();
}

#[test]
fn main10_decodes_into_p010_only() {
    if let Some(calls) = in_child("main10_decodes_into_p010_only", &[]) {
        assert!(calls.contains("rt_format=0x100"), "{calls}");
        assert!(calls.contains("fourcc=P010"), "{calls}");
        assert_eq!(calls.matches("BeginPicture").count(), 1, "{calls}");
        return;
    }
    let b = backend();
    let mut ctx = b.new_context();
    let mut guest = Guest::default();
    ctx.create_codec(&codec(1, VideoProfile::HevcMain10))
        .unwrap();
    video_buffer(&mut ctx, &mut guest, 7, NV12);
    assert!(matches!(
        ctx.begin_frame(&frame(1, 7)),
        Err(VideoError::InvalidCommand(_))
    ));
    video_buffer(&mut ctx, &mut guest, 9, P010);
    ctx.begin_frame(&frame(1, 9)).unwrap();
    ctx.end_frame(&frame(1, 9), &mut guest).unwrap();
    // No slice data: the picture is the pattern of the empty hash.
    let (_, _, _, _, y) = &guest.planes[&91];
    assert_eq!(y[0], pattern_byte(FNV_BASIS, 0, 0, 0));
    assert_eq!(y[130], pattern_byte(FNV_BASIS, 0, 2, 1));
}

#[test]
fn readback_falls_back_to_get_image() {
    if let Some(calls) = in_child(
        "readback_falls_back_to_get_image",
        &[("VIRGL_TEST_VA_NO_DERIVE", "1")],
    ) {
        assert!(calls.contains("refused"), "{calls}");
        assert!(
            calls.contains("CreateImage fourcc=NV12 width=64 height=32"),
            "{calls}"
        );
        assert!(calls.contains("GetImage surface="), "{calls}");
        return;
    }
    let b = backend();
    let mut ctx = b.new_context();
    let mut guest = Guest::default();
    decode_mpeg2_frame(&mut ctx, &mut guest);
    let seed = slice_data_seed(&calls_so_far());
    let (_, _, _, _, uv) = &guest.planes[&72];
    assert_eq!(uv[64 * 3 + 5], pattern_byte(seed, 1, 5, 3));
}

#[test]
fn surfaces_export_as_prime_descriptors() {
    if let Some(calls) = in_child(
        "surfaces_export_as_prime_descriptors",
        &[("VIRGL_TEST_VA_EXPORT", "1")],
    ) {
        assert!(calls.contains("ExportSurfaceHandle"), "{calls}");
        assert!(calls.contains("mem_type=0x40000000 flags=0x5"), "{calls}");
        return;
    }
    use std::os::unix::fs::FileExt;
    let b = backend();
    let surface = b.display().create_surface(0x1, W, H).unwrap();
    assert_eq!(surface.size(), (W, H));
    let e = surface.export().unwrap();
    assert_eq!(e.fourcc, u32::from_le_bytes(*b"NV12"));
    assert_eq!((e.width, e.height), (W, H));
    assert_eq!(e.objects.len(), 1);
    assert_eq!(e.objects[0].size, W * H * 3 / 2);
    assert_eq!(e.objects[0].modifier, 0);
    let layers: Vec<(u32, u32, u32)> = e
        .layers
        .iter()
        .map(|l| (l.drm_format, l.offset, l.pitch))
        .collect();
    assert_eq!(
        layers,
        [
            (u32::from_le_bytes(*b"R8  "), 0, W),
            (u32::from_le_bytes(*b"GR88"), W * H, W)
        ]
    );
    // The object is a real fd holding the (still black) surface.
    let file = std::fs::File::from(e.objects.into_iter().next().unwrap().fd);
    let mut bytes = vec![1u8; (W * H * 3 / 2) as usize];
    file.read_exact_at(&mut bytes, 0).unwrap();
    assert!(bytes.iter().all(|&b| b == 0));
}

#[test]
fn export_without_driver_support_is_an_error() {
    if in_child("export_without_driver_support_is_an_error", &[]).is_some() {
        return;
    }
    let b = backend();
    let surface = b.display().create_surface(0x1, W, H).unwrap();
    match surface.export() {
        Err(VideoError::Va { call, status, .. }) => {
            assert_eq!((call, status), ("vaExportSurfaceHandle", 0x14));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn av1_decodes_into_nv12_or_p010_and_mpeg2_only_into_nv12() {
    if let Some(calls) = in_child(
        "av1_decodes_into_nv12_or_p010_and_mpeg2_only_into_nv12",
        &[],
    ) {
        assert!(calls.contains("CreateConfig profile=32 entrypoint=1 rt_format=0x101"));
        assert_eq!(calls.matches("BeginPicture").count(), 2, "{calls}");
        return;
    }
    let b = backend();
    let mut ctx = b.new_context();
    let mut guest = Guest::default();
    ctx.create_codec(&codec(1, VideoProfile::Av1Main)).unwrap();
    ctx.create_codec(&codec(2, VideoProfile::Mpeg2Main))
        .unwrap();
    video_buffer(&mut ctx, &mut guest, 7, NV12);
    video_buffer(&mut ctx, &mut guest, 9, P010);
    for target in [7, 9] {
        ctx.begin_frame(&frame(1, target)).unwrap();
        ctx.end_frame(&frame(1, target), &mut guest).unwrap();
    }
    assert!(matches!(
        ctx.begin_frame(&frame(2, 9)),
        Err(VideoError::InvalidCommand(_))
    ));
}
