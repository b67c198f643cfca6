//! The real clients: glmark2 and glxgears under Xvfb, and `vtest-bench` (tools/vtest-bench),
//! each run against one target and reduced to `(metric, value)` pairs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::demo::{virpipe_env, KillOnDrop};

/// Where a client renders: through a vtest server's socket, or directly on llvmpipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Ours,
    Reference,
    Direct,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Ours, Target::Reference, Target::Direct];

    pub fn label(self) -> &'static str {
        match self {
            Target::Ours => "virgl-rs",
            Target::Reference => "reference",
            Target::Direct => "direct llvmpipe",
        }
    }
}

/// The glmark2 scenes (each with its default options) and the run settings of upstream's
/// published figures: 10 scenes at 400x300.
pub const GLMARK2_SCENES: &[&str] = &[
    "build",
    "texture",
    "shading",
    "bump",
    "effect2d",
    "pulsar",
    "desktop",
    "buffer",
    "conditionals",
    "function",
];

/// An X server for the GLX clients.
pub struct Xvfb {
    _child: KillOnDrop,
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb on the first display number from 120 whose lock file does not exist (other
    /// engineers' Xvfbs may be running).
    pub fn start(log: &Path) -> Result<Xvfb, String> {
        let n = (120..400)
            .find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists())
            .ok_or("no free X display number")?;
        let display = format!(":{n}");
        let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting Xvfb: {e}"))?;
        let guard = KillOnDrop(child);
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if Instant::now() > deadline {
                return Err(format!("Xvfb did not create {}", socket.display()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Xvfb {
            _child: guard,
            display,
        })
    }
}

/// How a GL client reaches its target.
pub struct GlEnv<'a> {
    pub display: &'a str,
    pub runtime_dir: &'a Path,
    /// The server's socket; `None` renders directly on llvmpipe.
    pub socket: Option<&'a Path>,
}

impl GlEnv<'_> {
    fn apply(&self, cmd: &mut Command) {
        cmd.env("DISPLAY", self.display)
            .env("XDG_RUNTIME_DIR", self.runtime_dir)
            .env("vblank_mode", "0");
        match self.socket {
            Some(socket) => virpipe_env(cmd, socket, self.runtime_dir),
            None => {
                cmd.env("LIBGL_ALWAYS_SOFTWARE", "1")
                    .env("GALLIUM_DRIVER", "llvmpipe");
            }
        }
    }
}

/// glmark2 over [`GLMARK2_SCENES`]: the score and each scene's fps.
pub fn glmark2(env: &GlEnv<'_>, scene_seconds: f64) -> Result<Vec<(String, f64)>, String> {
    let mut cmd = Command::new("glmark2");
    cmd.args(["--size", "400x300"]);
    for scene in GLMARK2_SCENES {
        cmd.arg("-b")
            .arg(format!("{scene}:duration={scene_seconds}"));
    }
    env.apply(&mut cmd);
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("glmark2: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("glmark2 failed ({}):\n{text}", out.status));
    }
    let mut figures = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(score) = line.strip_prefix("glmark2 Score:") {
            if let Ok(v) = score.trim().parse() {
                figures.insert(0, ("glmark2 score".to_string(), v));
            }
        } else if let Some(rest) = line.strip_prefix('[') {
            let Some((scene, tail)) = rest.split_once(']') else {
                continue;
            };
            let fps = tail
                .split_once("FPS:")
                .and_then(|(_, v)| v.split_whitespace().next()?.parse().ok());
            if let Some(fps) = fps {
                figures.push((format!("glmark2 {scene} fps"), fps));
            }
        }
    }
    if !figures.iter().any(|(k, _)| k == "glmark2 score") {
        return Err(format!("glmark2 printed no score:\n{text}"));
    }
    Ok(figures)
}

/// glxgears for `seconds`: the median of its 5-second reports after the first (start-up).
pub fn glxgears(env: &GlEnv<'_>, seconds: u64) -> Result<Vec<(String, f64)>, String> {
    let mut cmd = Command::new("glxgears");
    env.apply(&mut cmd);
    let child: Child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("glxgears: {e}"))?;
    let mut guard = KillOnDrop(child);
    let stdout = guard.0.stdout.take().ok_or("glxgears without stdout")?;
    // Read in a thread so the deadline holds even if glxgears stops printing.
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| {
                l.split_once("= ")?
                    .1
                    .split_whitespace()
                    .next()?
                    .parse::<f64>()
                    .ok()
            })
            .collect::<Vec<f64>>()
    });
    std::thread::sleep(Duration::from_secs(seconds));
    drop(guard);
    let reports = reader.join().map_err(|_| "glxgears reader panicked")?;
    let steady: Vec<f64> = reports.iter().skip(1).copied().collect();
    match crate::compare::median(&steady) {
        Some(fps) => Ok(vec![("glxgears fps".into(), fps)]),
        None => Err(format!(
            "glxgears printed {} reports in {seconds} s; need 2 or more",
            reports.len()
        )),
    }
}

/// `vtest-bench` against a server: every `key: value` line it prints.
pub fn vtest_bench(
    bench: &Path,
    socket: &Path,
    server_pid: u32,
    seconds: f64,
    part: &str,
) -> Result<Vec<(String, f64)>, String> {
    let out = Command::new(bench)
        .arg(part)
        .arg("--socket")
        .arg(socket)
        .args(["--server-pid", &server_pid.to_string()])
        .args(["--seconds", &seconds.to_string()])
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("vtest-bench: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "vtest-bench failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(": ")?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect())
}
