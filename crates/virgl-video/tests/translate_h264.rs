//! H.264 translation against real clips made by libx264 (`data/h264_*.264`: CABAC with B
//! frames and explicit weights, CAVLC with three slices per picture, duplicated references and
//! list modifications) and ffmpeg's trace of them. The test plays the guest: it keeps the DPB a
//! VA client keeps, builds the description Mesa's VA frontend + virgl driver would send, and
//! checks the VA picture, IQ matrix and every slice's parameters field by field against the
//! trace; bad input is refused.

mod common;

use common::trace::{clip, section, Section};
use common::{annex_b, nal_units, read_struct, Rng, Surfaces};
use libva_sys::va_display_drm as va;
use virgl_protocol::video::{H264PictureDesc, VideoProfile};
use virgl_video::translate::VaBuffer;
use virgl_video::VideoError;

const TARGET: u32 = 7;

/// A decoded reference frame as the test's DPB keeps it.
#[derive(Clone, Copy, Debug)]
struct Ref {
    handle: u32,
    frame_num: u32,
    poc: i32,
}

struct Picture {
    slices: Vec<(Section, Vec<u8>)>,
    desc: H264PictureDesc,
    /// The DPB before this picture (what its slices may reference).
    dpb: Vec<Ref>,
    poc: i32,
}

fn pictures(name: &str) -> Vec<Picture> {
    let (data, sections) = clip(name);
    let sps = section(&sections, "Sequence Parameter Set").clone();
    let pps = section(&sections, "Picture Parameter Set").clone();
    let headers: Vec<Section> = sections
        .into_iter()
        .filter(|s| s.name == "Slice Header")
        .collect();
    let slices: Vec<Vec<u8>> = nal_units(&data)
        .into_iter()
        .filter(|n| matches!(n[0] & 0x1f, 1 | 5))
        .collect();
    assert_eq!(headers.len(), slices.len());

    let max_refs = sps.req("max_num_ref_frames") as usize;
    let mut dpb: Vec<Ref> = Vec::new();
    let mut pics: Vec<Picture> = Vec::new();
    let mut grouped: Vec<Vec<(Section, Vec<u8>)>> = Vec::new();
    for (h, n) in headers.into_iter().zip(slices) {
        if h.req("first_mb_in_slice") == 0 {
            grouped.push(Vec::new());
        }
        grouped.last_mut().unwrap().push((h, n));
    }
    for (index, slices) in grouped.into_iter().enumerate() {
        let h = &slices[0].0;
        let idr = h.req("nal_unit_type") == 5;
        let is_ref = h.req("nal_ref_idc") != 0;
        if idr {
            dpb.clear();
        }
        let frame_num = h.req("frame_num") as u32;
        // Short clips: no frame_num or POC LSB wrap, so POC is simple for both types used.
        let poc = match sps.req("pic_order_cnt_type") {
            0 => h.req("pic_order_cnt_lsb") as i32,
            2 => 2 * frame_num as i32 - i32::from(!is_ref),
            t => panic!("poc type {t}"),
        };
        let desc = build_desc(&sps, &pps, &slices, &dpb, frame_num, poc, is_ref);
        pics.push(Picture {
            slices,
            desc,
            dpb: dpb.clone(),
            poc,
        });
        if is_ref {
            if dpb.len() == max_refs {
                dpb.remove(0); // sliding window: the oldest frame_num goes
            }
            dpb.push(Ref {
                handle: 10 + index as u32,
                frame_num,
                poc,
            });
        }
    }
    pics
}

fn build_desc(
    sps: &Section,
    pps: &Section,
    slices: &[(Section, Vec<u8>)],
    dpb: &[Ref],
    frame_num: u32,
    poc: i32,
    is_ref: bool,
) -> H264PictureDesc {
    let mut d = H264PictureDesc::default();
    d.base.profile = match sps.req("profile_idc") {
        66 => VideoProfile::H264ConstrainedBaseline,
        77 => VideoProfile::H264Main,
        100 => VideoProfile::H264High,
        p => panic!("profile {p}"),
    } as u16;
    let s = &mut d.pps.sps;
    s.level_idc = sps.req("level_idc") as u8;
    s.chroma_format_idc = sps.or("chroma_format_idc", 1) as u8;
    s.bit_depth_luma_minus8 = sps.or("bit_depth_luma_minus8", 0) as u8;
    s.bit_depth_chroma_minus8 = sps.or("bit_depth_chroma_minus8", 0) as u8;
    s.log2_max_frame_num_minus4 = sps.req("log2_max_frame_num_minus4") as u8;
    s.pic_order_cnt_type = sps.req("pic_order_cnt_type") as u8;
    s.log2_max_pic_order_cnt_lsb_minus4 = sps.or("log2_max_pic_order_cnt_lsb_minus4", 0) as u8;
    s.max_num_ref_frames = sps.req("max_num_ref_frames") as u8;
    s.frame_mbs_only_flag = sps.req("frame_mbs_only_flag") as u8;
    s.direct_8x8_inference_flag = sps.req("direct_8x8_inference_flag") as u8;
    s.scaling_list4x4 = [[16; 16]; 6];
    s.scaling_list8x8 = [[16; 64]; 6];
    let p = &mut d.pps;
    p.entropy_coding_mode_flag = pps.req("entropy_coding_mode_flag") as u8;
    p.bottom_field_pic_order_in_frame_present_flag =
        pps.req("bottom_field_pic_order_in_frame_present_flag") as u8;
    p.num_ref_idx_l0_default_active_minus1 = pps.req("num_ref_idx_l0_default_active_minus1") as u8;
    p.num_ref_idx_l1_default_active_minus1 = pps.req("num_ref_idx_l1_default_active_minus1") as u8;
    p.weighted_pred_flag = pps.req("weighted_pred_flag") as u8;
    p.weighted_bipred_idc = pps.req("weighted_bipred_idc") as u8;
    p.pic_init_qp_minus26 = pps.req("pic_init_qp_minus26") as i8;
    p.pic_init_qs_minus26 = pps.req("pic_init_qs_minus26") as i8;
    p.chroma_qp_index_offset = pps.req("chroma_qp_index_offset") as i8;
    p.deblocking_filter_control_present_flag =
        pps.req("deblocking_filter_control_present_flag") as u8;
    p.constrained_intra_pred_flag = pps.req("constrained_intra_pred_flag") as u8;
    p.redundant_pic_cnt_present_flag = pps.req("redundant_pic_cnt_present_flag") as u8;
    p.transform_8x8_mode_flag = pps.or("transform_8x8_mode_flag", 0) as u8;
    p.second_chroma_qp_index_offset = pps.or(
        "second_chroma_qp_index_offset",
        pps.req("chroma_qp_index_offset"),
    ) as i8;
    p.scaling_list4x4 = [[16; 16]; 6];
    p.scaling_list8x8 = [[16; 64]; 6];
    d.frame_num = frame_num;
    // Mesa keeps the last slice's values.
    let last = &slices.last().unwrap().0;
    d.num_ref_idx_l0_active_minus1 = last.or(
        "num_ref_idx_l0_active_minus1",
        pps.req("num_ref_idx_l0_default_active_minus1"),
    ) as u8;
    d.num_ref_idx_l1_active_minus1 = last.or(
        "num_ref_idx_l1_active_minus1",
        pps.req("num_ref_idx_l1_default_active_minus1"),
    ) as u8;
    d.slice_count = slices.len() as u32;
    d.field_order_cnt = [poc, poc];
    d.is_reference = u8::from(is_ref);
    d.num_ref_frames = sps.req("max_num_ref_frames") as u8;
    for (i, r) in dpb.iter().enumerate() {
        d.buffer_id[i] = r.handle;
        d.frame_num_list[i] = r.frame_num;
        d.field_order_cnt_list[i] = [r.poc as u32, r.poc as u32];
        d.top_is_reference[i] = 1;
        d.bottom_is_reference[i] = 1;
    }
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

fn run(d: &H264PictureDesc, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
    SURFACES.run(d, bytes)
}

/// The reference lists the slice must use, computed from the test's DPB: the spec's
/// initialisation for frames (P by descending frame_num; B by POC around the current picture)
/// and the short-term modifications the trace lists.
fn expected_lists(p: &Picture, h: &Section, max_frame_num: i64) -> [Vec<u32>; 2] {
    let st = h.req("slice_type") % 5;
    let mut l0: Vec<Ref> = p.dpb.clone();
    let mut l1: Vec<Ref> = Vec::new();
    if st == 1 {
        let before: Vec<Ref> = {
            let mut v: Vec<Ref> = p.dpb.iter().copied().filter(|r| r.poc < p.poc).collect();
            v.sort_by_key(|r| -r.poc);
            v
        };
        let after: Vec<Ref> = {
            let mut v: Vec<Ref> = p.dpb.iter().copied().filter(|r| r.poc > p.poc).collect();
            v.sort_by_key(|r| r.poc);
            v
        };
        l0 = before.iter().chain(&after).copied().collect();
        l1 = after.iter().chain(&before).copied().collect();
        if l1.len() > 1 && l0.iter().zip(&l1).all(|(a, b)| a.handle == b.handle) {
            l1.swap(0, 1);
        }
    } else {
        l0.sort_by_key(|r| std::cmp::Reverse(r.frame_num));
    }
    let curr = h.req("frame_num");
    let mut lists = [l0, l1];
    let names = ["l0", "l1"];
    for (li, list) in lists.iter_mut().enumerate() {
        let n = h
            .get(&format!("num_ref_idx_{}_active_minus1", names[li]))
            .unwrap_or(0) as usize
            + 1;
        // Walk the trace's modification operations of this list in order.
        let flag = format!("ref_pic_list_modification_flag_{}", names[li]);
        if h.get(&flag) == Some(1) {
            let start = h.fields.iter().position(|f| f.name == flag).unwrap();
            let mut pred = curr;
            let mut idx = 0;
            let mut it = h.fields[start + 1..].iter();
            while let Some(f) = it.next() {
                if f.name != "modification_of_pic_nums_idc" || f.value == 3 {
                    break;
                }
                let abs = it.next().unwrap().value + 1;
                let mut nw = if f.value == 0 { pred - abs } else { pred + abs };
                nw = nw.rem_euclid(max_frame_num);
                pred = nw;
                let r = *p.dpb.iter().find(|r| i64::from(r.frame_num) == nw).unwrap();
                list.insert(idx, r);
                idx += 1;
                let mut k = idx;
                while k < list.len() {
                    if list[k].handle == r.handle {
                        list.remove(k);
                    } else {
                        k += 1;
                    }
                }
            }
        }
        list.truncate(n);
    }
    let ids = |l: &Vec<Ref>| l.iter().map(|r| r.handle + 1000).collect();
    [ids(&lists[0]), ids(&lists[1])]
}

fn check_clip(name: &str) {
    let pics = pictures(name);
    assert!(pics.len() >= 3);
    let (_, sections) = clip(name);
    let sps = section(&sections, "Sequence Parameter Set");
    let pps = section(&sections, "Picture Parameter Set");
    let max_frame_num = 1i64 << (sps.req("log2_max_frame_num_minus4") + 4);
    let mut saw = [false; 3]; // P, B, weights
    for p in &pics {
        let bufs = run(&p.desc, &bitstream(p)).unwrap();
        assert_eq!(bufs.len(), 2 + 2 * p.slices.len());
        assert_eq!(bufs[0].kind, va::VABufferType_VAPictureParameterBufferType);
        let pp: va::VAPictureParameterBufferH264 = read_struct(&bufs[0].data);
        assert_eq!(pp.CurrPic.picture_id, TARGET);
        assert_eq!(pp.CurrPic.frame_idx, p.desc.frame_num);
        assert_eq!(
            (pp.CurrPic.TopFieldOrderCnt, pp.CurrPic.BottomFieldOrderCnt),
            (p.poc, p.poc)
        );
        let cur_flags = if p.desc.is_reference != 0 {
            va::VA_PICTURE_H264_SHORT_TERM_REFERENCE
        } else {
            0
        };
        assert_eq!(pp.CurrPic.flags, cur_flags);
        for (i, rf) in pp.ReferenceFrames.iter().enumerate() {
            match p.dpb.get(i) {
                Some(r) => {
                    assert_eq!(rf.picture_id, r.handle + 1000);
                    assert_eq!(rf.frame_idx, r.frame_num);
                    assert_eq!(rf.flags, va::VA_PICTURE_H264_SHORT_TERM_REFERENCE);
                    assert_eq!(
                        (rf.TopFieldOrderCnt, rf.BottomFieldOrderCnt),
                        (r.poc, r.poc)
                    );
                }
                None => {
                    assert_eq!(rf.picture_id, u32::MAX);
                    assert_eq!(rf.flags, va::VA_PICTURE_H264_INVALID);
                }
            }
        }
        assert_eq!(
            i64::from(pp.picture_width_in_mbs_minus1),
            sps.req("pic_width_in_mbs_minus1")
        );
        assert_eq!(
            i64::from(pp.picture_height_in_mbs_minus1),
            sps.req("pic_height_in_map_units_minus1")
        );
        assert_eq!(i64::from(pp.num_ref_frames), sps.req("max_num_ref_frames"));
        // SAFETY: bitfield views of unions decoded from bytes; any bit pattern is valid.
        let (seq, pf) = unsafe { (pp.seq_fields.bits, pp.pic_fields.bits) };
        assert_eq!(
            i64::from(seq.chroma_format_idc()),
            sps.or("chroma_format_idc", 1)
        );
        assert_eq!(
            i64::from(seq.frame_mbs_only_flag()),
            sps.req("frame_mbs_only_flag")
        );
        assert_eq!(
            i64::from(seq.direct_8x8_inference_flag()),
            sps.req("direct_8x8_inference_flag")
        );
        assert_eq!(
            i64::from(seq.log2_max_frame_num_minus4()),
            sps.req("log2_max_frame_num_minus4")
        );
        assert_eq!(
            i64::from(seq.pic_order_cnt_type()),
            sps.req("pic_order_cnt_type")
        );
        assert_eq!(
            i64::from(seq.log2_max_pic_order_cnt_lsb_minus4()),
            sps.or("log2_max_pic_order_cnt_lsb_minus4", 0)
        );
        assert_eq!(
            i64::from(pf.entropy_coding_mode_flag()),
            pps.req("entropy_coding_mode_flag")
        );
        assert_eq!(
            i64::from(pf.weighted_pred_flag()),
            pps.req("weighted_pred_flag")
        );
        assert_eq!(
            i64::from(pf.weighted_bipred_idc()),
            pps.req("weighted_bipred_idc")
        );
        assert_eq!(
            i64::from(pf.transform_8x8_mode_flag()),
            pps.or("transform_8x8_mode_flag", 0)
        );
        assert_eq!(
            i64::from(pf.deblocking_filter_control_present_flag()),
            pps.req("deblocking_filter_control_present_flag")
        );
        assert_eq!(pf.reference_pic_flag(), u32::from(p.desc.is_reference));
        assert_eq!(
            i64::from(pp.pic_init_qp_minus26),
            pps.req("pic_init_qp_minus26")
        );
        assert_eq!(
            i64::from(pp.chroma_qp_index_offset),
            pps.req("chroma_qp_index_offset")
        );
        assert_eq!(u32::from(pp.frame_num), p.desc.frame_num);

        let iq: va::VAIQMatrixBufferH264 = read_struct(&bufs[1].data);
        assert!(iq.ScalingList4x4.iter().flatten().all(|&v| v == 16));
        assert!(iq.ScalingList8x8.iter().flatten().all(|&v| v == 16));

        for (k, (h, nal)) in p.slices.iter().enumerate() {
            let (spb, db) = (&bufs[2 + 2 * k], &bufs[3 + 2 * k]);
            assert_eq!(spb.kind, va::VABufferType_VASliceParameterBufferType);
            assert_eq!(db.kind, va::VABufferType_VASliceDataBufferType);
            assert_eq!(&db.data, nal);
            let sp: va::VASliceParameterBufferH264 = read_struct(&spb.data);
            assert_eq!(sp.slice_data_size as usize, nal.len());
            assert_eq!(sp.slice_data_offset, 0);
            assert_eq!(sp.slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
            let header_end = h
                .fields
                .iter()
                .rfind(|f| f.name != "cabac_alignment_one_bit")
                .map(|f| f.pos + f.bits)
                .unwrap();
            assert_eq!(u64::from(sp.slice_data_bit_offset), header_end);
            assert_eq!(i64::from(sp.first_mb_in_slice), h.req("first_mb_in_slice"));
            let st = h.req("slice_type") % 5;
            assert_eq!(i64::from(sp.slice_type), st);
            assert_eq!(
                i64::from(sp.direct_spatial_mv_pred_flag),
                h.or("direct_spatial_mv_pred_flag", 0)
            );
            let n0 = h.or(
                "num_ref_idx_l0_active_minus1",
                pps.req("num_ref_idx_l0_default_active_minus1"),
            );
            let n1 = h.or(
                "num_ref_idx_l1_active_minus1",
                pps.req("num_ref_idx_l1_default_active_minus1"),
            );
            let (e0, e1) = match st {
                0 => (n0, 0),
                1 => (n0, n1),
                _ => (0, 0),
            };
            assert_eq!(i64::from(sp.num_ref_idx_l0_active_minus1), e0);
            assert_eq!(i64::from(sp.num_ref_idx_l1_active_minus1), e1);
            assert_eq!(i64::from(sp.cabac_init_idc), h.or("cabac_init_idc", 0));
            assert_eq!(i64::from(sp.slice_qp_delta), h.req("slice_qp_delta"));
            assert_eq!(
                i64::from(sp.disable_deblocking_filter_idc),
                h.or("disable_deblocking_filter_idc", 0)
            );
            assert_eq!(
                i64::from(sp.slice_alpha_c0_offset_div2),
                h.or("slice_alpha_c0_offset_div2", 0)
            );
            assert_eq!(
                i64::from(sp.slice_beta_offset_div2),
                h.or("slice_beta_offset_div2", 0)
            );

            let [x0, x1] = expected_lists(p, h, max_frame_num);
            let got = |l: &[va::VAPictureH264; 32]| -> Vec<u32> {
                l.iter()
                    .take_while(|r| r.picture_id != u32::MAX)
                    .map(|r| r.picture_id)
                    .collect()
            };
            match st {
                0 => {
                    saw[0] = true;
                    assert_eq!(got(&sp.RefPicList0), x0, "P slice list 0");
                    assert_eq!(got(&sp.RefPicList1), Vec::<u32>::new());
                }
                1 => {
                    saw[1] = true;
                    assert_eq!(got(&sp.RefPicList0), x0, "B slice list 0");
                    assert_eq!(got(&sp.RefPicList1), x1, "B slice list 1");
                }
                _ => {
                    assert_eq!(got(&sp.RefPicList0), Vec::<u32>::new());
                }
            }

            if let Some(denom) = h.get("luma_log2_weight_denom") {
                saw[2] = true;
                assert_eq!(i64::from(sp.luma_log2_weight_denom), denom);
                let cdenom = h.or("chroma_log2_weight_denom", 0);
                assert_eq!(i64::from(sp.chroma_log2_weight_denom), cdenom);
                let n = e0 as usize + 1;
                let any = (0..n).any(|i| h.get(&format!("luma_weight_l0_flag[{i}]")) == Some(1));
                assert_eq!(sp.luma_weight_l0_flag, u8::from(any));
                for i in 0..n {
                    let (w, o) = if h.get(&format!("luma_weight_l0_flag[{i}]")) == Some(1) {
                        (
                            h.req(&format!("luma_weight_l0[{i}]")),
                            h.req(&format!("luma_offset_l0[{i}]")),
                        )
                    } else {
                        (1 << denom, 0)
                    };
                    assert_eq!(i64::from(sp.luma_weight_l0[i]), w, "luma weight {i}");
                    assert_eq!(i64::from(sp.luma_offset_l0[i]), o, "luma offset {i}");
                    if h.get(&format!("chroma_weight_l0_flag[{i}]")) != Some(1) {
                        assert_eq!(i64::from(sp.chroma_weight_l0[i][0]), 1 << cdenom);
                        assert_eq!(sp.chroma_offset_l0[i], [0, 0]);
                    }
                }
            }
        }
    }
    assert!(saw[0], "{name}: no P slice exercised");
    if name.contains("cabac") {
        assert!(saw[1], "{name}: no B slice exercised");
    }
    if name.contains("cavlc") {
        assert!(saw[2], "{name}: no weighted slice exercised");
    }
}

#[test]
fn cabac_clip_with_b_frames() {
    check_clip("h264_cabac_64x64.264");
}

#[test]
fn cavlc_clip_with_list_modifications_and_weights() {
    check_clip("h264_cavlc_64x64.264");
}

fn refused(d: &H264PictureDesc, bytes: &[u8]) -> String {
    SURFACES.refused(d, bytes)
}

#[test]
fn bad_input_is_refused() {
    let pics = pictures("h264_cavlc_64x64.264");
    let p = pics.iter().find(|p| !p.dpb.is_empty()).unwrap();
    let bytes = bitstream(p);
    // A reference handle the guest never created.
    let mut d = p.desc.clone();
    d.buffer_id[0] = 500;
    let r = refused(&d, &bytes);
    assert!(r.contains("500"), "{r}");
    // Wrong profile; num_ref_frames past 16; slice groups.
    let mut d = p.desc.clone();
    d.base.profile = VideoProfile::HevcMain as u16;
    refused(&d, &bytes);
    let mut d = p.desc.clone();
    d.num_ref_frames = 17;
    refused(&d, &bytes);
    let mut d = p.desc.clone();
    d.pps.num_slice_groups_minus1 = 1;
    refused(&d, &bytes);
    // A list modification naming a frame the DPB lacks (empty DPB).
    let with_mods = pics.iter().find(|q| {
        q.slices
            .iter()
            .any(|(h, _)| h.get("ref_pic_list_modification_flag_l0") == Some(1))
    });
    let q = with_mods.expect("the CAVLC clip modifies its lists");
    {
        let mut d = q.desc.clone();
        d.buffer_id = [0; 16];
        refused(&d, &bitstream(q));
    }
    // More slices than macroblocks (64x64: 16): the first slice repeated 17 times.
    let one: Vec<u8> = [&[0u8, 0, 1][..], &p.slices[0].1].concat();
    let many: Vec<u8> = one.iter().copied().cycle().take(one.len() * 17).collect();
    let r = refused(&p.desc, &many);
    assert!(r.contains("more than 16 slices"), "{r}");
    // No slice at all; a slice cut inside its header.
    refused(&p.desc, &[0, 0, 1, 0x67, 0x42]);
    refused(&p.desc, &bytes[..6]);
    // Every truncation translates or is refused, never panics.
    for cut in 0..bytes.len().min(300) {
        let _ = run(&p.desc, &bytes[..cut]);
    }
}

#[test]
fn mutated_input_never_panics() {
    // Bit flips and truncations of real bitstreams, random bytes in real descriptions: every
    // case must translate or be refused with a typed error, never panic or overflow.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for p in pictures("h264_cavlc_64x64.264")
        .into_iter()
        .chain(pictures("h264_cabac_64x64.264"))
    {
        let (desc, bytes) = (p.desc.clone(), bitstream(&p));
        SURFACES.run_mutated(&mut rng, &desc, &bytes, 400);
    }
}
