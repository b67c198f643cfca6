//! Stable fuzz smoke for `command_exec`: the virgl command stream executed on llvmpipe. Replays
//! the checked-in seeds (SUBMIT_CMDs recorded from real Mesa virpipe sessions), a bounded part
//! of any corpus a long `cargo xtask fuzz` run left behind, and deterministic mutations, through
//! the same checks as the libFuzzer target (`fuzz/harness/command_exec.rs`).

use std::time::Duration;

#[path = "../../../fuzz/harness/command_exec.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn command_exec_corpus_and_mutations() {
    let mut ok = 0usize;
    let mut failed = 0usize;
    let done = replay::replay(
        "command_exec",
        |d| {
            if harness::run(d) {
                ok += 1;
            } else {
                failed += 1;
            }
        },
        300,
        600,
        Duration::from_secs(12),
    );
    eprintln!("submits accepted: {ok}, refused (context broken): {failed}");
    assert!(done.seeds > 0);
    // The recorded real-client streams themselves execute.
    assert!(ok > 0);
}
