//! berthd on SQLite, on PostgreSQL, and two berthd sharing one PostgreSQL,
//! side by side: the highest DORA rate with < 1 % drops, and CPU per
//! completed DORA at a fixed rate (the daemons' own, and with the
//! database server's added).
//!
//! Run (as root, PostgreSQL and perfdhcp installed):
//! `cargo build --release --workspace --bins && cargo bench -p berth-tests --bench pg`
//!
//! Bed: the lab's /16 (198.18.0.0/16, RFC 2544 benchmarking range, only
//! inside the lab's namespaces); daemon a on the server namespace's bridge
//! (198.18.0.1), daemon b in a namespace on the same bridge (198.18.0.3),
//! perfdhcp as a relay in a third (198.18.0.2); one throw-away PostgreSQL
//! cluster on a Unix socket (fsync off, as every test cluster: commits
//! still wait for their WAL write). Pool of 60,000 addresses, 3600 s
//! leases, no ARP probes, a fresh store (database) for every step. With two daemons both
//! answer every DISCOVER and the client takes one offer: each exchange costs
//! both of them an OFFER, and one of them the durable claim.
//!
//! Environment: `BERTHD_BIN` (default target/release/berthd),
//! `BENCH_SETUPS` (default `sqlite,pg1,pg2`), `BENCH_CLIENTS` (50000),
//! `BENCH_STEP_SECS` (5), `BENCH_START_RATE` (500), `BENCH_MAX_RATE`
//! (32000), `BENCH_BISECT` (2), `BENCH_FIXED_RATE` (500),
//! `BENCH_FIXED_SECS` (10), `BENCH_VERBOSE` (print perfdhcp's reports).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Result, bail};
use berth_tests::bench::env_u32;
use berth_tests::netns::CLIENT_IFACE;
use berth_tests::perfdhcp::{self, PerfdhcpReport, PerfdhcpRun};
use berth_tests::postgres::{Cluster, postgres_or_skip};
use berth_tests::procstat;
use berth_tests::ratesearch::RateSearch;
use berth_tests::{
    ClientNs, Daemon, Lab, LabNet, ServerConfig, berthd_bin, require_tools, root_or_skip,
};

const POOL_OFFSET: u32 = 256;
const POOL_SIZE: u32 = 60_000;
const DROP_LIMIT: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    Sqlite,
    Pg1,
    Pg2,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Sqlite => "berthd, SQLite",
            Setup::Pg1 => "berthd, PostgreSQL",
            Setup::Pg2 => "2 x berthd, one PostgreSQL",
        }
    }
}

/// The bed: lab, the second server's namespace, perfdhcp's, the cluster.
struct Bed {
    lab: Lab,
    b_ns: ClientNs,
    perf: ClientNs,
    pg: Cluster,
    dbs: AtomicU32,
}

/// The daemons of one step.
struct Running {
    daemons: Vec<Daemon>,
}

impl Bed {
    fn config(&self, setup: Setup) -> Result<ServerConfig> {
        let net = self.lab.net();
        let mut cfg = ServerConfig::lab_on(net)
            .pool(
                &net.host(POOL_OFFSET).to_string(),
                &net.host(POOL_OFFSET + POOL_SIZE - 1).to_string(),
            )
            .lease("1h")
            // perfdhcp is a relay on the lab's subnet.
            .relay(&net.subnet_cidr());
        // As the compare bench: no conflict probe, so no ARP sweeps or
        // pre-offer probes (a probe delays each first OFFER by 200 ms).
        cfg.server_extra = "arp = false".into();
        if setup != Setup::Sqlite {
            let n = self.dbs.fetch_add(1, Ordering::Relaxed);
            let url = self.pg.create_database(&format!("bench{n}"))?;
            cfg = cfg.postgres(&url, "");
        }
        Ok(cfg)
    }

    /// Fresh daemons (and a fresh database) for one step.
    fn start(&self, setup: Setup) -> Result<Running> {
        let cfg = self.config(setup)?;
        let mut daemons = vec![Daemon::start(&self.lab, &cfg)?];
        if setup == Setup::Pg2 {
            let mut b = cfg.clone();
            b.interfaces = vec![CLIENT_IFACE.to_string()];
            daemons.push(Daemon::start_in(self.b_ns.name(), &b)?);
        }
        Ok(Running { daemons })
    }

    fn perfdhcp(&self, rate: u32, clients: u32, seconds: u32) -> Result<PerfdhcpReport> {
        let run = PerfdhcpRun {
            rate,
            clients,
            seconds,
        };
        let (report, text) = perfdhcp::run(&self.perf, &run)?;
        if std::env::var_os("BENCH_VERBOSE").is_some() {
            println!("{text}");
        }
        Ok(report)
    }
}

/// CPU seconds used so far by the daemons, and by the database server.
fn cpu(r: &Running, pg: Option<&Cluster>) -> (f64, f64) {
    let daemons = r
        .daemons
        .iter()
        .filter_map(|d| d.pid())
        .filter_map(|pid| procstat::cpu_seconds(pid).ok())
        .sum();
    let db = pg.map_or(0.0, |pg| {
        pg.pids()
            .into_iter()
            .filter_map(|pid| procstat::cpu_seconds(pid).ok())
            .sum()
    });
    (daemons, db)
}

struct Figures {
    setup: Setup,
    max_rate: Option<u32>,
    fixed_completed: u64,
    us_per_dora: f64,
    us_per_dora_with_db: f64,
    avg_ack_ms: Option<f64>,
}

fn measure(bed: &Bed, setup: Setup) -> Result<Figures> {
    let clients = env_u32("BENCH_CLIENTS", 50_000)?;
    let step = env_u32("BENCH_STEP_SECS", 5)?;
    let mut search = RateSearch::new(
        env_u32("BENCH_START_RATE", 500)?,
        50,
        env_u32("BENCH_MAX_RATE", 32_000)?,
        env_u32("BENCH_BISECT", 2)?,
    );
    while let Some(rate) = search.next_rate() {
        let running = bed.start(setup)?;
        let r = bed.perfdhcp(rate, clients, step)?;
        drop(running);
        let passed = r.drop_ratio() < DROP_LIMIT;
        println!(
            "  {:<28} {rate:>6}/s: {:>7} completed, drops {:.2} % -> {}",
            setup.name(),
            r.completed(),
            r.drop_ratio() * 100.0,
            if passed { "pass" } else { "fail" }
        );
        search.record(rate, passed);
    }
    let fixed_rate = env_u32("BENCH_FIXED_RATE", 500)?;
    let fixed_secs = env_u32("BENCH_FIXED_SECS", 10)?;
    let running = bed.start(setup)?;
    let pg = (setup != Setup::Sqlite).then_some(&bed.pg);
    let (d0, db0) = cpu(&running, pg);
    let r = bed.perfdhcp(fixed_rate, clients, fixed_secs)?;
    let (d1, db1) = cpu(&running, pg);
    drop(running);
    let done = r.completed().max(1) as f64;
    Ok(Figures {
        setup,
        max_rate: search.best(),
        fixed_completed: r.completed(),
        us_per_dora: (d1 - d0) / done * 1e6,
        us_per_dora_with_db: ((d1 - d0) + (db1 - db0)) / done * 1e6,
        avg_ack_ms: r.request_ack.avg_delay_ms,
    })
}

fn run() -> Result<()> {
    if !root_or_skip("bench pg") || !postgres_or_skip("bench pg") {
        return Ok(());
    }
    require_tools(&["perfdhcp", "ip"]);
    println!("berthd: {}", berthd_bin().display());
    let setups = std::env::var("BENCH_SETUPS").unwrap_or_else(|_| "sqlite,pg1,pg2".into());
    let setups: Vec<Setup> = setups
        .split(',')
        .map(|s| match s.trim() {
            "sqlite" => Ok(Setup::Sqlite),
            "pg1" => Ok(Setup::Pg1),
            "pg2" => Ok(Setup::Pg2),
            other => bail!("BENCH_SETUPS: unknown setup `{other}` (sqlite, pg1, pg2)"),
        })
        .collect::<Result<_>>()?;
    let lab = Lab::with_net(LabNet::BENCH16)?;
    let net = lab.net();
    let b_ns = lab.add_client(None)?;
    b_ns.add_addr(&format!("{}/{}", net.host(3), net.prefix))?;
    let perf = lab.add_client(None)?;
    perf.add_addr(&format!("{}/{}", net.host(2), net.prefix))?;
    let bed = Bed {
        lab,
        b_ns,
        perf,
        pg: Cluster::start()?,
        dbs: AtomicU32::new(0),
    };
    let mut all = Vec::new();
    for s in setups {
        println!("{}:", s.name());
        all.push(measure(&bed, s)?);
    }
    println!(
        "\n{:<28} {:>12} {:>22} {:>22} {:>12}",
        "setup", "max DORA/s", "CPU/DORA daemons (us)", "CPU/DORA + db (us)", "avg ACK ms"
    );
    for f in &all {
        println!(
            "{:<28} {:>12} {:>22.0} {:>22.0} {:>12}",
            f.setup.name(),
            f.max_rate.map_or("-".to_string(), |r| r.to_string()),
            f.us_per_dora,
            f.us_per_dora_with_db,
            f.avg_ack_ms.map_or("-".into(), |m| format!("{m:.3}")),
        );
        if f.fixed_completed == 0 {
            println!("  (nothing completed at the fixed rate)");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pg bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
