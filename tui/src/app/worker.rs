//! The background task that owns the API client. It connects (and
//! reconnects with backoff), long-polls `events_since`, reloads the views on
//! relevant events and every few seconds, executes [`Command`]s, and reports
//! everything as [`Msg`]s. The draw loop never waits on the daemon.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_proto::{
    ApiError, ControlClient, Event, EventKind, LeaseFilter, PageRequest, QuarantineInfo, Target,
    UnixTime,
};
use tarpc::client::RpcError;
use tarpc::context;
use tokio::sync::{Notify, mpsc};

use super::model::{Command, Msg, Snapshot};

/// How long one `events_since` call may wait for news.
const LONG_POLL_MS: u64 = 1000;
/// Reload everything this often even without events (counts, countdowns
/// that the daemon ended, hosts changed by another client).
const REFRESH_EVERY: Duration = Duration::from_secs(5);
/// How long an event-triggered reload waits for more events first.
const RELOAD_DEBOUNCE: Duration = Duration::from_millis(150);
/// Backoff bounds between connection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Where the event stream stands, kept across reconnects so a client that
/// reconnects to the same daemon run continues where it stopped.
#[derive(Debug, Default)]
struct Cursor {
    seq: u64,
    epoch: Option<UnixTime>,
}

fn unix_now() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The delay before attempt `failures + 1`: doubling from [`BACKOFF_MIN`] up
/// to [`BACKOFF_MAX`], so a restarting daemon is picked up quickly and a
/// missing one is not hammered.
pub fn backoff(failures: u32) -> Duration {
    let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
    BACKOFF_MIN.saturating_mul(factor).min(BACKOFF_MAX)
}

/// Runs until `cmds` closes (the UI went away).
pub async fn run(
    socket: PathBuf,
    tx: mpsc::UnboundedSender<Msg>,
    mut cmds: mpsc::UnboundedReceiver<Command>,
) {
    let mut cursor = Cursor::default();
    let mut failures: u32 = 0;
    loop {
        let _ = tx.send(Msg::Connecting {
            attempt: failures + 1,
        });
        let error = match berth_proto::transport::connect(&socket).await {
            Ok(client) => {
                failures = 0;
                let _ = tx.send(Msg::Connected);
                match session(&client, &tx, &mut cmds, &mut cursor).await {
                    Ended::UiGone => return,
                    Ended::Lost(e) => format!("lost connection to berthd: {e}"),
                }
            }
            Err(e) => e.to_string(),
        };
        let wait = backoff(failures);
        failures = failures.saturating_add(1);
        let _ = tx.send(Msg::Disconnected {
            error,
            retry_in: wait,
            at: unix_now(),
        });
        // Wait out the backoff, but answer commands meanwhile so nothing the
        // operator asked for disappears silently.
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                cmd = cmds.recv() => match cmd {
                    None => return,
                    Some(Command::Quit | Command::Refresh) => {}
                    Some(cmd) => {
                        let _ = tx.send(Msg::ActionDone {
                            what: describe(&cmd),
                            result: Err(berth_proto::ApiError::new(
                                berth_proto::ErrorKind::Internal,
                                "not connected to berthd",
                            )),
                        });
                    }
                },
            }
        }
    }
}

enum Ended {
    /// The command channel closed: stop.
    UiGone,
    /// The connection failed: reconnect.
    Lost(RpcError),
}

async fn session(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    cmds: &mut mpsc::UnboundedReceiver<Command>,
    cursor: &mut Cursor,
) -> Ended {
    if let Err(e) = reload(client, tx).await {
        return Ended::Lost(e);
    }
    let wanted = Notify::new();
    let poller = poll_events(client, tx, cursor, &wanted);
    tokio::pin!(poller);
    let mut every = tokio::time::interval(REFRESH_EVERY);
    every.tick().await; // The first tick is immediate; we just reloaded.
    loop {
        let result = tokio::select! {
            e = &mut poller => return Ended::Lost(e),
            _ = wanted.notified() => {
                // Let a burst of events (a party arriving) settle into one reload.
                tokio::time::sleep(RELOAD_DEBOUNCE).await;
                reload(client, tx).await
            }
            _ = every.tick() => reload(client, tx).await,
            cmd = cmds.recv() => match cmd {
                None | Some(Command::Quit) => return Ended::UiGone,
                Some(Command::Refresh) => reload(client, tx).await,
                Some(cmd) => match execute(client, tx, cmd).await {
                    Ok(()) => reload(client, tx).await,
                    Err(e) => Err(e),
                },
            },
        };
        if let Err(e) = result {
            return Ended::Lost(e);
        }
    }
}

/// Long-polls events until the connection fails; asks for a reload through
/// `wanted` whenever something changed.
async fn poll_events(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    cursor: &mut Cursor,
    wanted: &Notify,
) -> RpcError {
    // The first call fetches the buffer's history without waiting, so the
    // feed is not empty when the TUI opens during a busy party.
    let mut wait = 0;
    loop {
        let batch = match client
            .events_since(context::current(), cursor.seq, wait)
            .await
        {
            Err(e) => return e,
            Ok(Err(e)) => {
                let _ = tx.send(Msg::ReadFailed {
                    what: "events".to_string(),
                    error: e,
                });
                tokio::time::sleep(BACKOFF_MAX).await;
                continue;
            }
            Ok(Ok(b)) => b,
        };
        wait = LONG_POLL_MS;
        if cursor.epoch.is_some_and(|e| e != batch.epoch) {
            // The daemon restarted: its seqs start over. Ask again from 0.
            cursor.epoch = Some(batch.epoch);
            cursor.seq = 0;
            wait = 0;
            let _ = tx.send(Msg::Events {
                events: Vec::new(),
                missed: false,
                restarted: true,
            });
            wanted.notify_one();
            continue;
        }
        cursor.epoch = Some(batch.epoch);
        // From seq 0 a gap only means the buffer wrapped before we came.
        let missed = batch.gap.is_some() && cursor.seq != 0;
        cursor.seq = batch.last_seq;
        let relevant = missed || batch.events.iter().any(|e| e.kind != EventKind::HookResult);
        if !batch.events.is_empty() || missed {
            let _ = tx.send(Msg::Events {
                events: batch.events,
                missed,
                restarted: false,
            });
        }
        if relevant {
            wanted.notify_one();
        }
    }
}

/// Reads everything at once; API errors are reported and leave that part
/// unchanged, transport errors end the session.
async fn reload(client: &ControlClient, tx: &mpsc::UnboundedSender<Msg>) -> Result<(), RpcError> {
    let (status, leases, hosts, pools, quarantine) = futures::join!(
        client.status(context::current()),
        client.leases(context::current(), LeaseFilter::default()),
        client.hosts(context::current()),
        client.pools(context::current()),
        quarantine_all(client),
    );
    let report = |what: &str, e: berth_proto::ApiError| {
        let _ = tx.send(Msg::ReadFailed {
            what: what.to_string(),
            error: e,
        });
    };
    let mut snap = Snapshot::default();
    match status? {
        Ok(s) => snap.status = Some(s),
        Err(e) => report("status", e),
    }
    match leases? {
        Ok(l) => snap.leases = Some(l),
        Err(e) => report("leases", e),
    }
    match hosts? {
        Ok(h) => snap.hosts = Some(h),
        Err(e) => report("hosts", e),
    }
    match pools? {
        Ok(p) => snap.pools = Some(p),
        Err(e) => report("pools", e),
    }
    match quarantine? {
        Ok(q) => snap.quarantine = Some(q),
        Err(e) => report("quarantine", e),
    }
    let _ = tx.send(Msg::Snapshot(Box::new(snap)));
    Ok(())
}

/// Every page of `quarantine`.
async fn quarantine_all(
    client: &ControlClient,
) -> Result<Result<Vec<QuarantineInfo>, ApiError>, RpcError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first();
    loop {
        match client.quarantine(context::current(), page).await? {
            Err(e) => return Ok(Err(e)),
            Ok(p) => {
                all.extend(p.items);
                match p.next {
                    Some(next) => page = PageRequest::after(next),
                    None => return Ok(Ok(all)),
                }
            }
        }
    }
}

/// Most `events_since` calls one history read makes (each reply is bounded
/// in bytes, so a full buffer takes several).
const HISTORY_CALLS: usize = 200;

/// The events of `mac` still in the daemon's buffer, oldest first.
async fn history(
    client: &ControlClient,
    mac: &str,
) -> Result<Result<Vec<Event>, ApiError>, RpcError> {
    let mut seq = 0;
    let mut out = Vec::new();
    for _ in 0..HISTORY_CALLS {
        let batch = match client.events_since(context::current(), seq, 0).await? {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        if batch.events.is_empty() || batch.last_seq <= seq {
            break;
        }
        seq = batch.last_seq;
        out.extend(
            batch
                .events
                .into_iter()
                .filter(|e| e.mac.as_deref() == Some(mac)),
        );
    }
    Ok(Ok(out))
}

/// A sweep can take longer than the default deadline.
fn scan_context() -> context::Context {
    let mut ctx = context::current();
    ctx.deadline = std::time::Instant::now() + Duration::from_secs(300);
    ctx
}

/// What a command is, for messages.
fn describe(cmd: &Command) -> String {
    match cmd {
        Command::Quit => "quit".to_string(),
        Command::Refresh => "reload".to_string(),
        Command::Promote(r) => format!("promote {}", r.mac),
        Command::Release(Target::Ip(ip)) => format!("release {ip}"),
        Command::Release(Target::Mac(mac)) => format!("release {mac}"),
        Command::Block { mac } => format!("block {mac}"),
        Command::Explain(req) => format!("explain {}", req.mac),
        Command::History { mac } => format!("history of {mac}"),
        Command::Scan { range } => format!("sweep {range}"),
        Command::ClearQuarantine(ip) => format!("clear quarantine of {ip}"),
    }
}

/// Runs one action and reports its outcome.
async fn execute(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    cmd: Command,
) -> Result<(), RpcError> {
    let what = describe(&cmd);
    let result = match cmd {
        Command::Quit | Command::Refresh => return Ok(()),
        Command::Promote(req) => client.promote(context::current(), req).await?.map(|r| {
            let host = &r.host;
            match (r.moving, r.from) {
                (true, Some(from)) => format!(
                    "promoted {} to {} (moves from {from} at its next renewal)",
                    host.name, host.ip
                ),
                _ => format!("promoted {} to static host at {}", host.name, host.ip),
            }
        }),
        Command::Release(target) => client
            .release(context::current(), target)
            .await?
            .map(|l| format!("released {} ({})", l.ip, l.mac)),
        Command::Block { mac } => client
            .block(context::current(), mac, None)
            .await?
            .map(|b| format!("blocked {} until unblocked", b.mac)),
        Command::Explain(req) => {
            let mac = req.mac.clone();
            let result = client.explain(context::current(), req).await?;
            let _ = tx.send(Msg::Explained {
                mac,
                result: Box::new(result),
            });
            return Ok(());
        }
        Command::History { mac } => {
            let result = history(client, &mac).await?;
            let _ = tx.send(Msg::History { mac, result });
            return Ok(());
        }
        Command::Scan { range } => client
            .scan(scan_context(), Some(range))
            .await?
            .map(|rs| swept(&rs)),
        Command::ClearQuarantine(ip) => client
            .quarantine_clear(context::current(), ip)
            .await?
            .map(|q| format!("cleared the quarantine of {}: free again", q.ip)),
    };
    let _ = tx.send(Msg::ActionDone { what, result });
    Ok(())
}

/// A sweep's outcome in one line.
fn swept(rs: &[berth_proto::ScanResult]) -> String {
    let parts: Vec<String> = rs
        .iter()
        .map(|r| {
            let squatters = match r.squatters.len() {
                0 => String::new(),
                1 => ", 1 SQUATTER".to_string(),
                n => format!(", {n} SQUATTERS"),
            };
            format!(
                "swept {}-{}: {} of {} answered{squatters} ({} ms)",
                r.start, r.end, r.answered, r.probed, r.duration_ms
            )
        })
        .collect();
    if parts.is_empty() {
        "nothing swept".to_string()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(10), BACKOFF_MAX);
        assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
    }
}
