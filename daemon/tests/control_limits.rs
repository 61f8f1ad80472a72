//! The control socket under abuse: connection caps, idle and slow senders,
//! calls in flight. In-process (no root): the real server with channel
//! sockets and a memory store, the control API on a socket in a tempdir.

mod harness;

use std::time::Duration;

use harness::{Harness, WAIT, connect};
use tarpc::context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Whether the server closed `s` (EOF or reset) within `within`.
async fn closed_within(s: &mut UnixStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(within, s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

#[tokio::test]
async fn one_user_cannot_hold_more_connections_than_its_share() {
    let h = Harness::start_with("control_max_per_user = 3", "").await;
    let sock = h.dir.path().join("control.sock");
    // The harness's own client holds one place; two more fit.
    let mut a = UnixStream::connect(&sock).await.expect("connect");
    let mut b = UnixStream::connect(&sock).await.expect("connect");
    let mut over = UnixStream::connect(&sock).await.expect("connect");
    assert!(
        closed_within(&mut over, WAIT).await,
        "the fourth connection of one user must be closed"
    );
    assert!(!closed_within(&mut a, Duration::from_millis(300)).await);
    assert!(!closed_within(&mut b, Duration::from_millis(300)).await);
    // A place given back can be taken again.
    drop(a);
    let c = {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let mut s = UnixStream::connect(&sock).await.expect("connect");
            if !closed_within(&mut s, Duration::from_millis(300)).await {
                break s;
            }
            assert!(tokio::time::Instant::now() < deadline, "place never freed");
        }
    };
    drop(c);
    // The harness's client still works.
    let v = h.api.api_version(context::current()).await.expect("call");
    assert_eq!(v, berth_proto::API_VERSION);
}

#[tokio::test]
async fn silent_and_trickling_connections_are_closed_when_idle() {
    let h = Harness::start_with("control_idle_timeout = \"1s\"", "").await;
    let sock = h.dir.path().join("control.sock");
    let mut silent = UnixStream::connect(&sock).await.expect("connect");
    let mut trickle = UnixStream::connect(&sock).await.expect("connect");
    // A frame header promising 1000 bytes, then a few of them, slowly.
    trickle
        .write_all(&1000u32.to_be_bytes())
        .await
        .expect("write");
    for _ in 0..3 {
        let _ = trickle.write_all(b"{").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(
        closed_within(&mut silent, WAIT).await,
        "silent connection kept"
    );
    assert!(closed_within(&mut trickle, WAIT).await, "slow sender kept");
    // A client that keeps calling is not idle.
    let live = connect(&sock).await;
    for _ in 0..4 {
        live.api_version(context::current())
            .await
            .expect("live call");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn calls_in_flight_on_one_connection_are_bounded() {
    let h = Harness::start("").await;
    let calls = (0..24).map(|_| {
        let api = h.api.clone();
        async move {
            let mut ctx = context::current();
            ctx.deadline = std::time::Instant::now() + Duration::from_secs(20);
            api.events_since(ctx, u64::MAX - 1, 3_000).await
        }
    });
    let results = futures::future::join_all(calls).await;
    let refused = results.iter().filter(|r| r.is_err()).count();
    assert!(
        refused >= 24 - berthd::control::MAX_CALLS_PER_CONNECTION,
        "{refused} of 24 long polls refused; at most {} may be in flight",
        berthd::control::MAX_CALLS_PER_CONNECTION
    );
    // The connection itself survives and serves again.
    let v = h.api.api_version(context::current()).await.expect("call");
    assert_eq!(v, berth_proto::API_VERSION);
}

#[tokio::test]
async fn a_request_whose_deadline_overflows_ends_only_its_connection() {
    // Found by fuzzing `control_frame`: decoding this deadline panics inside
    // tarpc. The connection is closed; the daemon and others go on.
    let h = Harness::start("").await;
    let sock = h.dir.path().join("control.sock");
    let frame = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions/control_frame/deadline-overflow"),
    )
    .expect("regression input");
    let mut s = UnixStream::connect(&sock).await.expect("connect");
    s.write_all(&frame).await.expect("send");
    assert!(closed_within(&mut s, WAIT).await, "the connection must end");
    let v = h.api.api_version(context::current()).await.expect("call");
    assert_eq!(v, berth_proto::API_VERSION);
    let fresh = connect(&sock).await;
    let v = fresh.api_version(context::current()).await.expect("call");
    assert_eq!(v, berth_proto::API_VERSION);
}
