//! Tests of the TUI: screens rendered with ratatui's `TestBackend` at a fixed
//! clock and zone, the update function, and the worker against the fake
//! daemon.

use berth_proto::UnixTime;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::fake;
use super::model::{Model, Msg, Snapshot};
use super::update::update;
use super::view::view;

mod lease_sync;
mod screens;
mod updates;
mod worker;

/// 2026-05-01 14:00:00 UTC: 16:00:00 in Berlin (CEST).
fn now() -> Timestamp {
    Timestamp::from_second(1_777_644_000).expect("fixed instant in range")
}

fn now_s() -> UnixTime {
    now().as_second()
}

/// Berlin's rules as a POSIX string, so the tests need no tz database.
fn berlin() -> TimeZone {
    TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").expect("valid POSIX TZ")
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

/// Sends every char of `s` as a key.
fn typed(m: &mut Model, s: &str) -> Vec<super::Command> {
    s.chars().flat_map(|c| update(m, ch(c))).collect()
}

/// The demo daemon's data as it would arrive: connected, one snapshot,
/// the event history.
fn loaded(color: bool) -> Model {
    let data = fake::demo_data(now_s());
    let mut m = Model::new("/run/berth/control.sock", color);
    update(&mut m, Msg::Connecting { attempt: 1 });
    update(&mut m, Msg::Connected);
    update(
        &mut m,
        Msg::Snapshot(Box::new(Snapshot {
            status: Some(fake::status_of(&data, now_s())),
            leases: Some(data.leases.clone()),
            hosts: Some(data.hosts.clone()),
            pools: Some(data.pools.clone()),
            quarantine: Some(fake::quarantine_of(&data, now_s())),
        })),
    );
    update(
        &mut m,
        Msg::Events {
            events: data.events.clone(),
            missed: false,
            restarted: false,
        },
    );
    m
}

/// The screen's cells.
fn render_buf(m: &Model, width: u16, height: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    term.draw(|f| view(m, f, now(), &berlin())).expect("draw");
    term.backend().buffer().clone()
}

/// The screen as text, one line per row, trailing blanks trimmed.
fn render(m: &Model, width: u16, height: u16) -> String {
    let buf = render_buf(m, width, height);
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Compares screens line by line and shows both in full when they differ.
#[track_caller]
fn assert_screen(actual: &str, expected: &str) {
    // Expected screens are written starting on the line after the quote.
    let expected = expected.strip_prefix('\n').unwrap_or(expected);
    let expected: String = expected
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    if actual != expected {
        panic!("screen differs\n--- expected\n{expected}--- actual\n{actual}---");
    }
}
