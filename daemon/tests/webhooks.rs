//! In-process: webhooks receive the arrival JSON from a real HTTP listener
//! on loopback; a failing receiver is retried; drops are reported.

mod harness;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_proto::EventKind;
use harness::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the receiver got, and how it answers: `fail_first` requests get a
/// 503, the rest a 200.
#[derive(Default)]
struct Received {
    bodies: Vec<serde_json::Value>,
    requests: usize,
}

async fn receiver(fail_first: usize) -> (u16, Arc<Mutex<Received>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Received::default()));
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then Content-Length bytes of body.
            let body = loop {
                let Ok(n) = s.read(&mut chunk).await else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(body) = berth_tests::http::complete_body(&buf) {
                    break Some(body.to_vec());
                }
            };
            let n = {
                let mut r = g.lock().expect("lock");
                r.requests += 1;
                r.requests
            };
            let ok = n > fail_first;
            let answer: &[u8] = if ok {
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
            } else {
                b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"
            };
            let _ = s.write_all(answer).await;
            if ok && let Some(b) = body {
                let v = serde_json::from_slice(&b).expect("the body is JSON");
                g.lock().expect("lock").bodies.push(v);
            }
        }
    });
    (port, got)
}

fn webhook(port: u16, extra: &str) -> String {
    format!(
        "[[webhook]]\nurl = \"http://127.0.0.1:{port}/dhcp\"\nevents = [\"arrival\", \"commit\"]\n\
         headers = {{ X-Token = \"t\" }}\ntimeout = \"2s\"\n{extra}\n"
    )
}

async fn until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(t) = probe() {
            return t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_gets_the_arrival_json_with_the_right_fields() {
    let (port, got) = receiver(0).await;
    let mut h = Harness::start(&webhook(port, "")).await;
    let ip = h.bind(A).await;
    let bodies = until("arrival and ack", || {
        let r = got.lock().expect("lock");
        (r.bodies.len() >= 2).then(|| r.bodies.clone())
    })
    .await;
    let arrival = &bodies[0];
    assert_eq!(arrival["event"], "arrival");
    assert_eq!(arrival["mac"], A.to_string());
    assert_eq!(arrival["interface"], "test0");
    assert_eq!(arrival["known"], false);
    assert!(
        arrival["time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 20),
        "{arrival}"
    );
    assert!(arrival["daemon"].as_str().is_some_and(|d| !d.is_empty()));
    let ack = &bodies[1];
    assert_eq!(ack["event"], "ack");
    assert_eq!(ack["ip"], ip.to_string());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_retried_until_it_takes_the_notification() {
    let (port, got) = receiver(2).await;
    let mut h = Harness::start(&webhook(port, "max_backoff = \"1s\"")).await;
    h.discover(A).await.expect("offer");
    let (requests, body) = until("a delivery after two 503s", || {
        let r = got.lock().expect("lock");
        r.bodies.first().map(|b| (r.requests, b.clone()))
    })
    .await;
    assert_eq!(requests, 3, "two refused attempts, then the delivery");
    assert_eq!(body["event"], "arrival");
    assert_eq!(h.counters().await.get("webhook_dropped"), None);
    // The operator sees the trouble and its end: once each, not per attempt.
    let url = format!("http://127.0.0.1:{port}/dhcp");
    let mut outcomes = Vec::new();
    for _ in 0..100 {
        outcomes = h
            .events()
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::HookResult && e.detail.contains(&url))
            .map(|e| (e.ok, e.detail))
            .collect();
        if outcomes.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(
        !outcomes[0].0 && outcomes[0].1.contains("delivery failing"),
        "{outcomes:?}"
    );
    assert!(outcomes[0].1.contains("503"), "says why: {outcomes:?}");
    assert!(
        outcomes[1].0 && outcomes[1].1.contains("delivers again"),
        "{outcomes:?}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_receiver_down_dhcp_goes_on_and_the_drop_is_reported() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut h = Harness::start(&webhook(port, "retries = 2\nmax_backoff = \"1s\"")).await;
    let ip = h.bind(A).await;
    assert_eq!(
        kind(&h.renew(A, ip, WAIT).await.expect("renewal answered")),
        berthd::packet::MessageType::Ack
    );
    h.counted("webhook_dropped", 3).await;
    let ev = h
        .events()
        .await
        .into_iter()
        .find(|e| e.kind == EventKind::WebhookDropped)
        .expect("a drop event");
    assert!(!ev.ok);
    assert!(
        ev.detail
            .contains(&format!("http://127.0.0.1:{port}/dhcp: "))
            && ev.detail.contains("after 2 attempts"),
        "{ev:?}"
    );
    h.stop().await;
}
