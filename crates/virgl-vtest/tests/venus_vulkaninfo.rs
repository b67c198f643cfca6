//! Mesa's venus driver (the guest side) runs `vulkaninfo --summary` and then the full
//! `vulkaninfo` against `virgl-vtest`, whose Venus backend runs on lavapipe, in each mode:
//! in-process (`--venus-in-process`) and through `virgl-render-server` (`--venus`) with worker
//! processes and with worker threads.
//!
//! Needs vulkaninfo, Mesa >= 25 with the venus ICD (`virtio_icd.json`) and lavapipe
//! (`lvp_icd.json`); CI installs them (`cargo xtask packages`). Without them the test prints why
//! and passes, so a bare developer machine can still run `cargo test`.

use std::path::Path;
use std::process::Command;

mod venus_common;

use venus_common::{Mode, VenusServer as Server, LVP_ICD, VENUS_ICD};

/// Runs vulkaninfo through Mesa's venus against `server`.
fn vulkaninfo(server: &Server, args: &[&str]) -> (bool, String) {
    let out = Command::new("vulkaninfo")
        .args(args)
        .env("VK_DRIVER_FILES", VENUS_ICD)
        .env("VN_DEBUG", "vtest")
        .env("VTEST_SOCKET_NAME", &server.socket)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run vulkaninfo");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn missing() -> Option<String> {
    for f in [VENUS_ICD, LVP_ICD] {
        if !Path::new(f).exists() {
            return Some(format!("{f} is not installed"));
        }
    }
    match Command::new("vulkaninfo").arg("--help").output() {
        Ok(_) => None,
        Err(e) => Some(format!("vulkaninfo: {e}")),
    }
}

#[test]
fn venus_vulkaninfo_summary_and_full() {
    if let Some(why) = missing() {
        eprintln!(
            "SKIP venus_vulkaninfo: {why} (install mesa-vulkan-drivers >= 25 and vulkan-tools)"
        );
        return;
    }
    for mode in Mode::ALL {
        vulkaninfo_through(mode);
    }
}

/// `vulkaninfo --summary` and the full output through a server in `mode`.
fn vulkaninfo_through(mode: Mode) {
    let server = Server::start("vulkaninfo", mode);
    let (ok, summary) = vulkaninfo(&server, &["--summary"]);
    let log = || std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        ok,
        "vulkaninfo --summary failed ({mode:?}):\n{summary}\nserver log:\n{}",
        log()
    );
    assert!(
        summary.contains("Virtio-GPU Venus"),
        "no venus device in:\n{summary}"
    );
    assert!(summary.contains("driverName         = venus"), "{summary}");

    let (ok, full) = vulkaninfo(&server, &[]);
    assert!(
        ok,
        "vulkaninfo failed ({mode:?}):\n{full}\nserver log:\n{}",
        log()
    );
    for needle in [
        "VkPhysicalDeviceLimits:",
        "VkPhysicalDeviceFeatures:",
        "VkQueueFamilyProperties:",
        "VkPhysicalDeviceMemoryProperties:",
        "VkPhysicalDeviceDriverProperties:",
        "Device Groups:",
    ] {
        assert!(full.contains(needle), "full vulkaninfo lacks {needle}");
    }
    eprintln!("vulkaninfo ({mode:?}): summary and full output OK");
}
