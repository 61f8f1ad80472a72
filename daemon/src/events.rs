//! The event ring buffer behind `events_since`: a bounded, sequence-numbered
//! log of what the daemon saw and did, read by long poll.
//!
//! Writers never wait for readers: the buffer drops its oldest events when
//! full, and a reader that asks for a sequence number no longer held is told
//! so ([`Gap`]) and reloads. A reader holds the lock only to find its
//! events by index (seqs in the buffer are consecutive) and take shared
//! references to them; copying them for the reply happens after, so a
//! thousand readers following the stream do not hold up the core's `push`.

mod compact;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use berth_proto::{Event, EventBatch, EventKind, Gap, UnixTime};
use tokio::sync::watch;

pub use compact::{Fields, Record};

/// How many events one answer carries at most.
const MAX_BATCH: usize = 1000;

/// The most bytes one batch may take as JSON (by [`json_bound`]): a
/// quarter of the control API's frame limit, whatever clients put in
/// their host names.
pub const MAX_BATCH_BYTES: usize = berth_proto::MAX_FRAME_BYTES / 4;
const _: () = assert!(MAX_BATCH_BYTES * 4 <= berth_proto::MAX_FRAME_BYTES);

/// An upper bound on an event's size as JSON: JSON writes a control byte as
/// six, so every string counts six times, plus room for the fixed fields.
fn json_bound(e: &Record) -> usize {
    512 + 6 * e.text_len()
}

/// A new event of `kind` with nothing else filled in; [`EventLog::push`]
/// gives it its sequence number and time.
pub fn new_event(kind: EventKind) -> Event {
    Event {
        seq: 0,
        at: 0,
        kind,
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

struct Ring {
    /// Consecutive seqs, oldest first; shared with readers, who copy them
    /// out after giving the lock back.
    buf: VecDeque<Arc<Record>>,
    cap: usize,
    /// The seq the next event gets; seqs start at 1 so 0 means "from the start".
    next_seq: u64,
    /// Events pushed since the start by kind (`kind as usize`), ok and not:
    /// what the metrics count, kept after the ring dropped the events.
    tally: Vec<Option<Tally>>,
}

/// How many events of one kind were pushed since the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub kind: EventKind,
    /// With `ok` set.
    pub ok: u64,
    /// With `ok` clear (a failed reload, a failed hook, ...).
    pub failed: u64,
}

/// The shared event log.
pub struct EventLog {
    ring: Mutex<Ring>,
    /// The newest seq, for waking long polls.
    latest: watch::Sender<u64>,
    epoch: UnixTime,
}

impl EventLog {
    /// A log holding at most `cap` events, for a daemon started at `epoch`.
    pub fn new(cap: usize, epoch: UnixTime) -> Self {
        EventLog {
            ring: Mutex::new(Ring {
                buf: VecDeque::with_capacity(cap.min(65536)),
                cap: cap.max(1),
                next_seq: 1,
                tally: Vec::new(),
            }),
            latest: watch::Sender::new(0),
            epoch,
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event at time `at`, giving it the next seq; returns it.
    pub fn push(&self, e: impl Into<Record>, at: UnixTime) -> u64 {
        // Built before the lock is taken; only its seq is set inside.
        let mut stored: Record = e.into();
        stored.at = at;
        let (kind, ok) = (stored.kind(), stored.ok());
        let seq = {
            let mut r = self.ring();
            let seq = r.next_seq;
            r.next_seq += 1;
            let i = kind as usize;
            if r.tally.len() <= i {
                r.tally.resize(i + 1, None);
            }
            let t = r.tally[i].get_or_insert(Tally {
                kind,
                ok: 0,
                failed: 0,
            });
            if ok {
                t.ok += 1;
            } else {
                t.failed += 1;
            }
            let dropped = if r.buf.len() == r.cap {
                r.buf.pop_front()
            } else {
                None
            };
            stored.seq = seq;
            r.buf.push_back(Arc::new(stored));
            // The dropped event is freed after the lock is given back.
            drop(r);
            drop(dropped);
            seq
        };
        self.latest.send_replace(seq);
        seq
    }

    /// Events with seq > `after`, at most [`MAX_BATCH`] of them and at most
    /// [`MAX_BATCH_BYTES`] as JSON.
    pub fn since(&self, after: u64) -> EventBatch {
        let (picked, gap, last_seq) = {
            let r = self.ring();
            let oldest = r.buf.front().map_or(r.next_seq, |e| e.seq);
            // The caller missed events if the first one it wants is gone. Seq 0
            // asks for whatever is held, so it never has a gap.
            let gap = (after > 0 && after.saturating_add(1) < oldest)
                .then_some(Gap { oldest_seq: oldest });
            // Seqs are consecutive: the first one wanted is found by index.
            let skip = usize::try_from(after.saturating_add(1).saturating_sub(oldest))
                .unwrap_or(usize::MAX)
                .min(r.buf.len());
            let mut bytes = 0;
            let picked: Vec<Arc<Record>> = r
                .buf
                .range(skip..)
                .take(MAX_BATCH)
                // Always at least one, so a reader makes progress.
                .take_while(|e| {
                    let json = json_bound(e);
                    bytes += json;
                    bytes <= MAX_BATCH_BYTES || bytes == json
                })
                .map(Arc::clone)
                .collect();
            let last_seq = picked.last().map_or(after.min(r.next_seq - 1), |e| e.seq);
            (picked, gap, last_seq)
        };
        EventBatch {
            events: picked.iter().map(|e| e.event()).collect(),
            last_seq,
            gap,
            epoch: self.epoch,
        }
    }

    /// Like [`EventLog::since`], but when nothing is newer than `after`,
    /// waits up to `wait` for the next event (long poll).
    pub async fn wait_since(&self, after: u64, wait: Duration) -> EventBatch {
        let mut rx = self.latest.subscribe();
        if *rx.borrow_and_update() <= after {
            let _ = tokio::time::timeout(wait, rx.wait_for(|&latest| latest > after)).await;
        }
        self.since(after)
    }

    /// Events pushed since the start, by kind (kinds never pushed are absent).
    pub fn tally(&self) -> Vec<Tally> {
        self.ring().tally.iter().flatten().copied().collect()
    }

    /// The daemon's start time, which tells readers about restarts.
    pub fn epoch(&self) -> UnixTime {
        self.epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_get_increasing_seqs_and_are_read_after_a_seq() {
        let log = EventLog::new(10, 5);
        for _ in 0..3 {
            log.push(new_event(EventKind::Offer), 100);
        }
        let b = log.since(1);
        assert_eq!(
            b.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(b.last_seq, 3);
        assert!(b.gap.is_none());
        assert_eq!(b.epoch, 5);
        let empty = log.since(3);
        assert!(empty.events.is_empty());
        assert_eq!(empty.last_seq, 3);
    }

    #[test]
    fn the_tally_counts_every_event_pushed_even_once_dropped() {
        let log = EventLog::new(2, 0);
        for _ in 0..5 {
            log.push(new_event(EventKind::Ack), 1);
        }
        let mut failed = new_event(EventKind::Reload);
        failed.ok = false;
        log.push(failed, 1);
        assert_eq!(
            log.tally(),
            [
                Tally {
                    kind: EventKind::Ack,
                    ok: 5,
                    failed: 0
                },
                Tally {
                    kind: EventKind::Reload,
                    ok: 0,
                    failed: 1
                },
            ]
        );
    }

    #[test]
    fn a_reader_that_fell_behind_is_told_the_oldest_seq_held() {
        let log = EventLog::new(3, 0);
        for _ in 0..10 {
            log.push(new_event(EventKind::Ack), 1);
        }
        let b = log.since(2);
        assert_eq!(b.gap, Some(Gap { oldest_seq: 8 }));
        assert_eq!(b.events.first().map(|e| e.seq), Some(8));
        assert!(log.since(7).gap.is_none(), "next wanted is the oldest held");
        assert!(log.since(0).gap.is_none(), "seq 0 asks for what is held");
    }

    #[test]
    fn a_wrapped_ring_is_read_from_the_seq_asked() {
        let log = EventLog::new(5, 0);
        for _ in 0..12 {
            log.push(new_event(EventKind::Ack), 1);
        }
        let seqs = |after| -> Vec<u64> { log.since(after).events.iter().map(|e| e.seq).collect() };
        assert_eq!(seqs(9), vec![10, 11, 12]);
        assert_eq!(seqs(7), vec![8, 9, 10, 11, 12]);
        assert_eq!(seqs(0), vec![8, 9, 10, 11, 12]);
        assert!(seqs(12).is_empty());
        let ahead = log.since(20);
        assert!(ahead.events.is_empty() && ahead.gap.is_none());
        assert_eq!(ahead.last_seq, 12, "a seq from the future is brought back");
    }

    #[test]
    fn the_largest_seq_asks_for_nothing_and_does_not_overflow() {
        let log = EventLog::new(10, 0);
        log.push(new_event(EventKind::Ack), 1);
        let b = log.since(u64::MAX);
        assert!(b.events.is_empty());
        assert!(b.gap.is_none());
    }

    #[test]
    fn one_batch_holds_at_most_max_batch_small_events() {
        let log = EventLog::new(5000, 0);
        for _ in 0..2500 {
            log.push(new_event(EventKind::Offer), 1);
        }
        let b = log.since(0);
        assert_eq!(b.events.len(), MAX_BATCH);
        assert_eq!(b.last_seq, MAX_BATCH as u64);
        assert_eq!(log.since(b.last_seq).events.len(), MAX_BATCH);
        assert_eq!(log.since(2000).events.len(), 500);
    }

    #[test]
    fn one_batch_stays_far_below_the_frame_limit_whatever_clients_sent() {
        // A client's strings are bounded (255 bytes), but JSON writes a
        // control byte as six: 1000 such events would make a reply larger
        // than the control API's frame limit, and every reader would fail.
        let log = EventLog::new(5000, 0);
        let hostile = "\u{1}".repeat(255);
        for _ in 0..3000 {
            let mut e = new_event(EventKind::Arrival);
            e.hostname = Some(hostile.clone());
            e.vendor_class = Some(hostile.clone());
            e.interface = Some(hostile.clone());
            e.detail = hostile.clone();
            log.push(e, 1);
        }
        let mut after = 0;
        let mut seen = 0;
        while seen < 3000 {
            let b = log.since(after);
            let bytes = serde_json::to_vec(&b).expect("json").len();
            assert!(bytes <= MAX_BATCH_BYTES, "{bytes} bytes in one batch");
            assert!(!b.events.is_empty(), "a batch always makes progress");
            seen += b.events.len();
            after = b.last_seq;
        }
    }

    #[tokio::test]
    async fn long_poll_returns_as_soon_as_an_event_arrives() {
        let log = std::sync::Arc::new(EventLog::new(10, 0));
        let l2 = log.clone();
        let waiter = tokio::spawn(async move { l2.wait_since(0, Duration::from_secs(30)).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        log.push(new_event(EventKind::Arrival), 1);
        let b = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken well before the 30 s wait")
            .expect("task");
        assert_eq!(b.events.len(), 1);
    }

    #[tokio::test]
    async fn long_poll_times_out_empty() {
        let log = EventLog::new(10, 0);
        let b = log.wait_since(0, Duration::from_millis(20)).await;
        assert!(b.events.is_empty());
    }
}
