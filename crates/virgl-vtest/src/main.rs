//! `virgl-vtest`: the vtest server binary (drop-in for upstream's `virgl_test_server`).

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use virgl_vtest::args::{self, Command, USAGE};
use virgl_vtest::server;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = match args::parse(std::env::args().skip(1), &|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("virgl-vtest: {e}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        Command::Help => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("virgl-vtest {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Serve(opts) => match server::run(&opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "virgl-vtest stopped");
                ExitCode::FAILURE
            }
        },
    }
}
