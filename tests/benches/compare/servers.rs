//! The three servers the comparison runs, each started fresh (new store,
//! new lease file) in the lab's server namespace for every step.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use berth_tests::kea::{Kea, KeaConfig};
use berth_tests::netns::netns_command;
use berth_tests::process::Proc;
use berth_tests::procstat::wait_udp_bound;
use berth_tests::{ClientNs, Daemon, Lab, LabNet, ServerConfig};
use tempfile::TempDir;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Berthd,
    Kea,
    Stateless,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Berthd, Kind::Kea, Kind::Stateless];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Berthd => "berthd",
            Kind::Kea => "kea",
            Kind::Stateless => "stateless",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s.trim())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// What every server is told to hand out: one subnet, one pool, one lease time.
#[derive(Debug, Clone)]
pub struct Setup {
    pub net: LabNet,
    /// Pool start as an offset from the network address.
    pub pool_offset: u32,
    pub pool_size: u32,
    pub lease_secs: u32,
    /// Kea's logger severity.
    pub kea_severity: String,
    pub berthd_bin: PathBuf,
    pub stateless_bin: PathBuf,
    pub filler_bin: PathBuf,
}

/// perfdhcp's (and the filler's) host number on the lab's subnet: they
/// act as the relay there.
const RELAY_HOST: u32 = 2;

impl Setup {
    /// The load generators' relay address.
    pub fn relay(&self) -> Ipv4Addr {
        self.net.host(RELAY_HOST)
    }

    /// A client namespace of `lab` holding the relay address, for perfdhcp
    /// and the filler. Goes with the lab.
    pub fn relay_namespace(&self, lab: &Lab) -> Result<ClientNs> {
        let ns = lab.add_client(None).context("perfdhcp's namespace")?;
        ns.add_addr(&format!("{}/{}", self.relay(), self.net.prefix))
            .context("perfdhcp's address")?;
        Ok(ns)
    }

    pub fn pool_start(&self) -> String {
        self.net.host(self.pool_offset).to_string()
    }

    pub fn pool_end(&self) -> String {
        self.net
            .host(self.pool_offset + self.pool_size - 1)
            .to_string()
    }
}

/// One running server.
pub enum Server {
    Berthd(Daemon),
    Kea(Kea),
    Stateless { proc: Proc, _dir: TempDir },
}

impl Server {
    /// Starts a fresh `kind` (empty store) and waits until it serves.
    pub fn start(kind: Kind, lab: &Lab, s: &Setup) -> Result<Server> {
        match kind {
            Kind::Berthd => {
                let mut cfg = ServerConfig::lab_on(s.net)
                    .pool(&s.pool_start(), &s.pool_end())
                    .lease(&format!("{}s", s.lease_secs))
                    // perfdhcp and the filler are relays on the lab's subnet.
                    .relay(&s.net.subnet_cidr());
                // Same options as the others: mask, router, DNS.
                if let Some(sub) = cfg.subnets.first_mut() {
                    sub.domain_name = None;
                }
                // The workload has no conflict probe (Kea does none): no
                // ARP sweeps or pre-offer probes either.
                cfg.server_extra = "arp = false".into();
                // `BENCH_BERTHD_SERVER`: more `[server]` lines, e.g.
                // "commit_delay_us = 1000", to measure a setting.
                if let Ok(extra) = std::env::var("BENCH_BERTHD_SERVER") {
                    cfg.server_extra.push('\n');
                    cfg.server_extra.push_str(&extra);
                }
                Ok(Server::Berthd(Daemon::start(lab, &cfg)?))
            }
            Kind::Kea => Ok(Server::Kea(Kea::start(
                lab,
                &KeaConfig {
                    subnet: s.net.subnet_cidr(),
                    pool: (s.pool_start(), s.pool_end()),
                    router: s.net.server_ip.to_string(),
                    lease_secs: s.lease_secs,
                    severity: s.kea_severity.clone(),
                },
            )?)),
            Kind::Stateless => start_stateless(lab, s),
        }
    }

    pub fn pid(&self) -> Result<u32> {
        match self {
            Server::Berthd(d) => d.pid().ok_or_else(|| anyhow!("berthd is not running")),
            Server::Kea(k) => Ok(k.pid()),
            Server::Stateless { proc, .. } => Ok(proc.pid()),
        }
    }

    /// Leases the server holds (bound ones), where it keeps any.
    pub fn leases(&self) -> Option<usize> {
        match self {
            Server::Berthd(d) => berthd_bound_leases(d.store_path()).ok(),
            Server::Kea(k) => k.lease_count().ok(),
            Server::Stateless { .. } => None,
        }
    }

    /// The server's log, for error reports.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = match self {
            Server::Berthd(d) => d.run_log(),
            Server::Kea(k) => k.log(),
            Server::Stateless { proc, .. } => proc.log(),
        };
        berth_tests::process::tail(&log, lines)
    }

    /// Stops the server after `e` went wrong while it ran, and adds its
    /// log's tail to the error.
    pub fn fail(self, e: anyhow::Error, what: &str) -> anyhow::Error {
        let tail = self.log_tail(30);
        let _ = self.stop();
        e.context(format!("{what}; the server's log:\n{tail}"))
    }

    /// Stops the server (SIGTERM, bounded wait, SIGKILL).
    pub fn stop(self) -> Result<()> {
        match self {
            Server::Berthd(mut d) => d.stop().map(drop),
            Server::Kea(k) => k.stop(),
            Server::Stateless { mut proc, .. } => proc.terminate(Duration::from_secs(5)).map(drop),
        }
    }
}

fn start_stateless(lab: &Lab, s: &Setup) -> Result<Server> {
    let dir = tempfile::Builder::new()
        .prefix("berth-stateless.")
        .tempdir()
        .context("cannot create tempdir")?;
    let mut cmd = netns_command(lab.server_ns(), &s.stateless_bin);
    cmd.arg("--server-id")
        .arg(s.net.server_ip.to_string())
        .arg("--netmask")
        .arg(s.net.netmask().to_string())
        .arg("--pool-start")
        .arg(s.pool_start())
        .arg("--pool-size")
        .arg(s.pool_size.to_string())
        .arg("--lease")
        .arg(s.lease_secs.to_string())
        // Outlives no bench: a step is minutes at most.
        .arg("--max-seconds")
        .arg("1800");
    let mut proc = Proc::spawn("stateless", &mut cmd, &dir.path().join("stateless.log"))?;
    wait_udp_bound(&mut proc, 67, Duration::from_secs(10))?;
    Ok(Server::Stateless { proc, _dir: dir })
}

/// Bound leases in berthd's SQLite store, read while it runs (WAL).
fn berthd_bound_leases(store: &Path) -> Result<usize> {
    let conn = rusqlite::Connection::open_with_flags(
        store,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .context("cannot open berthd's store")?;
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM leases WHERE state = 'bound'",
            [],
            |r| r.get(0),
        )
        .context("cannot count berthd's leases")?;
    Ok(usize::try_from(n).unwrap_or(0))
}
