//! Venus frame tests: each `vk-scenes` scene (tools/vk-scenes: triangle with a vertex buffer,
//! compute into a storage buffer, textured quad with staging upload and sampler, depth test
//! with a vkCreateRenderPass2 render pass, push constants, and a sync scene: timeline semaphore,
//! occlusion query and event around a draw, and VK_KHR_dynamic_rendering with dynamic
//! viewport/scissor and an indexed draw, and transfer commands — update/copy buffer, clear,
//! blit, copy image — in a secondary command buffer, and descriptor indexing: a runtime array
//! of storage buffers with a variable descriptor count, partially bound and updated after
//! bind, indexed non-uniformly by a compute shader) runs once directly on lavapipe and
//! once through Mesa's venus driver against `virgl-vtest` (whose Venus backend runs on
//! lavapipe) in each mode: in-process (`--venus-in-process`) and through `virgl-render-server`
//! with worker processes and with worker threads (`--venus`); the read-back bytes must be
//! identical. Each scene also checks a few values it
//! can predict, so a run that draws nothing fails on its own.
//!
//! Needs Mesa >= 25 with the venus ICD (`virtio_icd.json`) and lavapipe (`lvp_icd.json`); CI
//! installs them (`cargo xtask packages`). Without them the test prints why and passes.

mod venus_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use venus_common::{profile_dir, Mode, VenusServer as Server, LVP_ICD, VENUS_ICD};

const SCENES: &[&str] = &[
    "triangle",
    "compute",
    "textured",
    "depth",
    "push-constants",
    "sync",
    "dynamic-rendering",
    "transfer",
    "descriptor-indexing",
];

/// What the descriptor-indexing scene writes when the device lacks descriptor indexing
/// (`vk-scenes`' `DESCRIPTOR_INDEXING_MARKER`).
const DESCRIPTOR_INDEXING_MARKER: &[u8] = b"vk-scenes: descriptor indexing not exposed\n";

/// The vk-scenes binary of this workspace, built with the same cargo and target directory
/// when `cargo test` did not already build it (it does with `--workspace`).
fn vk_scenes() -> PathBuf {
    let profile = profile_dir();
    let bin = profile.join("vk-scenes");
    if !bin.is_file() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-p", "vk-scenes"])
            .env("CARGO_TARGET_DIR", profile.parent().unwrap())
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo build -p vk-scenes");
        assert!(status.success(), "building vk-scenes failed");
    }
    bin
}

/// Runs one scene; returns the read-back bytes or the program's output on failure.
fn run_scene(bin: &Path, scene: &str, via: Option<&Server>, out: &Path) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new("timeout");
    cmd.arg("120")
        .arg(bin)
        .args(["--scene", scene, "--out"])
        .arg(out)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    match via {
        Some(server) => {
            cmd.env("VK_DRIVER_FILES", VENUS_ICD)
                .env("VN_DEBUG", "vtest")
                .env("VTEST_SOCKET_NAME", &server.socket)
                .env("XDG_RUNTIME_DIR", &server.dir);
        }
        None => {
            cmd.env("VK_DRIVER_FILES", LVP_ICD);
        }
    }
    let output = cmd.output().map_err(|e| format!("run vk-scenes: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("exit {:?}:\n{text}", output.status.code()));
    }
    std::fs::read(out).map_err(|e| format!("{}: {e}\n{text}", out.display()))
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    if a.len() != b.len() {
        return format!("{} bytes vs {} bytes", a.len(), b.len());
    }
    let i = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
    let differing = a.iter().zip(b).filter(|(x, y)| x != y).count();
    format!(
        "{differing} bytes differ; first at byte {i} (pixel {} if RGBA 64 wide: x {}, y {}): {:#04x} vs {:#04x}",
        i / 4,
        (i / 4) % 64,
        (i / 4) / 64,
        a[i],
        b[i]
    )
}

#[test]
fn venus_frames_match_lavapipe() {
    for f in [VENUS_ICD, LVP_ICD] {
        if !Path::new(f).exists() {
            eprintln!(
                "SKIP venus_frames: {f} is not installed (install mesa-vulkan-drivers >= 25)"
            );
            return;
        }
    }
    let bin = vk_scenes();
    let mut failures = Vec::new();
    // The direct lavapipe run of each scene is the reference for every mode.
    let reference_dir = std::env::temp_dir().join(format!("vk-scenes-ref-{}", std::process::id()));
    std::fs::create_dir_all(&reference_dir).unwrap();
    let mut reference = Vec::new();
    for scene in SCENES {
        match run_scene(
            &bin,
            scene,
            None,
            &reference_dir.join(format!("{scene}.lvp")),
        ) {
            Ok(bytes) => reference.push((scene, bytes)),
            Err(e) => failures.push(format!("{scene} on lavapipe: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&reference_dir);
    for mode in Mode::ALL {
        let server = Server::start("frames", mode);
        let before = failures.len();
        for (scene, direct) in &reference {
            let venus = run_scene(
                &bin,
                scene,
                Some(&server),
                &server.dir.join(format!("{scene}.venus")),
            );
            match venus {
                Ok(bytes) if bytes == *direct && bytes == DESCRIPTOR_INDEXING_MARKER => {
                    eprintln!(
                        "{scene} ({mode:?}): neither lavapipe nor venus has descriptor indexing"
                    );
                }
                Ok(bytes) if bytes == *direct => {
                    eprintln!(
                        "{scene} ({mode:?}): {} bytes identical through venus",
                        bytes.len()
                    );
                }
                Ok(bytes) if bytes == DESCRIPTOR_INDEXING_MARKER => failures.push(format!(
                    "{scene} ({mode:?}): lavapipe exposes descriptor indexing but venus does \
                     not (runtimeDescriptorArray, shaderStorageBufferArrayNonUniformIndexing, \
                     descriptorBindingVariableDescriptorCount or \
                     descriptorBindingPartiallyBound missing from the guest's features)"
                )),
                Ok(bytes) => failures.push(format!(
                    "{scene} ({mode:?}): venus read-back differs from lavapipe: {}",
                    first_difference(&bytes, direct)
                )),
                Err(e) => failures.push(format!("{scene} through venus ({mode:?}): {e}")),
            }
        }
        if failures.len() > before {
            failures.push(format!("server log ({mode:?}):\n{}", server.log_text()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
