//! The dynamic pools: the one owner of "may this address be given to this
//! client", of choosing the address to offer, and of the pools' figures.
//!
//! The rule is [`Pool::may_give`], built from three questions that later
//! rules extend without special cases:
//! - is the address in a range open to this client ([`Pool::ranges`]: a
//!   range's policy ([`RangePolicy::admits`]) may restrict it to known or
//!   unknown clients or to members of classes; a closed range is skipped
//!   whole);
//! - is it reserved ([`Pool::reserved`]: static hosts, the server's own
//!   address and a range's `exclude`d addresses, which [`Layout`] also
//!   leaves out of the index);
//! - what its lease record allows ([`standing`]). Anything that holds an
//!   address for a while (a quarantine; an address an ARP sweep saw in use,
//!   an "observed" record held by the answering MAC) is a record with an
//!   end, so the lease table's indexes order it and its time index lapses
//!   it.
//!
//! Choosing is O(log n): the lease table indexes each range's never-used
//! addresses and its records by end ([`crate::lease::RangeIndex`]); the pool
//! takes the first candidate of each kind that the rule allows.

#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;

use crate::addr::{Cidr, Range};
use crate::config::{Config, RangePolicy, Subnet};
use crate::hosts::HostTable;
use crate::lease::{ClientKey, Lease, LeaseState, LeaseTable, RangeIndex, UnixTime};

/// What the lease table must know to index the pools: every dynamic range
/// and the addresses inside them that are never given dynamically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    ranges: Vec<Range>,
    excluded: Vec<Ipv4Addr>,
}

impl Layout {
    /// The layout for `cfg`'s ranges, with the static hosts (config and
    /// run-time) left out of them: a host promoted in place keeps its
    /// address out of the pool.
    pub fn new(cfg: &Config, hosts: &HostTable) -> Self {
        Layout {
            ranges: cfg
                .subnets
                .iter()
                .flat_map(|s| s.ranges.iter().copied())
                .collect(),
            excluded: hosts
                .iter()
                .map(|e| e.host.ip)
                .chain(
                    cfg.subnets
                        .iter()
                        .flat_map(|s| &s.policies)
                        .flat_map(|p| &p.exclude)
                        .flat_map(|r| r.iter()),
                )
                .collect(),
        }
    }

    /// Rebuilds `table`'s range indexes for this layout: at start, after a
    /// reload and after any change to the host table. O(ranges x hosts +
    /// records).
    pub fn index(&self, table: &mut LeaseTable) {
        table.index_ranges(self.ranges.iter().copied(), self.excluded.iter().copied());
    }
}

/// What an address's lease record means at `now`, when a bound lease stays
/// its client's for `grace` seconds after it ran out (`expiry_grace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing<'a> {
    /// Nobody holds it: history (released, expired) or a hold, lease or
    /// quarantine that ran out.
    Free,
    /// Offered to, bound by or observed on the wire for this client until
    /// the record ends.
    Held(&'a ClientKey),
    /// Declined: nobody gets it until the probation ends.
    Quarantined,
}

/// The standing of record `l` at `now`.
pub fn standing(l: &Lease, now: UnixTime, grace: u64) -> Standing<'_> {
    let in_grace = l.state == LeaseState::Bound && now < l.ends.saturating_add(grace);
    if !l.is_active(now) && !in_grace {
        Standing::Free
    } else if l.state == LeaseState::Declined {
        Standing::Quarantined
    } else {
        Standing::Held(&l.client)
    }
}

/// One subnet's dynamic pool as one client's request sees it.
#[derive(Debug, Clone, Copy)]
pub struct Pool<'a> {
    /// The client's subnet.
    pub subnet: &'a Subnet,
    /// Static hosts: their addresses are never given dynamically.
    pub hosts: &'a HostTable,
    /// Every lease record, with the indexes choosing runs on.
    pub leases: &'a LeaseTable,
    /// The server identifier the client talks to: never handed out.
    pub server_id: Ipv4Addr,
    /// Who asks.
    pub client: &'a ClientKey,
    /// Whether the client has a host entry (on any subnet): what
    /// `clients = "known"` / `"unknown"` ranges look at.
    pub known: bool,
    /// The classes the client belongs to, in declaration order (for range
    /// restrictions to classes).
    pub classes: &'a [&'a str],
    /// `expiry_grace`: how long a run-out bound lease stays its client's.
    pub grace: u64,
    /// The moment of the request.
    pub now: UnixTime,
    /// Whether other daemons allocate from the same pool (a shared
    /// database): the search for a never-used address then starts at a
    /// point derived from `server_id` instead of the lowest address, so
    /// daemons seldom pick the same one at once.
    pub spread: bool,
}

impl Pool<'_> {
    /// Whether `ip` may be given to this client dynamically now.
    pub fn may_give(&self, ip: Ipv4Addr) -> bool {
        self.ranges().any(|r| r.contains(ip))
            && !self.reserved(ip)
            && self
                .leases
                .get(ip)
                .is_none_or(|l| match standing(l, self.now, self.grace) {
                    Standing::Free => true,
                    Standing::Held(c) => c == self.client,
                    Standing::Quarantined => false,
                })
    }

    /// The subnet's ranges this client may draw from, in config order: those
    /// whose policy admits it (a range without a policy admits everyone).
    pub fn ranges(&self) -> impl Iterator<Item = &Range> + '_ {
        self.subnet.ranges.iter().filter(|r| {
            self.subnet
                .policy(r)
                .is_none_or(|p| p.admits(self.known, self.classes))
        })
    }

    /// Addresses inside a range that are never given dynamically.
    pub fn reserved(&self, ip: Ipv4Addr) -> bool {
        ip == self.server_id
            || self.hosts.by_ip(ip).is_some()
            || self.subnet.policies.iter().any(|p| p.excludes(ip))
    }

    /// The policy of the range `ip` is given from, if it has one.
    pub fn policy_at(&self, ip: Ipv4Addr) -> Option<&RangePolicy> {
        self.subnet.policy_at(ip)
    }

    /// The address to offer, in order of preference: the client's current
    /// (or last) address, the address it asks for (option 50), an address
    /// nobody has used yet (the lowest, ranges in config order), then the
    /// address whose last record ended longest ago. Returning clients keep
    /// their address as long as the pool allows.
    pub fn choose(&self, requested: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        if let Some(l) = self.leases.for_client(self.client)
            && l.state != LeaseState::Declined
            && self.may_give(l.ip)
        {
            return Some(l.ip);
        }
        if let Some(ip) = requested
            && self.may_give(ip)
        {
            return Some(ip);
        }
        let indexes: Vec<_> = self.ranges().map(|r| self.leases.range_index(r)).collect();
        // The rule only refuses a never-used address in an open range when
        // it is reserved, so this looks at one or two candidates per range.
        let never_used = |ix: &RangeIndex| match self.spread {
            true => ix
                .unused_from(spread_point(self.server_id))
                .find(|&ip| self.may_give(ip)),
            false => ix.unused().find(|&ip| self.may_give(ip)),
        };
        if let Some(ip) = indexes.iter().find_map(|ix| never_used(ix)) {
            return Some(ip);
        }
        indexes
            .iter()
            .enumerate()
            .filter_map(|(pos, ix)| self.longest_free(ix).map(|(ends, ip)| (ends, pos, ip)))
            .min()
            .map(|(_, _, ip)| ip)
    }

    /// Offers the subnet holds now (holds that ran out are not counted).
    /// O(ranges + offers that ran out and are not reclaimed yet).
    pub fn offers_held(&self) -> usize {
        self.subnet
            .ranges
            .iter()
            .map(|r| {
                let ix = self.leases.range_index(r);
                let ran_out = ix.offered().take_while(|&(ends, _)| ends <= self.now);
                ix.offered_count() - ran_out.count()
            })
            .sum()
    }

    /// `max_offers`: when the subnet holds that many offers and `ip` (the
    /// address [`Pool::choose`] picked) is not already this client's, the
    /// oldest offer in a range open to this client, which the new offer
    /// replaces. A flood of DISCOVERs from random MACs thus holds at most
    /// `max_offers` addresses, and cannot keep a new client from an offer:
    /// each lives as long as `max_offers` more DISCOVERs take. Clients
    /// with a lease or an offer, and static hosts, never need room.
    pub fn make_room(&self, ip: Ipv4Addr) -> Option<Ipv4Addr> {
        let own = self.leases.get(ip).is_some_and(|l| {
            &l.client == self.client
                && matches!(standing(l, self.now, self.grace), Standing::Held(_))
        });
        if own || self.offers_held() < self.subnet.max_offers as usize {
            return None;
        }
        self.ranges()
            .filter_map(|r| {
                let ix = self.leases.range_index(r);
                ix.offered()
                    .find(|&(ends, a)| ends > self.now && !self.reserved(a))
            })
            .min()
            .map(|(_, a)| a)
    }

    /// The record in `ix` that the rule allows and that ended first, as
    /// (end, address); ties go to the lower address.
    fn longest_free(&self, ix: &RangeIndex) -> Option<(UnixTime, Ipv4Addr)> {
        let ok = |&(_, ip): &(UnixTime, Ipv4Addr)| self.may_give(ip);
        let ran_out = |&(ends, _): &(UnixTime, Ipv4Addr)| ends <= self.now;
        let range = ix.range();
        // History is free whatever its end; holds and quarantines once they
        // ran out; the client's own holds always.
        let candidates = [
            ix.idle().find(ok),
            ix.held().take_while(ran_out).find(ok),
            ix.quarantined().take_while(ran_out).find(ok),
            self.leases
                .records_of(self.client)
                .filter(|l| range.contains(l.ip))
                .map(|l| (l.ends, l.ip))
                .filter(ok)
                .min(),
        ];
        candidates.into_iter().flatten().min()
    }
}

/// Where a daemon with this server identifier starts its search in a
/// range shared with other daemons: a hash, so that daemons on neighbouring
/// addresses start far apart (FNV-1a over the address).
fn spread_point(server_id: Ipv4Addr) -> u64 {
    server_id
        .octets()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// One dynamic range's figures at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeUsage {
    /// The range's subnet.
    pub subnet: Cidr,
    /// The range.
    pub range: Range,
    /// Addresses in it.
    pub size: u64,
    /// Static hosts inside the range, and held or bound records.
    pub leased: u64,
    /// Addresses an ARP sweep found in use without a lease.
    pub observed: u64,
    /// Declined addresses still in probation.
    pub quarantined: u64,
    /// The rest.
    pub free: u64,
}

/// Every dynamic range's figures at `now`, in config order. O(hosts +
/// active records + excluded addresses), independent of the ranges' sizes.
pub fn usage(
    cfg: &Config,
    hosts: &HostTable,
    leases: &LeaseTable,
    now: UnixTime,
) -> Vec<RangeUsage> {
    let mut out = Vec::new();
    for s in &cfg.subnets {
        for r in &s.ranges {
            let ix = leases.range_index(r);
            let statics = hosts.iter().filter(|e| r.contains(e.host.ip)).count() as u64;
            let mut leased = statics;
            let mut quarantined = 0u64;
            let mut observed = 0u64;
            // Only held and declined records can be spoken for.
            for (_, ip) in ix.held().chain(ix.quarantined()) {
                if hosts.by_ip(ip).is_some() {
                    continue;
                }
                let record = leases.get(ip);
                match record.map(|l| standing(l, now, cfg.server.expiry_grace.into())) {
                    Some(Standing::Held(_))
                        if record.is_some_and(|l| l.state == LeaseState::Observed) =>
                    {
                        observed += 1;
                    }
                    Some(Standing::Held(_)) => leased += 1,
                    Some(Standing::Quarantined) => quarantined += 1,
                    Some(Standing::Free) | None => {}
                }
            }
            // Excluded addresses are never given, so they are not free
            // (a static host on one is counted as leased already).
            let excluded: u64 = s.policy(r).map_or(0, |p| {
                p.exclude
                    .iter()
                    .map(|x| {
                        x.len() - x.iter().filter(|&a| hosts.by_ip(a).is_some()).count() as u64
                    })
                    .sum()
            });
            let size = r.len();
            out.push(RangeUsage {
                subnet: s.cidr,
                range: *r,
                size,
                leased,
                observed,
                quarantined,
                free: size.saturating_sub(leased + observed + quarantined + excluded),
            });
        }
    }
    out
}
