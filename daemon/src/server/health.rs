//! The store's health as the core sees it: when a write last became
//! durable, since when writes fail, and how many wait. It decides three
//! things: the events operators see when the store starts failing and when
//! it recovers, the systemd STATUS line, and whether the watchdog is still
//! pinged (a daemon that cannot make anything durable for too long is not
//! healthy, whatever its event loop says).

use berth_proto::{Event, EventKind, StoreHealth as Info};

use crate::events::new_event;
use crate::lease::UnixTime;

/// Changes waiting for the store at once. Past this a request that needs a
/// write is dropped (counted `store_backlog`) instead of queued: a stuck
/// store must not grow memory without bound.
pub(crate) const MAX_IN_FLIGHT: usize = 8192;

/// What the core tracks.
#[derive(Debug, Default)]
pub(crate) struct Health {
    last_ok: Option<UnixTime>,
    failing_since: Option<UnixTime>,
    last_error: Option<String>,
}

impl Health {
    /// A change became durable at `at`; the event to publish if this ends a
    /// failure.
    pub(crate) fn ok(&mut self, at: UnixTime) -> Option<Event> {
        self.last_ok = Some(at);
        let since = self.failing_since.take()?;
        self.last_error = None;
        let mut e = new_event(EventKind::StoreRecovered);
        e.detail = format!("writes succeed again after {}s", at.saturating_sub(since));
        Some(e)
    }

    /// A write failed at `at`; the event to publish if this starts a failure.
    pub(crate) fn failed(&mut self, at: UnixTime, error: &str) -> Option<Event> {
        self.last_error = Some(error.to_string());
        if self.failing_since.is_some() {
            return None;
        }
        self.failing_since = Some(at);
        let mut e = new_event(EventKind::StoreFailing);
        e.ok = false;
        e.detail = format!("writes fail, no lease can be granted or renewed: {error}");
        Some(e)
    }

    /// A wall-clock jump of `delta` seconds: the times move with it, so a
    /// jump is not mistaken for a long stall.
    pub(crate) fn shift(&mut self, delta: i64) {
        self.last_ok = self.last_ok.map(|t| t.saturating_add_signed(delta));
        self.failing_since = self.failing_since.map(|t| t.saturating_add_signed(delta));
    }

    /// Whether writes have failed, with none succeeding, for `stall` seconds
    /// or more: the watchdog is no longer pinged.
    pub(crate) fn stalled(&self, now: UnixTime, stall: u32) -> bool {
        self.failing_since
            .is_some_and(|since| now.saturating_sub(since) >= u64::from(stall))
    }

    /// The systemd STATUS text.
    pub(crate) fn status_line(&self) -> String {
        match (&self.failing_since, &self.last_error) {
            (Some(_), Some(e)) => format!("serving DHCP; store FAILING: {e}"),
            _ => "serving DHCP".to_string(),
        }
    }

    /// For `berth status`.
    pub(crate) fn info(&self, pending: usize) -> Info {
        Info {
            ok: self.failing_since.is_none(),
            last_ok: self.last_ok.map(time),
            failing_since: self.failing_since.map(time),
            last_error: self.last_error.clone(),
            pending_writes: pending as u64,
            unsaved_renewals: 0,
        }
    }
}

fn time(t: UnixTime) -> berth_proto::UnixTime {
    i64::try_from(t).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_when_failing_starts_and_one_when_it_ends() {
        let mut h = Health::default();
        assert!(h.ok(10).is_none(), "healthy stays quiet");
        let e = h.failed(20, "disk full").expect("failing starts");
        assert_eq!(e.kind, EventKind::StoreFailing);
        assert!(!e.ok && e.detail.contains("disk full"));
        assert!(
            h.failed(25, "disk full").is_none(),
            "no repeat while failing"
        );
        assert!(!h.info(3).ok);
        assert_eq!(h.info(3).pending_writes, 3);
        assert!(h.status_line().contains("FAILING"));
        assert!(!h.stalled(79, 60) && h.stalled(80, 60));
        let e = h.ok(90).expect("recovery");
        assert_eq!(e.kind, EventKind::StoreRecovered);
        assert!(h.info(0).ok && !h.stalled(1000, 60));
        assert_eq!(h.status_line(), "serving DHCP");
    }
}
