//! The real `berth` binary against an in-process fake `berthd`: a tarpc
//! `Control` server with canned data on a Unix socket in a temp dir.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use berth_proto::page::build_page;
use berth_proto::{
    ApiError, BlockInfo, Control, ErrorKind, Event, EventBatch, EventKind, ExplainRequest,
    ExplainedOption, Explanation, Gap, HostInfo, HostSpec, InterfaceStatus, LeaseFilter, LeaseInfo,
    LeaseKind, LeaseState, Origin, Page, PageRequest, PoolInfo, PromoteRequest, PromoteResult,
    ReloadResult, Status, Target,
};
use futures::prelude::*;
use serde_json::Value;
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixListener;
use tokio::process::Command;

/// 2030-01-01T00:00:00Z: far enough ahead that canned leases stay bound.
const T: i64 = 1_893_456_000;
/// The fake daemon's start time.
const EPOCH: i64 = 1_700_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn lease(addr: &str, mac: &str, host: Option<&str>, state: LeaseState) -> LeaseInfo {
    LeaseInfo {
        ip: ip(addr),
        mac: mac.into(),
        client_id: format!("01:{mac}"),
        hostname: host.map(Into::into),
        kind: LeaseKind::Dynamic,
        state,
        starts: T - 3600,
        ends: T,
        subnet: Some("192.0.2.0/24".into()),
        moving_to: None,
    }
}

/// `leases --subnet BIG_SUBNET` lists this many leases with 200-byte
/// host names of control bytes: well over the 4 MiB frame limit as JSON.
const BIG_SUBNET: &str = "10.0.0.0/8";
const BIG_COUNT: u32 = 6_000;
const BIG_FIRST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn big_lease(i: u32) -> LeaseInfo {
    let mut l = lease("10.0.0.1", "02:00:5e:10:00:01", None, LeaseState::Bound);
    l.ip = Ipv4Addr::from(u32::from(BIG_FIRST) + i);
    l.hostname = Some(format!("{i:06}{}", "\u{1b}".repeat(194)));
    l
}

fn canned_leases() -> Vec<LeaseInfo> {
    vec![
        lease(
            "192.0.2.100",
            "02:00:5e:10:00:01",
            Some("laptop"),
            LeaseState::Bound,
        ),
        lease(
            "192.0.2.101",
            "02:00:5e:10:00:02",
            None,
            LeaseState::Expired,
        ),
    ]
}

fn event(seq: u64) -> Event {
    Event {
        seq,
        at: T + seq as i64,
        kind: EventKind::Ack,
        mac: Some("02:00:5e:10:00:01".into()),
        ip: Some(ip("192.0.2.100")),
        hostname: Some("laptop".into()),
        vendor_class: None,
        interface: Some("eth1".into()),
        unknown: false,
        ok: true,
        detail: String::new(),
    }
}

/// Canned answers; the calls that change things refuse the way berthd does.
#[derive(Clone, Copy)]
struct FakeServer {
    /// The daemon's start time, as `events_since` reports it.
    epoch: i64,
    /// The event buffer holds seqs `oldest..=newest`; older ones were dropped.
    oldest: u64,
    newest: u64,
}

/// The usual fake: events 1..=4 already dropped, 5..=7 held.
const FAKE: FakeServer = FakeServer {
    epoch: EPOCH,
    oldest: 5,
    newest: 7,
};

impl Control for FakeServer {
    async fn api_version(self, _: Context) -> u32 {
        berth_proto::API_VERSION
    }

    async fn status(self, _: Context) -> Result<Status, ApiError> {
        Ok(Status {
            version: "0.1.0-fake".into(),
            api_version: berth_proto::API_VERSION,
            started_at: EPOCH,
            uptime_secs: 3723,
            config_path: "/etc/berth/berth.toml".into(),
            interfaces: vec![InterfaceStatus {
                name: "eth1".into(),
                addr: ip("192.0.2.1"),
            }],
            store_backend: "sqlite".into(),
            store_path: "/var/lib/berth/berth.db".into(),
            leases_bound: 1,
            leases_total: 2,
            hosts_config: 1,
            hosts_store: 0,
            blocked: 0,
            counters: Vec::new(),
            store_health: berth_proto::StoreHealth::default(),
            arp: berth_proto::ArpStatus::default(),
            rate_limited_clients: 0,
        })
    }

    async fn leases(
        self,
        _: Context,
        f: LeaseFilter,
        page: PageRequest,
    ) -> Result<Page<LeaseInfo>, ApiError> {
        let after = match page.after.as_deref() {
            None => None,
            Some(c) => Some(
                c.parse::<Ipv4Addr>()
                    .map_err(|_| ApiError::new(ErrorKind::Invalid, format!("bad cursor `{c}`")))?,
            ),
        };
        let past = |l: &LeaseInfo| after.is_none_or(|a| l.ip > a);
        if f.subnet.as_deref() == Some(BIG_SUBNET) {
            // Made page by page, as a daemon with a big table would.
            let from = after.map_or(0, |a| u32::from(a) - u32::from(BIG_FIRST) + 1);
            let items = (from..BIG_COUNT).map(big_lease);
            return Ok(build_page(items, &page, u64::from(BIG_COUNT), |l| {
                l.ip.to_string()
            }));
        }
        // Filters on MAC and state, so tests see the flags reach the daemon.
        let all: Vec<LeaseInfo> = canned_leases()
            .into_iter()
            .filter(|l| f.mac.as_ref().is_none_or(|m| *m == l.mac))
            .filter(|l| f.state.is_none_or(|s| s == l.state))
            .collect();
        let total = all.len() as u64;
        let items = all.into_iter().filter(past);
        Ok(build_page(items, &page, total, |l| l.ip.to_string()))
    }

    async fn hosts(self, _: Context, _page: PageRequest) -> Result<Page<HostInfo>, ApiError> {
        Ok(Page::whole(vec![HostInfo {
            name: "host1".into(),
            mac: Some("00:23:32:aa:bb:cc".into()),
            client_id: None,
            ip: ip("192.0.2.2"),
            origin: Origin::Config,
            options: vec![("routers".into(), "192.0.2.1".into())],
            created_at: None,
        }]))
    }

    async fn host_add(self, _: Context, _: HostSpec) -> Result<HostInfo, ApiError> {
        Err(ApiError::new(
            ErrorKind::PermissionDenied,
            "adding hosts needs admin rights: run as root",
        ))
    }

    async fn host_update(
        self,
        _: Context,
        name: String,
        _: HostSpec,
    ) -> Result<HostInfo, ApiError> {
        Err(ApiError::new(
            ErrorKind::ReadOnly,
            format!(
                "host `{name}` is defined in the config file and cannot be changed at run time"
            ),
        ))
    }

    async fn host_remove(self, _: Context, name: String) -> Result<HostInfo, ApiError> {
        Err(ApiError::new(
            ErrorKind::NotFound,
            format!("no store host named `{name}`"),
        ))
    }

    async fn hosts_export(self, _: Context) -> Result<String, ApiError> {
        Ok("# no store hosts\n".into())
    }

    async fn promote(self, _: Context, req: PromoteRequest) -> Result<PromoteResult, ApiError> {
        Ok(PromoteResult {
            host: HostInfo {
                name: req.hostname.unwrap_or_else(|| "laptop".into()),
                mac: Some(req.mac),
                client_id: None,
                ip: req.ip.unwrap_or(ip("192.0.2.100")),
                origin: Origin::Store,
                options: vec![],
                created_at: Some(T),
            },
            from: Some(ip("192.0.2.100")),
            moving: req.ip.is_some(),
        })
    }

    async fn release(self, _: Context, target: Target) -> Result<LeaseInfo, ApiError> {
        let found = canned_leases().into_iter().find(|l| match &target {
            Target::Ip(a) => l.ip == *a,
            Target::Mac(m) => l.mac == *m,
        });
        found.ok_or_else(|| ApiError::new(ErrorKind::NotFound, "no such lease"))
    }

    async fn block(
        self,
        _: Context,
        mac: String,
        secs: Option<u64>,
    ) -> Result<BlockInfo, ApiError> {
        Ok(BlockInfo {
            mac,
            since: T,
            until: secs.map(|s| T + s as i64),
        })
    }

    async fn unblock(self, _: Context, mac: String) -> Result<BlockInfo, ApiError> {
        Ok(BlockInfo {
            mac,
            since: T,
            until: None,
        })
    }

    async fn blocks(self, _: Context, _page: PageRequest) -> Result<Page<BlockInfo>, ApiError> {
        Ok(Page::whole(vec![]))
    }

    async fn pools(self, _: Context) -> Result<Vec<PoolInfo>, ApiError> {
        Ok(vec![PoolInfo {
            subnet: "192.0.2.0/24".into(),
            start: ip("192.0.2.100"),
            end: ip("192.0.2.199"),
            size: 100,
            leased: 25,
            quarantined: 0,
            free: 75,
            observed: 0,
            squatters: Vec::new(),
            last_sweep: Some(berth_proto::SweepSummary {
                finished_at: EPOCH,
                duration_ms: 310,
                probed: 100,
                answered: 2,
                interface: "eth1".into(),
            }),
        }])
    }

    async fn reload(self, _: Context) -> Result<ReloadResult, ApiError> {
        Ok(ReloadResult {
            config_path: "/etc/berth/berth.toml".into(),
            subnets: 1,
            hosts: 1,
            warnings: vec![],
        })
    }

    async fn events_since(
        self,
        _: Context,
        seq: u64,
        wait_ms: u64,
    ) -> Result<EventBatch, ApiError> {
        if seq + 1 < self.oldest {
            return Ok(EventBatch {
                events: vec![],
                last_seq: seq,
                gap: Some(Gap {
                    oldest_seq: self.oldest,
                }),
                epoch: self.epoch,
            });
        }
        let events: Vec<Event> = (seq + 1..=self.newest).map(event).collect();
        if events.is_empty() {
            // Long poll: nothing new will come.
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        }
        Ok(EventBatch {
            last_seq: events.last().map_or(seq, |e| e.seq),
            events,
            gap: None,
            epoch: self.epoch,
        })
    }

    async fn explain(self, _: Context, req: ExplainRequest) -> Result<Explanation, ApiError> {
        canned_explanation(req)
    }

    async fn scan(
        self,
        _: Context,
        range: Option<String>,
    ) -> Result<Vec<berth_proto::ScanResult>, ApiError> {
        if range.as_deref() != Some("all") {
            return Err(ApiError::new(
                ErrorKind::NotFound,
                "no dynamic range matches",
            ));
        }
        Ok(vec![berth_proto::ScanResult {
            subnet: "192.0.2.0/24".into(),
            start: ip("192.0.2.100"),
            end: ip("192.0.2.199"),
            interface: "eth1".into(),
            probed: 100,
            answered: 2,
            observed: 1,
            squatters: vec![berth_proto::SquatterInfo {
                ip: ip("192.0.2.150"),
                mac: "02:00:00:00:00:99".into(),
                holder: None,
                reason: "in use without a lease".into(),
                seen_at: EPOCH,
            }],
            finished_at: EPOCH,
            duration_ms: 310,
        }])
    }

    async fn quarantine(
        self,
        _: Context,
        page: berth_proto::PageRequest,
    ) -> Result<berth_proto::Page<berth_proto::QuarantineInfo>, ApiError> {
        // Two entries, one per page, so the ctl must follow `next`.
        let all = canned_quarantine();
        let (item, next) = match page.after.as_deref() {
            None => (all[0].clone(), Some("192.0.2.150".to_string())),
            Some("192.0.2.150") => (all[1].clone(), None),
            Some(other) => {
                return Err(ApiError::new(
                    ErrorKind::Invalid,
                    format!("bad cursor {other}"),
                ));
            }
        };
        Ok(berth_proto::Page {
            items: vec![item],
            next,
            total: 2,
        })
    }

    async fn quarantine_clear(
        self,
        _: Context,
        addr: Ipv4Addr,
    ) -> Result<berth_proto::QuarantineInfo, ApiError> {
        canned_quarantine()
            .into_iter()
            .find(|q| q.ip == addr)
            .ok_or_else(|| ApiError::new(ErrorKind::NotFound, format!("{addr} is not quarantined")))
    }
}

fn canned_quarantine() -> Vec<berth_proto::QuarantineInfo> {
    let q = |addr: &str, reason, mac: &str| berth_proto::QuarantineInfo {
        ip: ip(addr),
        reason,
        mac: Some(mac.into()),
        since: T - 600,
        until: T + 3000,
        subnet: Some("192.0.2.0/24".into()),
    };
    vec![
        q(
            "192.0.2.150",
            berth_proto::QuarantineReason::Declined,
            "02:00:5e:10:00:03",
        ),
        q(
            "192.0.2.160",
            berth_proto::QuarantineReason::ProbeHit,
            "02:00:00:00:00:99",
        ),
    ]
}

/// `explain`'s canned answer: the seed's snom phone, or an error for an
/// unknown interface.
fn canned_explanation(req: ExplainRequest) -> Result<Explanation, ApiError> {
    if req.interface.as_deref() == Some("nope") {
        return Err(ApiError::new(
            ErrorKind::NotFound,
            "berthd does not serve interface `nope`",
        ));
    }
    let o = |space: &str, code, name: &str, value: &str, source: &str| ExplainedOption {
        space: space.into(),
        code,
        name: name.into(),
        value: value.into(),
        source: source.into(),
    };
    Ok(Explanation {
        mac: req.mac,
        interface: "br0".into(),
        subnet: Some("192.0.2.0/24".into()),
        host: None,
        classes: vec!["snom".into()],
        address: Some(ip("192.0.2.100")),
        range: Some("192.0.2.100-192.0.2.102".into()),
        outcome: "offered 192.0.2.100".into(),
        next_server: Some(ip("192.0.2.1")),
        filename: Some("snom/snom370.cfg".into()),
        server_name: None,
        options: vec![
            o(
                "dhcp",
                67,
                "bootfile-name",
                &format!("snom/{}.htm", req.vendor_class.unwrap_or_default()),
                "class snom",
            ),
            o(
                "dhcp",
                43,
                "vendor-encapsulated-options",
                "42:02:78:79",
                "class snom",
            ),
            o("snom", 66, "tftp-server-name", "xy", "class snom"),
            o("dhcp", 3, "routers", "192.0.2.1", "subnet"),
        ],
    })
}

/// A fake daemon listening in a fresh temp dir; dropped with the dir.
struct Daemon {
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

async fn start_daemon() -> Daemon {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("control.sock");
    let listener = UnixListener::bind(&socket).expect("bind the fake socket");
    tokio::spawn(serve(listener, FAKE));
    Daemon { _dir: dir, socket }
}

/// Accepts connections and serves each with `fake`, on the current runtime.
async fn serve(listener: UnixListener, fake: FakeServer) {
    while let Ok((conn, _)) = listener.accept().await {
        let served = BaseChannel::with_defaults(berth_proto::transport::framed(conn))
            .execute(fake.serve())
            .for_each(|fut| async {
                tokio::spawn(fut);
            });
        tokio::spawn(served);
    }
}

/// A fake daemon on its own runtime, so that dropping the runtime ends it
/// with all its connections, as a daemon restart would.
fn start_own_runtime(socket: &Path, fake: FakeServer) -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("fake daemon runtime");
    // A stale socket file from the previous daemon would make bind fail.
    let _ = std::fs::remove_file(socket);
    let listener = {
        let _guard = rt.enter();
        UnixListener::bind(socket).expect("bind the fake socket")
    };
    rt.spawn(serve(listener, fake));
    rt
}

fn berth(socket: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.arg("--socket")
        .arg(socket)
        .args(args)
        .env("TZ", "UTC")
        .kill_on_drop(true);
    c
}

async fn run(mut cmd: Command) -> Output {
    tokio::time::timeout(Duration::from_secs(20), cmd.output())
        .await
        .expect("berth finished in time")
        .expect("berth ran")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn leases_table() {
    let d = start_daemon().await;
    let o = run(berth(&d.socket, &["leases"])).await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("IP  ") && lines[0].contains("REMAINING"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("192.0.2.100  02:00:5e:10:00:01  laptop"),
        "{out}"
    );
    assert!(
        lines[1].contains("2030-01-01 00:00:00"),
        "times in TZ=UTC: {out}"
    );
    assert!(lines[2].contains("expired"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn leases_honour_tz_and_filters() {
    let d = start_daemon().await;
    let mut cmd = berth(
        &d.socket,
        &["leases", "--state", "bound", "--mac", "02-00-5E-10-00-01"],
    );
    cmd.env("TZ", "CET-1CEST,M3.5.0,M10.5.0/3");
    let o = run(cmd).await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "one lease after the header: {out}");
    assert!(out.contains("2030-01-01 01:00:00"), "Berlin time: {out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn leases_json() {
    let d = start_daemon().await;
    let o = run(berth(&d.socket, &["--json", "leases"])).await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    let arr = v.as_array().expect("an array");
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["ip"], "192.0.2.100");
    assert_eq!(arr[0]["ends"], "2030-01-01T00:00:00Z");
    assert_eq!(arr[0]["state"], "bound");
    assert_eq!(arr[1]["hostname"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn leases_larger_than_a_frame_stream_in_pages() {
    let d = start_daemon().await;
    let o = run(berth(
        &d.socket,
        &["--json", "leases", "--subnet", BIG_SUBNET],
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        o.stdout.len() > berth_proto::MAX_FRAME_BYTES,
        "{} bytes",
        o.stdout.len()
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    let arr = v.as_array().expect("an array");
    assert_eq!(arr.len(), BIG_COUNT as usize);
    assert_eq!(arr[0]["ip"], "10.0.0.1");
    assert_eq!(
        arr[5_999]["ip"],
        Ipv4Addr::from(u32::from(BIG_FIRST) + 5_999).to_string()
    );
    let exact: String = format!("000017{}", "\u{1b}".repeat(194));
    assert_eq!(arr[17]["hostname"], exact.as_str(), "--json stays exact");

    let o = run(berth(&d.socket, &["leases", "--subnet", BIG_SUBNET])).await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        BIG_COUNT as usize + 1,
        "one header, one line per lease"
    );
    assert!(!out.contains('\u{1b}'), "escapes neutralised in the table");
    // Every page keeps the first page's columns.
    let col = lines[1].find("02:00:5e").expect("mac column");
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|l| l.find("02:00:5e") == Some(col))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn other_reads() {
    let d = start_daemon().await;
    let o = run(berth(&d.socket, &["status"])).await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(stdout(&o).contains(&format!(
        "0.1.0-fake (control API {})",
        berth_proto::API_VERSION
    )));
    assert!(stdout(&o).contains("up 1h02m"));

    let o = run(berth(&d.socket, &["hosts"])).await;
    assert!(
        stdout(&o).contains("host1  00:23:32:aa:bb:cc  192.0.2.2  config"),
        "{}",
        stdout(&o)
    );

    let o = run(berth(&d.socket, &["hosts", "export"])).await;
    assert_eq!(stdout(&o), "# no store hosts\n");

    let o = run(berth(&d.socket, &["pools", "--json"])).await;
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v[0]["free"], 75);
    assert_eq!(v[0]["last_sweep"]["answered"], 2);
    assert_eq!(v[0]["last_sweep"]["finished_at"], "2023-11-14T22:13:20Z");

    let o = run(berth(&d.socket, &["blocks"])).await;
    assert_eq!(stdout(&o), "no blocks\n");

    let o = run(berth(&d.socket, &["reload"])).await;
    assert_eq!(
        stdout(&o),
        "reloaded /etc/berth/berth.toml: 1 subnets, 1 hosts\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changes() {
    let d = start_daemon().await;
    let o = run(berth(
        &d.socket,
        &["--json", "block", "02:00:5e:10:00:09", "--for", "2h"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["until"], "2030-01-01T02:00:00Z");

    let o = run(berth(
        &d.socket,
        &["promote", "02:00:5e:10:00:01", "--ip", "192.0.2.20"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        stdout(&o).starts_with("promoted 02:00:5e:10:00:01 to static host laptop at 192.0.2.20\n")
    );

    let o = run(berth(&d.socket, &["release", "192.0.2.100"])).await;
    assert_eq!(
        stdout(&o),
        "released 192.0.2.100 (02:00:5e:10:00:01, laptop)\n"
    );

    let o = run(berth(&d.socket, &["unblock", "02:00:5e:10:00:09"])).await;
    assert_eq!(stdout(&o), "unblocked 02:00:5e:10:00:09\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_exit_1_with_the_message() {
    let d = start_daemon().await;
    let o = run(berth(
        &d.socket,
        &[
            "host",
            "add",
            "pc",
            "--mac",
            "02:00:5e:10:00:0a",
            "--ip",
            "192.0.2.50",
        ],
    ))
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "berth: adding hosts needs admin rights: run as root\n"
    );
    assert!(o.stdout.is_empty());

    // Fetch, modify, update: the update is refused for a config host.
    let o = run(berth(
        &d.socket,
        &["host", "edit", "host1", "--ip", "192.0.2.3"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "berth: host `host1` is defined in the config file and cannot be changed at run time\n"
    );

    let o = run(berth(
        &d.socket,
        &["host", "edit", "nosuch", "--ip", "192.0.2.3"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no static host named `nosuch`"),
        "{}",
        stderr(&o)
    );

    let o = run(berth(&d.socket, &["host", "rm", "ghost"])).await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "berth: no store host named `ghost`\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_socket_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = run(berth(&dir.path().join("absent.sock"), &["status"])).await;
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("berth: no berthd control socket at "),
        "{err}"
    );
    assert!(err.contains("is the daemon running?"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("absent.sock");
    for args in [
        &["leases", "--state", "bogus"][..],
        &["block", "not-a-mac"],
        &["block", "02:00:5e:10:00:01", "--for", "30y"],
        &["block", "02:00:5e:10:00:01", "--for", "0s"],
        &["promote", "02:00:5e:10:00:01", "--hostname", "my_host"],
        &["host", "edit", "x"],
        &["nosuchcommand"],
    ] {
        let o = run(berth(&sock, args)).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn help_documents_exit_codes_and_completions_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("absent.sock");
    let o = run(berth(&sock, &["--help"])).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Exit status:"));
    let o = run(berth(&sock, &["completions", "bash"])).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("_berth()"));
    let o = run(berth(&sock, &["man"])).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains(".TH berth 1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn events_drain_warns_about_a_gap() {
    let d = start_daemon().await;
    let o = run(berth(&d.socket, &["--json", "events", "--since", "1"])).await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        stderr(&o).contains("berth: warning: fell behind"),
        "{}",
        stderr(&o)
    );
    let seqs: Vec<u64> = stdout(&o)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            v["seq"].as_u64().expect("seq")
        })
        .collect();
    assert_eq!(seqs, [5, 6, 7]);

    // Without --since the buffer's wrap is not news: no warning.
    let o = run(berth(&d.socket, &["events"])).await;
    assert_eq!(stderr(&o), "");
    assert_eq!(stdout(&o).lines().count(), 4, "header and three events");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_follow_streams_json_lines() {
    let d = start_daemon().await;
    let mut child = berth(&d.socket, &["--json", "events", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth started");
    let out = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(out).lines();
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        while seen.len() < 3 {
            match lines.next_line().await.expect("read stdout") {
                Some(line) => {
                    let v: Value = serde_json::from_str(&line).expect("a JSON line");
                    assert_eq!(v["kind"], "ack");
                    seen.push(v["seq"].as_u64().expect("seq"));
                }
                None => break,
            }
        }
    })
    .await;
    // Still following: the process must not have exited on its own.
    let still_running = child.try_wait().expect("poll child").is_none();
    child.kill().await.expect("kill berth");
    assert!(read.is_ok(), "timed out after {seen:?}");
    assert_eq!(seen, [5, 6, 7]);
    assert!(still_running, "events --follow exited instead of waiting");
}

/// Reads JSON lines from `lines` until `n` seqs were seen or 20 s passed.
async fn read_seqs(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    n: usize,
) -> Vec<u64> {
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while seen.len() < n {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    let v: Value = serde_json::from_str(&line).expect("a JSON line");
                    seen.push(v["seq"].as_u64().expect("seq"));
                }
                _ => break,
            }
        }
    })
    .await;
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn events_follow_survives_a_daemon_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("control.sock");
    let first = start_own_runtime(&socket, FAKE);
    let mut child = berth(&socket, &["--json", "events", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth started");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let before = read_seqs(&mut lines, 3).await;

    // Restart: the old daemon goes away mid long poll, a new one with a new
    // epoch and fresh sequence numbers takes the socket.
    first.shutdown_background();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = start_own_runtime(
        &socket,
        FakeServer {
            epoch: EPOCH + 100,
            oldest: 1,
            newest: 2,
        },
    );
    let after = read_seqs(&mut lines, 2).await;

    child.kill().await.expect("kill berth");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = e.read_to_string(&mut err).await;
    }
    second.shutdown_background();
    assert_eq!(before, [5, 6, 7]);
    assert_eq!(after, [1, 2], "stderr: {err}");
    assert!(err.contains("reconnecting"), "{err}");
    assert!(err.contains("berthd restarted"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_human_and_json() {
    let d = start_daemon().await;
    let o = run(berth(
        &d.socket,
        &["explain", "02-00-5E-10-00-01", "--vendor-class", "snom370"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("client       02:00:5e:10:00:01\n"), "{out}");
    assert!(out.contains("\nclasses      snom\n"), "{out}");
    assert!(out.contains("\naddress      192.0.2.100\n"), "{out}");
    assert!(out.contains("\nnext-server  192.0.2.1\n"), "{out}");
    assert!(out.contains("\nfilename     snom/snom370.cfg\n"), "{out}");
    assert!(out.contains("\nserver name  -\n"), "{out}");
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("CODE"))
        .collect();
    assert_eq!(rows.len(), 5, "{out}");
    let cells = |i: usize| rows[i].split_whitespace().collect::<Vec<_>>();
    assert_eq!(cells(0), ["CODE", "OPTION", "VALUE", "FROM"], "{out}");
    assert_eq!(
        cells(1),
        ["67", "bootfile-name", "snom/snom370.htm", "class", "snom"],
        "{out}"
    );
    assert_eq!(
        cells(3),
        ["43.66", "snom.tftp-server-name", "xy", "class", "snom"],
        "{out}"
    );
    assert_eq!(cells(4), ["3", "routers", "192.0.2.1", "subnet"], "{out}");

    let o = run(berth(
        &d.socket,
        &[
            "--json",
            "explain",
            "02:00:5e:10:00:01",
            "--vendor-class",
            "snom370",
        ],
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(v["classes"][0], "snom");
    assert_eq!(v["address"], "192.0.2.100");
    assert_eq!(v["options"][0]["name"], "bootfile-name");
    assert_eq!(v["options"][0]["value"], "snom/snom370.htm");
    assert_eq!(v["options"][0]["source"], "class snom");
    assert_eq!(v["options"][2]["space"], "snom");
    assert_eq!(v["host"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_refusals() {
    let d = start_daemon().await;
    let o = run(berth(&d.socket, &["explain", "not-a-mac"])).await;
    assert_eq!(o.status.code(), Some(2), "usage error: {}", stderr(&o));
    let o = run(berth(
        &d.socket,
        &["explain", "02:00:5e:10:00:01", "--relay", "x"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(2), "usage error: {}", stderr(&o));
    let o = run(berth(
        &d.socket,
        &["explain", "02:00:5e:10:00:01", "--interface", "nope"],
    ))
    .await;
    assert_eq!(o.status.code(), Some(1), "refused: {}", stderr(&o));
    assert!(
        stderr(&o).contains("does not serve interface `nope`"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_prints_ranges_and_squatters_both_ways() {
    let d = start_daemon().await;
    // No argument means `all`.
    let o = run(berth(&d.socket, &["scan"])).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("RANGE "), "{text}");
    assert!(text.contains("192.0.2.100-192.0.2.199"), "{text}");
    assert!(
        text.contains("192.0.2.150  02:00:00:00:00:99  -             in use without a lease"),
        "{text}"
    );
    let o = run(berth(&d.socket, &["--json", "scan", "all"])).await;
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v[0]["answered"], 2);
    assert_eq!(v[0]["squatters"][0]["ip"], "192.0.2.150");
    assert_eq!(v[0]["squatters"][0]["seen_at"], "2023-11-14T22:13:20Z");
    // The daemon's refusal is the ctl's exit 1.
    let o = run(berth(&d.socket, &["scan", "10.0.0.0/8"])).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no dynamic range matches"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn quarantine_lists_every_page_and_clear_frees_one() {
    let d = start_daemon().await;
    let o = run(berth(&d.socket, &["quarantine"])).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("IP "), "{text}");
    assert!(
        text.contains("192.0.2.150  declined   02:00:5e:10:00:03"),
        "{text}"
    );
    assert!(
        text.contains("192.0.2.160  probe_hit  02:00:00:00:00:99"),
        "{text}"
    );
    let o = run(berth(&d.socket, &["--json", "quarantine"])).await;
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(2), "both pages");
    assert_eq!(v[1]["reason"], "probe_hit");
    assert_eq!(v[0]["until"], "2030-01-01T00:50:00Z");

    let o = run(berth(&d.socket, &["quarantine", "clear", "192.0.2.150"])).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "cleared the quarantine of 192.0.2.150 (declined, by 02:00:5e:10:00:03): free again\n"
    );
    let o = run(berth(
        &d.socket,
        &["--json", "quarantine", "clear", "192.0.2.160"],
    ))
    .await;
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["ip"], "192.0.2.160");
    let o = run(berth(&d.socket, &["quarantine", "clear", "192.0.2.9"])).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not quarantined"), "{}", stderr(&o));
    let o = run(berth(&d.socket, &["quarantine", "clear", "nope"])).await;
    assert_eq!(o.status.code(), Some(2), "usage error before connecting");
}
