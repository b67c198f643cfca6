//! System packages: what each task needs, and installing the missing ones with apt-get.
//!
//! Mesa comes from bookworm-backports (Mesa 25): its virpipe honours `VTEST_SOCKET_NAME` and it
//! ships the venus ICD; bookworm's own Mesa 22.3 has neither.

use std::path::Path;
use std::process::Command;

/// A Debian package and the suite it must come from.
pub struct Package {
    pub name: &'static str,
    pub backports: bool,
}

const fn bpo(name: &'static str) -> Package {
    Package {
        name,
        backports: true,
    }
}
const fn main(name: &'static str) -> Package {
    Package {
        name,
        backports: false,
    }
}

/// Everything `cargo xtask test` and `cargo xtask demo` use.
pub const ALL: &[Package] = &[
    // Host GL/Vulkan (llvmpipe, lavapipe) and the Mesa guest drivers (virpipe, venus), Mesa 25.
    bpo("libgl1-mesa-dri"),
    bpo("libegl-mesa0"),
    bpo("libglx-mesa0"),
    bpo("libgbm1"),
    bpo("libgbm-dev"),
    bpo("mesa-vulkan-drivers"),
    bpo("libdrm-dev"),
    // Loaders and headers for building against EGL/Vulkan/VA-API.
    main("libegl1"),
    main("libegl-dev"),
    main("libvulkan1"),
    main("libva-dev"),
    // Real clients.
    main("waffle-utils"),
    main("mesa-utils"),
    main("xvfb"),
    main("glmark2-x11"),
    main("piglit"),
    main("vulkan-tools"),
    // Compiling the C ABI tests.
    main("gcc"),
    main("pkg-config"),
];

/// What `cargo xtask compare` adds: Debian's upstream vtest server (virglrenderer 0.10.4) as the
/// default reference, and perf for profiling a server under load.
pub const COMPARE: &[Package] = &[main("virgl-server"), main("linux-perf")];

/// What `cargo xtask qemu-e2e` adds: Debian's QEMU 10 with its OpenGL and SDL modules (the
/// virtio-gpu-gl device), and the tools that build the guest. The guest kernel is downloaded with
/// `apt-get download`, never installed on the host.
pub const QEMU: &[Package] = &[
    bpo("qemu-system-x86"),
    bpo("qemu-system-modules-opengl"),
    bpo("qemu-system-gui"),
    // The guest's userland, its initramfs, and `depmod` to compute the module chain.
    main("busybox-static"),
    main("cpio"),
    main("kmod"),
    // The static guest test program.
    main("gcc"),
    main("libc6-dev"),
];

fn installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Whether the installed version of `name` comes from bookworm-backports (a `~bpo` version).
fn from_backports(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", name])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("bpo"))
        .unwrap_or(false)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

const BACKPORTS_LIST: &str = "/etc/apt/sources.list.d/virgl-rs-bookworm-backports.list";

fn backports_enabled() -> bool {
    let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") else {
        return false;
    };
    let in_dir = entries.flatten().any(|entry| {
        std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains("bookworm-backports"))
    });
    in_dir
        || std::fs::read_to_string("/etc/apt/sources.list")
            .is_ok_and(|text| text.contains("bookworm-backports"))
}

/// Installs whatever of `packages` is missing, saying what it installs.
pub fn ensure(packages: &[Package]) -> Result<(), String> {
    let missing: Vec<&Package> = packages
        .iter()
        .filter(|p| !installed(p.name) || (p.backports && !from_backports(p.name)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        let names: Vec<_> = missing.iter().map(|p| p.name).collect();
        return Err(format!(
            "missing packages {names:?} and no apt-get to install them"
        ));
    }
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    println!("xtask: installing system packages: {}", names.join(" "));
    if missing.iter().any(|p| p.backports) && !backports_enabled() {
        println!("xtask: enabling bookworm-backports in {BACKPORTS_LIST} (Mesa 25)");
        std::fs::write(
            BACKPORTS_LIST,
            "deb http://deb.debian.org/debian bookworm-backports main\n",
        )
        .map_err(|e| format!("writing {BACKPORTS_LIST}: {e} (run as root)"))?;
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    let backports: Vec<&str> = missing
        .iter()
        .filter(|p| p.backports)
        .map(|p| p.name)
        .collect();
    let regular: Vec<&str> = missing
        .iter()
        .filter(|p| !p.backports)
        .map(|p| p.name)
        .collect();
    if !backports.is_empty() {
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "-t", "bookworm-backports"])
            .args(&backports))?;
    }
    if !regular.is_empty() {
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q"])
            .args(&regular))?;
    }
    Ok(())
}
