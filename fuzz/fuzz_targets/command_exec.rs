//! libFuzzer target: the virgl command stream executed on llvmpipe (VrendBackend + VrendContext).
//! The checks live in `harness/command_exec.rs`, shared with the stable corpus-replay smoke test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/command_exec.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    let _ = harness::run(data);
});
