//! In-process: the Prometheus endpoint on loopback. A scrape before and
//! after a DORA shows the counters move; other paths are 404; a reload
//! moves or removes the listener; an address in use stops start-up with
//! an error that names it.

mod harness;

use std::net::SocketAddr;

use berth_tests::metrics::{Answer, get, sample};
use harness::*;

/// A loopback address with a port nobody listens on right now.
fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn section(addr: SocketAddr) -> String {
    format!("\n[metrics]\nlisten = \"{addr}\"\n")
}

/// `GET path` off the runtime's thread (the server shares it).
async fn fetch(addr: SocketAddr, path: &'static str) -> anyhow::Result<Answer> {
    tokio::task::spawn_blocking(move || get(addr, path))
        .await
        .expect("scrape thread")
}

async fn scrape(addr: SocketAddr) -> String {
    let a = fetch(addr, "/metrics").await.expect("scrape");
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn a_dora_moves_the_counters() {
    let addr = free_addr();
    let mut h = Harness::start(&section(addr)).await;
    let before = scrape(addr).await;
    for series in [
        "berth_packets_received_total{type=\"discover\"}",
        "berth_replies_sent_total{type=\"ack\"}",
        "berth_requests_total{outcome=\"acked\"}",
        "berth_leases{state=\"bound\"}",
        "berth_store_commit_duration_seconds_count",
    ] {
        assert_eq!(value(&before, series), 0.0, "{series}");
    }
    let range = "{subnet=\"192.0.2.0/24\",range=\"192.0.2.10-192.0.2.10\"}";
    assert_eq!(value(&before, &format!("berth_range_free{range}")), 1.0);

    h.bind(A).await;
    let after = scrape(addr).await;
    for (series, want) in [
        ("berth_packets_received_total{type=\"discover\"}", 1.0),
        ("berth_packets_received_total{type=\"request\"}", 1.0),
        ("berth_replies_sent_total{type=\"offer\"}", 1.0),
        ("berth_replies_sent_total{type=\"ack\"}", 1.0),
        ("berth_requests_total{outcome=\"offered\"}", 1.0),
        ("berth_requests_total{outcome=\"acked\"}", 1.0),
        ("berth_leases{state=\"bound\"}", 1.0),
        ("berth_events_total{kind=\"ack\",ok=\"true\"}", 1.0),
        ("berth_store_up{backend=\"memory\"}", 1.0),
        ("berth_store_pending_writes", 0.0),
        ("berth_store_writes_total", 1.0),
        ("berth_store_commit_duration_seconds_count", 1.0),
        ("berth_store_batch_writes_bucket{le=\"1\"}", 1.0),
    ] {
        assert_eq!(value(&after, series), want, "{series}");
    }
    assert_eq!(value(&after, &format!("berth_range_used{range}")), 1.0);
    assert_eq!(value(&after, &format!("berth_range_free{range}")), 0.0);

    // Control calls are counted by method and result.
    h.counters().await;
    let text = scrape(addr).await;
    assert!(
        value(
            &text,
            "berth_control_calls_total{method=\"status\",result=\"ok\"}"
        ) >= 1.0
    );
    h.stop().await;
}

#[tokio::test]
async fn only_metrics_is_served() {
    let addr = free_addr();
    let h = Harness::start(&section(addr)).await;
    let a = fetch(addr, "/").await.expect("get /");
    assert_eq!(a.status, 404);
    let a = fetch(addr, "/metrics/../x").await.expect("get");
    assert_eq!(a.status, 404);
    h.stop().await;
}

#[tokio::test]
async fn reload_moves_and_removes_the_endpoint() {
    let first = free_addr();
    let h = Harness::start(&section(first)).await;
    scrape(first).await;

    let second = free_addr();
    let text = config(h.dir.path(), &section(second));
    std::fs::write(h.config_path(), text).expect("write config");
    h.api.reload(ctx()).await.expect("rpc").expect("reload");
    scrape(second).await;
    assert!(
        fetch(first, "/metrics").await.is_err(),
        "the old address is closed"
    );

    // An address that cannot be bound refuses the reload; the endpoint stays.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_addr = taken.local_addr().expect("addr");
    let text = config(h.dir.path(), &section(taken_addr));
    std::fs::write(h.config_path(), text).expect("write config");
    let e = h.api.reload(ctx()).await.expect("rpc").expect_err("in use");
    assert!(e.message.contains(&taken_addr.to_string()), "{e:?}");
    scrape(second).await;

    // Without [metrics], nothing listens.
    std::fs::write(h.config_path(), config(h.dir.path(), "")).expect("write config");
    h.api.reload(ctx()).await.expect("rpc").expect("reload");
    assert!(fetch(second, "/metrics").await.is_err(), "no endpoint");
    drop(taken);
    h.stop().await;
}

#[tokio::test]
async fn an_address_in_use_stops_start_up_and_names_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("berthd.toml");
    std::fs::write(&path, config(dir.path(), &section(addr))).expect("write config");
    let cfg = berthd::config::load(&path).expect("config");
    let (sock, _wire) = berthd::server::ChannelSocket::pair(berthd::engine::Interface {
        name: "test0".into(),
        addr: SERVER,
    });
    let result = berthd::server::run(
        path,
        cfg,
        Box::new(berthd::store::MemoryStore::new()),
        vec![sock],
        std::future::pending(),
    )
    .await;
    let e = result.expect_err("the address is in use").to_string();
    assert!(
        e.contains("[metrics] listen") && e.contains(&addr.to_string()),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_attempts_and_drops_are_counted() {
    // A receiver port nothing listens on: every POST fails, then it is dropped.
    let nobody = free_addr();
    let addr = free_addr();
    let webhook = format!(
        "[[webhook]]\nurl = \"http://{nobody}/dhcp\"\nevents = [\"arrival\"]\n\
         timeout = \"1s\"\nretries = 1\n"
    );
    let mut h = Harness::start(&format!("{}{webhook}", section(addr))).await;
    h.discover(A).await.expect("offer");
    h.counted("webhook_dropped", 1).await;
    let text = scrape(addr).await;
    assert!(value(&text, "berth_webhook_deliveries_total{result=\"failed\"}") >= 1.0);
    assert_eq!(
        value(
            &text,
            "berth_webhook_deliveries_total{result=\"delivered\"}"
        ),
        0.0
    );
    assert_eq!(value(&text, "berth_webhook_dropped_total"), 1.0);
    assert_eq!(
        value(
            &text,
            "berth_events_total{kind=\"webhook_dropped\",ok=\"false\"}"
        ),
        1.0
    );
    h.stop().await;
}
