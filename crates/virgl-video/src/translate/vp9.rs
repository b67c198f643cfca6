//! VP9: `virgl_vp9_picture_desc` -> `VADecPictureParameterBufferVP9`,
//! `VASliceParameterBufferVP9` and one slice-data buffer.
//!
//! The guest's description is Mesa's `pipe_vp9_picture_desc`, which Mesa's VA frontend filled
//! from the client's VA buffers; this is that mapping run backwards. VP9 has one "slice" per
//! frame: the whole compressed frame (uncompressed header, compressed header, tiles), located
//! by `slice_data_offset`/`slice_data_size` in the guest's bitstream, with the per-segment
//! parameters (`seg_param[8]`: reference, skip, loop-filter levels and dequantisation scales)
//! that the client computed from the frame header.
//!
//! Differences from upstream virglrenderer, all on purpose:
//! - `slice_data_flag` arrives as a gallium `pipe_slice_buffer_placement_type` (END = 3) and is
//!   mapped back to the VA flag (`VA_SLICE_DATA_FLAG_END` = 4); upstream copies it raw.
//! - The slice's offset and size are checked against the bitstream actually sent; a slice past
//!   the end is refused instead of letting the driver read past its buffer.
//! - Reference handles are resolved and checked; on key frames Mesa sends none (handle 0), which
//!   becomes `VA_INVALID_SURFACE`.
//!
//! Not translated: `ref[8..16]` of the description (gallium's array is 16 long; VP9 has 8
//! reference slots) and the delta-q / loop-filter delta fields of the description, which VA
//! does not carry (the client already folded them into `seg_param`).

use libva_sys::va_display_drm::{
    VABufferType_VAPictureParameterBufferType, VABufferType_VASliceDataBufferType,
    VABufferType_VASliceParameterBufferType, VADecPictureParameterBufferVP9,
    VASliceParameterBufferVP9, VA_SLICE_DATA_FLAG_ALL, VA_SLICE_DATA_FLAG_BEGIN,
    VA_SLICE_DATA_FLAG_END, VA_SLICE_DATA_FLAG_MIDDLE,
};
use virgl_protocol::video::{VideoProfile, Vp9PictureDesc};

use super::{joined_nonempty, resolve_ref, zeroed, SurfaceMap, VaBuffer};
use crate::VideoError;

const CODEC: &str = "vp9";

fn invalid(reason: impl Into<String>) -> VideoError {
    super::invalid(CODEC, reason)
}

/// Gallium's `pipe_slice_buffer_placement_type` -> VA's `VA_SLICE_DATA_FLAG_*`.
fn placement_to_va_flag(placement: u32) -> Result<u32, VideoError> {
    Ok(match placement {
        0 => VA_SLICE_DATA_FLAG_ALL,
        1 => VA_SLICE_DATA_FLAG_BEGIN,
        2 => VA_SLICE_DATA_FLAG_MIDDLE,
        3 => VA_SLICE_DATA_FLAG_END,
        other => return Err(invalid(format!("unknown slice placement {other}"))),
    })
}

/// Translates one VP9 frame.
pub(super) fn translate(
    desc: &Vp9PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let pp = &desc.picture_parameter;
    let f = &pp.pic_fields;

    // Profile: the codec's pipe profile and the frame's own profile must agree, and the bit
    // depth must be one the profile allows (0: 8-bit; 2: 10 or 12-bit).
    let profile = VideoProfile::from_raw(u32::from(desc.base.profile))
        .map_err(|_| invalid(format!("unknown profile {}", desc.base.profile)))?;
    let expected = match profile {
        VideoProfile::Vp9Profile0 => 0,
        VideoProfile::Vp9Profile2 => 2,
        other => return Err(invalid(format!("profile {other:?} is not a VP9 profile"))),
    };
    if pp.profile != expected {
        return Err(invalid(format!(
            "frame profile {} under a {profile:?} codec",
            pp.profile
        )));
    }
    match (pp.profile, pp.bit_depth) {
        (0, 8) | (2, 10) | (2, 12) => {}
        (p, d) => {
            return Err(invalid(format!(
                "bit depth {d} is not allowed in profile {p}"
            )))
        }
    }
    if pp.frame_width == 0 || pp.frame_height == 0 {
        return Err(invalid("zero frame size"));
    }
    // VP9 allows at most 64 tile columns (log2 6) and 4 tile rows (log2 2).
    if pp.log2_tile_columns > 6 || pp.log2_tile_rows > 2 {
        return Err(invalid(format!(
            "tile layout 2^{} x 2^{} is past VP9's limits",
            pp.log2_tile_columns, pp.log2_tile_rows
        )));
    }

    let data = joined_nonempty(CODEC, bitstreams)?;

    let mut va: VADecPictureParameterBufferVP9 = zeroed();
    va.frame_width = pp.frame_width;
    va.frame_height = pp.frame_height;
    for (slot, &handle) in va.reference_frames.iter_mut().zip(desc.r#ref.iter()) {
        *slot = resolve_ref(CODEC, surfaces, handle)?;
    }
    // SAFETY: writing the `bits` view of a bitfield union of integers; every bit pattern is a
    // valid value of both views.
    let bits = unsafe { &mut va.pic_fields.bits };
    bits.set_subsampling_x(f.subsampling_x());
    bits.set_subsampling_y(f.subsampling_y());
    bits.set_frame_type(f.frame_type());
    bits.set_show_frame(f.show_frame());
    bits.set_error_resilient_mode(f.error_resilient_mode());
    bits.set_intra_only(f.intra_only());
    bits.set_allow_high_precision_mv(f.allow_high_precision_mv());
    bits.set_mcomp_filter_type(f.mcomp_filter_type());
    bits.set_frame_parallel_decoding_mode(f.frame_parallel_decoding_mode());
    bits.set_reset_frame_context(f.reset_frame_context());
    bits.set_refresh_frame_context(f.refresh_frame_context());
    bits.set_frame_context_idx(f.frame_context_idx());
    bits.set_segmentation_enabled(f.segmentation_enabled());
    bits.set_segmentation_temporal_update(f.segmentation_temporal_update());
    bits.set_segmentation_update_map(f.segmentation_update_map());
    bits.set_last_ref_frame(f.last_ref_frame());
    bits.set_last_ref_frame_sign_bias(f.last_ref_frame_sign_bias());
    bits.set_golden_ref_frame(f.golden_ref_frame());
    bits.set_golden_ref_frame_sign_bias(f.golden_ref_frame_sign_bias());
    bits.set_alt_ref_frame(f.alt_ref_frame());
    bits.set_alt_ref_frame_sign_bias(f.alt_ref_frame_sign_bias());
    bits.set_lossless_flag(f.lossless_flag());
    va.filter_level = pp.filter_level;
    va.sharpness_level = pp.sharpness_level;
    va.log2_tile_rows = pp.log2_tile_rows;
    va.log2_tile_columns = pp.log2_tile_columns;
    va.frame_header_length_in_bytes = pp.frame_header_length_in_bytes;
    va.first_partition_size = pp.first_partition_size;
    va.mb_segment_tree_probs = pp.mb_segment_tree_probs;
    va.segment_pred_probs = pp.segment_pred_probs;
    va.profile = pp.profile;
    va.bit_depth = pp.bit_depth;

    // The slice: the frame's compressed data inside the bitstream. A size of 0 comes from a
    // guest whose client sent no slice parameters (Mesa then leaves the arrays zeroed): the
    // frame is everything from the offset on.
    let sp = &desc.slice_parameter;
    let offset = sp.slice_data_offset as usize;
    if offset >= data.len() {
        return Err(invalid(format!(
            "slice offset {offset} is past the {}-byte bitstream",
            data.len()
        )));
    }
    let size = if sp.slice_data_size == 0 {
        data.len() - offset
    } else {
        sp.slice_data_size as usize
    };
    if size > data.len() - offset {
        return Err(invalid(format!(
            "slice of {size} bytes at {offset} runs past the {}-byte bitstream",
            data.len()
        )));
    }
    // The uncompressed and compressed headers must lie inside the frame.
    let headers =
        usize::from(pp.frame_header_length_in_bytes) + usize::from(pp.first_partition_size);
    if headers > size {
        return Err(invalid(format!(
            "frame headers of {headers} bytes are longer than the {size}-byte frame"
        )));
    }

    let mut slice: VASliceParameterBufferVP9 = zeroed();
    slice.slice_data_offset = offset as u32;
    slice.slice_data_size = size as u32;
    slice.slice_data_flag = placement_to_va_flag(sp.slice_data_flag)?;
    for (dst, src) in slice.seg_param.iter_mut().zip(sp.seg_param.iter()) {
        let sf = &src.segment_flags;
        // The getters return at most 2 bits, so the `as u16` casts are exact.
        // SAFETY: writing the `fields` view of a bitfield union of one u16; every bit pattern
        // is valid for both views.
        let flags = unsafe { &mut dst.segment_flags.fields };
        flags.set_segment_reference_enabled(sf.segment_reference_enabled() as u16);
        flags.set_segment_reference(sf.segment_reference() as u16);
        flags.set_segment_reference_skipped(sf.segment_reference_skipped() as u16);
        dst.filter_level = src.filter_level;
        dst.luma_ac_quant_scale = src.luma_ac_quant_scale;
        dst.luma_dc_quant_scale = src.luma_dc_quant_scale;
        dst.chroma_ac_quant_scale = src.chroma_ac_quant_scale;
        dst.chroma_dc_quant_scale = src.chroma_dc_quant_scale;
    }

    Ok(vec![
        VaBuffer::from_structs(VABufferType_VAPictureParameterBufferType, &[va]),
        VaBuffer::from_structs(VABufferType_VASliceParameterBufferType, &[slice]),
        VaBuffer::slice_data(VABufferType_VASliceDataBufferType, &data),
    ])
}
