//! Mesa's venus driver (the guest side) runs `vulkaninfo --summary` and then the full
//! `vulkaninfo` against `virgl-vtest --venus`, whose Venus backend runs on lavapipe.
//!
//! Needs vulkaninfo, Mesa >= 25 with the venus ICD (`virtio_icd.json`) and lavapipe
//! (`lvp_icd.json`); CI installs them (`cargo xtask packages`). Without them the test prints why
//! and passes, so a bare developer machine can still run `cargo test`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VENUS_ICD: &str = "/usr/share/vulkan/icd.d/virtio_icd.json";
const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";

struct Server {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Server {
    fn start(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("virgl-venus-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("vtest.sock");
        let log = dir.join("server.log");
        let child = Command::new(env!("CARGO_BIN_EXE_virgl-vtest"))
            .arg("--venus")
            .arg(format!("--socket-path={}", socket.display()))
            .env("VK_DRIVER_FILES", LVP_ICD)
            .env("RUST_LOG", "virgl_venus=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start virgl-vtest");
        let start = Instant::now();
        while !socket.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "server did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, socket, log }
    }

    fn vulkaninfo(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("vulkaninfo")
            .args(args)
            .env("VK_DRIVER_FILES", VENUS_ICD)
            .env("VN_DEBUG", "vtest")
            .env("VTEST_SOCKET_NAME", &self.socket)
            .env("XDG_RUNTIME_DIR", std::env::temp_dir())
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .expect("run vulkaninfo");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let server = Server::start("vulkaninfo");
    let (ok, summary) = server.vulkaninfo(&["--summary"]);
    let log = || std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        ok,
        "vulkaninfo --summary failed:\n{summary}\nserver log:\n{}",
        log()
    );
    assert!(
        summary.contains("Virtio-GPU Venus"),
        "no venus device in:\n{summary}"
    );
    assert!(summary.contains("driverName         = venus"), "{summary}");

    let (ok, full) = server.vulkaninfo(&[]);
    assert!(ok, "vulkaninfo failed:\n{full}\nserver log:\n{}", log());
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
}
