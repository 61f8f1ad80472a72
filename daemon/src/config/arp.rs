//! `[server]`'s ARP settings: sweeps of the dynamic ranges and the probe
//! before an address's first offer.
//!
//! ```toml
//! [server]
//! arp = true                    # off switch for sweeps and probes
//! arp_sweep_interval = "10m"    # or "off": no sweeps at start, reload or on a timer
//! arp_probe_timeout = "200ms"   # or "off": no pre-offer probes
//! arp_rate = 1000               # ARP requests per second and interface
//! ```

use std::time::Duration;

use berth_proto::parse;
use toml::Spanned;

use super::Reporter;
use super::raw::{RawDuration, RawServer};

/// How the daemon uses ARP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpConfig {
    /// Sweeps and probes at all.
    pub enabled: bool,
    /// Time between periodic sweeps; `None`: no automatic sweeps (at
    /// start, after a reload, on a timer), only `berth scan`.
    pub sweep_interval: Option<Duration>,
    /// Whether an address is probed before its first offer.
    pub probe: bool,
    /// How long a probe, and a sweep after its last request, waits for
    /// answers.
    pub probe_timeout: Duration,
    /// ARP requests per second on one interface.
    pub rate: u32,
}

impl ArpConfig {
    /// Default `arp_sweep_interval`: 10 minutes.
    pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);
    /// Default `arp_probe_timeout`: 200 ms.
    pub const PROBE_TIMEOUT: Duration = Duration::from_millis(200);
    /// Default `arp_rate`.
    pub const RATE: u32 = 1000;
    const MIN_INTERVAL: Duration = Duration::from_secs(10);
    const MAX_TIMEOUT: Duration = Duration::from_secs(10);
    const MAX_RATE: i64 = 100_000;

    /// How long an observed binding lasts without being heard again: three
    /// sweep intervals, so one lost answer does not free an address in use;
    /// an hour when nothing sweeps on a timer.
    pub fn observed_ttl(&self) -> u64 {
        self.sweep_interval
            .map_or(3600, |i| i.as_secs().saturating_mul(3))
    }
}

impl Default for ArpConfig {
    fn default() -> Self {
        ArpConfig {
            enabled: true,
            sweep_interval: Some(Self::SWEEP_INTERVAL),
            probe: true,
            probe_timeout: Self::PROBE_TIMEOUT,
            rate: Self::RATE,
        }
    }
}

/// `"off"`, `"0"` or 0: `None`; `"250ms"`; or any duration the shared
/// parser takes.
fn parse_arp_duration(raw: &RawDuration) -> Result<Option<Duration>, String> {
    let d = match raw {
        RawDuration::Seconds(s) if *s < 0 => return Err(format!("{s} is negative")),
        RawDuration::Seconds(s) => Duration::from_secs(s.unsigned_abs()),
        RawDuration::Text(t) if t.trim() == "off" => return Ok(None),
        RawDuration::Text(t) => match t.trim().strip_suffix("ms") {
            Some(ms) if !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()) => {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| format!("`{t}` is too long a duration"))?;
                Duration::from_millis(ms)
            }
            _ => Duration::from_secs(
                parse::parse_duration(t).map_err(|e| format!("{e}, `250ms`, or \"off\""))?,
            ),
        },
    };
    Ok((!d.is_zero()).then_some(d))
}

fn setting(
    report: &mut Reporter<'_>,
    field: &str,
    value: &Spanned<RawDuration>,
) -> Option<Option<Duration>> {
    parse_arp_duration(value.get_ref())
        .map_err(|e| report.error(value.span(), format!("{field}: {e}")))
        .ok()
}

/// The ARP settings of `raw`, reporting what is wrong.
pub(super) fn arp(raw: &RawServer, report: &mut Reporter<'_>) -> ArpConfig {
    let mut arp = ArpConfig {
        enabled: raw.arp.unwrap_or(true),
        ..ArpConfig::default()
    };
    if let Some(v) = &raw.arp_sweep_interval
        && let Some(interval) = setting(report, "arp_sweep_interval", v)
    {
        match interval {
            Some(i) if i < ArpConfig::MIN_INTERVAL => report.error(
                v.span(),
                "arp_sweep_interval: sweep at most every 10s (or \"off\")",
            ),
            i => arp.sweep_interval = i,
        }
    }
    if let Some(v) = &raw.arp_probe_timeout
        && let Some(timeout) = setting(report, "arp_probe_timeout", v)
    {
        match timeout {
            None => arp.probe = false,
            Some(t) if t > ArpConfig::MAX_TIMEOUT => report.error(
                v.span(),
                "arp_probe_timeout: at most 10s (the client waits for the offer)",
            ),
            Some(t) => arp.probe_timeout = t,
        }
    }
    if let Some(n) = &raw.arp_rate {
        match u32::try_from(*n.get_ref()) {
            Ok(r) if (1..=ArpConfig::MAX_RATE).contains(&i64::from(r)) => arp.rate = r,
            _ => report.error(
                n.span(),
                format!(
                    "arp_rate: {} is not between 1 and {} requests per second",
                    n.get_ref(),
                    ArpConfig::MAX_RATE
                ),
            ),
        }
    }
    arp
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn server(keys: &str) -> Result<ArpConfig, String> {
        let text = format!("[server]\ninterfaces = [\"eth1\"]\n{keys}\n");
        crate::config::parse(&text, Path::new("berthd.toml"))
            .map(|c| c.server.arp)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_sweep_every_ten_minutes_and_probe_for_200ms() {
        let a = server("").expect("config");
        assert_eq!(a, ArpConfig::default());
        assert!(a.enabled && a.probe);
        assert_eq!(a.sweep_interval, Some(Duration::from_secs(600)));
        assert_eq!(a.probe_timeout, Duration::from_millis(200));
        assert_eq!(a.observed_ttl(), 1800);
    }

    #[test]
    fn milliseconds_durations_and_off() {
        let a = server("arp_sweep_interval = \"1h\"\narp_probe_timeout = \"350ms\"\narp_rate = 50")
            .expect("config");
        assert_eq!(a.sweep_interval, Some(Duration::from_secs(3600)));
        assert_eq!(a.probe_timeout, Duration::from_millis(350));
        assert_eq!(a.rate, 50);
        let off =
            server("arp_sweep_interval = \"off\"\narp_probe_timeout = \"off\"").expect("config");
        assert_eq!(off.sweep_interval, None);
        assert!(!off.probe);
        assert_eq!(off.observed_ttl(), 3600);
        assert!(!server("arp = false").expect("config").enabled);
        assert_eq!(
            server("arp_sweep_interval = 0")
                .expect("config")
                .sweep_interval,
            None
        );
    }

    #[test]
    fn bad_values_name_file_line_and_column() {
        let e = server("arp_probe_timeout = \"2 fortnights\"").expect_err("bad");
        assert!(e.contains("berthd.toml:3:21"), "{e}");
        assert!(e.contains("arp_probe_timeout"), "{e}");
        let e = server("arp_probe_timeout = \"1m\"").expect_err("too long");
        assert!(e.contains("at most 10s"), "{e}");
        let e = server("arp_sweep_interval = \"5s\"").expect_err("too often");
        assert!(e.contains("berthd.toml:3:"), "{e}");
        let e = server("arp_rate = 0").expect_err("zero rate");
        assert!(e.contains("arp_rate: 0 is not between 1 and 100000"), "{e}");
    }
}
