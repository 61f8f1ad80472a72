//! The daemon itself: `status` and `reload`.

use std::fmt::Write as _;

use berth_proto::{ReloadResult, Status};
use jiff::tz::TimeZone;

use super::cells::{local_time, local_time_zone, span};

/// `status`: one `key  value` line per item.
pub fn status(s: &Status, tz: &TimeZone) -> String {
    let interfaces = if s.interfaces.is_empty() {
        "none".to_string()
    } else {
        s.interfaces
            .iter()
            .map(|i| format!("{} {}", i.name, i.addr))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = [
        (
            "version",
            format!("{} (control API {})", s.version, s.api_version),
        ),
        (
            "started",
            format!(
                "{}, up {}",
                local_time_zone(s.started_at, tz),
                span(i64::try_from(s.uptime_secs).unwrap_or(i64::MAX))
            ),
        ),
        ("config", s.config_path.clone()),
        ("interfaces", interfaces),
        ("store", format!("{} {}", s.store_backend, s.store_path)),
        ("store state", store_state(&s.store_health, tz)),
        (
            "leases",
            format!("{} bound, {} in total", s.leases_bound, s.leases_total),
        ),
        (
            "hosts",
            format!("{} from config, {} in store", s.hosts_config, s.hosts_store),
        ),
        ("blocked", s.blocked.to_string()),
    ];
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<12}{v}");
    }
    if !s.counters.is_empty() {
        let list: Vec<String> = s.counters.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "{:<12}{}", "packets", list.join(", "));
    }
    if !s.arp.detail.is_empty() {
        let _ = writeln!(out, "{:<12}{}", "arp", arp_line(&s.arp));
    }
    if s.rate_limited_clients > 0 {
        let _ = writeln!(
            out,
            "{:<12}{} clients ignored by the flood limit",
            "limited", s.rate_limited_clients
        );
    }
    out
}

/// Whether leases can be made durable: what an operator must know first.
fn store_state(h: &berth_proto::StoreHealth, tz: &TimeZone) -> String {
    let last = h.last_ok.map_or_else(
        || "no write yet".to_string(),
        |t| format!("last write {}", local_time(t, tz)),
    );
    let unsaved = match h.unsaved_renewals {
        0 => String::new(),
        n => format!(", {n} renewals ACKed from memory not yet written"),
    };
    match (h.ok, h.failing_since) {
        (true, _) => format!("ok, {last}, {} pending{unsaved}", h.pending_writes),
        (false, since) => format!(
            "FAILING since {}: {} ({last}, {} pending{unsaved})",
            since.map_or_else(|| "?".into(), |t| local_time(t, tz)),
            h.last_error.as_deref().unwrap_or("unknown error"),
            h.pending_writes
        ),
    }
}

/// `status`'s ARP row: on or off, and how it sweeps and probes.
fn arp_line(a: &berth_proto::ArpStatus) -> String {
    if !a.enabled {
        return a.detail.clone();
    }
    let sweeps = a.sweep_interval_secs.map_or("sweeps off".to_string(), |s| {
        format!(
            "sweeps every {}",
            span(i64::try_from(s).unwrap_or(i64::MAX))
        )
    });
    let probes = a
        .probe_timeout_ms
        .map_or("probes off".to_string(), |ms| format!("probes {ms}ms"));
    format!("{}; {sweeps}, {probes}", a.detail)
}

/// `reload`: what was loaded, then each warning on its own line.
pub fn reload(r: &ReloadResult) -> String {
    let mut out = format!(
        "reloaded {}: {} subnets, {} hosts\n",
        r.config_path, r.subnets, r.hosts
    );
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
