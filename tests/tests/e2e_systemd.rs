//! End-to-end: berthd and systemd. The unit file passes `systemd-analyze
//! verify` and asks for what the design says (Type=notify, user `berth`, four
//! capabilities, the sandbox); the sysusers file creates user and group
//! `berth`; and the real berthd, in a lab namespace, speaks the notify
//! protocol (READY, WATCHDOG, RELOADING with MONOTONIC_USEC, STOPPING) to a
//! socket this test owns.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use berth_tests::netns::netns_command;
use berth_tests::process::{Proc, read_log, run_output, tail};
use berth_tests::{
    Lab, READY_PATTERNS, ServerConfig, berthd_bin, require_tools, root_or_skip, wait_until,
};
use nix::sys::signal::Signal;
use nix::unistd::{User, chown};

const UNIT: &str = "contrib/systemd/berthd.service";
const SYSUSERS: &str = "contrib/systemd/berth.sysusers";
const EXAMPLE_CONFIG: &str = "contrib/examples/berthd.toml";
/// Where the unit expects the binary; replaced by the built one for `verify`.
const UNIT_BIN: &str = "/usr/bin/berthd";
/// Where the unit expects the config.
const UNIT_CONFIG: &str = "/etc/berth/berthd.toml";
/// Every wait on a subprocess of these tests.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn read_repo_file(rel: &str) -> String {
    let p = repo_root().join(rel);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A tool from Debian's `systemd` package (`systemd-analyze`,
/// `systemd-sysusers`), or `None` after a loud SKIPPED line. Under `CI=true`
/// a missing tool is a failure: CI must run these checks.
fn systemd_tool(test: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
    {
        return Some(p);
    }
    let why = format!(
        "`{name}` is not installed (Debian/Ubuntu package `systemd`; contrib/dev/test.sh \
         should install it: `have systemd-analyze || missing+=(systemd)`)"
    );
    if in_ci() {
        panic!("{test}: {why}, and CI=true: this check must run in CI");
    }
    eprintln!("\n!!!!! {test}: SKIPPED ({why}) !!!!!\n");
    None
}

// --- the unit file ---------------------------------------------------------

/// One `Key=value` of a unit file.
#[derive(Debug)]
struct Setting {
    section: String,
    key: String,
    value: String,
    line: usize,
}

/// The assignments of a unit file in order (comments, blank lines and
/// line continuations handled as systemd.syntax(7) says).
fn parse_unit(text: &str) -> Vec<Setting> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(String, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let (joined, at) = match pending.take() {
            Some((mut acc, at)) => {
                if line.starts_with('#') || line.starts_with(';') {
                    // A comment inside a continued line is skipped.
                    pending = Some((acc, at));
                    continue;
                }
                acc.push(' ');
                acc.push_str(line);
                (acc, at)
            }
            None => {
                if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                    continue;
                }
                (line.to_string(), i + 1)
            }
        };
        if let Some(stripped) = joined.strip_suffix('\\') {
            pending = Some((stripped.trim_end().to_string(), at));
            continue;
        }
        if joined.starts_with('[') && joined.ends_with(']') {
            section = joined[1..joined.len() - 1].to_string();
            continue;
        }
        let (k, v) = joined
            .split_once('=')
            .unwrap_or_else(|| panic!("{UNIT}:{at}: not a Key=value line: {joined:?}"));
        out.push(Setting {
            section: section.clone(),
            key: k.trim().to_string(),
            value: v.trim().to_string(),
            line: at,
        });
    }
    out
}

/// Every value of `key` in `section`, in order.
fn values<'a>(unit: &'a [Setting], section: &str, key: &str) -> Vec<&'a str> {
    unit.iter()
        .filter(|s| s.section == section && s.key == key)
        .map(|s| s.value.as_str())
        .collect()
}

/// The single value of `key` in `section` (a second one would override it).
fn single<'a>(unit: &'a [Setting], section: &str, key: &str) -> &'a str {
    let v = values(unit, section, key);
    assert_eq!(
        v.len(),
        1,
        "{UNIT}: [{section}] {key}= must be set exactly once, found {v:?}"
    );
    v[0]
}

/// A list setting as systemd merges it: assignments add words, an empty one
/// resets the list.
fn word_set(unit: &[Setting], section: &str, key: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for v in values(unit, section, key) {
        if v.is_empty() {
            set.clear();
        }
        set.extend(v.split_whitespace().map(str::to_string));
    }
    set
}

fn set_of(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// CAP_SETPCAP only while berthd trims its bounding set after binding.
const CAPS: [&str; 4] = [
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_NET_ADMIN",
    "CAP_SETPCAP",
];

#[test]
fn unit_asks_for_what_the_design_says() {
    let text = read_repo_file(UNIT);
    let unit = parse_unit(&text);
    let svc = "Service";
    let show = || {
        unit.iter()
            .map(|s| format!("{}: [{}] {}={}", s.line, s.section, s.key, s.value))
            .collect::<Vec<_>>()
            .join("\n")
    };

    assert_eq!(single(&unit, svc, "Type"), "notify", "{}", show());
    assert_eq!(single(&unit, svc, "User"), "berth", "{}", show());
    for key in [
        "RuntimeDirectory",
        "StateDirectory",
        "ConfigurationDirectory",
    ] {
        assert_eq!(single(&unit, svc, key), "berth", "{key}: {}", show());
    }
    assert_eq!(single(&unit, svc, "ProtectSystem"), "strict", "{}", show());
    assert_eq!(single(&unit, svc, "NoNewPrivileges"), "yes", "{}", show());
    // Resource bounds: a connection flood or a leak cannot take the machine,
    // and the control API's own caps sit far below the descriptor limit.
    for (key, value) in [
        ("LimitNOFILE", "4096"),
        ("MemoryMax", "512M"),
        ("TasksMax", "256"),
    ] {
        assert_eq!(single(&unit, svc, key), value, "{key}: {}", show());
    }

    // Exactly the four capabilities, granted (ambient: the service starts as
    // `berth`, not root) and as the bounding set. A `~` list would invert it.
    let caps = set_of(&CAPS);
    let bounding = word_set(&unit, svc, "CapabilityBoundingSet");
    assert_eq!(
        bounding,
        caps,
        "CapabilityBoundingSet must be exactly {CAPS:?}:\n{}",
        show()
    );
    let ambient = word_set(&unit, svc, "AmbientCapabilities");
    assert_eq!(
        ambient,
        caps,
        "AmbientCapabilities must be exactly {CAPS:?} (User=berth has none otherwise):\n{}",
        show()
    );

    assert_eq!(
        word_set(&unit, svc, "RestrictAddressFamilies"),
        set_of(&["AF_UNIX", "AF_INET", "AF_PACKET", "AF_NETLINK"]),
        "{}",
        show()
    );
    let filters = values(&unit, svc, "SystemCallFilter");
    assert!(
        filters
            .iter()
            .any(|f| f.split_whitespace().next() == Some("@system-service")),
        "SystemCallFilter=@system-service (an allow list) is missing: {filters:?}"
    );

    // The commands run our binary with the config from ConfigurationDirectory.
    let start = single(&unit, svc, "ExecStart");
    assert_eq!(
        start,
        format!("{UNIT_BIN} --config {UNIT_CONFIG}"),
        "ExecStart"
    );
    // SIGHUP is what berthd reloads on.
    let reload = single(&unit, svc, "ExecReload");
    assert!(
        reload.contains("-HUP") && reload.contains("$MAINPID"),
        "ExecReload must send SIGHUP to $MAINPID: {reload}"
    );
}

/// ExecStartPre is a real berthd command line: run it (with the built binary
/// and the example config) and it must accept the config.
#[test]
fn unit_exec_start_pre_is_a_working_check_config() {
    let unit = parse_unit(&read_repo_file(UNIT));
    for pre in values(&unit, "Service", "ExecStartPre") {
        let words: Vec<&str> = pre.split_whitespace().collect();
        assert_eq!(
            words.first(),
            Some(&UNIT_BIN),
            "ExecStartPre runs berthd: {pre}"
        );
        let example = repo_root().join(EXAMPLE_CONFIG);
        let bin = berthd_bin();
        let args: Vec<PathBuf> = words[1..]
            .iter()
            .map(|w| {
                if *w == UNIT_CONFIG {
                    example.clone()
                } else {
                    PathBuf::from(w)
                }
            })
            .collect();
        let out = run_output(Command::new(&bin).args(&args), RUN_TIMEOUT).expect("berthd runs");
        assert!(
            out.status.success(),
            "ExecStartPre `{pre}` (as `{} {args:?}`) failed ({}):\n{}{}",
            bin.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `systemd-analyze verify` on `text` saved as `berthd.service` in a
/// fresh tempdir. Returns (success, all output, the tempdir's path).
fn verify(analyze: &Path, text: &str) -> (bool, String, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("berth-unit.")
        .tempdir()
        .expect("tempdir");
    let unit = dir.path().join("berthd.service");
    fs::write(&unit, text).expect("write unit");
    let out = run_output(
        Command::new(analyze)
            .arg("verify")
            .arg(&unit)
            .env("SYSTEMD_LOG_COLOR", "0"),
        RUN_TIMEOUT,
    )
    .expect("systemd-analyze runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), all, dir.path().to_path_buf())
}

#[test]
fn unit_passes_systemd_analyze_verify() {
    let name = "unit_passes_systemd_analyze_verify";
    let Some(analyze) = systemd_tool(name, "systemd-analyze") else {
        return;
    };
    let text = read_repo_file(UNIT);
    assert!(text.contains(UNIT_BIN), "{UNIT} runs {UNIT_BIN}");
    // verify checks that ExecStart's binary exists: use the one we built.
    let bin = berthd_bin()
        .canonicalize()
        .expect("berthd binary path resolves");
    let bin = bin.to_str().expect("berthd path is UTF-8");
    assert!(
        !bin.contains(char::is_whitespace),
        "the berthd path must not contain spaces for ExecStart: {bin}"
    );
    let ours = text.replace(UNIT_BIN, bin);

    let (ok, output, dir) = verify(&analyze, &ours);
    // Lines about other units (say, on a host whose own units are odd) are
    // not this unit's problems; anything naming it or its file is.
    let dir = dir.display().to_string();
    let problems: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("berthd") || l.contains(&dir))
        .collect();
    assert!(
        ok && problems.is_empty(),
        "`systemd-analyze verify` on {UNIT} (ExecStart -> {bin}) {}:\n{output}",
        if ok { "reports problems" } else { "failed" }
    );

    // The check can fail: the same unit with a bogus key is reported.
    let bogus = ours.replacen("[Service]\n", "[Service]\nBerthBogusKey=1\n", 1);
    let (_, output, _) = verify(&analyze, &bogus);
    assert!(
        output.contains("BerthBogusKey"),
        "systemd-analyze verify does not report an unknown key, so its silence proves nothing:\n{output}"
    );
}

#[test]
fn sysusers_creates_user_and_group_berth() {
    let text = read_repo_file(SYSUSERS);
    // sysusers.d(5): Type Name ID GECOS Home Shell; quoted GECOS may hold spaces.
    let entries: Vec<(String, String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace();
            let kind = w.next().unwrap_or_default().to_string();
            let name = w.next().unwrap_or_default().to_string();
            let id = w.next().unwrap_or("-").to_string();
            (kind, name, id)
        })
        .collect();
    let user = entries
        .iter()
        .find(|(k, n, _)| k == "u" && n == "berth")
        .unwrap_or_else(|| panic!("{SYSUSERS} has no `u berth` line:\n{text}"));
    // An explicit `g berth` line creates the group; so does `u berth ID`
    // without a `:GROUP` part.
    let group = entries.iter().any(|(k, n, _)| k == "g" && n == "berth") || !user.2.contains(':');
    assert!(group, "{SYSUSERS} creates no group `berth`:\n{text}");
    // The admin group the README and the control socket speak of.
    assert!(
        entries
            .iter()
            .any(|(k, n, _)| k == "g" && n == "berth-admin"),
        "{SYSUSERS} has no `g berth-admin` line:\n{text}"
    );

    // And systemd-sysusers agrees: applied to an empty root directory (it
    // writes only below --root), it creates user berth whose primary group
    // is group berth, and group berth-admin.
    let Some(sysusers) = systemd_tool("sysusers_creates_user_and_group_berth", "systemd-sysusers")
    else {
        return;
    };
    let root = tempfile::Builder::new()
        .prefix("berth-sysusers.")
        .tempdir()
        .expect("tempdir");
    fs::create_dir(root.path().join("etc")).expect("mkdir etc");
    let out = run_output(
        Command::new(&sysusers)
            .arg(format!("--root={}", root.path().display()))
            .arg(repo_root().join(SYSUSERS)),
        RUN_TIMEOUT,
    )
    .expect("systemd-sysusers runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "systemd-sysusers failed ({}):\n{said}",
        out.status
    );
    let db = |f: &str| fs::read_to_string(root.path().join("etc").join(f)).unwrap_or_default();
    let (passwd, groups) = (db("passwd"), db("group"));
    let entry = |text: &str, name: &str| -> Option<Vec<String>> {
        text.lines()
            .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
            .find(|f| f.first().is_some_and(|n| n == name))
    };
    let u = entry(&passwd, "berth")
        .unwrap_or_else(|| panic!("no user berth in passwd:\n{passwd}\n{said}"));
    let g = entry(&groups, "berth")
        .unwrap_or_else(|| panic!("no group berth in group:\n{groups}\n{said}"));
    assert_eq!(
        u.get(3),
        g.get(2),
        "user berth's primary group is group berth:\n{passwd}\n{groups}"
    );
    assert!(
        entry(&groups, "berth-admin").is_some(),
        "no group berth-admin:\n{groups}\n{said}"
    );
}

// --- the notify protocol ----------------------------------------------------

/// berthd started by hand with systemd's environment; prints its config,
/// log and the notify messages when the test fails.
struct Notified {
    proc: Option<Proc>,
    sock: UnixDatagram,
    config: PathBuf,
    log: PathBuf,
    /// Every message so far, with when it came (since start).
    messages: Vec<(Duration, String)>,
    started: Instant,
    /// While true, berthd exiting is a failure.
    expect_running: bool,
}

impl Notified {
    fn log(&self) -> String {
        read_log(&self.log)
    }

    /// Waits (at most 10 s) for `needle` in berthd's log.
    fn wait_log(&self, needle: &str) {
        if wait_until(Duration::from_secs(10), || {
            self.log().contains(needle).then_some(())
        })
        .is_none()
        {
            panic!("berthd's log has no {needle:?} within 10 s");
        }
    }

    fn proc(&mut self) -> &mut Proc {
        self.proc.as_mut().expect("berthd was started")
    }

    /// The next message, waiting at most until `deadline`.
    fn recv(&mut self, deadline: Instant) -> Option<String> {
        let mut buf = vec![0u8; 4096];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let wait = (deadline - now).min(Duration::from_millis(200));
            self.sock
                .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
                .expect("set_read_timeout");
            match self.sock.recv(&mut buf) {
                Ok(n) => {
                    let m = String::from_utf8_lossy(&buf[..n]).into_owned();
                    self.messages.push((self.started.elapsed(), m.clone()));
                    return Some(m);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    // Nothing yet: fail fast if berthd is gone.
                    if let Some(s) = self.proc().try_status().filter(|_| self.expect_running) {
                        panic!("berthd exited ({s}) while a notify message was awaited");
                    }
                }
                Err(e) => panic!("reading the notify socket: {e}"),
            }
        }
    }

    /// Reads messages until one has `line` as one of its lines; returns the
    /// ones before it (in order) and it.
    fn until(&mut self, line: &str, timeout: Duration) -> (Vec<String>, String) {
        let deadline = Instant::now() + timeout;
        let mut before = Vec::new();
        loop {
            match self.recv(deadline) {
                Some(m) if has_line(&m, line) => return (before, m),
                Some(m) => before.push(m),
                None => panic!("no notify message with {line:?} within {timeout:?}"),
            }
        }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = p.terminate(Duration::from_secs(5));
        }
        if std::thread::panicking() {
            let msgs: Vec<String> = self
                .messages
                .iter()
                .map(|(t, m)| format!("{:>8.3}s {m:?}", t.as_secs_f64()))
                .collect();
            eprintln!(
                "---- notify messages ----\n{}\n---- berthd config ({}) ----\n{}---- berthd log ----\n{}",
                msgs.join("\n"),
                self.config.display(),
                fs::read_to_string(&self.config).unwrap_or_default(),
                tail(&self.log(), 300)
            );
        }
    }
}

fn has_line(msg: &str, line: &str) -> bool {
    msg.lines().any(|l| l == line)
}

/// CLOCK_MONOTONIC in microseconds, the clock MONOTONIC_USEC is read from.
fn monotonic_usec() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec for the kernel to fill in.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(r, 0, "clock_gettime(CLOCK_MONOTONIC)");
    i128::from(ts.tv_sec) * 1_000_000 + i128::from(ts.tv_nsec) / 1000
}

/// WATCHDOG_USEC the test hands berthd: it must ping every second.
const WATCHDOG_USEC: u64 = 2_000_000;
const NOTIFY_WAIT: Duration = Duration::from_secs(20);

#[test]
fn berthd_speaks_the_notify_protocol() {
    if !root_or_skip("berthd_speaks_the_notify_protocol") {
        return;
    }
    require_tools(&["ip"]);
    let lab = Lab::new().expect("lab");

    // The notify socket is a path (abstract sockets belong to a network
    // namespace; paths reach across). berthd switches to an unprivileged user
    // (see below), so the path must be reachable and writable for it; its
    // store and control socket go in a subdirectory handed to that user.
    let dir = tempfile::Builder::new()
        .prefix("berth-notify.")
        .tempdir()
        .expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod tempdir");
    let notify_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&notify_path).expect("bind the notify socket");
    fs::set_permissions(&notify_path, fs::Permissions::from_mode(0o666))
        .expect("chmod notify socket");
    let state = dir.path().join("state");
    fs::create_dir(&state).expect("state dir");
    // As under systemd, berthd serves unprivileged: started as root, it
    // switches to `--user` keeping only its three capabilities. `nobody`
    // exists everywhere; `berth` may not.
    let user = ["nobody", "berth"]
        .into_iter()
        .find_map(|n| User::from_name(n).ok().flatten());
    if let Some(u) = &user {
        chown(&state, Some(u.uid), Some(u.gid)).expect("chown state dir");
    }
    let config = dir.path().join("berthd.toml");
    let good = ServerConfig::lab().to_toml_in(&state);
    fs::write(&config, &good).expect("write config");
    let log = dir.path().join("berthd.log");

    let mut cmd = netns_command(lab.server_ns(), berthd_bin());
    cmd.arg("--config").arg(&config);
    if let Some(u) = &user {
        cmd.arg("--user").arg(&u.name);
    }
    cmd.env("NO_COLOR", "1")
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", WATCHDOG_USEC.to_string())
        .env_remove("WATCHDOG_PID");
    let started = Instant::now();
    let proc = Proc::spawn("berthd", &mut cmd, &log).expect("start berthd");
    let mut d = Notified {
        proc: Some(proc),
        sock,
        config: config.clone(),
        log,
        messages: Vec::new(),
        started,
        expect_running: true,
    };

    // READY=1, first, once it serves.
    let (before, ready) = d.until("READY=1", NOTIFY_WAIT);
    assert!(
        before.is_empty(),
        "READY=1 is the first message: {before:?}"
    );
    let ready_log = d.log().to_lowercase();
    assert!(
        READY_PATTERNS.iter().any(|p| ready_log.contains(p)),
        "READY=1 came before berthd said it serves ({ready:?}); log:\n{ready_log}"
    );
    assert!(
        state.join("control.sock").exists(),
        "READY=1 came before the control socket exists"
    );

    if let Some(u) = &user {
        assert!(
            d.log().contains("dropped root"),
            "berthd switched to {}; log:\n{}",
            u.name,
            d.log()
        );
    }

    // `ip netns exec` execs in place: the PID we signal is berthd's.
    let pid = d.proc().pid();
    let exe = fs::read_link(format!("/proc/{pid}/exe")).expect("/proc/PID/exe");
    assert_eq!(
        exe,
        berthd_bin().canonicalize().expect("berthd path"),
        "PID {pid} is berthd itself"
    );

    // Watchdog pings: at least two within 3 s, each well inside the 2 s
    // the manager allows (berthd pings at half of it).
    let window = Instant::now() + Duration::from_secs(3);
    let mut pings = Vec::new();
    while let Some(m) = d.recv(window) {
        assert_eq!(m, "WATCHDOG=1", "only watchdog pings while idle");
        pings.push(Instant::now());
    }
    assert!(
        pings.len() >= 2,
        "{} WATCHDOG=1 within 3 s of READY=1 (WATCHDOG_USEC={WATCHDOG_USEC})",
        pings.len()
    );
    for w in pings.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap < Duration::from_micros(WATCHDOG_USEC * 9 / 10),
            "{gap:?} between watchdog pings: too close to WATCHDOG_USEC={WATCHDOG_USEC}"
        );
    }

    // SIGHUP: RELOADING=1 with MONOTONIC_USEC (read from CLOCK_MONOTONIC
    // between our signal and our receiving it), then READY=1 again.
    let t_before = monotonic_usec();
    d.proc().signal(Signal::SIGHUP).expect("SIGHUP");
    let (before, reloading) = d.until("RELOADING=1", NOTIFY_WAIT);
    let t_after = monotonic_usec();
    assert!(
        before.iter().all(|m| m == "WATCHDOG=1"),
        "only watchdog pings before RELOADING=1: {before:?}"
    );
    let usec: i128 = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .unwrap_or_else(|| panic!("RELOADING=1 without MONOTONIC_USEC=: {reloading:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("MONOTONIC_USEC is not a number ({e}): {reloading:?}"));
    assert!(
        (t_before..=t_after).contains(&usec),
        "MONOTONIC_USEC={usec} is not CLOCK_MONOTONIC at the reload (between {t_before} and {t_after})"
    );
    let (before, _) = d.until("READY=1", NOTIFY_WAIT);
    assert!(
        before.iter().all(|m| m == "WATCHDOG=1"),
        "only watchdog pings between RELOADING=1 and READY=1: {before:?}"
    );
    // (berthd logs the outcome just after READY=1.)
    d.wait_log("configuration reloaded");

    // A refused reload (bad config) still ends in READY=1: systemd must not
    // be left thinking berthd is reloading forever.
    fs::write(
        &config,
        good.replace("[server]\n", "[server]\nno_such_key = 1\n"),
    )
    .expect("write bad config");
    d.proc().signal(Signal::SIGHUP).expect("SIGHUP");
    let (before, _) = d.until("RELOADING=1", NOTIFY_WAIT);
    assert!(before.iter().all(|m| m == "WATCHDOG=1"), "{before:?}");
    let (before, _) = d.until("READY=1", NOTIFY_WAIT);
    assert!(before.iter().all(|m| m == "WATCHDOG=1"), "{before:?}");
    d.wait_log("reload refused");
    // Still alive, still pinging.
    let (before, _) = d.until("WATCHDOG=1", Duration::from_secs(3));
    assert!(before.is_empty(), "{before:?}");

    // SIGTERM: STOPPING=1, then a clean exit 0; nothing after STOPPING=1.
    d.expect_running = false;
    d.proc().signal(Signal::SIGTERM).expect("SIGTERM");
    let (before, _) = d.until("STOPPING=1", NOTIFY_WAIT);
    assert!(
        before.iter().all(|m| m == "WATCHDOG=1"),
        "only watchdog pings before STOPPING=1: {before:?}"
    );
    let status = d
        .proc()
        .wait_exit(Duration::from_secs(10))
        .expect("wait for berthd")
        .unwrap_or_else(|| panic!("berthd did not exit within 10 s of SIGTERM"));
    assert_eq!(
        status.code(),
        Some(0),
        "berthd exits 0 after SIGTERM ({status})"
    );
    let mut after = Vec::new();
    while let Some(m) = d.recv(Instant::now() + Duration::from_millis(300)) {
        after.push(m);
    }
    assert!(after.is_empty(), "messages after STOPPING=1: {after:?}");
}
