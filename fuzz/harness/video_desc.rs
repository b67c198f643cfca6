//! Fuzz harness: video picture descriptions (`union virgl_picture_desc`). Shared by
//! `fuzz_targets/video_desc.rs` and `crates/virgl-protocol/tests/smoke_video.rs`.
//!
//! The first byte picks codec and entrypoint, the rest is the union as the guest sent it.
//! Whatever decodes must re-encode to the same union bytes (compared as bytes: descriptions
//! hold floats, and NaN != NaN).

use virgl_protocol::video::{PictureDesc, VideoCodec, VideoEntrypoint, PICTURE_DESC_UNION_SIZE};

const CODECS: [VideoCodec; 8] = [
    VideoCodec::Mpeg12,
    VideoCodec::Mpeg4,
    VideoCodec::Vc1,
    VideoCodec::H264,
    VideoCodec::Hevc,
    VideoCodec::Jpeg,
    VideoCodec::Vp9,
    VideoCodec::Av1,
];

pub fn run(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let codec = CODECS[usize::from(sel & 7)];
    let ep = if sel & 8 != 0 {
        VideoEntrypoint::Encode
    } else {
        VideoEntrypoint::Bitstream
    };
    if let Ok(desc) = PictureDesc::decode(codec, ep, bytes) {
        let union = desc.to_union_bytes();
        assert_eq!(union.len(), PICTURE_DESC_UNION_SIZE);
        let again = PictureDesc::decode(codec, ep, &union).expect("re-encoded union decodes");
        assert_eq!(again.to_union_bytes(), union);
    }
}
