//! MPEG-2 translation against a real clip (`data/mpeg2_64x64.m2v`, I P B in decode order) and
//! ffmpeg's trace of it: picture parameters, quantiser matrices and every slice parameter are
//! checked field by field; bad descriptions are refused.

mod common;

use common::trace::{clip, Section};
use common::{read_struct, Rng, Surfaces};
use libva_sys::va_display_drm as va;
use virgl_protocol::video::{Mpeg12PictureDesc, VideoProfile};
use virgl_video::translate::VaBuffer;
use virgl_video::VideoError;

const PIC: u32 = va::VABufferType_VAPictureParameterBufferType;
const IQ: u32 = va::VABufferType_VAIQMatrixBufferType;
const SLICE: u32 = va::VABufferType_VASliceParameterBufferType;
const DATA: u32 = va::VABufferType_VASliceDataBufferType;

/// One picture of the clip: its trace sections and the slice bytes a VA client would hand over
/// (every slice from its start code, contiguous).
struct Picture {
    header: Section,
    coding_ext: Section,
    slices: Vec<Section>,
    bytes: Vec<u8>,
}

fn pictures() -> Vec<Picture> {
    let (data, sections) = clip("mpeg2_64x64.m2v");
    // Start codes of the elementary stream, in order.
    let mut codes = Vec::new();
    for i in 0..data.len().saturating_sub(3) {
        if data[i..i + 3] == [0, 0, 1] {
            codes.push((i, data[i + 3]));
        }
    }
    let mut pics: Vec<Picture> = Vec::new();
    let mut it = sections.into_iter().peekable();
    while let Some(s) = it.next() {
        if s.name == "Picture Header" {
            let mut coding_ext = None;
            let mut slices = Vec::new();
            while let Some(n) = it.peek() {
                match n.name.as_str() {
                    "Picture Coding Extension" => coding_ext = it.next(),
                    "Slice Header" => slices.push(it.next().unwrap()),
                    "Extension Data" => {
                        it.next();
                    }
                    _ => break,
                }
            }
            pics.push(Picture {
                header: s,
                coding_ext: coding_ext.expect("picture coding extension"),
                slices,
                bytes: Vec::new(),
            });
        }
    }
    // Slice bytes: the k-th picture start code's following slices, up to the next non-slice.
    let pic_codes: Vec<usize> = codes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.1 == 0)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(pic_codes.len(), pics.len());
    for (p, &k) in pics.iter_mut().zip(&pic_codes) {
        let first = (k + 1..codes.len())
            .find(|&j| (1..=0xaf).contains(&codes[j].1))
            .unwrap();
        let end = (first..codes.len())
            .find(|&j| !(1..=0xaf).contains(&codes[j].1))
            .map_or(data.len(), |j| codes[j].0);
        p.bytes = data[codes[first].0..end].to_vec();
    }
    pics
}

/// The description Mesa's VA frontend + virgl driver build for this picture (gallium keeps
/// f_code minus one; references are guest handles).
fn desc_for(p: &Picture, refs: [u32; 2]) -> Mpeg12PictureDesc {
    let e = &p.coding_ext;
    let mut d = Mpeg12PictureDesc::default();
    d.base.profile = VideoProfile::Mpeg2Main as u16;
    d.picture_coding_type = p.header.req("picture_coding_type") as u32;
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        d.f_code[i][j] = (e.req(&format!("f_code[{i}][{j}]")) - 1) as u32;
    }
    d.intra_dc_precision = e.req("intra_dc_precision") as u32;
    d.picture_structure = e.req("picture_structure") as u32;
    d.top_field_first = e.req("top_field_first") as u32;
    d.frame_pred_frame_dct = e.req("frame_pred_frame_dct") as u32;
    d.concealment_motion_vectors = e.req("concealment_motion_vectors") as u32;
    d.q_scale_type = e.req("q_scale_type") as u32;
    d.intra_vlc_format = e.req("intra_vlc_format") as u32;
    d.alternate_scan = e.req("alternate_scan") as u32;
    d.r#ref = refs;
    d
}

/// The surfaces the guest's descriptions here refer to.
const SURFACES: Surfaces = Surfaces {
    target: 7,
    size: (64, 64),
};

fn run(d: &Mpeg12PictureDesc, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
    SURFACES.run(d, bytes)
}

#[test]
fn every_picture_translates_field_by_field() {
    let pics = pictures();
    assert_eq!(pics.len(), 3);
    // Decode order I(0) P(1) B(2): P refers to I, B to I and P. Handles 10, 11 for I and P.
    let refs = [[0, 0], [10, 0], [10, 11]];
    for (p, r) in pics.iter().zip(refs) {
        let d = desc_for(p, r);
        let bufs = run(&d, &p.bytes).unwrap();
        assert_eq!(bufs.len(), 2 + 2 * p.slices.len());
        assert_eq!(bufs[0].kind, PIC);
        let pp: va::VAPictureParameterBufferMPEG2 = read_struct(&bufs[0].data);
        assert_eq!((pp.horizontal_size, pp.vertical_size), (64, 64));
        let surf = |h: u32| if h == 0 { u32::MAX } else { h + 1000 };
        assert_eq!(pp.forward_reference_picture, surf(r[0]));
        assert_eq!(pp.backward_reference_picture, surf(r[1]));
        assert_eq!(
            i64::from(pp.picture_coding_type),
            p.header.req("picture_coding_type")
        );
        let e = &p.coding_ext;
        let f = |i, j| e.req(&format!("f_code[{i}][{j}]")) as i32;
        assert_eq!(
            pp.f_code,
            f(0, 0) << 12 | f(0, 1) << 8 | f(1, 0) << 4 | f(1, 1)
        );
        // SAFETY: reading the bitfield view of a union this test just decoded from bytes;
        // every bit pattern is a valid bitfield struct.
        let b = unsafe { pp.picture_coding_extension.bits };
        assert_eq!(
            i64::from(b.intra_dc_precision()),
            e.req("intra_dc_precision")
        );
        assert_eq!(i64::from(b.picture_structure()), e.req("picture_structure"));
        assert_eq!(i64::from(b.top_field_first()), e.req("top_field_first"));
        assert_eq!(
            i64::from(b.frame_pred_frame_dct()),
            e.req("frame_pred_frame_dct")
        );
        assert_eq!(
            i64::from(b.concealment_motion_vectors()),
            e.req("concealment_motion_vectors")
        );
        assert_eq!(i64::from(b.q_scale_type()), e.req("q_scale_type"));
        assert_eq!(i64::from(b.intra_vlc_format()), e.req("intra_vlc_format"));
        assert_eq!(i64::from(b.alternate_scan()), e.req("alternate_scan"));
        assert_eq!(b.is_first_field(), 1);

        assert_eq!(bufs[1].kind, IQ);
        let iq: va::VAIQMatrixBufferMPEG2 = read_struct(&bufs[1].data);
        assert_eq!(
            iq.load_intra_quantiser_matrix, 0,
            "no matrix in the description"
        );
        assert_eq!(iq.load_non_intra_quantiser_matrix, 0);

        let mut offset = 0usize;
        for (k, sh) in p.slices.iter().enumerate() {
            let (sp_buf, data_buf) = (&bufs[2 + 2 * k], &bufs[3 + 2 * k]);
            assert_eq!((sp_buf.kind, data_buf.kind), (SLICE, DATA));
            let sp: va::VASliceParameterBufferMPEG2 = read_struct(&sp_buf.data);
            // The slice data is the slice from its start code; the next slice follows.
            assert_eq!(&p.bytes[offset..offset + 4], &data_buf.data[..4]);
            assert_eq!(sp.slice_data_size as usize, data_buf.data.len());
            assert_eq!(
                &p.bytes[offset..offset + data_buf.data.len()],
                &data_buf.data[..]
            );
            offset += data_buf.data.len();
            // Only zero stuffing may sit between slices.
            while offset + 3 <= p.bytes.len() && p.bytes[offset..offset + 3] != [0, 0, 1] {
                assert_eq!(p.bytes[offset], 0);
                offset += 1;
            }
            assert_eq!(sp.slice_data_offset, 0);
            assert_eq!(sp.slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
            assert_eq!(
                i64::from(sp.slice_vertical_position),
                sh.req("slice_vertical_position") - 1
            );
            assert_eq!(
                i64::from(sp.quantiser_scale_code),
                sh.req("quantiser_scale_code")
            );
            assert_eq!(i64::from(sp.intra_slice_flag), sh.or("intra_slice_flag", 0));
            // Trace positions start after the 24-bit start-code prefix.
            assert_eq!(u64::from(sp.macroblock_offset), 24 + sh.end());
            // ffmpeg's encoder starts every slice at the row's first macroblock.
            assert_eq!(sp.slice_horizontal_position, 0);
        }
        assert_eq!(offset, p.bytes.len());
    }
}

#[test]
fn quantiser_matrices_go_back_to_va_order() {
    let pics = pictures();
    let mut d = desc_for(&pics[0], [0, 0]);
    // Mesa's VA frontend stores desc[i] = va[ORDER[i]] (its reverse_inverse_zscan).
    const ORDER: [usize; 64] = [
        0, 2, 3, 9, 10, 20, 21, 35, 1, 4, 8, 11, 19, 22, 34, 36, 5, 7, 12, 18, 23, 33, 37, 48, 6,
        13, 17, 24, 32, 38, 47, 49, 14, 16, 25, 31, 39, 46, 50, 57, 15, 26, 30, 40, 45, 51, 56, 58,
        27, 29, 41, 44, 52, 55, 59, 62, 28, 42, 43, 53, 54, 60, 61, 63,
    ];
    let va_intra: Vec<u8> = (0..64).map(|i| 8 + i as u8).collect();
    for i in 0..64 {
        d.intra_matrix[i] = va_intra[ORDER[i]];
    }
    let bufs = run(&d, &pics[0].bytes).unwrap();
    let iq: va::VAIQMatrixBufferMPEG2 = read_struct(&bufs[1].data);
    assert_eq!(iq.load_intra_quantiser_matrix, 1);
    assert_eq!(iq.load_non_intra_quantiser_matrix, 0);
    assert_eq!(&iq.intra_quantiser_matrix[..], &va_intra[..]);
}

fn refused(d: &Mpeg12PictureDesc, bytes: &[u8]) -> String {
    SURFACES.refused(d, bytes)
}

#[test]
fn bad_input_is_refused() {
    let pics = pictures();
    let p = &pics[1];
    // Unknown reference handle.
    let r = refused(&desc_for(p, [500, 0]), &p.bytes);
    assert!(r.contains("500"), "{r}");
    // Wrong profile (an H.264 profile number in an MPEG-2 description).
    let mut d = desc_for(p, [10, 0]);
    d.base.profile = VideoProfile::H264High as u16;
    refused(&d, &p.bytes);
    // Bad picture coding type / structure.
    let mut d = desc_for(p, [10, 0]);
    d.picture_coding_type = 9;
    refused(&d, &p.bytes);
    let mut d = desc_for(p, [10, 0]);
    d.picture_structure = 0;
    refused(&d, &p.bytes);
    // More slices than macroblocks (64x64: 16).
    let first: Vec<u8> = p.bytes[..8].to_vec();
    let many: Vec<u8> = first.iter().copied().cycle().take(8 * 17).collect();
    let r = refused(&desc_for(p, [10, 0]), &many);
    assert!(r.contains("17 slices"), "{r}");
    // No slice in the bitstream; a slice cut inside its header.
    let d = desc_for(p, [10, 0]);
    refused(&d, &[1, 2, 3, 4]);
    refused(&d, &p.bytes[..4]);
    // Truncated slices elsewhere never panic.
    for cut in 0..p.bytes.len().min(200) {
        let _ = run(&d, &p.bytes[..cut]);
    }
}

#[test]
fn mutated_input_never_panics() {
    // Bit flips and truncations of real bitstreams, random bytes in real descriptions: every
    // case must translate or be refused with a typed error, never panic or overflow.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for p in pictures().into_iter().zip([[0, 0], [10, 0], [10, 11]]) {
        let (desc, bytes) = (desc_for(&p.0, p.1), p.0.bytes.clone());
        SURFACES.run_mutated(&mut rng, &desc, &bytes, 400);
    }
}
