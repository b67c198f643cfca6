//! libFuzzer target: the generated Venus command decoders.
//! The checks live in `harness/venus_decode.rs`, shared with the stable corpus-replay smoke test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/venus_decode.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
