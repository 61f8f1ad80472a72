//! What a scrape of the Prometheus endpoint reads, and its text.
//!
//! Nothing is counted twice: a scrape is a read job on the core (like
//! `berth status`) that copies the counters their owners already keep —
//! the outcome and drop counters `publish` bumps, the store health, the
//! writer's statistics and histograms, the event log's tally, the pool
//! figures — and the text is encoded off the core. The only counters kept
//! for metrics alone are the ones nothing counted before: packets received
//! and replies sent by message type ([`Traffic`], plain integers on the
//! core) and control calls by method and result ([`ApiCalls`]).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use berth_proto::{ApiError, ErrorKind, EventKind};

use super::Core;
use crate::events::Tally;
use crate::hosts::Origin;
use crate::lease::{LeaseState, UnixTime};
use crate::metrics::{Exposition, HistogramSnapshot, Kind};
use crate::packet::Packet;
use crate::pool::RangeUsage;
use crate::store::writer::{WriterHistograms, WriterStats};

/// Message-type labels by slot: 0 is BOOTP (no option 53), 1 to 8 are
/// RFC 2132's types, 9 any other value.
const TYPES: [&str; 10] = [
    "bootp", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform", "other",
];

fn slot(p: &Packet) -> usize {
    match p.message_type() {
        None => 0,
        Some(Ok(t)) => t as usize,
        Some(Err(_)) => TYPES.len() - 1,
    }
}

/// Packets received (decoded) and replies sent, by message type. Owned by
/// the core: plain integers, no atomics on the packet path.
#[derive(Debug, Default, Clone)]
pub(crate) struct Traffic {
    received: [u64; TYPES.len()],
    sent: [u64; TYPES.len()],
}

impl Traffic {
    /// A request was decoded.
    pub(crate) fn received(&mut self, p: &Packet) {
        self.received[slot(p)] += 1;
    }

    /// A reply was handed to its socket.
    pub(crate) fn sent(&mut self, p: &Packet) {
        self.sent[slot(p)] += 1;
    }
}

/// Control API calls by method and result ("ok" or the error kind),
/// counted by the connections' tasks.
#[derive(Debug, Default)]
pub(crate) struct ApiCalls(Mutex<BTreeMap<(&'static str, &'static str), u64>>);

impl ApiCalls {
    /// Counts one call of `method` that ended in `r`, and hands `r` back.
    pub(crate) fn count<T>(
        &self,
        method: &'static str,
        r: Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let result = match &r {
            Ok(_) => "ok",
            Err(e) => error_label(e.kind),
        };
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((method, result))
            .or_default() += 1;
        r
    }

    fn snapshot(&self) -> Vec<((&'static str, &'static str), u64)> {
        let calls = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        calls.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

fn error_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::PermissionDenied => "permission_denied",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Invalid => "invalid",
        ErrorKind::ReadOnly => "read_only",
        ErrorKind::Internal => "internal",
    }
}

/// Outcome counters (`engine::Outcome::kind`) that are a request's end.
const OUTCOMES: &[&str] = &[
    "offered",
    "acked",
    "informed",
    "naked",
    "released",
    "declined",
    "bootp",
    "no_address",
    "ignored",
    "dropped",
];

/// Counters exposed under a metric of their own; every other counter
/// `publish` keeps is a drop reason (decode errors, limits, backlog, ...).
const OWN_METRIC: &[&str] = &[
    "probe",
    "probe_answered",
    "hook_dropped",
    "webhook_dropped",
    "offer_evicted",
    "clock_jump",
];

const STATES: [LeaseState; 6] = [
    LeaseState::Offered,
    LeaseState::Bound,
    LeaseState::Released,
    LeaseState::Declined,
    LeaseState::Expired,
    LeaseState::Observed,
];

/// What one scrape reads, copied on the core and encoded off it.
pub(crate) struct Snapshot {
    started_at: UnixTime,
    uptime: u64,
    backend: &'static str,
    leases: [u64; STATES.len()],
    ranges: Vec<RangeUsage>,
    traffic: Traffic,
    counters: Vec<(&'static str, u64)>,
    store_ok: bool,
    pending_writes: u64,
    writer: WriterStats,
    histograms: WriterHistograms,
    events: Vec<Tally>,
    webhooks: (u64, u64),
    arp_enabled: bool,
    sweeps: u64,
    api: Vec<((&'static str, &'static str), u64)>,
    hosts: (u64, u64),
    blocked: u64,
}

impl Core {
    /// The figures a scrape exposes, as they are now.
    pub(crate) fn metrics_snapshot(&self, now: UnixTime) -> Snapshot {
        let mut leases = [0u64; STATES.len()];
        for l in self.table.iter() {
            if let Some(i) = STATES.iter().position(|s| *s == l.state) {
                leases[i] += 1;
            }
        }
        let webhooks = self.webhooks.as_ref().map_or((0, 0), |w| {
            (w.attempts().delivered(), w.attempts().failed())
        });
        Snapshot {
            started_at: self.started_at,
            uptime: now.saturating_sub(self.started_at),
            backend: self.writer.backend(),
            leases,
            ranges: crate::pool::usage(&self.cfg, &self.hosts, &self.table, now),
            traffic: self.traffic.clone(),
            counters: self.counters.0.iter().map(|(k, v)| (*k, *v)).collect(),
            store_ok: self.health.info(0).ok,
            pending_writes: self.in_flight.len() as u64,
            writer: self.writer.stats(),
            histograms: self.writer.histograms(),
            events: self.events.tally(),
            webhooks,
            arp_enabled: self.arp_status().enabled,
            sweeps: self.arp.sweeps_done,
            api: self.metrics.api.snapshot(),
            hosts: (
                self.hosts.count(Origin::Config) as u64,
                self.hosts.count(Origin::Store) as u64,
            ),
            blocked: self.blocks.iter().filter(|b| b.is_active(now)).count() as u64,
        }
    }
}

impl Snapshot {
    fn counter(&self, name: &str) -> u64 {
        self.counters
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(0, |(_, v)| *v)
    }

    /// The exposition text.
    pub(crate) fn encode(&self) -> String {
        let mut e = Exposition::new();
        self.encode_daemon(&mut e);
        self.encode_dhcp(&mut e);
        self.encode_store(&mut e);
        self.encode_side_effects(&mut e);
        e.finish()
    }

    fn encode_daemon(&self, e: &mut Exposition) {
        e.family(
            "berth_build_info",
            Kind::Gauge,
            "The running berthd: 1, labelled with its version.",
        )
        .sample(&[("version", env!("CARGO_PKG_VERSION"))], 1u64);
        e.family(
            "berth_start_time_seconds",
            Kind::Gauge,
            "When berthd started (Unix time).",
        )
        .sample(&[], self.started_at);
        e.family(
            "berth_uptime_seconds",
            Kind::Gauge,
            "Seconds since berthd started.",
        )
        .sample(&[], self.uptime);
        e.family(
            "berth_hosts",
            Kind::Gauge,
            "Static hosts, by where they are defined.",
        )
        .sample(&[("origin", "config")], self.hosts.0)
        .sample(&[("origin", "runtime")], self.hosts.1);
        e.family(
            "berth_blocked_clients",
            Kind::Gauge,
            "Client MACs blocked now.",
        )
        .sample(&[], self.blocked);
        e.family(
            "berth_control_calls_total",
            Kind::Counter,
            "Control API calls, by method and result (ok or the error kind).",
        );
        for ((method, result), n) in &self.api {
            e.sample(&[("method", method), ("result", result)], *n);
        }
    }

    fn encode_dhcp(&self, e: &mut Exposition) {
        e.family(
            "berth_leases",
            Kind::Gauge,
            "Lease records in memory, by state.",
        );
        for (state, n) in STATES.iter().zip(self.leases) {
            e.sample(&[("state", state.as_str())], n);
        }
        let ranges: Vec<(String, String, &RangeUsage)> = self
            .ranges
            .iter()
            .map(|u| {
                (
                    u.subnet.to_string(),
                    format!("{}-{}", u.range.start, u.range.end),
                    u,
                )
            })
            .collect();
        let per_range: [PerRange; 5] = [
            ("berth_range_size", "Addresses in the range.", |u| u.size),
            (
                "berth_range_used",
                "Addresses held or bound, or reserved for static hosts.",
                |u| u.leased,
            ),
            ("berth_range_free", "Addresses that can be offered.", |u| {
                u.free
            }),
            (
                "berth_range_quarantined",
                "Declined addresses in probation.",
                |u| u.quarantined,
            ),
            (
                "berth_range_observed",
                "Addresses ARP found in use without a lease.",
                |u| u.observed,
            ),
        ];
        for (name, help, value) in per_range {
            e.family(name, Kind::Gauge, help);
            for (subnet, range, u) in &ranges {
                e.sample(&[("subnet", subnet), ("range", range)], value(u));
            }
        }
        e.family(
            "berth_packets_received_total",
            Kind::Counter,
            "DHCP requests decoded, by message type (malformed ones are drops).",
        );
        for (t, n) in TYPES.iter().zip(self.traffic.received) {
            e.sample(&[("type", t)], n);
        }
        e.family(
            "berth_replies_sent_total",
            Kind::Counter,
            "Replies handed to the socket, by message type.",
        );
        for (t, n) in TYPES.iter().zip(self.traffic.sent) {
            e.sample(&[("type", t)], n);
        }
        e.family(
            "berth_requests_total",
            Kind::Counter,
            "Requests by outcome, counted once published (an ACK once durable).",
        );
        for o in OUTCOMES {
            e.sample(&[("outcome", o)], self.counter(o));
        }
        e.family(
            "berth_packets_dropped_total",
            Kind::Counter,
            "Packets not served, by reason.",
        );
        for (reason, n) in &self.counters {
            if !OUTCOMES.contains(reason) && !OWN_METRIC.contains(reason) {
                e.sample(&[("reason", reason)], *n);
            }
        }
        e.family(
            "berth_arp_enabled",
            Kind::Gauge,
            "1 when ARP sweeps and probes can run.",
        )
        .sample(&[], self.arp_enabled);
        e.family(
            "berth_arp_sweeps_total",
            Kind::Counter,
            "ARP sweeps of a range finished.",
        )
        .sample(&[], self.sweeps);
        e.family(
            "berth_arp_probes_total",
            Kind::Counter,
            "Pre-offer ARP probes started.",
        )
        .sample(&[], self.counter("probe"));
        e.family(
            "berth_arp_probes_answered_total",
            Kind::Counter,
            "Pre-offer probes that someone answered (the address was quarantined).",
        )
        .sample(&[], self.counter("probe_answered"));
        e.family(
            "berth_offers_evicted_total",
            Kind::Counter,
            "Offers dropped to make room for a new client's (a subnet held max_offers).",
        )
        .sample(&[], self.counter("offer_evicted"));
        e.family(
            "berth_clock_jumps_total",
            Kind::Counter,
            "Wall-clock jumps detected (leases and holds were shifted, not expired).",
        )
        .sample(&[], self.counter("clock_jump"));
    }

    fn encode_store(&self, e: &mut Exposition) {
        e.family(
            "berth_store_up",
            Kind::Gauge,
            "1 while writes become durable, 0 while they fail; labelled with the backend.",
        )
        .sample(&[("backend", self.backend)], self.store_ok);
        e.family(
            "berth_store_pending_writes",
            Kind::Gauge,
            "Changes whose writes wait for the store.",
        )
        .sample(&[], self.pending_writes);
        e.family(
            "berth_store_batches_total",
            Kind::Counter,
            "Group transactions attempted.",
        )
        .sample(&[], self.writer.batches);
        e.family(
            "berth_store_writes_total",
            Kind::Counter,
            "Writes made durable.",
        )
        .sample(&[], self.writer.writes);
        e.family(
            "berth_store_failures_total",
            Kind::Counter,
            "Write requests that failed.",
        )
        .sample(&[], self.writer.failures);
        histogram(
            e,
            "berth_store_commit_duration_seconds",
            "Time per store transaction.",
            &self.histograms.commit_seconds,
        );
        histogram(
            e,
            "berth_store_batch_writes",
            "Writes per group transaction.",
            &self.histograms.batch_writes,
        );
    }

    fn encode_side_effects(&self, e: &mut Exposition) {
        e.family(
            "berth_events_total",
            Kind::Counter,
            "Events published, by kind and whether ok.",
        );
        for t in &self.events {
            e.sample(&[("kind", t.kind.as_str()), ("ok", "true")], t.ok);
            e.sample(&[("kind", t.kind.as_str()), ("ok", "false")], t.failed);
        }
        let hooks = self
            .events
            .iter()
            .find(|t| t.kind == EventKind::HookResult)
            .map_or((0, 0), |t| (t.ok, t.failed));
        e.family(
            "berth_hook_runs_total",
            Kind::Counter,
            "Hook programs finished, by result.",
        )
        .sample(&[("result", "ok")], hooks.0)
        .sample(&[("result", "failed")], hooks.1);
        e.family(
            "berth_hook_dropped_total",
            Kind::Counter,
            "Events whose hooks were dropped (queue full).",
        )
        .sample(&[], self.counter("hook_dropped"));
        e.family(
            "berth_webhook_deliveries_total",
            Kind::Counter,
            "Webhook POSTs, by result (each retry counts).",
        )
        .sample(&[("result", "delivered")], self.webhooks.0)
        .sample(&[("result", "failed")], self.webhooks.1);
        e.family(
            "berth_webhook_dropped_total",
            Kind::Counter,
            "Webhook notifications dropped.",
        )
        .sample(&[], self.counter("webhook_dropped"));
    }
}

/// A per-range gauge: its name, help and figure.
type PerRange = (&'static str, &'static str, fn(&RangeUsage) -> u64);

fn histogram(e: &mut Exposition, name: &'static str, help: &str, h: &HistogramSnapshot) {
    e.family(name, Kind::Histogram, help).histogram(&[], h);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::start::TEST_CONFIG;
    use crate::store::MemoryStore;

    #[test]
    fn message_types_have_their_own_slots() {
        let mut t = Traffic::default();
        let mac = crate::addr::MacAddr([2, 0, 0, 0, 0, 1]);
        let mut p = Packet::request(mac, crate::packet::MessageType::Discover, 1);
        t.received(&p);
        p.options
            .set_bytes(crate::packet::code::MESSAGE_TYPE, &[42]);
        t.received(&p);
        p.options.remove(crate::packet::code::MESSAGE_TYPE);
        t.received(&p);
        assert_eq!(t.received[1], 1, "discover");
        assert_eq!(t.received[9], 1, "other");
        assert_eq!(t.received[0], 1, "bootp");
    }

    #[test]
    fn api_results_are_ok_or_the_error_kind() {
        let calls = ApiCalls::default();
        let _ = calls.count("status", Ok::<(), ApiError>(()));
        let _ = calls.count("status", Ok::<(), ApiError>(()));
        let _ = calls.count::<()>(
            "block",
            Err(ApiError::new(ErrorKind::PermissionDenied, "no")),
        );
        assert_eq!(
            calls.snapshot(),
            [(("block", "permission_denied"), 1), (("status", "ok"), 2)]
        );
    }

    #[tokio::test]
    async fn a_fresh_core_exposes_every_family_with_zeroes() {
        let (core, _wire) = Core::for_test(TEST_CONFIG, MemoryStore::new());
        let text = core.metrics_snapshot(core.started_at + 5).encode();
        for needle in [
            "berth_uptime_seconds 5\n",
            "berth_leases{state=\"bound\"} 0\n",
            "berth_range_size{subnet=\"192.0.2.0/24\",range=\"192.0.2.10-192.0.2.20\"} 11\n",
            "berth_range_free{subnet=\"192.0.2.0/24\",range=\"192.0.2.10-192.0.2.20\"} 11\n",
            "berth_packets_received_total{type=\"discover\"} 0\n",
            "berth_requests_total{outcome=\"acked\"} 0\n",
            "berth_store_up{backend=\"memory\"} 1\n",
            "berth_store_commit_duration_seconds_count 0\n",
            "berth_store_batch_writes_bucket{le=\"+Inf\"} 0\n",
            "# TYPE berth_packets_dropped_total counter\n",
            "berth_webhook_deliveries_total{result=\"delivered\"} 0\n",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        // Each family is declared once.
        let mut types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let n = types.len();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), n);
    }

    #[test]
    fn counters_split_into_outcomes_drops_and_their_own_metrics() {
        let snap = Snapshot {
            counters: vec![
                ("acked", 3),
                ("truncated", 2),
                ("flood_ignored", 1),
                ("probe", 4),
                ("hook_dropped", 5),
            ],
            ..empty()
        };
        let text = snap.encode();
        assert!(text.contains("berth_requests_total{outcome=\"acked\"} 3\n"));
        assert!(text.contains("berth_packets_dropped_total{reason=\"truncated\"} 2\n"));
        assert!(text.contains("berth_packets_dropped_total{reason=\"flood_ignored\"} 1\n"));
        assert!(!text.contains("reason=\"acked\"") && !text.contains("reason=\"probe\""));
        assert!(text.contains("berth_arp_probes_total 4\n"));
        assert!(text.contains("berth_hook_dropped_total 5\n"));
    }

    fn empty() -> Snapshot {
        let h = crate::metrics::Histogram::new(&[1], 1.0).snapshot();
        Snapshot {
            started_at: 0,
            uptime: 0,
            backend: "memory",
            leases: [0; STATES.len()],
            ranges: Vec::new(),
            traffic: Traffic::default(),
            counters: Vec::new(),
            store_ok: true,
            pending_writes: 0,
            writer: WriterStats::default(),
            histograms: WriterHistograms {
                commit_seconds: h.clone(),
                batch_writes: h,
            },
            events: Vec::new(),
            webhooks: (0, 0),
            arp_enabled: false,
            sweeps: 0,
            api: Vec::new(),
            hosts: (0, 0),
            blocked: 0,
        }
    }
}

/// Prints what counting by message type costs next to a DISCOVER through
/// the core (figures only): `cargo test -p berthd --release --lib
/// counting_cost -- --ignored --nocapture`.
#[cfg(test)]
mod cost {
    use super::*;
    use crate::addr::MacAddr;
    use crate::packet::MessageType;
    use crate::server::core::Inbound;
    use crate::store::MemoryStore;
    use std::time::Instant;

    const CONFIG: &str = r#"
[server]
interfaces = ["test0"]
[[subnet]]
cidr = "10.0.0.0/16"
range = ["10.0.1.0", "10.0.255.254"]
"#;

    #[tokio::test]
    #[ignore = "prints figures; run in release"]
    async fn counting_cost_next_to_a_discover() {
        let (mut core, _wire) = Core::for_test(CONFIG, MemoryStore::new());
        let n = 20_000u32;
        let packets: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let [_, b, c, d] = i.to_be_bytes();
                let mut p = Packet::request(MacAddr([2, 0, 0, b, c, d]), MessageType::Discover, i);
                p.options.set_bytes(55, &[1, 3, 6, 15, 28, 51]);
                p.encode(576, &[]).0
            })
            .collect();
        let from: std::net::SocketAddr = "0.0.0.0:68".parse().expect("addr");
        let t = Instant::now();
        for bytes in &packets {
            let m = Inbound {
                iface: 0,
                bytes: bytes.clone(),
                from,
            };
            core.handle_inbound(m, 0);
        }
        let per_discover = t.elapsed().as_nanos() as f64 / f64::from(n);
        let p = Packet::decode(&packets[0]).expect("decode");
        let mut traffic = Traffic::default();
        let m = 1_000_000u32;
        let t = Instant::now();
        for _ in 0..m {
            traffic.received(std::hint::black_box(&p));
        }
        let per_count = t.elapsed().as_nanos() as f64 / f64::from(m);
        assert_eq!(traffic.received[1], u64::from(m));
        println!(
            "a DISCOVER through the core: {per_discover:.0} ns; one count: {per_count:.1} ns; \
             two counts (received, sent) are {:.3}% of it",
            100.0 * 2.0 * per_count / per_discover
        );
    }
}
