//! The `lockcheck` command.

use std::process::ExitCode;

use clap::Parser;

/// Finds deadlocks in lockcheck traces.
#[derive(Parser)]
#[command(name = "lockcheck", version, about)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    ExitCode::SUCCESS
}
