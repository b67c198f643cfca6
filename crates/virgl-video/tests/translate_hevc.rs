//! HEVC Main10 translation against a real clip made by libx265 (`data/hevc_main10_64x64.265`:
//! I P B in decode order, 16x16 CTUs, two slices per picture, wavefront entry points, explicit
//! weights, SAO, temporal MVP, short-term RPS coded in the slice header) and ffmpeg's trace of
//! it. The test plays the guest: it tracks POCs and the RPS, builds the description Mesa's VA
//! frontend + virgl driver would send, and checks the VA picture and every slice's parameters
//! field by field; bad input is refused.

mod common;

use common::trace::{clip, section, Section};
use common::{annex_b, nal_units, read_struct, Rng, Surfaces};
use libva_sys::va_display_drm as va;
use virgl_protocol::video::{H265PictureDesc, VideoProfile};
use virgl_video::translate::VaBuffer;
use virgl_video::VideoError;

const TARGET: u32 = 7;

struct Picture {
    slices: Vec<(Section, Vec<u8>)>,
    desc: H265PictureDesc,
    /// (handle, POC) of ReferenceFrames[i].
    refs: Vec<(u32, i32)>,
    before: Vec<u8>,
    after: Vec<u8>,
    st_rps_bits: u64,
}

const MAIN10: &str = "hevc_main10_64x64.265";
const PYRAMID: &str = "hevc_main_64x64_pyramid.265";

fn param_sets(name: &str) -> (Section, Section) {
    let (_, sections) = clip(name);
    (
        section(&sections, "Sequence Parameter Set").clone(),
        section(&sections, "Picture Parameter Set").clone(),
    )
}

fn pictures(name: &str) -> Vec<Picture> {
    let (data, sections) = clip(name);
    let (sps, pps) = param_sets(name);
    let headers: Vec<Section> = sections
        .into_iter()
        .filter(|s| s.name == "Slice Segment Header")
        .collect();
    let nals: Vec<Vec<u8>> = nal_units(&data)
        .into_iter()
        .filter(|n| matches!((n[0] >> 1) & 0x3f, 0..=9 | 16..=21))
        .collect();
    assert_eq!(headers.len(), nals.len());
    let mut grouped: Vec<Vec<(Section, Vec<u8>)>> = Vec::new();
    for (h, n) in headers.into_iter().zip(nals) {
        if h.req("first_slice_segment_in_pic_flag") == 1 {
            grouped.push(Vec::new());
        }
        grouped.last_mut().unwrap().push((h, n));
    }
    // Decoded pictures so far: (handle, POC).
    let mut decoded: Vec<(u32, i32)> = Vec::new();
    let mut pics = Vec::new();
    for (index, slices) in grouped.into_iter().enumerate() {
        let h = &slices[0].0;
        let nut = h.req("nal_unit_type");
        let idr = nut == 19 || nut == 20;
        // No POC LSB wrap in three pictures.
        let poc = h.or("slice_pic_order_cnt_lsb", 0) as i32;
        // The RPS coded in the slice header (the SPS has no sets).
        let (mut before_pocs, mut after_pocs) = (Vec::new(), Vec::new());
        let mut st_rps_bits = 0;
        if !idr {
            assert_eq!(h.req("short_term_ref_pic_set_sps_flag"), 0);
            let d0 = h.all("delta_poc_s0_minus1[0]");
            let _ = d0;
            let (mut acc, mut acc1) = (poc, poc);
            for i in 0..h.req("num_negative_pics") {
                acc -= h.req(&format!("delta_poc_s0_minus1[{i}]")) as i32 + 1;
                if h.req(&format!("used_by_curr_pic_s0_flag[{i}]")) == 1 {
                    before_pocs.push(acc);
                }
            }
            for i in 0..h.req("num_positive_pics") {
                acc1 += h.req(&format!("delta_poc_s1_minus1[{i}]")) as i32 + 1;
                if h.req(&format!("used_by_curr_pic_s1_flag[{i}]")) == 1 {
                    after_pocs.push(acc1);
                }
            }
            let start = h
                .fields
                .iter()
                .find(|f| f.name == "num_negative_pics")
                .unwrap()
                .pos;
            let end = h
                .fields
                .iter()
                .rfind(|f| f.name.starts_with("used_by_curr_pic_s"))
                .map(|f| f.pos + f.bits)
                .unwrap();
            st_rps_bits = end - start;
        }
        // ReferenceFrames: the decoded pictures the RPS uses, in decode order.
        let refs: Vec<(u32, i32)> = decoded
            .iter()
            .copied()
            .filter(|(_, p)| before_pocs.contains(p) || after_pocs.contains(p))
            .collect();
        let idx = |p: &i32| refs.iter().position(|(_, q)| q == p).unwrap() as u8;
        let before: Vec<u8> = before_pocs.iter().map(idx).collect();
        let after: Vec<u8> = after_pocs.iter().map(idx).collect();
        let desc = build_desc(&sps, &pps, h, poc, &refs, &before, &after, st_rps_bits);
        pics.push(Picture {
            slices,
            desc,
            refs,
            before,
            after,
            st_rps_bits,
        });
        decoded.push((10 + index as u32, poc));
    }
    pics
}

#[allow(clippy::too_many_arguments)]
fn build_desc(
    sps: &Section,
    pps: &Section,
    h: &Section,
    poc: i32,
    refs: &[(u32, i32)],
    before: &[u8],
    after: &[u8],
    st_rps_bits: u64,
) -> H265PictureDesc {
    let mut d = H265PictureDesc::default();
    d.base.profile = if sps.req("bit_depth_luma_minus8") == 0 {
        VideoProfile::HevcMain
    } else {
        VideoProfile::HevcMain10
    } as u16;
    let s = &mut d.pps.sps;
    s.pic_width_in_luma_samples = sps.req("pic_width_in_luma_samples") as u32;
    s.pic_height_in_luma_samples = sps.req("pic_height_in_luma_samples") as u32;
    s.chroma_format_idc = sps.req("chroma_format_idc") as u8;
    s.bit_depth_luma_minus8 = sps.req("bit_depth_luma_minus8") as u8;
    s.bit_depth_chroma_minus8 = sps.req("bit_depth_chroma_minus8") as u8;
    s.log2_max_pic_order_cnt_lsb_minus4 = sps.req("log2_max_pic_order_cnt_lsb_minus4") as u8;
    s.sps_max_dec_pic_buffering_minus1 = sps.req("sps_max_dec_pic_buffering_minus1[0]") as u8;
    s.log2_min_luma_coding_block_size_minus3 =
        sps.req("log2_min_luma_coding_block_size_minus3") as u8;
    s.log2_diff_max_min_luma_coding_block_size =
        sps.req("log2_diff_max_min_luma_coding_block_size") as u8;
    s.log2_min_transform_block_size_minus2 =
        sps.req("log2_min_luma_transform_block_size_minus2") as u8;
    s.log2_diff_max_min_transform_block_size =
        sps.req("log2_diff_max_min_luma_transform_block_size") as u8;
    s.max_transform_hierarchy_depth_inter = sps.req("max_transform_hierarchy_depth_inter") as u8;
    s.max_transform_hierarchy_depth_intra = sps.req("max_transform_hierarchy_depth_intra") as u8;
    s.scaling_list_enabled_flag = sps.req("scaling_list_enabled_flag") as u8;
    s.amp_enabled_flag = sps.req("amp_enabled_flag") as u8;
    s.sample_adaptive_offset_enabled_flag = sps.req("sample_adaptive_offset_enabled_flag") as u8;
    s.pcm_enabled_flag = sps.req("pcm_enabled_flag") as u8;
    s.num_short_term_ref_pic_sets = sps.req("num_short_term_ref_pic_sets") as u8;
    s.long_term_ref_pics_present_flag = sps.req("long_term_ref_pics_present_flag") as u8;
    s.sps_temporal_mvp_enabled_flag = sps.req("sps_temporal_mvp_enabled_flag") as u8;
    s.strong_intra_smoothing_enabled_flag = sps.req("strong_intra_smoothing_enabled_flag") as u8;
    let p = &mut d.pps;
    for (field, name) in [
        (
            &mut p.dependent_slice_segments_enabled_flag,
            "dependent_slice_segments_enabled_flag",
        ),
        (&mut p.output_flag_present_flag, "output_flag_present_flag"),
        (
            &mut p.num_extra_slice_header_bits,
            "num_extra_slice_header_bits",
        ),
        (
            &mut p.sign_data_hiding_enabled_flag,
            "sign_data_hiding_enabled_flag",
        ),
        (&mut p.cabac_init_present_flag, "cabac_init_present_flag"),
        (
            &mut p.num_ref_idx_l0_default_active_minus1,
            "num_ref_idx_l0_default_active_minus1",
        ),
        (
            &mut p.num_ref_idx_l1_default_active_minus1,
            "num_ref_idx_l1_default_active_minus1",
        ),
        (
            &mut p.constrained_intra_pred_flag,
            "constrained_intra_pred_flag",
        ),
        (
            &mut p.transform_skip_enabled_flag,
            "transform_skip_enabled_flag",
        ),
        (&mut p.cu_qp_delta_enabled_flag, "cu_qp_delta_enabled_flag"),
        (&mut p.diff_cu_qp_delta_depth, "diff_cu_qp_delta_depth"),
        (
            &mut p.pps_slice_chroma_qp_offsets_present_flag,
            "pps_slice_chroma_qp_offsets_present_flag",
        ),
        (&mut p.weighted_pred_flag, "weighted_pred_flag"),
        (&mut p.weighted_bipred_flag, "weighted_bipred_flag"),
        (
            &mut p.transquant_bypass_enabled_flag,
            "transquant_bypass_enabled_flag",
        ),
        (&mut p.tiles_enabled_flag, "tiles_enabled_flag"),
        (
            &mut p.entropy_coding_sync_enabled_flag,
            "entropy_coding_sync_enabled_flag",
        ),
        (
            &mut p.pps_loop_filter_across_slices_enabled_flag,
            "pps_loop_filter_across_slices_enabled_flag",
        ),
        (
            &mut p.deblocking_filter_control_present_flag,
            "deblocking_filter_control_present_flag",
        ),
        (
            &mut p.lists_modification_present_flag,
            "lists_modification_present_flag",
        ),
        (
            &mut p.log2_parallel_merge_level_minus2,
            "log2_parallel_merge_level_minus2",
        ),
        (
            &mut p.slice_segment_header_extension_present_flag,
            "slice_segment_header_extension_present_flag",
        ),
    ] {
        *field = pps.req(name) as u8;
    }
    p.init_qp_minus26 = pps.req("init_qp_minus26") as i8;
    p.pps_cb_qp_offset = pps.req("pps_cb_qp_offset") as i8;
    p.pps_cr_qp_offset = pps.req("pps_cr_qp_offset") as i8;
    p.st_rps_bits = st_rps_bits as u16;
    d.curr_pic_order_cnt_val = poc;
    for (i, &(handle, p)) in refs.iter().enumerate() {
        d.r#ref[i] = handle;
        d.pic_order_cnt_val[i] = p;
    }
    d.num_poc_st_curr_before = before.len() as u8;
    d.num_poc_st_curr_after = after.len() as u8;
    d.ref_pic_set_st_curr_before = [0xff; 8];
    d.ref_pic_set_st_curr_after = [0xff; 8];
    d.ref_pic_set_lt_curr = [0xff; 8];
    d.ref_pic_set_st_curr_before[..before.len()].copy_from_slice(before);
    d.ref_pic_set_st_curr_after[..after.len()].copy_from_slice(after);
    d.num_poc_total_curr = (before.len() + after.len()) as u32;
    d.num_short_term_picture_slice_header_bits = st_rps_bits as u32;
    let nut = h.req("nal_unit_type");
    d.idr_pic_flag = u8::from(nut == 19 || nut == 20);
    d.rap_pic_flag = u8::from((16..=23).contains(&nut));
    d
}

fn bitstream(p: &Picture) -> Vec<u8> {
    annex_b(p.slices.iter().map(|(_, nal)| nal))
}

/// The surfaces the guest's descriptions here refer to.
const SURFACES: Surfaces = Surfaces {
    target: TARGET,
    size: (64, 64),
};

fn run(d: &H265PictureDesc, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
    SURFACES.run(d, bytes)
}

/// RBSP byte count -> emulation-prevention bytes met in the raw NAL before it.
fn epb_before(nal: &[u8], rbsp_bytes: usize) -> usize {
    let (mut raw, mut rbsp, mut zeros, mut epb) = (0, 0, 0, 0);
    while rbsp < rbsp_bytes {
        let b = nal[raw];
        raw += 1;
        if zeros >= 2 && b == 3 {
            epb += 1;
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp += 1;
    }
    epb
}

#[test]
fn every_picture_translates_field_by_field() {
    check_clip(MAIN10, 3);
}

#[test]
fn main_clip_with_b_pyramid() {
    check_clip(PYRAMID, 8);
}

fn check_clip(name: &str, pictures_in_clip: usize) {
    let pics = pictures(name);
    assert_eq!(pics.len(), pictures_in_clip);
    let (sps, pps) = param_sets(name);
    let mut saw = [false; 4]; // P, B, weights, dependent-free non-first slice
    for p in &pics {
        let bufs = run(&p.desc, &bitstream(p)).unwrap();
        // No scaling lists: picture + slice pairs.
        assert_eq!(bufs.len(), 1 + 2 * p.slices.len());
        let pp: va::VAPictureParameterBufferHEVC = read_struct(&bufs[0].data);
        assert_eq!(pp.CurrPic.picture_id, TARGET);
        assert_eq!(pp.CurrPic.pic_order_cnt, p.desc.curr_pic_order_cnt_val);
        for (i, rf) in pp.ReferenceFrames.iter().enumerate() {
            match p.refs.get(i) {
                Some(&(handle, poc)) => {
                    assert_eq!(rf.picture_id, handle + 1000);
                    assert_eq!(rf.pic_order_cnt, poc);
                    let want = if p.before.contains(&(i as u8)) {
                        va::VA_PICTURE_HEVC_RPS_ST_CURR_BEFORE
                    } else if p.after.contains(&(i as u8)) {
                        va::VA_PICTURE_HEVC_RPS_ST_CURR_AFTER
                    } else {
                        0
                    };
                    assert_eq!(rf.flags, want);
                }
                None => {
                    assert_eq!(rf.picture_id, u32::MAX);
                    assert_eq!(rf.flags, va::VA_PICTURE_HEVC_INVALID);
                }
            }
        }
        assert_eq!(
            i64::from(pp.pic_width_in_luma_samples),
            sps.req("pic_width_in_luma_samples")
        );
        assert_eq!(
            i64::from(pp.bit_depth_luma_minus8),
            sps.req("bit_depth_luma_minus8")
        );
        assert_eq!(
            i64::from(pp.log2_diff_max_min_luma_coding_block_size),
            sps.req("log2_diff_max_min_luma_coding_block_size")
        );
        // SAFETY: bitfield views of unions decoded from bytes; any bit pattern is valid.
        let (pf, sf) = unsafe { (pp.pic_fields.bits, pp.slice_parsing_fields.bits) };
        assert_eq!(
            i64::from(pf.entropy_coding_sync_enabled_flag()),
            pps.req("entropy_coding_sync_enabled_flag")
        );
        assert_eq!(
            i64::from(pf.weighted_pred_flag()),
            pps.req("weighted_pred_flag")
        );
        assert_eq!(
            i64::from(pf.sign_data_hiding_enabled_flag()),
            pps.req("sign_data_hiding_enabled_flag")
        );
        assert_eq!(
            i64::from(pf.strong_intra_smoothing_enabled_flag()),
            sps.req("strong_intra_smoothing_enabled_flag")
        );
        assert_eq!(
            i64::from(sf.sample_adaptive_offset_enabled_flag()),
            sps.req("sample_adaptive_offset_enabled_flag")
        );
        assert_eq!(
            i64::from(sf.sps_temporal_mvp_enabled_flag()),
            sps.req("sps_temporal_mvp_enabled_flag")
        );
        let nut = p.slices[0].0.req("nal_unit_type");
        assert_eq!(sf.IdrPicFlag(), u32::from(nut == 19 || nut == 20));
        assert_eq!(sf.RapPicFlag(), u32::from((16..=23).contains(&nut)));
        let all_i = p.slices.iter().all(|(h, _)| h.req("slice_type") == 2);
        assert_eq!(sf.IntraPicFlag(), u32::from(all_i));
        assert_eq!(u64::from(pp.st_rps_bits), p.st_rps_bits);
        assert_eq!(
            i64::from(pp.log2_max_pic_order_cnt_lsb_minus4),
            sps.req("log2_max_pic_order_cnt_lsb_minus4")
        );

        let last = p.slices.len() - 1;
        for (k, (h, nal)) in p.slices.iter().enumerate() {
            let (spb, db) = (&bufs[1 + 2 * k], &bufs[2 + 2 * k]);
            assert_eq!(spb.kind, va::VABufferType_VASliceParameterBufferType);
            assert_eq!(db.kind, va::VABufferType_VASliceDataBufferType);
            assert_eq!(&db.data, nal);
            let sp: va::VASliceParameterBufferHEVC = read_struct(&spb.data);
            assert_eq!(sp.slice_data_size as usize, nal.len());
            assert_eq!(sp.slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
            let end_bits = h.end();
            assert_eq!(end_bits % 8, 0, "header ends byte aligned");
            assert_eq!(u64::from(sp.slice_data_byte_offset), end_bits / 8);
            assert_eq!(
                usize::from(sp.slice_data_num_emu_prevn_bytes),
                epb_before(nal, (end_bits / 8) as usize)
            );
            assert_eq!(
                i64::from(sp.slice_segment_address),
                h.or("slice_segment_address", 0)
            );
            if k > 0 {
                saw[3] = true;
            }
            // SAFETY: bitfield view of a union decoded from bytes.
            let lf = unsafe { sp.LongSliceFlags.fields };
            assert_eq!(lf.LastSliceOfPic(), u32::from(k == last));
            assert_eq!(lf.dependent_slice_segment_flag(), 0);
            let st = h.req("slice_type");
            assert_eq!(i64::from(lf.slice_type()), st);
            assert_eq!(
                i64::from(lf.slice_sao_luma_flag()),
                h.req("slice_sao_luma_flag")
            );
            assert_eq!(
                i64::from(lf.slice_sao_chroma_flag()),
                h.req("slice_sao_chroma_flag")
            );
            assert_eq!(
                i64::from(lf.mvd_l1_zero_flag()),
                h.or("mvd_l1_zero_flag", 0)
            );
            assert_eq!(i64::from(lf.cabac_init_flag()), h.or("cabac_init_flag", 0));
            let tmvp = h.or("slice_temporal_mvp_enabled_flag", 0);
            assert_eq!(i64::from(lf.slice_temporal_mvp_enabled_flag()), tmvp);
            assert_eq!(
                i64::from(lf.collocated_from_l0_flag()),
                h.or("collocated_from_l0_flag", 1)
            );
            assert_eq!(
                i64::from(lf.slice_deblocking_filter_disabled_flag()),
                h.or("slice_deblocking_filter_disabled_flag", 0)
            );
            let col = if tmvp == 1 && st != 2 {
                h.or("collocated_ref_idx", 0)
            } else {
                0xff
            };
            assert_eq!(i64::from(sp.collocated_ref_idx), col);
            assert_eq!(i64::from(sp.slice_qp_delta), h.req("slice_qp_delta"));
            assert_eq!(
                i64::from(sp.num_entry_point_offsets),
                h.or("num_entry_point_offsets", 0)
            );
            assert_eq!(
                i64::from(sp.five_minus_max_num_merge_cand),
                h.or("five_minus_max_num_merge_cand", 0)
            );
            let n0 = h.or(
                "num_ref_idx_l0_active_minus1",
                pps.req("num_ref_idx_l0_default_active_minus1"),
            );
            let n1 = h.or(
                "num_ref_idx_l1_active_minus1",
                pps.req("num_ref_idx_l1_default_active_minus1"),
            );
            let total = p.before.len() + p.after.len();
            let cycle = |order: Vec<u8>, n: i64| -> Vec<u8> {
                order
                    .iter()
                    .copied()
                    .cycle()
                    .take((n as usize + 1).max(total))
                    .take(n as usize + 1)
                    .collect()
            };
            let l0: Vec<u8> = p.before.iter().chain(&p.after).copied().collect();
            let l1: Vec<u8> = p.after.iter().chain(&p.before).copied().collect();
            let used = |l: &[u8; 15]| -> Vec<u8> {
                l.iter().copied().take_while(|&v| v != 0xff).collect()
            };
            match st {
                1 => {
                    saw[0] = true;
                    assert_eq!(i64::from(sp.num_ref_idx_l0_active_minus1), n0);
                    assert_eq!(sp.num_ref_idx_l1_active_minus1, 0);
                    assert_eq!(used(&sp.RefPicList[0]), cycle(l0, n0));
                    assert!(used(&sp.RefPicList[1]).is_empty());
                }
                0 => {
                    saw[1] = true;
                    assert_eq!(i64::from(sp.num_ref_idx_l0_active_minus1), n0);
                    assert_eq!(i64::from(sp.num_ref_idx_l1_active_minus1), n1);
                    assert_eq!(used(&sp.RefPicList[0]), cycle(l0, n0));
                    assert_eq!(used(&sp.RefPicList[1]), cycle(l1, n1));
                }
                _ => {
                    assert!(used(&sp.RefPicList[0]).is_empty());
                    assert!(used(&sp.RefPicList[1]).is_empty());
                }
            }
            if let Some(denom) = h.get("luma_log2_weight_denom") {
                saw[2] = true;
                assert_eq!(i64::from(sp.luma_log2_weight_denom), denom);
                let dc = h.req("delta_chroma_log2_weight_denom");
                assert_eq!(i64::from(sp.delta_chroma_log2_weight_denom), dc);
                let cdenom = denom + dc;
                for i in 0..=n0 as usize {
                    if h.get(&format!("luma_weight_l0_flag[{i}]")) == Some(1) {
                        assert_eq!(
                            i64::from(sp.delta_luma_weight_l0[i]),
                            h.req(&format!("delta_luma_weight_l0[{i}]"))
                        );
                        assert_eq!(
                            i64::from(sp.luma_offset_l0[i]),
                            h.req(&format!("luma_offset_l0[{i}]"))
                        );
                    } else {
                        assert_eq!((sp.delta_luma_weight_l0[i], sp.luma_offset_l0[i]), (0, 0));
                    }
                    if h.get(&format!("chroma_weight_l0_flag[{i}]")) == Some(1) {
                        for j in 0..2 {
                            let dw = h.req(&format!("delta_chroma_weight_l0[{i}][{j}]"));
                            let doff = h.req(&format!("delta_chroma_offset_l0[{i}][{j}]"));
                            assert_eq!(i64::from(sp.delta_chroma_weight_l0[i][j]), dw);
                            let w = (1 << cdenom) + dw;
                            let off = (128 + doff - ((128 * w) >> cdenom)).clamp(-128, 127);
                            assert_eq!(i64::from(sp.ChromaOffsetL0[i][j]), off);
                        }
                    }
                }
            }
        }
    }
    assert!(saw[0] && saw[1] && saw[2] && saw[3], "coverage {saw:?}");
}

fn refused(d: &H265PictureDesc, bytes: &[u8]) -> String {
    SURFACES.refused(d, bytes)
}

#[test]
fn bad_input_is_refused() {
    let pics = pictures(MAIN10);
    let p = pics.iter().find(|p| !p.refs.is_empty()).unwrap();
    let bytes = bitstream(p);
    // Unknown reference handle.
    let mut d = p.desc.clone();
    d.r#ref[0] = 500;
    let r = refused(&d, &bytes);
    assert!(r.contains("500"), "{r}");
    // RPS index past the 15 references; RPS naming an empty slot.
    let mut d = p.desc.clone();
    d.ref_pic_set_st_curr_before[0] = 15;
    refused(&d, &bytes);
    let mut d = p.desc.clone();
    d.ref_pic_set_st_curr_before[0] = 9;
    refused(&d, &bytes);
    // Wrong profile; 10-bit content in a Main description.
    let mut d = p.desc.clone();
    d.base.profile = VideoProfile::H264High as u16;
    refused(&d, &bytes);
    let mut d = p.desc.clone();
    d.base.profile = VideoProfile::HevcMain as u16;
    refused(&d, &bytes);
    // A P slice with an empty RPS.
    let mut d = p.desc.clone();
    d.num_poc_st_curr_before = 0;
    d.num_poc_st_curr_after = 0;
    refused(&d, &bytes);
    // More slice segments than CTUs (64x64 in 16x16 CTUs: 16).
    let one: Vec<u8> = [&[0u8, 0, 1][..], &p.slices[0].1].concat();
    let many: Vec<u8> = one.iter().copied().cycle().take(one.len() * 17).collect();
    let r = refused(&p.desc, &many);
    assert!(r.contains("more than 16 slice segments"), "{r}");
    // Picture size out of range; no slice; a slice cut inside its header.
    let mut d = p.desc.clone();
    d.pps.sps.pic_width_in_luma_samples = 0;
    refused(&d, &bytes);
    refused(&p.desc, &[0, 0, 1, 0x40, 0x01, 0x0c]);
    refused(&p.desc, &bytes[..8]);
    for cut in 0..bytes.len().min(300) {
        let _ = run(&p.desc, &bytes[..cut]);
    }
}

#[test]
fn scaling_lists_go_back_to_va_order() {
    let pics = pictures(MAIN10);
    let mut d = pics[0].desc.clone();
    d.pps.sps.scaling_list_enabled_flag = 1;
    // Mesa's frontend stores desc[j] = va[scan[j]] with the up-right diagonal scan.
    const SCAN4: [usize; 16] = [0, 4, 1, 8, 5, 2, 12, 9, 6, 3, 13, 10, 7, 14, 11, 15];
    let va4: Vec<u8> = (0..16).map(|v| 16 + v as u8).collect();
    for i in 0..6 {
        for j in 0..16 {
            d.pps.sps.scaling_list4x4[i][j] = va4[SCAN4[j]];
        }
    }
    d.pps.sps.scaling_list_dc_coeff16x16 = [1, 2, 3, 4, 5, 6];
    let bufs = run(&d, &bitstream(&pics[0])).unwrap();
    assert_eq!(bufs[1].kind, va::VABufferType_VAIQMatrixBufferType);
    let iq: va::VAIQMatrixBufferHEVC = read_struct(&bufs[1].data);
    for i in 0..6 {
        assert_eq!(&iq.ScalingList4x4[i][..], &va4[..]);
    }
    assert_eq!(iq.ScalingListDC16x16, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn mutated_input_never_panics() {
    // Bit flips and truncations of real bitstreams, random bytes in real descriptions: every
    // case must translate or be refused with a typed error, never panic or overflow.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for p in pictures(MAIN10).into_iter().chain(pictures(PYRAMID)) {
        let (desc, bytes) = (p.desc.clone(), bitstream(&p));
        SURFACES.run_mutated(&mut rng, &desc, &bytes, 400);
    }
}
