//! "Arrival": a client the daemon has never seen. Derived from durable
//! state: a client with any lease record (bound, released, expired: the
//! store keeps them) has been seen, across restarts. A short, bounded
//! memory of the arrivals just announced keeps a client's DISCOVER and
//! REQUEST (before its lease is written) one arrival, not two.

use std::collections::{HashSet, VecDeque};

use crate::lease::{ClientKey, LeaseTable};

/// How many announced arrivals are remembered, oldest forgotten first.
const RECENT: usize = 4096;

/// The arrivals announced lately.
#[derive(Debug, Default)]
pub(crate) struct Arrivals {
    order: VecDeque<ClientKey>,
    set: HashSet<ClientKey>,
}

impl Arrivals {
    /// Whether `client` is an arrival now (and, if so, remembers it): it
    /// has no lease record in `table` and was not announced lately.
    pub fn arrives(&mut self, client: &ClientKey, table: &LeaseTable) -> bool {
        if table.for_client(client).is_some() || self.set.contains(client) {
            return false;
        }
        if self.order.len() == RECENT
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(client.clone());
        self.set.insert(client.clone());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::MacAddr;
    use crate::lease::{Lease, LeaseState};

    fn key(n: u32) -> ClientKey {
        ClientKey::from(n.to_be_bytes().to_vec())
    }

    #[test]
    fn a_client_with_a_lease_record_has_been_seen() {
        let mut t = LeaseTable::new();
        t.insert(Lease {
            ip: "192.0.2.10".parse().expect("ip"),
            client: key(1),
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            hostname: None,
            state: LeaseState::Expired,
            starts: 1,
            ends: 2,
        });
        let mut a = Arrivals::default();
        assert!(!a.arrives(&key(1), &t), "history counts");
        assert!(a.arrives(&key(2), &t));
        assert!(!a.arrives(&key(2), &t), "announced once");
    }

    #[test]
    fn the_memory_of_announced_arrivals_is_bounded() {
        let t = LeaseTable::new();
        let mut a = Arrivals::default();
        for n in 0..(RECENT as u32 + 10) {
            assert!(a.arrives(&key(n), &t));
        }
        assert_eq!(a.order.len(), RECENT);
        assert_eq!(a.set.len(), RECENT);
        assert!(a.arrives(&key(0), &t), "the oldest was forgotten");
    }
}
