//! What the Venus tests share: the ICD paths and a `virgl-vtest --venus` server on lavapipe.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Mesa's venus ICD (the guest side).
pub const VENUS_ICD: &str = "/usr/share/vulkan/icd.d/virtio_icd.json";
/// lavapipe (the host side, for the server and for direct runs).
pub const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";

/// A `virgl-vtest --venus` on its own socket in a scratch directory (removed on drop).
pub struct VenusServer {
    child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub log: PathBuf,
}

impl VenusServer {
    /// Starts the server and waits until it listens.
    pub fn start(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("virgl-venus-{name}-{}", std::process::id()));
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
        Self {
            child,
            dir,
            socket,
            log,
        }
    }
}

impl Drop for VenusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
