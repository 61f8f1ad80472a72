//! The pools screen: one gauge per dynamic range, its last ARP sweep, and
//! the squatters that sweep found (they stand out); `w` sweeps the
//! selected range.

use berth_proto::PoolInfo;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};

use super::layout::empty_text;
use super::theme::Theme;
use crate::app::fmt;
use crate::app::model::{Model, View};
use crate::app::rows;

/// Per range: where it is, a gauge (leased `█`, quarantined `▒`, free `░`,
/// so it reads without colour), its last sweep, a line per squatter, and a
/// blank.
pub(super) fn pools_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let pools = rows::pools(m);
    if pools.is_empty() {
        return vec![Line::from(Span::styled(
            empty_text(m, "dynamic ranges"),
            t.muted(),
        ))];
    }
    let selected = rows::selected_index(m, View::Pools);
    let blocks: Vec<Vec<Line<'a>>> = pools
        .iter()
        .enumerate()
        .map(|(i, p)| pool_block(p, i == selected, area.width, t, now, tz))
        .collect();
    // Ranges differ in height (squatters): start where the selected one fits.
    let height = usize::from(area.height);
    let mut offset = 0;
    while offset < selected
        && blocks[offset..=selected]
            .iter()
            .map(Vec::len)
            .sum::<usize>()
            > height
    {
        offset += 1;
    }
    blocks
        .into_iter()
        .skip(offset)
        .flatten()
        .take(height)
        .collect()
}

fn pool_block<'a>(
    p: &PoolInfo,
    selected: bool,
    width: u16,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let head = format!(
        "{}  {} – {}  ({} addresses)",
        p.subnet, p.start, p.end, p.size
    );
    let mut head = Line::from(Span::styled(fmt::fit_text(&head, width), t.header()));
    if selected {
        head = head.patch_style(t.selected());
    }
    out.push(head);
    let pct = (p.leased * 100 + p.size / 2)
        .checked_div(p.size)
        .unwrap_or(0);
    let mut text = format!(
        " {pct:>3}%  {} leased · {} free · {} quarantined",
        p.leased, p.free, p.quarantined
    );
    if p.observed > 0 {
        text.push_str(&format!(" · {} observed", p.observed));
    }
    let bar_w = width
        .saturating_sub(fmt::width(&text) + 2)
        .max(10)
        .min(width.saturating_sub(2));
    let [used, quar, free] = gauge_cells(p.leased, p.quarantined, p.size, bar_w);
    let mut spans = vec![
        Span::raw(" "),
        Span::styled("█".repeat(used), t.fg(Color::Green)),
        Span::styled("▒".repeat(quar), t.fg(Color::Magenta)),
        Span::styled("░".repeat(free), t.muted()),
    ];
    let room = width.saturating_sub(bar_w + 1);
    spans.push(Span::styled(fmt::fit_text(&text, room), t.plain()));
    out.push(Line::from(spans));
    let sweep = match &p.last_sweep {
        Some(s) => format!(
            " last sweep {} on {}: {} of {} answered in {}",
            fmt::when(s.finished_at, now, tz),
            s.interface,
            s.answered,
            s.probed,
            duration(s.duration_ms)
        ),
        None => " not swept yet · w sweeps it now".to_string(),
    };
    out.push(Line::from(Span::styled(
        fmt::fit_text(&sweep, width),
        t.muted(),
    )));
    for sq in &p.squatters {
        let holder = sq
            .holder
            .as_ref()
            .map(|h| format!(" (leased to {h})"))
            .unwrap_or_default();
        let line = format!(
            " SQUATTER {} {} {}{holder} ({})",
            sq.ip,
            sq.mac,
            sq.reason,
            fmt::when(sq.seen_at, now, tz)
        );
        out.push(Line::from(Span::styled(
            fmt::fit_text(&line, width),
            t.alarm(),
        )));
    }
    out.push(Line::default());
    out
}

/// `850 ms` or `1.2 s`.
fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    }
}

/// Cells of a `width`-cell gauge for leased, quarantined and free. A
/// non-zero count always gets at least one cell so it is never invisible.
fn gauge_cells(leased: u64, quarantined: u64, size: u64, width: u16) -> [usize; 3] {
    let w = u64::from(width);
    if size == 0 || w == 0 {
        return [0, 0, usize::from(width)];
    }
    let scale = |n: u64| {
        let c = (n.min(size) * w + size / 2) / size;
        if n > 0 { c.max(1) } else { c }
    };
    let used = scale(leased).min(w);
    let quar = scale(quarantined).min(w - used);
    let free = w - used - quar;
    let cast = |n: u64| usize::try_from(n).unwrap_or(0);
    [cast(used), cast(quar), cast(free)]
}
