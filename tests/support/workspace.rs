//! Test-process helpers several crates' integration tests share (included with
//! `#[path = ".../tests/support/workspace.rs"] mod workspace;`): building another workspace
//! package's binary or library the way the running test was built, and finding a process's
//! children (render-server workers, forked servers) through `/proc`.
//!
//! Test code only: helpers panic with a message instead of returning errors.
#![allow(dead_code)] // each test binary uses part of this module

use std::path::PathBuf;
use std::process::Command;

/// `<target>/<profile>`: the running test binary lives in its `deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test binary in <target>/<profile>/deps")
        .to_path_buf()
}

/// Builds `package` (with `extra` cargo arguments, e.g. `--bin NAME`) with the same cargo,
/// profile and target directory as this test — a no-op when `cargo test --workspace` already
/// built it — and returns that profile directory, where the outputs are.
pub fn cargo_build(package: &str, extra: &[&str]) -> PathBuf {
    let profile_dir = profile_dir();
    // Cargo names the `debug` directory's profile `dev`; other directories are their profile.
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--profile", &profile])
        .args(extra)
        .arg("--target-dir")
        .arg(profile_dir.parent().expect("target dir"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building {package} {extra:?} failed");
    profile_dir
}

/// Builds `package`'s binary `bin` (see [`cargo_build`]) and returns its path.
pub fn workspace_bin(package: &str, bin: &str) -> PathBuf {
    cargo_build(package, &["--bin", bin]).join(bin)
}

/// `(pid, comm)` of every child of `pid`, from `/proc/*/stat`.
pub fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the fields
        // after it start at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if stat[close + 1..].split_whitespace().nth(1) == Some(&pid.to_string()) {
            out.push((child, stat[open + 1..close].to_string()));
        }
    }
    out
}

/// lavapipe's ICD, the host Vulkan of the Venus tests.
pub const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";

/// Points the Vulkan loader at lavapipe and the render-server proxy at this workspace's
/// `virgl-render-server`, once, before any test of the binary loads Vulkan or starts a server
/// (which read them: the environment is only written while nothing reads it). False, with the
/// reason printed, when lavapipe is not installed.
pub fn lavapipe_and_render_server() -> bool {
    if !std::path::Path::new(LVP_ICD).exists() {
        eprintln!("skipped: {LVP_ICD} is not installed");
        return false;
    }
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        let server = workspace_bin("virgl-venus", "virgl-render-server");
        std::env::set_var("VK_DRIVER_FILES", LVP_ICD);
        std::env::set_var("RENDER_SERVER_EXEC_PATH", server);
    });
    true
}
