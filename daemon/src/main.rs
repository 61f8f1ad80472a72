//! `berthd`: the Berth DHCPv4 server. A thin binary over the `berthd` library.

use std::path::PathBuf;
use std::process::ExitCode;

use berthd::log::{Held, LineFormat, LogTarget, Stderr, Syslog};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Static-first DHCPv4 server.
#[derive(Debug, Parser)]
#[command(name = "berthd", version, about)]
struct Cli {
    /// Configuration file.
    #[arg(long, short, global = true, default_value = "/etc/berth/berthd.toml")]
    config: PathBuf,
    /// When started as root, switch to this user (keeping only the network
    /// capabilities) before serving.
    #[arg(long, default_value = "berth")]
    user: String,
    /// More detail in the log (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve DHCP in the foreground (the default).
    Run,
    /// Validate a configuration file without serving; exits 1 on error.
    CheckConfig {
        /// The file to check (defaults to --config).
        file: Option<PathBuf>,
    },
}

/// Logs to stderr, or to syslog when the config says `log = "<facility>"`;
/// either way through the layer that holds lines while the core serves.
fn init_logging(verbose: u8, target: &LogTarget) {
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    match target {
        LogTarget::Stderr => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(Held::install(Stderr))
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .event_format(LineFormat::new())
            .init(),
        // Syslog stamps each line itself; one line per datagram.
        LogTarget::Syslog { facility, socket } => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(Held::install(Syslog::new(*facility, socket)))
            .with_ansi(false)
            .event_format(LineFormat::without_time())
            .init(),
    }
}

fn main() -> ExitCode {
    // Held log lines go out before a panic's message.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        berthd::log::held::flush_unless_locked();
        report(info);
    }));
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::CheckConfig { file } => {
            init_logging(cli.verbose, &LogTarget::Stderr);
            let path = file.unwrap_or(cli.config);
            match berthd::config::load(&path) {
                Ok(cfg) => {
                    println!(
                        "{}: ok ({} subnets, {} hosts)",
                        path.display(),
                        cfg.subnets.len(),
                        cfg.hosts.len()
                    );
                    match &cfg.server.postgres {
                        Some(pg) => check_postgres(pg),
                        None => ExitCode::SUCCESS,
                    }
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run => {
            // Read while still root: the file may be readable by root only.
            // (A reload reads it again as the daemon's user.) It also says
            // where the log goes, so it is read before logging starts.
            let cfg = match berthd::config::load(&cli.config) {
                Ok(cfg) => cfg,
                Err(e) => {
                    eprintln!("berthd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            init_logging(cli.verbose, &cfg.log);
            let to_syslog = matches!(cfg.log, LogTarget::Syslog { .. });
            match serve(cli.config, cfg, &cli.user) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    if to_syslog {
                        tracing::error!("berthd: {e}");
                    }
                    // Our errors carry their causes in their messages.
                    eprintln!("berthd: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `check-config` with `store = { backend = "postgres" }`: the database
/// answers and its schema is one this build can use.
fn check_postgres(pg: &berthd::config::PostgresConfig) -> ExitCode {
    use berthd::store::postgres::{SCHEMA_VERSION, probe};
    match probe(pg) {
        Ok(p) => {
            let schema = match p.schema_version {
                0 => "empty: berthd creates the tables on start".to_string(),
                v if v < SCHEMA_VERSION => {
                    format!("schema version {v}: berthd upgrades it to {SCHEMA_VERSION} on start")
                }
                v => format!("schema version {v}"),
            };
            println!(
                "store {}: ok (PostgreSQL {}, {schema})",
                p.url, p.server_version
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: PathBuf, cfg: berthd::config::Config, user: &str) -> anyhow::Result<()> {
    // Port 67 is bound now, the only time CAP_NET_BIND_SERVICE is needed;
    // then privileges go, while still single-threaded (berthd::privilege).
    let bound = berthd::server::bind_sockets(&cfg)?;
    if nix::unistd::Uid::effective().is_root() {
        // The SQLite file and its directory are handed to the daemon's
        // user; a PostgreSQL store has no files here.
        let sqlite = cfg.server.postgres.is_none().then_some(&cfg.server.store);
        let dirs: Vec<&std::path::Path> = [
            sqlite.and_then(|s| s.parent()),
            cfg.server.control_socket.parent(),
        ]
        .into_iter()
        .flatten()
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
        let files: Vec<PathBuf> = sqlite
            .into_iter()
            .flat_map(|store| {
                ["", "-wal", "-shm"].map(|suffix| {
                    let mut f = store.clone().into_os_string();
                    f.push(suffix);
                    PathBuf::from(f)
                })
            })
            .collect();
        berthd::privilege::drop_root(user, &dirs, &files)?;
    } else {
        berthd::privilege::drop_bind_service()?;
    }
    // One thread serves the core and its sockets: a packet then reaches the
    // core without waking another thread (a futex and an eventfd write per
    // packet with worker threads). The control API, the store's writer and
    // the ARP threads are threads of their own.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("berthd")
        .build()?;
    rt.block_on(async {
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for SIGTERM");
                        return std::future::pending().await;
                    }
                };
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received"),
            }
        };
        let store = berthd::store::open(&cfg.server)?;
        let sockets = berthd::server::register_sockets(bound)?;
        berthd::server::run(config, cfg, store, sockets, shutdown).await
    })?;
    Ok(())
}
