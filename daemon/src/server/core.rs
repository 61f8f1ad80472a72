//! The core task's event loop and the packet path: decode, decide, apply,
//! and reply now or once durable.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tracing::{debug, error, warn};

use super::Core;
use super::commit::{Change, Report, Source, Then};
use super::health::MAX_IN_FLIGHT;
use super::log::Line;
use super::transport::{BURST, Datagram, recv_any};
use crate::engine;
use crate::lease::UnixTime;
use crate::packet::{MessageType, Packet};

/// How long a socket whose receive failed rests before the next try.
const RECV_PAUSE: Duration = Duration::from_millis(100);

/// A request off the wire.
pub(crate) struct Inbound {
    pub iface: usize,
    pub bytes: Vec<u8>,
    pub from: SocketAddr,
}

/// Work for the core task from the control API: runs with the core's state
/// at time `now`.
pub(crate) type Job = Box<dyn FnOnce(&mut Core, UnixTime) + Send>;

/// Stops holding log lines (writing what is held) when serving ends,
/// however it ends.
struct HeldLog;

impl Drop for HeldLog {
    fn drop(&mut self) {
        crate::log::held::hold(false);
    }
}

impl Core {
    /// What the engine reads: the core's state as it is now.
    pub(crate) fn view(&self) -> engine::View<'_> {
        engine::View {
            config: &self.cfg,
            hosts: &self.hosts,
            leases: &self.table,
            blocks: &self.blocks,
            interfaces: &self.interfaces,
            probe_subnets: &self.arp.probe_subnets,
        }
    }

    /// Rebuilds the lease table's pool indexes: after the ranges or the
    /// static hosts changed.
    pub(crate) fn reindex_pools(&mut self) {
        crate::pool::Layout::new(&self.cfg, &self.hosts).index(&mut self.table);
    }

    /// Pings systemd's watchdog, unless no write has become durable for
    /// `store_stall_timeout` while writes fail: then systemd is let to
    /// restart the daemon, and says why.
    fn watchdog(&mut self) {
        let stall = self.cfg.server.store_stall_timeout;
        if self.health.stalled(self.now(), stall) {
            warn!(
                "no write has succeeded for {stall}s: not pinging the watchdog, so systemd restarts berthd"
            );
            return;
        }
        self.notifier.watchdog();
    }

    /// Serves until `shutdown` resolves or the store fails for good (or at
    /// once, without sockets). The core receives from the sockets itself:
    /// a datagram reaches the engine without a task or a channel between.
    pub(crate) async fn serve(
        &mut self,
        mut jobs: mpsc::Receiver<Job>,
        shutdown: impl Future<Output = ()>,
    ) {
        if self.sockets.is_empty() {
            return;
        }
        let sockets = self.sockets.clone();
        let mut inboxes: Vec<Vec<Datagram>> =
            sockets.iter().map(|_| Vec::with_capacity(BURST)).collect();
        let mut paused: Vec<Option<std::time::Instant>> = vec![None; sockets.len()];
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut watchdog = tokio::time::interval(self.notifier.watchdog_interval());
        tokio::pin!(shutdown);
        // Log lines are held while serving and written together (see
        // `log::held`): no write per transaction. One timer, moved when the
        // due time moves, not a new one (registered and dropped) per turn.
        crate::log::held::hold(true);
        let _write_held = HeldLog;
        let log_timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(log_timer);
        // Durable changes wait here when a burst of them is over the
        // release budget (see `release`).
        let release_timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(release_timer);
        while self.fatal.is_none() {
            let log_due = crate::log::held::due();
            if let Some(due) = log_due.map(tokio::time::Instant::from_std)
                && log_timer.deadline() != due
            {
                log_timer.as_mut().reset(due);
            }
            let release_at = if self.in_flight.is_empty() {
                None
            } else {
                self.release.wait(std::time::Instant::now())
            };
            if let Some(at) = release_at.map(tokio::time::Instant::from_std)
                && release_timer.deadline() != at
            {
                release_timer.as_mut().reset(at);
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = &mut log_timer, if log_due.is_some() => crate::log::held::flush(),
                (iface, got) = recv_any(&sockets, &mut inboxes, &paused) => {
                    paused[iface] = None;
                    if let Err(e) = got {
                        warn!(iface = %sockets[iface].interface().name, error = %e, "receive failed");
                        paused[iface] = Some(std::time::Instant::now() + RECV_PAUSE);
                    }
                    // What has arrived is served in the same turn: one
                    // wake-up per burst, not per packet.
                    for (bytes, from) in inboxes[iface].drain(..) {
                        self.handle_inbound(Inbound { iface, bytes, from }, 0);
                    }
                }
                Some(done) = self.arp.done_rx.recv() => {
                    let at = self.now();
                    self.on_arp(done, at);
                }
                Some(job) = jobs.recv() => {
                    let at = self.now();
                    job(self, at);
                }
                Some(learned) = async { self.learned.as_mut()?.recv().await } => {
                    self.learn(learned);
                }
                Some(done) = self.in_flight.next(), if !self.in_flight.is_empty() && release_at.is_none() => {
                    self.release.released();
                    self.joined(done);
                }
                () = &mut release_timer, if release_at.is_some() => {}
                _ = tick.tick() => {
                    crate::log::held::flush();
                    self.check_clock();
                    let at = self.now();
                    self.housekeeping(at);
                    self.arp_tick(at);
                }
                _ = watchdog.tick(), if self.notifier.watchdog_enabled() => self.watchdog(),
            }
        }
    }

    /// Handles one request; `attempt` counts the pre-offer probes already
    /// made for it (see `probe`).
    pub(crate) fn handle_inbound(&mut self, m: Inbound, attempt: u32) {
        let at = self.now();
        let packet = match Packet::decode(&m.bytes) {
            Ok(p) => p,
            Err(e) => {
                let iface = &self.interfaces[m.iface];
                debug!(iface = %iface.name, from = %m.from, error = %e, "dropped malformed packet");
                let report = Report {
                    counter: Some(e.kind()),
                    ..Report::default()
                };
                self.publish(report, at);
                return;
            }
        };
        // Limits count what arrives, once: not the second pass after a probe.
        if attempt == 0 {
            self.traffic.received(&packet);
            if !self.admit(&packet, m.iface, at) {
                return;
            }
        }
        if self.waits_for_probe(&packet) {
            debug!(iface = %self.interfaces[m.iface].name, "DISCOVER while its probe is out: answered after it");
            return;
        }
        let req = engine::Request {
            packet: &packet,
            interface: &self.interfaces[m.iface],
        };
        let decision = engine::handle(&self.view(), &req, at);
        if self.in_flight.len() >= MAX_IN_FLIGHT && decision.effects.iter().any(|e| e.is_durable())
        {
            // The store is this far behind (stuck, or the disk is full):
            // queueing more would only grow memory.
            let report = Report {
                counter: Some("store_backlog"),
                ..Report::default()
            };
            self.publish(report, at);
            return;
        }
        let discover = matches!(packet.message_type(), Some(Ok(MessageType::Discover)));
        if discover
            && decision
                .effects
                .iter()
                .any(|e| matches!(e, engine::Effect::Forget(_)))
        {
            // `max_offers` reached: the oldest offer made room (published
            // at once, as offers are).
            self.counters.bump("offer_evicted");
        }
        let event = self.transaction_event(&packet, m.iface, &decision, at);
        let request = self.request_facts(&packet, &decision);
        let mut report = Report {
            request,
            events: event.into_iter().collect(),
            lines: vec![Line::transaction(
                &packet,
                m.iface,
                decision.outcome.clone(),
            )],
            counter: Some(decision.outcome.kind()),
        };
        let outcome = decision.outcome.clone();
        let block = self.renewal_block(&packet, &decision, at);
        let mut changes: Vec<Change> = decision.effects.into_iter().map(Change::Lease).collect();
        if let Some((change, event, line)) = block {
            changes.push(change);
            report.events.push(event.into());
            report.lines.push(line);
        }
        // Lease and block changes never collide.
        let staged = match self.stage(changes) {
            Ok(s) => s,
            Err(c) => {
                error!("lease change refused: {c}");
                return;
            }
        };
        let then = match decision.reply {
            Some(reply) => Then::Reply(self.sockets[m.iface].clone(), reply),
            None => Then::Nothing,
        };
        self.commit(Source::Packet, staged, report, then, at);
        self.after_decision(&outcome, m, &packet, attempt);
    }
}
