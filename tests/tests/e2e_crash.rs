//! End-to-end: kill -9 berthd while perfdhcp loads it, again and again.
//! After each kill, every lease whose ACK was seen on the wire (captured
//! with tcpdump on the server's bridge) is in the store, and SQLite's
//! integrity check passes; berthd starts again on that store and serves.

use std::time::{Duration, Instant};

use berth_tests::pcap::Capture;
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::{Daemon, Lab, ServerConfig, pcap, require_tools, root_or_skip, store};

const KILLS: usize = 4;

#[test]
fn every_lease_acked_on_the_wire_survives_kill_9_under_load() {
    if !root_or_skip("every_lease_acked_on_the_wire_survives_kill_9_under_load") {
        return;
    }
    require_tools(&["perfdhcp", "tcpdump", "ip"]);
    let lab = Lab::new().expect("lab");
    let cfg = ServerConfig::lab()
        .pool("192.0.2.10", "192.0.2.250")
        .lease("1h")
        .relay("192.0.2.2"); // perfdhcp is a relay
    let mut berthd = Daemon::start(&lab, &cfg).expect("berthd");
    let mut capture = Capture::start(lab.server_ns(), berthd.dir()).expect("tcpdump");

    let client = lab.add_client(None).expect("perfdhcp namespace");
    client.add_addr("192.0.2.2/24").expect("perfdhcp address");
    // Bounded: 400 exchanges a second for at most 14 seconds, 200 clients.
    let load = std::thread::spawn(move || {
        let run = PerfdhcpRun {
            rate: 400,
            clients: 200,
            seconds: 14,
        };
        let r = perfdhcp::run(&client, &run);
        (r, client)
    });

    let started = Instant::now();
    let mut checked = 0;
    for round in 0..KILLS {
        std::thread::sleep(Duration::from_millis(1500));
        berthd.kill().expect("kill -9");
        // tcpdump writes each packet as it comes (-U); give it a moment.
        std::thread::sleep(Duration::from_millis(300));
        let acks = pcap::acks(capture.file()).expect("read the capture");
        let (store, verdict) = store::leases(berthd.store_path()).expect("read the store");
        assert_eq!(verdict, "ok", "round {round}: integrity check");
        for (mac, ip) in &acks {
            match store.get(ip) {
                Some(l) if l.mac == *mac && l.state == "bound" => {}
                other => panic!(
                    "round {round}: {ip} was ACKed to {mac} on the wire but the store has {other:?}\n{}",
                    berthd.log()
                ),
            }
        }
        checked = checked.max(acks.len());
        berthd
            .start_again()
            .expect("berthd starts on the killed store");
    }
    let (perf, _client) = load.join().expect("perfdhcp thread");
    let (report, text) = perf.expect("perfdhcp ran");
    capture.stop();
    assert!(
        checked > 100,
        "too few ACKs seen ({checked}) for the test to mean anything; perfdhcp:\n{text}"
    );
    // Still serving after the last restart: the final ACKs are in the store.
    berthd.stop().expect("clean stop");
    let acks = pcap::acks(capture.file()).expect("read the capture");
    let (store, verdict) = store::leases(berthd.store_path()).expect("read the store");
    assert_eq!(verdict, "ok");
    for (mac, ip) in &acks {
        assert!(
            store.get(ip).is_some_and(|l| l.mac == *mac),
            "{ip} ACKed to {mac} is missing after the clean stop"
        );
    }
    eprintln!(
        "crash test: {KILLS} kills in {:.1}s, {} ACKs on the wire, all in the store; perfdhcp completed {}",
        started.elapsed().as_secs_f64(),
        acks.len(),
        report.completed()
    );
}
