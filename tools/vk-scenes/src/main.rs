//! `vk-scenes`: offscreen Vulkan scenes for differential testing of the Venus backend.
//!
//! Each scene renders into an image (or computes into a buffer), copies the result into a
//! host-visible buffer and reads it back; the program writes those bytes to `--out` and prints
//! a checksum line. It uses whatever ICD the loader selects, so the same scene runs once on
//! lavapipe directly (`VK_DRIVER_FILES=.../lvp_icd.json`) and once through Mesa's venus driver
//! talking to `virgl-vtest --venus` (`VK_DRIVER_FILES=.../virtio_icd.json VN_DEBUG=vtest
//! VTEST_SOCKET_NAME=...`); the two read-backs must be identical.
//!
//! It does not present anything (vtest has no swapchain) and does not use validation layers.

mod gpu;
mod scenes;
mod spirv;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: vk-scenes --scene NAME [--out FILE]\n       vk-scenes --list\nscenes: {}",
        scenes::SCENES.join(", ")
    );
    ExitCode::from(2)
}

/// FNV-1a, for the summary line.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn main() -> ExitCode {
    let mut scene = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scene" => scene = args.next(),
            "--out" => out = args.next(),
            "--list" => {
                for s in scenes::SCENES {
                    println!("{s}");
                }
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    let Some(scene) = scene else {
        return usage();
    };
    let result = gpu::Gpu::new().and_then(|gpu| {
        let bytes = scenes::run(&gpu, &scene)?;
        Ok((gpu.name().to_string(), bytes))
    });
    match result {
        Ok((device, bytes)) => {
            if let Some(path) = out {
                if let Err(e) = std::fs::write(&path, &bytes) {
                    eprintln!("vk-scenes: {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
            println!(
                "scene {scene} device {device:?} bytes {} fnv64 {:016x}",
                bytes.len(),
                fnv64(&bytes)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vk-scenes: scene {scene}: {e}");
            ExitCode::FAILURE
        }
    }
}
