//! Control-API load for the `ctl_load` bench: as one user, many concurrent
//! connections to berthd's control socket, each doing what a `berth` TUI or
//! script does (`status`, `leases`, `events_since`) once per interval; or,
//! with `--mode slowloris`, connections that trickle a frame a byte at a
//! time or send nothing at all.
//!
//! `ctl-load --socket PATH --uid U --gid G --clients N --secs S
//! [--interval-ms MS] [--mode work|slowloris]`. Run as root: it takes uid U
//! and gid G (no supplementary groups) before it starts, so the daemon's
//! per-user limits see it as that user. Bounded: it stops after `secs`
//! seconds. Prints one JSON object with what it saw.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use berth_proto::transport::connect;
use berth_proto::{LeaseFilter, PageRequest};
use serde_json::json;
use tarpc::context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

struct Args {
    socket: PathBuf,
    uid: u32,
    gid: u32,
    clients: usize,
    secs: u64,
    interval: Duration,
    slowloris: bool,
}

fn args() -> Result<Args> {
    let mut a = Args {
        socket: PathBuf::new(),
        uid: 0,
        gid: 0,
        clients: 1,
        secs: 5,
        interval: Duration::from_secs(1),
        slowloris: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value {value:?}");
        match flag.as_str() {
            "--socket" => a.socket = PathBuf::from(value),
            "--uid" => a.uid = value.parse().with_context(bad)?,
            "--gid" => a.gid = value.parse().with_context(bad)?,
            "--clients" => a.clients = value.parse().with_context(bad)?,
            "--secs" => a.secs = value.parse().with_context(bad)?,
            "--interval-ms" => a.interval = Duration::from_millis(value.parse().with_context(bad)?),
            "--mode" => a.slowloris = value == "slowloris",
            _ => bail!("unknown argument {flag}"),
        }
    }
    if a.socket.as_os_str().is_empty() {
        bail!("--socket is required");
    }
    Ok(a)
}

/// What one working connection saw.
#[derive(Default)]
struct Outcome {
    connected: bool,
    /// Connect (or the version check) failed: how long that took.
    refused_after: Option<Duration>,
    /// The socket's backlog was full (EAGAIN) this many times first.
    retries: u32,
    calls: u64,
    call_errors: u64,
    call_time: Duration,
    call_max: Duration,
}

async fn work(a: &Args, deadline: Instant) -> Outcome {
    let mut o = Outcome::default();
    let t0 = Instant::now();
    let client = loop {
        match connect(&a.socket).await {
            Ok(c) => break c,
            Err(berth_proto::transport::ConnectError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::WouldBlock
                    && t0.elapsed() < Duration::from_secs(3) =>
            {
                o.retries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(_) => {
                o.refused_after = Some(t0.elapsed());
                return o;
            }
        }
    };
    o.connected = true;
    let mut seq = 0;
    while Instant::now() < deadline {
        let round = Instant::now();
        let mut timed = |r: bool, started: Instant| {
            let took = started.elapsed();
            o.calls += 1;
            o.call_errors += u64::from(!r);
            o.call_time += took;
            o.call_max = o.call_max.max(took);
        };
        let t = Instant::now();
        let r = client.status(context::current()).await;
        timed(matches!(r, Ok(Ok(_))), t);
        let t = Instant::now();
        // One page: what a TUI or `berth leases` asks first.
        let r = client
            .leases(
                context::current(),
                LeaseFilter::default(),
                PageRequest::first(),
            )
            .await;
        timed(matches!(r, Ok(Ok(_))), t);
        let t = Instant::now();
        let r = client.events_since(context::current(), seq, 0).await;
        if let Ok(Ok(b)) = &r {
            seq = b.last_seq;
        }
        timed(matches!(r, Ok(Ok(_))), t);
        if let Some(rest) = a.interval.checked_sub(round.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    o
}

/// Even-numbered connections trickle a frame (a length, then a byte every
/// 500 ms), odd ones send nothing. Returns when the daemon closed it.
async fn slowloris(a: &Args, n: usize, deadline: Instant) -> Option<Duration> {
    let t0 = Instant::now();
    let mut s = UnixStream::connect(&a.socket).await.ok()?;
    let trickle = n % 2 == 0;
    let frame = b"\x00\x00\x00\x40{\"Request\":{\"context\":";
    let mut sent = 0;
    let mut buf = [0u8; 64];
    while Instant::now() < deadline {
        if trickle && sent < frame.len() {
            if s.write_all(&frame[sent..=sent]).await.is_err() {
                return Some(t0.elapsed());
            }
            sent += 1;
        }
        match tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(t0.elapsed()),
            _ => {}
        }
    }
    None
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<()> {
    let a = args()?;
    // Become the user before any thread exists: ids are per thread on Linux.
    nix::unistd::setgroups(&[]).context("setgroups")?;
    nix::unistd::setgid(nix::unistd::Gid::from_raw(a.gid)).context("setgid")?;
    nix::unistd::setuid(nix::unistd::Uid::from_raw(a.uid)).context("setuid")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let deadline = Instant::now() + Duration::from_secs(a.secs);
    let a = std::sync::Arc::new(a);
    let out = rt.block_on(async {
        if a.slowloris {
            let tasks: Vec<_> = (0..a.clients)
                .map(|n| {
                    let a = a.clone();
                    tokio::spawn(async move { slowloris(&a, n, deadline).await })
                })
                .collect();
            let mut closed = Vec::new();
            for t in tasks {
                closed.push(t.await.ok().flatten().map(ms));
            }
            return json!({ "uid": a.uid, "closed_after_ms": closed });
        }
        let tasks: Vec<_> = (0..a.clients)
            .map(|_| {
                let a = a.clone();
                tokio::spawn(async move { work(&a, deadline).await })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap_or_default());
        }
        let refused: Vec<f64> = all.iter().filter_map(|o| o.refused_after.map(ms)).collect();
        let calls: u64 = all.iter().map(|o| o.calls).sum();
        let time: Duration = all.iter().map(|o| o.call_time).sum();
        json!({
            "uid": a.uid,
            "connected": all.iter().filter(|o| o.connected).count(),
            "refused_ms": refused,
            "retries": all.iter().map(|o| o.retries).sum::<u32>(),
            "calls": calls,
            "call_errors": all.iter().map(|o| o.call_errors).sum::<u64>(),
            "call_avg_ms": if calls == 0 { 0.0 } else { ms(time) / calls as f64 },
            "call_max_ms": all.iter().map(|o| ms(o.call_max)).fold(0.0, f64::max),
        })
    });
    println!("{out}");
    Ok(())
}
