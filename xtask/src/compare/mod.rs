//! `cargo xtask compare`: the same real clients against virgl-vtest and a reference vtest
//! server (Debian's `virgl_test_server` by default), and directly on llvmpipe as the upper limit.
//!
//! Rounds alternate the targets (the order rotates each round) so that load from other work on
//! the machine hits them alike; the report gives medians over the rounds and the ratios, checked
//! against the project's targets (issue 11). Figures on a shared machine are noisy: the report
//! says so and prints the load average. Release builds only.
//!
//! What it runs: glmark2 (10 scenes, 400x300, `--scene-seconds` each) and glxgears under Xvfb;
//! `vtest-bench` (tools/vtest-bench) for transfer bandwidth and SUBMIT_CMD throughput; /proc for
//! the servers' memory. It does not run piglit (left out: minutes per run on two cores).

pub(crate) mod clients;
mod procfs;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clients::{GlEnv, Target, Xvfb};

use crate::demo::KillOnDrop;
use crate::packages;
use crate::tasks::{cargo, run_step, workspace_root};

/// Prefix of the per-run transfer/memcpy ratios (judged, not printed as rows).
const RATIO: &str = "ratio to memcpy: ";

const DEFAULT_REFERENCE: &str = "virgl_test_server --use-egl-surfaceless";

struct Options {
    reference: String,
    rounds: usize,
    scene_seconds: f64,
    gears_seconds: u64,
    bench_seconds: f64,
    only: Vec<String>,
}

const PARTS: &[&str] = &["glmark2", "glxgears", "transfer", "commands"];

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        reference: DEFAULT_REFERENCE.into(),
        rounds: 3,
        scene_seconds: 3.0,
        gears_seconds: 16,
        bench_seconds: 0.3,
        only: PARTS.iter().map(|s| s.to_string()).collect(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let num = |v: String, name: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("bad {name} `{v}`"))
        };
        match a.as_str() {
            "--reference" => o.reference = value("--reference")?,
            "--rounds" => o.rounds = num(value("--rounds")?, "--rounds")? as usize,
            "--scene-seconds" => o.scene_seconds = num(value("--scene-seconds")?, "seconds")?,
            "--gears-seconds" => {
                o.gears_seconds = num(value("--gears-seconds")?, "seconds")?.max(11.0) as u64
            }
            "--bench-seconds" => o.bench_seconds = num(value("--bench-seconds")?, "seconds")?,
            "--only" => {
                o.only = value("--only")?.split(',').map(str::to_string).collect();
                if let Some(bad) = o.only.iter().find(|p| !PARTS.contains(&p.as_str())) {
                    return Err(format!("unknown part `{bad}` (parts: {})", PARTS.join(",")));
                }
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    o.rounds = o.rounds.max(1);
    Ok(o)
}

pub const USAGE: &str = "cargo xtask compare [--reference 'CMD'] [--rounds N] [--scene-seconds S] \
[--gears-seconds S] [--bench-seconds S] [--only glmark2,glxgears,transfer,commands]";

/// The median of `v` (None when empty).
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// A running vtest server.
struct Server {
    _child: KillOnDrop,
    pid: u32,
    socket: PathBuf,
}

/// Starts `command` (a shell command line) with `--socket-path=<socket>` appended.
fn start(command: &str, socket: &Path, log: &Path, runtime_dir: &Path) -> Result<Server, String> {
    let _ = std::fs::remove_file(socket);
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    // `exec` so that the pid we hold is the server itself, the parent of its client processes.
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {command} --socket-path={}", socket.display()))
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("starting `{command}`: {e}"))?;
    let pid = child.id();
    let mut guard = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !socket.exists() {
        if let Ok(Some(status)) = guard.0.try_wait() {
            return Err(format!(
                "`{command}` exited early ({status}); see {}",
                log.display()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!("`{command}` did not create {}", socket.display()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Server {
        _child: guard,
        pid,
        socket: socket.to_path_buf(),
    })
}

/// Samples per metric and target, metrics in first-seen order.
#[derive(Default)]
struct Samples {
    order: Vec<String>,
    values: BTreeMap<(String, Target), Vec<f64>>,
}

impl Samples {
    fn add(&mut self, target: Target, metric: &str, value: f64) {
        if !self.order.iter().any(|m| m == metric) {
            self.order.push(metric.to_string());
        }
        self.values
            .entry((metric.to_string(), target))
            .or_default()
            .push(value);
    }

    fn median(&self, metric: &str, target: Target) -> Option<f64> {
        median(self.values.get(&(metric.to_string(), target))?)
    }
}

fn shell(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub fn compare(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    packages::ensure(packages::ALL)?;
    packages::ensure(packages::COMPARE)?;
    run_step(
        "build (release)",
        cargo().args([
            "build",
            "--release",
            "-p",
            "virgl-vtest",
            "-p",
            "vtest-bench",
        ]),
    )?;
    let root = workspace_root();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("release");
    let out = root.join("out/compare");
    let runtime_dir = out.join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).map_err(|e| format!("{}: {e}", out.display()))?;
    let load_before = load();

    let ours_cmd = format!(
        "{} --use-egl-surfaceless",
        target_dir.join("virgl-vtest").display()
    );
    let ours = start(
        &ours_cmd,
        &out.join("ours.sock"),
        &out.join("ours.log"),
        &runtime_dir,
    )?;
    let reference = start(
        &o.reference,
        &out.join("reference.sock"),
        &out.join("reference.log"),
        &runtime_dir,
    )?;
    let gl_parts = o.only.iter().any(|p| p == "glmark2" || p == "glxgears");
    let xvfb = if gl_parts {
        Some(Xvfb::start(&out.join("xvfb.log"))?)
    } else {
        None
    };
    let bench = target_dir.join("vtest-bench");
    let wants = |p: &str| o.only.iter().any(|x| x == p);

    let mut samples = Samples::default();
    let started = Instant::now();
    for round in 0..o.rounds {
        let mut order = Target::ALL;
        order.rotate_left(round % Target::ALL.len());
        for target in order {
            let server = match target {
                Target::Ours => Some(&ours),
                Target::Reference => Some(&reference),
                Target::Direct => None,
            };
            let mut got: Vec<(String, f64)> = Vec::new();
            if let Some(x) = &xvfb {
                let env = GlEnv {
                    display: &x.display,
                    runtime_dir: &runtime_dir,
                    socket: server.map(|s| s.socket.as_path()),
                };
                if wants("glmark2") {
                    let sampler = server.map(|s| procfs::PeakSampler::start(s.pid));
                    got.extend(clients::glmark2(&env, o.scene_seconds)?);
                    if let Some(kib) = sampler.and_then(procfs::PeakSampler::finish) {
                        got.push((
                            "client process peak RSS during glmark2 (MiB)".into(),
                            kib as f64 / 1024.0,
                        ));
                    }
                }
                if wants("glxgears") {
                    got.extend(clients::glxgears(&env, o.gears_seconds)?);
                }
            }
            if let Some(s) = server {
                let mut parts = Vec::new();
                if wants("transfer") {
                    parts.push("transfer");
                }
                if wants("commands") {
                    parts.push("commands");
                }
                if !parts.is_empty() {
                    got.extend(bench_figures(&bench, s, o.bench_seconds, &parts)?);
                }
            }
            let score = got
                .iter()
                .find(|(k, _)| k == "glmark2 score")
                .map_or(String::new(), |(_, v)| format!(" glmark2 {v:.0}"));
            println!(
                "xtask compare: round {}/{} {:<16} {} figures{score} ({:.0} s so far, load {})",
                round + 1,
                o.rounds,
                target.label(),
                got.len(),
                started.elapsed().as_secs_f64(),
                load()
            );
            for (k, v) in got {
                samples.add(target, &k, v);
            }
        }
    }
    for (target, server) in [(Target::Ours, &ours), (Target::Reference, &reference)] {
        if let Some(kib) = procfs::status_kib(server.pid, "VmHWM") {
            samples.add(target, "listening process VmHWM (MiB)", kib as f64 / 1024.0);
        }
    }
    let report = report(&o, &samples, &load_before, &load());
    let path = out.join("report.md");
    std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\n{report}");
    println!("report saved as {}", path.display());
    Ok(())
}

/// Runs vtest-bench and turns its lines into report metrics.
fn bench_figures(
    bench: &Path,
    server: &Server,
    seconds: f64,
    parts: &[&str],
) -> Result<Vec<(String, f64)>, String> {
    let mut figures = Vec::new();
    for part in parts {
        let lines = clients::vtest_bench(bench, &server.socket, server.pid, seconds, part)?;
        let mut hwm: f64 = 0.0;
        for (k, v) in lines {
            if k == "protocol" {
                continue;
            }
            if k == "client process after handshake VmRSS KiB" {
                figures.push((
                    "client process RSS after handshake (MiB)".into(),
                    v / 1024.0,
                ));
            } else if k.ends_with("VmHWM KiB") {
                hwm = hwm.max(v);
            } else if !k.ends_with("VmRSS KiB") {
                figures.push((k, v));
            }
        }
        // Each transfer against the memcpy of the same size in the same run (the client's
        // memcpy moves with machine load as much as the server does).
        let memcpy: BTreeMap<String, f64> = figures
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("memcpy ")?.to_string(), *v)))
            .collect();
        let ratios: Vec<(String, f64)> = figures
            .iter()
            .filter(|(k, _)| k.starts_with("transfer "))
            .filter_map(|(k, v)| {
                let size = k.split_whitespace().nth(2)?;
                Some((
                    format!("{RATIO}{k}"),
                    v / memcpy.get(&format!("{size} MB/s"))?,
                ))
            })
            .collect();
        figures.extend(ratios);
        if hwm > 0.0 {
            figures.push((
                format!("client process VmHWM after {part} (MiB)"),
                hwm / 1024.0,
            ));
        }
    }
    Ok(figures)
}

/// What a metric is judged by: higher or lower is better, and the issue-11 target if any.
fn judge(metric: &str, s: &Samples) -> (bool, Option<String>) {
    let ours = s.median(metric, Target::Ours);
    let ratio = |t: Target| Some(ours? / s.median(metric, t)?);
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let lower_better = metric.contains("(MiB)") || metric.contains("cpu ns");
    let goal = if metric == "glmark2 score" {
        ratio(Target::Reference)
            .zip(ratio(Target::Direct))
            .map(|(r, d)| {
                format!(
                    ">= 1.2x ref and >= 0.9x direct: {}",
                    verdict(r >= 1.2 && d >= 0.9)
                )
            })
    } else if metric == "glxgears fps" {
        ratio(Target::Reference).map(|r| format!(">= 1.2x ref: {}", verdict(r >= 1.2)))
    } else if metric.starts_with("commands") && metric.ends_with("per s") {
        ratio(Target::Reference).map(|r| format!(">= 2x ref: {}", verdict(r >= 2.0)))
    } else if metric.starts_with("transfer") {
        let of_memcpy = |t: Target| s.median(&format!("{RATIO}{metric}"), t);
        of_memcpy(Target::Ours).map(|o| {
            let reference = of_memcpy(Target::Reference)
                .map_or(String::new(), |r| format!(", ref {:.0} %", 100.0 * r));
            format!(
                "{:.0} % of memcpy{reference} (>= 90 %): {}",
                100.0 * o,
                verdict(o >= 0.9)
            )
        })
    } else if metric.contains("RSS") || metric.contains("VmHWM") {
        ratio(Target::Reference).map(|r| format!("<= ref: {}", verdict(r <= 1.0)))
    } else {
        None
    };
    (lower_better, goal)
}

fn fmt(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn report(o: &Options, s: &Samples, load_before: &str, load_after: &str) -> String {
    let cpu = shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
    let mesa = shell("dpkg-query -W -f='${Version}' libgl1-mesa-dri");
    let refver = shell("dpkg-query -W -f='${Version}' virgl-server");
    let mut r = String::new();
    let _ = writeln!(
        r,
        "### virgl-rs vs reference vtest server ({} UTC)\n",
        shell("date -u '+%Y-%m-%d %H:%M'")
    );
    let _ = writeln!(
        r,
        "Machine: {} cores of {}, kernel {}, Mesa {mesa} (llvmpipe host, virpipe client). \
Reference: `{}` (Debian virgl-server {refver}). Medians of {} alternating rounds; glmark2 {} \
scenes at 400x300, {} s each; release builds. Load average {load_before} before, {load_after} \
after: the machine is shared, figures are noisy (15-25 % run to run).\n",
        shell("nproc"),
        cpu.trim(),
        shell("uname -r"),
        o.reference,
        o.rounds,
        clients::GLMARK2_SCENES.len(),
        o.scene_seconds,
    );
    let _ = writeln!(
        r,
        "| metric | virgl-rs | reference | direct llvmpipe | virgl-rs / ref | virgl-rs / direct | target |"
    );
    let _ = writeln!(r, "|---|---:|---:|---:|---:|---:|---|");
    for metric in s.order.iter().filter(|m| !m.starts_with(RATIO)) {
        let ours = s.median(metric, Target::Ours);
        let refv = s.median(metric, Target::Reference);
        let direct = s.median(metric, Target::Direct);
        let (lower_better, goal) = judge(metric, s);
        let name = if lower_better {
            format!("{metric} (lower is better)")
        } else {
            metric.clone()
        };
        let ratio = |b: Option<f64>| fmt(ours.zip(b).map(|(a, b)| a / b));
        let _ = writeln!(
            r,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            fmt(ours),
            fmt(refv),
            fmt(direct),
            ratio(refv),
            ratio(direct),
            goal.unwrap_or_default()
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn targets_are_judged_from_medians() {
        let mut s = Samples::default();
        for (t, v) in [
            (Target::Ours, 1300.0),
            (Target::Reference, 1000.0),
            (Target::Direct, 1400.0),
        ] {
            s.add(t, "glmark2 score", v);
        }
        let (lower, goal) = judge("glmark2 score", &s);
        assert!(!lower);
        assert!(goal.unwrap().ends_with(": met"));
        s.add(
            Target::Ours,
            "client process RSS after handshake (MiB)",
            90.0,
        );
        s.add(
            Target::Reference,
            "client process RSS after handshake (MiB)",
            80.0,
        );
        let (lower, goal) = judge("client process RSS after handshake (MiB)", &s);
        assert!(lower);
        assert!(goal.unwrap().ends_with("NOT met"));
        // A transfer is judged against the memcpy ratio of the same runs.
        s.add(Target::Ours, "transfer buffer 1MiB put MB/s", 9000.0);
        s.add(
            Target::Ours,
            &format!("{RATIO}transfer buffer 1MiB put MB/s"),
            0.95,
        );
        let (_, goal) = judge("transfer buffer 1MiB put MB/s", &s);
        assert!(goal.unwrap().starts_with("95 % of memcpy"));
    }
}
