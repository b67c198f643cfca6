//! `cargo xtask`: the project's tasks (set-up, tests, demo, code generation, install).
//!
//! Every task that needs system packages installs the missing ones itself with apt-get and says
//! which it installs, so that `cargo xtask demo` and `cargo xtask test` work on a fresh Debian 12.

mod clients;
mod codegen;
mod compare;
mod conformance;
mod demo;
mod fuzz;
mod install;
mod packages;
mod qemu_e2e;
mod tasks;
mod venus_codegen;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  qemu-e2e    boot a guest in Debian's QEMU (virtio-gpu-gl) on our libvirglrenderer.so.1
  compare     [--reference 'CMD'] [--rounds N] ...: real clients against virgl-vtest and a reference server
  clients     glmark2 --validate and piglit sanity through virgl-vtest (regression floors)
  conformance [--subset|--full] [-j N]: piglit GL set through virgl-vtest vs direct llvmpipe
  demo        start virgl-vtest and render with a real Mesa client (prints a summary, saves a PNG)
  test        everything CI runs: packages, fmt, clippy, unit/integration tests, bench smoke, qemu-e2e
  fuzz        [--seconds N] [target...]: long libFuzzer runs (nightly, cargo-fuzz)
  codegen     regenerate checked-in generated files (--check: fail on drift)
  install     --prefix DIR: lay out libvirglrenderer.so.1, headers and virglrenderer.pc
  packages    install the system packages the tests and the demo need";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let result = match task.as_str() {
        "clients" => clients::clients(rest),
        "conformance" => conformance::conformance(rest),
        "demo" => demo::demo(rest),
        "compare" => compare::compare(rest),
        "qemu-e2e" => qemu_e2e::qemu_e2e(rest),
        "test" => tasks::test(rest),
        "install" => install::install(rest),
        "codegen" => codegen::codegen(rest),
        "fuzz" => fuzz::fuzz(rest),
        "packages" => packages::ensure(packages::ALL),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}
