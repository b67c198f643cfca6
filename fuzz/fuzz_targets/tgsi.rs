//! libFuzzer target: TGSI parsing and GLSL generation.
//! The checks live in `harness/tgsi.rs`, shared with the stable corpus-replay smoke test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/tgsi.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
