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

/// The TUI on `berthd` in a `width`x`height` tmux pane, in UTC and without
/// colours, so the layout is stable.
fn plain_tui(berthd: &Daemon, width: u16, height: u16) -> Tmux {
    let socket = berthd.control_socket().display().to_string();
    let berth = berth_bin().display().to_string();
    Tmux::start(
        Path::new("env"),
        [
            "TZ=UTC",
            "NO_COLOR=1",
            berth.as_str(),
            "--socket",
            socket.as_str(),
        ],
        width,
        height,
    )
    .expect("tmux")
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

/// The issue's flow: a real dhclient arrives, the arrival shows, `p` opens
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
    let tui = plain_tui(&berthd, 100, 30);
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

/// The phone's class: TFTP server and boot file for vendor class `snom*`.
const SNOM_CLASS: &str = r#"
[[class]]
name = "snom"
match = { vendor_class_prefix = "snom" }
next_server = "192.0.2.1"
[class.options]
tftp-server-name = "192.0.2.1"
bootfile-name = "snom/{vendor_class}.htm"
"#;

/// The quarantine list as `berth quarantine --json` prints it.
fn quarantined(d: &Daemon) -> Vec<serde_json::Value> {
    let text = d.ctl(&["--json", "quarantine"]);
    serde_json::from_str::<serde_json::Value>(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Issue 12's views against a real berthd: a squatter the start-up sweep
/// found stands out on the pools view; `e` on the snom phone's lease shows
/// its class's options with their scope; an address a probe found in use is
/// on the quarantine view, and clearing it there (confirmed) frees it: the
/// next client gets it.
#[test]
fn tui_shows_a_squatter_explains_the_phone_and_clears_a_quarantine() {
    if !root_or_skip("tui_shows_a_squatter_explains_the_phone_and_clears_a_quarantine") {
        return;
    }
    require_tools(&["dhclient", "udhcpc", "ip", "tmux"]);
    let lab = Lab::new().expect("lab");
    // Holds .100 by hand before berthd starts: the first sweep finds it.
    let squatter = lab.add_client(None).expect("squatter ns");
    squatter
        .add_addr("192.0.2.100/24")
        .expect("squatter takes a pool address");
    let mut cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.110");
    cfg.extra = SNOM_CLASS.to_string();
    cfg.server_extra = "arp_probe_timeout = \"300ms\"".into();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    berthd
        .wait_log("ARP sweep done", Duration::from_secs(15))
        .expect("the start-up sweep finishes");

    let tui = plain_tui(&berthd, 120, 36);
    tui.wait_for(&["Arrivals", "connected"], SCREEN_WAIT)
        .expect("the TUI connects");

    // The pools view: the squatter stands out, with the sweep's figures.
    tui.send_keys(&["4"]).expect("send 4");
    wait_line(
        &tui,
        &["SQUATTER", "192.0.2.100", squatter.mac()],
        SCREEN_WAIT,
    );
    wait_line(&tui, &["last sweep", "answered"], SCREEN_WAIT);

    // A snom phone: `e` on its lease explains its class.
    let phone_ns = lab.add_client(None).expect("phone ns");
    let phone = berth_tests::Udhcpc::start_with(
        &phone_ns,
        berth_tests::UdhcpcOptions {
            vendor_class: Some("snom370".into()),
            ..berth_tests::UdhcpcOptions::default()
        },
    )
    .expect("udhcpc starts");
    phone.wait_bound(LEASE_WAIT).expect("the phone's lease");
    tui.send_keys(&["2", "/"]).expect("send 2 /");
    tui.send_keys(&[phone_ns.mac(), "Enter"]).expect("filter");
    wait_line(&tui, &[phone_ns.mac(), "dynamic"], SCREEN_WAIT);
    tui.send_keys(&["e"]).expect("send e");
    wait_line(&tui, &["classes", "snom"], SCREEN_WAIT);
    wait_line(
        &tui,
        &["tftp-server-name (66)", "192.0.2.1", "class snom"],
        SCREEN_WAIT,
    );
    wait_line(
        &tui,
        &["bootfile-name (67)", "snom/snom370.htm", "class snom"],
        SCREEN_WAIT,
    );
    // Two separate presses (one after the other could read as Alt-Esc).
    tui.send_keys(&["Escape"]).expect("close the window");
    std::thread::sleep(Duration::from_millis(500));
    tui.send_keys(&["Escape"]).expect("clear the filter");

    // A second squatter comes after the sweep: the pre-offer probe finds it
    // and quarantines its address; the client gets the next one.
    let late = lab.add_client(None).expect("late squatter ns");
    let taken = quarantine_candidate(&berthd);
    late.add_addr(&format!("{taken}/24"))
        .expect("late squatter takes the next free address");
    let c1 = lab.add_client(None).expect("client ns");
    let d1 = Dhclient::start(&c1).expect("dhclient");
    let l1 = d1
        .wait_bound(LEASE_WAIT)
        .expect("a lease past the quarantine");
    assert_ne!(l1.ip.to_string(), taken);
    let q = quarantined(&berthd);
    assert!(
        q.iter()
            .any(|e| e["ip"] == taken.as_str() && e["reason"] == "probe_hit"),
        "{q:#?}"
    );

    // The quarantine view lists it; `c` asks first, Enter clears it.
    late.ns()
        .ip(&["addr", "del", &format!("{taken}/24"), "dev", late.iface()])
        .expect("the late squatter leaves");
    tui.send_keys(&["5"]).expect("send 5");
    wait_line(&tui, &[&taken, "probe hit", late.mac()], SCREEN_WAIT);
    tui.send_keys(&["c"]).expect("send c");
    tui.wait_for(&["Clear the quarantine of", &taken], SCREEN_WAIT)
        .expect("a confirm first");
    assert!(
        quarantined(&berthd)
            .iter()
            .any(|e| e["ip"] == taken.as_str()),
        "nothing cleared before the confirm"
    );
    tui.send_keys(&["Enter"]).expect("confirm");
    wait_line(&tui, &["cleared the quarantine of", &taken], SCREEN_WAIT);
    assert!(quarantined(&berthd).is_empty());

    // Free again: the next client gets it.
    let c2 = lab.add_client(None).expect("client ns");
    let d2 = Dhclient::start(&c2).expect("dhclient");
    let l2 = d2.wait_bound(LEASE_WAIT).expect("a lease");
    assert_eq!(l2.ip.to_string(), taken, "the cleared address is offered");

    tui.send_keys(&["q"]).expect("send q");
    assert!(tui.wait_exit(Duration::from_secs(10)), "q quits the TUI");
}

/// The address the next DISCOVER would be offered (explain allocates
/// nothing): the one a squatter must take to be caught by the probe.
fn quarantine_candidate(d: &Daemon) -> String {
    let text = d.ctl(&["--json", "explain", "02:00:00:00:99:01"]);
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    v["address"]
        .as_str()
        .unwrap_or_else(|| panic!("no address to offer: {text}"))
        .to_string()
}
