//! The pools screen: one gauge per dynamic range.

use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};

use super::layout::empty_text;
use super::theme::Theme;
use crate::app::fmt;
use crate::app::model::{Model, View};
use crate::app::rows;

/// Three lines per range: where it is, a gauge (leased `█`, quarantined `▒`,
/// free `░`, so it reads without colour), and a blank.
pub(super) fn pools_lines<'a>(m: &Model, area: Rect, t: Theme) -> Vec<Line<'a>> {
    let pools = rows::pools(m);
    if pools.is_empty() {
        return vec![Line::from(Span::styled(
            empty_text(m, "dynamic ranges"),
            t.muted(),
        ))];
    }
    let selected = rows::selected_index(m, View::Pools);
    let per = 3usize;
    let fit = (usize::from(area.height) / per).max(1);
    let offset = fmt::scroll_offset(selected, fit);
    let mut out = Vec::new();
    for (i, p) in pools.iter().enumerate().skip(offset).take(fit) {
        let head = format!(
            "{}  {} – {}  ({} addresses)",
            p.subnet, p.start, p.end, p.size
        );
        let mut head = Line::from(Span::styled(fmt::fit_text(&head, area.width), t.header()));
        if i == selected {
            head = head.patch_style(t.selected());
        }
        out.push(head);
        let pct = (p.leased * 100 + p.size / 2)
            .checked_div(p.size)
            .unwrap_or(0);
        let text = format!(
            " {pct:>3}%  {} leased · {} free · {} quarantined",
            p.leased, p.free, p.quarantined
        );
        let bar_w = area
            .width
            .saturating_sub(fmt::width(&text) + 2)
            .max(10)
            .min(area.width.saturating_sub(2));
        let [used, quar, free] = gauge_cells(p.leased, p.quarantined, p.size, bar_w);
        let mut spans = vec![
            Span::raw(" "),
            Span::styled("█".repeat(used), t.fg(Color::Green)),
            Span::styled("▒".repeat(quar), t.fg(Color::Magenta)),
            Span::styled("░".repeat(free), t.muted()),
        ];
        let room = area.width.saturating_sub(bar_w + 1);
        spans.push(Span::styled(fmt::fit_text(&text, room), t.plain()));
        out.push(Line::from(spans));
        out.push(Line::default());
    }
    out
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
