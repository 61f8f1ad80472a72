//! The quarantine screen: declined and probe-hit addresses with the time
//! left; `c` clears the selected one (after a confirm).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::Line;

use super::layout::{empty_text, with_detail};
use super::theme::Theme;
use crate::app::fmt::{self, Col};
use crate::app::model::{Model, View};
use crate::app::rows;

pub(super) fn quarantine_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let qs = rows::quarantine(m);
    let n = now.as_second();
    let cells: Vec<[String; 6]> = qs
        .iter()
        .map(|q| {
            [
                q.ip.to_string(),
                q.reason.as_str().replace('_', " "),
                q.mac.clone().unwrap_or_default(),
                if q.until > n {
                    fmt::countdown(q.until - n)
                } else {
                    "over".to_string()
                },
                fmt::when(q.until, now, tz),
                q.subnet.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let col = |i: usize| cells.iter().map(move |c| c[i].as_str());
    let cols = vec![
        Col::fixed("IP", 0, col(0)),
        Col::fixed("Reason", 2, col(1)),
        Col::fixed("By MAC", 3, col(2)),
        Col::fixed("Left", 1, col(3)),
        Col::fixed("Until", 4, col(4)),
        Col::fill("Subnet", 5, 8, col(5)),
    ];
    let widths = fmt::fit_hiding(&cols, area.width, &m.hidden_columns);
    let lines: Vec<Line<'a>> = cells
        .into_iter()
        .map(|c| {
            let [ip, reason, mac, left, until, subnet] = c;
            fmt::row(
                vec![
                    (ip, t.plain()),
                    (reason, t.fg(Color::Magenta)),
                    (mac, t.plain()),
                    (left, t.plain()),
                    (until, t.plain()),
                    (subnet, t.muted()),
                ],
                &widths,
            )
        })
        .collect();
    let selected = rows::selected_index(m, View::Quarantine);
    let detail = qs.get(selected).map(|q| {
        format!(
            "{} quarantined since {} · c clears it",
            q.ip,
            fmt::full(q.since, tz)
        )
    });
    with_detail(
        fmt::header(&cols, &widths, t.header()),
        lines,
        selected,
        area,
        empty_text(m, "quarantined addresses"),
        detail,
        t,
    )
}
