//! The background task that owns the API client. It connects (and
//! reconnects with backoff), loads the leases once by pages, long-polls
//! `events_since` and refetches only the leases events name (by address,
//! or by MAC for host changes), reloads the small views (status, hosts,
//! pools) on events and every few seconds, executes [`Command`]s, and
//! reports everything as [`Msg`]s. The leases are loaded in full again only
//! on a gap in the events, a daemon restart, a config reload, a refresh
//! key, and once a minute (the screen keeps the old copy until the new one
//! is complete). The draw loop never waits on the daemon.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_proto::page::collect_all;
use berth_proto::{
    ApiError, ControlClient, Event, EventKind, HostInfo, LeaseFilter, LeaseInfo, Page, PageRequest,
    QuarantineInfo, Target, UnixTime,
};
use tarpc::client::RpcError;
use tarpc::context;
use tokio::sync::mpsc;

use super::model::{Command, Msg, Snapshot};

/// How long one `events_since` call may wait for news.
const LONG_POLL_MS: u64 = 1000;
/// Reload everything this often even without events (counts, countdowns
/// that the daemon ended, hosts changed by another client).
const REFRESH_EVERY: Duration = Duration::from_secs(5);
/// Load every lease again this often, off screen: a few record changes
/// have no event (a quarantine or an ARP observation running out).
const RESYNC_EVERY: Duration = Duration::from_secs(60);
/// How long an event-triggered reload waits for more events first.
const RELOAD_DEBOUNCE: Duration = Duration::from_millis(150);
/// Backoff bounds between connection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Addresses this close together are refetched as one range.
const CLUSTER_GAP: u32 = 64;

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
    if let Err(e) = reload(client, tx, true).await {
        return Ended::Lost(e);
    }
    let (touched_tx, mut touched) = mpsc::unbounded_channel();
    let poller = poll_events(client, tx, cursor, &touched_tx);
    tokio::pin!(poller);
    let mut every = tokio::time::interval(REFRESH_EVERY);
    every.tick().await; // The first tick is immediate; we just reloaded.
    let mut resync = tokio::time::interval(RESYNC_EVERY);
    resync.tick().await;
    loop {
        let result = tokio::select! {
            e = &mut poller => return Ended::Lost(e),
            _ = resync.tick() => reload(client, tx, true).await,
            Some(first) = touched.recv() => {
                // Let a burst of events (a party arriving) settle into one refresh.
                tokio::time::sleep(RELOAD_DEBOUNCE).await;
                let mut all: Touched = first;
                while let Ok(more) = touched.try_recv() {
                    all.merge(more);
                }
                refresh(client, tx, all).await
            }
            _ = every.tick() => reload(client, tx, false).await,
            cmd = cmds.recv() => match cmd {
                None | Some(Command::Quit) => return Ended::UiGone,
                Some(Command::Refresh) => reload(client, tx, true).await,
                // The action's events bring its lease changes.
                Some(cmd) => match execute(client, tx, cmd).await {
                    Ok(()) => reload(client, tx, false).await,
                    Err(e) => Err(e),
                },
            },
        };
        if let Err(e) = result {
            return Ended::Lost(e);
        }
    }
}

/// What a batch of events changed, for [`refresh`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Touched {
    /// Load every lease again (events were lost, the daemon restarted or
    /// reloaded its config).
    pub all: bool,
    /// Addresses whose lease changed.
    pub ips: BTreeSet<Ipv4Addr>,
    /// Clients whose leases changed kind (promoted, host added or changed).
    pub macs: BTreeSet<String>,
}

impl Touched {
    fn merge(&mut self, other: Touched) {
        self.all |= other.all;
        self.ips.extend(other.ips);
        self.macs.extend(other.macs);
    }

    /// What `events` changed.
    pub(super) fn of(events: &[Event]) -> Touched {
        let mut t = Touched::default();
        for e in events {
            match e.kind {
                EventKind::Arrival
                | EventKind::Block
                | EventKind::Unblock
                | EventKind::HookResult
                | EventKind::StoreFailing
                | EventKind::StoreRecovered
                | EventKind::Flood
                | EventKind::WebhookDropped => {}
                EventKind::Promote | EventKind::HostAdded | EventKind::HostUpdated => {
                    t.macs.extend(e.mac.clone());
                    t.ips.extend(e.ip);
                }
                // Which client's leases a removed host leaves is not said;
                // a clock jump shifted every lease's times.
                EventKind::HostRemoved | EventKind::Reload | EventKind::ClockJump => t.all = true,
                // A lease event, or one this TUI does not know: its address.
                _ => t.ips.extend(e.ip),
            }
        }
        t
    }
}

/// Long-polls events until the connection fails; reports what they
/// changed through `touched`.
async fn poll_events(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    cursor: &mut Cursor,
    touched: &mpsc::UnboundedSender<Touched>,
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
            let _ = touched.send(Touched {
                all: true,
                ..Touched::default()
            });
            continue;
        }
        cursor.epoch = Some(batch.epoch);
        // From seq 0 a gap only means the buffer wrapped before we came.
        let missed = batch.gap.is_some() && cursor.seq != 0;
        cursor.seq = batch.last_seq;
        let mut t = Touched::of(&batch.events);
        t.all |= missed;
        if !batch.events.is_empty() || missed {
            let _ = tx.send(Msg::Events {
                events: batch.events,
                missed,
                restarted: false,
            });
        }
        // History from before the load is refetched too: cheap, and an
        // event that raced the load is not lost.
        if t != Touched::default() {
            let _ = touched.send(t);
        }
    }
}

/// Brings the copy up to date after events.
async fn refresh(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    t: Touched,
) -> Result<(), RpcError> {
    if t.all {
        return reload(client, tx, true).await;
    }
    reload(client, tx, false).await?;
    for mac in t.macs {
        let filter = LeaseFilter {
            mac: Some(mac.clone()),
            ..LeaseFilter::default()
        };
        match collect_all(|p| client.leases(context::current(), filter.clone(), p)).await? {
            Ok(items) => {
                let _ = tx.send(Msg::LeasesOfMac { mac, items });
            }
            Err(e) => report(tx, "leases", e),
        }
    }
    for (from, to) in clusters(&t.ips) {
        refetch_range(client, tx, from, to).await?;
    }
    Ok(())
}

/// `ips` as ranges of nearby addresses, lowest first.
pub(super) fn clusters(ips: &BTreeSet<Ipv4Addr>) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    let mut out: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
    for &ip in ips {
        match out.last_mut() {
            Some((_, to)) if u32::from(ip) - u32::from(*to) <= CLUSTER_GAP => *to = ip,
            _ => out.push((ip, ip)),
        }
    }
    out
}

/// Fetches the leases in `from..=to` and reports them page by page.
async fn refetch_range(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    from: Ipv4Addr,
    to: Ipv4Addr,
) -> Result<(), RpcError> {
    if from == to {
        let filter = LeaseFilter {
            ip: Some(from),
            ..LeaseFilter::default()
        };
        if let Some(page) = leases_page(client, tx, filter, PageRequest::first()).await? {
            let _ = tx.send(Msg::LeasesChanged {
                from,
                to,
                items: page.items,
            });
        }
        return Ok(());
    }
    // Pages continue after their cursor: start just before `from`.
    let mut req = match u32::from(from).checked_sub(1) {
        Some(before) => PageRequest::after(Ipv4Addr::from(before).to_string()),
        None => PageRequest::first(),
    };
    let mut start = from;
    loop {
        let Some(page) = leases_page(client, tx, LeaseFilter::default(), req).await? else {
            return Ok(());
        };
        let past = page.next.is_none() || page.items.last().is_none_or(|l| l.ip >= to);
        let next = page.next_request(0);
        let mut items = page.items;
        items.retain(|l| l.ip <= to);
        let end = match (past, items.last()) {
            (false, Some(l)) => l.ip,
            _ => to,
        };
        let _ = tx.send(Msg::LeasesChanged {
            from: start,
            to: end,
            items,
        });
        match next {
            Some(r) if !past => {
                req = r;
                start = Ipv4Addr::from(u32::from(end).saturating_add(1));
            }
            _ => return Ok(()),
        }
    }
}

/// One page of `leases`; `None` when the daemon refused (reported).
async fn leases_page(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    filter: LeaseFilter,
    req: PageRequest,
) -> Result<Option<Page<LeaseInfo>>, RpcError> {
    match client.leases(context::current(), filter, req).await? {
        Ok(p) => Ok(Some(p)),
        Err(e) => {
            report(tx, "leases", e);
            Ok(None)
        }
    }
}

fn report(tx: &mpsc::UnboundedSender<Msg>, what: &str, e: ApiError) {
    let _ = tx.send(Msg::ReadFailed {
        what: what.to_string(),
        error: e,
    });
}

/// Loads every lease by pages, each reported as it arrives.
async fn load_leases(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<(), RpcError> {
    let mut req = PageRequest::first();
    let mut first = true;
    loop {
        let Some(page) = leases_page(client, tx, LeaseFilter::default(), req).await? else {
            return Ok(());
        };
        let next = page.next_request(0);
        let _ = tx.send(Msg::LeasesPage {
            first,
            items: page.items,
            total: page.total,
            done: next.is_none(),
        });
        first = false;
        match next {
            Some(r) => req = r,
            None => return Ok(()),
        }
    }
}

/// Reads the small views (status, hosts, pools) and, with `leases`, loads
/// every lease again. API errors are reported and leave that part
/// unchanged; transport errors end the session.
async fn reload(
    client: &ControlClient,
    tx: &mpsc::UnboundedSender<Msg>,
    leases: bool,
) -> Result<(), RpcError> {
    let (status, hosts, pools, quarantine) = futures::join!(
        client.status(context::current()),
        collect_all::<HostInfo, _, _>(|p| client.hosts(context::current(), p)),
        client.pools(context::current()),
        collect_all::<QuarantineInfo, _, _>(|p| client.quarantine(context::current(), p)),
    );
    let mut snap = Snapshot::default();
    match status? {
        Ok(s) => snap.status = Some(s),
        Err(e) => report(tx, "status", e),
    }
    match hosts? {
        Ok(h) => snap.hosts = Some(h),
        Err(e) => report(tx, "hosts", e),
    }
    match pools? {
        Ok(p) => snap.pools = Some(p),
        Err(e) => report(tx, "pools", e),
    }
    match quarantine? {
        Ok(q) => snap.quarantine = Some(q),
        Err(e) => report(tx, "quarantine", e),
    }
    let _ = tx.send(Msg::Snapshot(Box::new(snap)));
    if leases {
        load_leases(client, tx).await?;
    }
    Ok(())
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
