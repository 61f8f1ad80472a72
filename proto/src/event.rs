//! The event stream (`events_since`).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::UnixTime;

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
