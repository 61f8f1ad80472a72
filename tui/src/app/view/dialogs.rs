//! Dialogs drawn over the screen: help, promote, confirm.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Wrap};

use super::layout::centred;
use super::theme::Theme;
use crate::app::fmt;
use crate::app::model::{PromoteField, PromoteForm};

const HELP: &[(&str, &str)] = &[
    ("1-6 Tab S-Tab", "switch view"),
    ("↑ ↓ j k", "move"),
    ("PgUp PgDn g G", "page, top, bottom"),
    ("/", "filter (Enter keeps, Esc clears)"),
    ("Esc", "clear filter or message"),
    ("s  S", "sort leases: next column, reverse"),
    ("p", "promote a dynamic lease to static"),
    ("r", "release the lease"),
    ("b", "block the MAC"),
    ("e", "explain: what the client would get"),
    ("Enter", "the client's history, newest first"),
    ("w", "sweep the selected range (Pools)"),
    ("c", "clear the selected quarantine"),
    ("F5 Ctrl-R", "reload now"),
    ("?", "this help (any key closes)"),
    ("q Ctrl-C", "quit"),
];

pub(super) fn draw_help(f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<14}"),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(" Arrivals: NEW = unknown client, ! = failure."));
    lines.push(Line::from(" p r b also act on the selected arrival."));
    lines.push(Line::from(" Times are local (TZ); STALE = not live."));
    let h = u16::try_from(lines.len()).unwrap_or(u16::MAX) + 2;
    let rect = centred(area, 54, h);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys ")),
        rect,
    );
}

pub(super) fn draw_promote(f: &mut Frame, area: Rect, form: &PromoteForm, t: Theme) {
    let rect = centred(area, 56, 9);
    let field = |label: &str, value: &str, focused: bool| {
        let mut spans = vec![Span::raw(format!(" {label:<10}"))];
        if focused {
            spans.push(Span::styled(
                format!("{value}█"),
                Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ));
        } else {
            spans.push(Span::styled(
                value.to_string(),
                Style::default().add_modifier(Modifier::UNDERLINED),
            ));
        }
        Line::from(spans)
    };
    let mut lines = vec![
        Line::from(format!(" {:<10}{}", "MAC", form.mac)),
        Line::from(format!(" {:<10}{} (dynamic)", "now at", form.current_ip)),
        field("static IP", &form.ip, form.focus == PromoteField::Ip),
        field(
            "hostname",
            &form.hostname,
            form.focus == PromoteField::Hostname,
        ),
        Line::default(),
    ];
    match &form.error {
        Some(e) => lines.push(Line::from(Span::styled(format!(" {e}"), t.error()))),
        None => lines.push(Line::default()),
    }
    lines.push(Line::from(Span::styled(
        " Enter promote · Tab next field · Esc cancel",
        Style::default().add_modifier(Modifier::DIM),
    )));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Promote to static host ")),
        rect,
    );
}

pub(super) fn draw_confirm(f: &mut Frame, area: Rect, question: &str) {
    let w = 54u16.min(area.width);
    // Borders and padding take four columns; the question wraps in the rest.
    let inner_w = w.saturating_sub(4).max(1);
    let rect = centred(area, w, fmt::width(question).div_ceil(inner_w) + 5);
    let lines = vec![
        Line::from(question.to_string()),
        Line::default(),
        Line::from(Span::styled(
            "Enter/y confirm · Esc/n cancel",
            Style::default().add_modifier(Modifier::DIM),
        )),
    ];
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::bordered()
                .title(" Confirm ")
                .padding(Padding::horizontal(1)),
        ),
        rect,
    );
}
