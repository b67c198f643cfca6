//! Differential scene tests: every scene rendered directly on llvmpipe and through Mesa's virgl
//! driver (virpipe) into our `virgl-vtest` must give identical pixels.
//!
//! Needs the `virgl-vtest` binary next to `gl-scenes` (as `cargo test --workspace` builds it) and
//! Mesa 25's virpipe (installed by `cargo xtask test`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const SCENES: &[&str] = &[
    "clear",
    "tiles",
    "triangle",
    "textured",
    "depth-blend",
    "instanced",
];

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gl-scenes-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn server_binary() -> PathBuf {
    let scenes = PathBuf::from(env!("CARGO_BIN_EXE_gl-scenes"));
    let server = scenes.with_file_name("virgl-vtest");
    assert!(
        server.exists(),
        "{} is missing: build it first (cargo test --workspace or cargo build -p virgl-vtest)",
        server.display()
    );
    server
}

fn start_server(socket: &Path) -> Server {
    let child = Command::new(server_binary())
        .arg(format!("--socket-path={}", socket.display()))
        .spawn()
        .expect("start virgl-vtest");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "virgl-vtest did not create its socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server(child)
}

/// Runs a scene and returns its checksum line.
fn checksum(scene: &str, through: Option<&Path>, runtime_dir: &Path) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gl-scenes"));
    cmd.args(["--scene", scene, "--width", "128", "--height", "96"])
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env_remove("GALLIUM_DRIVER");
    if let Some(socket) = through {
        cmd.env("GALLIUM_DRIVER", "virpipe")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("VTEST_SOCKET_NAME", socket);
    }
    let output = cmd.output().expect("run gl-scenes");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "gl-scenes --scene {scene} ({}) failed: {}\n{stdout}",
        if through.is_some() {
            "through virgl-vtest"
        } else {
            "direct"
        },
        String::from_utf8_lossy(&output.stderr)
    );
    if let Some(renderer) = stdout.lines().find(|l| l.starts_with("renderer: ")) {
        let expect_virgl = through.is_some();
        assert_eq!(
            renderer.contains("virgl"),
            expect_virgl,
            "{scene}: {renderer}"
        );
    }
    stdout
        .lines()
        .find(|l| l.starts_with("checksum: "))
        .expect("checksum line")
        .to_string()
}

#[test]
fn scenes_through_virgl_vtest_match_direct_rendering() {
    let dir = scratch_dir();
    let socket = dir.join("vtest.sock");
    let _server = start_server(&socket);
    let mut mismatches = Vec::new();
    for scene in SCENES {
        let direct = checksum(scene, None, &dir);
        let ours = checksum(scene, Some(&socket), &dir);
        println!("{scene}: direct {direct}, through virgl-vtest {ours}");
        if direct != ours {
            mismatches.push(*scene);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        mismatches.is_empty(),
        "scenes that differ through virgl-rs: {mismatches:?}"
    );
}
