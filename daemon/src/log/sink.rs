//! What a log sink receives: finished lines, a batch at a time (see
//! [`super::held`], the layer that gathers them), and the standard-error
//! sink.

use std::io::{self, Write};

use tracing::Level;

/// A destination for finished log lines: stderr or syslog. It is only
/// called under the holding layer's lock, so it owns its state plainly.
pub trait Sink: Send + 'static {
    /// Writes the lines of `batch`, in order. There is nowhere to report a
    /// failure, so a sink falls back (or drops the lines) itself.
    fn write(&mut self, batch: &Batch);

    /// Whether each line needs the time it was logged ([`Entry::at`]): a
    /// sink that stamps lines itself. Others are spared a clock read per
    /// line.
    fn stamps(&self) -> bool {
        false
    }
}

/// Finished lines, back to back, with where each ends and its level and
/// time.
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    marks: Vec<Mark>,
}

#[derive(Debug)]
struct Mark {
    end: usize,
    level: Level,
    at: Option<jiff::Timestamp>,
}

/// One line of a [`Batch`].
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// Its level.
    pub level: Level,
    /// When it was logged (not when it is written), for a sink that
    /// [stamps](Sink::stamps) lines.
    pub at: Option<jiff::Timestamp>,
    /// The formatted line, with its newline.
    pub text: &'a [u8],
}

impl Batch {
    /// Every line, back to back: what a byte stream writes in one go.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The lines one by one: what a datagram sink sends.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let mut start = 0;
        self.marks.iter().map(move |m| {
            let text = &self.bytes[start..m.end];
            start = m.end;
            Entry {
                level: m.level,
                at: m.at,
                text,
            }
        })
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether no line is held.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    pub(super) fn push(&mut self, level: Level, at: Option<jiff::Timestamp>, text: &[u8]) {
        self.bytes.extend_from_slice(text);
        self.marks.push(Mark {
            end: self.bytes.len(),
            level,
            at,
        });
    }

    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.marks.clear();
    }
}

/// Standard error (journald picks it up under systemd): a batch is one
/// write.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl Sink for Stderr {
    fn write(&mut self, batch: &Batch) {
        // Nowhere to report a failing stderr.
        let _ = io::stderr().write_all(batch.bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_each_line_with_its_level() {
        let at = None;
        let mut b = Batch::default();
        assert!(b.is_empty());
        b.push(Level::INFO, at, b"one\n");
        b.push(Level::WARN, at, b"two\n");
        assert_eq!(b.bytes(), b"one\ntwo\n");
        assert_eq!(b.len(), 8);
        let got: Vec<_> = b.entries().map(|e| (e.level, e.text)).collect();
        assert_eq!(
            got,
            [(Level::INFO, &b"one\n"[..]), (Level::WARN, &b"two\n"[..])]
        );
        b.clear();
        assert!(b.is_empty() && b.bytes().is_empty());
        assert_eq!(b.entries().count(), 0);
    }
}
