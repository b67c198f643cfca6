//! libFuzzer target: video picture descriptions.
//! The checks live in `harness/video_desc.rs`, shared with the stable corpus-replay smoke test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/video_desc.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
