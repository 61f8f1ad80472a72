//! Re-reading the configuration (SIGHUP or `berth reload`): a bad one, or
//! one that a run-time host collides with, is refused and the running one
//! stays.

use std::sync::Arc;

use berth_proto::{ApiError, ErrorKind, EventKind, ReloadResult};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::Core;
use super::commit::Report;
use super::core::Job;
use crate::config;
use crate::events::new_event;
use crate::hosts::{HostEntry, HostTable, Origin};
use crate::lease::UnixTime;

/// Listens for SIGHUP; call it before serving, so a SIGHUP that comes
/// early is not the default action (the end of the daemon).
pub(crate) fn listen_for_hangups() -> Option<Signal> {
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            warn!(error = %e, "cannot listen for SIGHUP; reload only through `berth reload`");
            None
        }
    }
}

/// Hands every SIGHUP to the core as a reload job. A task of its own
/// rather than a branch of the core's loop: that loop would set up and
/// tear down its wait for the signal on every turn, several times per
/// DORA, for a signal that comes once in a while.
pub(crate) async fn forward_hangups(mut hup: Signal, jobs: mpsc::Sender<Job>) {
    while hup.recv().await.is_some() {
        let job: Job = Box::new(|core, now| {
            if let Err(e) = core.reload(now) {
                error!(
                    "reload refused, keeping the running configuration:\n{}",
                    e.message
                );
            }
        });
        if jobs.send(job).await.is_err() {
            return;
        }
    }
}

impl Core {
    /// Re-reads the configuration. A bad one, or one that a run-time host
    /// collides with, is refused and the running one stays.
    pub(crate) fn reload(&mut self, at: UnixTime) -> Result<ReloadResult, ApiError> {
        self.notifier.reloading();
        let result = self.try_reload(at);
        self.notifier.ready();
        let mut ev = new_event(EventKind::Reload);
        match &result {
            Ok(r) => {
                ev.detail = format!("{} subnets, {} hosts", r.subnets, r.hosts);
                info!(config = %self.config_path.display(), "configuration reloaded");
            }
            Err(e) => {
                ev.ok = false;
                ev.detail = e.message.clone();
            }
        }
        self.publish(Report::event(ev), at);
        result
    }

    fn try_reload(&mut self, at: UnixTime) -> Result<ReloadResult, ApiError> {
        let new = config::load(&self.config_path)
            .map_err(|e| ApiError::new(ErrorKind::Invalid, e.to_string()))?;
        let run_time: Vec<HostEntry> = self
            .hosts
            .iter()
            .filter(|e| e.origin == Origin::Store)
            .cloned()
            .collect();
        let (hosts, conflicts) = HostTable::build(&new.hosts, run_time);
        if !conflicts.is_empty() {
            let list: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!(
                    "{}: run-time hosts collide with the new config (remove them with `berth host rm` first):\n{}",
                    self.config_path.display(),
                    list.join("\n")
                ),
            ));
        }
        let mut warnings = Vec::new();
        if new.server.interfaces != self.cfg.server.interfaces {
            warnings.push("interfaces changed: restart berthd to serve the new set".to_string());
        }
        if new.server.store != self.cfg.server.store
            || new.server.postgres != self.cfg.server.postgres
        {
            warnings.push("store path changed: restart berthd to use the new store".to_string());
        }
        if new.server.control_socket != self.cfg.server.control_socket
            || new.server.control_group != self.cfg.server.control_group
            || new.server.admin_group != self.cfg.server.admin_group
        {
            warnings
                .push("control socket settings changed: restart berthd to apply them".to_string());
        }
        if new.log != self.cfg.log {
            warnings.push("log destination changed: restart berthd to apply it".to_string());
        }
        for w in &warnings {
            warn!("{w}");
        }
        // Binding is the last thing that can fail: nothing has changed yet.
        let metrics = self
            .metrics
            .prepare(new.metrics.listen)
            .map_err(|e| ApiError::new(ErrorKind::Invalid, e.to_string()))?;
        let result = ReloadResult {
            config_path: self.config_path.display().to_string(),
            subnets: new.subnets.len() as u64,
            hosts: hosts.iter().count() as u64,
            warnings,
        };
        self.metrics.apply(metrics);
        self.limits.reconfigure(&new.limits);
        if let Some(w) = &self.webhooks {
            w.set(new.webhooks.clone());
        }
        if new.hooks != *self.hooks.config() {
            // Hooks already queued finish under the old settings.
            self.hooks = crate::hooks::Dispatcher::new(new.hooks.clone(), self.events.clone());
        }
        self.writer.set_commit_delay(new.server.commit_delay);
        let old = std::mem::replace(&mut self.cfg, Arc::new(new));
        self.hosts = hosts;
        self.reindex_pools();
        self.arp_reloaded(&old, at);
        Ok(result)
    }
}
