//! `cargo xtask clients`: real Mesa GL clients through `virgl-vtest`, with regression floors.
//!
//! - `glmark2 --validate` under Xvfb: every scene's reference-image check. Upstream's server gives
//!   27 success / 0 failure / 6 unknown on llvmpipe; we must give no failure and at least 27
//!   successes.
//! - `piglit run -p surfaceless_egl sanity`: upstream passes 27 of 30 (3 skip). We pass 28 (2 skip:
//!   GL_ARB_gpu_shader_int64 and GL_ARB_shader_ballot are not advertised); the floor below is
//!   that figure, so any regression fails CI.

use std::path::Path;
use std::process::Command;

use crate::compare::clients::Xvfb;
use crate::demo::{start_server, virpipe_env};
use crate::install::target_dir;
use crate::packages;
use crate::tasks::{cargo, run_step, workspace_root};

/// glmark2 --validate: upstream's figures on llvmpipe.
const GLMARK2_MIN_SUCCESS: usize = 27;
/// piglit sanity passes today (upstream: 27).
const PIGLIT_SANITY_MIN_PASS: usize = 28;

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

fn glmark2_validate(
    display: &str,
    socket: &Path,
    runtime_dir: &Path,
    log: &Path,
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
    if !output.status.success() || failure > 0 || success < GLMARK2_MIN_SUCCESS {
        return Err(format!(
            "glmark2 --validate regressed; see {}",
            log.display()
        ));
    }
    Ok(())
}

fn piglit_sanity(socket: &Path, runtime_dir: &Path, results: &Path) -> Result<(), String> {
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
    if pass < PIGLIT_SANITY_MIN_PASS {
        return Err(format!(
            "piglit sanity passes {pass} < {PIGLIT_SANITY_MIN_PASS}; results in {}",
            results.display()
        ));
    }
    Ok(())
}

pub fn clients(_args: &[String]) -> Result<(), String> {
    packages::ensure(packages::ALL)?;
    run_step(
        "build virgl-vtest (release)",
        cargo().args(["build", "--release", "-p", "virgl-vtest"]),
    )?;
    let out = workspace_root().join("out/clients");
    let runtime_dir = out.join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).map_err(|e| e.to_string())?;
    let socket = out.join("vtest.sock");
    let _server = start_server(
        &target_dir("release").join("virgl-vtest"),
        &socket,
        &out.join("server.log"),
    )?;
    let xvfb = Xvfb::start(&out.join("xvfb.log"))?;
    println!(
        "xtask clients: real Mesa clients through virgl-vtest (logs in {})",
        out.display()
    );
    glmark2_validate(
        &xvfb.display,
        &socket,
        &runtime_dir,
        &out.join("glmark2.log"),
    )?;
    piglit_sanity(&socket, &runtime_dir, &out.join("piglit-sanity"))?;
    Ok(())
}
