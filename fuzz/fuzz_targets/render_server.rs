//! libFuzzer target: the render-server protocol packets.
//! The checks live in `harness/render_server.rs`, shared with the stable corpus-replay smoke test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/render_server.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
