//! VP9: `virgl_vp9_picture_desc` -> VA buffers.

use virgl_protocol::video::Vp9PictureDesc;

use super::{SurfaceMap, VaBuffer};
use crate::VideoError;

/// Translates one VP9 picture (not written yet: an explicit error, never a silent success).
pub(super) fn translate(
    desc: &Vp9PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let _ = (desc, bitstreams, surfaces);
    Err(VideoError::NotImplemented)
}
