//! The static hosts screen.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::Line;

use super::layout::{empty_text, table};
use super::theme::Theme;
use crate::app::fmt::{self, Col};
use crate::app::model::{Model, View};
use crate::app::rows;

pub(super) fn hosts_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let hosts = rows::hosts(m);
    let cells: Vec<[String; 6]> = hosts
        .iter()
        .map(|h| {
            let opts: Vec<String> = h.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
            [
                h.name.clone(),
                h.ip.to_string(),
                h.mac
                    .clone()
                    .or_else(|| h.client_id.clone())
                    .unwrap_or_default(),
                rows::origin_name(h.origin).to_string(),
                opts.join(", "),
                h.created_at
                    .map(|c| fmt::when(c, now, tz))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let col = |i: usize| cells.iter().map(move |c| c[i].as_str());
    let cols = vec![
        Col::fill("Name", 0, 8, col(0)),
        Col::fixed("IP", 1, col(1)),
        Col::fixed("MAC", 2, col(2)),
        Col::fixed("Origin", 3, col(3)),
        Col::fill("Options", 4, 10, col(4)),
        Col::fixed("Added", 5, col(5)),
    ];
    let widths = fmt::fit_hiding(&cols, area.width, &m.hidden_columns);
    let lines = hosts
        .iter()
        .zip(cells)
        .map(|(h, c)| {
            let origin_style = match h.origin {
                berth_proto::Origin::Config => t.plain(),
                berth_proto::Origin::Store => t.fg(Color::Cyan),
            };
            let [name, ip, mac, origin, opts, added] = c;
            fmt::row(
                vec![
                    (name, t.plain()),
                    (ip, t.plain()),
                    (mac, t.plain()),
                    (origin, origin_style),
                    (opts, t.muted()),
                    (added, t.plain()),
                ],
                &widths,
            )
        })
        .collect();
    table(
        fmt::header(&cols, &widths, t.header()),
        lines,
        rows::selected_index(m, View::Hosts),
        area.height,
        area.width,
        empty_text(m, "static hosts"),
        t,
    )
}
