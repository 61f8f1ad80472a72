//! End-to-end: the Prometheus endpoint of a berthd in a namespace lab,
//! scraped from inside the lab while dhclient and perfdhcp are served:
//! the counters move with the traffic and agree with what the clients
//! saw. An address in use stops start-up with an error naming it.

use std::net::SocketAddr;
use std::time::Duration;

use berth_tests::metrics::{get_in, in_netns, sample};
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::{Daemon, Dhclient, Lab, ServerConfig, require_tools, root_or_skip};

const LEASE_WAIT: Duration = Duration::from_secs(20);
/// The server's own address on the lab bridge.
const LISTEN: &str = "192.0.2.1:9267";

fn listen() -> SocketAddr {
    LISTEN.parse().expect("addr")
}

fn scrape(lab: &Lab) -> String {
    let a = get_in(lab.server_ns(), listen(), "/metrics").expect("scrape");
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

const ACKED: &str = "berth_requests_total{outcome=\"acked\"}";
const OFFERS_SENT: &str = "berth_replies_sent_total{type=\"offer\"}";
const ACKS_SENT: &str = "berth_replies_sent_total{type=\"ack\"}";
const DISCOVERS: &str = "berth_packets_received_total{type=\"discover\"}";

#[test]
fn counters_move_with_dhclient_and_perfdhcp_traffic() {
    if !root_or_skip("counters_move_with_dhclient_and_perfdhcp_traffic") {
        return;
    }
    require_tools(&["dhclient", "perfdhcp", "ip"]);
    let lab = Lab::new().expect("lab");
    let mut cfg = ServerConfig::lab()
        .pool("192.0.2.10", "192.0.2.250")
        .lease("1h")
        // perfdhcp is a relay.
        .relay("192.0.2.0/24");
    cfg.extra = format!("[metrics]\nlisten = \"{LISTEN}\"\n");
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let start = scrape(&lab);
    assert_eq!(value(&start, ACKED), 0.0);
    assert_eq!(value(&start, "berth_leases{state=\"bound\"}"), 0.0);
    let range = "{subnet=\"192.0.2.0/24\",range=\"192.0.2.10-192.0.2.250\"}";
    assert_eq!(value(&start, &format!("berth_range_size{range}")), 241.0);

    // One real client.
    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    dh.wait_bound(LEASE_WAIT).expect("dhclient gets a lease");
    let after_dhclient = scrape(&lab);
    assert!(value(&after_dhclient, ACKED) >= 1.0);
    assert!(value(&after_dhclient, ACKS_SENT) >= 1.0);
    assert!(value(&after_dhclient, DISCOVERS) >= 1.0);
    assert!(value(&after_dhclient, "berth_leases{state=\"bound\"}") >= 1.0);
    assert!(value(&after_dhclient, &format!("berth_range_used{range}")) >= 1.0);

    // Then perfdhcp, scraped while it runs.
    let perf = lab.add_client(None).expect("perfdhcp namespace");
    perf.add_addr("192.0.2.2/24").expect("perfdhcp address");
    let load = std::thread::spawn(move || {
        let run = PerfdhcpRun {
            rate: 200,
            clients: 100,
            seconds: 4,
        };
        let r = perfdhcp::run(&perf, &run);
        (r, perf)
    });
    let mut during = Vec::new();
    while !load.is_finished() {
        during.push(value(&scrape(&lab), ACKED));
        std::thread::sleep(Duration::from_millis(200));
    }
    let ((report, output), _perf) = {
        let (r, perf) = load.join().expect("perfdhcp thread");
        (r.expect("perfdhcp runs"), perf)
    };
    let end = scrape(&lab);
    println!(
        "acked during the run: {during:?}; perfdhcp: {} offers, {} acks received",
        report.discover_offer.received, report.request_ack.received
    );
    assert!(
        report.request_ack.received > 0,
        "perfdhcp was served:\n{output}"
    );
    assert!(!during.is_empty(), "scrapes answered while perfdhcp ran");
    assert!(
        during.windows(2).all(|w| w[0] <= w[1]),
        "a counter never goes down: {during:?}"
    );

    // What the clients received, the server sent; what it sent was decided
    // from what it received.
    let delta = |series: &str| value(&end, series) - value(&after_dhclient, series);
    assert!(delta(OFFERS_SENT) >= report.discover_offer.received as f64);
    assert!(delta(ACKS_SENT) >= report.request_ack.received as f64);
    assert!(delta(ACKED) >= report.request_ack.received as f64);
    assert!(delta(DISCOVERS) >= delta(OFFERS_SENT));
    // Every write made durable went through a timed, sized transaction.
    let writes = value(&end, "berth_store_writes_total");
    assert!(writes >= value(&end, ACKED));
    assert_eq!(value(&end, "berth_store_batch_writes_sum"), writes);
    assert!(value(&end, "berth_store_commit_duration_seconds_count") >= 1.0);
    assert!(value(&end, "berth_store_batches_total") <= writes);
    assert_eq!(value(&end, "berth_store_up{backend=\"sqlite\"}"), 1.0);
}

#[test]
fn an_address_in_use_stops_start_up_and_names_it() {
    if !root_or_skip("an_address_in_use_stops_start_up_and_names_it") {
        return;
    }
    let lab = Lab::new().expect("lab");
    // Something else holds the port inside the server's namespace.
    let (hold, release) = std::sync::mpsc::channel::<()>();
    let (bound, is_bound) = std::sync::mpsc::channel();
    let holder = in_netns(lab.server_ns(), move || {
        std::thread::spawn(move || {
            let l = std::net::TcpListener::bind(LISTEN);
            let _ = bound.send(l.is_ok());
            let _ = release.recv();
        })
    })
    .expect("enter the lab");
    assert!(
        is_bound.recv().expect("holder"),
        "the holder binds {LISTEN}"
    );

    let mut cfg = ServerConfig::lab();
    cfg.extra = format!("[metrics]\nlisten = \"{LISTEN}\"\n");
    let Err(err) = Daemon::start(&lab, &cfg) else {
        panic!("berthd must not start with {LISTEN} in use");
    };
    let text = format!("{err:#}");
    assert!(
        text.contains(&format!("[metrics] listen = \"{LISTEN}\"")) && text.contains("in use"),
        "{text}"
    );
    drop(hold);
    holder.join().expect("holder thread");
}
