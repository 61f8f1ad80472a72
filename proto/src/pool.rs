//! Dynamic ranges: their usage, and what ARP sweeps found in them.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::UnixTime;

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
