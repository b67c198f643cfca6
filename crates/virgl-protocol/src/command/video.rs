//! Video commands (`VIRGL_CCMD_CREATE_VIDEO_CODEC` .. `END_FRAME`, ids 53–61).
//!
//! Only the command framing lives here; picture descriptions travel in a resource and are
//! decoded by [`crate::video`]'s owner, the codec work by `virgl-video`. Upstream accepts
//! longer payloads for these commands and ignores the tail; we accept exactly what Mesa sends.

use super::reader::{Reader, Result};

/// `CREATE_VIDEO_CODEC`: 7 dwords, or 8 with `max_references` (host feature version >= 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateVideoCodec {
    pub handle: u32,
    /// `pipe_video_profile`.
    pub profile: u32,
    /// `pipe_video_entrypoint`.
    pub entrypoint: u32,
    /// `pipe_video_chroma_format`.
    pub chroma_format: u32,
    pub level: u32,
    pub width: u32,
    pub height: u32,
    /// Absent: upstream's default of 2.
    pub max_references: Option<u32>,
}

impl CreateVideoCodec {
    pub const MIN_SIZE: usize = 7;
    /// Reference frame count used when the guest does not send one.
    pub const DEFAULT_MAX_REFERENCES: u32 = 2;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        if r.len() != 7 && r.len() != 8 {
            return Err(r.bad_len("VIRGL_CREATE_VIDEO_CODEC_MIN_SIZE 7, or 8 with max_ref"));
        }
        Ok(CreateVideoCodec {
            handle: r.dw(1),
            profile: r.dw(2),
            entrypoint: r.dw(3),
            chroma_format: r.dw(4),
            level: r.dw(5),
            width: r.dw(6),
            height: r.dw(7),
            max_references: (r.len() == 8).then(|| r.dw(8)),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.profile,
            self.entrypoint,
            self.chroma_format,
            self.level,
            self.width,
            self.height,
        ]);
        if let Some(m) = self.max_references {
            out.push(m);
        }
    }

    pub fn max_references(&self) -> u32 {
        self.max_references.unwrap_or(Self::DEFAULT_MAX_REFERENCES)
    }
}

/// `CREATE_VIDEO_BUFFER`: `4 + planes` dwords, 1..=3 plane resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateVideoBuffer<'a> {
    pub handle: u32,
    /// `virgl_formats` value of the whole buffer (e.g. NV12).
    pub format: u32,
    pub width: u32,
    pub height: u32,
    /// One resource handle per plane.
    pub plane_handles: &'a [u32],
}

impl<'a> CreateVideoBuffer<'a> {
    /// Upstream's `VREND_VIDEO_BUFFER_PLANE_NUM`.
    pub const MAX_PLANES: usize = 3;

    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        if r.len() < 5 || r.len() > 4 + Self::MAX_PLANES {
            return Err(r.bad_len("VIRGL_CREATE_VIDEO_BUFFER_MIN_SIZE 5 .. 4 + 3 planes"));
        }
        Ok(CreateVideoBuffer {
            handle: r.dw(1),
            format: r.dw(2),
            width: r.dw(3),
            height: r.dw(4),
            plane_handles: r.tail(5),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.handle, self.format, self.width, self.height]);
        out.extend_from_slice(self.plane_handles);
    }
}

/// `BEGIN_FRAME` / `END_FRAME` (2 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoFrame {
    pub codec_handle: u32,
    /// Video buffer handle.
    pub target_handle: u32,
}

/// `DECODE_BITSTREAM` (5 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeBitstream {
    pub codec_handle: u32,
    pub target_handle: u32,
    /// Resource holding a `virgl_picture_desc`.
    pub desc_handle: u32,
    /// Resource holding the bitstream.
    pub buffer_handle: u32,
    pub buffer_size: u32,
}

/// `ENCODE_BITSTREAM` (5 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeBitstream {
    pub codec_handle: u32,
    /// Video buffer to encode.
    pub source_handle: u32,
    /// Resource receiving the coded bitstream.
    pub dest_handle: u32,
    pub desc_handle: u32,
    /// Resource receiving encode feedback.
    pub feedback_handle: u32,
}
