//! The core's side of ARP: the link to the ARP threads, sweeps of the
//! dynamic ranges (at start, after a reload that adds or changes a range,
//! on a timer, and on demand through `scan`), and what their answers do.
//!
//! A sweep's answers are turned into lease effects and squatters by the
//! engine (`engine::sweep_findings`) against the table as it is when they
//! arrive, and go through the commit path like any other change: the
//! squatter events are published there. The pre-offer probes are
//! [`super::probe`]'s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use berth_proto::{self as proto, ApiError, ErrorKind, EventKind};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use super::Core;
use super::commit::{Change, Report, Source, Then};
use super::log::Line;
use super::probe::Probing;
use crate::addr::{Cidr, Range};
use crate::arp::{self, Arp, Ask, Done, Finished};
use crate::config::Config;
use crate::engine::{self, Interface, Squatter};
use crate::events::new_event;
use crate::lease::{ClientKey, LeaseState, UnixTime};

/// Which (subnet, range) pairs a sweep covers.
type RangePick<'a> = &'a dyn Fn(Cidr, &Range) -> bool;

/// A caller of `scan` waiting for its sweeps.
pub(crate) type ScanAnswer = oneshot::Sender<Result<Vec<proto::ScanResult>, ApiError>>;

/// A sweep in flight.
struct Sweeping {
    subnet: Cidr,
    range: Range,
    iface: usize,
    /// The `scan` call waiting for it, if any.
    scan: Option<u64>,
}

/// A `scan` call waiting for its sweeps.
struct Scan {
    waiting: usize,
    results: Vec<proto::ScanResult>,
    answer: ScanAnswer,
}

/// Everything the core knows about ARP.
pub(crate) struct ArpState {
    pub(crate) arp: Arp,
    pub(crate) done_tx: mpsc::UnboundedSender<Done>,
    /// Finished probes and sweeps, for the core's loop.
    pub(crate) done_rx: mpsc::UnboundedReceiver<Done>,
    next_token: u64,
    /// Subnets whose never-used addresses are probed before offering.
    pub(crate) probe_subnets: Vec<Cidr>,
    /// Probes in flight by token, and the clients waiting on them.
    pub(crate) probes: HashMap<u64, Probing>,
    pub(crate) probing: HashSet<ClientKey>,
    sweeps: HashMap<u64, Sweeping>,
    scans: HashMap<u64, Scan>,
    next_scan: u64,
    /// Each range's last sweep, by its first address.
    last: BTreeMap<Ipv4Addr, proto::ScanResult>,
    next_sweep: Option<UnixTime>,
    last_sweep: Option<UnixTime>,
    /// Sweeps finished since the start (periodic and `scan`), for metrics.
    pub(crate) sweeps_done: u64,
}

impl ArpState {
    /// ARP off, saying why (until [`Core::start_arp`]).
    pub(crate) fn off(why: &str) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        ArpState {
            arp: Arp::off(why),
            done_tx,
            done_rx,
            next_token: 0,
            probe_subnets: Vec::new(),
            probes: HashMap::new(),
            probing: HashSet::new(),
            sweeps: HashMap::new(),
            scans: HashMap::new(),
            next_scan: 0,
            last: BTreeMap::new(),
            next_sweep: None,
            last_sweep: None,
            sweeps_done: 0,
        }
    }

    /// A fresh token for one request to an ARP thread.
    pub(crate) fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// Queues `ask` on `iface`; false when that interface has no ARP.
    pub(crate) fn ask(&self, iface: usize, token: u64, ask: Ask) -> bool {
        self.arp.ask(iface, token, ask)
    }

    /// The interface to ARP for `ip` on: the first with ARP whose subnet
    /// holds it.
    pub(crate) fn iface_for(
        &self,
        cfg: &Config,
        interfaces: &[Interface],
        ip: Ipv4Addr,
    ) -> Option<usize> {
        let subnet = cfg.subnet_containing(ip)?;
        (0..interfaces.len())
            .find(|&i| self.arp.is_on(i) && subnet.cidr.contains(interfaces[i].addr))
    }

    /// The subnets probed before offering, for `cfg`.
    fn probe_subnets_for(&self, cfg: &Config, interfaces: &[Interface]) -> Vec<Cidr> {
        if !cfg.server.arp.probe {
            return Vec::new();
        }
        cfg.subnets
            .iter()
            .filter(|s| {
                interfaces
                    .iter()
                    .enumerate()
                    .any(|(i, f)| self.arp.is_on(i) && s.cidr.contains(f.addr))
            })
            .map(|s| s.cidr)
            .collect()
    }
}

/// The addresses of `range` a sweep asks about: all but static hosts' and
/// the server's own.
fn sweep_targets(core: &Core, range: Range) -> Vec<Ipv4Addr> {
    let own: HashSet<Ipv4Addr> = core
        .interfaces
        .iter()
        .map(|i| i.addr)
        .chain(core.cfg.server.server_id)
        .collect();
    (u32::from(range.start)..=u32::from(range.end))
        .map(Ipv4Addr::from)
        .filter(|ip| !own.contains(ip) && core.hosts.by_ip(*ip).is_none())
        .collect()
}

fn time(t: UnixTime) -> proto::UnixTime {
    i64::try_from(t).unwrap_or(i64::MAX)
}

fn squatter_info(s: &Squatter, at: UnixTime) -> proto::SquatterInfo {
    proto::SquatterInfo {
        ip: s.ip,
        mac: s.mac.to_string(),
        holder: s.holder.map(|m| m.to_string()),
        reason: s.why.to_string(),
        seen_at: time(at),
    }
}

fn squatter_event(s: &Squatter, iface: &Interface) -> proto::Event {
    let mut e = new_event(EventKind::Squatter);
    e.mac = Some(s.mac.to_string());
    e.ip = Some(s.ip);
    e.interface = Some(iface.name.clone());
    e.unknown = true;
    e.ok = false;
    e.detail = match s.holder {
        Some(h) => format!("{}: {} (record names {h})", s.ip, s.why),
        None => format!("{}: {}", s.ip, s.why),
    };
    e
}

impl Core {
    /// Opens the ARP threads (when the config allows), works out what is
    /// probed, says once in the log if ARP is off, and sweeps at start.
    pub(crate) fn start_arp(&mut self, at: UnixTime) {
        let arp_cfg = &self.cfg.server.arp;
        let arp = if arp_cfg.enabled {
            Arp::start(arp_cfg, &self.interfaces, self.arp.done_tx.clone())
        } else {
            Arp::off("arp = false in the config")
        };
        for p in arp.problems() {
            warn!("ARP sweeps and probes are off: {p}");
        }
        self.arp.arp = arp;
        self.arp.probe_subnets = self.arp.probe_subnets_for(&self.cfg, &self.interfaces);
        if self.arp.arp.any_on() && self.cfg.server.arp.sweep_interval.is_some() {
            self.sweep(None, None, at);
        }
    }

    /// After a reload: the probed subnets follow the new config, and the
    /// ranges that are new or changed are swept.
    pub(crate) fn arp_reloaded(&mut self, old: &Config, at: UnixTime) {
        self.arp.probe_subnets = self.arp.probe_subnets_for(&self.cfg, &self.interfaces);
        // The timer follows the new interval (or stops).
        self.arp.next_sweep = match self.cfg.server.arp.sweep_interval {
            Some(i) if self.arp.arp.any_on() => {
                let due = at.saturating_add(i.as_secs());
                Some(self.arp.next_sweep.map_or(due, |n| n.min(due)))
            }
            _ => None,
        };
        let before: HashSet<(Cidr, Range)> = old
            .subnets
            .iter()
            .flat_map(|s| s.ranges.iter().map(move |r| (s.cidr, *r)))
            .collect();
        let ranges: HashSet<Ipv4Addr> = self
            .cfg
            .subnets
            .iter()
            .flat_map(|s| s.ranges.iter().map(move |r| (s.cidr, *r)))
            .filter(|k| !before.contains(k))
            .map(|(_, r)| r.start)
            .collect();
        let ranges_now: HashSet<Ipv4Addr> = self
            .cfg
            .subnets
            .iter()
            .flat_map(|s| s.ranges.iter().map(|r| r.start))
            .collect();
        self.arp.last.retain(|start, _| ranges_now.contains(start));
        if !ranges.is_empty() && self.cfg.server.arp.sweep_interval.is_some() {
            self.sweep(Some(&|_, r: &Range| ranges.contains(&r.start)), None, at);
        }
    }

    /// Once a second: a periodic sweep when one is due.
    pub(crate) fn arp_tick(&mut self, at: UnixTime) {
        if let Some(due) = self.arp.next_sweep
            && at >= due
        {
            self.sweep(None, None, at);
        }
    }

    /// Sweeps every range on an interface with ARP that `pick` accepts (all
    /// when `None`), answering `scan` when they are all done. Returns how
    /// many sweeps started.
    fn sweep(
        &mut self,
        pick: Option<RangePick<'_>>,
        scan: Option<ScanAnswer>,
        at: UnixTime,
    ) -> usize {
        if pick.is_none()
            && let Some(i) = self.cfg.server.arp.sweep_interval
        {
            self.arp.next_sweep = Some(at.saturating_add(i.as_secs()));
        }
        let scan_id = scan.as_ref().map(|_| {
            self.arp.next_scan += 1;
            self.arp.next_scan
        });
        let mut started = 0;
        for iface in 0..self.interfaces.len() {
            if !self.arp.arp.is_on(iface) {
                continue;
            }
            for (subnet, range) in arp::targets(&self.cfg, &self.interfaces[iface]) {
                if pick.is_some_and(|p| !p(subnet, &range)) {
                    continue;
                }
                let busy = self.arp.sweeps.values().any(|s| s.range == range);
                if busy && scan_id.is_none() {
                    continue;
                }
                let token = self.arp.token();
                if self
                    .arp
                    .ask(iface, token, Ask::Sweep(sweep_targets(self, range)))
                {
                    self.arp.sweeps.insert(
                        token,
                        Sweeping {
                            subnet,
                            range,
                            iface,
                            scan: scan_id,
                        },
                    );
                    started += 1;
                }
            }
        }
        if let (Some(id), Some(answer)) = (scan_id, scan) {
            if started == 0 {
                let _ = answer.send(Ok(Vec::new()));
            } else {
                let waiting = Scan {
                    waiting: started,
                    results: Vec::new(),
                    answer,
                };
                self.arp.scans.insert(id, waiting);
            }
        }
        started
    }

    /// A probe or sweep finished.
    pub(crate) fn on_arp(&mut self, done: Done, at: UnixTime) {
        let token = done.finished.token;
        if let Some(p) = self.arp.probes.remove(&token) {
            self.probe_done(p, &done.finished, at);
        } else if let Some(s) = self.arp.sweeps.remove(&token) {
            self.sweep_done(s, done.finished, at);
        }
    }

    fn sweep_done(&mut self, s: Sweeping, f: Finished, at: UnixTime) {
        let ttl = self.cfg.server.arp.observed_ttl();
        let findings = engine::sweep_findings(
            s.range,
            &f.answers,
            &self.table,
            &self.hosts,
            at,
            self.cfg.server.expiry_grace.into(),
            ttl,
        );
        let iface = &self.interfaces[s.iface];
        let mut report = Report::default();
        for sq in findings.squatters.iter().filter(|s| s.news) {
            report.events.push(squatter_event(sq, iface).into());
            report.lines.push(Line::Squatter(sq.clone()));
        }
        for e in &findings.effects {
            if let engine::Effect::Unobserve(ip) = e {
                report.lines.push(Line::Unobserved(*ip));
            }
        }
        let answered: HashSet<Ipv4Addr> = f.answers.iter().map(|(ip, _)| *ip).collect();
        let changes = findings.effects.into_iter().map(Change::Lease).collect();
        match self.stage(changes) {
            Ok(staged) => self.commit(Source::Housekeeping, staged, report, Then::Nothing, at),
            Err(c) => error!("sweep change refused: {c}"),
        }
        let observed = self
            .table
            .range_index(&s.range)
            .held()
            .filter(|(_, ip)| {
                self.table
                    .get(*ip)
                    .is_some_and(|l| l.state == LeaseState::Observed)
            })
            .count() as u64;
        let result = proto::ScanResult {
            subnet: s.subnet.to_string(),
            start: s.range.start,
            end: s.range.end,
            interface: self.interfaces[s.iface].name.clone(),
            probed: f.asked,
            answered: answered.len() as u64,
            observed,
            squatters: findings
                .squatters
                .iter()
                .map(|sq| squatter_info(sq, at))
                .collect(),
            finished_at: time(at),
            duration_ms: u64::try_from(f.elapsed.as_millis()).unwrap_or(u64::MAX),
        };
        info!(
            range = %format!("{}-{}", s.range.start, s.range.end),
            iface = %result.interface,
            asked = result.probed,
            answered = result.answered,
            observed = result.observed,
            squatters = result.squatters.len(),
            ms = result.duration_ms,
            "ARP sweep done"
        );
        self.arp.last_sweep = Some(at);
        self.arp.sweeps_done += 1;
        self.arp.last.insert(s.range.start, result.clone());
        if let Some(id) = s.scan
            && let Some(scan) = self.arp.scans.get_mut(&id)
        {
            scan.results.push(result);
            scan.waiting -= 1;
            if scan.waiting == 0
                && let Some(mut scan) = self.arp.scans.remove(&id)
            {
                scan.results.sort_by_key(|r| r.start);
                let _ = scan.answer.send(Ok(scan.results));
            }
        }
    }

    /// The squatters the last sweep of `range` found.
    pub(crate) fn squatters_in(&self, range: &Range) -> Vec<proto::SquatterInfo> {
        self.arp
            .last
            .get(&range.start)
            .map(|r| r.squatters.clone())
            .unwrap_or_default()
    }

    /// When the last sweep of `range` ran, and how it went.
    pub(crate) fn last_sweep_of(&self, range: &Range) -> Option<proto::SweepSummary> {
        self.arp
            .last
            .get(&range.start)
            .map(|r| proto::SweepSummary {
                finished_at: r.finished_at,
                duration_ms: r.duration_ms,
                probed: r.probed,
                answered: r.answered,
                interface: r.interface.clone(),
            })
    }

    /// `status`'s ARP part.
    pub(crate) fn arp_status(&self) -> proto::ArpStatus {
        let arp = &self.arp.arp;
        let on: Vec<&str> = (0..self.interfaces.len())
            .filter(|&i| arp.is_on(i))
            .map(|i| self.interfaces[i].name.as_str())
            .collect();
        let detail = if on.is_empty() {
            format!("off: {}", arp.problems().join("; "))
        } else if arp.problems().is_empty() {
            format!("on: {}", on.join(", "))
        } else {
            format!(
                "on: {}; off on {}",
                on.join(", "),
                arp.problems().join("; ")
            )
        };
        let cfg = &self.cfg.server.arp;
        proto::ArpStatus {
            enabled: !on.is_empty(),
            detail,
            sweep_interval_secs: cfg.sweep_interval.map(|d| d.as_secs()),
            probe_timeout_ms: cfg
                .probe
                .then(|| u64::try_from(cfg.probe_timeout.as_millis()).unwrap_or(u64::MAX)),
            last_sweep: self.arp.last_sweep.map(time),
        }
    }

    /// `scan`: sweeps the ranges `which` names now; `answer` hears the
    /// results once they are all done.
    pub(crate) fn scan(&mut self, which: Option<&str>, answer: ScanAnswer, at: UnixTime) {
        if !self.arp.arp.any_on() {
            let why = self.arp.arp.problems().join("; ");
            let _ = answer.send(Err(ApiError::new(
                ErrorKind::Internal,
                format!("ARP is off, so nothing can be swept: {why}"),
            )));
            return;
        }
        let pick = match which.map(str::trim) {
            None | Some("all" | "") => None,
            Some(text) => match parse_pick(text) {
                Ok(p) => Some(p),
                Err(e) => {
                    let _ = answer.send(Err(e));
                    return;
                }
            },
        };
        if let Some(p) = &pick {
            let known: Vec<(Cidr, Range)> = self
                .cfg
                .subnets
                .iter()
                .flat_map(|s| s.ranges.iter().map(move |r| (s.cidr, *r)))
                .filter(|(c, r)| p.matches(*c, r))
                .collect();
            if known.is_empty() {
                let _ = answer.send(Err(ApiError::new(
                    ErrorKind::NotFound,
                    format!("no dynamic range matches `{}`", which.unwrap_or_default()),
                )));
                return;
            }
            let on_link = known.iter().any(|(c, _)| {
                (0..self.interfaces.len())
                    .any(|i| self.arp.arp.is_on(i) && c.contains(self.interfaces[i].addr))
            });
            if !on_link {
                let _ = answer.send(Err(ApiError::new(
                    ErrorKind::Invalid,
                    format!(
                        "`{}` is not on an interface berthd can ARP on (a relayed subnet cannot be swept)",
                        which.unwrap_or_default()
                    ),
                )));
                return;
            }
        }
        let f = pick.map(|p| move |c: Cidr, r: &Range| p.matches(c, r));
        self.sweep(f.as_ref().map(|f| f as RangePick<'_>), Some(answer), at);
    }
}

/// Which ranges a `scan` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    /// `START-END`: exactly this range.
    Range(Range),
    /// An address: the range holding it.
    Addr(Ipv4Addr),
    /// A subnet: all its ranges.
    Subnet(Cidr),
}

impl Pick {
    fn matches(self, subnet: Cidr, r: &Range) -> bool {
        match self {
            Pick::Range(p) => p == *r,
            Pick::Addr(ip) => r.contains(ip),
            Pick::Subnet(c) => c == subnet,
        }
    }
}

fn parse_pick(text: &str) -> Result<Pick, ApiError> {
    let bad = || {
        ApiError::new(
            ErrorKind::Invalid,
            format!(
                "`{text}` names no range: write START-END (e.g. 192.0.2.100-192.0.2.190), an address in the range, a subnet (192.0.2.0/24) or `all`"
            ),
        )
    };
    if let Some((a, b)) = text.split_once('-') {
        let start: Ipv4Addr = a.trim().parse().map_err(|_| bad())?;
        let end: Ipv4Addr = b.trim().parse().map_err(|_| bad())?;
        return Ok(Pick::Range(Range { start, end }));
    }
    if text.contains('/') {
        return text.parse().map(Pick::Subnet).map_err(|_| bad());
    }
    text.parse().map(Pick::Addr).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_targets_parse() {
        let r = Range {
            start: Ipv4Addr::new(192, 0, 2, 100),
            end: Ipv4Addr::new(192, 0, 2, 190),
        };
        let c: Cidr = "192.0.2.0/24".parse().expect("cidr");
        let other: Cidr = "198.51.100.0/24".parse().expect("cidr");
        let p = parse_pick("192.0.2.100-192.0.2.190").expect("range");
        assert!(p.matches(c, &r));
        assert!(parse_pick("192.0.2.150").expect("addr").matches(c, &r));
        assert!(!parse_pick("192.0.2.50").expect("addr").matches(c, &r));
        assert!(parse_pick("192.0.2.0/24").expect("subnet").matches(c, &r));
        assert!(
            !parse_pick("192.0.2.0/24")
                .expect("subnet")
                .matches(other, &r)
        );
        for bad in ["pool", "192.0.2.1-x", "300.0.0.1"] {
            let e = parse_pick(bad).expect_err(bad);
            assert_eq!(e.kind, ErrorKind::Invalid);
            assert!(e.message.contains("START-END"), "{}", e.message);
        }
    }
}
