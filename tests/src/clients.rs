//! Real DHCP clients inside client namespaces: ISC dhclient and busybox udhcpc.
//!
//! Each client runs in the foreground as a direct child, with its lease and
//! PID files in its own tempdir, and a tiny script that (1) configures the
//! offered address on the interface (inside the namespace only, so unicast
//! RENEW/RELEASE work) and (2) appends its whole environment to a record
//! file. Tests wait for records and read the options from them.

use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tempfile::TempDir;

use crate::netns::{ClientNs, netns_command};
use crate::process::{Proc, read_log, run_output, tail, wait_until};

/// First line of each record the client scripts write.
const RECORD_MARK: &str = "=== record";
/// Last line of each record: a record without it is still being written.
const RECORD_END: &str = "=== end";

/// One invocation of a client script: its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Unix time the script ran (seconds).
    pub time: Option<u64>,
    pub vars: BTreeMap<String, String>,
}

impl Record {
    /// `reason` (dhclient: BOUND, RENEW, ...; udhcpc: bound, renew, ...).
    pub fn reason(&self) -> &str {
        self.get("reason").unwrap_or("")
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }
}

/// Parses a record file. Only complete records (ending in `=== end`) count.
pub fn parse_records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut cur: Option<Record> = None;
    for line in text.lines() {
        if line == RECORD_END {
            if let Some(r) = cur.take() {
                out.push(r);
            }
        } else if let Some(rest) = line.strip_prefix(RECORD_MARK) {
            cur = Some(Record {
                time: rest.trim().parse().ok(),
                vars: BTreeMap::new(),
            });
        } else if let Some(r) = cur.as_mut() {
            if let Some((k, v)) = line.split_once('=') {
                // The first assignment of a key wins (udhcpc records `reason` first).
                r.vars.entry(k.to_string()).or_insert_with(|| v.to_string());
            }
        }
    }
    out
}

/// What a client was given, normalised across dhclient and udhcpc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub reason: String,
    pub ip: Ipv4Addr,
    pub subnet_mask: Option<String>,
    pub routers: Vec<String>,
    pub dns: Vec<String>,
    pub domain_name: Option<String>,
    pub lease_time: Option<u32>,
    pub server_id: Option<String>,
    /// dhclient's `new_expiry` (Unix seconds).
    pub expiry: Option<u64>,
    /// When the script ran.
    pub recorded_at: Option<u64>,
}

fn words(v: Option<&str>) -> Vec<String> {
    v.map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

impl Lease {
    /// From a dhclient record (`new_*` variables).
    pub fn from_dhclient(r: &Record) -> Result<Lease> {
        let ip = r
            .get("new_ip_address")
            .ok_or_else(|| anyhow!("record {} has no new_ip_address", r.reason()))?
            .parse()
            .context("new_ip_address is not an IPv4 address")?;
        Ok(Lease {
            reason: r.reason().to_string(),
            ip,
            subnet_mask: r.get("new_subnet_mask").map(str::to_string),
            routers: words(r.get("new_routers")),
            dns: words(r.get("new_domain_name_servers")),
            domain_name: r.get("new_domain_name").map(str::to_string),
            lease_time: r.get("new_dhcp_lease_time").and_then(|v| v.parse().ok()),
            server_id: r.get("new_dhcp_server_identifier").map(str::to_string),
            expiry: r.get("new_expiry").and_then(|v| v.parse().ok()),
            recorded_at: r.time,
        })
    }

    /// From a udhcpc record (`ip`, `subnet`, `router`, `dns`, ...).
    pub fn from_udhcpc(r: &Record) -> Result<Lease> {
        let ip = r
            .get("ip")
            .ok_or_else(|| anyhow!("record {} has no ip", r.reason()))?
            .parse()
            .context("ip is not an IPv4 address")?;
        let lease_time: Option<u32> = r.get("lease").and_then(|v| v.parse().ok());
        Ok(Lease {
            reason: r.reason().to_string(),
            ip,
            subnet_mask: r.get("subnet").map(str::to_string),
            routers: words(r.get("router")),
            dns: words(r.get("dns")),
            domain_name: r.get("domain").map(str::to_string),
            lease_time,
            server_id: r.get("serverid").map(str::to_string),
            expiry: match (r.time, lease_time) {
                (Some(t), Some(l)) => Some(t + u64::from(l)),
                _ => None,
            },
            recorded_at: r.time,
        })
    }
}

/// The record file and waiting on it; shared by both clients.
#[derive(Debug)]
struct Recorder {
    path: PathBuf,
}

impl Recorder {
    /// A fresh tempdir (prefix `prefix`) holding the client's files, and the
    /// recorder of its script's records in it.
    fn in_tempdir(prefix: &str) -> Result<(TempDir, Recorder)> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .context("cannot create tempdir")?;
        let rec = Recorder {
            path: dir.path().join("records"),
        };
        Ok((dir, rec))
    }

    fn records(&self) -> Vec<Record> {
        parse_records(&fs::read_to_string(&self.path).unwrap_or_default())
    }

    /// First record at index >= `from` whose reason is one of `reasons`;
    /// the error names `who` and the reasons seen so far.
    fn wait(
        &self,
        who: &str,
        reasons: &[&str],
        from: usize,
        timeout: Duration,
    ) -> Result<(usize, Record)> {
        let found = wait_until(timeout, || {
            self.records()
                .into_iter()
                .enumerate()
                .skip(from)
                .find(|(_, r)| reasons.contains(&r.reason()))
        });
        found.ok_or_else(|| {
            anyhow!(
                "{who}: no {reasons:?} record within {timeout:?}; reasons so far: {:?}",
                self.records()
                    .iter()
                    .map(|r| r.reason().to_string())
                    .collect::<Vec<_>>()
            )
        })
    }
}

fn write_script(path: &Path, body: &str) -> Result<()> {
    fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

/// Single-quotes `s` for sh.
fn sh_quote(s: &Path) -> String {
    format!("'{}'", s.display().to_string().replace('\'', r"'\''"))
}

fn tool_path(name: &str) -> Result<PathBuf> {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Ok(p);
        }
    }
    bail!("`{name}` not found; run contrib/dev/test.sh once (it installs the test tools)")
}

/// Is `name` installed in one of the usual places?
pub fn have_tool(name: &str) -> bool {
    tool_path(name).is_ok()
}

/// Options for [`Dhclient`].
#[derive(Debug, Clone)]
pub struct DhclientOptions {
    /// `-1`: try once; exit if no lease within `timeout_secs`.
    pub once: bool,
    /// dhclient's `timeout` statement (seconds before it gives up a cycle).
    pub timeout_secs: u32,
    /// Sent as option 12 when set.
    pub hostname: Option<String>,
}

impl Default for DhclientOptions {
    fn default() -> Self {
        DhclientOptions {
            once: false,
            timeout_secs: 30,
            hostname: None,
        }
    }
}

/// ISC dhclient in a client namespace, in the foreground (`-d`).
#[derive(Debug)]
pub struct Dhclient {
    ns: String,
    iface: String,
    dir: TempDir,
    rec: Recorder,
    proc: Option<Proc>,
}

impl Dhclient {
    /// Starts a long-running dhclient on the client's `eth0`.
    pub fn start(client: &ClientNs) -> Result<Dhclient> {
        Self::start_with(client, DhclientOptions::default())
    }

    pub fn start_with(client: &ClientNs, opts: DhclientOptions) -> Result<Dhclient> {
        let (dir, rec) = Recorder::in_tempdir("berth-dhclient.")?;
        let script = format!(
            r#"#!/bin/sh
# berth-tests dhclient script: configure the address inside this namespace
# (so unicast RENEW/RELEASE work), then record the environment.
PATH=/usr/sbin:/sbin:/usr/bin:/bin
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip -4 addr flush dev "$interface"
    fi
    ip addr replace "$new_ip_address/${{new_subnet_mask:-255.255.255.0}}" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
esac
{{ echo "{RECORD_MARK} $(date +%s)"; env; echo "{RECORD_END}"; }} >> {records}
exit 0
"#,
            records = sh_quote(&rec.path)
        );
        write_script(&dir.path().join("script"), &script)?;
        let mut conf = format!(
            "timeout {};\nretry 2;\ninitial-interval 1;\nbackoff-cutoff 2;\n\
             request subnet-mask, broadcast-address, time-offset, routers,\n  \
             domain-name, domain-name-servers, host-name, interface-mtu;\n",
            opts.timeout_secs
        );
        if let Some(h) = &opts.hostname {
            conf.push_str(&format!("send host-name \"{h}\";\n"));
        }
        fs::write(dir.path().join("dhclient.conf"), conf).context("cannot write dhclient.conf")?;
        let mut d = Dhclient {
            ns: client.name().to_string(),
            iface: client.iface().to_string(),
            dir,
            rec,
            proc: None,
        };
        let mut cmd = d.command()?;
        cmd.arg("-d");
        if opts.once {
            cmd.arg("-1");
        }
        cmd.arg(&d.iface);
        d.proc = Some(Proc::spawn("dhclient", &mut cmd, &d.log_path())?);
        Ok(d)
    }

    /// `ip netns exec NS dhclient -4 -v -cf .. -sf .. -lf .. -pf ..` (no interface yet).
    fn command(&self) -> Result<std::process::Command> {
        let p = self.dir.path();
        let mut cmd = netns_command(&self.ns, tool_path("dhclient")?);
        cmd.arg("-4")
            .arg("-v")
            .arg("-cf")
            .arg(p.join("dhclient.conf"))
            .arg("-sf")
            .arg(p.join("script"))
            .arg("-lf")
            .arg(p.join("dhclient.leases"))
            .arg("-pf")
            .arg(p.join("dhclient.pid"));
        Ok(cmd)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("dhclient.log")
    }

    pub fn log(&self) -> String {
        read_log(&self.log_path())
    }

    pub fn records(&self) -> Vec<Record> {
        self.rec.records()
    }

    /// Waits for a record (at index >= `from`) with one of `reasons`.
    pub fn wait_reason(
        &self,
        reasons: &[&str],
        from: usize,
        timeout: Duration,
    ) -> Result<(usize, Record)> {
        self.rec
            .wait(&format!("dhclient in {}", self.ns), reasons, from, timeout)
    }

    /// Waits for BOUND (or REBOOT) and returns the lease.
    pub fn wait_bound(&self, timeout: Duration) -> Result<Lease> {
        let (_, r) = self.wait_reason(&["BOUND", "REBOOT"], 0, timeout)?;
        Lease::from_dhclient(&r)
    }

    /// True while the foreground dhclient is running.
    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(Proc::is_running)
    }

    /// `dhclient -r`: the running instance is stopped (by the PID in our pid
    /// file), a DHCPRELEASE is sent, and the script sees RELEASE.
    pub fn release(&mut self, timeout: Duration) -> Result<Record> {
        let from = self.records().len();
        let mut cmd = self.command()?;
        cmd.arg("-r").arg(&self.iface);
        let out = run_output(&mut cmd, timeout)?;
        fs::OpenOptions::new()
            .append(true)
            .open(self.log_path())
            .and_then(|mut f| {
                use std::io::Write;
                f.write_all(b"--- dhclient -r ---\n")?;
                f.write_all(&out.stdout)?;
                f.write_all(&out.stderr)
            })
            .context("cannot append to dhclient log")?;
        if !out.status.success() {
            bail!("dhclient -r failed: {}", out.status);
        }
        if let Some(p) = self.proc.as_mut() {
            p.wait_exit(Duration::from_secs(5))?;
        }
        let (_, r) = self.wait_reason(&["RELEASE"], from, Duration::from_secs(5))?;
        Ok(r)
    }

    /// Waits at most `timeout` for dhclient to exit by itself (e.g. `-1`
    /// giving up); `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<std::process::ExitStatus>> {
        match self.proc.as_mut() {
            Some(p) => p.wait_exit(timeout),
            None => Ok(None),
        }
    }

    /// Ends dhclient with SIGKILL (by PID): a client that vanishes without
    /// a word, leaving its lease on the server.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut p) = self.proc.take() {
            p.signal(nix::sys::signal::Signal::SIGKILL)?;
            p.wait_exit(Duration::from_secs(5))?;
        }
        Ok(())
    }

    /// Stops dhclient (SIGTERM by PID).
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut p) = self.proc.take() {
            p.terminate(Duration::from_secs(3))?;
        }
        Ok(())
    }
}

impl Drop for Dhclient {
    fn drop(&mut self) {
        let _ = self.stop();
        if std::thread::panicking() {
            eprintln!(
                "---- dhclient log ({}) ----\n{}---- dhclient records ----\n{}",
                self.ns,
                tail(&self.log(), 200),
                tail(&fs::read_to_string(&self.rec.path).unwrap_or_default(), 300)
            );
        }
    }
}

/// Options for [`Udhcpc`].
#[derive(Debug, Clone, Default)]
pub struct UdhcpcOptions {
    /// `-n -q`: exit after getting a lease, or when it gives up.
    pub once: bool,
    /// `-x hostname:NAME`.
    pub hostname: Option<String>,
    /// `-V VENDOR`: the vendor class identifier (option 60).
    pub vendor_class: Option<String>,
    /// `-O CODE` for each: options to add to the parameter request list.
    pub request: Vec<u8>,
    /// `-a`: ARP-ping the offered address first and DECLINE it when
    /// someone answers.
    pub arp_check: bool,
}

/// busybox udhcpc in a client namespace, in the foreground (`-f`). It does
/// not set the broadcast flag, so replies must be unicast to the client.
#[derive(Debug)]
pub struct Udhcpc {
    ns: String,
    dir: TempDir,
    rec: Recorder,
    proc: Option<Proc>,
}

impl Udhcpc {
    pub fn start(client: &ClientNs) -> Result<Udhcpc> {
        Self::start_with(client, UdhcpcOptions::default())
    }

    pub fn start_with(client: &ClientNs, opts: UdhcpcOptions) -> Result<Udhcpc> {
        let (dir, rec) = Recorder::in_tempdir("berth-udhcpc.")?;
        let script = format!(
            r#"#!/bin/sh
# berth-tests udhcpc script: configure the address inside this namespace,
# then record the reason ($1) and the environment.
PATH=/usr/sbin:/sbin:/usr/bin:/bin
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set dev "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${{subnet:-255.255.255.0}}" dev "$interface" ;;
esac
{{ echo "{RECORD_MARK} $(date +%s)"; echo "reason=$1"; env; echo "{RECORD_END}"; }} >> {records}
exit 0
"#,
            records = sh_quote(&rec.path)
        );
        let script_path = dir.path().join("script");
        write_script(&script_path, &script)?;
        // `env -i` (which execs in place, keeping the PID): udhcpc passes its
        // environment on to the script, and the records should hold only
        // what udhcpc says.
        let mut cmd = netns_command(client.name(), "env");
        cmd.arg("-i")
            .arg("PATH=/usr/sbin:/sbin:/usr/bin:/bin")
            .arg(tool_path("udhcpc")?)
            .arg("-f")
            .arg("-i")
            .arg(client.iface())
            .arg("-s")
            .arg(&script_path)
            .arg("-p")
            .arg(dir.path().join("udhcpc.pid"))
            .args(["-t", "5", "-T", "2", "-A", "2"]);
        if opts.once {
            cmd.args(["-n", "-q"]);
        }
        if let Some(h) = &opts.hostname {
            cmd.arg("-x").arg(format!("hostname:{h}"));
        }
        if let Some(v) = &opts.vendor_class {
            cmd.arg("-V").arg(v);
        }
        for code in &opts.request {
            cmd.arg("-O").arg(code.to_string());
        }
        if opts.arp_check {
            cmd.arg("-a");
        }
        let log = dir.path().join("udhcpc.log");
        let proc = Proc::spawn("udhcpc", &mut cmd, &log)?;
        Ok(Udhcpc {
            ns: client.name().to_string(),
            dir,
            rec,
            proc: Some(proc),
        })
    }

    pub fn log(&self) -> String {
        read_log(&self.dir.path().join("udhcpc.log"))
    }

    pub fn records(&self) -> Vec<Record> {
        self.rec.records()
    }

    pub fn wait_reason(
        &self,
        reasons: &[&str],
        from: usize,
        timeout: Duration,
    ) -> Result<(usize, Record)> {
        self.rec
            .wait(&format!("udhcpc in {}", self.ns), reasons, from, timeout)
    }

    /// Waits for `bound` and returns the lease.
    pub fn wait_bound(&self, timeout: Duration) -> Result<Lease> {
        let (_, r) = self.wait_reason(&["bound"], 0, timeout)?;
        Lease::from_udhcpc(&r)
    }

    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(Proc::is_running)
    }

    /// SIGUSR1: udhcpc renews its lease now (a unicast REQUEST with ciaddr).
    pub fn renew_now(&mut self) -> Result<()> {
        match self.proc.as_mut() {
            Some(p) => p.signal(nix::sys::signal::Signal::SIGUSR1),
            None => bail!("udhcpc is not running"),
        }
    }

    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut p) = self.proc.take() {
            p.terminate(Duration::from_secs(3))?;
        }
        Ok(())
    }
}

impl Drop for Udhcpc {
    fn drop(&mut self) {
        let _ = self.stop();
        if std::thread::panicking() {
            eprintln!(
                "---- udhcpc log ({}) ----\n{}---- udhcpc records ----\n{}",
                self.ns,
                tail(&self.log(), 200),
                tail(&fs::read_to_string(&self.rec.path).unwrap_or_default(), 300)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dhclient_records() {
        let text = "=== record 100\nreason=PREINIT\ninterface=eth0\n=== end\n\
                    === record 101\nreason=BOUND\nnew_ip_address=192.0.2.10\n\
                    new_subnet_mask=255.255.255.0\nnew_routers=192.0.2.1\n\
                    new_domain_name_servers=192.0.2.1 192.0.2.2\nnew_dhcp_lease_time=3600\n\
                    new_expiry=4700\nnew_domain_name=lab.test\n=== end\n\
                    === record 102\nreason=RENEW\nnew_ip_";
        let rs = parse_records(text);
        assert_eq!(
            rs.len(),
            2,
            "the unfinished RENEW record is not counted yet"
        );
        assert_eq!(rs[0].reason(), "PREINIT");
        let l = Lease::from_dhclient(&rs[1]).expect("lease");
        assert_eq!(l.ip, Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(l.routers, vec!["192.0.2.1"]);
        assert_eq!(l.dns, vec!["192.0.2.1", "192.0.2.2"]);
        assert_eq!(l.lease_time, Some(3600));
        assert_eq!(l.expiry, Some(4700));
        assert_eq!(l.recorded_at, Some(101));
        assert_eq!(l.domain_name.as_deref(), Some("lab.test"));
    }

    #[test]
    fn parses_udhcpc_records() {
        let text = "=== record 50\nreason=bound\nip=192.0.2.100\nsubnet=255.255.255.0\n\
                    router=192.0.2.1\ndns=192.0.2.1\nlease=60\nreason=ignored\n=== end\n";
        let rs = parse_records(text);
        let l = Lease::from_udhcpc(&rs[0]).expect("lease");
        assert_eq!(l.reason, "bound");
        assert_eq!(l.ip, Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(l.expiry, Some(110));
    }
}
