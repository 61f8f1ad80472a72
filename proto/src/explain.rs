//! `explain`: what the daemon would do for a client.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

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
