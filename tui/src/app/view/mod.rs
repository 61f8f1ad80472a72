//! Pure drawing: `view(&Model, &mut Frame, now, tz)`. The clock and the time
//! zone come in as arguments so countdowns and local times are testable.
//!
//! This file lays out the frame (tabs, body, status bar, message line,
//! dialog); each screen draws its own body in its own file, on the shared
//! pieces of `layout` and the styles of `theme`.

mod arrivals;
mod dialogs;
mod hooks;
mod hosts;
mod layout;
mod leases;
mod panels;
mod pools;
mod quarantine;
mod status;
mod theme;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use self::arrivals::arrivals_lines;
use self::dialogs::{draw_confirm, draw_help, draw_promote};
use self::hooks::hooks_lines;
use self::hosts::hosts_lines;
use self::leases::leases_lines;
use self::panels::{draw_explain, draw_history};
use self::pools::pools_lines;
use self::quarantine::quarantine_lines;
use self::status::{message_line, status_line};
use self::theme::Theme;
use crate::app::fmt;
use crate::app::model::{Conn, Dialog, FeedEntry, Model, View};
use crate::app::rows;

/// Draws the whole screen.
pub fn view(m: &Model, f: &mut Frame, now: Timestamp, tz: &TimeZone) {
    let area = f.area();
    let theme = Theme::new(m);
    let msg = message_line(m, theme);
    // A long error (a connect error says what to do) may take up to three
    // lines rather than be cut off.
    let msg_w: u16 = msg.spans.iter().map(|s| fmt::width(&s.content)).sum();
    let msg_h = msg_w.div_ceil(area.width.max(1)).clamp(1, 3);
    let [top, body, status, message] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(msg_h),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(tabs_line(m, top.width, now, tz)), top);
    draw_body(m, f, body, theme, now, tz);
    f.render_widget(
        Paragraph::new(status_line(m, status.width, theme, now)).style(theme.bar()),
        status,
    );
    f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), message);
    match &m.dialog {
        Some(Dialog::Help) => draw_help(f, area),
        Some(Dialog::Promote(form)) => draw_promote(f, area, form, theme),
        Some(Dialog::Confirm(c)) => draw_confirm(f, area, &c.question),
        Some(Dialog::Explain(p)) => draw_explain(f, area, p, theme),
        Some(Dialog::History(p)) => draw_history(f, area, p, theme, now, tz),
        None => {}
    }
}

/// The view tabs on the left, the local clock on the right.
fn tabs_line<'a>(m: &Model, width: u16, now: Timestamp, tz: &TimeZone) -> Line<'a> {
    let tabs = |compact: bool| -> Vec<Span<'a>> {
        View::ALL
            .iter()
            .map(|&v| {
                let (label, style) = if v == m.view {
                    (
                        format!(" {} {} ", v.index() + 1, v.title()),
                        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                    )
                } else if compact {
                    (format!(" {} ", v.index() + 1), Style::default())
                } else {
                    (
                        format!(" {} {} ", v.index() + 1, v.title()),
                        Style::default(),
                    )
                };
                Span::styled(label, style)
            })
            .collect()
    };
    let wide = |spans: &[Span]| spans.iter().map(|s| fmt::width(&s.content)).sum::<u16>();
    let name = Span::styled(" berth ", Style::default().add_modifier(Modifier::BOLD));
    let clock = format!(
        "{} {} ",
        now.to_zoned(tz.clone()).strftime("%H:%M:%S"),
        fmt::tz_abbrev(tz, now)
    );
    let cw = fmt::width(&clock);
    let name_w = fmt::width(&name.content);
    // In order of preference: everything; no name; tabs as numbers but the
    // current one; then the tabs alone, cut.
    let full = tabs(false);
    let compact = tabs(true);
    let (mut spans, with_clock) = if name_w + wide(&full) + cw < width {
        ([vec![name], full].concat(), true)
    } else if wide(&full) + cw < width {
        (full, true)
    } else if name_w + wide(&compact) + cw < width {
        ([vec![name], compact].concat(), true)
    } else if wide(&compact) + cw < width {
        (compact, true)
    } else {
        (compact, false)
    };
    if with_clock {
        let used = wide(&spans);
        spans.push(Span::raw(" ".repeat(usize::from(width - used - cw))));
        spans.push(Span::raw(clock));
    }
    Line::from(spans)
}

fn draw_body(m: &Model, f: &mut Frame, area: Rect, t: Theme, now: Timestamp, tz: &TimeZone) {
    let count = rows::row_count(m, m.view);
    let total = match m.view {
        View::Arrivals => m.feed.len(),
        View::Leases => m.leases.len(),
        View::Hosts => m.hosts.len(),
        View::Pools => m.pools.len(),
        View::Quarantine => m.quarantine.len(),
        View::Hooks => m
            .feed
            .iter()
            .filter(|i| matches!(&i.entry, FeedEntry::Event(e) if rows::is_hook_outcome(e.kind)))
            .count(),
    };
    let mut title = format!(" {} ", m.view.title());
    if count == total {
        title.push_str(&format!("{count} "));
    } else {
        title.push_str(&format!("{count} of {total} "));
    }
    if m.view == View::Leases {
        let arrow = if m.sort_desc { "▼" } else { "▲" };
        title.push_str(&format!("· sort {}{arrow} ", m.sort.name()));
        if let Some(load) = &m.lease_load {
            title.push_str(&format!("· loading {}/{} ", load.received, load.total));
        }
    }
    if !m.filter.is_empty() {
        title.push_str(&format!("· filter \"{}\" ", m.filter));
    }
    let mut block = Block::default()
        .borders(Borders::TOP)
        .title_top(Line::from(Span::styled(title, t.header())));
    if m.stale {
        let since = match m.conn {
            Conn::Reconnecting { since, .. } => format!(" since {}", fmt::when(since, now, tz)),
            _ => String::new(),
        };
        block = block.title_top(
            Line::from(Span::styled(format!(" STALE: not live{since} "), t.alarm()))
                .right_aligned(),
        );
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if !m.loaded && count == 0 {
        // The error itself is in the message line below.
        let text = format!("no data yet: waiting for berthd at {}…", m.socket);
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .style(t.muted()),
            inner,
        );
        return;
    }
    let lines = match m.view {
        View::Arrivals => arrivals_lines(m, inner, t, now, tz),
        View::Leases => leases_lines(m, inner, t, now, tz),
        View::Hosts => hosts_lines(m, inner, t, now, tz),
        View::Pools => pools_lines(m, inner, t, now, tz),
        View::Quarantine => quarantine_lines(m, inner, t, now, tz),
        View::Hooks => hooks_lines(m, inner, t, now, tz),
    };
    f.render_widget(Paragraph::new(lines), inner);
}
