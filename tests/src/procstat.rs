//! What `/proc` says about a process the test bed started: CPU time used,
//! resident memory, and whether it has bound a UDP port (in its own network
//! namespace: `/proc/PID/net/udp` shows the namespace of PID); and how many
//! datagrams a namespace's full receive buffers dropped.

use std::fs;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::netns::netns_command;
use crate::process::{Proc, run_output, wait_until};

/// User plus system CPU time of a process (all its threads), in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    let ticks = parse_stat_ticks(&text)
        .ok_or_else(|| anyhow!("cannot parse /proc/{pid}/stat: {text:?}"))?;
    Ok(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions; it only reads a constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// utime + stime (fields 14 and 15) from a `/proc/PID/stat` line. The
/// command name (field 2) may hold spaces and parentheses, so fields are
/// counted after its last `)`.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    // After ")": field 3 (state) is index 0, so utime (14) is index 11.
    let utime: u64 = f.nth(11)?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// VmRSS: resident now.
    pub rss_kib: u64,
    /// VmHWM: the peak resident size.
    pub hwm_kib: u64,
}

/// VmRSS and VmHWM of `pid`.
pub fn memory(pid: u32) -> Result<Memory> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    parse_status_memory(&text).ok_or_else(|| anyhow!("no VmRSS/VmHWM in /proc/{pid}/status"))
}

/// VmRSS and VmHWM from `/proc/PID/status` text.
pub fn parse_status_memory(status: &str) -> Option<Memory> {
    let kib = |key: &str| {
        status.lines().find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    Some(Memory {
        rss_kib: kib("VmRSS:")?,
        hwm_kib: kib("VmHWM:")?,
    })
}

/// Whether some socket in `pid`'s network namespace is bound to UDP `port`.
pub fn udp_port_bound(pid: u32, port: u16) -> bool {
    fs::read_to_string(format!("/proc/{pid}/net/udp"))
        .map(|t| udp_table_has_port(&t, port))
        .unwrap_or(false)
}

/// Waits until `proc` has bound UDP `port` (its readiness for servers that
/// say nothing at their default log level), at most `timeout`. Fails with
/// the process's log if it exits first or the time runs out.
pub fn wait_udp_bound(proc: &mut Proc, port: u16, timeout: Duration) -> Result<()> {
    let pid = proc.pid();
    let ready = wait_until(timeout, || {
        if udp_port_bound(pid, port) {
            return Some(Ok(()));
        }
        proc.try_status().map(Err)
    });
    match ready {
        Some(Ok(())) => Ok(()),
        Some(Err(status)) => Err(anyhow!(
            "{} exited ({status}) before it bound UDP port {port}; its log:\n{}",
            proc.name(),
            proc.log()
        )),
        None => Err(anyhow!(
            "{} bound no UDP port {port} within {timeout:?}; its log:\n{}",
            proc.name(),
            proc.log()
        )),
    }
}

/// Does a `/proc/net/udp` table list a local address on `port`?
pub fn udp_table_has_port(table: &str, port: u16) -> bool {
    let want = format!("{port:04X}");
    table.lines().skip(1).any(|l| {
        l.split_whitespace()
            .nth(1)
            .and_then(|local| local.split_once(':'))
            .is_some_and(|(_, p)| p == want)
    })
}

/// Datagrams the UDP sockets of network namespace `ns` have dropped so far
/// because their receive buffer was full (`RcvbufErrors`): where a load
/// test's "drops" were lost, at the server or at the load generator.
pub fn udp_rcvbuf_errors(ns: &str) -> Result<u64> {
    let out = run_output(
        netns_command(ns, "cat").arg("/proc/net/snmp"),
        Duration::from_secs(10),
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_udp_rcvbuf_errors(&text)
        .ok_or_else(|| anyhow!("no Udp RcvbufErrors in {ns}'s /proc/net/snmp: {text:?}"))
}

/// `RcvbufErrors` from the two `Udp:` lines (names, then values) of a
/// `/proc/net/snmp` text.
pub fn parse_udp_rcvbuf_errors(snmp: &str) -> Option<u64> {
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (names, values) = (udp.next()?, udp.next()?);
    let i = names.split_whitespace().position(|n| n == "RcvbufErrors")?;
    values.split_whitespace().nth(i)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_receive_buffer_errors_by_column_name() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
            Udp: 234917 0 2341 237378 2341 0\n\
            UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
            UdpLite: 0 0 0 0 0 0\n";
        assert_eq!(parse_udp_rcvbuf_errors(snmp), Some(2341));
        assert_eq!(parse_udp_rcvbuf_errors("Ip: 1 64\n"), None);
    }

    #[test]
    fn stat_ticks_after_the_command_name() {
        let line = "4242 (kea dhcp4 (x)) S 1 4242 4242 0 -1 4194560 3000 0 0 0 \
                    150 25 0 0 20 0 3 0 12345 1000000 500 18446744073709551615";
        assert_eq!(parse_stat_ticks(line), Some(175));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn status_memory() {
        let s = "Name:\tberthd\nVmPeak:\t  100 kB\nVmHWM:\t   28000 kB\nVmRSS:\t   27000 kB\n";
        assert_eq!(
            parse_status_memory(s),
            Some(Memory {
                rss_kib: 27000,
                hwm_kib: 28000
            })
        );
        assert_eq!(parse_status_memory("Name: x\n"), None);
    }

    #[test]
    fn udp_table() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue\n\
                 \x20 12: 010012C6:0043 00000000:0000 07 00000000:00000000\n";
        assert!(udp_table_has_port(t, 67));
        assert!(!udp_table_has_port(t, 68));
    }

    #[test]
    fn own_process_is_readable() {
        let me = std::process::id();
        assert!(cpu_seconds(me).expect("cpu") >= 0.0);
        assert!(memory(me).expect("mem").rss_kib > 0);
    }
}
