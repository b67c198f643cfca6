//! Property tests: format decoding never panics and size math never overflows silently.

use proptest::prelude::*;
use virgl_protocol::format::VIRGL_FORMAT_MAX;
use virgl_protocol::VirglFormat;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn from_guest_never_panics(raw in any::<u32>()) {
        match VirglFormat::from_guest(raw) {
            Ok(f) => {
                prop_assert_eq!(f.raw(), raw);
                prop_assert!(raw < VIRGL_FORMAT_MAX);
            }
            Err(_) => prop_assert!(VirglFormat::from_raw(raw).is_none_or(|f| f.info().is_host_only())),
        }
    }

    #[test]
    fn image_size_is_checked(idx in 0..VirglFormat::COUNT, w in any::<u32>(), h in any::<u32>(), d in any::<u32>()) {
        let f = VirglFormat::iter().nth(idx).unwrap();
        let info = f.info();
        if let Some(size) = info.image_size(w, h, d) {
            // Any successful answer is at least one row of plane 0 when the image is non-empty.
            if w > 0 && h > 0 && d > 0 {
                prop_assert!(size >= info.row_stride(w).unwrap());
            }
        }
    }
}
