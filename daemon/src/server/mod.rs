//! The async glue: sockets feed one core task that owns the lease table and
//! runs the engine; durable writes go to the group-committing store writer;
//! replies that promise an address leave only after their write is durable.
//!
//! ```text
//! recv task per interface --> core task (engine, lease table) --> writer thread (store)
//!                                   |                                  |
//!                                   +--> reply now (offer, nak)        +--> reply after commit (ack)
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::blocks::Blocklist;
use crate::config::{self, Config, ConfigError};
use crate::hosts::HostTable;
use crate::engine::{self, Decision, Effect, Outcome, Reply};
use crate::lease::{LeaseTable, UnixTime};
use crate::net::{self, InterfaceSocket, NetError};
use crate::packet::Packet;
use crate::store::sqlite::SqliteStore;
use crate::store::writer::Writer;
use crate::store::{Store, StoreError};

/// Why the daemon could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Net(#[from] NetError),
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

/// Counters of what happened to requests, by outcome kind.
#[derive(Debug, Default)]
struct Counters(BTreeMap<&'static str, u64>);

impl Counters {
    fn bump(&mut self, kind: &'static str) {
        *self.0.entry(kind).or_default() += 1;
    }
}

/// The running server's state, owned by the core task.
struct Core {
    cfg: Arc<Config>,
    config_path: PathBuf,
    table: LeaseTable,
    hosts: HostTable,
    blocks: Blocklist,
    writer: Writer,
    sockets: Vec<Arc<InterfaceSocket>>,
    interfaces: Vec<engine::Interface>,
    /// Replies waiting for their lease to be durable.
    pending: JoinSet<Option<PendingFailure>>,
    counters: Counters,
}

/// A durable write that failed: the lease it promised must not stand.
struct PendingFailure {
    ips: Vec<Ipv4Addr>,
}

/// Loads the configuration and the store, opens the sockets, and serves
/// until `shutdown` resolves. In-flight writes finish before it returns.
pub async fn run(config_path: PathBuf, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
    let cfg = Arc::new(config::load(&config_path)?);
    let mut store = SqliteStore::open(&cfg.server.store)?;
    let leases = store.load_leases()?;
    info!(
        store = %cfg.server.store.display(),
        backend = store.backend(),
        leases = leases.len(),
        "store loaded"
    );
    let table = LeaseTable::from_leases(leases);
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

    let (tx, rx) = mpsc::channel::<Inbound>(4096);
    let mut receivers = JoinSet::new();
    for (i, s) in sockets.iter().enumerate() {
        receivers.spawn(receive(i, s.clone(), tx.clone()));
        info!(
            iface = %s.info.name,
            addr = %s.info.addr,
            "berthd ready: serving DHCP, listening on {} ({})",
            s.info.name,
            s.info.addr
        );
    }
    drop(tx);

    let (hosts, _) = HostTable::build(&cfg.hosts, Vec::new());
    let mut core = Core {
        cfg,
        config_path,
        table,
        hosts,
        blocks: Blocklist::default(),
        writer,
        sockets,
        interfaces,
        pending: JoinSet::new(),
        counters: Counters::default(),
    };
    core.serve(rx, shutdown).await;

    receivers.abort_all();
    info!(in_flight = core.pending.len(), "shutting down: finishing in-flight writes");
    while let Some(done) = core.pending.join_next().await {
        if let Ok(Some(failure)) = done {
            core.roll_back(failure);
        }
    }
    let Core { writer, counters, .. } = core;
    let stats = writer.stats();
    if let Err(e) = writer.shutdown().await {
        error!(error = %e, "store did not close cleanly");
    }
    info!(
        batches = stats.batches,
        writes = stats.writes,
        counters = ?counters.0,
        "stopped"
    );
    Ok(())
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
    async fn serve(&mut self, mut rx: mpsc::Receiver<Inbound>, shutdown: impl Future<Output = ()>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGHUP; reload is unavailable");
                None
            }
        };
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                msg = rx.recv() => match msg {
                    Some(m) => self.on_packet(m),
                    None => return,
                },
                Some(done) = self.pending.join_next(), if !self.pending.is_empty() => {
                    if let Ok(Some(failure)) = done {
                        self.roll_back(failure);
                    }
                }
                _ = tick.tick() => self.housekeeping(),
                Some(()) = async { hup.as_mut()?.recv().await } => self.reload(),
            }
        }
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
        let view = engine::View {
            config: &self.cfg,
            hosts: &self.hosts,
            leases: &self.table,
            blocks: &self.blocks,
        };
        let decision = engine::handle(&view, &req, now());
        log_transaction(&packet, iface, &decision);
        self.counters.bump(outcome_kind(&decision.outcome));
        self.carry_out(m.iface, decision);
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
                Err(e) => {
                    error!(error = %e, "lease write failed; reply withheld");
                    Some(PendingFailure { ips })
                }
            }
        });
    }

    /// A lease that could not be made durable was never granted.
    fn roll_back(&mut self, failure: PendingFailure) {
        for ip in failure.ips {
            self.table.remove(ip);
        }
    }

    fn housekeeping(&mut self) {
        let effects = engine::reclaim(&self.table, now());
        if effects.is_empty() {
            return;
        }
        for e in &effects {
            match e {
                Effect::Expire(l) => info!(ip = %l.ip, mac = %l.mac, "lease expired"),
                Effect::Unquarantine(ip) => info!(%ip, "quarantine over; address free again"),
                _ => {}
            }
        }
        let writes = engine::apply(&mut self.table, &effects);
        if !writes.is_empty() {
            let writer = self.writer.clone();
            self.pending.spawn(async move {
                if let Err(e) = writer.commit(writes).await {
                    error!(error = %e, "recording expiries failed; will retry on restart");
                }
                None
            });
        }
    }

    /// Re-reads the configuration; a bad one is refused and the running one stays.
    fn reload(&mut self) {
        match config::load(&self.config_path) {
            Ok(new) => {
                if new.server.interfaces != self.cfg.server.interfaces {
                    warn!("interface list changed: restart berthd to serve the new set");
                }
                self.cfg = Arc::new(new);
                info!(config = %self.config_path.display(), "configuration reloaded");
            }
            Err(e) => error!("reload refused, keeping the running configuration:\n{e}"),
        }
    }
}

async fn send(sock: &InterfaceSocket, reply: &Reply) {
    let (bytes, dropped) = reply.encode();
    if !dropped.is_empty() {
        debug!(?dropped, max = reply.max_len, "options dropped to fit the reply size");
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
    let mac = p.mac().map_or_else(|| engine::client_key(p).to_string(), |m| m.to_string());
    let via = if p.giaddr.is_unspecified() {
        format!("on {}", iface.name)
    } else {
        format!("via relay {} on {}", p.giaddr, iface.name)
    };
    match &d.outcome {
        // The operator must hear about a full pool: clients go without.
        Outcome::Ignored(why @ "pool exhausted") => warn!("{kind} from {mac} {via}: {why}"),
        Outcome::Dropped(_) | Outcome::Ignored(_) => {
            debug!("{kind} from {mac} {via} xid {:#010x}: {}", p.xid, d.outcome);
        }
        _ => info!("{kind} from {mac} {via}: {}", d.outcome),
    }
}

fn outcome_kind(o: &Outcome) -> &'static str {
    match o {
        Outcome::Offered(_) => "offered",
        Outcome::Acked(_) => "acked",
        Outcome::Informed => "informed",
        Outcome::Naked(_) => "naked",
        Outcome::Released(_) => "released",
        Outcome::Declined(_) => "declined",
        Outcome::BootpReply(_) => "bootp",
        Outcome::Ignored(_) => "ignored",
        Outcome::Dropped(_) => "dropped",
    }
}
