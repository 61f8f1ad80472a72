//! Clients: leases, static hosts and blocks, what changes them, and
//! `explain`.

use std::fmt::Write as _;

use berth_proto::{BlockInfo, HostInfo, LeaseInfo, LeaseKind, LeaseState, PromoteResult};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::cells::{local_time, local_time_zone, or_dash, remaining};
use crate::ctl::table::Table;

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
