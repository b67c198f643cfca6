//! Video picture descriptions: `union virgl_picture_desc` and its members from
//! `virgl_video_hw.h`, the profile numbering they are selected by, and the encode feedback
//! record.
//!
//! The guest writes one `union virgl_picture_desc` (5132 bytes on x86_64) into a resource and
//! names it in `DECODE_BITSTREAM`/`ENCODE_BITSTREAM`; which member is meant follows from the
//! profile of the codec object the command targets. [`PictureDesc::decode`] reads that member at
//! its exact C layout. Handles inside (`ref[]`, `buffer_id[]`) are guest resource/buffer ids
//! that the video backend must resolve and validate; array counts such as `slice_count` are
//! guest-controlled and are *not* trusted here either.
//!
//! This module does not talk to VA-API; `virgl-video` maps these structs to VA buffers.

mod desc;

pub use desc::*;

use crate::wire::{wire_struct, Wire};
use crate::ProtocolError;

/// `sizeof(union virgl_picture_desc)` on x86_64 (sized by the AV1 member).
pub const PICTURE_DESC_UNION_SIZE: usize = 5132;

/// `enum pipe_video_profile` as numbered by virglrenderer 1.3.0's gallium headers, which is the
/// numbering the guest's `base.profile` and codec-creation commands use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum VideoProfile {
    Unknown = 0,
    Mpeg1 = 1,
    Mpeg2Simple = 2,
    Mpeg2Main = 3,
    Mpeg4Simple = 4,
    Mpeg4AdvancedSimple = 5,
    Vc1Simple = 6,
    Vc1Main = 7,
    Vc1Advanced = 8,
    H264Baseline = 9,
    H264ConstrainedBaseline = 10,
    H264Main = 11,
    H264Extended = 12,
    H264High = 13,
    H264High10 = 14,
    H264High422 = 15,
    H264High444 = 16,
    HevcMain = 17,
    HevcMain10 = 18,
    HevcMainStill = 19,
    HevcMain12 = 20,
    HevcMain444 = 21,
    JpegBaseline = 22,
    Vp9Profile0 = 23,
    Vp9Profile2 = 24,
    Av1Main = 25,
}

impl VideoProfile {
    /// The profile with wire value `v`.
    pub fn from_raw(v: u32) -> Result<Self, ProtocolError> {
        use VideoProfile::*;
        const ALL: [VideoProfile; 26] = [
            Unknown,
            Mpeg1,
            Mpeg2Simple,
            Mpeg2Main,
            Mpeg4Simple,
            Mpeg4AdvancedSimple,
            Vc1Simple,
            Vc1Main,
            Vc1Advanced,
            H264Baseline,
            H264ConstrainedBaseline,
            H264Main,
            H264Extended,
            H264High,
            H264High10,
            H264High422,
            H264High444,
            HevcMain,
            HevcMain10,
            HevcMainStill,
            HevcMain12,
            HevcMain444,
            JpegBaseline,
            Vp9Profile0,
            Vp9Profile2,
            Av1Main,
        ];
        ALL.get(v as usize)
            .copied()
            .ok_or(ProtocolError::InvalidValue {
                what: "pipe_video_profile",
                value: u64::from(v),
            })
    }

    /// The codec family (`enum pipe_video_format`) of this profile; `None` for `Unknown`.
    pub fn codec(self) -> Option<VideoCodec> {
        use VideoProfile::*;
        Some(match self {
            Unknown => return None,
            Mpeg1 | Mpeg2Simple | Mpeg2Main => VideoCodec::Mpeg12,
            Mpeg4Simple | Mpeg4AdvancedSimple => VideoCodec::Mpeg4,
            Vc1Simple | Vc1Main | Vc1Advanced => VideoCodec::Vc1,
            H264Baseline
            | H264ConstrainedBaseline
            | H264Main
            | H264Extended
            | H264High
            | H264High10
            | H264High422
            | H264High444 => VideoCodec::H264,
            HevcMain | HevcMain10 | HevcMainStill | HevcMain12 | HevcMain444 => VideoCodec::Hevc,
            JpegBaseline => VideoCodec::Jpeg,
            Vp9Profile0 | Vp9Profile2 => VideoCodec::Vp9,
            Av1Main => VideoCodec::Av1,
        })
    }
}

/// `enum pipe_video_format`: the codec family, which selects the union member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum VideoCodec {
    /// MPEG-1/2.
    Mpeg12 = 1,
    /// MPEG-4 part 2.
    Mpeg4 = 2,
    /// VC-1 / WMV.
    Vc1 = 3,
    /// H.264 / AVC.
    H264 = 4,
    /// H.265 / HEVC.
    Hevc = 5,
    /// JPEG.
    Jpeg = 6,
    /// VP9.
    Vp9 = 7,
    /// AV1.
    Av1 = 8,
}

/// `enum pipe_video_entrypoint` values that matter to virgl.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum VideoEntrypoint {
    /// Unknown.
    Unknown = 0,
    /// Decode from a bitstream.
    Bitstream = 1,
    /// IDCT acceleration (unused by virgl).
    Idct = 2,
    /// Motion compensation (unused by virgl).
    Mc = 3,
    /// Encode.
    Encode = 4,
}

impl VideoEntrypoint {
    /// The entrypoint with wire value `v`.
    pub fn from_raw(v: u32) -> Result<Self, ProtocolError> {
        Ok(match v {
            0 => Self::Unknown,
            1 => Self::Bitstream,
            2 => Self::Idct,
            3 => Self::Mc,
            4 => Self::Encode,
            _ => {
                return Err(ProtocolError::InvalidValue {
                    what: "pipe_video_entrypoint",
                    value: u64::from(v),
                })
            }
        })
    }
}

/// One decoded member of `union virgl_picture_desc`. Members are boxed: the largest is 5 KiB.
#[derive(Clone, Debug, PartialEq)]
pub enum PictureDesc {
    /// H.264 decode.
    H264(Box<H264PictureDesc>),
    /// H.265 decode (Main and Main10).
    H265(Box<H265PictureDesc>),
    /// MPEG-4 part 2 (upstream has the struct but no decode path).
    Mpeg4(Box<Mpeg4PictureDesc>),
    /// MPEG-1/2 decode.
    Mpeg12(Box<Mpeg12PictureDesc>),
    /// JPEG decode.
    Mjpeg(Box<MjpegPictureDesc>),
    /// VC-1 decode.
    Vc1(Box<Vc1PictureDesc>),
    /// VP9 decode.
    Vp9(Box<Vp9PictureDesc>),
    /// AV1 decode.
    Av1(Box<Av1PictureDesc>),
    /// H.264 encode.
    H264Enc(Box<H264EncPictureDesc>),
    /// H.265 encode.
    H265Enc(Box<H265EncPictureDesc>),
}

impl PictureDesc {
    /// Decode the member that `codec` and `entrypoint` select from the start of `bytes`.
    ///
    /// `bytes` needs to hold only that member (upstream copies the whole union, but the tail is
    /// unused); trailing bytes are ignored. Encode is only defined for H.264 and HEVC.
    pub fn decode(
        codec: VideoCodec,
        entrypoint: VideoEntrypoint,
        bytes: &[u8],
    ) -> Result<Self, ProtocolError> {
        let encode = entrypoint == VideoEntrypoint::Encode;
        Ok(match (codec, encode) {
            (VideoCodec::H264, false) => Self::H264(Box::new(H264PictureDesc::decode(bytes)?)),
            (VideoCodec::Hevc, false) => Self::H265(Box::new(H265PictureDesc::decode(bytes)?)),
            (VideoCodec::Mpeg4, false) => Self::Mpeg4(Box::new(Mpeg4PictureDesc::decode(bytes)?)),
            (VideoCodec::Mpeg12, false) => {
                Self::Mpeg12(Box::new(Mpeg12PictureDesc::decode(bytes)?))
            }
            (VideoCodec::Jpeg, false) => Self::Mjpeg(Box::new(MjpegPictureDesc::decode(bytes)?)),
            (VideoCodec::Vc1, false) => Self::Vc1(Box::new(Vc1PictureDesc::decode(bytes)?)),
            (VideoCodec::Vp9, false) => Self::Vp9(Box::new(Vp9PictureDesc::decode(bytes)?)),
            (VideoCodec::Av1, false) => Self::Av1(Box::new(Av1PictureDesc::decode(bytes)?)),
            (VideoCodec::H264, true) => Self::H264Enc(Box::new(H264EncPictureDesc::decode(bytes)?)),
            (VideoCodec::Hevc, true) => Self::H265Enc(Box::new(H265EncPictureDesc::decode(bytes)?)),
            (other, true) => {
                return Err(ProtocolError::InvalidValue {
                    what: "video encode codec",
                    value: other as u64,
                })
            }
        })
    }

    /// The `base` member every description starts with.
    pub fn base(&self) -> &BasePictureDesc {
        match self {
            Self::H264(d) => &d.base,
            Self::H265(d) => &d.base,
            Self::Mpeg4(d) => &d.base,
            Self::Mpeg12(d) => &d.base,
            Self::Mjpeg(d) => &d.base,
            Self::Vc1(d) => &d.base,
            Self::Vp9(d) => &d.base,
            Self::Av1(d) => &d.base,
            Self::H264Enc(d) => &d.base,
            Self::H265Enc(d) => &d.base,
        }
    }

    /// Encode as a full union: the member's bytes, zero-padded to
    /// [`PICTURE_DESC_UNION_SIZE`].
    pub fn to_union_bytes(&self) -> Vec<u8> {
        let mut out = match self {
            Self::H264(d) => d.encode(),
            Self::H265(d) => d.encode(),
            Self::Mpeg4(d) => d.encode(),
            Self::Mpeg12(d) => d.encode(),
            Self::Mjpeg(d) => d.encode(),
            Self::Vc1(d) => d.encode(),
            Self::Vp9(d) => d.encode(),
            Self::Av1(d) => d.encode(),
            Self::H264Enc(d) => d.encode(),
            Self::H265Enc(d) => d.encode(),
        };
        out.resize(PICTURE_DESC_UNION_SIZE, 0);
        out
    }
}

/// `enum virgl_video_encode_stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EncodeStat {
    /// Not started.
    NotStarted = 0,
    /// In progress.
    InProgress = 1,
    /// Done; `coded_size` is valid.
    Success = 2,
    /// Failed.
    Failure = 3,
}

wire_struct! {
    /// `struct virgl_video_encode_feedback` (8 bytes), written by the host after an encode.
    pub struct EncodeFeedback {
        /// An [`EncodeStat`] value.
        pub stat: u8,
        pub reserved: [u8; 3],
        /// Size of the encoded data in bytes.
        pub coded_size: u32,
    }
}

impl EncodeFeedback {
    /// A feedback record with `stat` and `coded_size`.
    pub fn new(stat: EncodeStat, coded_size: u32) -> Self {
        Self {
            stat: stat as u8,
            reserved: [0; 3],
            coded_size,
        }
    }
}

#[cfg(test)]
mod tests;
