//! DHCP latency while the control API is under load: 1,000 concurrent
//! control clients (`status`, `leases`, `events_since` once a second each,
//! from 40 users) and slowloris connections (one trickling a frame a byte
//! at a time, one silent), with perfdhcp measuring REQUEST->ACK in a
//! namespace lab.
//!
//! Run (as root): `cargo build --release --workspace --bins && cargo bench -p berth-tests --bench ctl_load`
//!
//! Three phases, each with the same perfdhcp run:
//! 1. idle: no control clients;
//! 2. within the limits: `control_max_connections = 1100`, so all 1,000 get in;
//! 3. the default limits (256 in all, 32 per user): most are refused, and
//!    one user opens 100 connections at once; how quickly the refused are
//!    told, and whether root (an admin) still gets in.
//!
//! Environment: `BENCH_RATE` (DORA/s, default 200), `BENCH_SECS` (perfdhcp
//! period, default 10), `BENCH_CTL_CLIENTS` (default 1000),
//! `BENCH_CTL_INTERVAL_MS` (each client's pause between rounds, default
//! 1000), `BERTHD_BIN`. Prints figures; never fails on slowness.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use berth_tests::perfdhcp::{self, PerfdhcpReport, PerfdhcpRun};
use berth_tests::{
    Api, ClientNs, Daemon, Lab, ServerConfig, berthd_bin, require_tools, root_or_skip,
    workspace_bin,
};
use serde_json::Value;

/// Users the control clients are spread over (25 each by default: under
/// the default 32 per user).
const USERS: usize = 40;
const FIRST_UID: u32 = 61000;
const SLOW_UID: u32 = 62000;
const GREEDY_UID: u32 = 62001;

fn env_u64(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a number")),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ctl_load bench: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Settings {
    rate: u32,
    secs: u32,
    clients: usize,
    interval_ms: u64,
    load_bin: PathBuf,
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    dhcp: PerfdhcpReport,
    connected: u64,
    refused: Vec<f64>,
    calls: u64,
    call_errors: u64,
    call_avg_ms: f64,
    call_max_ms: f64,
    slow_closed: Vec<Option<f64>>,
    admin_ms: Option<f64>,
    greedy_connected: Option<u64>,
}

fn spawn_load(s: &Settings, socket: &Path, uid: u32, clients: usize, mode: &str) -> Child {
    Command::new(&s.load_bin)
        .arg("--socket")
        .arg(socket)
        .args(["--uid", &uid.to_string(), "--gid", "0"])
        .args(["--clients", &clients.to_string()])
        .args(["--secs", &(u64::from(s.secs) + 3).to_string()])
        .args(["--interval-ms", &s.interval_ms.to_string()])
        .args(["--mode", mode])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ctl-load starts")
}

fn collect(child: Child) -> Value {
    let out = child.wait_with_output().expect("ctl-load runs");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Root connects and asks for `status`, while the load runs: milliseconds.
fn admin_check(socket: &Path) -> Option<f64> {
    let t = Instant::now();
    let api = Api::connect(socket).ok()?;
    api.status().ok()?;
    Some(t.elapsed().as_secs_f64() * 1000.0)
}

fn phase(
    name: &'static str,
    s: &Settings,
    socket: &Path,
    perf: &ClientNs,
    load: bool,
    greedy: bool,
) -> Phase {
    let mut procs = Vec::new();
    let mut slow = None;
    let mut greedy_proc = None;
    if load {
        let per = s.clients.div_ceil(USERS);
        let mut left = s.clients;
        for i in 0..USERS {
            let n = per.min(left);
            left -= n;
            if n > 0 {
                procs.push(spawn_load(s, socket, FIRST_UID + i as u32, n, "work"));
            }
        }
        slow = Some(spawn_load(s, socket, SLOW_UID, 2, "slowloris"));
        if greedy {
            greedy_proc = Some(spawn_load(s, socket, GREEDY_UID, 100, "work"));
        }
        // Let the connections open before DHCP is measured.
        std::thread::sleep(Duration::from_secs(2));
    }
    let admin_ms = load.then(|| admin_check(socket)).flatten();
    let run = PerfdhcpRun {
        rate: s.rate,
        clients: 200,
        seconds: s.secs,
    };
    let (dhcp, _) = perfdhcp::run(perf, &run).expect("perfdhcp");
    let mut p = Phase {
        name,
        dhcp,
        connected: 0,
        refused: Vec::new(),
        calls: 0,
        call_errors: 0,
        call_avg_ms: 0.0,
        call_max_ms: 0.0,
        slow_closed: Vec::new(),
        admin_ms,
        greedy_connected: None,
    };
    let mut weighted = 0.0;
    for c in procs {
        let v = collect(c);
        p.connected += v["connected"].as_u64().unwrap_or(0);
        if let Some(r) = v["refused_ms"].as_array() {
            p.refused.extend(r.iter().filter_map(Value::as_f64));
        }
        let calls = v["calls"].as_u64().unwrap_or(0);
        p.calls += calls;
        p.call_errors += v["call_errors"].as_u64().unwrap_or(0);
        weighted += v["call_avg_ms"].as_f64().unwrap_or(0.0) * calls as f64;
        p.call_max_ms = p.call_max_ms.max(v["call_max_ms"].as_f64().unwrap_or(0.0));
    }
    if p.calls > 0 {
        p.call_avg_ms = weighted / p.calls as f64;
    }
    if let Some(c) = slow {
        let v = collect(c);
        if let Some(a) = v["closed_after_ms"].as_array() {
            p.slow_closed = a.iter().map(Value::as_f64).collect();
        }
    }
    if let Some(c) = greedy_proc {
        p.greedy_connected = collect(c)["connected"].as_u64();
    }
    p
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

fn percentile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(((s.len() - 1) as f64 * q).round() as usize).copied()
}

fn print(p: &Phase, s: &Settings) {
    let ra = &p.dhcp.request_ack;
    println!("ctl_load: --- {} ---", p.name);
    println!(
        "ctl_load: DHCP REQUEST->ACK avg {} ms, max {} ms; DISCOVER->OFFER avg {} ms; {} DORA completed, {:.2} % drops",
        fmt_ms(ra.avg_delay_ms),
        fmt_ms(ra.max_delay_ms),
        fmt_ms(p.dhcp.discover_offer.avg_delay_ms),
        p.dhcp.completed(),
        p.dhcp.drop_ratio() * 100.0
    );
    if p.name.starts_with("idle") {
        return;
    }
    println!(
        "ctl_load: control: {} of {} clients connected, {} refused (told after p50 {} ms, max {} ms); \
         {} calls ({:.0}/s), {} failed, avg {:.2} ms, max {:.1} ms",
        p.connected,
        s.clients,
        p.refused.len(),
        fmt_ms(percentile(&p.refused, 0.5)),
        fmt_ms(percentile(&p.refused, 1.0)),
        p.calls,
        p.calls as f64 / (f64::from(s.secs) + 3.0),
        p.call_errors,
        p.call_avg_ms,
        p.call_max_ms
    );
    let slow: Vec<String> = p
        .slow_closed
        .iter()
        .map(|c| c.map_or("never".into(), |ms| format!("{:.1} s", ms / 1000.0)))
        .collect();
    println!(
        "ctl_load: slowloris (trickling, silent) closed after: {}",
        slow.join(", ")
    );
    println!(
        "ctl_load: root connects and gets status under this load in {} ms",
        fmt_ms(p.admin_ms)
    );
    if let Some(g) = p.greedy_connected {
        println!("ctl_load: one user opening 100 connections got {g}");
    }
}

fn run() -> Result<(), String> {
    if !root_or_skip("bench ctl_load") {
        return Ok(());
    }
    require_tools(&["perfdhcp", "ip"]);
    let s = Settings {
        rate: env_u64("BENCH_RATE", 200)? as u32,
        secs: env_u64("BENCH_SECS", 10)?.clamp(1, 120) as u32,
        clients: env_u64("BENCH_CTL_CLIENTS", 1000)?.clamp(1, 5000) as usize,
        interval_ms: env_u64("BENCH_CTL_INTERVAL_MS", 1000)?,
        load_bin: workspace_bin("ctl-load", "CTL_LOAD_BIN"),
    };
    println!("ctl_load: berthd = {}", berthd_bin().display());
    // The socket where the load's users can reach it (the daemon's tempdir
    // is root's alone); its group is root's, which the load's users take.
    let sock_dir = tempfile::Builder::new()
        .prefix("berth-ctl-load.")
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))?;
    std::fs::set_permissions(sock_dir.path(), std::fs::Permissions::from_mode(0o711))
        .map_err(|e| format!("chmod: {e}"))?;
    let socket = sock_dir.path().join("control.sock");

    let lab = Lab::new().map_err(|e| format!("lab: {e:#}"))?;
    let mut cfg = ServerConfig::lab()
        .pool("192.0.2.10", "192.0.2.250")
        .lease("1h")
        // perfdhcp is a relay.
        .relay("192.0.2.0/24");
    cfg.server_extra = "arp = false\ncontrol_idle_timeout = \"5s\"".into();
    cfg.control_socket = Some(socket.clone());
    cfg.control_group = Some("root".into());
    let mut wide = cfg.clone();
    wide.server_extra += "\ncontrol_max_connections = 1100";
    let mut berthd = Daemon::start(&lab, &wide).map_err(|e| format!("berthd: {e:#}"))?;
    let perf = lab.add_client(None).map_err(|e| format!("ns: {e:#}"))?;
    perf.add_addr("192.0.2.2/24")
        .map_err(|e| format!("address: {e:#}"))?;
    println!(
        "ctl_load: perfdhcp -r {} -R 200 -p {}; {} control clients from {USERS} users, one round \
         (status, leases, events_since) each per {} ms; control_idle_timeout 5s",
        s.rate, s.secs, s.clients, s.interval_ms
    );

    let idle = phase("idle", &s, &socket, &perf, false, false);
    print(&idle, &s);
    let within = phase(
        "1000 clients, control_max_connections = 1100",
        &s,
        &socket,
        &perf,
        true,
        false,
    );
    print(&within, &s);

    std::fs::write(berthd.config_path(), cfg.to_toml_in(berthd.dir()))
        .map_err(|e| format!("config: {e}"))?;
    berthd
        .restart()
        .map_err(|e| format!("restart with the default limits: {e:#}"))?;
    let limited = phase(
        "1000 clients + one user with 100, default limits (256 in all, 32 per user)",
        &s,
        &socket,
        &perf,
        true,
        true,
    );
    print(&limited, &s);
    let refusals = berthd
        .run_log()
        .matches("control connection refused")
        .count();
    println!("ctl_load: berthd logged {refusals} refused control connections");
    berthd.stop().map_err(|e| format!("stop: {e:#}"))?;
    Ok(())
}
