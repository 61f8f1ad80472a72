//! berthd under test: config, start inside the server namespace, readiness,
//! log capture, clean stop.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tempfile::TempDir;

use crate::netns::{BRIDGE, Lab, LabNet, netns_command};
use crate::process::{Proc, read_log, run_output, tail, wait_until};
use crate::{berth_bin, berthd_bin};

/// berthd's log says this (case-insensitive, any one of them) once it serves.
pub const READY_PATTERNS: &[&str] = &["listening", "serving"];
/// How long berthd may take to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of berthd's log a failing test prints.
pub const LOG_TAIL_LINES: usize = 400;
/// How long berthd may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A `[[subnet]]`.
#[derive(Debug, Clone)]
pub struct SubnetConfig {
    pub cidr: String,
    pub range: (String, String),
    pub routers: Vec<String>,
    pub domain_name: Option<String>,
}

/// A `[[host]]`.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub name: String,
    pub mac: String,
    pub ip: String,
}

/// The server configuration, rendered to TOML by [`ServerConfig::to_toml`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub interfaces: Vec<String>,
    pub authoritative: bool,
    pub default_lease: String,
    pub max_lease: String,
    pub min_lease: String,
    pub offer_hold: String,
    /// `control_socket`: [`Daemon`] puts it in its tempdir (so tests running
    /// in parallel do not share `/run/berth/control.sock`).
    pub control_socket: Option<PathBuf>,
    /// `control_group` (who may read over the control socket); berthd's default when `None`.
    pub control_group: Option<String>,
    /// `admin_group` (who may also change things); berthd's default when `None`.
    pub admin_group: Option<String>,
    /// `event_buffer` (events kept for `events_since`); berthd's default when `None`.
    pub event_buffer: Option<usize>,
    /// Global `domain-name-servers`.
    pub dns: Vec<String>,
    pub subnets: Vec<SubnetConfig>,
    pub hosts: Vec<HostConfig>,
    /// `[limits] relays`: the relays served (perfdhcp and the `flood` and
    /// `filler` programs act as relays); none when empty. A test that also
    /// writes `[limits]` in `extra` lists its relays there instead.
    pub relays: Vec<String>,
    /// Raw TOML appended at the end.
    pub extra: String,
    /// Raw `key = value` lines added to `[server]` (e.g. the `arp_*` keys).
    pub server_extra: String,
    /// The `store` value as raw TOML (e.g. a PostgreSQL table) instead of
    /// the SQLite file in the daemon's directory.
    pub store: Option<String>,
}

impl ServerConfig {
    /// The lab's defaults: `br0`, 192.0.2.0/24, pool .100-.102, router and
    /// DNS 192.0.2.1, domain `lab.test`, 1 h leases.
    pub fn lab() -> ServerConfig {
        Self::lab_on(LabNet::DOC)
    }

    /// [`ServerConfig::lab`] for a lab built on `net` ([`Lab::with_net`]):
    /// its subnet, pool host .100-.102, router and DNS the server's address.
    pub fn lab_on(net: LabNet) -> ServerConfig {
        let server = net.server_ip.to_string();
        ServerConfig {
            interfaces: vec![BRIDGE.to_string()],
            authoritative: true,
            default_lease: "1h".into(),
            max_lease: "12h".into(),
            min_lease: "5s".into(),
            offer_hold: "30s".into(),
            control_socket: None,
            control_group: None,
            admin_group: None,
            event_buffer: None,
            dns: vec![server.clone()],
            subnets: vec![SubnetConfig {
                cidr: net.subnet_cidr(),
                range: (net.host(100).to_string(), net.host(102).to_string()),
                routers: vec![server],
                domain_name: Some("lab.test".into()),
            }],
            hosts: Vec::new(),
            relays: Vec::new(),
            extra: String::new(),
            server_extra: String::new(),
            store: None,
        }
    }

    /// Keeps the store in PostgreSQL at `url` (`store = { backend = "postgres", ... }`),
    /// with `settings` (e.g. `resync = "5s"`) added to the table.
    pub fn postgres(mut self, url: &str, settings: &str) -> Self {
        let extra = if settings.is_empty() {
            String::new()
        } else {
            format!(", {settings}")
        };
        self.store = Some(format!(
            "{{ backend = \"postgres\", url = {}{extra} }}",
            q(url)
        ));
        self
    }

    /// Sets the first subnet's pool.
    pub fn pool(mut self, start: &str, end: &str) -> Self {
        if let Some(s) = self.subnets.first_mut() {
            s.range = (start.into(), end.into());
        }
        self
    }

    /// Sets `default_lease`.
    pub fn lease(mut self, default: &str) -> Self {
        self.default_lease = default.into();
        self
    }

    /// Serves packets relayed by `relay` (an address or CIDR).
    pub fn relay(mut self, relay: &str) -> Self {
        self.relays.push(relay.into());
        self
    }

    /// Adds a `[[host]]`.
    pub fn host(mut self, name: &str, mac: &str, ip: &str) -> Self {
        self.hosts.push(HostConfig {
            name: name.into(),
            mac: mac.into(),
            ip: ip.into(),
        });
        self
    }

    /// The TOML text with the store (`leases.db`) and, unless set, the control
    /// socket (`control.sock`) in `dir`.
    pub fn to_toml_in(&self, dir: &Path) -> String {
        let mut c = self.clone();
        if c.control_socket.is_none() {
            c.control_socket = Some(dir.join("control.sock"));
        }
        c.to_toml(&dir.join("leases.db"))
    }

    /// The TOML text, with `store` as the lease store path.
    pub fn to_toml(&self, store: &Path) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "[server]");
        let _ = writeln!(t, "interfaces = {}", list(&self.interfaces));
        let _ = writeln!(t, "authoritative = {}", self.authoritative);
        let _ = writeln!(t, "default_lease = {}", q(&self.default_lease));
        let _ = writeln!(t, "max_lease = {}", q(&self.max_lease));
        let _ = writeln!(t, "min_lease = {}", q(&self.min_lease));
        let _ = writeln!(t, "offer_hold = {}", q(&self.offer_hold));
        match &self.store {
            Some(raw) => {
                let _ = writeln!(t, "store = {raw}");
            }
            None => {
                let _ = writeln!(t, "store = {}", q(&store.display().to_string()));
            }
        }
        if let Some(c) = &self.control_socket {
            let _ = writeln!(t, "control_socket = {}", q(&c.display().to_string()));
        }
        if let Some(g) = &self.control_group {
            let _ = writeln!(t, "control_group = {}", q(g));
        }
        if let Some(g) = &self.admin_group {
            let _ = writeln!(t, "admin_group = {}", q(g));
        }
        if let Some(n) = self.event_buffer {
            let _ = writeln!(t, "event_buffer = {n}");
        }
        if !self.server_extra.is_empty() {
            let _ = writeln!(t, "{}", self.server_extra);
        }
        let _ = writeln!(t, "\n[options]");
        let _ = writeln!(t, "domain-name-servers = {}", list(&self.dns));
        for s in &self.subnets {
            let _ = writeln!(t, "\n[[subnet]]");
            let _ = writeln!(t, "cidr = {}", q(&s.cidr));
            let _ = writeln!(t, "range = [{}, {}]", q(&s.range.0), q(&s.range.1));
            let mut opts = vec![format!("routers = {}", list(&s.routers))];
            if let Some(d) = &s.domain_name {
                opts.push(format!("domain-name = {}", q(d)));
            }
            let _ = writeln!(t, "options = {{ {} }}", opts.join(", "));
        }
        for h in &self.hosts {
            let _ = writeln!(t, "\n[[host]]");
            let _ = writeln!(t, "name = {}", q(&h.name));
            let _ = writeln!(t, "mac = {}", q(&h.mac));
            let _ = writeln!(t, "ip = {}", q(&h.ip));
        }
        if !self.relays.is_empty() {
            let _ = writeln!(t, "\n[limits]\nrelays = {}", list(&self.relays));
        }
        if !self.extra.is_empty() {
            let _ = writeln!(t, "\n{}", self.extra);
        }
        t
    }
}

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn list(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// How to start berthd besides its config: extra command-line arguments
/// (after `--config FILE`) and extra environment variables.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl DaemonOptions {
    /// Adds a command-line argument.
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

/// berthd running in a lab's server namespace. Its config, store and log
/// live in a tempdir. Dropping it stops it (SIGTERM) and prints its log
/// into the test's captured output (shown when the test fails).
#[derive(Debug)]
pub struct Daemon {
    ns: String,
    dir: TempDir,
    config: PathBuf,
    store: PathBuf,
    control: PathBuf,
    log: PathBuf,
    proc: Option<Proc>,
    opts: DaemonOptions,
    /// Byte offset in the log where the current run starts.
    run_start: usize,
    runs: u32,
}

impl Daemon {
    /// Writes `cfg` and starts berthd; returns once it logs that it is ready.
    pub fn start(lab: &Lab, cfg: &ServerConfig) -> Result<Daemon> {
        Self::start_with(lab, cfg, DaemonOptions::default())
    }

    /// Like [`Daemon::start`], in namespace `ns` instead of the lab's
    /// server namespace (a second server on the lab's bridge: a namespace
    /// from [`Lab::add_client`] with an address of its own).
    pub fn start_in(ns: &str, cfg: &ServerConfig) -> Result<Daemon> {
        Self::start_in_with(ns, cfg, DaemonOptions::default())
    }

    /// Like [`Daemon::start`], with extra arguments and environment (kept
    /// for [`Daemon::start_again`] and [`Daemon::restart`]).
    pub fn start_with(lab: &Lab, cfg: &ServerConfig, opts: DaemonOptions) -> Result<Daemon> {
        Self::start_in_with(lab.server_ns(), cfg, opts)
    }

    fn start_in_with(ns: &str, cfg: &ServerConfig, opts: DaemonOptions) -> Result<Daemon> {
        let mut d = Self::prepare(ns)?;
        d.opts = opts;
        if let Some(c) = &cfg.control_socket {
            d.control = c.clone();
        }
        fs::write(&d.config, cfg.to_toml_in(d.dir.path())).context("cannot write berthd config")?;
        d.spawn()?;
        Ok(d)
    }

    /// Like [`Daemon::start`] with raw TOML; `{store}`, `{control}` and `{dir}`
    /// are replaced by the store path, the control socket path and the tempdir.
    pub fn start_toml(lab: &Lab, toml: &str) -> Result<Daemon> {
        let mut d = Self::prepare(lab.server_ns())?;
        let text = toml
            .replace("{store}", &d.store.display().to_string())
            .replace("{control}", &d.control.display().to_string())
            .replace("{dir}", &d.dir.path().display().to_string());
        fs::write(&d.config, text).context("cannot write berthd config")?;
        d.spawn()?;
        Ok(d)
    }

    fn prepare(ns: &str) -> Result<Daemon> {
        let dir = tempfile::Builder::new()
            .prefix("berth-daemon.")
            .tempdir()
            .context("cannot create tempdir")?;
        Ok(Daemon {
            ns: ns.to_string(),
            config: dir.path().join("berth.toml"),
            // The names ServerConfig::to_toml_in uses.
            store: dir.path().join("leases.db"),
            control: dir.path().join("control.sock"),
            log: dir.path().join("berthd.log"),
            dir,
            proc: None,
            opts: DaemonOptions::default(),
            run_start: 0,
            runs: 0,
        })
    }

    fn spawn(&mut self) -> Result<()> {
        if self.proc.is_some() {
            bail!("berthd is already running");
        }
        self.runs += 1;
        let header = format!("=== berth-tests: berthd run {} ===\n", self.runs);
        let mut prev = fs::read(&self.log).unwrap_or_default();
        self.run_start = prev.len() + header.len();
        prev.extend_from_slice(header.as_bytes());
        fs::write(&self.log, prev).context("cannot write berthd log")?;

        let mut cmd = netns_command(&self.ns, berthd_bin());
        cmd.arg("--config").arg(&self.config).env("NO_COLOR", "1");
        if !self.opts.args.iter().any(|a| a == "--user") {
            // Stay root: the tempdir is root's, and whether a `berth` user
            // exists on this machine must not change what the tests do.
            cmd.args(["--user", "root"]);
        }
        cmd.args(&self.opts.args);
        cmd.envs(self.opts.env.iter().map(|(k, v)| (k, v)));
        let mut proc = Proc::spawn("berthd", &mut cmd, &self.log)?;
        let ready = wait_until(READY_TIMEOUT, || {
            if self.is_ready() {
                return Some(Ok(()));
            }
            proc.try_status().map(Err)
        });
        match ready {
            Some(Ok(())) => {
                self.proc = Some(proc);
                Ok(())
            }
            Some(Err(status)) => Err(anyhow!(
                "berthd exited ({status}) before it was ready; its log:\n{}",
                self.run_log()
            )),
            None => {
                let _ = proc.terminate(Duration::from_secs(2));
                Err(anyhow!(
                    "berthd did not log any of {READY_PATTERNS:?} within {READY_TIMEOUT:?}; its log:\n{}",
                    self.run_log()
                ))
            }
        }
    }

    fn is_ready(&self) -> bool {
        let log = self.run_log().to_lowercase();
        READY_PATTERNS.iter().any(|p| log.contains(p))
    }

    /// SIGTERM and wait; fails if berthd needed SIGKILL.
    pub fn stop(&mut self) -> Result<ExitStatus> {
        let mut p = self
            .proc
            .take()
            .ok_or_else(|| anyhow!("berthd is not running"))?;
        let (status, killed) = p.terminate(STOP_TIMEOUT)?;
        if killed {
            bail!("berthd did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed it");
        }
        Ok(status)
    }

    /// SIGKILL, as a power cut or the OOM killer would: nothing is flushed.
    pub fn kill(&mut self) -> Result<()> {
        let mut p = self
            .proc
            .take()
            .ok_or_else(|| anyhow!("berthd is not running"))?;
        p.signal(nix::sys::signal::Signal::SIGKILL)?;
        p.wait_exit(STOP_TIMEOUT)?
            .ok_or_else(|| anyhow!("berthd survived SIGKILL"))?;
        Ok(())
    }

    /// Sends `sig` (e.g. SIGHUP: reload the config).
    pub fn signal(&mut self, sig: nix::sys::signal::Signal) -> Result<()> {
        match self.proc.as_mut() {
            Some(p) => p.signal(sig),
            None => bail!("berthd is not running"),
        }
    }

    /// Starts berthd again with the same config and store.
    pub fn start_again(&mut self) -> Result<()> {
        self.spawn()
    }

    /// [`Daemon::stop`] then [`Daemon::start_again`]; returns the stop's exit status.
    pub fn restart(&mut self) -> Result<ExitStatus> {
        let s = self.stop()?;
        self.start_again()?;
        Ok(s)
    }

    /// Still running?
    pub fn is_running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(Proc::is_running)
    }

    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().map(Proc::pid)
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }

    pub fn store_path(&self) -> &Path {
        &self.store
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The control socket (the one a [`ServerConfig`] set, else the tempdir's
    /// `control.sock`, which `{control}` names in raw TOML).
    pub fn control_socket(&self) -> &Path {
        &self.control
    }

    /// The whole log (all runs).
    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    /// The log of the current (or last) run.
    pub fn run_log(&self) -> String {
        let all = fs::read(&self.log).unwrap_or_default();
        let from = self.run_start.min(all.len());
        crate::process::strip_ansi(&String::from_utf8_lossy(&all[from..]))
    }

    /// Waits until the current run's log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Result<()> {
        wait_until(timeout, || self.run_log().contains(needle).then_some(()))
            .ok_or_else(|| anyhow!("berthd log has no {needle:?} within {timeout:?}"))
    }

    /// Runs `berth --socket <this daemon's socket> ARGS...` (at most 30 s)
    /// and returns its stdout; panics unless it exits 0.
    pub fn ctl(&self, args: &[&str]) -> String {
        let out = run_output(
            Command::new(berth_bin())
                .arg("--socket")
                .arg(self.control_socket())
                .args(args),
            Duration::from_secs(30),
        )
        .expect("berth runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "berth {args:?} failed ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = p.terminate(Duration::from_secs(5));
        }
        // A failing test (panicking): show what berthd was told and said.
        if std::thread::panicking() {
            eprintln!(
                "---- berthd config ({}) ----\n{}---- berthd log ({}, last {LOG_TAIL_LINES} lines) ----\n{}",
                self.config.display(),
                fs::read_to_string(&self.config).unwrap_or_default(),
                self.log.display(),
                tail(&self.log(), LOG_TAIL_LINES)
            );
        }
    }
}

/// `berthd check-config FILE` (no namespace needed), bounded to 20 s.
pub fn check_config(file: &Path) -> Result<Output> {
    run_output(
        Command::new(berthd_bin())
            .arg("check-config")
            .arg(file)
            .env("NO_COLOR", "1"),
        Duration::from_secs(20),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_config_on_another_network() {
        let doc = ServerConfig::lab();
        assert_eq!(doc.subnets[0].cidr, crate::netns::LAB_CIDR);
        assert_eq!(
            doc.subnets[0].range,
            ("192.0.2.100".into(), "192.0.2.102".into())
        );
        assert_eq!(doc.dns, vec!["192.0.2.1".to_string()]);
        let b = ServerConfig::lab_on(LabNet::BENCH16).pool("198.18.1.0", "198.18.235.95");
        let t = b.to_toml(Path::new("/tmp/x/leases.db"));
        assert!(t.contains("cidr = \"198.18.0.0/16\""), "{t}");
        assert!(
            t.contains("range = [\"198.18.1.0\", \"198.18.235.95\"]"),
            "{t}"
        );
        assert!(t.contains("routers = [\"198.18.0.1\"]"), "{t}");
    }

    #[test]
    fn renders_config() {
        let c = ServerConfig::lab()
            .lease("10s")
            .pool("192.0.2.100", "192.0.2.100")
            .host("known1", "02:00:00:00:00:01", "192.0.2.10");
        let t = c.to_toml(Path::new("/tmp/x/leases.db"));
        assert!(t.contains("default_lease = \"10s\""));
        assert!(t.contains("range = [\"192.0.2.100\", \"192.0.2.100\"]"));
        assert!(t.contains("store = \"/tmp/x/leases.db\""));
        assert!(t.contains("options = { routers = [\"192.0.2.1\"], domain-name = \"lab.test\" }"));
        assert!(t.contains("[[host]]\nname = \"known1\""));
        assert!(!t.contains("control_socket"));
        assert!(!t.contains("control_group"));
        assert!(!t.contains("event_buffer"));
        let t = c.to_toml_in(Path::new("/tmp/y"));
        assert!(t.contains("store = \"/tmp/y/leases.db\""));
        assert!(t.contains("control_socket = \"/tmp/y/control.sock\""));
        assert_eq!(q("a\"b\\"), "\"a\\\"b\\\\\"");
        let mut c = ServerConfig::lab();
        c.control_group = Some("nogroup".into());
        c.admin_group = Some("root".into());
        c.event_buffer = Some(5);
        let t = c.to_toml(Path::new("/tmp/x/leases.db"));
        let server = t.split("[options]").next().unwrap_or_default();
        assert!(server.contains("control_group = \"nogroup\"\n"), "{t}");
        assert!(server.contains("admin_group = \"root\"\n"), "{t}");
        assert!(server.contains("event_buffer = 5\n"), "{t}");
    }
}
