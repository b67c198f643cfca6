//! libFuzzer target: the virgl command stream decoder (no GL).
//! The checks live in `harness/command_stream.rs`, shared with the stable corpus-replay smoke test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/command_stream.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
