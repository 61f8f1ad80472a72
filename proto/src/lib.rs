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

mod event;
mod explain;
mod host;
mod lease;
pub mod page;
pub mod parse;
mod pool;
mod status;
pub mod transport;

pub use event::{Event, EventBatch, EventKind, Gap};
pub use explain::{ExplainRequest, ExplainedOption, Explanation};
pub use host::{HostInfo, HostSpec, Origin, PromoteRequest, PromoteResult};
pub use lease::{
    BlockInfo, LeaseFilter, LeaseInfo, LeaseKind, LeaseState, QuarantineInfo, QuarantineReason,
    Target,
};
pub use page::{MAX_PAGE_BYTES, MAX_PAGE_ITEMS, Page, PageRequest};
pub use pool::{PoolInfo, ScanResult, SquatterInfo, SweepSummary};
pub use status::{ArpStatus, InterfaceStatus, ReloadResult, Status, StoreHealth};

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
