//! The Berth control API: the contract between `berthd` and its clients
//! (`berth` ctl and TUI).
//!
//! One tarpc service ([`Control`]) spoken as length-delimited JSON frames
//! over a Unix socket ([`DEFAULT_SOCKET`]). A client calls
//! [`Control::api_version`] first and refuses to go on when it differs from
//! [`API_VERSION`]. Times are UTC seconds since the Unix epoch; clients turn
//! them into local time for display. MAC addresses travel as lowercase
//! `aa:bb:cc:dd:ee:ff` strings.

use std::net::Ipv4Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub mod page;
pub mod parse;
pub mod transport;

pub use page::{MAX_PAGE_BYTES, MAX_PAGE_ITEMS, Page, PageRequest};

/// Version of this contract. Bumped on any incompatible change.
pub const API_VERSION: u32 = 3;

/// Where the daemon listens by default.
pub const DEFAULT_SOCKET: &str = "/run/berth/control.sock";

/// Largest frame either side accepts; a larger one closes that connection.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// Seconds since the Unix epoch, UTC.
pub type UnixTime = i64;

/// The daemon's control service.
#[tarpc::service]
pub trait Control {
    /// The contract version the daemon speaks ([`API_VERSION`]).
    async fn api_version() -> u32;
    /// Version, uptime, interfaces, counts, store backend.
    async fn status() -> Result<Status, ApiError>;
    /// Leases matching the filter, ordered by address, one page at a time:
    /// the cursor is the address of the last lease sent.
    async fn leases(filter: LeaseFilter, page: PageRequest) -> Result<Page<LeaseInfo>, ApiError>;
    /// Static hosts from the config file and the store, with their origin,
    /// ordered by name, one page at a time: the cursor is the last name sent.
    async fn hosts(page: PageRequest) -> Result<Page<HostInfo>, ApiError>;
    /// Adds a host to the store. Admin only.
    async fn host_add(host: HostSpec) -> Result<HostInfo, ApiError>;
    /// Replaces the store host named `name`. Config hosts are read-only. Admin only.
    async fn host_update(name: String, host: HostSpec) -> Result<HostInfo, ApiError>;
    /// Removes the store host named `name`. Admin only.
    async fn host_remove(name: String) -> Result<HostInfo, ApiError>;
    /// The store's hosts as config TOML, ready for config management.
    async fn hosts_export() -> Result<String, ApiError>;
    /// Turns a dynamic client into a static host and moves it there. Admin only.
    async fn promote(req: PromoteRequest) -> Result<PromoteResult, ApiError>;
    /// Ends the lease on an address or of a MAC. Admin only.
    async fn release(target: Target) -> Result<LeaseInfo, ApiError>;
    /// Ignores a MAC, for `duration_secs` or until unblocked. Admin only.
    async fn block(mac: String, duration_secs: Option<u64>) -> Result<BlockInfo, ApiError>;
    /// Lifts a block. Admin only.
    async fn unblock(mac: String) -> Result<BlockInfo, ApiError>;
    /// Current blocks, ordered by MAC, one page at a time: the cursor is the
    /// last MAC sent.
    async fn blocks(page: PageRequest) -> Result<Page<BlockInfo>, ApiError>;
    /// Per-range usage.
    async fn pools() -> Result<Vec<PoolInfo>, ApiError>;
    /// Re-reads the configuration; a bad one is refused and the old one stays. Admin only.
    async fn reload() -> Result<ReloadResult, ApiError>;
    /// Events after `seq`, waiting up to `wait_ms` for the first one (long
    /// poll). A batch is bounded in count and in bytes; ask again from its
    /// `last_seq` for the rest.
    async fn events_since(seq: u64, wait_ms: u64) -> Result<EventBatch, ApiError>;
    /// What the daemon would do for a client, without doing it: host,
    /// subnet, range and classes, the address, every option with its scope.
    async fn explain(req: ExplainRequest) -> Result<Explanation, ApiError>;
    /// ARP-sweeps dynamic ranges now and answers when they are done: `None`
    /// or `"all"` for every range on a served interface, else one range
    /// (`START-END`, or its first address) or a subnet's ranges (CIDR).
    /// Admin only.
    async fn scan(range: Option<String>) -> Result<Vec<ScanResult>, ApiError>;
    /// Quarantined addresses (declined, or answered a pre-offer probe), by
    /// address.
    async fn quarantine(page: PageRequest) -> Result<Page<QuarantineInfo>, ApiError>;
    /// Ends an address's quarantine now, durably: it is free for the pool
    /// again. Admin only.
    async fn quarantine_clear(ip: Ipv4Addr) -> Result<QuarantineInfo, ApiError>;
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ErrorKind,
    /// What went wrong, naming the thing concerned; shown to operators as is.
    pub message: String,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }
}

/// Broad class of an [`ApiError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The caller may read but not change things.
    PermissionDenied,
    /// No such lease, host, MAC or address.
    NotFound,
    /// The change collides with something (IP or MAC in use, host exists).
    Conflict,
    /// An argument is malformed (bad MAC, address outside every subnet).
    Invalid,
    /// The thing is owned by the config file and cannot be changed at run time.
    ReadOnly,
    /// The daemon failed (e.g. the store could not write).
    Internal,
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub api_version: u32,
    pub started_at: UnixTime,
    pub uptime_secs: u64,
    pub config_path: String,
    pub interfaces: Vec<InterfaceStatus>,
    pub store_backend: String,
    pub store_path: String,
    pub leases_bound: u64,
    pub leases_total: u64,
    pub hosts_config: u64,
    pub hosts_store: u64,
    pub blocked: u64,
    /// What happened to received packets since start, by outcome or drop
    /// reason (e.g. ("acked", 12), ("no_magic_cookie", 1)).
    #[serde(default)]
    pub counters: Vec<(String, u64)>,
    /// Whether leases can be made durable now.
    #[serde(default)]
    pub store_health: StoreHealth,
    /// ARP sweeps and pre-offer probes.
    #[serde(default)]
    pub arp: ArpStatus,
    /// Clients (MACs) the flood limit ignores right now.
    #[serde(default)]
    pub rate_limited_clients: u64,
}

/// The store as the daemon sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHealth {
    /// Writes succeed (or none has failed since the last success).
    pub ok: bool,
    /// When a write last became durable.
    pub last_ok: Option<UnixTime>,
    /// Since when writes fail, if they do.
    pub failing_since: Option<UnixTime>,
    /// The last write error while failing.
    pub last_error: Option<String>,
    /// Changes waiting for the store.
    pub pending_writes: u64,
    /// Renewals ACKed from memory while the store failed (`renew_from_memory`)
    /// and not yet written.
    #[serde(default)]
    pub unsaved_renewals: u64,
}

impl Default for StoreHealth {
    fn default() -> Self {
        StoreHealth {
            ok: true,
            last_ok: None,
            failing_since: None,
            last_error: None,
            pending_writes: 0,
            unsaved_renewals: 0,
        }
    }
}

/// Whether the daemon ARPs (sweeps and pre-offer probes), and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArpStatus {
    /// Sweeps and probes can run (the raw socket opened).
    pub enabled: bool,
    /// Why they are off, or on which interfaces they run.
    pub detail: String,
    /// Seconds between periodic sweeps; `None` when they are off.
    pub sweep_interval_secs: Option<u64>,
    /// How long a probe waits for an answer; `None` when probes are off.
    pub probe_timeout_ms: Option<u64>,
    /// When the last sweep finished.
    pub last_sweep: Option<UnixTime>,
}

/// One served interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceStatus {
    pub name: String,
    pub addr: Ipv4Addr,
}

/// Which leases to list; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseFilter {
    /// A subnet in CIDR form, e.g. `192.0.2.0/24`.
    pub subnet: Option<String>,
    pub state: Option<LeaseState>,
    pub mac: Option<String>,
    pub ip: Option<Ipv4Addr>,
    /// Case-insensitive substring of the hostname.
    pub hostname: Option<String>,
}

/// Where a lease is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseState {
    Offered,
    Bound,
    Released,
    Expired,
    Declined,
    /// Answered ARP without a lease: held for that MAC.
    Observed,
}

impl LeaseState {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseState::Offered => "offered",
            LeaseState::Bound => "bound",
            LeaseState::Released => "released",
            LeaseState::Expired => "expired",
            LeaseState::Declined => "declined",
            LeaseState::Observed => "observed",
        }
    }
}

/// How the address is assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseKind {
    /// The client has a host entry and this is its address.
    Static,
    /// From a dynamic pool.
    Dynamic,
    /// Promoted to a static host but still on its old address.
    Moving,
    /// Declined by a client: quarantined.
    Quarantined,
    /// Seen in use on the wire (ARP) without a lease.
    Observed,
}

impl LeaseKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseKind::Static => "static",
            LeaseKind::Dynamic => "dynamic",
            LeaseKind::Moving => "moving",
            LeaseKind::Quarantined => "quarantined",
            LeaseKind::Observed => "observed",
        }
    }
}

/// One lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    pub ip: Ipv4Addr,
    pub mac: String,
    /// Option 61 or hardware type + address, as colon-separated hex.
    pub client_id: String,
    pub hostname: Option<String>,
    pub kind: LeaseKind,
    pub state: LeaseState,
    pub starts: UnixTime,
    pub ends: UnixTime,
    /// The subnet in CIDR form.
    pub subnet: Option<String>,
    /// For a moving client: the static address it is moving to.
    pub moving_to: Option<Ipv4Addr>,
}

/// Where a static host is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The config file: read-only at run time.
    Config,
    /// The daemon's store: added at run time (e.g. by promotion).
    Store,
}

/// A static host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    pub name: String,
    pub mac: Option<String>,
    pub client_id: Option<String>,
    pub ip: Ipv4Addr,
    pub origin: Origin,
    /// Options by name with their values as text, e.g. ("routers", "192.0.2.1").
    pub options: Vec<(String, String)>,
    pub created_at: Option<UnixTime>,
}

/// A host to add or replace in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSpec {
    pub name: String,
    pub mac: String,
    pub ip: Ipv4Addr,
    /// Options by ISC name with values as config-style text
    /// (e.g. ("domain-name-servers", "192.0.2.1, 192.0.2.2")).
    pub options: Vec<(String, String)>,
}

/// `promote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoteRequest {
    pub mac: String,
    /// The static address; defaults to the client's current address.
    pub ip: Option<Ipv4Addr>,
    /// The host name; defaults to the client's current hostname (or one
    /// derived from the MAC when it sent none).
    pub hostname: Option<String>,
}

/// What `promote` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoteResult {
    pub host: HostInfo,
    /// The dynamic address the client had, if any.
    pub from: Option<Ipv4Addr>,
    /// Whether the client must move (its static address differs from its current one).
    pub moving: bool,
}

/// A lease named by address or by client MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Ip(Ipv4Addr),
    Mac(String),
}

/// A blocked MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInfo {
    pub mac: String,
    pub since: UnixTime,
    /// When the block lifts by itself; `None` means never.
    pub until: Option<UnixTime>,
}

/// Usage of one dynamic range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolInfo {
    pub subnet: String,
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
    pub size: u64,
    /// Bound and offered addresses.
    pub leased: u64,
    /// Declined addresses in quarantine.
    pub quarantined: u64,
    pub free: u64,
    /// Addresses an ARP sweep found in use without a lease.
    #[serde(default)]
    pub observed: u64,
    /// What the last sweep of the range found answering where it should not.
    #[serde(default)]
    pub squatters: Vec<SquatterInfo>,
    /// The range's last ARP sweep, if one ran since the daemon started.
    #[serde(default)]
    pub last_sweep: Option<SweepSummary>,
}

/// When a range was last swept, how long it took and what answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepSummary {
    pub finished_at: UnixTime,
    pub duration_ms: u64,
    /// Addresses asked about.
    pub probed: u64,
    /// Addresses that answered.
    pub answered: u64,
    /// The interface it ran on.
    pub interface: String,
}

/// A MAC that answered ARP for a pool address it has no right to: the
/// address was free (it is now observed for that MAC), quarantined, or
/// leased to another client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquatterInfo {
    pub ip: Ipv4Addr,
    /// Who answered.
    pub mac: String,
    /// The MAC the address's record names, if it has an active one.
    pub holder: Option<String>,
    /// Why it is a squatter, e.g. "in use without a lease".
    pub reason: String,
    /// When the sweep heard it.
    pub seen_at: UnixTime,
}

/// One range's ARP sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    pub subnet: String,
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
    /// The interface the sweep ran on.
    pub interface: String,
    /// Addresses asked about.
    pub probed: u64,
    /// Addresses that answered.
    pub answered: u64,
    /// Observed bindings in the range after the sweep.
    pub observed: u64,
    pub squatters: Vec<SquatterInfo>,
    pub finished_at: UnixTime,
    pub duration_ms: u64,
}

/// Why an address is in quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineReason {
    /// Its bound holder sent a DECLINE: someone else uses it.
    Declined,
    /// Another MAC answered the ARP probe before it was first offered.
    ProbeHit,
}

impl QuarantineReason {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineReason::Declined => "declined",
            QuarantineReason::ProbeHit => "probe_hit",
        }
    }
}

/// One quarantined address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineInfo {
    pub ip: Ipv4Addr,
    pub reason: QuarantineReason,
    /// The MAC that declined it, or that answered the probe.
    pub mac: Option<String>,
    pub since: UnixTime,
    /// When it is free again by itself.
    pub until: UnixTime,
    /// The subnet in CIDR form.
    pub subnet: Option<String>,
}

/// What `reload` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadResult {
    pub config_path: String,
    pub subnets: u64,
    pub hosts: u64,
    /// Things the reload could not apply without a restart (e.g. interfaces).
    pub warnings: Vec<String>,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A MAC never seen before.
    Arrival,
    Offer,
    Ack,
    Renew,
    Nak,
    Decline,
    Release,
    Expiry,
    Promote,
    Block,
    Unblock,
    HostAdded,
    HostUpdated,
    HostRemoved,
    Reload,
    /// A hook script or webhook finished (see `detail` and `ok`).
    HookResult,
    /// The store refuses writes: no lease can be granted or renewed.
    StoreFailing,
    /// The store writes again after failing.
    StoreRecovered,
    /// A MAC sent more packets than `[limits.flood]` allows and is ignored
    /// for a while (`detail` says how long).
    Flood,
    /// Webhook notifications were dropped (`detail`: which webhook, how
    /// many, why).
    WebhookDropped,
    /// ARP found a MAC on a pool address it has no lease for (see `detail`).
    Squatter,
    /// An operator ended an address's quarantine (`quarantine_clear`).
    QuarantineCleared,
    /// The wall clock jumped (`detail`: by how much); leases, holds and
    /// blocks were shifted so each keeps its remaining time.
    ClockJump,
}

impl EventKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Arrival => "arrival",
            EventKind::Offer => "offer",
            EventKind::Ack => "ack",
            EventKind::Renew => "renew",
            EventKind::Nak => "nak",
            EventKind::Decline => "decline",
            EventKind::Release => "release",
            EventKind::Expiry => "expiry",
            EventKind::Promote => "promote",
            EventKind::Block => "block",
            EventKind::Unblock => "unblock",
            EventKind::HostAdded => "host_added",
            EventKind::HostUpdated => "host_updated",
            EventKind::HostRemoved => "host_removed",
            EventKind::Reload => "reload",
            EventKind::HookResult => "hook_result",
            EventKind::StoreFailing => "store_failing",
            EventKind::StoreRecovered => "store_recovered",
            EventKind::Flood => "flood",
            EventKind::WebhookDropped => "webhook_dropped",
            EventKind::Squatter => "squatter",
            EventKind::QuarantineCleared => "quarantine_cleared",
            EventKind::ClockJump => "clock_jump",
        }
    }
}

/// One event from the daemon's ring buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Strictly increasing, never reused while the daemon runs.
    pub seq: u64,
    pub at: UnixTime,
    pub kind: EventKind,
    pub mac: Option<String>,
    pub ip: Option<Ipv4Addr>,
    pub hostname: Option<String>,
    /// Option 60, when the client sent one.
    pub vendor_class: Option<String>,
    pub interface: Option<String>,
    /// The client is not a known host.
    pub unknown: bool,
    /// False for failures (a failed hook, a NAK).
    pub ok: bool,
    /// Human detail, e.g. a NAK's reason or a hook's exit status.
    pub detail: String,
}

/// An answer to `events_since`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBatch {
    pub events: Vec<Event>,
    /// The seq to ask from next time (the last event's seq, or the one asked).
    pub last_seq: u64,
    /// Set when the caller fell behind: events between its seq and this
    /// one were dropped from the buffer. The caller should reload its views.
    pub gap: Option<Gap>,
    /// The daemon's start time: when it changes, the daemon restarted and
    /// sequence numbers started over.
    pub epoch: UnixTime,
}

/// Events the caller missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The oldest seq the buffer still holds.
    pub oldest_seq: u64,
}

/// Normalises a MAC address to lowercase colon form, or says what is wrong
/// (the rule is [`parse::MacAddr`]'s).
pub fn normalize_mac(s: &str) -> Result<String, ApiError> {
    s.parse::<parse::MacAddr>()
        .map(|m| m.to_string())
        .map_err(|e| ApiError::new(ErrorKind::Invalid, e.to_string()))
}

/// The socket path: `BERTH_SOCKET` if set, else [`DEFAULT_SOCKET`].
pub fn socket_path() -> std::path::PathBuf {
    std::env::var_os("BERTH_SOCKET")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(DEFAULT_SOCKET).to_path_buf())
}

/// `explain`: the client to explain, as the operator knows it. The daemon
/// builds a DISCOVER from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainRequest {
    /// The client's MAC.
    pub mac: String,
    /// Option 60.
    pub vendor_class: Option<String>,
    /// Option 77 (sent as one RFC 3004 instance).
    pub user_class: Option<String>,
    /// A relay agent's address (giaddr): the client is on the relay's network.
    pub relay: Option<Ipv4Addr>,
    /// Relay agent circuit id (option 82 sub-option 1).
    pub circuit_id: Option<String>,
    /// Relay agent remote id (option 82 sub-option 2).
    pub remote_id: Option<String>,
    /// Option 12.
    pub hostname: Option<String>,
    /// The served interface the request arrives on; the first one if not given.
    pub interface: Option<String>,
}

/// One option `explain` says would be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedOption {
    /// `dhcp`, or the vendor space of a sub-option of option 43.
    pub space: String,
    /// The code in that space.
    pub code: u8,
    /// The option's name (ISC spelling, or its definition's).
    pub name: String,
    /// The value as hooks show it.
    pub value: String,
    /// The scope it came from: `global`, `subnet`, `range`, `class NAME`, `host`.
    pub source: String,
}

/// `explain`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The client's MAC, normalised.
    pub mac: String,
    /// The interface the request was taken to arrive on.
    pub interface: String,
    /// The client's subnet; none when berthd serves no network for it.
    pub subnet: Option<String>,
    /// The static host, by name.
    pub host: Option<String>,
    /// Matching classes, in declaration order.
    pub classes: Vec<String>,
    /// The address it would be offered (nothing is allocated).
    pub address: Option<Ipv4Addr>,
    /// The dynamic range of that address, `start-end`.
    pub range: Option<String>,
    /// What a DISCOVER would come to, e.g. `offered 192.0.2.100`.
    pub outcome: String,
    /// siaddr (next-server).
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field.
    pub filename: Option<String>,
    /// The BOOTP `sname` field.
    pub server_name: Option<String>,
    /// Every option that would be sent (to a client with no parameter
    /// request list), option 43's sub-options after it.
    pub options: Vec<ExplainedOption>,
}
