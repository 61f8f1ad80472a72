//! Webhooks: each `[[webhook]]` is POSTed a JSON object ([`payload`]) for
//! every event of the kinds it asked for, off the hot path.
//!
//! One dispatcher task reads the published event stream (the `events` ring
//! buffer the control API long-polls) with a cursor of its own: DHCP never
//! waits for it, and events it fell too far behind to read (a gap) count
//! as dropped. Each webhook has a bounded queue ([`queue::Bounded`], the
//! oldest dropped when full) and a delivery task that tries the oldest
//! notification until it is delivered, backing off exponentially from 1s to
//! `max_backoff` between attempts; a notification is dropped after
//! `retries` attempts when that is set, at once when the receiver refuses it
//! (4xx), or when newer ones push it out of the queue. Drops are reported
//! to the caller ([`Dropped`]), which makes them an event and a counter.
//!
//! Plain HTTP/1.1 over TCP ([`http`]); no TLS.

mod http;
mod payload;
mod queue;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use berth_proto::{Event, EventKind};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::clock::{SystemClocks, TimeSource};
use crate::config::Webhook;
use crate::events::EventLog;
pub use http::PostError;
pub use payload::{body, rfc3339};
use queue::Bounded;

/// How long the dispatcher's long poll waits for an event.
const POLL: Duration = Duration::from_secs(30);

/// Notifications that were dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The webhook's URL, or `None` for events the dispatcher missed
    /// before it could sort them by webhook.
    pub url: Option<String>,
    /// How many.
    pub count: u64,
    /// Why.
    pub why: String,
}

/// Delivery attempts since the start, all webhooks together (drops are
/// reported as [`Dropped`]).
#[derive(Debug, Default)]
pub struct Attempts {
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl Attempts {
    /// POSTs the receiver accepted.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// POSTs that failed (each retry counts).
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// The running webhooks: reconfigure them with [`Webhooks::set`].
pub struct Webhooks {
    config: watch::Sender<Vec<Webhook>>,
    task: JoinHandle<()>,
    attempts: Arc<Attempts>,
}

impl Webhooks {
    /// Starts the dispatcher for `hooks` on `events`, naming the daemon
    /// `daemon` in every body and reporting drops to `dropped`.
    pub fn start(
        hooks: Vec<Webhook>,
        events: Arc<EventLog>,
        daemon: String,
        dropped: mpsc::UnboundedSender<Dropped>,
    ) -> Webhooks {
        let (config, rx) = watch::channel(hooks);
        let attempts = Arc::new(Attempts::default());
        let task = tokio::spawn(dispatch(rx, events, daemon, dropped, attempts.clone()));
        Webhooks {
            config,
            task,
            attempts,
        }
    }

    /// Delivery attempts so far.
    pub fn attempts(&self) -> &Attempts {
        &self.attempts
    }

    /// Applies a new set of webhooks (after a reload). Unchanged ones keep
    /// their queues; removed ones stop.
    pub fn set(&self, hooks: Vec<Webhook>) {
        self.config.send_if_modified(|current| {
            let changed = *current != hooks;
            *current = hooks;
            changed
        });
    }
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One webhook's queue, shared by the dispatcher and its delivery task.
struct Lane {
    hook: Webhook,
    queue: Mutex<Bounded<Vec<u8>>>,
    wake: Notify,
}

impl Lane {
    fn queue(&self) -> std::sync::MutexGuard<'_, Bounded<Vec<u8>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A lane and its delivery task, stopped when dropped.
struct Worker {
    lane: Arc<Lane>,
    task: JoinHandle<()>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn dispatch(
    mut config: watch::Receiver<Vec<Webhook>>,
    events: Arc<EventLog>,
    daemon: String,
    dropped: mpsc::UnboundedSender<Dropped>,
    attempts: Arc<Attempts>,
) {
    let mut workers: Vec<Worker> = Vec::new();
    let mut cursor = 0u64;
    let configure = |workers: &mut Vec<Worker>, hooks: &[Webhook]| {
        let mut old = std::mem::take(workers);
        for hook in hooks {
            match old.iter().position(|w| w.lane.hook == *hook) {
                Some(i) => workers.push(old.swap_remove(i)),
                None => {
                    let lane = Arc::new(Lane {
                        hook: hook.clone(),
                        queue: Mutex::new(Bounded::new(hook.queue)),
                        wake: Notify::new(),
                    });
                    let task = tokio::spawn(deliver(
                        lane.clone(),
                        dropped.clone(),
                        events.clone(),
                        attempts.clone(),
                    ));
                    workers.push(Worker { lane, task });
                }
            }
        }
    };
    configure(&mut workers, &config.borrow_and_update());
    loop {
        if workers.is_empty() {
            // Nothing to deliver: only a reload can change that. Events
            // published meanwhile are not for anyone.
            if config.changed().await.is_err() {
                return;
            }
            cursor = events.since(u64::MAX - 1).last_seq;
            configure(&mut workers, &config.borrow_and_update());
            continue;
        }
        tokio::select! {
            changed = config.changed() => {
                if changed.is_err() {
                    return;
                }
                configure(&mut workers, &config.borrow_and_update());
            }
            batch = events.wait_since(cursor, POLL) => {
                if let Some(gap) = batch.gap {
                    let missed = gap.oldest_seq.saturating_sub(cursor + 1);
                    let _ = dropped.send(Dropped {
                        url: None,
                        count: missed,
                        why: "the event buffer overflowed before they were read".into(),
                    });
                }
                cursor = batch.last_seq;
                for e in &batch.events {
                    route(&workers, e, &daemon, &dropped);
                }
            }
        }
    }
}

/// Queues `e` for every webhook that wants it.
fn route(workers: &[Worker], e: &Event, daemon: &str, dropped: &mpsc::UnboundedSender<Dropped>) {
    let mut payload = None;
    for w in workers.iter().filter(|w| w.lane.hook.wants(e.kind)) {
        let body = payload.get_or_insert_with(|| body(e, daemon)).clone();
        let pushed_out = w.lane.queue().push(body);
        w.lane.wake.notify_one();
        // A drop report is itself an event: never report the drop of one,
        // so that a webhook that wants them cannot feed itself.
        if pushed_out > 0 && e.kind != EventKind::WebhookDropped {
            let _ = dropped.send(Dropped {
                url: Some(w.lane.hook.url.clone()),
                count: pushed_out,
                why: format!("the queue of {} was full", w.lane.hook.queue),
            });
        }
    }
}

/// Tells operators that a webhook's deliveries started failing, or work
/// again: a `hook_result` event (as a hook's outcome is), once per change,
/// not per attempt.
fn report_delivery(events: &EventLog, url: &str, failing: Option<&http::PostError>) {
    let mut e = crate::events::new_event(EventKind::HookResult);
    match failing {
        Some(err) => {
            e.ok = false;
            e.detail = format!("webhook {url}: delivery failing: {err}; retrying");
        }
        None => e.detail = format!("webhook {url}: delivers again"),
    }
    let now = i64::try_from(SystemClocks.wall()).unwrap_or(i64::MAX);
    events.push(e, now);
}

/// Delivers one lane's notifications, oldest first, forever.
async fn deliver(
    lane: Arc<Lane>,
    dropped: mpsc::UnboundedSender<Dropped>,
    events: Arc<EventLog>,
    counts: Arc<Attempts>,
) {
    let hook = &lane.hook;
    let mut failing = false;
    loop {
        let next = lane.queue().pop();
        let Some(body) = next else {
            lane.wake.notified().await;
            continue;
        };
        let mut attempts = 0u32;
        let mut backoff = 1u64;
        loop {
            attempts += 1;
            match http::post(hook, &body).await {
                Ok(()) => {
                    counts.delivered.fetch_add(1, Ordering::Relaxed);
                    if failing {
                        info!(url = %hook.url, "webhook delivers again");
                        report_delivery(&events, &hook.url, None);
                        failing = false;
                    }
                    break;
                }
                Err(e) => {
                    counts.failed.fetch_add(1, Ordering::Relaxed);
                    let give_up = !e.is_retryable() || hook.retries.is_some_and(|r| attempts >= r);
                    if !failing {
                        warn!(url = %hook.url, error = %e, "webhook delivery failed; retrying with backoff");
                        report_delivery(&events, &hook.url, Some(&e));
                        failing = true;
                    } else {
                        debug!(url = %hook.url, error = %e, attempts, "webhook delivery failed");
                    }
                    if give_up {
                        let _ = dropped.send(Dropped {
                            url: Some(hook.url.clone()),
                            count: 1,
                            why: format!(
                                "{e} after {attempts} attempt{}",
                                if attempts == 1 { "" } else { "s" }
                            ),
                        });
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(backoff)).await;
                    backoff = (backoff * 2).min(hook.max_backoff.into());
                }
            }
        }
    }
}
