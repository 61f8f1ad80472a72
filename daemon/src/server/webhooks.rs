//! The server's side of webhooks: starting them with the daemon, handing
//! them a new configuration on reload, and making their drops known (an
//! event, a log line, the `webhook_dropped` counter) through `publish`.

use std::collections::BTreeMap;
use std::time::Duration;

use berth_proto::EventKind;
use tokio::sync::mpsc;
use tracing::warn;

use super::Core;
use super::commit::Report;
use super::core::Job;
use crate::events::new_event;
use crate::lease::UnixTime;
use crate::webhook::Dropped;

/// How long drop reports are gathered into one event per webhook and cause.
const GATHER: Duration = Duration::from_secs(1);

/// The name webhooks give the daemon: the host's name.
pub(crate) fn daemon_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "berthd".to_string())
}

/// Forwards drop reports to the core, gathered over [`GATHER`] so a burst
/// of drops is one event per webhook and cause.
pub(crate) async fn forward_drops(
    mut rx: mpsc::UnboundedReceiver<Dropped>,
    jobs: mpsc::Sender<Job>,
) {
    while let Some(first) = rx.recv().await {
        let mut merged: BTreeMap<(Option<String>, String), u64> = BTreeMap::new();
        let mut add = |d: Dropped| *merged.entry((d.url, d.why)).or_default() += d.count;
        add(first);
        let until = tokio::time::Instant::now() + GATHER;
        while let Ok(Some(d)) = tokio::time::timeout_at(until, rx.recv()).await {
            add(d);
        }
        for ((url, why), count) in merged {
            let d = Dropped { url, count, why };
            let job: Job = Box::new(move |core, now| core.webhook_dropped(d, now));
            if jobs.send(job).await.is_err() {
                return;
            }
        }
    }
}

impl Core {
    /// Makes dropped webhook notifications known.
    pub(crate) fn webhook_dropped(&mut self, d: Dropped, at: UnixTime) {
        let plural = if d.count == 1 { "" } else { "s" };
        let detail = match &d.url {
            Some(url) => format!("{url}: {} notification{plural} dropped: {}", d.count, d.why),
            None => format!("{} event{plural} not sent to webhooks: {}", d.count, d.why),
        };
        warn!("webhook: {detail}");
        *self.counters.0.entry("webhook_dropped").or_default() += d.count;
        let mut e = new_event(EventKind::WebhookDropped);
        e.ok = false;
        e.detail = detail;
        self.publish(Report::event(e), at);
    }
}
