//! Styles: colour or NO_COLOR emphasis, and the stale look.

use berth_proto::LeaseKind;
use ratatui::style::{Color, Modifier, Style};

use crate::app::model::Model;

/// Styles, honouring NO_COLOR (emphasis by bold and reverse only) and
/// greying everything out while the data is stale.
#[derive(Debug, Clone, Copy)]
pub(super) struct Theme {
    color: bool,
    stale: bool,
}

impl Theme {
    pub(super) fn new(m: &Model) -> Theme {
        Theme {
            color: m.color,
            stale: m.stale,
        }
    }

    /// Applies the stale look on top of `s`.
    pub(super) fn data(self, s: Style) -> Style {
        if !self.stale {
            s
        } else if self.color {
            s.fg(Color::DarkGray)
        } else {
            s.add_modifier(Modifier::DIM)
        }
    }

    pub(super) fn plain(self) -> Style {
        self.data(Style::default())
    }

    pub(super) fn fg(self, c: Color) -> Style {
        if self.color {
            self.data(Style::default().fg(c))
        } else {
            self.plain()
        }
    }

    pub(super) fn header(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// A client nobody knows yet: what the operator is watching for.
    pub(super) fn new_client(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        self.data(if self.color { s.fg(Color::Yellow) } else { s })
    }

    pub(super) fn failure(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        self.data(if self.color { s.fg(Color::Red) } else { s })
    }

    pub(super) fn muted(self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub(super) fn kind(self, k: LeaseKind) -> Style {
        match k {
            LeaseKind::Static => self.fg(Color::Green),
            LeaseKind::Dynamic => self.plain(),
            LeaseKind::Moving => {
                let s = Style::default().add_modifier(Modifier::BOLD);
                self.data(if self.color { s.fg(Color::Cyan) } else { s })
            }
            LeaseKind::Quarantined => self.fg(Color::Magenta),
            LeaseKind::Observed => self.fg(Color::Yellow),
        }
    }

    pub(super) fn error(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color { s.fg(Color::Red) } else { s }
    }

    pub(super) fn bar(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub(super) fn alarm(self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }

    pub(super) fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}
