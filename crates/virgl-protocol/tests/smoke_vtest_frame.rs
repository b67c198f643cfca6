//! Stable fuzz smoke for `vtest_frame`: the checked-in seeds (real Mesa sessions, encoder output),
//! any corpus a long `cargo xtask fuzz` run left behind, and deterministic mutations, all
//! through the same checks as the libFuzzer target (`fuzz/harness/vtest_frame.rs`).

use std::time::Duration;

#[path = "../../../fuzz/harness/vtest_frame.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn vtest_frame_corpus_and_mutations() {
    let done = replay::replay(
        "vtest_frame",
        |d| {
            harness::run(d);
        },
        2000,
        20000,
        Duration::from_secs(10),
    );
    assert!(done.seeds > 0);
}
