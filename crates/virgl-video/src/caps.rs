//! `virgl_video_caps` entries (caps v2 `video_caps[]`) from what the VA driver reports, and the
//! gallium <-> VA profile mapping they and the session share.
//!
//! Every entry comes from `vaQueryConfigProfiles`, `vaQueryConfigEntrypoints` and
//! `vaGetConfigAttributes` (max picture size, RT formats); nothing is hard-coded. Only decode
//! (VLD) of profiles this backend translates is listed: the guest must not be told about
//! what it cannot use.

use virgl_protocol::caps::VideoCaps;
use virgl_protocol::format::VirglFormat;
use virgl_protocol::video::{VideoEntrypoint, VideoProfile};

use crate::va::{self, Display, Profile};
use crate::VideoError;

/// `video_caps[]` holds at most this many entries.
pub const MAX_VIDEO_CAPS: usize = 32;

// VAProfile numbers (va.h; stable ABI).
const VA_MPEG2_SIMPLE: Profile = 0;
const VA_MPEG2_MAIN: Profile = 1;
const VA_H264_MAIN: Profile = 6;
const VA_H264_HIGH: Profile = 7;
const VA_VC1_SIMPLE: Profile = 8;
const VA_VC1_MAIN: Profile = 9;
const VA_VC1_ADVANCED: Profile = 10;
const VA_JPEG_BASELINE: Profile = 12;
const VA_H264_CONSTRAINED_BASELINE: Profile = 13;
const VA_HEVC_MAIN: Profile = 17;
const VA_HEVC_MAIN10: Profile = 18;
const VA_VP9_PROFILE0: Profile = 19;
const VA_VP9_PROFILE2: Profile = 21;
const VA_AV1_PROFILE0: Profile = 32;

// VAConfigAttribType values.
pub(crate) const ATTRIB_RT_FORMAT: u32 = 0;
const ATTRIB_MAX_WIDTH: u32 = 18;
const ATTRIB_MAX_HEIGHT: u32 = 19;
/// `VA_ATTRIB_NOT_SUPPORTED`.
pub(crate) const ATTRIB_NOT_SUPPORTED: u32 = 0x8000_0000;

/// `VA_RT_FORMAT_YUV420` / `_YUV420_10` / `_YUV420_12`.
pub const RT_YUV420: u32 = 0x1;
pub const RT_YUV420_10: u32 = 0x100;
pub const RT_YUV420_12: u32 = 0x1000;
/// `VA_RT_FORMAT_YUV422`.
pub const RT_YUV422: u32 = 0x2;
/// `VA_RT_FORMAT_RGB32`.
pub const RT_RGB32: u32 = 0x2_0000;

/// The VA profile decoding a gallium profile, `None` where this backend has no decode path.
pub fn va_profile(profile: VideoProfile) -> Option<Profile> {
    use VideoProfile as P;
    Some(match profile {
        P::Mpeg2Simple => VA_MPEG2_SIMPLE,
        P::Mpeg2Main => VA_MPEG2_MAIN,
        P::Vc1Simple => VA_VC1_SIMPLE,
        P::Vc1Main => VA_VC1_MAIN,
        P::Vc1Advanced => VA_VC1_ADVANCED,
        // Gallium's "baseline" is what VA calls constrained baseline (as upstream maps it).
        P::H264Baseline | P::H264ConstrainedBaseline => VA_H264_CONSTRAINED_BASELINE,
        P::H264Main => VA_H264_MAIN,
        P::H264High => VA_H264_HIGH,
        P::HevcMain => VA_HEVC_MAIN,
        P::HevcMain10 => VA_HEVC_MAIN10,
        P::JpegBaseline => VA_JPEG_BASELINE,
        P::Vp9Profile0 => VA_VP9_PROFILE0,
        P::Vp9Profile2 => VA_VP9_PROFILE2,
        P::Av1Main => VA_AV1_PROFILE0,
        _ => return None,
    })
}

/// The gallium profile a VA profile is reported as, `None` for profiles we do not serve.
pub fn pipe_profile(profile: Profile) -> Option<VideoProfile> {
    use VideoProfile as P;
    Some(match profile {
        VA_MPEG2_SIMPLE => P::Mpeg2Simple,
        VA_MPEG2_MAIN => P::Mpeg2Main,
        VA_VC1_SIMPLE => P::Vc1Simple,
        VA_VC1_MAIN => P::Vc1Main,
        VA_VC1_ADVANCED => P::Vc1Advanced,
        VA_H264_CONSTRAINED_BASELINE => P::H264Baseline,
        VA_H264_MAIN => P::H264Main,
        VA_H264_HIGH => P::H264High,
        VA_HEVC_MAIN => P::HevcMain,
        VA_HEVC_MAIN10 => P::HevcMain10,
        VA_JPEG_BASELINE => P::JpegBaseline,
        VA_VP9_PROFILE0 => P::Vp9Profile0,
        VA_VP9_PROFILE2 => P::Vp9Profile2,
        VA_AV1_PROFILE0 => P::Av1Main,
        _ => return None,
    })
}

/// The surface format a guest should prefer for RT formats `rt` (8-bit 4:2:0 first).
fn preferred_format(rt: u32) -> VirglFormat {
    if rt & RT_YUV420 != 0 {
        VirglFormat::Y8_U8V8_420_UNORM
    } else if rt & RT_YUV420_10 != 0 {
        VirglFormat::X6Y10_X6U10X6V10_420_UNORM
    } else if rt & RT_YUV420_12 != 0 {
        VirglFormat::Y16_U16V16_420_UNORM
    } else if rt & RT_RGB32 != 0 {
        VirglFormat::B8G8R8A8_UNORM
    } else {
        VirglFormat::NONE
    }
}

/// One caps entry for a (profile, VLD) pair the driver reported.
fn entry(display: &Display, va: Profile, pipe: VideoProfile) -> Result<VideoCaps, VideoError> {
    let values = display.config_attributes(
        va,
        va::ENTRYPOINT_VLD,
        &[ATTRIB_RT_FORMAT, ATTRIB_MAX_WIDTH, ATTRIB_MAX_HEIGHT],
    )?;
    let value = |i: usize| Some(values[i]).filter(|&v| v != ATTRIB_NOT_SUPPORTED);
    let mut c = VideoCaps::default();
    c.set_profile(pipe as u32);
    c.set_entrypoint(VideoEntrypoint::Bitstream as u32);
    // Sizes above the 16-bit fields saturate; a missing attribute reads as 0 ("unknown"), as
    // upstream leaves it.
    c.set_max_width(value(1).unwrap_or(0).min(0xffff));
    c.set_max_height(value(2).unwrap_or(0).min(0xffff));
    c.set_prefered_format(preferred_format(value(0).unwrap_or(0)).raw());
    c.set_max_macroblocks(1);
    c.set_npot_texture(1);
    c.set_supports_progressive(1);
    Ok(c)
}

/// The `video_caps[]` entries for `display` (at most [`MAX_VIDEO_CAPS`]).
pub fn video_caps(display: &Display) -> Result<Vec<VideoCaps>, VideoError> {
    let mut caps = Vec::new();
    for va in display.profiles()? {
        let Some(pipe) = pipe_profile(va) else {
            continue;
        };
        if !display.entrypoints(va)?.contains(&va::ENTRYPOINT_VLD) {
            continue;
        }
        if caps.len() == MAX_VIDEO_CAPS {
            tracing::warn!("more than {MAX_VIDEO_CAPS} video profiles; the rest are not listed");
            break;
        }
        caps.push(entry(display, va, pipe)?);
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_profile_maps_both_ways() {
        for raw in 0..=25 {
            let p = VideoProfile::from_raw(raw).unwrap();
            if let Some(va) = va_profile(p) {
                let back = pipe_profile(va).unwrap();
                assert_eq!(va_profile(back), Some(va), "{p:?}");
            }
        }
        assert_eq!(va_profile(VideoProfile::Mpeg4Simple), None);
        assert_eq!(
            pipe_profile(33),
            None,
            "AV1 profile 1 has no gallium profile"
        );
    }
}
