//! `cargo xtask install --prefix DIR`: lays the C library out as a distro package would.
//!
//! ```text
//! DIR/lib/libvirglrenderer.so.1.11.0   (SONAME libvirglrenderer.so.1, as upstream 1.3.0)
//! DIR/lib/libvirglrenderer.so.1 -> libvirglrenderer.so.1.11.0
//! DIR/lib/libvirglrenderer.so   -> libvirglrenderer.so.1
//! DIR/lib/pkgconfig/virglrenderer.pc
//! DIR/include/virgl/virglrenderer.h, virgl-version.h
//! DIR/bin/virgl-vtest
//! DIR/libexec/virgl-render-server       (where the proxy looks next to the library: ../libexec)
//! ```

use std::path::{Path, PathBuf};

use crate::codegen::ABI_VERSION;
use crate::tasks::{cargo, run_step, workspace_root};

/// Upstream 1.3.0's library file name (`binary_age` 1, `interface_age` 11).
pub const LIBRARY_FILE: &str = "libvirglrenderer.so.1.11.0";

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

fn symlink(target: &str, link: &Path) -> Result<(), String> {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).map_err(|e| format!("{}: {e}", link.display()))
}

/// The directory cargo builds into for `profile`.
pub fn target_dir(profile: &str) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join(profile)
}

/// Lays out the library (built for `profile`) under `lib_dir` with its SONAME links.
pub fn install_library(profile: &str, lib_dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(lib_dir).map_err(|e| format!("{}: {e}", lib_dir.display()))?;
    let installed = lib_dir.join(LIBRARY_FILE);
    let _ = std::fs::remove_file(&installed);
    copy(&target_dir(profile).join("libvirgl_capi.so"), &installed)?;
    symlink(LIBRARY_FILE, &lib_dir.join("libvirglrenderer.so.1"))?;
    symlink(
        "libvirglrenderer.so.1",
        &lib_dir.join("libvirglrenderer.so"),
    )?;
    Ok(installed)
}

pub fn install(args: &[String]) -> Result<(), String> {
    let mut prefix = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--prefix" => prefix = iter.next().cloned(),
            other if other.starts_with("--prefix=") => {
                prefix = Some(other["--prefix=".len()..].to_string())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let prefix = PathBuf::from(prefix.ok_or("--prefix DIR is required")?);
    let prefix = if prefix.is_absolute() {
        prefix
    } else {
        std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join(prefix)
    };
    run_step(
        "build (release)",
        cargo().args([
            "build",
            "--release",
            "-p",
            "virgl-capi",
            "-p",
            "virgl-vtest",
            "-p",
            "virgl-venus",
            "--lib",
            "--bins",
        ]),
    )?;
    let lib_dir = prefix.join("lib");
    let installed = install_library("release", &lib_dir)?;

    let include_dir = prefix.join("include/virgl");
    std::fs::create_dir_all(&include_dir).map_err(|e| e.to_string())?;
    let headers = workspace_root().join("crates/virgl-capi/include/virgl");
    for header in ["virglrenderer.h", "virgl-version.h"] {
        copy(&headers.join(header), &include_dir.join(header))?;
    }

    let pkgconfig = lib_dir.join("pkgconfig");
    std::fs::create_dir_all(&pkgconfig).map_err(|e| e.to_string())?;
    let (major, minor, micro) = ABI_VERSION;
    let pc = format!(
        "prefix={}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
         Name: virglrenderer\n\
         Description: virgl GL/Vulkan renderer for virtio-gpu (virgl-rs)\n\
         Version: {major}.{minor}.{micro}\n\
         Libs: -L${{libdir}} -lvirglrenderer\n\
         Cflags: -I${{includedir}}/virgl\n",
        prefix.display()
    );
    std::fs::write(pkgconfig.join("virglrenderer.pc"), pc).map_err(|e| e.to_string())?;

    let bin_dir = prefix.join("bin");
    std::fs::create_dir_all(&bin_dir).map_err(|e| e.to_string())?;
    copy(
        &target_dir("release").join("virgl-vtest"),
        &bin_dir.join("virgl-vtest"),
    )?;

    let libexec_dir = prefix.join("libexec");
    std::fs::create_dir_all(&libexec_dir).map_err(|e| e.to_string())?;
    copy(
        &target_dir("release").join("virgl-render-server"),
        &libexec_dir.join("virgl-render-server"),
    )?;

    println!(
        "xtask install: {} and headers, pkg-config, virgl-vtest, virgl-render-server under {}",
        installed.display(),
        prefix.display()
    );
    Ok(())
}
