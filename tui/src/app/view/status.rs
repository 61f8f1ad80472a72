//! The status bar and the message line under it.

use jiff::Timestamp;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::app::fmt;
use crate::app::model::{Conn, Level, Model};

/// Connection, daemon version, counts and socket, dropping from the right
/// when narrow.
pub(super) fn status_line<'a>(m: &Model, width: u16, t: Theme, now: Timestamp) -> Line<'a> {
    let (conn, alarm) = match &m.conn {
        Conn::Connected if m.live() => ("connected".to_string(), false),
        Conn::Connected => ("connected, loading…".to_string(), false),
        Conn::Connecting { attempt } if *attempt <= 1 => ("connecting…".to_string(), false),
        Conn::Connecting { attempt } => (format!("connecting (try {attempt})…"), false),
        Conn::Reconnecting { retry_at, .. } => {
            let left = retry_at - now.as_second();
            if left > 0 {
                (format!("RECONNECTING in {left}s"), true)
            } else {
                ("RECONNECTING…".to_string(), true)
            }
        }
    };
    let mut parts: Vec<(String, Style)> =
        vec![(format!(" {conn} "), if alarm { t.alarm() } else { t.bar() })];
    let socket = (format!(" {} ", m.socket), t.bar());
    if !m.live() {
        // While down, which socket is being tried matters more than counts
        // that may be out of date.
        parts.push(socket.clone());
    }
    if let Some(s) = &m.status {
        parts.push((format!(" berthd {} ", s.version), t.bar()));
        if m.live() {
            parts.push((
                format!(
                    " {}/{} leases bound · {}+{} hosts · {} blocked ",
                    s.leases_bound, s.leases_total, s.hosts_config, s.hosts_store, s.blocked
                ),
                t.bar(),
            ));
        }
    }
    if m.live() {
        parts.push(socket);
    }
    let mut spans = Vec::new();
    let mut used = 0u16;
    for (text, style) in parts {
        let sep = u16::from(!spans.is_empty());
        let w = fmt::width(&text);
        if used + sep + w > width {
            if spans.is_empty() {
                // Even the connection state must show, cut if need be.
                spans.push(Span::styled(fmt::fit_text(&text, width), style));
            }
            break;
        }
        if sep == 1 {
            spans.push(Span::styled("│", t.bar()));
        }
        spans.push(Span::styled(text, style));
        used += sep + w;
    }
    Line::from(spans)
}

/// The bottom line: the filter being typed, else the last message, else the
/// connection error, else key hints.
pub(super) fn message_line<'a>(m: &Model, t: Theme) -> Line<'a> {
    if m.filter_editing {
        return Line::from(vec![
            Span::styled("/", t.header()),
            Span::raw(m.filter.clone()),
            Span::styled("█", Style::default()),
            Span::styled(
                "  Enter keeps · Esc clears",
                Style::default().add_modifier(Modifier::DIM),
            ),
        ]);
    }
    if let Some(n) = &m.notice {
        let style = match n.level {
            Level::Error => t.error(),
            Level::Info => Style::default(),
        };
        return Line::from(Span::styled(n.text.clone(), style));
    }
    if let Conn::Reconnecting { error, .. } = &m.conn {
        return Line::from(Span::styled(format!("last error: {error}"), t.error()));
    }
    Line::from(Span::styled(
        "? keys · q quit · / filter · s sort · p promote · r release · b block",
        Style::default().add_modifier(Modifier::DIM),
    ))
}
