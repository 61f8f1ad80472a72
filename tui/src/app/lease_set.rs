//! The TUI's copy of the daemon's leases: kept by address, changed in
//! place by the worker's reports (a page of the first load, the leases of
//! an address range or of a MAC refetched after events), and the leases
//! view's filtered, sorted rows cached until the data, the filter or the
//! sort changes. With 100,000 leases a tick or a key press costs no
//! re-filtering, and an event costs a splice, not a reload.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::net::Ipv4Addr;

use berth_proto::LeaseInfo;

use super::model::LeaseSort;

/// One lease with what filtering and sorting compare, computed once.
#[derive(Debug, Clone)]
struct Row {
    info: LeaseInfo,
    /// The fields the filter searches, lowercased, NUL-separated.
    hay: String,
    /// The hostname, lowercased, for sorting.
    host: String,
}

impl Row {
    fn new(info: LeaseInfo) -> Self {
        let to = info.moving_to.map(|a| a.to_string()).unwrap_or_default();
        let hay = [
            info.ip.to_string().as_str(),
            info.mac.as_str(),
            info.hostname.as_deref().unwrap_or(""),
            info.kind.as_str(),
            info.state.as_str(),
            to.as_str(),
            info.subnet.as_deref().unwrap_or(""),
        ]
        .join("\0")
        .to_lowercase();
        let host = info.hostname.as_deref().unwrap_or("").to_lowercase();
        Row { info, hay, host }
    }
}

/// What the cached rows were computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    generation: u64,
    filter: String,
    sort: LeaseSort,
    desc: bool,
}

/// The leases, by address, with the view's rows cached.
#[derive(Debug, Clone, Default)]
pub struct LeaseSet {
    rows: Vec<Row>,
    /// Bumped on every change, so the cache knows it is old.
    generation: u64,
    cache: RefCell<Option<(Key, Vec<u32>)>>,
}

impl LeaseSet {
    /// A set holding `leases` (in any order).
    pub fn from_leases(leases: Vec<LeaseInfo>) -> Self {
        let mut s = LeaseSet::default();
        s.replace_all(leases);
        s
    }

    /// Every lease, by address.
    pub fn iter(&self) -> impl Iterator<Item = &LeaseInfo> {
        self.rows.iter().map(|r| &r.info)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The lease on `ip`.
    pub fn get(&self, ip: Ipv4Addr) -> Option<&LeaseInfo> {
        self.rows
            .binary_search_by_key(&ip, |r| r.info.ip)
            .ok()
            .map(|i| &self.rows[i].info)
    }

    /// Replaces everything.
    pub fn replace_all(&mut self, mut leases: Vec<LeaseInfo>) {
        leases.sort_by_key(|l| l.ip);
        leases.dedup_by_key(|l| l.ip);
        self.rows = leases.into_iter().map(Row::new).collect();
        self.generation += 1;
    }

    /// Adds leases at the end that sort after every lease held (a page of
    /// a load); others are put in their place.
    pub fn extend(&mut self, leases: Vec<LeaseInfo>) {
        for l in leases {
            match self.rows.last() {
                Some(last) if last.info.ip >= l.ip => self.put(l),
                _ => self.rows.push(Row::new(l)),
            }
        }
        self.generation += 1;
    }

    fn put(&mut self, l: LeaseInfo) {
        match self.rows.binary_search_by_key(&l.ip, |r| r.info.ip) {
            Ok(i) => self.rows[i] = Row::new(l),
            Err(i) => self.rows.insert(i, Row::new(l)),
        }
    }

    /// The daemon's leases with addresses in `from..=to` are exactly
    /// `leases`: those held there are replaced, in place when the addresses
    /// are the same.
    pub fn replace_range(&mut self, from: Ipv4Addr, to: Ipv4Addr, mut leases: Vec<LeaseInfo>) {
        leases.retain(|l| l.ip >= from && l.ip <= to);
        leases.sort_by_key(|l| l.ip);
        leases.dedup_by_key(|l| l.ip);
        let lo = self.rows.partition_point(|r| r.info.ip < from);
        let hi = self.rows.partition_point(|r| r.info.ip <= to);
        let same = hi - lo == leases.len()
            && self.rows[lo..hi]
                .iter()
                .zip(&leases)
                .all(|(r, l)| r.info.ip == l.ip);
        if same {
            for (r, l) in self.rows[lo..hi].iter_mut().zip(leases) {
                if r.info != l {
                    *r = Row::new(l);
                }
            }
        } else {
            self.rows.splice(lo..hi, leases.into_iter().map(Row::new));
        }
        self.generation += 1;
    }

    /// The daemon's leases of `mac` are exactly `leases`.
    pub fn replace_mac(&mut self, mac: &str, leases: Vec<LeaseInfo>) {
        self.rows.retain(|r| r.info.mac != mac);
        for l in leases {
            self.put(l);
        }
        self.generation += 1;
    }

    /// The leases view's rows: those containing `filter` (ignoring case) in
    /// any column, sorted by `sort` with the address breaking ties. Cached
    /// until the leases, the filter or the sort change.
    pub fn view(&self, filter: &str, sort: LeaseSort, desc: bool) -> Vec<&LeaseInfo> {
        let key = Key {
            generation: self.generation,
            filter: filter.to_string(),
            sort,
            desc,
        };
        let mut cache = self.cache.borrow_mut();
        let fresh = cache.as_ref().is_some_and(|(k, _)| *k == key);
        if !fresh {
            let order = self.order(&key);
            *cache = Some((key, order));
        }
        match cache.as_ref() {
            Some((_, order)) => order
                .iter()
                .filter_map(|&i| self.rows.get(i as usize))
                .map(|r| &r.info)
                .collect(),
            None => Vec::new(),
        }
    }

    fn order(&self, key: &Key) -> Vec<u32> {
        let needle = key.filter.to_lowercase();
        let mut idx: Vec<u32> = (0..self.rows.len())
            .filter(|&i| needle.is_empty() || self.rows[i].hay.contains(&needle))
            .map(|i| i as u32)
            .collect();
        let rows = &self.rows;
        let primary = |a: &Row, b: &Row| match key.sort {
            LeaseSort::Ip => Ordering::Equal,
            LeaseSort::Mac => a.info.mac.cmp(&b.info.mac),
            LeaseSort::Hostname => a.host.cmp(&b.host),
            LeaseSort::Kind => a.info.kind.as_str().cmp(b.info.kind.as_str()),
            LeaseSort::State => a.info.state.as_str().cmp(b.info.state.as_str()),
            LeaseSort::Ends => a.info.ends.cmp(&b.info.ends),
        };
        // Rows are held by address, so by address needs no sort at all.
        if key.sort != LeaseSort::Ip {
            idx.sort_by(|&a, &b| {
                let (a, b) = (&rows[a as usize], &rows[b as usize]);
                primary(a, b).then(a.info.ip.cmp(&b.info.ip))
            });
        }
        if key.desc {
            idx.reverse();
        }
        idx
    }
}

impl PartialEq for LeaseSet {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
