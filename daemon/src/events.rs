//! The event ring buffer behind `events_since`: a bounded, sequence-numbered
//! log of what the daemon saw and did, read by long poll.
//!
//! Writers never block on readers: the buffer drops its oldest events when
//! full, and a reader that asks for a sequence number no longer held is told
//! so ([`Gap`]) and reloads.

mod compact;

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use berth_proto::{Event, EventBatch, EventKind, Gap, UnixTime};
use tokio::sync::watch;

use compact::Stored;

/// How many events one answer carries at most.
const MAX_BATCH: usize = 1000;

/// The most bytes one batch may take as JSON (by [`json_bound`]): a
/// quarter of the control API's frame limit, whatever clients put in
/// their host names.
pub const MAX_BATCH_BYTES: usize = berth_proto::MAX_FRAME_BYTES / 4;
const _: () = assert!(MAX_BATCH_BYTES * 4 <= berth_proto::MAX_FRAME_BYTES);

/// An upper bound on an event's size as JSON: JSON writes a control byte as
/// six, so every string counts six times, plus room for the fixed fields.
fn json_bound(e: &Stored) -> usize {
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
    buf: VecDeque<Stored>,
    cap: usize,
    /// The seq the next event gets; seqs start at 1 so 0 means "from the start".
    next_seq: u64,
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
            }),
            latest: watch::Sender::new(0),
            epoch,
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event at time `at`, giving it the next seq; returns it.
    pub fn push(&self, mut e: Event, at: UnixTime) -> u64 {
        let seq = {
            let mut r = self.ring();
            let seq = r.next_seq;
            r.next_seq += 1;
            if r.buf.len() == r.cap {
                r.buf.pop_front();
            }
            e.seq = seq;
            e.at = at;
            r.buf.push_back(Stored::new(e));
            seq
        };
        self.latest.send_replace(seq);
        seq
    }

    /// Events with seq > `after`, at most [`MAX_BATCH`] of them and at most
    /// [`MAX_BATCH_BYTES`] as JSON.
    pub fn since(&self, after: u64) -> EventBatch {
        let r = self.ring();
        let oldest = r.buf.front().map_or(r.next_seq, |e| e.seq);
        // The caller missed events if the first one it wants is gone. Seq 0
        // asks for whatever is held, so it never has a gap.
        let gap =
            (after > 0 && after.saturating_add(1) < oldest).then_some(Gap { oldest_seq: oldest });
        let mut bytes = 0;
        let events: Vec<Event> = r
            .buf
            .iter()
            .filter(|e| e.seq > after)
            .take(MAX_BATCH)
            // Always at least one, so a reader makes progress.
            .take_while(|e| {
                bytes += json_bound(e);
                bytes <= MAX_BATCH_BYTES || bytes == json_bound(e)
            })
            .map(Stored::event)
            .collect();
        let last_seq = events.last().map_or(after.min(r.next_seq - 1), |e| e.seq);
        EventBatch {
            events,
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
    fn the_largest_seq_asks_for_nothing_and_does_not_overflow() {
        let log = EventLog::new(10, 0);
        log.push(new_event(EventKind::Ack), 1);
        let b = log.since(u64::MAX);
        assert!(b.events.is_empty());
        assert!(b.gap.is_none());
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
