//! Property tests: capset decoders never panic and re-encode what they decoded.

use proptest::prelude::*;
use virgl_protocol::caps::{CapsV1, CapsV2, CapsetDrmHeader, CapsetDrmMsm, CapsetVenus, VideoCaps};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn caps_v2_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        if let Ok(c) = CapsV2::from_bytes(&bytes) {
            // Floats may be NaN, so compare bytes rather than values.
            prop_assert_eq!(&c.to_bytes()[..], &bytes[..CapsV2::SIZE]);
        } else {
            prop_assert!(bytes.len() < CapsV2::SIZE);
        }
    }

    #[test]
    fn small_capsets_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(c) = CapsV1::from_bytes(&bytes) {
            prop_assert_eq!(&c.to_bytes()[..], &bytes[..CapsV1::SIZE]);
        }
        if let Ok(c) = CapsetVenus::from_bytes(&bytes) {
            prop_assert_eq!(&c.to_bytes()[..], &bytes[..CapsetVenus::SIZE]);
        }
        if let Ok(c) = CapsetDrmHeader::from_bytes(&bytes) {
            let _ = c.context_type();
        }
        if let Ok(c) = CapsetDrmMsm::from_bytes(&bytes) {
            prop_assert_eq!(&c.to_bytes()[..], &bytes[..CapsetDrmMsm::SIZE]);
        }
        if let Ok(v) = VideoCaps::from_bytes(&bytes) {
            prop_assert!(v.max_width() <= 0xffff && v.max_temporal_layers() <= 0xff);
        }
    }
}
