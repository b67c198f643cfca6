//! HEVC: `virgl_hevc_picture_desc` -> VA buffers.

use virgl_protocol::video::H265PictureDesc;

use super::{SurfaceMap, VaBuffer};
use crate::VideoError;

/// Translates one HEVC picture (not written yet: an explicit error, never a silent success).
pub(super) fn translate(
    desc: &H265PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let _ = (desc, bitstreams, surfaces);
    Err(VideoError::NotImplemented)
}
