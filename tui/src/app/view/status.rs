//! The status bar and the message line under it.

use jiff::Timestamp;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::app::fmt;
use berth_proto::EventKind;

use crate::app::model::{Conn, FeedEntry, Level, Model};
use crate::app::rows;

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
    // What needs the operator comes right after the connection, so a
    // narrow bar drops it last.
    if m.live() {
        parts.extend(alarms(m).into_iter().map(|a| (a, t.alarm())));
    }
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
        parts.extend(health(m, now).into_iter().map(|h| (h, t.bar())));
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

/// Alarms: a failing store, a failing hook.
fn alarms(m: &Model) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = &m.status
        && !s.store_health.ok
    {
        out.push(format!(
            " STORE FAILING · {} pending ",
            s.store_health.pending_writes
        ));
    }
    // The newest hook outcome decides: a hook that failed once and then
    // worked again is no longer an alarm.
    let newest = m.feed.iter().find_map(|i| match &i.entry {
        FeedEntry::Event(e) if rows::is_hook_outcome(e.kind) => Some(e),
        _ => None,
    });
    if let Some(e) = newest
        && !e.ok
    {
        let what = match e.kind {
            EventKind::WebhookDropped => "WEBHOOK DROPPED",
            _ if e.detail.starts_with("webhook ") => "WEBHOOK FAILING",
            _ => "HOOK FAILED",
        };
        out.push(format!(" {what} "));
    }
    out
}

/// Store health, ARP, flood limit: the daemon's state in a few words.
fn health(m: &Model, now: Timestamp) -> Vec<String> {
    let Some(s) = &m.status else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if s.store_health.ok {
        let last = match s.store_health.last_ok {
            Some(t) => format!("last commit {} ago", ago(now.as_second() - t)),
            None => "no commit yet".to_string(),
        };
        let pending = match s.store_health.pending_writes {
            0 => String::new(),
            n => format!(" · {n} pending"),
        };
        out.push(format!(" store ok, {last}{pending} "));
    }
    let arp = if !s.arp.enabled {
        "sweeps off · probes off".to_string()
    } else {
        format!(
            "sweeps {} · probes {}",
            if s.arp.sweep_interval_secs.is_some() {
                "on"
            } else {
                "manual"
            },
            if s.arp.probe_timeout_ms.is_some() {
                "on"
            } else {
                "off"
            }
        )
    };
    out.push(format!(" {arp} "));
    if s.rate_limited_clients > 0 {
        out.push(format!(" {} rate-limited ", s.rate_limited_clients));
    }
    out
}

/// `5s`, `3m`, `2h`, `4d`: how long ago, in its largest unit.
fn ago(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
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
