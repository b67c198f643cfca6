//! `cargo xtask fuzz [--seconds N] [target...]`: long libFuzzer runs of the `fuzz/` targets.
//!
//! Needs the nightly toolchain and cargo-fuzz (installed with `cargo install cargo-fuzz` when
//! missing). Each target runs for `--seconds` (default 1800, the 30 minutes per target the
//! security work asks for), one after the other: the targets share the machine's cores with
//! everything else. The corpus grows in `fuzz/corpus/<target>` (not checked in), starting from
//! the checked-in seeds in `fuzz/seeds/<target>`; crashes land in `fuzz/artifacts/<target>`.
//! A summary (seconds, executions, corpus size, crashes) is printed and appended to
//! `out/fuzz/summary.txt`. Stable CI replays the seeds through the same checks in the
//! per-crate `tests/smoke_*.rs` tests; this task is the long run on top.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::tasks::{run_step, workspace_root};

/// Every target, most valuable first (the executed command stream, then the socket framing).
pub const TARGETS: &[&str] = &[
    "command_exec",
    "vtest_frame",
    "command_stream",
    "render_server",
    "video_desc",
    "tgsi",
    "venus_decode",
];

/// Extra read-only seed directories of a target, relative to the workspace root.
fn extra_seeds(target: &str) -> &'static [&'static str] {
    match target {
        // The shaders captured from real clients for the TGSI tests and bench.
        "tgsi" => &["crates/virgl-vrend/tests/tgsi_corpus"],
        _ => &[],
    }
}

const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [target...]";

/// What one run did, from libFuzzer's own log.
#[derive(Debug, Default)]
struct Stats {
    execs: u64,
    seconds: u64,
    corpus: u64,
    cov: u64,
    crashes: usize,
}

pub fn fuzz(args: &[String]) -> Result<(), String> {
    let mut seconds = 1800u64;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("--seconds needs a number\n{USAGE}"))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}\ntargets: {}", TARGETS.join(", "));
                return Ok(());
            }
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => {
                return Err(format!(
                    "unknown target or option `{other}`\n{USAGE}\ntargets: {}",
                    TARGETS.join(", ")
                ))
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    ensure_cargo_fuzz()?;
    let fuzz_dir = workspace_root().join("fuzz");
    run_step(
        "build fuzz targets (nightly, ASan)",
        Command::new("cargo")
            .args(["+nightly", "fuzz", "build", "-O"])
            .current_dir(&fuzz_dir),
    )?;
    let out_dir = workspace_root().join("out/fuzz");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut report = Vec::new();
    for target in &targets {
        let stats = run_target(&fuzz_dir, &out_dir, target, seconds)?;
        let line = format!(
            "{target}: {:.1} min, {} execs ({}/s), corpus {}, cov {}, crashes {}",
            stats.seconds as f64 / 60.0,
            stats.execs,
            stats.execs / stats.seconds.max(1),
            stats.corpus,
            stats.cov,
            stats.crashes
        );
        println!("xtask fuzz: {line}");
        report.push(line);
    }
    let summary = out_dir.join("summary.txt");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&summary)
        .map_err(|e| format!("{}: {e}", summary.display()))?;
    for line in &report {
        writeln!(file, "{line}").map_err(|e| e.to_string())?;
    }
    let crashed: Vec<_> = report
        .iter()
        .filter(|l| !l.ends_with("crashes 0"))
        .collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "crashes found (see fuzz/artifacts/): {crashed:?}; reproduce with \
             `cargo +nightly fuzz run <target> <artifact>`"
        ))
    }
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let have = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if have {
        return Ok(());
    }
    run_step(
        "install cargo-fuzz",
        Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]),
    )
}

fn run_target(
    fuzz_dir: &Path,
    out_dir: &Path,
    target: &str,
    seconds: u64,
) -> Result<Stats, String> {
    println!("xtask: == fuzz {target} for {seconds} s ==");
    let corpus = fuzz_dir.join("corpus").join(target);
    let seeds = fuzz_dir.join("seeds").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    for dir in [&corpus, &seeds, &artifacts] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let crashes_before = count_files(&artifacts);
    let log_path = out_dir.join(format!("{target}.log"));
    let mut log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let start = Instant::now();
    let mut child = Command::new("cargo")
        .args(["+nightly", "fuzz", "run", "-O", target])
        .arg(&corpus)
        .arg(&seeds)
        .args(extra_seeds(target).iter().map(|d| workspace_root().join(d)))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        // Mesa (llvmpipe) is not built with LeakSanitizer in mind and keeps process-lifetime
        // allocations; our own leaks are covered by the leak tests (tests/leaks_*.rs).
        .arg("-detect_leaks=0")
        .arg("-rss_limit_mb=4096")
        .arg("-timeout=30")
        .arg("-print_final_stats=1")
        .current_dir(fuzz_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
    let mut stats = Stats::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            parse_line(&line, &mut stats);
            if line.contains("ERROR: libFuzzer") || line.contains("ERROR: AddressSanitizer") {
                eprintln!("{target}: {line}");
            }
        }
    }
    let _ = child.wait().map_err(|e| e.to_string())?;
    stats.seconds = stats.seconds.max(start.elapsed().as_secs());
    stats.crashes = count_files(&artifacts).saturating_sub(crashes_before);
    Ok(stats)
}

/// Picks executions, coverage and corpus size out of libFuzzer's status lines
/// (`#1234 pulse cov: 56 ft: 78 corp: 9/1Kb ...`, `stat::number_of_executed_units: 1234`).
fn parse_line(line: &str, stats: &mut Stats) {
    if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
        if let Ok(n) = rest.trim().parse() {
            stats.execs = n;
        }
        return;
    }
    if let Some(rest) = line.strip_prefix('#') {
        let mut words = rest.split_whitespace();
        if let Some(n) = words.next().and_then(|n| n.parse().ok()) {
            stats.execs = stats.execs.max(n);
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        for pair in words.windows(2) {
            match pair[0] {
                "cov:" => stats.cov = pair[1].parse().unwrap_or(stats.cov),
                "corp:" => {
                    let n = pair[1].split('/').next().unwrap_or("");
                    stats.corpus = n.parse().unwrap_or(stats.corpus);
                }
                _ => {}
            }
        }
    }
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("crash-")
                    || name.starts_with("oom-")
                    || name.starts_with("timeout-")
            })
            .count()
    })
}
