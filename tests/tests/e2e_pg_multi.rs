//! End-to-end: two berthd in two namespaces on one bridge, one PostgreSQL
//! (a throw-away cluster on a Unix socket, which both namespaces reach
//! through the file system).
//!
//! - 200 perfdhcp clients at once against both daemons: no address is ACKed
//!   to two clients (seen on the clients' side, in a capture), every client
//!   that asked is served, both daemons serve, and the database holds what
//!   the wire promised.
//! - A host added through one daemon's ctl is served by the other.
//! - The database killed (SIGKILL, by its PID) while clients keep asking:
//!   no ACK at all until it is back (nothing can be made durable), both
//!   daemons say so in `berth status`, and they serve again by themselves
//!   once it is restarted.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_tests::netns::netns_command;
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::postgres::{Cluster, postgres_or_skip};
use berth_tests::process::Proc;
use berth_tests::{
    ClientNs, Daemon, Dhclient, Lab, ServerConfig, pcap, require_tools, root_or_skip, wait_until,
};
use berthd::packet::{MessageType, code};

/// Two daemons on one database, and the namespace perfdhcp runs in.
struct Pair {
    pg: Cluster,
    a: Daemon,
    b: Daemon,
    clients: ClientNs,
    _b_ns: ClientNs,
    lab: Lab,
}

const A_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const B_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

fn pair(test: &str) -> Option<Pair> {
    pair_with(test, "")
}

/// [`pair`] with `settings` added to the store table.
fn pair_with(test: &str, settings: &str) -> Option<Pair> {
    if !root_or_skip(test) || !postgres_or_skip(test) {
        return None;
    }
    require_tools(&["perfdhcp", "tcpdump", "ip"]);
    let pg = Cluster::start().expect("PostgreSQL test cluster");
    let url = pg.create_database("berth").expect("database");
    let lab = Lab::new().expect("lab");
    // The second server is a namespace on the same bridge with an address
    // of its own (its server identifier).
    let b_ns = lab.add_client(None).expect("second server namespace");
    b_ns.add_addr(&format!("{B_ID}/24"))
        .expect("second server address");
    let cfg = ServerConfig::lab()
        .pool("192.0.2.10", "192.0.2.250")
        .lease("1h")
        // perfdhcp is a relay.
        .relay("192.0.2.0/24")
        .postgres(&url, &format!(r#"resync = "5s"{settings}"#));
    let a = Daemon::start(&lab, &cfg).expect("berthd a");
    let mut cfg_b = cfg.clone();
    cfg_b.interfaces = vec![berth_tests::netns::CLIENT_IFACE.to_string()];
    let b = Daemon::start_in(b_ns.name(), &cfg_b).expect("berthd b");
    let clients = lab.add_client(None).expect("perfdhcp namespace");
    clients.add_addr("192.0.2.3/24").expect("perfdhcp address");
    Some(Pair {
        pg,
        a,
        b,
        clients,
        _b_ns: b_ns,
        lab,
    })
}

/// tcpdump on the perfdhcp namespace's interface: every request it sends
/// and every reply it gets.
fn capture(ns: &ClientNs, file: &Path) -> Proc {
    let mut cmd = netns_command(ns.name(), "tcpdump");
    cmd.args(["-i", ns.iface(), "-U", "-n", "-w"])
        .arg(file)
        .args(["udp", "port", "67", "or", "udp", "port", "68"]);
    let log = file.with_extension("log");
    let p = Proc::spawn("tcpdump", &mut cmd, &log).expect("tcpdump");
    std::thread::sleep(Duration::from_millis(500));
    p
}

fn stop_capture(mut p: Proc) {
    // Let the last packets reach the file (-U writes each as it comes).
    std::thread::sleep(Duration::from_millis(300));
    let _ = p.signal(nix::sys::signal::Signal::SIGINT);
    let _ = p.wait_exit(Duration::from_secs(5));
}

/// What the clients saw: per message type, the (client MAC, address,
/// server identifier) of each message.
#[derive(Debug, Default)]
struct Wire {
    discovers: BTreeSet<String>,
    acks: Vec<(String, Ipv4Addr, Option<Ipv4Addr>)>,
    naks: usize,
}

fn wire(file: &Path) -> Wire {
    let mut w = Wire::default();
    for p in pcap::dhcp_messages(file).expect("read the capture") {
        let Some(mac) = p.mac().map(|m| m.to_string()) else {
            continue;
        };
        let server = p
            .options
            .get(code::SERVER_ID)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map(Ipv4Addr::from);
        match p.message_type() {
            Some(Ok(MessageType::Discover)) => {
                w.discovers.insert(mac);
            }
            Some(Ok(MessageType::Ack)) if !p.yiaddr.is_unspecified() => {
                w.acks.push((mac, p.yiaddr, server));
            }
            Some(Ok(MessageType::Nak)) => w.naks += 1,
            _ => {}
        }
    }
    w
}

/// The database's leases: address -> (MAC, state).
fn db_leases(pg: &Cluster) -> BTreeMap<Ipv4Addr, (String, String)> {
    pg.psql("berth", "SELECT host(ip), mac::text, state FROM leases")
        .expect("psql")
        .lines()
        .filter_map(|l| {
            let mut f = l.split('|');
            let ip = f.next()?.parse().ok()?;
            Some((ip, (f.next()?.to_string(), f.next()?.to_string())))
        })
        .collect()
}

fn run_perfdhcp(ns: &ClientNs, rate: u32, seconds: u32) -> perfdhcp::PerfdhcpReport {
    let run = PerfdhcpRun {
        rate,
        clients: 200,
        seconds,
    };
    let (report, text) = perfdhcp::run(ns, &run).expect("perfdhcp");
    println!("perfdhcp -r {rate} -R 200 -p {seconds}:\n{text}");
    report
}

/// Asserts the capture's promises: no address ACKed to two clients, and
/// the database holds each ACKed lease for the client it was ACKed to.
fn assert_one_client_per_address(p: &Pair, w: &Wire) {
    let mut holders: BTreeMap<Ipv4Addr, BTreeSet<&str>> = BTreeMap::new();
    for (mac, ip, _) in &w.acks {
        holders.entry(*ip).or_default().insert(mac);
    }
    let shared: Vec<_> = holders.iter().filter(|(_, m)| m.len() > 1).collect();
    assert!(
        shared.is_empty(),
        "addresses ACKed to two clients: {shared:?}"
    );
    let db = db_leases(&p.pg);
    for (ip, macs) in &holders {
        let mac = macs.iter().next().copied().unwrap_or_default();
        match db.get(ip) {
            Some((m, state)) if m == mac && state == "bound" => {}
            other => panic!("{ip} was ACKed to {mac}, the database has {other:?}"),
        }
    }
}

#[test]
fn two_daemons_on_one_postgres_never_give_one_address_to_two_clients() {
    let Some(p) = pair("two_daemons_on_one_postgres_never_give_one_address_to_two_clients") else {
        return;
    };
    let file = p.a.dir().join("clients.pcap");
    let tcpdump = capture(&p.clients, &file);
    // 200 clients at once, several exchanges each, at a rate these two
    // cores sustain for both daemons (the bench measures the maximum).
    let report = run_perfdhcp(&p.clients, 200, 4);
    stop_capture(tcpdump);
    let w = wire(&file);

    assert_one_client_per_address(&p, &w);
    let acked: BTreeSet<&str> = w.acks.iter().map(|(m, _, _)| m.as_str()).collect();
    let unserved: Vec<_> = w
        .discovers
        .iter()
        .filter(|m| !acked.contains(m.as_str()))
        .collect();
    assert!(
        unserved.is_empty(),
        "{} of {} clients that asked got no ACK: {unserved:?} ({} NAKs)",
        unserved.len(),
        w.discovers.len(),
        w.naks
    );
    let by_server = |id| w.acks.iter().filter(|(_, _, s)| *s == Some(id)).count();
    let (from_a, from_b) = (by_server(A_ID), by_server(B_ID));
    println!(
        "{} clients asked, {} ACKs ({from_a} from a, {from_b} from b), {} NAKs (lost claims: a {}, b {}), \
         perfdhcp completed {}",
        w.discovers.len(),
        w.acks.len(),
        w.naks,
        counter(&p.a, "claim_lost"),
        counter(&p.b, "claim_lost"),
        report.completed()
    );
    assert!(
        w.discovers.len() >= 150,
        "perfdhcp used {} clients",
        w.discovers.len()
    );
    assert!(
        from_a > 0 && from_b > 0,
        "both daemons serve: a {from_a}, b {from_b}"
    );
}

/// A counter from `berth status --json`, 0 when absent.
fn counter(d: &Daemon, name: &str) -> u64 {
    let out = d.ctl(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("status json");
    v["counters"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c[0] == name).and_then(|c| c[1].as_u64()))
        .or_else(|| v["counters"][name].as_u64())
        .unwrap_or(0)
}

#[test]
fn a_host_added_through_one_daemon_is_served_by_the_other() {
    let Some(mut p) = pair("a_host_added_through_one_daemon_is_served_by_the_other") else {
        return;
    };
    require_tools(&["dhclient"]);
    let mac = "02:00:00:00:aa:01";
    p.a.ctl(&["host", "add", "printer", "--mac", mac, "--ip", "192.0.2.60"]);
    // b learns it (notification, within a resync at worst) ...
    let listed = wait_until(Duration::from_secs(10), || {
        p.b.ctl(&["hosts"]).contains("printer").then_some(())
    });
    assert!(
        listed.is_some(),
        "b never listed the host:\n{}",
        p.b.ctl(&["hosts"])
    );
    // ... and serves it alone, with a stopped.
    p.a.stop().expect("stop a");
    let c = p.lab.add_client(Some(mac)).expect("client");
    let dh = Dhclient::start(&c).expect("dhclient");
    let lease = dh
        .wait_bound(Duration::from_secs(30))
        .expect("a lease from b");
    assert_eq!(lease.ip.to_string(), "192.0.2.60");
    assert_eq!(lease.server_id, Some(B_ID.to_string()), "served by b");
}

fn status(d: &Daemon) -> String {
    d.ctl(&["status"])
}

#[test]
fn no_ack_while_the_database_is_dead_and_service_resumes_after() {
    let Some(mut p) = pair("no_ack_while_the_database_is_dead_and_service_resumes_after") else {
        return;
    };
    // Clients bound first, through both daemons.
    let before = run_perfdhcp(&p.clients, 100, 2);
    assert!(before.completed() > 0);

    p.pg.kill().expect("kill postgres");
    let file: PathBuf = p.a.dir().join("outage.pcap");
    let tcpdump = capture(&p.clients, &file);
    // The same clients come back (their leases exist) and new ones ask.
    let during = run_perfdhcp(&p.clients, 100, 3);
    stop_capture(tcpdump);
    let w = wire(&file);
    assert!(
        w.acks.is_empty(),
        "ACKs sent while nothing could be made durable: {:?}",
        &w.acks[..w.acks.len().min(10)]
    );
    assert_eq!(during.completed(), 0);
    for d in [&p.a, &p.b] {
        let s = status(d);
        assert!(s.contains("FAILING"), "status does not say so:\n{s}");
    }

    p.pg.start_server().expect("restart postgres");
    // Served again by itself: reconnects back off to at most 4 s.
    let mut served = 0;
    for _ in 0..5 {
        served = run_perfdhcp(&p.clients, 100, 2).completed();
        if served > 100 {
            break;
        }
    }
    assert!(served > 100, "service did not resume ({served} exchanges)");
    for d in [&p.a, &p.b] {
        let ok = wait_until(Duration::from_secs(10), || {
            (!status(d).contains("FAILING")).then_some(())
        });
        assert!(ok.is_some(), "status still failing:\n{}", status(d));
    }
}

#[test]
fn renew_from_memory_acks_only_held_leases_while_the_database_is_dead() {
    let Some(mut p) = pair_with(
        "renew_from_memory_acks_only_held_leases_while_the_database_is_dead",
        ", renew_from_memory = true",
    ) else {
        return;
    };
    run_perfdhcp(&p.clients, 50, 2);
    // What the database holds before it dies: who holds which address.
    let held: BTreeMap<String, Ipv4Addr> = db_leases(&p.pg)
        .into_iter()
        .filter(|(_, (_, state))| state == "bound")
        .map(|(ip, (mac, _))| (mac, ip))
        .collect();
    assert!(!held.is_empty());

    p.pg.kill().expect("kill postgres");
    let file = p.a.dir().join("outage.pcap");
    let tcpdump = capture(&p.clients, &file);
    run_perfdhcp(&p.clients, 100, 3);
    stop_capture(tcpdump);
    let w = wire(&file);
    assert!(!w.acks.is_empty(), "no renewal was ACKed from memory");
    for (mac, ip, _) in &w.acks {
        assert_eq!(
            held.get(mac),
            Some(ip),
            "{mac} was ACKed {ip} from memory, but held {:?} before the outage",
            held.get(mac)
        );
    }
    let new_clients = w
        .discovers
        .iter()
        .filter(|m| !held.contains_key(*m))
        .count();
    println!(
        "outage: {} renewals ACKed from memory; {new_clients} clients without a lease got nothing",
        w.acks.len()
    );
    let renewed = counter(&p.a, "renewed_from_memory") + counter(&p.b, "renewed_from_memory");
    assert!(renewed > 0);
    let s = status(&p.a) + &status(&p.b);
    assert!(
        s.contains("FAILING") && s.contains("renewals ACKed from memory not yet written"),
        "{s}"
    );

    // Back: the renewals are written by themselves.
    p.pg.start_server().expect("restart postgres");
    for d in [&p.a, &p.b] {
        let done = wait_until(Duration::from_secs(20), || {
            let v: serde_json::Value =
                serde_json::from_str(&d.ctl(&["status", "--json"])).expect("json");
            let h = &v["store_health"];
            (h["ok"] == true && h["unsaved_renewals"] == 0).then_some(())
        });
        assert!(done.is_some(), "renewals never written:\n{}", status(d));
    }
    let db = db_leases(&p.pg);
    for (mac, ip, _) in &w.acks {
        assert_eq!(
            db.get(ip).map(|(m, _)| m),
            Some(mac),
            "{ip} in the database"
        );
    }
}
