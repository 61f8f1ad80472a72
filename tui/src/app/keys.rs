//! Keys: quitting, views, moving the selection, the filter, and the open
//! dialog's keys; the keys that act are in `lease_keys`, `pool_keys` and
//! `inspect`.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::inspect::{on_panel_key, start_explain, start_history};
use super::lease_keys::{on_promote_key, start_block, start_promote, start_release};
use super::model::{Command, Dialog, Level, Model, View};
use super::notice::{check_live, notify};
use super::pool_keys::{start_clear, start_sweep};
use super::rows;

/// Rows a PageUp/PageDown moves.
const PAGE: usize = 10;

/// A key: to the open dialog, to the filter being edited, or to the views.
pub(super) fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    // Terminals that report releases and repeats would act twice otherwise.
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // Ctrl-C always leaves, whatever is open.
    if ctrl && key.code == KeyCode::Char('c') {
        return vec![Command::Quit];
    }
    if let Some(dialog) = model.dialog.take() {
        return on_dialog_key(model, dialog, key);
    }
    if model.filter_editing {
        on_filter_key(model, key);
        return Vec::new();
    }
    match key.code {
        KeyCode::Char('q') => return vec![Command::Quit],
        KeyCode::Char('r') if ctrl => return vec![Command::Refresh],
        KeyCode::F(5) => return vec![Command::Refresh],
        KeyCode::Char('?') => model.dialog = Some(Dialog::Help),
        KeyCode::Tab => switch(model, (model.view.index() + 1) % View::ALL.len()),
        KeyCode::BackTab => switch(
            model,
            (model.view.index() + View::ALL.len() - 1) % View::ALL.len(),
        ),
        KeyCode::Char(c @ '1'..='6') => {
            switch(model, usize::from(c as u8 - b'1'));
        }
        KeyCode::Up | KeyCode::Char('k') => move_by(model, -1),
        KeyCode::Down | KeyCode::Char('j') => move_by(model, 1),
        KeyCode::PageUp => move_by(model, -(PAGE as isize)),
        KeyCode::PageDown => move_by(model, PAGE as isize),
        KeyCode::Home | KeyCode::Char('g') => move_by(model, isize::MIN / 2),
        KeyCode::End | KeyCode::Char('G') => move_by(model, isize::MAX / 2),
        KeyCode::Char('/') => model.filter_editing = true,
        KeyCode::Esc => {
            if model.filter.is_empty() {
                model.notice = None;
            } else {
                model.filter.clear();
            }
        }
        KeyCode::Char('s') => {
            model.sort = model.sort.next();
            if model.view != View::Leases {
                notify(
                    model,
                    Level::Info,
                    format!("leases now sorted by {}", model.sort.name()),
                );
            }
        }
        KeyCode::Char('S') => model.sort_desc = !model.sort_desc,
        KeyCode::Char('p') => start_promote(model),
        KeyCode::Char('r') => start_release(model),
        KeyCode::Char('b') => start_block(model),
        KeyCode::Char('e') => return start_explain(model),
        KeyCode::Enter => return start_history(model),
        KeyCode::Char('c') => start_clear(model),
        KeyCode::Char('w') => return start_sweep(model),
        _ => {}
    }
    Vec::new()
}

fn switch(model: &mut Model, index: usize) {
    if let Some(v) = View::ALL.get(index) {
        model.view = *v;
    }
}

/// Moves the cursor of the current view by `delta` rows, clamped.
fn move_by(model: &mut Model, delta: isize) {
    let n = rows::row_count(model, model.view);
    if n == 0 {
        return;
    }
    let cur = rows::selected_index(model, model.view) as isize;
    let new = (cur.saturating_add(delta)).clamp(0, n as isize - 1) as usize;
    match model.view {
        View::Arrivals => {
            // Back at the top means "follow the newest" again.
            model.sel_feed = if new == 0 {
                None
            } else {
                rows::feed(model).get(new).map(|i| i.id)
            };
        }
        View::Leases => {
            model.sel_lease = rows::leases(model).get(new).map(|l| (l.ip, l.mac.clone()));
        }
        View::Hosts => model.sel_host = rows::hosts(model).get(new).map(|h| h.name.clone()),
        View::Pools => model.sel_pool = rows::pools(model).get(new).map(|p| p.start),
        View::Quarantine => {
            model.sel_quarantine = rows::quarantine(model).get(new).map(|q| q.ip);
        }
        View::Hooks => {
            model.sel_hook = if new == 0 {
                None
            } else {
                rows::hooks(model).get(new).map(|i| i.id)
            };
        }
    }
}

fn on_filter_key(model: &mut Model, key: KeyEvent) {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            model.filter.clear();
            model.filter_editing = false;
        }
        KeyCode::Enter => model.filter_editing = false,
        KeyCode::Backspace => {
            model.filter.pop();
        }
        KeyCode::Char('u') if ctrl => model.filter.clear(),
        KeyCode::Char(c) if !ctrl => model.filter.push(c),
        _ => {}
    }
}

fn on_dialog_key(model: &mut Model, dialog: Dialog, key: KeyEvent) -> Vec<Command> {
    match dialog {
        // Any other key closes them.
        Dialog::Explain(mut p) => {
            if on_panel_key(key, &mut p.scroll) {
                model.dialog = Some(Dialog::Explain(p));
            }
            Vec::new()
        }
        Dialog::History(mut p) => {
            if on_panel_key(key, &mut p.scroll) {
                model.dialog = Some(Dialog::History(p));
            }
            Vec::new()
        }
        // Any key closes the help.
        Dialog::Help => Vec::new(),
        Dialog::Confirm(c) => match key.code {
            KeyCode::Enter | KeyCode::Char('y') => {
                if !check_live(model) {
                    return Vec::new();
                }
                notify(model, Level::Info, "working…");
                vec![c.command]
            }
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => Vec::new(),
            _ => {
                model.dialog = Some(Dialog::Confirm(c));
                Vec::new()
            }
        },
        Dialog::Promote(form) => on_promote_key(model, form, key),
    }
}
