//! MPEG-1/2: `virgl_mpeg12_picture_desc` -> VA buffers.

use virgl_protocol::video::Mpeg12PictureDesc;

use super::{SurfaceMap, VaBuffer};
use crate::VideoError;

/// Translates one MPEG-1/2 picture (not written yet: an explicit error, never a silent success).
pub(super) fn translate(
    desc: &Mpeg12PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let _ = (desc, bitstreams, surfaces);
    Err(VideoError::NotImplemented)
}
