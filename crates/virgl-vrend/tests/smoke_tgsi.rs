//! Stable fuzz smoke for `tgsi`: the checked-in seeds, any corpus a long `cargo xtask fuzz` run
//! left behind, and deterministic mutations, through the same checks as the libFuzzer target
//! (`fuzz/harness/tgsi.rs`): TGSI parsing and GLSL generation never panic or blow up.

use std::time::Duration;

#[path = "../../../fuzz/harness/tgsi.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn tgsi_corpus_and_mutations() {
    let done = replay::replay("tgsi", harness::run, 500, 50_000, Duration::from_secs(10));
    assert!(done.seeds > 0);
}
