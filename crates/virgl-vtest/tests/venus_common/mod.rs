//! What the Venus tests share: the ICD paths and a `virgl-vtest` serving Venus on lavapipe, in
//! each of its modes (in-process contexts, or the render server with worker processes or
//! threads).

#![allow(dead_code)] // each test binary uses part of this module

#[path = "../../../../tests/support/workspace.rs"]
mod workspace;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use std::time::{Duration, Instant};
#[allow(unused_imports)] // for venus_frames; venus_vulkaninfo has no use for it
pub use workspace::profile_dir;
use workspace::workspace_bin;

/// Mesa's venus ICD (the guest side).
pub const VENUS_ICD: &str = "/usr/share/vulkan/icd.d/virtio_icd.json";
/// lavapipe (the host side, for the server and for direct runs).
pub const LVP_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.json";

/// Where the server runs Venus contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--venus-in-process`.
    InProcess,
    /// `--venus`: `virgl-render-server` with one worker process per context.
    RenderServer,
    /// `--venus` with a server whose workers are threads.
    RenderServerThreads,
}

impl Mode {
    pub const ALL: [Mode; 3] = [
        Mode::InProcess,
        Mode::RenderServer,
        Mode::RenderServerThreads,
    ];

    fn tag(self) -> &'static str {
        match self {
            Mode::InProcess => "inproc",
            Mode::RenderServer => "rs",
            Mode::RenderServerThreads => "rs-threads",
        }
    }
}

/// A `virgl-vtest` serving Venus on its own socket in a scratch directory (removed on drop).
pub struct VenusServer {
    child: Child,
    pub mode: Mode,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub log: PathBuf,
}

impl VenusServer {
    /// Starts the server and waits until it listens.
    pub fn start(name: &str, mode: Mode) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "virgl-venus-{name}-{}-{}",
            mode.tag(),
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("vtest.sock");
        let log = dir.join("server.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_virgl-vtest"));
        match mode {
            Mode::InProcess => {
                cmd.arg("--venus-in-process");
            }
            Mode::RenderServer | Mode::RenderServerThreads => {
                let server = workspace_bin("virgl-venus", "virgl-render-server");
                cmd.arg("--venus").env("RENDER_SERVER_EXEC_PATH", server);
                if mode == Mode::RenderServerThreads {
                    cmd.env("VIRGL_RENDER_SERVER_WORKER", "thread");
                } else {
                    cmd.env_remove("VIRGL_RENDER_SERVER_WORKER");
                }
            }
        }
        let child = cmd
            .arg(format!("--socket-path={}", socket.display()))
            .env("VK_DRIVER_FILES", LVP_ICD)
            .env("RUST_LOG", "virgl_venus=info,virgl_capi=info")
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
            mode,
            dir,
            socket,
            log,
        }
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for VenusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
