//! `cargo xtask clients`: real Mesa GL clients through `virgl-vtest`, with regression floors.
//!
//! - `glmark2 --validate` under Xvfb: every scene's reference-image check. Upstream's server gives
//!   27 success / 0 failure / 6 unknown on llvmpipe; we must give no failure and at least 27
//!   successes.
//! - `piglit run -p surfaceless_egl sanity`: upstream passes 27 of 30 (3 skip). We pass 28 (2 skip:
//!   GL_ARB_gpu_shader_int64 and GL_ARB_shader_ballot are not advertised); the floor below is
//!   that figure, so any regression fails CI.
//!
//! - piglit sanity again with the server on a host GLES context (`virgl-vtest --use-gles`,
//!   llvmpipe's GLES 3.2): 24 pass (fp64 fails, one image test needs read-write rgba8 images,
//!   which GLSL ES lacks; derivative control and group vote are not advertised on GLES), floored.
//!
//! `--use-gles` runs everything (glmark2 and sanity) on the GLES host instead, with the GLES
//! floors (glmark2: 27/0/6 as on desktop).

use std::path::Path;
use std::process::Command;

use crate::compare::clients::Xvfb;
use crate::demo::{start_server, virpipe_env, KillOnDrop};
use crate::install::target_dir;
use crate::packages;
use crate::tasks::{cargo, run_step, workspace_root};

/// glmark2 --validate: upstream's figures on llvmpipe.
const GLMARK2_MIN_SUCCESS: usize = 27;
/// piglit sanity passes today (upstream: 27).
const PIGLIT_SANITY_MIN_PASS: usize = 28;
/// The same floors on a GLES host (`--use-gles`), measured on this machine.
const GLES_GLMARK2_MIN_SUCCESS: usize = 27;
const GLES_PIGLIT_SANITY_MIN_PASS: usize = 24;

/// Floors of one run (desktop or GLES host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Floors {
    glmark2_success: usize,
    sanity_pass: usize,
}

/// Options of the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Options {
    use_gles: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    for a in args {
        match a.as_str() {
            "--use-gles" => o.use_gles = true,
            other => {
                return Err(format!(
                    "unknown option `{other}` (usage: clients [--use-gles])"
                ))
            }
        }
    }
    Ok(o)
}

impl Options {
    fn floors(&self) -> Floors {
        if self.use_gles {
            Floors {
                glmark2_success: GLES_GLMARK2_MIN_SUCCESS,
                sanity_pass: GLES_PIGLIT_SANITY_MIN_PASS,
            }
        } else {
            Floors {
                glmark2_success: GLMARK2_MIN_SUCCESS,
                sanity_pass: PIGLIT_SANITY_MIN_PASS,
            }
        }
    }
}

/// Starts `virgl-vtest` (the shared start helper) on a host GLES context or on desktop GL.
/// The server reads `VTEST_USE_GLES` as upstream's does (same meaning as `--use-gles`); the
/// helper passes no options, so the variable is set for the spawn only and reaches the server
/// through inheritance (and is cleared for a desktop server, whatever the caller's shell had).
/// xtask starts its children from its only thread.
pub fn start_vtest(
    server: &Path,
    socket: &Path,
    log: &Path,
    gles: bool,
) -> Result<KillOnDrop, String> {
    if gles {
        std::env::set_var("VTEST_USE_GLES", "1");
    } else {
        std::env::remove_var("VTEST_USE_GLES");
    }
    let started = start_server(server, socket, log);
    std::env::remove_var("VTEST_USE_GLES");
    started
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

fn glmark2_validate(
    display: &str,
    socket: &Path,
    runtime_dir: &Path,
    log: &Path,
    min_success: usize,
) -> Result<(), String> {
    let mut cmd = Command::new("glmark2");
    cmd.arg("--validate")
        .env("DISPLAY", display)
        .env("vblank_mode", "0");
    virpipe_env(&mut cmd, socket, runtime_dir);
    let output = cmd.output().map_err(|e| format!("glmark2: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    std::fs::write(log, &text).map_err(|e| e.to_string())?;
    let (success, failure, unknown) = (
        count(&text, "Validation: Success"),
        count(&text, "Validation: Failure"),
        count(&text, "Validation: Unknown"),
    );
    println!("  glmark2 --validate: {success} success, {failure} failure, {unknown} unknown (upstream: 27/0/6)");
    if !output.status.success() || failure > 0 || success < min_success {
        return Err(format!(
            "glmark2 --validate regressed; see {}",
            log.display()
        ));
    }
    Ok(())
}

fn piglit_sanity(
    socket: &Path,
    runtime_dir: &Path,
    results: &Path,
    min_pass: usize,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(results);
    let mut run = Command::new("piglit");
    run.args(["run", "-p", "surfaceless_egl", "sanity"])
        .arg(results);
    virpipe_env(&mut run, socket, runtime_dir);
    let status = run.output().map_err(|e| format!("piglit run: {e}"))?.status;
    if !status.success() {
        return Err(format!("piglit run failed: {status}"));
    }
    let crate::conformance::Counts {
        pass,
        fail,
        crash,
        skip,
    } = crate::conformance::piglit_counts(results)?;
    println!("  piglit sanity: {pass} pass, {fail} fail, {crash} crash, {skip} skip (upstream: 27 pass, 3 skip)");
    if pass < min_pass {
        return Err(format!(
            "piglit sanity passes {pass} < {min_pass}; results in {}",
            results.display()
        ));
    }
    Ok(())
}

pub fn clients(args: &[String]) -> Result<(), String> {
    let opts = parse_args(args)?;
    let floors = opts.floors();
    packages::ensure(packages::ALL)?;
    run_step(
        "build virgl-vtest (release)",
        cargo().args(["build", "--release", "-p", "virgl-vtest"]),
    )?;
    let out = workspace_root().join(if opts.use_gles {
        "out/clients-gles"
    } else {
        "out/clients"
    });
    let runtime_dir = out.join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).map_err(|e| e.to_string())?;
    let socket = out.join("vtest.sock");
    let server_bin = target_dir("release").join("virgl-vtest");
    let server = start_vtest(&server_bin, &socket, &out.join("server.log"), opts.use_gles)?;
    let xvfb = Xvfb::start(&out.join("xvfb.log"))?;
    println!(
        "xtask clients: real Mesa clients through virgl-vtest on a {} host (logs in {})",
        if opts.use_gles { "GLES" } else { "desktop GL" },
        out.display()
    );
    glmark2_validate(
        &xvfb.display,
        &socket,
        &runtime_dir,
        &out.join("glmark2.log"),
        floors.glmark2_success,
    )?;
    piglit_sanity(
        &socket,
        &runtime_dir,
        &out.join("piglit-sanity"),
        floors.sanity_pass,
    )?;
    drop(server);
    if !opts.use_gles {
        let out = workspace_root().join("out/clients-gles");
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let socket = out.join("vtest.sock");
        let _server = start_vtest(&server_bin, &socket, &out.join("server.log"), true)?;
        println!(
            "xtask clients: piglit sanity on a GLES host (logs in {})",
            out.display()
        );
        piglit_sanity(
            &socket,
            &runtime_dir,
            &out.join("piglit-sanity"),
            GLES_PIGLIT_SANITY_MIN_PASS,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert!(!parse_args(&s(&[])).unwrap().use_gles);
        assert!(parse_args(&s(&["--use-gles"])).unwrap().use_gles);
        assert!(parse_args(&s(&["--bogus"])).is_err());
    }
}
