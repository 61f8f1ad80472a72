//! Lease records and the in-memory lease index.
//!
//! The index is the hot path: the engine reads it, the server applies the
//! engine's effects to it, and the store keeps the durable copy. Its
//! ordered indexes (`index`) make choosing an address and finding what ran
//! out cost O(log n) however many records there are.

mod index;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::net::Ipv4Addr;

use hashbrown::HashTable;
use hashbrown::hash_table::{Entry, Iter};
use smallvec::SmallVec;

use crate::addr::{AddrHash, MacAddr, Range};
use index::{EndKey, Ranges};

pub use index::RangeIndex;

/// Seconds since the Unix epoch, UTC. Leases are kept as UTC instants and
/// only turned into local time for display.
pub type UnixTime = u64;

/// How the server recognises a client: option 61 when the client sends it,
/// otherwise its hardware type and address (RFC 2131 section 4.2).
///
/// Keys of up to 16 bytes (hardware type and MAC are 7, most option 61
/// values are shorter than 16) live inline: a key per lease and per request
/// costs no allocation of its own.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ClientKey(SmallVec<[u8; 16]>);

impl ClientKey {
    /// The key for a client that sent no client identifier: its hardware
    /// type followed by its hardware address, as RFC 2132 suggests for
    /// option 61 itself.
    pub fn from_hw(htype: u8, hw: &[u8]) -> Self {
        let mut v = SmallVec::with_capacity(hw.len() + 1);
        v.push(htype);
        v.extend_from_slice(hw);
        ClientKey(v)
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for ClientKey {
    fn from(bytes: &[u8]) -> Self {
        ClientKey(SmallVec::from_slice(bytes))
    }
}

impl From<Vec<u8>> for ClientKey {
    fn from(bytes: Vec<u8>) -> Self {
        ClientKey(SmallVec::from_vec(bytes))
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where a lease is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseState {
    /// Offered and held for the client until `ends`; not durable.
    Offered,
    /// Acknowledged: the client may use the address until `ends`.
    Bound,
    /// The client released it; kept so the same client gets it back first.
    Released,
    /// The client declined it (address in use by someone else): quarantined until `ends`.
    Declined,
    /// The lease ran out; kept so the same client gets it back first.
    Expired,
    /// An ARP sweep found the address answered by this MAC without a lease:
    /// nobody else is offered it until `ends` (each sweep that hears it again
    /// extends it), and the MAC gets it when it asks.
    Observed,
}

impl LeaseState {
    /// Stable lowercase name, used by the store and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseState::Offered => "offered",
            LeaseState::Bound => "bound",
            LeaseState::Released => "released",
            LeaseState::Declined => "declined",
            LeaseState::Expired => "expired",
            LeaseState::Observed => "observed",
        }
    }

    /// The inverse of [`LeaseState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "offered" => LeaseState::Offered,
            "bound" => LeaseState::Bound,
            "released" => LeaseState::Released,
            "declined" => LeaseState::Declined,
            "expired" => LeaseState::Expired,
            "observed" => LeaseState::Observed,
            _ => return None,
        })
    }
}

/// One address's binding to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub client: ClientKey,
    pub mac: MacAddr,
    /// The host name: a static host's configured one, else what the client
    /// sent (option 12). A boxed `str`, 8 bytes less than a `String` in
    /// every record of the table.
    pub hostname: Option<Box<str>>,
    pub state: LeaseState,
    /// When the lease (or offer, or quarantine) started.
    pub starts: UnixTime,
    /// When it ends.
    pub ends: UnixTime,
}

impl Lease {
    /// Whether the address is spoken for at `now` (held, bound, observed or
    /// quarantined).
    pub fn is_active(&self, now: UnixTime) -> bool {
        match self.state {
            LeaseState::Released | LeaseState::Expired => false,
            LeaseState::Offered
            | LeaseState::Bound
            | LeaseState::Declined
            | LeaseState::Observed => self.ends > now,
        }
    }
}

/// Every record, by address. A table of records rather than a map from
/// address to record: the address is the record's own, so each entry
/// holds it once (8 bytes less a record, with the padding).
#[derive(Debug, Default, Clone)]
struct ByIp(HashTable<Lease>);

impl ByIp {
    fn with_capacity(n: usize) -> Self {
        ByIp(HashTable::with_capacity(n))
    }

    fn hash(ip: Ipv4Addr) -> u64 {
        AddrHash.hash_one(ip)
    }

    fn get(&self, ip: &Ipv4Addr) -> Option<&Lease> {
        self.0.find(Self::hash(*ip), |l| l.ip == *ip)
    }

    fn contains_key(&self, ip: &Ipv4Addr) -> bool {
        self.get(ip).is_some()
    }

    /// Puts `l` in, in place of any record for its address.
    fn insert(&mut self, l: Lease) {
        match self
            .0
            .entry(Self::hash(l.ip), |o| o.ip == l.ip, |o| Self::hash(o.ip))
        {
            Entry::Occupied(mut e) => *e.get_mut() = l,
            Entry::Vacant(e) => {
                e.insert(l);
            }
        }
    }

    fn remove(&mut self, ip: &Ipv4Addr) -> Option<Lease> {
        let e = self.0.find_entry(Self::hash(*ip), |l| l.ip == *ip).ok()?;
        Some(e.remove().0)
    }

    fn values(&self) -> Iter<'_, Lease> {
        self.0.iter()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One record in the client index: its address, and whether it is its
/// client's most recent one. The client is the record's own (in `by_ip`),
/// so the index stores no key: 8 bytes a record instead of a copy of the
/// client id and a list per client.
#[derive(Debug, Clone, Copy)]
struct ClientSlot {
    ip: Ipv4Addr,
    /// Cleared when a newer record of the client comes; gone with the
    /// record, even if older ones remain.
    latest: bool,
}

/// The in-memory lease index: every known lease by address, each client's
/// most recent address, the records that end at a known time in end order,
/// and per dynamic range (see [`LeaseTable::index_ranges`]) the never-used
/// addresses and the records by end. Every index follows `insert` and
/// `remove`.
#[derive(Debug, Default, Clone)]
pub struct LeaseTable {
    by_ip: ByIp,
    /// Every record, by the hash of its client (see [`ClientSlot`]).
    by_client: HashTable<ClientSlot>,
    hasher: RandomState,
    /// Offered, bound, observed and declined records by (end, address).
    by_end: BTreeSet<EndKey>,
    /// Every record's address, in order: list pages seek into it.
    addrs: BTreeSet<Ipv4Addr>,
    ranges: Ranges,
}

impl LeaseTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the index from stored leases (e.g. at start).
    pub fn from_leases(leases: impl IntoIterator<Item = Lease>) -> Self {
        let leases = leases.into_iter();
        // Sized once: growing a million-entry map step by step rehashes
        // (and moves) every record about twenty times.
        let (n, _) = leases.size_hint();
        let mut t = LeaseTable {
            by_ip: ByIp::with_capacity(n),
            by_client: HashTable::with_capacity(n),
            ..Self::default()
        };
        // The end index is built once, from sorted keys, rather than by a
        // million inserts into a B-tree.
        let mut ends = Vec::with_capacity(n);
        let mut addrs = Vec::with_capacity(n);
        for l in leases {
            if t.by_ip.contains_key(&l.ip) {
                // Not from a store (addresses are its keys), but correct.
                t.insert(l);
                continue;
            }
            t.index_client(&l);
            if index::ends_matter(l.state) {
                ends.push(EndKey::of(&l));
            }
            t.ranges.add(&l);
            addrs.push(l.ip);
            t.by_ip.insert(l);
        }
        // Collecting sorts once and builds each tree in bulk.
        if t.by_end.is_empty() {
            t.by_end = ends.into_iter().collect();
        } else {
            t.by_end.extend(ends);
        }
        if t.addrs.is_empty() {
            t.addrs = addrs.into_iter().collect();
        } else {
            t.addrs.extend(addrs);
        }
        t
    }

    /// The lease record for `ip`, in any state.
    pub fn get(&self, ip: Ipv4Addr) -> Option<&Lease> {
        self.by_ip.get(&ip)
    }

    /// The client's most recent lease record, in any state.
    pub fn for_client(&self, client: &ClientKey) -> Option<&Lease> {
        self.slots_of(client)
            .find(|(slot, _)| slot.latest)
            .map(|(_, l)| l)
    }

    /// Every record of the client, in no particular order.
    pub fn records_of(&self, client: &ClientKey) -> impl Iterator<Item = &Lease> {
        self.slots_of(client).map(|(_, l)| l)
    }

    /// The client's slots with their records (other clients that share
    /// the hash are left out by comparing the record's client).
    fn slots_of<'a>(
        &'a self,
        client: &ClientKey,
    ) -> impl Iterator<Item = (&'a ClientSlot, &'a Lease)> {
        self.by_client
            .iter_hash(self.hasher.hash_one(client))
            .filter_map(move |slot| {
                let l = self.by_ip.get(&slot.ip)?;
                (l.client == *client).then_some((slot, l))
            })
    }

    /// Inserts or replaces the record for `lease.ip`.
    pub fn insert(&mut self, lease: Lease) {
        if let Some(old) = self.by_ip.remove(&lease.ip) {
            self.unindex(&old);
        } else {
            self.addrs.insert(lease.ip);
        }
        self.index(&lease);
        self.by_ip.insert(lease);
    }

    /// Removes the record for `ip`.
    pub fn remove(&mut self, ip: Ipv4Addr) -> Option<Lease> {
        let old = self.by_ip.remove(&ip)?;
        self.addrs.remove(&ip);
        self.unindex(&old);
        Some(old)
    }

    /// Indexes `l`, which is not in `by_ip` yet.
    fn index(&mut self, l: &Lease) {
        self.index_client(l);
        if index::ends_matter(l.state) {
            self.by_end.insert(EndKey::of(l));
        }
        self.ranges.add(l);
    }

    /// Puts `l` (not in `by_ip` yet) in the client index as its client's latest.
    fn index_client(&mut self, l: &Lease) {
        let hash = self.hasher.hash_one(&l.client);
        let by_ip = &self.by_ip;
        // The newest record is the client's latest; its others no longer.
        for slot in self.by_client.iter_hash_mut(hash) {
            if slot.latest && by_ip.get(&slot.ip).is_some_and(|o| o.client == l.client) {
                slot.latest = false;
            }
        }
        let hasher = &self.hasher;
        self.by_client.insert_unique(
            hash,
            ClientSlot {
                ip: l.ip,
                latest: true,
            },
            |slot| {
                by_ip
                    .get(&slot.ip)
                    .map_or(0, |o| hasher.hash_one(&o.client))
            },
        );
    }

    /// Takes `l` (already out of `by_ip`) out of every index.
    fn unindex(&mut self, l: &Lease) {
        // An address has one record, so one slot: found by address.
        if let Ok(slot) = self
            .by_client
            .find_entry(self.hasher.hash_one(&l.client), |s| s.ip == l.ip)
        {
            slot.remove();
        }
        self.by_end.remove(&EndKey::of(l));
        self.ranges.drop_record(l);
    }

    /// Every record, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.by_ip.values()
    }

    /// Records after `after` (all when `None`), by address: a list page
    /// seeks here without touching the records before it.
    pub fn after(&self, after: Option<Ipv4Addr>) -> impl Iterator<Item = &Lease> {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.addrs
            .range((from, Bound::Unbounded))
            .filter_map(|ip| self.by_ip.get(ip))
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.by_ip.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_ip.is_empty()
    }

    /// Offered, bound, observed and declined records that end at or before `at`,
    /// the earliest first: holds, leases and quarantines that ran out.
    pub fn ending_by(&self, at: UnixTime) -> impl Iterator<Item = &Lease> {
        // Past 2106 every key holds the same saturated end, so the range
        // can hold records that end after `at`: their own end decides.
        self.by_end
            .range(..=EndKey::new(at, Ipv4Addr::BROADCAST))
            .filter_map(|k| self.by_ip.get(&k.ip()))
            .filter(move |l| l.ends <= at)
    }

    /// (Re)builds the per-range indexes for these dynamic ranges, leaving the
    /// `excluded` addresses (static hosts) out of them. O(ranges x excluded +
    /// records); `pool::Layout::index` is the usual caller.
    pub fn index_ranges(
        &mut self,
        ranges: impl IntoIterator<Item = Range>,
        excluded: impl IntoIterator<Item = Ipv4Addr>,
    ) {
        self.ranges = Ranges::build(ranges, excluded, self.by_ip.values());
    }

    /// The index of range `r`: the table's own if it was built for `r`,
    /// else one built now from every record (O(records), and with no
    /// exclusions: correct, but the server should index its ranges).
    pub fn range_index(&self, r: &Range) -> Cow<'_, RangeIndex> {
        match self.ranges.get(r) {
            Some(ix) => Cow::Borrowed(ix),
            None => Cow::Owned(RangeIndex::build(*r, &HashSet::new(), self.by_ip.values())),
        }
    }

    /// The ranges the table is indexed for, lowest first.
    pub fn indexed_ranges(&self) -> impl Iterator<Item = Range> + '_ {
        self.ranges.iter().map(|ix| ix.range())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_client_keys_live_inline_in_the_space_of_a_vec() {
        assert_eq!(size_of::<ClientKey>(), size_of::<Vec<u8>>());
        let hw = ClientKey::from_hw(1, &[2, 0, 0, 0, 0, 1]);
        assert!(!hw.0.spilled(), "type and MAC: 7 bytes");
        assert_eq!(hw.as_bytes(), [1, 2, 0, 0, 0, 0, 1]);
        let long: Vec<u8> = (0..40).collect();
        let key = ClientKey::from(long.as_slice());
        assert!(key.0.spilled());
        assert_eq!(key, ClientKey::from(long.clone()));
        assert_eq!(key.as_bytes(), long.as_slice());
    }

    fn rec(last: u8, client: u8, starts: UnixTime) -> Lease {
        Lease {
            ip: Ipv4Addr::new(192, 0, 2, last),
            client: ClientKey::from(vec![1, 2, 0, 0, 0, 0, client]),
            mac: MacAddr([2, 0, 0, 0, 0, client]),
            hostname: None,
            state: LeaseState::Bound,
            starts,
            ends: starts + 3600,
        }
    }

    fn ips<'a>(it: impl Iterator<Item = &'a Lease>) -> Vec<u8> {
        let mut v: Vec<u8> = it.map(|l| l.ip.octets()[3]).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_table_built_from_stored_leases_lists_them_in_address_order() {
        // Regression: the bulk build at start left the address index (the
        // one list pages walk) empty, so `berth leases` showed nothing
        // after a restart.
        let t = LeaseTable::from_leases([rec(12, 1, 0), rec(10, 2, 0), rec(11, 3, 0)]);
        let listed: Vec<u8> = t.after(None).map(|l| l.ip.octets()[3]).collect();
        assert_eq!(listed, vec![10, 11, 12]);
        let rest: Vec<u8> = t
            .after(Some(Ipv4Addr::new(192, 0, 2, 10)))
            .map(|l| l.ip.octets()[3])
            .collect();
        assert_eq!(rest, vec![11, 12]);
    }

    #[test]
    fn end_keys_order_as_end_then_address_and_ends_past_2106_stay_last() {
        let ip = |d: u8| Ipv4Addr::new(192, 0, 2, d);
        let pairs = [
            (5, ip(9)),
            (5, ip(10)),
            (6, ip(1)),
            (u64::from(u32::MAX), ip(0)),
        ];
        for w in pairs.windows(2) {
            assert!(EndKey::new(w[0].0, w[0].1) < EndKey::new(w[1].0, w[1].1));
        }
        let far = u64::from(u32::MAX) + 1_000;
        assert!(EndKey::new(far, ip(1)) > EndKey::new(u64::from(u32::MAX) - 1, ip(255)));

        // A record ending past the key's reach is indexed, never due before
        // then, and leaves every index when it goes.
        let r = Range {
            start: ip(0),
            end: ip(255),
        };
        let mut t = LeaseTable::new();
        t.index_ranges([r], []);
        let mut l = rec(7, 1, 0);
        l.ends = far;
        t.insert(l.clone());
        t.insert(rec(8, 2, 0));
        let due: Vec<u8> = t
            .ending_by(far - 1_000_000)
            .map(|l| l.ip.octets()[3])
            .collect();
        assert_eq!(due, vec![8]);
        assert_eq!(t.ending_by(far).count(), 2);
        // Keys of both ends are the same saturated instant; only the
        // record's own end says whether it is due.
        let mut later = rec(9, 3, 0);
        later.ends = far + 10;
        t.insert(later);
        let due: Vec<u8> = t.ending_by(far).map(|l| l.ip.octets()[3]).collect();
        assert_eq!(due, vec![8, 7]);
        t.remove(ip(9));
        let held: Vec<u8> = t
            .range_index(&r)
            .held()
            .map(|(_, a)| a.octets()[3])
            .collect();
        assert_eq!(held, vec![8, 7]);
        t.remove(l.ip);
        t.remove(ip(8));
        assert!(t.by_end.is_empty() && t.is_empty());
        assert_eq!(t.range_index(&r).held().count(), 0);
    }

    #[test]
    fn the_client_index_follows_inserts_replacements_and_removals() {
        let mut t = LeaseTable::new();
        let (a, b) = (rec(10, 1, 0).client, rec(10, 2, 0).client);
        t.insert(rec(10, 1, 0));
        t.insert(rec(11, 1, 5));
        t.insert(rec(12, 2, 5));
        assert_eq!(t.for_client(&a).map(|l| l.ip.octets()[3]), Some(11));
        assert_eq!(ips(t.records_of(&a)), vec![10, 11]);
        assert_eq!(ips(t.records_of(&b)), vec![12]);

        // The same record renewed stays the latest.
        t.insert(rec(11, 1, 9));
        assert_eq!(t.for_client(&a).map(|l| l.starts), Some(9));
        // Another client takes .10 over: gone from a's records.
        t.insert(rec(10, 2, 10));
        assert_eq!(ips(t.records_of(&a)), vec![11]);
        assert_eq!(t.for_client(&b).map(|l| l.ip.octets()[3]), Some(10));
        assert_eq!(ips(t.records_of(&b)), vec![10, 12]);

        // Removing the latest leaves the older record without a latest.
        t.remove(Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(t.for_client(&b), None);
        assert_eq!(ips(t.records_of(&b)), vec![12]);
        t.remove(Ipv4Addr::new(192, 0, 2, 12));
        t.remove(Ipv4Addr::new(192, 0, 2, 11));
        assert_eq!(t.records_of(&a).count() + t.records_of(&b).count(), 0);
        assert!(t.by_client.is_empty());
    }
}
