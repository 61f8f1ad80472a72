//! `berth`: the TUI (no arguments) or a control subcommand.
//!
//! Exit codes: 0 ok, 1 refused or failed, 2 usage (see `berth --help`).

use std::io::Write;
use std::process::ExitCode;

use berth::ctl;
use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit 2 here, with clap's message.
    let cli = ctl::cli::Cli::parse();
    let socket = cli.socket_path();
    match cli.command {
        Some(cmd) => ctl::run(cmd, &socket, cli.json),
        // PLACEHOLDER until the TUI is merged: becomes `berth::app::run(socket)`.
        None => match ctl::tui_placeholder(socket) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "berth: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}
