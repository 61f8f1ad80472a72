//! The windows about one client: what `explain` says it would get (`e`),
//! and its events, newest first (`Enter`).

use berth_proto::{Event, Explanation};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::layout::centred;
use super::theme::Theme;
use crate::app::fmt;
use crate::app::model::Panel;

const HINT: &str = " j/k scroll · any other key closes";

/// A bordered window of `lines` scrolled by `scroll`, as large as needed up
/// to the screen.
fn draw_panel(f: &mut Frame, area: Rect, title: String, body: Vec<Line<'_>>, scroll: usize) {
    let w = area.width.saturating_sub(4).min(90);
    let inner_h = usize::from(area.height.saturating_sub(4)).max(1);
    let mut lines: Vec<Line> = body;
    // Scroll no further than the last page.
    let max = lines.len().saturating_sub(inner_h.saturating_sub(1));
    let skip = scroll.min(max);
    lines.drain(..skip);
    lines.truncate(inner_h.saturating_sub(1));
    lines.push(Line::from(Span::styled(
        HINT,
        Style::default().add_modifier(Modifier::DIM),
    )));
    let h = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let rect = centred(area, w, h);
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| {
            // Cut rather than wrap, so the scroll counts lines.
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            let style = l.spans.first().map(|s| s.style).unwrap_or_default();
            Line::from(Span::styled(
                fmt::fit_text(&text, w.saturating_sub(2)),
                style,
            ))
        })
        .collect();
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        rect,
    );
}

fn kv<'a>(key: &str, value: impl Into<String>) -> Line<'a> {
    Line::from(format!(" {key:<12}{}", value.into()))
}

/// The explain window's lines.
fn explain_body<'a>(e: &Explanation, t: Theme) -> Vec<Line<'a>> {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    let mut out = vec![
        Line::from(Span::styled(format!(" {}", e.outcome), t.header())),
        kv("host", or_dash(&e.host)),
        kv("subnet", or_dash(&e.subnet)),
        kv("range", or_dash(&e.range)),
        kv(
            "classes",
            if e.classes.is_empty() {
                "-".to_string()
            } else {
                e.classes.join(", ")
            },
        ),
        kv("interface", e.interface.clone()),
    ];
    if let Some(a) = e.next_server {
        out.push(kv("next-server", a.to_string()));
    }
    if let Some(fname) = &e.filename {
        out.push(kv("boot file", fname.clone()));
    }
    if let Some(s) = &e.server_name {
        out.push(kv("server name", s.clone()));
    }
    out.push(Line::default());
    if e.options.is_empty() {
        out.push(Line::from(Span::styled(" no options", t.muted())));
        return out;
    }
    let name_w = e
        .options
        .iter()
        .map(|o| fmt::width(&option_name(o)))
        .max()
        .unwrap_or(0)
        .max(6);
    let value_w = e
        .options
        .iter()
        .map(|o| fmt::width(&o.value))
        .max()
        .unwrap_or(0)
        .clamp(5, 40);
    out.push(Line::from(Span::styled(
        format!(
            " {:<nw$}  {:<vw$}  {}",
            "Option",
            "Value",
            "Scope",
            nw = usize::from(name_w),
            vw = usize::from(value_w)
        ),
        t.header(),
    )));
    for o in &e.options {
        out.push(Line::from(format!(
            " {:<nw$}  {:<vw$}  {}",
            option_name(o),
            fmt::fit_text(&o.value, value_w),
            o.source,
            nw = usize::from(name_w),
            vw = usize::from(value_w)
        )));
    }
    out
}

/// `name (code)`, with the vendor space for a sub-option of option 43.
fn option_name(o: &berth_proto::ExplainedOption) -> String {
    if o.space == "dhcp" {
        format!("{} ({})", o.name, o.code)
    } else {
        format!("{}.{} ({})", o.space, o.name, o.code)
    }
}

pub(super) fn draw_explain(f: &mut Frame, area: Rect, p: &Panel<Explanation>, t: Theme) {
    let body = match &p.data {
        None => vec![Line::from(Span::styled(" asking berthd…", t.muted()))],
        Some(Err(e)) => vec![Line::from(Span::styled(
            format!(" explain failed: {e}"),
            t.error(),
        ))],
        Some(Ok(e)) => explain_body(e, t),
    };
    draw_panel(f, area, format!(" Explain {} ", p.mac), body, p.scroll);
}

/// One history line: time, what, where, detail.
fn history_line<'a>(e: &Event, now: Timestamp, tz: &TimeZone, t: Theme) -> Line<'a> {
    let mut text = format!(" {:<8} {:<12}", fmt::when(e.at, now, tz), e.kind.as_str());
    if let Some(ip) = e.ip {
        text.push_str(&format!(" {ip:<15}"));
    }
    if let Some(h) = &e.hostname {
        text.push_str(&format!(" {h}"));
    }
    if let Some(v) = &e.vendor_class {
        text.push_str(&format!(" [{v}]"));
    }
    if !e.detail.is_empty() {
        text.push_str(&format!(" · {}", e.detail));
    }
    let style = if e.ok { t.plain() } else { t.failure() };
    Line::from(Span::styled(text, style))
}

pub(super) fn draw_history(
    f: &mut Frame,
    area: Rect,
    p: &Panel<Vec<Event>>,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) {
    let body = match &p.data {
        None => vec![Line::from(Span::styled(" reading events…", t.muted()))],
        Some(Err(e)) => vec![Line::from(Span::styled(
            format!(" cannot read events: {e}"),
            t.error(),
        ))],
        Some(Ok(evs)) if evs.is_empty() => vec![Line::from(Span::styled(
            " no events of this client in berthd's buffer",
            t.muted(),
        ))],
        Some(Ok(evs)) => evs.iter().map(|e| history_line(e, now, tz, t)).collect(),
    };
    let n = match &p.data {
        Some(Ok(evs)) => format!(" · {} events, newest first ", evs.len()),
        _ => " ".to_string(),
    };
    draw_panel(f, area, format!(" History of {}{n}", p.mac), body, p.scroll);
}
