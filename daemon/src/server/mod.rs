//! The async glue: sockets feed one core task that owns all mutable state
//! (lease index, host table, block list) and runs the engine; durable writes
//! go to the group-committing store writer; replies that promise an address
//! leave only after their write is durable. The control API reaches the same
//! core through a job queue, so it never races a packet.
//!
//! ```text
//! socket (Socket) --+                      decide, apply to memory,
//!                   +--> core task -------> queue writes in decision order --> writer thread (store)
//! control API ------+    (engine, ops)            |                                   |
//!                          |                      +- nothing to write: reply now      |
//!                          |                                                          v
//!                          +<------------- one "committed" / "failed" message per change
//!                                 committed: reply (ack), answer the operator; then events,
//!                                            the transaction log line and counters
//!                                 failed:    put back what the change replaced; no reply
//! ```
//!
//! Events, log lines and counters come from one place ([`commit`]'s
//! `publish`), so nothing is announced that did not become durable.
//!
//! - [`start`]: loading the store, opening the sockets, running and stopping.
//! - [`core`]: the event loop and the packet path.
//! - [`commit`]: changes to memory, their writes, and committed or failed;
//!   [`claims`]: a write a shared database refused (another daemon's address).
//! - [`events`]: a decision as events for the control API; [`arrival`]:
//!   which clients are new.
//! - [`hooks`]: a durable change as hook events, queued for the hooks module.
//! - [`housekeeping`], [`reload`], [`log`]: what their names say.
//! - [`learn`]: other daemons' changes to a shared database, into memory;
//!   [`unsaved`]: renewals ACKed from memory while it is away (opt-in).
//! - [`limits`]: flood protection before the engine, the renewal limit after it.
//! - [`ops`]: control operations; [`pages`]: the list calls' pages;
//!   [`quarantine`]: listing and clearing quarantined addresses;
//!   [`api`]: the tarpc service that calls them.
//! - [`transport`]: the [`Socket`] trait the core receives and replies through.
//! - [`metrics`], [`scrape`]: the Prometheus endpoint's listener, and what a
//!   scrape reads.
//! - [`webhooks`]: starting the webhook dispatcher and reporting its drops.
//! - [`sweep`], [`probe`]: ARP sweeps and scans, and the pre-offer probe
//!   (the ARP threads themselves are [`crate::arp`]'s).

mod api;
mod arrival;
mod claims;
mod clock_jump;
mod commit;
mod core;
mod events;
mod explain;
mod health;
mod hooks;
mod housekeeping;
mod learn;
mod limits;
mod log;
mod metrics;
mod ops;
mod pages;
mod probe;
mod quarantine;
mod release;
mod reload;
mod scrape;
mod start;
mod sweep;
pub mod transport;
mod unsaved;
mod webhooks;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use futures::stream::FuturesOrdered;

use crate::blocks::Blocklist;
use crate::clock::{Clock, TimeSource};
use crate::config::{Config, ConfigError};
use crate::control::ControlError;
use crate::engine;
use crate::events::EventLog;
use crate::hosts::HostTable;
use crate::lease::{LeaseTable, UnixTime};
use crate::net::NetError;
use crate::notify::Notifier;
use crate::store::StoreError;
use crate::store::writer::Writer;

pub use start::{bind_sockets, open_sockets, register_sockets, run, run_with_time};
pub use transport::{ChannelSocket, Socket, Wire};

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
    #[error(transparent)]
    Metrics(#[from] metrics::BindError),
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
    sockets: Vec<Arc<dyn Socket>>,
    interfaces: Vec<engine::Interface>,
    events: Arc<EventLog>,
    /// Flood and renewal counts (`[limits]`).
    limits: limits::LimitState,
    /// Arrivals announced lately (bounded; "never seen" is the lease table's).
    arrivals: arrival::Arrivals,
    /// The `[[webhook]]` dispatcher, once the runtime serves.
    webhooks: Option<crate::webhook::Webhooks>,
    started_at: UnixTime,
    notifier: Notifier,
    /// Changes whose writes are queued, in decision (= commit) order; each
    /// ends in one [`commit::Done`].
    in_flight: FuturesOrdered<commit::Pending>,
    /// What the changes in flight replaced, for their rollback.
    journal: commit::Journal,
    counters: Counters,
    /// The hook programs' queue; fed only from `publish`.
    hooks: crate::hooks::Dispatcher,
    /// Set when the store can no longer write: serving on would promise
    /// nothing, so the daemon stops (and systemd restarts it).
    fatal: Option<StoreError>,
    /// Whether writes become durable, for status, events and the watchdog.
    health: health::Health,
    /// ARP sweeps and probes.
    arp: sweep::ArpState,
    /// Where the clock's readings come from (the machine's, or a test's).
    time: Arc<dyn TimeSource>,
    /// The daemon's time: monotonic, anchored to the wall clock; the one
    /// clock of the serving path, passed into the pure core as `now`.
    clock: Clock,
    /// Requests received and replies sent, by message type (metrics).
    traffic: scrape::Traffic,
    /// The Prometheus endpoint (`[metrics]`).
    metrics: metrics::Metrics,
    /// Other daemons' changes to a shared database ([`learn`]); `None`
    /// when this daemon is the store's only writer.
    learned: Option<tokio::sync::mpsc::Receiver<crate::store::Learned>>,
    /// Keeps the store following those changes.
    _follower: Option<crate::store::Follower>,
    /// When own changes became durable, while following.
    recent: Option<learn::Recent>,
    /// Records memory holds and the store does not: renewals ACKed from
    /// memory while the database was away, clock shifts it refused.
    unsaved: unsaved::Unsaved,
    /// How fast durable changes are released (their ACKs sent).
    release: release::Release,
}

impl Core {
    /// The daemon's time now (UTC seconds, monotonic between jumps).
    pub(crate) fn now(&self) -> UnixTime {
        self.clock.now(self.time.mono())
    }
}
