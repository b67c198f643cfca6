//! libFuzzer target: vtest framing (FrameDecoder, Request::parse).
//! The checks live in `harness/vtest_frame.rs`, shared with the stable corpus-replay smoke test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/vtest_frame.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
