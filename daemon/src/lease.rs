//! Lease records and the in-memory lease index.
//!
//! The index is the hot path: the engine reads it, the server applies the
//! engine's effects to it, and the store keeps the durable copy.

use std::fmt;
use std::net::Ipv4Addr;

use crate::packet::MacAddr;

/// Seconds since the Unix epoch, UTC. Leases are kept as UTC instants and
/// only turned into local time for display.
pub type UnixTime = u64;

/// How the server recognises a client: option 61 when the client sends it,
/// otherwise its hardware type and address (RFC 2131 section 4.2).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey(pub Vec<u8>);

impl ClientKey {
    /// The key for a client that sent no client identifier.
    pub fn from_hw(htype: u8, mac: MacAddr) -> Self {
        let mut v = Vec::with_capacity(7);
        v.push(htype);
        v.extend_from_slice(&mac.0);
        ClientKey(v)
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where a lease is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseState {
    /// Offered and held for the client until `ends`; not durable.
    Offered,
    /// Acknowledged: the client may use the address until `ends`.
    Bound,
    /// The client released it; kept so the same client gets it back first.
    Released,
    /// The client declined it (address in use by someone else): quarantined until `ends`.
    Declined,
}

impl LeaseState {
    /// Stable lowercase name, used by the store and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseState::Offered => "offered",
            LeaseState::Bound => "bound",
            LeaseState::Released => "released",
            LeaseState::Declined => "declined",
        }
    }

    /// The inverse of [`LeaseState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "offered" => LeaseState::Offered,
            "bound" => LeaseState::Bound,
            "released" => LeaseState::Released,
            "declined" => LeaseState::Declined,
            _ => return None,
        })
    }
}

/// One address's binding to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub client: ClientKey,
    pub mac: MacAddr,
    pub hostname: Option<String>,
    pub state: LeaseState,
    /// When the lease (or offer, or quarantine) started.
    pub starts: UnixTime,
    /// When it ends.
    pub ends: UnixTime,
}

impl Lease {
    /// Whether the address is spoken for at `now` (held, bound or quarantined).
    pub fn is_active(&self, now: UnixTime) -> bool {
        match self.state {
            LeaseState::Released => false,
            _ => self.ends > now,
        }
    }
}
