//! End-to-end: the control API (tarpc over berthd's Unix socket), called
//! from Rust with `berth_proto::transport::connect`, against the real berthd
//! serving real clients in a namespace lab.

use std::fs;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use berth_proto::{
    API_VERSION, ApiError, ErrorKind, Event, EventKind, Gap, HostSpec, LeaseFilter, LeaseKind,
    LeaseState, Origin, Target,
};
use berth_tests::api::ctx_for;
use berth_tests::process::run_output;
use berth_tests::{
    Api, Daemon, Dhclient, DhclientOptions, Lab, Lease, ServerConfig, berth_bin, check_config,
    random_mac, require_tools, root_or_skip, wait_until,
};

const KNOWN_MAC: &str = "02:00:00:00:00:01";
const KNOWN_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const LAB_SUBNET: &str = "192.0.2.0/24";
const POOL: (Ipv4Addr, Ipv4Addr) = (Ipv4Addr::new(192, 0, 2, 100), Ipv4Addr::new(192, 0, 2, 102));
const LEASE_WAIT: Duration = Duration::from_secs(20);

/// The lab config with one config host, `known1` (KNOWN_MAC at KNOWN_IP).
fn lab_config() -> ServerConfig {
    ServerConfig::lab().host("known1", KNOWN_MAC, &KNOWN_IP.to_string())
}

fn connect(d: &Daemon) -> Api {
    Api::connect(d.control_socket()).expect("connect to berthd's control socket")
}

/// Asserts `r` failed with `kind`; returns the error.
#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, ApiError>, kind: ErrorKind, what: &str) -> ApiError {
    match r {
        Ok(v) => panic!("{what}: expected a {kind:?} error, got Ok({v:#?})"),
        Err(e) => {
            assert_eq!(e.kind, kind, "{what}: wrong error kind: {e:?}");
            assert!(!e.message.is_empty(), "{what}: error without a message");
            e
        }
    }
}

/// Every event after `seq` held now.
fn events_after(api: &Api, mut seq: u64) -> Vec<Event> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let b = api.events_since(seq, 0).expect("events_since");
        if b.events.is_empty() {
            break;
        }
        seq = b.last_seq;
        out.extend(b.events);
    }
    out
}

fn events_of(events: &[Event], mac: &str) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.mac.as_deref() == Some(mac))
        .cloned()
        .collect()
}

fn kinds(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{}:{} {}",
                e.seq,
                e.kind.as_str(),
                e.ip.map(|i| i.to_string()).unwrap_or_default()
            )
        })
        .collect()
}

fn counter(status: &berth_proto::Status, name: &str) -> u64 {
    status
        .counters
        .iter()
        .find(|(k, _)| k == name)
        .map_or(0, |(_, v)| *v)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn in_pool(ip: Ipv4Addr) -> bool {
    (POOL.0..=POOL.1).contains(&ip)
}

fn filter() -> LeaseFilter {
    LeaseFilter::default()
}

/// `FILE:LINE:COL` at the start of one of `text`'s lines (after the file
/// name `file`): returns (line, col).
fn located(text: &str, file: &Path) -> Option<(u32, u32)> {
    let prefix = format!("{}:", file.display());
    text.lines().find_map(|l| {
        let at = l.find(&prefix)?;
        let mut parts = l[at + prefix.len()..].splitn(3, ':');
        let line = parts.next()?.parse().ok()?;
        let col = parts.next()?.parse().ok()?;
        Some((line, col))
    })
}

// ---------------------------------------------------------------------------
// 1. Every call.
// ---------------------------------------------------------------------------

#[test]
fn api_status_leases_filters_pools_and_release() {
    if !root_or_skip("api_status_leases_filters_pools_and_release") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let started = now_unix();

    let known = lab.add_client(Some(KNOWN_MAC)).expect("known ns");
    let dk = Dhclient::start(&known).expect("dhclient known");
    let guest = lab.add_client(None).expect("guest ns");
    let dg = Dhclient::start_with(
        &guest,
        DhclientOptions {
            hostname: Some("guest-alpha".into()),
            ..DhclientOptions::default()
        },
    )
    .expect("dhclient guest");
    let lk = dk.wait_bound(LEASE_WAIT).expect("known lease");
    let lg = dg.wait_bound(LEASE_WAIT).expect("guest lease");
    assert_eq!(lk.ip, KNOWN_IP);
    assert!(in_pool(lg.ip), "guest got a pool address: {lg:?}");
    let gmac = guest.mac().to_string();

    let api = connect(&berthd);
    assert_eq!(api.api_version(), API_VERSION);

    // status
    let st = api.status().expect("status");
    assert!(!st.version.is_empty());
    assert_eq!(st.api_version, API_VERSION);
    assert_eq!(st.interfaces.len(), 1, "{st:#?}");
    assert_eq!(st.interfaces[0].name, "br0");
    assert_eq!(st.interfaces[0].addr, Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(st.store_backend, "sqlite");
    assert_eq!(Path::new(&st.store_path), berthd.store_path());
    assert_eq!(Path::new(&st.config_path), berthd.config_path());
    assert_eq!(st.leases_bound, 2, "{st:#?}");
    assert!(st.leases_total >= 2, "{st:#?}");
    assert_eq!((st.hosts_config, st.hosts_store, st.blocked), (1, 0, 0));
    assert!(counter(&st, "acked") >= 2, "two ACKs counted: {st:#?}");
    assert!(
        (started - 30..=now_unix()).contains(&st.started_at),
        "started_at {} is around now {started}",
        st.started_at
    );
    assert!(st.uptime_secs < 120, "{st:#?}");

    // leases, unfiltered: by address, the known host first.
    let all = api.leases(filter()).expect("leases");
    assert_eq!(all.len(), 2, "{all:#?}");
    let (k, g) = (&all[0], &all[1]);
    assert_eq!(k.ip, KNOWN_IP);
    assert_eq!(k.mac, KNOWN_MAC);
    assert_eq!((k.kind, k.state), (LeaseKind::Static, LeaseState::Bound));
    assert_eq!(k.hostname.as_deref(), Some("known1"));
    assert_eq!(k.subnet.as_deref(), Some(LAB_SUBNET));
    assert_eq!(k.moving_to, None);
    assert_eq!(g.ip, lg.ip);
    assert_eq!(g.mac, gmac);
    assert_eq!((g.kind, g.state), (LeaseKind::Dynamic, LeaseState::Bound));
    assert_eq!(g.hostname.as_deref(), Some("guest-alpha"));
    assert!(
        g.ends > g.starts && g.ends > now_unix(),
        "a running lease: {g:#?}"
    );
    assert!(!g.client_id.is_empty());

    // Each filter field, matching and not.
    let ips = |f: LeaseFilter| -> Vec<Ipv4Addr> {
        api.leases(f.clone())
            .unwrap_or_else(|e| panic!("leases({f:?}): {e:?}"))
            .iter()
            .map(|l| l.ip)
            .collect()
    };
    let mac_upper = LeaseFilter {
        mac: Some(gmac.to_uppercase()),
        ..filter()
    };
    assert_eq!(ips(mac_upper), vec![lg.ip], "mac filter (any case)");
    let mac_other = LeaseFilter {
        mac: Some(random_mac()),
        ..filter()
    };
    assert!(ips(mac_other).is_empty());
    let by_ip = LeaseFilter {
        ip: Some(KNOWN_IP),
        ..filter()
    };
    assert_eq!(ips(by_ip), vec![KNOWN_IP]);
    let ip_none = LeaseFilter {
        ip: Some(Ipv4Addr::new(192, 0, 2, 99)),
        ..filter()
    };
    assert!(ips(ip_none).is_empty());
    let host_sub = LeaseFilter {
        hostname: Some("ALPHA".into()),
        ..filter()
    };
    assert_eq!(
        ips(host_sub),
        vec![lg.ip],
        "hostname: case-insensitive substring"
    );
    let host_none = LeaseFilter {
        hostname: Some("nomatch".into()),
        ..filter()
    };
    assert!(ips(host_none).is_empty());
    let subnet = LeaseFilter {
        subnet: Some(LAB_SUBNET.into()),
        ..filter()
    };
    assert_eq!(ips(subnet), vec![KNOWN_IP, lg.ip]);
    let subnet_other = LeaseFilter {
        subnet: Some("198.51.100.0/24".into()),
        ..filter()
    };
    assert!(ips(subnet_other).is_empty());
    let bound = LeaseFilter {
        state: Some(LeaseState::Bound),
        ..filter()
    };
    assert_eq!(ips(bound), vec![KNOWN_IP, lg.ip]);
    let released = LeaseFilter {
        state: Some(LeaseState::Released),
        ..filter()
    };
    assert!(ips(released.clone()).is_empty());
    let all_fields = LeaseFilter {
        subnet: Some(LAB_SUBNET.into()),
        state: Some(LeaseState::Bound),
        mac: Some(gmac.clone()),
        ip: Some(lg.ip),
        hostname: Some("guest".into()),
    };
    assert_eq!(ips(all_fields.clone()), vec![lg.ip], "every field at once");
    let one_off = LeaseFilter {
        ip: Some(KNOWN_IP),
        ..all_fields
    };
    assert!(ips(one_off).is_empty(), "every set field must match");
    refused(
        api.leases(LeaseFilter {
            subnet: Some("not-a-cidr".into()),
            ..filter()
        }),
        ErrorKind::Invalid,
        "leases with a bad subnet",
    );
    refused(
        api.leases(LeaseFilter {
            mac: Some("zz:zz".into()),
            ..filter()
        }),
        ErrorKind::Invalid,
        "leases with a bad mac",
    );

    // pools: one range .100-.102 with the guest in it.
    let pools = api.pools().expect("pools");
    assert_eq!(pools.len(), 1, "{pools:#?}");
    let p = &pools[0];
    assert_eq!(
        (p.subnet.as_str(), p.start, p.end),
        (LAB_SUBNET, POOL.0, POOL.1)
    );
    assert_eq!(p.size, 3);
    assert_eq!((p.leased, p.quarantined, p.free), (1, 0, 2), "{p:#?}");
    assert_eq!(p.leased + p.quarantined + p.free, p.size);

    // release by IP, then by MAC; NotFound when there is none.
    let before_release = api.events_since(0, 0).expect("events").last_seq;
    let r = api.release(Target::Ip(lg.ip)).expect("release by ip");
    assert_eq!((r.ip, r.mac.as_str()), (lg.ip, gmac.as_str()));
    assert_eq!(r.state, LeaseState::Released);
    assert_eq!(ips(released.clone()), vec![lg.ip]);
    refused(
        api.release(Target::Ip(lg.ip)),
        ErrorKind::NotFound,
        "releasing a released lease",
    );
    let r = api
        .release(Target::Mac(KNOWN_MAC.to_uppercase()))
        .expect("release by mac");
    assert_eq!((r.ip, r.state), (KNOWN_IP, LeaseState::Released));
    assert_eq!(ips(released), vec![KNOWN_IP, lg.ip]);
    refused(
        api.release(Target::Mac(random_mac())),
        ErrorKind::NotFound,
        "releasing an unknown MAC",
    );
    refused(
        api.release(Target::Ip(Ipv4Addr::new(192, 0, 2, 150))),
        ErrorKind::NotFound,
        "releasing an unused address",
    );
    refused(
        api.release(Target::Mac("nonsense".into())),
        ErrorKind::Invalid,
        "releasing a malformed MAC",
    );
    assert_eq!(api.status().expect("status").leases_bound, 0);
    let p = &api.pools().expect("pools")[0];
    assert_eq!(
        (p.leased, p.free),
        (0, 3),
        "released address is free: {p:#?}"
    );

    // events_since: what happened, with the operator's releases last.
    let evs = events_after(&api, 0);
    for mac in [KNOWN_MAC, gmac.as_str()] {
        let mine = events_of(&evs, mac);
        let k: Vec<EventKind> = mine.iter().map(|e| e.kind).collect();
        for want in [EventKind::Arrival, EventKind::Offer, EventKind::Ack] {
            assert!(
                k.contains(&want),
                "{mac}: no {want:?} in {:?}",
                kinds(&mine)
            );
        }
    }
    let rel: Vec<&Event> = evs
        .iter()
        .filter(|e| e.seq > before_release && e.kind == EventKind::Release)
        .collect();
    assert_eq!(rel.len(), 2, "two release events: {:?}", kinds(&evs));
    assert_eq!(rel[0].ip, Some(lg.ip));
    assert_eq!(rel[1].ip, Some(KNOWN_IP));
    assert!(evs.windows(2).all(|w| w[0].seq < w[1].seq), "seqs increase");
    let unknown_guest = evs
        .iter()
        .find(|e| e.kind == EventKind::Ack && e.mac.as_deref() == Some(gmac.as_str()))
        .expect("guest ack");
    assert!(unknown_guest.unknown, "the guest is not a known host");
    assert_eq!(unknown_guest.interface.as_deref(), Some("br0"));
}

#[test]
fn api_hosts_add_update_remove_conflicts_and_export() {
    if !root_or_skip("api_hosts_add_update_remove_conflicts_and_export") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let api = connect(&berthd);
    let spec = |name: &str, mac: &str, ip: [u8; 4]| HostSpec {
        name: name.into(),
        mac: mac.into(),
        ip: Ipv4Addr::from(ip),
        options: Vec::new(),
    };

    let hosts = api.hosts().expect("hosts");
    assert_eq!(hosts.len(), 1, "{hosts:#?}");
    let h = &hosts[0];
    assert_eq!(h.name, "known1");
    assert_eq!(h.mac.as_deref(), Some(KNOWN_MAC));
    assert_eq!((h.ip, h.origin), (KNOWN_IP, Origin::Config));
    assert_eq!(h.created_at, None);

    // add
    let mut printer = spec("printer", "02:00:00:00:00:20", [192, 0, 2, 20]);
    printer.options = vec![("routers".into(), "192.0.2.1".into())];
    let added = api.host_add(printer.clone()).expect("host_add printer");
    assert_eq!(added.name, "printer");
    assert_eq!(added.mac.as_deref(), Some("02:00:00:00:00:20"));
    assert_eq!((added.ip, added.origin), (printer.ip, Origin::Store));
    let created = added.created_at.expect("created_at of a store host");
    assert!((now_unix() - created).abs() < 60);
    assert!(
        added
            .options
            .iter()
            .any(|(k, v)| k == "routers" && v.contains("192.0.2.1")),
        "options kept: {added:#?}"
    );
    assert_eq!(api.hosts().expect("hosts").len(), 2);
    assert_eq!(api.status().expect("status").hosts_store, 1);

    // Refusals. Each conflict names the host it collides with. (A second
    // add under a store host's name: see host_add_refuses_the_name_of_a_store_host.)
    let e = refused(
        api.host_add(spec("other", "02:00:00:00:00:22", [192, 0, 2, 10])),
        ErrorKind::Conflict,
        "IP of the config host",
    );
    assert!(e.message.contains("known1"), "names the other host: {e:?}");
    let e = refused(
        api.host_add(spec("other", KNOWN_MAC, [192, 0, 2, 22])),
        ErrorKind::Conflict,
        "MAC of the config host (already static)",
    );
    assert!(e.message.contains("known1"), "names the other host: {e:?}");
    let e = refused(
        api.host_add(spec("other", "02:00:00:00:00:22", [192, 0, 2, 20])),
        ErrorKind::Conflict,
        "IP of a store host",
    );
    assert!(e.message.contains("printer"), "names the other host: {e:?}");
    let e = refused(
        api.host_add(spec("other", "02:00:00:00:00:20", [192, 0, 2, 22])),
        ErrorKind::Conflict,
        "MAC of a store host",
    );
    assert!(e.message.contains("printer"), "names the other host: {e:?}");
    refused(
        api.host_add(spec("known1", "02:00:00:00:00:23", [192, 0, 2, 23])),
        ErrorKind::Conflict,
        "name of the config host",
    );
    refused(
        api.host_add(spec("far", "02:00:00:00:00:24", [198, 51, 100, 5])),
        ErrorKind::Invalid,
        "IP outside every subnet",
    );
    refused(
        api.host_add(spec("badmac", "02:00:00:00:00", [192, 0, 2, 24])),
        ErrorKind::Invalid,
        "malformed MAC",
    );
    refused(
        api.host_add(spec("bad name!", "02:00:00:00:00:24", [192, 0, 2, 24])),
        ErrorKind::Invalid,
        "unusable host name",
    );
    let e = refused(
        api.host_add(spec("my_host", "02:00:00:00:00:24", [192, 0, 2, 24])),
        ErrorKind::Invalid,
        "`_` in a host name (berth-proto's rule, as in the config, ctl and TUI)",
    );
    assert!(e.message.contains("`my_host` contains `_`"), "{e:?}");
    let mut bad_opt = spec("badopt", "02:00:00:00:00:24", [192, 0, 2, 24]);
    bad_opt.options = vec![("no-such-option".into(), "1".into())];
    refused(api.host_add(bad_opt), ErrorKind::Invalid, "unknown option");

    // Config hosts are read-only.
    let e = refused(
        api.host_update("known1", spec("known1", KNOWN_MAC, [192, 0, 2, 11])),
        ErrorKind::ReadOnly,
        "update of a config host",
    );
    assert!(e.message.contains("known1"), "{e:?}");
    refused(
        api.host_remove("known1"),
        ErrorKind::ReadOnly,
        "removal of a config host",
    );
    refused(
        api.host_update(
            "nosuch",
            spec("nosuch", "02:00:00:00:00:25", [192, 0, 2, 25]),
        ),
        ErrorKind::NotFound,
        "update of a missing host",
    );
    refused(
        api.host_remove("nosuch"),
        ErrorKind::NotFound,
        "removal of a missing host",
    );
    assert_eq!(
        api.hosts().expect("hosts").len(),
        2,
        "refusals change nothing"
    );

    // update: new address, then a rename.
    let mut moved = printer.clone();
    moved.ip = Ipv4Addr::new(192, 0, 2, 21);
    let up = api
        .host_update("printer", moved.clone())
        .expect("update ip");
    assert_eq!((up.ip, up.origin), (moved.ip, Origin::Store));
    assert_eq!(up.created_at, Some(created), "an update keeps created_at");
    let mut renamed = moved.clone();
    renamed.name = "printer2".into();
    api.host_update("printer", renamed).expect("rename");
    let names: Vec<(String, Ipv4Addr)> = api
        .hosts()
        .expect("hosts")
        .into_iter()
        .map(|h| (h.name, h.ip))
        .collect();
    assert_eq!(
        names,
        vec![
            ("known1".to_string(), KNOWN_IP),
            ("printer2".to_string(), moved.ip)
        ]
    );
    // The old address is free for another host now.
    api.host_add(spec("scanner", "02:00:00:00:00:26", [192, 0, 2, 20]))
        .expect("the address printer left is free");
    // promote of a static MAC is refused naming the host.
    let e = refused(
        api.promote_to(
            "02:00:00:00:00:26",
            Some(Ipv4Addr::new(192, 0, 2, 27)),
            None,
        ),
        ErrorKind::Conflict,
        "promote of a static MAC",
    );
    assert!(e.message.contains("scanner"), "{e:?}");

    // export: TOML with the store hosts only.
    let text = api.hosts_export().expect("hosts_export");
    let doc: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("hosts_export is not TOML ({e}):\n{text}"));
    let exported = doc
        .get("host")
        .and_then(|h| h.as_array())
        .unwrap_or_else(|| panic!("no [[host]] array in the export:\n{text}"));
    let field = |h: &toml::Value, k: &str| h.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let got: Vec<(Option<String>, Option<String>, Option<String>)> = exported
        .iter()
        .map(|h| (field(h, "name"), field(h, "mac"), field(h, "ip")))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Some("printer2".into()),
                Some("02:00:00:00:00:20".into()),
                Some("192.0.2.21".into())
            ),
            (
                Some("scanner".into()),
                Some("02:00:00:00:00:26".into()),
                Some("192.0.2.20".into())
            ),
        ],
        "export:\n{text}"
    );
    let opts = exported[0]
        .get("options")
        .and_then(|o| o.as_table())
        .unwrap_or_else(|| panic!("printer2 keeps its options:\n{text}"));
    assert!(opts.contains_key("routers"), "{text}");

    // What `berth hosts export >> berthd.toml` does must give a config
    // that berthd accepts.
    let dir = tempfile::tempdir().expect("tempdir");
    let merged = dir.path().join("merged.toml");
    let config = fs::read_to_string(berthd.config_path()).expect("read config");
    fs::write(&merged, format!("{config}\n{text}")).expect("write merged config");
    let out = check_config(&merged).expect("check-config runs");
    assert!(
        out.status.success(),
        "the config with the exported hosts appended is refused:\n{}{}\n--- export ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // remove
    let gone = api.host_remove("printer2").expect("remove");
    assert_eq!(gone.name, "printer2");
    api.host_remove("scanner").expect("remove scanner");
    assert_eq!(api.hosts().expect("hosts").len(), 1);
    assert_eq!(api.status().expect("status").hosts_store, 0);
    let text = api.hosts_export().expect("hosts_export");
    let doc: toml::Table = toml::from_str(&text).expect("empty export is TOML");
    assert!(doc.get("host").is_none(), "nothing to export:\n{text}");

    let k: Vec<EventKind> = events_after(&api, 0).iter().map(|e| e.kind).collect();
    for want in [
        EventKind::HostAdded,
        EventKind::HostUpdated,
        EventKind::HostRemoved,
    ] {
        assert!(k.contains(&want), "no {want:?} event in {k:?}");
    }
}

#[test]
fn host_add_refuses_the_name_of_a_store_host() {
    if !root_or_skip("host_add_refuses_the_name_of_a_store_host") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let api = connect(&berthd);
    let first = HostSpec {
        name: "printer".into(),
        mac: "02:00:00:00:00:20".into(),
        ip: Ipv4Addr::new(192, 0, 2, 20),
        options: Vec::new(),
    };
    api.host_add(first.clone()).expect("host_add printer");
    let second = HostSpec {
        mac: "02:00:00:00:00:21".into(),
        ip: Ipv4Addr::new(192, 0, 2, 21),
        ..first.clone()
    };
    let r = api.host_add(second);
    let hosts = api.hosts().expect("hosts");
    let e = refused(r, ErrorKind::Conflict, "a second host_add named `printer`");
    assert!(e.message.contains("printer"), "{e:?}");
    let printer = hosts
        .iter()
        .find(|h| h.name == "printer")
        .expect("printer is still there");
    assert_eq!(
        (printer.mac.as_deref(), printer.ip),
        (Some("02:00:00:00:00:20"), first.ip),
        "the first printer is unchanged"
    );
}

#[test]
fn block_with_an_unstorable_duration_is_refused_or_kept() {
    if !root_or_skip("block_with_an_unstorable_duration_is_refused_or_kept") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let mut berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let mac = random_mac();
    let api = connect(&berthd);
    let r = api.block(&mac, Some(u64::MAX));
    let before = api.blocks().expect("blocks");
    drop(api);
    match &r {
        Ok(_) => assert_eq!(before.len(), 1, "{before:#?}"),
        Err(e) => {
            assert_eq!(
                e.kind,
                ErrorKind::Invalid,
                "refused as invalid, not failed: {e:?}"
            );
            assert!(
                before.is_empty(),
                "a refused block is not in effect: {before:#?}"
            );
        }
    }
    berthd.restart().expect("berthd restarts");
    let after = connect(&berthd).blocks().expect("blocks after restart");
    assert_eq!(after, before, "what was in effect is what the store kept");
}

#[test]
fn export_of_a_host_promoted_in_place_says_it_sits_in_a_dynamic_range() {
    // Promoting in place is allowed at run time (the host table keeps the
    // address out of the pool), but the config file refuses a static
    // address inside a dynamic range. The export must say so rather than
    // hand the operator a config that check-config rejects without warning.
    if !root_or_skip("export_of_a_host_promoted_in_place_says_it_sits_in_a_dynamic_range") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let api = connect(&berthd);
    let guest = lab.add_client(None).expect("guest ns");
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    let lg = dg.wait_bound(LEASE_WAIT).expect("guest lease");
    let p = api
        .promote_to(guest.mac(), None, Some("inplace"))
        .expect("promotion in place");
    assert_eq!(p.host.ip, lg.ip);
    assert!(!p.moving, "same address: nothing to move");
    let text = api.hosts_export().expect("hosts_export");
    let note = format!("# NOTE: {} is inside the dynamic range", lg.ip);
    assert!(text.contains(&note), "export lacks the note:\n{text}");
    let dir = tempfile::tempdir().expect("tempdir");
    let merged = dir.path().join("merged.toml");
    let config = fs::read_to_string(berthd.config_path()).expect("read config");
    fs::write(&merged, format!("{config}\n{text}")).expect("write merged config");
    let out = check_config(&merged).expect("check-config runs");
    let msg = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "check-config should refuse it as the note says:\n{msg}"
    );
    assert!(
        msg.contains("inplace") && msg.contains("dynamic range"),
        "{msg}"
    );
}

#[test]
fn api_promote_refusals_and_promotion_without_a_lease() {
    if !root_or_skip("api_promote_refusals_and_promotion_without_a_lease") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let api = connect(&berthd);
    let mac = random_mac();

    refused(
        api.promote_to(&mac, None, None),
        ErrorKind::NotFound,
        "promote without a lease and without an address",
    );
    refused(
        api.promote_to(&mac, Some(Ipv4Addr::new(198, 51, 100, 7)), None),
        ErrorKind::Invalid,
        "promote to an address outside every subnet",
    );
    refused(
        api.promote_to(&mac, Some(Ipv4Addr::new(192, 0, 2, 255)), None),
        ErrorKind::Invalid,
        "promote to the broadcast address",
    );
    refused(
        api.promote_to("not-a-mac", Some(Ipv4Addr::new(192, 0, 2, 40)), None),
        ErrorKind::Invalid,
        "promote of a malformed MAC",
    );
    let e = refused(
        api.promote_to(KNOWN_MAC, Some(Ipv4Addr::new(192, 0, 2, 40)), None),
        ErrorKind::Conflict,
        "promote of a config host's MAC",
    );
    assert!(e.message.contains("known1"), "{e:?}");
    let e = refused(
        api.promote_to(&mac, Some(KNOWN_IP), None),
        ErrorKind::Conflict,
        "promote to a config host's address",
    );
    assert!(e.message.contains("known1"), "{e:?}");
    let e = refused(
        api.promote_to(&mac, Some(Ipv4Addr::new(192, 0, 2, 40)), Some("known1")),
        ErrorKind::Conflict,
        "promote to a config host's name",
    );
    assert!(e.message.contains("known1"), "{e:?}");
    assert_eq!(api.hosts().expect("hosts").len(), 1, "refusals add nothing");

    // With an address, a client with no lease yet becomes static right away.
    let r = api
        .promote_to(&mac, Some(Ipv4Addr::new(192, 0, 2, 40)), Some("pre"))
        .expect("promote with --ip");
    assert_eq!((r.from, r.moving), (None, false));
    assert_eq!(r.host.name, "pre");
    assert_eq!(r.host.mac.as_deref(), Some(mac.as_str()));
    assert_eq!(
        (r.host.ip, r.host.origin),
        (Ipv4Addr::new(192, 0, 2, 40), Origin::Store)
    );
    // Without a hostname, one is derived from the MAC.
    let mac2 = random_mac();
    let r = api
        .promote_to(&mac2, Some(Ipv4Addr::new(192, 0, 2, 41)), None)
        .expect("promote without a hostname");
    assert!(!r.host.name.is_empty());
    let hosts = api.hosts().expect("hosts");
    assert_eq!(hosts.len(), 3, "{hosts:#?}");
    let promotes: Vec<Event> = events_after(&api, 0)
        .into_iter()
        .filter(|e| e.kind == EventKind::Promote)
        .collect();
    assert_eq!(promotes.len(), 2, "{promotes:#?}");
    assert_eq!(promotes[0].mac.as_deref(), Some(mac.as_str()));
    assert_eq!(promotes[0].ip, Some(Ipv4Addr::new(192, 0, 2, 40)));
}

#[test]
fn api_block_keeps_a_client_out_until_unblocked() {
    if !root_or_skip("api_block_keeps_a_client_out_until_unblocked") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let api = connect(&berthd);
    let guest = lab.add_client(None).expect("guest ns");
    let gmac = guest.mac().to_string();
    let other = random_mac();

    let b = api.block(&gmac.to_uppercase(), None).expect("block");
    assert_eq!(b.mac, gmac, "MACs come back lowercase");
    assert_eq!(b.until, None);
    assert!((now_unix() - b.since).abs() < 60);
    let b2 = api.block(&other, Some(3600)).expect("block for an hour");
    assert_eq!(b2.until, Some(b2.since + 3600));
    refused(
        api.block(&other, Some(0)),
        ErrorKind::Invalid,
        "block for 0 s",
    );
    refused(
        api.block("nonsense", None),
        ErrorKind::Invalid,
        "block a malformed MAC",
    );
    let mut want = vec![gmac.clone(), other.clone()];
    want.sort();
    let listed: Vec<String> = api
        .blocks()
        .expect("blocks")
        .into_iter()
        .map(|b| b.mac)
        .collect();
    assert_eq!(listed, want);
    assert_eq!(api.status().expect("status").blocked, 2);

    // The blocked client's DISCOVERs reach berthd and go unanswered.
    let seq = api.events_since(0, 0).expect("events").last_seq;
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    let ignored = wait_until(Duration::from_secs(10), || {
        let st = api.status().expect("status");
        (counter(&st, "ignored") >= 2).then_some(())
    });
    assert!(
        ignored.is_some(),
        "berthd counts the blocked client's DISCOVERs as ignored: {:#?}",
        api.status()
    );
    assert!(
        dg.wait_reason(&["BOUND", "REBOOT"], 0, Duration::from_secs(2))
            .is_err(),
        "a blocked client got a lease"
    );
    let mine = events_of(&events_after(&api, seq), &gmac);
    assert!(
        !mine
            .iter()
            .any(|e| matches!(e.kind, EventKind::Offer | EventKind::Ack)),
        "no offer or ack for a blocked client: {:?}",
        kinds(&mine)
    );
    assert!(
        api.leases(LeaseFilter {
            mac: Some(gmac.clone()),
            ..filter()
        })
        .expect("leases")
        .is_empty()
    );

    // Unblocked, it gets a lease.
    let u = api.unblock(&gmac).expect("unblock");
    assert_eq!(u.mac, gmac);
    refused(
        api.unblock(&gmac),
        ErrorKind::NotFound,
        "unblock of a MAC not blocked",
    );
    let listed: Vec<String> = api
        .blocks()
        .expect("blocks")
        .into_iter()
        .map(|b| b.mac)
        .collect();
    assert_eq!(listed, vec![other.clone()]);
    let l = dg
        .wait_bound(LEASE_WAIT)
        .expect("the unblocked client gets a lease");
    assert!(in_pool(l.ip), "{l:?}");
    let mine = events_of(&events_after(&api, seq), &gmac);
    let unblock_at = mine
        .iter()
        .position(|e| e.kind == EventKind::Unblock)
        .unwrap_or_else(|| panic!("no unblock event: {:?}", kinds(&mine)));
    assert!(
        mine[unblock_at..]
            .iter()
            .any(|e| e.kind == EventKind::Ack && e.ip == Some(l.ip)),
        "an ack after the unblock: {:?}",
        kinds(&mine)
    );
}

#[test]
fn api_reload_applies_a_good_config_and_refuses_a_bad_one() {
    if !root_or_skip("api_reload_applies_a_good_config_and_refuses_a_bad_one") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let api = connect(&berthd);
    let guest = lab.add_client(None).expect("guest ns");
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    let lg = dg.wait_bound(LEASE_WAIT).expect("guest lease");

    let r = api.reload().expect("reload of the unchanged config");
    assert_eq!(Path::new(&r.config_path), berthd.config_path());
    assert_eq!((r.subnets, r.hosts), (1, 1));
    assert!(r.warnings.is_empty(), "{r:#?}");

    // A good change is applied.
    let path = berthd.config_path().to_path_buf();
    let good = fs::read_to_string(&path).expect("read config");
    let good = format!(
        "{good}\n[[host]]\nname = \"added1\"\nmac = \"02:00:00:00:00:31\"\nip = \"192.0.2.31\"\n"
    );
    fs::write(&path, &good).expect("write config");
    let r = api.reload().expect("reload with a new host");
    assert_eq!(r.hosts, 2, "{r:#?}");
    let hosts = api.hosts().expect("hosts");
    assert!(
        hosts
            .iter()
            .any(|h| h.name == "added1" && h.origin == Origin::Config),
        "{hosts:#?}"
    );

    // A bad one is refused with FILE:LINE:COL, and the running one stays.
    let before = api.leases(filter()).expect("leases");
    let seq = api.events_since(0, 0).expect("events").last_seq;
    let bad = good.replacen("[server]\n", "[server]\nbogus_key = 1\n", 1);
    assert_ne!(bad, good);
    fs::write(&path, &bad).expect("write bad config");
    let e = refused(api.reload(), ErrorKind::Invalid, "reload of a bad config");
    let (line, col) = located(&e.message, &path)
        .unwrap_or_else(|| panic!("no {}:LINE:COL in {:?}", path.display(), e.message));
    assert_eq!(line, 2, "the bad key is on line 2: {:?}", e.message);
    assert!(col >= 1);
    assert!(e.message.contains("bogus_key"), "{:?}", e.message);

    let st = api.status().expect("status after a refused reload");
    assert_eq!(st.leases_bound, 1);
    assert_eq!(st.hosts_config, 2, "the running config (with added1) stays");
    let after = api.leases(filter()).expect("leases after a refused reload");
    assert_eq!(after, before, "leases are kept");
    assert!(
        after
            .iter()
            .any(|l| l.ip == lg.ip && l.state == LeaseState::Bound)
    );
    let reloads: Vec<Event> = events_after(&api, seq)
        .into_iter()
        .filter(|e| e.kind == EventKind::Reload)
        .collect();
    assert_eq!(reloads.len(), 1, "{reloads:#?}");
    assert!(!reloads[0].ok, "a refused reload is a failure event");

    // ... and it still serves: a new client gets a lease.
    let second = lab.add_client(None).expect("second ns");
    let d2 = Dhclient::start(&second).expect("dhclient second");
    let l2 = d2
        .wait_bound(LEASE_WAIT)
        .expect("served after a refused reload");
    assert!(in_pool(l2.ip) && l2.ip != lg.ip, "{l2:?}");
}

// ---------------------------------------------------------------------------
// 2. events_since: long poll and gaps.
// ---------------------------------------------------------------------------

#[test]
fn events_long_poll_wakes_on_news_and_times_out_empty() {
    if !root_or_skip("events_long_poll_wakes_on_news_and_times_out_empty") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let api = connect(&berthd);
    let other = connect(&berthd);
    let first = api.events_since(0, 0).expect("events");
    let s0 = first.last_seq;
    assert_eq!(first.gap, None);
    assert_eq!(
        first.epoch,
        api.status().expect("status").started_at,
        "epoch is the daemon's start time"
    );

    // Nothing new: empty, after about the wait.
    let t = Instant::now();
    let b = api.events_since(s0, 1000).expect("events, nothing new");
    let took = t.elapsed();
    assert!(b.events.is_empty(), "{b:#?}");
    assert_eq!((b.last_seq, b.gap), (s0, None));
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "an empty long poll of 1000 ms took {took:?}"
    );

    // News from another connection wakes a waiting call at once.
    let mac = random_mac();
    let client = api.client();
    let started = Instant::now();
    let poll = api.runtime().spawn(async move {
        let r = client
            .events_since(ctx_for(Duration::from_secs(5)), s0, 5000)
            .await;
        (r, Instant::now())
    });
    thread::sleep(Duration::from_millis(300));
    let event_at = Instant::now();
    other
        .block(&mac, None)
        .expect("block from a second connection");
    let (r, returned_at) = api
        .block_on(async { tokio::time::timeout(Duration::from_secs(15), poll).await })
        .expect("the long poll returns within its bound")
        .expect("poll task");
    let batch = r.expect("events_since rpc").expect("events_since");
    let total = returned_at.duration_since(started);
    let after_event = returned_at.saturating_duration_since(event_at);
    assert!(
        total >= Duration::from_millis(250),
        "the call waited for the news (returned after {total:?})"
    );
    assert!(
        after_event < Duration::from_millis(1500) && total < Duration::from_secs(3),
        "a 5 s long poll returned {after_event:?} after the event ({total:?} in all)"
    );
    let e = batch
        .events
        .first()
        .unwrap_or_else(|| panic!("the woken call holds the event: {batch:#?}"));
    assert_eq!(e.seq, s0 + 1);
    assert_eq!(e.kind, EventKind::Block);
    assert_eq!(e.mac.as_deref(), Some(mac.as_str()));
    assert_eq!(batch.last_seq, batch.events.last().map_or(0, |e| e.seq));

    // Asking again from there: nothing new.
    let b = api.events_since(batch.last_seq, 0).expect("events");
    assert!(b.events.is_empty());
    assert_eq!(b.last_seq, batch.last_seq);
}

#[test]
fn events_gap_when_the_buffer_overflowed() {
    if !root_or_skip("events_gap_when_the_buffer_overflowed") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let mut cfg = lab_config();
    cfg.event_buffer = Some(5);
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    let api = connect(&berthd);
    let mac = random_mac();
    for _ in 0..4 {
        api.block(&mac, None).expect("block");
        api.unblock(&mac).expect("unblock");
    }
    let all = api.events_since(0, 0).expect("events from 0");
    assert_eq!(all.gap, None, "seq 0 asks for what is held");
    assert_eq!(all.events.len(), 5, "the buffer holds 5: {all:#?}");
    let newest = all.last_seq;
    assert!(newest >= 8, "8 events so far: {all:#?}");

    let b = api.events_since(1, 0).expect("events from 1");
    let Some(Gap { oldest_seq }) = b.gap else {
        panic!("a reader at seq 1 fell behind: {b:#?}");
    };
    assert!(oldest_seq > 2, "{b:#?}");
    assert_eq!(oldest_seq, newest - 4, "the buffer holds the newest 5");
    assert_eq!(b.events.first().map(|e| e.seq), Some(oldest_seq));
    assert_eq!(b.events.len(), 5);
    assert_eq!(b.last_seq, newest);
    assert!(
        b.events
            .iter()
            .all(|e| matches!(e.kind, EventKind::Block | EventKind::Unblock))
    );
    let caught_up = api.events_since(oldest_seq - 1, 0).expect("events");
    assert_eq!(caught_up.gap, None, "the next wanted is the oldest held");
    assert_eq!(caught_up.events.len(), 5);
}

// ---------------------------------------------------------------------------
// 3. Authorisation: read-only users.
// ---------------------------------------------------------------------------

/// Runs the `berth` at `bin` as `uid:gid` (no supplementary groups).
fn berth_as(uid: u32, gid: u32, bin: &Path, socket: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(bin)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", "/")
        .env("NO_COLOR", "1")
        .env("TZ", "UTC");
    run_output(&mut cmd, Duration::from_secs(20)).expect("berth runs")
}

fn show(o: &Output) -> String {
    format!(
        "exit {}\n--- stdout ---\n{}--- stderr ---\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_control_group_member_may_read_but_not_change() {
    if !root_or_skip("a_control_group_member_may_read_but_not_change") {
        return;
    }
    require_tools(&["setpriv"]);
    let nobody = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .expect("user nobody exists");
    let nogroup = nix::unistd::Group::from_name("nogroup")
        .ok()
        .flatten()
        .expect("group nogroup exists");
    let (uid, gid) = (nobody.uid.as_raw(), nogroup.gid.as_raw());
    let lab = Lab::new().expect("lab");
    let mut cfg = lab_config();
    cfg.control_group = Some("nogroup".into());
    cfg.admin_group = Some("root".into());
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    let socket = berthd.control_socket().to_path_buf();
    // nobody must reach the socket (and run berth) through these directories.
    fs::set_permissions(berthd.dir(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let meta = fs::metadata(&socket).expect("socket");
    assert_eq!(meta.mode() & 0o777, 0o660, "socket mode");
    assert_eq!(meta.gid(), gid, "socket group is the control group");

    let bindir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(bindir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = bindir.path().join("berth");
    fs::copy(berth_bin(), &bin).expect("copy berth");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod");

    // Reading works.
    let o = berth_as(uid, gid, &bin, &socket, &["status"]);
    assert!(o.status.success(), "status as nobody: {}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("br0"),
        "{}",
        show(&o)
    );
    for args in [
        &["--json", "leases"][..],
        &["hosts"],
        &["hosts", "export"],
        &["pools"],
        &["blocks"],
    ] {
        let o = berth_as(uid, gid, &bin, &socket, args);
        assert!(o.status.success(), "{args:?} as nobody: {}", show(&o));
    }

    // Changing is refused, with exit 1 and a message saying why.
    let mac = random_mac();
    for args in [
        &["promote", mac.as_str(), "--ip", "192.0.2.20"][..],
        &["block", mac.as_str()],
        &["reload"],
        &["release", "192.0.2.100"],
        &[
            "host",
            "add",
            "sneaky",
            "--mac",
            mac.as_str(),
            "--ip",
            "192.0.2.21",
        ],
    ] {
        let o = berth_as(uid, gid, &bin, &socket, args);
        assert_eq!(o.status.code(), Some(1), "{args:?} as nobody: {}", show(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("needs admin rights"),
            "{args:?} as nobody says why: {}",
            show(&o)
        );
    }
    berthd
        .wait_log("denied", Duration::from_secs(5))
        .expect("berthd logs the refusals");
    assert!(
        berthd.run_log().contains(&format!("uid={uid}")),
        "the denied line names the uid"
    );

    // Nothing changed.
    let api = connect(&berthd);
    assert_eq!(api.hosts().expect("hosts").len(), 1);
    assert!(api.blocks().expect("blocks").is_empty());
    assert!(
        !events_after(&api, 0).iter().any(|e| matches!(
            e.kind,
            EventKind::Promote | EventKind::Block | EventKind::Reload
        )),
        "refused calls leave no events"
    );

    // Someone outside the control group cannot even connect.
    let o = berth_as(54321, 54321, &bin, &socket, &["status"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "status as a stranger: {}",
        show(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("permission denied"),
        "{}",
        show(&o)
    );
}

// ---------------------------------------------------------------------------
// 4. Malformed frames.
// ---------------------------------------------------------------------------

/// Sends `bytes` on a fresh connection; returns how the daemon ended it.
fn send_raw(socket: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut s = UnixStream::connect(socket).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(bytes).map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) if Instant::now() < deadline => continue,
            Ok(n) => return Err(format!("the daemon keeps answering ({n} bytes)")),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("the connection is still open after 5 s".into());
            }
            // Reset by the daemon: closed too.
            Err(_) => return Ok(()),
        }
    }
}

#[test]
fn malformed_frames_close_only_their_own_connection() {
    if !root_or_skip("malformed_frames_close_only_their_own_connection") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let mut berthd = Daemon::start(&lab, &lab_config()).expect("berthd starts");
    let socket = berthd.control_socket().to_path_buf();
    let healthy = connect(&berthd);
    healthy.status().expect("status before");

    let mut oversized = 0x7fff_ffffu32.to_be_bytes().to_vec();
    oversized.extend_from_slice(&[0xa5; 64]);
    send_raw(&socket, &oversized).expect("an oversized frame closes its connection");
    healthy.status().expect("status after the oversized frame");

    let garbage = b"not json \x00\xff\xfe at all";
    let mut frame = (garbage.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(garbage);
    send_raw(&socket, &frame).expect("a non-JSON frame closes its connection");
    healthy.status().expect("status after the non-JSON frame");

    let wrong = br#"{"hello":"berthd"}"#;
    let mut frame = (wrong.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(wrong);
    send_raw(&socket, &frame).expect("JSON that is not a request closes its connection");

    // The healthy connection and new ones still work; berthd runs on.
    let st = healthy.status().expect("status after all three");
    assert_eq!(st.interfaces.len(), 1);
    assert!(healthy.leases(filter()).expect("leases").is_empty());
    connect(&berthd).status().expect("a new connection works");
    assert!(berthd.is_running(), "berthd keeps running");
}

// ---------------------------------------------------------------------------
// 5. Socket lifecycle.
// ---------------------------------------------------------------------------

#[test]
fn stale_socket_is_replaced_and_a_live_one_is_not_taken() {
    if !root_or_skip("stale_socket_is_replaced_and_a_live_one_is_not_taken") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("control.sock");
    drop(UnixListener::bind(&socket).expect("bind a socket"));
    assert!(socket.exists(), "the stale socket file stays");
    assert!(
        UnixStream::connect(&socket).is_err(),
        "nobody answers on it"
    );

    let lab = Lab::new().expect("lab");
    let mut cfg = lab_config();
    cfg.control_socket = Some(socket.clone());
    let mut berthd = Daemon::start(&lab, &cfg).expect("berthd starts over a stale socket");
    assert_eq!(berthd.control_socket(), socket);
    assert!(
        berthd.run_log().contains("stale control socket"),
        "berthd says it replaced the stale socket"
    );
    let api = connect(&berthd);
    api.status().expect("status over the replaced socket");

    // A second berthd (its own lab, so port 67 is free) with the same socket.
    let lab2 = Lab::new().expect("second lab");
    let second = Daemon::start(&lab2, &cfg);
    let err = match second {
        Ok(_) => panic!("a second berthd started on a socket the first one serves"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("exited"), "the second berthd exits: {err}");
    assert!(
        !err.contains("exit status: 0"),
        "the second berthd exits non-zero: {err}"
    );
    assert!(
        err.contains("in use") && err.contains(&socket.display().to_string()),
        "the second berthd says the socket is in use: {err}"
    );

    // The first one is undisturbed, and removes its socket when it stops.
    api.status().expect("the first berthd still answers");
    assert!(socket.exists());
    drop(api);
    let status = berthd.stop().expect("berthd stops");
    assert!(status.success(), "berthd exits 0 on SIGTERM: {status}");
    assert!(!socket.exists(), "the socket is removed at shutdown");
}

// ---------------------------------------------------------------------------
// 6. Promotion, end to end.
// ---------------------------------------------------------------------------

#[test]
fn promotion_moves_a_real_client_and_the_events_say_so() {
    if !root_or_skip("promotion_moves_a_real_client_and_the_events_say_so") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    // Short leases: the client's first RENEW comes after ~5 s.
    let mut cfg = lab_config().lease("10s");
    cfg.min_lease = "5s".into();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    let api = connect(&berthd);

    let guest = lab.add_client(None).expect("guest ns");
    let gmac = guest.mac().to_string();
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    let (i, r) = dg
        .wait_reason(&["BOUND"], 0, LEASE_WAIT)
        .expect("guest lease");
    let old = Lease::from_dhclient(&r).expect("BOUND record").ip;
    assert!(in_pool(old));
    let target = Ipv4Addr::new(192, 0, 2, 20);
    let seq = api.events_since(0, 0).expect("events").last_seq;

    let p = api
        .promote_to(&gmac, Some(target), Some("guest1"))
        .expect("promote");
    assert_eq!((p.from, p.moving), (Some(old), true), "{p:#?}");
    assert_eq!((p.host.name.as_str(), p.host.ip), ("guest1", target));
    assert_eq!(p.host.origin, Origin::Store);

    // Right after: the client is still on its old address, moving.
    let mine = LeaseFilter {
        mac: Some(gmac.clone()),
        ..filter()
    };
    let now = api.leases(mine.clone()).expect("leases");
    let moving = now
        .iter()
        .find(|l| l.ip == old)
        .unwrap_or_else(|| panic!("the old lease is listed: {now:#?}"));
    assert_eq!(moving.kind, LeaseKind::Moving, "{now:#?}");
    assert_eq!(moving.moving_to, Some(target));

    // The client is NAKed at its next RENEW and lands on the static address.
    let moved = wait_until(Duration::from_secs(40), || {
        dg.records().iter().skip(i + 1).find_map(|r| {
            let l = Lease::from_dhclient(r).ok()?;
            (l.ip == target && ["BOUND", "REBOOT"].contains(&r.reason())).then_some(l)
        })
    });
    assert!(
        moved.is_some(),
        "client did not move to {target}; records: {:?}",
        dg.records()
            .iter()
            .map(|r| format!("{} {}", r.reason(), r.get("new_ip_address").unwrap_or("-")))
            .collect::<Vec<_>>()
    );

    // Events: promote, then nak (of the old address), then ack (the new one).
    let evs = events_of(&events_after(&api, seq), &gmac);
    let pos = |from: usize, want: &dyn Fn(&Event) -> bool| {
        evs.iter()
            .skip(from)
            .position(want)
            .map(|p| p + from)
            .unwrap_or_else(|| panic!("event missing after #{from}: {:?}", kinds(&evs)))
    };
    let pr = pos(0, &|e| e.kind == EventKind::Promote);
    assert_eq!(evs[pr].ip, Some(target));
    let nak = pos(pr + 1, &|e| e.kind == EventKind::Nak);
    assert!(!evs[nak].ok, "a NAK is a failure event");
    assert_eq!(evs[nak].ip, Some(old), "the old address is NAKed");
    let ack = pos(nak + 1, &|e| e.kind == EventKind::Ack);
    assert_eq!(evs[ack].ip, Some(target), "{:?}", kinds(&evs));
    assert!(!evs[ack].unknown, "a static host now");

    // Leases: static on the new address; the old one is no longer bound.
    let now = api.leases(mine).expect("leases");
    assert!(
        now.iter()
            .any(|l| l.ip == target && l.kind == LeaseKind::Static && l.state == LeaseState::Bound),
        "{now:#?}"
    );
    assert!(
        !now.iter()
            .any(|l| l.ip == old && (l.state == LeaseState::Bound || l.kind == LeaseKind::Moving)),
        "the old lease is retired: {now:#?}"
    );
    // The old pool address is free again.
    let p = &api.pools().expect("pools")[0];
    assert_eq!((p.leased, p.free), (0, p.size), "{p:#?}");
    let hosts = api.hosts().expect("hosts");
    assert!(
        hosts
            .iter()
            .any(|h| h.name == "guest1" && h.ip == target && h.origin == Origin::Store),
        "{hosts:#?}"
    );
}
