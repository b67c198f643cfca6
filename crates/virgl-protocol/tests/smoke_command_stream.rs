//! Stable fuzz smoke for `command_stream`: the checked-in seeds (real Mesa sessions, encoder output),
//! any corpus a long `cargo xtask fuzz` run left behind, and deterministic mutations, all
//! through the same checks as the libFuzzer target (`fuzz/harness/command_stream.rs`).

use std::time::Duration;

#[path = "../../../fuzz/harness/command_stream.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn command_stream_corpus_and_mutations() {
    let done = replay::replay(
        "command_stream",
        |d| {
            harness::run(d);
        },
        2000,
        20000,
        Duration::from_secs(10),
    );
    assert!(done.seeds > 0);
}
