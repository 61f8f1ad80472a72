//! One test per protocol rule, named after the rule.

use std::net::Ipv4Addr;
use std::path::Path;

use super::*;
use crate::blocks::{Block, Blocklist};
use crate::config;
use crate::hosts::HostTable;
use crate::lease::{Lease, LeaseState, LeaseTable};
use crate::packet::{BOOTREPLY, FLAG_BROADCAST, MessageType, Options, Packet, code};

pub(super) const NOW: u64 = 1_800_000_000;

const CONFIG: &str = r#"
[server]
interfaces = ["eth0"]
authoritative = true
bootp = true
default_lease = "1h"
max_lease = "2h"
min_lease = "1m"
offer_hold = "30s"
decline_probation = "10m"

[options]
domain-name-servers = ["192.0.2.53"]

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.102"]
options = { routers = ["192.0.2.1"], domain-name = "lab.test" }

[[subnet]]
cidr = "198.51.100.0/24"
range = ["198.51.100.10", "198.51.100.20"]
options = { routers = ["198.51.100.1"] }

[[subnet]]
cidr = "203.0.113.0/24"
range = ["203.0.113.10", "203.0.113.20"]

[[host]]
name = "printer"
mac = "02:00:00:00:00:01"
ip = "192.0.2.10"
options = { ntp-servers = ["192.0.2.123"] }

[[host]]
name = "byid"
client_id = "ff:00:00:00:01"
ip = "192.0.2.11"
"#;

const STATIC_MAC: &str = "02:00:00:00:00:01";
const MAC_A: &str = "02:00:00:00:00:aa";
const MAC_B: &str = "02:00:00:00:00:bb";
pub(super) const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn cfg() -> Config {
    cfg_with(|s| s)
}

fn cfg_with(edit: impl FnOnce(String) -> String) -> Config {
    match config::parse(&edit(CONFIG.to_string()), Path::new("test.toml")) {
        Ok(c) => c,
        Err(e) => panic!("test config does not parse:\n{e}"),
    }
}

pub(super) fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

/// A second served interface, on the 203.0.113.0/24 subnet.
pub(super) fn far_iface() -> Interface {
    Interface {
        name: "eth1".into(),
        addr: ip("203.0.113.1"),
    }
}

pub(super) fn iface() -> Interface {
    Interface {
        name: "eth0".into(),
        addr: SERVER,
    }
}

/// A request from `mac` of message type `mt`.
pub(super) fn pkt(mac: &str, mt: MessageType) -> Packet {
    Packet::request(mac.parse().expect("test mac"), mt, 0x1234_5678)
}

pub(super) fn with_opt(mut p: Packet, c: u8, v: &[u8]) -> Packet {
    p.options.set_bytes(c, v);
    p
}

pub(super) fn run(cfg: &Config, leases: &LeaseTable, p: &Packet) -> Decision {
    run_at(cfg, leases, p, NOW)
}

pub(super) fn run_at(cfg: &Config, leases: &LeaseTable, p: &Packet, now: u64) -> Decision {
    run_with(cfg, leases, &Blocklist::default(), p, now, &iface())
}

pub(super) fn run_with(
    cfg: &Config,
    leases: &LeaseTable,
    blocks: &Blocklist,
    p: &Packet,
    now: u64,
    i: &Interface,
) -> Decision {
    let (hosts, conflicts) = HostTable::build(&cfg.hosts, Vec::new());
    assert!(conflicts.is_empty());
    let interfaces = [i.clone(), far_iface()];
    let view = View {
        config: cfg,
        hosts: &hosts,
        leases,
        blocks,
        interfaces: &interfaces,
        probe_subnets: &[],
    };
    handle(
        &view,
        &Request {
            packet: p,
            interface: i,
        },
        now,
    )
}

pub(super) fn reply(d: &Decision) -> &Packet {
    &d.reply.as_ref().expect("a reply").packet
}

fn msg_type(d: &Decision) -> MessageType {
    match reply(d).message_type() {
        Some(Ok(t)) => t,
        other => panic!("reply has no valid message type: {other:?}"),
    }
}

/// Runs DISCOVER then REQUEST (SELECTING) for `mac`, applying effects;
/// returns the bound address.
fn bind(cfg: &Config, t: &mut LeaseTable, mac: &str) -> Ipv4Addr {
    let d = run(cfg, t, &pkt(mac, MessageType::Discover));
    apply(t, &d.effects);
    let offered = reply(&d).yiaddr;
    let req = with_opt(
        with_opt(
            pkt(mac, MessageType::Request),
            code::SERVER_ID,
            &SERVER.octets(),
        ),
        code::REQUESTED_IP,
        &offered.octets(),
    );
    let d = run(cfg, t, &req);
    assert_eq!(msg_type(&d), MessageType::Ack, "{:?}", d.outcome);
    apply(t, &d.effects);
    offered
}

fn selecting(mac: &str, addr: Ipv4Addr) -> Packet {
    with_opt(
        with_opt(
            pkt(mac, MessageType::Request),
            code::SERVER_ID,
            &SERVER.octets(),
        ),
        code::REQUESTED_IP,
        &addr.octets(),
    )
}

fn init_reboot(mac: &str, addr: Ipv4Addr) -> Packet {
    with_opt(
        pkt(mac, MessageType::Request),
        code::REQUESTED_IP,
        &addr.octets(),
    )
}

fn renewing(mac: &str, addr: Ipv4Addr) -> Packet {
    let mut p = pkt(mac, MessageType::Request);
    p.ciaddr = addr;
    p
}

// ---- DISCOVER -> OFFER -------------------------------------------------

#[test]
fn discover_known_host_is_offered_its_static_address() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &pkt(STATIC_MAC, MessageType::Discover),
    );
    assert_eq!(msg_type(&d), MessageType::Offer);
    assert_eq!(reply(&d).yiaddr, ip("192.0.2.10"));
    assert_eq!(d.outcome, Outcome::Offered(ip("192.0.2.10")));
}

#[test]
fn discover_unknown_client_is_offered_first_free_pool_address() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &pkt(MAC_A, MessageType::Discover),
    );
    assert_eq!(reply(&d).yiaddr, ip("192.0.2.100"));
}

#[test]
fn discover_offers_the_clients_current_lease_first() {
    let c = cfg();
    let mut t = LeaseTable::new();
    bind(&c, &mut t, MAC_B); // .100
    let got = bind(&c, &mut t, MAC_A); // .101
    let d = run(
        &c,
        &t,
        &with_opt(
            pkt(MAC_A, MessageType::Discover),
            code::REQUESTED_IP,
            &[192, 0, 2, 102],
        ),
    );
    assert_eq!(reply(&d).yiaddr, got);
    assert!(
        d.effects.is_empty(),
        "a bound lease is not downgraded to a hold"
    );
}

#[test]
fn discover_offers_requested_address_when_free() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &with_opt(
            pkt(MAC_A, MessageType::Discover),
            code::REQUESTED_IP,
            &[192, 0, 2, 102],
        ),
    );
    assert_eq!(reply(&d).yiaddr, ip("192.0.2.102"));
}

#[test]
fn discover_ignores_requested_address_outside_the_pool_or_taken() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let taken = bind(&c, &mut t, MAC_B);
    for asked in [
        taken,
        ip("192.0.2.10"),
        ip("192.0.2.50"),
        ip("198.51.100.10"),
    ] {
        let d = run(
            &c,
            &t,
            &with_opt(
                pkt(MAC_A, MessageType::Discover),
                code::REQUESTED_IP,
                &asked.octets(),
            ),
        );
        assert_ne!(reply(&d).yiaddr, asked);
        assert_eq!(reply(&d).yiaddr, ip("192.0.2.101"));
    }
}

#[test]
fn discover_holds_offer_for_offer_hold_time() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &pkt(MAC_A, MessageType::Discover),
    );
    match d.effects.as_slice() {
        [Effect::Hold(l)] => {
            assert_eq!(l.state, LeaseState::Offered);
            assert_eq!(l.ends, NOW + 30);
        }
        other => panic!("expected one hold, got {other:?}"),
    }
    assert!(
        !d.effects[0].is_durable(),
        "offers are not written to the store"
    );
}

#[test]
fn held_offer_is_not_offered_to_another_client() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let d = run(&c, &t, &pkt(MAC_A, MessageType::Discover));
    apply(&mut t, &d.effects);
    let d2 = run(&c, &t, &pkt(MAC_B, MessageType::Discover));
    assert_ne!(reply(&d2).yiaddr, reply(&d).yiaddr);
}

#[test]
fn expired_hold_is_forgotten_and_address_offered_again() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let d = run(&c, &t, &pkt(MAC_A, MessageType::Discover));
    apply(&mut t, &d.effects);
    let effects = reclaim(&t, NOW + 31);
    assert_eq!(effects, vec![Effect::Forget(ip("192.0.2.100"))]);
    apply(&mut t, &effects);
    let d2 = run_at(&c, &t, &pkt(MAC_B, MessageType::Discover), NOW + 31);
    assert_eq!(reply(&d2).yiaddr, ip("192.0.2.100"));
}

#[test]
fn discover_with_pool_exhausted_gets_no_offer() {
    let c = cfg();
    let mut t = LeaseTable::new();
    for mac in [
        "02:00:00:00:01:01",
        "02:00:00:00:01:02",
        "02:00:00:00:01:03",
    ] {
        bind(&c, &mut t, mac);
    }
    let d = run(&c, &t, &pkt(MAC_A, MessageType::Discover));
    assert!(d.reply.is_none());
    assert_eq!(d.outcome, Outcome::NoAddress("pool exhausted"));
}

#[test]
fn expired_lease_of_another_client_is_reused_when_pool_is_full() {
    let c = cfg();
    let mut t = LeaseTable::new();
    for mac in [
        "02:00:00:00:01:01",
        "02:00:00:00:01:02",
        "02:00:00:00:01:03",
    ] {
        bind(&c, &mut t, mac);
    }
    let later = NOW + 3 * 3600;
    let effects = reclaim(&t, later);
    assert_eq!(effects.len(), 3);
    apply(&mut t, &effects);
    let d = run_at(&c, &t, &pkt(MAC_A, MessageType::Discover), later);
    assert!(d.reply.is_some(), "{:?}", d.outcome);
}

// ---- REQUEST ---------------------------------------------------------------

#[test]
fn request_selecting_our_offer_is_acked() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let l = t.get(got).expect("lease recorded");
    assert_eq!(l.state, LeaseState::Bound);
    assert_eq!(l.ends, NOW + 3600);
}

#[test]
fn request_selecting_another_server_drops_our_offer_silently() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let d = run(&c, &t, &pkt(MAC_A, MessageType::Discover));
    apply(&mut t, &d.effects);
    let other = with_opt(
        with_opt(
            pkt(MAC_A, MessageType::Request),
            code::SERVER_ID,
            &[192, 0, 2, 254],
        ),
        code::REQUESTED_IP,
        &[192, 0, 2, 100],
    );
    let d = run(&c, &t, &other);
    assert!(d.reply.is_none());
    assert_eq!(d.effects, vec![Effect::Forget(ip("192.0.2.100"))]);
    apply(&mut t, &d.effects);
    assert!(t.get(ip("192.0.2.100")).is_none());
}

#[test]
fn request_selecting_an_address_not_offered_is_naked() {
    let c = cfg();
    let d = run(&c, &LeaseTable::new(), &selecting(MAC_A, ip("192.0.2.101")));
    assert_eq!(msg_type(&d), MessageType::Nak);
}

#[test]
fn request_init_reboot_right_address_is_acked() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let d = run(&c, &t, &init_reboot(MAC_A, got));
    assert_eq!(msg_type(&d), MessageType::Ack);
    assert_eq!(reply(&d).yiaddr, got);
}

#[test]
fn request_init_reboot_wrong_network_is_naked_when_authoritative() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &init_reboot(MAC_A, ip("10.9.9.9")),
    );
    assert_eq!(msg_type(&d), MessageType::Nak);
    assert_eq!(
        reply(&d).options.get(code::MESSAGE),
        Some(&b"requested address is on the wrong network"[..])
    );
}

#[test]
fn request_init_reboot_wrong_network_is_silent_when_not_authoritative() {
    let c = cfg_with(|s| s.replace("authoritative = true", "authoritative = false"));
    let d = run(&c, &LeaseTable::new(), &init_reboot(MAC_A, ip("10.9.9.9")));
    assert!(d.reply.is_none());
}

#[test]
fn request_init_reboot_address_leased_to_another_client_is_naked() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let theirs = bind(&c, &mut t, MAC_B);
    let d = run(&c, &t, &init_reboot(MAC_A, theirs));
    assert_eq!(msg_type(&d), MessageType::Nak);
}

#[test]
fn request_init_reboot_free_pool_address_is_plucked_when_adopting() {
    let d = run(
        &adopting(),
        &LeaseTable::new(),
        &init_reboot(MAC_A, ip("192.0.2.101")),
    );
    assert_eq!(msg_type(&d), MessageType::Ack);
    assert_eq!(reply(&d).yiaddr, ip("192.0.2.101"));
}

#[test]
fn request_init_reboot_unknown_client_is_silent_when_not_authoritative() {
    let c = cfg_with(|s| s.replace("authoritative = true", "authoritative = false"));
    let d = run(
        &c,
        &LeaseTable::new(),
        &init_reboot(MAC_A, ip("192.0.2.101")),
    );
    assert!(d.reply.is_none());
}

#[test]
fn request_static_host_asking_for_another_address_is_naked() {
    let c = cfg();
    let d = run(
        &c,
        &LeaseTable::new(),
        &init_reboot(STATIC_MAC, ip("192.0.2.100")),
    );
    assert_eq!(msg_type(&d), MessageType::Nak);
    let d = run(
        &c,
        &LeaseTable::new(),
        &init_reboot(STATIC_MAC, ip("192.0.2.10")),
    );
    assert_eq!(msg_type(&d), MessageType::Ack);
}

#[test]
fn request_renewing_extends_the_lease_and_unicasts_to_ciaddr() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let later = NOW + 1800;
    let d = run_at(&c, &t, &renewing(MAC_A, got), later);
    assert_eq!(msg_type(&d), MessageType::Ack);
    assert_eq!(reply(&d).ciaddr, got);
    assert_eq!(
        d.reply.as_ref().map(|r| r.dest),
        Some(Destination::Unicast(got))
    );
    match d.effects.as_slice() {
        [Effect::Bind(l)] => assert_eq!(l.ends, later + 3600),
        other => panic!("expected a bind, got {other:?}"),
    }
}

#[test]
fn request_rebinding_broadcast_extends_the_lease() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let mut p = renewing(MAC_A, got);
    p.flags = FLAG_BROADCAST;
    let d = run_at(&c, &t, &p, NOW + 3200);
    assert_eq!(msg_type(&d), MessageType::Ack);
}

#[test]
fn ack_effect_is_durable_before_reply() {
    let c = adopting();
    let d = run(
        &c,
        &LeaseTable::new(),
        &init_reboot(MAC_A, ip("192.0.2.101")),
    );
    assert!(d.effects.iter().all(Effect::is_durable));
    assert_eq!(
        d.effects.iter().filter(|e| e.is_durable()).count(),
        1,
        "the ACK's lease is written to the store"
    );
}

// ---- DECLINE, RELEASE, INFORM ------------------------------------------------

#[test]
fn decline_quarantines_the_address_for_the_probation_period() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let d = run(
        &c,
        &t,
        &with_opt(
            pkt(MAC_A, MessageType::Decline),
            code::REQUESTED_IP,
            &got.octets(),
        ),
    );
    assert!(d.reply.is_none());
    apply(&mut t, &d.effects);
    let l = t.get(got).expect("quarantine record");
    assert_eq!(l.state, LeaseState::Declined);
    assert_eq!(l.ends, NOW + 600);
    // Not offered again, not even to the client that declined it.
    for mac in [MAC_A, MAC_B] {
        let d = run(&c, &t, &pkt(mac, MessageType::Discover));
        assert_ne!(reply(&d).yiaddr, got);
    }
    // After probation, the address is free again.
    let effects = reclaim(&t, NOW + 601);
    assert!(effects.contains(&Effect::Unquarantine(got)));
}

#[test]
fn release_ends_the_lease() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let mut p = pkt(MAC_A, MessageType::Release);
    p.ciaddr = got;
    let d = run(&c, &t, &p);
    assert!(d.reply.is_none());
    assert_eq!(d.outcome, Outcome::Released(got));
    apply(&mut t, &d.effects);
    let l = t.get(got).expect("kept as history");
    assert_eq!(l.state, LeaseState::Released);
    assert!(!l.is_active(NOW));
}

#[test]
fn release_of_another_clients_lease_is_ignored() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let mut p = pkt(MAC_B, MessageType::Release);
    p.ciaddr = got;
    let d = run(&c, &t, &p);
    assert!(d.effects.is_empty());
}

#[test]
fn inform_is_acked_with_options_and_no_lease() {
    let mut p = pkt(MAC_A, MessageType::Inform);
    p.ciaddr = ip("192.0.2.77");
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert_eq!(msg_type(&d), MessageType::Ack);
    let r = reply(&d);
    assert_eq!(r.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert!(r.options.get(code::LEASE_TIME).is_none());
    assert!(r.options.get(code::RENEWAL_TIME).is_none());
    assert_eq!(r.options.get(code::ROUTERS), Some(&[192, 0, 2, 1][..]));
    assert!(d.effects.is_empty());
    assert_eq!(
        d.reply.as_ref().map(|r| r.dest),
        Some(Destination::Unicast(p.ciaddr))
    );
}

// ---- identity, lease time, options -----------------------------------------

#[test]
fn client_identifier_is_preferred_over_chaddr() {
    let c = cfg();
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::CLIENT_ID,
        &[0xff, 0, 0, 0, 1],
    );
    let d = run(&c, &LeaseTable::new(), &p);
    assert_eq!(
        reply(&d).yiaddr,
        ip("192.0.2.11"),
        "host matched by client id"
    );
    // Two chaddrs with one client id are one client.
    let mut t = LeaseTable::new();
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::CLIENT_ID,
        &[1, 2, 3],
    );
    let d = run(&c, &t, &p);
    apply(&mut t, &d.effects);
    let p2 = with_opt(
        pkt(MAC_B, MessageType::Discover),
        code::CLIENT_ID,
        &[1, 2, 3],
    );
    let d2 = run(&c, &t, &p2);
    assert_eq!(reply(&d2).yiaddr, reply(&d).yiaddr);
}

#[test]
fn requested_lease_time_is_clamped_to_max_and_min() {
    let c = adopting();
    let lease_of = |asked: u32| {
        let p = with_opt(
            init_reboot(MAC_A, ip("192.0.2.101")),
            code::LEASE_TIME,
            &asked.to_be_bytes(),
        );
        let d = run(&c, &LeaseTable::new(), &p);
        reply(&d).options.get_u32(code::LEASE_TIME)
    };
    assert_eq!(lease_of(999_999), Some(7200));
    assert_eq!(lease_of(5), Some(60));
    assert_eq!(lease_of(1000), Some(1000));
}

#[test]
fn t1_and_t2_are_sent_at_half_and_seven_eighths() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &pkt(MAC_A, MessageType::Discover),
    );
    let r = reply(&d);
    assert_eq!(r.options.get_u32(code::LEASE_TIME), Some(3600));
    assert_eq!(r.options.get_u32(code::RENEWAL_TIME), Some(1800));
    assert_eq!(r.options.get_u32(code::REBINDING_TIME), Some(3150));
}

#[test]
fn server_identifier_and_subnet_mask_are_always_sent() {
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::PARAMETER_REQUEST_LIST,
        &[3],
    );
    let d = run(&cfg(), &LeaseTable::new(), &p);
    let r = reply(&d);
    assert_eq!(r.options.get_ip(code::SERVER_ID), Some(SERVER));
    assert_eq!(
        r.options.get_ip(code::SUBNET_MASK),
        Some(ip("255.255.255.0"))
    );
}

/// The server-set list is what makes check-config and the reply builder
/// agree: every catalogue option the configuration accepts reaches a client
/// that asks for it, byte for byte, and every one it refuses is on the list.
#[test]
fn every_option_check_config_accepts_is_sent_when_requested() {
    use crate::options::{self, OptionKind as K};
    for def in options::all() {
        let sample = match def.kind {
            K::Ip => r#""192.0.2.7""#,
            K::IpList => r#"["192.0.2.7", "192.0.2.8"]"#,
            K::IpPairs => r#"[["10.0.0.0", "192.0.2.1"]]"#,
            K::ClasslessRoutes => r#"[["10.0.0.0/8", "192.0.2.1"]]"#,
            K::U8 | K::U16 | K::U32 | K::I32 | K::U8List | K::U16List | K::U32List => "7",
            K::Bool => "true",
            K::Text => r#""seven""#,
            K::Hex => r#""07:07""#,
            K::DomainList => r#"["a.example", "b.example"]"#,
            K::StringList => r#"["seven", "eight"]"#,
        };
        let line = format!("{} = {sample}", def.name);
        let text = CONFIG.replace(r#"domain-name-servers = ["192.0.2.53"]"#, &line);
        match config::parse(&text, Path::new("test.toml")) {
            Ok(c) => {
                assert!(!options::is_server_set(def.code), "{} accepted", def.name);
                let want = c.options.value(def.code).map(|v| v.encode().into_vec());
                assert!(want.is_some(), "{} configured", def.name);
                // A client on the subnet without options of its own.
                let p = with_opt(
                    pkt(MAC_A, MessageType::Discover),
                    code::PARAMETER_REQUEST_LIST,
                    &[def.code],
                );
                let d = run_with(
                    &c,
                    &LeaseTable::new(),
                    &Blocklist::default(),
                    &p,
                    NOW,
                    &far_iface(),
                );
                assert_eq!(
                    reply(&d).options.get(def.code).map(<[u8]>::to_vec),
                    want,
                    "{} is sent as configured",
                    def.name
                );
            }
            Err(e) => {
                assert!(
                    options::is_server_set(def.code),
                    "{} refused: {e}",
                    def.name
                );
                assert!(e.to_string().contains("is set by the server itself"), "{e}");
            }
        }
    }
}

#[test]
fn parameter_request_list_is_honoured_in_order() {
    let p = with_opt(
        pkt(STATIC_MAC, MessageType::Discover),
        code::PARAMETER_REQUEST_LIST,
        &[42, 15, 6, 3, 12],
    );
    let d = run(&cfg(), &LeaseTable::new(), &p);
    let codes: Vec<u8> = reply(&d)
        .options
        .iter()
        .map(|(c, _)| c)
        .filter(|c| [42, 15, 6, 3, 12].contains(c))
        .collect();
    assert_eq!(
        codes,
        vec![42, 15, 6, 3, 12],
        "host ntp, subnet, global, host name"
    );
    assert_eq!(
        reply(&d).options.get(code::HOST_NAME),
        Some(&b"printer"[..])
    );
    // Not requested, not sent.
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::PARAMETER_REQUEST_LIST,
        &[3],
    );
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert!(reply(&d).options.get(code::DOMAIN_NAME).is_none());
}

#[test]
fn reply_is_capped_at_576_bytes_or_the_clients_maximum() {
    // A subnet with a lot of option data: 60 NTP servers = 240 bytes,
    // 60 DNS servers = 240 bytes.
    let many: Vec<String> = (1..=60).map(|i| format!("\"192.0.2.{i}\"")).collect();
    let list = many.join(", ");
    let c = cfg_with(|s| {
        s.replace(
            "domain-name-servers = [\"192.0.2.53\"]",
            &format!(
                "domain-name-servers = [{list}]\nntp-servers = [{list}]\nlog-servers = [{list}]"
            ),
        )
    });
    let prl = [1, 3, 6, 42, 7, 15];
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::PARAMETER_REQUEST_LIST,
        &prl,
    );
    let d = run(&c, &LeaseTable::new(), &p);
    let r = d.reply.as_ref().expect("reply");
    let (bytes, dropped) = r.encode();
    assert!(bytes.len() <= 576 - 28, "{} bytes", bytes.len());
    assert!(!dropped.is_empty(), "something had to give");
    let back = Packet::decode(&bytes).expect("decodes");
    for c in crate::options::ESSENTIAL
        .iter()
        .filter(|c| **c != code::MESSAGE)
    {
        assert!(back.options.contains(*c), "essential option {c} kept");
    }
    // A client allowing 1500 bytes gets everything.
    let p = with_opt(p, code::MAX_MESSAGE_SIZE, &1500u16.to_be_bytes());
    let d = run(&c, &LeaseTable::new(), &p);
    let (bytes, dropped) = d.reply.as_ref().expect("reply").encode();
    assert!(dropped.is_empty());
    assert!(bytes.len() > 576 - 28 && bytes.len() <= 1472);
}

#[test]
fn relay_agent_information_is_echoed_byte_for_byte_and_last() {
    let ri = [1, 4, b'p', b'o', b'r', b't', 2, 3, 9, 8, 7];
    let mut p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::RELAY_AGENT_INFO,
        &ri,
    );
    p.giaddr = ip("198.51.100.1");
    let d = run(&cfg(), &LeaseTable::new(), &p);
    let (bytes, _) = d.reply.as_ref().expect("reply").encode();
    let end = bytes.iter().rposition(|&b| b == code::END).expect("END");
    let tail = &bytes[end - ri.len() - 2..end];
    assert_eq!(tail[0], code::RELAY_AGENT_INFO);
    assert_eq!(&tail[2..], &ri);
}

// ---- subnet selection and reply path --------------------------------------

#[test]
fn relayed_request_is_served_from_the_giaddr_subnet_and_answered_to_the_relay() {
    let mut p = pkt(MAC_A, MessageType::Discover);
    p.giaddr = ip("198.51.100.1");
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert_eq!(reply(&d).yiaddr, ip("198.51.100.10"));
    assert_eq!(reply(&d).giaddr, p.giaddr);
    assert_eq!(
        d.reply.as_ref().map(|r| r.dest),
        Some(Destination::Relay(p.giaddr))
    );
}

#[test]
fn request_on_an_interface_with_no_subnet_is_ignored() {
    let c = cfg();
    let i = Interface {
        name: "eth9".into(),
        // Unit test only: an address no configured subnet contains.
        addr: ip("10.255.0.1"),
    };
    let p = pkt(MAC_A, MessageType::Discover);
    let d = run_with(&c, &LeaseTable::new(), &Blocklist::default(), &p, NOW, &i);
    assert!(d.reply.is_none());
}

#[test]
fn broadcast_flag_gets_a_broadcast_reply() {
    let mut p = pkt(MAC_A, MessageType::Discover);
    p.flags = FLAG_BROADCAST;
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert_eq!(
        d.reply.as_ref().map(|r| r.dest),
        Some(Destination::Broadcast)
    );
}

#[test]
fn no_broadcast_flag_gets_unicast_to_yiaddr_at_chaddr() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &pkt(MAC_A, MessageType::Discover),
    );
    assert_eq!(
        d.reply.as_ref().map(|r| r.dest),
        Some(Destination::Hardware {
            ip: ip("192.0.2.100"),
            mac: MAC_A.parse().expect("mac")
        })
    );
}

#[test]
fn nak_is_broadcast_unless_relayed() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &init_reboot(MAC_A, ip("10.0.0.5")),
    );
    assert_eq!(
        d.reply.as_ref().map(|r| r.dest),
        Some(Destination::Broadcast)
    );
    let mut p = init_reboot(MAC_A, ip("10.0.0.5"));
    p.giaddr = ip("198.51.100.1");
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert_eq!(
        d.reply.as_ref().map(|r| r.dest),
        Some(Destination::Relay(p.giaddr))
    );
    assert!(reply(&d).broadcast(), "relayed NAK sets the broadcast bit");
}

// ---- BOOTP and bad packets ------------------------------------------------

#[test]
fn bootp_request_from_static_host_is_answered_when_enabled() {
    let mut p = pkt(STATIC_MAC, MessageType::Discover);
    p.options = Options::new();
    let d = run(&cfg(), &LeaseTable::new(), &p);
    let r = reply(&d);
    assert_eq!(r.op, BOOTREPLY);
    assert_eq!(r.yiaddr, ip("192.0.2.10"));
    assert!(
        r.message_type().is_none(),
        "BOOTP replies carry no option 53"
    );
}

#[test]
fn bootp_request_from_unknown_client_is_ignored() {
    let mut p = pkt(MAC_A, MessageType::Discover);
    p.options = Options::new();
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert!(d.reply.is_none());
}

#[test]
fn bootp_request_is_dropped_when_bootp_is_off() {
    let c = cfg_with(|s| s.replace("bootp = true", "bootp = false"));
    let mut p = pkt(STATIC_MAC, MessageType::Discover);
    p.options = Options::new();
    let d = run(&c, &LeaseTable::new(), &p);
    assert!(d.reply.is_none());
    assert!(matches!(d.outcome, Outcome::Dropped(_)));
}

#[test]
fn bootreply_arriving_on_the_server_port_is_dropped() {
    let mut p = pkt(MAC_A, MessageType::Discover);
    p.op = BOOTREPLY;
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert!(d.reply.is_none());
    assert!(matches!(d.outcome, Outcome::Dropped(_)));
}

#[test]
fn server_message_types_from_clients_are_dropped() {
    for mt in [MessageType::Offer, MessageType::Ack, MessageType::Nak] {
        let d = run(&cfg(), &LeaseTable::new(), &pkt(MAC_A, mt));
        assert!(d.reply.is_none());
    }
    let p = with_opt(pkt(MAC_A, MessageType::Discover), code::MESSAGE_TYPE, &[77]);
    assert!(run(&cfg(), &LeaseTable::new(), &p).reply.is_none());
}

#[test]
fn expiry_keeps_the_lease_as_history_for_the_same_client() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let later = NOW + 4000;
    let effects = reclaim(&t, later);
    assert!(matches!(effects.as_slice(), [Effect::Expire(l)] if l.ip == got));
    assert!(
        effects.iter().all(Effect::is_durable),
        "expiry is recorded durably"
    );
    apply(&mut t, &effects);
    bind(&c, &mut t, MAC_B);
    let d = run_at(&c, &t, &pkt(MAC_A, MessageType::Discover), later);
    assert_eq!(
        reply(&d).yiaddr,
        got,
        "returning client gets its old address"
    );
}

#[test]
fn static_lease_record_does_not_block_the_pool() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let d = run(&c, &t, &init_reboot(STATIC_MAC, ip("192.0.2.10")));
    apply(&mut t, &d.effects);
    assert_eq!(
        t.get(ip("192.0.2.10")).map(|l: &Lease| l.state),
        Some(LeaseState::Bound)
    );
    let d = run(&c, &t, &pkt(MAC_A, MessageType::Discover));
    assert_eq!(reply(&d).yiaddr, ip("192.0.2.100"));
}

#[test]
fn blocked_client_is_ignored_until_the_block_lifts() {
    let mac: crate::addr::MacAddr = MAC_A.parse().expect("mac");
    let blocks = Blocklist::from_blocks([Block {
        mac,
        since: NOW,
        until: Some(NOW + 60),
    }]);
    let p = pkt(MAC_A, MessageType::Discover);
    let d = run_with(&cfg(), &LeaseTable::new(), &blocks, &p, NOW, &iface());
    assert!(d.reply.is_none());
    assert_eq!(d.outcome, Outcome::Ignored("client is blocked"));
    let d = run_with(&cfg(), &LeaseTable::new(), &blocks, &p, NOW + 61, &iface());
    assert!(d.reply.is_some());
}

#[test]
fn unicast_renewal_from_a_relayed_network_is_served_from_ciaddrs_subnet() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let mut d = pkt(MAC_A, MessageType::Discover);
    d.giaddr = ip("198.51.100.1");
    let offer = run(&c, &t, &d);
    apply(&mut t, &offer.effects);
    let got = reply(&offer).yiaddr;
    let mut sel = selecting(MAC_A, got);
    sel.giaddr = ip("198.51.100.1");
    let ack = run(&c, &t, &sel);
    apply(&mut t, &ack.effects);
    // The renewal comes straight to us, without the relay.
    let d = run(&c, &t, &renewing(MAC_A, got));
    assert_eq!(msg_type(&d), MessageType::Ack, "{:?}", d.outcome);
}

#[test]
fn rebinding_with_an_address_from_another_attached_network_is_naked() {
    // The client moved from eth1's network to eth0's and rebinds its old
    // address: it must be told, not kept on an address that cannot work.
    let c = cfg();
    let mut t = LeaseTable::new();
    let far = far_iface();
    let offer = run_with(
        &c,
        &t,
        &Blocklist::default(),
        &pkt(MAC_A, MessageType::Discover),
        NOW,
        &far,
    );
    apply(&mut t, &offer.effects);
    let got = reply(&offer).yiaddr;
    assert!(got.to_string().starts_with("203.0.113."));
    let ack = run_with(
        &c,
        &t,
        &Blocklist::default(),
        &selecting(MAC_A, got),
        NOW,
        &far,
    );
    apply(&mut t, &ack.effects);
    let mut p = renewing(MAC_A, got);
    p.flags = FLAG_BROADCAST;
    let d = run(&c, &t, &p);
    assert_eq!(msg_type(&d), MessageType::Nak, "{:?}", d.outcome);
}

// ---- Hostile clients ----------------------------------------------------------

/// The test config with INIT-REBOOT adoption of unknown clients on.
fn adopting() -> Config {
    cfg_with(|s| {
        s.replace(
            "bootp = true",
            "bootp = true\nadopt_rebooting_clients = true",
        )
    })
}

#[test]
fn request_init_reboot_unknown_client_is_silent_by_default() {
    // RFC 2131 4.3.2: a server with no record of the client MUST remain
    // silent. One packet per address from random MACs would otherwise empty
    // the pool for max_lease.
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &init_reboot(MAC_A, ip("192.0.2.101")),
    );
    assert!(d.reply.is_none(), "{:?}", d.outcome);
    assert!(d.effects.is_empty());
    assert_eq!(d.outcome, Outcome::Ignored("no record of this client"));
}

#[test]
fn request_init_reboot_static_host_is_acked_without_adoption() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &init_reboot(STATIC_MAC, ip("192.0.2.10")),
    );
    assert_eq!(msg_type(&d), MessageType::Ack);
}

#[test]
fn request_init_reboot_known_client_is_acked_without_adoption() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let d = run(&c, &t, &init_reboot(MAC_A, got));
    assert_eq!(msg_type(&d), MessageType::Ack);
}

#[test]
fn decline_of_an_address_only_offered_is_ignored() {
    // RFC 2131 4.3.3: a DECLINE means "the address you ACKed is in use".
    // Accepting one for a mere offer lets two packets per address empty a
    // pool for the whole probation time.
    let c = cfg();
    let mut t = LeaseTable::new();
    let d = run(&c, &t, &pkt(MAC_A, MessageType::Discover));
    apply(&mut t, &d.effects);
    let offered = reply(&d).yiaddr;
    let decline = with_opt(
        pkt(MAC_A, MessageType::Decline),
        code::REQUESTED_IP,
        &offered.octets(),
    );
    let d = run(&c, &t, &decline);
    assert!(d.effects.is_empty(), "{:?}", d.effects);
    assert!(matches!(d.outcome, Outcome::Ignored(_)), "{:?}", d.outcome);
}

#[test]
fn decline_of_a_lease_that_ran_out_is_ignored() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let got = bind(&c, &mut t, MAC_A);
    let decline = with_opt(
        pkt(MAC_A, MessageType::Decline),
        code::REQUESTED_IP,
        &got.octets(),
    );
    let d = run_at(&c, &t, &decline, NOW + 7200 + 1);
    assert!(d.effects.is_empty(), "{:?}", d.effects);
}

#[test]
fn blocked_client_without_chaddr_is_ignored_by_its_client_id() {
    let blocks = Blocklist::from_blocks([Block {
        mac: MAC_A.parse().expect("mac"),
        since: NOW,
        until: None,
    }]);
    let mut p = pkt(MAC_A, MessageType::Discover);
    p.hlen = 0;
    p.chaddr = [0; 16];
    let mut id = vec![1u8];
    id.extend_from_slice(&MAC_A.parse::<crate::addr::MacAddr>().expect("mac").0);
    p.options.set_bytes(code::CLIENT_ID, &id);
    let d = run_with(&cfg(), &LeaseTable::new(), &blocks, &p, NOW, &iface());
    assert_eq!(d.outcome, Outcome::Ignored("client is blocked"));
}

#[test]
fn client_hostname_is_bounded_before_it_is_stored() {
    // Options concatenate (RFC 3396): a client can send kilobytes.
    let long: Vec<u8> = std::iter::repeat_n(b"host-".as_slice(), 300)
        .flatten()
        .copied()
        .collect();
    let p = with_opt(
        init_reboot(MAC_A, ip("192.0.2.101")),
        code::HOST_NAME,
        &long,
    );
    let d = run(&adopting(), &LeaseTable::new(), &p);
    let Some(Effect::Bind(l)) = d.effects.last() else {
        panic!("expected a bind: {:?}", d.effects);
    };
    let h = l.hostname.as_deref().expect("hostname kept");
    assert!(h.len() <= MAX_CLIENT_TEXT, "{} bytes", h.len());
}

#[test]
fn client_text_is_cut_on_a_character_boundary() {
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::VENDOR_CLASS,
        "é".repeat(200).as_bytes(),
    );
    let v = client_text(&p, code::VENDOR_CLASS).expect("text");
    assert!(
        v.len() <= MAX_CLIENT_TEXT && v.chars().all(|c| c == 'é'),
        "{v}"
    );
}

#[test]
fn oversized_client_identifier_is_dropped() {
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::CLIENT_ID,
        &[7; 300],
    );
    let d = run(&cfg(), &LeaseTable::new(), &p);
    assert!(d.reply.is_none());
    assert!(matches!(d.outcome, Outcome::Dropped(_)), "{:?}", d.outcome);
}

#[test]
fn malformed_requests_are_dropped_without_a_reply() {
    let cases: [(u8, Vec<u8>); 4] = [
        (code::CLIENT_ID, vec![]),
        (code::CLIENT_ID, vec![1]),
        (code::PARAMETER_REQUEST_LIST, vec![3; 1500]),
        (code::HOST_NAME, vec![0x1b; 255]),
    ];
    for (c, v) in cases {
        let p = with_opt(pkt(MAC_A, MessageType::Discover), c, &v);
        let d = run(&cfg(), &LeaseTable::new(), &p);
        assert!(
            d.reply.is_none(),
            "option {c} of {} bytes answered",
            v.len()
        );
        assert!(
            matches!(d.outcome, Outcome::Dropped(_)),
            "option {c}: {:?}",
            d.outcome
        );
    }
    // A host name padded with NULs (some Windows clients) is fine.
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::HOST_NAME,
        b"pc\0\0",
    );
    assert!(run(&cfg(), &LeaseTable::new(), &p).reply.is_some());
}

// ---- option 118 (RFC 3011) and `[limits] subnet_selection` -------------

#[test]
fn subnet_selection_on_lets_the_option_pick_the_named_subnet() {
    let cfg = cfg_with(|s| s + "\n[limits]\nsubnet_selection = true\n");
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::SUBNET_SELECTION,
        &[198, 51, 100, 0],
    );
    let d = run(&cfg, &LeaseTable::new(), &p);
    assert_eq!(reply(&d).yiaddr, ip("198.51.100.10"));
}

#[test]
fn subnet_selection_is_ignored_by_default() {
    let cfg = cfg();
    let p = with_opt(
        pkt(MAC_A, MessageType::Discover),
        code::SUBNET_SELECTION,
        &[198, 51, 100, 0],
    );
    let d = run(&cfg, &LeaseTable::new(), &p);
    assert_eq!(
        reply(&d).yiaddr,
        ip("192.0.2.100"),
        "the interface's subnet"
    );
}

// ------------------------------------------------------- pre-offer probes

/// `run` with every subnet's never-used addresses probed before offering.
fn run_probing(cfg: &Config, leases: &LeaseTable, p: &Packet) -> Decision {
    let (hosts, _) = HostTable::build(&cfg.hosts, Vec::new());
    let interfaces = [iface(), far_iface()];
    let probe: Vec<Cidr> = cfg.subnets.iter().map(|s| s.cidr).collect();
    let view = View {
        config: cfg,
        hosts: &hosts,
        leases,
        blocks: &Blocklist::default(),
        interfaces: &interfaces,
        probe_subnets: &probe,
    };
    let i = iface();
    handle(
        &view,
        &Request {
            packet: p,
            interface: &i,
        },
        NOW,
    )
}

#[test]
fn probe_a_never_used_address_before_its_first_offer() {
    let c = cfg();
    let d = run_probing(&c, &LeaseTable::new(), &pkt(MAC_A, MessageType::Discover));
    assert_eq!(d.outcome, Outcome::Probe(ip("192.0.2.100")));
    assert!(d.reply.is_none(), "nothing is offered before the probe");
    match d.effects.as_slice() {
        [Effect::Hold(l)] => {
            assert_eq!(l.ip, ip("192.0.2.100"));
            assert_eq!(l.ends, NOW + 30, "held for offer_hold meanwhile");
        }
        other => panic!("want one hold, got {other:?}"),
    }
}

#[test]
fn after_a_silent_probe_the_held_address_is_offered() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let p = pkt(MAC_A, MessageType::Discover);
    let first = run_probing(&c, &t, &p);
    apply(&mut t, &first.effects);
    // The server handles the DISCOVER again once the wire stayed silent.
    let again = run_probing(&c, &t, &p);
    assert_eq!(again.outcome, Outcome::Offered(ip("192.0.2.100")));
    assert_eq!(reply(&again).yiaddr, ip("192.0.2.100"));
}

#[test]
fn an_answered_probe_quarantines_and_the_next_candidate_is_probed() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let p = pkt(MAC_A, MessageType::Discover);
    let first = run_probing(&c, &t, &p);
    apply(&mut t, &first.effects);
    let squatter: MacAddr = MAC_B.parse().expect("mac");
    let q = probe_answered(&c, ip("192.0.2.100"), squatter, NOW);
    apply(&mut t, std::slice::from_ref(&q));
    let l = t.get(ip("192.0.2.100")).expect("record");
    assert_eq!(l.state, LeaseState::Declined);
    assert_eq!(l.mac, squatter);
    assert!(is_probe_hit(l), "the record says it came from a probe");
    assert_eq!(l.ends, NOW + 600, "for decline_probation");
    let again = run_probing(&c, &t, &p);
    assert_eq!(again.outcome, Outcome::Probe(ip("192.0.2.101")));
}

#[test]
fn an_address_with_history_is_offered_without_a_probe() {
    let c = cfg();
    let mut t = LeaseTable::new();
    t.insert(Lease {
        ip: ip("192.0.2.100"),
        client: ClientKey::from_hw(1, &[2, 0, 0, 0, 0, 0xcc]),
        mac: "02:00:00:00:00:cc".parse().expect("mac"),
        hostname: None,
        state: LeaseState::Expired,
        starts: NOW - 100,
        ends: NOW - 10,
    });
    t.index_ranges(c.subnets.iter().flat_map(|s| s.ranges.clone()), []);
    // .101 and .102 are never used: taken first; with them gone, .100 is
    // offered straight away.
    for n in [101u8, 102] {
        t.insert(Lease {
            ip: Ipv4Addr::new(192, 0, 2, n),
            client: ClientKey::from_hw(1, &[2, 0, 0, 0, 1, n]),
            mac: MacAddr([2, 0, 0, 0, 1, n]),
            hostname: None,
            state: LeaseState::Bound,
            starts: NOW,
            ends: NOW + 3600,
        });
    }
    let d = run_probing(&c, &t, &pkt(MAC_A, MessageType::Discover));
    assert_eq!(d.outcome, Outcome::Offered(ip("192.0.2.100")));
}

#[test]
fn static_hosts_and_relayed_subnets_without_arp_are_not_probed() {
    let c = cfg();
    let d = run_probing(
        &c,
        &LeaseTable::new(),
        &pkt(STATIC_MAC, MessageType::Discover),
    );
    assert_eq!(d.outcome, Outcome::Offered(ip("192.0.2.10")));
    // Probing off (no subnet listed): the plain offer.
    let d = run(&c, &LeaseTable::new(), &pkt(MAC_A, MessageType::Discover));
    assert_eq!(d.outcome, Outcome::Offered(ip("192.0.2.100")));
}

#[test]
fn an_observed_binding_goes_back_to_its_mac_and_to_nobody_else() {
    let c = cfg();
    let mut t = LeaseTable::new();
    let mac: MacAddr = MAC_B.parse().expect("mac");
    let range = c.subnets[0].ranges[0];
    let f = sweep_findings(
        range,
        &[(ip("192.0.2.100"), mac)],
        &t,
        &HostTable::default(),
        NOW,
        0,
        600,
    );
    apply(&mut t, &f.effects);
    let other = run(&c, &t, &pkt(MAC_A, MessageType::Discover));
    assert_eq!(other.outcome, Outcome::Offered(ip("192.0.2.101")));
    let owner = run(&c, &t, &pkt(MAC_B, MessageType::Discover));
    assert_eq!(owner.outcome, Outcome::Offered(ip("192.0.2.100")));
    // It reboots asking for the address it uses: ACKed (it has a record).
    let reboot = with_opt(
        pkt(MAC_B, MessageType::Request),
        code::REQUESTED_IP,
        &[192, 0, 2, 100],
    );
    let d = run(&c, &t, &reboot);
    assert_eq!(d.outcome, Outcome::Acked(ip("192.0.2.100")));
}

// ---- `max_offers`: offers held at once per subnet -------------------------

/// The first subnet (three addresses) holds at most two offers.
fn two_offers() -> Config {
    cfg_with(|s| {
        s.replace(
            "range = [\"192.0.2.100\", \"192.0.2.102\"]",
            "range = [\"192.0.2.100\", \"192.0.2.102\"]\nmax_offers = 2",
        )
    })
}

#[test]
fn beyond_max_offers_the_oldest_offer_makes_room_for_a_new_client() {
    let cfg = two_offers();
    let mut t = LeaseTable::new();
    let mut offered = Vec::new();
    for (mac, at) in [(MAC_A, NOW), (MAC_B, NOW + 1)] {
        let d = run_at(&cfg, &t, &pkt(mac, MessageType::Discover), at);
        assert!(
            !d.effects.iter().any(|e| matches!(e, Effect::Forget(_))),
            "{:?}",
            d.effects
        );
        apply(&mut t, &d.effects);
        offered.push(reply(&d).yiaddr);
    }
    let d = run_at(
        &cfg,
        &t,
        &pkt("02:00:00:00:00:cc", MessageType::Discover),
        NOW + 2,
    );
    let new = reply(&d).yiaddr;
    assert!(!offered.contains(&new), "a free address: {new}");
    assert_eq!(
        d.effects[0],
        Effect::Forget(offered[0]),
        "the oldest offer goes"
    );
    assert!(matches!(&d.effects[1], Effect::Hold(l) if l.ip == new));
    apply(&mut t, &d.effects);
    let held = t.iter().filter(|l| l.state == LeaseState::Offered).count();
    assert_eq!(held, 2, "still two offers held");
}

#[test]
fn max_offers_does_not_touch_clients_with_a_lease_or_static_hosts() {
    let cfg = two_offers();
    let mut t = LeaseTable::new();
    let ip = bind(&cfg, &mut t, MAC_A);
    for mac in ["02:00:00:00:00:c1", "02:00:00:00:00:c2"] {
        let d = run(&cfg, &t, &pkt(mac, MessageType::Discover));
        apply(&mut t, &d.effects);
    }
    // Two offers held: the bound client re-DISCOVERing keeps its address
    // and costs no offer; a static host is offered its own.
    let d = run(&cfg, &t, &pkt(MAC_A, MessageType::Discover));
    assert_eq!(reply(&d).yiaddr, ip);
    assert!(d.effects.is_empty(), "{:?}", d.effects);
    let d = run(&cfg, &t, &pkt(STATIC_MAC, MessageType::Discover));
    assert_eq!(msg_type(&d), MessageType::Offer);
    assert!(d.effects.is_empty(), "{:?}", d.effects);
    // A renewal is ACKed as ever.
    let d = run(&cfg, &t, &renewing(MAC_A, ip));
    assert_eq!(msg_type(&d), MessageType::Ack);
}

#[test]
fn offers_that_ran_out_do_not_count_towards_max_offers() {
    let cfg = two_offers();
    let mut t = LeaseTable::new();
    for mac in [MAC_A, MAC_B] {
        let d = run(&cfg, &t, &pkt(mac, MessageType::Discover));
        apply(&mut t, &d.effects);
    }
    // offer_hold is 30 s: both ran out (not reclaimed yet).
    let d = run_at(
        &cfg,
        &t,
        &pkt("02:00:00:00:00:cc", MessageType::Discover),
        NOW + 31,
    );
    assert!(
        !d.effects.iter().any(|e| matches!(e, Effect::Forget(_))),
        "{:?}",
        d.effects
    );
}
