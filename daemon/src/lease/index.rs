//! The lease table's ordered indexes: per dynamic range, the addresses never
//! used and the records ordered by their end; over the whole table, the
//! records that end at a known time (leases, offer holds, quarantines).
//!
//! These only order what the table holds; whether an address may be given
//! to a client is decided by `pool`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::Ipv4Addr;

use super::{Lease, LeaseState, UnixTime};
use crate::addr::Range;

/// A set of addresses kept as disjoint, non-adjacent runs (first -> last,
/// inclusive), so a whole free /16 costs one entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RunSet {
    runs: BTreeMap<u32, u32>,
    len: u64,
}

impl RunSet {
    #[cfg(test)]
    fn full(r: &Range) -> Self {
        let mut s = RunSet::default();
        if !r.is_empty() {
            s.runs.insert(u32::from(r.start), u32::from(r.end));
            s.len = r.len();
        }
        s
    }

    /// The addresses of `r` that are not in `used` (sorted, no duplicates,
    /// all inside `r`): one pass, the runs being the gaps between them.
    fn complement(r: &Range, used: &[u32]) -> Self {
        if r.is_empty() {
            return RunSet::default();
        }
        let mut runs = Vec::with_capacity(used.len() + 1);
        let mut next = u64::from(u32::from(r.start));
        for &x in used {
            let x = u64::from(x);
            if x > next {
                runs.push((next, x - 1));
            }
            next = x + 1;
        }
        let end = u64::from(u32::from(r.end));
        if next <= end {
            runs.push((next, end));
        }
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        RunSet {
            len: runs.iter().map(|(a, b)| b - a + 1).sum(),
            runs: runs
                .into_iter()
                .map(|(a, b)| (narrow(a), narrow(b)))
                .collect(),
        }
    }

    /// The run holding `x`, as (first, last).
    fn run_of(&self, x: u32) -> Option<(u32, u32)> {
        let (&a, &b) = self.runs.range(..=x).next_back()?;
        (x <= b).then_some((a, b))
    }

    fn remove(&mut self, x: u32) -> bool {
        let Some((a, b)) = self.run_of(x) else {
            return false;
        };
        self.runs.remove(&a);
        if a < x {
            self.runs.insert(a, x - 1);
        }
        if x < b {
            self.runs.insert(x + 1, b);
        }
        self.len -= 1;
        true
    }

    fn insert(&mut self, x: u32) -> bool {
        if self.run_of(x).is_some() {
            return false;
        }
        let mut first = x;
        let mut last = x;
        if let Some(prev) = x.checked_sub(1)
            && let Some((a, _)) = self.run_of(prev)
        {
            self.runs.remove(&a);
            first = a;
        }
        if let Some(next) = x.checked_add(1)
            && let Some(b) = self.runs.remove(&next)
        {
            last = b;
        }
        self.runs.insert(first, last);
        self.len += 1;
        true
    }

    fn iter(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.runs
            .iter()
            .flat_map(|(&a, &b)| (a..=b).map(Ipv4Addr::from))
    }

    /// Every member from `x` up, then those below `x`: a search that
    /// starts at `x` and wraps around.
    fn iter_from(&self, x: u32) -> impl Iterator<Item = Ipv4Addr> + '_ {
        // The run holding `x` (if any) is split at it.
        let head = self.run_of(x).map(|(_, b)| (x, b));
        let above = self
            .runs
            .range(x.saturating_add(1)..)
            .map(|(&a, &b)| (a, b));
        let below = self
            .runs
            .range(..=x)
            .map(move |(&a, &b)| (a, b.min(x.wrapping_sub(1))));
        head.into_iter()
            .chain(above.filter(move |&(a, _)| a > x))
            .chain(below.filter(move |&(a, b)| a < x && a <= b))
            .flat_map(|(a, b)| (a..=b).map(Ipv4Addr::from))
    }
}

/// A record's place in an index ordered by end: its end in seconds and its
/// address packed in one `u64`, so that keys order as (end, address) and a
/// B-tree holds twice as many per node as of `(UnixTime, Ipv4Addr)` pairs
/// (padded to 16 bytes). An end past `u32::MAX` (February 2106) is kept
/// as that instant: every reader compares ends with the present, which
/// such a record stays after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct EndKey(u64);

impl EndKey {
    pub(super) fn new(ends: UnixTime, ip: Ipv4Addr) -> Self {
        EndKey((ends.min(u64::from(u32::MAX)) << 32) | u64::from(u32::from(ip)))
    }

    /// The key of `l`'s record.
    pub(super) fn of(l: &Lease) -> Self {
        Self::new(l.ends, l.ip)
    }

    /// The end, as far as the key keeps it.
    fn ends(self) -> UnixTime {
        self.0 >> 32
    }

    pub(super) fn ip(self) -> Ipv4Addr {
        // The low half is the address.
        Ipv4Addr::from(self.0 as u32)
    }

    fn pair(self) -> (UnixTime, Ipv4Addr) {
        (self.ends(), self.ip())
    }
}

/// Where a record sorts in its range's index, by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Released or expired: history, free to give.
    Idle,
    /// Offered, bound or observed on the wire: spoken for until it ends.
    Held,
    /// Declined: quarantined until it ends.
    Quarantined,
}

impl Slot {
    fn of(state: LeaseState) -> Slot {
        match state {
            LeaseState::Released | LeaseState::Expired => Slot::Idle,
            LeaseState::Offered | LeaseState::Bound | LeaseState::Observed => Slot::Held,
            LeaseState::Declined => Slot::Quarantined,
        }
    }
}

/// Whether a record in this state has an end the housekeeping must act on.
pub(super) fn ends_matter(state: LeaseState) -> bool {
    Slot::of(state) != Slot::Idle
}

/// One dynamic range's index: its never-used addresses in order, and its
/// records by (end, address) in three groups by state. Addresses excluded
/// from the range (static hosts) appear in none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeIndex {
    range: Range,
    unused: RunSet,
    idle: BTreeSet<EndKey>,
    held: BTreeSet<EndKey>,
    quarantined: BTreeSet<EndKey>,
    /// The offers among `held`: what `max_offers` counts and which offer
    /// makes room first.
    offered: BTreeSet<EndKey>,
}

impl RangeIndex {
    /// Indexes `range` over `records`, leaving out the `excluded` addresses.
    /// O((records + excluded) log) and independent of the range's size:
    /// sorted once and built in bulk, not record by record (a million
    /// records at start-up).
    pub(super) fn build<'a>(
        range: Range,
        excluded: &HashSet<Ipv4Addr>,
        records: impl IntoIterator<Item = &'a Lease>,
    ) -> Self {
        let records: Vec<&Lease> = records
            .into_iter()
            .filter(|l| range.contains(l.ip) && !excluded.contains(&l.ip))
            .collect();
        let mut used: Vec<u32> = excluded
            .iter()
            .filter(|ip| range.contains(**ip))
            .chain(records.iter().map(|l| &l.ip))
            .map(|&ip| u32::from(ip))
            .collect();
        used.sort_unstable();
        used.dedup();
        let slot = |s: Slot| -> BTreeSet<EndKey> {
            records
                .iter()
                .filter(|l| Slot::of(l.state) == s)
                .map(|l| EndKey::of(l))
                .collect()
        };
        RangeIndex {
            range,
            unused: RunSet::complement(&range, &used),
            idle: slot(Slot::Idle),
            held: slot(Slot::Held),
            quarantined: slot(Slot::Quarantined),
            offered: records
                .iter()
                .filter(|l| l.state == LeaseState::Offered)
                .map(|l| EndKey::of(l))
                .collect(),
        }
    }

    /// The indexed range.
    pub fn range(&self) -> Range {
        self.range
    }

    fn set(&mut self, slot: Slot) -> &mut BTreeSet<EndKey> {
        match slot {
            Slot::Idle => &mut self.idle,
            Slot::Held => &mut self.held,
            Slot::Quarantined => &mut self.quarantined,
        }
    }

    pub(super) fn add(&mut self, l: &Lease) {
        self.unused.remove(u32::from(l.ip));
        self.set(Slot::of(l.state)).insert(EndKey::of(l));
        if l.state == LeaseState::Offered {
            self.offered.insert(EndKey::of(l));
        }
    }

    pub(super) fn drop_record(&mut self, l: &Lease) {
        self.set(Slot::of(l.state)).remove(&EndKey::of(l));
        if l.state == LeaseState::Offered {
            self.offered.remove(&EndKey::of(l));
        }
        self.unused.insert(u32::from(l.ip));
    }

    /// Addresses no record has ever named, lowest first.
    pub fn unused(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.unused.iter()
    }

    /// [`RangeIndex::unused`], starting at the `nth` address of the range
    /// (modulo its size) and wrapping around: each daemon sharing a
    /// database starts its search somewhere else.
    pub fn unused_from(&self, nth: u64) -> impl Iterator<Item = Ipv4Addr> + '_ {
        let len = self.range.len().max(1);
        let start = u64::from(u32::from(self.range.start)) + nth % len;
        self.unused
            .iter_from(u32::try_from(start).unwrap_or(u32::MAX))
    }

    /// How many addresses no record names.
    pub fn unused_count(&self) -> u64 {
        self.unused.len
    }

    /// Released and expired records as (end, address), the oldest end first.
    pub fn idle(&self) -> impl Iterator<Item = (UnixTime, Ipv4Addr)> + '_ {
        self.idle.iter().map(|k| k.pair())
    }

    /// Offered, bound and observed records as (end, address), the earliest
    /// end first.
    pub fn held(&self) -> impl Iterator<Item = (UnixTime, Ipv4Addr)> + '_ {
        self.held.iter().map(|k| k.pair())
    }

    /// Offered records as (end, address), the earliest end (the oldest
    /// offer) first; holds that ran out but are not reclaimed yet included.
    pub fn offered(&self) -> impl Iterator<Item = (UnixTime, Ipv4Addr)> + '_ {
        self.offered.iter().map(|k| k.pair())
    }

    /// How many offered records there are. O(1).
    pub fn offered_count(&self) -> usize {
        self.offered.len()
    }

    /// Declined records as (end, address), the earliest end first.
    pub fn quarantined(&self) -> impl Iterator<Item = (UnixTime, Ipv4Addr)> + '_ {
        self.quarantined.iter().map(|k| k.pair())
    }
}

/// The table's range indexes and the set of addresses left out of them.
#[derive(Debug, Clone, Default)]
pub(super) struct Ranges {
    /// Sorted by first address; ranges never overlap in a valid config.
    ranges: Vec<RangeIndex>,
    excluded: HashSet<Ipv4Addr>,
}

impl Ranges {
    /// O(ranges x excluded + records), independent of the ranges' sizes.
    pub(super) fn build<'a>(
        ranges: impl IntoIterator<Item = Range>,
        excluded: impl IntoIterator<Item = Ipv4Addr>,
        records: impl IntoIterator<Item = &'a Lease>,
    ) -> Self {
        let excluded: HashSet<Ipv4Addr> = excluded.into_iter().collect();
        let mut list: Vec<Range> = ranges.into_iter().collect();
        list.sort_by_key(|r| r.start);
        list.dedup();
        // Each record to the range that holds it, then each range built at once.
        let mut owned: Vec<Vec<&Lease>> = vec![Vec::new(); list.len()];
        for l in records {
            let i = list.partition_point(|r| r.start <= l.ip);
            if let Some(i) = i.checked_sub(1)
                && list[i].contains(l.ip)
            {
                owned[i].push(l);
            }
        }
        let ranges = list
            .into_iter()
            .zip(owned)
            .map(|(r, records)| RangeIndex::build(r, &excluded, records))
            .collect();
        Ranges { ranges, excluded }
    }

    fn position(&self, ip: Ipv4Addr) -> Option<usize> {
        let i = self.ranges.partition_point(|r| r.range.start <= ip);
        let i = i.checked_sub(1)?;
        self.ranges[i].range.contains(ip).then_some(i)
    }

    /// The index of exactly `r`, if the table was built for it.
    pub(super) fn get(&self, r: &Range) -> Option<&RangeIndex> {
        let i = self.position(r.start)?;
        let ix = &self.ranges[i];
        (ix.range == *r).then_some(ix)
    }

    fn owner(&mut self, ip: Ipv4Addr) -> Option<&mut RangeIndex> {
        if self.excluded.contains(&ip) {
            return None;
        }
        let i = self.position(ip)?;
        Some(&mut self.ranges[i])
    }

    pub(super) fn add(&mut self, l: &Lease) {
        if let Some(ix) = self.owner(l.ip) {
            ix.add(l);
        }
    }

    pub(super) fn drop_record(&mut self, l: &Lease) {
        if let Some(ix) = self.owner(l.ip) {
            ix.drop_record(l);
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &RangeIndex> {
        self.ranges.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(a: u32, b: u32) -> Range {
        Range {
            start: Ipv4Addr::from(a),
            end: Ipv4Addr::from(b),
        }
    }

    #[test]
    fn a_search_from_a_point_wraps_around_once() {
        let mut s = RunSet::full(&range(10, 20));
        for x in [12, 13, 17] {
            s.remove(x);
        }
        let from = |x: u32| s.iter_from(x).map(u32::from).collect::<Vec<_>>();
        assert_eq!(from(10), vec![10, 11, 14, 15, 16, 18, 19, 20]);
        assert_eq!(from(15), vec![15, 16, 18, 19, 20, 10, 11, 14]);
        assert_eq!(
            from(13),
            vec![14, 15, 16, 18, 19, 20, 10, 11],
            "not a member"
        );
        assert_eq!(from(20), vec![20, 10, 11, 14, 15, 16, 18, 19]);
        assert_eq!(from(0), from(10));
    }

    #[test]
    fn run_set_splits_and_merges() {
        let mut s = RunSet::full(&range(10, 20));
        assert_eq!(s.len, 11);
        assert!(s.remove(15));
        assert!(!s.remove(15));
        assert!(s.remove(10));
        assert!(s.remove(20));
        assert_eq!(s.runs, BTreeMap::from([(11, 14), (16, 19)]));
        assert!(s.insert(15));
        assert!(!s.insert(15));
        assert_eq!(s.runs, BTreeMap::from([(11, 19)]));
        assert!(s.insert(20));
        assert!(s.insert(10));
        assert_eq!(s.runs, BTreeMap::from([(10, 20)]));
        assert_eq!(s.len, 11);
        assert_eq!(s.iter().next(), Some(Ipv4Addr::from(10)));
    }

    #[test]
    fn run_set_complement_is_the_full_range_less_each_address() {
        for (r, used) in [
            (range(10, 20), vec![]),
            (range(10, 20), vec![10]),
            (range(10, 20), vec![20]),
            (range(10, 20), vec![10, 11, 15, 19, 20]),
            (range(10, 20), (10..=20).collect()),
            (range(u32::MAX - 2, u32::MAX), vec![u32::MAX]),
            (range(0, 2), vec![0]),
        ] {
            let mut want = RunSet::full(&r);
            for &x in &used {
                want.remove(x);
            }
            assert_eq!(RunSet::complement(&r, &used), want, "{r:?} less {used:?}");
        }
    }

    #[test]
    fn run_set_at_the_ends_of_the_address_space() {
        let mut s = RunSet::full(&range(u32::MAX - 1, u32::MAX));
        assert!(s.remove(u32::MAX));
        assert!(s.insert(u32::MAX));
        let mut z = RunSet::full(&range(0, 1));
        assert!(z.remove(0));
        assert!(z.insert(0));
        assert_eq!(z.runs, BTreeMap::from([(0, 1)]));
    }
}

#[cfg(test)]
mod offer_tests {
    use super::super::{ClientKey, LeaseTable};
    use super::*;
    use crate::addr::MacAddr;

    fn record(ip: u8, state: LeaseState, ends: UnixTime) -> Lease {
        let mac = MacAddr([2, 0, 0, 0, 0, ip]);
        Lease {
            ip: Ipv4Addr::new(10, 0, 0, ip),
            client: ClientKey::from_hw(1, &mac.0),
            mac,
            hostname: None,
            state,
            starts: 0,
            ends,
        }
    }

    #[test]
    fn the_offer_set_follows_every_change_of_state() {
        let r = Range {
            start: Ipv4Addr::new(10, 0, 0, 1),
            end: Ipv4Addr::new(10, 0, 0, 9),
        };
        let mut t = LeaseTable::new();
        t.index_ranges([r], []);
        t.insert(record(1, LeaseState::Offered, 30));
        t.insert(record(2, LeaseState::Offered, 20));
        t.insert(record(3, LeaseState::Bound, 10));
        let offers = |t: &LeaseTable| t.range_index(&r).offered().collect::<Vec<_>>();
        assert_eq!(
            offers(&t),
            [
                (20, Ipv4Addr::new(10, 0, 0, 2)),
                (30, Ipv4Addr::new(10, 0, 0, 1))
            ],
            "oldest first"
        );
        t.insert(record(2, LeaseState::Bound, 3600));
        t.remove(Ipv4Addr::new(10, 0, 0, 1));
        assert!(offers(&t).is_empty());
        assert_eq!(t.range_index(&r).offered_count(), 0);
        t.insert(record(4, LeaseState::Offered, 40));
        t.index_ranges([r], []);
        assert_eq!(t.range_index(&r).offered_count(), 1, "rebuilt in bulk");
    }
}
