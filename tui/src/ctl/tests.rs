//! Output tests: fixed data, a fixed "now" and fixed time zones, exact text.

use std::net::Ipv4Addr;

use berth_proto::{
    BlockInfo, Event, EventKind, HostInfo, InterfaceStatus, LeaseInfo, LeaseKind, LeaseState,
    Origin, PoolInfo, PromoteResult, ReloadResult, Status,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::cli::HostEditArgs;
use super::{edited_spec, human, json as js};

/// 2024-05-01T12:00:00Z: 14:00 in Berlin (CEST).
const NOW: i64 = 1_714_564_800;

fn now() -> Timestamp {
    Timestamp::from_second(NOW).expect("in range")
}

/// Europe/Berlin as a POSIX rule, so the tests need no tz database.
fn berlin() -> TimeZone {
    TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").expect("valid POSIX TZ")
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn status() -> Status {
    Status {
        version: "0.1.0".into(),
        api_version: 1,
        started_at: NOW - 7380,
        uptime_secs: 7380,
        config_path: "/etc/berth/berth.toml".into(),
        interfaces: vec![
            InterfaceStatus {
                name: "eth1".into(),
                addr: ip("192.0.2.1"),
            },
            InterfaceStatus {
                name: "eth2".into(),
                addr: ip("198.51.100.1"),
            },
        ],
        store_backend: "sqlite".into(),
        store_path: "/var/lib/berth/berth.db".into(),
        leases_bound: 2,
        leases_total: 3,
        hosts_config: 5,
        hosts_store: 1,
        blocked: 1,
        counters: Vec::new(),
        store_health: berth_proto::StoreHealth::default(),
        arp: berth_proto::ArpStatus::default(),
        rate_limited_clients: 0,
    }
}

fn leases() -> Vec<LeaseInfo> {
    vec![
        LeaseInfo {
            ip: ip("192.0.2.10"),
            mac: "02:00:5e:10:00:01".into(),
            client_id: "01:02:00:5e:10:00:01".into(),
            hostname: Some("printer".into()),
            kind: LeaseKind::Static,
            state: LeaseState::Bound,
            starts: NOW - 600,
            ends: NOW + 3723,
            subnet: Some("192.0.2.0/24".into()),
            moving_to: None,
        },
        LeaseInfo {
            ip: ip("192.0.2.150"),
            mac: "02:00:5e:10:00:02".into(),
            client_id: "01:02:00:5e:10:00:02".into(),
            hostname: None,
            kind: LeaseKind::Moving,
            state: LeaseState::Bound,
            starts: NOW - 60,
            ends: NOW + 45,
            subnet: Some("192.0.2.0/24".into()),
            moving_to: Some(ip("192.0.2.20")),
        },
        LeaseInfo {
            ip: ip("192.0.2.151"),
            mac: "02:00:5e:10:00:03".into(),
            client_id: "01:02:00:5e:10:00:03".into(),
            hostname: Some("old-laptop".into()),
            kind: LeaseKind::Dynamic,
            state: LeaseState::Expired,
            starts: NOW - 90_000,
            ends: NOW - 3600,
            subnet: None,
            moving_to: None,
        },
    ]
}

fn hosts() -> Vec<HostInfo> {
    vec![
        HostInfo {
            name: "host1".into(),
            mac: Some("00:23:32:aa:bb:cc".into()),
            client_id: None,
            ip: ip("192.0.2.2"),
            origin: Origin::Config,
            options: vec![],
            created_at: None,
        },
        HostInfo {
            name: "phone".into(),
            mac: Some("02:00:5e:10:00:04".into()),
            client_id: None,
            ip: ip("192.0.2.30"),
            origin: Origin::Store,
            options: vec![
                ("domain-name-servers".into(), "192.0.2.1, 192.0.2.2".into()),
                ("tftp-server-name".into(), "tftp://192.0.2.1".into()),
            ],
            created_at: Some(NOW - 86_400),
        },
        HostInfo {
            name: "thin".into(),
            mac: None,
            client_id: Some("ff:00:01".into()),
            ip: ip("192.0.2.31"),
            origin: Origin::Config,
            options: vec![],
            created_at: None,
        },
    ]
}

fn blocks() -> Vec<BlockInfo> {
    vec![
        BlockInfo {
            mac: "02:00:5e:10:00:05".into(),
            since: NOW - 300,
            until: Some(NOW + 7200),
        },
        BlockInfo {
            mac: "02:00:5e:10:00:06".into(),
            since: NOW - 86_400 * 3,
            until: None,
        },
    ]
}

fn pools() -> Vec<PoolInfo> {
    vec![
        PoolInfo {
            subnet: "192.0.2.0/24".into(),
            start: ip("192.0.2.100"),
            end: ip("192.0.2.190"),
            size: 91,
            leased: 40,
            quarantined: 1,
            free: 50,
            observed: 0,
            squatters: Vec::new(),
            last_sweep: None,
        },
        PoolInfo {
            subnet: "198.51.100.0/24".into(),
            start: ip("198.51.100.10"),
            end: ip("198.51.100.19"),
            size: 10,
            leased: 10,
            quarantined: 0,
            free: 0,
            observed: 0,
            squatters: Vec::new(),
            last_sweep: None,
        },
    ]
}

fn events() -> Vec<Event> {
    vec![
        Event {
            seq: 41,
            at: NOW - 5,
            kind: EventKind::Arrival,
            mac: Some("02:00:5e:10:00:07".into()),
            ip: None,
            hostname: Some("snom-phone".into()),
            vendor_class: Some("snom370".into()),
            interface: Some("eth1".into()),
            unknown: true,
            ok: true,
            detail: String::new(),
        },
        Event {
            seq: 42,
            at: NOW,
            kind: EventKind::HookResult,
            mac: None,
            ip: Some(ip("192.0.2.160")),
            hostname: None,
            vendor_class: None,
            interface: None,
            unknown: false,
            ok: false,
            detail: "/etc/berth/dhcp-event exited 3".into(),
        },
    ]
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).expect("valid JSON")
}

#[test]
fn spans_and_remaining() {
    assert_eq!(human::span(0), "0s");
    assert_eq!(human::span(-5), "0s");
    assert_eq!(human::span(45), "45s");
    assert_eq!(human::span(307), "5m07s");
    assert_eq!(human::span(3723), "1h02m");
    assert_eq!(human::span(86_400 * 3 + 3600 * 4 + 59), "3d04h");
    assert_eq!(human::remaining(NOW + 3723, now()), "1h02m");
    assert_eq!(human::remaining(NOW, now()), "expired");
    assert_eq!(human::remaining(NOW - 10, now()), "expired");
}

#[test]
fn local_times_follow_the_zone() {
    assert_eq!(human::local_time(NOW, &berlin()), "2024-05-01 14:00:00");
    assert_eq!(
        human::local_time(NOW, &TimeZone::UTC),
        "2024-05-01 12:00:00"
    );
    // Winter: CET, one hour ahead.
    assert_eq!(
        human::local_time_zone(1_704_110_400, &berlin()),
        "2024-01-01 13:00:00 CET"
    );
    assert_eq!(
        human::local_time(i64::MAX, &berlin()),
        format!("@{}", i64::MAX)
    );
}

#[test]
fn status_human() {
    assert_eq!(
        human::status(&status(), &berlin()),
        "\
version     0.1.0 (control API 1)
started     2024-05-01 11:57:00 CEST, up 2h03m
config      /etc/berth/berth.toml
interfaces  eth1 192.0.2.1, eth2 198.51.100.1
store       sqlite /var/lib/berth/berth.db
store state ok, no write yet, 0 pending
leases      2 bound, 3 in total
hosts       5 from config, 1 in store
blocked     1
"
    );
    let mut failing = status();
    failing.store_health = berth_proto::StoreHealth {
        ok: false,
        last_ok: Some(NOW - 120),
        failing_since: Some(NOW - 60),
        last_error: Some("database or disk is full".into()),
        pending_writes: 7,
        unsaved_renewals: 0,
    };
    let out = human::status(&failing, &berlin());
    assert!(
        out.contains(
            "store state FAILING since 2024-05-01 13:59:00: database or disk is full \
             (last write 2024-05-01 13:58:00, 7 pending)"
        ),
        "{out}"
    );
    failing.store_health.unsaved_renewals = 3;
    let out = human::status(&failing, &berlin());
    assert!(
        out.contains("7 pending, 3 renewals ACKed from memory not yet written)"),
        "{out}"
    );
}

#[test]
fn status_json() {
    let v = parse(&js::status(&status()));
    assert_eq!(
        v,
        json!({
            "version": "0.1.0",
            "api_version": 1,
            "started_at": "2024-05-01T09:57:00Z",
            "uptime_secs": 7380,
            "config_path": "/etc/berth/berth.toml",
            "interfaces": [
                {"name": "eth1", "addr": "192.0.2.1"},
                {"name": "eth2", "addr": "198.51.100.1"}
            ],
            "store_backend": "sqlite",
            "store_path": "/var/lib/berth/berth.db",
            "leases_bound": 2,
            "leases_total": 3,
            "rate_limited_clients": 0,
            "hosts_config": 5,
            "hosts_store": 1,
            "blocked": 1,
            "counters": [],
            "store_health": {
                "ok": true,
                "last_ok": null,
                "failing_since": null,
                "last_error": null,
                "pending_writes": 0,
                "unsaved_renewals": 0
            },
            "arp": {
                "enabled": false, "detail": "", "sweep_interval_secs": null,
                "probe_timeout_ms": null, "last_sweep": null
            }
        })
    );
}

#[test]
fn leases_table_in_berlin() {
    assert_eq!(
        human::leases(&leases(), now(), &berlin()),
        "\
IP           MAC                HOSTNAME    KIND                  STATE    ENDS                 REMAINING  SUBNET
192.0.2.10   02:00:5e:10:00:01  printer     static                bound    2024-05-01 15:02:03  1h02m      192.0.2.0/24
192.0.2.150  02:00:5e:10:00:02  -           moving to 192.0.2.20  bound    2024-05-01 14:00:45  45s        192.0.2.0/24
192.0.2.151  02:00:5e:10:00:03  old-laptop  dynamic               expired  2024-05-01 13:00:00  -          -
"
    );
    assert_eq!(human::leases(&[], now(), &berlin()), "no leases\n");
}

#[test]
fn leases_table_in_utc() {
    let out = human::leases(&leases()[..1], now(), &TimeZone::UTC);
    assert!(out.contains("2024-05-01 13:02:03  1h02m"), "{out}");
}

#[test]
fn leases_json() {
    let v = parse(&js::leases(&leases()));
    assert_eq!(
        v[1],
        json!({
            "ip": "192.0.2.150",
            "mac": "02:00:5e:10:00:02",
            "client_id": "01:02:00:5e:10:00:02",
            "hostname": null,
            "kind": "moving",
            "state": "bound",
            "starts": "2024-05-01T11:59:00Z",
            "ends": "2024-05-01T12:00:45Z",
            "subnet": "192.0.2.0/24",
            "moving_to": "192.0.2.20"
        })
    );
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    assert_eq!(parse(&js::leases(&[])), json!([]));
    // `release --json` prints one lease as an object.
    assert_eq!(parse(&js::lease(&leases()[1])), v[1]);
}

#[test]
fn hosts_table() {
    assert_eq!(
        human::hosts(&hosts(), &berlin()),
        "\
NAME   MAC                IP          ORIGIN  CREATED              OPTIONS
host1  00:23:32:aa:bb:cc  192.0.2.2   config  -                    -
phone  02:00:5e:10:00:04  192.0.2.30  store   2024-04-30 14:00:00  domain-name-servers=192.0.2.1, 192.0.2.2; tftp-server-name=tftp://192.0.2.1
thin   id ff:00:01        192.0.2.31  config  -                    -
"
    );
    assert_eq!(human::hosts(&[], &berlin()), "no static hosts\n");
}

#[test]
fn hosts_json() {
    let v = parse(&js::hosts(&hosts()));
    assert_eq!(
        v[1],
        json!({
            "name": "phone",
            "mac": "02:00:5e:10:00:04",
            "client_id": null,
            "ip": "192.0.2.30",
            "origin": "store",
            "options": [
                ["domain-name-servers", "192.0.2.1, 192.0.2.2"],
                ["tftp-server-name", "tftp://192.0.2.1"]
            ],
            "created_at": "2024-04-30T12:00:00Z"
        })
    );
    assert_eq!(v[0]["created_at"], Value::Null);
    assert_eq!(v[0]["origin"], "config");
    assert_eq!(parse(&js::host(&hosts()[1])), v[1]);
}

#[test]
fn host_changes_human() {
    assert_eq!(
        human::host_done("added", &hosts()[0]),
        "added host host1 (00:23:32:aa:bb:cc, 192.0.2.2)\n"
    );
    assert_eq!(
        human::host_done("updated", &hosts()[1]),
        "updated host phone (02:00:5e:10:00:04, 192.0.2.30)\n\
         options: domain-name-servers=192.0.2.1, 192.0.2.2; tftp-server-name=tftp://192.0.2.1\n"
    );
}

#[test]
fn export_both_ways() {
    let toml = "[[host]]\nname = \"phone\"\n";
    assert_eq!(human::export(toml), toml);
    assert_eq!(human::export("x = 1"), "x = 1\n");
    assert_eq!(parse(&js::export(toml)), json!({ "toml": toml }));
}

#[test]
fn promote_both_ways() {
    let moving = PromoteResult {
        host: hosts()[1].clone(),
        from: Some(ip("192.0.2.150")),
        moving: true,
    };
    assert_eq!(
        human::promote("02:00:5e:10:00:04", &moving),
        "promoted 02:00:5e:10:00:04 to static host phone at 192.0.2.30\n\
         it is moving from 192.0.2.150: berthd NAKs the old address on its next renewal \
         and shows it as moving until it comes back on 192.0.2.30\n"
    );
    let staying = PromoteResult {
        host: hosts()[1].clone(),
        from: Some(ip("192.0.2.30")),
        moving: false,
    };
    assert_eq!(
        human::promote("02:00:5e:10:00:04", &staying),
        "promoted 02:00:5e:10:00:04 to static host phone at 192.0.2.30 (its current address)\n"
    );
    let v = parse(&js::promote(&moving));
    assert_eq!(v["from"], "192.0.2.150");
    assert_eq!(v["moving"], true);
    assert_eq!(v["host"], parse(&js::host(&hosts()[1])));
}

#[test]
fn release_human() {
    assert_eq!(
        human::release(&leases()[0]),
        "released 192.0.2.10 (02:00:5e:10:00:01, printer)\n"
    );
    assert_eq!(
        human::release(&leases()[1]),
        "released 192.0.2.150 (02:00:5e:10:00:02)\n"
    );
}

#[test]
fn blocks_both_ways() {
    let bs = blocks();
    assert_eq!(
        human::block(&bs[0], now(), &berlin()),
        "blocked 02:00:5e:10:00:05 until 2024-05-01 16:00:00 CEST (2h00m)\n"
    );
    assert_eq!(
        human::block(&bs[1], now(), &berlin()),
        "blocked 02:00:5e:10:00:06 until unblocked\n"
    );
    assert_eq!(human::unblock(&bs[0]), "unblocked 02:00:5e:10:00:05\n");
    assert_eq!(
        human::blocks(&bs, now(), &berlin()),
        "\
MAC                SINCE                UNTIL                REMAINING
02:00:5e:10:00:05  2024-05-01 13:55:00  2024-05-01 16:00:00  2h00m
02:00:5e:10:00:06  2024-04-28 14:00:00  unblocked            -
"
    );
    assert_eq!(human::blocks(&[], now(), &berlin()), "no blocks\n");
    assert_eq!(
        parse(&js::blocks(&bs)),
        json!([
            {"mac": "02:00:5e:10:00:05", "since": "2024-05-01T11:55:00Z", "until": "2024-05-01T14:00:00Z"},
            {"mac": "02:00:5e:10:00:06", "since": "2024-04-28T12:00:00Z", "until": null}
        ])
    );
    assert_eq!(
        parse(&js::block(&bs[1])),
        json!({"mac": "02:00:5e:10:00:06", "since": "2024-04-28T12:00:00Z", "until": null})
    );
}

#[test]
fn pools_both_ways() {
    assert_eq!(
        human::pools(&pools()),
        "\
SUBNET           RANGE                        SIZE  LEASED  QUARANTINED  FREE  USED
192.0.2.0/24     192.0.2.100-192.0.2.190        91      40            1    50   45%
198.51.100.0/24  198.51.100.10-198.51.100.19    10      10            0     0  100%
"
    );
    assert_eq!(human::pools(&[]), "no dynamic ranges\n");
    assert_eq!(
        parse(&js::pools(&pools()))[0],
        json!({
            "subnet": "192.0.2.0/24", "start": "192.0.2.100", "end": "192.0.2.190",
            "size": 91, "leased": 40, "quarantined": 1, "free": 50,
            "observed": 0, "squatters": [], "last_sweep": null
        })
    );
}

fn squatter() -> berth_proto::SquatterInfo {
    berth_proto::SquatterInfo {
        ip: ip("192.0.2.150"),
        mac: "02:00:5e:10:00:99".into(),
        holder: Some("02:00:5e:10:00:02".into()),
        reason: "leased to another client".into(),
        seen_at: NOW,
    }
}

#[test]
fn pools_show_observed_addresses_and_squatters() {
    let mut ps = pools();
    ps[0].observed = 2;
    ps[0].squatters = vec![squatter()];
    let v = parse(&js::pools(&ps));
    assert_eq!(v[0]["observed"], json!(2));
    assert_eq!(
        v[0]["squatters"][0]["seen_at"],
        json!("2024-05-01T12:00:00Z")
    );
    let text = human::pools(&ps);
    assert!(
        text.ends_with(
            "\n2 address(es) in use without a lease (observed by ARP, kept from other clients)\n\n\
SQUATTER     MAC                RECORD NAMES       WHY
192.0.2.150  02:00:5e:10:00:99  02:00:5e:10:00:02  leased to another client
"
        ),
        "{text}"
    );
}

#[test]
fn scan_both_ways() {
    let rs = vec![berth_proto::ScanResult {
        subnet: "192.0.2.0/24".into(),
        start: ip("192.0.2.100"),
        end: ip("192.0.2.190"),
        interface: "eth1".into(),
        probed: 91,
        answered: 3,
        observed: 1,
        squatters: vec![squatter()],
        finished_at: NOW,
        duration_ms: 412,
    }];
    let text = human::scan(&rs, &berlin());
    assert!(
        text.starts_with(
            "\
RANGE                    IFACE  ASKED  ANSWERED  OBSERVED  SQUATTERS   TOOK  FINISHED
192.0.2.100-192.0.2.190  eth1      91         3         1          1  412ms  "
        ),
        "{text}"
    );
    assert!(text.contains("192.0.2.150  02:00:5e:10:00:99"), "{text}");
    assert_eq!(
        human::scan(&[], &berlin()),
        "nothing to sweep (no dynamic range on an interface with ARP)\n"
    );
    let v = parse(&js::scan(&rs));
    assert_eq!(v[0]["probed"], json!(91));
    assert_eq!(v[0]["finished_at"], json!("2024-05-01T12:00:00Z"));
    assert_eq!(
        v[0]["squatters"][0],
        json!({
            "ip": "192.0.2.150", "mac": "02:00:5e:10:00:99",
            "holder": "02:00:5e:10:00:02", "reason": "leased to another client",
            "seen_at": "2024-05-01T12:00:00Z"
        })
    );
}

#[test]
fn reload_both_ways() {
    let r = ReloadResult {
        config_path: "/etc/berth/berth.toml".into(),
        subnets: 2,
        hosts: 6,
        warnings: vec!["interfaces changed: restart berthd to apply".into()],
    };
    assert_eq!(
        human::reload(&r),
        "reloaded /etc/berth/berth.toml: 2 subnets, 6 hosts\n\
         warning: interfaces changed: restart berthd to apply\n"
    );
    assert_eq!(
        parse(&js::reload(&r)),
        json!({
            "config_path": "/etc/berth/berth.toml", "subnets": 2, "hosts": 6,
            "warnings": ["interfaces changed: restart berthd to apply"]
        })
    );
}

#[test]
fn events_table_and_lines() {
    assert_eq!(
        human::events(&events(), &berlin()),
        "\
SEQ  TIME                 EVENT        IP           MAC                HOSTNAME    INTERFACE  DETAIL
 41  2024-05-01 13:59:55  arrival      -            02:00:5e:10:00:07  snom-phone  eth1       unknown client, vendor snom370
 42  2024-05-01 14:00:00  hook_result  192.0.2.160  -                  -           -          FAILED, /etc/berth/dhcp-event exited 3
"
    );
    assert_eq!(human::events(&[], &berlin()), "no events\n");
    assert_eq!(
        human::event_line(&events()[0], &berlin()),
        "    41  2024-05-01 13:59:55  arrival       -                02:00:5e:10:00:07  snom-phone        eth1      unknown client, vendor snom370\n"
    );
}

#[test]
fn events_json_lines() {
    let line = js::event_line(&events()[0]);
    assert!(line.ends_with('\n'));
    assert_eq!(line.matches('\n').count(), 1, "one line per event");
    assert_eq!(
        parse(&line),
        json!({
            "seq": 41, "at": "2024-05-01T11:59:55Z", "kind": "arrival",
            "mac": "02:00:5e:10:00:07", "ip": null, "hostname": "snom-phone",
            "vendor_class": "snom370", "interface": "eth1",
            "unknown": true, "ok": true, "detail": ""
        })
    );
    assert_eq!(parse(&js::event_line(&events()[1]))["kind"], "hook_result");
}

#[test]
fn out_of_range_time_stays_valid_json() {
    let mut l = leases()[0].clone();
    l.ends = i64::MAX;
    assert_eq!(parse(&js::lease(&l))["ends"], json!(i64::MAX));
}

fn edit(mac: Option<&str>, ip_: Option<&str>, opts: &[(&str, &str)], rm: &[&str]) -> HostEditArgs {
    HostEditArgs {
        name: "phone".into(),
        mac: mac.map(Into::into),
        ip: ip_.map(ip),
        options: opts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        remove_options: rm.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn host_edit_applies_changes() {
    let phone = &hosts()[1];
    let spec = edited_spec(phone, edit(None, Some("192.0.2.40"), &[], &[])).expect("valid edit");
    assert_eq!(spec.mac, "02:00:5e:10:00:04");
    assert_eq!(spec.ip, ip("192.0.2.40"));
    assert_eq!(spec.options, phone.options);

    let spec = edited_spec(
        phone,
        edit(
            Some("02:00:5e:10:00:99"),
            None,
            &[
                ("tftp-server-name", "tftp://192.0.2.9"),
                ("routers", "192.0.2.1"),
            ],
            &["domain-name-servers"],
        ),
    )
    .expect("valid edit");
    assert_eq!(spec.name, "phone");
    assert_eq!(spec.mac, "02:00:5e:10:00:99");
    assert_eq!(spec.ip, phone.ip);
    assert_eq!(
        spec.options,
        vec![
            (
                "tftp-server-name".to_string(),
                "tftp://192.0.2.9".to_string()
            ),
            ("routers".to_string(), "192.0.2.1".to_string()),
        ]
    );

    let err = edited_spec(phone, edit(None, None, &[], &["routers"])).expect_err("no such option");
    assert_eq!(err.to_string(), "host `phone` has no option `routers`");
    let err = edited_spec(&hosts()[2], edit(None, Some("192.0.2.41"), &[], &[]))
        .expect_err("client-id host without --mac");
    assert!(err.to_string().contains("give --mac"), "{err}");
}

/// A client on the network chose these: an OSC title change and a CSI
/// screen clear.
const HOSTILE: &str = "pwn\x1b]0;owned\x07\x1b[2J";

#[test]
fn human_tables_neutralise_client_control_characters() {
    let mut ls = leases();
    ls[0].hostname = Some(HOSTILE.into());
    let out = human::leases(&ls, now(), &berlin());
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    assert!(out.contains("pwn\\x1b]0;owned\\x07\\x1b[2J"), "{out:?}");
    let mut es = events();
    es[0].hostname = Some(HOSTILE.into());
    es[0].vendor_class = Some(HOSTILE.into());
    let out = human::events(&es, &berlin());
    assert!(!out.contains('\x1b'), "{out:?}");
}

#[test]
fn human_lines_reach_the_terminal_neutralised() {
    let mut e = events().remove(0);
    e.hostname = Some(HOSTILE.into());
    e.detail = "bad\x1b[31m".into();
    let out = super::to_terminal(&human::event_line(&e, &berlin())).into_owned();
    assert!(!out.contains('\x1b') && out.ends_with('\n'), "{out:?}");
    // JSON keeps the exact text (escaped by JSON itself).
    let line = js::event_line(&e);
    assert_eq!(parse(&line)["hostname"], HOSTILE);
}
