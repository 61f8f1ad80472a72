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
    // The TUI also looks in its settings file before the default.
    let tui_socket = cli
        .socket
        .clone()
        .or_else(|| std::env::var_os("BERTH_SOCKET").map(Into::into));
    match cli.command {
        Some(cmd) => ctl::run(cmd, &socket, cli.json),
        None => match tui(tui_socket) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "berth: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

/// The interactive TUI, on its own runtime.
fn tui(socket: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(berth::app::run(socket))
}
