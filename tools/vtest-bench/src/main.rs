//! `vtest-bench`: vtest clients that measure a vtest server (ours or upstream's).
//!
//! ```text
//! vtest-bench --socket PATH [--server-pid PID] [--seconds S] [--max-mib N] [transfer] [commands]
//! ```
//! Speaks the vtest protocol directly (virgl-protocol's encoders), like Mesa's virgl winsys:
//! - `transfer`: TRANSFER_PUT2/GET2 bandwidth through the resource shm, 4 KiB to 64 MiB, 2D
//!   textures and buffers, next to a memcpy of the same size (module `transfer`);
//! - `commands`: SUBMIT_CMD throughput of small state changes and small draws, with the server's
//!   CPU time per command when `--server-pid` names the listening server (module `commands`).
//!
//! Prints `key: value` lines for `cargo xtask compare` to collect. It measures; it does not judge.

mod client;
mod commands;
mod error;
mod procstat;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use client::Client;
use error::{BenchError, BenchResult};

struct Args {
    socket: PathBuf,
    server_pid: Option<u32>,
    budget: Duration,
    max_bytes: u32,
    transfer: bool,
    commands: bool,
}

fn parse() -> BenchResult<Args> {
    let mut args = Args {
        socket: PathBuf::from(virgl_protocol::vtest::DEFAULT_SOCKET_NAME),
        server_pid: None,
        budget: Duration::from_millis(300),
        max_bytes: 64 << 20,
        transfer: false,
        commands: false,
    };
    let mut it = std::env::args().skip(1);
    let bad = |what: &str| BenchError::Usage(format!("bad value for {what}"));
    while let Some(a) = it.next() {
        match a.as_str() {
            "--socket" => args.socket = it.next().ok_or_else(|| bad("--socket"))?.into(),
            "--server-pid" => {
                args.server_pid = Some(
                    it.next()
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| bad("--server-pid"))?,
                )
            }
            "--seconds" => {
                let s: f64 = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 3600.0)
                    .ok_or_else(|| bad("--seconds"))?;
                args.budget = Duration::from_secs_f64(s);
            }
            "--max-mib" => {
                let m: u32 = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|m| (1..=64).contains(m))
                    .ok_or_else(|| bad("--max-mib (1..=64)"))?;
                args.max_bytes = m << 20;
            }
            "transfer" => args.transfer = true,
            "commands" => args.commands = true,
            other => return Err(BenchError::Usage(format!("unknown argument `{other}`"))),
        }
    }
    if !args.transfer && !args.commands {
        args.transfer = true;
        args.commands = true;
    }
    Ok(args)
}

/// Connects and finds the process that serves this connection (see `procstat`).
fn connect(args: &Args, name: &str) -> BenchResult<(Client, Option<u32>)> {
    let before = args.server_pid.map(procstat::children);
    let client = Client::connect(&args.socket, name)?;
    let serving = args.server_pid.map(|server| {
        let after = procstat::children(server);
        let new: Vec<u32> = match &before {
            Some(b) => after.difference(b).copied().collect(),
            None => Vec::new(),
        };
        // More than one new child means another client raced us; the newest is the best guess.
        new.into_iter().max().unwrap_or(server)
    });
    Ok((client, serving))
}

fn report_memory(prefix: &str, pid: Option<u32>) {
    if let Some(pid) = pid {
        for key in ["VmRSS", "VmHWM"] {
            if let Some(kib) = procstat::status_kib(pid, key) {
                println!("{prefix} {key} KiB: {kib}");
            }
        }
    }
}

fn run(args: &Args) -> BenchResult<()> {
    if args.transfer {
        let (mut client, pid) = connect(args, "vtest-bench-transfer")?;
        println!("protocol: {}", client.version);
        report_memory("client process after handshake", pid);
        for f in transfer::run(&mut client, args.budget, args.max_bytes)? {
            println!("{} MB/s: {:.1}", f.key, f.mb_per_s);
        }
        report_memory("client process after transfers", pid);
    }
    if args.commands {
        for stream in [commands::Stream::State, commands::Stream::Draw] {
            let (mut client, pid) = connect(args, "vtest-bench-commands")?;
            let t = commands::run(&mut client, stream, args.budget * 4, pid)?;
            let name = stream.name();
            println!("commands {name} per s: {:.0}", t.commands_per_s);
            if let Some(ns) = t.server_cpu_ns_per_command {
                println!("commands {name} server cpu ns per command: {ns:.0}");
            }
            if let Some(share) = t.server_cpu_share {
                println!("commands {name} server cpu share: {share:.2}");
            }
            report_memory(&format!("client process after {name} commands"), pid);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse().and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vtest-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
