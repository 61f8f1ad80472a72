//! `--json` output: each API type with its `UnixTime` fields turned into
//! RFC 3339 UTC strings and every other field kept as the API names it.
//!
//! The views borrow from the API types so that a field added to the
//! contract shows up here as a compile error in the `From` impl rather than
//! silently missing from scripts' output.

use std::net::Ipv4Addr;

use berth_proto::{
    BlockInfo, Event, EventKind, HostInfo, InterfaceStatus, LeaseInfo, LeaseKind, LeaseState,
    Origin, PoolInfo, PromoteResult, ReloadResult, ScanResult, SquatterInfo, Status, UnixTime,
};
use serde::{Serialize, Serializer};

/// A `UnixTime` that serialises as an RFC 3339 UTC string
/// (`2024-05-01T12:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub UnixTime);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match jiff::Timestamp::from_second(self.0) {
            Ok(ts) => s.collect_str(&ts),
            // Outside years -9999..=9999: no RFC 3339 form exists, so hand
            // over the raw number rather than fail the whole document.
            Err(_) => s.serialize_i64(self.0),
        }
    }
}

/// [`Status`] for JSON.
#[derive(Debug, Serialize)]
pub struct StatusJson<'a> {
    version: &'a str,
    api_version: u32,
    started_at: Rfc3339,
    uptime_secs: u64,
    config_path: &'a str,
    interfaces: &'a [InterfaceStatus],
    store_backend: &'a str,
    store_path: &'a str,
    leases_bound: u64,
    leases_total: u64,
    hosts_config: u64,
    hosts_store: u64,
    blocked: u64,
    counters: &'a [(String, u64)],
    store_health: StoreHealthJson<'a>,
    arp: &'a berth_proto::ArpStatus,
    rate_limited_clients: u64,
}

/// [`berth_proto::StoreHealth`] for JSON.
#[derive(Debug, Serialize)]
pub struct StoreHealthJson<'a> {
    ok: bool,
    last_ok: Option<Rfc3339>,
    failing_since: Option<Rfc3339>,
    last_error: Option<&'a str>,
    pending_writes: u64,
    unsaved_renewals: u64,
}

impl<'a> From<&'a Status> for StatusJson<'a> {
    fn from(s: &'a Status) -> Self {
        let Status {
            version,
            api_version,
            started_at,
            uptime_secs,
            config_path,
            interfaces,
            store_backend,
            store_path,
            leases_bound,
            leases_total,
            hosts_config,
            hosts_store,
            blocked,
            counters,
            store_health,
            arp,
            rate_limited_clients,
        } = s;
        StatusJson {
            version,
            api_version: *api_version,
            started_at: Rfc3339(*started_at),
            uptime_secs: *uptime_secs,
            config_path,
            interfaces,
            store_backend,
            store_path,
            leases_bound: *leases_bound,
            leases_total: *leases_total,
            hosts_config: *hosts_config,
            hosts_store: *hosts_store,
            blocked: *blocked,
            counters,
            store_health: StoreHealthJson {
                ok: store_health.ok,
                last_ok: store_health.last_ok.map(Rfc3339),
                failing_since: store_health.failing_since.map(Rfc3339),
                last_error: store_health.last_error.as_deref(),
                pending_writes: store_health.pending_writes,
                unsaved_renewals: store_health.unsaved_renewals,
            },
            arp,
            rate_limited_clients: *rate_limited_clients,
        }
    }
}

/// [`LeaseInfo`] for JSON.
#[derive(Debug, Serialize)]
pub struct LeaseJson<'a> {
    ip: Ipv4Addr,
    mac: &'a str,
    client_id: &'a str,
    hostname: Option<&'a str>,
    kind: LeaseKind,
    state: LeaseState,
    starts: Rfc3339,
    ends: Rfc3339,
    subnet: Option<&'a str>,
    moving_to: Option<Ipv4Addr>,
}

impl<'a> From<&'a LeaseInfo> for LeaseJson<'a> {
    fn from(l: &'a LeaseInfo) -> Self {
        let LeaseInfo {
            ip,
            mac,
            client_id,
            hostname,
            kind,
            state,
            starts,
            ends,
            subnet,
            moving_to,
        } = l;
        LeaseJson {
            ip: *ip,
            mac,
            client_id,
            hostname: hostname.as_deref(),
            kind: *kind,
            state: *state,
            starts: Rfc3339(*starts),
            ends: Rfc3339(*ends),
            subnet: subnet.as_deref(),
            moving_to: *moving_to,
        }
    }
}

/// [`HostInfo`] for JSON. Options stay `[name, value]` pairs, as in the API.
#[derive(Debug, Serialize)]
pub struct HostJson<'a> {
    name: &'a str,
    mac: Option<&'a str>,
    client_id: Option<&'a str>,
    ip: Ipv4Addr,
    origin: Origin,
    options: &'a [(String, String)],
    created_at: Option<Rfc3339>,
}

impl<'a> From<&'a HostInfo> for HostJson<'a> {
    fn from(h: &'a HostInfo) -> Self {
        let HostInfo {
            name,
            mac,
            client_id,
            ip,
            origin,
            options,
            created_at,
        } = h;
        HostJson {
            name,
            mac: mac.as_deref(),
            client_id: client_id.as_deref(),
            ip: *ip,
            origin: *origin,
            options,
            created_at: created_at.map(Rfc3339),
        }
    }
}

/// [`PromoteResult`] for JSON.
#[derive(Debug, Serialize)]
pub struct PromoteJson<'a> {
    host: HostJson<'a>,
    from: Option<Ipv4Addr>,
    moving: bool,
}

impl<'a> From<&'a PromoteResult> for PromoteJson<'a> {
    fn from(p: &'a PromoteResult) -> Self {
        let PromoteResult { host, from, moving } = p;
        PromoteJson {
            host: host.into(),
            from: *from,
            moving: *moving,
        }
    }
}

/// [`BlockInfo`] for JSON.
#[derive(Debug, Serialize)]
pub struct BlockJson<'a> {
    mac: &'a str,
    since: Rfc3339,
    until: Option<Rfc3339>,
}

impl<'a> From<&'a BlockInfo> for BlockJson<'a> {
    fn from(b: &'a BlockInfo) -> Self {
        let BlockInfo { mac, since, until } = b;
        BlockJson {
            mac,
            since: Rfc3339(*since),
            until: until.map(Rfc3339),
        }
    }
}

/// [`Event`] for JSON.
#[derive(Debug, Serialize)]
pub struct EventJson<'a> {
    seq: u64,
    at: Rfc3339,
    kind: EventKind,
    mac: Option<&'a str>,
    ip: Option<Ipv4Addr>,
    hostname: Option<&'a str>,
    vendor_class: Option<&'a str>,
    interface: Option<&'a str>,
    unknown: bool,
    ok: bool,
    detail: &'a str,
}

impl<'a> From<&'a Event> for EventJson<'a> {
    fn from(e: &'a Event) -> Self {
        let Event {
            seq,
            at,
            kind,
            mac,
            ip,
            hostname,
            vendor_class,
            interface,
            unknown,
            ok,
            detail,
        } = e;
        EventJson {
            seq: *seq,
            at: Rfc3339(*at),
            kind: *kind,
            mac: mac.as_deref(),
            ip: *ip,
            hostname: hostname.as_deref(),
            vendor_class: vendor_class.as_deref(),
            interface: interface.as_deref(),
            unknown: *unknown,
            ok: *ok,
            detail,
        }
    }
}

/// A pretty-printed JSON document ending in a newline.
fn document<T: Serialize + ?Sized>(v: &T) -> String {
    // The views hold only strings, numbers, addresses and plain enums, whose
    // serialisation cannot fail; the fallback keeps the output valid JSON anyway.
    let mut s = serde_json::to_string_pretty(v)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    s.push('\n');
    s
}

/// A JSON array written chunk by chunk: the same text [`document`] writes
/// for the whole array, without holding it.
#[derive(Debug, Default)]
pub struct ArrayStream {
    items: u64,
}

impl ArrayStream {
    /// The text for the next items.
    pub fn chunk<T: Serialize>(&mut self, items: impl IntoIterator<Item = T>) -> String {
        let mut out = String::new();
        for item in items {
            out.push_str(if self.items == 0 { "[\n" } else { ",\n" });
            self.items += 1;
            let text = document(&item);
            // Indented one level, as inside the pretty-printed array.
            for (i, line) in text.trim_end().lines().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str("  ");
                out.push_str(line);
            }
        }
        out
    }

    /// The text that closes the array.
    pub fn end(&self) -> &'static str {
        if self.items == 0 { "[]\n" } else { "\n]\n" }
    }
}

/// `status --json`: one object.
pub fn status(s: &Status) -> String {
    document(&StatusJson::from(s))
}

/// `leases --json`: an array.
pub fn leases(ls: &[LeaseInfo]) -> String {
    document(&ls.iter().map(LeaseJson::from).collect::<Vec<_>>())
}

/// One lease (`release --json`): an object.
pub fn lease(l: &LeaseInfo) -> String {
    document(&LeaseJson::from(l))
}

/// `hosts --json`: an array.
pub fn hosts(hs: &[HostInfo]) -> String {
    document(&hs.iter().map(HostJson::from).collect::<Vec<_>>())
}

/// One host (`host add/rm/edit --json`): an object.
pub fn host(h: &HostInfo) -> String {
    document(&HostJson::from(h))
}

/// `hosts export --json`: `{"toml": "..."}`.
pub fn export(toml: &str) -> String {
    document(&serde_json::json!({ "toml": toml }))
}

/// `promote --json`: an object.
pub fn promote(p: &PromoteResult) -> String {
    document(&PromoteJson::from(p))
}

/// One block (`block/unblock --json`): an object.
pub fn block(b: &BlockInfo) -> String {
    document(&BlockJson::from(b))
}

/// `blocks --json`: an array.
pub fn blocks(bs: &[BlockInfo]) -> String {
    document(&bs.iter().map(BlockJson::from).collect::<Vec<_>>())
}

/// A [`PoolInfo`] for JSON (its squatters' times in RFC 3339).
#[derive(Debug, Serialize)]
pub struct PoolJson<'a> {
    subnet: &'a str,
    start: Ipv4Addr,
    end: Ipv4Addr,
    size: u64,
    leased: u64,
    quarantined: u64,
    free: u64,
    observed: u64,
    squatters: Vec<SquatterJson<'a>>,
    last_sweep: Option<SweepJson<'a>>,
}

/// A [`berth_proto::SweepSummary`] for JSON.
#[derive(Debug, Serialize)]
pub struct SweepJson<'a> {
    finished_at: Rfc3339,
    duration_ms: u64,
    probed: u64,
    answered: u64,
    interface: &'a str,
}

/// `pools --json`: an array.
pub fn pools(ps: &[PoolInfo]) -> String {
    let v: Vec<PoolJson<'_>> = ps
        .iter()
        .map(|p| PoolJson {
            subnet: &p.subnet,
            start: p.start,
            end: p.end,
            size: p.size,
            leased: p.leased,
            quarantined: p.quarantined,
            free: p.free,
            observed: p.observed,
            squatters: p.squatters.iter().map(SquatterJson::from).collect(),
            last_sweep: p.last_sweep.as_ref().map(|w| SweepJson {
                finished_at: Rfc3339(w.finished_at),
                duration_ms: w.duration_ms,
                probed: w.probed,
                answered: w.answered,
                interface: &w.interface,
            }),
        })
        .collect();
    document(&v)
}

/// `reload --json`: an object.
pub fn reload(r: &ReloadResult) -> String {
    document(r)
}

/// One event as a single JSON line (ending in a newline), so that
/// `events --follow --json` can be read line by line.
pub fn event_line(e: &Event) -> String {
    let mut s = serde_json::to_string(&EventJson::from(e)).unwrap_or_else(|err| {
        serde_json::json!({ "seq": e.seq, "error": err.to_string() }).to_string()
    });
    s.push('\n');
    s
}

/// `explain --json`: an object (no times to convert).
pub fn explain(e: &berth_proto::Explanation) -> String {
    document(e)
}

/// A [`SquatterInfo`] for JSON.
#[derive(Debug, Serialize)]
pub struct SquatterJson<'a> {
    ip: Ipv4Addr,
    mac: &'a str,
    holder: Option<&'a str>,
    reason: &'a str,
    seen_at: Rfc3339,
}

impl<'a> From<&'a SquatterInfo> for SquatterJson<'a> {
    fn from(s: &'a SquatterInfo) -> Self {
        SquatterJson {
            ip: s.ip,
            mac: &s.mac,
            holder: s.holder.as_deref(),
            reason: &s.reason,
            seen_at: Rfc3339(s.seen_at),
        }
    }
}

/// A [`ScanResult`] for JSON.
#[derive(Debug, Serialize)]
pub struct ScanJson<'a> {
    subnet: &'a str,
    start: Ipv4Addr,
    end: Ipv4Addr,
    interface: &'a str,
    probed: u64,
    answered: u64,
    observed: u64,
    squatters: Vec<SquatterJson<'a>>,
    finished_at: Rfc3339,
    duration_ms: u64,
}

/// `scan --json`: an array, one object per range swept.
pub fn scan(rs: &[ScanResult]) -> String {
    let v: Vec<ScanJson<'_>> = rs
        .iter()
        .map(|r| ScanJson {
            subnet: &r.subnet,
            start: r.start,
            end: r.end,
            interface: &r.interface,
            probed: r.probed,
            answered: r.answered,
            observed: r.observed,
            squatters: r.squatters.iter().map(SquatterJson::from).collect(),
            finished_at: Rfc3339(r.finished_at),
            duration_ms: r.duration_ms,
        })
        .collect();
    document(&v)
}

/// A [`berth_proto::QuarantineInfo`] for JSON.
#[derive(Debug, Serialize)]
pub struct QuarantineJson<'a> {
    ip: Ipv4Addr,
    reason: berth_proto::QuarantineReason,
    mac: Option<&'a str>,
    since: Rfc3339,
    until: Rfc3339,
    subnet: Option<&'a str>,
}

impl<'a> From<&'a berth_proto::QuarantineInfo> for QuarantineJson<'a> {
    fn from(q: &'a berth_proto::QuarantineInfo) -> Self {
        QuarantineJson {
            ip: q.ip,
            reason: q.reason,
            mac: q.mac.as_deref(),
            since: Rfc3339(q.since),
            until: Rfc3339(q.until),
            subnet: q.subnet.as_deref(),
        }
    }
}

/// `quarantine --json`: an array, by address.
pub fn quarantine(qs: &[berth_proto::QuarantineInfo]) -> String {
    document(&qs.iter().map(QuarantineJson::from).collect::<Vec<_>>())
}

/// `quarantine clear --json`: the cleared entry.
pub fn quarantine_entry(q: &berth_proto::QuarantineInfo) -> String {
    document(&QuarantineJson::from(q))
}
