//! The interactive TUI that `berth` opens with no arguments: a live feed of
//! arrivals, the leases with ticking countdowns in local time, the static
//! hosts, pool gauges with their last sweep and squatters, quarantines, hook
//! outcomes; one key to promote a dynamic client, explain one (`e`), show
//! its history (Enter), sweep a range, clear a quarantine. Per-user
//! settings are [`settings`]'.
//!
//! Built the Elm way, as bottom and gitui are: terminal input and reports
//! from a background worker (which alone talks to the daemon) become
//! [`Msg`]s; the pure [`update()`] changes the [`Model`] and returns
//! [`Command`]s for the worker; the pure [`view()`] draws the model for a
//! given clock and time zone. The draw loop never waits on the daemon.
//!
//! To try it without a daemon, run the fake one and point the TUI at it:
//! `cargo run -p berth --features fake --example fake_daemon -- /tmp/berth-fake.sock --simulate`
//! and `BERTH_SOCKET=/tmp/berth-fake.sock cargo run -p berth --example tui_dev`.

#[cfg(any(test, feature = "fake"))]
pub mod fake;
pub mod fmt;
mod inspect;
mod keys;
mod lease_keys;
pub mod lease_set;
pub mod model;
mod notice;
mod pool_keys;
pub mod rows;
pub mod settings;
pub mod update;
pub mod view;
mod worker;

#[cfg(test)]
mod tests;

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::DefaultTerminal;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

pub use model::{Command, Model, Msg};
pub use update::update;
pub use view::view;
/// The connection worker, for driving the TUI's update and view without a
/// terminal (the scale benchmark does).
pub use worker::run as run_worker;

/// Fewest milliseconds between two frames: bursts of events and key
/// repeats redraw at most this often.
const MIN_FRAME: Duration = Duration::from_millis(100);

/// Whether colours are allowed: <https://no-color.org> says any non-empty
/// NO_COLOR turns them off.
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Owns the terminal while the TUI runs and gives it back on drop, which
/// also covers `?` errors and panics that unwind. A panic hook (installed by
/// `ratatui::try_init`) restores it before the panic message is printed.
struct TerminalGuard {
    term: DefaultTerminal,
}

impl TerminalGuard {
    fn enter() -> io::Result<Self> {
        match ratatui::try_init() {
            Ok(term) => Ok(TerminalGuard { term }),
            Err(e) => {
                // Raw mode may already be on: undo what was done.
                ratatui::restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
        let _ = crossterm::execute!(io::stdout(), crossterm::cursor::Show);
    }
}

/// Time until the next whole wall-clock second, so countdowns and the
/// clock tick together with the real second.
fn until_next_second() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_nanos(u64::from(1_000_000_000 - nanos)) + Duration::from_millis(5)
}

/// Runs the TUI until the operator quits, against the daemon at `socket`
/// (`--socket` or `BERTH_SOCKET`), else the settings file's, else the
/// default. Must be called inside a tokio runtime. The terminal is restored
/// on every way out: quit, error, Ctrl-C / SIGINT, SIGTERM, SIGHUP and
/// panic. The view, sort and filter are saved to the settings file on the
/// way out.
pub async fn run(socket: Option<PathBuf>) -> anyhow::Result<()> {
    let loaded = settings::load(settings::default_path());
    let socket = socket
        .or_else(|| loaded.settings.socket.clone())
        .unwrap_or_else(|| PathBuf::from(berth_proto::DEFAULT_SOCKET));
    let mut model = Model::new(socket.display().to_string(), color_allowed());
    settings::apply(&loaded.settings, &mut model);
    if let Some(problem) = &loaded.problem {
        model.notice = Some(model::Notice {
            level: model::Level::Error,
            text: problem.clone(),
        });
    }
    // Honours TZ, else the system's zone; UTC if neither can be read.
    let tz = TimeZone::system();

    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(worker::run(socket, msg_tx, cmd_rx));

    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut sighup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;

    let mut guard = TerminalGuard::enter().context("cannot set up the terminal")?;
    let mut input = EventStream::new();
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;

    let result: anyhow::Result<()> = 'main: loop {
        let due = last_draw.map_or(Instant::now(), |t| t + MIN_FRAME);
        if dirty && Instant::now() >= due {
            let now = Timestamp::now();
            if let Err(e) = guard.term.draw(|f| view(&model, f, now, &tz)) {
                break Err(e).context("drawing");
            }
            last_draw = Some(Instant::now());
            dirty = false;
        }
        let msg = tokio::select! {
            _ = tokio::time::sleep_until(due.into()), if dirty => None,
            _ = tokio::time::sleep(until_next_second()) => {
                dirty = true;
                None
            }
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) => Some(Msg::Key(k)),
                Some(Ok(TermEvent::Resize(..))) => {
                    dirty = true;
                    None
                }
                Some(Ok(_)) => None,
                Some(Err(e)) => break Err(e).context("reading the terminal"),
                None => break Ok(()),
            },
            m = msgs.recv() => match m {
                Some(m) => Some(m),
                None => break Err(anyhow::anyhow!("the connection worker stopped")),
            },
            _ = sigint.recv() => break Ok(()),
            _ = sigterm.recv() => break Ok(()),
            _ = sighup.recv() => break Ok(()),
        };
        let Some(msg) = msg else { continue };
        // Apply everything already queued before drawing again.
        let mut next = Some(msg);
        while let Some(m) = next {
            dirty = true;
            for cmd in update(&mut model, m) {
                if cmd == Command::Quit {
                    break 'main Ok(());
                }
                // The worker only stops when this side drops the channel.
                let _ = cmd_tx.send(cmd);
            }
            next = msgs.try_recv().ok();
        }
    };
    drop(cmd_tx);
    worker.abort();
    drop(guard);
    if let Some(path) = loaded.path.as_ref().filter(|_| loaded.writable()) {
        let kept = settings::remember(&loaded.settings, &model);
        if kept != loaded.settings
            && let Err(e) = settings::save(path, &kept)
        {
            eprintln!("berth: cannot save the TUI settings: {e}");
        }
    }
    result
}
