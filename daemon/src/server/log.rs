//! The operator's log lines for what the core did: one per transaction,
//! and one per housekeeping change. Built when the decision is made,
//! written by [`Core::publish`](super::Core) once it is durable.

use std::net::Ipv4Addr;

use tracing::{debug, info, warn};

use super::Core;
use crate::addr::{Dotted, MacAddr};
use crate::engine::{self, Outcome};
use crate::lease::ClientKey;
use crate::packet::Packet;

/// A log line waiting to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// "REQUEST from MAC on IFACE: acked IP".
    Transaction {
        kind: &'static str,
        who: Who,
        xid: u32,
        outcome: Outcome,
    },
    /// A bound lease ran out.
    Expired { ip: Ipv4Addr, mac: MacAddr },
    /// A timed block ran out.
    BlockRanOut(MacAddr),
    /// A quarantined address served its probation.
    Unquarantined(Ipv4Addr),
    /// A limit stopped serving a client (`[limits]`).
    Limited { mac: MacAddr, why: String },
    /// ARP heard a MAC on a pool address it has no right to.
    Squatter(engine::Squatter),
    /// An observed address stopped answering (or no sweep heard it again).
    Unobserved(Ipv4Addr),
}

/// Who sent a request: "MAC on IFACE" or "MAC via relay GIADDR on IFACE".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Who {
    client: Client,
    relay: Option<Ipv4Addr>,
    iface: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Client {
    Mac(MacAddr),
    /// A client without a hardware address, by its client id.
    Key(ClientKey),
}

impl Line {
    /// The line for request `p`, received on interface `iface`.
    pub fn transaction(p: &Packet, iface: usize, outcome: Outcome) -> Line {
        let kind = match p.message_type() {
            Some(Ok(t)) => t.as_str(),
            Some(Err(_)) => "UNKNOWN",
            None => "BOOTP",
        };
        let client = match p.mac() {
            Some(m) => Client::Mac(m),
            None => Client::Key(engine::client_key(p)),
        };
        Line::Transaction {
            kind,
            who: Who {
                client,
                relay: (!p.giaddr.is_unspecified()).then_some(p.giaddr),
                iface,
            },
            xid: p.xid,
            outcome,
        }
    }
}

impl Core {
    /// Writes one line at its level.
    pub(crate) fn write_log(&self, line: &Line) {
        match line {
            Line::Transaction {
                kind,
                who,
                xid,
                outcome,
            } => {
                let who = Shown(who, self);
                match outcome {
                    // The operator must hear about it: a client goes without an address.
                    Outcome::NoAddress(_) => warn!("{kind} from {who}: {outcome}"),
                    Outcome::Dropped(_) | Outcome::Ignored(_) => {
                        debug!("{kind} from {who} xid {xid:#010x}: {outcome}");
                    }
                    _ => info!("{kind} from {who}: {outcome}"),
                }
            }
            Line::Expired { ip, mac } => info!(%ip, %mac, "lease expired"),
            Line::BlockRanOut(mac) => info!(%mac, "block ran out"),
            Line::Unquarantined(ip) => info!(%ip, "quarantine over; address free again"),
            Line::Limited { mac, why } => warn!("{mac}: {why}"),
            Line::Squatter(s) => match s.holder {
                Some(holder) => warn!(ip = %s.ip, mac = %s.mac, %holder, "ARP squatter: {}", s.why),
                None => warn!(ip = %s.ip, mac = %s.mac, "ARP squatter: {}", s.why),
            },
            Line::Unobserved(ip) => info!(%ip, "observed address no longer answers; free again"),
        }
    }
}

/// A [`Who`] with the interface names to show it, formatted only when a
/// log line is actually written.
struct Shown<'a>(&'a Who, &'a Core);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Shown(who, core) = self;
        match &who.client {
            Client::Mac(m) => write!(f, "{m}")?,
            Client::Key(k) => write!(f, "{k}")?,
        }
        if let Some(relay) = who.relay {
            write!(f, " via relay {}", Dotted(relay))?;
        }
        let iface = core.interfaces.get(who.iface).map_or("?", |i| &i.name);
        write!(f, " on {iface}")
    }
}
