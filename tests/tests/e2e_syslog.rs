//! End-to-end: `[server] log = "local7"` sends berthd's log to syslog. The
//! test stands in for the syslog daemon: it binds the datagram socket that
//! `syslog_socket` names (in a temporary directory, not /dev/log) and reads
//! what berthd sends while it serves a real client.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use berth_tests::netns::netns_command;
use berth_tests::process::{Proc, read_log};
use berth_tests::{Dhclient, Lab, ServerConfig, berthd_bin, require_tools, root_or_skip};

const LEASE_WAIT: Duration = Duration::from_secs(20);

/// Reads datagrams until one contains `needle`; returns it and all read.
fn receive_until(
    sock: &UnixDatagram,
    needle: &str,
    within: Duration,
    seen: &mut Vec<String>,
) -> Option<String> {
    let deadline = Instant::now() + within;
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            seen.push(msg.clone());
            if msg.contains(needle) {
                return Some(msg);
            }
        }
    }
    None
}

#[test]
fn log_local7_goes_to_the_syslog_socket() {
    if !root_or_skip("log_local7_goes_to_the_syslog_socket") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let dir = tempfile::Builder::new()
        .prefix("berth-syslog.")
        .tempdir()
        .expect("tempdir");
    let socket = dir.path().join("syslog");
    let sock = UnixDatagram::bind(&socket).expect("bind the syslog socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let toml = ServerConfig::lab().to_toml_in(dir.path()).replacen(
        "[server]\n",
        &format!(
            "[server]\nlog = \"local7\"\nsyslog_socket = \"{}\"\n",
            socket.display()
        ),
        1,
    );
    let config = dir.path().join("berth.toml");
    std::fs::write(&config, toml).expect("write config");
    let stderr = dir.path().join("stderr.log");
    let mut cmd = netns_command(lab.server_ns(), berthd_bin());
    cmd.arg("--config")
        .arg(&config)
        .args(["--user", "root"])
        .env("NO_COLOR", "1");
    let mut berthd = Proc::spawn("berthd", &mut cmd, &stderr).expect("berthd starts");

    let mut seen = Vec::new();
    let ready = receive_until(&sock, "berthd ready", LEASE_WAIT, &mut seen).unwrap_or_else(|| {
        panic!(
            "no ready line on the syslog socket; got {seen:#?}\nstderr:\n{}",
            read_log(&stderr)
        )
    });
    // local7 (23) * 8 + info (6) = 190, then the RFC 3164 header.
    assert!(ready.starts_with("<190>"), "{ready}");
    let pid = berthd.pid();
    assert!(ready.contains(&format!(" berthd[{pid}]: ")), "{ready}");
    assert!(!ready.ends_with('\n'), "one line per datagram: {ready:?}");

    let c = lab.add_client(None).expect("client");
    let dh = Dhclient::start(&c).expect("dhclient");
    let lease = dh.wait_bound(LEASE_WAIT).expect("a lease");
    let acked = receive_until(&sock, &format!("acked {}", lease.ip), LEASE_WAIT, &mut seen)
        .unwrap_or_else(|| panic!("no ack line on the syslog socket; got {seen:#?}"));
    assert!(acked.starts_with("<190>"), "{acked}");
    assert!(
        !read_log(&stderr).contains("acked"),
        "the log went to syslog, not stderr:\n{}",
        read_log(&stderr)
    );
    let (status, killed) = berthd.terminate(Duration::from_secs(10)).expect("stop");
    assert!(
        !killed && status.success(),
        "berthd stops cleanly: {status}"
    );
}
