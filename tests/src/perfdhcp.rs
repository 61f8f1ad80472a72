//! ISC perfdhcp (Debian package kea-admin) in a client namespace, and the
//! parsing of its final report.
//!
//! For DHCPv4, perfdhcp behaves like a relay: it sends from port 67 with
//! giaddr set to its own address, and the server answers giaddr:67. The
//! client namespace therefore needs an address in the lab subnet.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use crate::netns::{ClientNs, netns_command};
use crate::process::run_output;

/// Where Debian installs perfdhcp.
pub const PERFDHCP: &str = "/usr/sbin/perfdhcp";

/// One perfdhcp run.
#[derive(Debug, Clone)]
pub struct PerfdhcpRun {
    /// Exchanges initiated per second (`-r`).
    pub rate: u32,
    /// Distinct simulated clients (`-R`).
    pub clients: u32,
    /// Test period in seconds (`-p`).
    pub seconds: u32,
}

/// Counters and delays of one exchange type (DISCOVER-OFFER or REQUEST-ACK).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExchangeStats {
    pub sent: u64,
    pub received: u64,
    pub drops: u64,
    /// Delays in milliseconds, request sent to reply received; `None` when
    /// perfdhcp printed none (no reply received).
    pub min_delay_ms: Option<f64>,
    pub avg_delay_ms: Option<f64>,
    pub max_delay_ms: Option<f64>,
}

/// perfdhcp's final report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PerfdhcpReport {
    /// perfdhcp's own "Rate: N 4-way exchanges/second".
    pub rate: Option<f64>,
    pub discover_offer: ExchangeStats,
    pub request_ack: ExchangeStats,
}

impl PerfdhcpReport {
    /// Completed DORA exchanges (ACKs received).
    pub fn completed(&self) -> u64 {
        self.request_ack.received
    }

    /// Requests that got no answer, in either half of the exchange.
    pub fn drops(&self) -> u64 {
        self.discover_offer.drops + self.request_ack.drops
    }

    /// [`PerfdhcpReport::drops`] as a share of the exchanges started
    /// (DISCOVERs sent), 0.0..=1.0; 1.0 when nothing was sent.
    pub fn drop_ratio(&self) -> f64 {
        if self.discover_offer.sent == 0 {
            return 1.0;
        }
        self.drops() as f64 / self.discover_offer.sent as f64
    }
}

/// `"0.110 ms"` -> 0.110.
fn parse_ms(v: &str) -> Option<f64> {
    v.trim().strip_suffix("ms")?.trim().parse().ok()
}

/// Parses perfdhcp's report text.
pub fn parse_report(text: &str) -> Result<PerfdhcpReport> {
    let mut r = PerfdhcpReport::default();
    let mut section: Option<&str> = None;
    let mut seen = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("***Statistics for:") {
            section = Some(if rest.contains("DISCOVER-OFFER") {
                "DO"
            } else if rest.contains("REQUEST-ACK") {
                "RA"
            } else {
                "other"
            });
            seen = true;
            continue;
        }
        if line.starts_with("***") {
            section = None;
        }
        if let Some(rest) = line.strip_prefix("Rate:") {
            r.rate = rest
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok());
            continue;
        }
        let stats = match section {
            Some("DO") => &mut r.discover_offer,
            Some("RA") => &mut r.request_ack,
            _ => continue,
        };
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let delay = match k.trim() {
            "min delay" => Some(&mut stats.min_delay_ms),
            "avg delay" => Some(&mut stats.avg_delay_ms),
            "max delay" => Some(&mut stats.max_delay_ms),
            _ => None,
        };
        if let Some(slot) = delay {
            *slot = parse_ms(v);
            continue;
        }
        let Ok(v) = v.trim().parse::<u64>() else {
            continue;
        };
        match k.trim() {
            "sent packets" => stats.sent = v,
            "received packets" => stats.received = v,
            "drops" => stats.drops = v,
            _ => {}
        }
    }
    if !seen {
        bail!("no '***Statistics for:' section in perfdhcp output");
    }
    Ok(r)
}

/// Runs perfdhcp on `client`'s interface (which needs an address in the
/// server's subnet), bounded to the test period plus a margin.
/// Returns the report and perfdhcp's full output.
pub fn run(client: &ClientNs, run: &PerfdhcpRun) -> Result<(PerfdhcpReport, String)> {
    let bin = PathBuf::from(PERFDHCP);
    if !bin.is_file() {
        bail!("{PERFDHCP} not found: install kea-admin (contrib/dev/test.sh does)");
    }
    let mut cmd = netns_command(client.name(), &bin);
    cmd.args(["-4", "-l", client.iface()])
        .arg("-r")
        .arg(run.rate.to_string())
        .arg("-R")
        .arg(run.clients.to_string())
        .arg("-p")
        .arg(run.seconds.to_string());
    let bound = Duration::from_secs(u64::from(run.seconds) + 30);
    let out = run_output(&mut cmd, bound).context("perfdhcp")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // 0: fine; 3: finished, but some packets were dropped.
    match out.status.code() {
        Some(0) | Some(3) => {}
        _ => return Err(anyhow!("perfdhcp failed ({}):\n{text}", out.status)),
    }
    let report = parse_report(&text).with_context(|| format!("perfdhcp output:\n{text}"))?;
    Ok((report, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Running: perfdhcp -4 -l eth0 -r 3000 -R 200 -p 5
Scenario: basic.
***Rate statistics***
Rate: 2671.18 4-way exchanges/second, expected rate: 3000

***Malformed Packets***
Malformed packets: 0
***Statistics for: DISCOVER-OFFER***
sent packets: 14999
received packets: 13575
drops: 1424
drops ratio: 9.49 %
orphans: 0

min delay: 0.110 ms
avg delay: 0.293 ms
max delay: 11.592 ms
std deviation: 0.376 ms
collected packets: 0
***Statistics for: REQUEST-ACK***
sent packets: 13575
received packets: 13359
drops: 216
drops ratio: 1.59 %
orphans: 0

min delay: 0.098 ms
avg delay: 0.250 ms
max delay: 9.004 ms
std deviation: 0.301 ms
collected packets: 0
";

    #[test]
    fn parses_report() {
        let r = parse_report(SAMPLE).expect("report");
        assert_eq!(r.rate, Some(2671.18));
        assert_eq!(
            r.discover_offer,
            ExchangeStats {
                sent: 14999,
                received: 13575,
                drops: 1424,
                min_delay_ms: Some(0.110),
                avg_delay_ms: Some(0.293),
                max_delay_ms: Some(11.592),
            }
        );
        assert_eq!(r.request_ack.received, 13359);
        assert_eq!(r.request_ack.avg_delay_ms, Some(0.250));
        assert_eq!(r.request_ack.max_delay_ms, Some(9.004));
        assert_eq!(r.completed(), 13359);
        assert_eq!(r.drops(), 1640);
        assert!((r.drop_ratio() - 1640.0 / 14999.0).abs() < 1e-12);
    }

    #[test]
    fn delays_without_replies_are_none() {
        let r = parse_report(
            "***Statistics for: DISCOVER-OFFER***
sent packets: 10
received packets: 0
drops: 10
Delay summary unavailable! No packets received.
",
        )
        .expect("report");
        assert_eq!(r.discover_offer.avg_delay_ms, None);
        assert_eq!(r.drop_ratio(), 1.0);
        assert_eq!(PerfdhcpReport::default().drop_ratio(), 1.0);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_report("perfdhcp: error").is_err());
    }
}
