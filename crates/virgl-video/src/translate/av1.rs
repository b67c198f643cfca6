//! AV1: `virgl_av1_picture_desc` -> `VADecPictureParameterBufferAV1`, one
//! `VASliceParameterBufferAV1` per tile, and one slice-data buffer.
//!
//! The guest's description is Mesa's `pipe_av1_picture_desc`, filled by Mesa's VA frontend from
//! the client's VA buffers; this is that mapping run backwards, for profiles 0 (Main: 4:2:0 or
//! monochrome, 8 or 10-bit) and 1 (High: 4:4:4, 8 or 10-bit). Each tile the guest listed
//! (`slice_parameter.slice_data_*[i]`, `slice_count` of them) becomes one slice parameter with
//! its offset and size inside the bitstream and its tile row/column; all are checked against
//! the bitstream and the frame's tile grid before anything is handed on.
//!
//! Fields VA has that the description does not carry, and what is written there:
//! - `seq_info_fields.subsampling_x/y`: derived from the profile (0: 4:2:0 or monochrome,
//!   both 1; 1: 4:4:4, both 0).
//! - `seq_info_fields.still_picture`, `color_range`, `chroma_sample_position`: not on the wire
//!   (gallium drops them); 0. Drivers use `color_range` only to clip film-grain output.
//! - `tg_start`/`tg_end` of each tile: the guest does not send tile-group boundaries (Mesa's VA
//!   frontend forwards only the tile data, without OBU headers, so they cannot be re-parsed
//!   here); all tiles of the call are written as one tile group `0..=slice_count-1`, which is
//!   exact for the usual one-tile-group-per-frame streams.
//! - `current_frame`: the target surface from [`SurfaceMap::target`] (`VA_INVALID_SURFACE`
//!   when the caller does not know it); `current_display_picture`: the film-grain target
//!   when grain is applied and the guest named one, else the target.
//! - `anchor_frames_*`, `output_frame_*_in_tiles_minus_1`, `tile_idx_in_tile_list`: large-scale
//!   tile decoding only, which is refused (its anchor-frame list is a pointer VA cannot take
//!   through a buffer the guest controls).
//!
//! Description fields VA has no place for: `current_frame_id`, `max_width`/`max_height`,
//! `seq_info_fields.ref_frame_mvs`, `refresh_frame_flags`, `ref[8..16]` (the driver tracks
//! these itself); `tile_*_start_sb` only stand in for tile sizes the guest left at 0.
//!
//! Upstream writes the description's `current_frame_id` into `current_frame` (a surface id
//! field) and drops the tile grid for uniform spacing; neither is copied here.

use libva_sys::va_display_drm::{
    VABufferType_VAPictureParameterBufferType, VABufferType_VASliceDataBufferType,
    VABufferType_VASliceParameterBufferType, VADecPictureParameterBufferAV1,
    VASliceParameterBufferAV1, VA_SLICE_DATA_FLAG_ALL,
};
use virgl_protocol::video::{Av1PictureDesc, VideoProfile};

use super::{joined_nonempty, resolve_ref, zeroed, SurfaceMap, VaBuffer, INVALID_SURFACE};
use crate::VideoError;

const CODEC: &str = "av1";

/// Largest tile grid AV1 allows (`MAX_TILE_COLS`, `MAX_TILE_ROWS`).
const MAX_TILE_COLS: u8 = 64;
const MAX_TILE_ROWS: u8 = 64;

fn invalid(reason: impl Into<String>) -> VideoError {
    super::invalid(CODEC, reason)
}

/// Translates one AV1 frame.
pub(super) fn translate(
    desc: &Av1PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let pp = &desc.picture_parameter;
    let profile = VideoProfile::from_raw(u32::from(desc.base.profile))
        .map_err(|_| invalid(format!("unknown profile {}", desc.base.profile)))?;
    if profile != VideoProfile::Av1Main {
        return Err(invalid(format!(
            "profile {profile:?} is not an AV1 profile"
        )));
    }
    // seq_profile 0 (Main) and 1 (High) carry 8 or 10 bits; 12-bit needs profile 2.
    if pp.profile > 1 {
        return Err(invalid(format!(
            "seq_profile {} is not supported (0 and 1 are)",
            pp.profile
        )));
    }
    if pp.bit_depth_idx > 1 {
        return Err(invalid(format!(
            "bit_depth_idx {} (12-bit) is not allowed in seq_profile {}",
            pp.bit_depth_idx, pp.profile
        )));
    }
    if pp.profile == 1 && pp.seq_info_fields.mono_chrome() != 0 {
        return Err(invalid("monochrome is not allowed in seq_profile 1"));
    }
    if pp.frame_width == 0 || pp.frame_height == 0 {
        return Err(invalid("zero frame size"));
    }
    if pp.pic_info_fields.large_scale_tile() != 0 {
        return Err(invalid("large-scale tile decoding is not supported"));
    }
    if pp.tile_cols == 0
        || pp.tile_rows == 0
        || pp.tile_cols > MAX_TILE_COLS
        || pp.tile_rows > MAX_TILE_ROWS
    {
        return Err(invalid(format!(
            "tile grid {}x{}",
            pp.tile_cols, pp.tile_rows
        )));
    }
    if pp.primary_ref_frame > 7 {
        return Err(invalid(format!(
            "primary_ref_frame {}",
            pp.primary_ref_frame
        )));
    }
    // Intra frames (KEY = 0, INTRA_ONLY = 2) do not use ref_frame_idx; inter frames index the
    // 8 reference slots with it.
    let inter = matches!(pp.pic_info_fields.frame_type(), 1 | 3);
    if inter {
        if let Some(bad) = pp.ref_frame_idx.iter().find(|&&i| i > 7) {
            return Err(invalid(format!(
                "ref_frame_idx {bad} is past the 8 reference slots"
            )));
        }
    }

    let data = joined_nonempty(CODEC, bitstreams)?;

    let mut va: VADecPictureParameterBufferAV1 = zeroed();
    va.profile = pp.profile;
    va.order_hint_bits_minus_1 = pp.order_hint_bits_minus_1;
    va.bit_depth_idx = pp.bit_depth_idx;
    va.matrix_coefficients = pp.matrix_coefficients;

    let s = &pp.seq_info_fields;
    // SAFETY: writing the `fields` view of a bitfield union of one u32; every bit pattern is
    // valid for both views.
    let seq = unsafe { &mut va.seq_info_fields.fields };
    seq.set_use_128x128_superblock(s.use_128x128_superblock());
    seq.set_enable_filter_intra(s.enable_filter_intra());
    seq.set_enable_intra_edge_filter(s.enable_intra_edge_filter());
    seq.set_enable_interintra_compound(s.enable_interintra_compound());
    seq.set_enable_masked_compound(s.enable_masked_compound());
    seq.set_enable_dual_filter(s.enable_dual_filter());
    seq.set_enable_order_hint(s.enable_order_hint());
    seq.set_enable_jnt_comp(s.enable_jnt_comp());
    seq.set_enable_cdef(s.enable_cdef());
    seq.set_mono_chrome(s.mono_chrome());
    seq.set_film_grain_params_present(s.film_grain_params_present());
    let subsampled = u32::from(pp.profile == 0);
    seq.set_subsampling_x(subsampled);
    seq.set_subsampling_y(subsampled);

    let target = surfaces.target().unwrap_or(INVALID_SURFACE);
    va.current_frame = target;
    let grain = pp.film_grain_info.film_grain_info_fields.apply_grain() != 0;
    va.current_display_picture = if grain && desc.film_grain_target != 0 {
        resolve_ref(CODEC, surfaces, desc.film_grain_target)?
    } else {
        target
    };

    va.frame_width_minus1 = pp.frame_width - 1;
    va.frame_height_minus1 = pp.frame_height - 1;
    for (slot, &handle) in va.ref_frame_map.iter_mut().zip(desc.r#ref.iter()) {
        *slot = resolve_ref(CODEC, surfaces, handle)?;
    }
    va.ref_frame_idx = pp.ref_frame_idx;
    va.primary_ref_frame = pp.primary_ref_frame;
    va.order_hint = pp.order_hint;

    // Segmentation.
    let sg = &pp.seg_info;
    // SAFETY: bitfield union of one u32, as above.
    let seg = unsafe { &mut va.seg_info.segment_info_fields.bits };
    seg.set_enabled(sg.segment_info_fields.enabled());
    seg.set_update_map(sg.segment_info_fields.update_map());
    seg.set_update_data(sg.segment_info_fields.update_data());
    seg.set_temporal_update(sg.segment_info_fields.temporal_update());
    va.seg_info.feature_data = sg.feature_data;
    va.seg_info.feature_mask = sg.feature_mask;

    // Film grain.
    let g = &pp.film_grain_info;
    let gf = &g.film_grain_info_fields;
    if g.num_y_points > 14 || g.num_cb_points > 10 || g.num_cr_points > 10 {
        return Err(invalid(format!(
            "film grain point counts {}/{}/{} exceed 14/10/10",
            g.num_y_points, g.num_cb_points, g.num_cr_points
        )));
    }
    let vg = &mut va.film_grain_info;
    // SAFETY: bitfield union of one u32, as above.
    let vgf = unsafe { &mut vg.film_grain_info_fields.bits };
    vgf.set_apply_grain(gf.apply_grain());
    vgf.set_chroma_scaling_from_luma(gf.chroma_scaling_from_luma());
    vgf.set_grain_scaling_minus_8(gf.grain_scaling_minus_8());
    vgf.set_ar_coeff_lag(gf.ar_coeff_lag());
    vgf.set_ar_coeff_shift_minus_6(gf.ar_coeff_shift_minus_6());
    vgf.set_grain_scale_shift(gf.grain_scale_shift());
    vgf.set_overlap_flag(gf.overlap_flag());
    vgf.set_clip_to_restricted_range(gf.clip_to_restricted_range());
    vg.grain_seed = g.grain_seed;
    vg.num_y_points = g.num_y_points;
    vg.point_y_value = g.point_y_value;
    vg.point_y_scaling = g.point_y_scaling;
    vg.num_cb_points = g.num_cb_points;
    vg.point_cb_value = g.point_cb_value;
    vg.point_cb_scaling = g.point_cb_scaling;
    vg.num_cr_points = g.num_cr_points;
    vg.point_cr_value = g.point_cr_value;
    vg.point_cr_scaling = g.point_cr_scaling;
    vg.ar_coeffs_y = g.ar_coeffs_y;
    vg.ar_coeffs_cb = g.ar_coeffs_cb;
    vg.ar_coeffs_cr = g.ar_coeffs_cr;
    vg.cb_mult = g.cb_mult;
    vg.cb_luma_mult = g.cb_luma_mult;
    vg.cb_offset = g.cb_offset;
    vg.cr_mult = g.cr_mult;
    vg.cr_luma_mult = g.cr_luma_mult;
    vg.cr_offset = g.cr_offset;

    // Tile grid. VA holds sizes (minus 1) of the first 63 columns/rows; the last one follows
    // from the frame size. The guest sends sizes (`width_in_sbs`) and start positions; sizes
    // are used where present, else start differences (Mesa fills only starts for uniform
    // spacing).
    va.tile_cols = pp.tile_cols;
    va.tile_rows = pp.tile_rows;
    fill_tile_sizes(
        "column",
        pp.tile_cols,
        &pp.width_in_sbs,
        &pp.tile_col_start_sb,
        &mut va.width_in_sbs_minus_1,
    )?;
    fill_tile_sizes(
        "row",
        pp.tile_rows,
        &pp.height_in_sbs,
        &pp.tile_row_start_sb,
        &mut va.height_in_sbs_minus_1,
    )?;
    let tiles = u16::from(pp.tile_cols) * u16::from(pp.tile_rows);
    if pp.context_update_tile_id >= tiles {
        return Err(invalid(format!(
            "context_update_tile_id {} past the {tiles} tiles",
            pp.context_update_tile_id
        )));
    }
    va.context_update_tile_id = pp.context_update_tile_id;

    let p = &pp.pic_info_fields;
    // SAFETY: bitfield union of one u32, as above.
    let pic = unsafe { &mut va.pic_info_fields.bits };
    pic.set_frame_type(p.frame_type());
    pic.set_show_frame(p.show_frame());
    pic.set_showable_frame(p.showable_frame());
    pic.set_error_resilient_mode(p.error_resilient_mode());
    pic.set_disable_cdf_update(p.disable_cdf_update());
    pic.set_allow_screen_content_tools(p.allow_screen_content_tools());
    pic.set_force_integer_mv(p.force_integer_mv());
    pic.set_allow_intrabc(p.allow_intrabc());
    pic.set_use_superres(p.use_superres());
    pic.set_allow_high_precision_mv(p.allow_high_precision_mv());
    pic.set_is_motion_mode_switchable(p.is_motion_mode_switchable());
    pic.set_use_ref_frame_mvs(p.use_ref_frame_mvs());
    pic.set_disable_frame_end_update_cdf(p.disable_frame_end_update_cdf());
    pic.set_uniform_tile_spacing_flag(p.uniform_tile_spacing_flag());
    pic.set_allow_warped_motion(p.allow_warped_motion());
    pic.set_large_scale_tile(0);

    va.superres_scale_denominator = pp.superres_scale_denominator;
    va.interp_filter = pp.interp_filter;
    va.filter_level = pp.filter_level;
    va.filter_level_u = pp.filter_level_u;
    va.filter_level_v = pp.filter_level_v;
    let lf = &pp.loop_filter_info_fields;
    // SAFETY: bitfield union of one u8, as above.
    let vlf = unsafe { &mut va.loop_filter_info_fields.bits };
    vlf.set_sharpness_level(lf.sharpness_level() as u8);
    vlf.set_mode_ref_delta_enabled(lf.mode_ref_delta_enabled() as u8);
    vlf.set_mode_ref_delta_update(lf.mode_ref_delta_update() as u8);
    va.ref_deltas = pp.ref_deltas;
    va.mode_deltas = pp.mode_deltas;

    va.base_qindex = pp.base_qindex;
    va.y_dc_delta_q = pp.y_dc_delta_q;
    va.u_dc_delta_q = pp.u_dc_delta_q;
    va.u_ac_delta_q = pp.u_ac_delta_q;
    va.v_dc_delta_q = pp.v_dc_delta_q;
    va.v_ac_delta_q = pp.v_ac_delta_q;
    let qm = &pp.qmatrix_fields;
    // SAFETY: bitfield union of one u16, as above.
    let vqm = unsafe { &mut va.qmatrix_fields.bits };
    vqm.set_using_qmatrix(qm.using_qmatrix() as u16);
    if qm.using_qmatrix() != 0 {
        vqm.set_qm_y(qm.qm_y() as u16);
        vqm.set_qm_u(qm.qm_u() as u16);
        vqm.set_qm_v(qm.qm_v() as u16);
    }

    let mc = &pp.mode_control_fields;
    // SAFETY: bitfield union of one u32, as above.
    let vmc = unsafe { &mut va.mode_control_fields.bits };
    vmc.set_delta_q_present_flag(mc.delta_q_present_flag());
    vmc.set_log2_delta_q_res(mc.log2_delta_q_res());
    vmc.set_delta_lf_present_flag(mc.delta_lf_present_flag());
    vmc.set_log2_delta_lf_res(mc.log2_delta_lf_res());
    vmc.set_delta_lf_multi(mc.delta_lf_multi());
    vmc.set_tx_mode(mc.tx_mode());
    vmc.set_reference_select(mc.reference_select());
    vmc.set_reduced_tx_set_used(mc.reduced_tx_set_used());
    vmc.set_skip_mode_present(mc.skip_mode_present());

    va.cdef_damping_minus_3 = pp.cdef_damping_minus_3;
    va.cdef_bits = pp.cdef_bits;
    va.cdef_y_strengths = pp.cdef_y_strengths;
    va.cdef_uv_strengths = pp.cdef_uv_strengths;

    let lr = &pp.loop_restoration_fields;
    // SAFETY: bitfield union of one u16, as above.
    let vlr = unsafe { &mut va.loop_restoration_fields.bits };
    vlr.set_yframe_restoration_type(lr.yframe_restoration_type() as u16);
    vlr.set_cbframe_restoration_type(lr.cbframe_restoration_type() as u16);
    vlr.set_crframe_restoration_type(lr.crframe_restoration_type() as u16);
    vlr.set_lr_unit_shift(lr.lr_unit_shift() as u16);
    vlr.set_lr_uv_shift(lr.lr_uv_shift() as u16);

    for (dst, src) in va.wm.iter_mut().zip(pp.wm.iter()) {
        if src.wmtype > 3 {
            return Err(invalid(format!("warped motion type {}", src.wmtype)));
        }
        dst.wmtype = src.wmtype;
        dst.invalid = src.invalid;
        dst.wmmat = src.wmmat;
    }

    let slices = tile_slices(desc, data.len())?;

    Ok(vec![
        VaBuffer::from_structs(VABufferType_VAPictureParameterBufferType, &[va]),
        VaBuffer::from_structs(VABufferType_VASliceParameterBufferType, &slices),
        VaBuffer::slice_data(VABufferType_VASliceDataBufferType, &data),
    ])
}

/// Fills VA's `*_in_sbs_minus_1` for the first `count - 1` tiles of one direction (VA holds
/// 63 entries: the last tile's size follows from the frame size).
fn fill_tile_sizes(
    what: &str,
    count: u8,
    sizes: &[u16; 64],
    starts: &[u32; 65],
    out: &mut [u16; 63],
) -> Result<(), VideoError> {
    let count = usize::from(count);
    for (i, slot) in out.iter_mut().enumerate().take(count.saturating_sub(1)) {
        let size = if sizes[i] > 0 {
            u32::from(sizes[i])
        } else {
            starts[i + 1].saturating_sub(starts[i])
        };
        if size == 0 || size > 1024 {
            return Err(invalid(format!("tile {what} {i} is {size} superblocks")));
        }
        *slot = (size - 1) as u16;
    }
    Ok(())
}

/// One slice parameter per tile the guest listed, checked against the bitstream and the grid.
fn tile_slices(
    desc: &Av1PictureDesc,
    data_len: usize,
) -> Result<Vec<VASliceParameterBufferAV1>, VideoError> {
    let pp = &desc.picture_parameter;
    let sp = &desc.slice_parameter;
    let count = usize::from(sp.slice_count);
    let tiles = usize::from(pp.tile_cols) * usize::from(pp.tile_rows);
    if count == 0 {
        return Err(invalid("no tiles"));
    }
    if count > tiles || count > sp.slice_data_size.len() {
        return Err(invalid(format!(
            "{count} tiles listed for a {}x{} grid",
            pp.tile_cols, pp.tile_rows
        )));
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let offset = sp.slice_data_offset[i] as usize;
        let size = sp.slice_data_size[i] as usize;
        if size == 0 || offset > data_len || size > data_len - offset {
            return Err(invalid(format!(
                "tile {i}: {size} bytes at {offset} do not fit the {data_len}-byte bitstream"
            )));
        }
        let row = sp.slice_data_row[i];
        let col = sp.slice_data_col[i];
        if row >= u16::from(pp.tile_rows) || col >= u16::from(pp.tile_cols) {
            return Err(invalid(format!(
                "tile {i} at row {row} column {col} is outside the {}x{} grid",
                pp.tile_cols, pp.tile_rows
            )));
        }
        let mut s = zeroed::<VASliceParameterBufferAV1>();
        s.slice_data_offset = offset as u32;
        s.slice_data_size = size as u32;
        s.slice_data_flag = VA_SLICE_DATA_FLAG_ALL;
        s.tile_row = row;
        s.tile_column = col;
        s.tg_start = 0;
        s.tg_end = (count - 1) as u16;
        s.anchor_frame_idx = 0;
        out.push(s);
    }
    Ok(out)
}
