//! VC-1 translation against hand-built bitstreams (Debian has no VC-1 encoder).
//!
//! Simple/main profile: the test writes a sequence header (`STRUCT_C`, SMPTE 421M Annex J) and
//! a progressive picture header (SMPTE 421M 7.1.1) bit by bit, followed by stand-in macroblock
//! bytes; it reads the sequence header back with its own small parser to build the
//! `virgl_vc1_picture_desc` Mesa's VA frontend and virgl driver would send, translates, and
//! checks every VA field, in particular that `macroblock_offset` is exactly the header length
//! it wrote. Advanced profile: frames, fields and slices behind start codes, checked for the
//! slice split, offsets, sizes, vertical positions and the header-less slices' macroblock
//! offset. Bad descriptions and bitstreams are refused.

mod common;

use common::{read_struct, Surfaces};
use libva_sys::va_display_drm as va;
use virgl_protocol::video::{PictureDesc, Vc1PictureDesc, VideoProfile};
use virgl_video::translate::{translate, VaBuffer};
use virgl_video::VideoError;

const PIC: u32 = va::VABufferType_VAPictureParameterBufferType;
const SLICE: u32 = va::VABufferType_VASliceParameterBufferType;
const DATA: u32 = va::VABufferType_VASliceDataBufferType;

/// MSB-first bit writer.
#[derive(Default)]
struct Writer {
    bytes: Vec<u8>,
    bits: usize,
}

impl Writer {
    fn put(&mut self, value: u32, n: u32) {
        for i in (0..n).rev() {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            *self.bytes.last_mut().unwrap() |= bit << (7 - self.bits % 8);
            self.bits += 1;
        }
    }
}

/// Sequence-header fields of the simple/main profiles (`STRUCT_C`).
#[derive(Clone, Copy, Debug, Default)]
struct Seq {
    profile: u32, // 0 simple, 1 main
    loopfilter: u32,
    multires: u32,
    fastuvmc: u32,
    extended_mv: u32,
    dquant: u32,
    vstransform: u32,
    overlap: u32,
    syncmarker: u32,
    rangered: u32,
    maxbframes: u32,
    quantizer: u32,
    finterpflag: u32,
}

/// Writes `STRUCT_C` (32 bits, Annex J).
fn write_struct_c(s: &Seq) -> Vec<u8> {
    let mut w = Writer::default();
    w.put(s.profile, 2);
    w.put(0, 1); // RES_Y411
    w.put(0, 1); // RES_SPRITE
    w.put(7, 3); // FRMRTQ_POSTPROC
    w.put(31, 5); // BITRTQ_POSTPROC
    w.put(s.loopfilter, 1);
    w.put(0, 1); // RES_X8
    w.put(s.multires, 1);
    w.put(1, 1); // RES_FASTTX
    w.put(s.fastuvmc, 1);
    w.put(s.extended_mv, 1);
    w.put(s.dquant, 2);
    w.put(s.vstransform, 1);
    w.put(0, 1); // RES_TRANSTAB
    w.put(s.overlap, 1);
    w.put(s.syncmarker, 1);
    w.put(s.rangered, 1);
    w.put(s.maxbframes, 3);
    w.put(s.quantizer, 2);
    w.put(s.finterpflag, 1);
    w.put(1, 1); // RES_RTM_FLAG
    assert_eq!(w.bits, 32);
    w.bytes
}

/// Reads `STRUCT_C` back (the test's own parser: the description is built from what it
/// reads, not from the values the writer was given).
fn parse_struct_c(b: &[u8]) -> Seq {
    let v = u32::from_be_bytes(b[..4].try_into().unwrap());
    let f = |shift: u32, width: u32| (v >> (32 - shift - width)) & ((1 << width) - 1);
    Seq {
        profile: f(0, 2),
        loopfilter: f(12, 1),
        multires: f(14, 1),
        fastuvmc: f(16, 1),
        extended_mv: f(17, 1),
        dquant: f(18, 2),
        vstransform: f(20, 1),
        overlap: f(22, 1),
        syncmarker: f(23, 1),
        rangered: f(24, 1),
        maxbframes: f(25, 3),
        quantizer: f(28, 2),
        finterpflag: f(30, 1),
    }
}

/// Picture-header choices of a test picture.
#[derive(Clone, Copy, Debug, Default)]
struct Pic {
    /// VA picture type: 0 I, 1 P, 3 BI.
    ptype: u8,
    rangeredfrm: u32,
    pqindex: u32,
    halfqp: u32,
    pquantizer: u32,
    mvrange: u32,
    respic: u32,
    transacfrm: u32,
    transacfrm2: u32,
    transdctab: u32,
}

/// Writes a simple/main progressive picture header; returns the bytes (header + 6 stand-in
/// macroblock bytes) and the header length in bits. P pictures stop after PTYPE.
fn write_picture(s: &Seq, p: &Pic) -> (Vec<u8>, usize) {
    let mut w = Writer::default();
    if s.finterpflag == 1 {
        w.put(0, 1); // INTERPFRM
    }
    w.put(2, 2); // FRMCNT
    if s.rangered == 1 {
        w.put(p.rangeredfrm, 1);
    }
    match (p.ptype, s.maxbframes > 0) {
        (1, _) => w.put(1, 1),
        (0, false) => w.put(0, 1),
        (0, true) => w.put(0b01, 2),
        (3, true) => {
            w.put(0b00, 2);
            w.put(0b111_1111, 7); // BFRACTION: BI
        }
        other => panic!("unsupported test picture {other:?}"),
    }
    if p.ptype != 1 {
        w.put(0x40, 7); // BF
        w.put(p.pqindex, 5);
        if p.pqindex <= 8 {
            w.put(p.halfqp, 1);
        }
        if s.quantizer == 1 {
            w.put(p.pquantizer, 1);
        }
        if s.extended_mv == 1 {
            // MVRANGE: 0, 10, 110, 111.
            let (code, n) = [(0, 1), (0b10, 2), (0b110, 3), (0b111, 3)][p.mvrange as usize];
            w.put(code, n);
        }
        if s.multires == 1 {
            w.put(p.respic, 2);
        }
        for v in [p.transacfrm, p.transacfrm2] {
            match v {
                0 => w.put(0, 1),
                1 => w.put(0b10, 2),
                _ => w.put(0b11, 2),
            }
        }
        w.put(p.transdctab, 1);
    }
    let header_bits = w.bits;
    for b in [0xa5, 0x5a, 0xc3, 0x3c, 0x96, 0x69] {
        w.put(b, 8);
    }
    (w.bytes, header_bits)
}

/// The guest description from a parsed sequence header and the picture's known fields.
fn desc(profile: VideoProfile, s: &Seq, ptype: u8, pquant: u8) -> Vc1PictureDesc {
    let mut d = Vc1PictureDesc::default();
    d.base.profile = profile as u16;
    d.base.entry_point = 1;
    d.slice_count = 1;
    d.picture_type = ptype;
    d.loopfilter = s.loopfilter as u8;
    d.multires = s.multires as u8;
    d.fastuvmc = s.fastuvmc as u8;
    d.extended_mv = s.extended_mv as u8;
    d.dquant = s.dquant as u8;
    d.vstransform = s.vstransform as u8;
    d.overlap = s.overlap as u8;
    d.syncmarker = s.syncmarker as u8;
    d.rangered = s.rangered as u8;
    d.maxbframes = s.maxbframes as u8;
    d.quantizer = s.quantizer as u8;
    d.finterpflag = s.finterpflag as u8;
    d.pquant = pquant;
    d.r#ref = [3, 4];
    d
}

/// The surfaces the guest's descriptions here refer to.
const SURFACES: Surfaces = Surfaces {
    target: 1,
    size: (16, 16),
};

fn run(d: &Vc1PictureDesc, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
    SURFACES.run(d, bytes)
}

fn refused(d: &Vc1PictureDesc, bytes: &[u8]) -> String {
    SURFACES.refused(d, bytes)
}

fn slices(bufs: &[VaBuffer]) -> Vec<va::VASliceParameterBufferVC1> {
    assert_eq!(
        bufs.iter().map(|b| b.kind).collect::<Vec<_>>(),
        [PIC, SLICE, DATA]
    );
    bufs[1]
        .data
        .chunks(bufs[1].element_size)
        .map(read_struct)
        .collect()
}

/// Builds, translates and checks one simple/main picture.
fn check_simple_main(profile: VideoProfile, seq: Seq, pic: Pic) {
    let header = write_struct_c(&seq);
    let s = parse_struct_c(&header);
    let (bytes, header_bits) = write_picture(&s, &pic);
    let d = desc(profile, &s, pic.ptype, pic.pqindex as u8);
    let bufs = run(&d, &bytes).unwrap();
    let p: va::VAPictureParameterBufferVC1 = read_struct(&bufs[0].data);
    assert_eq!(p.forward_reference_picture, 1003);
    assert_eq!(p.backward_reference_picture, 1004);
    assert_eq!(p.inloop_decoded_picture, 0xffff_ffff);
    assert_eq!((p.coded_width, p.coded_height), (16, 16));
    // SAFETY: reading bitfield views of unions of one integer the translator filled.
    let (seqf, ep, pf, mv, q, tf) = unsafe {
        (
            p.sequence_fields.bits,
            p.entrypoint_fields.bits,
            p.picture_fields.bits,
            p.mv_fields.bits,
            p.pic_quantizer_fields.bits,
            p.transform_fields.bits,
        )
    };
    assert_eq!(seqf.profile(), seq.profile);
    assert_eq!(seqf.multires(), seq.multires);
    assert_eq!(seqf.overlap(), seq.overlap);
    assert_eq!(seqf.syncmarker(), seq.syncmarker);
    assert_eq!(seqf.rangered(), seq.rangered);
    assert_eq!(seqf.max_b_frames(), seq.maxbframes);
    assert_eq!(seqf.finterpflag(), seq.finterpflag);
    assert_eq!(seqf.interlace(), 0);
    assert_eq!(ep.loopfilter(), seq.loopfilter);
    assert_eq!(p.fast_uvmc_flag as u32, seq.fastuvmc);
    assert_eq!(pf.picture_type(), u32::from(pic.ptype));
    assert_eq!(pf.frame_coding_mode(), 0);
    assert_eq!(pf.is_first_field(), 1);
    assert_eq!(pf.top_field_first(), 1);
    assert_eq!(mv.extended_mv_flag(), seq.extended_mv);
    assert_eq!(q.dquant(), seq.dquant);
    assert_eq!(q.quantizer(), seq.quantizer);
    assert_eq!(q.pic_quantizer_scale(), pic.pqindex);
    assert_eq!(tf.variable_sized_transform_flag(), seq.vstransform);

    let sl = slices(&bufs);
    assert_eq!(sl.len(), 1);
    assert_eq!(sl[0].slice_data_offset, 0);
    assert_eq!(sl[0].slice_data_size as usize, bytes.len());
    assert_eq!(sl[0].slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
    assert_eq!(sl[0].slice_vertical_position, 0);
    assert_eq!(bufs[2].data, bytes);
    if pic.ptype == 1 {
        // P headers hold bitplanes: not walked (documented gap).
        assert_eq!(sl[0].macroblock_offset, 0);
        return;
    }
    assert_eq!(
        sl[0].macroblock_offset as usize, header_bits,
        "{seq:?} {pic:?}"
    );
    assert_eq!(p.range_reduction_frame as u32, pic.rangeredfrm);
    assert_eq!(p.picture_resolution_index as u32, pic.respic);
    assert_eq!(q.half_qp(), if pic.pqindex <= 8 { pic.halfqp } else { 0 });
    let uniform = match seq.quantizer {
        0 => u32::from(pic.pqindex <= 8),
        1 => pic.pquantizer,
        2 => 0,
        _ => 1,
    };
    assert_eq!(q.pic_quantizer_type(), uniform);
    assert_eq!(mv.extended_mv_range(), pic.mvrange);
    assert_eq!(tf.transform_ac_codingset_idx1(), pic.transacfrm);
    assert_eq!(tf.transform_ac_codingset_idx2(), pic.transacfrm2);
    assert_eq!(tf.intra_transform_dc_table(), pic.transdctab);
}

#[test]
fn simple_profile_i_picture() {
    let seq = Seq {
        profile: 0,
        fastuvmc: 1,
        vstransform: 1,
        quantizer: 0,
        ..Seq::default()
    };
    let pic = Pic {
        ptype: 0,
        pqindex: 5,
        halfqp: 1,
        transacfrm: 1,
        transacfrm2: 2,
        transdctab: 1,
        ..Pic::default()
    };
    check_simple_main(VideoProfile::Vc1Simple, seq, pic);
}

#[test]
fn main_profile_i_picture_with_every_optional_field() {
    let seq = Seq {
        profile: 1,
        loopfilter: 1,
        multires: 1,
        extended_mv: 1,
        dquant: 1,
        overlap: 1,
        syncmarker: 1,
        rangered: 1,
        maxbframes: 2,
        quantizer: 1,
        finterpflag: 1,
        ..Seq::default()
    };
    for (mvrange, pqindex) in [(0, 3), (1, 9), (2, 8), (3, 31)] {
        let pic = Pic {
            ptype: 0,
            rangeredfrm: 1,
            pqindex,
            halfqp: 1,
            pquantizer: u32::from(pqindex % 2 == 1),
            mvrange,
            respic: 2,
            transacfrm: 2,
            transacfrm2: 0,
            transdctab: 0,
        };
        check_simple_main(VideoProfile::Vc1Main, seq, pic);
    }
}

#[test]
fn main_profile_bi_and_p_pictures() {
    let seq = Seq {
        profile: 1,
        maxbframes: 1,
        quantizer: 3,
        ..Seq::default()
    };
    let bi = Pic {
        ptype: 3,
        pqindex: 12,
        transacfrm: 1,
        transacfrm2: 1,
        ..Pic::default()
    };
    check_simple_main(VideoProfile::Vc1Main, seq, bi);
    let p = Pic {
        ptype: 1,
        pqindex: 12,
        ..Pic::default()
    };
    check_simple_main(VideoProfile::Vc1Main, seq, p);
}

/// Advanced-profile data: an entry-point header, a frame, and two slices.
fn advanced_stream() -> (Vec<u8>, [(usize, usize); 3]) {
    let mut b = vec![0, 0, 1, 0x0e, 0x12, 0x34, 0x56]; // entry point (skipped)
    let frame_at = b.len() + 4;
    b.extend_from_slice(&[0, 0, 1, 0x0d, 0x2c, 0x81, 0x47, 0xaa]);
    // Slice at macroblock row 2, no repeated picture header: SLICE_ADDR=2 (9 bits), flag 0.
    let s1 = b.len() + 4;
    b.extend_from_slice(&[0, 0, 1, 0x0b, 0x01, 0x00, 0xff, 0xee]);
    // Slice at row 3.
    let s2 = b.len() + 4;
    b.extend_from_slice(&[0, 0, 1, 0x0b, 0x01, 0x80, 0x77]);
    let end = b.len();
    (b, [(frame_at, s1 - 4), (s1, s2 - 4), (s2, end)])
}

fn advanced_desc() -> Vc1PictureDesc {
    let mut d = Vc1PictureDesc::default();
    d.base.profile = VideoProfile::Vc1Advanced as u16;
    d.base.entry_point = 1;
    d.slice_count = 3;
    d.picture_type = 0;
    d.range_mapy_flag = 1;
    d.range_mapy = 5;
    d.range_mapuv_flag = 1;
    d.range_mapuv = 6;
    d.panscan_flag = 1;
    d.refdist_flag = 1;
    d.extended_dmv = 1;
    d.deblock_enable = 1;
    d.pquant = 7;
    d
}

#[test]
fn advanced_profile_splits_frame_and_slices() {
    let (bytes, units) = advanced_stream();
    let d = advanced_desc();
    let bufs = run(&d, &bytes).unwrap();
    let sl = slices(&bufs);
    assert_eq!(sl.len(), 3);
    for (s, (start, end)) in sl.iter().zip(units) {
        assert_eq!(s.slice_data_offset as usize, start);
        assert_eq!(s.slice_data_size as usize, end - start);
        assert_eq!(s.slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
    }
    assert_eq!(
        sl.iter()
            .map(|s| s.slice_vertical_position)
            .collect::<Vec<_>>(),
        [0, 2, 3]
    );
    // Frame header: not walked (documented gap); header-less slices: SLICE_ADDR + flag.
    assert_eq!(
        sl.iter().map(|s| s.macroblock_offset).collect::<Vec<_>>(),
        [0, 10, 10]
    );
    assert_eq!(bufs[2].data, bytes);

    let p: va::VAPictureParameterBufferVC1 = read_struct(&bufs[0].data);
    // SAFETY: reading bitfield views of unions of one integer the translator filled.
    let (seqf, ep, rm, rf, mv, pf) = unsafe {
        (
            p.sequence_fields.bits,
            p.entrypoint_fields.bits,
            p.range_mapping_fields.bits,
            p.reference_fields.bits,
            p.mv_fields.bits,
            p.picture_fields.bits,
        )
    };
    assert_eq!(seqf.profile(), 3);
    assert_eq!(ep.panscan_flag(), 1);
    assert_eq!(
        (rm.luma_flag(), rm.luma(), rm.chroma_flag(), rm.chroma()),
        (1, 5, 1, 6)
    );
    assert_eq!(rf.reference_distance_flag(), 1);
    assert_eq!(mv.extended_dmv_flag(), 1);
    assert_eq!(p.post_processing, 1);
    assert_eq!(pf.frame_coding_mode(), 0);
    assert_eq!(
        p.forward_reference_picture, 0xffff_ffff,
        "handle 0: no reference"
    );
}

#[test]
fn advanced_interlaced_headers_give_fcm_and_tff() {
    let mut d = advanced_desc();
    d.interlace = 1;
    d.pulldown = 1;
    d.tfcntrflag = 1;
    // Frame interlace (FCM 10), I (PTYPE 110), TFCNTR 8 bits, TFF 0, RFF 1.
    let mut w = Writer::default();
    w.put(0b10, 2);
    w.put(0b110, 3);
    w.put(0x5a, 8);
    w.put(0, 1);
    w.put(1, 1);
    w.put(0xffff, 16);
    let mut bytes = vec![0, 0, 1, 0x0d];
    bytes.extend_from_slice(&w.bytes);
    let bufs = run(&d, &bytes).unwrap();
    let p: va::VAPictureParameterBufferVC1 = read_struct(&bufs[0].data);
    // SAFETY: as above.
    let pf = unsafe { p.picture_fields.bits };
    assert_eq!(
        (
            pf.frame_coding_mode(),
            pf.top_field_first(),
            pf.is_first_field()
        ),
        (2, 0, 1)
    );

    // Field interlace (FCM 11), FPTYPE, TFCNTR, TFF 1.
    let mut w = Writer::default();
    w.put(0b11, 2);
    w.put(0b000, 3);
    w.put(0x5a, 8);
    w.put(1, 1);
    w.put(0, 17);
    let mut bytes = vec![0, 0, 1, 0x0d];
    bytes.extend_from_slice(&w.bytes);
    let p: va::VAPictureParameterBufferVC1 = read_struct(&run(&d, &bytes).unwrap()[0].data);
    // SAFETY: as above.
    let pf = unsafe { p.picture_fields.bits };
    assert_eq!(
        (
            pf.frame_coding_mode(),
            pf.top_field_first(),
            pf.is_first_field()
        ),
        (3, 1, 1)
    );

    // A second field alone.
    let bytes = [0, 0, 1, 0x0c, 0x12, 0x34, 0x56];
    let p: va::VAPictureParameterBufferVC1 = read_struct(&run(&d, &bytes).unwrap()[0].data);
    // SAFETY: as above.
    let pf = unsafe { p.picture_fields.bits };
    assert_eq!((pf.frame_coding_mode(), pf.is_first_field()), (3, 0));
}

#[test]
fn advanced_data_without_start_code_is_one_frame() {
    let bytes = [0x2c, 0x81, 0x47, 0xaa];
    let sl = slices(&run(&advanced_desc(), &bytes).unwrap());
    assert_eq!(sl.len(), 1);
    assert_eq!((sl[0].slice_data_offset, sl[0].slice_data_size), (0, 4));
}

#[test]
fn bad_input_is_refused() {
    let seq = Seq {
        profile: 0,
        ..Seq::default()
    };
    let s = parse_struct_c(&write_struct_c(&seq));
    let pic = Pic {
        ptype: 0,
        pqindex: 4,
        ..Pic::default()
    };
    let (bytes, _) = write_picture(&s, &pic);
    let good = desc(VideoProfile::Vc1Simple, &s, 0, 4);
    assert!(run(&good, &bytes).is_ok());
    let bad = |f: &dyn Fn(&mut Vc1PictureDesc), data: &[u8], want: &str| {
        let mut d = good.clone();
        f(&mut d);
        let reason = refused(&d, data);
        assert!(reason.contains(want), "{reason:?} lacks {want:?}");
    };
    bad(&|d| d.r#ref[1] = 200, &bytes, "200");
    bad(
        &|d| d.base.profile = VideoProfile::H264Main as u16,
        &bytes,
        "not a VC-1 profile",
    );
    bad(&|d| d.base.profile = 1234, &bytes, "unknown profile");
    bad(&|d| d.picture_type = 9, &bytes, "picture type");
    bad(&|d| d.picture_type = 1, &bytes, "in the bitstream");
    bad(&|d| d.quantizer = 4, &bytes, "quantizer");
    bad(&|d| d.interlace = 1, &bytes, "advanced-profile tools");
    bad(&|_| {}, &[], "no bitstream");

    // Without the codec's coded size there is no coded_width/height to give.
    /// A map that knows surfaces but not the codec size.
    struct NoSize;
    impl virgl_video::translate::SurfaceMap for NoSize {
        fn surface(&self, h: u32) -> Option<u32> {
            Some(h + 1000)
        }
    }
    let r = translate(
        &PictureDesc::Vc1(Box::new(good.clone())),
        &[&bytes],
        &NoSize,
    );
    assert!(matches!(r, Err(VideoError::InvalidPicture { .. })), "{r:?}");

    let adv = advanced_desc();
    let mut d = adv.clone();
    d.r#ref[0] = 999;
    assert!(refused(&d, &advanced_stream().0).contains("999"));
    // Two start codes back to back: an empty frame.
    assert!(refused(&adv, &[0, 0, 1, 0x0d, 0, 0, 1, 0x0b, 1, 0]).contains("empty"));
    // A slice header cut short.
    assert!(refused(&adv, &[0, 0, 1, 0x0d, 0x11, 0, 0, 1, 0x0b, 0x01]).contains("cut short"));
    // Only sequence-level units.
    assert!(refused(&adv, &[0, 0, 1, 0x0f, 0x11, 0x22]).contains("no frame"));
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Random descriptions (profile forced to a VC-1 one so the bitstream is looked at)
        /// over random data sprinkled with start codes: translation refuses or succeeds, never
        /// panics, and every slice it hands on lies inside the data.
        #[test]
        fn random_input_never_escapes_the_data(
            raw in proptest::collection::vec(any::<u8>(), Vc1PictureDesc::SIZE),
            profile in 6u16..=8,
            mut data in proptest::collection::vec(any::<u8>(), 0..64),
            codes in proptest::collection::vec((0usize..64, 0x0au8..=0x0f), 0..6),
        ) {
            let mut d = Vc1PictureDesc::from_bytes(&raw).unwrap();
            d.base.profile = profile;
            d.r#ref = [0, 5];
            for (at, kind) in codes {
                if at + 4 <= data.len() {
                    data[at..at + 4].copy_from_slice(&[0, 0, 1, kind]);
                }
            }
            match run(&d, &data) {
                Ok(bufs) => {
                    for s in slices(&bufs) {
                        let end = s.slice_data_offset as usize + s.slice_data_size as usize;
                        prop_assert!(end <= data.len());
                        prop_assert!(s.slice_data_size > 0);
                    }
                }
                Err(VideoError::InvalidPicture { .. }) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
