//! Keys that act on a client's lease: `p` promotes it (through a form),
//! `r` releases it and `b` blocks its MAC (after a confirm); and which
//! lease or MAC the selection names.

use std::net::Ipv4Addr;

use berth_proto::{LeaseInfo, LeaseKind, LeaseState, PromoteRequest, Target};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{
    Command, Confirm, Dialog, FeedEntry, Level, Model, PromoteField, PromoteForm, View,
};
use super::notice::{check_live, notify};
use super::rows;

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

fn no_target(model: &mut Model, what: &str) {
    let text = match model.view {
        View::Leases | View::Arrivals => format!("nothing selected to {what}"),
        View::Hosts | View::Pools | View::Quarantine | View::Hooks => {
            format!("{what} works on the Leases (2) and Arrivals (1) views")
        }
    };
    notify(model, Level::Error, text);
}

/// `p`: opens the promote form for the selected dynamic client.
pub(super) fn start_promote(model: &mut Model) {
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

/// `r`: asks to release the selected lease.
pub(super) fn start_release(model: &mut Model) {
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

/// `b`: asks to block the selected MAC.
pub(super) fn start_block(model: &mut Model) {
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

/// A key while the promote form is open.
pub(super) fn on_promote_key(
    model: &mut Model,
    mut form: PromoteForm,
    key: KeyEvent,
) -> Vec<Command> {
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
