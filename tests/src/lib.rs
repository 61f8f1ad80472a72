//! berth-tests: an end-to-end test bed for Berth.
//!
//! Tests build a [`Lab`] (network namespaces joined by a bridge), start the
//! real `berthd` in it with a [`Daemon`], and run real clients ([`Dhclient`],
//! [`Udhcpc`], perfdhcp) in client namespaces. All DHCP traffic stays inside
//! namespaces the test created, on documentation address ranges; everything
//! is removed again on drop, also when a test panics.
//!
//! ```no_run
//! use std::time::Duration;
//! use berth_tests::*;
//!
//! if !root_or_skip("example") { return; }
//! let lab = Lab::new().expect("lab");
//! let cfg = ServerConfig::lab().host("known1", "02:00:00:00:00:01", "192.0.2.10");
//! let _berthd = Daemon::start(&lab, &cfg).expect("berthd");
//! let c = lab.add_client(Some("02:00:00:00:00:01")).expect("client");
//! let dh = Dhclient::start(&c).expect("dhclient");
//! let lease = dh.wait_bound(Duration::from_secs(15)).expect("lease");
//! assert_eq!(lease.ip.to_string(), "192.0.2.10");
//! ```

pub mod api;
pub mod bench;
pub mod clients;
pub mod daemon;
pub mod diskstat;
pub mod http;
pub mod kea;
pub mod metrics;
pub mod netns;
pub mod pcap;
pub mod perfdhcp;
pub mod postgres;
pub mod process;
pub mod procstat;
pub mod ratesearch;
pub mod store;
pub mod tmpfs;
pub mod tmux;

use std::io::Write;
use std::path::PathBuf;

pub use api::Api;
pub use clients::{Dhclient, DhclientOptions, Lease, Record, Udhcpc, UdhcpcOptions, have_tool};
pub use daemon::{
    Daemon, DaemonOptions, HostConfig, READY_PATTERNS, ServerConfig, SubnetConfig, check_config,
};
pub use netns::{ClientNs, Lab, LabNet, Netns, random_mac};
pub use process::wait_until;
pub use tmux::Tmux;

/// Finds a workspace binary: `$env_var` if set, else `name` in the target
/// profile directory of the running test executable
/// (`target/<profile>/deps/xxx` -> `target/<profile>/<name>`).
pub fn workspace_bin(name: &str, env_var: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{env_var}={} does not name a file; build it with `cargo build --workspace --bins`",
            p.display()
        );
        return p;
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == "deps"))
        .and_then(|d| d.parent())
        .or_else(|| exe.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let p = profile_dir.join(name);
    assert!(
        p.is_file(),
        "{name} not found at {}: run `cargo build --workspace --bins` first \
         (or set {env_var} to the binary)",
        p.display()
    );
    p
}

/// The `berthd` binary under test (env `BERTHD_BIN`, else next to the test's target profile dir).
pub fn berthd_bin() -> PathBuf {
    workspace_bin("berthd", "BERTHD_BIN")
}

/// The `berth` TUI/ctl binary (env `BERTH_BIN`, else next to the test's target profile dir).
pub fn berth_bin() -> PathBuf {
    workspace_bin("berth", "BERTH_BIN")
}

/// Are we root (needed for network namespaces)?
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Call first in every test that needs namespaces:
/// `if !root_or_skip("name") { return; }`.
///
/// Root: returns true. Not root and `CI=true`: panics (CI must run these).
/// Otherwise prints a loud SKIPPED line to the real stderr (not captured by
/// the test harness, so it is always seen) and returns false.
pub fn root_or_skip(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: needs root for network namespaces, and CI=true: \
             the end-to-end tests must run in CI (run as root)"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! {test}: SKIPPED (needs root for network namespaces) !!!!!\n"
    );
    false
}

/// Panics with an install hint unless every tool in `names` is installed.
pub fn require_tools(names: &[&str]) {
    for n in names {
        assert!(
            have_tool(n),
            "`{n}` is not installed: run contrib/dev/test.sh once \
             (it installs isc-dhcp-client, udhcpc, kea-admin, iproute2)"
        );
    }
}
