//! Keys that act on the address pool: `w` sweeps the selected range now
//! (the `scan` call), `c` clears the selected quarantine after a confirm.

use super::model::{Command, Confirm, Dialog, Level, Model, View};
use super::notice::{check_live, notify};
use super::rows;

pub(super) fn start_clear(model: &mut Model) {
    if model.view != View::Quarantine {
        notify(
            model,
            Level::Error,
            "c clears a quarantine: select one on the Quarantine view (5)",
        );
        return;
    }
    if !check_live(model) {
        return;
    }
    let rows = rows::quarantine(model);
    let Some(q) = rows
        .get(rows::selected_index(model, View::Quarantine))
        .copied()
        .cloned()
    else {
        notify(model, Level::Error, "nothing selected to clear");
        return;
    };
    let by = q.mac.map(|m| format!(" by {m}")).unwrap_or_default();
    model.dialog = Some(Dialog::Confirm(Confirm {
        question: format!(
            "Clear the quarantine of {} ({}{by})? The pool may offer it again at once.",
            q.ip,
            q.reason.as_str()
        ),
        command: Command::ClearQuarantine(q.ip),
    }));
}

pub(super) fn start_sweep(model: &mut Model) -> Vec<Command> {
    if model.view != View::Pools {
        notify(
            model,
            Level::Error,
            "w sweeps a range: select one on the Pools view (4)",
        );
        return Vec::new();
    }
    if !check_live(model) {
        return Vec::new();
    }
    let rows = rows::pools(model);
    let Some(p) = rows.get(rows::selected_index(model, View::Pools)).copied() else {
        notify(model, Level::Error, "no range to sweep");
        return Vec::new();
    };
    let range = format!("{}-{}", p.start, p.end);
    notify(model, Level::Info, format!("sweeping {range}…"));
    vec![Command::Scan { range }]
}
