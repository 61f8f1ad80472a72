//! End-to-end: the `berth` TUI, driven for real in tmux, against berthd
//! with real clients in the lab.

use std::time::Duration;

use berth_tests::{
    Daemon, Dhclient, Lab, ServerConfig, Tmux, berth_bin, require_tools, root_or_skip,
};

const KNOWN_MAC: &str = "02:00:00:00:00:01";
const LEASE_WAIT: Duration = Duration::from_secs(20);
const SCREEN_WAIT: Duration = Duration::from_secs(15);

#[test]
fn tui_shows_leases_as_they_arrive_and_quits() {
    if !root_or_skip("tui_shows_leases_as_they_arrive_and_quits") {
        return;
    }
    require_tools(&["dhclient", "ip", "tmux"]);
    let lab = Lab::new().expect("lab");
    let cfg = ServerConfig::lab().host("known1", KNOWN_MAC, "192.0.2.10");
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    let known = lab.add_client(Some(KNOWN_MAC)).expect("known ns");
    let dk = Dhclient::start(&known).expect("dhclient known");
    dk.wait_bound(LEASE_WAIT).expect("known lease");

    // The TUI runs in the root namespace: it only talks to the Unix socket.
    let socket = berthd.control_socket().display().to_string();
    let tui = Tmux::start(&berth_bin(), ["--socket", socket.as_str()], 160, 40).expect("tmux");
    tui.wait_for(&["192.0.2.10", KNOWN_MAC, "known1"], SCREEN_WAIT)
        .expect("the TUI shows the known host's transaction");

    // A new client shows up without any key press (live updates).
    let guest = lab.add_client(None).expect("guest ns");
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    let lg = dg.wait_bound(LEASE_WAIT).expect("guest lease");
    let guest_ip = lg.ip.to_string();
    tui.wait_for(&[&guest_ip, guest.mac()], SCREEN_WAIT)
        .expect("the TUI shows the new client live");

    // The leases tab lists both.
    tui.send_keys(&["2"]).expect("send 2");
    tui.wait_for(
        &["192.0.2.10", KNOWN_MAC, &guest_ip, guest.mac()],
        SCREEN_WAIT,
    )
    .expect("the leases tab lists both leases");

    tui.send_keys(&["q"]).expect("send q");
    assert!(tui.wait_exit(Duration::from_secs(10)), "q quits the TUI");
}
