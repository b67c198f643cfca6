//! `virgl-render-server --socket-fd N [--worker-threads]`: serves Venus contexts for the proxy
//! of `virgl-capi` over the `SOCK_SEQPACKET` socket `N` (see `virgl_venus::render_server`).

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::process::ExitCode;

use virgl_venus::render_server::{
    run_server, run_worker, transport::Channel, ServerExit, WorkerMode,
};

const USAGE: &str = "\
Usage: virgl-render-server --socket-fd N [--worker-threads]

Serves Venus (Vulkan) contexts for a virgl-rs renderer over the SOCK_SEQPACKET socket N.

  --socket-fd N      the connection to the renderer's proxy (inherited fd)
  --worker-threads   one thread per context instead of one process per context
  --help             print this text

Environment: RUST_LOG (log filter), VK_DRIVER_FILES (host Vulkan ICD).
";

fn parse(args: &[String]) -> Result<(RawFd, WorkerMode), String> {
    let mut fd = None;
    let mut mode = WorkerMode::Process;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        match name {
            "--socket-fd" => {
                let v = inline
                    .or_else(|| it.next().cloned())
                    .ok_or("--socket-fd needs a value")?;
                fd = Some(
                    v.parse::<RawFd>()
                        .ok()
                        .filter(|&n| n > 2)
                        .ok_or(format!("bad --socket-fd {v}"))?,
                );
            }
            "--worker-threads" => mode = WorkerMode::Thread,
            other if other.starts_with("--worker-seccomp") => {
                return Err(format!(
                    "{other}: worker sandboxing is not supported by virgl-rs"
                ))
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok((fd.ok_or("no --socket-fd given")?, mode))
}

fn main() -> ExitCode {
    let _ = tracing_subscriber_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (fd, mode) = match parse(&args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("virgl-render-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Refuse fds that are not open rather than adopting someone else's later fd.
    if nix::fcntl::fcntl(
        // SAFETY: only used for this F_GETFD probe while `fd` is borrowed.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
        nix::fcntl::FcntlArg::F_GETFD,
    )
    .is_err()
    {
        eprintln!("virgl-render-server: --socket-fd {fd} is not open");
        return ExitCode::from(2);
    }
    // SAFETY: the fd was inherited for us alone (checked open above); we own it from here on.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // Mark it close-on-exec: it was inherited without the flag.
    let _ = nix::fcntl::fcntl(
        &owned,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    let channel = match Channel::from_fd(owned) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("virgl-render-server: {e}");
            return ExitCode::from(2);
        }
    };
    match run_server(channel, mode) {
        Ok(ServerExit::Done) => ExitCode::SUCCESS,
        Ok(ServerExit::Worker(args)) => match run_worker(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
        Err(e) => {
            tracing::error!(error = %e, "render server failed");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by RUST_LOG (default: warnings).
fn tracing_subscriber_init() -> Result<(), ()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<(RawFd, WorkerMode), String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        assert_eq!(p(&["--socket-fd", "5"]), Ok((5, WorkerMode::Process)));
        assert_eq!(
            p(&["--socket-fd=7", "--worker-threads"]),
            Ok((7, WorkerMode::Thread))
        );
        assert!(p(&[]).is_err());
        assert!(p(&["--socket-fd", "x"]).is_err());
        assert!(p(&["--socket-fd", "1"]).is_err());
        assert!(p(&["--socket-fd", "5", "--worker-seccomp-bpf", "f"]).is_err());
        assert!(p(&["extra"]).is_err());
    }
}
