//! VP9 translation against real clips (`data/vp9_p0_64x64.ivf`: profile 0 with segmentation;
//! `data/vp9_p2_10bit_64x64.ivf`: profile 2, 10-bit) and ffmpeg's trace of them.
//!
//! For each frame the test plays the guest side: it computes the VA parameters a VA client
//! (ffmpeg's vaapi_vp9) would send from the traced header values (tracking the state VP9
//! carries between frames: reference sizes, loop-filter deltas, segmentation), turns them into
//! the `virgl_vp9_picture_desc` Mesa's VA frontend and virgl driver would send, translates,
//! and checks every VA field against the header values. The per-segment dequantisation scales
//! are spec table look-ups (VP9 8.6.1) that are not reproduced here: the test sends the
//! segment's qindex in their place and checks that it arrives unchanged.

mod common;

use common::trace::{clip, Section};
use common::{read_struct, Surfaces};
use libva_sys::va_display_drm as va;
use virgl_protocol::video::{PictureDesc, VideoProfile, Vp9PictureDesc};
use virgl_video::translate::{translate, VaBuffer};
use virgl_video::VideoError;

const PIC: u32 = va::VABufferType_VAPictureParameterBufferType;
const SLICE: u32 = va::VABufferType_VASliceParameterBufferType;
const DATA: u32 = va::VABufferType_VASliceDataBufferType;

/// Frames of an IVF file (32-byte file header, then 12-byte frame headers).
fn ivf_frames(data: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&data[..4], b"DKIF");
    let mut out = Vec::new();
    let mut pos = 32;
    while pos + 12 <= data.len() {
        let size = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 12;
        out.push(data[pos..pos + size].to_vec());
        pos += size;
    }
    out
}

/// State a VP9 decoder (and so the VA client) keeps between frames.
struct State {
    ref_sizes: [(u16, u16); 8],
    ref_deltas: [i64; 4],
    mode_deltas: [i64; 2],
    seg_tree_probs: [u8; 7],
    /// feature_enabled / feature_value (signed) per segment and feature.
    seg_enabled: [[bool; 4]; 8],
    seg_value: [[i64; 4]; 8],
    seg_abs: bool,
    subsampling: (u32, u32),
    bit_depth: u8,
}

impl State {
    fn new() -> Self {
        Self {
            ref_sizes: [(0, 0); 8],
            ref_deltas: [1, 0, -1, -1],
            mode_deltas: [0, 0],
            seg_tree_probs: [255; 7],
            seg_enabled: [[false; 4]; 8],
            seg_value: [[0; 4]; 8],
            seg_abs: false,
            subsampling: (1, 1),
            bit_depth: 8,
        }
    }
}

/// Everything the test expects of one frame, computed from the trace.
struct Expected {
    desc: Vp9PictureDesc,
    width: u16,
    height: u16,
    header_len: u8,
    first_partition: u16,
    size: usize,
}

/// The guest description for one traced frame, as Mesa would build it from ffmpeg's VA
/// parameters; `refs` are the guest handles of the 8 reference slots.
fn build(
    profile: VideoProfile,
    h: &Section,
    size: usize,
    st: &mut State,
    refs: [u32; 8],
) -> Expected {
    let mut d = Vp9PictureDesc::default();
    d.base.profile = profile as u16;
    d.base.entry_point = 1;
    let key = h.req("frame_type") == 0;
    let show = h.req("show_frame");
    let err_res = h.req("error_resilient_mode");
    let intra_only = h.or("intra_only", 0);
    let vp9_profile = (h.req("profile_high_bit") << 1 | h.req("profile_low_bit")) as u8;
    if key || intra_only != 0 {
        if vp9_profile >= 2 {
            st.bit_depth = if h.req("ten_or_twelve_bit") == 1 {
                12
            } else {
                10
            };
        }
        st.subsampling = (1, 1); // profiles 0 and 2 are 4:2:0
    }
    // Frame size: coded, or taken from the first reference marked found_ref.
    let (w, hgt) = if let Some(wm1) = h.get("frame_width_minus_1") {
        ((wm1 + 1) as u16, (h.req("frame_height_minus_1") + 1) as u16)
    } else {
        let i = (0..3)
            .find(|&i| h.or(&format!("found_ref[{i}]"), 0) == 1)
            .unwrap();
        st.ref_sizes[h.req(&format!("ref_frame_idx[{i}]")) as usize]
    };
    let refresh = if key {
        0xff
    } else {
        h.req("refresh_frame_flags")
    };
    for (i, s) in st.ref_sizes.iter_mut().enumerate() {
        if refresh & (1 << i) != 0 {
            *s = (w, hgt);
        }
    }
    // Loop-filter deltas reset on key/intra-only/error-resilient frames.
    if key || intra_only != 0 || err_res != 0 {
        st.ref_deltas = [1, 0, -1, -1];
        st.mode_deltas = [0, 0];
    }
    for i in 0..4 {
        if h.or(&format!("update_ref_delta[{i}]"), 0) == 1 {
            st.ref_deltas[i] = h.req(&format!("loop_filter_ref_deltas[{i}]"));
        }
    }
    for i in 0..2 {
        if h.or(&format!("update_mode_delta[{i}]"), 0) == 1 {
            st.mode_deltas[i] = h.req(&format!("loop_filter_mode_deltas[{i}]"));
        }
    }
    let seg_on = h.req("segmentation_enabled") == 1;
    let update_map = h.or("segmentation_update_map", 0) == 1;
    let temporal = h.or("segmentation_temporal_update", 0) == 1;
    if seg_on && update_map {
        for i in 0..7 {
            st.seg_tree_probs[i] =
                if h.req(&format!("segmentation_tree_probs[{i}].prob_coded")) == 1 {
                    h.req(&format!("segmentation_tree_probs[{i}].prob")) as u8
                } else {
                    255
                };
        }
    }
    let mut pred_probs = [255u8; 3];
    if seg_on && update_map && temporal {
        for (i, p) in pred_probs.iter_mut().enumerate() {
            if h.req(&format!("segmentation_pred_prob[{i}].prob_coded")) == 1 {
                *p = h.req(&format!("segmentation_pred_prob[{i}].prob")) as u8;
            }
        }
    }
    if seg_on && h.or("segmentation_update_data", 0) == 1 {
        st.seg_abs = h.req("segmentation_abs_or_delta_update") == 1;
        for s in 0..8 {
            for f in 0..4 {
                let on = h.req(&format!("feature_enabled[{s}][{f}]")) == 1;
                st.seg_enabled[s][f] = on;
                let mut v = if on {
                    h.or(&format!("feature_value[{s}][{f}]"), 0)
                } else {
                    0
                };
                if on && h.or(&format!("feature_sign[{s}][{f}]"), 0) == 1 {
                    v = -v;
                }
                st.seg_value[s][f] = v;
            }
        }
    }

    let base_q = h.req("base_q_idx");
    let dq = |n: &str| -> i64 {
        if h.req(&format!("{n}.delta_coded")) == 1 {
            h.req(&format!("{n}.delta_q"))
        } else {
            0
        }
    };
    let (y_dc, uv_dc, uv_ac) = (dq("delta_q_y_dc"), dq("delta_q_uv_dc"), dq("delta_q_uv_ac"));
    let lossless = base_q == 0 && y_dc == 0 && uv_dc == 0 && uv_ac == 0;
    let level = h.req("loop_filter_level");
    let delta_enabled = h.req("loop_filter_delta_enabled") == 1;

    let pp = &mut d.picture_parameter;
    pp.frame_width = w;
    pp.frame_height = hgt;
    let f = &mut pp.pic_fields;
    f.set_subsampling_x(st.subsampling.0);
    f.set_subsampling_y(st.subsampling.1);
    f.set_frame_type(u32::from(!key));
    f.set_show_frame(show as u32);
    f.set_error_resilient_mode(err_res as u32);
    f.set_intra_only(intra_only as u32);
    f.set_allow_high_precision_mv(h.or("allow_high_precision_mv", 0) as u32);
    // VA numbers interpolation filters as the spec's types (literal 0..3 -> 1, 0, 2, 3),
    // 4 = switchable.
    let filter = if key || intra_only != 0 {
        0
    } else if h.req("is_filter_switchable") == 1 {
        4
    } else {
        [1, 0, 2, 3][h.req("raw_interpolation_filter_type") as usize]
    };
    f.set_mcomp_filter_type(filter);
    f.set_frame_parallel_decoding_mode(h.or("frame_parallel_decoding_mode", 1) as u32);
    f.set_reset_frame_context(h.or("reset_frame_context", 0) as u32);
    f.set_refresh_frame_context(h.or("refresh_frame_context", 0) as u32);
    f.set_frame_context_idx(h.req("frame_context_idx") as u32);
    f.set_segmentation_enabled(seg_on.into());
    f.set_segmentation_temporal_update((seg_on && update_map && temporal).into());
    f.set_segmentation_update_map((seg_on && update_map).into());
    if !key {
        f.set_last_ref_frame(h.req("ref_frame_idx[0]") as u32);
        f.set_last_ref_frame_sign_bias(h.req("ref_frame_sign_bias[1]") as u32);
        f.set_golden_ref_frame(h.req("ref_frame_idx[1]") as u32);
        f.set_golden_ref_frame_sign_bias(h.req("ref_frame_sign_bias[2]") as u32);
        f.set_alt_ref_frame(h.req("ref_frame_idx[2]") as u32);
        f.set_alt_ref_frame_sign_bias(h.req("ref_frame_sign_bias[3]") as u32);
    }
    f.set_lossless_flag(lossless.into());
    pp.filter_level = level as u8;
    pp.sharpness_level = h.req("loop_filter_sharpness") as u8;
    pp.log2_tile_columns = h.or("tile_cols_log2", 0) as u8;
    pp.log2_tile_rows = h.or("tile_rows_log2", 0) as u8;
    let header_len = h.end().div_ceil(8) as u8;
    let first_partition = h.req("header_size_in_bytes") as u16;
    pp.frame_header_length_in_bytes = header_len;
    pp.first_partition_size = first_partition;
    pp.mb_segment_tree_probs = st.seg_tree_probs;
    pp.segment_pred_probs = pred_probs;
    pp.profile = vp9_profile;
    pp.bit_depth = st.bit_depth;
    pp.mode_ref_delta_enabled = delta_enabled;
    pp.mode_ref_delta_update = h.or("loop_filter_delta_update", 0) == 1;
    pp.base_qindex = base_q as u8;
    pp.y_dc_delta_q = y_dc as i8;
    pp.uv_ac_delta_q = uv_ac as i8;
    pp.uv_dc_delta_q = uv_dc as i8;
    // Mesa's VA frontend: references only on non-key frames; handle 0 for none.
    if !key {
        d.r#ref[..8].copy_from_slice(&refs);
    }

    let sp = &mut d.slice_parameter;
    sp.slice_data_size = size as u32;
    sp.slice_data_offset = 0;
    sp.slice_data_flag = 0; // PIPE_SLICE_BUFFER_PLACEMENT_TYPE_WHOLE
    for (s, seg) in sp.seg_param.iter_mut().enumerate() {
        let active = |f: usize| seg_on && st.seg_enabled[s][f];
        seg.segment_flags
            .set_segment_reference_enabled(active(2).into());
        if active(2) {
            seg.segment_flags
                .set_segment_reference(st.seg_value[s][2] as u32);
        }
        seg.segment_flags
            .set_segment_reference_skipped(active(3).into());
        // Loop-filter level per reference and mode (VP9 8.8.1).
        let mut lvl = level;
        if active(1) {
            lvl = if st.seg_abs {
                st.seg_value[s][1]
            } else {
                lvl + st.seg_value[s][1]
            };
            lvl = lvl.clamp(0, 63);
        }
        for r in 0..4 {
            for m in 0..2 {
                seg.filter_level[r][m] = if !delta_enabled {
                    lvl
                } else {
                    let shift = lvl >> 5;
                    let mut l = lvl + st.ref_deltas[r] * (1 << shift);
                    if r > 0 {
                        l += st.mode_deltas[m] * (1 << shift);
                    }
                    l.clamp(0, 63)
                } as u8;
            }
        }
        // Stand-in for the dequantisation scales: the segment's qindex (see module docs).
        let mut q = base_q;
        if active(0) {
            q = if st.seg_abs {
                st.seg_value[s][0]
            } else {
                q + st.seg_value[s][0]
            };
            q = q.clamp(0, 255);
        }
        seg.luma_ac_quant_scale = q as i16;
        seg.luma_dc_quant_scale = (q + y_dc) as i16;
        seg.chroma_ac_quant_scale = (q + uv_ac) as i16;
        seg.chroma_dc_quant_scale = (q + uv_dc) as i16;
    }
    Expected {
        desc: d,
        width: w,
        height: hgt,
        header_len,
        first_partition,
        size,
    }
}

/// The surfaces the guest's descriptions here refer to.
const SURFACES: Surfaces = Surfaces {
    target: 7777,
    size: (64, 64),
};

fn run(d: &Vp9PictureDesc, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
    SURFACES.run(d, bytes)
}

/// Translates every frame of a clip and checks each VA field.
fn check_clip(name: &str, profile: VideoProfile, expect_segmentation: bool) {
    let (data, sections) = clip(name);
    let frames = ivf_frames(&data);
    let headers: Vec<Section> = sections.into_iter().filter(|s| s.name == "Frame").collect();
    assert_eq!(frames.len(), headers.len());
    assert!(frames.len() >= 3);
    let mut st = State::new();
    let mut saw_segmentation = false;
    for (n, (bytes, h)) in frames.iter().zip(&headers).enumerate() {
        // Guest handles 11..=18 for the 8 reference slots.
        let refs: [u32; 8] = std::array::from_fn(|i| 11 + i as u32);
        let e = build(profile, h, bytes.len(), &mut st, refs);
        let bufs = run(&e.desc, bytes).unwrap_or_else(|err| panic!("frame {n}: {err}"));
        assert_eq!(
            bufs.iter().map(|b| b.kind).collect::<Vec<_>>(),
            [PIC, SLICE, DATA],
            "frame {n}: buffer order"
        );
        assert_eq!(bufs[2].data, *bytes, "frame {n}: slice data is the frame");

        let p: va::VADecPictureParameterBufferVP9 = read_struct(&bufs[0].data);
        assert_eq!(bufs[0].count, 1);
        assert_eq!(
            (p.frame_width, p.frame_height),
            (e.width, e.height),
            "frame {n}"
        );
        let key = h.req("frame_type") == 0;
        for (i, &r) in p.reference_frames.iter().enumerate() {
            let want = if key { 0xffff_ffff } else { 1011 + i as u32 };
            assert_eq!(r, want, "frame {n}: reference {i}");
        }
        // SAFETY: reading the bitfield view of a union of one u32 the translator filled.
        let f = unsafe { p.pic_fields.bits };
        let d = &e.desc.picture_parameter;
        let df = &d.pic_fields;
        assert_eq!(f.subsampling_x(), 1);
        assert_eq!(f.subsampling_y(), 1);
        assert_eq!(f.frame_type(), u32::from(!key));
        assert_eq!(f.show_frame() as i64, h.req("show_frame"));
        assert_eq!(
            f.error_resilient_mode() as i64,
            h.req("error_resilient_mode")
        );
        assert_eq!(f.intra_only() as i64, h.or("intra_only", 0));
        assert_eq!(
            f.allow_high_precision_mv() as i64,
            h.or("allow_high_precision_mv", 0)
        );
        assert_eq!(f.mcomp_filter_type(), df.mcomp_filter_type());
        assert_eq!(
            f.frame_parallel_decoding_mode() as i64,
            h.or("frame_parallel_decoding_mode", 1)
        );
        assert_eq!(
            f.reset_frame_context() as i64,
            h.or("reset_frame_context", 0)
        );
        assert_eq!(
            f.refresh_frame_context() as i64,
            h.or("refresh_frame_context", 0)
        );
        assert_eq!(f.frame_context_idx() as i64, h.req("frame_context_idx"));
        assert_eq!(
            f.segmentation_enabled() as i64,
            h.req("segmentation_enabled")
        );
        assert_eq!(f.segmentation_update_map(), df.segmentation_update_map());
        assert_eq!(
            f.segmentation_temporal_update(),
            df.segmentation_temporal_update()
        );
        if !key {
            assert_eq!(f.last_ref_frame() as i64, h.req("ref_frame_idx[0]"));
            assert_eq!(
                f.last_ref_frame_sign_bias() as i64,
                h.req("ref_frame_sign_bias[1]")
            );
            assert_eq!(f.golden_ref_frame() as i64, h.req("ref_frame_idx[1]"));
            assert_eq!(
                f.golden_ref_frame_sign_bias() as i64,
                h.req("ref_frame_sign_bias[2]")
            );
            assert_eq!(f.alt_ref_frame() as i64, h.req("ref_frame_idx[2]"));
            assert_eq!(
                f.alt_ref_frame_sign_bias() as i64,
                h.req("ref_frame_sign_bias[3]")
            );
        }
        assert_eq!(f.lossless_flag(), u32::from(h.req("base_q_idx") == 0));
        assert_eq!(p.filter_level as i64, h.req("loop_filter_level"));
        assert_eq!(p.sharpness_level as i64, h.req("loop_filter_sharpness"));
        assert_eq!(p.log2_tile_columns as i64, h.or("tile_cols_log2", 0));
        assert_eq!(p.log2_tile_rows as i64, h.or("tile_rows_log2", 0));
        assert_eq!(p.frame_header_length_in_bytes, e.header_len);
        assert_eq!(p.first_partition_size, e.first_partition);
        assert_eq!(p.first_partition_size as i64, h.req("header_size_in_bytes"));
        assert_eq!(p.mb_segment_tree_probs, d.mb_segment_tree_probs);
        assert_eq!(p.segment_pred_probs, d.segment_pred_probs);
        let prof = h.req("profile_high_bit") << 1 | h.req("profile_low_bit");
        assert_eq!(p.profile as i64, prof);
        assert_eq!(p.bit_depth, if prof == 2 { 10 } else { 8 });

        let s: va::VASliceParameterBufferVP9 = read_struct(&bufs[1].data);
        assert_eq!(bufs[1].count, 1);
        assert_eq!(s.slice_data_offset, 0);
        assert_eq!(s.slice_data_size as usize, e.size);
        assert_eq!(s.slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
        for (i, (vs, ds)) in s
            .seg_param
            .iter()
            .zip(&e.desc.slice_parameter.seg_param)
            .enumerate()
        {
            // SAFETY: reading the bitfield view of a union of one u16 the translator filled.
            let fl = unsafe { vs.segment_flags.fields };
            let dfl = &ds.segment_flags;
            assert_eq!(
                u32::from(fl.segment_reference_enabled()),
                dfl.segment_reference_enabled()
            );
            assert_eq!(u32::from(fl.segment_reference()), dfl.segment_reference());
            assert_eq!(
                u32::from(fl.segment_reference_skipped()),
                dfl.segment_reference_skipped()
            );
            assert_eq!(vs.filter_level, ds.filter_level, "frame {n} segment {i}");
            assert_eq!(vs.luma_ac_quant_scale, ds.luma_ac_quant_scale);
            assert_eq!(vs.luma_dc_quant_scale, ds.luma_dc_quant_scale);
            assert_eq!(vs.chroma_ac_quant_scale, ds.chroma_ac_quant_scale);
            assert_eq!(vs.chroma_dc_quant_scale, ds.chroma_dc_quant_scale);
            if h.req("segmentation_enabled") == 1
                && i > 0
                && vs.luma_ac_quant_scale as i64 != h.req("base_q_idx")
            {
                saw_segmentation = true;
            }
        }
    }
    assert_eq!(
        saw_segmentation, expect_segmentation,
        "segment quantiser features"
    );
}

#[test]
fn profile0_clip_with_segmentation_translates_field_by_field() {
    check_clip("vp9_p0_64x64.ivf", VideoProfile::Vp9Profile0, true);
}

#[test]
fn profile2_10bit_clip_translates_field_by_field() {
    check_clip("vp9_p2_10bit_64x64.ivf", VideoProfile::Vp9Profile2, false);
}

/// The description and bytes of the clip's second frame (an inter frame).
fn inter_frame() -> (Vp9PictureDesc, Vec<u8>) {
    let (data, sections) = clip("vp9_p0_64x64.ivf");
    let frames = ivf_frames(&data);
    let headers: Vec<Section> = sections.into_iter().filter(|s| s.name == "Frame").collect();
    let mut st = State::new();
    let refs: [u32; 8] = std::array::from_fn(|i| 11 + i as u32);
    build(
        VideoProfile::Vp9Profile0,
        &headers[0],
        frames[0].len(),
        &mut st,
        refs,
    );
    let e = build(
        VideoProfile::Vp9Profile0,
        &headers[1],
        frames[1].len(),
        &mut st,
        refs,
    );
    (e.desc, frames[1].clone())
}

fn refused(d: &Vp9PictureDesc, bytes: &[u8]) -> String {
    SURFACES.refused(d, bytes)
}

#[test]
fn slice_placement_flags_map_to_va() {
    let (mut d, bytes) = inter_frame();
    for (pipe, want) in [
        (0, va::VA_SLICE_DATA_FLAG_ALL),
        (1, va::VA_SLICE_DATA_FLAG_BEGIN),
        (2, va::VA_SLICE_DATA_FLAG_MIDDLE),
        (3, va::VA_SLICE_DATA_FLAG_END),
    ] {
        d.slice_parameter.slice_data_flag = pipe;
        let bufs = run(&d, &bytes).unwrap();
        let s: va::VASliceParameterBufferVP9 = read_struct(&bufs[1].data);
        assert_eq!(s.slice_data_flag, want);
    }
    d.slice_parameter.slice_data_flag = 4;
    assert!(refused(&d, &bytes).contains("placement"));
}

#[test]
fn bad_input_is_refused() {
    let (good, bytes) = inter_frame();
    assert!(run(&good, &bytes).is_ok());

    // Reference handle that names no video buffer.
    let mut d = good.clone();
    d.r#ref[3] = 500;
    assert!(refused(&d, &bytes).contains("500"));

    // Slice past the end of the bitstream, and starting past it.
    let mut d = good.clone();
    d.slice_parameter.slice_data_size = bytes.len() as u32 + 1;
    assert!(refused(&d, &bytes).contains("past"));
    let mut d = good.clone();
    d.slice_parameter.slice_data_offset = bytes.len() as u32;
    assert!(refused(&d, &bytes).contains("past"));
    let mut d = good.clone();
    d.slice_parameter.slice_data_offset = u32::MAX;
    d.slice_parameter.slice_data_size = u32::MAX;
    assert!(refused(&d, &bytes).contains("past"));

    // Headers longer than the frame.
    let mut d = good.clone();
    d.picture_parameter.first_partition_size = bytes.len() as u16;
    assert!(refused(&d, &bytes).contains("headers"));

    // Wrong profile: a profile-2 frame under a profile-0 codec, a non-VP9 codec profile,
    // an unknown profile number, 10 bits in profile 0.
    let mut d = good.clone();
    d.picture_parameter.profile = 2;
    d.picture_parameter.bit_depth = 10;
    assert!(refused(&d, &bytes).contains("profile"));
    let mut d = good.clone();
    d.base.profile = VideoProfile::Av1Main as u16;
    assert!(refused(&d, &bytes).contains("not a VP9 profile"));
    let mut d = good.clone();
    d.base.profile = 999;
    assert!(refused(&d, &bytes).contains("unknown profile"));
    let mut d = good.clone();
    d.picture_parameter.bit_depth = 10;
    assert!(refused(&d, &bytes).contains("bit depth"));

    // Impossible tile layout, zero size, no data.
    let mut d = good.clone();
    d.picture_parameter.log2_tile_rows = 3;
    assert!(refused(&d, &bytes).contains("tile"));
    let mut d = good.clone();
    d.picture_parameter.frame_width = 0;
    assert!(refused(&d, &bytes).contains("zero"));
    assert!(refused(&good, &[]).contains("no bitstream"));

    // A size of 0 (a client that sent no slice parameters) means "the rest of the data".
    let mut d = good.clone();
    d.slice_parameter.slice_data_size = 0;
    let bufs = run(&d, &bytes).unwrap();
    let s: va::VASliceParameterBufferVP9 = read_struct(&bufs[1].data);
    assert_eq!(s.slice_data_size as usize, bytes.len());
}

#[test]
fn split_bitstream_buffers_are_joined() {
    let (d, bytes) = inter_frame();
    let s = Surfaces {
        target: 1,
        size: (64, 64),
    };
    let (a, b) = bytes.split_at(5);
    let bufs = translate(&PictureDesc::Vp9(Box::new(d)), &[a, b], &s).unwrap();
    assert_eq!(bufs[2].data, bytes);
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A real frame's description with random bytes overwritten and its bitstream cut
        /// anywhere: translation refuses or succeeds, never panics, and what it hands on
        /// stays inside the data.
        #[test]
        fn mutated_descriptions_never_escape_the_data(
            muts in proptest::collection::vec((0..Vp9PictureDesc::SIZE, any::<u8>()), 1..8),
            cut in 0usize..2000,
        ) {
            let (d, bytes) = inter_frame();
            let mut raw = d.to_bytes();
            for (at, v) in muts {
                raw[at] = v;
            }
            let d = Vp9PictureDesc::from_bytes(&raw).unwrap();
            let bytes = &bytes[..cut.min(bytes.len())];
            match run(&d, bytes) {
                Ok(bufs) => {
                    let s: va::VASliceParameterBufferVP9 = read_struct(&bufs[1].data);
                    let end = s.slice_data_offset as usize + s.slice_data_size as usize;
                    prop_assert!(end <= bufs[2].data.len());
                    prop_assert_eq!(&bufs[2].data[..], bytes);
                }
                Err(VideoError::InvalidPicture { .. }) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
