//! The scriptable control client: `berth <subcommand>`.
//!
//! - [`cli`]: the clap definitions and argument parsers.
//! - [`human`] and [`json`]: pure formatting of the API's answers.
//! - [`follow`]: the position of an event reader across gaps and restarts.
//! - [`run`]: connects, calls, prints, and turns the outcome into an exit code.
//!
//! Exit codes: 0 ok, 1 refused or failed (an [`ApiError`], a connection
//! failure), 2 usage (clap's own).

pub mod cli;
pub mod follow;
pub mod human;
pub mod json;
pub mod pages;
pub mod table;

use std::future::Future;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use berth_proto::transport::{ConnectError, connect};
use berth_proto::{
    ApiError, ControlClient, ExplainRequest, HostInfo, HostSpec, LeaseFilter, PromoteRequest,
};
use clap::CommandFactory;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use tarpc::client::RpcError;
use tarpc::context;

use cli::{Cli, Command, EventsArgs, HostAction, HostEditArgs, HostsAction, QuarantineAction};
use follow::Cursor;

/// How long one `events_since` call of `events --follow` waits for news.
/// Short enough that a vanished daemon is noticed soon, long enough that an
/// idle follower costs the daemon next to nothing.
const FOLLOW_WAIT_MS: u64 = 25_000;

/// Time an answer may take on top of the server-side wait.
const RPC_SLACK: Duration = Duration::from_secs(10);

/// How often `events --follow` tries to reach a daemon that went away.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// Why a subcommand failed (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The daemon could not be reached or did not answer.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The daemon refused or failed the request.
    #[error("{}", .0.message)]
    Api(#[from] ApiError),
    /// The request made no sense for what the daemon holds
    /// (e.g. editing a host that does not exist).
    #[error("{0}")]
    Failed(String),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

/// What human output needs besides the data: the moment and the zone.
#[derive(Debug, Clone)]
pub struct View {
    /// Print JSON instead of tables.
    pub json: bool,
    /// "Now", for remaining times.
    pub now: Timestamp,
    /// The viewer's time zone (`TZ`, else the system's).
    pub tz: TimeZone,
}

/// `berth import`: the TOML on stdout, each note on stderr as
/// `FILE:LINE: message`. Exit 0 even with notes (they are the point); 1
/// when the file cannot be read.
fn import(a: &cli::ImportArgs) -> ExitCode {
    use crate::import;
    use cli::ImportFormat;
    let name = a.file.display().to_string();
    let imported = match a.format {
        ImportFormat::Staticdhcpd => import::staticdhcpd::convert(&a.file, &a.interfaces)
            .map_err(|e| CtlError::Failed(e.to_string())),
        ImportFormat::IscDhcpd | ImportFormat::Dnsmasq => std::fs::read_to_string(&a.file)
            .map_err(|e| CtlError::Failed(format!("{name}: {e}")))
            .map(|text| match a.format {
                ImportFormat::IscDhcpd => import::isc::convert(&text, &name, &a.interfaces),
                _ => import::dnsmasq::convert(&text, &name, &a.interfaces),
            }),
    };
    let imported = match imported {
        Ok(i) => i,
        Err(e) => return finish(Err(e)),
    };
    let mut err = io::stderr().lock();
    for line in imported.note_lines(&name) {
        let _ = writeln!(err, "{line}");
    }
    finish(write_stdout(imported.config.to_toml().as_bytes()).map_err(CtlError::from))
}

/// Runs subcommand `cmd` against the daemon at `socket` and prints the
/// result; errors go to stderr as `berth: <message>`.
pub fn run(cmd: Command, socket: &Path, json: bool) -> ExitCode {
    // These two need no daemon.
    match cmd {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "berth", &mut out);
            return finish(write_stdout(&out).map_err(CtlError::from));
        }
        Command::Import(a) => return import(&a),
        Command::Man => {
            let mut out = Vec::new();
            let rendered = clap_mangen::Man::new(Cli::command()).render(&mut out);
            return finish(
                rendered
                    .and_then(|()| write_stdout(&out))
                    .map_err(CtlError::from),
            );
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return finish(Err(CtlError::Failed(format!("cannot start: {e}")))),
    };
    let view = View {
        json,
        now: Timestamp::now(),
        tz: TimeZone::system(),
    };
    finish(runtime.block_on(execute(cmd, socket, &view)))
}

/// The exit code for an outcome, printing the error if there is one.
fn finish(r: Result<(), CtlError>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`berth events -f | head`): nothing to say.
        Err(CtlError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            // The daemon's messages may quote client-supplied names.
            let _ = writeln!(io::stderr(), "berth: {}", to_terminal(&e.to_string()));
            ExitCode::from(1)
        }
    }
}

/// Human output on its way to the terminal: client-supplied text inside it
/// cannot carry escape sequences (see [`crate::text`]). JSON is written as is.
fn to_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    crate::text::printable_lines(text)
}

fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

fn warn(msg: &str) {
    let _ = writeln!(io::stderr(), "berth: warning: {msg}");
}

/// Awaits one call, sorting transport failures from the daemon's refusals.
async fn call<T>(
    socket: &Path,
    fut: impl Future<Output = Result<Result<T, ApiError>, RpcError>>,
) -> Result<T, CtlError> {
    match fut.await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(api)) => Err(CtlError::Api(api)),
        Err(source) => Err(rpc_error(socket, source)),
    }
}

fn rpc_error(socket: &Path, source: RpcError) -> CtlError {
    CtlError::Connect(ConnectError::Rpc {
        path: socket.to_path_buf(),
        source,
    })
}

/// Connects, makes the call `cmd` needs, and prints the answer.
pub async fn execute(cmd: Command, socket: &Path, view: &View) -> Result<(), CtlError> {
    if let Command::Events(args) = cmd {
        return events(args, socket, view).await;
    }
    let c = connect(socket).await?;
    let ctx = context::current;
    let (now, tz, json) = (view.now, &view.tz, view.json);
    let text = match cmd {
        Command::Status => {
            let s = call(socket, c.status(ctx())).await?;
            if json {
                json::status(&s)
            } else {
                human::status(&s, tz)
            }
        }
        Command::Leases(a) => {
            let filter = LeaseFilter {
                subnet: a.subnet,
                state: a.state.map(Into::into),
                mac: a.mac,
                ip: a.ip,
                hostname: a.hostname,
            };
            let printer = pages::Printer {
                json,
                to_json: &|a, xs| a.chunk(xs.iter().map(json::LeaseJson::from)),
                table: &|ls| human::leases_table(ls, now, tz),
                none: human::NO_LEASES,
                // IP and MAC.
                min_widths: &[15, 17],
            };
            let fetch = |p| c.leases(ctx(), filter.clone(), p);
            return pages::stream(socket, fetch, printer).await;
        }
        Command::Hosts { action: None } => {
            let printer = pages::Printer {
                json,
                to_json: &|a, xs| a.chunk(xs.iter().map(json::HostJson::from)),
                table: &|hs| human::hosts_table(hs, tz),
                none: human::NO_HOSTS,
                min_widths: &[],
            };
            return pages::stream(socket, |p| c.hosts(ctx(), p), printer).await;
        }
        Command::Hosts {
            action: Some(HostsAction::Export),
        } => {
            let t = call(socket, c.hosts_export(ctx())).await?;
            if json {
                json::export(&t)
            } else {
                human::export(&t)
            }
        }
        Command::Host { action } => {
            let (verb, h) = match action {
                HostAction::Add(a) => {
                    let spec = HostSpec {
                        name: a.name,
                        mac: a.mac,
                        ip: a.ip,
                        options: a.options,
                    };
                    ("added", call(socket, c.host_add(ctx(), spec)).await?)
                }
                HostAction::Rm { name } => {
                    ("removed", call(socket, c.host_remove(ctx(), name)).await?)
                }
                HostAction::Edit(a) => {
                    let name = a.name.clone();
                    let mut found = None;
                    pages::walk(
                        socket,
                        |p| c.hosts(ctx(), p),
                        |page| {
                            found = page.items.into_iter().find(|h| h.name == name);
                            Ok(found.is_none())
                        },
                    )
                    .await?;
                    let current = found.ok_or_else(|| {
                        CtlError::Failed(format!(
                            "no static host named `{name}` (see `berth hosts`)"
                        ))
                    })?;
                    let spec = edited_spec(&current, a)?;
                    (
                        "updated",
                        call(socket, c.host_update(ctx(), name, spec)).await?,
                    )
                }
            };
            if json {
                json::host(&h)
            } else {
                human::host_done(verb, &h)
            }
        }
        Command::Promote(a) => {
            let mac = a.mac.clone();
            let req = PromoteRequest {
                mac: a.mac,
                ip: a.ip,
                hostname: a.hostname,
            };
            let p = call(socket, c.promote(ctx(), req)).await?;
            if json {
                json::promote(&p)
            } else {
                human::promote(&mac, &p)
            }
        }
        Command::Release { target } => {
            let l = call(socket, c.release(ctx(), target)).await?;
            if json {
                json::lease(&l)
            } else {
                human::release(&l)
            }
        }
        Command::Block { mac, duration } => {
            let b = call(socket, c.block(ctx(), mac, duration)).await?;
            if json {
                json::block(&b)
            } else {
                human::block(&b, now, tz)
            }
        }
        Command::Unblock { mac } => {
            let b = call(socket, c.unblock(ctx(), mac)).await?;
            if json {
                json::block(&b)
            } else {
                human::unblock(&b)
            }
        }
        Command::Blocks => {
            let printer = pages::Printer {
                json,
                to_json: &|a, xs| a.chunk(xs.iter().map(json::BlockJson::from)),
                table: &|bs| human::blocks_table(bs, now, tz),
                none: human::NO_BLOCKS,
                min_widths: &[17],
            };
            return pages::stream(socket, |p| c.blocks(ctx(), p), printer).await;
        }
        Command::Pools => {
            let ps = call(socket, c.pools(ctx())).await?;
            if json {
                json::pools(&ps)
            } else {
                human::pools(&ps)
            }
        }
        Command::Reload => {
            let r = call(socket, c.reload(ctx())).await?;
            if json {
                json::reload(&r)
            } else {
                human::reload(&r)
            }
        }
        Command::Explain(a) => {
            let req = ExplainRequest {
                mac: a.mac,
                vendor_class: a.vendor_class,
                user_class: a.user_class,
                relay: a.relay,
                circuit_id: a.circuit_id,
                remote_id: a.remote_id,
                hostname: a.hostname,
                interface: a.interface,
            };
            let e = call(socket, c.explain(ctx(), req)).await?;
            if json {
                json::explain(&e)
            } else {
                human::explain(&e)
            }
        }
        Command::Scan { range } => {
            let rs = call(socket, c.scan(scan_context(), Some(range))).await?;
            if json {
                json::scan(&rs)
            } else {
                human::scan(&rs, tz)
            }
        }
        Command::Quarantine { action: None } => {
            let qs = quarantine_all(socket, &c).await?;
            if json {
                json::quarantine(&qs)
            } else {
                human::quarantine(&qs, now, tz)
            }
        }
        Command::Quarantine {
            action: Some(QuarantineAction::Clear { ip }),
        } => {
            let q = call(socket, c.quarantine_clear(ctx(), ip)).await?;
            if json {
                json::quarantine_entry(&q)
            } else {
                human::quarantine_cleared(&q)
            }
        }
        // Handled above; listed so a new subcommand cannot be forgotten here.
        Command::Events(_) | Command::Completions { .. } | Command::Man | Command::Import(_) => {
            return Err(CtlError::Failed(
                "internal: subcommand dispatched wrongly".into(),
            ));
        }
    };
    let text = if json {
        text.into()
    } else {
        to_terminal(&text)
    };
    write_stdout(text.as_bytes())?;
    Ok(())
}

/// Every quarantined address, page by page.
async fn quarantine_all(
    socket: &Path,
    c: &ControlClient,
) -> Result<Vec<berth_proto::QuarantineInfo>, CtlError> {
    let mut all = Vec::new();
    let mut page = berth_proto::PageRequest::first();
    loop {
        let p = call(socket, c.quarantine(context::current(), page)).await?;
        all.extend(p.items);
        match p.next {
            Some(next) => page = berth_proto::PageRequest::after(next),
            None => return Ok(all),
        }
    }
}

/// The [`HostSpec`] for `host edit`: `current` with the requested changes.
///
/// The contract has no partial update, so the client sends the whole host
/// back; options given with `--option` replace those of the same name.
pub fn edited_spec(current: &HostInfo, a: HostEditArgs) -> Result<HostSpec, CtlError> {
    let mac = match (a.mac, &current.mac) {
        (Some(m), _) => m,
        (None, Some(m)) => m.clone(),
        (None, None) => {
            return Err(CtlError::Failed(format!(
                "host `{}` has no MAC (it is matched by client id), and a store host needs one: \
                 give --mac",
                current.name
            )));
        }
    };
    let mut options = current.options.clone();
    for name in &a.remove_options {
        let before = options.len();
        options.retain(|(k, _)| k != name);
        if options.len() == before {
            return Err(CtlError::Failed(format!(
                "host `{}` has no option `{name}`",
                current.name
            )));
        }
    }
    for (k, v) in a.options {
        match options.iter_mut().find(|(name, _)| *name == k) {
            Some(slot) => slot.1 = v,
            None => options.push((k, v)),
        }
    }
    Ok(HostSpec {
        name: current.name.clone(),
        mac,
        ip: a.ip.unwrap_or(current.ip),
        options,
    })
}

/// A context for `scan`: a sweep of a large range at a bounded rate takes
/// a while (a /16 at 1000 requests a second, over a minute).
fn scan_context() -> context::Context {
    let mut ctx = context::current();
    ctx.deadline = Instant::now() + Duration::from_secs(600);
    ctx
}

/// A context whose deadline covers a long poll of `wait_ms`.
fn poll_context(wait_ms: u64) -> context::Context {
    let mut ctx = context::current();
    ctx.deadline = Instant::now() + Duration::from_millis(wait_ms) + RPC_SLACK;
    ctx
}

/// `events`: drain what the daemon holds (a table, or JSON lines), or with
/// `--follow` long-poll forever, printing each event as it arrives.
async fn events(args: EventsArgs, socket: &Path, view: &View) -> Result<(), CtlError> {
    let mut client: ControlClient = connect(socket).await?;
    let mut cursor = Cursor::new(args.since);
    let mut held = Vec::new();
    // The first call on each connection does not wait: after a reconnect
    // the daemon may have restarted, and its new epoch should be seen at
    // once, not after a long poll on a seq from the old numbering.
    let mut fresh = true;
    loop {
        let wait_ms = if args.follow && !fresh {
            FOLLOW_WAIT_MS
        } else {
            0
        };
        let answer = client
            .events_since(poll_context(wait_ms), cursor.seq(), wait_ms)
            .await;
        let batch = match answer {
            Ok(Ok(b)) => b,
            Ok(Err(api)) => return Err(api.into()),
            Err(e) if args.follow => {
                client = reconnect(socket, &e).await?;
                fresh = true;
                continue;
            }
            Err(e) => return Err(rpc_error(socket, e)),
        };
        fresh = false;
        let applied = cursor.apply(batch);
        for w in &applied.warnings {
            warn(w);
        }
        if args.follow {
            for e in &applied.events {
                let line = if view.json {
                    json::event_line(e)
                } else {
                    to_terminal(&human::event_line(e, &view.tz)).into_owned()
                };
                write_stdout(line.as_bytes())?;
            }
        } else {
            let done = applied.events.is_empty() && !applied.moved;
            held.extend(applied.events);
            if done {
                break;
            }
        }
    }
    let text = if view.json {
        held.iter().map(json::event_line).collect()
    } else {
        to_terminal(&human::events(&held, &view.tz)).into_owned()
    };
    write_stdout(text.as_bytes())?;
    Ok(())
}

/// Waits for the daemon to come back after the connection broke (a restart,
/// say). Gives up only on a version mismatch, which waiting cannot fix.
async fn reconnect(socket: &Path, why: &RpcError) -> Result<ControlClient, CtlError> {
    warn(&format!(
        "lost berthd at {} ({why}); reconnecting",
        socket.display()
    ));
    loop {
        tokio::time::sleep(RECONNECT_EVERY).await;
        match connect(socket).await {
            Ok(c) => {
                warn("reconnected");
                return Ok(c);
            }
            Err(e @ ConnectError::VersionMismatch { .. }) => return Err(e.into()),
            Err(_) => continue,
        }
    }
}

#[cfg(test)]
mod tests;
