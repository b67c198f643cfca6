//! HEVC Main and Main10: `virgl_h265_picture_desc` -> `VAPictureParameterBufferHEVC`, a
//! `VAIQMatrixBufferHEVC` when scaling lists are on, and one `VASliceParameterBufferHEVC` +
//! slice-data pair per slice segment.
//!
//! Picture parameters follow upstream (Mesa's VA frontend in reverse), plus what upstream
//! leaves out: `CurrPic` names the decode target, references are resolved to VA surfaces with a
//! typed error for unknown handles and flagged long-term, and the scaling lists go back to VA's
//! order (Mesa stores them permuted by the up-right diagonal scan).
//!
//! The description carries no per-slice data, so every slice segment NAL (types 0-9, 16-21) is
//! found by its Annex-B start code and its header parsed (ITU-T H.265 7.3.6) with the SPS/PPS
//! values of the description: `slice_segment_address`, the `LongSliceFlags`, active reference
//! counts, `collocated_ref_idx`, QP and deblocking offsets, the prediction weight table (with
//! `ChromaOffset` derived as VA wants it), `five_minus_max_num_merge_cand`, entry points, and
//! `slice_data_byte_offset` (RBSP bytes from the NAL header to `slice_data()`) with the number
//! of emulation-prevention bytes in the header. Dependent slice segments inherit the fields of
//! their independent segment. `RefPicList[2][15]` is built per slice from the description's
//! RPS sets (8.3.4, with `list_entry_lX` modifications) as indices into `ReferenceFrames`, and
//! `st_rps_bits` is measured on the slice header.
//!
//! Not derivable, documented rather than guessed: `NoPicReorderingFlag` and `NoBiPredFlag`
//! (not in the description; 0 — they only allow decoder shortcuts). `IntraPicFlag` is set when
//! every slice of the bitstream is an I slice; `LastSliceOfPic` marks the last slice of this
//! `DECODE_BITSTREAM` (Mesa sends a picture's slices in one). Range/SCC extensions are refused
//! with the profiles that need them.

use libva_sys::va_display_drm as va;
use virgl_protocol::video::{H265PictureDesc, VideoProfile};

use super::bits::{annexb_units, ceil_log2, BitReader, BitsError};
use super::{
    buffer_type, invalid, joined, resolve_ref, zeroed, zeroed_box, SurfaceMap, VaBuffer,
    INVALID_SURFACE,
};
use crate::VideoError;

const CODEC: &str = "hevc";

const B: u32 = 0;
const P: u32 = 1;
const I: u32 = 2;

/// Translates one HEVC picture.
pub(super) fn translate(
    desc: &H265PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let sps = &desc.pps.sps;
    let max_bit_depth = match VideoProfile::from_raw(u32::from(desc.base.profile)) {
        Ok(VideoProfile::HevcMain) => 0,
        Ok(VideoProfile::HevcMain10) => 2,
        _ => {
            return Err(invalid(
                CODEC,
                format!("profile {} is not HEVC Main or Main10", desc.base.profile),
            ))
        }
    };
    if sps.bit_depth_luma_minus8 > max_bit_depth || sps.bit_depth_chroma_minus8 > max_bit_depth {
        return Err(invalid(CODEC, "bit depth above the profile's"));
    }
    if sps.chroma_format_idc != 1 {
        return Err(invalid(CODEC, "Main/Main10 are 4:2:0 only"));
    }
    let geo = Geometry::new(desc)?;

    let data = joined(bitstreams);
    let mut slices = Vec::new();
    let mut independent: Option<SliceHeader> = None;
    for unit in annexb_units(&data) {
        let nal = &data[unit];
        let nal_unit_type = (nal[0] >> 1) & 0x3f;
        if !matches!(nal_unit_type, 0..=9 | 16..=21) {
            continue; // parameter sets, SEI, AUD ...: not slice data
        }
        // Each segment holds at least one CTU; 600 is the most any level allows (A.4.2). The
        // cap also bounds what a hostile stream of tiny NAL units makes us allocate.
        let max_segments = geo.pic_size_in_ctbs.min(600) as usize;
        if slices.len() >= max_segments {
            return Err(invalid(
                CODEC,
                format!("more than {max_segments} slice segments in one picture"),
            ));
        }
        let h = parse_slice_header(desc, &geo, nal, independent.as_ref())
            .map_err(|e| invalid(CODEC, format!("slice segment {}: {e}", slices.len())))?;
        if !h.dependent {
            independent = Some(h.clone());
        }
        slices.push((h, nal));
    }
    let Some((first, _)) = slices.first() else {
        return Err(invalid(CODEC, "bitstream holds no slice segment NAL unit"));
    };
    let all_intra = slices.iter().all(|(h, _)| h.slice_type == I);
    let pic = picture_parameters(desc, surfaces, first, all_intra)?;

    let mut out = Vec::with_capacity(2 + 2 * slices.len());
    out.push(VaBuffer::from_boxed(buffer_type::PICTURE_PARAMETER, pic));
    if sps.scaling_list_enabled_flag != 0 {
        out.push(VaBuffer::from_boxed(
            buffer_type::IQ_MATRIX,
            iq_matrix(desc),
        ));
    }
    let last = slices.len() - 1;
    for (k, (h, nal)) in slices.iter().enumerate() {
        let sp = slice_parameters(desc, h, nal, k == last)?;
        out.push(VaBuffer::from_boxed(buffer_type::SLICE_PARAMETER, sp));
        out.push(VaBuffer::slice_data(buffer_type::SLICE_DATA, nal));
    }
    Ok(out)
}

/// Picture geometry the slice header depends on.
struct Geometry {
    pic_size_in_ctbs: u32,
}

impl Geometry {
    fn new(desc: &H265PictureDesc) -> Result<Self, VideoError> {
        let sps = &desc.pps.sps;
        let min_cb = u32::from(sps.log2_min_luma_coding_block_size_minus3) + 3;
        let ctb = min_cb + u32::from(sps.log2_diff_max_min_luma_coding_block_size);
        if !(3..=6).contains(&min_cb) || !(4..=6).contains(&ctb) {
            return Err(invalid(CODEC, "coding block sizes out of range"));
        }
        let (w, h) = (
            sps.pic_width_in_luma_samples,
            sps.pic_height_in_luma_samples,
        );
        if w == 0 || h == 0 || w > 16888 || h > 16888 {
            return Err(invalid(CODEC, format!("picture size {w}x{h} out of range")));
        }
        let ctb_size = 1u32 << ctb;
        Ok(Self {
            pic_size_in_ctbs: w.div_ceil(ctb_size) * h.div_ceil(ctb_size),
        })
    }
}

#[derive(Clone, Copy, Default)]
struct Weight {
    luma: Option<(i32, i32)>,
    chroma: Option<[(i32, i32); 2]>,
}

#[derive(Clone, Default)]
struct SliceHeader {
    nal_unit_type: u8,
    dependent: bool,
    slice_segment_address: u32,
    slice_type: u32,
    colour_plane_id: u32,
    st_rps_bits: u32,
    sao_luma: bool,
    sao_chroma: bool,
    temporal_mvp: bool,
    num_ref_idx_active_minus1: [u32; 2],
    list_entry: [Option<Vec<u32>>; 2],
    mvd_l1_zero: bool,
    cabac_init: bool,
    collocated_from_l0: bool,
    collocated_ref_idx: u32,
    has_weights: bool,
    luma_log2_weight_denom: u32,
    delta_chroma_log2_weight_denom: i32,
    weights: [Vec<Weight>; 2],
    five_minus_max_num_merge_cand: u32,
    slice_qp_delta: i32,
    cb_qp_offset: i32,
    cr_qp_offset: i32,
    deblocking_disabled: bool,
    beta_offset_div2: i32,
    tc_offset_div2: i32,
    loop_filter_across_slices: bool,
    num_entry_point_offsets: u32,
    data_byte_offset: u32,
    emulation_prevention_bytes: u32,
}

fn bits_err(e: BitsError) -> String {
    e.to_string()
}

fn range(v: i32, lo: i32, hi: i32, what: &str) -> Result<i32, String> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{what} {v} out of range"))
    }
}

/// Parses `slice_segment_header()` (header bytes included). `independent` is the last
/// independent segment, whose fields a dependent one inherits.
fn parse_slice_header(
    desc: &H265PictureDesc,
    geo: &Geometry,
    nal: &[u8],
    independent: Option<&SliceHeader>,
) -> Result<SliceHeader, String> {
    let pps = &desc.pps;
    let sps = &pps.sps;
    let b = bits_err;
    let mut r = BitReader::new(nal, true);
    r.skip(1).map_err(b)?;
    let nal_unit_type = r.u(6).map_err(b)? as u8;
    r.skip(6 + 3).map_err(b)?; // nuh_layer_id, nuh_temporal_id_plus1
    let irap = (16..=23).contains(&nal_unit_type);
    let idr = nal_unit_type == 19 || nal_unit_type == 20;

    let first_slice_segment_in_pic_flag = r.flag().map_err(b)?;
    if irap {
        r.skip(1).map_err(b)?; // no_output_of_prior_pics_flag
    }
    r.ue().map_err(b)?; // slice_pic_parameter_set_id: the description holds the one in use
    let mut dependent = false;
    let mut address = 0;
    if !first_slice_segment_in_pic_flag {
        if pps.dependent_slice_segments_enabled_flag != 0 {
            dependent = r.flag().map_err(b)?;
        }
        address = r.u(ceil_log2(geo.pic_size_in_ctbs)).map_err(b)?;
        if address >= geo.pic_size_in_ctbs {
            return Err(format!("slice_segment_address {address} past the picture"));
        }
    }
    let mut h = if dependent {
        independent
            .cloned()
            .ok_or("dependent slice segment without an independent one")?
    } else {
        SliceHeader::default()
    };
    h.nal_unit_type = nal_unit_type;
    h.dependent = dependent;
    h.slice_segment_address = address;

    if !dependent {
        r.skip(u64::from(pps.num_extra_slice_header_bits))
            .map_err(b)?;
        h.slice_type = r.ue().map_err(b)?;
        if h.slice_type > 2 {
            return Err(format!("slice_type {}", h.slice_type));
        }
        if pps.output_flag_present_flag != 0 {
            r.skip(1).map_err(b)?; // pic_output_flag
        }
        if sps.separate_colour_plane_flag != 0 {
            h.colour_plane_id = r.u(2).map_err(b)?;
        }
        let poc_lsb_bits = u32::from(sps.log2_max_pic_order_cnt_lsb_minus4) + 4;
        if !idr {
            r.skip(u64::from(poc_lsb_bits)).map_err(b)?; // slice_pic_order_cnt_lsb
            let sps_flag = r.flag().map_err(b)?;
            if !sps_flag {
                let start = r.rbsp_bit_pos();
                skip_st_ref_pic_set(desc, &mut r)?;
                h.st_rps_bits = (r.rbsp_bit_pos() - start) as u32;
            } else if sps.num_short_term_ref_pic_sets > 1 {
                r.skip(u64::from(ceil_log2(u32::from(
                    sps.num_short_term_ref_pic_sets,
                ))))
                .map_err(b)?;
            }
            if sps.long_term_ref_pics_present_flag != 0 {
                let mut num_lt_sps = 0;
                if sps.num_long_term_ref_pics_sps > 0 {
                    num_lt_sps = r.ue().map_err(b)?;
                    if num_lt_sps > u32::from(sps.num_long_term_ref_pics_sps) {
                        return Err("num_long_term_sps above the SPS count".into());
                    }
                }
                let num_lt_pics = r.ue().map_err(b)?;
                if num_lt_sps + num_lt_pics > 32 {
                    return Err("more than 32 long-term pictures".into());
                }
                for i in 0..num_lt_sps + num_lt_pics {
                    if i < num_lt_sps {
                        if sps.num_long_term_ref_pics_sps > 1 {
                            r.skip(u64::from(ceil_log2(u32::from(
                                sps.num_long_term_ref_pics_sps,
                            ))))
                            .map_err(b)?;
                        }
                    } else {
                        r.skip(u64::from(poc_lsb_bits) + 1).map_err(b)?;
                    }
                    if r.flag().map_err(b)? {
                        r.ue().map_err(b)?; // delta_poc_msb_cycle_lt
                    }
                }
            }
            if sps.sps_temporal_mvp_enabled_flag != 0 {
                h.temporal_mvp = r.flag().map_err(b)?;
            }
        }
        if sps.sample_adaptive_offset_enabled_flag != 0 {
            h.sao_luma = r.flag().map_err(b)?;
            // ChromaArrayType is 1 for Main/Main10 (checked by the caller).
            h.sao_chroma = r.flag().map_err(b)?;
        }
        h.num_ref_idx_active_minus1 = [0, 0];
        h.collocated_from_l0 = true;
        if h.slice_type == P || h.slice_type == B {
            h.num_ref_idx_active_minus1 = [
                u32::from(pps.num_ref_idx_l0_default_active_minus1),
                u32::from(pps.num_ref_idx_l1_default_active_minus1),
            ];
            if r.flag().map_err(b)? {
                h.num_ref_idx_active_minus1[0] = r.ue().map_err(b)?;
                if h.slice_type == B {
                    h.num_ref_idx_active_minus1[1] = r.ue().map_err(b)?;
                }
            }
            if h.num_ref_idx_active_minus1.iter().any(|&n| n > 14) {
                return Err("num_ref_idx_active_minus1 above 14".into());
            }
            if h.slice_type == P {
                h.num_ref_idx_active_minus1[1] = 0;
            }
            let total = num_pic_total_curr(desc);
            if pps.lists_modification_present_flag != 0 && total > 1 {
                let lists = if h.slice_type == B { 2 } else { 1 };
                for list in 0..lists {
                    if r.flag().map_err(b)? {
                        let mut entries = Vec::new();
                        for _ in 0..=h.num_ref_idx_active_minus1[list] {
                            let e = r.u(ceil_log2(total)).map_err(b)?;
                            if e >= total {
                                return Err(format!("list_entry {e} past NumPicTotalCurr"));
                            }
                            entries.push(e);
                        }
                        h.list_entry[list] = Some(entries);
                    }
                }
            }
            if h.slice_type == B {
                h.mvd_l1_zero = r.flag().map_err(b)?;
            }
            if pps.cabac_init_present_flag != 0 {
                h.cabac_init = r.flag().map_err(b)?;
            }
            if h.temporal_mvp {
                if h.slice_type == B {
                    h.collocated_from_l0 = r.flag().map_err(b)?;
                }
                let list = if h.collocated_from_l0 { 0 } else { 1 };
                if h.num_ref_idx_active_minus1[list] > 0 {
                    h.collocated_ref_idx = r.ue().map_err(b)?;
                    if h.collocated_ref_idx > h.num_ref_idx_active_minus1[list] {
                        return Err("collocated_ref_idx past the list".into());
                    }
                }
            }
            if (pps.weighted_pred_flag != 0 && h.slice_type == P)
                || (pps.weighted_bipred_flag != 0 && h.slice_type == B)
            {
                parse_pred_weight_table(&mut r, &mut h)?;
            }
            h.five_minus_max_num_merge_cand = r.ue().map_err(b)?;
            if h.five_minus_max_num_merge_cand > 4 {
                return Err("five_minus_max_num_merge_cand above 4".into());
            }
        }
        h.slice_qp_delta = range(r.se().map_err(b)?, -87, 77, "slice_qp_delta")?;
        h.cb_qp_offset = 0;
        h.cr_qp_offset = 0;
        if pps.pps_slice_chroma_qp_offsets_present_flag != 0 {
            h.cb_qp_offset = range(r.se().map_err(b)?, -12, 12, "slice_cb_qp_offset")?;
            h.cr_qp_offset = range(r.se().map_err(b)?, -12, 12, "slice_cr_qp_offset")?;
        }
        let mut override_flag = false;
        if pps.deblocking_filter_override_enabled_flag != 0 {
            override_flag = r.flag().map_err(b)?;
        }
        h.deblocking_disabled = pps.pps_deblocking_filter_disabled_flag != 0;
        h.beta_offset_div2 = i32::from(pps.pps_beta_offset_div2);
        h.tc_offset_div2 = i32::from(pps.pps_tc_offset_div2);
        if override_flag {
            h.deblocking_disabled = r.flag().map_err(b)?;
            if !h.deblocking_disabled {
                h.beta_offset_div2 = range(r.se().map_err(b)?, -6, 6, "beta offset")?;
                h.tc_offset_div2 = range(r.se().map_err(b)?, -6, 6, "tc offset")?;
            }
        }
        h.loop_filter_across_slices = pps.pps_loop_filter_across_slices_enabled_flag != 0;
        if pps.pps_loop_filter_across_slices_enabled_flag != 0
            && (h.sao_luma || h.sao_chroma || !h.deblocking_disabled)
        {
            h.loop_filter_across_slices = r.flag().map_err(b)?;
        }
    }
    h.num_entry_point_offsets = 0;
    if pps.tiles_enabled_flag != 0 || pps.entropy_coding_sync_enabled_flag != 0 {
        h.num_entry_point_offsets = r.ue().map_err(b)?;
        if h.num_entry_point_offsets > geo.pic_size_in_ctbs {
            return Err("more entry points than CTBs".into());
        }
        if h.num_entry_point_offsets > 0 {
            let len = r.ue().map_err(b)? + 1;
            if len > 32 {
                return Err("offset_len_minus1 above 31".into());
            }
            r.skip(u64::from(len) * u64::from(h.num_entry_point_offsets))
                .map_err(b)?;
        }
    }
    if pps.slice_segment_header_extension_present_flag != 0 {
        let len = r.ue().map_err(b)?;
        if len > 256 {
            return Err("slice_segment_header_extension_length above 256".into());
        }
        r.skip(8 * u64::from(len)).map_err(b)?;
    }
    // byte_alignment()
    if !r.flag().map_err(b)? {
        return Err("alignment_bit_equal_to_one is 0".into());
    }
    while !r.byte_aligned() {
        r.skip(1).map_err(b)?;
    }
    let rbsp_bytes = r.rbsp_bit_pos() / 8;
    h.data_byte_offset = u32::try_from(rbsp_bytes).map_err(|_| "slice header too long")?;
    h.emulation_prevention_bytes = (r.raw_byte_pos() as u64 - rbsp_bytes) as u32;
    if h.emulation_prevention_bytes > u32::from(u16::MAX) {
        return Err("slice header too long".into());
    }
    Ok(h)
}

/// `NumPicTotalCurr` (7-55) from the description's RPS counts.
fn num_pic_total_curr(desc: &H265PictureDesc) -> u32 {
    u32::from(desc.num_poc_st_curr_before)
        + u32::from(desc.num_poc_st_curr_after)
        + u32::from(desc.num_poc_lt_curr)
}

/// Skips `st_ref_pic_set(num_short_term_ref_pic_sets)` (7.3.7). Predicting from an SPS set
/// needs that set's size, which the description carries as `NumDeltaPocsOfRefRpsIdx`.
fn skip_st_ref_pic_set(desc: &H265PictureDesc, r: &mut BitReader<'_>) -> Result<(), String> {
    let b = bits_err;
    let idx = u32::from(desc.pps.sps.num_short_term_ref_pic_sets);
    let inter = idx != 0 && r.flag().map_err(b)?;
    if inter {
        let delta_idx = r.ue().map_err(b)? + 1;
        if delta_idx > idx {
            return Err("delta_idx_minus1 past the SPS sets".into());
        }
        r.skip(1).map_err(b)?; // delta_rps_sign
        r.ue().map_err(b)?; // abs_delta_rps_minus1
        let n = desc.num_delta_pocs_of_ref_rps_idx;
        if n > 32 {
            return Err("NumDeltaPocsOfRefRpsIdx above 32".into());
        }
        for _ in 0..=n {
            if !r.flag().map_err(b)? {
                r.skip(1).map_err(b)?; // use_delta_flag
            }
        }
    } else {
        let neg = r.ue().map_err(b)?;
        let pos = r.ue().map_err(b)?;
        if neg > 16 || pos > 16 || neg + pos > 16 {
            return Err("short-term RPS with more than 16 pictures".into());
        }
        for _ in 0..neg + pos {
            r.ue().map_err(b)?; // delta_poc_sX_minus1
            r.skip(1).map_err(b)?; // used_by_curr_pic_sX_flag
        }
    }
    Ok(())
}

/// `pred_weight_table()` (7.3.6.3) for 4:2:0, single layer.
fn parse_pred_weight_table(r: &mut BitReader<'_>, h: &mut SliceHeader) -> Result<(), String> {
    let b = bits_err;
    h.has_weights = true;
    h.luma_log2_weight_denom = r.ue().map_err(b)?;
    if h.luma_log2_weight_denom > 7 {
        return Err("luma_log2_weight_denom above 7".into());
    }
    h.delta_chroma_log2_weight_denom = r.se().map_err(b)?;
    let chroma_denom = h.luma_log2_weight_denom as i32 + h.delta_chroma_log2_weight_denom;
    if !(0..=7).contains(&chroma_denom) {
        return Err("chroma weight denominator out of range".into());
    }
    let lists = if h.slice_type == B { 2 } else { 1 };
    for list in 0..lists {
        let n = h.num_ref_idx_active_minus1[list] as usize + 1;
        let mut luma_flags = vec![false; n];
        let mut chroma_flags = vec![false; n];
        for f in &mut luma_flags {
            *f = r.flag().map_err(b)?;
        }
        for f in &mut chroma_flags {
            *f = r.flag().map_err(b)?;
        }
        let mut ws = vec![Weight::default(); n];
        for (i, w) in ws.iter_mut().enumerate() {
            if luma_flags[i] {
                let dw = range(r.se().map_err(b)?, -128, 127, "delta_luma_weight")?;
                let off = range(r.se().map_err(b)?, -128, 127, "luma_offset")?;
                w.luma = Some((dw, off));
            }
            if chroma_flags[i] {
                let mut c = [(0, 0); 2];
                for cj in &mut c {
                    let dw = range(r.se().map_err(b)?, -128, 127, "delta_chroma_weight")?;
                    let doff = range(r.se().map_err(b)?, -512, 511, "delta_chroma_offset")?;
                    // ChromaOffset (7-56) with wpOffsetHalfRangeC = 128 (no high-precision
                    // offsets in Main/Main10).
                    let weight = (1 << chroma_denom) + dw;
                    let off = (128 + doff - ((128 * weight) >> chroma_denom)).clamp(-128, 127);
                    *cj = (dw, off);
                }
                w.chroma = Some(c);
            }
        }
        h.weights[list] = ws;
    }
    Ok(())
}

fn picture_parameters(
    desc: &H265PictureDesc,
    surfaces: &dyn SurfaceMap,
    first: &SliceHeader,
    all_intra: bool,
) -> Result<Box<va::VAPictureParameterBufferHEVC>, VideoError> {
    let pps = &desc.pps;
    let sps = &pps.sps;
    let mut p: Box<va::VAPictureParameterBufferHEVC> = zeroed_box();
    p.CurrPic.picture_id = surfaces.target().unwrap_or(INVALID_SURFACE);
    p.CurrPic.pic_order_cnt = desc.curr_pic_order_cnt_val;
    p.CurrPic.flags = 0;
    for (i, rf) in p.ReferenceFrames.iter_mut().enumerate() {
        let surface = resolve_ref(CODEC, surfaces, desc.r#ref[i])?;
        rf.picture_id = surface;
        rf.pic_order_cnt = desc.pic_order_cnt_val[i];
        rf.flags = if surface == INVALID_SURFACE {
            va::VA_PICTURE_HEVC_INVALID
        } else if desc.is_long_term[i] != 0 {
            va::VA_PICTURE_HEVC_LONG_TERM_REFERENCE
        } else {
            0
        };
    }
    let sets = [
        (
            &desc.ref_pic_set_st_curr_before,
            desc.num_poc_st_curr_before,
            va::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE,
        ),
        (
            &desc.ref_pic_set_st_curr_after,
            desc.num_poc_st_curr_after,
            va::VA_PICTURE_HEVC_RPS_ST_CURR_AFTER,
        ),
        (
            &desc.ref_pic_set_lt_curr,
            desc.num_poc_lt_curr,
            va::VA_PICTURE_HEVC_RPS_LT_CURR,
        ),
    ];
    for (set, n, flag) in sets {
        if n > 8 {
            return Err(invalid(CODEC, "RPS set with more than 8 pictures"));
        }
        for &idx in &set[..usize::from(n)] {
            let rf = p
                .ReferenceFrames
                .get_mut(usize::from(idx))
                .ok_or_else(|| invalid(CODEC, format!("RPS names reference {idx} of 15")))?;
            if rf.picture_id == INVALID_SURFACE {
                return Err(invalid(CODEC, format!("RPS names empty reference {idx}")));
            }
            rf.flags |= flag;
        }
    }
    // Checked to be at most 16888 by Geometry::new.
    p.pic_width_in_luma_samples = sps.pic_width_in_luma_samples as u16;
    p.pic_height_in_luma_samples = sps.pic_height_in_luma_samples as u16;

    let f = |v: u8| u32::from(v & 1);
    let mut pf: va::_VAPictureParameterBufferHEVC__bindgen_ty_1__bindgen_ty_1 = zeroed();
    pf.set_chroma_format_idc(u32::from(sps.chroma_format_idc & 3));
    pf.set_separate_colour_plane_flag(f(sps.separate_colour_plane_flag));
    pf.set_pcm_enabled_flag(f(sps.pcm_enabled_flag));
    pf.set_scaling_list_enabled_flag(f(sps.scaling_list_enabled_flag));
    pf.set_transform_skip_enabled_flag(f(pps.transform_skip_enabled_flag));
    pf.set_amp_enabled_flag(f(sps.amp_enabled_flag));
    pf.set_strong_intra_smoothing_enabled_flag(f(sps.strong_intra_smoothing_enabled_flag));
    pf.set_sign_data_hiding_enabled_flag(f(pps.sign_data_hiding_enabled_flag));
    pf.set_constrained_intra_pred_flag(f(pps.constrained_intra_pred_flag));
    pf.set_cu_qp_delta_enabled_flag(f(pps.cu_qp_delta_enabled_flag));
    pf.set_weighted_pred_flag(f(pps.weighted_pred_flag));
    pf.set_weighted_bipred_flag(f(pps.weighted_bipred_flag));
    pf.set_transquant_bypass_enabled_flag(f(pps.transquant_bypass_enabled_flag));
    pf.set_tiles_enabled_flag(f(pps.tiles_enabled_flag));
    pf.set_entropy_coding_sync_enabled_flag(f(pps.entropy_coding_sync_enabled_flag));
    pf.set_pps_loop_filter_across_slices_enabled_flag(f(
        pps.pps_loop_filter_across_slices_enabled_flag
    ));
    if pps.tiles_enabled_flag != 0 {
        pf.set_loop_filter_across_tiles_enabled_flag(f(pps.loop_filter_across_tiles_enabled_flag));
    }
    if sps.pcm_enabled_flag != 0 {
        pf.set_pcm_loop_filter_disabled_flag(f(sps.pcm_loop_filter_disabled_flag));
    }
    p.pic_fields.bits = pf;

    p.sps_max_dec_pic_buffering_minus1 = sps.sps_max_dec_pic_buffering_minus1;
    p.bit_depth_luma_minus8 = sps.bit_depth_luma_minus8;
    p.bit_depth_chroma_minus8 = sps.bit_depth_chroma_minus8;
    if sps.pcm_enabled_flag != 0 {
        p.pcm_sample_bit_depth_luma_minus1 = sps.pcm_sample_bit_depth_luma_minus1;
        p.pcm_sample_bit_depth_chroma_minus1 = sps.pcm_sample_bit_depth_chroma_minus1;
        p.log2_min_pcm_luma_coding_block_size_minus3 =
            sps.log2_min_pcm_luma_coding_block_size_minus3;
        p.log2_diff_max_min_pcm_luma_coding_block_size =
            sps.log2_diff_max_min_pcm_luma_coding_block_size;
    }
    p.log2_min_luma_coding_block_size_minus3 = sps.log2_min_luma_coding_block_size_minus3;
    p.log2_diff_max_min_luma_coding_block_size = sps.log2_diff_max_min_luma_coding_block_size;
    p.log2_min_transform_block_size_minus2 = sps.log2_min_transform_block_size_minus2;
    p.log2_diff_max_min_transform_block_size = sps.log2_diff_max_min_transform_block_size;
    p.max_transform_hierarchy_depth_intra = sps.max_transform_hierarchy_depth_intra;
    p.max_transform_hierarchy_depth_inter = sps.max_transform_hierarchy_depth_inter;
    p.init_qp_minus26 = pps.init_qp_minus26;
    p.diff_cu_qp_delta_depth = pps.diff_cu_qp_delta_depth;
    p.pps_cb_qp_offset = pps.pps_cb_qp_offset;
    p.pps_cr_qp_offset = pps.pps_cr_qp_offset;
    p.log2_parallel_merge_level_minus2 = pps.log2_parallel_merge_level_minus2;
    if pps.tiles_enabled_flag != 0 {
        if pps.num_tile_columns_minus1 > 18 || pps.num_tile_rows_minus1 > 20 {
            return Err(invalid(CODEC, "more tiles than VA describes"));
        }
        p.num_tile_columns_minus1 = pps.num_tile_columns_minus1;
        p.num_tile_rows_minus1 = pps.num_tile_rows_minus1;
        p.column_width_minus1
            .copy_from_slice(&pps.column_width_minus1[..19]);
        p.row_height_minus1
            .copy_from_slice(&pps.row_height_minus1[..21]);
    }

    let mut sf: va::_VAPictureParameterBufferHEVC__bindgen_ty_2__bindgen_ty_1 = zeroed();
    sf.set_lists_modification_present_flag(f(pps.lists_modification_present_flag));
    sf.set_long_term_ref_pics_present_flag(f(sps.long_term_ref_pics_present_flag));
    sf.set_sps_temporal_mvp_enabled_flag(f(sps.sps_temporal_mvp_enabled_flag));
    sf.set_cabac_init_present_flag(f(pps.cabac_init_present_flag));
    sf.set_output_flag_present_flag(f(pps.output_flag_present_flag));
    sf.set_dependent_slice_segments_enabled_flag(f(pps.dependent_slice_segments_enabled_flag));
    sf.set_pps_slice_chroma_qp_offsets_present_flag(
        f(pps.pps_slice_chroma_qp_offsets_present_flag),
    );
    sf.set_sample_adaptive_offset_enabled_flag(f(sps.sample_adaptive_offset_enabled_flag));
    sf.set_deblocking_filter_override_enabled_flag(f(pps.deblocking_filter_override_enabled_flag));
    sf.set_pps_disable_deblocking_filter_flag(f(pps.pps_deblocking_filter_disabled_flag));
    sf.set_slice_segment_header_extension_present_flag(f(
        pps.slice_segment_header_extension_present_flag
    ));
    // From the NAL unit type of the picture's slices rather than the description's copies.
    let nut = first.nal_unit_type;
    sf.set_RapPicFlag(u32::from((16..=23).contains(&nut)));
    sf.set_IdrPicFlag(u32::from(nut == 19 || nut == 20));
    sf.set_IntraPicFlag(u32::from(all_intra));
    p.slice_parsing_fields.bits = sf;

    p.log2_max_pic_order_cnt_lsb_minus4 = sps.log2_max_pic_order_cnt_lsb_minus4;
    p.num_short_term_ref_pic_sets = sps.num_short_term_ref_pic_sets;
    p.num_long_term_ref_pic_sps = sps.num_long_term_ref_pics_sps;
    p.num_ref_idx_l0_default_active_minus1 = pps.num_ref_idx_l0_default_active_minus1;
    p.num_ref_idx_l1_default_active_minus1 = pps.num_ref_idx_l1_default_active_minus1;
    p.pps_beta_offset_div2 = pps.pps_beta_offset_div2;
    p.pps_tc_offset_div2 = pps.pps_tc_offset_div2;
    p.num_extra_slice_header_bits = pps.num_extra_slice_header_bits;
    p.st_rps_bits = first.st_rps_bits;
    Ok(p)
}

/// Raster positions of the up-right diagonal scan of an n x n block (H.265 6.5.3).
fn diagonal_scan(n: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(n * n);
    let (mut x, mut y) = (0usize, 0usize);
    while out.len() < n * n {
        // Walk one anti-diagonal from bottom-left to top-right.
        let mut yy = y as isize;
        let mut xx = x;
        while yy >= 0 {
            if (yy as usize) < n && xx < n {
                out.push(yy as usize * n + xx);
            }
            yy -= 1;
            xx += 1;
        }
        y += 1;
        x = 0;
    }
    out
}

/// Mesa stores `desc[j] = va[scan[j]]`; VA gets the inverse.
fn iq_matrix(desc: &H265PictureDesc) -> Box<va::VAIQMatrixBufferHEVC> {
    let sps = &desc.pps.sps;
    let s4 = diagonal_scan(4);
    let s8 = diagonal_scan(8);
    let mut m: Box<va::VAIQMatrixBufferHEVC> = zeroed_box();
    for i in 0..6 {
        for (j, &pos) in s4.iter().enumerate() {
            m.ScalingList4x4[i][pos] = sps.scaling_list4x4[i][j];
        }
        for (j, &pos) in s8.iter().enumerate() {
            m.ScalingList8x8[i][pos] = sps.scaling_list8x8[i][j];
            m.ScalingList16x16[i][pos] = sps.scaling_list16x16[i][j];
            if i < 2 {
                m.ScalingList32x32[i][pos] = sps.scaling_list32x32[i][j];
            }
        }
    }
    m.ScalingListDC16x16 = sps.scaling_list_dc_coeff16x16;
    m.ScalingListDC32x32 = sps.scaling_list_dc_coeff32x32;
    m
}

fn slice_parameters(
    desc: &H265PictureDesc,
    h: &SliceHeader,
    nal: &[u8],
    last: bool,
) -> Result<Box<va::VASliceParameterBufferHEVC>, VideoError> {
    let mut sp: Box<va::VASliceParameterBufferHEVC> = zeroed_box();
    sp.slice_data_size =
        u32::try_from(nal.len()).map_err(|_| invalid(CODEC, "slice larger than 4 GiB"))?;
    sp.slice_data_offset = 0;
    sp.slice_data_flag = va::VA_SLICE_DATA_FLAG_ALL;
    sp.slice_data_byte_offset = h.data_byte_offset;
    sp.slice_segment_address = h.slice_segment_address;
    sp.RefPicList = [[0xff; 15]; 2];
    if h.slice_type != I {
        let lists = ref_pic_lists(desc, h)?;
        for (dst, src) in sp.RefPicList.iter_mut().zip(&lists) {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
    }
    let mut lf: va::_VASliceParameterBufferHEVC__bindgen_ty_1__bindgen_ty_1 = zeroed();
    lf.set_LastSliceOfPic(u32::from(last));
    lf.set_dependent_slice_segment_flag(u32::from(h.dependent));
    lf.set_slice_type(h.slice_type);
    lf.set_color_plane_id(h.colour_plane_id);
    lf.set_slice_sao_luma_flag(u32::from(h.sao_luma));
    lf.set_slice_sao_chroma_flag(u32::from(h.sao_chroma));
    lf.set_mvd_l1_zero_flag(u32::from(h.mvd_l1_zero));
    lf.set_cabac_init_flag(u32::from(h.cabac_init));
    lf.set_slice_temporal_mvp_enabled_flag(u32::from(h.temporal_mvp));
    lf.set_slice_deblocking_filter_disabled_flag(u32::from(h.deblocking_disabled));
    lf.set_collocated_from_l0_flag(u32::from(h.collocated_from_l0));
    lf.set_slice_loop_filter_across_slices_enabled_flag(u32::from(h.loop_filter_across_slices));
    sp.LongSliceFlags.fields = lf;
    sp.collocated_ref_idx = if h.temporal_mvp && h.slice_type != I {
        h.collocated_ref_idx as u8
    } else {
        0xff
    };
    sp.num_ref_idx_l0_active_minus1 = h.num_ref_idx_active_minus1[0] as u8;
    sp.num_ref_idx_l1_active_minus1 = h.num_ref_idx_active_minus1[1] as u8;
    sp.slice_qp_delta = h.slice_qp_delta as i8;
    sp.slice_cb_qp_offset = h.cb_qp_offset as i8;
    sp.slice_cr_qp_offset = h.cr_qp_offset as i8;
    sp.slice_beta_offset_div2 = h.beta_offset_div2 as i8;
    sp.slice_tc_offset_div2 = h.tc_offset_div2 as i8;
    if h.has_weights {
        sp.luma_log2_weight_denom = h.luma_log2_weight_denom as u8;
        sp.delta_chroma_log2_weight_denom = h.delta_chroma_log2_weight_denom as i8;
        for list in 0..2 {
            let (dlw, lo, dcw, co) = if list == 0 {
                (
                    &mut sp.delta_luma_weight_l0,
                    &mut sp.luma_offset_l0,
                    &mut sp.delta_chroma_weight_l0,
                    &mut sp.ChromaOffsetL0,
                )
            } else {
                (
                    &mut sp.delta_luma_weight_l1,
                    &mut sp.luma_offset_l1,
                    &mut sp.delta_chroma_weight_l1,
                    &mut sp.ChromaOffsetL1,
                )
            };
            // Absent weights are the defaults: delta 0, offset 0.
            for (i, w) in h.weights[list].iter().enumerate().take(15) {
                if let Some((d, o)) = w.luma {
                    dlw[i] = d as i8;
                    lo[i] = o as i8;
                }
                if let Some(c) = w.chroma {
                    for j in 0..2 {
                        dcw[i][j] = c[j].0 as i8;
                        co[i][j] = c[j].1 as i8;
                    }
                }
            }
        }
    }
    sp.five_minus_max_num_merge_cand = h.five_minus_max_num_merge_cand as u8;
    sp.num_entry_point_offsets = u16::try_from(h.num_entry_point_offsets)
        .map_err(|_| invalid(CODEC, "more entry points than VA describes"))?;
    sp.entry_offset_to_subset_array = 0;
    sp.slice_data_num_emu_prevn_bytes = h.emulation_prevention_bytes as u16;
    Ok(sp)
}

/// `RefPicList0/1` (8.3.4) as indices into `ReferenceFrames`.
fn ref_pic_lists(desc: &H265PictureDesc, h: &SliceHeader) -> Result<[Vec<u8>; 2], VideoError> {
    let before =
        &desc.ref_pic_set_st_curr_before[..usize::from(desc.num_poc_st_curr_before.min(8))];
    let after = &desc.ref_pic_set_st_curr_after[..usize::from(desc.num_poc_st_curr_after.min(8))];
    let lt = &desc.ref_pic_set_lt_curr[..usize::from(desc.num_poc_lt_curr.min(8))];
    let total = before.len() + after.len() + lt.len();
    if total == 0 {
        return Err(invalid(
            CODEC,
            "P/B slice with an empty reference picture set",
        ));
    }
    let lists = if h.slice_type == B { 2 } else { 1 };
    let mut out = [Vec::new(), Vec::new()];
    for (list, out_list) in out.iter_mut().enumerate().take(lists) {
        let order: Vec<u8> = if list == 0 {
            before.iter().chain(after).chain(lt).copied().collect()
        } else {
            after.iter().chain(before).chain(lt).copied().collect()
        };
        let n = h.num_ref_idx_active_minus1[list] as usize + 1;
        let temp_len = n.max(total);
        let temp: Vec<u8> = order.iter().copied().cycle().take(temp_len).collect();
        *out_list = (0..n)
            .map(|i| match &h.list_entry[list] {
                Some(e) => temp[e[i] as usize],
                None => temp[i],
            })
            .collect();
        if let Some(&bad) = out_list.iter().find(|&&idx| idx >= 15) {
            return Err(invalid(CODEC, format!("RPS names reference {bad} of 15")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(s: &str) -> Vec<u8> {
        let mut s = s.replace(' ', "");
        while !s.len().is_multiple_of(8) {
            s.push('0');
        }
        s.as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect()
    }

    #[test]
    fn st_ref_pic_set_sizes() {
        let mut desc = H265PictureDesc::default();
        // Explicit set (no SPS sets): num_negative_pics 1, num_positive_pics 0,
        // delta_poc_s0_minus1 0, used 1.
        let data = bits("010 1 1 1");
        let mut r = BitReader::new(&data, false);
        skip_st_ref_pic_set(&desc, &mut r).unwrap();
        assert_eq!(r.rbsp_bit_pos(), 6);
        // Predicted from SPS set 0 holding 2 pictures: inter flag, delta_idx_minus1 0,
        // sign, abs_delta_rps_minus1 0, then 3 used_by_curr_pic_flags (one 0 + use_delta).
        desc.pps.sps.num_short_term_ref_pic_sets = 1;
        desc.num_delta_pocs_of_ref_rps_idx = 2;
        let data = bits("1 1 0 1 1 0 1 1");
        let mut r = BitReader::new(&data, false);
        skip_st_ref_pic_set(&desc, &mut r).unwrap();
        assert_eq!(r.rbsp_bit_pos(), 8);
        // A prediction index past the SPS sets is refused.
        let data = bits("1 010 0 1 1 1 1");
        assert!(skip_st_ref_pic_set(&desc, &mut BitReader::new(&data, false)).is_err());
    }

    #[test]
    fn diagonal_scans_match_the_spec() {
        assert_eq!(
            diagonal_scan(4),
            [0, 4, 1, 8, 5, 2, 12, 9, 6, 3, 13, 10, 7, 14, 11, 15]
        );
        let s8 = diagonal_scan(8);
        assert_eq!(
            &s8[..16],
            &[0, 8, 1, 16, 9, 2, 24, 17, 10, 3, 32, 25, 18, 11, 4, 40]
        );
        assert_eq!(s8[63], 63);
    }
}
