//! Lease records and the in-memory lease index.
//!
//! The index is the hot path: the engine reads it, the server applies the
//! engine's effects to it, and the store keeps the durable copy. Its
//! ordered indexes (`index`) make choosing an address and finding what ran
//! out cost O(log n) however many records there are.

mod index;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::net::Ipv4Addr;

use crate::addr::{MacAddr, Range};
use index::Ranges;

pub use index::RangeIndex;

/// Seconds since the Unix epoch, UTC. Leases are kept as UTC instants and
/// only turned into local time for display.
pub type UnixTime = u64;

/// How the server recognises a client: option 61 when the client sends it,
/// otherwise its hardware type and address (RFC 2131 section 4.2).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey(pub Vec<u8>);

impl ClientKey {
    /// The key for a client that sent no client identifier: its hardware
    /// type followed by its hardware address, as RFC 2132 suggests for
    /// option 61 itself.
    pub fn from_hw(htype: u8, hw: &[u8]) -> Self {
        let mut v = Vec::with_capacity(hw.len() + 1);
        v.push(htype);
        v.extend_from_slice(hw);
        ClientKey(v)
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
    pub hostname: Option<String>,
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

/// A client's records: the most recent one, and all it holds.
#[derive(Debug, Default, Clone)]
struct ClientRecords {
    /// Cleared when that record goes, even if older ones remain.
    latest: Option<Ipv4Addr>,
    all: Vec<Ipv4Addr>,
}

/// The in-memory lease index: every known lease by address, each client's
/// most recent address, the records that end at a known time in end order,
/// and per dynamic range (see [`LeaseTable::index_ranges`]) the never-used
/// addresses and the records by end. Every index follows `insert` and
/// `remove`.
#[derive(Debug, Default, Clone)]
pub struct LeaseTable {
    by_ip: HashMap<Ipv4Addr, Lease>,
    by_client: HashMap<ClientKey, ClientRecords>,
    /// Offered, bound, observed and declined records by (end, address).
    by_end: BTreeSet<(UnixTime, Ipv4Addr)>,
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
            by_ip: HashMap::with_capacity(n),
            by_client: HashMap::with_capacity(n),
            ..Self::default()
        };
        for l in leases {
            t.insert(l);
        }
        t
    }

    /// The lease record for `ip`, in any state.
    pub fn get(&self, ip: Ipv4Addr) -> Option<&Lease> {
        self.by_ip.get(&ip)
    }

    /// The client's most recent lease record, in any state.
    pub fn for_client(&self, client: &ClientKey) -> Option<&Lease> {
        self.by_client
            .get(client)
            .and_then(|r| r.latest)
            .and_then(|ip| self.by_ip.get(&ip))
    }

    /// Every record of the client, in no particular order.
    pub fn records_of(&self, client: &ClientKey) -> impl Iterator<Item = &Lease> {
        self.by_client
            .get(client)
            .into_iter()
            .flat_map(|r| r.all.iter())
            .filter_map(|ip| self.by_ip.get(ip))
    }

    /// Inserts or replaces the record for `lease.ip`.
    pub fn insert(&mut self, lease: Lease) {
        if let Some(old) = self.by_ip.remove(&lease.ip) {
            let keep_latest = old.client == lease.client;
            self.unindex(&old, keep_latest);
        } else {
            self.addrs.insert(lease.ip);
        }
        self.index(&lease);
        self.by_ip.insert(lease.ip, lease);
    }

    /// Removes the record for `ip`.
    pub fn remove(&mut self, ip: Ipv4Addr) -> Option<Lease> {
        let old = self.by_ip.remove(&ip)?;
        self.addrs.remove(&ip);
        self.unindex(&old, false);
        Some(old)
    }

    fn index(&mut self, l: &Lease) {
        // Look up before `entry`: the key is cloned only for a new client.
        let r = match self.by_client.get_mut(&l.client) {
            Some(r) => r,
            None => self.by_client.entry(l.client.clone()).or_default(),
        };
        r.latest = Some(l.ip);
        r.all.push(l.ip);
        if index::ends_matter(l.state) {
            self.by_end.insert((l.ends, l.ip));
        }
        self.ranges.add(l);
    }

    /// Takes `l` (already out of `by_ip`) out of every index.
    fn unindex(&mut self, l: &Lease, keep_latest: bool) {
        if let Some(r) = self.by_client.get_mut(&l.client) {
            r.all.retain(|&ip| ip != l.ip);
            if r.latest == Some(l.ip) && !keep_latest {
                r.latest = None;
            }
            if r.all.is_empty() && r.latest.is_none() {
                self.by_client.remove(&l.client);
            }
        }
        self.by_end.remove(&(l.ends, l.ip));
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
        self.by_end
            .range(..=(at, Ipv4Addr::BROADCAST))
            .filter_map(|(_, ip)| self.by_ip.get(ip))
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
