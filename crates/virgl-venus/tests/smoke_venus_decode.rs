//! Stable fuzz smoke for `venus_decode`: the checked-in seeds, any corpus a long
//! `cargo xtask fuzz` run left behind, and deterministic mutations, through the same checks as
//! the libFuzzer target (`fuzz/harness/venus_decode.rs`): the generated Venus decoders never
//! panic, overrun the input or exceed their arena.

use std::time::Duration;

#[path = "../../../fuzz/harness/venus_decode.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn venus_decode_corpus_and_mutations() {
    let done = replay::replay(
        "venus_decode",
        harness::run,
        2000,
        500_000,
        Duration::from_secs(10),
    );
    assert!(done.seeds > 0);
}
