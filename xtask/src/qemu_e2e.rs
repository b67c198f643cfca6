//! `cargo xtask qemu-e2e`: an unmodified Debian QEMU drives our `libvirglrenderer.so.1`.
//!
//! 1. Installs Debian's QEMU 10 (bookworm-backports, with the OpenGL and SDL modules), busybox,
//!    cpio, kmod and gcc; downloads (never installs) a Debian 6.1 kernel package into
//!    `out/qemu-e2e/cache/`.
//! 2. Builds a tiny guest under `out/qemu-e2e/`: the kernel unpacked with `dpkg -x`, and a gzip'd
//!    newc initramfs holding busybox, the virtio-gpu module chain (dependencies computed from the
//!    kernel's own `modules.dep`, generated with `depmod -b`), `tests/qemu-guest/init` and the
//!    static test program `tests/qemu-guest/virgl_guest_test.c`.
//! 3. Lays out our library with its SONAME links and boots QEMU under TCG with
//!    `-device virtio-gpu-gl-pci -display sdl,gl=on` (`SDL_VIDEODRIVER=offscreen`: no X server),
//!    `LD_LIBRARY_PATH` pointing at our library. While QEMU runs, `/proc/<pid>/maps` must show
//!    that the `libvirglrenderer` QEMU mapped is ours, not Debian's 0.10.4.
//! 4. Reads the guest's `E2E: PASS|FAIL <check>` lines from the serial console and fails unless
//!    QEMU, the guest program and every pixel check passed.
//!
//! Options: `--release` (test the release build of the library), `--library FILE` (test that
//! already built `libvirglrenderer.so` instead of building ours: another checkout's build, or
//! Debian's upstream library to check the test itself), `--timeout SECS` (default 180),
//! `--allow-draw-failure` (report the triangle check but do not fail on it, for while the draw
//! path is being built). `RUST_LOG` is passed to QEMU, so `RUST_LOG=virgl_vrend=trace` logs every
//! command our library executes into `out/qemu-e2e/qemu.log`.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::demo::KillOnDrop;
use crate::install::install_library;
use crate::packages;
use crate::tasks::{cargo, run_step, workspace_root};

/// The Debian kernel series the guest boots (qemu.md: its virtio-gpu driver is known to work).
const KERNEL_PREFIX: &str = "linux-image-6.1.0-";
const KERNEL_SUFFIX: &str = "-amd64";

/// The modules the guest loads: the PCI transport and the GPU driver; the rest comes from
/// `modules.dep`.
const ROOT_MODULES: &[&str] = &["virtio_pci", "virtio_gpu"];

/// The checks the guest program reports, in order; `triangle` needs the draw path.
const CHECKS: &[&str] = &["device", "caps", "clear", "triangle"];

struct Options {
    profile: &'static str,
    library: Option<PathBuf>,
    timeout: Duration,
    allow_draw_failure: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        profile: "debug",
        library: None,
        timeout: Duration::from_secs(180),
        allow_draw_failure: false,
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--release" => options.profile = "release",
            "--allow-draw-failure" => options.allow_draw_failure = true,
            "--library" => {
                let file = iter.next().ok_or("--library needs a file")?;
                options.library = Some(PathBuf::from(file));
            }
            "--timeout" => {
                let secs = iter.next().ok_or("--timeout needs a number of seconds")?;
                let secs: u64 = secs.parse().map_err(|e| format!("--timeout {secs}: {e}"))?;
                options.timeout = Duration::from_secs(secs);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// Runs `cmd`, returning its stdout; fails with its stderr.
fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The ABI number of a `linux-image-6.1.0-<abi>-amd64` package or `.deb` file name.
fn kernel_abi(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(KERNEL_PREFIX)?;
    let (abi, tail) = rest.split_once('-')?;
    let flavour = &KERNEL_SUFFIX[1..];
    (tail == flavour || tail.starts_with(&format!("{flavour}_"))).then_some(())?;
    abi.parse().ok()
}

/// The newest 6.1 kernel `.deb` in `cache`, downloading the newest one apt knows when the cache
/// has none (a cached package keeps reruns offline and reproducible).
fn kernel_deb(cache: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(cache).map_err(io_err(cache))?;
    let newest_cached = |dir: &Path| -> Option<PathBuf> {
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "deb"))
            .filter_map(|p| Some((kernel_abi(p.file_name()?.to_str()?)?, p)))
            .max()
            .map(|(_, p)| p)
    };
    if let Some(deb) = newest_cached(cache) {
        return Ok(deb);
    }
    let search = output(Command::new("apt-cache").args([
        "search",
        "--names-only",
        &format!("^{KERNEL_PREFIX}[0-9]+{KERNEL_SUFFIX}$"),
    ]))?;
    let package = search
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter_map(|name| Some((kernel_abi(name)?, name.to_string())))
        .max()
        .map(|(_, name)| name)
        .ok_or("apt knows no linux-image-6.1.0-*-amd64 package (is bookworm in sources.list?)")?;
    println!(
        "xtask: downloading {package} into {} (not installed)",
        cache.display()
    );
    run_step(
        "apt-get download kernel",
        Command::new("apt-get")
            .args(["download", "-q", &package])
            .current_dir(cache),
    )?;
    newest_cached(cache).ok_or_else(|| format!("apt-get download {package} left no .deb"))
}

/// Unpacks the kernel package once and generates its `modules.dep`; returns the unpacked root
/// and the kernel release (`6.1.0-N-amd64`).
fn unpack_kernel(deb: &Path, work: &Path) -> Result<(PathBuf, String), String> {
    let stem = deb.file_stem().and_then(|s| s.to_str()).unwrap_or("kernel");
    let root = work.join(stem);
    let modules = root.join("lib/modules");
    if !modules.exists() {
        let partial = work.join(format!("{stem}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        run_step(
            "unpack kernel (dpkg -x)",
            Command::new("dpkg").arg("-x").arg(deb).arg(&partial),
        )?;
        std::fs::rename(&partial, &root).map_err(io_err(&root))?;
    }
    let release = std::fs::read_dir(&modules)
        .map_err(io_err(&modules))?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .next()
        .ok_or_else(|| format!("no kernel release under {}", modules.display()))?;
    if !modules.join(&release).join("modules.dep").exists() {
        run_step(
            "depmod",
            Command::new("depmod").arg("-b").arg(&root).arg(&release),
        )?;
    }
    Ok((root, release))
}

/// A module's name as the kernel spells it: file stem without `.ko`, `-` read as `_`.
fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.trim_end_matches(".ko").replace('-', "_")
}

/// `modules.dep` as module path -> the paths it depends on.
fn parse_modules_dep(text: &str) -> BTreeMap<String, Vec<String>> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(module, deps)| {
            let deps = deps.split_whitespace().map(str::to_string).collect();
            (module.trim().to_string(), deps)
        })
        .collect()
}

/// The module paths to `insmod`, dependencies before the modules that need them.
fn load_order(dep: &BTreeMap<String, Vec<String>>, roots: &[&str]) -> Result<Vec<String>, String> {
    fn visit(
        module: &str,
        dep: &BTreeMap<String, Vec<String>>,
        seen: &mut HashSet<String>,
        order: &mut Vec<String>,
    ) -> Result<(), String> {
        if !seen.insert(module.to_string()) {
            return Ok(());
        }
        let deps = dep
            .get(module)
            .ok_or_else(|| format!("{module} is not in modules.dep"))?;
        for d in deps {
            visit(d, dep, seen, order)?;
        }
        order.push(module.to_string());
        Ok(())
    }
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for root in roots {
        let path = dep
            .keys()
            .find(|path| module_name(path) == *root)
            .ok_or_else(|| format!("module {root} is not in modules.dep (built in?)"))?;
        visit(path, dep, &mut seen, &mut order)?;
    }
    if let Some(compressed) = order.iter().find(|m| !m.ends_with(".ko")) {
        return Err(format!(
            "{compressed} is compressed; busybox insmod needs plain .ko modules"
        ));
    }
    Ok(order)
}

fn copy_file(from: &Path, to: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to).map_err(|e| format!("copying {}: {e}", from.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).map_err(io_err(to))
}

/// Builds the initramfs (newc cpio, gzip) and returns its path.
fn build_initramfs(
    work: &Path,
    kernel_root: &Path,
    release: &str,
    guest_test: &Path,
) -> Result<(PathBuf, Vec<String>), String> {
    let modules_dir = kernel_root.join("lib/modules").join(release);
    let dep_path = modules_dir.join("modules.dep");
    let dep = std::fs::read_to_string(&dep_path).map_err(io_err(&dep_path))?;
    let order = load_order(&parse_modules_dep(&dep), ROOT_MODULES)?;

    let staging = work.join("initramfs");
    let _ = std::fs::remove_dir_all(&staging);
    for dir in ["bin", "modules"] {
        std::fs::create_dir_all(staging.join(dir)).map_err(io_err(&staging))?;
    }
    copy_file(
        Path::new("/bin/busybox"),
        &staging.join("bin/busybox"),
        0o755,
    )?;
    let guest_dir = workspace_root().join("tests/qemu-guest");
    copy_file(&guest_dir.join("init"), &staging.join("init"), 0o755)?;
    copy_file(guest_test, &staging.join("virgl-guest-test"), 0o755)?;
    let mut names = Vec::new();
    for module in &order {
        let file = module.rsplit('/').next().unwrap_or(module);
        copy_file(
            &modules_dir.join(module),
            &staging.join("modules").join(file),
            0o644,
        )?;
        names.push(file.to_string());
    }
    let list = staging.join("modules/load-order");
    std::fs::write(&list, names.join("\n") + "\n").map_err(io_err(&list))?;

    let initrd = work.join("initrd.img");
    let script = "find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1 > \"$0\"";
    run_step(
        "initramfs (cpio newc, gzip)",
        Command::new("sh")
            .args(["-c", script])
            .arg(&initrd)
            .current_dir(&staging),
    )?;
    Ok((initrd, names))
}

/// Copies `file` (`--library`) to `lib_dir/libvirglrenderer.so.1`, so that the mapping QEMU
/// shows in `/proc/<pid>/maps` names it whatever the original file is called; returns the copy.
fn use_library(file: &Path, lib_dir: &Path) -> Result<PathBuf, String> {
    let _ = std::fs::remove_dir_all(lib_dir);
    std::fs::create_dir_all(lib_dir).map_err(io_err(lib_dir))?;
    let copy = lib_dir.join("libvirglrenderer.so.1");
    copy_file(file, &copy, 0o755)?;
    println!("xtask: testing {} instead of building ours", file.display());
    Ok(copy)
}

/// Where `pid` mapped a `libvirglrenderer` from, if it has.
fn mapped_virglrenderer(pid: u32) -> Option<PathBuf> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.contains("libvirglrenderer"))
        .map(PathBuf::from)
}

/// Ends QEMU the way a host does (SIGTERM: QEMU shuts down from its main loop) once the guest
/// reported. Not a guest power-off: the guest kernel then resets the virtio device, and this QEMU
/// (10.0.2) handles that reset on the vCPU thread with GL calls of its display code
/// (`virtio_gpu_gl_reset` -> `dpy_gl_scanout_disable` -> `egl_fb_destroy`) where no GL context
/// is current; libepoxy aborts there whenever that GL function was not resolved before, whatever
/// the renderer library.
fn stop_qemu(pid: u32) -> Result<(), String> {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map_err(|e| format!("kill -TERM {pid}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill -TERM {pid} failed: {status}"))
    }
}

/// What one QEMU run produced.
struct Run {
    status: Option<std::process::ExitStatus>,
    timed_out: bool,
    serial: Vec<String>,
    library: Option<PathBuf>,
    wall: Duration,
}

fn run_qemu(
    qemu: &Path,
    kernel: &Path,
    initrd: &Path,
    lib_dir: &Path,
    work: &Path,
    timeout: Duration,
) -> Result<Run, String> {
    let runtime_dir = work.join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).map_err(io_err(&runtime_dir))?;
    let stderr_path = work.join("qemu.log");
    let stderr = std::fs::File::create(&stderr_path).map_err(io_err(&stderr_path))?;
    let serial_path = work.join("serial.log");
    let mut serial_log = std::fs::File::create(&serial_path).map_err(io_err(&serial_path))?;

    let mut cmd = Command::new(qemu);
    cmd.args(["-accel", "tcg", "-m", "512", "-smp", "1"])
        .args(["-nodefaults", "-no-user-config", "-no-reboot"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 panic=-1 loglevel=7"])
        .args(["-device", "virtio-gpu-gl-pci"])
        .args(["-display", "sdl,gl=on"])
        .args(["-serial", "stdio", "-monitor", "none"])
        .env("SDL_VIDEODRIVER", "offscreen")
        .env("LD_LIBRARY_PATH", lib_dir)
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    println!("xtask: == QEMU ==\n{cmd:?}");
    let start = Instant::now();
    let mut child = KillOnDrop(
        cmd.spawn()
            .map_err(|e| format!("{}: {e}", qemu.display()))?,
    );
    let pid = child.0.id();
    let stdout = child.0.stdout.take().ok_or("no QEMU stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut serial = Vec::new();
    let mut library = None;
    let mut stopped = false;
    let (status, timed_out) = loop {
        while let Ok(line) = rx.try_recv() {
            let line = line.trim_end_matches('\r').to_string();
            let _ = writeln!(serial_log, "{line}");
            if line.contains("E2E") || line.contains("[drm]") || line.contains("virtio") {
                println!("  guest| {line}");
            }
            if line.contains("E2E-EXIT:") && !stopped {
                stop_qemu(pid)?;
                stopped = true;
            }
            serial.push(line);
        }
        if library.is_none() {
            library = mapped_virglrenderer(pid);
        }
        if let Some(status) = child.0.try_wait().map_err(|e| e.to_string())? {
            break (Some(status), false);
        }
        if start.elapsed() > timeout {
            let _ = child.0.kill();
            break (child.0.wait().ok(), true);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wall = start.elapsed();
    // The reader thread ends at EOF once QEMU is gone; take what it still had.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        let line = line.trim_end_matches('\r').to_string();
        let _ = writeln!(serial_log, "{line}");
        if line.contains("E2E") {
            println!("  guest| {line}");
        }
        serial.push(line);
    }
    Ok(Run {
        status,
        timed_out,
        serial,
        library,
        wall,
    })
}

/// The `E2E: PASS|FAIL <check> <detail>` line of each check.
fn check_results(serial: &[String]) -> BTreeMap<String, (bool, String)> {
    let mut results = BTreeMap::new();
    for line in serial {
        let Some(rest) = line.split("E2E: ").nth(1) else {
            continue;
        };
        let (pass, rest) = if let Some(rest) = rest.strip_prefix("PASS ") {
            (true, rest)
        } else if let Some(rest) = rest.strip_prefix("FAIL ") {
            (false, rest)
        } else {
            continue;
        };
        let (name, detail) = rest.split_once(' ').unwrap_or((rest, ""));
        results.insert(name.to_string(), (pass, detail.to_string()));
    }
    results
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn qemu_e2e(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let total = Instant::now();
    packages::ensure(packages::QEMU)?;
    let qemu = PathBuf::from("/usr/bin/qemu-system-x86_64");
    let qemu_version = output(Command::new(&qemu).arg("--version"))?
        .lines()
        .next()
        .unwrap_or("?")
        .to_string();

    let root = workspace_root();
    let work = root.join("out/qemu-e2e");
    std::fs::create_dir_all(&work).map_err(io_err(&work))?;
    let deb = kernel_deb(&work.join("cache"))?;
    let (kernel_root, release) = unpack_kernel(&deb, &work)?;
    let kernel = kernel_root.join(format!("boot/vmlinuz-{release}"));

    let guest_test = work.join("virgl-guest-test");
    run_step(
        "guest test program (gcc -static)",
        Command::new("gcc")
            .args(["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&guest_test)
            .arg(root.join("tests/qemu-guest/virgl_guest_test.c"))
            .arg("-lm"),
    )?;
    let (initrd, modules) = build_initramfs(&work, &kernel_root, &release, &guest_test)?;

    let lib_dir = work.join("lib");
    let installed = match &options.library {
        Some(file) => use_library(file, &lib_dir)?,
        None => {
            let mut build = cargo();
            build.args(["build", "-p", "virgl-capi"]);
            if options.profile == "release" {
                build.arg("--release");
            }
            let step = format!("build libvirglrenderer ({})", options.profile);
            run_step(&step, &mut build)?;
            let _ = std::fs::remove_dir_all(&lib_dir);
            install_library(options.profile, &lib_dir)?
        }
    };
    let prepared = total.elapsed();

    let run = run_qemu(&qemu, &kernel, &initrd, &lib_dir, &work, options.timeout)?;
    let results = check_results(&run.serial);
    let exit_line = run
        .serial
        .iter()
        .find_map(|l| l.split("E2E-EXIT: ").nth(1))
        .and_then(|code| code.trim().parse::<i32>().ok());
    let features = run
        .serial
        .iter()
        .find_map(|l| l.split("[drm] features: ").nth(1))
        .unwrap_or("(not logged)");

    let mut failures = Vec::new();
    let ours = installed.canonicalize().map_err(io_err(&installed))?;
    let library = match &run.library {
        Some(path) if path.canonicalize().ok().as_ref() == Some(&ours) => {
            format!("{} (the one under test)", path.display())
        }
        Some(path) => {
            failures.push(format!(
                "QEMU loaded {}, not {}",
                path.display(),
                ours.display()
            ));
            format!("{} (NOT the one under test)", path.display())
        }
        None => {
            failures.push("QEMU was never seen with a libvirglrenderer mapped".into());
            "(never mapped)".into()
        }
    };
    if run.timed_out {
        failures.push(format!(
            "QEMU still ran after {:?}; killed",
            options.timeout
        ));
    } else if !run.status.is_some_and(|s| s.success()) {
        failures.push(format!("QEMU exited with {:?}", run.status));
    }
    if exit_line.is_none() {
        failures.push("the guest test program did not finish (no E2E-EXIT line)".into());
    }

    println!();
    println!("qemu-e2e: unmodified Debian QEMU -> virtio-gpu-gl -> virgl-rs libvirglrenderer.so.1");
    println!("  QEMU: {qemu_version}");
    println!("  library mapped by QEMU: {library}");
    println!(
        "  guest: Debian kernel {release}, modules {}",
        modules.join(" ")
    );
    println!("  virtio-gpu features seen by the guest: {features}");
    for check in CHECKS {
        let (verdict, detail) = match results.get(*check) {
            Some((true, detail)) => ("PASS", detail.as_str()),
            Some((false, detail)) => ("FAIL", detail.as_str()),
            None => ("MISSING", ""),
        };
        println!("  {check:<9} {verdict:<7} {detail}");
        let passed = verdict == "PASS";
        let allowed = *check == "triangle" && options.allow_draw_failure;
        if !passed && !allowed {
            failures.push(format!("check `{check}`: {verdict}"));
        }
    }
    println!(
        "  time: {:.1} s preparing, {:.1} s in QEMU, {:.1} s in all",
        prepared.as_secs_f64(),
        run.wall.as_secs_f64(),
        total.elapsed().as_secs_f64()
    );
    println!(
        "  logs: {} (guest console), {} (QEMU and our library)",
        work.join("serial.log").display(),
        work.join("qemu.log").display()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        let log = work.join("qemu.log");
        println!("  last lines of {}:\n{}", log.display(), tail(&log, 20));
        Err(failures.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_abi_reads_package_and_file_names() {
        assert_eq!(kernel_abi("linux-image-6.1.0-56-amd64"), Some(56));
        assert_eq!(
            kernel_abi("linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"),
            Some(56)
        );
        assert_eq!(kernel_abi("linux-image-6.1.0-56-cloud-amd64"), None);
        assert_eq!(kernel_abi("linux-image-6.1.0-rt-amd64"), None);
        assert_eq!(kernel_abi("linux-image-6.1.0-56-amd64-unsigned"), None);
    }

    #[test]
    fn load_order_puts_dependencies_first() {
        let dep = parse_modules_dep(
            "kernel/a/virtio-gpu.ko: kernel/b/drm_kms_helper.ko kernel/b/drm.ko kernel/c/virtio.ko\n\
             kernel/b/drm_kms_helper.ko: kernel/b/drm.ko\n\
             kernel/b/drm.ko:\n\
             kernel/c/virtio.ko:\n\
             kernel/c/virtio_pci.ko: kernel/c/virtio.ko\n\
             kernel/d/unrelated.ko:\n",
        );
        let order = load_order(&dep, &["virtio_pci", "virtio_gpu"]).unwrap();
        assert_eq!(
            order,
            [
                "kernel/c/virtio.ko",
                "kernel/c/virtio_pci.ko",
                "kernel/b/drm.ko",
                "kernel/b/drm_kms_helper.ko",
                "kernel/a/virtio-gpu.ko",
            ]
        );
        assert!(load_order(&dep, &["missing"]).is_err());
    }

    #[test]
    fn check_lines_are_parsed() {
        let serial = [
            "[    1.0] random kernel line".to_string(),
            "E2E: PASS clear 0 of 4096 pixels differ".to_string(),
            "E2E: FAIL triangle centre B0".to_string(),
            "E2E: note opened /dev/dri/renderD128".to_string(),
        ];
        let results = check_results(&serial);
        assert_eq!(results.len(), 2);
        assert!(results["clear"].0);
        assert!(!results["triangle"].0);
        assert_eq!(results["triangle"].1, "centre B0");
    }
}
