//! The arrivals screen: the event feed, newest first.

use berth_proto::{Event, EventKind};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::layout::{empty_text, with_detail};
use super::theme::Theme;
use crate::app::fmt::{self, Col};
use crate::app::model::{FeedEntry, Model, View};
use crate::app::rows;

/// The event column: short names, `NEW` for a client nobody knows, `!` in
/// front of failures so they read without colour.
fn event_label(e: &Event) -> String {
    let name = match e.kind {
        EventKind::Arrival if e.unknown => "NEW",
        EventKind::HookResult => "hook",
        EventKind::StoreFailing => "store",
        EventKind::StoreRecovered => "store ok",
        EventKind::HostAdded => "host add",
        EventKind::HostUpdated => "host upd",
        EventKind::HostRemoved => "host del",
        k => k.as_str(),
    };
    if e.ok {
        name.to_string()
    } else {
        format!("!{name}")
    }
}

/// One line about the selected event, with what the columns cut or drop.
fn event_detail(e: &Event, tz: &TimeZone) -> String {
    let mut head = e.kind.as_str().to_string();
    if e.unknown {
        head.push_str(" (unknown client)");
    }
    if !e.detail.is_empty() {
        head.push_str(&format!(": {}", e.detail));
    }
    let mut parts = vec![head];
    let who: Vec<String> = [
        e.mac.clone(),
        e.ip.map(|a| a.to_string()),
        e.hostname.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !who.is_empty() {
        parts.push(who.join(" "));
    }
    if let Some(v) = &e.vendor_class {
        parts.push(format!("vendor {v}"));
    }
    if let Some(i) = &e.interface {
        parts.push(format!("via {i}"));
    }
    parts.push(fmt::full(e.at, tz));
    parts.join(" · ")
}

pub(super) fn arrivals_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let items = rows::feed(m);
    // Cell texts first, so the columns can be sized to their content.
    let cells: Vec<Option<[String; 8]>> = items
        .iter()
        .map(|item| match &item.entry {
            FeedEntry::Note { .. } => None,
            FeedEntry::Event(e) => Some([
                fmt::when(e.at, now, tz),
                event_label(e),
                e.mac.clone().unwrap_or_default(),
                e.ip.map(|a| a.to_string()).unwrap_or_default(),
                e.hostname.clone().unwrap_or_default(),
                e.vendor_class.clone().unwrap_or_default(),
                e.interface.clone().unwrap_or_default(),
                e.detail.clone(),
            ]),
        })
        .collect();
    let col = |i: usize| cells.iter().flatten().map(move |c| c[i].as_str());
    let cols = vec![
        Col::fixed("Time", 0, col(0)),
        Col::fixed("Event", 1, col(1)),
        Col::fixed("MAC", 2, col(2)),
        Col::fixed("IP", 3, col(3)),
        Col::fill("Hostname", 4, 10, col(4)),
        Col::fill("Vendor", 6, 8, col(5)),
        Col::fixed("If", 5, col(6)),
        Col::fill("Detail", 7, 10, col(7)),
    ];
    let widths = fmt::fit_hiding(&cols, area.width, &m.hidden_columns);
    let lines: Vec<Line<'a>> = items
        .iter()
        .zip(cells)
        .map(|(item, c)| match (&item.entry, c) {
            (FeedEntry::Event(e), Some(c)) if e.mac.is_none() && e.ip.is_none() => {
                // Nothing to put in the client columns (a hook, a reload):
                // let the detail use the room instead of a dropped column.
                let style = if e.ok { t.plain() } else { t.failure() };
                let [time, kind, ..] = c;
                let head = fmt::row(vec![(time, t.plain()), (kind, style)], &widths[..2]);
                let used: u16 = head.spans.iter().map(|s| fmt::width(&s.content)).sum();
                let text = [e.detail.as_str(), e.interface.as_deref().unwrap_or("")]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · ");
                let mut spans = head.spans;
                spans.push(Span::raw(" "));
                spans.push(Span::styled(
                    fmt::fit_text(&text, area.width.saturating_sub(used + 1)),
                    style,
                ));
                Line::from(spans)
            }
            (FeedEntry::Event(e), Some(c)) => {
                let style = if !e.ok {
                    t.failure()
                } else if e.kind == EventKind::Arrival && e.unknown {
                    t.new_client()
                } else {
                    t.plain()
                };
                let [time, kind, mac, ip, host, vendor, iface, detail] = c;
                fmt::row(
                    vec![
                        (time, t.plain()),
                        (kind, style),
                        (mac, style),
                        (ip, t.plain()),
                        (host, style),
                        (vendor, t.plain()),
                        (iface, t.plain()),
                        (detail, style),
                    ],
                    &widths,
                )
            }
            (FeedEntry::Note { at, text }, _) => {
                // A note spans the row instead of sitting in columns.
                let time = at.map(|a| fmt::when(a, now, tz)).unwrap_or_default();
                let time_w = widths.first().copied().unwrap_or(8);
                let rest = area.width.saturating_sub(time_w + 1);
                Line::from(vec![
                    Span::styled(fmt::fit_text(&time, time_w), t.muted()),
                    Span::raw(" "),
                    Span::styled(
                        fmt::fit_text(&format!("── {text} ──"), rest),
                        t.muted().add_modifier(Modifier::ITALIC),
                    ),
                ])
            }
            (FeedEntry::Event(_), None) => Line::default(),
        })
        .collect();
    let empty = if m.filter.is_empty() {
        "no events yet: new clients, offers and acks will appear here, newest first".to_string()
    } else {
        empty_text(m, "events")
    };
    let selected = rows::selected_index(m, View::Arrivals);
    let detail = items.get(selected).map(|item| match &item.entry {
        FeedEntry::Event(e) => event_detail(e, tz),
        FeedEntry::Note { text, .. } => text.clone(),
    });
    with_detail(
        fmt::header(&cols, &widths, t.header()),
        lines,
        selected,
        area,
        empty,
        detail,
        t,
    )
}
