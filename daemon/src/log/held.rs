//! A log without a system call per line, over any [`Sink`]: while the core
//! serves, info and debug lines are held in memory and written together,
//! at most [`HOLD`] after the first of them (the core flushes them, see
//! `server/core.rs`), or at once when [`LIMIT`] bytes are waiting. A
//! warning or error is written at once, after the lines held before it,
//! so the order stays. Outside serving (start-up, shutdown, `check-config`)
//! every line is written at once, as before.
//!
//! On a busy server this turns a write per transaction into one per
//! batch: at 1,000 DORA/s, some 20 writes a second instead of 2,000 (for
//! syslog, the datagrams of a batch are sent together).
//!
//! The core drives the layer that [`Held::install`] installed through the
//! free functions ([`hold`], [`due`], [`flush`]), so it needs no handle.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

use super::sink::{Batch, Sink};

/// How long a held line waits at most.
pub const HOLD: Duration = Duration::from_millis(50);
/// Held bytes that are written without waiting for [`HOLD`].
pub const LIMIT: usize = 32 * 1024;

/// The lines waiting, when the first of them came, and where they go.
struct State {
    batch: Batch,
    since: Option<Instant>,
    sink: Box<dyn Sink>,
}

struct Shared {
    state: Mutex<State>,
    /// Whether lines are held (the core is serving).
    holding: AtomicBool,
    /// Whether anything is held: read on every turn of the core, so kept
    /// apart from the lock.
    pending: AtomicBool,
    /// Whether the sink wants each line's time ([`Sink::stamps`]).
    stamps: bool,
}

/// The holding layer over a sink; the [`MakeWriter`] for
/// `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Clone)]
pub struct Held(Arc<Shared>);

/// The layer the free functions drive.
static INSTALLED: OnceLock<Held> = OnceLock::new();

impl Held {
    /// A layer over `sink`, not holding yet.
    pub fn new(sink: impl Sink) -> Held {
        let stamps = sink.stamps();
        Held(Arc::new(Shared {
            state: Mutex::new(State {
                batch: Batch::default(),
                since: None,
                sink: Box::new(sink),
            }),
            holding: AtomicBool::new(false),
            pending: AtomicBool::new(false),
            stamps,
        }))
    }

    /// A layer over `sink` that [`hold`], [`flush`] and [`due`] act on. Once
    /// per process: a later layer is returned but not installed, so it
    /// never holds.
    pub fn install(sink: impl Sink) -> Held {
        let held = Held::new(sink);
        let _ = INSTALLED.set(held.clone());
        held
    }

    /// Starts or stops holding lines; stopping writes what is held.
    pub fn hold(&self, on: bool) {
        self.0.holding.store(on, Ordering::Release);
        if !on {
            self.flush();
        }
    }

    /// Writes every held line now.
    pub fn flush(&self) {
        if self.0.pending.load(Ordering::Acquire) {
            self.0.write_out(&mut self.0.lock());
        }
    }

    /// [`Held::flush`] for a panic hook: skipped if the panic came while
    /// the lock was held, rather than waiting for it forever.
    pub fn flush_unless_locked(&self) {
        if let Ok(mut s) = self.0.state.try_lock() {
            self.0.write_out(&mut s);
        }
    }

    /// When the held lines are due, if any are held.
    pub fn due(&self) -> Option<Instant> {
        if !self.0.pending.load(Ordering::Acquire) {
            return None;
        }
        self.0.lock().since.map(|s| s + HOLD)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes what is held (under the lock, so lines keep their order).
    fn write_out(&self, s: &mut State) {
        if !s.batch.is_empty() {
            s.sink.write(&s.batch);
            s.batch.clear();
        }
        s.since = None;
        self.pending.store(false, Ordering::Release);
    }

    /// Takes one finished line: holds it, or writes it with what is held.
    fn take(&self, level: Level, urgent: bool, text: &[u8]) {
        let at = self.stamps.then(jiff::Timestamp::now);
        let mut s = self.lock();
        s.batch.push(level, at, text);
        if urgent || !self.holding.load(Ordering::Acquire) || s.batch.len() >= LIMIT {
            self.write_out(&mut s);
        } else if s.since.is_none() {
            s.since = Some(Instant::now());
            self.pending.store(true, Ordering::Release);
        }
    }
}

/// [`Held::hold`] on the installed layer (nothing without one).
pub fn hold(on: bool) {
    if let Some(h) = INSTALLED.get() {
        h.hold(on);
    }
}

/// [`Held::flush`] on the installed layer.
pub fn flush() {
    if let Some(h) = INSTALLED.get() {
        h.flush();
    }
}

/// [`Held::flush_unless_locked`] on the installed layer.
pub fn flush_unless_locked() {
    if let Some(h) = INSTALLED.get() {
        h.flush_unless_locked();
    }
}

/// [`Held::due`] on the installed layer.
pub fn due() -> Option<Instant> {
    INSTALLED.get().and_then(Held::due)
}

/// One line being formatted; handed to the layer when dropped.
pub struct Line<'a> {
    held: &'a Shared,
    level: Level,
    urgent: bool,
    buf: Vec<u8>,
}

impl Write for Line<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.held.take(self.level, self.urgent, &self.buf);
        }
    }
}

impl<'a> MakeWriter<'a> for Held {
    type Writer = Line<'a>;

    /// Without a level: written at once.
    fn make_writer(&'a self) -> Line<'a> {
        Line {
            held: &self.0,
            level: Level::INFO,
            urgent: true,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line<'a> {
        Line {
            held: &self.0,
            level: *meta.level(),
            // WARN and ERROR compare as "less than" INFO in tracing.
            urgent: *meta.level() <= Level::WARN,
            buf: Vec::with_capacity(160),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A sink that keeps what it is given, a write at a time.
    #[derive(Clone, Default)]
    pub(crate) struct Record(pub Arc<Mutex<Vec<Vec<u8>>>>);

    impl Sink for Record {
        fn write(&mut self, batch: &Batch) {
            self.0.lock().expect("lock").push(batch.bytes().to_vec());
        }
    }

    impl Record {
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().expect("lock"))
                .into_iter()
                .map(|w| String::from_utf8(w).expect("utf8"))
                .collect()
        }
    }

    /// A line of `level` through `held`, as tracing makes it.
    pub(crate) fn line(held: &Held, level: Level) -> Line<'_> {
        Line {
            held: &held.0,
            level,
            urgent: level <= Level::WARN,
            buf: Vec::new(),
        }
    }

    /// Logs `text` through `held` as a line of `level`.
    pub(crate) fn log(held: &Held, level: Level, text: &str) {
        line(held, level).write_all(text.as_bytes()).expect("write");
    }

    #[test]
    fn lines_are_held_while_serving_and_urgent_ones_flush_all() {
        let out = Record::default();
        let held = Held::new(out.clone());
        held.hold(false);
        log(&held, Level::INFO, "");
        assert_eq!(held.due(), None, "an empty line is nothing");
        log(&held, Level::INFO, "at once\n");
        assert_eq!(held.due(), None, "not holding: written at once");
        assert_eq!(out.take(), ["at once\n"]);

        held.hold(true);
        let before = Instant::now();
        log(&held, Level::INFO, "one\n");
        log(&held, Level::DEBUG, "two\n");
        let at = held.due().expect("held");
        assert!(at >= before + HOLD && at <= Instant::now() + HOLD);
        assert!(out.take().is_empty(), "nothing written yet");

        log(&held, Level::WARN, "a warning\n");
        assert_eq!(
            held.due(),
            None,
            "a warning writes what was held, then itself"
        );
        assert_eq!(out.take(), ["one\ntwo\na warning\n"], "in one write");

        log(&held, Level::INFO, &"x".repeat(LIMIT));
        assert_eq!(held.due(), None, "a full buffer is written at once");
        assert_eq!(out.take().len(), 1);

        log(&held, Level::INFO, "three\n");
        assert!(held.due().is_some());
        held.flush();
        assert_eq!(held.due(), None, "flushed");
        assert_eq!(out.take(), ["three\n"]);

        log(&held, Level::INFO, "four\n");
        held.hold(false);
        assert_eq!(held.due(), None, "stopping writes what is held");
        assert_eq!(out.take(), ["four\n"]);
    }

    /// A sink that stamps lines, and keeps whether each had its time.
    #[derive(Clone, Default)]
    struct Stamped(Arc<Mutex<Vec<bool>>>);

    impl Sink for Stamped {
        fn write(&mut self, batch: &Batch) {
            let mut got = self.0.lock().expect("lock");
            got.extend(batch.entries().map(|e| e.at.is_some()));
        }

        fn stamps(&self) -> bool {
            true
        }
    }

    #[test]
    fn lines_carry_their_time_only_to_a_sink_that_stamps() {
        let stamped = Stamped::default();
        let held = Held::new(stamped.clone());
        held.hold(true);
        log(&held, Level::INFO, "one\n");
        held.hold(false);
        assert_eq!(*stamped.0.lock().expect("lock"), [true]);

        let out = Record::default();
        let plain = Held::new(out.clone());
        assert!(!plain.0.stamps, "stderr-like sinks read no clock per line");
    }

    #[test]
    fn the_panic_flush_writes_what_is_held() {
        let out = Record::default();
        let held = Held::new(out.clone());
        held.hold(true);
        log(&held, Level::INFO, "before the panic\n");
        held.flush_unless_locked();
        assert_eq!(out.take(), ["before the panic\n"]);
    }
}
