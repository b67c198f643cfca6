//! AV1 translation against real clips and ffmpeg's trace of them:
//! `data/av1_p0_10bit_256x128.obu` (profile 0, 10-bit, 2x2 tiles, film grain on every frame)
//! and `data/av1_p1_444_64x64.obu` (profile 1, 8-bit 4:4:4, one tile).
//!
//! For each frame the test plays the guest side: from the traced sequence and frame headers it
//! computes the VA parameters a VA client (ffmpeg's vaapi_av1) would send, including the tile
//! offsets and sizes it finds by walking the tile group's `tile_size_minus_1` fields in the
//! clip, builds the `virgl_av1_picture_desc` Mesa's VA frontend and virgl driver would send
//! (the bitstream being the tile data, as VA clients submit it), translates, and checks the VA
//! picture parameters and every per-tile slice parameter against the header values.

mod common;

use common::trace::{clip, section, Section};
use common::{read_struct, Surfaces};
use libva_sys::va_display_drm as va;
use virgl_protocol::video::{Av1PictureDesc, PictureDesc, VideoProfile};
use virgl_video::translate::{translate, VaBuffer};
use virgl_video::VideoError;

const PIC: u32 = va::VABufferType_VAPictureParameterBufferType;
const SLICE: u32 = va::VABufferType_VASliceParameterBufferType;
const DATA: u32 = va::VABufferType_VASliceDataBufferType;
const TARGET: u32 = 7777;

/// `values` widened, to compare with trace values.
fn wide<T: Copy + Into<i64>>(values: &[T]) -> Vec<i64> {
    values.iter().map(|&v| v.into()).collect()
}

/// OBUs of a low-overhead (Section 5) stream: (type, whole OBU bytes).
fn obus(data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let start = pos;
        let h = data[pos];
        let ty = (h >> 3) & 0xf;
        let ext = (h >> 2) & 1;
        assert_eq!((h >> 1) & 1, 1, "obu_has_size_field");
        pos += 1 + ext as usize;
        let mut size = 0usize;
        for i in 0..8 {
            let b = data[pos];
            pos += 1;
            size |= ((b & 0x7f) as usize) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
        pos += size;
        out.push((ty, &data[start..pos]));
    }
    out
}

/// One frame: its traced frame header and tile group, and the tile data a VA client submits.
struct Frame {
    header: Section,
    tile_group: Section,
    /// The tile group's payload after its header (tile sizes and tiles).
    data: Vec<u8>,
}

fn frames(name: &str) -> (Section, Vec<Frame>) {
    let (bytes, sections) = clip(name);
    let seq = section(&sections, "Sequence Header").clone();
    let mut traced = Vec::new();
    let mut it = sections.into_iter().peekable();
    while let Some(s) = it.next() {
        if s.name == "Frame Header" {
            // The tile group follows (same OBU for OBU_FRAME, after an "OBU header" section
            // otherwise).
            let tg = loop {
                let n = it.next().unwrap();
                if n.name == "Tile Group" {
                    break n;
                }
            };
            traced.push((s, tg));
        }
    }
    let units: Vec<&[u8]> = obus(&bytes)
        .into_iter()
        .filter(|(t, _)| *t == 6 || *t == 4) // OBU_FRAME, OBU_TILE_GROUP
        .map(|(_, b)| b)
        .collect();
    assert_eq!(units.len(), traced.len(), "one tile group per frame");
    let frames = traced
        .into_iter()
        .zip(units)
        .map(|((header, tile_group), obu)| {
            // Trace positions count from the OBU's first bit; the tile group header ends
            // byte-aligned.
            // (A one-tile group has an empty header: the frame header's end counts then.)
            let start = tile_group.end().max(header.end()).div_ceil(8) as usize;
            Frame {
                header,
                tile_group,
                data: obu[start..].to_vec(),
            }
        })
        .collect();
    (seq, frames)
}

/// Tile grid of a uniformly spaced frame (AV1 5.9.15): (cols, rows, col starts, row starts),
/// starts in superblocks with the end appended.
fn tile_grid(seq: &Section, h: &Section, w: u32, hgt: u32) -> (u32, u32, Vec<u32>, Vec<u32>) {
    assert_eq!(
        h.req("uniform_tile_spacing_flag"),
        1,
        "clips use uniform spacing"
    );
    let sb_shift = if seq.req("use_128x128_superblock") == 1 {
        5
    } else {
        4
    };
    let mi_cols = 2 * ((w + 7) >> 3);
    let mi_rows = 2 * ((hgt + 7) >> 3);
    let sb_cols = (mi_cols + (1 << sb_shift) - 1) >> sb_shift;
    let sb_rows = (mi_rows + (1 << sb_shift) - 1) >> sb_shift;
    let starts = |sbs: u32, log2: u32| {
        let size = (sbs + (1 << log2) - 1) >> log2;
        let mut v: Vec<u32> = (0..).map(|i| i * size).take_while(|&s| s < sbs).collect();
        v.push(sbs);
        v
    };
    let cols = starts(sb_cols, h.or("tile_cols_log2", 0) as u32);
    let rows = starts(sb_rows, h.or("tile_rows_log2", 0) as u32);
    (cols.len() as u32 - 1, rows.len() as u32 - 1, cols, rows)
}

/// (offset, size) of every tile in the tile data (AV1 5.11.1: every tile but the last is
/// preceded by its size minus 1 in `TileSizeBytes` little-endian bytes).
fn tiles(data: &[u8], count: usize, size_bytes: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for i in 0..count {
        if i + 1 == count {
            out.push((pos, data.len() - pos));
        } else {
            let mut size = 0usize;
            for b in 0..size_bytes {
                size |= (data[pos + b] as usize) << (8 * b);
            }
            pos += size_bytes;
            out.push((pos, size + 1));
            pos += size + 1;
        }
    }
    out
}

/// What the test expects beyond the description itself.
struct Expected {
    desc: Av1PictureDesc,
    tiles: Vec<(usize, usize)>,
    tile_cols: u32,
}

/// The guest description of one frame as Mesa would build it from ffmpeg's VA parameters.
fn build(seq: &Section, f: &Frame, refs: [u32; 8], grain_target: u32) -> Expected {
    let h = &f.header;
    let mut d = Av1PictureDesc::default();
    d.base.profile = VideoProfile::Av1Main as u16;
    d.base.entry_point = 1;
    let key = h.req("frame_type") == 0;
    let intra = key || h.req("frame_type") == 2;
    let pp = &mut d.picture_parameter;
    pp.profile = seq.req("seq_profile") as u8;
    pp.order_hint_bits_minus_1 = seq.req("order_hint_bits_minus_1") as u8;
    pp.bit_depth_idx = if seq.req("high_bitdepth") == 1 {
        1 + seq.or("twelve_bit", 0) as u8
    } else {
        0
    };
    let si = &mut pp.seq_info_fields;
    si.set_use_128x128_superblock(seq.req("use_128x128_superblock") as u32);
    si.set_enable_filter_intra(seq.req("enable_filter_intra") as u32);
    si.set_enable_intra_edge_filter(seq.req("enable_intra_edge_filter") as u32);
    si.set_enable_interintra_compound(seq.req("enable_interintra_compound") as u32);
    si.set_enable_masked_compound(seq.req("enable_masked_compound") as u32);
    si.set_enable_dual_filter(seq.req("enable_dual_filter") as u32);
    si.set_enable_order_hint(seq.req("enable_order_hint") as u32);
    si.set_enable_jnt_comp(seq.req("enable_jnt_comp") as u32);
    si.set_enable_cdef(seq.req("enable_cdef") as u32);
    si.set_mono_chrome(seq.or("mono_chrome", 0) as u32);
    si.set_ref_frame_mvs(seq.req("enable_ref_frame_mvs") as u32);
    si.set_film_grain_params_present(seq.req("film_grain_params_present") as u32);
    let w = h
        .get("frame_width_minus_1")
        .unwrap_or_else(|| seq.req("max_frame_width_minus_1"))
        + 1;
    let hgt = h
        .get("frame_height_minus_1")
        .unwrap_or_else(|| seq.req("max_frame_height_minus_1"))
        + 1;
    pp.frame_width = w as u16;
    pp.frame_height = hgt as u16;
    pp.max_width = (seq.req("max_frame_width_minus_1") + 1) as u16;
    pp.max_height = (seq.req("max_frame_height_minus_1") + 1) as u16;
    if !intra {
        for i in 0..7 {
            pp.ref_frame_idx[i] = h.req(&format!("ref_frame_idx[{i}]")) as u8;
        }
    }
    pp.primary_ref_frame = h.or("primary_ref_frame", 7) as u8;
    pp.order_hint = h.req("order_hint") as u8;

    // Film grain (the clips code fresh parameters on every frame).
    let g = &mut pp.film_grain_info;
    if h.or("apply_grain", 0) == 1 {
        assert_eq!(
            h.or("update_grain", 1),
            1,
            "clips update grain on every frame"
        );
        let gf = &mut g.film_grain_info_fields;
        gf.set_apply_grain(1);
        gf.set_chroma_scaling_from_luma(h.req("chroma_scaling_from_luma") as u32);
        gf.set_grain_scaling_minus_8(h.req("grain_scaling_minus_8") as u32);
        gf.set_ar_coeff_lag(h.req("ar_coeff_lag") as u32);
        gf.set_ar_coeff_shift_minus_6(h.req("ar_coeff_shift_minus_6") as u32);
        gf.set_grain_scale_shift(h.req("grain_scale_shift") as u32);
        gf.set_overlap_flag(h.req("overlap_flag") as u32);
        gf.set_clip_to_restricted_range(h.req("clip_to_restricted_range") as u32);
        g.grain_seed = h.req("grain_seed") as u16;
        g.num_y_points = h.req("num_y_points") as u8;
        g.num_cb_points = h.or("num_cb_points", 0) as u8;
        g.num_cr_points = h.or("num_cr_points", 0) as u8;
        let fill = |dst: &mut [u8], name: &str, n: u8| {
            for (i, v) in dst.iter_mut().enumerate().take(n as usize) {
                *v = h.req(&format!("{name}[{i}]")) as u8;
            }
        };
        fill(&mut g.point_y_value, "point_y_value", g.num_y_points);
        fill(&mut g.point_y_scaling, "point_y_scaling", g.num_y_points);
        fill(&mut g.point_cb_value, "point_cb_value", g.num_cb_points);
        fill(&mut g.point_cb_scaling, "point_cb_scaling", g.num_cb_points);
        fill(&mut g.point_cr_value, "point_cr_value", g.num_cr_points);
        fill(&mut g.point_cr_scaling, "point_cr_scaling", g.num_cr_points);
        let ar = |dst: &mut [i8], name: &str| {
            for (i, v) in dst.iter_mut().enumerate() {
                if let Some(x) = h.get(&format!("{name}[{i}]")) {
                    *v = (x - 128) as i8;
                }
            }
        };
        ar(&mut g.ar_coeffs_y, "ar_coeffs_y_plus_128");
        ar(&mut g.ar_coeffs_cb, "ar_coeffs_cb_plus_128");
        ar(&mut g.ar_coeffs_cr, "ar_coeffs_cr_plus_128");
        g.cb_mult = h.or("cb_mult", 0) as u8;
        g.cb_luma_mult = h.or("cb_luma_mult", 0) as u8;
        g.cb_offset = h.or("cb_offset", 0) as u16;
        g.cr_mult = h.or("cr_mult", 0) as u8;
        g.cr_luma_mult = h.or("cr_luma_mult", 0) as u8;
        g.cr_offset = h.or("cr_offset", 0) as u16;
        d.film_grain_target = grain_target;
    }

    // Tiles.
    let (cols, rows, col_starts, row_starts) = tile_grid(seq, h, w as u32, hgt as u32);
    pp.tile_cols = cols as u8;
    pp.tile_rows = rows as u8;
    for (i, s) in col_starts.iter().enumerate() {
        pp.tile_col_start_sb[i] = *s;
    }
    for (i, s) in row_starts.iter().enumerate() {
        pp.tile_row_start_sb[i] = *s;
    }
    for i in 0..cols as usize {
        pp.width_in_sbs[i] = (col_starts[i + 1] - col_starts[i]) as u16;
    }
    for i in 0..rows as usize {
        pp.height_in_sbs[i] = (row_starts[i + 1] - row_starts[i]) as u16;
    }
    pp.context_update_tile_id = h.or("context_update_tile_id", 0) as u16;

    let pi = &mut pp.pic_info_fields;
    let show = h.req("show_frame");
    pi.set_frame_type(h.req("frame_type") as u32);
    pi.set_show_frame(show as u32);
    pi.set_showable_frame(h.or("showable_frame", i64::from(show == 1 && !key)) as u32);
    pi.set_error_resilient_mode(h.or("error_resilient_mode", i64::from(key && show == 1)) as u32);
    pi.set_disable_cdf_update(h.req("disable_cdf_update") as u32);
    pi.set_allow_screen_content_tools(h.req("allow_screen_content_tools") as u32);
    pi.set_force_integer_mv(h.or("force_integer_mv", i64::from(intra)) as u32);
    pi.set_allow_intrabc(h.or("allow_intrabc", 0) as u32);
    pi.set_use_superres(h.or("use_superres", 0) as u32);
    pi.set_allow_high_precision_mv(h.or("allow_high_precision_mv", 0) as u32);
    pi.set_is_motion_mode_switchable(h.or("is_motion_mode_switchable", 0) as u32);
    pi.set_use_ref_frame_mvs(h.or("use_ref_frame_mvs", 0) as u32);
    pi.set_disable_frame_end_update_cdf(h.req("disable_frame_end_update_cdf") as u32);
    pi.set_uniform_tile_spacing_flag(h.req("uniform_tile_spacing_flag") as u32);
    pi.set_allow_warped_motion(h.or("allow_warped_motion", 0) as u32);
    pp.superres_scale_denominator = 8;
    pp.interp_filter = if h.or("is_filter_switchable", 0) == 1 {
        4
    } else {
        h.or("interpolation_filter", 0) as u8
    };
    pp.filter_level = [
        h.or("loop_filter_level[0]", 0) as u8,
        h.or("loop_filter_level[1]", 0) as u8,
    ];
    pp.filter_level_u = h.or("loop_filter_level[2]", 0) as u8;
    pp.filter_level_v = h.or("loop_filter_level[3]", 0) as u8;
    let lf = &mut pp.loop_filter_info_fields;
    lf.set_sharpness_level(h.or("loop_filter_sharpness", 0) as u32);
    lf.set_mode_ref_delta_enabled(h.or("loop_filter_delta_enabled", 0) as u32);
    lf.set_mode_ref_delta_update(h.or("loop_filter_delta_update", 0) as u32);
    // Defaults (AV1 7.20 setup_past_independence); the clips never update them.
    assert_eq!(h.or("loop_filter_delta_update", 0), 0);
    pp.ref_deltas = [1, 0, 0, 0, -1, 0, -1, -1];
    pp.mode_deltas = [0, 0];
    pp.base_qindex = h.req("base_q_idx") as u8;
    let dq = |n: &str| -> i8 {
        if h.or(&format!("{n}.delta_coded"), 0) == 1 {
            h.req(&format!("{n}.delta_q")) as i8
        } else {
            0
        }
    };
    pp.y_dc_delta_q = dq("delta_q_y_dc");
    pp.u_dc_delta_q = dq("delta_q_u_dc");
    pp.u_ac_delta_q = dq("delta_q_u_ac");
    pp.v_dc_delta_q = dq("delta_q_u_dc");
    pp.v_ac_delta_q = dq("delta_q_u_ac");
    pp.qmatrix_fields
        .set_using_qmatrix(h.req("using_qmatrix") as u32);
    let mc = &mut pp.mode_control_fields;
    mc.set_delta_q_present_flag(h.or("delta_q_present", 0) as u32);
    mc.set_tx_mode(h.or("tx_mode", 0) as u32);
    mc.set_reference_select(h.or("reference_select", 0) as u32);
    mc.set_reduced_tx_set_used(h.req("reduced_tx_set") as u32);
    mc.set_skip_mode_present(h.or("skip_mode_present", 0) as u32);
    pp.cdef_damping_minus_3 = h.or("cdef_damping_minus_3", 0) as u8;
    pp.cdef_bits = h.or("cdef_bits", 0) as u8;
    for i in 0..(1usize << pp.cdef_bits) {
        pp.cdef_y_strengths[i] = (h.or(&format!("cdef_y_pri_strength[{i}]"), 0) << 2
            | h.or(&format!("cdef_y_sec_strength[{i}]"), 0)) as u8;
        pp.cdef_uv_strengths[i] = (h.or(&format!("cdef_uv_pri_strength[{i}]"), 0) << 2
            | h.or(&format!("cdef_uv_sec_strength[{i}]"), 0))
            as u8;
    }
    for (i, wm) in pp.wm.iter_mut().enumerate() {
        assert_eq!(
            h.or(&format!("is_global[{}]", i + 1), 0),
            0,
            "clips use no global motion"
        );
        wm.wmtype = 0;
        wm.wmmat = [0, 0, 1 << 16, 0, 0, 1 << 16, 0, 0];
    }
    pp.refresh_frame_flags = h.or("refresh_frame_flags", 0xff) as u32;
    pp.matrix_coefficients = seq.or("matrix_coefficients", 2) as u8;
    if !key {
        d.r#ref[..8].copy_from_slice(&refs);
    }

    let count = (cols * rows) as usize;
    let size_bytes = h.or("tile_size_bytes_minus1", 3) as usize + 1;
    assert_eq!(f.tile_group.or("tile_start_and_end_present_flag", 0), 0);
    let tiles = tiles(&f.data, count, size_bytes);
    let sp = &mut d.slice_parameter;
    for (i, &(off, size)) in tiles.iter().enumerate() {
        sp.slice_data_offset[i] = off as u32;
        sp.slice_data_size[i] = size as u32;
        sp.slice_data_row[i] = (i as u32 / cols) as u16;
        sp.slice_data_col[i] = (i as u32 % cols) as u16;
    }
    sp.slice_count = count as u16;
    Expected {
        desc: d,
        tiles,
        tile_cols: cols,
    }
}

/// The surfaces the guest's descriptions here refer to.
const SURFACES: Surfaces = Surfaces {
    target: TARGET,
    size: (0, 0),
};

fn run(d: &Av1PictureDesc, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
    SURFACES.run(d, bytes)
}

fn check_clip(name: &str, want_profile: u8, want_depth_idx: u8, want_tiles: usize, grain: bool) {
    let (seq, frames) = frames(name);
    assert!(frames.len() >= 2);
    let refs: [u32; 8] = std::array::from_fn(|i| 21 + i as u32);
    for (n, f) in frames.iter().enumerate() {
        let h = &f.header;
        let e = build(&seq, f, refs, 40);
        assert_eq!(e.tiles.len(), want_tiles, "frame {n}: tiles");
        let bufs = run(&e.desc, &f.data).unwrap_or_else(|err| panic!("frame {n}: {err}"));
        assert_eq!(
            bufs.iter().map(|b| b.kind).collect::<Vec<_>>(),
            [PIC, SLICE, DATA],
            "frame {n}: buffer order"
        );
        assert_eq!(bufs[2].data, f.data, "frame {n}: slice data");
        let key = h.req("frame_type") == 0;
        let p: va::VADecPictureParameterBufferAV1 = read_struct(&bufs[0].data);
        assert_eq!(p.profile, want_profile);
        assert_eq!(p.profile as i64, seq.req("seq_profile"));
        assert_eq!(p.bit_depth_idx, want_depth_idx);
        assert_eq!(
            p.order_hint_bits_minus_1 as i64,
            seq.req("order_hint_bits_minus_1")
        );
        assert_eq!(p.matrix_coefficients, 2, "unspecified");
        // SAFETY: reading bitfield views of unions of one integer the translator filled.
        let si = unsafe { p.seq_info_fields.fields };
        assert_eq!(
            si.use_128x128_superblock() as i64,
            seq.req("use_128x128_superblock")
        );
        assert_eq!(
            si.enable_filter_intra() as i64,
            seq.req("enable_filter_intra")
        );
        assert_eq!(
            si.enable_intra_edge_filter() as i64,
            seq.req("enable_intra_edge_filter")
        );
        assert_eq!(
            si.enable_interintra_compound() as i64,
            seq.req("enable_interintra_compound")
        );
        assert_eq!(
            si.enable_masked_compound() as i64,
            seq.req("enable_masked_compound")
        );
        assert_eq!(
            si.enable_dual_filter() as i64,
            seq.req("enable_dual_filter")
        );
        assert_eq!(si.enable_order_hint() as i64, seq.req("enable_order_hint"));
        assert_eq!(si.enable_jnt_comp() as i64, seq.req("enable_jnt_comp"));
        assert_eq!(si.enable_cdef() as i64, seq.req("enable_cdef"));
        assert_eq!(si.mono_chrome() as i64, seq.or("mono_chrome", 0));
        assert_eq!(
            si.film_grain_params_present() as i64,
            seq.req("film_grain_params_present")
        );
        // 4:2:0 in profile 0, 4:4:4 in profile 1.
        let sub = u32::from(want_profile == 0);
        assert_eq!((si.subsampling_x(), si.subsampling_y()), (sub, sub));
        assert_eq!(p.current_frame, TARGET);
        let apply = h.or("apply_grain", 0) == 1;
        assert_eq!(apply, grain, "frame {n}: film grain");
        assert_eq!(p.current_display_picture, if apply { 1040 } else { TARGET });
        assert_eq!(p.anchor_frames_num, 0);
        assert!(p.anchor_frames_list.is_null());
        assert_eq!(
            p.frame_width_minus1 as i64,
            h.get("frame_width_minus_1")
                .unwrap_or_else(|| seq.req("max_frame_width_minus_1"))
        );
        assert_eq!(
            p.frame_height_minus1 as i64,
            h.get("frame_height_minus_1")
                .unwrap_or_else(|| seq.req("max_frame_height_minus_1"))
        );
        for (i, &r) in p.ref_frame_map.iter().enumerate() {
            assert_eq!(r, if key { 0xffff_ffff } else { 1021 + i as u32 });
        }
        if !key {
            for i in 0..7 {
                assert_eq!(
                    p.ref_frame_idx[i] as i64,
                    h.req(&format!("ref_frame_idx[{i}]"))
                );
            }
        }
        assert_eq!(p.primary_ref_frame as i64, h.or("primary_ref_frame", 7));
        assert_eq!(p.order_hint as i64, h.req("order_hint"));
        // SAFETY: as above.
        let seg = unsafe { p.seg_info.segment_info_fields.bits };
        assert_eq!(seg.enabled() as i64, h.req("segmentation_enabled"));

        // Film grain, against the trace.
        let g = &p.film_grain_info;
        // SAFETY: as above.
        let gf = unsafe { g.film_grain_info_fields.bits };
        assert_eq!(gf.apply_grain(), u32::from(apply));
        if apply {
            assert_eq!(g.grain_seed as i64, h.req("grain_seed"));
            for (plane, n) in [
                ("y", g.num_y_points),
                ("cb", g.num_cb_points),
                ("cr", g.num_cr_points),
            ] {
                assert_eq!(i64::from(n), h.req(&format!("num_{plane}_points")));
            }
            let (ny, ncb, ncr) = (
                g.num_y_points as usize,
                g.num_cb_points as usize,
                g.num_cr_points as usize,
            );
            for (name, got, n) in [
                ("point_y_value", &g.point_y_value[..], ny),
                ("point_y_scaling", &g.point_y_scaling[..], ny),
                ("point_cb_value", &g.point_cb_value[..], ncb),
                ("point_cb_scaling", &g.point_cb_scaling[..], ncb),
                ("point_cr_value", &g.point_cr_value[..], ncr),
            ] {
                assert_eq!(wide(&got[..n]), h.indexed(name, n), "{name}");
            }
            assert_eq!(
                gf.chroma_scaling_from_luma() as i64,
                h.req("chroma_scaling_from_luma")
            );
            assert_eq!(
                gf.grain_scaling_minus_8() as i64,
                h.req("grain_scaling_minus_8")
            );
            assert_eq!(gf.ar_coeff_lag() as i64, h.req("ar_coeff_lag"));
            assert_eq!(
                gf.ar_coeff_shift_minus_6() as i64,
                h.req("ar_coeff_shift_minus_6")
            );
            assert_eq!(gf.grain_scale_shift() as i64, h.req("grain_scale_shift"));
            assert_eq!(gf.overlap_flag() as i64, h.req("overlap_flag"));
            assert_eq!(
                gf.clip_to_restricted_range() as i64,
                h.req("clip_to_restricted_range")
            );
            let lag = h.req("ar_coeff_lag") as usize;
            let n_y = 2 * lag * (lag + 1);
            let plus_128: Vec<i64> = wide(&g.ar_coeffs_y[..n_y])
                .iter()
                .map(|v| v + 128)
                .collect();
            assert_eq!(plus_128, h.indexed("ar_coeffs_y_plus_128", n_y));
            for i in 0..=n_y {
                if let Some(v) = h.get(&format!("ar_coeffs_cb_plus_128[{i}]")) {
                    assert_eq!(g.ar_coeffs_cb[i] as i64, v - 128);
                }
                if let Some(v) = h.get(&format!("ar_coeffs_cr_plus_128[{i}]")) {
                    assert_eq!(g.ar_coeffs_cr[i] as i64, v - 128);
                }
            }
            assert_eq!(g.cb_mult as i64, h.req("cb_mult"));
            assert_eq!(g.cb_luma_mult as i64, h.req("cb_luma_mult"));
            assert_eq!(g.cb_offset as i64, h.req("cb_offset"));
            assert_eq!(g.cr_mult as i64, h.req("cr_mult"));
            assert_eq!(g.cr_luma_mult as i64, h.req("cr_luma_mult"));
            assert_eq!(g.cr_offset as i64, h.req("cr_offset"));
        }

        // Tile grid.
        let d = &e.desc.picture_parameter;
        assert_eq!(p.tile_cols, d.tile_cols);
        assert_eq!(p.tile_rows, d.tile_rows);
        assert_eq!(p.tile_cols as u32 * p.tile_rows as u32, want_tiles as u32);
        for i in 0..(p.tile_cols as usize).saturating_sub(1) {
            assert_eq!(p.width_in_sbs_minus_1[i] + 1, d.width_in_sbs[i]);
        }
        for i in 0..(p.tile_rows as usize).saturating_sub(1) {
            assert_eq!(p.height_in_sbs_minus_1[i] + 1, d.height_in_sbs[i]);
        }
        assert_eq!(p.tile_count_minus_1, 0, "large-scale tile only");
        assert_eq!(
            p.context_update_tile_id as i64,
            h.or("context_update_tile_id", 0)
        );

        // SAFETY: as above.
        let pi = unsafe { p.pic_info_fields.bits };
        assert_eq!(pi.frame_type() as i64, h.req("frame_type"));
        assert_eq!(pi.show_frame() as i64, h.req("show_frame"));
        assert_eq!(pi.showable_frame(), d.pic_info_fields.showable_frame());
        assert_eq!(
            pi.error_resilient_mode(),
            d.pic_info_fields.error_resilient_mode()
        );
        assert_eq!(pi.disable_cdf_update() as i64, h.req("disable_cdf_update"));
        assert_eq!(
            pi.allow_screen_content_tools() as i64,
            h.req("allow_screen_content_tools")
        );
        assert_eq!(pi.force_integer_mv(), d.pic_info_fields.force_integer_mv());
        assert_eq!(
            pi.allow_high_precision_mv() as i64,
            h.or("allow_high_precision_mv", 0)
        );
        assert_eq!(
            pi.is_motion_mode_switchable() as i64,
            h.or("is_motion_mode_switchable", 0)
        );
        assert_eq!(pi.use_ref_frame_mvs() as i64, h.or("use_ref_frame_mvs", 0));
        assert_eq!(
            pi.disable_frame_end_update_cdf() as i64,
            h.req("disable_frame_end_update_cdf")
        );
        assert_eq!(
            pi.uniform_tile_spacing_flag() as i64,
            h.req("uniform_tile_spacing_flag")
        );
        assert_eq!(
            pi.allow_warped_motion() as i64,
            h.or("allow_warped_motion", 0)
        );
        assert_eq!(pi.large_scale_tile(), 0);
        assert_eq!(p.superres_scale_denominator, 8);
        assert_eq!(p.interp_filter, d.interp_filter);
        assert_eq!(p.filter_level[0] as i64, h.or("loop_filter_level[0]", 0));
        assert_eq!(p.filter_level[1] as i64, h.or("loop_filter_level[1]", 0));
        assert_eq!(p.filter_level_u as i64, h.or("loop_filter_level[2]", 0));
        assert_eq!(p.filter_level_v as i64, h.or("loop_filter_level[3]", 0));
        // SAFETY: as above.
        let lf = unsafe { p.loop_filter_info_fields.bits };
        assert_eq!(
            lf.sharpness_level() as i64,
            h.or("loop_filter_sharpness", 0)
        );
        assert_eq!(
            lf.mode_ref_delta_enabled() as i64,
            h.or("loop_filter_delta_enabled", 0)
        );
        assert_eq!(p.ref_deltas, [1, 0, 0, 0, -1, 0, -1, -1]);
        assert_eq!(p.mode_deltas, [0, 0]);
        assert_eq!(p.base_qindex as i64, h.req("base_q_idx"));
        assert_eq!(
            (p.y_dc_delta_q, p.u_dc_delta_q, p.u_ac_delta_q),
            (d.y_dc_delta_q, d.u_dc_delta_q, d.u_ac_delta_q)
        );
        // SAFETY: as above.
        let qm = unsafe { p.qmatrix_fields.bits };
        assert_eq!(qm.using_qmatrix() as i64, h.req("using_qmatrix"));
        // SAFETY: as above.
        let mc = unsafe { p.mode_control_fields.bits };
        assert_eq!(mc.delta_q_present_flag() as i64, h.or("delta_q_present", 0));
        assert_eq!(mc.tx_mode() as i64, h.or("tx_mode", 0));
        assert_eq!(mc.reference_select() as i64, h.or("reference_select", 0));
        assert_eq!(mc.reduced_tx_set_used() as i64, h.req("reduced_tx_set"));
        assert_eq!(mc.skip_mode_present() as i64, h.or("skip_mode_present", 0));
        assert_eq!(
            p.cdef_damping_minus_3 as i64,
            h.or("cdef_damping_minus_3", 0)
        );
        assert_eq!(p.cdef_bits as i64, h.or("cdef_bits", 0));
        assert_eq!(
            p.cdef_y_strengths[0] as i64,
            h.or("cdef_y_pri_strength[0]", 0) << 2 | h.or("cdef_y_sec_strength[0]", 0)
        );
        assert_eq!(
            p.cdef_uv_strengths[0] as i64,
            h.or("cdef_uv_pri_strength[0]", 0) << 2 | h.or("cdef_uv_sec_strength[0]", 0)
        );
        for wm in &p.wm {
            assert_eq!(wm.wmtype, 0);
            assert_eq!(wm.wmmat, [0, 0, 1 << 16, 0, 0, 1 << 16, 0, 0]);
        }

        // One slice parameter per tile, at its place in the tile data.
        assert_eq!(
            bufs[1].element_size,
            std::mem::size_of::<va::VASliceParameterBufferAV1>()
        );
        assert_eq!(bufs[1].count as usize, want_tiles);
        for (i, chunk) in bufs[1].data.chunks(bufs[1].element_size).enumerate() {
            let s: va::VASliceParameterBufferAV1 = read_struct(chunk);
            let (off, size) = e.tiles[i];
            assert_eq!(s.slice_data_offset as usize, off, "frame {n} tile {i}");
            assert_eq!(s.slice_data_size as usize, size, "frame {n} tile {i}");
            assert!(off + size <= f.data.len());
            assert_eq!(s.slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
            assert_eq!(s.tile_row as u32, i as u32 / e.tile_cols);
            assert_eq!(s.tile_column as u32, i as u32 % e.tile_cols);
            assert_eq!((s.tg_start, s.tg_end), (0, want_tiles as u16 - 1));
            assert_eq!(s.anchor_frame_idx, 0);
        }
        // The tiles cover the tile data: sizes plus size fields add up.
        let size_bytes = h.or("tile_size_bytes_minus1", 3) as usize + 1;
        let covered: usize =
            e.tiles.iter().map(|t| t.1).sum::<usize>() + size_bytes * (want_tiles - 1);
        assert_eq!(covered, f.data.len());
    }
}

#[test]
fn profile0_10bit_tiles_film_grain_clip_translates_field_by_field() {
    check_clip("av1_p0_10bit_256x128.obu", 0, 1, 4, true);
}

#[test]
fn profile1_444_clip_translates_field_by_field() {
    check_clip("av1_p1_444_64x64.obu", 1, 0, 1, false);
}

/// The second frame (inter, 4 tiles, film grain) of the profile-0 clip.
fn inter_frame() -> (Av1PictureDesc, Vec<u8>) {
    let (seq, frames) = frames("av1_p0_10bit_256x128.obu");
    let refs: [u32; 8] = std::array::from_fn(|i| 21 + i as u32);
    let e = build(&seq, &frames[1], refs, 40);
    (e.desc, frames[1].data.clone())
}

fn refused(d: &Av1PictureDesc, bytes: &[u8]) -> String {
    SURFACES.refused(d, bytes)
}

#[test]
fn bad_input_is_refused() {
    let (good, bytes) = inter_frame();
    assert!(run(&good, &bytes).is_ok());
    let bad = |f: &dyn Fn(&mut Av1PictureDesc), want: &str| {
        let mut d = good.clone();
        f(&mut d);
        let reason = refused(&d, &bytes);
        assert!(reason.contains(want), "{reason:?} lacks {want:?}");
    };
    // References.
    bad(&|d| d.r#ref[2] = 300, "300");
    bad(&|d| d.film_grain_target = 301, "301");
    bad(
        &|d| d.picture_parameter.ref_frame_idx[4] = 8,
        "ref_frame_idx",
    );
    bad(
        &|d| d.picture_parameter.primary_ref_frame = 8,
        "primary_ref_frame",
    );
    // Tiles past the data, outside the grid, too many, none.
    bad(&|d| d.slice_parameter.slice_data_size[3] += 1, "tile 3");
    bad(
        &|d| d.slice_parameter.slice_data_offset[1] = u32::MAX,
        "tile 1",
    );
    bad(&|d| d.slice_parameter.slice_data_size[0] = 0, "tile 0");
    bad(&|d| d.slice_parameter.slice_data_col[2] = 2, "outside");
    bad(&|d| d.slice_parameter.slice_data_row[2] = 9, "outside");
    bad(&|d| d.slice_parameter.slice_count = 5, "5 tiles");
    bad(&|d| d.slice_parameter.slice_count = 300, "300 tiles");
    bad(&|d| d.slice_parameter.slice_count = 0, "no tiles");
    bad(&|d| d.picture_parameter.tile_cols = 0, "tile grid");
    bad(&|d| d.picture_parameter.tile_rows = 65, "tile grid");
    // A size of 0 falls back to the start positions; both unusable is refused.
    bad(
        &|d| {
            d.picture_parameter.width_in_sbs[0] = 0;
            d.picture_parameter.tile_col_start_sb[1] = 0;
        },
        "superblocks",
    );
    bad(
        &|d| d.picture_parameter.context_update_tile_id = 4,
        "context_update_tile_id",
    );
    // Profiles and bit depths.
    bad(
        &|d| d.base.profile = VideoProfile::Vp9Profile0 as u16,
        "not an AV1 profile",
    );
    bad(&|d| d.base.profile = 77, "unknown profile");
    bad(&|d| d.picture_parameter.profile = 2, "seq_profile 2");
    bad(&|d| d.picture_parameter.bit_depth_idx = 2, "12-bit");
    bad(
        &|d| {
            d.picture_parameter.profile = 1;
            d.picture_parameter.seq_info_fields.set_mono_chrome(1);
        },
        "monochrome",
    );
    // Other.
    bad(&|d| d.picture_parameter.frame_width = 0, "zero frame size");
    bad(
        &|d| d.picture_parameter.pic_info_fields.set_large_scale_tile(1),
        "large-scale",
    );
    bad(
        &|d| d.picture_parameter.film_grain_info.num_y_points = 15,
        "film grain",
    );
    bad(&|d| d.picture_parameter.wm[0].wmtype = 4, "warped motion");
    assert!(refused(&good, &[]).contains("no bitstream"));
}

#[test]
fn grain_without_target_displays_the_target_and_no_target_is_invalid_surface() {
    let (mut d, bytes) = inter_frame();
    d.film_grain_target = 0;
    let bufs = run(&d, &bytes).unwrap();
    let p: va::VADecPictureParameterBufferAV1 = read_struct(&bufs[0].data);
    assert_eq!(p.current_display_picture, TARGET);

    /// A map that does not know the target surface.
    struct NoTarget;
    impl virgl_video::translate::SurfaceMap for NoTarget {
        fn surface(&self, h: u32) -> Option<u32> {
            Some(h + 1000)
        }
    }
    let bufs = translate(&PictureDesc::Av1(Box::new(d)), &[&bytes], &NoTarget).unwrap();
    let p: va::VADecPictureParameterBufferAV1 = read_struct(&bufs[0].data);
    assert_eq!(p.current_frame, 0xffff_ffff);
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A real frame's description with random bytes overwritten (biased towards the tile
        /// and slice tables at the end) and its data cut anywhere: translation refuses or
        /// succeeds, never panics, and every tile it hands on lies inside the data and the grid.
        #[test]
        fn mutated_descriptions_never_escape_the_data(
            muts in proptest::collection::vec((0..Av1PictureDesc::SIZE, any::<u8>()), 1..8),
            tail_muts in proptest::collection::vec((0usize..3400, any::<u8>()), 0..8),
            cut in 0usize..200,
        ) {
            let (d, bytes) = inter_frame();
            let mut raw = d.to_bytes();
            let len = raw.len();
            for (at, v) in muts {
                raw[at] = v;
            }
            for (back, v) in tail_muts {
                raw[len - 1 - back] = v;
            }
            let d = Av1PictureDesc::from_bytes(&raw).unwrap();
            let bytes = &bytes[..cut.min(bytes.len())];
            match run(&d, bytes) {
                Ok(bufs) => {
                    let p: va::VADecPictureParameterBufferAV1 = read_struct(&bufs[0].data);
                    prop_assert!(p.anchor_frames_list.is_null());
                    for chunk in bufs[1].data.chunks(bufs[1].element_size) {
                        let s: va::VASliceParameterBufferAV1 = read_struct(chunk);
                        let end = s.slice_data_offset as usize + s.slice_data_size as usize;
                        prop_assert!(end <= bufs[2].data.len());
                        prop_assert!(s.tile_row < u16::from(p.tile_rows));
                        prop_assert!(s.tile_column < u16::from(p.tile_cols));
                    }
                }
                Err(VideoError::InvalidPicture { .. }) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
