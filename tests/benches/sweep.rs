//! How long berthd's ARP sweep of a /22 takes, in a namespace lab.
//!
//! Run (as root): `cargo build --release --workspace --bins && cargo bench -p berth-tests --bench sweep`
//! (the sweep's speed is bounded by `arp_rate`, so `BERTHD_BIN` and
//! `BERTH_BIN` may as well point at debug builds).
//!
//! Quiet-machine figures are in the README (ARP section); the daemon's own
//! time includes the last request's `arp_probe_timeout` (200 ms).
//!
//! Environment: `BERTHD_BIN` (default: target/release/berthd),
//! `BENCH_RATES` (comma-separated `arp_rate` values to try, default
//! "1000,5000"), `BENCH_RESPONDERS` (namespaces holding a range address by
//! hand, which answer the sweep; default 4, at most 50).
//!
//! Addresses: everything stays in 198.18.0.0/22 (inside the RFC 2544
//! benchmarking range) on the lab's bridge; berthd sweeps only its range
//! 198.18.0.10-198.18.3.250 (1009 addresses).

use std::net::Ipv4Addr;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use berth_tests::netns::LabNet;
use berth_tests::process::run_output;
use berth_tests::{Daemon, Lab, ServerConfig, berth_bin, require_tools, root_or_skip};
use serde_json::Value;

const NET: LabNet = LabNet {
    server_ip: Ipv4Addr::new(198, 18, 0, 1),
    prefix: 22,
};
const RANGE: (u32, u32) = (10, 3 * 256 + 250);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sweep bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn rates() -> Result<Vec<u32>, String> {
    let text = std::env::var("BENCH_RATES").unwrap_or_else(|_| "1000,5000".into());
    text.split(',')
        .map(|r| match r.trim().parse::<u32>() {
            Ok(n) if (1..=100_000).contains(&n) => Ok(n),
            _ => Err(format!("BENCH_RATES: `{r}` is not a rate in 1..=100000")),
        })
        .collect()
}

fn responders() -> Result<u32, String> {
    match std::env::var("BENCH_RESPONDERS") {
        Err(_) => Ok(4),
        Ok(v) => match v.trim().parse::<u32>() {
            Ok(n) if n <= 50 => Ok(n),
            _ => Err(format!("BENCH_RESPONDERS={v:?} is not a number in 0..=50")),
        },
    }
}

fn run() -> Result<(), String> {
    if !root_or_skip("bench sweep") {
        return Ok(());
    }
    require_tools(&["ip"]);
    let rates = rates()?;
    let n = responders()?;
    let lab = Lab::with_net(NET).map_err(|e| format!("lab: {e:#}"))?;
    let mut held = Vec::new();
    for k in 0..n {
        let c = lab
            .add_client(None)
            .map_err(|e| format!("responder: {e:#}"))?;
        // Spread over the range.
        let ip = NET.host(RANGE.0 + k * (RANGE.1 - RANGE.0) / n.max(1));
        c.add_addr(&format!("{ip}/{}", NET.prefix))
            .map_err(|e| format!("responder address: {e:#}"))?;
        held.push(c);
    }
    let size = RANGE.1 - RANGE.0 + 1;
    println!(
        "ARP sweep of {}-{} ({size} addresses, a /22's range), {n} responders",
        NET.host(RANGE.0),
        NET.host(RANGE.1)
    );
    println!(
        "{:>10}  {:>7}  {:>8}  {:>12}  {:>11}",
        "arp_rate", "asked", "answered", "daemon (ms)", "berth (ms)"
    );
    for rate in rates {
        let mut cfg = ServerConfig::lab_on(NET).pool(
            &NET.host(RANGE.0).to_string(),
            &NET.host(RANGE.1).to_string(),
        );
        cfg.server_extra = format!("arp_sweep_interval = \"off\"\narp_rate = {rate}");
        let berthd = Daemon::start(&lab, &cfg).map_err(|e| format!("berthd: {e:#}"))?;
        let t = Instant::now();
        let out = run_output(
            Command::new(berth_bin())
                .arg("--socket")
                .arg(berthd.control_socket())
                .args(["--json", "scan", "all"]),
            Duration::from_secs(120),
        )
        .map_err(|e| format!("berth scan: {e:#}"))?;
        let wall = t.elapsed();
        if !out.status.success() {
            return Err(format!(
                "berth scan failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("JSON: {e}"))?;
        let n = |k: &str| v[0][k].as_u64().unwrap_or(0);
        println!(
            "{rate:>10}  {:>7}  {:>8}  {:>12}  {:>11}",
            n("probed"),
            n("answered"),
            n("duration_ms"),
            wall.as_millis()
        );
    }
    Ok(())
}
