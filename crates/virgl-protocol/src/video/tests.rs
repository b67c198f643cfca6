use super::*;

#[test]
fn member_sizes_match_x86_64() {
    assert_eq!(BasePictureDesc::SIZE, 264);
    assert_eq!(H264PictureDesc::SIZE, 2624);
    assert_eq!(H265PictureDesc::SIZE, 1648);
    assert_eq!(Mpeg4PictureDesc::SIZE, 432);
    assert_eq!(Mpeg12PictureDesc::SIZE, 464);
    assert_eq!(MjpegPictureDesc::SIZE, 2016);
    assert_eq!(Vc1PictureDesc::SIZE, 304);
    assert_eq!(Vp9PictureDesc::SIZE, 528);
    assert_eq!(Av1PictureDesc::SIZE, 5132);
    assert_eq!(H264EncPictureDesc::SIZE, 2556);
    assert_eq!(H265EncPictureDesc::SIZE, 2204);
    assert_eq!(EncodeFeedback::SIZE, 8);
    let largest = [
        H264PictureDesc::SIZE,
        H265PictureDesc::SIZE,
        Mpeg4PictureDesc::SIZE,
        Mpeg12PictureDesc::SIZE,
        MjpegPictureDesc::SIZE,
        Vc1PictureDesc::SIZE,
        Vp9PictureDesc::SIZE,
        Av1PictureDesc::SIZE,
        H264EncPictureDesc::SIZE,
        H265EncPictureDesc::SIZE,
    ]
    .into_iter()
    .max();
    assert_eq!(largest, Some(PICTURE_DESC_UNION_SIZE));
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

#[test]
fn base_layout() {
    let base = BasePictureDesc {
        profile: VideoProfile::H264High as u16,
        entry_point: 1,
        protected_playback: 0,
        decrypt_key: [0; 256],
        key_size: 0xabcd,
    };
    let b = base.to_bytes();
    assert_eq!(&b[..4], &[13, 0, 1, 0]);
    assert_eq!(u32_at(&b, 260), 0xabcd);
}

#[test]
fn mpeg12_offsets_and_roundtrip() {
    let mut d = Mpeg12PictureDesc::default();
    d.base.profile = VideoProfile::Mpeg2Main as u16;
    d.picture_coding_type = 1;
    d.f_code = [[1, 2], [3, 4]];
    d.num_slices = 9;
    d.intra_matrix[0] = 8;
    d.non_intra_matrix[63] = 16;
    d.r#ref = [0x11, 0x22];
    let b = d.to_bytes();
    assert_eq!(u32_at(&b, 264), 1);
    assert_eq!(u32_at(&b, 264 + 8 * 4), 1, "f_code[0][0]");
    assert_eq!(u32_at(&b, 264 + 11 * 4), 4, "f_code[1][1]");
    assert_eq!(u32_at(&b, 264 + 15 * 4), 9, "num_slices");
    assert_eq!(b[328], 8, "intra_matrix");
    assert_eq!(b[328 + 127], 16, "non_intra_matrix[63]");
    assert_eq!(u32_at(&b, 456), 0x11);
    assert_eq!(u32_at(&b, 460), 0x22);
    let back = PictureDesc::decode(VideoCodec::Mpeg12, VideoEntrypoint::Bitstream, &b).unwrap();
    assert_eq!(back, PictureDesc::Mpeg12(Box::new(d)));
}

#[test]
fn vp9_bitfields_and_offsets() {
    let mut d = Vp9PictureDesc::default();
    d.r#ref[15] = 0x77;
    let pp = &mut d.picture_parameter;
    pp.frame_width = 1920;
    pp.frame_height = 1080;
    pp.pic_fields.set_subsampling_x(1);
    pp.pic_fields.set_mcomp_filter_type(5);
    pp.pic_fields.set_frame_context_idx(3);
    pp.pic_fields.set_alt_ref_frame(6);
    pp.pic_fields.set_lossless_flag(1);
    pp.first_partition_size = 0x1234;
    pp.mode_ref_delta_update = true;
    pp.mode_deltas = [1, 2];
    d.slice_parameter.slice_data_size = 4096;
    d.slice_parameter.seg_param[7]
        .segment_flags
        .set_segment_reference(2);
    d.slice_parameter.seg_param[7].chroma_dc_quant_scale = -3;
    let b = d.to_bytes();
    assert_eq!(u32_at(&b, 264 + 60), 0x77, "ref[15]");
    assert_eq!(u32_at(&b, 328), (1080 << 16) | 1920);
    let fields = u32_at(&b, 332);
    assert_eq!(fields, 1 | (5 << 7) | (3 << 14) | (6 << 27) | (1 << 31));
    assert_eq!(
        &b[342..344],
        &0x1234u16.to_le_bytes(),
        "first_partition_size after pad"
    );
    assert_eq!(u32_at(&b, 372), 4096, "slice_parameter at 372");
    // seg_param is 18 bytes (u16-aligned), the array starts at 384.
    assert_eq!(Vp9SegmentParameter::SIZE, 18);
    assert_eq!(&b[384 + 7 * 18..384 + 7 * 18 + 2], &[2 << 1, 0]);
    assert_eq!(&b[384 + 7 * 18 + 16..384 + 8 * 18], &(-3i16).to_le_bytes());
    let back = Vp9PictureDesc::from_bytes(&b).unwrap();
    assert_eq!(back.picture_parameter.pic_fields.mcomp_filter_type(), 5);
    assert_eq!(back.picture_parameter.pic_fields.frame_context_idx(), 3);
    assert_eq!(back.picture_parameter.pic_fields.intra_only(), 0);
    assert_eq!(back, d);
}

#[test]
fn mjpeg_and_vc1_layout() {
    let mut m = MjpegPictureDesc::default();
    m.picture_parameter.picture_width = 640;
    m.picture_parameter.components[254].quantiser_table_selector = 3;
    m.picture_parameter.num_components = 3;
    m.huffman_table.table[1].pad = [0xaa, 0xbb];
    m.slice_parameter.restart_interval = 0x0102;
    m.slice_parameter.num_mcus = 0xdead;
    let b = m.to_bytes();
    assert_eq!(&b[264..266], &640u16.to_le_bytes());
    assert_eq!(b[268 + 254 * 4 + 3], 3);
    assert_eq!(b[268 + 1020 + 8], 3, "num_components after the crop rect");
    assert_eq!(u32_at(&b, 2012), 0xdead, "num_mcus is last");
    assert_eq!(MjpegPictureDesc::from_bytes(&b), Ok(m));

    let mut v = Vc1PictureDesc {
        slice_count: 2,
        pquant: 9,
        ..Default::default()
    };
    v.r#ref = [5, 6];
    let b = v.to_bytes();
    assert_eq!(u32_at(&b, 264), 2);
    assert_eq!(b[268 + 27], 9, "pquant is the 28th u8");
    assert_eq!(u32_at(&b, 296), 5);
    assert_eq!(Vc1PictureDesc::from_bytes(&b), Ok(v));
}

#[test]
fn h264_h265_roundtrip_through_union() {
    let mut h = H264PictureDesc::default();
    h.pps.sps.level_idc = 51;
    h.pps.sps.offset_for_ref_frame[255] = -7;
    h.pps.second_chroma_qp_index_offset = -2;
    h.slice_count = 4;
    h.buffer_id[15] = 99;
    h.num_ref_frames = 3;
    let u = PictureDesc::H264(Box::new(h.clone())).to_union_bytes();
    assert_eq!(u.len(), PICTURE_DESC_UNION_SIZE);
    assert_eq!(
        PictureDesc::decode(VideoCodec::H264, VideoEntrypoint::Bitstream, &u),
        Ok(PictureDesc::H264(Box::new(h)))
    );

    let mut h5 = H265PictureDesc::default();
    h5.pps.sps.pic_width_in_luma_samples = 3840;
    h5.pps.column_width_minus1[19] = 0x55;
    h5.curr_pic_order_cnt_val = -1;
    h5.ref_pic_list[1][14] = 7;
    let d = PictureDesc::H265(Box::new(h5));
    let u = d.to_union_bytes();
    assert_eq!(
        PictureDesc::decode(VideoCodec::Hevc, VideoEntrypoint::Bitstream, &u),
        Ok(d)
    );
}

#[test]
fn encode_members() {
    let mut e = H264EncPictureDesc::default();
    e.seq.vui_flags.set_timing_info_present_flag(1);
    e.slices_descriptors[127].slice_type = 2;
    e.ltr_index = 0x42;
    let b = e.to_bytes();
    assert_eq!(u32_at(&b, 2552), 0x42, "ltr_index is last");
    let d = PictureDesc::decode(VideoCodec::H264, VideoEntrypoint::Encode, &b).unwrap();
    let PictureDesc::H264Enc(back) = &d else {
        panic!("wrong member")
    };
    assert_eq!(back.seq.vui_flags.timing_info_present_flag(), 1);
    assert_eq!(back.base, e.base);
    assert_eq!(d.base(), &e.base);

    let h = H265EncPictureDesc {
        picture_type: 1,
        ..Default::default()
    };
    let b = h.to_bytes();
    assert_eq!(b[2200], 1);
    assert!(PictureDesc::decode(VideoCodec::Vp9, VideoEntrypoint::Encode, &b).is_err());

    let f = EncodeFeedback::new(EncodeStat::Success, 1234);
    assert_eq!(f.to_bytes(), [2, 0, 0, 0, 0xd2, 0x04, 0, 0]);
}

#[test]
fn av1_layout() {
    let mut a = Av1PictureDesc {
        film_grain_target: 1,
        ..Default::default()
    };
    a.picture_parameter
        .seq_info_fields
        .set_film_grain_params_present(1);
    a.picture_parameter.pic_info_fields.set_frame_type(3);
    a.picture_parameter.qmatrix_fields.set_qm_v(0xf);
    a.picture_parameter.wm[6].wmmat[7] = -1;
    a.picture_parameter.matrix_coefficients = 9;
    a.slice_parameter.slice_count = 0x0203;
    let b = a.to_bytes();
    assert_eq!(b.len(), 5132);
    assert_eq!(
        &b[5128..5130],
        &[3, 2],
        "slice_count at the end, before tail padding"
    );
    assert_eq!(Av1PictureDesc::from_bytes(&b), Ok(a));
}

#[test]
fn profiles() {
    assert_eq!(VideoProfile::from_raw(18), Ok(VideoProfile::HevcMain10));
    assert_eq!(VideoProfile::HevcMain10.codec(), Some(VideoCodec::Hevc));
    assert_eq!(VideoProfile::JpegBaseline.codec(), Some(VideoCodec::Jpeg));
    assert_eq!(VideoProfile::Av1Main.codec(), Some(VideoCodec::Av1));
    assert_eq!(VideoProfile::Unknown.codec(), None);
    assert!(VideoProfile::from_raw(26).is_err());
    for v in 0..26 {
        assert_eq!(VideoProfile::from_raw(v).unwrap() as u32, v);
    }
    assert_eq!(VideoEntrypoint::from_raw(4), Ok(VideoEntrypoint::Encode));
    assert!(VideoEntrypoint::from_raw(5).is_err());
}

#[test]
fn truncated_desc_is_an_error() {
    let b = vec![0u8; Vp9PictureDesc::SIZE - 1];
    assert!(matches!(
        PictureDesc::decode(VideoCodec::Vp9, VideoEntrypoint::Bitstream, &b),
        Err(ProtocolError::Truncated { .. })
    ));
    assert!(PictureDesc::decode(VideoCodec::Av1, VideoEntrypoint::Bitstream, &[]).is_err());
}
