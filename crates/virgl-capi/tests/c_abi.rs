//! The C ABI as C programs see it: each program in `tests/c/` is compiled with `cc` against the
//! generated `virglrenderer.h`, linked to the cdylib under its SONAME `libvirglrenderer.so.1`,
//! and run; it must exit 0.
//!
//! `cargo test` builds this crate's cdylib next to the test binaries (the lib target is built
//! with every crate type it declares), so the library is found at `target/<profile>/`. When it
//! is not there (a test binary run by hand after a `cargo clean`), it is built with the same
//! cargo and target directory.
//!
//! Each program links `-l:libvirglrenderer.so.1` from its own temporary directory that holds a
//! symlink of that name to our library, and run with `LD_LIBRARY_PATH` pointing there: the
//! dynamic loader finds the library by its SONAME, exactly as it does for QEMU, and the programs
//! check with `dladdr` that the library they got is ours, not a system virglrenderer.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one C program may run (llvmpipe under a loaded CI machine is slow, but not this slow).
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: the test binary lives in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a directory");
    deps.parent().expect("deps has a parent").to_path_buf()
}

/// The built cdylib, building it if cargo did not leave one next to us.
fn cdylib() -> PathBuf {
    let profile = profile_dir();
    let candidates = [
        profile.join("libvirgl_capi.so"),
        profile.join("deps").join("libvirgl_capi.so"),
    ];
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return found.clone();
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = profile
        .parent()
        .expect("profile dir has a parent")
        .to_path_buf();
    let mut build = Command::new(cargo);
    build
        .args(["build", "-p", "virgl-capi", "--lib"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(manifest_dir());
    if profile.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p virgl-capi --lib failed");
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .expect("cargo build produced no libvirgl_capi.so")
}

/// A directory private to this test process, removed when the process ends normally.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("virgl-capi-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Puts `libvirglrenderer.so.1 -> <our cdylib>` into `dir`.
fn link_library(dir: &Path) {
    let lib = cdylib();
    std::os::unix::fs::symlink(&lib, dir.join("libvirglrenderer.so.1"))
        .expect("symlink libvirglrenderer.so.1");
    eprintln!("library under test: {}", lib.display());
}

/// Compiles `tests/c/<name>.c` into `out` with warnings as errors.
fn compile(name: &str, out: &Path, lib_dir: &Path, libs: &[&str]) {
    let root = manifest_dir();
    let source = root.join("tests/c").join(format!("{name}.c"));
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let output = Command::new(cc)
        .args(["-std=gnu11", "-g", "-O1", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root.join("include/virgl"))
        .arg("-I")
        .arg(root.join("tests/c"))
        .arg(&source)
        .arg("-o")
        .arg(out)
        .arg("-L")
        .arg(lib_dir)
        .arg("-l:libvirglrenderer.so.1")
        .args(libs)
        .arg("-ldl")
        .output()
        .expect("run cc");
    assert!(
        output.status.success(),
        "compiling {} failed:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compiles and runs one C program; panics with its output unless it exits 0.
fn run_c_test(name: &str, libs: &[&str]) {
    let work = TempDir::new(name);
    link_library(&work.0);
    let exe = work.0.join(name);
    compile(name, &exe, &work.0, libs);

    let mut child = Command::new(&exe)
        .env("LD_LIBRARY_PATH", &work.0)
        .env("VIRGL_TEST_LIB_DIR", &work.0)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the C test");
    // Both pipes are drained on threads so that a chatty program cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the C test") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    println!("---- {name} stdout ----\n{out}---- {name} stderr ----\n{err}");
    match status {
        None => panic!("{name} ran longer than {RUN_TIMEOUT:?} and was killed"),
        Some(status) => assert!(status.success(), "{name} failed: {status}"),
    }
}

#[test]
fn qemu_flow() {
    run_c_test("qemu_flow", &["-lEGL"]);
}

#[test]
fn errors() {
    run_c_test("errors", &[]);
}

#[test]
fn blob() {
    run_c_test("blob", &[]);
}
