//! `[server]`: daemon-wide settings, validated. Every problem is reported
//! at its line and column; a setting that does not validate keeps its
//! default so later checks stay quiet.

use std::collections::HashMap;
use std::ops::Range as Span;

use toml::Spanned;

use super::boot::boot_fields;
use super::field::{Bound, duration, ip, lease, order};
use super::raw::{RawDuration, RawIntOrWord, RawServer};
use super::{CommitDelay, Reporter, ServerConfig};

/// `[server]` as written, checked; the defaults where it is missing.
pub(super) fn build(raw: Option<RawServer>, report: &mut Reporter<'_>) -> ServerConfig {
    let mut server = ServerConfig::default();
    // Missing or malformed: already reported; defaults keep later checks quiet.
    let Some(raw) = raw else {
        return server;
    };

    if raw.interfaces.get_ref().is_empty() {
        report.error(
            raw.interfaces.span(),
            "interfaces: is empty; list at least one interface to serve, like [\"eth1\"]",
        );
    }
    let mut seen: HashMap<&str, Span<usize>> = HashMap::new();
    for name in raw.interfaces.get_ref() {
        let text = name.get_ref().trim();
        if text.is_empty() {
            report.error(
                name.span(),
                "interfaces: an interface name must not be empty",
            );
        } else if let Some(first) = seen.get(text) {
            let line = report.line(first);
            report.error(
                name.span(),
                format!("interfaces: `{text}` is listed twice (first on line {line})"),
            );
        } else {
            seen.insert(text, name.span());
            server.interfaces.push(text.to_string());
        }
    }

    server.authoritative = raw.authoritative.unwrap_or(server.authoritative);
    server.bootp = raw.bootp.unwrap_or(server.bootp);
    server.adopt_rebooting_clients = raw
        .adopt_rebooting_clients
        .unwrap_or(server.adopt_rebooting_clients);

    let bound = |report: &mut Reporter<'_>,
                 name: &'static str,
                 value: &Option<Spanned<RawDuration>>,
                 default: u32| {
        let secs = value.as_ref().and_then(|v| lease(report, name, v));
        Bound {
            name,
            secs: secs.unwrap_or(default),
            // Only a value that parsed takes part in the ordering rule.
            span: secs.and(value.as_ref().map(Spanned::span)),
            inherited: false,
        }
    };
    let min = bound(report, "min_lease", &raw.min_lease, ServerConfig::MIN_LEASE);
    let default = bound(
        report,
        "default_lease",
        &raw.default_lease,
        ServerConfig::DEFAULT_LEASE,
    );
    let max = bound(report, "max_lease", &raw.max_lease, ServerConfig::MAX_LEASE);
    order(report, &min, &default);
    order(report, &default, &max);
    server.min_lease = min.secs;
    server.default_lease = default.secs;
    server.max_lease = max.secs;

    if let Some(v) = &raw.offer_hold {
        server.offer_hold = duration(report, "offer_hold", v).unwrap_or(server.offer_hold);
    }
    if let Some(v) = &raw.decline_probation {
        server.decline_probation =
            duration(report, "decline_probation", v).unwrap_or(server.decline_probation);
    }
    if let Some(v) = &raw.expiry_grace {
        server.expiry_grace = duration(report, "expiry_grace", v).unwrap_or(0);
    }
    server.server_id = raw
        .server_id
        .as_ref()
        .and_then(|v| ip(report, "server_id", v));
    if let Some(store) = &raw.store {
        super::store::store(report, store, &mut server);
    }
    if let Some(sock) = &raw.control_socket {
        if sock.get_ref().trim().is_empty() {
            report.error(sock.span(), "control_socket: must be a file path");
        } else {
            server.control_socket = sock.get_ref().into();
        }
    }
    server.arp = super::arp::arp(&raw, report);
    let count =
        |report: &mut Reporter<'_>, key: &str, n: &Spanned<i64>, max: usize, slot: &mut usize| {
            match usize::try_from(*n.get_ref()) {
                Ok(v) if (1..=max).contains(&v) => *slot = v,
                _ => report.error(
                    n.span(),
                    format!("{key}: {} is not between 1 and {max}", n.get_ref()),
                ),
            }
        };
    if let Some(n) = &raw.event_buffer {
        count(
            report,
            "event_buffer",
            n,
            10_000_000,
            &mut server.event_buffer,
        );
    }
    if let Some(n) = &raw.control_max_connections {
        count(
            report,
            "control_max_connections",
            n,
            100_000,
            &mut server.control_max_connections,
        );
    }
    if let Some(n) = &raw.control_max_per_user {
        count(
            report,
            "control_max_per_user",
            n,
            100_000,
            &mut server.control_max_per_user,
        );
    }
    if let Some(v) = &raw.store_stall_timeout {
        match duration(report, "store_stall_timeout", v) {
            Some(0) => report.error(v.span(), "store_stall_timeout: must be more than 0"),
            Some(secs) => server.store_stall_timeout = secs,
            None => {}
        }
    }
    if let Some(v) = &raw.commit_delay_us {
        let max = ServerConfig::MAX_COMMIT_DELAY_US;
        match v.get_ref() {
            RawIntOrWord::Word(w) if w == "auto" => server.commit_delay = CommitDelay::Auto,
            RawIntOrWord::Int(n) => match u32::try_from(*n) {
                Ok(us) if us <= max => server.commit_delay = CommitDelay::Fixed(us),
                _ => report.error(
                    v.span(),
                    format!("commit_delay_us: {n} is not between 0 and {max} (microseconds)"),
                ),
            },
            RawIntOrWord::Word(w) => report.error(
                v.span(),
                format!("commit_delay_us: {w:?} is neither \"auto\" nor microseconds (0 to {max})"),
            ),
        }
    }
    if let Some(v) = &raw.control_idle_timeout {
        match duration(report, "control_idle_timeout", v) {
            Some(0) => report.error(
                v.span(),
                "control_idle_timeout: must be more than 0 (a long poll waits up to 9s)",
            ),
            Some(secs) => server.control_idle_timeout = secs,
            None => {}
        }
    }
    (server.next_server, server.filename, server.server_name) =
        boot_fields(report, [&raw.next_server, &raw.filename, &raw.server_name]);
    for (key, raw_group, slot) in [
        (
            "control_group",
            &raw.control_group,
            &mut server.control_group,
        ),
        ("admin_group", &raw.admin_group, &mut server.admin_group),
    ] {
        if let Some(g) = raw_group {
            let name = g.get_ref().trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                report.error(g.span(), format!("{key}: `{name}` is not a group name"));
            } else {
                *slot = name.to_string();
            }
        }
    }
    server
}
