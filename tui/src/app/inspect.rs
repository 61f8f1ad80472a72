//! The read-only windows about one client: `e` asks the daemon's `explain`
//! (with what the feed knows the client sends, so a phone is explained with
//! its vendor class) and `Enter` its events from the daemon's buffer. Both
//! open at once, "loading", and fill when the worker answers.

use berth_proto::ExplainRequest;
use crossterm::event::{KeyCode, KeyEvent};

use super::lease_keys::target_mac;
use super::model::{Command, Dialog, FeedEntry, Level, Model, Panel, View};
use super::notice::notify;
use super::rows;
use crate::text::{make_printable, make_printable_opt};

/// Rows a PageUp/PageDown scrolls.
const PAGE: usize = 10;

/// The client `e` and `Enter` are about on the current view: the selected
/// lease's, event's, host's or quarantine's MAC.
pub fn client_mac(model: &Model) -> Option<String> {
    match model.view {
        View::Leases | View::Arrivals => target_mac(model),
        View::Hosts => {
            let rows = rows::hosts(model);
            rows.get(rows::selected_index(model, View::Hosts))?
                .mac
                .clone()
        }
        View::Quarantine => {
            let rows = rows::quarantine(model);
            rows.get(rows::selected_index(model, View::Quarantine))?
                .mac
                .clone()
        }
        View::Hooks => {
            let rows = rows::hooks(model);
            match &rows.get(rows::selected_index(model, View::Hooks))?.entry {
                FeedEntry::Event(e) => e.mac.clone(),
                FeedEntry::Note { .. } => None,
            }
        }
        View::Pools => None,
    }
}

/// What the daemon knows of a client beyond its MAC, from the feed (the
/// newest event that says) and its lease: so `e` on a phone explains it with
/// the vendor class it really sends.
fn explain_request(model: &Model, mac: &str) -> ExplainRequest {
    let events = || {
        model.feed.iter().filter_map(|i| match &i.entry {
            FeedEntry::Event(e) if e.mac.as_deref() == Some(mac) => Some(e),
            _ => None,
        })
    };
    let hostname = model
        .leases
        .iter()
        .find(|l| l.mac == mac && l.hostname.is_some())
        .and_then(|l| l.hostname.clone())
        .or_else(|| events().find_map(|e| e.hostname.clone()));
    ExplainRequest {
        mac: mac.to_string(),
        vendor_class: events().find_map(|e| e.vendor_class.clone()),
        hostname,
        interface: events().find_map(|e| e.interface.clone()),
        ..ExplainRequest::default()
    }
}

fn no_client(model: &mut Model, what: &str) {
    let text = match model.view {
        View::Pools => format!("{what} works on a client: a lease, host, arrival or hook"),
        _ => format!("{what}: nothing selected, or it has no MAC"),
    };
    notify(model, Level::Error, text);
}

pub(super) fn start_explain(model: &mut Model) -> Vec<Command> {
    let Some(mac) = client_mac(model) else {
        no_client(model, "e (explain)");
        return Vec::new();
    };
    let req = explain_request(model, &mac);
    model.dialog = Some(Dialog::Explain(Panel {
        mac,
        data: None,
        scroll: 0,
    }));
    vec![Command::Explain(req)]
}

pub(super) fn start_history(model: &mut Model) -> Vec<Command> {
    let Some(mac) = client_mac(model) else {
        no_client(model, "Enter (history)");
        return Vec::new();
    };
    model.dialog = Some(Dialog::History(Panel {
        mac: mac.clone(),
        data: None,
        scroll: 0,
    }));
    vec![Command::History { mac }]
}

/// Keys on the explain and history windows: scroll, or close.
pub(super) fn on_panel_key(key: KeyEvent, scroll: &mut usize) -> bool {
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
        KeyCode::PageDown => *scroll = scroll.saturating_add(PAGE),
        KeyCode::PageUp => *scroll = scroll.saturating_sub(PAGE),
        KeyCode::Home | KeyCode::Char('g') => *scroll = 0,
        _ => return false,
    }
    true
}

pub(super) fn printable_explanation(mut e: berth_proto::Explanation) -> berth_proto::Explanation {
    make_printable_opt(&mut e.host);
    make_printable_opt(&mut e.filename);
    make_printable_opt(&mut e.server_name);
    e.classes.iter_mut().for_each(make_printable);
    for o in &mut e.options {
        make_printable(&mut o.name);
        make_printable(&mut o.value);
        make_printable(&mut o.space);
    }
    e
}
