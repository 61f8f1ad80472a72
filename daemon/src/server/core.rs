//! The core task's event loop and the packet path: decode, decide, apply,
//! and reply now or once durable.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tracing::{debug, error, warn};

use super::commit::{Change, Report, Source, Then};
use super::health::MAX_IN_FLIGHT;
use super::log::Line;
use super::transport::Socket;
use super::{Core, now};
use crate::engine;
use crate::lease::UnixTime;
use crate::packet::Packet;

/// Requests served in one turn of the event loop at most, so ACKs that
/// became durable meanwhile and control jobs still get their turn soon.
const BURST: usize = 32;

/// A request off the wire.
pub(crate) struct Inbound {
    pub iface: usize,
    pub bytes: Vec<u8>,
    pub from: SocketAddr,
}

/// Work for the core task from the control API: runs with the core's state
/// at time `now`.
pub(crate) type Job = Box<dyn FnOnce(&mut Core, UnixTime) + Send>;

/// Reads one interface's socket forever, feeding the core.
pub(crate) async fn receive(iface: usize, sock: Arc<dyn Socket>, tx: mpsc::Sender<Inbound>) {
    let mut buf = vec![0u8; 65536];
    loop {
        match sock.recv(&mut buf).await {
            Ok((n, from)) => {
                let msg = Inbound {
                    iface,
                    bytes: buf[..n].to_vec(),
                    from,
                };
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                warn!(iface = %sock.interface().name, error = %e, "receive failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Sleeps until `at` (never, without one).
async fn sleep_until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

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
        if self.health.stalled(now(), stall) {
            warn!(
                "no write has succeeded for {stall}s: not pinging the watchdog, so systemd restarts berthd"
            );
            return;
        }
        self.notifier.watchdog();
    }

    /// Serves until `shutdown` resolves, the sockets close or the store fails for good.
    pub(crate) async fn serve(
        &mut self,
        mut rx: mpsc::Receiver<Inbound>,
        mut jobs: mpsc::Receiver<Job>,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGHUP; reload only through `berth reload`");
                None
            }
        };
        let mut watchdog = tokio::time::interval(self.notifier.watchdog_interval());
        tokio::pin!(shutdown);
        // Log lines are held while serving and written together (see
        // `log::held`): no write per transaction.
        crate::log::held::hold(true);
        let _write_held = HeldLog;
        while self.fatal.is_none() {
            let log_due = crate::log::held::due();
            tokio::select! {
                () = &mut shutdown => return,
                () = sleep_until(log_due), if log_due.is_some() => crate::log::held::flush(),
                msg = rx.recv() => match msg {
                    Some(m) => {
                        self.handle_inbound(m, 0);
                        // What else has arrived is served in the same turn:
                        // one wake-up per burst, not per packet.
                        for _ in 1..BURST {
                            let Ok(m) = rx.try_recv() else { break };
                            self.handle_inbound(m, 0);
                        }
                    }
                    None => return,
                },
                Some(done) = self.arp.done_rx.recv() => self.on_arp(done, now()),
                Some(job) = jobs.recv() => job(self, now()),
                Some(done) = self.in_flight.next(), if !self.in_flight.is_empty() => {
                    self.joined(done);
                }
                _ = tick.tick() => {
                    crate::log::held::flush();
                    self.housekeeping(now());
                    self.arp_tick(now());
                }
                _ = watchdog.tick(), if self.notifier.watchdog_enabled() => self.watchdog(),
                Some(()) = async { hup.as_mut()?.recv().await } => {
                    if let Err(e) = self.reload(now()) {
                        error!("reload refused, keeping the running configuration:\n{}", e.message);
                    }
                }
            }
        }
    }

    /// Handles one request; `attempt` counts the pre-offer probes already
    /// made for it (see `probe`).
    pub(crate) fn handle_inbound(&mut self, m: Inbound, attempt: u32) {
        let at = now();
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
        if attempt == 0 && !self.admit(&packet, m.iface, at) {
            return;
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
            report.events.push(event);
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
