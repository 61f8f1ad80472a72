//! Static hosts, and promoting a dynamic client to one.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::UnixTime;

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
