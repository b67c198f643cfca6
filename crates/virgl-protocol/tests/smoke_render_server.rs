//! Stable fuzz smoke for `render_server`: the checked-in seeds (real Mesa sessions, encoder output),
//! any corpus a long `cargo xtask fuzz` run left behind, and deterministic mutations, all
//! through the same checks as the libFuzzer target (`fuzz/harness/render_server.rs`).

use std::time::Duration;

#[path = "../../../fuzz/harness/render_server.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn render_server_corpus_and_mutations() {
    let done = replay::replay(
        "render_server",
        |d| {
            harness::run(d);
        },
        2000,
        50000,
        Duration::from_secs(10),
    );
    assert!(done.seeds > 0);
}
