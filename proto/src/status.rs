//! What the daemon says about itself: `status` and `reload`.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::UnixTime;

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
    /// Records memory holds and the store does not yet: renewals ACKed from
    /// memory while the store failed (`renew_from_memory`), and records a
    /// clock jump shifted whose write the store refused.
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

/// What `reload` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadResult {
    pub config_path: String,
    pub subnets: u64,
    pub hosts: u64,
    /// Things the reload could not apply without a restart (e.g. interfaces).
    pub warnings: Vec<String>,
}
