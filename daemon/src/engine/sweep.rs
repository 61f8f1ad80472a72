//! What the wire says about the pools, as lease effects: an ARP sweep's
//! answers and a pre-offer probe's answer. Pure, like the rest of the
//! engine: the server runs the ARP traffic and hands the answers in.
//!
//! Whether an address may go to a client stays [`crate::pool`]'s rule: an
//! observed binding is a lease record (state `observed`, keyed by the
//! answering MAC as a client without option 61 would be) that the rule
//! already treats as held by that client until it ends.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::Effect;
use crate::addr::{MacAddr, Range};
use crate::config::Config;
use crate::hosts::HostTable;
use crate::lease::{ClientKey, Lease, LeaseState, LeaseTable, UnixTime};
use crate::pool::{Standing, standing};

/// A MAC answering for an address it should not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squatter {
    pub ip: Ipv4Addr,
    /// Who answered.
    pub mac: MacAddr,
    /// The MAC the address's record names (lease holder, observed MAC or
    /// the quarantine's), when it has an active one.
    pub holder: Option<MacAddr>,
    /// Why it is a squatter, for operators.
    pub why: &'static str,
    /// First heard now (an event), rather than an observed MAC still on
    /// its address (listed in the sweep's results only).
    pub news: bool,
}

/// What one sweep of a range means for the lease table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Observed bindings made, renewed or dropped.
    pub effects: Vec<Effect>,
    /// Answers that conflict with the table (or take a free address).
    pub squatters: Vec<Squatter>,
}

/// The client key a MAC has when it sends no option 61 (and when it sends
/// the usual hardware-type-1 one): an observed binding is this client's.
pub fn observed_client(mac: MacAddr) -> ClientKey {
    ClientKey::from_hw(1, &mac.0)
}

/// The client key of a quarantine a pre-offer probe made: empty, which no
/// client can send (a client id under 2 bytes is dropped), so the record
/// itself says it came from a probe rather than from a DECLINE.
pub fn probe_hit_client() -> ClientKey {
    ClientKey::default()
}

/// Whether a quarantine record was made by a pre-offer probe.
pub fn is_probe_hit(l: &Lease) -> bool {
    l.state == LeaseState::Declined && l.client.as_bytes().is_empty()
}

fn observed(ip: Ipv4Addr, mac: MacAddr, now: UnixTime, ttl: u64) -> Lease {
    Lease {
        ip,
        client: observed_client(mac),
        mac,
        hostname: None,
        state: LeaseState::Observed,
        starts: now,
        ends: now.saturating_add(ttl),
    }
}

/// Maps a sweep of `range` at `now` to effects and squatters. `answers`
/// are (address, MAC) pairs heard; an address may appear with several MACs.
/// Observed bindings last `ttl` seconds unless a later sweep hears them
/// again; one that no longer answers is dropped.
///
/// - free (no record, or history): the first MAC to answer gets an observed
///   binding, and is reported (someone uses a pool address without a lease);
/// - observed by the same MAC: renewed, and listed again (not news); by
///   another one: reported;
/// - offered or leased: fine when its holder answers, reported otherwise;
/// - quarantined: reported (the address is still in use).
///
/// Static hosts' addresses are not the pool's and are left alone.
pub fn sweep_findings(
    range: Range,
    answers: &[(Ipv4Addr, MacAddr)],
    leases: &LeaseTable,
    hosts: &HostTable,
    now: UnixTime,
    grace: u64,
    ttl: u64,
) -> Findings {
    let mut heard: BTreeMap<Ipv4Addr, Vec<MacAddr>> = BTreeMap::new();
    for &(ip, mac) in answers {
        if range.contains(ip) && hosts.by_ip(ip).is_none() {
            let macs = heard.entry(ip).or_default();
            if !macs.contains(&mac) {
                macs.push(mac);
            }
        }
    }
    let mut out = Findings::default();
    for (&ip, macs) in &heard {
        let record = leases.get(ip);
        let squat = |mac: MacAddr, holder: Option<MacAddr>, why| Squatter {
            ip,
            mac,
            holder,
            why,
            news: true,
        };
        match record.map(|l| (l, standing(l, now, grace))) {
            None | Some((_, Standing::Free)) => {
                let first = macs[0];
                out.effects
                    .push(Effect::Observe(observed(ip, first, now, ttl)));
                out.squatters
                    .push(squat(first, None, "in use without a lease"));
                for &m in &macs[1..] {
                    out.squatters
                        .push(squat(m, Some(first), "answered by a second MAC"));
                }
            }
            Some((l, Standing::Held(_))) => {
                for &m in macs {
                    if m == l.mac {
                        if l.state == LeaseState::Observed {
                            out.effects.push(Effect::Observe(observed(ip, m, now, ttl)));
                            out.squatters.push(Squatter {
                                news: false,
                                ..squat(m, None, "in use without a lease")
                            });
                        }
                    } else if l.state == LeaseState::Observed {
                        out.squatters
                            .push(squat(m, Some(l.mac), "answered by a second MAC"));
                    } else {
                        out.squatters
                            .push(squat(m, Some(l.mac), "leased to another client"));
                    }
                }
            }
            Some((l, Standing::Quarantined)) => {
                for &m in macs {
                    out.squatters.push(squat(m, Some(l.mac), "quarantined"));
                }
            }
        }
    }
    for (_, ip) in leases.range_index(&range).held() {
        let silent = !heard.contains_key(&ip);
        if silent
            && leases
                .get(ip)
                .is_some_and(|l| l.state == LeaseState::Observed)
        {
            out.effects.push(Effect::Unobserve(ip));
        }
    }
    out
}

/// A pre-offer probe heard `mac` answer for `ip`: the address is quarantined
/// (as a DECLINE would, for `decline_probation`) under the answering MAC,
/// and the client is offered another one.
pub fn probe_answered(cfg: &Config, ip: Ipv4Addr, mac: MacAddr, now: UnixTime) -> Effect {
    Effect::Decline(Lease {
        ip,
        client: probe_hit_client(),
        mac,
        hostname: None,
        state: LeaseState::Declined,
        starts: now,
        ends: now.saturating_add(u64::from(cfg.server.decline_probation)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = 1_800_000_000;
    const TTL: u64 = 1800;

    fn ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, last)
    }

    fn mac(last: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, last])
    }

    fn range() -> Range {
        Range {
            start: ip(100),
            end: ip(110),
        }
    }

    fn table(records: &[Lease]) -> LeaseTable {
        let mut t = LeaseTable::from_leases(records.iter().cloned());
        t.index_ranges([range()], []);
        t
    }

    fn record(last: u8, m: u8, state: LeaseState, ends: UnixTime) -> Lease {
        Lease {
            ip: ip(last),
            client: observed_client(mac(m)),
            mac: mac(m),
            hostname: None,
            state,
            starts: NOW - 10,
            ends,
        }
    }

    fn find(t: &LeaseTable, answers: &[(Ipv4Addr, MacAddr)]) -> Findings {
        sweep_findings(range(), answers, t, &HostTable::default(), NOW, 0, TTL)
    }

    #[test]
    fn a_free_address_answered_becomes_observed_and_is_reported() {
        let f = find(&table(&[]), &[(ip(105), mac(9))]);
        assert_eq!(
            f.effects,
            vec![Effect::Observe(
                record(105, 9, LeaseState::Observed, NOW + TTL).with_start(NOW)
            )]
        );
        assert_eq!(f.squatters.len(), 1);
        assert_eq!(f.squatters[0].why, "in use without a lease");
        assert_eq!(f.squatters[0].holder, None);
        assert!(f.squatters[0].news);
    }

    #[test]
    fn history_counts_as_free() {
        let t = table(&[record(105, 1, LeaseState::Expired, NOW - 5)]);
        let f = find(&t, &[(ip(105), mac(9))]);
        assert!(matches!(f.effects.as_slice(), [Effect::Observe(l)] if l.mac == mac(9)));
    }

    #[test]
    fn an_observed_address_answering_again_is_renewed_silently() {
        let t = table(&[record(105, 9, LeaseState::Observed, NOW + 5)]);
        let f = find(&t, &[(ip(105), mac(9))]);
        assert!(matches!(f.effects.as_slice(), [Effect::Observe(l)] if l.ends == NOW + TTL));
        assert_eq!(f.squatters.len(), 1, "still in use without a lease");
        assert!(!f.squatters[0].news, "but no news");
    }

    #[test]
    fn an_observed_address_that_stopped_answering_is_dropped() {
        let t = table(&[record(105, 9, LeaseState::Observed, NOW + 5)]);
        let f = find(&t, &[]);
        assert_eq!(f.effects, vec![Effect::Unobserve(ip(105))]);
        assert!(f.squatters.is_empty());
    }

    #[test]
    fn a_lease_answered_by_its_holder_is_fine_and_by_another_mac_a_squatter() {
        let t = table(&[record(105, 1, LeaseState::Bound, NOW + 600)]);
        assert_eq!(find(&t, &[(ip(105), mac(1))]), Findings::default());
        let f = find(&t, &[(ip(105), mac(1)), (ip(105), mac(9))]);
        assert!(f.effects.is_empty(), "the lease stands");
        assert_eq!(f.squatters.len(), 1);
        assert_eq!(f.squatters[0].mac, mac(9));
        assert_eq!(f.squatters[0].holder, Some(mac(1)));
        assert_eq!(f.squatters[0].why, "leased to another client");
    }

    #[test]
    fn a_quarantined_address_answered_is_a_squatter() {
        let t = table(&[record(105, 1, LeaseState::Declined, NOW + 600)]);
        let f = find(&t, &[(ip(105), mac(9))]);
        assert!(f.effects.is_empty());
        assert_eq!(f.squatters[0].why, "quarantined");
    }

    #[test]
    fn answers_outside_the_range_are_ignored() {
        let f = find(&table(&[]), &[(ip(50), mac(9))]);
        assert_eq!(f, Findings::default());
    }

    impl Lease {
        fn with_start(mut self, t: UnixTime) -> Lease {
            self.starts = t;
            self
        }
    }
}
