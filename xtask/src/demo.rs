//! `cargo xtask demo`: our vtest server with a real Mesa client.
//!
//! Starts `virgl-vtest` on a private socket, runs each `gl-scenes` scene twice — once through
//! Mesa's virgl driver (`GALLIUM_DRIVER=virpipe`) into our server, once directly on llvmpipe —
//! and prints what the client saw, the frame rates, and whether the pixels match. The frames
//! through virgl-rs are saved under `out/demo/` (`virgl-rs.png` is the depth/blend scene).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::packages;
use crate::tasks::{cargo, run_step, workspace_root};

/// The scenes the demo renders (see tools/gl-scenes), and the one saved as `virgl-rs.png`.
const SCENES: &[&str] = &["tiles", "triangle", "textured", "depth-blend", "instanced"];
const MAIN_SCENE: &str = "depth-blend";

/// A child process killed when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `server` on `socket` and waits until the socket exists.
pub fn start_server(server: &Path, socket: &Path, log: &Path) -> Result<KillOnDrop, String> {
    let _ = std::fs::remove_file(socket);
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let child = Command::new(server)
        .arg(format!("--socket-path={}", socket.display()))
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", server.display()))?;
    let mut guard = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if let Ok(Some(status)) = guard.0.try_wait() {
            return Err(format!(
                "{} exited early ({status}); see {}",
                server.display(),
                log.display()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} did not create {}",
                server.display(),
                socket.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(guard)
}

/// The environment that makes a Mesa GL client use virpipe against `socket`.
pub fn virpipe_env(cmd: &mut Command, socket: &Path, runtime_dir: &Path) {
    cmd.env("GALLIUM_DRIVER", "virpipe")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("VTEST_SOCKET_NAME", socket)
        .env("XDG_RUNTIME_DIR", runtime_dir);
}

/// Runs a scene client and returns its `key: value` report.
fn run_scene(mut cmd: Command, what: &str) -> Result<Vec<(String, String)>, String> {
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{what} failed: {}", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn field<'a>(report: &'a [(String, String)], key: &str) -> &'a str {
    report
        .iter()
        .find(|(k, _)| k == key)
        .map_or("?", |(_, v)| v.as_str())
}

pub fn demo(_args: &[String]) -> Result<(), String> {
    packages::ensure(packages::ALL)?;
    run_step(
        "build (release)",
        cargo().args(["build", "--release", "-p", "virgl-vtest", "-p", "gl-scenes"]),
    )?;
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("release");
    let out = root.join("out/demo");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let runtime_dir = out.join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).map_err(|e| e.to_string())?;
    let socket = out.join("vtest.sock");
    let server_log = out.join("server.log");

    let _server = start_server(&target.join("virgl-vtest"), &socket, &server_log)?;
    println!();
    println!("virgl-rs demo: Mesa's virgl driver (virpipe) -> virgl-vtest -> host GL");
    let mut differing = Vec::new();
    for (index, scene) in SCENES.iter().enumerate() {
        let scene_args = [
            "--scene", scene, "--width", "256", "--height", "256", "--frames", "30",
        ];
        let ours_png = out.join(format!("virgl-rs-{scene}.png"));
        let mut ours = Command::new(target.join("gl-scenes"));
        ours.args(scene_args).arg("--out").arg(&ours_png);
        virpipe_env(&mut ours, &socket, &runtime_dir);
        let ours = run_scene(ours, &format!("gl-scenes {scene} through virgl-vtest"))?;

        let direct_png = out.join(format!("direct-{scene}.png"));
        let mut direct = Command::new(target.join("gl-scenes"));
        direct
            .args(scene_args)
            .arg("--out")
            .arg(&direct_png)
            .env("XDG_RUNTIME_DIR", &runtime_dir);
        let direct = run_scene(direct, &format!("gl-scenes {scene} on llvmpipe"))?;

        if index == 0 {
            println!(
                "  renderer seen by the client: {}",
                field(&ours, "renderer")
            );
            println!(
                "  GL version seen by the client: {}",
                field(&ours, "version")
            );
            println!(
                "  {:<12} {:>12} {:>14}  pixels",
                "scene", "fps virgl-rs", "fps direct"
            );
        }
        let same = field(&ours, "checksum") == field(&direct, "checksum");
        if !same {
            differing.push(*scene);
        }
        println!(
            "  {:<12} {:>12} {:>14}  {}",
            scene,
            field(&ours, "fps"),
            field(&direct, "fps"),
            if same {
                "identical to direct rendering"
            } else {
                "DIFFERENT from direct rendering"
            }
        );
    }
    let main_png = out.join("virgl-rs.png");
    std::fs::copy(out.join(format!("virgl-rs-{MAIN_SCENE}.png")), &main_png)
        .map_err(|e| format!("{}: {e}", main_png.display()))?;
    println!(
        "  frame saved as {} (scene {MAIN_SCENE}; every scene as virgl-rs-<scene>.png)",
        main_png.display()
    );
    println!("  server log: {}", server_log.display());
    if differing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "scenes rendered differently through virgl-rs: {differing:?}"
        ))
    }
}
