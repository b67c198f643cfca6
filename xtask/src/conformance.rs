//! `cargo xtask conformance`: piglit's GL conformance set through `virgl-vtest` and directly.
//!
//! Runs `piglit run -p surfaceless_egl quick_gl -t 'spec@!opengl 1.1'` (266 tests, about 8,180
//! results) twice: through Mesa's virgl driver (`GALLIUM_DRIVER=virpipe`) into our server, and
//! directly on llvmpipe. Prints pass/fail/crash/skip of each next to upstream's published
//! figures, lists the results that pass directly but not through virgl-rs, and writes the whole
//! report to `out/conformance/summary.md`. The run fails if the server died during it (no guest
//! command may take the server down, whatever the test did).
//!
//! `--subset` is what CI runs: only through virgl-rs, the tests listed in
//! `xtask/conformance-ci.txt` (every test that passes today through virgl-rs, minus the slow
//! ones), with a floor on passing results — a regression fails CI. Options: `--full` (the
//! default), `-j N` (piglit's job count; default: the machine's cores), `--use-gles` (the server
//! runs on a host GLES context, as `virgl-vtest --use-gles`; results go to
//! `out/conformance-gles/`).
//!
//! It does not judge the direct run (the host driver's own failures are not ours), and tests
//! that need a window-system framebuffer crash in both runs (surfaceless EGL has none).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::demo::virpipe_env;
use crate::install::target_dir;
use crate::packages;
use crate::tasks::{cargo, run_step, workspace_root};

/// The piglit profile and filter of the conformance set.
const PROFILE: &str = "quick_gl";
const FILTER: &str = "spec@!opengl 1.1";
/// The CI subset (piglit `--test-list` format: one test name per line, `#` comments).
const SUBSET_LIST: &str = "xtask/conformance-ci.txt";
/// Results of the subset that pass today; fewer is a regression.
const SUBSET_MIN_PASS: usize = 8_045;
/// The subset on a GLES host (`--subset --use-gles`), measured on this machine: clipflat's
/// first-vertex cases fail (GLES has no provoking-vertex control; upstream does not emulate it
/// either) and the crashes are 1D textures (not emulated as 2D yet), logic ops and a stencil
/// blit between formats, which GLES cannot do.
const GLES_SUBSET_MIN_PASS: usize = 7_313;
const GLES_SUBSET_MAX_CRASH: usize = 12;
/// Upstream virglrenderer 1.3.0's server on this set (llvmpipe host, issue 7).
const UPSTREAM: Counts = Counts {
    pass: 7978,
    fail: 75,
    crash: 36,
    skip: 87,
};

/// Result counts of one piglit run (`piglit summary console -s`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub crash: usize,
    pub skip: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pass, {} fail, {} crash, {} skip",
            self.pass, self.fail, self.crash, self.skip
        )
    }
}

/// Parses the counts out of `piglit summary console -s` for one results directory.
pub fn parse_counts(summary: &str) -> Counts {
    let field = |name: &str| -> usize {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    Counts {
        pass: field("pass"),
        fail: field("fail"),
        crash: field("crash"),
        skip: field("skip"),
    }
}

/// Runs `piglit summary console -s` on `results`.
pub fn piglit_counts(results: &Path) -> Result<Counts, String> {
    let out = Command::new("piglit")
        .args(["summary", "console", "-s"])
        .arg(results)
        .output()
        .map_err(|e| format!("piglit summary: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "piglit summary {} failed: {}",
            results.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(parse_counts(&String::from_utf8_lossy(&out.stdout)))
}

/// One result that differs between two runs (`piglit summary console -d A B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    pub before: String,
    pub after: String,
}

/// Parses the changed results of `piglit summary console -d A B`: lines `name: statusA statusB`
/// before the `summary:` block (names may contain `: ` themselves, statuses never do).
pub fn parse_changes(text: &str) -> Vec<Change> {
    text.lines()
        .take_while(|l| l.trim() != "summary:")
        .filter_map(|l| {
            let mut parts = l.trim_end().rsplitn(3, ' ');
            let after = parts.next()?;
            let before = parts.next()?;
            let name = parts.next()?.strip_suffix(':')?;
            Some(Change {
                name: name.to_string(),
                before: before.to_string(),
                after: after.to_string(),
            })
        })
        .collect()
}

/// Options of the task.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    subset: bool,
    jobs: Option<usize>,
    use_gles: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        subset: false,
        jobs: None,
        use_gles: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--subset" => o.subset = true,
            "--full" => o.subset = false,
            "--use-gles" => o.use_gles = true,
            "-j" | "--jobs" => {
                let n = it.next().ok_or("-j needs a number")?;
                o.jobs = Some(
                    n.parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("-j {n}: not a positive number"))?,
                );
            }
            other => {
                return Err(format!(
                    "unknown option `{other}` (usage: conformance [--subset|--full] [-j N] [--use-gles])"
                ))
            }
        }
    }
    Ok(o)
}

/// `piglit run` of the set into `results`; `env` sets up the driver.
fn piglit_run(
    results: &Path,
    opts: &Options,
    log: &Path,
    env: impl FnOnce(&mut Command),
) -> Result<(), String> {
    let mut cmd = Command::new("piglit");
    cmd.args(["run", "-p", "surfaceless_egl", "-l", "quiet", "-o"])
        .args([PROFILE, "-t", FILTER]);
    if opts.subset {
        cmd.arg("--test-list")
            .arg(workspace_root().join(SUBSET_LIST));
    }
    if let Some(j) = opts.jobs {
        cmd.args(["-j", &j.to_string()]);
    }
    cmd.arg(results);
    env(&mut cmd);
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let status = cmd
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .status()
        .map_err(|e| format!("piglit run: {e}"))?;
    if !status.success() {
        return Err(format!(
            "piglit run failed ({status}); see {}",
            log.display()
        ));
    }
    Ok(())
}

fn report_line(what: &str, c: &Counts) -> String {
    format!(
        "| {what} | {} | {} | {} | {} |",
        c.pass, c.fail, c.crash, c.skip
    )
}

pub fn conformance(args: &[String]) -> Result<(), String> {
    let opts = parse_args(args)?;
    packages::ensure(packages::ALL)?;
    run_step(
        "build virgl-vtest (release)",
        cargo().args(["build", "--release", "-p", "virgl-vtest"]),
    )?;
    let out = workspace_root().join(if opts.use_gles {
        "out/conformance-gles"
    } else {
        "out/conformance"
    });
    let runtime_dir = out.join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).map_err(|e| e.to_string())?;
    let socket = out.join("vtest.sock");
    let server_log = out.join("server.log");
    let mut server = crate::clients::start_vtest(
        &target_dir("release").join("virgl-vtest"),
        &socket,
        &server_log,
        opts.use_gles,
    )?;
    let what = if opts.subset {
        format!("the CI subset ({SUBSET_LIST})")
    } else {
        format!("piglit {PROFILE} -t '{FILTER}'")
    };
    println!(
        "xtask conformance: {what} through virgl-vtest{}{} (results in {})",
        if opts.use_gles { " on a GLES host" } else { "" },
        if opts.subset { "" } else { " and directly" },
        out.display()
    );

    let ours_dir = out.join("virgl-rs");
    let started = Instant::now();
    piglit_run(&ours_dir, &opts, &out.join("piglit-virgl-rs.log"), |cmd| {
        virpipe_env(cmd, &socket, &runtime_dir)
    })?;
    let ours_time = started.elapsed().as_secs();
    let server_died = server.0.try_wait().map_err(|e| e.to_string())?;
    let ours = piglit_counts(&ours_dir)?;
    println!("  through virgl-rs: {ours} ({ours_time} s)");

    if opts.subset {
        if let Some(status) = server_died {
            return Err(format!(
                "virgl-vtest exited during the run ({status}); see {}",
                server_log.display()
            ));
        }
        let (min_pass, max_crash) = if opts.use_gles {
            (GLES_SUBSET_MIN_PASS, GLES_SUBSET_MAX_CRASH)
        } else {
            (SUBSET_MIN_PASS, 0)
        };
        if ours.pass < min_pass || ours.crash > max_crash {
            return Err(format!(
                "conformance subset: {} pass < {min_pass} or {} crash > {max_crash}; results in {}",
                ours.pass,
                ours.crash,
                ours_dir.display()
            ));
        }
        return Ok(());
    }

    let direct_dir = out.join("direct");
    let started = Instant::now();
    piglit_run(&direct_dir, &opts, &out.join("piglit-direct.log"), |cmd| {
        cmd.env("GALLIUM_DRIVER", "llvmpipe")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env_remove("VTEST_SOCKET_NAME")
            .env("XDG_RUNTIME_DIR", &runtime_dir);
    })?;
    let direct_time = started.elapsed().as_secs();
    let direct = piglit_counts(&direct_dir)?;
    println!("  direct llvmpipe:  {direct} ({direct_time} s)");
    println!("  upstream's server (published): {UPSTREAM}");

    let diff = Command::new("piglit")
        .args(["summary", "console", "-d"])
        .arg(&direct_dir)
        .arg(&ours_dir)
        .output()
        .map_err(|e| format!("piglit summary -d: {e}"))?;
    let changes = parse_changes(&String::from_utf8_lossy(&diff.stdout));
    let regressions: Vec<&Change> = changes
        .iter()
        .filter(|c| c.before == "pass" && c.after != "pass")
        .collect();
    println!(
        "  {} results pass directly but not through virgl-rs:",
        regressions.len()
    );
    for c in &regressions {
        println!("    {}: {}", c.name, c.after);
    }

    let mut md = String::new();
    md.push_str(&format!(
        "# Conformance: piglit `{PROFILE} -t '{FILTER}'` (surfaceless EGL{})\n\n",
        if opts.use_gles {
            ", server on a host GLES context"
        } else {
            ""
        }
    ));
    md.push_str("| run | pass | fail | crash | skip |\n|---|---|---|---|---|\n");
    md.push_str(&report_line(
        &format!("virgl-rs (virgl-vtest, {ours_time} s)"),
        &ours,
    ));
    md.push('\n');
    md.push_str(&report_line(
        &format!("direct llvmpipe ({direct_time} s)"),
        &direct,
    ));
    md.push('\n');
    md.push_str(&report_line(
        "upstream virglrenderer 1.3.0 (published, issue 7)",
        &UPSTREAM,
    ));
    md.push_str(&format!(
        "\n\n## Pass directly, not through virgl-rs ({})\n\n",
        regressions.len()
    ));
    for c in &regressions {
        md.push_str(&format!("- `{}`: {}\n", c.name, c.after));
    }
    let summary = out.join("summary.md");
    std::fs::write(&summary, md).map_err(|e| format!("{}: {e}", summary.display()))?;
    println!("  summary: {}", summary.display());

    if let Some(status) = server_died {
        return Err(format!(
            "virgl-vtest exited during the run ({status}); see {}",
            server_log.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse_from_piglit_summary() {
        let text = "summary:\n       name: r\n       ----  -\n       pass:      7976\n       \
                    fail:        79\n      crash:        38\n       skip:        87\n";
        assert_eq!(
            parse_counts(text),
            Counts {
                pass: 7976,
                fail: 79,
                crash: 38,
                skip: 87
            }
        );
        assert_eq!(parse_counts(""), Counts::default());
    }

    #[test]
    fn changes_keep_names_with_colons() {
        let text = "spec/!opengl 1.1/draw-pixels: pass crash\n\
                    spec/!opengl 1.1/polygon-mode-offset/config 0: expected blue pixel: notrun fail\n\
                    summary:\n       name: a b\n      pass: 1 2\n";
        let c = parse_changes(text);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "spec/!opengl 1.1/draw-pixels");
        assert_eq!(
            (c[0].before.as_str(), c[0].after.as_str()),
            ("pass", "crash")
        );
        assert_eq!(
            c[1].name,
            "spec/!opengl 1.1/polygon-mode-offset/config 0: expected blue pixel"
        );
    }

    #[test]
    fn options() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_args(&s(&["--subset", "-j", "3"])).unwrap(),
            Options {
                subset: true,
                jobs: Some(3),
                use_gles: false,
            }
        );
        assert!(parse_args(&s(&["--use-gles"])).unwrap().use_gles);
        assert!(!parse_args(&s(&[])).unwrap().subset);
        assert!(parse_args(&s(&["-j", "0"])).is_err());
        assert!(parse_args(&s(&["--bogus"])).is_err());
    }

    #[test]
    fn subset_list_names_tests_of_the_set() {
        let list = std::fs::read_to_string(workspace_root().join(SUBSET_LIST)).unwrap();
        let names: Vec<&str> = list
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .collect();
        assert!(names.len() > 100, "{} tests", names.len());
        assert!(names.iter().all(|n| n.starts_with("spec@!opengl 1.1@")));
    }
}
