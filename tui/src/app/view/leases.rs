//! The leases screen.

use berth_proto::{LeaseInfo, LeaseKind, LeaseState};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::layout::{empty_text, with_detail};
use super::theme::Theme;
use crate::app::fmt::{self, Col};
use crate::app::model::{Model, View};
use crate::app::rows;

/// The time-left cell of a lease.
fn time_left(l: &LeaseInfo, now: i64) -> String {
    let counts = matches!(l.state, LeaseState::Bound | LeaseState::Offered)
        || l.kind == LeaseKind::Quarantined;
    if !counts {
        "-".to_string()
    } else if l.ends <= now {
        "expired".to_string()
    } else {
        fmt::countdown(l.ends - now)
    }
}

pub(super) fn leases_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let leases = rows::leases(m);
    let selected = rows::selected_index(m, View::Leases);
    // Only the rows on screen are formatted (and size the columns): with
    // 100,000 leases a frame costs a screenful, not the table. The header
    // and the detail line take two lines.
    let h = usize::from(area.height.saturating_sub(2)).max(1);
    let offset = fmt::scroll_offset(selected, h);
    let window = &leases[offset.min(leases.len())..(offset + h).min(leases.len())];
    let n = now.as_second();
    let cells: Vec<[String; 7]> = window
        .iter()
        .map(|l| {
            [
                l.ip.to_string(),
                l.mac.clone(),
                l.hostname.clone().unwrap_or_default(),
                l.kind.as_str().to_string(),
                l.state.as_str().to_string(),
                time_left(l, n),
                fmt::when(l.ends, now, tz),
            ]
        })
        .collect();
    let col = |i: usize| cells.iter().map(move |c| c[i].as_str());
    let arrow = if m.sort_desc { "▼" } else { "▲" };
    let title = |name: &str, s: crate::app::model::LeaseSort| {
        if m.sort == s {
            format!("{name}{arrow}")
        } else {
            name.to_string()
        }
    };
    use crate::app::model::LeaseSort as S;
    let cols = vec![
        Col::fixed(title("IP", S::Ip), 0, col(0)),
        Col::fixed(title("MAC", S::Mac), 4, col(1)),
        Col::fill(title("Hostname", S::Hostname), 1, 10, col(2)),
        Col::fixed(title("Kind", S::Kind), 3, col(3)),
        Col::fixed(title("State", S::State), 6, col(4)),
        Col::fixed(title("Left", S::Ends), 2, col(5)),
        Col::fixed("Expires", 5, col(6)),
    ];
    let widths = fmt::fit_hiding(&cols, area.width, &m.hidden_columns);
    let lines: Vec<Line<'a>> = window
        .iter()
        .zip(cells)
        .map(|(l, c)| {
            let [ip, mac, host, kind, state, left, ends] = c;
            let faded = matches!(l.state, LeaseState::Released | LeaseState::Expired);
            let base = if faded { t.muted() } else { t.plain() };
            let left_style = if left == "expired" { t.muted() } else { base };
            fmt::row(
                vec![
                    (ip, base),
                    (mac, base),
                    (host, base),
                    (kind, t.kind(l.kind)),
                    (state, base),
                    (left, left_style),
                    (ends, base),
                ],
                &widths,
            )
        })
        .collect();
    let detail = leases.get(selected).map(|l| lease_detail(l, tz));
    with_detail(
        fmt::header(&cols, &widths, t.header()),
        lines,
        selected - offset,
        area,
        empty_text(m, "leases"),
        detail,
        t,
    )
}

/// One line about the selected lease: what does not fit in the columns.
fn lease_detail(l: &LeaseInfo, tz: &TimeZone) -> String {
    let mut parts = vec![l.mac.clone()];
    if let Some(to) = l.moving_to {
        parts.push(format!("moving to {to}"));
    }
    parts.push(format!("{} {}", l.kind.as_str(), l.state.as_str()));
    parts.push(format!("ends {}", fmt::full(l.ends, tz)));
    if let Some(s) = &l.subnet {
        parts.push(s.clone());
    }
    parts.push(format!("client-id {}", l.client_id));
    parts.join(" · ")
}
