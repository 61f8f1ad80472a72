//! Stable costs per DORA: system calls and context switches of each server
//! over a fixed perfdhcp run, counted by the kernel (`perf stat` on the
//! `raw_syscalls:sys_enter` tracepoint), plus CPU time, and the write
//! requests, cache flushes and bytes of the disk under the temp directory
//! (where every server keeps its store; set `TMPDIR` to measure another
//! file system). Unlike rates and latencies these hardly move when other
//! work shares the machine.
//!
//! Run (as root):
//! `cargo build --release --workspace --bins && cargo bench -p berth-tests --bench cost`
//!
//! Same bed and workload as the compare bench (perfdhcp as a relay in its
//! own namespace, one /16, a pool of 60,000, 3600 s leases, fresh store).
//! Environment: `BENCH_SERVERS` (default `berthd,kea,stateless`),
//! `BENCH_RATE` (500 exchanges/s), `BENCH_SECS` (10), `BENCH_CLIENTS`
//! (50000), `BENCH_STRACE=1` (also a per-call breakdown from `strace -c -f`,
//! which slows the server: its counts stand, its rate does not),
//! `BERTHD_BIN`, `BENCH_VERBOSE`, `BENCH_FILL` (0; N > 0: afterwards,
//! fill each server with N leases through the `filler` program and print
//! its memory: VmRSS, VmHWM and the anonymous and file-backed parts).
//! Memory is the other stable figure: run with `BENCH_FILL=50000`.
//! `BENCH_CALLGRIND=1` runs berthd under `valgrind --tool=callgrind`
//! (through `contrib/dev/callgrind-berthd.sh`) and adds the instructions
//! it executed per completed DORA, all threads, counted from just before
//! perfdhcp starts to just after it ends: the steadiest figure of all.
//! Valgrind slows berthd some fifty times, so keep `BENCH_RATE` low (100)
//! and the servers to `berthd`. `BENCH_CALLGRIND_OUT=FILE` keeps the dump
//! there, for `callgrind_annotate`.

#[path = "compare/servers.rs"]
#[allow(dead_code)]
mod servers;

use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use berth_tests::bench::env_u32;
use berth_tests::diskstat::{Disk, DiskCounts};
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::process::Proc;
use berth_tests::{Lab, LabNet, berthd_bin, procstat, require_tools, root_or_skip};
use nix::sys::signal::Signal;
use servers::{Kind, Server, Setup};

const POOL_OFFSET: u32 = 256;
const POOL_SIZE: u32 = 60_000;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cost bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What one counted run gave.
struct Counted {
    completed: u64,
    /// Instructions executed while perfdhcp ran (`BENCH_CALLGRIND`).
    instructions: Option<u64>,
    syscalls: u64,
    switches: u64,
    cpu_secs: f64,
    /// What the disk under the servers' stores wrote meanwhile.
    disk: Option<DiskCounts>,
    strace: Option<String>,
}

fn run() -> Result<()> {
    if !root_or_skip("bench cost") {
        return Ok(());
    }
    require_tools(&["perfdhcp", "perf", "ip"]);
    let servers = match std::env::var("BENCH_SERVERS") {
        Err(_) => Kind::ALL.to_vec(),
        Ok(v) => v
            .split(',')
            .map(|s| Kind::parse(s).with_context(|| format!("BENCH_SERVERS: unknown {s:?}")))
            .collect::<Result<Vec<_>>>()?,
    };
    let strace = std::env::var_os("BENCH_STRACE").is_some();
    if strace {
        require_tools(&["strace"]);
    }
    let callgrind = match std::env::var_os("BENCH_CALLGRIND") {
        Some(_) => Some(under_callgrind()?),
        None => None,
    };
    let run = PerfdhcpRun {
        rate: env_u32("BENCH_RATE", 500)?,
        clients: env_u32("BENCH_CLIENTS", 50_000)?.min(POOL_SIZE),
        seconds: env_u32("BENCH_SECS", 10)?,
    };
    let setup = Setup {
        net: LabNet::BENCH16,
        pool_offset: POOL_OFFSET,
        pool_size: POOL_SIZE,
        lease_secs: 3600,
        kea_severity: "INFO".into(),
        berthd_bin: berthd_bin(),
        stateless_bin: env!("CARGO_BIN_EXE_stateless").into(),
        filler_bin: env!("CARGO_BIN_EXE_filler").into(),
    };
    println!(
        "cost: berthd {}; perfdhcp {}/s for {} s, {} clients{}",
        setup.berthd_bin.display(),
        run.rate,
        run.seconds,
        run.clients,
        if strace { "; strace -c -f" } else { "" }
    );
    let lab = Lab::with_net(setup.net).context("lab")?;
    let client = setup.relay_namespace(&lab)?;
    let verbose = std::env::var_os("BENCH_VERBOSE").is_some();
    // Every server's store is made under the temp directory.
    let disk = match Disk::under(&std::env::temp_dir()) {
        Ok(d) => Some(d),
        Err(e) => {
            println!("cost: no disk counts: {e:#}");
            None
        }
    };

    let mut rows = Vec::new();
    for &kind in &servers {
        let callgrind = callgrind.as_ref().filter(|_| kind == Kind::Berthd);
        let how = How {
            strace,
            callgrind,
            verbose,
            disk: disk.as_ref(),
        };
        let c = counted(kind, &lab, &client, &setup, &run, how)?;
        println!(
            "cost:   {kind:<9} {} DORA: {} syscalls, {} context switches, {:.2} s CPU{}",
            c.completed,
            c.syscalls,
            c.switches,
            c.cpu_secs,
            c.instructions
                .map(|i| format!(", {i} instructions"))
                .unwrap_or_default()
        );
        if let Some(s) = &c.strace {
            println!("{s}");
        }
        rows.push((kind, c));
    }
    let fill = env_u32("BENCH_FILL", 0)?.min(POOL_SIZE);
    if fill > 0 {
        for &kind in &servers {
            filled_memory(kind, &lab, &client, &setup, fill)?;
        }
    }
    println!(
        "\n| per completed DORA | syscalls | context switches | CPU ms | instructions | disk writes | disk flushes | KiB written |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (kind, c) in &rows {
        let per = |v: f64| {
            if c.completed == 0 {
                f64::NAN
            } else {
                v / c.completed as f64
            }
        };
        let disk = |f: fn(&DiskCounts) -> f64, digits: usize| {
            c.disk
                .as_ref()
                .map(|d| format!("{:.digits$}", per(f(d))))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "| {kind} | {:.1} | {:.2} | {:.3} | {} | {} | {} | {} |",
            per(c.syscalls as f64),
            per(c.switches as f64),
            per(c.cpu_secs * 1000.0),
            c.instructions
                .map(|i| format!("{:.0}", per(i as f64)))
                .unwrap_or_else(|| "-".into()),
            disk(|d| d.writes as f64, 2),
            disk(|d| d.flushes as f64, 2),
            disk(|d| d.sectors as f64 / 2.0, 1),
        );
    }
    Ok(())
}

/// What a counted run watches besides perf's counts.
#[derive(Clone, Copy)]
struct How<'a> {
    strace: bool,
    callgrind: Option<&'a Callgrind>,
    verbose: bool,
    disk: Option<&'a Disk>,
}

/// Where callgrind's counts go, while berthd runs under it.
struct Callgrind {
    out: tempfile::TempDir,
}

/// Points `BERTHD_BIN` at the callgrind wrapper (see the module docs).
fn under_callgrind() -> Result<Callgrind> {
    require_tools(&["valgrind", "callgrind_control"]);
    let out = tempfile::tempdir().context("tempdir for callgrind")?;
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/dev/callgrind-berthd.sh");
    let real = berthd_bin();
    // SAFETY: called from `run` before the bench starts any thread; the
    // servers it spawns inherit the variables.
    unsafe {
        std::env::set_var("CALLGRIND_BERTHD", &real);
        std::env::set_var("CALLGRIND_OUT", out.path());
        std::env::set_var("BERTHD_BIN", &wrapper);
    }
    Ok(Callgrind { out })
}

impl Callgrind {
    /// `callgrind_control -z` (zero the counts) or `-d` (dump them).
    fn control(&self, flag: &str, pid: &str) -> Result<()> {
        let out = berth_tests::process::run_output(
            Command::new("callgrind_control").args([flag, pid]),
            Duration::from_secs(30),
        )?;
        if !out.status.success() {
            bail!(
                "callgrind_control {flag} {pid}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// The instructions of berthd `pid`'s first dump.
    fn dumped(&self, pid: &str) -> Result<u64> {
        let path = self.out.path().join(format!("berthd.{pid}.1"));
        let text = fs::read_to_string(&path)
            .with_context(|| format!("callgrind wrote no dump {}", path.display()))?;
        if let Some(keep) = std::env::var_os("BENCH_CALLGRIND_OUT") {
            fs::write(&keep, &text).with_context(|| format!("writing {keep:?}"))?;
        }
        text.lines()
            .find_map(|l| l.strip_prefix("summary:"))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("no summary line in {}", path.display()))
    }
}

fn counted(
    kind: Kind,
    lab: &Lab,
    client: &berth_tests::ClientNs,
    setup: &Setup,
    run: &PerfdhcpRun,
    how: How<'_>,
) -> Result<Counted> {
    let How {
        strace,
        callgrind,
        verbose,
        disk,
    } = how;
    let dir = tempfile::tempdir().context("tempdir")?;
    let server = Server::start(kind, lab, setup).with_context(|| format!("starting {kind}"))?;
    let pid = server.pid()?.to_string();
    let counts = dir.path().join("perf.csv");
    let mut perf = Proc::spawn(
        "perf stat",
        Command::new("perf")
            .args(["stat", "-x,", "-o"])
            .arg(&counts)
            .args(["-e", "raw_syscalls:sys_enter,context-switches", "-p", &pid]),
        &dir.path().join("perf.log"),
    )?;
    let trace = dir.path().join("strace.txt");
    let mut tracer = if strace {
        Some(Proc::spawn(
            "strace",
            Command::new("strace")
                .args(["-c", "-f", "-S", "calls", "-o"])
                .arg(&trace)
                .args(["-p", &pid]),
            &dir.path().join("strace.log"),
        )?)
    } else {
        None
    };
    // Both attach within a moment; the idle server makes few calls meanwhile.
    std::thread::sleep(Duration::from_millis(500));
    let cpu0 = procstat::cpu_seconds(server.pid()?)?;
    let disk0 = disk.map(Disk::counts).transpose()?;
    if let Some(cg) = callgrind {
        cg.control("-z", &pid)?;
    }
    let outcome = perfdhcp::run(client, run);
    if let Some(cg) = callgrind {
        cg.control("-d", &pid)?;
    }
    let cpu1 = procstat::cpu_seconds(server.pid()?);
    let disk1 = disk.map(Disk::counts).transpose()?;
    for p in tracer.iter_mut().chain([&mut perf]) {
        p.signal(Signal::SIGINT)?;
        p.wait_exit(Duration::from_secs(10))?;
    }
    let (report, text) = match outcome {
        Ok(r) => r,
        Err(e) => return Err(server.fail(e, &format!("perfdhcp against {kind}"))),
    };
    server.stop().with_context(|| format!("stopping {kind}"))?;
    if verbose {
        println!("{text}");
    }
    let (syscalls, switches) =
        parse_perf_csv(&fs::read_to_string(&counts).with_context(|| {
            format!(
                "perf stat wrote nothing: {}",
                berth_tests::process::read_log(&dir.path().join("perf.log"))
            )
        })?)?;
    let instructions = callgrind.map(|cg| cg.dumped(&pid)).transpose()?;
    Ok(Counted {
        completed: report.completed(),
        instructions,
        syscalls,
        switches,
        cpu_secs: cpu1? - cpu0,
        disk: disk1.zip(disk0).map(|(b, a)| b.since(a)),
        strace: strace.then(|| top_lines(&trace, 16)),
    })
}

/// `perf stat -x,` lines: `VALUE,UNIT,EVENT,...`.
fn parse_perf_csv(text: &str) -> Result<(u64, u64)> {
    let find = |event: &str| {
        text.lines().find_map(|l| {
            let mut f = l.split(',');
            let v = f.next()?.trim().parse::<u64>().ok()?;
            let _unit = f.next()?;
            (f.next()? == event).then_some(v)
        })
    };
    match (find("raw_syscalls:sys_enter"), find("context-switches")) {
        (Some(s), Some(c)) => Ok((s, c)),
        _ => bail!("cannot read perf stat's counts from {text:?}"),
    }
}

/// The head of strace's summary table.
fn top_lines(path: &Path, n: usize) -> String {
    fs::read_to_string(path)
        .map(|t| t.lines().take(n + 2).collect::<Vec<_>>().join("\n"))
        .unwrap_or_else(|e| format!("(no strace summary: {e})"))
}

/// Fills a fresh `kind` with `n` leases and prints its memory.
fn filled_memory(
    kind: Kind,
    lab: &Lab,
    client: &berth_tests::ClientNs,
    setup: &Setup,
    n: u32,
) -> Result<()> {
    let server = Server::start(kind, lab, setup).with_context(|| format!("starting {kind}"))?;
    let pid = server.pid()?;
    let mut cmd = berth_tests::netns::netns_command(client.name(), &setup.filler_bin);
    cmd.args(["--relay", &setup.relay().to_string()])
        .args(["--server", &setup.net.server_ip.to_string()])
        .args(["--clients", &n.to_string()])
        .args(["--max-seconds", "300"]);
    let out = berth_tests::process::run_output(&mut cmd, Duration::from_secs(330));
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| format!("filler failed: {e:#}"));
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    println!(
        "cost:   {kind:<9} {text}; VmRSS {}, VmHWM {}, RssAnon {}, RssFile {}, threads {}",
        field(&status, "VmRSS:"),
        field(&status, "VmHWM:"),
        field(&status, "RssAnon:"),
        field(&status, "RssFile:"),
        field(&status, "Threads:"),
    );
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        println!("{rollup}");
    }
    server.stop().with_context(|| format!("stopping {kind}"))?;
    Ok(())
}
