//! JPEG baseline: `virgl_mjpeg_picture_desc` -> `VAPictureParameterBufferJPEGBaseline`,
//! `VAIQMatrixBufferJPEGBaseline`, `VAHuffmanTableBufferJPEGBaseline`, and one
//! `VASliceParameterBufferJPEGBaseline` + slice-data pair per scan.
//!
//! Picture parameters, quantiser and Huffman tables come from the description as upstream
//! copies them. Unlike upstream, the slice parameters are not the guest's VA values (whose
//! offsets refer to the guest's own buffer layout): Mesa's VA frontend hands the host a
//! complete JPEG (it prepends the headers it builds and appends EOI when the client sent only
//! scan data), so each scan is found by its SOS marker and its entropy-coded bytes become the
//! slice data; component/table selectors come from the SOS header, the restart interval from
//! DRI, and `num_mcus` from the frame header's sampling factors (the description's picture
//! parameters when the bitstream has no SOF). Progressive/lossless/arithmetic frames are
//! refused: VA's JPEG entry point is baseline only.

use libva_sys::va_display_drm as va;
use virgl_protocol::video::{MjpegPictureDesc, VideoProfile};

use super::{buffer_type, invalid, joined, zeroed_box, SurfaceMap, VaBuffer};
use crate::VideoError;

const CODEC: &str = "jpeg";

/// Most components a baseline frame or scan has.
const MAX_COMPONENTS: usize = 4;

/// Translates one JPEG picture.
pub(super) fn translate(
    desc: &MjpegPictureDesc,
    bitstreams: &[&[u8]],
    _surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    if VideoProfile::from_raw(u32::from(desc.base.profile)).ok() != Some(VideoProfile::JpegBaseline)
    {
        return Err(invalid(
            CODEC,
            format!("profile {} is not JPEG baseline", desc.base.profile),
        ));
    }
    let pp = &desc.picture_parameter;
    let num_components = usize::from(pp.num_components);
    if num_components == 0 || num_components > MAX_COMPONENTS {
        return Err(invalid(
            CODEC,
            format!("{num_components} components (baseline has 1 to 4)"),
        ));
    }
    let mut pic: Box<va::VAPictureParameterBufferJPEGBaseline> = zeroed_box();
    pic.picture_width = pp.picture_width;
    pic.picture_height = pp.picture_height;
    pic.num_components = pp.num_components;
    for (dst, src) in pic
        .components
        .iter_mut()
        .zip(&pp.components[..num_components])
    {
        if src.quantiser_table_selector > 3 {
            return Err(invalid(CODEC, "quantiser table selector above 3"));
        }
        dst.component_id = src.component_id;
        dst.h_sampling_factor = src.h_sampling_factor;
        dst.v_sampling_factor = src.v_sampling_factor;
        dst.quantiser_table_selector = src.quantiser_table_selector;
    }

    let mut iq: Box<va::VAIQMatrixBufferJPEGBaseline> = zeroed_box();
    iq.load_quantiser_table = desc.quantization_table.load_quantiser_table;
    iq.quantiser_table = desc.quantization_table.quantiser_table;

    let mut huff: Box<va::VAHuffmanTableBufferJPEGBaseline> = zeroed_box();
    for (i, (dst, src)) in huff
        .huffman_table
        .iter_mut()
        .zip(&desc.huffman_table.table)
        .enumerate()
    {
        huff.load_huffman_table[i] = desc.huffman_table.load_huffman_table[i];
        dst.num_dc_codes = src.num_dc_codes;
        dst.dc_values = src.dc_values;
        dst.num_ac_codes = src.num_ac_codes;
        dst.ac_values = src.ac_values;
    }

    let data = joined(bitstreams);
    // The guest's own slice parameters are not used, but they describe its slice-data buffer,
    // which is part of this bitstream: a slice past its end is a lying description.
    let gs = &desc.slice_parameter;
    let guest_end = u64::from(gs.slice_data_offset) + u64::from(gs.slice_data_size);
    if guest_end > data.len() as u64 {
        return Err(invalid(
            CODEC,
            format!(
                "slice data {}+{} past the {}-byte bitstream",
                gs.slice_data_offset,
                gs.slice_data_size,
                data.len()
            ),
        ));
    }
    let parsed = parse(&data).map_err(|e| invalid(CODEC, e))?;
    if parsed.scans.is_empty() {
        return Err(invalid(CODEC, "bitstream holds no SOS marker"));
    }

    // Sampling factors: the frame header when there is one, else the description.
    let frame: Vec<(u8, u8, u8)> = match &parsed.frame {
        Some(f) => f.components.clone(),
        None => pp.components[..num_components]
            .iter()
            .map(|c| (c.component_id, c.h_sampling_factor, c.v_sampling_factor))
            .collect(),
    };
    let (width, height) = parsed
        .frame
        .as_ref()
        .map_or((pp.picture_width, pp.picture_height), |f| {
            (f.width, f.height)
        });

    let mut out = Vec::with_capacity(3 + 2 * parsed.scans.len());
    out.push(VaBuffer::from_boxed(buffer_type::PICTURE_PARAMETER, pic));
    out.push(VaBuffer::from_boxed(buffer_type::IQ_MATRIX, iq));
    out.push(VaBuffer::from_boxed(buffer_type::HUFFMAN_TABLE, huff));
    for scan in &parsed.scans {
        let mut sp: Box<va::VASliceParameterBufferJPEGBaseline> = zeroed_box();
        let bytes = &data[scan.data.clone()];
        sp.slice_data_size =
            u32::try_from(bytes.len()).map_err(|_| invalid(CODEC, "scan larger than 4 GiB"))?;
        sp.slice_data_offset = 0;
        sp.slice_data_flag = va::VA_SLICE_DATA_FLAG_ALL;
        sp.num_components = scan.components.len() as u8;
        for (dst, &(id, dc, ac)) in sp.components.iter_mut().zip(&scan.components) {
            if dc > 1 || ac > 1 {
                return Err(invalid(
                    CODEC,
                    "Huffman table selector above 1 (baseline has 2)",
                ));
            }
            dst.component_selector = id;
            dst.dc_table_selector = dc;
            dst.ac_table_selector = ac;
        }
        sp.restart_interval = scan.restart_interval;
        sp.num_mcus = num_mcus(&frame, &scan.components, width, height)?;
        out.push(VaBuffer::from_boxed(buffer_type::SLICE_PARAMETER, sp));
        out.push(VaBuffer::slice_data(buffer_type::SLICE_DATA, bytes));
    }
    Ok(out)
}

/// MCUs in a scan (ITU T.81 A.2): an interleaved scan covers the frame in MCUs of
/// `Hmax*8 x Vmax*8`; a single-component scan in 8x8 blocks of that component.
fn num_mcus(
    frame: &[(u8, u8, u8)],
    scan: &[(u8, u8, u8)],
    width: u16,
    height: u16,
) -> Result<u32, VideoError> {
    let hmax = frame.iter().map(|c| u32::from(c.1)).max().unwrap_or(0);
    let vmax = frame.iter().map(|c| u32::from(c.2)).max().unwrap_or(0);
    if !(1..=4).contains(&hmax) || !(1..=4).contains(&vmax) {
        return Err(invalid(CODEC, "sampling factors outside 1..=4"));
    }
    let (w, h) = (u32::from(width), u32::from(height));
    if let [(id, _, _)] = scan {
        let c = frame
            .iter()
            .find(|c| c.0 == *id)
            .ok_or_else(|| invalid(CODEC, format!("scan names unknown component {id}")))?;
        let (hc, vc) = (u32::from(c.1), u32::from(c.2));
        if hc == 0 || vc == 0 {
            return Err(invalid(CODEC, "zero sampling factor"));
        }
        let cw = (w * hc).div_ceil(hmax);
        let ch = (h * vc).div_ceil(vmax);
        Ok(cw.div_ceil(8) * ch.div_ceil(8))
    } else {
        Ok(w.div_ceil(8 * hmax) * h.div_ceil(8 * vmax))
    }
}

struct Frame {
    width: u16,
    height: u16,
    /// (id, H, V)
    components: Vec<(u8, u8, u8)>,
}

struct Scan {
    /// (component selector, DC table, AC table)
    components: Vec<(u8, u8, u8)>,
    restart_interval: u16,
    /// Entropy-coded bytes (RST markers included, as VA drivers expect).
    data: std::ops::Range<usize>,
}

struct Parsed {
    frame: Option<Frame>,
    scans: Vec<Scan>,
}

/// Walks the markers of a JPEG (ITU T.81 B.2).
fn parse(data: &[u8]) -> Result<Parsed, String> {
    let mut parsed = Parsed {
        frame: None,
        scans: Vec::new(),
    };
    let mut restart_interval = 0u16;
    let mut i = 0usize;
    let seg = |i: usize| -> Result<&[u8], String> {
        let len = data
            .get(i..i + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or("marker segment past the end")?;
        if len < 2 {
            return Err("marker segment length below 2".into());
        }
        data.get(i + 2..i + len)
            .ok_or_else(|| "marker segment past the end".to_string())
    };
    while i + 1 < data.len() {
        if data[i] != 0xff {
            i += 1;
            continue;
        }
        let marker = data[i + 1];
        i += 2;
        match marker {
            0xd8 | 0x01 | 0xd0..=0xd7 | 0xff => {
                if marker == 0xff {
                    i -= 1; // fill byte: the next 0xff may start the marker
                }
            }
            0xd9 => break,
            0xc0 | 0xc1 => {
                let s = seg(i)?;
                if s.len() < 6 || s[0] != 8 {
                    return Err("frame header is not 8-bit baseline".into());
                }
                let n = usize::from(s[5]);
                if n == 0 || n > MAX_COMPONENTS || s.len() < 6 + 3 * n {
                    return Err(format!("frame header with {n} components"));
                }
                let components = (0..n)
                    .map(|k| {
                        let c = &s[6 + 3 * k..9 + 3 * k];
                        (c[0], c[1] >> 4, c[1] & 0xf)
                    })
                    .collect();
                parsed.frame = Some(Frame {
                    height: u16::from_be_bytes([s[1], s[2]]),
                    width: u16::from_be_bytes([s[3], s[4]]),
                    components,
                });
                i += s.len() + 2;
            }
            0xc2 | 0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                return Err(format!("SOF{} frames are not baseline", marker - 0xc0));
            }
            0xdd => {
                let s = seg(i)?;
                if s.len() < 2 {
                    return Err("short DRI segment".into());
                }
                restart_interval = u16::from_be_bytes([s[0], s[1]]);
                i += s.len() + 2;
            }
            0xda => {
                let s = seg(i)?;
                let n = usize::from(*s.first().ok_or("empty SOS header")?);
                if n == 0 || n > MAX_COMPONENTS || s.len() < 1 + 2 * n + 3 {
                    return Err(format!("scan header with {n} components"));
                }
                let components = (0..n)
                    .map(|k| {
                        let c = &s[1 + 2 * k..3 + 2 * k];
                        (c[0], c[1] >> 4, c[1] & 0xf)
                    })
                    .collect();
                let start = i + s.len() + 2;
                let mut end = start;
                // Scan data runs to the first marker that is neither stuffing (FF00) nor RSTn.
                while end + 1 < data.len() {
                    if data[end] == 0xff && !matches!(data[end + 1], 0x00 | 0xd0..=0xd7) {
                        break;
                    }
                    end += 1;
                }
                if end + 1 >= data.len() {
                    end = data.len();
                }
                // Sequential baseline codes each component in exactly one scan.
                if parsed.scans.len() == MAX_COMPONENTS {
                    return Err("more than 4 scans (baseline has at most 4)".into());
                }
                parsed.scans.push(Scan {
                    components,
                    restart_interval,
                    data: start..end,
                });
                i = end;
            }
            _ => {
                let s = seg(i)?;
                i += s.len() + 2;
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_ends_at_eoi_and_keeps_stuffing_and_rst() {
        let data = [
            0xff, 0xd8, 0xff, 0xdd, 0, 4, 0, 7, 0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0, 0x12, 0xff,
            0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd9,
        ];
        let p = parse(&data).unwrap();
        assert_eq!(p.scans.len(), 1);
        assert_eq!(p.scans[0].data, 18..25);
        assert_eq!(p.scans[0].restart_interval, 7);
        assert_eq!(p.scans[0].components, vec![(1, 0, 0)]);
    }

    #[test]
    fn truncated_segments_are_errors() {
        assert!(parse(&[0xff, 0xd8, 0xff, 0xc0, 0, 40, 8]).is_err());
        assert!(parse(&[0xff, 0xda, 0, 1]).is_err());
        assert!(parse(&[0xff, 0xc2, 0, 2]).is_err());
    }

    #[test]
    fn mcus() {
        let f = [(1, 2, 2), (2, 1, 1), (3, 1, 1)];
        assert_eq!(
            num_mcus(&f, &[(1, 0, 0), (2, 1, 1), (3, 1, 1)], 64, 48).unwrap(),
            4 * 3
        );
        assert_eq!(num_mcus(&f, &[(2, 1, 1)], 64, 48).unwrap(), 4 * 3);
        assert_eq!(num_mcus(&f, &[(1, 0, 0)], 64, 48).unwrap(), 8 * 6);
    }
}
