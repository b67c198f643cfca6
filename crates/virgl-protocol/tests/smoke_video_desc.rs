//! Stable fuzz smoke for `video_desc`: the checked-in seeds (real Mesa sessions, encoder output),
//! any corpus a long `cargo xtask fuzz` run left behind, and deterministic mutations, all
//! through the same checks as the libFuzzer target (`fuzz/harness/video_desc.rs`).

use std::time::Duration;

#[path = "../../../fuzz/harness/video_desc.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn video_desc_corpus_and_mutations() {
    let done = replay::replay(
        "video_desc",
        |d| {
            harness::run(d);
        },
        2000,
        5000,
        Duration::from_secs(10),
    );
    assert!(done.seeds > 0);
}
