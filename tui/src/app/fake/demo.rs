//! The fake's sample data: a small site with static hosts, leases in every
//! kind and state, pools and an event history, plus what the fake answers
//! from it (status, quarantine, explain).

use std::net::Ipv4Addr;

use berth_proto::{
    BlockInfo, Event, EventKind, HostInfo, InterfaceStatus, LeaseInfo, LeaseKind, LeaseState,
    Origin, PoolInfo, Status, UnixTime,
};

/// Everything the fake daemon knows.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// The daemon's start: its `epoch` in event batches.
    pub started_at: UnixTime,
    /// The dynamic ranges and their figures, canned to match `leases`: the
    /// daemon's pool module owns the rule behind them, and the fake does not
    /// keep a second copy of it. Only the fake's own `arrive` moves them.
    pub pools: Vec<PoolInfo>,
    /// Leases by address.
    pub leases: Vec<LeaseInfo>,
    /// Static hosts, config and store.
    pub hosts: Vec<HostInfo>,
    /// Blocked MACs.
    pub blocks: Vec<BlockInfo>,
    /// Oldest first.
    pub events: Vec<Event>,
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// An event with the usual defaults.
pub fn event(seq: u64, at: UnixTime, kind: EventKind) -> Event {
    Event {
        seq,
        at,
        kind,
        mac: None,
        ip: None,
        hostname: None,
        vendor_class: None,
        interface: Some("eth1".to_string()),
        unknown: false,
        ok: true,
        detail: String::new(),
    }
}

pub(super) fn lease(
    ip_s: &str,
    mac: &str,
    hostname: Option<&str>,
    kind: LeaseKind,
    state: LeaseState,
    starts: UnixTime,
    ends: UnixTime,
) -> LeaseInfo {
    let addr = ip(ip_s);
    let subnet = if addr.octets()[0] == 10 {
        "10.20.0.0/24"
    } else {
        "192.168.0.0/24"
    };
    LeaseInfo {
        ip: addr,
        mac: mac.to_string(),
        client_id: format!("01:{mac}"),
        hostname: hostname.map(str::to_string),
        kind,
        state,
        starts,
        ends,
        subnet: Some(subnet.to_string()),
        moving_to: None,
    }
}

/// `n` dynamic leases in 10.0.0.0/8 from 10.0.0.1 up, each with its own
/// MAC and host name, ending at different times after `now`: a large site
/// for scale tests.
pub fn many_leases(n: u32, now: UnixTime) -> Vec<LeaseInfo> {
    (0..n)
        .map(|i| {
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 1)) + i);
            let [_, b, c, d] = i.to_be_bytes();
            let mac = format!("02:5a:00:{b:02x}:{c:02x}:{d:02x}");
            let mut l = lease(
                "10.0.0.1",
                &mac,
                Some(&format!("host-{i:06}")),
                LeaseKind::Dynamic,
                LeaseState::Bound,
                now - 600,
                now + 600 + i64::from(i % 7200),
            );
            l.ip = ip;
            l.subnet = Some("10.0.0.0/8".to_string());
            l
        })
        .collect()
}

fn host(name: &str, mac: &str, ip_s: &str, origin: Origin, created: Option<UnixTime>) -> HostInfo {
    HostInfo {
        name: name.to_string(),
        mac: Some(mac.to_string()),
        client_id: None,
        ip: ip(ip_s),
        origin,
        options: Vec::new(),
        created_at: created,
    }
}

/// A LAN-party-and-phones sample around `now`: static hosts from config
/// and the store, dynamic leases in every kind and state, and a short
/// event history.
pub fn demo_data(now: UnixTime) -> DemoData {
    use LeaseKind::*;
    use LeaseState::*;
    let h = 3600;
    let leases = vec![
        lease(
            "192.168.0.2",
            "00:23:32:aa:bb:cc",
            Some("host1"),
            Static,
            Bound,
            now - 5 * h,
            now + 7 * h,
        ),
        lease(
            "192.168.0.10",
            "00:1b:a9:10:20:30",
            Some("printer"),
            Static,
            Bound,
            now - 2 * h,
            now + 10 * h + 125,
        ),
        lease(
            "192.168.0.100",
            "3c:22:fb:01:02:03",
            Some("laptop-anna"),
            Dynamic,
            Bound,
            now - 3000,
            now + 4200,
        ),
        lease(
            "192.168.0.101",
            "a4:5e:60:11:22:33",
            Some("steamdeck"),
            Dynamic,
            Bound,
            now - 600,
            now + 6600,
        ),
        lease(
            "192.168.0.102",
            "02:00:5e:10:00:01",
            None,
            Dynamic,
            Offered,
            now - 5,
            now + 55,
        ),
        lease(
            "192.168.0.103",
            "f0:18:98:44:55:66",
            Some("old-mac"),
            Dynamic,
            Released,
            now - 9000,
            now - 1800,
        ),
        lease(
            "192.168.0.150",
            "de:ad:be:ef:00:01",
            None,
            Quarantined,
            Declined,
            now - 300,
            now + 3300,
        ),
        LeaseInfo {
            moving_to: Some(ip("10.20.0.10")),
            ..lease(
                "10.20.0.51",
                "00:04:13:2a:3b:4c",
                Some("phone-lobby"),
                Moving,
                Bound,
                now - 900,
                now + 2700,
            )
        },
        lease(
            "10.20.0.52",
            "00:04:13:2a:3b:4d",
            Some("phone-desk-2"),
            Dynamic,
            Bound,
            now - 120,
            now + 7080,
        ),
    ];
    let mut hosts = vec![
        host(
            "host1",
            "00:23:32:aa:bb:cc",
            "192.168.0.2",
            Origin::Config,
            None,
        ),
        host(
            "printer",
            "00:1b:a9:10:20:30",
            "192.168.0.10",
            Origin::Config,
            None,
        ),
        host(
            "phone-lobby",
            "00:04:13:2a:3b:4c",
            "10.20.0.10",
            Origin::Store,
            Some(now - 800),
        ),
    ];
    hosts[1].options = vec![("domain-name-servers".to_string(), "192.168.0.1".to_string())];
    hosts[2].options = vec![
        (
            "tftp-server-name".to_string(),
            "tftp://10.20.0.1".to_string(),
        ),
        ("bootfile-name".to_string(), "snom/snom370.htm".to_string()),
    ];
    let mut events = Vec::new();
    let mut push = |at: UnixTime, kind: EventKind, f: &dyn Fn(&mut Event)| {
        let mut e = event(events.len() as u64 + 1, at, kind);
        f(&mut e);
        events.push(e);
    };
    push(now - 3000, EventKind::Ack, &|e| {
        e.mac = Some("3c:22:fb:01:02:03".into());
        e.ip = Some(ip("192.168.0.100"));
        e.hostname = Some("laptop-anna".into());
        e.vendor_class = Some("MSFT 5.0".into());
    });
    push(now - 900, EventKind::Promote, &|e| {
        e.mac = Some("00:04:13:2a:3b:4c".into());
        e.ip = Some(ip("10.20.0.51"));
        e.hostname = Some("phone-lobby".into());
        e.detail = "to 10.20.0.10".into();
    });
    push(now - 600, EventKind::Arrival, &|e| {
        e.mac = Some("a4:5e:60:11:22:33".into());
        e.hostname = Some("steamdeck".into());
        e.vendor_class = Some("android-dhcp-13".into());
        e.unknown = true;
    });
    push(now - 600, EventKind::Ack, &|e| {
        e.mac = Some("a4:5e:60:11:22:33".into());
        e.ip = Some(ip("192.168.0.101"));
        e.hostname = Some("steamdeck".into());
    });
    push(now - 300, EventKind::Decline, &|e| {
        e.mac = Some("de:ad:be:ef:00:01".into());
        e.ip = Some(ip("192.168.0.150"));
        e.ok = false;
        e.detail = "address in use: quarantined".into();
    });
    push(now - 240, EventKind::HookResult, &|e| {
        e.mac = Some("a4:5e:60:11:22:33".into());
        e.ip = Some(ip("192.168.0.101"));
        e.ok = false;
        e.interface = None;
        e.detail = "/etc/berth/dhcp-event exited 1".into();
    });
    push(now - 120, EventKind::Arrival, &|e| {
        e.mac = Some("00:04:13:2a:3b:4d".into());
        e.hostname = Some("phone-desk-2".into());
        e.vendor_class = Some("snom370".into());
        e.interface = Some("eth2".into());
        e.unknown = true;
    });
    push(now - 5, EventKind::Offer, &|e| {
        e.mac = Some("02:00:5e:10:00:01".into());
        e.ip = Some(ip("192.168.0.102"));
        e.unknown = true;
    });
    DemoData {
        started_at: now - 6 * h,
        pools: vec![
            PoolInfo {
                subnet: "192.168.0.0/24".into(),
                start: ip("192.168.0.100"),
                end: ip("192.168.0.190"),
                size: 91,
                leased: 3,
                quarantined: 1,
                free: 87,
                observed: 1,
                squatters: vec![berth_proto::SquatterInfo {
                    ip: ip("192.168.0.140"),
                    mac: "66:77:88:99:aa:bb".into(),
                    holder: None,
                    reason: "in use without a lease".into(),
                    seen_at: now - 120,
                }],
                last_sweep: Some(berth_proto::SweepSummary {
                    finished_at: now - 120,
                    duration_ms: 1240,
                    probed: 91,
                    answered: 4,
                    interface: "eth1".into(),
                }),
            },
            PoolInfo {
                subnet: "10.20.0.0/24".into(),
                start: ip("10.20.0.50"),
                end: ip("10.20.0.250"),
                size: 201,
                leased: 2,
                quarantined: 0,
                free: 199,
                observed: 0,
                squatters: Vec::new(),
                last_sweep: None,
            },
        ],
        leases,
        hosts,
        blocks: Vec::new(),
        events,
    }
}

/// The status the fake reports for `d`.
pub fn status_of(d: &DemoData, now: UnixTime) -> Status {
    Status {
        version: "0.1.0-fake".to_string(),
        api_version: berth_proto::API_VERSION,
        started_at: d.started_at,
        uptime_secs: u64::try_from(now - d.started_at).unwrap_or(0),
        config_path: "/etc/berth/berth.toml".to_string(),
        interfaces: vec![InterfaceStatus {
            name: "eth1".to_string(),
            addr: ip("192.168.0.1"),
        }],
        store_backend: "memory".to_string(),
        store_path: String::new(),
        leases_bound: d
            .leases
            .iter()
            .filter(|l| l.state == LeaseState::Bound)
            .count() as u64,
        leases_total: d.leases.len() as u64,
        hosts_config: d
            .hosts
            .iter()
            .filter(|h| h.origin == Origin::Config)
            .count() as u64,
        hosts_store: d.hosts.iter().filter(|h| h.origin == Origin::Store).count() as u64,
        blocked: d.blocks.len() as u64,
        counters: Vec::new(),
        store_health: berth_proto::StoreHealth::default(),
        arp: berth_proto::ArpStatus::default(),
        rate_limited_clients: 0,
    }
}

/// What the demo daemon explains for `req`: a snom phone gets its class's
/// TFTP server and boot file; anyone else the subnet's options.
pub fn demo_explanation(req: &berth_proto::ExplainRequest) -> berth_proto::Explanation {
    let o = |code, name: &str, value: &str, source: &str| berth_proto::ExplainedOption {
        space: "dhcp".into(),
        code,
        name: name.into(),
        value: value.into(),
        source: source.into(),
    };
    let phone = req.vendor_class.as_deref() == Some("snom370");
    let mut options = vec![
        o(3, "routers", "10.20.0.1", "subnet"),
        o(6, "domain-name-servers", "10.20.0.1", "global"),
    ];
    if phone {
        options.push(o(66, "tftp-server-name", "10.20.0.5", "class snom"));
        options.push(o(67, "bootfile-name", "snom370.htm", "class snom"));
    }
    berth_proto::Explanation {
        mac: req.mac.clone(),
        interface: req.interface.clone().unwrap_or_else(|| "eth2".into()),
        subnet: Some("10.20.0.0/24".into()),
        host: None,
        classes: if phone {
            vec!["snom".into()]
        } else {
            Vec::new()
        },
        address: Some(ip("10.20.0.52")),
        range: Some("10.20.0.50-10.20.0.250".into()),
        outcome: "offered 10.20.0.52".into(),
        next_server: phone.then(|| ip("10.20.0.5")),
        filename: phone.then(|| "snom370.htm".to_string()),
        server_name: None,
        options,
    }
}

/// The quarantine list of `d` at `now`, by address.
pub fn quarantine_of(d: &DemoData, now: UnixTime) -> Vec<berth_proto::QuarantineInfo> {
    let mut all: Vec<berth_proto::QuarantineInfo> = d
        .leases
        .iter()
        .filter(|l| l.state == LeaseState::Declined && l.ends > now)
        .map(quarantine_entry)
        .collect();
    all.sort_by_key(|q| q.ip);
    all
}

/// A declined lease as the quarantine list shows it.
pub(super) fn quarantine_entry(l: &LeaseInfo) -> berth_proto::QuarantineInfo {
    berth_proto::QuarantineInfo {
        ip: l.ip,
        reason: berth_proto::QuarantineReason::Declined,
        mac: Some(l.mac.clone()),
        since: l.starts,
        until: l.ends,
        subnet: l.subnet.clone(),
    }
}
