//! The tasks themselves.

use std::path::PathBuf;
use std::process::Command;

use crate::packages;

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

pub fn run_step(name: &str, cmd: &mut Command) -> Result<(), String> {
    println!("xtask: == {name} ==");
    let status = cmd.status().map_err(|e| format!("{name}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("step `{name}` failed: {status}"))
    }
}

pub fn test(_args: &[String]) -> Result<(), String> {
    packages::ensure(packages::ALL)?;
    run_step("rustfmt", cargo().args(["fmt", "--all", "--check"]))?;
    run_step(
        "generated files are up to date",
        cargo().args(["xtask", "codegen", "--check"]),
    )?;
    run_step(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // Every library and binary crate can be published (metadata, file list, readme).
    run_step(
        "cargo package (no verify)",
        cargo().args([
            "package",
            "--workspace",
            "--no-verify",
            "--allow-dirty",
            "--exclude",
            "xtask",
            "--exclude",
            "benches",
            "--exclude",
            "gl-scenes",
            "--exclude",
            "vk-scenes",
            "--exclude",
            "vtest-bench",
        ]),
    )?;
    // Tests that start servers and Mesa clients need these; set them for every test process.
    let runtime_dir = std::env::temp_dir().join("virgl-rs-xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).map_err(|e| e.to_string())?;
    run_step(
        "unit and integration tests",
        cargo()
            .args(["test", "--workspace"])
            .env("XDG_RUNTIME_DIR", &runtime_dir),
    )?;
    // Each criterion bench runs once as a test so the benches cannot rot.
    run_step(
        "benches (smoke)",
        cargo().args(["bench", "-p", "benches", "--", "--test"]),
    )?;
    // Real Mesa clients through our server: glmark2 --validate and piglit sanity.
    run_step("real Mesa clients", cargo().args(["xtask", "clients"]))?;
    // piglit's GL conformance subset through virgl-vtest (about 40 s; the full set with the
    // direct comparison is `cargo xtask conformance`).
    run_step(
        "piglit conformance subset",
        cargo().args(["xtask", "conformance", "--subset"]),
    )?;
    // An unmodified Debian QEMU boots a guest on our libvirglrenderer.so.1 (about 15 s once the
    // packages and the kernel package are cached; the library is already built by the tests).
    run_step(
        "QEMU end to end (virtio-gpu-gl)",
        cargo().args(["xtask", "qemu-e2e"]),
    )?;
    Ok(())
}
