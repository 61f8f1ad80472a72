//! Leases, blocks and quarantined addresses, and how calls name them.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::UnixTime;

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
