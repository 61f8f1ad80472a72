//! Side by side: berthd, kea-dhcp4 (memfile) and a stateless responder on
//! the same namespace bed with the same perfdhcp workload, in one run.
//!
//! Run (as root):
//! `cargo build --release --workspace --bins && cargo bench -p berth-tests --bench compare`
//!
//! Workload (the one ISC publishes Kea's figures with): perfdhcp in its own
//! client namespace acting as a relay (`perfdhcp -4 -l eth0 -R 50000 -r RATE
//! -p SECS`), one /16 (198.18.0.0/16, inside the RFC 2544 benchmarking range,
//! configured only inside the lab's namespaces) with a pool of 60,000
//! addresses, 3600 s leases, no conflict probe, a fresh store for every step.
//!
//! Phases:
//! 1. the highest rate with < 1 % drops: for each server, steps of
//!    `BENCH_STEP_SECS` double from `BENCH_START_RATE` until one fails, then
//!    bisect `BENCH_BISECT` times; the servers take turns step by step (the
//!    order rotating) so the machine's noise hits all alike. Each step also
//!    prints how many datagrams full receive buffers dropped, in
//!    perfdhcp's namespace and in the server's (`RcvbufErrors` of
//!    /proc/net/snmp), which tells a server that fell behind from a load
//!    generator that did;
//! 2. at a fixed rate (`BENCH_FIXED_RATE` for `BENCH_FIXED_SECS`, by
//!    default 1000/s for 20 s): server CPU per completed DORA (utime + stime
//!    from /proc/PID/stat) and perfdhcp's DISCOVER->OFFER and REQUEST->ACK
//!    delays (average and worst);
//! 3. memory with `BENCH_FILL` (50,000) leases: the `filler` program (in
//!    this crate) gives that many distinct clients one DORA each, closed loop
//!    with a window of 64 in flight; then a renew storm: every one of them
//!    renews once (REQUEST with ciaddr, through the relay), spread evenly
//!    over `BENCH_RENEW_SECS` (60; 0 skips it), open loop, no retries, and
//!    the unanswered share is its drops; then VmRSS/VmHWM are read.
//!    (perfdhcp cannot fill: it picks a random client for every exchange.)
//!
//! Environment: `BERTHD_BIN` (default target/release/berthd),
//! `BENCH_SERVERS` (default `berthd,kea,stateless`), `BENCH_CLIENTS`
//! (50000), `BENCH_STEP_SECS` (5), `BENCH_START_RATE` (1000),
//! `BENCH_MAX_RATE` (64000), `BENCH_BISECT` (2), `BENCH_DROP_LIMIT_PCT` (1),
//! `BENCH_STEP_TRIES` (2: a failed step is run again, and passes if any
//! run does),
//! `BENCH_FIXED_RATE` (1000), `BENCH_FIXED_SECS` (20), `BENCH_FILL` (50000),
//! `BENCH_RENEW_SECS` (60), `BENCH_KEA_LOG`
//! (Kea's logger severity, default INFO as packaged; berthd logs at its
//! default, info), `BENCH_VERBOSE` (print perfdhcp's reports).

mod report;
mod servers;
mod setup;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use berth_tests::bench::env_u32_within;
use berth_tests::netns::netns_command;
use berth_tests::perfdhcp::{self, PerfdhcpReport, PerfdhcpRun};
use berth_tests::process::run_output;
use berth_tests::procstat;
use berth_tests::ratesearch::RateSearch;
use berth_tests::{ClientNs, Lab, LabNet, berthd_bin, root_or_skip};

use report::{FillResult, FixedResult, SearchResult};
use servers::{Kind, Server, Setup};

/// perfdhcp's address: the relay it plays, on the lab's /16.
/// The pool: 60,000 addresses from the network's .1.0 on.
const POOL_OFFSET: u32 = 256;
const POOL_SIZE: u32 = 60_000;
const LEASE_SECS: u32 = 3600;
/// Bounds the search however the knobs are set.
const MAX_ROUNDS: usize = 40;

/// The knobs, from the environment.
#[derive(Debug, Clone)]
struct Knobs {
    servers: Vec<Kind>,
    clients: u32,
    step_secs: u32,
    start_rate: u32,
    max_rate: u32,
    bisect: u32,
    drop_limit: f64,
    /// Runs of a step before it counts as failed.
    tries: u32,
    fixed_rate: u32,
    fixed_secs: u32,
    fill: u32,
    renew_secs: u32,
    kea_severity: String,
    verbose: bool,
}

impl Knobs {
    fn from_env() -> Result<Knobs> {
        let servers = match std::env::var("BENCH_SERVERS") {
            Err(_) => Kind::ALL.to_vec(),
            Ok(v) => v
                .split(',')
                .map(|s| {
                    Kind::parse(s).with_context(|| {
                        format!("BENCH_SERVERS: unknown server {s:?} (berthd, kea, stateless)")
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let drop_pct = env_u32_within("BENCH_DROP_LIMIT_PCT", 1, 1..=50)?;
        Ok(Knobs {
            servers,
            clients: env_u32_within("BENCH_CLIENTS", 50_000, 1..=POOL_SIZE)?,
            step_secs: env_u32_within("BENCH_STEP_SECS", 5, 1..=120)?,
            start_rate: env_u32_within("BENCH_START_RATE", 1000, 1..=200_000)?,
            max_rate: env_u32_within("BENCH_MAX_RATE", 64_000, 1..=200_000)?,
            bisect: env_u32_within("BENCH_BISECT", 2, 0..=10)?,
            drop_limit: f64::from(drop_pct) / 100.0,
            tries: env_u32_within("BENCH_STEP_TRIES", 2, 1..=5)?,
            fixed_rate: env_u32_within("BENCH_FIXED_RATE", 1000, 1..=200_000)?,
            fixed_secs: env_u32_within("BENCH_FIXED_SECS", 20, 1..=600)?,
            fill: env_u32_within("BENCH_FILL", 50_000, 1..=POOL_SIZE)?,
            renew_secs: env_u32_within("BENCH_RENEW_SECS", 60, 0..=3600)?,
            kea_severity: std::env::var("BENCH_KEA_LOG").unwrap_or_else(|_| "INFO".into()),
            verbose: std::env::var_os("BENCH_VERBOSE").is_some(),
        })
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("compare bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    if !root_or_skip("bench compare") {
        return Ok(());
    }
    let knobs = Knobs::from_env()?;
    setup::ensure_tools(&knobs.servers)?;
    setup::keep_system_kea_down();

    let setup = Setup {
        net: LabNet::BENCH16,
        pool_offset: POOL_OFFSET,
        pool_size: POOL_SIZE,
        lease_secs: LEASE_SECS,
        kea_severity: knobs.kea_severity.clone(),
        berthd_bin: berthd_bin(),
        stateless_bin: env!("CARGO_BIN_EXE_stateless").into(),
        filler_bin: env!("CARGO_BIN_EXE_filler").into(),
    };
    setup::print_header(&setup, &knobs_line(&knobs));

    // Dropped at the end, also on an error: the namespaces go with them.
    let lab = Lab::with_net(setup.net).context("lab")?;
    let client = setup.relay_namespace(&lab)?;

    let started = Instant::now();
    let search = search_phase(&knobs, &lab, &client, &setup)?;
    let fixed = fixed_phase(&knobs, &lab, &client, &setup)?;
    let fill = fill_phase(&knobs, &lab, &client, &setup)?;
    println!(
        "compare: done in {:.0} s\n",
        started.elapsed().as_secs_f64()
    );
    report::print_table(
        &knobs.servers,
        &search,
        &fixed,
        &fill,
        knobs.fixed_rate,
        knobs.drop_limit * 100.0,
    );
    drop(client);
    drop(lab);
    Ok(())
}

fn knobs_line(k: &Knobs) -> String {
    format!(
        "servers {}; {} clients; search {} s steps from {}/s up to {}/s, {} bisections, \
         pass = drops < {} % in one of {} tries; fixed {}/s for {} s; fill {}; renew storm over {} s; kea log {}",
        k.servers
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(","),
        k.clients,
        k.step_secs,
        k.start_rate,
        k.max_rate,
        k.bisect,
        k.drop_limit * 100.0,
        k.tries,
        k.fixed_rate,
        k.fixed_secs,
        k.fill,
        k.renew_secs,
        k.kea_severity
    )
}

/// One perfdhcp run against a freshly started server.
struct Step {
    report: PerfdhcpReport,
    cpu_secs: f64,
    /// Datagrams dropped by full receive buffers meanwhile: in perfdhcp's
    /// namespace (replies it could not take in) and in the server's.
    overflowed: (u64, u64),
}

fn step(
    kind: Kind,
    lab: &Lab,
    client: &ClientNs,
    setup: &Setup,
    run: &PerfdhcpRun,
    verbose: bool,
) -> Result<Step> {
    let server = Server::start(kind, lab, setup).with_context(|| format!("starting {kind}"))?;
    let pid = server.pid()?;
    let overflowed = || -> Result<(u64, u64)> {
        Ok((
            procstat::udp_rcvbuf_errors(client.name())?,
            procstat::udp_rcvbuf_errors(lab.server_ns())?,
        ))
    };
    let before = overflowed()?;
    let cpu0 = procstat::cpu_seconds(pid)?;
    let outcome = perfdhcp::run(client, run);
    let cpu1 = procstat::cpu_seconds(pid);
    let after = overflowed();
    let (report, text) = match outcome {
        Ok(r) => r,
        Err(e) => return Err(server.fail(e, &format!("perfdhcp against {kind}"))),
    };
    let (cpu1, after) = (cpu1?, after?);
    server.stop().with_context(|| format!("stopping {kind}"))?;
    if verbose {
        println!("{text}");
    }
    Ok(Step {
        report,
        cpu_secs: cpu1 - cpu0,
        overflowed: (
            after.0.saturating_sub(before.0),
            after.1.saturating_sub(before.1),
        ),
    })
}

fn search_phase(
    k: &Knobs,
    lab: &Lab,
    client: &ClientNs,
    setup: &Setup,
) -> Result<Vec<SearchResult>> {
    let mut searches: Vec<(Kind, RateSearch, SearchResult)> = k
        .servers
        .iter()
        .map(|&kind| {
            (
                kind,
                RateSearch::new(k.start_rate, 100, k.max_rate, k.bisect),
                SearchResult::default(),
            )
        })
        .collect();
    println!(
        "compare: phase 1: highest rate with < {} % drops, {} s steps, fresh store each",
        k.drop_limit * 100.0,
        k.step_secs
    );
    for round in 0..MAX_ROUNDS {
        let n = searches.len();
        let mut any = false;
        // Rotate who goes first, so no server always runs right after another.
        for i in 0..n {
            let (kind, search, result) = &mut searches[(i + round) % n];
            let Some(rate) = search.next_rate() else {
                continue;
            };
            any = true;
            let run = PerfdhcpRun {
                rate,
                clients: k.clients,
                seconds: k.step_secs,
            };
            // A step that fails is run again (up to `tries` in all): one
            // stall of the virtual disk, or of perfdhcp, must not end a
            // server's search. Every run is printed.
            let (mut ratio, mut passed, mut per_sec) = (1.0, false, 0.0);
            for attempt in 1..=k.tries {
                let s = step(*kind, lab, client, setup, &run, k.verbose)?;
                ratio = s.report.drop_ratio();
                passed = ratio < k.drop_limit;
                per_sec = s.report.completed() as f64 / f64::from(k.step_secs);
                println!(
                    "compare:   {kind:<9} asked {rate:>6}/s: {:>9.1} DORA/s completed, drops {:>6.2} % -> {} \
                     (full receive buffers dropped {} at perfdhcp, {} at the server){}",
                    per_sec,
                    ratio * 100.0,
                    if passed { "pass" } else { "FAIL" },
                    s.overflowed.0,
                    s.overflowed.1,
                    if k.tries > 1 {
                        format!(", try {attempt} of {}", k.tries)
                    } else {
                        String::new()
                    },
                );
                if passed {
                    break;
                }
            }
            search.record(rate, passed);
            if passed && result.best_rate.is_none_or(|b| rate > b) {
                result.best_rate = Some(rate);
                result.best_completed_per_sec = per_sec;
                result.best_drop_ratio = ratio;
            }
            result.steps += 1;
        }
        if !any {
            break;
        }
    }
    Ok(searches.into_iter().map(|(_, _, r)| r).collect())
}

fn fixed_phase(k: &Knobs, lab: &Lab, client: &ClientNs, setup: &Setup) -> Result<Vec<FixedResult>> {
    println!(
        "compare: phase 2: fixed {}/s for {} s ({} exchanges): CPU, latency, memory",
        k.fixed_rate,
        k.fixed_secs,
        u64::from(k.fixed_rate) * u64::from(k.fixed_secs)
    );
    let run = PerfdhcpRun {
        rate: k.fixed_rate,
        clients: k.clients,
        seconds: k.fixed_secs,
    };
    let mut out = Vec::new();
    for &kind in &k.servers {
        let s = step(kind, lab, client, setup, &run, k.verbose)?;
        let completed = s.report.completed();
        let r = FixedResult {
            completed,
            drop_ratio: s.report.drop_ratio(),
            cpu_ms_per_dora: (completed > 0).then(|| s.cpu_secs * 1000.0 / completed as f64),
            discover_offer: s.report.discover_offer,
            request_ack: s.report.request_ack,
        };
        println!(
            "compare:   {kind:<9} {} completed, drops {:.2} %, CPU {:.2} s",
            completed,
            r.drop_ratio * 100.0,
            s.cpu_secs,
        );
        out.push(r);
    }
    Ok(out)
}

fn fill_phase(k: &Knobs, lab: &Lab, client: &ClientNs, setup: &Setup) -> Result<Vec<FillResult>> {
    println!(
        "compare: phase 3: {} distinct clients, one DORA each (closed loop, window 64), \
         then each renews once within {} s (open loop), then memory",
        k.fill, k.renew_secs
    );
    let relay = setup.relay().to_string();
    let max_secs: u64 = 300;
    let renew_secs = u64::from(k.renew_secs);
    let mut out = Vec::new();
    for &kind in &k.servers {
        let server = Server::start(kind, lab, setup).with_context(|| format!("starting {kind}"))?;
        let pid = server.pid()?;
        let mut cmd = netns_command(client.name(), &setup.filler_bin);
        cmd.args(["--relay", &relay])
            .args(["--server", &setup.net.server_ip.to_string()])
            .args(["--clients", &k.fill.to_string()])
            .args(["--max-seconds", &max_secs.to_string()])
            .args(["--renew-secs", &renew_secs.to_string()]);
        let limit = Duration::from_secs(max_secs + renew_secs + 30);
        let filled = run_output(&mut cmd, limit).and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            if !o.status.success() {
                bail!(
                    "filler failed ({}): {text}{}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            let filled = parse_filled(&text).with_context(|| format!("filler said {text:?}"))?;
            let renewed = if renew_secs > 0 {
                Some(parse_renewed(&text).with_context(|| format!("filler said {text:?}"))?)
            } else {
                None
            };
            Ok((filled, renewed))
        });
        let ((acked, secs), renewed) = match filled {
            Ok(v) => v,
            Err(e) => return Err(server.fail(e, &format!("filling {kind}"))),
        };
        let memory = procstat::memory(pid).ok();
        let leases = server.leases();
        server.stop().with_context(|| format!("stopping {kind}"))?;
        println!(
            "compare:   {kind:<9} {acked} ACKed in {secs:.1} s, leases held {}, VmRSS {}{}",
            leases.map_or_else(|| "-".into(), |n| n.to_string()),
            memory.map_or_else(|| "?".into(), |m| format!("{} KiB", m.rss_kib)),
            renewed.map_or_else(String::new, |(a, n)| format!(
                ", renew storm: {a} of {n} ACKed ({:.2} % drops)",
                drop_pct(a, n)
            ))
        );
        out.push(FillResult {
            acked,
            secs,
            leases,
            memory,
            renewed,
        });
    }
    Ok(out)
}

/// The share of `n` not ACKed, in per cent.
fn drop_pct(acked: u64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    n.saturating_sub(acked) as f64 * 100.0 / n as f64
}

/// `renewed ACKED of SENT in SECS s ...` -> (ACKED, SENT).
fn parse_renewed(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("renewed "))?;
    let mut w = line.split_whitespace();
    let acked = w.nth(1)?.parse().ok()?;
    let sent = w.nth(1)?.parse().ok()?;
    Some((acked, sent))
}

/// `filled ACKED of N in SECS s ...` -> (ACKED, SECS).
fn parse_filled(text: &str) -> Option<(u64, f64)> {
    let line = text.lines().find(|l| l.starts_with("filled "))?;
    let mut w = line.split_whitespace();
    let acked = w.nth(1)?.parse().ok()?;
    let secs = w.nth(3)?.parse().ok()?;
    Some((acked, secs))
}
