//! The async glue: sockets feed one core task that owns all mutable state
//! (lease index, host table, block list) and runs the engine; durable writes
//! go to the group-committing store writer; replies that promise an address
//! leave only after their write is durable. The control API reaches the same
//! core through a job queue, so it never races a packet.
//!
//! ```text
//! recv task per interface --+
//!                           +--> core task (engine, tables) --> writer thread (store)
//! control connections ------+         |                              |
//!                                     +--> reply now (offer, nak)    +--> reply after commit (ack)
//!                                     +--> events (ring buffer) --> events_since long polls
//! ```

mod ops;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_proto::{ApiError, ErrorKind, EventKind, ReloadResult};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

pub(crate) use ops::OpResult;

use crate::addr::MacAddr;
use crate::blocks::Blocklist;
use crate::config::{self, Config, ConfigError};
use crate::control::{self, ControlError};
use crate::engine::{self, Decision, Effect, Outcome, Reply};
use crate::events::{EventLog, new_event};
use crate::hosts::{HostEntry, HostTable, Origin};
use crate::lease::{LeaseTable, UnixTime};
use crate::net::{self, InterfaceSocket, NetError};
use crate::notify::Notifier;
use crate::packet::{MessageType, Packet, code};
use crate::pool;
use crate::store::sqlite::SqliteStore;
use crate::store::writer::Writer;
use crate::store::{Store, StoreError, StoredHost, Write};

/// Why the daemon could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// The current wall-clock time as UTC seconds: the one clock read of the
/// serving path, kept out of the engine.
pub fn now() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A request off the wire.
struct Inbound {
    iface: usize,
    bytes: Vec<u8>,
    from: SocketAddr,
}

/// Work for the core task from the control API: runs with the core's state
/// at time `now`.
pub(crate) type Job = Box<dyn FnOnce(&mut Core, UnixTime) + Send>;

/// What control connections hold to reach the core.
#[derive(Clone)]
pub(crate) struct CoreHandle {
    jobs: mpsc::Sender<Job>,
    writer: Writer,
}

impl CoreHandle {
    /// Runs `op` on the core, then waits until its writes are durable.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut Core, UnixTime) -> OpResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |core, now| {
            let _ = tx.send(op(core, now));
        });
        let gone = || ApiError::new(ErrorKind::Internal, "berthd is shutting down");
        self.jobs.send(job).await.map_err(|_| gone())?;
        let (answer, writes) = rx.await.map_err(|_| gone())??;
        if !writes.is_empty() {
            self.writer.commit(writes).await.map_err(|e| {
                error!(error = %e, "control change not saved");
                ApiError::new(
                    ErrorKind::Internal,
                    format!("the change is in effect but could not be saved, and will be lost on restart: {e}"),
                )
            })?;
        }
        Ok(answer)
    }

    /// Runs a read-only `op` on the core.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Core, UnixTime) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.run(move |core, now| op(core, now).map(|t| (t, Vec::new())))
            .await
    }
}

/// Counters of what happened to requests, by outcome kind.
#[derive(Debug, Default)]
struct Counters(BTreeMap<&'static str, u64>);

impl Counters {
    fn bump(&mut self, kind: &'static str) {
        *self.0.entry(kind).or_default() += 1;
    }
}

/// The running server's state, owned by the core task.
pub(crate) struct Core {
    cfg: Arc<Config>,
    config_path: PathBuf,
    table: LeaseTable,
    hosts: HostTable,
    blocks: Blocklist,
    writer: Writer,
    sockets: Vec<Arc<InterfaceSocket>>,
    interfaces: Vec<engine::Interface>,
    events: Arc<EventLog>,
    /// MACs seen since the store began, for "arrival" events.
    seen: HashSet<MacAddr>,
    started_at: UnixTime,
    notifier: Notifier,
    /// Replies waiting for their lease to be durable.
    pending: JoinSet<Option<PendingFailure>>,
    counters: Counters,
    /// Set when the store can no longer write: serving on would promise
    /// nothing, so the daemon stops (and systemd restarts it).
    fatal: Option<StoreError>,
}

/// A durable write that failed: the lease it promised must not stand.
struct PendingFailure {
    ips: Vec<Ipv4Addr>,
    error: StoreError,
}

/// Converts the store's run-time hosts; one that no longer encodes is
/// skipped with a warning and left in the store.
fn store_hosts(stored: Vec<StoredHost>) -> Vec<HostEntry> {
    stored
        .into_iter()
        .filter_map(|s| {
            let name = s.name.clone();
            HostEntry::from_stored(s)
                .map_err(|e| warn!(host = %name, "run-time host skipped (left in the store): {e}"))
                .ok()
        })
        .collect()
}

/// Loads the store, opens the sockets and the control socket, and serves
/// `cfg` (read from `config_path`, which reloads read again) until
/// `shutdown` resolves. In-flight writes finish before it returns.
pub async fn run(
    config_path: PathBuf,
    cfg: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let notifier = Notifier::from_env();
    let cfg = Arc::new(cfg);
    let mut store = SqliteStore::open(&cfg.server.store)?;
    let leases = store.load_leases()?;
    let stored_hosts = store.load_hosts()?;
    let blocks = store.load_blocks()?;
    info!(
        store = %cfg.server.store.display(),
        backend = store.backend(),
        leases = leases.len(),
        hosts = stored_hosts.len(),
        blocks = blocks.len(),
        "store loaded"
    );
    let (hosts, conflicts) = HostTable::build(&cfg.hosts, store_hosts(stored_hosts));
    for c in conflicts {
        warn!("run-time host not used (the config file wins; it stays in the store): {c}");
    }
    let seen = leases.iter().map(|l| l.mac).collect();
    let mut table = LeaseTable::from_leases(leases);
    pool::Layout::new(&cfg, &hosts).index(&mut table);
    let writer = Writer::spawn(Box::new(store));

    let mut sockets = Vec::new();
    let mut interfaces = Vec::new();
    for name in &cfg.server.interfaces {
        let info = net::interface_info(name)?;
        interfaces.push(engine::Interface {
            name: info.name.clone(),
            addr: info.addr,
        });
        sockets.push(Arc::new(InterfaceSocket::open(info, net::SERVER_PORT)?));
    }

    let started_at = now();
    let events = Arc::new(EventLog::new(
        cfg.server.event_buffer,
        i64::try_from(started_at).unwrap_or(0),
    ));
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>(256);
    let handle = CoreHandle {
        jobs: jobs_tx,
        writer: writer.clone(),
    };
    let control = control::Listener::bind(&cfg.server)?;
    let control_path = control.path().to_path_buf();
    let mut background = JoinSet::new();
    background.spawn(control.serve(handle, events.clone(), cfg.server.admin_group.clone()));

    let (tx, rx) = mpsc::channel::<Inbound>(4096);
    for (i, s) in sockets.iter().enumerate() {
        background.spawn(receive(i, s.clone(), tx.clone()));
        info!(
            "berthd ready: serving DHCP, listening on {} ({}), control socket {}",
            s.info.name,
            s.info.addr,
            control_path.display()
        );
    }
    drop(tx);

    let mut core = Core {
        cfg,
        config_path,
        table,
        hosts,
        blocks: Blocklist::from_blocks(blocks),
        writer,
        sockets,
        interfaces,
        events,
        seen,
        started_at,
        notifier,
        pending: JoinSet::new(),
        counters: Counters::default(),
        fatal: None,
    };
    core.notifier.ready();
    core.serve(rx, jobs_rx, shutdown).await;

    core.notifier.stopping();
    background.abort_all();
    info!(
        in_flight = core.pending.len(),
        "shutting down: finishing in-flight writes"
    );
    while let Some(done) = core.pending.join_next().await {
        if let Ok(Some(failure)) = done {
            core.roll_back(failure);
        }
    }
    let Core {
        writer,
        counters,
        fatal,
        ..
    } = core;
    let stats = writer.stats();
    if let Err(e) = writer.shutdown().await {
        error!(error = %e, "store did not close cleanly");
    }
    control::remove_socket(&control_path);
    info!(
        batches = stats.batches,
        writes = stats.writes,
        counters = ?counters.0,
        "stopped"
    );
    match fatal {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Reads one interface's socket forever, feeding the core.
async fn receive(iface: usize, sock: Arc<InterfaceSocket>, tx: mpsc::Sender<Inbound>) {
    let mut buf = vec![0u8; 65536];
    loop {
        match sock.socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let msg = Inbound {
                    iface,
                    bytes: buf[..n].to_vec(),
                    from,
                };
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                warn!(iface = %sock.info.name, error = %e, "receive failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

impl Core {
    async fn serve(
        &mut self,
        mut rx: mpsc::Receiver<Inbound>,
        mut jobs: mpsc::Receiver<Job>,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGHUP; reload only through `berth reload`");
                None
            }
        };
        let mut watchdog = tokio::time::interval(self.notifier.watchdog_interval());
        tokio::pin!(shutdown);
        while self.fatal.is_none() {
            tokio::select! {
                () = &mut shutdown => return,
                msg = rx.recv() => match msg {
                    Some(m) => self.on_packet(m),
                    None => return,
                },
                Some(job) = jobs.recv() => job(self, now()),
                Some(done) = self.pending.join_next(), if !self.pending.is_empty() => {
                    if let Ok(Some(failure)) = done {
                        self.roll_back(failure);
                    }
                }
                _ = tick.tick() => self.housekeeping(),
                _ = watchdog.tick(), if self.notifier.watchdog_enabled() => self.notifier.watchdog(),
                Some(()) = async { hup.as_mut()?.recv().await } => {
                    if let Err(e) = self.reload(now()) {
                        error!("reload refused, keeping the running configuration:\n{}", e.message);
                    }
                }
            }
        }
    }

    /// Rebuilds the lease table's pool indexes: after the ranges or the
    /// static hosts changed.
    fn reindex_pools(&mut self) {
        pool::Layout::new(&self.cfg, &self.hosts).index(&mut self.table);
    }

    /// Appends an event to the ring buffer.
    fn emit(&self, e: berth_proto::Event, now: UnixTime) {
        self.events.push(e, i64::try_from(now).unwrap_or(i64::MAX));
    }

    fn on_packet(&mut self, m: Inbound) {
        let iface = &self.interfaces[m.iface];
        let packet = match Packet::decode(&m.bytes) {
            Ok(p) => p,
            Err(e) => {
                self.counters.bump(e.kind());
                debug!(iface = %iface.name, from = %m.from, error = %e, "dropped malformed packet");
                return;
            }
        };
        let req = engine::Request {
            packet: &packet,
            interface: iface,
        };
        let at = now();
        let view = engine::View {
            config: &self.cfg,
            hosts: &self.hosts,
            leases: &self.table,
            blocks: &self.blocks,
            interfaces: &self.interfaces,
        };
        let decision = engine::handle(&view, &req, at);
        log_transaction(&packet, iface, &decision);
        self.counters.bump(decision.outcome.kind());
        self.report(&packet, m.iface, &decision, at);
        self.carry_out(m.iface, decision);
    }

    /// Turns a transaction into events for the control API.
    fn report(&mut self, p: &Packet, iface: usize, d: &Decision, at: UnixTime) {
        if matches!(d.outcome, Outcome::Dropped(_)) {
            return;
        }
        // A first sighting is news even when the answer is silence.
        self.arrival(p, iface, at);
        let kind = match &d.outcome {
            Outcome::Offered(_) => EventKind::Offer,
            Outcome::Acked(_) if !p.ciaddr.is_unspecified() => EventKind::Renew,
            Outcome::Acked(_) | Outcome::BootpReply(_) => EventKind::Ack,
            Outcome::Naked(_) => EventKind::Nak,
            Outcome::Released(_) => EventKind::Release,
            Outcome::Declined(_) => EventKind::Decline,
            Outcome::Informed
            | Outcome::NoAddress(_)
            | Outcome::Ignored(_)
            | Outcome::Dropped(_) => {
                return;
            }
        };
        let mut e = self.client_event(kind, p, iface);
        e.ip = match d.outcome {
            Outcome::Offered(ip)
            | Outcome::Acked(ip)
            | Outcome::Released(ip)
            | Outcome::Declined(ip)
            | Outcome::BootpReply(ip) => Some(ip),
            _ => p
                .options
                .get_ip(code::REQUESTED_IP)
                .or(Some(p.ciaddr))
                .filter(|ip| !ip.is_unspecified()),
        };
        if let Outcome::Naked(why) = d.outcome {
            e.ok = false;
            e.detail = why.to_string();
        }
        self.emit(e, at);
    }

    /// An "arrival" event the first time a MAC is seen.
    fn arrival(&mut self, p: &Packet, iface: usize, at: UnixTime) {
        let Some(mac) = p.mac() else { return };
        if matches!(
            p.message_type(),
            Some(Ok(MessageType::Release | MessageType::Decline))
        ) {
            return;
        }
        if self.seen.insert(mac) {
            let e = self.client_event(EventKind::Arrival, p, iface);
            self.emit(e, at);
        }
    }

    fn client_event(&self, kind: EventKind, p: &Packet, iface: usize) -> berth_proto::Event {
        let mac = p.mac();
        let host = engine::client_host(&self.hosts, p);
        let text = |c: u8| engine::client_text(p, c);
        let mut e = new_event(kind);
        e.mac = mac.map(|m| m.to_string());
        e.hostname = host
            .map(|h| h.name.clone())
            .or_else(|| text(code::HOST_NAME));
        e.vendor_class = text(code::VENDOR_CLASS);
        e.interface = Some(if p.giaddr.is_unspecified() {
            self.interfaces[iface].name.clone()
        } else {
            format!("{} via {}", self.interfaces[iface].name, p.giaddr)
        });
        e.unknown = host.is_none();
        e
    }

    /// Applies a decision's effects; sends its reply now, or once the
    /// lease it promises is durable.
    fn carry_out(&mut self, iface: usize, decision: Decision) {
        let writes = engine::apply(&mut self.table, &decision.effects);
        let sock = self.sockets[iface].clone();
        if writes.is_empty() {
            if let Some(reply) = decision.reply {
                tokio::spawn(async move { send(&sock, &reply).await });
            }
            return;
        }
        let ips = decision
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::Bind(l) => Some(l.ip),
                _ => None,
            })
            .collect();
        let writer = self.writer.clone();
        self.pending.spawn(async move {
            match writer.commit(writes).await {
                Ok(()) => {
                    if let Some(reply) = decision.reply {
                        send(&sock, &reply).await;
                    }
                    None
                }
                Err(error) => {
                    error!(%error, "lease write failed; reply withheld");
                    Some(PendingFailure { ips, error })
                }
            }
        });
    }

    /// A lease that could not be made durable was never granted.
    fn roll_back(&mut self, failure: PendingFailure) {
        for ip in failure.ips {
            self.table.remove(ip);
        }
        if failure.error == StoreError::WriterGone && self.fatal.is_none() {
            error!("the store writer has stopped: no lease can be made durable, so berthd stops");
            self.fatal = Some(failure.error);
        }
    }

    fn housekeeping(&mut self) {
        let at = now();
        let mut writes: Vec<Write> = self
            .blocks
            .expired(at)
            .into_iter()
            .map(|mac| {
                self.blocks.remove(&mac);
                info!(%mac, "block ran out");
                Write::DeleteBlock(mac)
            })
            .collect();
        let effects = engine::reclaim(&self.table, at);
        for e in &effects {
            match e {
                Effect::Expire(l) => {
                    info!(ip = %l.ip, mac = %l.mac, "lease expired");
                    let mut ev = new_event(EventKind::Expiry);
                    ev.mac = Some(l.mac.to_string());
                    ev.ip = Some(l.ip);
                    ev.hostname = l.hostname.clone();
                    self.emit(ev, at);
                }
                Effect::Unquarantine(ip) => info!(%ip, "quarantine over; address free again"),
                _ => {}
            }
        }
        writes.extend(engine::apply(&mut self.table, &effects));
        if !writes.is_empty() {
            let writer = self.writer.clone();
            self.pending.spawn(async move {
                if let Err(e) = writer.commit(writes).await {
                    error!(error = %e, "recording expiries failed; they are redone after a restart");
                }
                None
            });
        }
    }

    /// Re-reads the configuration. A bad one, or one that a run-time host
    /// collides with, is refused and the running one stays.
    pub(crate) fn reload(&mut self, at: UnixTime) -> Result<ReloadResult, ApiError> {
        self.notifier.reloading();
        let result = self.try_reload(at);
        self.notifier.ready();
        let mut ev = new_event(EventKind::Reload);
        match &result {
            Ok(r) => {
                ev.detail = format!("{} subnets, {} hosts", r.subnets, r.hosts);
                info!(config = %self.config_path.display(), "configuration reloaded");
            }
            Err(e) => {
                ev.ok = false;
                ev.detail = e.message.clone();
            }
        }
        self.emit(ev, at);
        result
    }

    fn try_reload(&mut self, _at: UnixTime) -> Result<ReloadResult, ApiError> {
        let new = config::load(&self.config_path)
            .map_err(|e| ApiError::new(ErrorKind::Invalid, e.to_string()))?;
        let run_time: Vec<HostEntry> = self
            .hosts
            .iter()
            .filter(|e| e.origin == Origin::Store)
            .cloned()
            .collect();
        let (hosts, conflicts) = HostTable::build(&new.hosts, run_time);
        if !conflicts.is_empty() {
            let list: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!(
                    "{}: run-time hosts collide with the new config (remove them with `berth host rm` first):\n{}",
                    self.config_path.display(),
                    list.join("\n")
                ),
            ));
        }
        let mut warnings = Vec::new();
        if new.server.interfaces != self.cfg.server.interfaces {
            warnings.push("interfaces changed: restart berthd to serve the new set".to_string());
        }
        if new.server.store != self.cfg.server.store {
            warnings.push("store path changed: restart berthd to use the new store".to_string());
        }
        if new.server.control_socket != self.cfg.server.control_socket
            || new.server.control_group != self.cfg.server.control_group
            || new.server.admin_group != self.cfg.server.admin_group
        {
            warnings
                .push("control socket settings changed: restart berthd to apply them".to_string());
        }
        for w in &warnings {
            warn!("{w}");
        }
        let result = ReloadResult {
            config_path: self.config_path.display().to_string(),
            subnets: new.subnets.len() as u64,
            hosts: hosts.iter().count() as u64,
            warnings,
        };
        self.cfg = Arc::new(new);
        self.hosts = hosts;
        self.reindex_pools();
        Ok(result)
    }
}

async fn send(sock: &InterfaceSocket, reply: &Reply) {
    let (bytes, dropped) = reply.encode();
    if !dropped.is_empty() {
        debug!(
            ?dropped,
            max = reply.max_len,
            "options dropped to fit the reply size"
        );
    }
    match sock.send(&bytes, reply.dest).await {
        Ok(to) => debug!(iface = %sock.info.name, %to, len = bytes.len(), "reply sent"),
        Err(e) => warn!(iface = %sock.info.name, dest = ?reply.dest, error = %e, "reply not sent"),
    }
}

fn log_transaction(p: &Packet, iface: &engine::Interface, d: &Decision) {
    let kind = match p.message_type() {
        Some(Ok(t)) => t.as_str(),
        Some(Err(_)) => "UNKNOWN",
        None => "BOOTP",
    };
    let who = Who(p, iface);
    match &d.outcome {
        // The operator must hear about it: a client goes without an address.
        Outcome::NoAddress(_) => warn!("{kind} from {who}: {}", d.outcome),
        Outcome::Dropped(_) | Outcome::Ignored(_) => {
            debug!("{kind} from {who} xid {:#010x}: {}", p.xid, d.outcome);
        }
        _ => info!("{kind} from {who}: {}", d.outcome),
    }
}

/// "MAC on IFACE" or "MAC via relay GIADDR on IFACE", formatted only when a
/// log line is actually written.
struct Who<'a>(&'a Packet, &'a engine::Interface);

impl std::fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Who(p, iface) = self;
        match p.mac() {
            Some(m) => write!(f, "{m}")?,
            None => write!(f, "{}", engine::client_key(p))?,
        }
        if !p.giaddr.is_unspecified() {
            write!(f, " via relay {}", p.giaddr)?;
        }
        write!(f, " on {}", iface.name)
    }
}
