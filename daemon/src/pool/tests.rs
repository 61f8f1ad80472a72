//! The pool against the linear rule it replaced, and its preference order.

use std::path::Path;

use super::*;
use crate::addr::MacAddr;
use crate::config;
use crate::engine;
use crate::hosts::HostEntry;
use crate::store::StoredHost;

const NOW: UnixTime = 1_800_000_000;

/// Two ranges listed high first (config order, not address order, decides)
/// and a second subnet. The static host inside the first range is a
/// run-time one ([`store_host`]): the config refuses hosts in ranges, a
/// promotion in place makes them.
const CONFIG: &str = r#"
[server]
interfaces = ["eth0"]

[[subnet]]
cidr = "10.0.0.0/24"
ranges = [["10.0.0.30", "10.0.0.35"], ["10.0.0.10", "10.0.0.14"]]

[[subnet]]
cidr = "10.0.1.0/24"
range = ["10.0.1.10", "10.0.1.12"]
"#;

/// The server's own address, inside the first range.
const SERVER_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 33);

/// A run-time host, as a promotion in place leaves it.
fn store_host(name: &str, mac: u8, at: &str) -> HostEntry {
    let stored = StoredHost {
        name: name.into(),
        mac: MacAddr([2, 0, 0, 0, 0xee, mac]),
        ip: ip(at),
        options: String::new(),
        created_at: NOW - 3600,
    };
    HostEntry::from_stored(stored).expect("test host")
}

fn hosts_of(cfg: &Config, extra: Vec<HostEntry>) -> HostTable {
    let mut v = vec![store_host("printer", 1, "10.0.0.32")];
    v.extend(extra);
    let (hosts, conflicts) = HostTable::build(&cfg.hosts, v);
    assert!(conflicts.is_empty(), "{conflicts:?}");
    hosts
}

pub(super) fn cfg_of(text: &str) -> Config {
    match config::parse(text, Path::new("test.toml")) {
        Ok(c) => c,
        Err(e) => panic!("test config does not parse:\n{e}"),
    }
}

pub(super) fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn client(n: u8) -> ClientKey {
    ClientKey::from(vec![1, 2, 0, 0, 0, 0, n])
}

fn lease(at: Ipv4Addr, who: u8, state: LeaseState, ends: UnixTime) -> Lease {
    Lease {
        ip: at,
        client: client(who),
        mac: MacAddr([2, 0, 0, 0, 0, who]),
        hostname: None,
        state,
        starts: ends.saturating_sub(100),
        ends,
    }
}

struct Fixture {
    cfg: Config,
    hosts: HostTable,
}

impl Fixture {
    fn new() -> Self {
        let cfg = cfg_of(CONFIG);
        let hosts = hosts_of(&cfg, Vec::new());
        Fixture { cfg, hosts }
    }

    fn indexed(&self, t: &mut LeaseTable) {
        Layout::new(&self.cfg, &self.hosts).index(t);
    }

    fn pool<'a>(
        &'a self,
        leases: &'a LeaseTable,
        subnet: usize,
        client: &'a ClientKey,
        now: UnixTime,
    ) -> Pool<'a> {
        Pool {
            subnet: &self.cfg.subnets[subnet],
            hosts: &self.hosts,
            leases,
            server_id: SERVER_ID,
            client,
            known: false,
            classes: &[],
            grace: 0,
            spread: false,
            now,
        }
    }
}

/// The availability rule as the engine had it before the pool existed.
fn old_available(p: &Pool<'_>, ip: Ipv4Addr) -> bool {
    let who = p.client;
    if !p.subnet.ranges.iter().any(|r| r.contains(ip)) {
        return false;
    }
    if ip == p.server_id || p.hosts.by_ip(ip).is_some() {
        return false;
    }
    match p.leases.get(ip) {
        None => true,
        Some(l) if l.state == LeaseState::Declined => !l.is_active(p.now),
        Some(l) => l.client == *who || !l.is_active(p.now),
    }
}

/// The linear choice the engine made before the pool existed.
fn old_choose(p: &Pool<'_>, requested: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
    let who = p.client;
    if let Some(l) = p.leases.for_client(who)
        && l.state != LeaseState::Declined
        && old_available(p, l.ip)
    {
        return Some(l.ip);
    }
    if let Some(ip) = requested
        && old_available(p, ip)
    {
        return Some(ip);
    }
    let mut oldest: Option<(u64, Ipv4Addr)> = None;
    for range in &p.subnet.ranges {
        for ip in range.iter() {
            match p.leases.get(ip) {
                None => {
                    if old_available(p, ip) {
                        return Some(ip);
                    }
                }
                Some(l) => {
                    if oldest.is_none_or(|(ends, _)| l.ends < ends) && old_available(p, ip) {
                        oldest = Some((l.ends, ip));
                    }
                }
            }
        }
    }
    oldest.map(|(_, ip)| ip)
}

/// The pool figures as the control API computed them before the pool.
fn old_usage(f: &Fixture, leases: &LeaseTable, now: UnixTime) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::new();
    for s in &f.cfg.subnets {
        for r in &s.ranges {
            let (mut leased, mut quarantined) = (0, 0);
            for ip in r.iter() {
                if f.hosts.by_ip(ip).is_some() {
                    leased += 1;
                    continue;
                }
                match leases.get(ip) {
                    Some(l) if l.is_active(now) && l.state == LeaseState::Declined => {
                        quarantined += 1
                    }
                    Some(l) if l.is_active(now) => leased += 1,
                    _ => {}
                }
            }
            out.push((r.len(), leased, quarantined));
        }
    }
    out
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Every address the model test touches: both ranges, the gap between
/// them, the second subnet, and one address outside every subnet.
fn addresses() -> Vec<Ipv4Addr> {
    let mut v: Vec<Ipv4Addr> = (8..=37).map(|d| Ipv4Addr::new(10, 0, 0, d)).collect();
    v.extend((10..=12).map(|d| Ipv4Addr::new(10, 0, 1, d)));
    v.push(ip("192.0.2.7"));
    v
}

fn random_lease(rng: &mut Rng, ips: &[Ipv4Addr]) -> Lease {
    let states = [
        LeaseState::Offered,
        LeaseState::Bound,
        LeaseState::Released,
        LeaseState::Declined,
        LeaseState::Expired,
    ];
    let at = ips[rng.below(ips.len() as u64) as usize];
    let state = states[rng.below(states.len() as u64) as usize];
    // Ends cluster around NOW so ties and "just ran out" both occur.
    let ends = NOW - 20 + rng.below(40);
    lease(at, rng.below(6) as u8, state, ends)
}

#[test]
fn choice_and_figures_match_the_linear_rule_under_random_changes() {
    let f = Fixture::new();
    let ips = addresses();
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut indexed = LeaseTable::new();
        f.indexed(&mut indexed);
        // The same changes on a table never indexed: the fallback path.
        let mut plain = LeaseTable::new();
        for _ in 0..120 {
            if rng.below(4) == 0 {
                let at = ips[rng.below(ips.len() as u64) as usize];
                assert_eq!(indexed.remove(at), plain.remove(at));
            } else {
                let l = random_lease(&mut rng, &ips);
                indexed.insert(l.clone());
                plain.insert(l);
            }
            let now = NOW - 10 + rng.below(20);
            for subnet in 0..f.cfg.subnets.len() {
                for who in 0..6 {
                    let requested = match rng.below(3) {
                        0 => None,
                        _ => Some(ips[rng.below(ips.len() as u64) as usize]),
                    };
                    let key = client(who);
                    let want = old_choose(&f.pool(&plain, subnet, &key, now), requested);
                    let got = f.pool(&indexed, subnet, &key, now).choose(requested);
                    let fallback = f.pool(&plain, subnet, &key, now).choose(requested);
                    assert_eq!(got, want, "seed {seed}, subnet {subnet}, client {who}");
                    assert_eq!(fallback, want, "seed {seed} (unindexed table)");
                    for &at in &ips {
                        let p = f.pool(&indexed, subnet, &key, now);
                        assert_eq!(p.may_give(at), old_available(&p, at));
                    }
                }
            }
            let figures: Vec<_> = usage(&f.cfg, &f.hosts, &indexed, now)
                .into_iter()
                .map(|u| (u.size, u.leased, u.quarantined))
                .collect();
            assert_eq!(figures, old_usage(&f, &plain, now), "seed {seed}");
            assert_index_consistent(&f, &indexed);
            let mut ending: Vec<Ipv4Addr> = indexed.ending_by(now).map(|l| l.ip).collect();
            let mut linear: Vec<Ipv4Addr> = plain
                .iter()
                .filter(|l| l.ends <= now && l.state != LeaseState::Released)
                .filter(|l| l.state != LeaseState::Expired)
                .map(|l| l.ip)
                .collect();
            ending.sort();
            linear.sort();
            assert_eq!(ending, linear, "seed {seed}: time index");
        }
    }
}

/// The incrementally kept indexes equal ones built from scratch.
fn assert_index_consistent(f: &Fixture, t: &LeaseTable) {
    let mut fresh = LeaseTable::from_leases(t.iter().cloned());
    f.indexed(&mut fresh);
    for s in &f.cfg.subnets {
        for r in &s.ranges {
            assert_eq!(t.range_index(r), fresh.range_index(r), "range {r:?}");
        }
    }
    let ends =
        |t: &LeaseTable| -> Vec<Ipv4Addr> { t.ending_by(UnixTime::MAX).map(|l| l.ip).collect() };
    assert_eq!(ends(t), ends(&fresh));
    for who in 0..6 {
        let mut a: Vec<_> = t.records_of(&client(who)).map(|l| l.ip).collect();
        let mut b: Vec<_> = t
            .iter()
            .filter(|l| l.client == client(who))
            .map(|l| l.ip)
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "client {who}'s records");
    }
}

#[test]
fn preference_order_current_then_requested_then_unused_then_longest_free() {
    let f = Fixture::new();
    let mut t = LeaseTable::new();
    f.indexed(&mut t);
    let me = client(1);
    // Unused: the first range in config order, lowest first.
    assert_eq!(f.pool(&t, 0, &me, NOW).choose(None), Some(ip("10.0.0.30")));
    // The requested address beats an unused one.
    assert_eq!(
        f.pool(&t, 0, &me, NOW).choose(Some(ip("10.0.0.12"))),
        Some(ip("10.0.0.12"))
    );
    // The client's own (even expired) lease beats its request.
    t.insert(lease(ip("10.0.0.13"), 1, LeaseState::Expired, NOW - 50));
    assert_eq!(
        f.pool(&t, 0, &me, NOW).choose(Some(ip("10.0.0.12"))),
        Some(ip("10.0.0.13"))
    );
    // Fill every unused address with other clients' history; the one whose
    // record ended first wins, ties to the earlier range, then lower address.
    let mut t = LeaseTable::new();
    f.indexed(&mut t);
    for (n, r) in f.cfg.subnets[0].ranges.iter().enumerate() {
        for a in r.iter() {
            let ends = NOW - 10 + u64::from(a.octets()[3] % 3) + n as u64;
            t.insert(lease(a, 9, LeaseState::Released, ends));
        }
    }
    // .30 (ends -10) is the earliest address with the earliest end.
    assert_eq!(f.pool(&t, 0, &me, NOW).choose(None), Some(ip("10.0.0.30")));
    t.insert(lease(ip("10.0.0.30"), 9, LeaseState::Bound, NOW + 100));
    // The other end at -10 is .33, the server's; .31 (first range) and .12
    // (second) both end at -9: config order wins.
    assert_eq!(f.pool(&t, 0, &me, NOW).choose(None), Some(ip("10.0.0.31")));
}

#[test]
fn static_hosts_and_the_server_id_are_never_handed_out() {
    let f = Fixture::new();
    for index in [true, false] {
        let mut t = LeaseTable::new();
        if index {
            f.indexed(&mut t);
        }
        // A promoted-in-place host's old dynamic lease still on its address.
        t.insert(lease(ip("10.0.0.32"), 5, LeaseState::Expired, NOW - 1000));
        let mut handed = Vec::new();
        for who in 10..30 {
            let key = client(who);
            let Some(a) = f.pool(&t, 0, &key, NOW).choose(Some(ip("10.0.0.33"))) else {
                break;
            };
            handed.push(a);
            t.insert(lease(a, who, LeaseState::Bound, NOW + 3600));
        }
        assert!(!handed.contains(&ip("10.0.0.32")), "{handed:?}");
        assert!(!handed.contains(&SERVER_ID), "{handed:?}");
        // 6 + 5 addresses, less the host and the server.
        assert_eq!(handed.len(), 9, "indexed {index}: {handed:?}");
    }
}

#[test]
fn a_host_added_after_indexing_is_still_refused() {
    let f = Fixture::new();
    let mut t = LeaseTable::new();
    f.indexed(&mut t);
    let cfg = f.cfg.clone();
    let hosts = hosts_of(&cfg, vec![store_host("late", 2, "10.0.0.30")]);
    let p = Pool {
        subnet: &cfg.subnets[0],
        hosts: &hosts,
        leases: &t,
        server_id: SERVER_ID,
        client: &client(1),
        known: false,
        classes: &[],
        grace: 0,
        spread: false,
        now: NOW,
    };
    // The stale index still lists .30 as unused; the rule refuses it.
    assert_eq!(p.choose(None), Some(ip("10.0.0.31")));
}

#[test]
fn reload_with_other_ranges_reindexes() {
    let f = Fixture::new();
    let mut t = LeaseTable::new();
    f.indexed(&mut t);
    t.insert(lease(ip("10.0.0.30"), 1, LeaseState::Bound, NOW + 100));
    let text = CONFIG.replace(
        r#"ranges = [["10.0.0.30", "10.0.0.35"], ["10.0.0.10", "10.0.0.14"]]"#,
        r#"range = ["10.0.0.30", "10.0.0.40"]"#,
    );
    let cfg = cfg_of(&text);
    let hosts = hosts_of(&cfg, Vec::new());
    let pool = |t: &LeaseTable| {
        Pool {
            subnet: &cfg.subnets[0],
            hosts: &hosts,
            leases: t,
            server_id: SERVER_ID,
            client: &client(2),
            known: false,
            classes: &[],
            grace: 0,
            spread: false,
            now: NOW,
        }
        .choose(None)
    };
    // Before reindexing the new range is built on the fly: right, slowly.
    assert_eq!(pool(&t), Some(ip("10.0.0.31")));
    Layout::new(&cfg, &hosts).index(&mut t);
    let ranges: Vec<Range> = t.indexed_ranges().collect();
    assert_eq!(
        ranges,
        vec![
            Range {
                start: ip("10.0.0.30"),
                end: ip("10.0.0.40")
            },
            Range {
                start: ip("10.0.1.10"),
                end: ip("10.0.1.12")
            },
        ]
    );
    assert_eq!(pool(&t), Some(ip("10.0.0.31")));
    let ix = t.range_index(&cfg.subnets[0].ranges[0]);
    // 11 addresses, less the host (.32) and the bound .30.
    assert_eq!(ix.unused_count(), 9);
    assert!(matches!(ix, std::borrow::Cow::Borrowed(_)));
}

#[test]
fn reclaim_takes_only_what_ran_out_from_the_time_index() {
    let f = Fixture::new();
    let mut t = LeaseTable::new();
    f.indexed(&mut t);
    t.insert(lease(ip("10.0.0.30"), 1, LeaseState::Offered, NOW - 1));
    t.insert(lease(ip("10.0.0.31"), 2, LeaseState::Bound, NOW - 5));
    t.insert(lease(ip("10.0.0.34"), 3, LeaseState::Declined, NOW));
    t.insert(lease(ip("10.0.0.35"), 4, LeaseState::Bound, NOW + 1));
    t.insert(lease(ip("10.0.0.10"), 5, LeaseState::Released, NOW - 100));
    t.insert(lease(ip("10.0.0.11"), 6, LeaseState::Expired, NOW - 100));
    let effects = engine::reclaim(&t, NOW);
    let expired = lease(ip("10.0.0.31"), 2, LeaseState::Expired, NOW - 5);
    assert_eq!(
        effects,
        vec![
            engine::Effect::Expire(expired),
            engine::Effect::Forget(ip("10.0.0.30")),
            engine::Effect::Unquarantine(ip("10.0.0.34")),
        ]
    );
    engine::apply(&mut t, &effects);
    assert!(engine::reclaim(&t, NOW).is_empty());
    assert_eq!(t.ending_by(NOW).count(), 0);
    // The expired lease is history now: the first to hand out again once
    // the pool has no unused address left.
    assert_eq!(
        t.ending_by(UnixTime::MAX).map(|l| l.ip).collect::<Vec<_>>(),
        vec![ip("10.0.0.35")]
    );
    assert_index_consistent(&f, &t);
}

#[test]
fn replacing_a_record_keeps_client_lookups_as_before() {
    let mut t = LeaseTable::new();
    t.insert(lease(ip("10.0.0.30"), 1, LeaseState::Bound, NOW));
    t.insert(lease(ip("10.0.0.31"), 1, LeaseState::Bound, NOW));
    assert_eq!(
        t.for_client(&client(1)).map(|l| l.ip),
        Some(ip("10.0.0.31"))
    );
    // Another client takes over the latest address: client 1 has no latest,
    // though its older record stays.
    t.insert(lease(ip("10.0.0.31"), 2, LeaseState::Offered, NOW));
    assert!(t.for_client(&client(1)).is_none());
    assert_eq!(t.records_of(&client(1)).count(), 1);
    assert_eq!(
        t.for_client(&client(2)).map(|l| l.ip),
        Some(ip("10.0.0.31"))
    );
    // Removing client 2's latest leaves it without one.
    t.remove(ip("10.0.0.31"));
    assert!(t.for_client(&client(2)).is_none());
    assert_eq!(t.records_of(&client(2)).count(), 0);
    t.remove(ip("10.0.0.30"));
    assert!(t.is_empty());
    assert_eq!(t.records_of(&client(1)).count(), 0);
}

#[test]
fn daemons_sharing_a_pool_start_their_search_apart() {
    let f = Fixture::new();
    let mut t = LeaseTable::new();
    f.indexed(&mut t);
    let me = client(1);
    let pool = |server: &str| {
        let mut p = f.pool(&t, 0, &me, NOW);
        p.spread = true;
        p.server_id = ip(server);
        p
    };
    let pick = |server: &str| pool(server).choose(None);
    let servers = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
    let picks: std::collections::BTreeSet<_> = servers.into_iter().map(pick).collect();
    assert!(picks.len() > 1, "every daemon picked {picks:?}");
    for s in servers {
        let p = pick(s).expect("an address");
        assert!(pool(s).may_give(p), "{p} is in the rule");
    }
    // The same daemon always starts at the same point.
    assert_eq!(pick("10.0.0.1"), pick("10.0.0.1"));
}
