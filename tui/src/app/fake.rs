//! A small in-memory `Control` server with believable data: for trying the
//! TUI without a real `berthd` (`cargo run -p berth --features fake --example fake_daemon`),
//! for the worker's tests, and as the sample data of the view snapshots.
//! `berth` itself never uses it.

use std::collections::VecDeque;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_proto::page::build_page;
use berth_proto::{
    ApiError, BlockInfo, Control, ErrorKind, Event, EventBatch, EventKind, Gap, HostInfo, HostSpec,
    InterfaceStatus, LeaseFilter, LeaseInfo, LeaseKind, LeaseState, Origin, Page, PageRequest,
    PoolInfo, PromoteRequest, PromoteResult, ReloadResult, Status, Target, UnixTime,
};
use futures::StreamExt;
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};
use tokio::net::UnixListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Events the fake keeps; older ones fall off (and callers get a gap).
const RING: usize = 256;

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

fn lease(
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

/// The page of `items` after the cursor, ordered by the string `key` (as
/// the daemon orders hosts by name and blocks by MAC).
fn page_by<T: Clone + serde::Serialize>(
    items: &[T],
    page: &PageRequest,
    key: impl Fn(&T) -> &String,
) -> Page<T> {
    let mut after: Vec<&T> = items
        .iter()
        .filter(|i| page.after.as_ref().is_none_or(|a| key(i) > a))
        .collect();
    after.sort_by(|a, b| key(a).cmp(key(b)));
    build_page(after.into_iter().cloned(), page, items.len() as u64, |i| {
        key(i).clone()
    })
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

/// A host name the real daemon would take (berth-proto's shared rule).
fn checked_name(name: &str) -> Result<(), ApiError> {
    berth_proto::parse::check_hostname(name)
        .map_err(|e| ApiError::new(ErrorKind::Invalid, e.to_string()))
}

fn unix_now() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

struct State {
    data: DemoData,
    ring: VecDeque<Event>,
    next_seq: u64,
    read_only: bool,
    /// After a promotion, the client "comes back" on its static address
    /// this much later; `None` leaves it moving.
    move_after: Option<Duration>,
    arrivals: u64,
}

/// The fake daemon: cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct FakeDaemon {
    state: Arc<Mutex<State>>,
    news: Arc<Notify>,
}

impl FakeDaemon {
    /// A daemon holding `data`; its history becomes the event ring.
    pub fn new(data: DemoData) -> Self {
        let ring: VecDeque<Event> = data.events.iter().cloned().collect();
        let next_seq = ring.back().map_or(1, |e| e.seq + 1);
        FakeDaemon {
            state: Arc::new(Mutex::new(State {
                data,
                ring,
                next_seq,
                read_only: false,
                move_after: None,
                arrivals: 0,
            })),
            news: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a broken test; the
        // data is still usable for a fake.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes every change answer PermissionDenied, like a non-admin peer.
    pub fn set_read_only(&self, yes: bool) {
        self.lock().read_only = yes;
    }

    /// Lets promoted clients arrive on their static address after `after`.
    pub fn set_move_after(&self, after: Option<Duration>) {
        self.lock().move_after = after;
    }

    /// Appends an event (its seq is assigned here) and wakes long polls.
    pub fn push(&self, mut e: Event) {
        {
            let mut s = self.lock();
            e.seq = s.next_seq;
            s.next_seq += 1;
            s.ring.push_back(e);
            while s.ring.len() > RING {
                s.ring.pop_front();
            }
        }
        self.news.notify_waiters();
    }

    /// A new unknown client shows up and gets a dynamic lease in the first
    /// range: arrival, offer and ack events.
    pub fn arrive(&self, hostname: Option<&str>, vendor: Option<&str>) {
        let now = unix_now();
        let (mac, addr, iface) = {
            let mut s = self.lock();
            s.arrivals += 1;
            let n = s.arrivals;
            let mac = format!(
                "02:be:{:02x}:{:02x}:{:02x}:{:02x}",
                n >> 24 & 0xff,
                n >> 16 & 0xff,
                n >> 8 & 0xff,
                n & 0xff
            );
            let Some(range) = s.data.pools.first().cloned() else {
                return;
            };
            let used: std::collections::HashSet<Ipv4Addr> =
                s.data.leases.iter().map(|l| l.ip).collect();
            let Some(addr) = (u32::from(range.start)..=u32::from(range.end))
                .map(Ipv4Addr::from)
                .find(|a| !used.contains(a))
            else {
                return;
            };
            let mut l = lease(
                &addr.to_string(),
                &mac,
                hostname,
                LeaseKind::Dynamic,
                LeaseState::Bound,
                now,
                now + 7200,
            );
            l.subnet = Some(range.subnet.clone());
            s.data.leases.push(l);
            // The fake's own new lease, counted in its canned figures.
            if let Some(p) = s.data.pools.first_mut() {
                p.leased += 1;
                p.free = p.free.saturating_sub(1);
            }
            s.data.leases.sort_by_key(|l| l.ip);
            (mac, addr, if n % 3 == 0 { "eth2" } else { "eth1" })
        };
        for (kind, with_ip) in [
            (EventKind::Arrival, false),
            (EventKind::Offer, true),
            (EventKind::Ack, true),
        ] {
            let mut e = event(0, now, kind);
            e.mac = Some(mac.clone());
            e.ip = with_ip.then_some(addr);
            e.hostname = hostname.map(str::to_string);
            e.vendor_class = vendor.map(str::to_string);
            e.interface = Some(iface.to_string());
            e.unknown = true;
            self.push(e);
        }
    }

    fn check_admin(&self) -> Result<(), ApiError> {
        if self.lock().read_only {
            Err(ApiError::new(
                ErrorKind::PermissionDenied,
                "peer uid 1000 may read but not change (not in group berth-admin)",
            ))
        } else {
            Ok(())
        }
    }

    fn finish_move(&self, mac: String, to: Ipv4Addr) {
        let now = unix_now();
        let from = {
            let mut s = self.lock();
            let Some(l) = s.data.leases.iter_mut().find(|l| l.mac == mac) else {
                return;
            };
            let from = l.ip;
            l.ip = to;
            l.kind = LeaseKind::Static;
            l.moving_to = None;
            l.starts = now;
            l.ends = now + 7200;
            s.data.leases.sort_by_key(|l| l.ip);
            from
        };
        let mut nak = event(0, now, EventKind::Nak);
        nak.mac = Some(mac.clone());
        nak.ip = Some(from);
        nak.ok = false;
        nak.detail = format!("moved to its static address {to}");
        self.push(nak);
        let mut ack = event(0, now, EventKind::Ack);
        ack.mac = Some(mac);
        ack.ip = Some(to);
        self.push(ack);
    }
}

impl Control for FakeDaemon {
    async fn api_version(self, _: Context) -> u32 {
        berth_proto::API_VERSION
    }

    async fn status(self, _: Context) -> Result<Status, ApiError> {
        Ok(status_of(&self.lock().data, unix_now()))
    }

    async fn leases(
        self,
        _: Context,
        filter: LeaseFilter,
        page: PageRequest,
    ) -> Result<Page<LeaseInfo>, ApiError> {
        let after = match page.after.as_deref() {
            None => None,
            Some(c) => Some(c.parse::<Ipv4Addr>().map_err(|_| {
                ApiError::new(
                    ErrorKind::Invalid,
                    format!("page cursor `{c}` is not an address"),
                )
            })?),
        };
        let s = self.lock();
        let wanted = |l: &&LeaseInfo| {
            filter.state.is_none_or(|st| st == l.state)
                && filter.mac.as_ref().is_none_or(|m| *m == l.mac)
                && filter.ip.is_none_or(|a| a == l.ip)
        };
        let total = s.data.leases.iter().filter(wanted).count() as u64;
        // The leases are kept by address: seek past the cursor.
        let from = after.map_or(0, |a| s.data.leases.partition_point(|l| l.ip <= a));
        let items = s.data.leases[from..].iter().filter(wanted).cloned();
        Ok(build_page(items, &page, total, |l| l.ip.to_string()))
    }

    async fn hosts(self, _: Context, page: PageRequest) -> Result<Page<HostInfo>, ApiError> {
        Ok(page_by(&self.lock().data.hosts, &page, |h| &h.name))
    }

    async fn host_add(self, _: Context, spec: HostSpec) -> Result<HostInfo, ApiError> {
        self.check_admin()?;
        checked_name(&spec.name)?;
        let info = HostInfo {
            name: spec.name,
            mac: Some(spec.mac),
            client_id: None,
            ip: spec.ip,
            origin: Origin::Store,
            options: spec.options,
            created_at: Some(unix_now()),
        };
        self.lock().data.hosts.push(info.clone());
        Ok(info)
    }

    async fn host_update(
        self,
        _: Context,
        name: String,
        spec: HostSpec,
    ) -> Result<HostInfo, ApiError> {
        self.check_admin()?;
        checked_name(&spec.name)?;
        let mut s = self.lock();
        let h = s
            .data
            .hosts
            .iter_mut()
            .find(|h| h.name == name)
            .ok_or_else(|| ApiError::new(ErrorKind::NotFound, format!("no host {name}")))?;
        if h.origin == Origin::Config {
            return Err(ApiError::new(
                ErrorKind::ReadOnly,
                format!("host {name} is in the config file"),
            ));
        }
        h.name = spec.name;
        h.mac = Some(spec.mac);
        h.ip = spec.ip;
        h.options = spec.options;
        Ok(h.clone())
    }

    async fn host_remove(self, _: Context, name: String) -> Result<HostInfo, ApiError> {
        self.check_admin()?;
        let mut s = self.lock();
        let i = s
            .data
            .hosts
            .iter()
            .position(|h| h.name == name && h.origin == Origin::Store)
            .ok_or_else(|| ApiError::new(ErrorKind::NotFound, format!("no store host {name}")))?;
        Ok(s.data.hosts.remove(i))
    }

    async fn hosts_export(self, _: Context) -> Result<String, ApiError> {
        Ok(String::new())
    }

    async fn promote(self, _: Context, req: PromoteRequest) -> Result<PromoteResult, ApiError> {
        self.check_admin()?;
        let now = unix_now();
        let (result, ev, move_after) = {
            let mut s = self.lock();
            let taken_by_host = |a: Ipv4Addr| s.data.hosts.iter().any(|h| h.ip == a);
            let lease = s
                .data
                .leases
                .iter()
                .find(|l| l.mac == req.mac && l.kind == LeaseKind::Dynamic)
                .cloned()
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorKind::NotFound,
                        format!("no dynamic lease for {}", req.mac),
                    )
                })?;
            let to = req.ip.unwrap_or(lease.ip);
            let in_use =
                taken_by_host(to) || s.data.leases.iter().any(|l| l.ip == to && l.mac != req.mac);
            if in_use {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("{to} is already in use"),
                ));
            }
            let name = req
                .hostname
                .clone()
                .or(lease.hostname.clone())
                .unwrap_or_else(|| format!("host-{}", req.mac.replace(':', "")));
            checked_name(&name)?;
            if s.data.hosts.iter().any(|h| h.name == name) {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("a host named {name} exists"),
                ));
            }
            let info = HostInfo {
                name: name.clone(),
                mac: Some(req.mac.clone()),
                client_id: None,
                ip: to,
                origin: Origin::Store,
                options: Vec::new(),
                created_at: Some(now),
            };
            s.data.hosts.push(info.clone());
            let moving = to != lease.ip;
            if let Some(l) = s.data.leases.iter_mut().find(|l| l.mac == req.mac) {
                l.hostname = Some(name.clone());
                if moving {
                    l.kind = LeaseKind::Moving;
                    l.moving_to = Some(to);
                } else {
                    l.kind = LeaseKind::Static;
                }
            }
            let mut e = event(0, now, EventKind::Promote);
            e.mac = Some(req.mac.clone());
            e.ip = Some(lease.ip);
            e.hostname = Some(name);
            e.detail = format!("to {to}");
            let result = PromoteResult {
                host: info,
                from: Some(lease.ip),
                moving,
            };
            (result, e, if moving { s.move_after } else { None })
        };
        self.push(ev);
        if let Some(after) = move_after {
            let me = self.clone();
            let mac = req.mac.clone();
            let to = result.host.ip;
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                me.finish_move(mac, to);
            });
        }
        Ok(result)
    }

    async fn release(self, _: Context, target: Target) -> Result<LeaseInfo, ApiError> {
        self.check_admin()?;
        let info = {
            let mut s = self.lock();
            let l = s
                .data
                .leases
                .iter_mut()
                .find(|l| match &target {
                    Target::Ip(a) => l.ip == *a,
                    Target::Mac(m) => l.mac == *m,
                })
                .ok_or_else(|| ApiError::new(ErrorKind::NotFound, "no such lease"))?;
            l.state = LeaseState::Released;
            l.ends = unix_now();
            l.clone()
        };
        let mut e = event(0, unix_now(), EventKind::Release);
        e.mac = Some(info.mac.clone());
        e.ip = Some(info.ip);
        e.hostname = info.hostname.clone();
        e.detail = "released by operator".into();
        self.push(e);
        Ok(info)
    }

    async fn block(
        self,
        _: Context,
        mac: String,
        duration_secs: Option<u64>,
    ) -> Result<BlockInfo, ApiError> {
        self.check_admin()?;
        let now = unix_now();
        let info = BlockInfo {
            mac: mac.clone(),
            since: now,
            until: duration_secs.map(|d| now + i64::try_from(d).unwrap_or(i64::MAX / 2)),
        };
        self.lock().data.blocks.push(info.clone());
        let mut e = event(0, now, EventKind::Block);
        e.mac = Some(mac);
        self.push(e);
        Ok(info)
    }

    async fn unblock(self, _: Context, mac: String) -> Result<BlockInfo, ApiError> {
        self.check_admin()?;
        let mut s = self.lock();
        let i = s
            .data
            .blocks
            .iter()
            .position(|b| b.mac == mac)
            .ok_or_else(|| ApiError::new(ErrorKind::NotFound, format!("{mac} is not blocked")))?;
        Ok(s.data.blocks.remove(i))
    }

    async fn blocks(self, _: Context, page: PageRequest) -> Result<Page<BlockInfo>, ApiError> {
        Ok(page_by(&self.lock().data.blocks, &page, |b| &b.mac))
    }

    async fn pools(self, _: Context) -> Result<Vec<PoolInfo>, ApiError> {
        let s = self.lock();
        Ok(s.data.pools.clone())
    }

    async fn reload(self, _: Context) -> Result<ReloadResult, ApiError> {
        self.check_admin()?;
        Ok(ReloadResult {
            config_path: "/etc/berth/berth.toml".into(),
            subnets: 2,
            hosts: 2,
            warnings: Vec::new(),
        })
    }

    async fn events_since(
        self,
        _: Context,
        seq: u64,
        wait_ms: u64,
    ) -> Result<EventBatch, ApiError> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms.min(30_000));
        loop {
            // Register for news before looking, so an event pushed in
            // between is not missed.
            let news = self.news.notified();
            tokio::pin!(news);
            news.as_mut().enable();
            {
                let s = self.lock();
                let events: Vec<Event> = s.ring.iter().filter(|e| e.seq > seq).cloned().collect();
                let gap = s
                    .ring
                    .front()
                    .filter(|first| first.seq > seq + 1)
                    .map(|first| Gap {
                        oldest_seq: first.seq,
                    });
                if !events.is_empty() || tokio::time::Instant::now() >= deadline {
                    return Ok(EventBatch {
                        last_seq: events.last().map_or(seq, |e| e.seq),
                        events,
                        gap,
                        epoch: s.data.started_at,
                    });
                }
            }
            let _ = tokio::time::timeout_at(deadline, news).await;
        }
    }

    async fn explain(
        self,
        _: Context,
        req: berth_proto::ExplainRequest,
    ) -> Result<berth_proto::Explanation, ApiError> {
        Ok(demo_explanation(&req))
    }

    async fn scan(
        self,
        _: Context,
        range: Option<String>,
    ) -> Result<Vec<berth_proto::ScanResult>, ApiError> {
        // A canned sweep of the asked range (`START-END`) that hears nobody.
        let now = unix_now();
        let s = self.lock();
        let swept: Vec<berth_proto::ScanResult> = s
            .data
            .pools
            .iter()
            .filter(|p| {
                range
                    .as_deref()
                    .is_none_or(|r| r == "all" || r == format!("{}-{}", p.start, p.end))
            })
            .map(|p| berth_proto::ScanResult {
                subnet: p.subnet.clone(),
                start: p.start,
                end: p.end,
                interface: "eth1".into(),
                probed: p.size,
                answered: 0,
                observed: p.observed,
                squatters: Vec::new(),
                finished_at: now,
                duration_ms: 200,
            })
            .collect();
        if swept.is_empty() {
            return Err(ApiError::new(
                ErrorKind::NotFound,
                "no dynamic range matches",
            ));
        }
        Ok(swept)
    }

    async fn quarantine(
        self,
        _: Context,
        page: berth_proto::PageRequest,
    ) -> Result<berth_proto::Page<berth_proto::QuarantineInfo>, ApiError> {
        // The demo holds a handful: one page, whatever was asked.
        let _ = page;
        Ok(berth_proto::Page::whole(quarantine_of(
            &self.lock().data,
            unix_now(),
        )))
    }

    async fn quarantine_clear(
        self,
        _: Context,
        addr: Ipv4Addr,
    ) -> Result<berth_proto::QuarantineInfo, ApiError> {
        self.check_admin()?;
        let info = {
            let mut s = self.lock();
            let i = s
                .data
                .leases
                .iter()
                .position(|l| l.ip == addr && l.state == LeaseState::Declined)
                .ok_or_else(|| {
                    ApiError::new(ErrorKind::NotFound, format!("{addr} is not quarantined"))
                })?;
            let l = s.data.leases.remove(i);
            if let Some(p) = s
                .data
                .pools
                .iter_mut()
                .find(|p| p.start <= addr && addr <= p.end)
            {
                p.quarantined = p.quarantined.saturating_sub(1);
                p.free += 1;
            }
            quarantine_entry(&l)
        };
        let mut e = event(0, unix_now(), EventKind::QuarantineCleared);
        e.ip = Some(addr);
        e.mac = info.mac.clone();
        e.detail = "quarantine (declined) cleared by operator; free again".into();
        self.push(e);
        Ok(info)
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
fn quarantine_entry(l: &LeaseInfo) -> berth_proto::QuarantineInfo {
    berth_proto::QuarantineInfo {
        ip: l.ip,
        reason: berth_proto::QuarantineReason::Declined,
        mac: Some(l.mac.clone()),
        since: l.starts,
        until: l.ends,
        subnet: l.subnet.clone(),
    }
}

/// A fake daemon listening on a socket.
pub struct Server {
    path: PathBuf,
    accept: JoinHandle<()>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Server {
    /// Stops listening, drops every connection and removes the socket, as
    /// a daemon that died would.
    pub fn stop(self) {
        self.accept.abort();
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()));
        for c in conns {
            c.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves `daemon` on a Unix socket at `path` (replacing a stale socket
/// file). Must be called inside a tokio runtime.
pub fn serve(path: &Path, daemon: FakeDaemon) -> io::Result<Server> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
    let conns2 = Arc::clone(&conns);
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let transport = berth_proto::transport::framed(stream);
            let d = daemon.clone();
            let task = tokio::spawn(
                BaseChannel::with_defaults(transport)
                    .execute(d.serve())
                    .for_each(|fut| async {
                        tokio::spawn(fut);
                    }),
            );
            let mut c = conns2.lock().unwrap_or_else(|p| p.into_inner());
            c.retain(|h| !h.is_finished());
            c.push(task);
        }
    });
    Ok(Server {
        path: path.to_path_buf(),
        accept,
        conns,
    })
}
