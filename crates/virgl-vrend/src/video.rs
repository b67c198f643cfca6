//! Video commands of a GL context, handed to `virgl-video` when the renderer has a video
//! backend (`USE_VIDEO` and a DRM fd).
//!
//! This is only the seam: [`GlVideoResources`] gives the video session the context's attached
//! resources (guest backings for picture descriptions and bitstreams, GL storage for decoded
//! planes). As upstream does, a video command that fails (bad handle, bad description, VA
//! error) is logged and dropped without breaking the GL context; the video session checks
//! everything before calling VA. Without a video backend the commands are refused with
//! `Unsupported`, and encode is refused in any case.

use std::collections::HashSet;

use virgl_protocol::command::Command;
use virgl_resource::{
    ContextError, GuestMemory, ResourceError, ResourceResult, TransferDirection, TransferRequest,
};
use virgl_video::{VideoContext, VideoError, VideoResources};

use crate::backend::{transfer, Shared};
use crate::context::BackingLookup;

/// The context's resources as the video session sees them.
struct GlVideoResources<'a> {
    shared: &'a Shared,
    attached: &'a HashSet<u32>,
    backings: &'a mut dyn BackingLookup,
}

impl VideoResources for GlVideoResources<'_> {
    fn backing_size(&mut self, res_id: u32) -> Option<u64> {
        if !self.attached.contains(&res_id) {
            return None;
        }
        self.backings.backing(res_id).map(|m| m.size())
    }

    fn read_backing(&mut self, res_id: u32, offset: u64, dst: &mut [u8]) -> Result<(), VideoError> {
        if !self.attached.contains(&res_id) {
            return Err(VideoError::InvalidCommand(format!(
                "resource {res_id} is not attached to this context"
            )));
        }
        let mem = self.backings.backing(res_id).ok_or_else(|| {
            VideoError::InvalidCommand(format!("resource {res_id} has no guest backing"))
        })?;
        Ok(mem.read_at(offset, dst)?)
    }

    fn resource_info(&mut self, res_id: u32) -> Option<(u32, u32, u32)> {
        if !self.attached.contains(&res_id) {
            return None;
        }
        let resources = self.shared.resources.borrow();
        let a = &resources.get(&res_id)?.args;
        Some((a.format, a.width, a.height))
    }

    fn write_plane(
        &mut self,
        res_id: u32,
        data: &[u8],
        offset: usize,
        stride: usize,
    ) -> Result<(), VideoError> {
        let (_, width, height) = self.resource_info(res_id).ok_or_else(|| {
            VideoError::InvalidCommand(format!("plane resource {res_id} is gone"))
        })?;
        let req = TransferRequest {
            res_id,
            width,
            height,
            depth: 1,
            stride: u32::try_from(stride)
                .map_err(|_| VideoError::InvalidCommand("plane stride".into()))?,
            offset: offset as u64,
            ..Default::default()
        };
        let mut src = ReadOnly(data);
        transfer(
            &self.shared.host,
            &self.shared.resources.borrow(),
            &req,
            TransferDirection::ToHost,
            &mut src,
        )
        .map_err(|e| VideoError::InvalidCommand(format!("plane {res_id}: {e}")))
    }
}

/// Decoded plane bytes as transfer source (ToHost transfers only read their memory).
struct ReadOnly<'a>(&'a [u8]);

impl GuestMemory for ReadOnly<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> ResourceResult<()> {
        self.0.read_at(offset, dst)
    }
    fn write_at(&mut self, offset: u64, src: &[u8]) -> ResourceResult<()> {
        Err(ResourceError::OutOfBounds {
            what: "read-only decoded plane",
            offset,
            len: src.len() as u64,
            size: 0,
        })
    }
}

/// Runs one video command of context `ctx_id`.
pub(crate) fn execute(
    shared: &Shared,
    ctx_id: u32,
    attached: &HashSet<u32>,
    video: &mut Option<VideoContext>,
    command: Command<'_>,
    backings: &mut dyn BackingLookup,
) -> Result<(), ContextError> {
    let Some(video) = video else {
        return Err(ContextError::Unsupported(
            "video commands without a video backend (USE_VIDEO and a DRM fd)",
        ));
    };
    let mut res = GlVideoResources {
        shared,
        attached,
        backings,
    };
    let result = match &command {
        Command::CreateVideoCodec(c) => video.create_codec(c),
        Command::DestroyVideoCodec { handle } => {
            video.destroy_codec(*handle);
            Ok(())
        }
        Command::CreateVideoBuffer(b) => video.create_buffer(b, &mut res),
        Command::DestroyVideoBuffer { handle } => video.destroy_buffer(*handle),
        Command::BeginFrame(f) => video.begin_frame(f),
        Command::DecodeBitstream(d) => video.decode_bitstream(d, &mut res),
        Command::EndFrame(f) => video.end_frame(f, &mut res),
        Command::EncodeBitstream(_) => {
            return Err(ContextError::Unsupported("video encode"));
        }
        Command::DecodeMacroblock(_) => {
            return Err(ContextError::Unsupported("DECODE_MACROBLOCK"));
        }
        _ => return Err(ContextError::InvalidCommand("not a video command".into())),
    };
    if let Err(error) = result {
        tracing::warn!(ctx_id, %error, ?command, "video command failed (dropped)");
    }
    Ok(())
}
