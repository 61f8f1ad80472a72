//! ISC kea-dhcp4 (Debian package kea-dhcp4-server) in a lab's server
//! namespace, for side-by-side benchmarks: memfile backend with its lease
//! file, pid file and lock file in a tempdir, no control socket, no DDNS,
//! single-threaded, and `lfc-interval` 0 so it never compacts the lease file
//! mid-run.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use tempfile::TempDir;

use crate::netns::{BRIDGE, Lab, netns_command};
use crate::process::{Proc, run_output};
use crate::procstat::wait_udp_bound;

/// Where Debian installs the server.
pub const KEA_DHCP4: &str = "/usr/sbin/kea-dhcp4";
/// How long kea-dhcp4 may take to open its sockets.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The subnet kea serves.
#[derive(Debug, Clone)]
pub struct KeaConfig {
    /// Subnet in CIDR form.
    pub subnet: String,
    /// First and last pool address.
    pub pool: (String, String),
    /// Router and DNS server given to clients.
    pub router: String,
    /// Valid lifetime, seconds.
    pub lease_secs: u32,
    /// Kea's logger severity (`INFO`, Kea's packaged default, or `WARN`, ...).
    pub severity: String,
}

impl KeaConfig {
    /// The `kea-dhcp4.conf` JSON, with files in `dir`.
    pub fn to_json(&self, dir: &Path) -> serde_json::Value {
        json!({
            "Dhcp4": {
                "interfaces-config": { "interfaces": [BRIDGE] },
                "lease-database": {
                    "type": "memfile",
                    "persist": true,
                    "name": dir.join("kea-leases4.csv"),
                    "lfc-interval": 0
                },
                "valid-lifetime": self.lease_secs,
                "renew-timer": self.lease_secs / 2,
                "rebind-timer": self.lease_secs / 8 * 7,
                "option-data": [
                    { "name": "domain-name-servers", "data": self.router }
                ],
                "subnet4": [{
                    "id": 1,
                    "subnet": self.subnet,
                    "pools": [{ "pool": format!("{} - {}", self.pool.0, self.pool.1) }],
                    "option-data": [{ "name": "routers", "data": self.router }]
                }],
                "dhcp-ddns": { "enable-updates": false },
                // Single-threaded, as Kea 2.2 ships (later versions turn it on).
                "multi-threading": { "enable-multi-threading": false },
                "loggers": [{
                    "name": "kea-dhcp4",
                    "output_options": [{ "output": "stdout" }],
                    "severity": self.severity
                }]
            }
        })
    }
}

/// kea-dhcp4 running in a lab's server namespace; dropping it stops it.
#[derive(Debug)]
pub struct Kea {
    dir: TempDir,
    proc: Proc,
}

impl Kea {
    /// Writes the config, checks it with `kea-dhcp4 -t`, starts the server in
    /// `lab`'s server namespace and waits until it has bound UDP port 67.
    pub fn start(lab: &Lab, cfg: &KeaConfig) -> Result<Kea> {
        if !Path::new(KEA_DHCP4).is_file() {
            bail!("{KEA_DHCP4} not found: install kea-dhcp4-server");
        }
        let dir = tempfile::Builder::new()
            .prefix("berth-kea.")
            .tempdir()
            .context("cannot create tempdir")?;
        let conf = dir.path().join("kea-dhcp4.conf");
        let text = serde_json::to_string_pretty(&cfg.to_json(dir.path()))
            .context("cannot render kea config")?;
        fs::write(&conf, text).context("cannot write kea config")?;

        // Even the config check runs in the lab: it must never look at the
        // root namespace's interfaces.
        let mut check = netns_command(lab.server_ns(), KEA_DHCP4);
        check.arg("-t").arg(&conf);
        env_in(&mut check, dir.path());
        let out = run_output(&mut check, Duration::from_secs(20))?;
        if !out.status.success() {
            bail!(
                "kea-dhcp4 -t rejects its config: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let mut cmd = netns_command(lab.server_ns(), KEA_DHCP4);
        cmd.arg("-c").arg(&conf);
        env_in(&mut cmd, dir.path());
        let log = dir.path().join("kea.log");
        let mut proc = Proc::spawn("kea-dhcp4", &mut cmd, &log)?;
        wait_udp_bound(&mut proc, 67, READY_TIMEOUT)?;
        Ok(Kea { dir, proc })
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// The memfile lease file.
    pub fn lease_file(&self) -> PathBuf {
        self.dir.path().join("kea-leases4.csv")
    }

    /// Distinct addresses in the lease file (memfile appends every update).
    pub fn lease_count(&self) -> Result<usize> {
        let text = fs::read_to_string(self.lease_file()).context("cannot read kea's lease file")?;
        Ok(count_csv_addresses(&text))
    }

    /// kea's output so far.
    pub fn log(&self) -> String {
        self.proc.log()
    }

    /// SIGTERM, bounded wait, SIGKILL if needed.
    pub fn stop(mut self) -> Result<()> {
        self.proc.terminate(Duration::from_secs(10))?;
        Ok(())
    }
}

/// Kea's pid file and logger lock file go to `dir`, not /run/kea.
fn env_in(cmd: &mut Command, dir: &Path) {
    cmd.env("KEA_PIDFILE_DIR", dir).env("KEA_LOCKFILE_DIR", dir);
}

/// Distinct addresses (first column) in a memfile CSV, header skipped.
pub fn count_csv_addresses(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.starts_with("address,"))
        .filter_map(|l| l.split(',').next())
        .filter(|a| !a.is_empty())
        .collect::<HashSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_no_control_socket_and_no_compaction() {
        let c = KeaConfig {
            subnet: "198.18.0.0/16".into(),
            pool: ("198.18.1.0".into(), "198.18.235.95".into()),
            router: "198.18.0.1".into(),
            lease_secs: 3600,
            severity: "INFO".into(),
        };
        let j = c.to_json(Path::new("/tmp/k"));
        let d = &j["Dhcp4"];
        assert!(d.get("control-socket").is_none());
        assert_eq!(d["lease-database"]["lfc-interval"], 0);
        assert_eq!(d["lease-database"]["name"], "/tmp/k/kea-leases4.csv");
        assert_eq!(
            d["subnet4"][0]["pools"][0]["pool"],
            "198.18.1.0 - 198.18.235.95"
        );
        assert_eq!(d["dhcp-ddns"]["enable-updates"], false);
        assert_eq!(d["valid-lifetime"], 3600);
        assert_eq!(d["multi-threading"]["enable-multi-threading"], false);
    }

    #[test]
    fn counts_distinct_addresses() {
        let t = "address,hwaddr,client_id\n198.18.1.1,aa,\n198.18.1.2,bb,\n198.18.1.1,aa,\n";
        assert_eq!(count_csv_addresses(t), 2);
        assert_eq!(count_csv_addresses(""), 0);
    }
}
