//! End-to-end: berthd started as root outside systemd binds port 67,
//! switches to an unprivileged user, keeps only CAP_NET_RAW and
//! CAP_NET_ADMIN (no CAP_NET_BIND_SERVICE once bound), and still serves
//! (unicast replies need CAP_NET_ADMIN to prime the ARP cache).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_tests::netns::netns_command;
use berth_tests::process::{Proc, read_log, wait_until};
use berth_tests::{Dhclient, Lab, ServerConfig, berthd_bin, root_or_skip};

/// CAP_NET_ADMIN (12), CAP_NET_RAW (13).
const KEPT_CAPS: u64 = (1 << 12) | (1 << 13);
/// CAP_NET_BIND_SERVICE: only while binding port 67.
const NET_BIND_SERVICE: u64 = 1 << 10;
/// CAP_SETPCAP: only to trim the bounding set after binding.
const SETPCAP: u64 = 1 << 8;

/// A field of /proc/PID/status, e.g. "Uid" or "CapEff".
fn proc_status(pid: u32, field: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

/// Starts berthd as root in the lab's server namespace with `--user user`,
/// its config and log in `dir` and its store and socket in `state`
/// (berthd, not the test bed, does the privilege drop here).
fn spawn_berthd(lab: &Lab, dir: &Path, state: &Path, user: &str) -> (Proc, PathBuf) {
    spawn_berthd_via(lab, dir, state, &[], &["--user", user])
}

/// Starts berthd in the lab's server namespace through `wrapper` (a
/// command and its arguments, ending in `--`; empty for none) with
/// `args` after `--config FILE`.
fn spawn_berthd_via(
    lab: &Lab,
    dir: &Path,
    state: &Path,
    wrapper: &[&str],
    args: &[&str],
) -> (Proc, PathBuf) {
    let cfg = ServerConfig {
        control_socket: Some(state.join("control.sock")),
        ..ServerConfig::lab()
    };
    let config = dir.join("berth.toml");
    fs::write(&config, cfg.to_toml(&state.join("leases.db"))).expect("config");
    let log = dir.join("berthd.log");
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = netns_command(lab.server_ns(), program);
            c.args(rest).arg(berthd_bin());
            c
        }
        None => netns_command(lab.server_ns(), berthd_bin()),
    };
    cmd.arg("--config")
        .arg(&config)
        .args(args)
        .env("NO_COLOR", "1");
    let berthd = Proc::spawn("berthd", &mut cmd, &log).expect("berthd spawns");
    (berthd, log)
}

/// Waits for berthd's "ready" line in `log`.
fn wait_ready(log: &Path) {
    let ready = wait_until(Duration::from_secs(20), || {
        read_log(log).contains("berthd ready").then_some(())
    });
    assert!(
        ready.is_some(),
        "berthd not ready; its log:\n{}",
        read_log(log)
    );
}

/// A dhclient gets a pool lease from the unprivileged berthd, which then
/// stops cleanly on SIGTERM.
fn serves_then_stops(lab: &Lab, berthd: &mut Proc, log: &Path) {
    let client = lab.add_client(None).expect("client");
    let dh = Dhclient::start(&client).expect("dhclient");
    let lease = dh.wait_bound(Duration::from_secs(20)).unwrap_or_else(|e| {
        panic!(
            "no lease from the unprivileged berthd: {e}\n{}",
            read_log(log)
        )
    });
    assert!(lease.ip.to_string().starts_with("192.0.2.10"), "{lease:?}");
    let (status, killed) = berthd.terminate(Duration::from_secs(10)).expect("stop");
    assert!(
        !killed && status.success(),
        "clean exit expected: {status}\n{}",
        read_log(log)
    );
}

/// Every thread's `field` capability mask of process `pid`.
fn task_caps(pid: u32, field: &str) -> Vec<(String, u64)> {
    fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .filter_map(|t| {
            let tid = t.ok()?.file_name().to_string_lossy().into_owned();
            let status = fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
            let v = status
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{field}:")))
                .map(|v| u64::from_str_radix(v.trim(), 16).unwrap_or(u64::MAX))?;
            Some((tid, v))
        })
        .collect()
}

#[test]
fn root_berthd_drops_to_an_unprivileged_user_with_only_network_capabilities() {
    if !root_or_skip("root_berthd_drops_to_an_unprivileged_user_with_only_network_capabilities") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let dir = tempfile::Builder::new()
        .prefix("berth-priv.")
        .tempdir()
        .expect("tempdir");
    // `nobody` must reach its state directory: the tempdir is root's 0700.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    // Not created yet: berthd creates it and hands it to the user.
    let state = dir.path().join("state");
    let (mut berthd, log) = spawn_berthd(&lab, dir.path(), &state, "nobody");
    wait_ready(&log);

    let pid = berthd.pid();
    let uid = proc_status(pid, "Uid").expect("Uid line");
    assert!(
        uid.split_whitespace().all(|u| u == "65534"),
        "berthd should run as nobody (65534) in every uid slot, has Uid: {uid}"
    );
    for set in ["CapEff", "CapPrm"] {
        let caps = proc_status(pid, set).expect("capability line");
        let caps = u64::from_str_radix(&caps, 16).expect("hex capability mask");
        assert_eq!(
            caps, KEPT_CAPS,
            "{set} should be exactly NET_ADMIN, NET_RAW ({KEPT_CAPS:#x}), is {caps:#x}"
        );
    }
    // Every thread, not only the main one: capabilities are per thread.
    for set in ["CapEff", "CapPrm", "CapBnd"] {
        for (tid, caps) in task_caps(pid, set) {
            assert_eq!(
                caps, KEPT_CAPS,
                "thread {tid} has other capabilities in {set}"
            );
            assert_eq!(
                caps & NET_BIND_SERVICE,
                0,
                "thread {tid} kept CAP_NET_BIND_SERVICE in {set}"
            );
        }
    }
    // Nothing outside the kept set can come back, even through exec.
    let bounding = proc_status(pid, "CapBnd").expect("CapBnd line");
    let bounding = u64::from_str_radix(&bounding, 16).expect("hex capability mask");
    assert_eq!(
        bounding, KEPT_CAPS,
        "CapBnd should hold only the kept capabilities ({KEPT_CAPS:#x}), is {bounding:#x}"
    );
    assert!(
        read_log(&log).contains("dropped root"),
        "log:\n{}",
        read_log(&log)
    );

    // Still serving, with the ARP-primed unicast reply path.
    serves_then_stops(&lab, &mut berthd, &log);
}

#[test]
fn root_berthd_refuses_to_start_when_its_user_does_not_exist() {
    if !root_or_skip("root_berthd_refuses_to_start_when_its_user_does_not_exist") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let dir = tempfile::Builder::new()
        .prefix("berth-priv.")
        .tempdir()
        .expect("tempdir");
    let (mut berthd, log) = spawn_berthd(&lab, dir.path(), dir.path(), "no-such-berth-user");
    let exited = berthd.wait_exit(Duration::from_secs(20)).expect("wait");
    let text = read_log(&log);
    let Some(status) = exited else {
        let _ = berthd.terminate(Duration::from_secs(10));
        panic!("berthd kept running as root although its user does not exist; log:\n{text}");
    };
    assert!(!status.success(), "berthd should fail: {status}\n{text}");
    assert!(
        text.contains("no-such-berth-user") && text.contains("does not exist"),
        "the error should name the missing user; log:\n{text}"
    );
    assert!(
        !text.contains("berthd ready"),
        "it must not serve; log:\n{text}"
    );
}

/// As systemd runs it: an unprivileged user with CAP_NET_BIND_SERVICE,
/// CAP_NET_RAW, CAP_NET_ADMIN and CAP_SETPCAP as ambient capabilities and
/// bounding set (setpriv plays systemd). Once port 67 is bound,
/// CAP_NET_BIND_SERVICE and CAP_SETPCAP are gone from every thread's
/// effective, permitted, inheritable, ambient and bounding sets.
#[test]
fn unprivileged_berthd_gives_up_net_bind_service_once_bound() {
    if !root_or_skip("unprivileged_berthd_gives_up_net_bind_service_once_bound") {
        return;
    }
    berth_tests::require_tools(&["setpriv", "dhclient"]);
    let lab = Lab::new().expect("lab");
    let dir = tempfile::Builder::new()
        .prefix("berth-priv.")
        .tempdir()
        .expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let state = dir.path().join("state");
    fs::create_dir(&state).expect("state dir");
    nix::unistd::chown(
        &state,
        Some(nix::unistd::Uid::from_raw(65534)),
        Some(nix::unistd::Gid::from_raw(65534)),
    )
    .expect("chown state");
    let caps = "+net_bind_service,+net_raw,+net_admin,+setpcap";
    let inh = format!("--inh-caps={caps}");
    let amb = format!("--ambient-caps={caps}");
    let bnd = format!("--bounding-set=-all,{caps}");
    let wrapper = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        &inh,
        &amb,
        &bnd,
        "--",
    ];
    let (mut berthd, log) = spawn_berthd_via(&lab, dir.path(), &state, &wrapper, &[]);
    wait_ready(&log);
    let pid = berthd.pid();
    for set in ["CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"] {
        for (tid, caps) in task_caps(pid, set) {
            assert_eq!(
                caps & (NET_BIND_SERVICE | SETPCAP),
                0,
                "thread {tid} kept CAP_NET_BIND_SERVICE or CAP_SETPCAP in {set} ({caps:#x})"
            );
        }
    }
    let bounding = task_caps(pid, "CapBnd");
    assert!(
        bounding.iter().all(|(_, c)| *c == KEPT_CAPS),
        "every thread's bounding set holds only NET_RAW and NET_ADMIN: {bounding:?}"
    );
    let eff = task_caps(pid, "CapEff");
    assert!(
        eff.iter().all(|(_, c)| *c == KEPT_CAPS),
        "every thread keeps NET_RAW and NET_ADMIN: {eff:?}"
    );
    serves_then_stops(&lab, &mut berthd, &log);
}
