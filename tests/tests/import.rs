//! `berth import` end to end: the real `berth` binary converts real-world-
//! shaped files, and the real `berthd check-config` accepts what it prints.
//! No root or network needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use berth_tests::{berth_bin, check_config};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Runs `berth import FORMAT FILE --interface eth1`; returns (stdout, stderr).
fn import(format: &str, file: &Path) -> (String, String) {
    let out = Command::new(berth_bin())
        .args(["import", format])
        .arg(file)
        .args(["--interface", "eth1"])
        .output()
        .expect("berth runs");
    assert!(
        out.status.success(),
        "berth import {format} failed: {out:?}"
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `toml` and runs the real `berthd check-config` on it.
fn passes_check_config(toml: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("imported.toml");
    std::fs::write(&path, toml).expect("write");
    let out = check_config(&path).expect("berthd check-config runs");
    assert!(
        out.status.success(),
        "check-config refuses the import:\n{}\n{toml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_office_dhcpd_conf_imports_to_a_valid_config() {
    let file = repo("tui/src/import/testdata/office.dhcpd.conf");
    let (toml, notes) = import("isc-dhcpd", &file);
    let name = file.display().to_string();
    assert!(
        notes.lines().all(|l| l.starts_with(&format!("{name}:"))),
        "every note names the file and line:\n{notes}"
    );
    assert!(notes.contains(":8: not converted: `include"), "{notes}");
    assert!(
        notes.contains(":9: not converted: `failover peer"),
        "{notes}"
    );
    passes_check_config(&toml);
}

#[test]
fn a_dnsmasq_conf_without_tags_imports_to_a_valid_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("dnsmasq.conf");
    std::fs::write(
        &file,
        "dhcp-authoritative\ndhcp-range=192.0.2.50,192.0.2.150,255.255.255.0,24h\n\
         dhcp-option=option:router,192.0.2.1\ndhcp-option=option:dns-server,192.0.2.1\n\
         dhcp-host=02:00:00:00:00:01,192.0.2.10,printer\nno-resolv\n",
    )
    .expect("write");
    let (toml, notes) = import("dnsmasq", &file);
    assert!(notes.contains(":6: not converted: `no-resolv`"), "{notes}");
    passes_check_config(&toml);
}

#[test]
fn a_staticdhcpd_database_imports_to_a_valid_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("dhcp.sqlite3");
    let db = rusqlite::Connection::open(&file).expect("db");
    db.execute_batch(berth::import::staticdhcpd::SCHEMA)
        .expect("schema");
    db.execute_batch(
        "INSERT INTO subnets VALUES ('192.0.2.0/24', 0, 86400, '192.0.2.1', '255.255.255.0',
           NULL, NULL, '192.0.2.1', 'example.org');
         INSERT INTO maps VALUES ('02:00:00:00:00:01', '192.0.2.10', 'printer', '192.0.2.0/24', 0);
         INSERT INTO maps VALUES ('02:00:00:00:00:02', '192.0.2.11', NULL, '192.0.2.0/24', 0);",
    )
    .expect("schema");
    drop(db);
    let (toml, notes) = import("staticdhcpd", &file);
    assert!(notes.is_empty(), "{notes}");
    passes_check_config(&toml);
}

#[test]
fn the_seed_dhcpd_conf_imports_to_a_valid_config() {
    let (toml, _) = import("isc-dhcpd", &repo("contrib/examples/isc-bundle.dhcpd.conf"));
    passes_check_config(&toml);
}

#[test]
fn a_dnsmasq_conf_with_tags_imports_to_a_valid_config() {
    let (toml, _) = import(
        "dnsmasq",
        &repo("tui/src/import/testdata/office.dnsmasq.conf"),
    );
    passes_check_config(&toml);
}
