//! End-to-end: configuration errors.

use std::fs;
use std::time::Duration;

use berth_tests::netns::netns_command;
use berth_tests::process::{Proc, read_log};
use berth_tests::{Lab, ServerConfig, berthd_bin, check_config, root_or_skip};

fn duplicate_mac_config(dir: &std::path::Path) -> String {
    ServerConfig::lab()
        .host("printer", "02:00:00:00:00:aa", "192.0.2.20")
        .host("scanner", "02:00:00:00:00:AA", "192.0.2.21")
        .to_toml_in(dir)
}

/// `FILE:LINE:COL: message` for `file`.
fn has_located_line(out: &str, file: &std::path::Path) -> bool {
    let prefix = format!("{}:", file.display());
    out.lines().any(|l| {
        l.find(&prefix).is_some_and(|at| {
            let mut parts = l[at + prefix.len()..].splitn(3, ':');
            let line = parts.next().unwrap_or("");
            let col = parts.next().unwrap_or("");
            !line.is_empty()
                && line.bytes().all(|b| b.is_ascii_digit())
                && !col.is_empty()
                && col.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// `berthd check-config FILE`: how it exited, and what it printed.
fn checked(file: &std::path::Path) -> (std::process::Output, String) {
    let out = check_config(file).expect("berthd check-config runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn check_config_accepts_the_lab_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("berth.toml");
    let cfg = ServerConfig::lab().host("known1", "02:00:00:00:00:01", "192.0.2.10");
    fs::write(&file, cfg.to_toml_in(dir.path())).expect("write config");
    let out = check_config(&file).expect("berthd check-config runs");
    assert!(
        out.status.success(),
        "check-config rejected a valid config ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_config_rejects_duplicate_mac_naming_both_hosts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("berth.toml");
    fs::write(&file, duplicate_mac_config(dir.path())).expect("write config");
    let (out, text) = checked(&file);
    assert!(
        !out.status.success(),
        "check-config accepted a duplicate MAC:\n{text}"
    );
    assert!(text.contains("printer"), "names the first host:\n{text}");
    assert!(text.contains("scanner"), "names the second host:\n{text}");
    assert!(
        has_located_line(&text, &file),
        "has a FILE:LINE:COL: line:\n{text}"
    );
}

#[test]
fn berthd_refuses_to_start_with_duplicate_mac() {
    // Inside a namespace: should berthd wrongly start, it binds nothing outside it.
    if !root_or_skip("berthd_refuses_to_start_with_duplicate_mac") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("berth.toml");
    fs::write(&file, duplicate_mac_config(dir.path())).expect("write config");
    let log = dir.path().join("berthd.log");
    let mut cmd = netns_command(lab.server_ns(), berthd_bin());
    cmd.arg("--config").arg(&file).env("NO_COLOR", "1");
    let mut p = Proc::spawn("berthd", &mut cmd, &log).expect("start berthd");
    let status = p
        .wait_exit(Duration::from_secs(15))
        .expect("wait for berthd");
    let text = read_log(&log);
    let status =
        status.unwrap_or_else(|| panic!("berthd kept running with a duplicate MAC:\n{text}"));
    assert!(
        !status.success(),
        "berthd exited 0 with a duplicate MAC:\n{text}"
    );
    assert!(
        text.contains("printer") && text.contains("scanner"),
        "names both hosts:\n{text}"
    );
}

#[test]
fn located_line_helper() {
    let f = std::path::Path::new("/tmp/a/berth.toml");
    assert!(has_located_line(
        "error: /tmp/a/berth.toml:12:7: duplicate",
        f
    ));
    assert!(!has_located_line("/tmp/a/berth.toml: duplicate", f));
}

#[test]
fn check_config_locates_a_bad_metrics_listen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("berth.toml");
    let mut cfg = ServerConfig::lab();
    cfg.extra = "[metrics]\nlisten = \"localhost\"\n".into();
    fs::write(&file, cfg.to_toml_in(dir.path())).expect("write config");
    let (out, text) = checked(&file);
    assert!(
        !out.status.success(),
        "accepted a listen without a port:\n{text}"
    );
    assert!(has_located_line(&text, &file), "FILE:LINE:COL:\n{text}");
    assert!(text.contains("`localhost` is not address:port"), "{text}");
}
