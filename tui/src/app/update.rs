//! The pure update function: `(model, msg) -> commands`. No I/O, no clock:
//! anything time-dependent arrives inside the message.
//!
//! Reports from the worker are applied here; keys go to `keys`.

use berth_proto::{ApiError, ErrorKind, LeaseInfo};

use super::inspect::printable_explanation;
use super::keys::on_key;
use super::model::{
    Command, Conn, Dialog, FEED_CAP, FeedEntry, FeedItem, LeaseLoad, Level, Model, Msg,
};
use super::notice::notify;
use crate::text::{make_printable, make_printable_opt};

/// The lease an action applies to (kept at this path for callers).
pub use super::lease_keys::target_lease;

/// Applies `msg` to `model` and returns what the runtime should do.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Command> {
    match msg {
        Msg::Key(key) => on_key(model, key),
        Msg::Connecting { attempt } => {
            // Once a connection failed, keep saying "reconnecting" with the
            // last error until something succeeds: a new attempt alone is no news.
            if !matches!(model.conn, Conn::Reconnecting { .. }) {
                model.conn = Conn::Connecting { attempt };
            }
            Vec::new()
        }
        Msg::Connected => {
            let was_down = matches!(model.conn, Conn::Reconnecting { .. });
            model.conn = Conn::Connected;
            if was_down && model.loaded {
                notify(model, Level::Info, "reconnected; reloading");
            }
            Vec::new()
        }
        Msg::Disconnected {
            error,
            retry_in,
            at,
        } => {
            let since = match model.conn {
                Conn::Reconnecting { since, .. } => since,
                _ => {
                    // Newly down: the connection error is the news now, and
                    // the message line shows it once older notices are gone.
                    model.notice = None;
                    at
                }
            };
            let secs = i64::try_from(retry_in.as_millis().div_ceil(1000)).unwrap_or(i64::MAX);
            model.conn = Conn::Reconnecting {
                error,
                retry_at: at.saturating_add(secs),
                since,
            };
            if model.loaded {
                model.stale = true;
            }
            Vec::new()
        }
        Msg::Snapshot(snap) => {
            if let Some(s) = snap.status {
                model.status = Some(s);
            }
            if let Some(mut l) = snap.leases {
                l.iter_mut().for_each(printable_lease);
                model.leases.replace_all(l);
                model.lease_load = None;
            }
            if let Some(mut h) = snap.hosts {
                h.iter_mut().for_each(printable_host);
                model.hosts = h;
            }
            if let Some(p) = snap.pools {
                model.pools = p;
            }
            if let Some(q) = snap.quarantine {
                model.quarantine = q;
            }
            model.loaded = true;
            model.stale = false;
            Vec::new()
        }
        Msg::Events {
            events,
            missed,
            restarted,
        } => {
            if restarted {
                push_note(model, "daemon restarted: sequence numbers start over");
            }
            if missed {
                push_note(model, "fell behind: some events were lost; views reloaded");
            }
            for mut e in events {
                printable_event(&mut e);
                push_feed(model, FeedEntry::Event(e));
            }
            Vec::new()
        }
        Msg::LeasesPage {
            first,
            mut items,
            total,
            done,
        } => {
            items.iter_mut().for_each(printable_lease);
            on_leases_page(model, first, items, total, done);
            Vec::new()
        }
        Msg::LeasesChanged {
            from,
            to,
            mut items,
        } => {
            items.iter_mut().for_each(printable_lease);
            model.leases.replace_range(from, to, items);
            Vec::new()
        }
        Msg::LeasesOfMac { mac, mut items } => {
            items.iter_mut().for_each(printable_lease);
            model.leases.replace_mac(&mac, items);
            Vec::new()
        }
        Msg::ReadFailed { what, error } => {
            let text = match error.kind {
                ErrorKind::PermissionDenied => {
                    format!("cannot read {what}: permission denied ({})", error.message)
                }
                _ => format!("cannot read {what}: {}", error.message),
            };
            notify(model, Level::Error, text);
            Vec::new()
        }
        Msg::Explained { mac, result } => {
            if let Some(Dialog::Explain(p)) = &mut model.dialog
                && p.mac == mac
            {
                p.data = Some((*result).map(printable_explanation).map_err(|e| e.message));
            }
            Vec::new()
        }
        Msg::History { mac, result } => {
            if let Some(Dialog::History(p)) = &mut model.dialog
                && p.mac == mac
            {
                p.data = Some(
                    result
                        .map(|mut evs| {
                            evs.iter_mut().for_each(printable_event);
                            // Newest first, like the feed.
                            evs.reverse();
                            evs
                        })
                        .map_err(|e| e.message),
                );
            }
            Vec::new()
        }
        Msg::ActionDone { what, result } => {
            match result {
                Ok(text) => notify(model, Level::Info, text),
                Err(e) => {
                    let text = action_error(&what, &e);
                    notify(model, Level::Error, text);
                }
            }
            Vec::new()
        }
    }
}

/// A page of a full lease load. The first load shows each page as it
/// comes; a reload keeps the old copy on screen until it is complete.
fn on_leases_page(model: &mut Model, first: bool, items: Vec<LeaseInfo>, total: u64, done: bool) {
    let received = items.len() as u64;
    if first {
        let had = !model.leases.is_empty();
        model.lease_load = Some(LeaseLoad {
            received: 0,
            total,
            staged: had.then(Vec::new),
        });
        if !had {
            model.leases.replace_all(Vec::new());
        }
    }
    let Some(load) = model.lease_load.as_mut() else {
        // A page of a load this model never saw start: take it as news.
        model.leases.extend(items);
        return;
    };
    load.received += received;
    load.total = total;
    match load.staged.as_mut() {
        Some(staged) => staged.extend(items),
        None => model.leases.extend(items),
    }
    if done {
        if let Some(staged) = model.lease_load.take().and_then(|l| l.staged) {
            model.leases.replace_all(staged);
        }
    }
}

/// The status-line text for a failed action.
fn action_error(what: &str, e: &ApiError) -> String {
    match e.kind {
        ErrorKind::PermissionDenied => format!(
            "read-only: {what} refused, this user may look but not change ({})",
            e.message
        ),
        ErrorKind::ReadOnly => format!("{what}: {} (owned by the config file)", e.message),
        _ => format!("{what} failed: {}", e.message),
    }
}

// Client-supplied text is made printable once, as it enters the model, so
// no view can put a client's escape sequence on the operator's terminal
// (ratatui would silently drop the control characters; visible `\xNN` says
// what the client sent).

fn printable_lease(l: &mut LeaseInfo) {
    make_printable_opt(&mut l.hostname);
    make_printable(&mut l.client_id);
}

fn printable_host(h: &mut berth_proto::HostInfo) {
    make_printable(&mut h.name);
    for (name, value) in &mut h.options {
        make_printable(name);
        make_printable(value);
    }
}

pub(super) fn printable_event(e: &mut berth_proto::Event) {
    make_printable_opt(&mut e.hostname);
    make_printable_opt(&mut e.vendor_class);
    make_printable_opt(&mut e.interface);
    make_printable(&mut e.detail);
}

fn push_note(model: &mut Model, text: &str) {
    push_feed(
        model,
        FeedEntry::Note {
            at: None,
            text: text.to_string(),
        },
    );
}

fn push_feed(model: &mut Model, entry: FeedEntry) {
    let id = model.next_feed_id;
    model.next_feed_id += 1;
    model.feed.push_front(FeedItem { id, entry });
    model.feed.truncate(FEED_CAP);
}
