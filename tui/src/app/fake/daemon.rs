//! The fake daemon's state and what it does by itself: events pushed to
//! long polls, clients arriving, promoted clients moving.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_proto::{ApiError, ErrorKind, Event, EventKind, LeaseKind, LeaseState, UnixTime};
use tokio::sync::Notify;

use super::demo::{DemoData, event, lease};

/// Events the fake keeps; older ones fall off (and callers get a gap).
const RING: usize = 256;

/// A host name the real daemon would take (berth-proto's shared rule).
pub(super) fn checked_name(name: &str) -> Result<(), ApiError> {
    berth_proto::parse::check_hostname(name)
        .map_err(|e| ApiError::new(ErrorKind::Invalid, e.to_string()))
}

pub(super) fn unix_now() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(super) struct State {
    /// What the fake serves.
    pub(super) data: DemoData,
    /// The last [`RING`] events, oldest first.
    pub(super) ring: VecDeque<Event>,
    next_seq: u64,
    read_only: bool,
    /// After a promotion, the client "comes back" on its static address
    /// this much later; `None` leaves it moving.
    pub(super) move_after: Option<Duration>,
    arrivals: u64,
}

/// The fake daemon: cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct FakeDaemon {
    state: Arc<Mutex<State>>,
    /// Woken when an event is pushed (for long polls).
    pub(super) news: Arc<Notify>,
}

impl FakeDaemon {
    /// A daemon holding `data`; its history becomes the event ring.
    pub fn new(data: DemoData) -> Self {
        let ring: VecDeque<Event> = data.events.iter().cloned().collect();
        let next_seq = ring.back().map_or(1, |e| e.seq + 1);
        FakeDaemon {
            state: Arc::new(Mutex::new(State {
                data,
                ring,
                next_seq,
                read_only: false,
                move_after: None,
                arrivals: 0,
            })),
            news: Arc::new(Notify::new()),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a broken test; the
        // data is still usable for a fake.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes every change answer PermissionDenied, like a non-admin peer.
    pub fn set_read_only(&self, yes: bool) {
        self.lock().read_only = yes;
    }

    /// Lets promoted clients arrive on their static address after `after`.
    pub fn set_move_after(&self, after: Option<Duration>) {
        self.lock().move_after = after;
    }

    /// Appends an event (its seq is assigned here) and wakes long polls.
    pub fn push(&self, mut e: Event) {
        {
            let mut s = self.lock();
            e.seq = s.next_seq;
            s.next_seq += 1;
            s.ring.push_back(e);
            while s.ring.len() > RING {
                s.ring.pop_front();
            }
        }
        self.news.notify_waiters();
    }

    /// A new unknown client shows up and gets a dynamic lease in the first
    /// range: arrival, offer and ack events.
    pub fn arrive(&self, hostname: Option<&str>, vendor: Option<&str>) {
        let now = unix_now();
        let (mac, addr, iface) = {
            let mut s = self.lock();
            s.arrivals += 1;
            let n = s.arrivals;
            let mac = format!(
                "02:be:{:02x}:{:02x}:{:02x}:{:02x}",
                n >> 24 & 0xff,
                n >> 16 & 0xff,
                n >> 8 & 0xff,
                n & 0xff
            );
            let Some(range) = s.data.pools.first().cloned() else {
                return;
            };
            let used: std::collections::HashSet<Ipv4Addr> =
                s.data.leases.iter().map(|l| l.ip).collect();
            let Some(addr) = (u32::from(range.start)..=u32::from(range.end))
                .map(Ipv4Addr::from)
                .find(|a| !used.contains(a))
            else {
                return;
            };
            let mut l = lease(
                &addr.to_string(),
                &mac,
                hostname,
                LeaseKind::Dynamic,
                LeaseState::Bound,
                now,
                now + 7200,
            );
            l.subnet = Some(range.subnet.clone());
            s.data.leases.push(l);
            // The fake's own new lease, counted in its canned figures.
            if let Some(p) = s.data.pools.first_mut() {
                p.leased += 1;
                p.free = p.free.saturating_sub(1);
            }
            s.data.leases.sort_by_key(|l| l.ip);
            (mac, addr, if n % 3 == 0 { "eth2" } else { "eth1" })
        };
        for (kind, with_ip) in [
            (EventKind::Arrival, false),
            (EventKind::Offer, true),
            (EventKind::Ack, true),
        ] {
            let mut e = event(0, now, kind);
            e.mac = Some(mac.clone());
            e.ip = with_ip.then_some(addr);
            e.hostname = hostname.map(str::to_string);
            e.vendor_class = vendor.map(str::to_string);
            e.interface = Some(iface.to_string());
            e.unknown = true;
            self.push(e);
        }
    }

    pub(super) fn check_admin(&self) -> Result<(), ApiError> {
        if self.lock().read_only {
            Err(ApiError::new(
                ErrorKind::PermissionDenied,
                "peer uid 1000 may read but not change (not in group berth-admin)",
            ))
        } else {
            Ok(())
        }
    }

    pub(super) fn finish_move(&self, mac: String, to: Ipv4Addr) {
        let now = unix_now();
        let from = {
            let mut s = self.lock();
            let Some(l) = s.data.leases.iter_mut().find(|l| l.mac == mac) else {
                return;
            };
            let from = l.ip;
            l.ip = to;
            l.kind = LeaseKind::Static;
            l.moving_to = None;
            l.starts = now;
            l.ends = now + 7200;
            s.data.leases.sort_by_key(|l| l.ip);
            from
        };
        let mut nak = event(0, now, EventKind::Nak);
        nak.mac = Some(mac.clone());
        nak.ip = Some(from);
        nak.ok = false;
        nak.detail = format!("moved to its static address {to}");
        self.push(nak);
        let mut ack = event(0, now, EventKind::Ack);
        ack.mac = Some(mac);
        ack.ip = Some(to);
        self.push(ack);
    }
}
