//! Pure drawing: `view(&Model, &mut Frame, now, tz)`. The clock and the time
//! zone come in as arguments so countdowns and local times are testable.
//!
//! This file lays out the frame (tabs, body, status bar, message line,
//! dialog); each screen draws its own body in its own file, on the shared
//! pieces of `layout` and the styles of `theme`.

mod arrivals;
mod dialogs;
mod hosts;
mod layout;
mod leases;
mod pools;
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
use self::hosts::hosts_lines;
use self::leases::leases_lines;
use self::pools::pools_lines;
use self::status::{message_line, status_line};
use self::theme::Theme;
use crate::app::fmt;
use crate::app::model::{Conn, Dialog, Model, View};
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
        None => {}
    }
}

/// The view tabs on the left, the local clock on the right.
fn tabs_line<'a>(m: &Model, width: u16, now: Timestamp, tz: &TimeZone) -> Line<'a> {
    let mut spans = vec![Span::styled(
        " berth ",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    for v in View::ALL {
        let label = format!(" {} {} ", v.index() + 1, v.title());
        let style = if v == m.view {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::styled(label, style));
    }
    let used: u16 = spans.iter().map(|s| fmt::width(&s.content)).sum();
    let clock = format!(
        "{} {} ",
        now.to_zoned(tz.clone()).strftime("%H:%M:%S"),
        fmt::tz_abbrev(tz, now)
    );
    let cw = fmt::width(&clock);
    if used + cw < width {
        spans.push(Span::raw(" ".repeat(usize::from(width - used - cw))));
        spans.push(Span::raw(clock));
    } else if used > width {
        // Too narrow for the name too: the tabs matter more.
        spans.remove(0);
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
        View::Pools => pools_lines(m, inner, t),
    };
    f.render_widget(Paragraph::new(lines), inner);
}
