//! End-to-end: the `berth` TUI, driven for real in tmux, against berthd
//! with real clients in the lab.

use std::path::Path;
use std::time::{Duration, Instant};

use berth_tests::{
    Daemon, Dhclient, Lab, Lease, ServerConfig, Tmux, berth_bin, require_tools, root_or_skip,
    wait_until,
};

const KNOWN_MAC: &str = "02:00:00:00:00:01";
const LEASE_WAIT: Duration = Duration::from_secs(20);
const SCREEN_WAIT: Duration = Duration::from_secs(15);
/// How long a promoted client may take to show up on its static address.
const MOVE_WAIT: Duration = Duration::from_secs(40);
/// How often the promote test looks at the screen.
const POLL_SCREEN: Duration = Duration::from_millis(500);
/// Outside the lab pool (.100-.102), inside its subnet.
const STATIC_IP: &str = "192.0.2.20";
const HOSTNAME: &str = "tuiguest";

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

/// The first screen line that contains every one of `needles`.
fn line_with<'a>(screen: &'a str, needles: &[&str]) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
}

/// Polls the screen every 500 ms until one line contains all of `needles`;
/// returns the screen. Panics with the last screen after `timeout`.
fn wait_line(tui: &Tmux, needles: &[&str], timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        last = tui.capture().unwrap_or(last);
        if line_with(&last, needles).is_some() {
            return last;
        }
        if Instant::now() >= deadline {
            panic!(
                "no screen line shows all of {needles:?} within {timeout:?}; the screen:\n{last}"
            );
        }
        std::thread::sleep(POLL_SCREEN);
    }
}

/// The flow: a real dhclient arrives, the arrival shows, `p` opens
/// the promote dialog prefilled with the client's address, the operator
/// types a static address outside the pool and a name, Enter; the host shows
/// as a run-time (`store`) host, and after the client's next renewal (NAKed,
/// so it starts over) its lease is the static address.
#[test]
fn tui_promotes_an_arrival_and_the_client_moves_to_its_static_address() {
    if !root_or_skip("tui_promotes_an_arrival_and_the_client_moves_to_its_static_address") {
        return;
    }
    require_tools(&["dhclient", "ip", "tmux"]);
    let lab = Lab::new().expect("lab");
    // Short leases: the client renews (T1) after ~5 s.
    let mut cfg = ServerConfig::lab().lease("10s");
    cfg.min_lease = "5s".into();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    // A fixed size, time zone and no colours: a stable layout.
    let socket = berthd.control_socket().display().to_string();
    let berth = berth_bin().display().to_string();
    let tui = Tmux::start(
        Path::new("env"),
        [
            "TZ=UTC",
            "NO_COLOR=1",
            berth.as_str(),
            "--socket",
            socket.as_str(),
        ],
        100,
        30,
    )
    .expect("tmux");
    tui.wait_for(&["Arrivals", "connected"], SCREEN_WAIT)
        .expect("the TUI connects");

    // A real client arrives, unknown: `NEW` on the arrivals view.
    let guest = lab.add_client(None).expect("guest ns");
    let mac = guest.mac().to_string();
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    wait_line(&tui, &["NEW", &mac], SCREEN_WAIT);
    let (bound_at, r) = dg
        .wait_reason(&["BOUND"], 0, LEASE_WAIT)
        .expect("guest lease");
    let before = Lease::from_dhclient(&r).expect("BOUND record");
    let old_ip = before.ip.to_string();
    assert_ne!(
        old_ip, STATIC_IP,
        "the pool does not hold the static address"
    );
    wait_line(&tui, &[&mac, &old_ip], SCREEN_WAIT);

    // `p` on the arrival (the newest line is selected). Until the TUI has
    // reloaded the lease the arrival belongs to, it says there is nothing to
    // promote; then press again.
    let deadline = Instant::now() + SCREEN_WAIT;
    let dialog = loop {
        tui.send_keys(&["p"]).expect("send p");
        let open = wait_until(Duration::from_secs(2), || {
            let s = tui.capture().unwrap_or_default();
            s.contains("Promote to static host").then_some(s)
        });
        if let Some(s) = open {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "`p` did not open the promote dialog; the screen:\n{}",
            tui.capture().unwrap_or_default()
        );
        tui.send_keys(&["Escape"]).expect("send Escape");
    };
    assert!(
        line_with(&dialog, &["now at", &old_ip]).is_some()
            && line_with(&dialog, &["static IP", &old_ip]).is_some()
            && line_with(&dialog, &["MAC", &mac]).is_some(),
        "the dialog is prefilled with the client's MAC and current address:\n{dialog}"
    );

    // Clear the address field (C-u), type the static address; Tab to the
    // hostname, clear it, type a name; check the form, then Enter.
    tui.send_keys(&["C-u"]).expect("send C-u");
    tui.send_keys(&[STATIC_IP]).expect("type the static IP");
    tui.send_keys(&["Tab", "C-u"]).expect("send Tab C-u");
    tui.send_keys(&[HOSTNAME]).expect("type the hostname");
    let form = wait_line(&tui, &["hostname", HOSTNAME], SCREEN_WAIT);
    assert!(
        line_with(&form, &["static IP", STATIC_IP]).is_some(),
        "the address field holds the typed address:\n{form}"
    );
    tui.send_keys(&["Enter"]).expect("send Enter");
    let done = tui
        .wait_for(
            &[&format!(
                "promoted {HOSTNAME} to {STATIC_IP} (moves from {old_ip}"
            )],
            SCREEN_WAIT,
        )
        .expect("the TUI reports the promotion");
    assert!(
        !done.contains("Promote to static host"),
        "the dialog closed:\n{done}"
    );
    // The feed shows the promotion, and that the client is to move.
    wait_line(
        &tui,
        &["promote", &mac, STATIC_IP, "moving from", &old_ip],
        SCREEN_WAIT,
    );

    // Hosts view: the new host, from the store (added at run time).
    tui.send_keys(&["3"]).expect("send 3");
    wait_line(&tui, &[HOSTNAME, STATIC_IP, &mac, "store"], SCREEN_WAIT);

    // Leases view: once the client has renewed (NAKed) and come back, its
    // lease is on the static address, of kind static, bound.
    tui.send_keys(&["2"]).expect("send 2");
    let screen = wait_line(&tui, &[STATIC_IP, &mac, "static", "bound"], MOVE_WAIT);
    assert!(
        line_with(&screen, &[&old_ip, &mac, "bound"]).is_none(),
        "the old dynamic lease is no longer bound:\n{screen}"
    );

    // And the real client says so: its latest address is the static one.
    let moved = (0..10).find_map(|_| {
        let (_, r) = dg
            .wait_reason(
                &["BOUND", "RENEW", "REBIND", "REBOOT"],
                bound_at + 1,
                LEASE_WAIT,
            )
            .ok()?;
        let l = Lease::from_dhclient(&r).ok()?;
        (l.ip.to_string() == STATIC_IP).then_some(l)
    });
    assert!(
        moved.is_some(),
        "dhclient did not end on {STATIC_IP}; its records: {:?}",
        dg.records()
            .iter()
            .map(|r| format!("{} {}", r.reason(), r.get("new_ip_address").unwrap_or("-")))
            .collect::<Vec<_>>()
    );
    let last = dg
        .records()
        .iter()
        .rev()
        .find_map(|r| r.get("new_ip_address").map(str::to_string));
    assert_eq!(
        last.as_deref(),
        Some(STATIC_IP),
        "dhclient's latest address is the static one"
    );

    tui.send_keys(&["q"]).expect("send q");
    assert!(tui.wait_exit(Duration::from_secs(10)), "q quits the TUI");
}
