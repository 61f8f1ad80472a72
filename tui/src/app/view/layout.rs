//! Pieces every screen uses: a scrolling table with a selection, a detail
//! line under it, the "nothing here" text, a centred box for dialogs.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::app::fmt;
use crate::app::model::Model;

/// Header, then the visible window of `rows` around the selection, the
/// selected one reversed; or `empty` when there are none.
pub(super) fn table<'a>(
    header: Line<'a>,
    rows: Vec<Line<'a>>,
    selected: usize,
    height: u16,
    width: u16,
    empty: String,
    t: Theme,
) -> Vec<Line<'a>> {
    if rows.is_empty() {
        // Column titles over nothing only add noise.
        return vec![Line::from(Span::styled(empty, t.muted()))];
    }
    let mut out = vec![header];
    let h = usize::from(height.saturating_sub(1));
    let offset = fmt::scroll_offset(selected, h);
    for (i, line) in rows.into_iter().enumerate().skip(offset).take(h) {
        if i == selected {
            out.push(pad(line, width).patch_style(t.selected()));
        } else {
            out.push(line);
        }
    }
    out
}

/// A [`table`] with one line about the selected row at the bottom of `area`.
pub(super) fn with_detail<'a>(
    header: Line<'a>,
    lines: Vec<Line<'a>>,
    selected: usize,
    area: Rect,
    empty: String,
    detail: Option<String>,
    t: Theme,
) -> Vec<Line<'a>> {
    let height = if detail.is_some() {
        area.height.saturating_sub(1)
    } else {
        area.height
    };
    let mut out = table(header, lines, selected, height, area.width, empty, t);
    if let Some(d) = detail {
        while out.len() < usize::from(height) {
            out.push(Line::default());
        }
        out.push(Line::from(Span::styled(
            fmt::fit_text(&d, area.width),
            t.muted(),
        )));
    }
    out
}

/// `line` padded with spaces to `width`, so a reversed row spans the screen.
fn pad(mut line: Line<'_>, width: u16) -> Line<'_> {
    let w: u16 = line.spans.iter().map(|s| fmt::width(&s.content)).sum();
    if w < width {
        line.spans
            .push(Span::raw(" ".repeat(usize::from(width - w))));
    }
    line
}

pub(super) fn empty_text(m: &Model, what: &str) -> String {
    if m.filter.is_empty() {
        format!("no {what}")
    } else {
        format!("no {what} match \"{}\" (Esc clears the filter)", m.filter)
    }
}

/// A centred rectangle of at most `w`x`h` inside `area`.
pub(super) fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
