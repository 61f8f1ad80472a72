//! Text formatting: local times, countdowns, and columns that fit the width.

use berth_proto::UnixTime;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub use crate::time::zoned;

/// A local time as short as is unambiguous next to `now`: `14:03:22` on the
/// same day, `Tue 14:03` within six days, else `2026-05-01`.
pub fn when(ts: UnixTime, now: Timestamp, tz: &TimeZone) -> String {
    let Some(z) = zoned(ts, tz) else {
        return "?".to_string();
    };
    let today = now.to_zoned(tz.clone());
    if z.date() == today.date() {
        z.strftime("%H:%M:%S").to_string()
    } else if (ts - now.as_second()).abs() < 6 * 86_400 {
        z.strftime("%a %H:%M").to_string()
    } else {
        z.strftime("%Y-%m-%d").to_string()
    }
}

/// A full local time with zone, for detail lines: `2026-05-01 14:03:22 CEST`.
pub fn full(ts: UnixTime, tz: &TimeZone) -> String {
    crate::time::local(ts, tz, true)
}

/// The zone's abbreviation at `now` (e.g. `CEST`), for column headers.
pub fn tz_abbrev(tz: &TimeZone, now: Timestamp) -> String {
    tz.to_offset_info(now).abbreviation().to_string()
}

/// Time left as `H:MM:SS` under a day, `3d 04h` beyond.
pub fn countdown(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h:02}h")
    } else {
        format!("{h}:{m:02}:{s:02}")
    }
}

/// Display width of `s` in terminal cells.
pub fn width(s: &str) -> u16 {
    u16::try_from(s.width()).unwrap_or(u16::MAX)
}

/// `s` cut to `w` cells (with `…` when cut) and padded to exactly `w`.
pub fn fit_text(s: &str, w: u16) -> String {
    let w = usize::from(w);
    if s.width() <= w {
        let pad = w - s.width();
        return format!("{s}{}", " ".repeat(pad));
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw > w - 1 {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    used += 1;
    out.push_str(&" ".repeat(w.saturating_sub(used)));
    out
}

/// A table column: how wide it wants to be and how badly it is needed.
#[derive(Debug, Clone)]
pub struct Col {
    /// Header text.
    pub title: String,
    /// Width it would like (its widest cell or title).
    pub want: u16,
    /// Width below which it is dropped rather than squeezed.
    pub min: u16,
    /// Takes what is left over after the fixed columns.
    pub fill: bool,
    /// Lower keeps the column longer when the terminal is narrow.
    pub prio: u8,
}

impl Col {
    /// A column exactly as wide as its widest cell in `cells` (or its title).
    pub fn fixed<'a>(
        title: impl Into<String>,
        prio: u8,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Col {
        let title = title.into();
        let want = cells.into_iter().map(width).fold(width(&title), u16::max);
        Col {
            title,
            want,
            min: want,
            fill: false,
            prio,
        }
    }

    /// A column that shrinks to `min` and grows into leftover space.
    pub fn fill<'a>(
        title: impl Into<String>,
        prio: u8,
        min: u16,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Col {
        let title = title.into();
        let want = cells.into_iter().map(width).fold(width(&title), u16::max);
        Col {
            min: min.min(want),
            title,
            want,
            fill: true,
            prio,
        }
    }
}

/// Widths for `cols` in `total` cells with one space between columns; 0
/// means dropped. Columns are kept in priority order while they fit, so a
/// narrow terminal loses the least important ones instead of wrapping.
pub fn fit(cols: &[Col], total: u16) -> Vec<u16> {
    fit_hiding(cols, total, &[])
}

/// [`fit`], leaving out the columns whose title (letters and digits only,
/// lowercase: `ip▲` is `ip`) is in `hidden`.
pub fn fit_hiding(cols: &[Col], total: u16, hidden: &[String]) -> Vec<u16> {
    let key = |t: &str| -> String {
        t.chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ')
            .collect::<String>()
            .trim()
            .to_lowercase()
    };
    let mut order: Vec<usize> = (0..cols.len())
        .filter(|&i| !hidden.contains(&key(&cols[i].title)))
        .collect();
    order.sort_by_key(|&i| cols[i].prio);
    let mut widths = vec![0u16; cols.len()];
    let mut used: u16 = 0;
    let mut kept = 0;
    for &i in &order {
        let w = cols[i].min.max(1);
        let gap = u16::from(kept > 0);
        if used.saturating_add(w).saturating_add(gap) <= total {
            widths[i] = w;
            used += w + gap;
            kept += 1;
        }
    }
    // Give what is left to the kept fill columns, in priority order, each up
    // to what it wants; then any rest to the first of them so long text
    // (details, option lists) shows as much as possible.
    let mut left = total - used;
    for &i in &order {
        if widths[i] > 0 && cols[i].fill {
            let extra = cols[i].want.saturating_sub(widths[i]).min(left);
            widths[i] += extra;
            left -= extra;
        }
    }
    if let Some(&i) = order.iter().find(|&&i| widths[i] > 0 && cols[i].fill) {
        widths[i] += left;
    }
    widths
}

/// One table line: each kept cell cut or padded to its width, one space apart.
pub fn row<'a>(cells: Vec<(String, Style)>, widths: &[u16]) -> Line<'a> {
    let mut spans = Vec::new();
    for ((text, style), &w) in cells.into_iter().zip(widths) {
        if w == 0 {
            continue;
        }
        if !spans.is_empty() {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(fit_text(&text, w), style));
    }
    Line::from(spans)
}

/// The header line for `cols`.
pub fn header<'a>(cols: &[Col], widths: &[u16], style: Style) -> Line<'a> {
    row(
        cols.iter().map(|c| (c.title.clone(), style)).collect(),
        widths,
    )
}

/// The first row to draw so that row `selected` is visible in `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_forms() {
        assert_eq!(countdown(0), "0:00:00");
        assert_eq!(countdown(-5), "0:00:00");
        assert_eq!(countdown(59), "0:00:59");
        assert_eq!(countdown(3600 + 62), "1:01:02");
        assert_eq!(countdown(86_400 * 3 + 4 * 3600 + 5), "3d 04h");
    }

    #[test]
    fn fit_text_cuts_and_pads() {
        assert_eq!(fit_text("abc", 5), "abc  ");
        assert_eq!(fit_text("abcdef", 4), "abc…");
        assert_eq!(fit_text("abcdef", 0), "");
    }

    #[test]
    fn fit_drops_low_priority_first() {
        let cols = vec![
            Col::fixed("a", 0, ["xxxxxxxxxx"]),
            Col::fixed("b", 2, ["xxxxxxxxxx"]),
            Col::fill("c", 1, 5, ["xxxxxxxxxxxxxxxxxxxx"]),
        ];
        assert_eq!(fit(&cols, 40), vec![10, 10, 18]);
        assert_eq!(fit(&cols, 20), vec![10, 0, 9]);
        assert_eq!(fit(&cols, 10), vec![10, 0, 0]);
    }

    #[test]
    fn when_is_short_near_now() {
        let tz = TimeZone::fixed(jiff::tz::offset(2));
        let now = Timestamp::from_second(1_780_000_000).expect("in range");
        let n = now.as_second();
        assert_eq!(when(n + 60, now, &tz).len(), 8);
        assert!(when(n + 3 * 86_400, now, &tz).contains(' '));
        assert_eq!(when(n + 30 * 86_400, now, &tz).len(), 10);
    }
}
