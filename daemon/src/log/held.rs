//! Standard error without a system call per line: while the core serves,
//! info and debug lines are held in memory and written together, at most
//! [`HOLD`] after the first of them (the core flushes them, see
//! `server/core.rs`), or at once when [`LIMIT`] bytes are waiting. A
//! warning or error is written at once, after the lines held before it,
//! so the order stays. Outside serving (start-up, shutdown, `check-config`)
//! every line is written at once, as before.
//!
//! On a busy server this turns a write per transaction into one per
//! batch: at 1,000 DORA/s, some 20 writes a second instead of 2,000.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How long a held line waits at most.
pub const HOLD: Duration = Duration::from_millis(50);
/// Held bytes that are written without waiting for [`HOLD`].
pub const LIMIT: usize = 32 * 1024;

/// The lines waiting, and when the first of them came.
struct Held {
    bytes: Vec<u8>,
    since: Option<Instant>,
}

static HELD: Mutex<Held> = Mutex::new(Held {
    bytes: Vec::new(),
    since: None,
});
/// Whether lines are held (the core is serving).
static HOLDING: AtomicBool = AtomicBool::new(false);
/// Whether anything is held: read on every turn of the core, so kept apart
/// from the lock.
static PENDING: AtomicBool = AtomicBool::new(false);

fn held() -> std::sync::MutexGuard<'static, Held> {
    HELD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes what is held (under the lock, so lines keep their order).
fn write_out(h: &mut Held) {
    if !h.bytes.is_empty() {
        // Nowhere to report a failing stderr.
        let _ = io::stderr().write_all(&h.bytes);
        h.bytes.clear();
    }
    h.since = None;
    PENDING.store(false, Ordering::Release);
}

/// Starts or stops holding lines; stopping writes what is held.
pub fn hold(on: bool) {
    HOLDING.store(on, Ordering::Release);
    if !on {
        flush();
    }
}

/// Writes every held line now.
pub fn flush() {
    if PENDING.load(Ordering::Acquire) {
        write_out(&mut held());
    }
}

/// [`flush`] for a panic hook: skipped if the panic came while the lock
/// was held, rather than waiting for it forever.
pub fn flush_unless_locked() {
    if let Ok(mut h) = HELD.try_lock() {
        write_out(&mut h);
    }
}

/// When the held lines are due, if any are held.
pub fn due() -> Option<Instant> {
    if !PENDING.load(Ordering::Acquire) {
        return None;
    }
    held().since.map(|s| s + HOLD)
}

/// The [`MakeWriter`] for `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeldStderr;

/// One line being formatted; held or written when dropped.
pub struct Line {
    urgent: bool,
    buf: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let mut h = held();
        h.bytes.extend_from_slice(&self.buf);
        if self.urgent || !HOLDING.load(Ordering::Acquire) || h.bytes.len() >= LIMIT {
            write_out(&mut h);
        } else if h.since.is_none() {
            h.since = Some(Instant::now());
            PENDING.store(true, Ordering::Release);
        }
    }
}

impl<'a> MakeWriter<'a> for HeldStderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            urgent: true,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line {
            // WARN and ERROR compare as "less than" INFO in tracing.
            urgent: *meta.level() <= Level::WARN,
            buf: Vec::with_capacity(160),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the state is process-wide.
    #[test]
    fn lines_are_held_while_serving_and_urgent_ones_flush_all() {
        let line = |urgent, text: &str| {
            let mut l = Line {
                urgent,
                buf: Vec::new(),
            };
            l.write_all(text.as_bytes()).expect("write");
        };
        hold(false);
        line(false, "");
        assert_eq!(due(), None, "not holding: written at once");

        hold(true);
        let before = Instant::now();
        line(false, "one\n");
        line(false, "two\n");
        let at = due().expect("held");
        assert!(at >= before + HOLD && at <= Instant::now() + HOLD);
        assert_eq!(held().bytes, b"one\ntwo\n");

        line(true, "a warning\n");
        assert_eq!(due(), None, "a warning writes what was held, then itself");
        assert!(held().bytes.is_empty());

        line(false, &"x".repeat(LIMIT));
        assert_eq!(due(), None, "a full buffer is written at once");

        line(false, "three\n");
        assert!(due().is_some());
        hold(false);
        assert_eq!(due(), None, "stopping writes what is held");
        assert!(held().bytes.is_empty());
    }
}
