//! The pure update function: `(model, msg) -> commands`. No I/O, no clock:
//! anything time-dependent arrives inside the message.

use std::net::Ipv4Addr;

use berth_proto::{ApiError, ErrorKind, LeaseInfo, LeaseKind, LeaseState, PromoteRequest, Target};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::inspect::{on_panel_key, printable_explanation, start_explain, start_history};
use super::model::{
    Command, Confirm, Conn, Dialog, FEED_CAP, FeedEntry, FeedItem, LeaseLoad, Level, Model, Msg,
    Notice, PromoteField, PromoteForm, View,
};
use super::pool_keys::{start_clear, start_sweep};
use super::rows;
use crate::text::{make_printable, make_printable_opt};

/// Rows a PageUp/PageDown moves.
const PAGE: usize = 10;

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

pub(super) fn notify(model: &mut Model, level: Level, text: impl Into<String>) {
    // The daemon's messages may quote client-supplied names.
    let mut text = text.into();
    make_printable(&mut text);
    model.notice = Some(Notice { level, text });
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

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
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

/// The lease an action applies to: the selected lease, or on the arrivals
/// view the lease of the selected event's MAC.
pub fn target_lease(model: &Model) -> Option<&LeaseInfo> {
    match model.view {
        View::Leases => {
            let rows = rows::leases(model);
            rows.get(rows::selected_index(model, View::Leases)).copied()
        }
        View::Arrivals => {
            let mac = target_mac(model)?;
            let all: Vec<&LeaseInfo> = model.leases.iter().filter(|l| l.mac == mac).collect();
            all.iter()
                .find(|l| matches!(l.state, LeaseState::Bound | LeaseState::Offered))
                .or(all.first())
                .copied()
        }
        View::Hosts | View::Pools | View::Quarantine | View::Hooks => None,
    }
}

/// The MAC an action applies to on the current view.
pub(super) fn target_mac(model: &Model) -> Option<String> {
    match model.view {
        View::Leases => target_lease(model).map(|l| l.mac.clone()),
        View::Arrivals => {
            let rows = rows::feed(model);
            match &rows.get(rows::selected_index(model, View::Arrivals))?.entry {
                FeedEntry::Event(e) => e.mac.clone(),
                FeedEntry::Note { .. } => None,
            }
        }
        View::Hosts | View::Pools | View::Quarantine | View::Hooks => None,
    }
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

fn no_target(model: &mut Model, what: &str) {
    let text = match model.view {
        View::Leases | View::Arrivals => format!("nothing selected to {what}"),
        View::Hosts | View::Pools | View::Quarantine | View::Hooks => {
            format!("{what} works on the Leases (2) and Arrivals (1) views")
        }
    };
    notify(model, Level::Error, text);
}

fn start_promote(model: &mut Model) {
    if !check_live(model) {
        return;
    }
    let Some(lease) = target_lease(model).cloned() else {
        no_target(model, "promote");
        return;
    };
    let refusal = match lease.kind {
        // An observed MAC uses its address without a lease: promoting it
        // makes that a static host (the daemon decides).
        LeaseKind::Dynamic | LeaseKind::Observed => None,
        LeaseKind::Static => Some(format!("{} is already a static host", lease.mac)),
        LeaseKind::Moving => Some(match lease.moving_to {
            Some(to) => format!("{} is already promoted, moving to {to}", lease.mac),
            None => format!("{} is already promoted and moving", lease.mac),
        }),
        LeaseKind::Quarantined => Some(format!(
            "{} is quarantined (declined): there is no client to promote",
            lease.ip
        )),
    };
    if let Some(text) = refusal {
        notify(model, Level::Error, text);
        return;
    }
    model.dialog = Some(Dialog::Promote(PromoteForm {
        mac: lease.mac.clone(),
        current_ip: lease.ip,
        ip: lease.ip.to_string(),
        hostname: lease.hostname.clone().unwrap_or_default(),
        focus: PromoteField::Ip,
        error: None,
    }));
}

fn start_release(model: &mut Model) {
    if !check_live(model) {
        return;
    }
    let Some(lease) = target_lease(model).cloned() else {
        no_target(model, "release");
        return;
    };
    let who = match &lease.hostname {
        Some(h) => format!("{}, {h}", lease.mac),
        None => lease.mac.clone(),
    };
    model.dialog = Some(Dialog::Confirm(Confirm {
        question: format!(
            "Release {} ({who})? The client will have to ask again.",
            lease.ip
        ),
        command: Command::Release(Target::Ip(lease.ip)),
    }));
}

fn start_block(model: &mut Model) {
    if !check_live(model) {
        return;
    }
    let Some(mac) = target_mac(model) else {
        no_target(model, "block");
        return;
    };
    let name = model
        .leases
        .iter()
        .find(|l| l.mac == mac)
        .and_then(|l| l.hostname.clone());
    let who = match name {
        Some(h) => format!("{mac} ({h})"),
        None => mac.clone(),
    };
    model.dialog = Some(Dialog::Confirm(Confirm {
        question: format!("Block {who}? berthd will ignore it until it is unblocked."),
        command: Command::Block { mac },
    }));
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

fn on_promote_key(model: &mut Model, mut form: PromoteForm, key: KeyEvent) -> Vec<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter => match validate(&form) {
            Ok(req) => {
                if !check_live(model) {
                    return Vec::new();
                }
                notify(model, Level::Info, format!("promoting {}…", req.mac));
                return vec![Command::Promote(req)];
            }
            Err(e) => form.error = Some(e),
        },
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
            form.focus = match form.focus {
                PromoteField::Ip => PromoteField::Hostname,
                PromoteField::Hostname => PromoteField::Ip,
            };
        }
        KeyCode::Backspace => {
            field(&mut form).pop();
            form.error = None;
        }
        KeyCode::Char('u') if ctrl => {
            field(&mut form).clear();
            form.error = None;
        }
        KeyCode::Char(c) if !ctrl => {
            field(&mut form).push(c);
            form.error = None;
        }
        _ => {}
    }
    model.dialog = Some(Dialog::Promote(form));
    Vec::new()
}

fn field(form: &mut PromoteForm) -> &mut String {
    match form.focus {
        PromoteField::Ip => &mut form.ip,
        PromoteField::Hostname => &mut form.hostname,
    }
}

/// Checks the form and builds the request, or says what is wrong.
fn validate(form: &PromoteForm) -> Result<PromoteRequest, String> {
    let ip: Ipv4Addr = form
        .ip
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not an IPv4 address", form.ip.trim()))?;
    let hostname = form.hostname.trim();
    // Empty lets the daemon choose; anything else must pass the daemon's rule.
    if !hostname.is_empty() {
        berth_proto::parse::check_hostname(hostname).map_err(|e| e.to_string())?;
    }
    Ok(PromoteRequest {
        mac: form.mac.clone(),
        ip: Some(ip),
        hostname: (!hostname.is_empty()).then(|| hostname.to_string()),
    })
}
