//! Property tests: picture descriptions decoded from arbitrary guest bytes never panic and
//! re-encode byte for byte (every member is padding-free or has its padding spelled out, so a
//! decoded member round-trips exactly up to C padding bytes, which we write as zero).

use proptest::prelude::*;
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_union_bytes(
        codec in 0usize..8,
        encode in any::<bool>(),
        len in 0usize..=PICTURE_DESC_UNION_SIZE + 16,
        seed in any::<u8>(),
    ) {
        let bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
        let ep = if encode { VideoEntrypoint::Encode } else { VideoEntrypoint::Bitstream };
        if let Ok(d) = PictureDesc::decode(CODECS[codec], ep, &bytes) {
            let again = PictureDesc::decode(CODECS[codec], ep, &d.to_union_bytes()).unwrap();
            prop_assert_eq!(again, d);
        }
    }
}
