//! H.264: `virgl_h264_picture_desc` -> VA buffers.

use virgl_protocol::video::H264PictureDesc;

use super::{SurfaceMap, VaBuffer};
use crate::VideoError;

/// Translates one H.264 picture (not written yet: an explicit error, never a silent success).
pub(super) fn translate(
    desc: &H264PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let _ = (desc, bitstreams, surfaces);
    Err(VideoError::NotImplemented)
}
