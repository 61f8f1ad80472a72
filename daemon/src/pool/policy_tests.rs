//! Range policies: who may draw from a range, its lease time, its options
//! and its exclusions, through the pool rule and the engine.

use super::tests::{cfg_of, ip};
use super::*;
use crate::addr::MacAddr;
use crate::blocks::Blocklist;
use crate::config;
use crate::engine::{self, Interface, Outcome, Request, View};
use crate::options::code as opt;
use crate::packet::{MessageType, Packet, code};

const NOW: UnixTime = 1_800_000_000;
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// A registration range for unknown clients (short lease, its own DNS), a
/// range for known clients, a range for a class nobody is in yet, and a
/// host known here but with its static address on another subnet.
const CONFIG: &str = r#"
[server]
interfaces = ["eth0"]
default_lease = "1h"
max_lease = "2h"
min_lease = "1m"

[options]
domain-name-servers = ["192.0.2.53"]

[[subnet]]
cidr = "192.0.2.0/24"
options = { routers = ["192.0.2.1"] }

[[subnet.pool]]
range = ["192.0.2.100", "192.0.2.104"]
clients = "unknown"
lease = "5m"
options = { domain-name-servers = ["192.0.2.99"], domain-name = "register.test" }
exclude = ["192.0.2.100", ["192.0.2.102", "192.0.2.103"]]

[[subnet.pool]]
range = ["192.0.2.150", "192.0.2.151"]
clients = "known"

[[subnet.pool]]
range = ["192.0.2.200", "192.0.2.201"]
classes = ["snom"]

[[subnet]]
cidr = "198.51.100.0/24"

[[host]]
name = "printer"
mac = "02:00:00:00:00:01"
ip = "192.0.2.10"

[[class]]
name = "snom"
match = { vendor_class_prefix = "snom" }

[[host]]
name = "elsewhere"
mac = "02:00:00:00:00:02"
ip = "198.51.100.5"

[[host]]
name = "in-a-gap"
mac = "02:00:00:00:00:03"
ip = "192.0.2.102"
"#;

fn cfg() -> Config {
    cfg_of(CONFIG)
}

fn discover(mac: &str) -> Packet {
    Packet::request(
        mac.parse::<MacAddr>().expect("mac"),
        MessageType::Discover,
        7,
    )
}

struct Server {
    cfg: Config,
    hosts: HostTable,
    leases: LeaseTable,
}

impl Server {
    fn new() -> Self {
        Self::with(cfg())
    }

    fn with(cfg: Config) -> Self {
        let (hosts, conflicts) = HostTable::build(&cfg.hosts, Vec::new());
        assert!(conflicts.is_empty(), "{conflicts:?}");
        let mut leases = LeaseTable::new();
        Layout::new(&cfg, &hosts).index(&mut leases);
        Server { cfg, hosts, leases }
    }

    fn run(&mut self, p: &Packet) -> engine::Decision {
        self.run_at(p, NOW)
    }

    fn run_at(&mut self, p: &Packet, now: UnixTime) -> engine::Decision {
        let iface = Interface {
            name: "eth0".into(),
            addr: SERVER,
        };
        let view = View {
            config: &self.cfg,
            hosts: &self.hosts,
            leases: &self.leases,
            blocks: &Blocklist::default(),
            interfaces: std::slice::from_ref(&iface),
            probe_subnets: &[],
        };
        let d = engine::handle(
            &view,
            &Request {
                packet: p,
                interface: &iface,
            },
            now,
        );
        engine::apply(&mut self.leases, &d.effects);
        d
    }

    /// The address offered to `mac` and the reply.
    fn offer(&mut self, mac: &str) -> Option<(Ipv4Addr, Packet)> {
        let d = self.run(&discover(mac));
        match d.outcome {
            Outcome::Offered(at) => Some((at, d.reply.expect("offer").packet)),
            _ => None,
        }
    }
}

#[test]
fn unknown_clients_draw_from_the_registration_range_skipping_exclusions() {
    let mut s = Server::new();
    let mut got = Vec::new();
    for n in 0..3 {
        match s.offer(&format!("02:00:00:00:01:{n:02x}")) {
            Some((at, _)) => got.push(at),
            None => break,
        }
    }
    // .100 and .102-.103 are excluded; the known and class ranges are closed.
    assert_eq!(got, vec![ip("192.0.2.101"), ip("192.0.2.104")]);
    let d = s.run(&discover("02:00:00:00:01:09"));
    assert_eq!(d.outcome, Outcome::NoAddress("pool exhausted"));
}

#[test]
fn the_range_lease_is_default_and_longest() {
    let mut s = Server::new();
    let (_, reply) = s.offer("02:00:00:00:01:01").expect("offer");
    assert_eq!(reply.options.get_u32(code::LEASE_TIME), Some(300));
    // Asking for longer gets no more than the range allows.
    let mut p = discover("02:00:00:00:01:02");
    p.options
        .set_bytes(code::LEASE_TIME, &7200u32.to_be_bytes());
    let d = s.run(&p);
    let reply = d.reply.expect("offer").packet;
    assert_eq!(reply.options.get_u32(code::LEASE_TIME), Some(300));
}

#[test]
fn the_range_options_override_the_subnet_and_global_ones() {
    let mut s = Server::new();
    let (_, reply) = s.offer("02:00:00:00:01:01").expect("offer");
    assert_eq!(
        reply.options.get(opt::DOMAIN_NAME_SERVERS),
        Some(&[192, 0, 2, 99][..])
    );
    assert_eq!(
        reply.options.get(opt::DOMAIN_NAME),
        Some(&b"register.test"[..])
    );
    assert_eq!(reply.options.get(opt::ROUTERS), Some(&[192, 0, 2, 1][..]));
}

#[test]
fn a_known_host_gets_its_static_address_not_the_registration_range() {
    let mut s = Server::new();
    let (at, reply) = s.offer("02:00:00:00:00:01").expect("offer");
    assert_eq!(at, ip("192.0.2.10"));
    assert_eq!(reply.options.get_u32(code::LEASE_TIME), Some(3600));
    assert_eq!(
        reply.options.get(opt::DOMAIN_NAME_SERVERS),
        Some(&[192, 0, 2, 53][..]),
        "no range options on a static address"
    );
}

#[test]
fn a_known_client_without_an_address_here_draws_from_the_known_range() {
    let mut s = Server::new();
    let (at, _) = s.offer("02:00:00:00:00:02").expect("offer");
    assert_eq!(at, ip("192.0.2.150"));
}

#[test]
fn a_range_for_classes_is_closed_to_non_members() {
    let cfg = cfg();
    let (hosts, _) = HostTable::build(&cfg.hosts, Vec::new());
    let leases = LeaseTable::new();
    let client = ClientKey::from(vec![1, 2, 0, 0, 0, 0, 9]);
    let snom = ["snom"];
    let pool = |classes: &'static [&'static str]| Pool {
        subnet: &cfg.subnets[0],
        hosts: &hosts,
        leases: &leases,
        server_id: SERVER,
        client: &client,
        known: true,
        classes,
        grace: 0,
        spread: false,
        now: NOW,
    };
    assert!(!pool(&[]).may_give(ip("192.0.2.200")));
    let member = Pool {
        classes: &snom,
        ..pool(&[])
    };
    assert!(member.may_give(ip("192.0.2.200")));
    assert!(!member.may_give(ip("192.0.2.100")), "excluded");
    assert!(!member.may_give(ip("192.0.2.101")), "for unknown clients");
    assert!(member.may_give(ip("192.0.2.150")), "known");
}

#[test]
fn excluded_addresses_are_left_out_of_the_index_and_the_figures() {
    let s = Server::new();
    let r = s.cfg.subnets[0].ranges[0];
    let unused: Vec<_> = s.leases.range_index(&r).unused().collect();
    assert_eq!(unused, vec![ip("192.0.2.101"), ip("192.0.2.104")]);
    assert!(s.cfg.subnets[0].policy_at(ip("192.0.2.102")).is_none());
    assert_eq!(
        s.cfg.subnets[0]
            .policy_at(ip("192.0.2.101"))
            .map(|p| p.clients),
        Some(config::Clients::Unknown)
    );
}

#[test]
fn excluded_addresses_are_not_counted_free() {
    let s = Server::new();
    let u = usage(&s.cfg, &s.hosts, &s.leases, NOW);
    // .100-.104: .102 is a host (leased), .100 and .103 excluded.
    assert_eq!((u[0].size, u[0].leased, u[0].free), (5, 1, 2));
}

/// One address, 1h leases, and an hour's grace after a lease runs out.
const GRACE: &str = r#"
[server]
interfaces = ["eth0"]
default_lease = "1h"
expiry_grace = "1h"

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.100"]
"#;

fn request(mac: &str, ciaddr: Option<Ipv4Addr>, selecting: Option<Ipv4Addr>) -> Packet {
    let mut p = Packet::request(
        mac.parse::<MacAddr>().expect("mac"),
        MessageType::Request,
        8,
    );
    if let Some(ip) = ciaddr {
        p.ciaddr = ip;
    }
    if let Some(ip) = selecting {
        p.options.set_bytes(code::SERVER_ID, &SERVER.octets());
        p.options.set_bytes(code::REQUESTED_IP, &ip.octets());
    }
    p
}

#[test]
fn a_run_out_lease_stays_its_clients_for_the_grace_then_expires() {
    let mut s = Server::with(cfg_of(GRACE));
    let a = "02:00:00:00:00:0a";
    let (ip, _) = s.offer(a).expect("offer");
    assert!(matches!(
        s.run(&request(a, None, Some(ip))).outcome,
        Outcome::Acked(_)
    ));
    let ran_out = NOW + 3600 + 10;
    // In its grace: not expired, not offered to another, renewable by A.
    assert!(engine::reclaim_after(&s.leases, ran_out, 3600).is_empty());
    let d = s.run_at(&discover("02:00:00:00:00:0b"), ran_out);
    assert_eq!(d.outcome, Outcome::NoAddress("pool exhausted"));
    let d = s.run_at(&request(a, Some(ip), None), ran_out);
    assert_eq!(d.outcome, Outcome::Acked(ip), "A renews in its grace");
    engine::apply(&mut s.leases, &d.effects);
    // The renewed lease ran out too; once its grace is over it expires.
    let over = ran_out + 3600 + 3600;
    let effects = engine::reclaim_after(&s.leases, over, 3600);
    assert!(
        matches!(effects.as_slice(), [engine::Effect::Expire(l)] if l.ip == ip),
        "{effects:?}"
    );
    engine::apply(&mut s.leases, &effects);
    let d = s.run_at(&discover("02:00:00:00:00:0b"), over);
    assert_eq!(
        d.outcome,
        Outcome::Offered(ip),
        "then another client may have it"
    );
}
