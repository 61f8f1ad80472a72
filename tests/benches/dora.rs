//! DORA throughput of berthd, measured with ISC perfdhcp in a namespace lab.
//!
//! Run (as root): `cargo build --release --workspace --bins && cargo bench -p berth-tests --bench dora`
//!
//! Environment: `BERTHD_BIN` (default: target/release/berthd),
//! `BENCH_RATE` (exchanges started per second, default 1000),
//! `BENCH_CLIENTS` (distinct simulated clients, default 200, at most 240),
//! `BENCH_SECS` (test period, default 10, at most 300).
//!
//! Addresses: everything stays in 192.0.2.0/24 inside the lab's namespaces.
//! The pool is 192.0.2.10-192.0.2.250 (241 addresses); perfdhcp's clients
//! (fewer than the pool) repeat full DORA exchanges, and berthd answers each
//! with that client's existing lease. perfdhcp acts as a relay (giaddr
//! 192.0.2.2 on its interface), so berthd answers to giaddr:67.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use berth_tests::bench::env_u32_within;
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::{Daemon, Lab, ServerConfig, berthd_bin, require_tools, root_or_skip};

const POOL: (&str, &str) = ("192.0.2.10", "192.0.2.250");
const POOL_SIZE: u32 = 241;
const PERF_ADDR: &str = "192.0.2.2/24";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dora bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    if !root_or_skip("bench dora") {
        return Ok(());
    }
    require_tools(&["perfdhcp", "ip"]);
    let rate = env_u32_within("BENCH_RATE", 1000, 1..=100_000)?;
    let clients = env_u32_within("BENCH_CLIENTS", 200, 1..=POOL_SIZE - 1)?;
    let secs = env_u32_within("BENCH_SECS", 10, 1..=300)?;

    let bin = berthd_bin();
    let profile = bin
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!("dora: berthd = {}", bin.display());
    if profile == "debug" {
        println!("dora: WARNING: this is a debug build; numbers are not representative");
    }

    let lab = Lab::new().context("lab")?;
    // perfdhcp is a relay: its address must be in `relays`.
    let mut cfg = ServerConfig::lab()
        .pool(POOL.0, POOL.1)
        .lease("1h")
        .relay(PERF_ADDR.split('/').next().unwrap_or(PERF_ADDR));
    // Throughput of the DHCP path: no ARP sweeps or pre-offer probes.
    cfg.server_extra = "arp = false".into();
    let berthd = Daemon::start(&lab, &cfg).context("berthd")?;
    let client = lab.add_client(None).context("client ns")?;
    client.add_addr(PERF_ADDR).context("perfdhcp address")?;

    println!(
        "dora: perfdhcp -4 -l {} -r {rate} -R {clients} -p {secs} (pool {}-{}, {POOL_SIZE} addresses)",
        client.iface(),
        POOL.0,
        POOL.1
    );
    let started = Instant::now();
    let (report, text) = perfdhcp::run(
        &client,
        &PerfdhcpRun {
            rate,
            clients,
            seconds: secs,
        },
    )
    .map_err(|e| {
        anyhow!(
            "{e:#}\n---- berthd log (tail) ----\n{}",
            berth_tests::process::tail(&berthd.log(), 50)
        )
    })?;
    let wall = started.elapsed().as_secs_f64();
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        println!("{text}");
    }

    let completed = report.completed();
    println!(
        "dora: completed {completed} DORA exchanges in {secs} s: {:.1} DORA/s \
         (perfdhcp's rate: {}; wall {wall:.1} s)",
        completed as f64 / f64::from(secs),
        report
            .rate
            .map(|r| format!("{r:.1}/s"))
            .unwrap_or_else(|| "n/a".into()),
    );
    println!(
        "dora: DISCOVER-OFFER sent {} received {} drops {}; REQUEST-ACK sent {} received {} drops {}",
        report.discover_offer.sent,
        report.discover_offer.received,
        report.discover_offer.drops,
        report.request_ack.sent,
        report.request_ack.received,
        report.request_ack.drops
    );
    println!(
        "dora: drops {} of {} exchanges started ({:.2} %)",
        report.drops(),
        report.discover_offer.sent,
        if report.discover_offer.sent > 0 {
            100.0 * report.drops() as f64 / report.discover_offer.sent as f64
        } else {
            0.0
        }
    );
    // berthd's own view: its closing counters line, and warnings/errors.
    let mut berthd = berthd;
    let stop = berthd.stop();
    let log = berthd.run_log();
    if let Some(line) = log.lines().rev().find(|l| l.contains("counters=")) {
        println!("dora: berthd: {}", line.trim());
    }
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    if !warnings.is_empty() {
        println!(
            "dora: berthd logged {} warnings/errors; the first: {}",
            warnings.len(),
            warnings[0].trim()
        );
    }
    if let Err(e) = stop {
        println!("dora: berthd did not stop cleanly: {e:#}");
    }
    drop(client);
    drop(berthd);
    drop(lab);
    if completed == 0 {
        bail!("no DORA exchange completed");
    }
    Ok(())
}
