//! The flood and renewal limits on the packet path: a flooding MAC's
//! packets are dropped before the engine sees them; the ACK of one renewal
//! too many carries a block with it through the commit path.

use berth_proto::{Event, EventKind};

use super::Core;
use super::commit::{Change, Report};
use super::log::Line;
use crate::config::Limits;
use crate::engine::{self, Decision, Outcome};
use crate::events::new_event;
use crate::lease::UnixTime;
use crate::limits::{Flood, Rates, Refusal, RelayGate, RelayRefused, Renewals, Verdict};
use crate::packet::Packet;
use crate::packet::code;

/// The limits' state, owned by the core.
#[derive(Debug)]
pub(crate) struct LimitState {
    relays: RelayGate,
    flood: Option<Flood>,
    renewals: Option<Renewals>,
    rates: Option<Rates>,
}

impl LimitState {
    /// Fresh state for `limits`.
    pub fn new(limits: &Limits) -> Self {
        LimitState {
            relays: RelayGate::new(limits.relays.clone()),
            flood: limits.flood.map(Flood::new),
            renewals: limits.renewal.map(Renewals::new),
            rates: limits.rate.clone().map(Rates::new),
        }
    }

    /// MACs the flood limit ignores at `now`, for `status`.
    pub fn flooding(&self, now: UnixTime) -> u64 {
        self.flood.as_ref().map_or(0, |f| f.ignoring(now) as u64)
    }

    /// A wall-clock jump of `delta` seconds: every window keeps its
    /// remaining time (the relay log's windows restart, which only means
    /// an early log line).
    pub fn shift(&mut self, delta: i64) {
        if let Some(f) = self.flood.as_mut() {
            f.shift(delta);
        }
        if let Some(r) = self.renewals.as_mut() {
            r.shift(delta);
        }
        if let Some(r) = self.rates.as_mut() {
            r.shift(delta);
        }
    }

    /// After a reload: a limit that did not change keeps its counts.
    pub fn reconfigure(&mut self, limits: &Limits) {
        if self.relays.allow() != limits.relays.as_slice() {
            self.relays = RelayGate::new(limits.relays.clone());
        }
        if self.flood.as_ref().map(Flood::limit) != limits.flood {
            self.flood = limits.flood.map(Flood::new);
        }
        if self.renewals.as_ref().map(Renewals::limit) != limits.renewal {
            self.renewals = limits.renewal.map(Renewals::new);
        }
        if self.rates.as_ref().map(Rates::limit) != limits.rate.as_ref() {
            self.rates = limits.rate.clone().map(Rates::new);
        }
    }
}

/// Seconds as the config writes them.
fn human(secs: u32) -> String {
    berth_proto::parse::format_duration(secs.into())
}

impl Core {
    /// Whether packet `p` gets to the engine: not when its MAC floods. O(1).
    /// The packet that crosses the limit is announced (event, log line);
    /// every ignored packet is counted.
    pub(crate) fn admit(&mut self, p: &Packet, iface: usize, at: UnixTime) -> bool {
        if !self.relay_allowed(p, at) || !self.within_rates(p, iface, at) {
            return false;
        }
        let Some(flood) = self.limits.flood.as_mut() else {
            return true;
        };
        let Some(mac) = engine::client_mac(p) else {
            return true;
        };
        let report = match flood.check(&mac, at) {
            Verdict::Pass => return true,
            Verdict::Ignore => Report {
                counter: Some("flood_ignored"),
                ..Report::default()
            },
            Verdict::StartIgnoring { until } => {
                let l = flood.limit();
                let detail = format!(
                    "more than {} packets in {}: ignored for {}",
                    l.packets,
                    human(l.window),
                    human(l.ignore)
                );
                let mut e = new_event(EventKind::Flood);
                e.mac = Some(mac.to_string());
                e.ok = false;
                e.detail = detail.clone();
                Report {
                    events: vec![e.into()],
                    lines: vec![Line::Limited {
                        mac,
                        why: format!("{detail} (until {until})"),
                    }],
                    counter: Some("flood_ignored"),
                    ..Report::default()
                }
            }
        };
        self.publish(report, at);
        false
    }

    /// The relay allow-list: a relayed packet from a giaddr outside
    /// `[limits] relays` is dropped and counted (`relay_refused`); each
    /// refused relay is logged at most once a minute.
    fn relay_allowed(&mut self, p: &Packet, at: UnixTime) -> bool {
        let Err(RelayRefused { relay, log }) = self.limits.relays.check(p.giaddr, at) else {
            return true;
        };
        if log {
            tracing::warn!(
                %relay,
                "packets relayed by {relay} dropped: not in [limits] relays (logged once a minute)"
            );
        }
        self.publish(
            Report {
                counter: Some("relay_refused"),
                ..Report::default()
            },
            at,
        );
        false
    }

    /// The rates per interface, relay and circuit. A refused packet is
    /// counted (`rate_limited`); the first one over a rate in a second is
    /// logged.
    fn within_rates(&mut self, p: &Packet, iface: usize, at: UnixTime) -> bool {
        let Some(rates) = self.limits.rates.as_mut() else {
            return true;
        };
        let option82 = p.options.get(code::RELAY_AGENT_INFO);
        let Err(Refusal { key, first }) = rates.check(iface, p.giaddr, option82, at) else {
            return true;
        };
        if first {
            tracing::warn!(
                "{key} is over its rate limit: packets dropped for the rest of this second"
            );
        }
        self.publish(
            Report {
                counter: Some("rate_limited"),
                ..Report::default()
            },
            at,
        );
        false
    }

    /// After the engine: when `d` ACKs a renewal that was one too many, the
    /// block to stage with it, its event and its log line.
    pub(crate) fn renewal_block(
        &mut self,
        p: &Packet,
        d: &Decision,
        at: UnixTime,
    ) -> Option<(Change, Event, Line)> {
        let renewals = self.limits.renewals.as_mut()?;
        if !matches!(d.outcome, Outcome::Acked(_)) || p.ciaddr.is_unspecified() {
            return None;
        }
        let mac = engine::client_mac(p)?;
        let block = renewals.renewed(&mac, at)?;
        let l = renewals.limit();
        let detail = format!(
            "renewal limit: {} renewals within {}; blocked for {}",
            l.renewals,
            human(l.window),
            human(l.block)
        );
        let mut e = new_event(EventKind::Block);
        e.mac = Some(mac.to_string());
        e.ip = Some(p.ciaddr);
        e.detail = detail.clone();
        Some((
            Change::PutBlock(block),
            e,
            Line::Limited { mac, why: detail },
        ))
    }
}
