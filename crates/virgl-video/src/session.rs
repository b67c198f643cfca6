//! The video commands of guest contexts on one VA display.
//!
//! [`VideoBackend`] is renderer-wide: the display and the caps it reports. [`VideoContext`] is
//! one guest context's codecs (VA config + context) and video buffers (VA surface + the guest
//! resources backing its planes), keyed by the guest's handles.
//!
//! Command semantics (what Mesa's virgl video driver sends):
//! - `CREATE_VIDEO_CODEC`: gallium profile -> VA profile (unknown or unserved profiles and
//!   entrypoints other than decode are refused), `vaCreateConfig` + `vaCreateContext`.
//! - `CREATE_VIDEO_BUFFER`: a virgl format (NV12, P010, P016, IYUV, YV12, YUYV, UYVY,
//!   BGRA/RGBA/BGRX/RGBX) -> `vaCreateSurfaces`; the plane resources must exist.
//! - `BEGIN_FRAME` -> `vaBeginPicture`; `DECODE_BITSTREAM` reads the picture description from
//!   the DSC resource's guest backing and the bitstream from the buffer resource's backing
//!   (size checked against the backing), translates them ([`crate::translate`]) and renders
//!   the VA buffers; `END_FRAME` -> `vaEndPicture` + `vaSyncSurface`, then the decoded planes
//!   are copied into the guest resources of the target video buffer.
//!
//! Every check happens before the VA call it guards; a failing command leaves the context's
//! state as it was (a frame whose decode failed stays open so END_FRAME still closes it).
//!
//! Decoded surfaces reach the guest by copy (`vaDeriveImage`/`vaGetImage` + map, then a write
//! into each plane resource through [`VideoResources`]). Zero-copy import of the surface's
//! dma-bufs ([`crate::va::Surface::export`]) into the plane resources is not wired yet.

use std::collections::HashMap;
use std::os::fd::OwnedFd;

use virgl_protocol::caps::VideoCaps;
use virgl_protocol::command::{CreateVideoBuffer, CreateVideoCodec, DecodeBitstream, VideoFrame};
use virgl_protocol::format::VirglFormat;
use virgl_protocol::video::{PictureDesc, VideoEntrypoint, VideoProfile};

use crate::caps::{self, RT_RGB32, RT_YUV420, RT_YUV420_10, RT_YUV420_12, RT_YUV422};
use crate::translate::{self, SurfaceId, SurfaceMap, VaBuffer};
use crate::va::{self, Config, Display, Image, Surface, VaContext};
use crate::VideoError;

/// Largest bitstream one DECODE_BITSTREAM may name (a 8K intra frame fits many times over).
pub const MAX_BITSTREAM: u64 = 64 << 20;
/// Most video buffers one context may hold.
pub const MAX_OBJECTS: usize = 1024;
/// Most codecs one context may hold (each VA context holds driver memory sized by the picture).
pub const MAX_CODECS: usize = 64;
/// Most host memory the VA surfaces of one context may take (estimated from their formats): a
/// guest cannot make the host allocate without bound.
pub const MAX_SURFACE_BYTES: u64 = 4 << 30;
/// Largest coded picture side accepted before asking VA (VA drivers stop at 16384 or less).
pub const MAX_DIMENSION: u32 = 16384;

/// Access to the guest resources the video commands name, provided by the GL backend.
pub trait VideoResources {
    /// Size in bytes of the guest backing of `res_id` (`None`: unknown or not backed).
    fn backing_size(&mut self, res_id: u32) -> Option<u64>;
    /// Copies `dst.len()` bytes at `offset` of `res_id`'s guest backing into `dst`.
    fn read_backing(&mut self, res_id: u32, offset: u64, dst: &mut [u8]) -> Result<(), VideoError>;
    /// `(virgl format, width, height)` of a resource's level 0, `None` if unknown.
    fn resource_info(&mut self, res_id: u32) -> Option<(u32, u32, u32)>;
    /// Writes one plane into `res_id`'s level 0 (its whole width x height): row `y` starts at
    /// `offset + y * stride` of `data`.
    fn write_plane(
        &mut self,
        res_id: u32,
        data: &[u8],
        offset: usize,
        stride: usize,
    ) -> Result<(), VideoError>;
}

/// The renderer-wide video backend: one VA display and its caps.
pub struct VideoBackend {
    display: Display,
    caps: Vec<VideoCaps>,
}

impl std::fmt::Debug for VideoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoBackend")
            .field("display", &self.display)
            .field("caps", &self.caps.len())
            .finish()
    }
}

impl VideoBackend {
    /// Initialises VA on a DRM render-node fd (which the backend keeps) and queries the caps.
    pub fn new(drm_fd: OwnedFd) -> Result<Self, VideoError> {
        Self::with_display(Display::open(drm_fd)?)
    }

    /// A backend on an already open display.
    pub fn with_display(display: Display) -> Result<Self, VideoError> {
        let caps = caps::video_caps(&display)?;
        let vendor = display.vendor();
        tracing::info!(vendor, entries = caps.len(), "video backend");
        Ok(Self { display, caps })
    }

    /// The `video_caps[]` entries for caps v2.
    pub fn caps(&self) -> &[VideoCaps] {
        &self.caps
    }

    /// The VA display.
    pub fn display(&self) -> &Display {
        &self.display
    }

    /// Video state for a new guest context.
    pub fn new_context(&self) -> VideoContext {
        VideoContext {
            display: self.display.clone(),
            profiles: self.caps.iter().map(|c| c.profile()).collect(),
            codecs: HashMap::new(),
            buffers: HashMap::new(),
            surface_bytes: 0,
        }
    }
}

struct Codec {
    profile: VideoProfile,
    /// RT formats of the VA config: the surfaces this codec decodes into.
    rt_formats: u32,
    width: u32,
    height: u32,
    /// The VA context first (destroyed before its config).
    context: VaContext,
    _config: Config,
    /// Target video-buffer handle of the frame between BEGIN_FRAME and END_FRAME.
    frame: Option<u32>,
}

/// The RT formats a profile may decode into: 10-bit profiles into P010/P016, AV1 profile 0
/// (8 or 10 bits per stream) into NV12 or P010, JPEG also into 4:2:2 and RGB, the rest NV12.
fn surface_rt_formats(profile: VideoProfile) -> u32 {
    match profile {
        VideoProfile::HevcMain10 | VideoProfile::Vp9Profile2 => RT_YUV420_10 | RT_YUV420_12,
        VideoProfile::Av1Main => RT_YUV420 | RT_YUV420_10,
        VideoProfile::JpegBaseline => RT_YUV420 | RT_YUV422 | RT_RGB32,
        _ => RT_YUV420,
    }
}

/// What a video buffer's format is in VA terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BufferFormat {
    rt_format: u32,
    /// VA fourcc the surface is read back in.
    fourcc: u32,
    /// Planes of that fourcc, in order (what the guest's plane resources hold).
    planes: usize,
    /// Bytes per pixel, times two (NV12 is 1.5 bytes a pixel).
    bytes_x2: u64,
}

fn fourcc(code: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*code)
}

fn buffer_format(virgl_format: u32) -> Option<BufferFormat> {
    use VirglFormat as F;
    let f = F::from_raw(virgl_format)?;
    let (rt_format, code, planes, bytes_x2) = match f {
        F::Y8_U8V8_420_UNORM => (RT_YUV420, b"NV12", 2, 3),
        F::X6Y10_X6U10X6V10_420_UNORM => (RT_YUV420_10, b"P010", 2, 6),
        F::Y16_U16V16_420_UNORM => (RT_YUV420_12, b"P016", 2, 6),
        F::Y8_U8_V8_420_UNORM => (RT_YUV420, b"I420", 3, 3),
        F::Y8_V8_U8_420_UNORM => (RT_YUV420, b"YV12", 3, 3),
        F::Y8U8Y8V8_422_UNORM => (RT_YUV422, b"YUY2", 1, 4),
        F::U8Y8V8Y8_422_UNORM => (RT_YUV422, b"UYVY", 1, 4),
        F::B8G8R8A8_UNORM => (RT_RGB32, b"BGRA", 1, 8),
        F::R8G8B8A8_UNORM => (RT_RGB32, b"RGBA", 1, 8),
        F::B8G8R8X8_UNORM => (RT_RGB32, b"BGRX", 1, 8),
        F::R8G8B8X8_UNORM => (RT_RGB32, b"RGBX", 1, 8),
        _ => return None,
    };
    Some(BufferFormat {
        rt_format,
        fourcc: fourcc(code),
        planes,
        bytes_x2,
    })
}

/// Checks plane `i` of video buffer `b` against the resource the guest gave for it: the
/// format Mesa's `vl_video_buffer` uses for that plane and the plane's size (chroma planes of
/// 4:2:0 formats are half size in both directions).
fn check_plane(
    b: &CreateVideoBuffer<'_>,
    i: usize,
    format: u32,
    width: u32,
    height: u32,
) -> Result<(), VideoError> {
    use VirglFormat as F;
    let buffer = F::from_raw(b.format);
    let (r8, r8g8, r16, r16g16) = (
        F::R8_UNORM.raw(),
        F::R8G8_UNORM.raw(),
        F::R16_UNORM.raw(),
        F::R16G16_UNORM.raw(),
    );
    // `None`: any format (packed YUV, whose plane format virgl spells several ways).
    let (expected, subsampled) = match buffer {
        Some(F::Y8_U8V8_420_UNORM) => (Some([r8, r8g8][i.min(1)]), i > 0),
        Some(F::X6Y10_X6U10X6V10_420_UNORM | F::Y16_U16V16_420_UNORM) => {
            (Some([r16, r16g16][i.min(1)]), i > 0)
        }
        Some(F::Y8_U8_V8_420_UNORM | F::Y8_V8_U8_420_UNORM) => (Some(r8), i > 0),
        Some(F::Y8U8Y8V8_422_UNORM | F::U8Y8V8Y8_422_UNORM) => (None, false),
        _ => (Some(b.format), false),
    };
    if expected.is_some_and(|f| f != format) {
        return Err(invalid(format!(
            "plane {i} of a format {} buffer is a format {format} resource",
            b.format
        )));
    }
    let want = if subsampled {
        (b.width / 2, b.height / 2)
    } else {
        (b.width, b.height)
    };
    if (width, height) != want {
        return Err(invalid(format!(
            "plane {i} resource is {width}x{height}, the plane is {}x{}",
            want.0, want.1
        )));
    }
    Ok(())
}

struct VideoBuffer {
    format: BufferFormat,
    /// Estimated host bytes of the surface (counted against [`MAX_SURFACE_BYTES`]).
    bytes: u64,
    plane_handles: Vec<u32>,
    surface: Surface,
}

/// One guest context's video objects.
pub struct VideoContext {
    display: Display,
    /// Gallium profiles the caps list (what the driver decodes).
    profiles: Vec<u32>,
    codecs: HashMap<u32, Codec>,
    buffers: HashMap<u32, VideoBuffer>,
    /// Sum of the buffers' estimated surface bytes.
    surface_bytes: u64,
}

impl Drop for VideoContext {
    fn drop(&mut self) {
        // VA contexts (and any picture they have open) go before the surfaces they target.
        self.codecs.clear();
    }
}

impl std::fmt::Debug for VideoContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoContext")
            .field("codecs", &self.codecs.len())
            .field("buffers", &self.buffers.len())
            .finish()
    }
}

fn invalid(reason: impl Into<String>) -> VideoError {
    VideoError::InvalidCommand(reason.into())
}

/// Guest handles -> VA surfaces for one picture.
struct Surfaces<'a> {
    buffers: &'a HashMap<u32, VideoBuffer>,
    target: SurfaceId,
    coded: (u32, u32),
}

impl SurfaceMap for Surfaces<'_> {
    fn surface(&self, guest_handle: u32) -> Option<SurfaceId> {
        self.buffers.get(&guest_handle).map(|b| b.surface.id())
    }
    fn target(&self) -> Option<SurfaceId> {
        Some(self.target)
    }
    fn coded_size(&self) -> Option<(u32, u32)> {
        Some(self.coded)
    }
}

impl VideoContext {
    /// `CREATE_VIDEO_CODEC`.
    pub fn create_codec(&mut self, c: &CreateVideoCodec) -> Result<(), VideoError> {
        if c.handle == 0 || self.codecs.contains_key(&c.handle) {
            return Err(invalid(format!("codec handle {} in use or 0", c.handle)));
        }
        if self.codecs.len() >= MAX_CODECS {
            return Err(invalid("too many codecs"));
        }
        let profile = VideoProfile::from_raw(c.profile)
            .map_err(|_| VideoError::Unsupported(format!("video profile {}", c.profile)))?;
        let entrypoint = VideoEntrypoint::from_raw(c.entrypoint)
            .map_err(|_| invalid(format!("video entrypoint {}", c.entrypoint)))?;
        if entrypoint != VideoEntrypoint::Bitstream {
            return Err(VideoError::Unsupported(format!(
                "entrypoint {entrypoint:?} (this backend only decodes)"
            )));
        }
        let va_profile = caps::va_profile(profile)
            .filter(|_| self.profiles.contains(&(profile as u32)))
            .ok_or_else(|| {
                VideoError::Unsupported(format!("profile {profile:?} (not in the video caps)"))
            })?;
        if c.width == 0 || c.height == 0 || c.width > MAX_DIMENSION || c.height > MAX_DIMENSION {
            return Err(invalid(format!("codec size {}x{}", c.width, c.height)));
        }
        // The surface formats this profile decodes into, as far as the driver has them.
        let supported = self.display.config_attributes(
            va_profile,
            va::ENTRYPOINT_VLD,
            &[caps::ATTRIB_RT_FORMAT],
        )?[0];
        let rt_formats = surface_rt_formats(profile)
            & if supported == caps::ATTRIB_NOT_SUPPORTED {
                RT_YUV420
            } else {
                supported
            };
        if rt_formats == 0 {
            return Err(VideoError::Unsupported(format!(
                "{profile:?}: the driver decodes into none of its surface formats"
            )));
        }
        let config = self
            .display
            .create_config(va_profile, va::ENTRYPOINT_VLD, rt_formats)?;
        let context = config.create_context(c.width, c.height)?;
        self.codecs.insert(
            c.handle,
            Codec {
                profile,
                rt_formats,
                width: c.width,
                height: c.height,
                context,
                _config: config,
                frame: None,
            },
        );
        Ok(())
    }

    /// `DESTROY_VIDEO_CODEC` (unknown handles are ignored, as for other destroys).
    pub fn destroy_codec(&mut self, handle: u32) {
        self.codecs.remove(&handle);
    }

    /// `CREATE_VIDEO_BUFFER`: a VA surface for the guest's plane resources.
    pub fn create_buffer(
        &mut self,
        b: &CreateVideoBuffer<'_>,
        res: &mut dyn VideoResources,
    ) -> Result<(), VideoError> {
        if b.handle == 0 || self.buffers.contains_key(&b.handle) {
            return Err(invalid(format!(
                "video buffer handle {} in use or 0",
                b.handle
            )));
        }
        if self.buffers.len() >= MAX_OBJECTS {
            return Err(invalid("too many video buffers"));
        }
        let format = buffer_format(b.format)
            .ok_or_else(|| VideoError::Unsupported(format!("video buffer format {}", b.format)))?;
        if b.width == 0 || b.height == 0 || b.width > MAX_DIMENSION || b.height > MAX_DIMENSION {
            return Err(invalid(format!(
                "video buffer size {}x{}",
                b.width, b.height
            )));
        }
        if b.plane_handles.len() != format.planes {
            return Err(invalid(format!(
                "format {} has {} planes, the guest gave {} resources",
                b.format,
                format.planes,
                b.plane_handles.len()
            )));
        }
        for (i, &h) in b.plane_handles.iter().enumerate() {
            let (format, width, height) = res
                .resource_info(h)
                .ok_or_else(|| invalid(format!("plane resource {h} does not exist")))?;
            check_plane(b, i, format, width, height)?;
        }
        let bytes = u64::from(b.width) * u64::from(b.height) * format.bytes_x2 / 2;
        if self.surface_bytes + bytes > MAX_SURFACE_BYTES {
            return Err(invalid(format!(
                "video buffers of this context would take more than {MAX_SURFACE_BYTES} bytes"
            )));
        }
        let surface = self
            .display
            .create_surface(format.rt_format, b.width, b.height)?;
        self.surface_bytes += bytes;
        self.buffers.insert(
            b.handle,
            VideoBuffer {
                format,
                bytes,
                plane_handles: b.plane_handles.to_vec(),
                surface,
            },
        );
        Ok(())
    }

    /// `DESTROY_VIDEO_BUFFER`. Refused while the buffer is the target of an open frame (VA
    /// would finish that picture into a destroyed surface).
    pub fn destroy_buffer(&mut self, handle: u32) -> Result<(), VideoError> {
        if self.codecs.values().any(|c| c.frame == Some(handle)) {
            return Err(invalid(format!(
                "video buffer {handle} is the target of an open frame"
            )));
        }
        if let Some(b) = self.buffers.remove(&handle) {
            self.surface_bytes -= b.bytes;
        }
        Ok(())
    }

    fn codec_and_target(
        &mut self,
        f: &VideoFrame,
    ) -> Result<(&mut Codec, &VideoBuffer), VideoError> {
        let codec = self
            .codecs
            .get_mut(&f.codec_handle)
            .ok_or_else(|| invalid(format!("unknown codec {}", f.codec_handle)))?;
        let target = self
            .buffers
            .get(&f.target_handle)
            .ok_or_else(|| invalid(format!("unknown video buffer {}", f.target_handle)))?;
        Ok((codec, target))
    }

    /// `BEGIN_FRAME`.
    pub fn begin_frame(&mut self, f: &VideoFrame) -> Result<(), VideoError> {
        let (codec, target) = self.codec_and_target(f)?;
        if let Some(open) = codec.frame {
            return Err(invalid(format!(
                "BEGIN_FRAME while the frame into {open} is open"
            )));
        }
        if target.format.rt_format & codec.rt_formats == 0 {
            return Err(invalid(format!(
                "{:?} cannot decode into a surface of RT format {:#x}",
                codec.profile, target.format.rt_format
            )));
        }
        codec.context.begin_picture(&target.surface)?;
        codec.frame = Some(f.target_handle);
        Ok(())
    }

    /// `DECODE_BITSTREAM`: description and bitstream from guest resources, translated and
    /// rendered into the open frame.
    pub fn decode_bitstream(
        &mut self,
        d: &DecodeBitstream,
        res: &mut dyn VideoResources,
    ) -> Result<(), VideoError> {
        let codec = self
            .codecs
            .get(&d.codec_handle)
            .ok_or_else(|| invalid(format!("unknown codec {}", d.codec_handle)))?;
        if codec.frame != Some(d.target_handle) {
            return Err(invalid(format!(
                "DECODE_BITSTREAM into {} outside its BEGIN_FRAME/END_FRAME",
                d.target_handle
            )));
        }
        let target = self
            .buffers
            .get(&d.target_handle)
            .ok_or_else(|| invalid(format!("unknown video buffer {}", d.target_handle)))?;

        // The description: as much of the union as the backing holds (members are shorter
        // than the union; PictureDesc::decode checks the member's own size).
        let desc_size = res.backing_size(d.desc_handle).ok_or_else(|| {
            invalid(format!(
                "description resource {} has no backing",
                d.desc_handle
            ))
        })?;
        let desc_len =
            desc_size.min(virgl_protocol::video::PICTURE_DESC_UNION_SIZE as u64) as usize;
        let mut desc_bytes = vec![0u8; desc_len];
        res.read_backing(d.desc_handle, 0, &mut desc_bytes)?;
        let codec_family = codec
            .profile
            .codec()
            .ok_or_else(|| VideoError::Unsupported("profile without codec".into()))?;
        let desc = PictureDesc::decode(codec_family, VideoEntrypoint::Bitstream, &desc_bytes)
            .map_err(|e| invalid(format!("picture description: {e}")))?;

        // The bitstream: exactly buffer_size bytes, which the backing must hold.
        let size = u64::from(d.buffer_size);
        if size > MAX_BITSTREAM {
            return Err(invalid(format!("bitstream of {size} bytes")));
        }
        let backing = res.backing_size(d.buffer_handle).ok_or_else(|| {
            invalid(format!(
                "bitstream resource {} has no backing",
                d.buffer_handle
            ))
        })?;
        if size > backing {
            return Err(invalid(format!(
                "bitstream size {size} past its resource's {backing} bytes"
            )));
        }
        let mut bitstream = vec![0u8; size as usize];
        res.read_backing(d.buffer_handle, 0, &mut bitstream)?;

        let map = Surfaces {
            buffers: &self.buffers,
            target: target.surface.id(),
            coded: (codec.width, codec.height),
        };
        let buffers = translate::translate(&desc, &[&bitstream], &map)?;
        codec.context.render(&buffers)
    }

    /// Renders already translated VA buffers into the open frame of `codec_handle` (what
    /// DECODE_BITSTREAM does after translation; for callers that translate themselves).
    pub fn render_buffers(
        &mut self,
        codec_handle: u32,
        buffers: &[VaBuffer],
    ) -> Result<(), VideoError> {
        let codec = self
            .codecs
            .get(&codec_handle)
            .ok_or_else(|| invalid(format!("unknown codec {codec_handle}")))?;
        if codec.frame.is_none() {
            return Err(invalid("buffers rendered outside BEGIN_FRAME/END_FRAME"));
        }
        codec.context.render(buffers)
    }

    /// `END_FRAME`: finish and wait for the picture, then copy it into the guest resources of
    /// the target video buffer.
    pub fn end_frame(
        &mut self,
        f: &VideoFrame,
        res: &mut dyn VideoResources,
    ) -> Result<(), VideoError> {
        let (codec, target) = self.codec_and_target(f)?;
        if codec.frame != Some(f.target_handle) {
            return Err(invalid(format!(
                "END_FRAME into {} without its BEGIN_FRAME",
                f.target_handle
            )));
        }
        // The frame is closed whatever VA says: the guest cannot retry it.
        codec.frame = None;
        codec.context.end_picture()?;
        target.surface.sync()?;
        let image = target.surface.read(target.format.fourcc)?;
        copy_planes(&image, target, res)
    }

    /// Number of live codecs and video buffers (for tests and leak checks).
    pub fn object_counts(&self) -> (usize, usize) {
        (self.codecs.len(), self.buffers.len())
    }
}

/// Writes each plane of `image` into the matching plane resource of `target`.
fn copy_planes(
    image: &Image,
    target: &VideoBuffer,
    res: &mut dyn VideoResources,
) -> Result<(), VideoError> {
    if image.fourcc != target.format.fourcc || image.planes.len() < target.plane_handles.len() {
        return Err(VideoError::Unsupported(format!(
            "VA returned a {:#x} image with {} planes for a {:#x} buffer",
            image.fourcc,
            image.planes.len(),
            target.format.fourcc
        )));
    }
    for (plane, &res_id) in image.planes.iter().zip(&target.plane_handles) {
        res.write_plane(res_id, &image.data, plane.offset, plane.pitch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_formats() {
        let nv12 = buffer_format(166).unwrap();
        assert_eq!((nv12.rt_format, nv12.planes), (RT_YUV420, 2));
        assert_eq!(nv12.fourcc, fourcc(b"NV12"));
        assert_eq!(buffer_format(314).unwrap().rt_format, RT_YUV420_10);
        assert_eq!(buffer_format(165).unwrap().planes, 3);
        assert_eq!(buffer_format(15).unwrap().fourcc, fourcc(b"YUY2"));
        assert!(buffer_format(64).is_none(), "R8 is no video format");
        assert!(buffer_format(100_000).is_none());
    }
}
