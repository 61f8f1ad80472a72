//! An in-memory [`Store`] for tests of other modules.
//!
//! Clones share one state, so a test can keep a handle after moving a clone
//! into a [`super::Writer`], then inspect the contents or inject failures.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{Follower, Learned, Lost, Store, StoreError, StoredHost, Write};
use crate::addr::MacAddr;
use crate::blocks::Block;
use crate::lease::Lease;

#[derive(Debug, Default)]
struct Inner {
    leases: BTreeMap<Ipv4Addr, Lease>,
    hosts: BTreeMap<String, StoredHost>,
    blocks: BTreeMap<MacAddr, Block>,
    fail_next: usize,
    rejected: BTreeSet<Ipv4Addr>,
    /// Addresses "another daemon" holds: a put on one is refused as a lost claim.
    taken: BTreeMap<Ipv4Addr, Lease>,
    applied: u64,
    /// Set by [`MemoryStore::shared`]: the store acts as one other daemons
    /// write too, and [`MemoryStore::announce`] plays their changes.
    shared: bool,
    feed: Option<tokio::sync::mpsc::Sender<Learned>>,
}

/// A non-durable store with the same all-or-nothing `apply` as the real ones.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that already holds `leases` (as if loaded after a restart).
    pub fn with_leases(leases: impl IntoIterator<Item = Lease>) -> Self {
        let store = Self::new();
        store.lock().leases = leases.into_iter().map(|l| (l.ip, l)).collect();
        store
    }

    // A panicking test thread must not hide the state from the others.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Make the next call to [`Store::apply`] fail without changing anything.
    /// Calling it `n` times fails the next `n` applies.
    pub fn fail_next_apply(&self) {
        self.lock().fail_next += 1;
    }

    /// Make every batch that writes or deletes `ip` fail (as a constraint
    /// violation would) until [`MemoryStore::allow_ip`]. Simulates one bad
    /// request inside a group commit.
    pub fn reject_ip(&self, ip: Ipv4Addr) {
        self.lock().rejected.insert(ip);
    }

    /// Undo [`MemoryStore::reject_ip`].
    pub fn allow_ip(&self, ip: Ipv4Addr) {
        self.lock().rejected.remove(&ip);
    }

    /// Make `holder.ip` another daemon's: the next put on that address is
    /// refused as a lost claim (as a shared PostgreSQL would refuse it), and
    /// `holder` becomes the stored lease. Once.
    pub fn taken_by_another(&self, holder: Lease) {
        self.lock().taken.insert(holder.ip, holder);
    }

    /// A store that other daemons write too, as far as the server can
    /// tell: it follows it ([`Store::follow`]), and
    /// [`MemoryStore::announce`] plays the others' changes.
    pub fn shared() -> Self {
        let s = Self::new();
        s.lock().shared = true;
        s
    }

    /// Hands `learned` to the server following this store, as if read
    /// back after another daemon's writes. False if nobody follows (yet).
    pub fn announce(&self, learned: Learned) -> bool {
        let feed = self.lock().feed.clone();
        feed.is_some_and(|f| f.try_send(learned).is_ok())
    }

    /// The stored leases, sorted by address.
    pub fn leases(&self) -> Vec<Lease> {
        self.lock().leases.values().cloned().collect()
    }

    /// How many batches have been applied successfully.
    pub fn applied_batches(&self) -> u64 {
        self.lock().applied
    }
}

impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError> {
        Ok(self.leases())
    }

    fn load_hosts(&mut self) -> Result<Vec<StoredHost>, StoreError> {
        Ok(self.lock().hosts.values().cloned().collect())
    }

    fn load_blocks(&mut self) -> Result<Vec<Block>, StoreError> {
        Ok(self.lock().blocks.values().copied().collect())
    }

    fn follow(&self, tx: tokio::sync::mpsc::Sender<Learned>) -> Option<Follower> {
        let mut inner = self.lock();
        if !inner.shared {
            return None;
        }
        inner.feed = Some(tx);
        Some(Follower::new(()))
    }

    fn apply(&mut self, batch: &[Write]) -> Result<Vec<Lost>, StoreError> {
        let mut inner = self.lock();
        if inner.fail_next > 0 {
            inner.fail_next -= 1;
            return Err(StoreError::Memory(
                "injected failure (fail_next_apply)".into(),
            ));
        }
        // Check the whole batch before touching anything: all or nothing.
        for w in batch {
            let ip = match w {
                Write::PutLease(l) => l.ip,
                Write::DeleteLease(ip) => *ip,
                Write::PutHost(h) => h.ip,
                _ => continue,
            };
            if inner.rejected.contains(&ip) {
                return Err(StoreError::Memory(format!(
                    "injected failure: {ip} is rejected"
                )));
            }
        }
        let mut lost = Vec::new();
        for (index, w) in batch.iter().enumerate() {
            match w {
                Write::PutLease(l) => match inner.taken.remove(&l.ip) {
                    Some(holder) => {
                        inner.leases.insert(l.ip, holder.clone());
                        lost.push(Lost {
                            index,
                            ip: l.ip,
                            holder: Some(holder),
                        });
                    }
                    None => {
                        inner.leases.insert(l.ip, l.clone());
                    }
                },
                Write::DeleteLease(ip) => {
                    inner.leases.remove(ip);
                }
                Write::PutHost(h) => {
                    inner.hosts.insert(h.name.clone(), h.clone());
                }
                Write::DeleteHost(name) => {
                    inner.hosts.remove(name);
                }
                Write::PutBlock(b) => {
                    inner.blocks.insert(b.mac, *b);
                }
                Write::DeleteBlock(mac) => {
                    inner.blocks.remove(mac);
                }
            }
        }
        inner.applied += 1;
        Ok(lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::MacAddr;
    use crate::lease::{ClientKey, LeaseState};

    fn lease(last: u8) -> Lease {
        Lease {
            ip: Ipv4Addr::new(10, 0, 0, last),
            client: ClientKey::from(vec![1, last]),
            mac: MacAddr([2, 0, 0, 0, 0, last]),
            hostname: None,
            state: LeaseState::Bound,
            starts: 1,
            ends: 2,
        }
    }

    #[test]
    fn put_delete_load() {
        let mut s = MemoryStore::with_leases([lease(1)]);
        s.apply(&[Write::PutLease(lease(2)), Write::DeleteLease(lease(1).ip)])
            .expect("apply");
        assert_eq!(s.load_leases().expect("load"), vec![lease(2)]);
        assert_eq!(s.applied_batches(), 1);
        assert_eq!(s.backend(), "memory");
    }

    #[test]
    fn fail_next_apply_fails_once_and_changes_nothing() {
        let mut s = MemoryStore::new();
        let handle = s.clone();
        handle.fail_next_apply();
        assert!(s.apply(&[Write::PutLease(lease(1))]).is_err());
        assert!(handle.leases().is_empty());
        s.apply(&[Write::PutLease(lease(1))]).expect("second apply");
        assert_eq!(handle.leases(), vec![lease(1)]);
    }

    #[test]
    fn rejected_ip_fails_whole_batch() {
        let mut s = MemoryStore::new();
        s.reject_ip(lease(2).ip);
        let batch = [Write::PutLease(lease(1)), Write::PutLease(lease(2))];
        assert!(s.apply(&batch).is_err());
        assert!(s.leases().is_empty());
        s.allow_ip(lease(2).ip);
        s.apply(&batch).expect("allowed");
        assert_eq!(s.leases().len(), 2);
    }
}
