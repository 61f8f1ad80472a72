//! The message line: what the TUI tells the operator, and the refusal to
//! change things from stale data.

use super::model::{Level, Model, Notice};
use crate::text::make_printable;

/// Shows `text` on the message line (made printable first).
pub(super) fn notify(model: &mut Model, level: Level, text: impl Into<String>) {
    // The daemon's messages may quote client-supplied names.
    let mut text = text.into();
    make_printable(&mut text);
    model.notice = Some(Notice { level, text });
}

/// Refuses changes made from data that may be out of date.
pub(super) fn check_live(model: &mut Model) -> bool {
    if model.live() {
        return true;
    }
    notify(
        model,
        Level::Error,
        "not connected: the data shown may be stale; wait for the reconnect",
    );
    false
}
