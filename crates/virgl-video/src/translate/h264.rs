//! H.264: `virgl_h264_picture_desc` -> `VAPictureParameterBufferH264`, `VAIQMatrixBufferH264`,
//! and one `VASliceParameterBufferH264` + slice-data pair per coded slice.
//!
//! Picture parameters follow upstream (which mirrors Mesa's VA frontend in reverse), plus what
//! upstream leaves out: `CurrPic` names the decode target, the picture size in macroblocks comes
//! from the codec's coded size, and the reference frames are resolved to VA surfaces with a
//! typed error for unknown handles.
//!
//! The description carries no per-slice data (`slice_count` only), so every coded slice NAL
//! (types 1 and 5) is found by its Annex-B start code and its header parsed (ITU-T H.264
//! 7.3.3) with the SPS/PPS values of the description: `first_mb_in_slice`, `slice_type`,
//! `direct_spatial_mv_pred_flag`, active reference counts, `cabac_init_idc`, `slice_qp_delta`,
//! deblocking fields, the prediction weight table (entries without explicit weights get the
//! default weight, as VA expects), and `slice_data_bit_offset` (RBSP bits from the NAL header to
//! `slice_data()`, emulation-prevention bytes not counted, as VA defines it). Each slice's data
//! buffer is its NAL unit without the start code, so drivers that re-add start codes (NVDEC)
//! and drivers that skip to the offset (Intel) both see what they expect.
//!
//! `RefPicList0/1` of frame pictures are built as the decoding process does (8.2.4.2.1/8.2.4.2.3
//! initialisation, 8.2.4.3 modification) from the description's DPB. Not derivable, documented
//! rather than guessed: `gaps_in_frame_num_value_allowed_flag` (not in the description; 0), and
//! the reference lists of *field* pictures (8.2.4.2.5's field alternation is not implemented:
//! they are left invalid, as upstream leaves every list — Mesa and NVDEC-backed drivers build
//! their own lists, Intel's need them for interlaced streams). Slice groups (FMO) are refused:
//! VA does not support them.

use libva_sys::va_display_drm as va;
use virgl_protocol::video::{H264PictureDesc, VideoProfile};

use super::bits::{annexb_units, BitReader, BitsError};
use super::{
    buffer_type, coded_size, invalid, joined, resolve_ref, zeroed, zeroed_box, SurfaceMap,
    VaBuffer, INVALID_SURFACE,
};
use crate::VideoError;

mod reflist;

const CODEC: &str = "h264";

/// Most slices accepted in one picture (besides one per macroblock).
const MAX_SLICES: u32 = 8192;

/// Flat scaling list (`Flat_4x4_16` / `Flat_8x8_16`).
const FLAT: u8 = 16;

/// Translates one H.264 picture.
pub(super) fn translate(
    desc: &H264PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    use VideoProfile::*;
    match VideoProfile::from_raw(u32::from(desc.base.profile)) {
        Ok(H264Baseline | H264ConstrainedBaseline | H264Main | H264High | H264High10) => {}
        _ => {
            return Err(invalid(
                CODEC,
                format!(
                    "profile {} is not a decodable H.264 profile",
                    desc.base.profile
                ),
            ))
        }
    }
    let pps = &desc.pps;
    let sps = &pps.sps;
    if pps.num_slice_groups_minus1 != 0 {
        return Err(invalid(CODEC, "slice groups (FMO) are not supported by VA"));
    }
    if sps.chroma_format_idc > 3
        || sps.log2_max_frame_num_minus4 > 12
        || sps.log2_max_pic_order_cnt_lsb_minus4 > 12
        || sps.pic_order_cnt_type > 2
        || sps.bit_depth_luma_minus8 > 6
        || sps.bit_depth_chroma_minus8 > 6
        || pps.weighted_bipred_idc > 2
    {
        return Err(invalid(CODEC, "SPS/PPS value out of range"));
    }
    if desc.num_ref_frames > 16 {
        return Err(invalid(
            CODEC,
            format!("num_ref_frames {} above 16", desc.num_ref_frames),
        ));
    }
    let (width, height) = coded_size(CODEC, surfaces)?;
    let width_mbs = width.div_ceil(16);
    let height_mbs = height.div_ceil(16);
    if !(1..=1024).contains(&width_mbs) || !(1..=1024).contains(&height_mbs) {
        return Err(invalid(
            CODEC,
            format!("coded size {width}x{height} out of range"),
        ));
    }

    let dpb = reference_frames(desc, surfaces)?;
    let pic = picture_parameters(desc, surfaces, &dpb, width_mbs, height_mbs);
    let iq = iq_matrix(desc);

    let data = joined(bitstreams);
    let mut out = vec![
        VaBuffer::from_boxed(buffer_type::PICTURE_PARAMETER, pic),
        VaBuffer::from_boxed(buffer_type::IQ_MATRIX, iq),
    ];
    let mut slices = 0usize;
    let max_slices = (width_mbs * height_mbs).min(MAX_SLICES) as usize;
    for unit in annexb_units(&data) {
        let nal = &data[unit];
        let nal_unit_type = nal[0] & 0x1f;
        if nal_unit_type != 1 && nal_unit_type != 5 {
            // SEI, parameter sets, AUDs ... are not slice data; VA takes their values from the
            // picture parameters.
            continue;
        }
        // Every slice holds at least one macroblock; the cap also bounds what a hostile
        // bitstream of tiny NAL units can make us allocate (a slice parameter is ~1 KiB).
        if slices >= max_slices {
            return Err(invalid(
                CODEC,
                format!("more than {max_slices} slices in one picture"),
            ));
        }
        let header = parse_slice_header(desc, nal)
            .map_err(|e| invalid(CODEC, format!("slice {slices}: {e}")))?;
        let sp = slice_parameters(desc, &dpb, &header, nal)?;
        out.push(VaBuffer::from_boxed(buffer_type::SLICE_PARAMETER, sp));
        out.push(VaBuffer::slice_data(buffer_type::SLICE_DATA, nal));
        slices += 1;
    }
    if slices == 0 {
        return Err(invalid(CODEC, "bitstream holds no coded slice NAL unit"));
    }
    if desc.slice_count as usize != slices {
        // Guests that send a picture's slices in several DECODE_BITSTREAMs disagree here;
        // the bitstream is what the driver decodes, so it wins.
        tracing::debug!(
            slice_count = desc.slice_count,
            found = slices,
            "H.264 description's slice_count differs from the slices in the bitstream"
        );
    }
    Ok(out)
}

/// A reference frame of the description's DPB, as VA names it.
#[derive(Clone, Copy)]
struct RefFrame {
    pic: va::VAPictureH264,
    /// The same frame as reference-list construction sees it.
    list: reflist::DpbFrame,
}

fn invalid_picture() -> va::VAPictureH264 {
    va::VAPictureH264 {
        picture_id: INVALID_SURFACE,
        frame_idx: 0,
        flags: va::VA_PICTURE_H264_INVALID,
        TopFieldOrderCnt: 0,
        BottomFieldOrderCnt: 0,
        va_reserved: [0; 4],
    }
}

/// The DPB in `buffer_id[]` order; it ends at the first empty (0) handle, as Mesa's frontend
/// ends it at the first invalid VA reference.
fn reference_frames(
    desc: &H264PictureDesc,
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<RefFrame>, VideoError> {
    let mut dpb = Vec::new();
    for i in 0..16 {
        let handle = desc.buffer_id[i];
        if handle == 0 {
            break;
        }
        let surface = resolve_ref(CODEC, surfaces, handle)?;
        let (top, bottom) = (
            desc.top_is_reference[i] != 0,
            desc.bottom_is_reference[i] != 0,
        );
        let long_term = desc.is_long_term[i] != 0;
        let mut flags = if long_term {
            va::VA_PICTURE_H264_LONG_TERM_REFERENCE
        } else {
            va::VA_PICTURE_H264_SHORT_TERM_REFERENCE
        };
        if !(top && bottom) {
            flags |= if top {
                va::VA_PICTURE_H264_TOP_FIELD
            } else {
                va::VA_PICTURE_H264_BOTTOM_FIELD
            };
        }
        // Mesa writes INT_MAX for the order count of a field that is not referenced.
        let poc = |v: u32, used: bool| if used { v as i32 } else { 0 };
        let pic = va::VAPictureH264 {
            picture_id: surface,
            frame_idx: desc.frame_num_list[i],
            flags,
            TopFieldOrderCnt: poc(desc.field_order_cnt_list[i][0], top),
            BottomFieldOrderCnt: poc(desc.field_order_cnt_list[i][1], bottom),
            va_reserved: [0; 4],
        };
        dpb.push(RefFrame {
            pic,
            list: reflist::DpbFrame {
                frame_idx: pic.frame_idx,
                long_term,
                top_ref: top,
                bottom_ref: bottom,
                top_poc: pic.TopFieldOrderCnt,
                bottom_poc: pic.BottomFieldOrderCnt,
            },
        });
    }
    Ok(dpb)
}

fn picture_parameters(
    desc: &H264PictureDesc,
    surfaces: &dyn SurfaceMap,
    dpb: &[RefFrame],
    width_mbs: u32,
    height_mbs: u32,
) -> Box<va::VAPictureParameterBufferH264> {
    let pps = &desc.pps;
    let sps = &pps.sps;
    let mut p: Box<va::VAPictureParameterBufferH264> = zeroed_box();
    let mut flags = if desc.is_reference != 0 {
        va::VA_PICTURE_H264_SHORT_TERM_REFERENCE
    } else {
        0
    };
    if desc.field_pic_flag != 0 {
        flags |= if desc.bottom_field_flag != 0 {
            va::VA_PICTURE_H264_BOTTOM_FIELD
        } else {
            va::VA_PICTURE_H264_TOP_FIELD
        };
    }
    p.CurrPic = va::VAPictureH264 {
        picture_id: surfaces.target().unwrap_or(INVALID_SURFACE),
        frame_idx: desc.frame_num,
        flags,
        TopFieldOrderCnt: desc.field_order_cnt[0],
        BottomFieldOrderCnt: desc.field_order_cnt[1],
        va_reserved: [0; 4],
    };
    p.ReferenceFrames = [invalid_picture(); 16];
    for (dst, r) in p.ReferenceFrames.iter_mut().zip(dpb) {
        *dst = r.pic;
    }
    // Both checked to be 1..=1024 by the caller.
    p.picture_width_in_mbs_minus1 = (width_mbs - 1) as u16;
    p.picture_height_in_mbs_minus1 = (height_mbs - 1) as u16;
    p.bit_depth_luma_minus8 = sps.bit_depth_luma_minus8;
    p.bit_depth_chroma_minus8 = sps.bit_depth_chroma_minus8;
    p.num_ref_frames = desc.num_ref_frames;

    let mut seq: va::_VAPictureParameterBufferH264__bindgen_ty_1__bindgen_ty_1 = zeroed();
    seq.set_chroma_format_idc(u32::from(sps.chroma_format_idc));
    seq.set_residual_colour_transform_flag(u32::from(sps.separate_colour_plane_flag & 1));
    seq.set_gaps_in_frame_num_value_allowed_flag(0);
    seq.set_frame_mbs_only_flag(u32::from(sps.frame_mbs_only_flag & 1));
    seq.set_mb_adaptive_frame_field_flag(u32::from(sps.mb_adaptive_frame_field_flag & 1));
    seq.set_direct_8x8_inference_flag(u32::from(sps.direct_8x8_inference_flag & 1));
    seq.set_MinLumaBiPredSize8x8(u32::from(sps.min_luma_bi_pred_size8x8 & 1));
    seq.set_log2_max_frame_num_minus4(u32::from(sps.log2_max_frame_num_minus4));
    seq.set_pic_order_cnt_type(u32::from(sps.pic_order_cnt_type));
    seq.set_log2_max_pic_order_cnt_lsb_minus4(u32::from(sps.log2_max_pic_order_cnt_lsb_minus4));
    seq.set_delta_pic_order_always_zero_flag(u32::from(sps.delta_pic_order_always_zero_flag & 1));
    p.seq_fields.bits = seq;

    p.pic_init_qp_minus26 = pps.pic_init_qp_minus26;
    p.pic_init_qs_minus26 = pps.pic_init_qs_minus26;
    p.chroma_qp_index_offset = pps.chroma_qp_index_offset;
    p.second_chroma_qp_index_offset = pps.second_chroma_qp_index_offset;

    let mut pf: va::_VAPictureParameterBufferH264__bindgen_ty_2__bindgen_ty_1 = zeroed();
    pf.set_entropy_coding_mode_flag(u32::from(pps.entropy_coding_mode_flag & 1));
    pf.set_weighted_pred_flag(u32::from(pps.weighted_pred_flag & 1));
    pf.set_weighted_bipred_idc(u32::from(pps.weighted_bipred_idc));
    pf.set_transform_8x8_mode_flag(u32::from(pps.transform_8x8_mode_flag & 1));
    pf.set_field_pic_flag(u32::from(desc.field_pic_flag & 1));
    pf.set_constrained_intra_pred_flag(u32::from(pps.constrained_intra_pred_flag & 1));
    pf.set_pic_order_present_flag(u32::from(
        pps.bottom_field_pic_order_in_frame_present_flag & 1,
    ));
    pf.set_deblocking_filter_control_present_flag(u32::from(
        pps.deblocking_filter_control_present_flag & 1,
    ));
    pf.set_redundant_pic_cnt_present_flag(u32::from(pps.redundant_pic_cnt_present_flag & 1));
    pf.set_reference_pic_flag(u32::from(desc.is_reference != 0));
    p.pic_fields.bits = pf;
    p.frame_num = desc.frame_num as u16;
    p
}

/// The scaling lists as VA wants them (Mesa's frontend copies VA's lists verbatim, so this is
/// the same order). An all-zero list was never sent (no scaling list has a zero entry) and
/// becomes the flat default.
fn iq_matrix(desc: &H264PictureDesc) -> Box<va::VAIQMatrixBufferH264> {
    let mut m: Box<va::VAIQMatrixBufferH264> = zeroed_box();
    for (dst, src) in m.ScalingList4x4.iter_mut().zip(&desc.pps.scaling_list4x4) {
        *dst = if src.iter().all(|&v| v == 0) {
            [FLAT; 16]
        } else {
            *src
        };
    }
    for (dst, src) in m.ScalingList8x8.iter_mut().zip(&desc.pps.scaling_list8x8) {
        *dst = if src.iter().all(|&v| v == 0) {
            [FLAT; 64]
        } else {
            *src
        };
    }
    m
}

/// `slice_type % 5`.
const P: u32 = 0;
const B: u32 = 1;
const I: u32 = 2;
const SP: u32 = 3;
const SI: u32 = 4;

#[derive(Clone, Copy, Default)]
struct Weight {
    luma: Option<(i32, i32)>,
    chroma: Option<[(i32, i32); 2]>,
}

#[derive(Default)]
struct SliceHeader {
    first_mb_in_slice: u32,
    slice_type: u32,
    frame_num: u32,
    field_pic_flag: bool,
    bottom_field_flag: bool,
    direct_spatial_mv_pred_flag: bool,
    num_ref_idx_active_minus1: [u32; 2],
    /// (modification_of_pic_nums_idc, value) per list.
    modifications: [Vec<(u32, u32)>; 2],
    luma_log2_weight_denom: u32,
    chroma_log2_weight_denom: u32,
    weights: [Vec<Weight>; 2],
    has_weights: bool,
    cabac_init_idc: u32,
    slice_qp_delta: i32,
    disable_deblocking_filter_idc: u32,
    slice_alpha_c0_offset_div2: i32,
    slice_beta_offset_div2: i32,
    /// RBSP bits from the NAL header byte to `slice_data()`.
    data_bit_offset: u64,
}

fn err(what: &str) -> String {
    what.to_string()
}

/// Parses `slice_header()` of a coded slice NAL unit (header byte included).
fn parse_slice_header(desc: &H264PictureDesc, nal: &[u8]) -> Result<SliceHeader, String> {
    let pps = &desc.pps;
    let sps = &pps.sps;
    let b = |e: BitsError| e.to_string();
    let mut r = BitReader::new(nal, true);
    let mut h = SliceHeader::default();
    r.skip(1).map_err(b)?; // forbidden_zero_bit
    let nal_ref_idc = r.u(2).map_err(b)?;
    let nal_unit_type = r.u(5).map_err(b)?;
    let idr = nal_unit_type == 5;

    h.first_mb_in_slice = r.ue().map_err(b)?;
    if h.first_mb_in_slice > 0xffff {
        return Err(err("first_mb_in_slice out of range"));
    }
    let slice_type = r.ue().map_err(b)?;
    if slice_type > 9 {
        return Err(format!("slice_type {slice_type}"));
    }
    h.slice_type = slice_type % 5;
    let st = h.slice_type;
    r.ue().map_err(b)?; // pic_parameter_set_id: the description holds the one in use
    if sps.separate_colour_plane_flag != 0 {
        r.skip(2).map_err(b)?; // colour_plane_id
    }
    h.frame_num = r
        .u(u32::from(sps.log2_max_frame_num_minus4) + 4)
        .map_err(b)?;
    if sps.frame_mbs_only_flag == 0 {
        h.field_pic_flag = r.flag().map_err(b)?;
        if h.field_pic_flag {
            h.bottom_field_flag = r.flag().map_err(b)?;
        }
    }
    if idr {
        r.ue().map_err(b)?; // idr_pic_id
    }
    if sps.pic_order_cnt_type == 0 {
        r.skip(u64::from(sps.log2_max_pic_order_cnt_lsb_minus4) + 4)
            .map_err(b)?;
        if pps.bottom_field_pic_order_in_frame_present_flag != 0 && !h.field_pic_flag {
            r.se().map_err(b)?; // delta_pic_order_cnt_bottom
        }
    }
    if sps.pic_order_cnt_type == 1 && sps.delta_pic_order_always_zero_flag == 0 {
        r.se().map_err(b)?;
        if pps.bottom_field_pic_order_in_frame_present_flag != 0 && !h.field_pic_flag {
            r.se().map_err(b)?;
        }
    }
    if pps.redundant_pic_cnt_present_flag != 0 {
        r.ue().map_err(b)?; // redundant_pic_cnt
    }
    if st == B {
        h.direct_spatial_mv_pred_flag = r.flag().map_err(b)?;
    }
    // Defaults double for field pictures (7.4.3).
    let field_scale = |v: u8| {
        let v = u32::from(v);
        if h.field_pic_flag {
            2 * v + 1
        } else {
            v
        }
    };
    h.num_ref_idx_active_minus1 = [
        field_scale(pps.num_ref_idx_l0_default_active_minus1),
        field_scale(pps.num_ref_idx_l1_default_active_minus1),
    ];
    // num_ref_idx_active_override_flag
    if (st == P || st == SP || st == B) && r.flag().map_err(b)? {
        h.num_ref_idx_active_minus1[0] = r.ue().map_err(b)?;
        if st == B {
            h.num_ref_idx_active_minus1[1] = r.ue().map_err(b)?;
        }
    }
    let max_idx = if h.field_pic_flag { 31 } else { 15 };
    if h.num_ref_idx_active_minus1.iter().any(|&n| n > max_idx) {
        return Err(err("num_ref_idx_active_minus1 out of range"));
    }
    let lists = match st {
        B => 2,
        P | SP => 1,
        _ => 0,
    };
    // ref_pic_list_modification()
    for list in 0..lists {
        if r.flag().map_err(b)? {
            loop {
                let idc = r.ue().map_err(b)?;
                match idc {
                    0..=2 => {
                        let v = r.ue().map_err(b)?;
                        // At most one operation per index (plus the end marker).
                        if h.modifications[list].len() > 32 {
                            return Err(err("too many reference list modifications"));
                        }
                        h.modifications[list].push((idc, v));
                    }
                    3 => break,
                    _ => return Err(format!("modification_of_pic_nums_idc {idc}")),
                }
            }
        }
    }
    // pred_weight_table()
    if (pps.weighted_pred_flag != 0 && (st == P || st == SP))
        || (pps.weighted_bipred_idc == 1 && st == B)
    {
        h.has_weights = true;
        h.luma_log2_weight_denom = r.ue().map_err(b)?;
        let chroma = sps.separate_colour_plane_flag == 0 && sps.chroma_format_idc != 0;
        if chroma {
            h.chroma_log2_weight_denom = r.ue().map_err(b)?;
        }
        if h.luma_log2_weight_denom > 7 || h.chroma_log2_weight_denom > 7 {
            return Err(err("weight denominator above 7"));
        }
        for list in 0..lists {
            for _ in 0..=h.num_ref_idx_active_minus1[list] {
                let mut w = Weight::default();
                if r.flag().map_err(b)? {
                    w.luma = Some((r.se().map_err(b)?, r.se().map_err(b)?));
                }
                if chroma && r.flag().map_err(b)? {
                    let mut c = [(0, 0); 2];
                    for cw in &mut c {
                        *cw = (r.se().map_err(b)?, r.se().map_err(b)?);
                    }
                    w.chroma = Some(c);
                }
                h.weights[list].push(w);
            }
        }
    }
    // dec_ref_pic_marking()
    if nal_ref_idc != 0 {
        if idr {
            r.skip(2).map_err(b)?; // no_output_of_prior_pics_flag, long_term_reference_flag
        } else if r.flag().map_err(b)? {
            let mut ops = 0;
            loop {
                let mmco = r.ue().map_err(b)?;
                match mmco {
                    0 => break,
                    1 | 3 => {
                        r.ue().map_err(b)?;
                        if mmco == 3 {
                            r.ue().map_err(b)?;
                        }
                    }
                    2 | 6 => {
                        r.ue().map_err(b)?;
                    }
                    4 => {
                        r.ue().map_err(b)?;
                    }
                    5 => {}
                    _ => return Err(format!("memory_management_control_operation {mmco}")),
                }
                ops += 1;
                if ops > 66 {
                    return Err(err("too many memory management operations"));
                }
            }
        }
    }
    if pps.entropy_coding_mode_flag != 0 && st != I && st != SI {
        h.cabac_init_idc = r.ue().map_err(b)?;
        if h.cabac_init_idc > 2 {
            return Err(err("cabac_init_idc above 2"));
        }
    }
    h.slice_qp_delta = r.se().map_err(b)?;
    if !(-87..=77).contains(&h.slice_qp_delta) {
        return Err(err("slice_qp_delta out of range"));
    }
    if st == SP || st == SI {
        if st == SP {
            r.skip(1).map_err(b)?; // sp_for_switch_flag
        }
        r.se().map_err(b)?; // slice_qs_delta
    }
    if pps.deblocking_filter_control_present_flag != 0 {
        h.disable_deblocking_filter_idc = r.ue().map_err(b)?;
        if h.disable_deblocking_filter_idc > 2 {
            return Err(err("disable_deblocking_filter_idc above 2"));
        }
        if h.disable_deblocking_filter_idc != 1 {
            h.slice_alpha_c0_offset_div2 = r.se().map_err(b)?;
            h.slice_beta_offset_div2 = r.se().map_err(b)?;
            if !(-6..=6).contains(&h.slice_alpha_c0_offset_div2)
                || !(-6..=6).contains(&h.slice_beta_offset_div2)
            {
                return Err(err("deblocking offset out of range"));
            }
        }
    }
    h.data_bit_offset = r.rbsp_bit_pos();
    if h.data_bit_offset > u64::from(u16::MAX) {
        return Err(err("slice header longer than VA's 16-bit bit offset"));
    }
    Ok(h)
}

fn slice_parameters(
    desc: &H264PictureDesc,
    dpb: &[RefFrame],
    h: &SliceHeader,
    nal: &[u8],
) -> Result<Box<va::VASliceParameterBufferH264>, VideoError> {
    let mut sp: Box<va::VASliceParameterBufferH264> = zeroed_box();
    sp.slice_data_size =
        u32::try_from(nal.len()).map_err(|_| invalid(CODEC, "slice larger than 4 GiB"))?;
    sp.slice_data_offset = 0;
    sp.slice_data_flag = va::VA_SLICE_DATA_FLAG_ALL;
    sp.slice_data_bit_offset = h.data_bit_offset as u16;
    sp.first_mb_in_slice = h.first_mb_in_slice as u16;
    sp.slice_type = h.slice_type as u8;
    sp.direct_spatial_mv_pred_flag = u8::from(h.direct_spatial_mv_pred_flag);
    let lists = match h.slice_type {
        B => 2,
        P | SP => 1,
        _ => 0,
    };
    // VA keeps the counts of lists the slice does not use at 0.
    if lists >= 1 {
        sp.num_ref_idx_l0_active_minus1 = h.num_ref_idx_active_minus1[0] as u8;
    }
    if lists == 2 {
        sp.num_ref_idx_l1_active_minus1 = h.num_ref_idx_active_minus1[1] as u8;
    }
    sp.cabac_init_idc = h.cabac_init_idc as u8;
    sp.slice_qp_delta = h.slice_qp_delta as i8;
    sp.disable_deblocking_filter_idc = h.disable_deblocking_filter_idc as u8;
    sp.slice_alpha_c0_offset_div2 = h.slice_alpha_c0_offset_div2 as i8;
    sp.slice_beta_offset_div2 = h.slice_beta_offset_div2 as i8;

    sp.RefPicList0 = [invalid_picture(); 32];
    sp.RefPicList1 = [invalid_picture(); 32];
    if lists > 0 {
        let [l0, l1] = ref_pic_lists(desc, dpb, h, lists)?;
        for (dst, src) in sp.RefPicList0.iter_mut().zip(&l0) {
            *dst = *src;
        }
        for (dst, src) in sp.RefPicList1.iter_mut().zip(&l1) {
            *dst = *src;
        }
    }

    if h.has_weights {
        sp.luma_log2_weight_denom = h.luma_log2_weight_denom as u8;
        sp.chroma_log2_weight_denom = h.chroma_log2_weight_denom as u8;
        let luma_default = 1i32 << h.luma_log2_weight_denom;
        let chroma_default = 1i32 << h.chroma_log2_weight_denom;
        let clamp = |v: i32| v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        for list in 0..lists {
            let ws = &h.weights[list];
            let any_luma = ws.iter().any(|w| w.luma.is_some());
            let any_chroma = ws.iter().any(|w| w.chroma.is_some());
            let (lw, lo, cw, co) = if list == 0 {
                sp.luma_weight_l0_flag = u8::from(any_luma);
                sp.chroma_weight_l0_flag = u8::from(any_chroma);
                (
                    &mut sp.luma_weight_l0,
                    &mut sp.luma_offset_l0,
                    &mut sp.chroma_weight_l0,
                    &mut sp.chroma_offset_l0,
                )
            } else {
                sp.luma_weight_l1_flag = u8::from(any_luma);
                sp.chroma_weight_l1_flag = u8::from(any_chroma);
                (
                    &mut sp.luma_weight_l1,
                    &mut sp.luma_offset_l1,
                    &mut sp.chroma_weight_l1,
                    &mut sp.chroma_offset_l1,
                )
            };
            for (i, w) in ws.iter().enumerate().take(32) {
                let (w0, o0) = w.luma.unwrap_or((luma_default, 0));
                lw[i] = clamp(w0);
                lo[i] = clamp(o0);
                let c = w.chroma.unwrap_or([(chroma_default, 0); 2]);
                for j in 0..2 {
                    cw[i][j] = clamp(c[j].0);
                    co[i][j] = clamp(c[j].1);
                }
            }
        }
    }
    Ok(sp)
}

/// `RefPicList0/1` of the slice as VA pictures (see [`reflist`]); unused entries invalid.
fn ref_pic_lists(
    desc: &H264PictureDesc,
    dpb: &[RefFrame],
    h: &SliceHeader,
    lists: usize,
) -> Result<[Vec<va::VAPictureH264>; 2], VideoError> {
    let field = h.field_pic_flag.then_some(if h.bottom_field_flag {
        reflist::Parity::Bottom
    } else {
        reflist::Parity::Top
    });
    let poc = match field {
        None => desc.field_order_cnt[0].min(desc.field_order_cnt[1]),
        Some(reflist::Parity::Top) => desc.field_order_cnt[0],
        Some(reflist::Parity::Bottom) => desc.field_order_cnt[1],
    };
    let frames: Vec<reflist::DpbFrame> = dpb.iter().map(|r| r.list).collect();
    let slice = reflist::Slice {
        frame_num: h.frame_num,
        max_frame_num: 1 << (u32::from(desc.pps.sps.log2_max_frame_num_minus4) + 4),
        field,
        poc,
        b_slice: h.slice_type == B,
        lists,
        num_active: [
            h.num_ref_idx_active_minus1[0] as usize + 1,
            h.num_ref_idx_active_minus1[1] as usize + 1,
        ],
        modifications: &h.modifications,
    };
    let built = reflist::build(&frames, &slice).map_err(|e| invalid(CODEC, e))?;
    Ok(built.map(|l| {
        l.iter()
            .map(|e| match e {
                None => invalid_picture(),
                Some(e) => {
                    let mut pic = dpb[e.frame].pic;
                    let base = pic.flags
                        & (va::VA_PICTURE_H264_SHORT_TERM_REFERENCE
                            | va::VA_PICTURE_H264_LONG_TERM_REFERENCE);
                    match e.field {
                        None => pic.flags = base,
                        Some(reflist::Parity::Top) => {
                            pic.flags = base | va::VA_PICTURE_H264_TOP_FIELD;
                            pic.BottomFieldOrderCnt = 0;
                        }
                        Some(reflist::Parity::Bottom) => {
                            pic.flags = base | va::VA_PICTURE_H264_BOTTOM_FIELD;
                            pic.TopFieldOrderCnt = 0;
                        }
                    }
                    pic
                }
            })
            .collect()
    }))
}
