//! What the comparison needs on the machine: perfdhcp and kea-dhcp4
//! installed (like contrib/dev/test.sh, through apt-get), and no system Kea
//! service left running by the package's install.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Result, bail};
use berth_tests::kea::KEA_DHCP4;
use berth_tests::perfdhcp::PERFDHCP;
use berth_tests::process::run_output;
use berth_tests::procstat::udp_table_has_port;

use crate::servers::{Kind, Setup};

/// Installs kea-admin (perfdhcp) and, when Kea is compared,
/// kea-dhcp4-server, if missing.
pub fn ensure_tools(servers: &[Kind]) -> Result<()> {
    let mut missing = Vec::new();
    if !Path::new(PERFDHCP).is_file() {
        missing.push("kea-admin");
    }
    if servers.contains(&Kind::Kea) && !Path::new(KEA_DHCP4).is_file() {
        missing.push("kea-dhcp4-server");
    }
    if missing.is_empty() {
        return Ok(());
    }
    println!("compare: installing {}", missing.join(" "));
    let apt = |args: &[&str]| -> Result<()> {
        let mut c = Command::new("apt-get");
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        let out = run_output(&mut c, Duration::from_secs(600))?;
        if !out.status.success() {
            bail!(
                "apt-get {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    };
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)?;
    Ok(())
}

/// Debian's kea-dhcp4-server enables (and on a systemd machine starts) a
/// system service on install. The bench runs its own Kea in the lab only,
/// so a running system one is stopped and disabled, and anything bound to
/// port 67 in the root namespace is reported.
pub fn keep_system_kea_down() {
    let systemctl = |args: &[&str]| {
        run_output(
            Command::new("systemctl").args(args),
            Duration::from_secs(30),
        )
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
    };
    if systemctl(&["is-active", "kea-dhcp4-server"]) == "active" {
        println!(
            "compare: the kea-dhcp4-server package started a system service; stopping and disabling it"
        );
        systemctl(&["stop", "kea-dhcp4-server"]);
        systemctl(&["disable", "kea-dhcp4-server"]);
    }
    if fs::read_to_string("/proc/net/udp").is_ok_and(|t| udp_table_has_port(&t, 67)) {
        println!(
            "compare: WARNING: something in the root namespace is bound to UDP port 67 \
             (not started by this bench; the bench's servers run in their own namespace)"
        );
    }
}

fn first_line(cmd: &mut Command) -> String {
    run_output(cmd, Duration::from_secs(10))
        .map(|o| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines().next().unwrap_or_default().trim().to_string()
        })
        .unwrap_or_else(|_| "?".into())
}

/// What the figures came from: machine, binaries, workload.
pub fn print_header(s: &Setup, knobs: &str) {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "compare: machine: {cores} cores, {cpu}, kernel {}",
        first_line(Command::new("uname").arg("-r"))
    );
    let profile = s
        .berthd_bin
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!(
        "compare: berthd {}{}",
        s.berthd_bin.display(),
        if profile == "debug" {
            " (WARNING: a debug build; its figures mean little)"
        } else {
            ""
        }
    );
    if Path::new(KEA_DHCP4).is_file() {
        println!(
            "compare: kea-dhcp4 {}",
            first_line(Command::new(KEA_DHCP4).arg("-v"))
        );
    }
    println!("compare: stateless {}", s.stateless_bin.display());
    println!(
        "compare: subnet {} (lab namespaces only), pool {}-{} ({} addresses), leases {} s",
        s.net.subnet_cidr(),
        s.pool_start(),
        s.pool_end(),
        s.pool_size,
        s.lease_secs
    );
    println!("compare: {knobs}");
}
