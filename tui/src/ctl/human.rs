//! Human output: tables and sentences, times in the viewer's time zone.
//!
//! Every function takes the data, a fixed `now` and a time zone and returns
//! the text, so output is tested exactly without a clock or a `TZ`.

use std::fmt::Write as _;

use berth_proto::{
    BlockInfo, Event, HostInfo, LeaseInfo, LeaseKind, LeaseState, PoolInfo, PromoteResult,
    ReloadResult, Status, UnixTime,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::table::Table;

/// `t` as local date and time, `2024-05-01 14:00:00`.
pub fn local_time(t: UnixTime, tz: &TimeZone) -> String {
    crate::time::local(t, tz, false)
}

/// `t` as local date, time and zone abbreviation, `2024-05-01 14:00:00 CEST`.
pub fn local_time_zone(t: UnixTime, tz: &TimeZone) -> String {
    crate::time::local(t, tz, true)
}

/// A span in the two largest units: `45s`, `5m07s`, `1h02m`, `3d04h`.
/// Zero or negative spans are `0s`.
pub fn span(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// Time left until `ends`: a [`span`], or `expired` once it has passed.
pub fn remaining(ends: UnixTime, now: Timestamp) -> String {
    let left = ends.saturating_sub(now.as_second());
    if left <= 0 {
        "expired".to_string()
    } else {
        span(left)
    }
}

fn or_dash(s: Option<&str>) -> String {
    s.filter(|s| !s.is_empty()).unwrap_or("-").to_string()
}

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

/// The KIND cell of a lease: a moving client shows where it is going.
fn lease_kind(l: &LeaseInfo) -> String {
    match (l.kind, l.moving_to) {
        (LeaseKind::Moving, Some(to)) => format!("moving to {to}"),
        (k, _) => k.as_str().to_string(),
    }
}

/// `leases`: a table; REMAINING is shown for leases that still hold their
/// address (offered, bound, declined in quarantine).
pub fn leases(ls: &[LeaseInfo], now: Timestamp, tz: &TimeZone) -> String {
    if ls.is_empty() {
        return NO_LEASES.to_string();
    }
    leases_table(ls, now, tz).render()
}

/// What `leases` prints when there are none.
pub const NO_LEASES: &str = "no leases\n";

/// One page of `leases` as table rows.
pub fn leases_table(ls: &[LeaseInfo], now: Timestamp, tz: &TimeZone) -> Table {
    let mut t = Table::new(&[
        "IP",
        "MAC",
        "HOSTNAME",
        "KIND",
        "STATE",
        "ENDS",
        "REMAINING",
        "SUBNET",
    ]);
    for l in ls {
        let left = match l.state {
            LeaseState::Offered
            | LeaseState::Bound
            | LeaseState::Declined
            | LeaseState::Observed => remaining(l.ends, now),
            LeaseState::Released | LeaseState::Expired => "-".to_string(),
        };
        t.row(vec![
            l.ip.to_string(),
            l.mac.clone(),
            or_dash(l.hostname.as_deref()),
            lease_kind(l),
            l.state.as_str().to_string(),
            local_time(l.ends, tz),
            left,
            or_dash(l.subnet.as_deref()),
        ]);
    }
    t
}

/// Options as `name=value; name=value` (values may hold commas).
fn options(opts: &[(String, String)]) -> String {
    if opts.is_empty() {
        return "-".to_string();
    }
    opts.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The MAC cell of a host: its MAC, else its client id.
fn host_id(h: &HostInfo) -> String {
    match (&h.mac, &h.client_id) {
        (Some(mac), _) => mac.clone(),
        (None, Some(id)) => format!("id {id}"),
        (None, None) => "-".to_string(),
    }
}

/// `hosts`: a table.
pub fn hosts(hs: &[HostInfo], tz: &TimeZone) -> String {
    if hs.is_empty() {
        return NO_HOSTS.to_string();
    }
    hosts_table(hs, tz).render()
}

/// What `hosts` prints when there are none.
pub const NO_HOSTS: &str = "no static hosts\n";

/// One page of `hosts` as table rows.
pub fn hosts_table(hs: &[HostInfo], tz: &TimeZone) -> Table {
    let mut t = Table::new(&["NAME", "MAC", "IP", "ORIGIN", "CREATED", "OPTIONS"]);
    for h in hs {
        t.row(vec![
            h.name.clone(),
            host_id(h),
            h.ip.to_string(),
            match h.origin {
                berth_proto::Origin::Config => "config",
                berth_proto::Origin::Store => "store",
            }
            .to_string(),
            h.created_at
                .map(|c| local_time(c, tz))
                .unwrap_or_else(|| "-".to_string()),
            options(&h.options),
        ]);
    }
    t
}

/// What a host command did, e.g. `added host printer (02:..., 192.0.2.5)`.
pub fn host_done(verb: &str, h: &HostInfo) -> String {
    let mut out = format!("{verb} host {} ({}, {})\n", h.name, host_id(h), h.ip);
    if !h.options.is_empty() {
        let _ = writeln!(out, "options: {}", options(&h.options));
    }
    out
}

/// `hosts export`: the TOML as the daemon sent it, with a final newline.
pub fn export(toml: &str) -> String {
    let mut s = toml.to_string();
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// `promote`: what happened and, when the client must move, what happens next.
pub fn promote(mac: &str, p: &PromoteResult) -> String {
    let h = &p.host;
    let mut out = format!("promoted {mac} to static host {} at {}", h.name, h.ip);
    match (p.from, p.moving) {
        (Some(from), true) => {
            let _ = write!(
                out,
                "\nit is moving from {from}: berthd NAKs the old address on its next renewal \
                 and shows it as moving until it comes back on {}",
                h.ip
            );
        }
        (None, true) => {
            let _ = write!(
                out,
                "\nit is moving: shown as moving until it comes back on {}",
                h.ip
            );
        }
        (_, false) => out.push_str(" (its current address)"),
    }
    out.push('\n');
    out
}

/// `release`: the lease that ended.
pub fn release(l: &LeaseInfo) -> String {
    match &l.hostname {
        Some(h) if !h.is_empty() => format!("released {} ({}, {h})\n", l.ip, l.mac),
        _ => format!("released {} ({})\n", l.ip, l.mac),
    }
}

/// `block`: until when.
pub fn block(b: &BlockInfo, now: Timestamp, tz: &TimeZone) -> String {
    match b.until {
        Some(u) => format!(
            "blocked {} until {} ({})\n",
            b.mac,
            local_time_zone(u, tz),
            remaining(u, now)
        ),
        None => format!("blocked {} until unblocked\n", b.mac),
    }
}

/// `unblock`.
pub fn unblock(b: &BlockInfo) -> String {
    format!("unblocked {}\n", b.mac)
}

/// `blocks`: a table.
pub fn blocks(bs: &[BlockInfo], now: Timestamp, tz: &TimeZone) -> String {
    if bs.is_empty() {
        return NO_BLOCKS.to_string();
    }
    blocks_table(bs, now, tz).render()
}

/// What `blocks` prints when there are none.
pub const NO_BLOCKS: &str = "no blocks\n";

/// One page of `blocks` as table rows.
pub fn blocks_table(bs: &[BlockInfo], now: Timestamp, tz: &TimeZone) -> Table {
    let mut t = Table::new(&["MAC", "SINCE", "UNTIL", "REMAINING"]);
    for b in bs {
        let (until, left) = match b.until {
            Some(u) => (local_time(u, tz), remaining(u, now)),
            None => ("unblocked".to_string(), "-".to_string()),
        };
        t.row(vec![b.mac.clone(), local_time(b.since, tz), until, left]);
    }
    t
}

/// `pools`: a table; USED counts leased and quarantined addresses.
pub fn pools(ps: &[PoolInfo]) -> String {
    if ps.is_empty() {
        return "no dynamic ranges\n".to_string();
    }
    let mut t = Table::new(&[
        "SUBNET",
        "RANGE",
        "SIZE",
        "LEASED",
        "QUARANTINED",
        "FREE",
        "USED",
    ])
    .right(2)
    .right(3)
    .right(4)
    .right(5)
    .right(6);
    for p in ps {
        let used = if p.size == 0 {
            "-".to_string()
        } else {
            // Rounded down so a nearly full pool never shows 100%.
            format!(
                "{}%",
                (u128::from(p.leased) + u128::from(p.quarantined)) * 100 / u128::from(p.size)
            )
        };
        t.row(vec![
            p.subnet.clone(),
            format!("{}-{}", p.start, p.end),
            p.size.to_string(),
            p.leased.to_string(),
            p.quarantined.to_string(),
            p.free.to_string(),
            used,
        ]);
    }
    let mut out = t.render();
    let observed: u64 = ps.iter().map(|p| p.observed).sum();
    if observed > 0 {
        let _ = writeln!(
            out,
            "\n{observed} address(es) in use without a lease (observed by ARP, kept from other clients)"
        );
    }
    let squatters: Vec<_> = ps.iter().flat_map(|p| p.squatters.iter()).collect();
    if !squatters.is_empty() {
        out.push('\n');
        out.push_str(&squatter_table(squatters.into_iter()));
    }
    out
}

/// Squatters as a table: who answered for which address, and why that is wrong.
fn squatter_table<'a>(ss: impl Iterator<Item = &'a berth_proto::SquatterInfo>) -> String {
    let mut t = Table::new(&["SQUATTER", "MAC", "RECORD NAMES", "WHY"]);
    for s in ss {
        t.row(vec![
            s.ip.to_string(),
            s.mac.clone(),
            or_dash(s.holder.as_deref()),
            s.reason.clone(),
        ]);
    }
    t.render()
}

/// `scan`: one row per range swept, then the squatters found.
pub fn scan(rs: &[berth_proto::ScanResult], tz: &TimeZone) -> String {
    if rs.is_empty() {
        return "nothing to sweep (no dynamic range on an interface with ARP)\n".to_string();
    }
    let mut t = Table::new(&[
        "RANGE",
        "IFACE",
        "ASKED",
        "ANSWERED",
        "OBSERVED",
        "SQUATTERS",
        "TOOK",
        "FINISHED",
    ])
    .right(2)
    .right(3)
    .right(4)
    .right(5)
    .right(6);
    for r in rs {
        t.row(vec![
            format!("{}-{}", r.start, r.end),
            r.interface.clone(),
            r.probed.to_string(),
            r.answered.to_string(),
            r.observed.to_string(),
            r.squatters.len().to_string(),
            format!("{}ms", r.duration_ms),
            local_time(r.finished_at, tz),
        ]);
    }
    let mut out = t.render();
    if rs.iter().any(|r| !r.squatters.is_empty()) {
        out.push('\n');
        out.push_str(&squatter_table(rs.iter().flat_map(|r| r.squatters.iter())));
    }
    out
}

/// `quarantine`: a table by address, with the time left.
pub fn quarantine(qs: &[berth_proto::QuarantineInfo], now: Timestamp, tz: &TimeZone) -> String {
    if qs.is_empty() {
        return "no quarantined addresses\n".to_string();
    }
    let mut t = Table::new(&["IP", "REASON", "MAC", "SINCE", "UNTIL", "REMAINING"]);
    for q in qs {
        t.row(vec![
            q.ip.to_string(),
            q.reason.as_str().to_string(),
            or_dash(q.mac.as_deref()),
            local_time(q.since, tz),
            local_time(q.until, tz),
            remaining(q.until, now),
        ]);
    }
    t.render()
}

/// `quarantine clear`: one sentence.
pub fn quarantine_cleared(q: &berth_proto::QuarantineInfo) -> String {
    format!(
        "cleared the quarantine of {} ({}{}): free again\n",
        q.ip,
        q.reason.as_str(),
        q.mac
            .as_deref()
            .map(|m| format!(", by {m}"))
            .unwrap_or_default()
    )
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

/// The DETAIL cell of an event: its detail plus the flags worth seeing.
fn event_detail(e: &Event) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !e.ok {
        parts.push("FAILED".to_string());
    }
    if !e.detail.is_empty() {
        parts.push(e.detail.clone());
    }
    if e.unknown {
        parts.push("unknown client".to_string());
    }
    if let Some(v) = e.vendor_class.as_deref().filter(|v| !v.is_empty()) {
        parts.push(format!("vendor {v}"));
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// `events`: a table of the events held.
pub fn events(es: &[Event], tz: &TimeZone) -> String {
    if es.is_empty() {
        return "no events\n".to_string();
    }
    let mut t = Table::new(&[
        "SEQ",
        "TIME",
        "EVENT",
        "IP",
        "MAC",
        "HOSTNAME",
        "INTERFACE",
        "DETAIL",
    ])
    .right(0);
    for e in es {
        t.row(vec![
            e.seq.to_string(),
            local_time(e.at, tz),
            e.kind.as_str().to_string(),
            e.ip.map(|i| i.to_string())
                .unwrap_or_else(|| "-".to_string()),
            or_dash(e.mac.as_deref()),
            or_dash(e.hostname.as_deref()),
            or_dash(e.interface.as_deref()),
            event_detail(e),
        ]);
    }
    t.render()
}

/// `events --follow`: one event per line. Later events are not known yet,
/// so columns get fixed widths that fit the usual values instead of a table.
pub fn event_line(e: &Event, tz: &TimeZone) -> String {
    let line = format!(
        "{:>6}  {}  {:<12}  {:<15}  {:<17}  {:<16}  {:<8}  {}",
        e.seq,
        local_time(e.at, tz),
        e.kind.as_str(),
        e.ip.map(|i| i.to_string())
            .unwrap_or_else(|| "-".to_string()),
        or_dash(e.mac.as_deref()),
        or_dash(e.hostname.as_deref()),
        or_dash(e.interface.as_deref()),
        event_detail(e),
    );
    format!("{}\n", line.trim_end())
}

/// `explain`: what berthd would do for the client, then every option with
/// the scope it comes from.
pub fn explain(e: &berth_proto::Explanation) -> String {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    let mut out = String::new();
    let classes = if e.classes.is_empty() {
        "-".to_string()
    } else {
        e.classes.join(", ")
    };
    for (key, value) in [
        ("client", e.mac.clone()),
        ("interface", e.interface.clone()),
        ("subnet", dash(e.subnet.clone())),
        ("host", dash(e.host.clone())),
        ("classes", classes),
        ("range", dash(e.range.clone())),
        ("address", dash(e.address.map(|a| a.to_string()))),
        ("decision", e.outcome.clone()),
        ("next-server", dash(e.next_server.map(|a| a.to_string()))),
        ("filename", dash(e.filename.clone())),
        ("server name", dash(e.server_name.clone())),
    ] {
        let _ = writeln!(out, "{key:<12} {value}");
    }
    if e.options.is_empty() {
        out.push_str("\nno options\n");
        return out;
    }
    out.push('\n');
    let mut t = Table::new(&["CODE", "OPTION", "VALUE", "FROM"]).right(0);
    for o in &e.options {
        let (code, name) = if o.space == "dhcp" {
            (o.code.to_string(), o.name.clone())
        } else {
            // A sub-option of option 43, in its vendor space.
            (format!("43.{}", o.code), format!("{}.{}", o.space, o.name))
        };
        t.row(vec![code, name, o.value.clone(), o.source.clone()]);
    }
    out.push_str(&t.render());
    out
}
