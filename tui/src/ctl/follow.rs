//! Where an event reader is in the daemon's event stream, and what to do
//! with each [`EventBatch`]: pure, so gaps and restarts are unit-tested.

use berth_proto::{Event, EventBatch, UnixTime};

/// The reader's position: the last seq handled and the daemon epoch it
/// belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    next: u64,
    epoch: Option<UnixTime>,
    /// True until the first batch when no `--since` was given: a gap then
    /// only means the buffer has wrapped since the daemon started, which
    /// the user never asked to see, so it is not worth a warning.
    quiet_gap: bool,
}

/// What one batch means for the reader.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// New events to print, in order.
    pub events: Vec<Event>,
    /// Lines for stderr (gaps, restarts).
    pub warnings: Vec<String>,
    /// Whether the cursor moved or was reset; a reader that is not
    /// following stops after a batch that neither moved nor brought events.
    pub moved: bool,
}

impl Cursor {
    /// A reader starting after `since`, or at the start of what the daemon
    /// holds.
    pub fn new(since: Option<u64>) -> Self {
        Cursor {
            next: since.unwrap_or(0),
            epoch: None,
            quiet_gap: since.is_none(),
        }
    }

    /// The seq to pass to `events_since`.
    pub fn seq(&self) -> u64 {
        self.next
    }

    /// Takes in the daemon's answer to `events_since(self.seq(), ..)`.
    pub fn apply(&mut self, batch: EventBatch) -> Applied {
        let mut out = Applied::default();
        let quiet_gap = std::mem::replace(&mut self.quiet_gap, false);

        if self.epoch.is_some_and(|e| e != batch.epoch) {
            self.epoch = Some(batch.epoch);
            let started = jiff::Timestamp::from_second(batch.epoch)
                .map_or_else(|_| batch.epoch.to_string(), |t| t.to_string());
            out.warnings.push(format!(
                "berthd restarted (started {started}): its sequence numbers started over; \
                 reading its events from the start"
            ));
            if self.next != 0 {
                // The batch answered a seq from the old numbering: events
                // 1..=next of the new daemon would be skipped. Ask again.
                self.next = 0;
                out.moved = true;
                return out;
            }
        }
        self.epoch = Some(batch.epoch);

        if let Some(gap) = batch.gap {
            let resume = gap.oldest_seq.saturating_sub(1);
            if !quiet_gap && resume > self.next {
                out.warnings.push(format!(
                    "fell behind: berthd dropped events {}..{} before they were read; \
                     continuing from {}",
                    self.next + 1,
                    resume,
                    gap.oldest_seq
                ));
            }
            if batch.events.is_empty() {
                out.moved = resume != self.next;
                self.next = resume;
                return out;
            }
        }

        let before = self.next;
        for e in batch.events {
            // A daemon may repeat an event around a gap; never print one twice.
            if e.seq > self.next {
                self.next = e.seq;
                out.events.push(e);
            }
        }
        if out.events.is_empty() && batch.gap.is_none() {
            self.next = self.next.max(batch.last_seq);
        }
        out.moved = self.next != before;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_proto::{EventKind, Gap};

    fn ev(seq: u64) -> Event {
        Event {
            seq,
            at: 1_700_000_000 + seq as i64,
            kind: EventKind::Ack,
            mac: None,
            ip: None,
            hostname: None,
            vendor_class: None,
            interface: None,
            unknown: false,
            ok: true,
            detail: String::new(),
        }
    }

    fn batch(seqs: &[u64], last: u64, gap: Option<u64>, epoch: UnixTime) -> EventBatch {
        EventBatch {
            events: seqs.iter().map(|&s| ev(s)).collect(),
            last_seq: last,
            gap: gap.map(|oldest_seq| Gap { oldest_seq }),
            epoch,
        }
    }

    fn seqs(a: &Applied) -> Vec<u64> {
        a.events.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn advances_through_batches() {
        let mut c = Cursor::new(None);
        let a = c.apply(batch(&[1, 2, 3], 3, None, 100));
        assert_eq!(seqs(&a), [1, 2, 3]);
        assert!(a.warnings.is_empty() && a.moved);
        assert_eq!(c.seq(), 3);
        let a = c.apply(batch(&[], 3, None, 100));
        assert!(a.events.is_empty() && !a.moved);
        assert_eq!(c.seq(), 3);
    }

    #[test]
    fn gap_warns_and_resumes_from_oldest_held() {
        let mut c = Cursor::new(Some(10));
        let a = c.apply(batch(&[], 10, Some(50), 100));
        assert!(a.events.is_empty() && a.moved);
        assert_eq!(a.warnings.len(), 1);
        assert!(
            a.warnings[0].contains("dropped events 11..49"),
            "{:?}",
            a.warnings
        );
        assert_eq!(c.seq(), 49);
        let a = c.apply(batch(&[50, 51], 51, None, 100));
        assert_eq!(seqs(&a), [50, 51]);
    }

    #[test]
    fn gap_with_events_prints_them() {
        let mut c = Cursor::new(Some(1));
        let a = c.apply(batch(&[5, 6], 6, Some(5), 100));
        assert_eq!(seqs(&a), [5, 6]);
        assert_eq!(a.warnings.len(), 1);
        assert_eq!(c.seq(), 6);
    }

    #[test]
    fn first_gap_without_since_is_quiet() {
        let mut c = Cursor::new(None);
        let a = c.apply(batch(&[], 0, Some(900), 100));
        assert!(a.warnings.is_empty());
        assert_eq!(c.seq(), 899);
        // Later gaps are real: the reader fell behind.
        let a = c.apply(batch(&[], 899, Some(1000), 100));
        assert_eq!(a.warnings.len(), 1);
        assert_eq!(c.seq(), 999);
    }

    #[test]
    fn restart_starts_over() {
        let mut c = Cursor::new(None);
        c.apply(batch(&[1, 2, 3, 4], 4, None, 100));
        // The new daemon answered seq 4 from the old numbering: discard it.
        let a = c.apply(batch(&[5], 5, None, 200));
        assert!(a.events.is_empty() && a.moved);
        assert_eq!(a.warnings.len(), 1);
        assert!(
            a.warnings[0].contains("berthd restarted (started 1970-01-01T00:03:20Z)"),
            "{:?}",
            a.warnings
        );
        assert_eq!(c.seq(), 0);
        let a = c.apply(batch(&[1, 2], 2, None, 200));
        assert_eq!(seqs(&a), [1, 2]);
        assert!(a.warnings.is_empty());
    }

    #[test]
    fn restart_seen_from_zero_keeps_the_batch() {
        let mut c = Cursor::new(None);
        c.apply(batch(&[], 0, None, 100));
        let a = c.apply(batch(&[1], 1, None, 200));
        assert_eq!(seqs(&a), [1]);
        assert_eq!(a.warnings.len(), 1);
    }

    #[test]
    fn never_prints_an_event_twice() {
        let mut c = Cursor::new(Some(3));
        let a = c.apply(batch(&[2, 3, 4], 4, None, 100));
        assert_eq!(seqs(&a), [4]);
    }
}
