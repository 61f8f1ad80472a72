//! The one path after a decision: its changes are applied to memory at once
//! (so the next request sees them), their writes are queued in decision
//! order, and the core hears back once, "committed" or "failed".
//!
//! Only a committed change is announced: [`Core::publish`] is the one place
//! that writes events, the transaction log line and counters. A failed one
//! puts back what it replaced, unless something newer has replaced that
//! since, so a failed renewal leaves the client's previous lease standing.
//! When the newer change is itself still in flight, it inherits what the
//! failed one replaced: should it fail too, that is what comes back.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use berth_proto::{ApiError, ErrorKind, Event};
use tracing::{error, info, warn};

use super::Core;
use super::hooks::RequestFacts;
use super::log::Line;
use super::transport::{Socket, send_now};
use crate::addr::MacAddr;
use crate::blocks::Block;
use crate::engine::{self, Effect, Reply};
use crate::events::Record;
use crate::hosts::{HostConflict, HostEntry};
use crate::lease::{Lease, UnixTime};
use crate::store::{Lost, StoreError, Write};

/// A change to the core's state: a lease effect from the engine (or from an
/// operator, in the same terms), or an operator's host or block change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Lease(Effect),
    /// Add or replace (by name) a run-time host.
    PutHost(HostEntry),
    /// Remove the run-time host with this name.
    RemoveHost(String),
    PutBlock(Block),
    RemoveBlock(MacAddr),
}

impl Change {
    /// Whether the store must record it.
    fn is_durable(&self) -> bool {
        match self {
            Change::Lease(e) => e.is_durable(),
            _ => true,
        }
    }

    /// Whether it changes the static hosts (and so the pools' reservations).
    fn is_host(&self) -> bool {
        matches!(self, Change::PutHost(_) | Change::RemoveHost(_))
    }
}

/// The store write that makes `effect` durable, if it needs one.
pub(crate) fn lease_write(effect: &Effect) -> Option<Write> {
    match effect {
        Effect::Hold(_) | Effect::Forget(_) => None,
        Effect::Bind(l)
        | Effect::Release(l)
        | Effect::Decline(l)
        | Effect::Expire(l)
        | Effect::Observe(l) => Some(Write::PutLease(l.clone())),
        Effect::Unquarantine(ip) | Effect::Unobserve(ip) => Some(Write::DeleteLease(*ip)),
    }
}

/// The address an effect is about.
fn effect_ip(effect: &Effect) -> Ipv4Addr {
    match effect {
        Effect::Hold(l)
        | Effect::Bind(l)
        | Effect::Release(l)
        | Effect::Decline(l)
        | Effect::Expire(l)
        | Effect::Observe(l) => l.ip,
        Effect::Forget(ip) | Effect::Unquarantine(ip) | Effect::Unobserve(ip) => *ip,
    }
}

/// What one change replaced, and what it left, so a failed write can put
/// the first back while the second is still there.
// Only the changes in flight have undo records (a handful), so the size of
// the host variant does not matter enough to box it.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Undo {
    Lease {
        ip: Ipv4Addr,
        before: Option<Lease>,
        after: Option<Lease>,
    },
    Host {
        name: String,
        before: Option<HostEntry>,
        after: Option<HostEntry>,
    },
    Block {
        mac: MacAddr,
        before: Option<Block>,
        after: Option<Block>,
    },
}

/// The record an [`Undo`] is about.
#[derive(Debug, PartialEq, Eq)]
enum Key<'a> {
    Lease(Ipv4Addr),
    Host(&'a str),
    Block(MacAddr),
}

impl Undo {
    fn key(&self) -> Key<'_> {
        match self {
            Undo::Lease { ip, .. } => Key::Lease(*ip),
            Undo::Host { name, .. } => Key::Host(name),
            Undo::Block { mac, .. } => Key::Block(*mac),
        }
    }

    /// Takes over `older`'s "before" (same key): `older` never became
    /// durable, so what it replaced is what this change replaced.
    fn inherit(&mut self, older: Undo) {
        match (self, older) {
            (Undo::Lease { before, .. }, Undo::Lease { before: b, .. }) => *before = b,
            (Undo::Host { before, .. }, Undo::Host { before: b, .. }) => *before = b,
            (Undo::Block { before, .. }, Undo::Block { before: b, .. }) => *before = b,
            _ => {}
        }
    }
}

/// The undo records of the changes in flight, by commit sequence number.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    next: u64,
    open: BTreeMap<u64, Vec<Undo>>,
}

impl Journal {
    fn open(&mut self, undo: Vec<Undo>) -> u64 {
        let seq = self.next;
        self.next += 1;
        self.open.insert(seq, undo);
        seq
    }

    fn close(&mut self, seq: u64) -> Vec<Undo> {
        self.open.remove(&seq).unwrap_or_default()
    }

    /// The records the changes in flight touch.
    pub(crate) fn records(&self) -> impl Iterator<Item = super::learn::Record> + '_ {
        self.open.values().flatten().map(super::learn::Record::of)
    }

    /// Gives `u` to the next change after `seq` that is still in flight and
    /// changed the same record; hands it back if there is none.
    fn hand_down(&mut self, seq: u64, u: Undo) -> Option<Undo> {
        for undo in self.open.range_mut(seq + 1..).map(|(_, v)| v) {
            if let Some(newer) = undo.iter_mut().find(|n| n.key() == u.key()) {
                newer.inherit(u);
                return None;
            }
        }
        Some(u)
    }
}

/// Changes applied to memory, with their undo records and store writes.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    undo: Vec<Undo>,
    writes: Vec<Write>,
}

impl Staged {
    /// Writes of records as memory holds them, each with an undo record
    /// that changes nothing: it names the record for whoever handles the
    /// outcome.
    pub(crate) fn rewrite(undo: Vec<Undo>, writes: Vec<Write>) -> Staged {
        Staged { undo, writes }
    }
}

/// What to make known once a change is durable, and only then.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub events: Vec<Record>,
    pub lines: Vec<Line>,
    pub counter: Option<&'static str>,
    /// What hooks are told about the request, when a hook wants it.
    pub request: Option<Box<RequestFacts>>,
}

impl Report {
    /// Only these events.
    pub(crate) fn events(events: Vec<Event>) -> Report {
        Report {
            events: events.into_iter().map(Record::from).collect(),
            ..Report::default()
        }
    }

    /// A report of one event.
    pub fn event(e: impl Into<Record>) -> Self {
        Report {
            events: vec![e.into()],
            ..Report::default()
        }
    }
}

/// Who made a change: how a failure is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Packet,
    Operator,
    Housekeeping,
    /// Records memory holds and the store does not, written again (see
    /// `unsaved`).
    Unsaved,
    /// Lease and block times moved by a wall-clock jump (see
    /// `clock_jump`): kept as unsaved, not undone, when their writes fail.
    ClockShift,
}

/// Answers a control call once its change is durable (or failed).
pub(crate) type Answer = Box<dyn FnOnce(Result<(), ApiError>) + Send>;

/// What happens at once when a change is durable, besides its report.
pub(crate) enum Then {
    Nothing,
    /// Send this reply (an ACK): it promises what was just written.
    Reply(Arc<dyn Socket>, Reply),
    /// Answer the operator.
    Answer(Answer),
}

/// A change whose writes are queued; its undo records wait in the
/// [`Journal`] under `seq`.
pub(crate) struct InFlight {
    pub(crate) seq: u64,
    pub(crate) source: Source,
    report: Report,
    pub(crate) answer: Option<Answer>,
    /// The ACK to send once durable.
    pub(crate) reply: Option<(Arc<dyn Socket>, Reply)>,
    at: UnixTime,
}

/// The "committed" or "failed" message for one change.
pub(crate) struct Done {
    flight: InFlight,
    result: Result<Vec<Lost>, StoreError>,
}

/// The operator's error for a change that could not be saved.
fn not_saved(e: &StoreError) -> ApiError {
    ApiError::new(
        ErrorKind::Internal,
        format!("the change could not be saved, so it was not made: {e}"),
    )
}

impl Core {
    /// Applies `changes` to memory in order. A host change that collides
    /// with the table undoes the ones before it and fails, leaving nothing
    /// changed.
    pub(crate) fn stage(&mut self, changes: Vec<Change>) -> Result<Staged, HostConflict> {
        let mut staged = Staged::default();
        // Undo records are for writes that may fail; without any, none is
        // kept (the hot path of a DISCOVER).
        let record = changes.iter().any(Change::is_durable);
        let hosts_change = changes.iter().any(Change::is_host);
        let result = changes
            .into_iter()
            .try_for_each(|c| self.stage_one(c, &mut staged, record));
        if result.is_err() {
            for u in std::mem::take(&mut staged.undo).into_iter().rev() {
                self.restore(u);
            }
        }
        if hosts_change {
            self.reindex_pools();
        }
        result.map(|()| staged)
    }

    fn stage_one(&mut self, c: Change, s: &mut Staged, record: bool) -> Result<(), HostConflict> {
        match c {
            Change::Lease(effect) if !record => {
                engine::apply(&mut self.table, std::slice::from_ref(&effect));
            }
            Change::Lease(effect) => {
                let ip = effect_ip(&effect);
                let before = self.table.get(ip).cloned();
                engine::apply(&mut self.table, std::slice::from_ref(&effect));
                let after = self.table.get(ip).cloned();
                s.writes.extend(lease_write(&effect));
                s.undo.push(Undo::Lease { ip, before, after });
            }
            Change::PutHost(entry) => {
                let name = entry.host.name.clone();
                let before = self.hosts.by_name(&name).cloned();
                let write = entry.to_stored().map(Write::PutHost);
                self.hosts.upsert_store(entry.clone())?;
                s.writes.extend(write);
                s.undo.push(Undo::Host {
                    name,
                    before,
                    after: Some(entry),
                });
            }
            Change::RemoveHost(name) => {
                if let Some(before) = self.hosts.remove_store(&name) {
                    s.writes.push(Write::DeleteHost(name.clone()));
                    s.undo.push(Undo::Host {
                        name,
                        before: Some(before),
                        after: None,
                    });
                }
            }
            Change::PutBlock(b) => {
                let before = self.blocks.get(&b.mac).copied();
                self.blocks.insert(b);
                s.writes.push(Write::PutBlock(b));
                s.undo.push(Undo::Block {
                    mac: b.mac,
                    before,
                    after: Some(b),
                });
            }
            Change::RemoveBlock(mac) => {
                if let Some(before) = self.blocks.remove(&mac) {
                    s.writes.push(Write::DeleteBlock(mac));
                    s.undo.push(Undo::Block {
                        mac,
                        before: Some(before),
                        after: None,
                    });
                }
            }
        }
        Ok(())
    }

    /// Queues the writes of `staged` behind every earlier change's, and
    /// publishes `report` and does `then` once they are durable. With
    /// nothing to write, that is now.
    pub(crate) fn commit(
        &mut self,
        source: Source,
        staged: Staged,
        report: Report,
        then: Then,
        at: UnixTime,
    ) {
        let Staged { undo, writes } = staged;
        if writes.is_empty() {
            match then {
                Then::Nothing => {}
                Then::Reply(sock, reply) => {
                    self.traffic.sent(&reply.packet);
                    send_now(sock, &reply);
                }
                Then::Answer(answer) => {
                    // Published first: a caller that reads events next sees them.
                    self.publish(report, at);
                    answer(Ok(()));
                    return;
                }
            }
            self.publish(report, at);
            return;
        }
        // Queued now, on the core task: commit order is decision order.
        let durable = self.writer.commit(writes);
        let (reply, answer) = match then {
            Then::Nothing => (None, None),
            Then::Reply(sock, reply) => (Some((sock, reply)), None),
            Then::Answer(a) => (None, Some(a)),
        };
        let flight = InFlight {
            seq: self.journal.open(undo),
            source,
            report,
            answer,
            reply,
            at,
        };
        // Polled by the core itself (no task per reply): the writer answers
        // in commit order, and the core sends the ACK as it hears.
        self.release.queued(std::time::Instant::now());
        self.in_flight.push_back(Box::pin(async move {
            let result = durable.await;
            Done { flight, result }
        }));
    }

    /// The core hears how a change's writes went.
    pub(crate) fn on_done(&mut self, done: Done) {
        let Done { flight, result } = done;
        let undo = self.journal.close(flight.seq);
        match result {
            Ok(lost) if !lost.is_empty() => {
                self.store_ok(flight.at);
                self.lost_claims(flight, undo, lost);
            }
            // `undo` holds each changed record before and after: what
            // hooks are given as old_* and new_*.
            Ok(_) => {
                if flight.source == Source::Unsaved {
                    self.unsaved_written();
                }
                if let Some((sock, reply)) = flight.reply {
                    self.traffic.sent(&reply.packet);
                    send_now(sock, &reply);
                }
                if let Some(r) = self.recent.as_mut() {
                    r.touch(&undo);
                }
                self.store_ok(flight.at);
                self.publish_with(flight.report, flight.at, &undo);
                if let Some(answer) = flight.answer {
                    answer(Ok(()));
                }
            }
            Err(e) => {
                if let Some(ev) = self.health.failed(flight.at, &e.to_string()) {
                    self.notifier.status(&self.health.status_line());
                    self.publish(Report::events(vec![ev]), flight.at);
                }
                if flight.source == Source::Packet
                    && let Some((sock, reply)) = &flight.reply
                    && self.renews_from_memory(&e, reply, &undo, flight.at)
                {
                    send_now(sock.clone(), reply);
                    self.publish_with(flight.report, flight.at, &undo);
                    return;
                }
                match flight.source {
                    Source::Packet => {
                        self.counters.bump("write_failed");
                        error!(error = %e, "lease write failed; reply withheld");
                        self.roll_back(flight.seq, undo);
                    }
                    Source::Operator => {
                        error!(error = %e, "control change not saved; undone");
                        self.roll_back(flight.seq, undo);
                    }
                    Source::Housekeeping => {
                        error!(error = %e, "recording expiries failed; they are tried again");
                        self.roll_back(flight.seq, undo);
                    }
                    // Memory is ahead of the store here on purpose (the
                    // clock is re-anchored, or the write was a retry of
                    // what memory holds): nothing to undo, written again.
                    Source::ClockShift => {
                        error!(error = %e, "saving lease times shifted by a clock jump failed");
                        self.unsaved_failed(flight.source, &undo);
                    }
                    Source::Unsaved => self.unsaved_failed(flight.source, &undo),
                }
                if let Some(answer) = flight.answer {
                    answer(Err(not_saved(&e)));
                }
                if e == StoreError::WriterGone && self.fatal.is_none() {
                    error!(
                        "the store writer has stopped: no lease can be made durable, so berthd stops"
                    );
                    self.fatal = Some(e);
                }
            }
        }
    }

    /// A write became durable: ends a store failure, if one was on.
    fn store_ok(&mut self, at: UnixTime) {
        if let Some(e) = self.health.ok(at) {
            info!("store writes again");
            self.notifier.status(&self.health.status_line());
            self.publish(Report::events(vec![e]), at);
        }
    }

    /// Puts back what the failed change `seq` replaced, newest first. A
    /// later change in flight on the same record inherits it instead; a
    /// later change already made wins over the rollback.
    pub(crate) fn roll_back(&mut self, seq: u64, undo: Vec<Undo>) {
        let hosts_change = undo.iter().any(|u| matches!(u, Undo::Host { .. }));
        for u in undo.into_iter().rev() {
            if let Some(u) = self.journal.hand_down(seq, u) {
                self.restore(u);
            }
        }
        if hosts_change {
            self.reindex_pools();
        }
    }

    /// Puts back what one change replaced, if what it left is still there.
    fn restore(&mut self, u: Undo) {
        match u {
            Undo::Lease { ip, before, after } => {
                if self.table.get(ip) != after.as_ref() {
                    return;
                }
                match before {
                    Some(l) => self.table.insert(l),
                    None => {
                        self.table.remove(ip);
                    }
                }
            }
            Undo::Host {
                name,
                before,
                after,
            } => {
                if self.hosts.by_name(&name) != after.as_ref() {
                    return;
                }
                self.hosts.remove_store(&name);
                if let Some(e) = before
                    && let Err(c) = self.hosts.upsert_store(e)
                {
                    warn!("run-time host `{name}` not put back: {c}");
                }
            }
            Undo::Block { mac, before, after } => {
                if self.blocks.get(&mac) != after.as_ref() {
                    return;
                }
                self.blocks.remove(&mac);
                if let Some(b) = before {
                    self.blocks.insert(b);
                }
            }
        }
    }

    /// Makes a change known: its events, log lines, counter and hooks. The
    /// one place they are produced.
    pub(crate) fn publish(&mut self, report: Report, at: UnixTime) {
        self.publish_with(report, at, &[]);
    }

    /// [`Core::publish`] for a change whose records before and after are
    /// `undo` (what its hooks are told).
    fn publish_with(&mut self, report: Report, at: UnixTime, undo: &[Undo]) {
        let Report {
            events,
            lines,
            counter,
            request,
        } = report;
        self.run_hooks(&events, request.as_deref(), undo);
        for line in &lines {
            self.write_log(line);
        }
        if let Some(c) = counter {
            self.counters.bump(c);
        }
        let at = i64::try_from(at).unwrap_or(i64::MAX);
        for e in events {
            self.events.push(e, at);
        }
    }

    /// Waits for every queued change (at shutdown).
    pub(crate) async fn finish_in_flight(&mut self) {
        use futures::StreamExt;
        while let Some(done) = self.in_flight.next().await {
            self.joined(done);
        }
    }

    /// A finished in-flight change.
    pub(crate) fn joined(&mut self, done: Done) {
        self.on_done(done);
    }
}

/// A change in flight: resolves once its writes are durable or failed.
pub(crate) type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Done> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{ClientKey, LeaseState};

    fn lease(state: LeaseState) -> Lease {
        Lease {
            ip: Ipv4Addr::new(192, 0, 2, 10),
            client: ClientKey::from(vec![1, 2]),
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            hostname: None,
            state,
            starts: 1,
            ends: 2,
        }
    }

    #[test]
    fn only_durable_effects_have_writes() {
        let l = lease(LeaseState::Bound);
        for e in [
            Effect::Bind(l.clone()),
            Effect::Release(l.clone()),
            Effect::Decline(l.clone()),
            Effect::Expire(l.clone()),
        ] {
            assert_eq!(lease_write(&e), Some(Write::PutLease(l.clone())), "{e:?}");
            assert!(e.is_durable());
        }
        assert_eq!(
            lease_write(&Effect::Unquarantine(l.ip)),
            Some(Write::DeleteLease(l.ip))
        );
        for e in [Effect::Hold(l.clone()), Effect::Forget(l.ip)] {
            assert_eq!(lease_write(&e), None, "{e:?}");
            assert!(!e.is_durable());
        }
    }
}
