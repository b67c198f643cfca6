//! VC-1: `virgl_vc1_picture_desc` -> VA buffers.

use virgl_protocol::video::Vc1PictureDesc;

use super::{SurfaceMap, VaBuffer};
use crate::VideoError;

/// Translates one VC-1 picture (not written yet: an explicit error, never a silent success).
pub(super) fn translate(
    desc: &Vc1PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    let _ = (desc, bitstreams, surfaces);
    Err(VideoError::NotImplemented)
}
