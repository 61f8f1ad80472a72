//! End-to-end: event hooks with real clients (berthd in a namespace lab).
//! The hook is a script the test writes into a temporary directory; it
//! records its arguments and environment, in the record format the client
//! scripts use.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_proto::EventKind;
use berth_tests::clients::{Record, parse_records};
use berth_tests::{
    Api, Daemon, Dhclient, DhclientOptions, Lab, ServerConfig, Udhcpc, UdhcpcOptions,
    require_tools, root_or_skip, wait_until,
};

const LEASE_WAIT: Duration = Duration::from_secs(20);
/// Enough for a 10 s lease to run out and be reclaimed.
const EXPIRY_WAIT: Duration = Duration::from_secs(40);
/// `nobody`, whom hooks run as when berthd is root.
const NOBODY_UID: &str = "65534";

fn lab(test: &str) -> Option<Lab> {
    if !root_or_skip(test) {
        return None;
    }
    require_tools(&["dhclient", "udhcpc", "ip"]);
    Some(Lab::new().expect("lab"))
}

/// A directory `nobody` can write to, holding `hook`: a script that
/// records its arguments (`arg1=`, ...), its environment and its uid.
struct HookDir {
    dir: tempfile::TempDir,
}

impl HookDir {
    fn new(extra: &str) -> HookDir {
        let dir = tempfile::Builder::new()
            .prefix("berth-hook.")
            .tempdir()
            .expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let records = dir.path().join("records");
        let script = format!(
            r#"#!/bin/sh
{extra}
{{
  echo "=== record $(date +%s)"
  n=1
  for a in "$@"; do printf 'arg%s=%s\n' "$n" "$a"; n=$((n+1)); done
  echo "uid=$(id -u)"
  env
  echo "=== end"
}} >> '{records}'
"#,
            records = records.display()
        );
        let hook = dir.path().join("hook");
        std::fs::write(&hook, script).expect("write hook");
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        HookDir { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn hook(&self) -> PathBuf {
        self.dir.path().join("hook")
    }

    fn records(&self) -> Vec<Record> {
        parse_records(&std::fs::read_to_string(self.path().join("records")).unwrap_or_default())
    }

    /// Waits for a record with `reason` whose `new_ip_address` is `ip`.
    fn wait(&self, reason: &str, ip: &str, timeout: Duration) -> Record {
        wait_until(timeout, || {
            self.records()
                .into_iter()
                .find(|r| r.reason() == reason && r.get("new_ip_address") == Some(ip))
        })
        .unwrap_or_else(|| {
            panic!(
                "no {reason} hook for {ip} within {timeout:?}; records:\n{:#?}",
                self.records()
            )
        })
    }
}

/// The `[[hook]]` of the seed's dhcpd.conf, on `events`.
fn hook_toml(hook: &Path, events: &str, timeout: &str) -> String {
    format!(
        "[[hook]]\non = [{events}]\nrun = \"{}\"\nargs = [\"{{event}}\", \"{{ip}}\", \"{{mac}}\", \"{{hostname}}\", \"auth\"]\ntimeout = \"{timeout}\"\n",
        hook.display()
    )
}

fn args(r: &Record) -> Vec<&str> {
    (1..=5)
        .map(|i| r.get(&format!("arg{i}")).unwrap_or("<missing>"))
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[test]
fn hook_gets_args_and_environment_for_commit_renew_release_and_expiry() {
    let Some(lab) = lab("hook_gets_args_and_environment_for_commit_renew_release_and_expiry")
    else {
        return;
    };
    let h = HookDir::new("");
    let mut cfg = ServerConfig::lab().lease("10s");
    cfg.min_lease = "5s".into();
    cfg.extra = hook_toml(
        &h.hook(),
        "\"commit\", \"renew\", \"release\", \"expiry\"",
        "10s",
    );
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let a = lab.add_client(None).expect("client a");
    let mut dha = Dhclient::start_with(
        &a,
        DhclientOptions {
            hostname: Some("vm-a".into()),
            ..DhclientOptions::default()
        },
    )
    .expect("dhclient a");
    let la = dha.wait_bound(LEASE_WAIT).expect("a gets a lease");
    let ip = la.ip.to_string();
    let mac = a.mac().to_string();

    let commit = h.wait("COMMIT", &ip, LEASE_WAIT);
    assert_eq!(
        args(&commit),
        ["commit", ip.as_str(), mac.as_str(), "vm-a", "auth"]
    );
    for (k, v) in [
        ("new_subnet_mask", "255.255.255.0"),
        ("new_routers", "192.0.2.1"),
        ("new_domain_name_servers", "192.0.2.1"),
        ("new_domain_name", "lab.test"),
        ("new_dhcp_lease_time", "10"),
        ("new_dhcp_server_identifier", "192.0.2.1"),
        ("requested_routers", "1"),
        ("client_mac", mac.as_str()),
        ("client_hostname", "vm-a"),
        ("interface", "br0"),
        ("uid", NOBODY_UID),
    ] {
        assert_eq!(commit.get(k), Some(v), "{k} in {commit:#?}");
    }
    let expiry: u64 = commit
        .get("new_expiry")
        .and_then(|e| e.parse().ok())
        .expect("new_expiry is an epoch");
    assert!(
        expiry.abs_diff(now()) <= 15,
        "new_expiry {expiry} is about now + 10 s"
    );
    assert_eq!(commit.get("old_ip_address"), None);
    assert_eq!(commit.get("HOME"), None, "nothing of berthd's environment");

    // T1 is 5 s: dhclient renews, and the hook hears the old lease too.
    let renew = h.wait("RENEW", &ip, LEASE_WAIT);
    assert_eq!(args(&renew)[0], "renew");
    assert_eq!(renew.get("old_ip_address"), Some(ip.as_str()));
    let old: u64 = renew
        .get("old_expiry")
        .and_then(|e| e.parse().ok())
        .expect("old_expiry");
    let new: u64 = renew
        .get("new_expiry")
        .and_then(|e| e.parse().ok())
        .expect("new_expiry");
    assert!(new > old, "the renewal moved the expiry: {old} -> {new}");

    dha.release(Duration::from_secs(15)).expect("dhclient -r");
    let release = h.wait("RELEASE", &ip, LEASE_WAIT);
    assert_eq!(
        args(&release),
        ["release", ip.as_str(), mac.as_str(), "vm-a", "auth"]
    );
    assert_eq!(
        release.get("new_routers"),
        Some("192.0.2.1"),
        "the client's options"
    );

    // b goes away without releasing: its lease expires.
    let b = lab.add_client(None).expect("client b");
    let mut udb = Udhcpc::start_with(
        &b,
        UdhcpcOptions {
            hostname: Some("vm-b".into()),
            ..UdhcpcOptions::default()
        },
    )
    .expect("udhcpc b");
    let lb = udb.wait_bound(LEASE_WAIT).expect("b gets a lease");
    let ipb = lb.ip.to_string();
    h.wait("COMMIT", &ipb, LEASE_WAIT);
    udb.stop().expect("udhcpc b stops");
    let gone = h.wait("EXPIRY", &ipb, EXPIRY_WAIT);
    let macb = b.mac().to_string();
    assert_eq!(
        args(&gone),
        ["expiry", ipb.as_str(), macb.as_str(), "vm-b", "auth"]
    );
    assert_eq!(gone.get("new_dhcp_lease_time"), Some("10"));
    assert_eq!(gone.get("uid"), Some(NOBODY_UID));
}

#[test]
fn a_hostname_with_shell_metacharacters_arrives_as_data() {
    let Some(lab) = lab("a_hostname_with_shell_metacharacters_arrives_as_data") else {
        return;
    };
    let h = HookDir::new("");
    // Would create this file if any shell ever read the name as code. No
    // spaces or commas: udhcpc's -x splits values there (${IFS} is one).
    let pwned = h.path().join("pwned");
    let name = format!(
        "$(touch${{IFS}}{p});`touch${{IFS}}{p}`;x",
        p = pwned.display()
    );
    let mut cfg = ServerConfig::lab();
    cfg.extra = hook_toml(&h.hook(), "\"commit\"", "10s");
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let c = lab.add_client(None).expect("client");
    let ud = Udhcpc::start_with(
        &c,
        UdhcpcOptions {
            hostname: Some(name.clone()),
            ..UdhcpcOptions::default()
        },
    )
    .expect("udhcpc");
    let l = ud.wait_bound(LEASE_WAIT).expect("a lease");
    let r = h.wait("COMMIT", &l.ip.to_string(), LEASE_WAIT);
    assert_eq!(r.get("arg4"), Some(name.as_str()), "{r:#?}");
    assert_eq!(r.get("client_hostname"), Some(name.as_str()));
    assert!(!pwned.exists(), "the host name was run as a command");
}

/// Events of kind `hook_result` so far.
fn hook_results(api: &Api) -> Vec<berth_proto::Event> {
    api.events_since(0, 0)
        .expect("events")
        .events
        .into_iter()
        .filter(|e| e.kind == EventKind::HookResult)
        .collect()
}

#[test]
fn a_hook_that_hangs_is_killed_at_its_timeout_with_its_children() {
    let Some(lab) = lab("a_hook_that_hangs_is_killed_at_its_timeout_with_its_children") else {
        return;
    };
    let h = HookDir::new("");
    let pidfile = h.path().join("child.pid");
    let hung = h.path().join("hung");
    std::fs::write(
        &hung,
        format!(
            "#!/bin/sh\nsleep 300 &\necho $! > '{}'\necho 'about to hang' >&2\nwait\n",
            pidfile.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&hung, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut cfg = ServerConfig::lab();
    cfg.extra = format!(
        "[[hook]]\non = [\"commit\"]\nrun = \"{}\"\ntimeout = \"2s\"\n",
        hung.display()
    );
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    let api = Api::connect(berthd.control_socket()).expect("api");

    let c = lab.add_client(None).expect("client");
    let dh = Dhclient::start(&c).expect("dhclient");
    let l = dh.wait_bound(LEASE_WAIT).expect("the client is served");
    let result = wait_until(Duration::from_secs(20), || {
        hook_results(&api).into_iter().next()
    })
    .expect("a hook_result event");
    assert!(!result.ok, "{result:?}");
    assert!(
        result
            .detail
            .contains("timed out; its process group was killed"),
        "{}",
        result.detail
    );
    assert_eq!(result.ip, Some(l.ip));
    let child: i32 = std::fs::read_to_string(&pidfile)
        .expect("the hook wrote its child's pid")
        .trim()
        .parse()
        .expect("pid");
    let gone = wait_until(Duration::from_secs(5), || {
        let alive = std::fs::read_to_string(format!("/proc/{child}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false);
        (!alive).then_some(())
    });
    assert!(
        gone.is_some(),
        "the hook's background child {child} survived the timeout"
    );
    berthd
        .wait_log(
            "timed out; its process group was killed",
            Duration::from_secs(5),
        )
        .expect("and logged");
}

#[test]
fn a_slow_hook_does_not_delay_dhcp_replies() {
    let Some(lab) = lab("a_slow_hook_does_not_delay_dhcp_replies") else {
        return;
    };
    // Each commit's hook marks its start, then takes a minute; one runs at a time.
    let h = HookDir::new(
        r#"touch "$(dirname "$0")/started-$3"; sleep 60; touch "$(dirname "$0")/done-$3""#,
    );
    let mut cfg = ServerConfig::lab();
    cfg.extra = format!(
        "{}\n[hooks]\nmax_concurrent = 1\n",
        hook_toml(&h.hook(), "\"commit\"", "120s")
    );
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let a = lab.add_client(None).expect("client a");
    let dha = Dhclient::start(&a).expect("dhclient a");
    dha.wait_bound(LEASE_WAIT).expect("a gets a lease");
    let started = h.path().join(format!("started-{}", a.mac()));
    wait_until(LEASE_WAIT, || started.exists().then_some(())).expect("a's hook started");

    // While a's hook runs (and b's waits for its turn), b is served.
    let b = lab.add_client(None).expect("client b");
    let udb = Udhcpc::start(&b).expect("udhcpc b");
    udb.wait_bound(LEASE_WAIT)
        .expect("b is served while a's hook runs");
    assert!(
        !h.path().join(format!("done-{}", a.mac())).exists(),
        "b was served while a's hook was still running"
    );
}
