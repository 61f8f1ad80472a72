//! Hooks in the whole server, in-process (see `harness`): they run only
//! for what became durable, get the records before and after, and never
//! hold up a reply.

mod harness;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_proto::EventKind;
use berthd::packet::MessageType;
use harness::*;

/// How long a reply we expect not to come is waited for.
const QUIET: Duration = Duration::from_millis(300);

/// A temporary directory the hook (which runs as `nobody` when the tests
/// run as root) can write to, with `script` as its `hook`.
fn hook_dir(script: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let hook = dir.path().join("hook");
    std::fs::write(&hook, format!("#!/bin/sh\n{script}\n")).expect("write hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (dir, hook)
}

/// Waits until `path` has at least `n` lines; returns them.
async fn lines(path: &Path, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let got: Vec<String> = text.lines().map(str::to_string).collect();
        if got.len() >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} has {got:?}, waited for {n} lines",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_run_only_for_durable_changes_with_old_and_new() {
    let (dir, hook) = hook_dir(
        r#"echo "$reason $1 $2 new=$new_ip_address old=${old_ip_address-none} routers=$new_routers" >> "$(dirname "$0")/out""#,
    );
    let out = dir.path().join("out");
    let mut h = Harness::start(&format!(
        "[[hook]]\non = [\"commit\", \"renew\", \"release\"]\nrun = \"{}\"\nargs = [\"{{event}}\", \"{{ip}}\"]\n",
        hook.display()
    ))
    .await;

    let offer = h.discover(A).await.expect("an offer");
    h.mem().fail_next_apply();
    assert!(h.select(A, offer.yiaddr, QUIET).await.is_none());
    h.counted("write_failed", 1).await;
    // The retry is durable: the first line the hook writes is its commit.
    let ack = h.select(A, offer.yiaddr, WAIT).await.expect("ack");
    assert_eq!(kind(&ack), MessageType::Ack);
    let got = lines(&out, 1).await;
    assert_eq!(
        got,
        [format!(
            "COMMIT commit {POOL} new={POOL} old=none routers={SERVER}"
        )],
        "one commit hook, for the write that became durable"
    );

    let renewed = h.renew(A, POOL, WAIT).await.expect("renewal");
    assert_eq!(kind(&renewed), MessageType::Ack);
    let got = lines(&out, 2).await;
    assert_eq!(
        got[1],
        format!("RENEW renew {POOL} new={POOL} old={POOL} routers={SERVER}")
    );

    let results: Vec<_> = h
        .events()
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::HookResult)
        .collect();
    assert!(
        results
            .iter()
            .all(|e| e.ok && e.detail.contains("exited 0")),
        "{results:?}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_hook_does_not_hold_up_replies() {
    let (dir, hook) =
        hook_dir(r#"touch "$(dirname "$0")/started"; sleep 30; touch "$(dirname "$0")/done""#);
    let mut h = Harness::start(&format!(
        "[[hook]]\non = [\"commit\", \"renew\"]\nrun = \"{}\"\ntimeout = \"60s\"\n",
        hook.display()
    ))
    .await;
    let ip = h.bind(A).await;
    let started = dir.path().join("started");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !started.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hook never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While that hook sleeps, more renewals are answered (and queue hooks).
    for _ in 0..3 {
        let ack = h.renew(A, ip, WAIT).await.expect("renewal answered");
        assert_eq!(kind(&ack), MessageType::Ack);
    }
    assert!(
        !dir.path().join("done").exists(),
        "the replies came while the first hook was still running"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrival_decline_promote_and_an_operators_release_run_hooks() {
    use berth_proto::{PromoteRequest, Target};
    let (dir, hook) = hook_dir(
        r#"echo "$reason $1 ip=${new_ip_address-} mac=${client_mac-} name=${new_host_name-}" >> "$(dirname "$0")/out""#,
    );
    let out = dir.path().join("out");
    let mut h = Harness::start(&format!(
        "[[hook]]\non = [\"arrival\", \"decline\", \"promote\", \"release\"]\nrun = \"{}\"\nargs = [\"{{event}}\"]\n",
        hook.display()
    ))
    .await;
    let ip = h.bind(A).await;
    assert_eq!(
        lines(&out, 1).await,
        [format!("ARRIVAL arrival ip= mac={A} name=")]
    );

    // An operator's release is a release.
    h.api
        .release(ctx(), Target::Mac(A.to_string()))
        .await
        .expect("rpc")
        .expect("release");
    assert_eq!(
        lines(&out, 2).await[1],
        format!("RELEASE release ip={ip} mac={A} name=")
    );

    // The client takes it again, then declines it.
    let ip = h.bind(A).await;
    let mut decline = h.packet(A, MessageType::Decline);
    decline
        .options
        .set_bytes(berthd::packet::code::REQUESTED_IP, &ip.octets());
    decline
        .options
        .set_bytes(berthd::packet::code::SERVER_ID, &SERVER.octets());
    h.post(&decline).await;
    assert_eq!(
        lines(&out, 3).await[2],
        format!("DECLINE decline ip={ip} mac={A} name=")
    );

    h.api
        .promote(
            ctx(),
            PromoteRequest {
                mac: B.to_string(),
                ip: Some(STATIC),
                hostname: Some("beta".into()),
            },
        )
        .await
        .expect("rpc")
        .expect("promote");
    // A promoted host's scopes give it its name as host-name.
    assert_eq!(
        lines(&out, 4).await[3],
        format!("PROMOTE promote ip={STATIC} mac={B} name=beta")
    );
    h.stop().await;
}
