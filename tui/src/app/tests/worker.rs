//! The worker against the fake daemon on a real Unix socket: first load,
//! live events, actions, read-only refusals, the daemon going away and
//! coming back as a new run.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_proto::{ErrorKind, EventKind, LeaseInfo, LeaseKind, PromoteRequest, Target};
use tokio::sync::mpsc::{self, UnboundedReceiver};

use super::super::fake::{self, FakeDaemon};
use super::super::model::{Command, Model, Msg};
use super::super::update::update;
use super::super::worker;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The next message `pred` accepts, skipping others; fails after 10 s.
async fn wait_for(rx: &mut UnboundedReceiver<Msg>, what: &str, pred: impl Fn(&Msg) -> bool) -> Msg {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(m) = rx.recv().await {
            if pred(&m) {
                return Some(m);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(m)) => m,
        Ok(None) => panic!("worker stopped while waiting for {what}"),
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Applies the worker's messages to `model` until its leases satisfy
/// `pred` (with no load under way); fails after 10 s.
async fn leases_until(
    rx: &mut UnboundedReceiver<Msg>,
    model: &mut Model,
    what: &str,
    pred: impl Fn(&[LeaseInfo]) -> bool,
) {
    let ok = |m: &Model| {
        let all: Vec<LeaseInfo> = m.leases.iter().cloned().collect();
        m.lease_load.is_none() && pred(&all)
    };
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while !ok(model) {
            let Some(m) = rx.recv().await else {
                return false;
            };
            update(model, m);
        }
        true
    })
    .await;
    match found {
        Ok(true) => {}
        Ok(false) => panic!("worker stopped while waiting for {what}"),
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

#[tokio::test]
async fn worker_loads_follows_acts_and_reconnects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("control.sock");
    let now = unix_now();
    let daemon = FakeDaemon::new(fake::demo_data(now));
    let server = fake::serve(&sock, daemon.clone()).expect("serve");

    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cmds, cmd_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(worker::run(sock.clone(), tx, cmd_rx));

    // First load: everything, plus the event history without waiting.
    wait_for(&mut rx, "Connected", |m| matches!(m, Msg::Connected)).await;
    let snap = wait_for(&mut rx, "first snapshot", |m| matches!(m, Msg::Snapshot(_))).await;
    let Msg::Snapshot(snap) = snap else {
        unreachable!()
    };
    assert_eq!(snap.leases, None, "leases come by pages");
    assert_eq!(snap.hosts.as_ref().map(|h| h.len()), Some(3));
    assert_eq!(snap.pools.as_ref().map(|p| p.len()), Some(2));
    assert!(snap.status.is_some());
    let mut model = Model::new("test", false);
    update(&mut model, Msg::Snapshot(snap));
    leases_until(&mut rx, &mut model, "the first load", |l| l.len() == 9).await;
    wait_for(
        &mut rx,
        "history",
        |m| matches!(m, Msg::Events { events, restarted: false, .. } if events.len() == 8),
    )
    .await;

    // A live arrival comes through the long poll and triggers a reload.
    daemon.arrive(Some("guest"), Some("MSFT 5.0"));
    wait_for(&mut rx, "the arrival", |m| {
        matches!(m, Msg::Events { events, .. }
            if events.iter().any(|e| e.kind == EventKind::Arrival && e.hostname.as_deref() == Some("guest")))
    })
    .await;
    leases_until(&mut rx, &mut model, "the new lease", |l| l.len() == 10).await;

    // Promote: the outcome, then a reload that shows the client moving.
    cmds.send(Command::Promote(PromoteRequest {
        mac: "a4:5e:60:11:22:33".into(),
        ip: Some(ip("192.168.0.200")),
        hostname: None,
    }))
    .expect("send");
    let done = wait_for(&mut rx, "promote result", |m| {
        matches!(m, Msg::ActionDone { .. })
    })
    .await;
    let Msg::ActionDone { result, .. } = done else {
        unreachable!()
    };
    let text = result.expect("promote succeeds");
    assert!(
        text.contains("192.168.0.200") && text.contains("192.168.0.101"),
        "{text}"
    );
    leases_until(&mut rx, &mut model, "the moving lease", |l| {
        l.iter()
            .any(|l| l.kind == LeaseKind::Moving && l.moving_to == Some(ip("192.168.0.200")))
    })
    .await;

    // A read-only user is refused with PermissionDenied.
    daemon.set_read_only(true);
    cmds.send(Command::Release(Target::Ip(ip("192.168.0.100"))))
        .expect("send");
    let done = wait_for(&mut rx, "release result", |m| {
        matches!(m, Msg::ActionDone { .. })
    })
    .await;
    let Msg::ActionDone { result, .. } = done else {
        unreachable!()
    };
    assert_eq!(
        result.expect_err("refused").kind,
        ErrorKind::PermissionDenied
    );

    // The daemon goes away: the worker says so and keeps trying.
    server.stop();
    wait_for(&mut rx, "Disconnected", |m| {
        matches!(m, Msg::Disconnected { .. })
    })
    .await;
    // Commands while down are answered, not lost silently.
    cmds.send(Command::Block {
        mac: "02:00:5e:10:00:01".into(),
    })
    .expect("send");
    let done = wait_for(&mut rx, "block while down", |m| {
        matches!(m, Msg::ActionDone { .. })
    })
    .await;
    let Msg::ActionDone { result, .. } = done else {
        unreachable!()
    };
    assert!(result.expect_err("down").message.contains("not connected"));

    // It comes back as a new run (new epoch): reconnect, say it restarted,
    // reload everything from the new daemon.
    let daemon2 = FakeDaemon::new(fake::demo_data(now + 100));
    let _server2 = fake::serve(&sock, daemon2).expect("serve again");
    wait_for(&mut rx, "Connected again", |m| matches!(m, Msg::Connected)).await;
    wait_for(&mut rx, "restart notice", |m| {
        matches!(
            m,
            Msg::Events {
                restarted: true,
                ..
            }
        )
    })
    .await;
    let mut model = Model::new("test", false);
    leases_until(&mut rx, &mut model, "reload from the new run", |l| {
        l.len() == 9
    })
    .await;
    wait_for(
        &mut rx,
        "the new run's history",
        |m| matches!(m, Msg::Events { events, restarted: false, .. } if events.len() == 8),
    )
    .await;

    // Closing the command channel stops the worker.
    drop(cmds);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("worker stops")
        .expect("worker did not panic");
}

#[tokio::test]
async fn worker_reports_a_missing_socket_and_backs_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("nothing.sock");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cmds, cmd_rx) = mpsc::unbounded_channel::<Command>();
    let task = tokio::spawn(worker::run(sock, tx, cmd_rx));
    let mut waits = Vec::new();
    for _ in 0..3 {
        let m = wait_for(&mut rx, "Disconnected", |m| {
            matches!(m, Msg::Disconnected { .. })
        })
        .await;
        let Msg::Disconnected {
            error, retry_in, ..
        } = m
        else {
            unreachable!()
        };
        assert!(error.contains("is the daemon running?"), "{error}");
        waits.push(retry_in);
    }
    assert!(waits[0] < waits[1] && waits[1] < waits[2], "{waits:?}");
    drop(cmds);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("worker stops")
        .expect("worker did not panic");
}

#[tokio::test]
async fn worker_reads_quarantine_explains_shows_history_and_clears() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("control.sock");
    let daemon = FakeDaemon::new(fake::demo_data(unix_now()));
    let _server = fake::serve(&sock, daemon.clone()).expect("serve");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cmds, cmd_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(worker::run(sock.clone(), tx, cmd_rx));

    let snap = wait_for(&mut rx, "first snapshot", |m| matches!(m, Msg::Snapshot(_))).await;
    let Msg::Snapshot(snap) = snap else {
        unreachable!()
    };
    let q = snap.quarantine.expect("the quarantine list");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].ip, ip("192.168.0.150"));

    cmds.send(Command::Explain(berth_proto::ExplainRequest {
        mac: "00:04:13:2a:3b:4d".into(),
        vendor_class: Some("snom370".into()),
        ..berth_proto::ExplainRequest::default()
    }))
    .expect("send");
    let m = wait_for(&mut rx, "the explanation", |m| {
        matches!(m, Msg::Explained { .. })
    })
    .await;
    let Msg::Explained { mac, result } = m else {
        unreachable!()
    };
    assert_eq!(mac, "00:04:13:2a:3b:4d");
    let e = (*result).expect("explained");
    assert_eq!(e.classes, ["snom"]);

    cmds.send(Command::History {
        mac: "a4:5e:60:11:22:33".into(),
    })
    .expect("send");
    let m = wait_for(&mut rx, "the history", |m| matches!(m, Msg::History { .. })).await;
    let Msg::History { result, .. } = m else {
        unreachable!()
    };
    let evs = result.expect("events");
    assert_eq!(evs.len(), 3, "only that client's: {evs:?}");
    assert!(
        evs.iter()
            .all(|e| e.mac.as_deref() == Some("a4:5e:60:11:22:33"))
    );

    cmds.send(Command::ClearQuarantine(ip("192.168.0.150")))
        .expect("send");
    let m = wait_for(&mut rx, "the clear", |m| {
        matches!(m, Msg::ActionDone { .. })
    })
    .await;
    let Msg::ActionDone { result, .. } = m else {
        unreachable!()
    };
    assert_eq!(
        result.expect("cleared"),
        "cleared the quarantine of 192.168.0.150: free again"
    );
    wait_for(
        &mut rx,
        "a snapshot without it",
        |m| matches!(m, Msg::Snapshot(s) if s.quarantine.as_ref().is_some_and(Vec::is_empty)),
    )
    .await;

    drop(cmds);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}
