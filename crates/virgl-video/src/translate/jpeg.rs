//! JPEG: `virgl_jpeg_picture_desc` -> VA buffers.

use virgl_protocol::video::MjpegPictureDesc;

use super::{SurfaceMap, VaBuffer};
use crate::VideoError;

/// Translates one JPEG picture (not written yet: an explicit error, never a silent success).
pub(super) fn translate(
    desc: &MjpegPictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let _ = (desc, bitstreams, surfaces);
    Err(VideoError::NotImplemented)
}
