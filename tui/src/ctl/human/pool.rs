//! Dynamic ranges: `pools`, `scan` (ARP sweeps and their squatters) and
//! `quarantine`.

use std::fmt::Write as _;

use berth_proto::PoolInfo;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::cells::{local_time, or_dash, remaining};
use crate::ctl::table::Table;

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
