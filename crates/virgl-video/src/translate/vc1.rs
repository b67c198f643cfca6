//! VC-1: `virgl_vc1_picture_desc` -> `VAPictureParameterBufferVC1`, one
//! `VASliceParameterBufferVC1` per slice, and one slice-data buffer.
//!
//! The guest's description is Mesa's `pipe_vc1_picture_desc` (sequence/entry-point flags plus
//! a few picture fields), filled by Mesa's VA frontend from the client's VA buffers. It carries
//! no slice positions (only `slice_count`), so the slices are found in the bitstream itself:
//! - simple/main profile: the frame is one slice (these profiles have no slices);
//! - advanced profile: the data is split at frame (`0x0D`), field (`0x0C`) and slice (`0x0B`)
//!   start codes; sequence/entry-point headers and user data found in between are skipped.
//!   Each slice covers the bytes after its 4-byte start code up to the next start code, as VA
//!   clients (ffmpeg, GStreamer) submit them; `slice_vertical_position` is the slice's
//!   `SLICE_ADDR` (0 for frame and field starts).
//!
//! `macroblock_offset` (bits from the slice's first byte to its first macroblock) is computed
//! where the picture header can be walked with what the guest sends:
//! - simple/main I and BI pictures: the whole header is parsed (SMPTE 421M 7.1.1), which also
//!   gives `range_reduction_frame`, `picture_resolution_index`, `half_qp`,
//!   `pic_quantizer_type`, `extended_mv_range` and the transform table indices;
//! - advanced-profile slices without a repeated picture header: `SLICE_ADDR` + flag = 10 bits.
//!
//! Gaps (written as 0, the value upstream writes for every field of the slice): the offset of
//! simple/main P/B pictures and of advanced-profile frame/field headers. Walking those headers
//! needs their bitplanes (MVTYPEMB, SKIPMB, ACPRED, OVERFLAGS ...), i.e. a bitplane VLC
//! decoder, and for the advanced profile the sequence header's `POSTPROCFLAG`, which the
//! guest never sends. Drivers that parse the picture header themselves (Mesa's, NVDEC) do not
//! need it; drivers that need it (Intel) also need the decoded bitplanes, which are not on the
//! wire either. Also not on the wire: `broken_link`/`closed_entry` and the P/B-only fields
//! (`mv_mode`, intensity compensation, `b_picture_fraction`, `dq_*` ...). `POSTPROC` arrives
//! only as "non-zero" (`deblockEnable`) and is written as 1 (deblocking).
//! `frame_coding_mode` is derived from the bitstream (FCM, or the field start code), not taken
//! from the description: Mesa's virgl driver never writes that field. `coded_width`/
//! `coded_height` come from the codec's size ([`SurfaceMap::coded_size`]; required, as for
//! H.264 and MPEG-2).
//!
//! Known guest quirk: Mesa's VA frontend puts a frame start code (`0x0D`) in front of every
//! slice-data buffer that has none, and ffmpeg strips slice start codes, so an advanced-profile
//! picture with several slices from such a client arrives as several "frames"; each still
//! becomes its own VA slice (at vertical position 0, offset 0), the bitstream is not altered.

use libva_sys::va_display_drm::{
    VABufferType_VAPictureParameterBufferType, VABufferType_VASliceDataBufferType,
    VABufferType_VASliceParameterBufferType, VAPictureParameterBufferVC1,
    VASliceParameterBufferVC1, VA_SLICE_DATA_FLAG_ALL,
};
use virgl_protocol::video::{Vc1PictureDesc, VideoProfile};

use super::{joined_nonempty, resolve_ref, zeroed, SurfaceMap, VaBuffer, INVALID_SURFACE};
use crate::VideoError;

const CODEC: &str = "vc1";

/// Start-code suffixes (SMPTE 421M Annex E).
const SC_SLICE: u8 = 0x0B;
const SC_FIELD: u8 = 0x0C;
const SC_FRAME: u8 = 0x0D;

/// VA `picture_type` values.
const PTYPE_I: u8 = 0;
const PTYPE_P: u8 = 1;
const PTYPE_B: u8 = 2;
const PTYPE_BI: u8 = 3;

fn invalid(reason: impl Into<String>) -> VideoError {
    super::invalid(CODEC, reason)
}

/// MSB-first reader for picture-header fields; reads past the end fail (`None`).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// The 0 / 10 / 11 code used by TRANSACFRM and friends.
    fn code012(&mut self) -> Option<u32> {
        if self.bit()? == 0 {
            Some(0)
        } else {
            Some(1 + self.bit()?)
        }
    }
}

/// What a walked simple/main I/BI picture header gives.
#[derive(Debug, Default, PartialEq, Eq)]
struct SimpleHeader {
    picture_type: u8,
    range_reduction_frame: u32,
    half_qp: u32,
    /// 1 = uniform quantizer.
    uniform_quantizer: u32,
    mv_range: u32,
    resolution_index: u32,
    ac_codingset_idx1: u32,
    ac_codingset_idx2: u32,
    intra_dc_table: u32,
    /// Bits before the first macroblock.
    header_bits: usize,
}

/// Walks a simple/main-profile picture header. Returns the picture type alone (no offset)
/// for P and B pictures, whose headers hold bitplanes (see the module docs).
fn parse_simple_main(desc: &Vc1PictureDesc, data: &[u8]) -> Option<(u8, Option<SimpleHeader>)> {
    let mut r = Bits::new(data);
    if desc.finterpflag != 0 {
        r.bits(1)?; // INTERPFRM
    }
    r.bits(2)?; // FRMCNT
    let range_reduction_frame = if desc.rangered != 0 { r.bit()? } else { 0 };
    // PTYPE: with B frames allowed, 1 = P, 01 = I, 00 = B; else 1 = P, 0 = I.
    let mut ptype = if r.bit()? == 1 {
        PTYPE_P
    } else if desc.maxbframes == 0 || r.bit()? == 1 {
        PTYPE_I
    } else {
        PTYPE_B
    };
    if ptype == PTYPE_B {
        // BFRACTION: 3-bit codes 000..110, else 7-bit 1110000..1111111; 1111111 marks BI.
        let short = r.bits(3)?;
        if short == 7 && r.bits(4)? == 0xF {
            ptype = PTYPE_BI;
        }
    }
    if ptype != PTYPE_I && ptype != PTYPE_BI {
        return Some((ptype, None));
    }
    r.bits(7)?; // BF (buffer fullness)
    let pqindex = r.bits(5)?;
    if pqindex == 0 {
        return None; // forbidden value
    }
    let half_qp = if pqindex <= 8 { r.bit()? } else { 0 };
    let uniform_quantizer = match desc.quantizer {
        0 => u32::from(pqindex <= 8), // implicit: PQINDEX picks the quantizer
        1 => r.bit()?,                // explicit: PQUANTIZER
        2 => 0,                       // non-uniform for every picture
        _ => 1,                       // uniform for every picture
    };
    let mv_range = if desc.extended_mv != 0 {
        // 0, 10, 110, 111
        let mut v = 0;
        while v < 3 && r.bit()? == 1 {
            v += 1;
        }
        v
    } else {
        0
    };
    // RESPIC: I and P pictures; BI pictures follow the I layout here (as ffmpeg reads them).
    let resolution_index = if desc.multires != 0 { r.bits(2)? } else { 0 };
    let ac_codingset_idx1 = r.code012()?; // TRANSACFRM
    let ac_codingset_idx2 = r.code012()?; // TRANSACFRM2
    let intra_dc_table = r.bit()?; // TRANSDCTAB
    Some((
        ptype,
        Some(SimpleHeader {
            picture_type: ptype,
            range_reduction_frame,
            half_qp,
            uniform_quantizer,
            mv_range,
            resolution_index,
            ac_codingset_idx1,
            ac_codingset_idx2,
            intra_dc_table,
            header_bits: r.pos,
        }),
    ))
}

/// One slice found in the bitstream.
#[derive(Debug)]
struct Slice {
    /// Start-code suffix of the unit (`SC_*`), or `SC_FRAME` for start-code-less data.
    kind: u8,
    offset: usize,
    size: usize,
    vertical_position: u32,
    macroblock_offset: u32,
}

/// Positions of `00 00 01 xx` start codes (index of the first zero byte).
fn start_codes(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            out.push(i);
            i += 4;
        } else {
            i += 1;
        }
    }
    out
}

/// Splits advanced-profile data into frame/field/slice units.
fn split_advanced(data: &[u8]) -> Result<Vec<Slice>, VideoError> {
    let codes = start_codes(data);
    let mut slices = Vec::new();
    // Data before the first start code is a frame without its start code (Mesa adds one when
    // the client left it out, except for protected playback).
    let first = codes.first().copied().unwrap_or(data.len());
    if first > 0 {
        slices.push(Slice {
            kind: SC_FRAME,
            offset: 0,
            size: first,
            vertical_position: 0,
            macroblock_offset: 0,
        });
    }
    for (n, &at) in codes.iter().enumerate() {
        let kind = data[at + 3];
        let start = at + 4;
        let end = codes.get(n + 1).copied().unwrap_or(data.len());
        if !matches!(kind, SC_SLICE | SC_FIELD | SC_FRAME) {
            continue; // sequence header, entry point, user data, end of sequence
        }
        if end <= start {
            return Err(invalid(format!("empty unit after start code at byte {at}")));
        }
        let body = &data[start..end];
        let (vertical_position, macroblock_offset) = if kind == SC_SLICE {
            let mut r = Bits::new(body);
            let addr = r.bits(9).ok_or_else(|| invalid("slice header cut short"))?;
            let pic_header = r.bit().ok_or_else(|| invalid("slice header cut short"))?;
            // With a repeated picture header the first macroblock follows that header, which
            // cannot be walked here (see the module docs).
            (addr, if pic_header == 0 { 10 } else { 0 })
        } else {
            (0, 0)
        };
        slices.push(Slice {
            kind,
            offset: start,
            size: end - start,
            vertical_position,
            macroblock_offset,
        });
    }
    if slices.is_empty() {
        return Err(invalid("no frame, field or slice in the bitstream"));
    }
    Ok(slices)
}

/// Translates one VC-1 picture.
pub(super) fn translate(
    desc: &Vc1PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let profile = VideoProfile::from_raw(u32::from(desc.base.profile))
        .map_err(|_| invalid(format!("unknown profile {}", desc.base.profile)))?;
    // VA's sequence_fields.profile: 0 simple, 1 main, 3 advanced.
    let va_profile = match profile {
        VideoProfile::Vc1Simple => 0,
        VideoProfile::Vc1Main => 1,
        VideoProfile::Vc1Advanced => 3,
        other => return Err(invalid(format!("profile {other:?} is not a VC-1 profile"))),
    };
    let advanced = va_profile == 3;
    if desc.picture_type > 4 {
        return Err(invalid(format!("picture type {}", desc.picture_type)));
    }
    if desc.quantizer > 3 || desc.maxbframes > 7 || desc.pquant > 31 {
        return Err(invalid(format!(
            "quantizer {} / maxbframes {} / pquant {} out of range",
            desc.quantizer, desc.maxbframes, desc.pquant
        )));
    }
    if !advanced && (desc.interlace != 0 || desc.range_mapy_flag != 0 || desc.range_mapuv_flag != 0)
    {
        return Err(invalid(
            "advanced-profile tools in a simple/main-profile picture",
        ));
    }

    let (width, height) = super::coded_size(CODEC, surfaces)?;
    let (Ok(coded_width), Ok(coded_height)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(invalid(format!("coded size {width}x{height}")));
    };
    let data = joined_nonempty(CODEC, bitstreams)?;

    let mut header = None;
    let slices = if advanced {
        split_advanced(&data)?
    } else {
        let mut macroblock_offset = 0;
        if let Some((ptype, parsed)) = parse_simple_main(desc, &data) {
            if ptype != desc.picture_type {
                return Err(invalid(format!(
                    "picture type {} in the description, {ptype} in the bitstream",
                    desc.picture_type
                )));
            }
            if let Some(h) = parsed {
                macroblock_offset = h.header_bits as u32;
                header = Some(h);
            }
        }
        vec![Slice {
            kind: SC_FRAME,
            offset: 0,
            size: data.len(),
            vertical_position: 0,
            macroblock_offset,
        }]
    };
    if usize::try_from(desc.slice_count).ok() != Some(slices.len()) {
        tracing::debug!(
            described = desc.slice_count,
            found = slices.len(),
            "vc1: slice count differs from the bitstream; using the bitstream's"
        );
    }

    // Frame coding mode: 0 progressive, 2 frame interlace, 3 field interlace (VA numbering
    // follows FCM: 0, 10, 11 -> 0, 2, 3). Only the advanced profile has interlace.
    let first = &slices[0];
    let (fcm, is_first_field, top_field_first) = if advanced && desc.interlace != 0 {
        if first.kind == SC_FIELD {
            // A second field alone: its header has no FCM/TFF; the first field had them.
            (3, 0, 1)
        } else {
            let body = &data[first.offset..first.offset + first.size];
            let mut r = Bits::new(body);
            let fcm = match (r.bit(), r.bit()) {
                (Some(0), _) => 0,
                (Some(1), Some(0)) => 2,
                (Some(1), Some(1)) => 3,
                _ => return Err(invalid("picture header cut short")),
            };
            (fcm, 1, advanced_tff(desc, body))
        }
    } else {
        (0, 1, 1)
    };

    let mut va: VAPictureParameterBufferVC1 = zeroed();
    va.forward_reference_picture = resolve_ref(CODEC, surfaces, desc.r#ref[0])?;
    va.backward_reference_picture = resolve_ref(CODEC, surfaces, desc.r#ref[1])?;
    va.inloop_decoded_picture = INVALID_SURFACE;
    va.coded_width = coded_width;
    va.coded_height = coded_height;

    // SAFETY: the bitfield view of a union over one integer (as all union writes below);
    // every bit pattern is valid for both views.
    let seq = unsafe { &mut va.sequence_fields.bits };
    seq.set_pulldown(desc.pulldown.into());
    seq.set_interlace(desc.interlace.into());
    seq.set_tfcntrflag(desc.tfcntrflag.into());
    seq.set_finterpflag(desc.finterpflag.into());
    seq.set_psf(desc.psf.into());
    seq.set_multires(desc.multires.into());
    seq.set_overlap(desc.overlap.into());
    seq.set_syncmarker(desc.syncmarker.into());
    seq.set_rangered(desc.rangered.into());
    seq.set_max_b_frames(desc.maxbframes.into());
    seq.set_profile(va_profile);

    // SAFETY: as above.
    let ep = unsafe { &mut va.entrypoint_fields.bits };
    ep.set_panscan_flag(desc.panscan_flag.into());
    ep.set_loopfilter(desc.loopfilter.into());

    va.fast_uvmc_flag = desc.fastuvmc;
    // SAFETY: as above.
    let rm = unsafe { &mut va.range_mapping_fields.bits };
    rm.set_luma_flag(desc.range_mapy_flag.into());
    rm.set_luma(desc.range_mapy.into());
    rm.set_chroma_flag(desc.range_mapuv_flag.into());
    rm.set_chroma(desc.range_mapuv.into());
    va.post_processing = u8::from(desc.deblock_enable != 0);

    // SAFETY: as above.
    let pf = unsafe { &mut va.picture_fields.bits };
    pf.set_picture_type(desc.picture_type.into());
    pf.set_frame_coding_mode(fcm);
    pf.set_top_field_first(top_field_first);
    pf.set_is_first_field(is_first_field);

    // SAFETY: as above.
    let rf = unsafe { &mut va.reference_fields.bits };
    rf.set_reference_distance_flag(desc.refdist_flag.into());
    // SAFETY: as above.
    let mv = unsafe { &mut va.mv_fields.bits };
    mv.set_extended_mv_flag(desc.extended_mv.into());
    mv.set_extended_dmv_flag(desc.extended_dmv.into());
    // SAFETY: as above.
    let q = unsafe { &mut va.pic_quantizer_fields.bits };
    q.set_dquant(desc.dquant.into());
    q.set_quantizer(desc.quantizer.into());
    q.set_pic_quantizer_scale(desc.pquant.into());
    // SAFETY: as above.
    let tf = unsafe { &mut va.transform_fields.bits };
    tf.set_variable_sized_transform_flag(desc.vstransform.into());

    if let Some(h) = &header {
        va.range_reduction_frame = h.range_reduction_frame as u8;
        va.picture_resolution_index = h.resolution_index as u8;
        // SAFETY: as above.
        let q = unsafe { &mut va.pic_quantizer_fields.bits };
        q.set_half_qp(h.half_qp);
        q.set_pic_quantizer_type(h.uniform_quantizer);
        // SAFETY: as above.
        let mv = unsafe { &mut va.mv_fields.bits };
        mv.set_extended_mv_range(h.mv_range);
        // SAFETY: as above.
        let tf = unsafe { &mut va.transform_fields.bits };
        tf.set_transform_ac_codingset_idx1(h.ac_codingset_idx1);
        tf.set_transform_ac_codingset_idx2(h.ac_codingset_idx2);
        tf.set_intra_transform_dc_table(h.intra_dc_table);
        debug_assert_eq!(h.picture_type, desc.picture_type);
    }

    let va_slices: Vec<VASliceParameterBufferVC1> = slices
        .iter()
        .map(|s| {
            let mut v = zeroed::<VASliceParameterBufferVC1>();
            v.slice_data_offset = s.offset as u32;
            v.slice_data_size = s.size as u32;
            v.slice_data_flag = VA_SLICE_DATA_FLAG_ALL;
            v.macroblock_offset = s.macroblock_offset;
            v.slice_vertical_position = s.vertical_position;
            v
        })
        .collect();

    Ok(vec![
        VaBuffer::from_structs(VABufferType_VAPictureParameterBufferType, &[va]),
        VaBuffer::from_structs(VABufferType_VASliceParameterBufferType, &va_slices),
        VaBuffer::slice_data(VABufferType_VASliceDataBufferType, &data),
    ])
}

/// TFF of an interlaced advanced-profile frame header (SMPTE 421M 7.1.1: after FCM, PTYPE or
/// FPTYPE, and TFCNTR when `PULLDOWN` is set and the sequence is interlaced without PSF); 1,
/// the value the standard implies, in every other case.
fn advanced_tff(desc: &Vc1PictureDesc, body: &[u8]) -> u32 {
    fn walk(desc: &Vc1PictureDesc, body: &[u8]) -> Option<u32> {
        let mut r = Bits::new(body);
        // FCM: 0 progressive, 10 frame interlace, 11 field interlace.
        let field = r.bit()? == 1 && r.bit()? == 1;
        if field {
            r.bits(3)?; // FPTYPE
        } else {
            // PTYPE: 0, 10, 110, 1110, 1111.
            let mut n = 0;
            while n < 4 && r.bit()? == 1 {
                n += 1;
            }
        }
        if desc.tfcntrflag != 0 {
            r.bits(8)?; // TFCNTR
        }
        r.bit() // TFF
    }
    if desc.pulldown == 0 || desc.psf != 0 {
        return 1;
    }
    walk(desc, body).unwrap_or(1)
}
