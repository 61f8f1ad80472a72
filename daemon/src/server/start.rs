//! Start-up and shutdown: load the store, build the core, serve the
//! control socket and the given sockets, and finish in-flight writes.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::FuturesOrdered;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use super::api::{self, CoreHandle};
use super::commit::Journal;
use super::core::Job;
use super::sweep::ArpState;
use super::transport::Socket;
use super::{Core, Counters, ServerError};
use super::{reload, webhooks};
use crate::blocks::Blocklist;
use crate::clock::{Clock, SystemClocks, TimeSource};
use crate::config::Config;
use crate::control;
use crate::events::EventLog;
use crate::hosts::{HostEntry, HostTable};
use crate::lease::LeaseTable;
use crate::net::{self, BoundSocket};
use crate::notify::Notifier;
use crate::pool;
use crate::store::writer::Writer;
use crate::store::{Store, StoredHost};

/// Binds the DHCP socket of every interface `cfg` serves (port 67, bound
/// to the device), without a runtime: the daemon binds them all before it
/// drops CAP_NET_BIND_SERVICE.
pub fn bind_sockets(cfg: &Config) -> Result<Vec<BoundSocket>, ServerError> {
    cfg.server
        .interfaces
        .iter()
        .map(|name| {
            Ok(BoundSocket::bind(
                net::interface_info(name)?,
                net::SERVER_PORT,
            )?)
        })
        .collect()
}

/// Registers sockets from [`bind_sockets`] with the current tokio runtime.
pub fn register_sockets(bound: Vec<BoundSocket>) -> Result<Vec<Arc<dyn Socket>>, ServerError> {
    bound
        .into_iter()
        .map(|b| Ok(Arc::new(b.register()?) as Arc<dyn Socket>))
        .collect()
}

/// Opens the DHCP socket of every interface `cfg` serves: [`bind_sockets`]
/// then [`register_sockets`]. Must be called inside a tokio runtime.
pub fn open_sockets(cfg: &Config) -> Result<Vec<Arc<dyn Socket>>, ServerError> {
    register_sockets(bind_sockets(cfg)?)
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

impl Core {
    /// The core's state: `cfg` (read from `config_path`) and what `store`
    /// holds, serving `sockets`. Starts the store's writer thread.
    pub(crate) fn load(
        config_path: PathBuf,
        cfg: Config,
        mut store: Box<dyn Store>,
        sockets: Vec<Arc<dyn Socket>>,
        time: Arc<dyn TimeSource>,
    ) -> Result<Core, ServerError> {
        let cfg = Arc::new(cfg);
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
        let mut table = LeaseTable::from_leases(leases);
        pool::Layout::new(&cfg, &hosts).index(&mut table);
        // Started before the store moves to its writer thread; what it
        // reads first (everything) covers the time since the loads above.
        let (learned_tx, learned_rx) = tokio::sync::mpsc::channel(64);
        let follower = store.follow(learned_tx);
        let following = follower.is_some();
        let writer = Writer::try_spawn(store)?;
        writer.set_commit_delay(cfg.server.commit_delay);
        let interfaces = sockets.iter().map(|s| s.interface()).collect();
        let clock = Clock::anchored(time.wall(), time.mono());
        let started_at = clock.now(time.mono());
        let events = Arc::new(EventLog::new(
            cfg.server.event_buffer,
            i64::try_from(started_at).unwrap_or(0),
        ));
        let hooks = crate::hooks::Dispatcher::new(cfg.hooks.clone(), events.clone());
        Ok(Core {
            limits: super::limits::LimitState::new(&cfg.limits),
            arrivals: super::arrival::Arrivals::default(),
            webhooks: None,
            hooks,
            cfg,
            config_path,
            table,
            hosts,
            blocks: Blocklist::from_blocks(blocks),
            writer,
            sockets,
            interfaces,
            events,
            started_at,
            notifier: Notifier::from_env(),
            in_flight: FuturesOrdered::new(),
            journal: Journal::default(),
            counters: Counters::default(),
            fatal: None,
            health: super::health::Health::default(),
            arp: ArpState::off("not started"),
            time,
            clock,
            traffic: super::scrape::Traffic::default(),
            metrics: super::metrics::Metrics::default(),
            learned: following.then_some(learned_rx),
            _follower: follower,
            recent: following.then(super::learn::Recent::default),
            unsaved: super::unsaved::Unsaved::default(),
            release: super::release::Release::new(std::time::Instant::now()),
        })
    }
}

/// Loads `store`, binds the control socket and serves `cfg` (read from
/// `config_path`, which reloads read again) on `sockets`, one per served
/// interface, until `shutdown` resolves. In-flight writes finish before it
/// returns.
///
/// The caller chooses the store ([`crate::store::open`] for the
/// configured one) and the sockets ([`open_sockets`] for the real ones,
/// [`super::ChannelSocket`]s in-process).
pub async fn run(
    config_path: PathBuf,
    cfg: Config,
    store: Box<dyn Store>,
    sockets: Vec<Arc<dyn Socket>>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    run_with_time(
        config_path,
        cfg,
        store,
        sockets,
        Arc::new(SystemClocks),
        shutdown,
    )
    .await
}

/// [`run`] on the clocks of `time` (the machine's are [`SystemClocks`];
/// in-process tests pass a [`crate::clock::ManualTime`]).
pub async fn run_with_time(
    config_path: PathBuf,
    cfg: Config,
    store: Box<dyn Store>,
    sockets: Vec<Arc<dyn Socket>>,
    time: Arc<dyn TimeSource>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let mut core = Core::load(config_path, cfg, store, sockets, time)?;
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>(256);
    // Before the control socket: a start-up that fails here leaves nothing.
    let listen = core.cfg.metrics.listen;
    core.metrics
        .start(CoreHandle::new(jobs_tx.clone()), listen)?;
    let control = control::Listener::bind(&core.cfg.server)?;
    let control_path = control.path().to_path_buf();
    let mut background = JoinSet::new();
    let (drops_tx, drops_rx) = mpsc::unbounded_channel();
    core.webhooks = Some(crate::webhook::Webhooks::start(
        core.cfg.webhooks.clone(),
        core.events.clone(),
        webhooks::daemon_name(),
        drops_tx,
    ));
    background.spawn(webhooks::forward_drops(drops_rx, jobs_tx.clone()));
    if let Some(hup) = reload::listen_for_hangups() {
        background.spawn(reload::forward_hangups(hup, jobs_tx.clone()));
    }
    let service = api::Service {
        core: CoreHandle::new(jobs_tx),
        calls: core.metrics.api.clone(),
        events: core.events.clone(),
        admin_group: core.cfg.server.admin_group.clone(),
        idle: Duration::from_secs(u64::from(core.cfg.server.control_idle_timeout)),
    };
    let control_thread = api::ControlThread::spawn(control, service).map_err(|source| {
        control::ControlError::Io {
            path: control_path.clone(),
            what: "starting its thread",
            source,
        }
    })?;

    for s in &core.sockets {
        let iface = s.interface();
        info!(
            "berthd ready: serving DHCP, listening on {} ({}), control socket {}",
            iface.name,
            iface.addr,
            control_path.display()
        );
    }

    core.start_arp(core.now());
    core.notifier.ready();
    core.serve(jobs_rx, shutdown).await;

    core.notifier.stopping();
    drop(control_thread);
    background.abort_all();
    core.metrics.stop();
    info!(
        in_flight = core.in_flight.len(),
        "shutting down: finishing in-flight writes"
    );
    core.finish_in_flight().await;
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

/// A config for tests on [`Core::for_test`]'s interface: one subnet with
/// the range 192.0.2.10-192.0.2.20.
#[cfg(test)]
pub(crate) const TEST_CONFIG: &str = r#"
[server]
interfaces = ["test0"]

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.10", "192.0.2.20"]
"#;

#[cfg(test)]
impl Core {
    /// A core for the config text `config` over `store`, on one channel
    /// socket (`test0`, 192.0.2.1), with the socket's wire.
    pub(crate) fn for_test(config: &str, store: crate::store::MemoryStore) -> (Core, super::Wire) {
        Core::for_test_with_time(config, store, Arc::new(SystemClocks))
    }

    /// [`Core::for_test`] on clocks the test sets.
    pub(crate) fn for_test_with_time(
        config: &str,
        store: crate::store::MemoryStore,
        time: Arc<dyn TimeSource>,
    ) -> (Core, super::Wire) {
        let cfg = crate::config::parse(config, std::path::Path::new("test.toml")).expect("config");
        let (sock, wire) = super::ChannelSocket::pair(crate::engine::Interface {
            name: "test0".into(),
            addr: std::net::Ipv4Addr::new(192, 0, 2, 1),
        });
        let core = Core::load(
            PathBuf::from("test.toml"),
            cfg,
            Box::new(store),
            vec![sock],
            time,
        )
        .expect("core");
        (core, wire)
    }
}
