//! The event stream: `events` as a table, `events --follow` a line at a time.

use berth_proto::Event;
use jiff::tz::TimeZone;

use super::cells::{local_time, or_dash};
use crate::ctl::table::Table;

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

/// An event's cells, in the order both forms show them.
fn cells(e: &Event, tz: &TimeZone) -> [String; 8] {
    [
        e.seq.to_string(),
        local_time(e.at, tz),
        e.kind.as_str().to_string(),
        e.ip.map_or_else(|| "-".to_string(), |i| i.to_string()),
        or_dash(e.mac.as_deref()),
        or_dash(e.hostname.as_deref()),
        or_dash(e.interface.as_deref()),
        event_detail(e),
    ]
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
        t.row(cells(e, tz).into());
    }
    t.render()
}

/// `events --follow`: one event per line. Later events are not known yet,
/// so columns get fixed widths that fit the usual values instead of a table.
pub fn event_line(e: &Event, tz: &TimeZone) -> String {
    let [seq, time, kind, ip, mac, hostname, interface, detail] = cells(e, tz);
    let line = format!(
        "{seq:>6}  {time}  {kind:<12}  {ip:<15}  {mac:<17}  {hostname:<16}  {interface:<8}  {detail}"
    );
    format!("{}\n", line.trim_end())
}
