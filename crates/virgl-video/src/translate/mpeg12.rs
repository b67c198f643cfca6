//! MPEG-2: `virgl_mpeg12_picture_desc` -> `VAPictureParameterBufferMPEG2`,
//! `VAIQMatrixBufferMPEG2`, and one `VASliceParameterBufferMPEG2` + slice-data pair per slice.
//!
//! The picture parameters follow upstream (f_code packed as `(f+1) << {12,8,4,0}` because
//! gallium stores `f_code - 1`). Unlike upstream, the quantiser matrices are passed on and every
//! slice is located in the bitstream (slice start codes `00 00 01 01..AF`) and its header parsed:
//! `slice_vertical_position`, `quantiser_scale_code`, `intra_slice_flag`, `macroblock_offset`
//! (bits from the start code to the first macroblock) and `slice_horizontal_position` (from the
//! first `macroblock_address_increment`).
//!
//! Not derivable from what the guest sends, documented rather than guessed:
//! `repeat_first_field` and `progressive_frame` (the picture coding extension is not part of
//! the slice data VA clients hand over; both are 0 — neither changes how slices decode).
//! MPEG-1 has no VA profile and is refused; sequence scalable extensions
//! (`priority_breakpoint`) are not supported.

use libva_sys::va_display_drm as va;
use virgl_protocol::video::{Mpeg12PictureDesc, VideoProfile};

use super::bits::{BitReader, BitsError};
use super::{
    buffer_type, coded_size, invalid, joined, resolve_ref, zeroed, zeroed_box, SurfaceMap, VaBuffer,
};
use crate::VideoError;

const CODEC: &str = "mpeg12";

/// Raster position of each coefficient of current Mesa's MPEG-2 picture-description matrices,
/// indexed like them: Mesa's VA frontend fills `desc[i] = va[MESA_ORDER[i]]`, so the VA matrix
/// (zig-zag order, as in the bitstream) is `va[MESA_ORDER[i]] = desc[i]`.
const MESA_ORDER: [usize; 64] = [
    0, 2, 3, 9, 10, 20, 21, 35, 1, 4, 8, 11, 19, 22, 34, 36, 5, 7, 12, 18, 23, 33, 37, 48, 6, 13,
    17, 24, 32, 38, 47, 49, 14, 16, 25, 31, 39, 46, 50, 57, 15, 26, 30, 40, 45, 51, 56, 58, 27, 29,
    41, 44, 52, 55, 59, 62, 28, 42, 43, 53, 54, 60, 61, 63,
];

/// Translates one MPEG-2 picture.
pub(super) fn translate(
    desc: &Mpeg12PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    match VideoProfile::from_raw(u32::from(desc.base.profile)) {
        Ok(VideoProfile::Mpeg2Simple | VideoProfile::Mpeg2Main) => {}
        Ok(VideoProfile::Mpeg1) => return Err(invalid(CODEC, "MPEG-1 has no VA profile")),
        _ => {
            return Err(invalid(
                CODEC,
                format!("profile {} is not an MPEG-2 profile", desc.base.profile),
            ))
        }
    }
    let (width, height) = coded_size(CODEC, surfaces)?;
    let pic = picture_parameters(desc, surfaces, width, height)?;
    let iq = iq_matrix(desc);

    let data = joined(bitstreams);
    let slices = split_slices(&data);
    if slices.is_empty() {
        return Err(invalid(CODEC, "bitstream holds no slice start code"));
    }
    // A slice holds at least one macroblock.
    let max_slices = width.div_ceil(16) as usize * height.div_ceil(16) as usize;
    if slices.len() > max_slices {
        return Err(invalid(
            CODEC,
            format!(
                "{} slices in a picture of {max_slices} macroblocks",
                slices.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(2 + 2 * slices.len());
    out.push(VaBuffer::from_boxed(buffer_type::PICTURE_PARAMETER, pic));
    out.push(VaBuffer::from_boxed(buffer_type::IQ_MATRIX, iq));
    for range in slices {
        let bytes = &data[range];
        let header = parse_slice_header(bytes, height)
            .map_err(|e| invalid(CODEC, format!("slice header: {e}")))?;
        let mut sp: Box<va::VASliceParameterBufferMPEG2> = zeroed_box();
        sp.slice_data_size = len_u32(bytes.len())?;
        sp.slice_data_offset = 0;
        sp.slice_data_flag = va::VA_SLICE_DATA_FLAG_ALL;
        sp.macroblock_offset = header.macroblock_offset;
        sp.slice_horizontal_position = header.horizontal_position;
        sp.slice_vertical_position = header.vertical_position;
        sp.quantiser_scale_code = header.quantiser_scale_code as i32;
        sp.intra_slice_flag = i32::from(header.intra_slice_flag);
        out.push(VaBuffer::from_boxed(buffer_type::SLICE_PARAMETER, sp));
        out.push(VaBuffer::slice_data(buffer_type::SLICE_DATA, bytes));
    }
    Ok(out)
}

fn len_u32(n: usize) -> Result<u32, VideoError> {
    u32::try_from(n).map_err(|_| invalid(CODEC, "slice larger than 4 GiB"))
}

fn picture_parameters(
    desc: &Mpeg12PictureDesc,
    surfaces: &dyn SurfaceMap,
    width: u32,
    height: u32,
) -> Result<Box<va::VAPictureParameterBufferMPEG2>, VideoError> {
    let mut p: Box<va::VAPictureParameterBufferMPEG2> = zeroed_box();
    p.horizontal_size = u16::try_from(width)
        .map_err(|_| invalid(CODEC, format!("width {width} exceeds MPEG-2's range")))?;
    p.vertical_size = u16::try_from(height)
        .map_err(|_| invalid(CODEC, format!("height {height} exceeds MPEG-2's range")))?;
    p.forward_reference_picture = resolve_ref(CODEC, surfaces, desc.r#ref[0])?;
    p.backward_reference_picture = resolve_ref(CODEC, surfaces, desc.r#ref[1])?;
    if !(1..=3).contains(&desc.picture_coding_type) {
        return Err(invalid(
            CODEC,
            format!("picture_coding_type {}", desc.picture_coding_type),
        ));
    }
    p.picture_coding_type = desc.picture_coding_type as i32;
    let mut f_code = 0u32;
    for (i, f) in desc.f_code.iter().flatten().enumerate() {
        // Gallium stores f_code - 1; valid f_codes are 1..=9 and 15 ("not used").
        let v = f.wrapping_add(1) & 0xf;
        f_code |= v << (12 - 4 * i);
    }
    p.f_code = f_code as i32;
    if !(1..=3).contains(&desc.picture_structure) {
        return Err(invalid(
            CODEC,
            format!("picture_structure {}", desc.picture_structure),
        ));
    }
    let mut ext: va::_VAPictureParameterBufferMPEG2__bindgen_ty_1__bindgen_ty_1 = zeroed();
    ext.set_intra_dc_precision(desc.intra_dc_precision & 3);
    ext.set_picture_structure(desc.picture_structure);
    ext.set_top_field_first(desc.top_field_first & 1);
    ext.set_frame_pred_frame_dct(desc.frame_pred_frame_dct & 1);
    ext.set_concealment_motion_vectors(desc.concealment_motion_vectors & 1);
    ext.set_q_scale_type(desc.q_scale_type & 1);
    ext.set_intra_vlc_format(desc.intra_vlc_format & 1);
    ext.set_alternate_scan(desc.alternate_scan & 1);
    // A field picture is the first of its frame when its parity is the one shown first.
    let first_field = match desc.picture_structure {
        1 => desc.top_field_first != 0,
        2 => desc.top_field_first == 0,
        _ => true,
    };
    ext.set_is_first_field(u32::from(first_field));
    p.picture_coding_extension.bits = ext;
    Ok(p)
}

fn iq_matrix(desc: &Mpeg12PictureDesc) -> Box<va::VAIQMatrixBufferMPEG2> {
    let mut m: Box<va::VAIQMatrixBufferMPEG2> = zeroed_box();
    // The guest writes zeros for a matrix its VA client did not load (no valid matrix has a
    // zero entry); the driver then keeps its default/previous matrix.
    if desc.intra_matrix.iter().any(|&v| v != 0) {
        m.load_intra_quantiser_matrix = 1;
        for (i, &v) in desc.intra_matrix.iter().enumerate() {
            m.intra_quantiser_matrix[MESA_ORDER[i]] = v;
        }
    }
    if desc.non_intra_matrix.iter().any(|&v| v != 0) {
        m.load_non_intra_quantiser_matrix = 1;
        for (i, &v) in desc.non_intra_matrix.iter().enumerate() {
            m.non_intra_quantiser_matrix[MESA_ORDER[i]] = v;
        }
    }
    m
}

/// Byte ranges of the slices: each from its `00 00 01 xx` start code (xx in 0x01..=0xAF) to
/// the next start code of any kind.
fn split_slices(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut codes = Vec::new();
    let mut i = 0;
    while i + 4 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            codes.push((i, data[i + 3]));
            i += 4;
        } else {
            i += 1;
        }
    }
    let mut slices = Vec::new();
    for (k, &(start, code)) in codes.iter().enumerate() {
        if (0x01..=0xaf).contains(&code) {
            // Up to the next start code, zero stuffing included: a slice's last byte may be
            // 0x00 (an EOB's final bit and padding), so zeros cannot be told from stuffing.
            let end = codes.get(k + 1).map_or(data.len(), |&(n, _)| n);
            slices.push(start..end);
        }
    }
    slices
}

/// The fields of a slice header VA wants.
#[derive(Debug, PartialEq, Eq)]
struct SliceHeader {
    vertical_position: u32,
    quantiser_scale_code: u32,
    intra_slice_flag: bool,
    macroblock_offset: u32,
    horizontal_position: u32,
}

/// Parses a slice from its start code (ISO/IEC 13818-2 6.2.4) up to the first macroblock's
/// address increment.
fn parse_slice_header(slice: &[u8], vertical_size: u32) -> Result<SliceHeader, BitsError> {
    let mut r = BitReader::new(slice, false);
    let code = r.u(32)? & 0xff;
    let mut vertical_position = code - 1;
    if vertical_size > 2800 {
        vertical_position += r.u(3)? << 7;
    }
    let quantiser_scale_code = r.u(5)?;
    let mut intra_slice_flag = false;
    if r.flag()? {
        intra_slice_flag = r.flag()?;
        r.skip(1 + 7)?; // intra_slice, reserved_bits
        while r.flag()? {
            r.skip(8)?; // extra_information_slice
        }
    }
    // The extra_bit_slice that ended the loop (or the first one) has been read.
    let macroblock_offset = r.rbsp_bit_pos() as u32;
    let mut increment = 0u32;
    loop {
        match mb_address_increment(&mut r)? {
            Increment::Escape => increment += 33,
            Increment::Value(v) => {
                increment += v;
                break;
            }
        }
        if increment > 0xffff {
            return Err(BitsError::End);
        }
    }
    Ok(SliceHeader {
        vertical_position,
        quantiser_scale_code,
        intra_slice_flag,
        macroblock_offset,
        horizontal_position: increment - 1,
    })
}

enum Increment {
    Value(u32),
    Escape,
}

/// `macroblock_address_increment` (ISO/IEC 13818-2 table B.1): (code, length, value); value 0
/// marks the escape (+33).
const MBA_TABLE: [(u32, u32, u32); 34] = [
    (0b1, 1, 1),
    (0b011, 3, 2),
    (0b010, 3, 3),
    (0b0011, 4, 4),
    (0b0010, 4, 5),
    (0b00011, 5, 6),
    (0b00010, 5, 7),
    (0b0000111, 7, 8),
    (0b0000110, 7, 9),
    (0b00001011, 8, 10),
    (0b00001010, 8, 11),
    (0b00001001, 8, 12),
    (0b00001000, 8, 13),
    (0b00000111, 8, 14),
    (0b00000110, 8, 15),
    (0b0000010111, 10, 16),
    (0b0000010110, 10, 17),
    (0b0000010101, 10, 18),
    (0b0000010100, 10, 19),
    (0b0000010011, 10, 20),
    (0b0000010010, 10, 21),
    (0b00000100011, 11, 22),
    (0b00000100010, 11, 23),
    (0b00000100001, 11, 24),
    (0b00000100000, 11, 25),
    (0b00000011111, 11, 26),
    (0b00000011110, 11, 27),
    (0b00000011101, 11, 28),
    (0b00000011100, 11, 29),
    (0b00000011011, 11, 30),
    (0b00000011010, 11, 31),
    (0b00000011001, 11, 32),
    (0b00000011000, 11, 33),
    (0b00000001000, 11, 0),
];

fn mb_address_increment(r: &mut BitReader<'_>) -> Result<Increment, BitsError> {
    let mut code = 0u32;
    for len in 1..=11 {
        code = (code << 1) | r.bit()?;
        if let Some(&(_, _, v)) = MBA_TABLE.iter().find(|&&(c, l, _)| l == len && c == code) {
            return Ok(if v == 0 {
                Increment::Escape
            } else {
                Increment::Value(v)
            });
        }
    }
    // No such code: a corrupt slice.
    Err(BitsError::End)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesa_order_is_a_permutation() {
        let mut seen = [false; 64];
        for &i in &MESA_ORDER {
            assert!(!seen[i]);
            seen[i] = true;
        }
    }

    #[test]
    fn slice_header_with_extra_info_and_escape() {
        // start code 00 00 01 05, qscale 00011, flag 1, intra_slice_flag 1, intra_slice 0,
        // reserved 0000000, extra_bit 1 + 0xAB, extra_bit 0, then escape (00000001000) and
        // increment 2 (011).
        let mut bits = String::from("00000000000000000000000100000101");
        bits += "00011";
        bits += "1";
        bits += "1";
        bits += "0";
        bits += "0000000";
        bits += "1";
        bits += "10101011";
        bits += "0";
        bits += "00000001000";
        bits += "011";
        while !bits.len().is_multiple_of(8) {
            bits.push('0');
        }
        let bytes: Vec<u8> = bits
            .as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect();
        let h = parse_slice_header(&bytes, 576).unwrap();
        assert_eq!(
            h,
            SliceHeader {
                vertical_position: 4,
                quantiser_scale_code: 3,
                intra_slice_flag: true,
                macroblock_offset: 32 + 5 + 1 + 1 + 1 + 7 + 1 + 8 + 1,
                horizontal_position: 33 + 2 - 1,
            }
        );
    }

    #[test]
    fn slices_split_at_any_start_code() {
        let data = [
            0, 0, 1, 0xb3, 9, 0, 0, 1, 1, 0xff, 0, 0, 0, 1, 2, 0xee, 0, 0, 1, 0xb7,
        ];
        assert_eq!(split_slices(&data), vec![5..11, 11..16]);
    }
}
