//! The hooks screen: the last hook results (exit status, stderr tail) and
//! webhook drops, newest first; failures stand out.

use berth_proto::EventKind;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::layout::with_detail;
use super::theme::Theme;
use crate::app::fmt::{self, Col};
use crate::app::model::{FeedEntry, Model, View};
use crate::app::rows;

pub(super) fn hooks_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let items = rows::hooks(m);
    let events: Vec<&berth_proto::Event> = items
        .iter()
        .filter_map(|i| match &i.entry {
            FeedEntry::Event(e) => Some(e),
            FeedEntry::Note { .. } => None,
        })
        .collect();
    let cells: Vec<([String; 5], bool)> = events
        .iter()
        .map(|e| {
            let what = match e.kind {
                EventKind::WebhookDropped => "webhook",
                // Delivery trouble is reported as a webhook's result.
                _ if e.detail.starts_with("webhook ") => "webhook",
                _ => "hook",
            };
            let client = [e.mac.clone(), e.ip.map(|a| a.to_string())]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (
                [
                    fmt::when(e.at, now, tz),
                    if e.ok { "ok" } else { "FAILED" }.to_string(),
                    what.to_string(),
                    client,
                    e.detail.clone(),
                ],
                e.ok,
            )
        })
        .collect();
    let col = |i: usize| cells.iter().map(move |(c, _)| c[i].as_str());
    let cols = vec![
        Col::fixed("Time", 0, col(0)),
        Col::fixed("Result", 1, col(1)),
        Col::fixed("What", 3, col(2)),
        Col::fixed("Client", 4, col(3)),
        Col::fill("Detail", 2, 20, col(4)),
    ];
    let widths = fmt::fit_hiding(&cols, area.width, &m.hidden_columns);
    let lines: Vec<Line<'a>> = cells
        .into_iter()
        .map(|(c, ok)| {
            let style = if ok { t.plain() } else { t.failure() };
            let [time, result, what, client, detail] = c;
            fmt::row(
                vec![
                    (time, t.plain()),
                    (result, style),
                    (what, t.plain()),
                    (client, t.plain()),
                    (detail, style),
                ],
                &widths,
            )
        })
        .collect();
    let selected = rows::selected_index(m, View::Hooks);
    // The whole detail (the stderr tail) of the selected outcome.
    let detail = events.get(selected).map(|e| e.detail.clone());
    let empty = if m.filter.is_empty() {
        "no hook or webhook outcomes yet: each hook run and each webhook drop shows here"
            .to_string()
    } else {
        super::layout::empty_text(m, "hook outcomes")
    };
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
