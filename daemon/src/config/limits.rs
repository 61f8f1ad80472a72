//! `[limits]`: flood protection, the renewal limit, rates, the relay
//! allow-list and option 118, and their validation. The limits are off
//! unless configured; relayed packets and option 118 are refused unless
//! configured.

use toml::Spanned;

use super::Reporter;
use super::field::duration;
use super::raw_limits::{RawFlood, RawLimits, RawRate, RawRenewal};
use crate::addr::Cidr;

/// `[limits]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// `[limits.flood]`; off when `None`.
    pub flood: Option<FloodLimit>,
    /// `[limits.renewal]`; off when `None`.
    pub renewal: Option<RenewalLimit>,
    /// `[limits.rate]`; off when `None`.
    pub rate: Option<RateLimit>,
    /// `relays`: the giaddrs whose relayed packets are served. Empty (the
    /// default): none, only directly attached clients; "any relay" is
    /// spelled `["0.0.0.0/0"]`.
    pub relays: Vec<Cidr>,
    /// `subnet_selection`: whether option 118 picks a client's subnet
    /// (default false, so a client cannot name another subnet's pool).
    pub subnet_selection: bool,
}

/// Packets per second beyond which packets are dropped, each `None` for
/// no limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub per_interface: Option<u32>,
    pub per_relay: Option<u32>,
    pub per_circuit: Option<u32>,
}

/// More than `packets` packets from one MAC within `window` seconds, and
/// the MAC is ignored for `ignore` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodLimit {
    pub packets: u32,
    pub window: u32,
    pub ignore: u32,
    /// The most MACs whose packets are counted at once (the memory bound).
    pub track: usize,
}

impl FloodLimit {
    /// Default `track`.
    pub const TRACK: usize = 65_536;
}

/// `renewals` renewals by one client within `window` seconds, and it is
/// blocked for `block` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalLimit {
    pub renewals: u32,
    pub window: u32,
    pub block: u32,
}

/// Validates `[limits]`.
pub(super) fn build(raw: Option<&RawLimits>, report: &mut Reporter<'_>) -> Limits {
    let Some(raw) = raw else {
        return Limits::default();
    };
    let relays = raw.relays.as_ref().map_or_else(Vec::new, |list| {
        list.iter()
            .filter_map(|r| {
                let text = r.get_ref().trim();
                let parsed = if text.contains('/') {
                    text.parse::<Cidr>().map_err(|e| e.to_string())
                } else {
                    text.parse::<std::net::Ipv4Addr>()
                        .map_err(|_| format!("`{text}` is not an IPv4 address or CIDR"))
                        .and_then(|ip| Cidr::new(ip, 32).map_err(|e| e.to_string()))
                };
                parsed
                    .map_err(|e| report.error(r.span(), format!("relays: {e}")))
                    .ok()
            })
            .collect::<Vec<_>>()
    });
    Limits {
        flood: raw.flood.as_ref().and_then(|f| flood(f, report)),
        renewal: raw.renewal.as_ref().and_then(|r| renewal(r, report)),
        rate: raw.rate.as_ref().map(|r| rate(r, report)),
        relays,
        subnet_selection: raw.subnet_selection.unwrap_or(false),
    }
}

fn rate(raw: &RawRate, report: &mut Reporter<'_>) -> RateLimit {
    let mut per = |field, v: &Option<Spanned<i64>>| {
        v.as_ref()
            .and_then(|v| count(report, field, v, 1, i64::from(u32::MAX)))
            .map(|n| n as u32)
    };
    RateLimit {
        per_interface: per("per_interface", &raw.per_interface),
        per_relay: per("per_relay", &raw.per_relay),
        per_circuit: per("per_circuit", &raw.per_circuit),
    }
}

/// A count between `min` and `max`, or a report at its span.
fn count(
    report: &mut Reporter<'_>,
    field: &str,
    v: &Spanned<i64>,
    min: i64,
    max: i64,
) -> Option<i64> {
    let n = *v.get_ref();
    if (min..=max).contains(&n) {
        Some(n)
    } else {
        report.error(
            v.span(),
            format!("{field}: {n} is not between {min} and {max}"),
        );
        None
    }
}

/// A duration of at least a second.
fn period(
    report: &mut Reporter<'_>,
    field: &str,
    v: &Spanned<super::raw::RawDuration>,
) -> Option<u32> {
    match duration(report, field, v)? {
        0 => {
            report.error(v.span(), format!("{field}: must be at least 1s"));
            None
        }
        secs => Some(secs),
    }
}

fn flood(raw: &RawFlood, report: &mut Reporter<'_>) -> Option<FloodLimit> {
    let packets = count(report, "packets", &raw.packets, 1, i64::from(u32::MAX));
    let window = period(report, "window", &raw.window);
    let ignore = period(report, "ignore", &raw.ignore);
    let track = match &raw.track {
        Some(t) => count(report, "track", t, 1, 10_000_000).map(|n| n as usize),
        None => Some(FloodLimit::TRACK),
    };
    Some(FloodLimit {
        packets: packets? as u32,
        window: window?,
        ignore: ignore?,
        track: track?,
    })
}

fn renewal(raw: &RawRenewal, report: &mut Reporter<'_>) -> Option<RenewalLimit> {
    let renewals = count(report, "renewals", &raw.renewals, 1, i64::from(u32::MAX));
    let window = period(report, "window", &raw.window);
    let block = period(report, "block", &raw.block);
    Some(RenewalLimit {
        renewals: renewals? as u32,
        window: window?,
        block: block?,
    })
}
