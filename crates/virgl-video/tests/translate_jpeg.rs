//! JPEG baseline translation against a real picture (`data/jpeg_64x48.jpg`, 4:2:0) and
//! ffmpeg's trace of it: picture parameters, quantiser and Huffman tables, and the scan's
//! slice parameters (located in the bitstream) are checked field by field; bad input is
//! refused.

mod common;

use common::trace::{clip, section, Section};
use common::{read_struct, Rng, Surfaces};
use libva_sys::va_display_drm as va;
use virgl_protocol::video::{MjpegPictureDesc, VideoProfile};
use virgl_video::translate::VaBuffer;
use virgl_video::VideoError;

/// The description Mesa's VA frontend + virgl driver build from the VA buffers ffmpeg's
/// VA-API hwaccel would send for this picture.
fn desc_for(sections: &[Section]) -> MjpegPictureDesc {
    let mut d = MjpegPictureDesc::default();
    d.base.profile = VideoProfile::JpegBaseline as u16;
    let f = section(sections, "Frame Header");
    let pp = &mut d.picture_parameter;
    pp.picture_width = f.req("X") as u16;
    pp.picture_height = f.req("Y") as u16;
    let n = f.req("Nf") as usize;
    pp.num_components = n as u8;
    for i in 0..n {
        let c = &mut pp.components[i];
        c.component_id = f.req(&format!("C[{i}]")) as u8;
        c.h_sampling_factor = f.req(&format!("H[{i}]")) as u8;
        c.v_sampling_factor = f.req(&format!("V[{i}]")) as u8;
        c.quantiser_table_selector = f.req(&format!("Tq[{i}]")) as u8;
    }
    // DQT: Tq then 64 values in zig-zag order, as VA wants them.
    let q = section(sections, "Quantisation Tables");
    let tqs = q.all("Tq");
    let values: Vec<i64> = q
        .fields
        .iter()
        .filter(|f| f.name.starts_with("Q["))
        .map(|f| f.value)
        .collect();
    assert!(!tqs.is_empty());
    for (k, &tq) in tqs.iter().enumerate() {
        d.quantization_table.load_quantiser_table[tq as usize] = 1;
        for j in 0..64 {
            d.quantization_table.quantiser_table[tq as usize][j] = values[k * 64 + j] as u8;
        }
    }
    // DHT: per table Tc (0 DC, 1 AC), Th, L[16], V[..].
    let h = section(sections, "Huffman Tables");
    let mut cur: Option<(i64, i64)> = None;
    let mut counts: Vec<u8> = Vec::new();
    let mut vals: Vec<u8> = Vec::new();
    let mut flush = |cur: Option<(i64, i64)>, counts: &mut Vec<u8>, vals: &mut Vec<u8>| {
        if let Some((tc, th)) = cur {
            let t = &mut d.huffman_table.table[th as usize];
            d.huffman_table.load_huffman_table[th as usize] = 1;
            if tc == 0 {
                t.num_dc_codes.copy_from_slice(counts);
                t.dc_values[..vals.len()].copy_from_slice(vals);
            } else {
                t.num_ac_codes.copy_from_slice(counts);
                t.ac_values[..vals.len()].copy_from_slice(vals);
            }
        }
        counts.clear();
        vals.clear();
    };
    let mut tc = 0;
    for fld in &h.fields {
        let base = fld.name.split('[').next().unwrap();
        match base {
            "Tc" => tc = fld.value,
            "Th" => {
                flush(cur, &mut counts, &mut vals);
                cur = Some((tc, fld.value));
            }
            "L" => counts.push(fld.value as u8),
            "V" => vals.push(fld.value as u8),
            _ => {}
        }
    }
    flush(cur, &mut counts, &mut vals);
    // The VA client's slice parameters (its buffer holds the whole file here).
    let s = section(sections, "Scan");
    d.slice_parameter.num_components = s.req("Ns") as u8;
    d.slice_parameter.slice_data_offset = 0;
    d.slice_parameter.slice_data_size = 64;
    d
}

/// The surfaces the guest's descriptions here refer to.
const SURFACES: Surfaces = Surfaces {
    target: 7,
    size: (64, 48),
};

fn run(d: &MjpegPictureDesc, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
    SURFACES.run(d, bytes)
}

#[test]
fn picture_translates_field_by_field() {
    check_clip("jpeg_64x48.jpg", 12);
}

#[test]
fn partial_mcus_of_a_422_picture() {
    // ffmpeg codes 4:2:2 as luma 2x2, chroma 1x2: MCUs of 16x16, 3 x 2 of them for 40x24.
    check_clip("jpeg_40x24_422.jpg", 6);
}

fn check_clip(name: &str, expected_mcus: i64) {
    let (data, sections) = clip(name);
    let d = desc_for(&sections);
    let bufs = run(&d, &data).unwrap();
    let kinds: Vec<u32> = bufs.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [
            va::VABufferType_VAPictureParameterBufferType,
            va::VABufferType_VAIQMatrixBufferType,
            va::VABufferType_VAHuffmanTableBufferType,
            va::VABufferType_VASliceParameterBufferType,
            va::VABufferType_VASliceDataBufferType,
        ]
    );
    let f = section(&sections, "Frame Header");
    let pp: va::VAPictureParameterBufferJPEGBaseline = read_struct(&bufs[0].data);
    assert_eq!(i64::from(pp.picture_width), f.req("X"));
    assert_eq!(i64::from(pp.picture_height), f.req("Y"));
    assert_eq!(i64::from(pp.num_components), f.req("Nf"));
    for i in 0..3 {
        let c = pp.components[i];
        assert_eq!(i64::from(c.component_id), f.req(&format!("C[{i}]")));
        assert_eq!(i64::from(c.h_sampling_factor), f.req(&format!("H[{i}]")));
        assert_eq!(i64::from(c.v_sampling_factor), f.req(&format!("V[{i}]")));
        assert_eq!(
            i64::from(c.quantiser_table_selector),
            f.req(&format!("Tq[{i}]"))
        );
    }

    let iq: va::VAIQMatrixBufferJPEGBaseline = read_struct(&bufs[1].data);
    let q = section(&sections, "Quantisation Tables");
    let tq = q.req("Tq") as usize;
    assert_eq!(iq.load_quantiser_table[tq], 1);
    let qv: Vec<u8> = q
        .fields
        .iter()
        .filter(|f| f.name.starts_with("Q["))
        .map(|f| f.value as u8)
        .collect();
    assert_eq!(&iq.quantiser_table[tq][..], &qv[..64]);

    let ht: va::VAHuffmanTableBufferJPEGBaseline = read_struct(&bufs[2].data);
    for i in 0..2 {
        assert_eq!(
            ht.load_huffman_table[i],
            d.huffman_table.load_huffman_table[i]
        );
        let (a, b) = (&ht.huffman_table[i], &d.huffman_table.table[i]);
        assert_eq!(a.num_dc_codes, b.num_dc_codes);
        assert_eq!(a.dc_values, b.dc_values);
        assert_eq!(a.num_ac_codes, b.num_ac_codes);
        assert_eq!(a.ac_values[..], b.ac_values[..]);
        // The AC table of class 1 has 162 values when complete; sanity-check the DC counts.
        let dc_total: u32 = a.num_dc_codes.iter().map(|&v| u32::from(v)).sum();
        assert!(dc_total > 0 && dc_total <= 12);
    }

    // The scan: after the SOS segment, up to EOI.
    let s = section(&sections, "Scan");
    let sos = data.windows(2).position(|w| w == [0xff, 0xda]).unwrap();
    let start = sos + 2 + s.req("Ls") as usize;
    assert_eq!(&data[data.len() - 2..], &[0xff, 0xd9]);
    let scan = &data[start..data.len() - 2];
    let sp: va::VASliceParameterBufferJPEGBaseline = read_struct(&bufs[3].data);
    assert_eq!(&bufs[4].data[..], scan);
    assert_eq!(sp.slice_data_size as usize, scan.len());
    assert_eq!(sp.slice_data_offset, 0);
    assert_eq!(sp.slice_data_flag, va::VA_SLICE_DATA_FLAG_ALL);
    assert_eq!(
        (sp.slice_horizontal_position, sp.slice_vertical_position),
        (0, 0)
    );
    assert_eq!(i64::from(sp.num_components), s.req("Ns"));
    for i in 0..3 {
        let c = sp.components[i];
        assert_eq!(i64::from(c.component_selector), s.req(&format!("Cs[{i}]")));
        assert_eq!(i64::from(c.dc_table_selector), s.req(&format!("Td[{i}]")));
        assert_eq!(i64::from(c.ac_table_selector), s.req(&format!("Ta[{i}]")));
    }
    assert_eq!(sp.restart_interval, 0);
    let hmax = (0..3).map(|i| f.req(&format!("H[{i}]"))).max().unwrap();
    let vmax = (0..3).map(|i| f.req(&format!("V[{i}]"))).max().unwrap();
    let mcus =
        (f.req("X") + 8 * hmax - 1) / (8 * hmax) * ((f.req("Y") + 8 * vmax - 1) / (8 * vmax));
    assert_eq!(i64::from(sp.num_mcus), mcus);
    assert_eq!(mcus, expected_mcus);
}

fn refused(d: &MjpegPictureDesc, bytes: &[u8]) -> String {
    SURFACES.refused(d, bytes)
}

#[test]
fn bad_input_is_refused() {
    let (data, sections) = clip("jpeg_64x48.jpg");
    let good = desc_for(&sections);
    // Wrong profile.
    let mut d = good.clone();
    d.base.profile = VideoProfile::Mpeg2Main as u16;
    refused(&d, &data);
    // Too many components; a quantiser table selector past the four tables.
    let mut d = good.clone();
    d.picture_parameter.num_components = 5;
    refused(&d, &data);
    let mut d = good.clone();
    d.picture_parameter.components[1].quantiser_table_selector = 4;
    refused(&d, &data);
    // The guest's slice parameters place its slice data past the bitstream.
    let mut d = good.clone();
    d.slice_parameter.slice_data_offset = 16;
    d.slice_parameter.slice_data_size = data.len() as u32;
    let r = refused(&d, &data);
    assert!(r.contains("past"), "{r}");
    // No scan; a segment length past the end; a progressive frame.
    let sos = data.windows(2).position(|w| w == [0xff, 0xda]).unwrap();
    refused(&good, &data[..sos]);
    refused(&good, &data[..sos + 3]);
    let mut progressive = data.clone();
    let sof = progressive
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .unwrap();
    progressive[sof + 1] = 0xc2;
    let r = refused(&good, &progressive);
    assert!(r.contains("SOF2"), "{r}");
    // Five scans in a baseline picture.
    let sos = data.windows(2).position(|w| w == [0xff, 0xda]).unwrap();
    let eoi = data.len() - 2;
    let mut five = data[..eoi].to_vec();
    for _ in 0..4 {
        five.extend_from_slice(&data[sos..eoi]);
    }
    five.extend_from_slice(&[0xff, 0xd9]);
    let r = refused(&good, &five);
    assert!(r.contains("scans"), "{r}");
    // Every truncation translates or is refused, never panics.
    for cut in 0..data.len() {
        let _ = run(&good, &data[..cut]);
    }
}

#[test]
fn mutated_input_never_panics() {
    // Bit flips and truncations of a real JPEG, random bytes in its description: every case
    // must translate or be refused with a typed error, never panic or overflow.
    let (data, sections) = clip("jpeg_64x48.jpg");
    let desc = desc_for(&sections);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    SURFACES.run_mutated(&mut rng, &desc, &data, 3000);
}
