//! The control API's service: the [`berth_proto::Control`] calls, each a
//! read or a change run on the core task. The socket and who may connect
//! are [`crate::control`]'s; this is what the calls do.
//!
//! A change runs as one job between two packets and goes through the same
//! commit path as a packet's: its writes queue behind every earlier
//! decision's, its events are published once it is durable, and a failed
//! write undoes it. A call whose caller has gone (deadline, Ctrl-C) before
//! its turn does nothing; once its turn came it happens completely.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use berth_proto::{
    API_VERSION, ApiError, BlockInfo, Control, ErrorKind, EventBatch, ExplainRequest, Explanation,
    HostInfo, HostSpec, LeaseFilter, LeaseInfo, Page, PageRequest, PoolInfo, PromoteRequest,
    PromoteResult, QuarantineInfo, ReloadResult, ScanResult, Status, Target,
};
use futures::StreamExt;
use std::net::Ipv4Addr;
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::Core;
use super::commit::{Report, Source, Then};
use super::core::Job;
use super::ops::{OpResult, Plan};
use super::scrape::ApiCalls;
use crate::control::{Idle, Listener, MAX_CALLS_PER_CONNECTION};
use crate::events::EventLog;
use crate::lease::UnixTime;

/// The longest an `events_since` call waits: below tarpc's default 10 s
/// client deadline, so a long poll never looks like a dead daemon.
const MAX_EVENT_WAIT: Duration = Duration::from_secs(8);

fn gone() -> ApiError {
    ApiError::new(ErrorKind::Internal, "berthd is shutting down")
}

/// What control connections hold to reach the core.
#[derive(Clone)]
pub(crate) struct CoreHandle {
    jobs: mpsc::Sender<Job>,
}

impl CoreHandle {
    pub(crate) fn new(jobs: mpsc::Sender<Job>) -> Self {
        CoreHandle { jobs }
    }

    /// Runs `op` on the core, applies its changes and answers once they
    /// are durable (or undone because they could not be written).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut Core, UnixTime) -> OpResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel::<Result<T, ApiError>>();
        let job: Job = Box::new(move |core, now| {
            // The caller went away before its turn: do nothing at all.
            if tx.is_closed() {
                return;
            }
            let Plan {
                answer,
                changes,
                events,
            } = match op(core, now) {
                Ok(plan) => plan,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let staged = match core.stage(changes) {
                Ok(s) => s,
                Err(c) => {
                    let _ = tx.send(Err(ApiError::new(ErrorKind::Conflict, c.to_string())));
                    return;
                }
            };
            let report = Report::events(events);
            // From here on the change happens whether or not anyone listens.
            let then = Then::Answer(Box::new(move |r| {
                let _ = tx.send(r.map(|()| answer));
            }));
            core.commit(Source::Operator, staged, report, then, now);
        });
        self.jobs.send(job).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Runs a read-only `op` on the core.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Core, UnixTime) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |core, now| {
            if !tx.is_closed() {
                let _ = tx.send(op(core, now));
            }
        });
        self.jobs.send(job).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

/// What the control API's connections need.
pub(crate) struct Service {
    pub core: CoreHandle,
    pub calls: Arc<ApiCalls>,
    pub events: Arc<EventLog>,
    pub admin_group: String,
    pub idle: Duration,
}

/// The control API served on threads and runtimes of their own: the JSON,
/// paging and long polls of a thousand control connections then share no
/// thread with the DHCP core, which only runs each call's short job on the
/// core. Root's connections are served apart from everyone else's, on the
/// thread that accepts: when a crowd of followers keeps the clients' thread
/// busy, root still connects and gets its answer at once. Stopped (and
/// joined) when dropped.
pub(crate) struct ControlThread {
    /// Each thread with what stops it, in the order they started.
    threads: Vec<(oneshot::Sender<()>, std::thread::JoinHandle<()>)>,
    /// The runtime everyone but root is served on (a test keeps it busy).
    #[cfg(test)]
    clients: tokio::runtime::Handle,
}

impl ControlThread {
    /// Starts serving `listener`.
    pub(crate) fn spawn(listener: Listener, service: Service) -> std::io::Result<ControlThread> {
        let clients = lane_runtime(CLIENTS_THREAD)?;
        let accept = lane_runtime(ACCEPT_THREAD)?;
        let lane = clients.handle().clone();
        let mut this = ControlThread {
            threads: Vec::with_capacity(2),
            #[cfg(test)]
            clients: lane.clone(),
        };
        // The clients' thread only runs what the accepting one hands it.
        this.threads
            .push(run_lane(clients, CLIENTS_THREAD, std::future::pending())?);
        this.threads.push(run_lane(
            accept,
            ACCEPT_THREAD,
            serve(listener, service, lane),
        )?);
        Ok(this)
    }
}

/// The thread that accepts, and serves root's connections.
const ACCEPT_THREAD: &str = "berthd-control";
/// The thread that serves everyone else's.
const CLIENTS_THREAD: &str = "berthd-clients";

/// A control thread's runtime.
fn lane_runtime(name: &str) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(name)
        // The blocking pool only looks up who is an admin (NSS): a burst
        // of a thousand connections must not start a thread each (tokio's
        // default allows 512; the unit's TasksMax 256).
        .max_blocking_threads(4)
        .build()
}

/// Runs `work` on `rt` on a thread of its own until it ends or the
/// returned sender is used (or dropped); dropping the runtime then ends
/// every task left on it.
fn run_lane(
    rt: tokio::runtime::Runtime,
    name: &str,
    work: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(oneshot::Sender<()>, std::thread::JoinHandle<()>)> {
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            rt.block_on(async move {
                tokio::select! {
                    () = work => {}
                    _ = stopped => {}
                }
            });
        })?;
    Ok((stop, thread))
}

impl Drop for ControlThread {
    fn drop(&mut self) {
        // The accepting thread (started last) stops first: then nothing
        // hands the clients' runtime a connection while it stops.
        while let Some((stop, thread)) = self.threads.pop() {
            let _ = stop.send(());
            if thread.join().is_err() {
                warn!("a control API thread panicked");
            }
        }
    }
}

/// Accepts control connections until the task is aborted; each is its own
/// tarpc channel, so an oversized or malformed frame ends only that one.
/// Root's connections run here, everyone else's on `clients`.
async fn serve(listener: Listener, service: Service, clients: tokio::runtime::Handle) {
    let Service {
        core,
        calls,
        events,
        admin_group,
        idle,
    } = service;
    let listener = match listener.register() {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("control API not served: {e}");
            return;
        }
    };
    loop {
        let (stream, peer) = listener.accept().await;
        let core = core.clone();
        let calls = calls.clone();
        let events = events.clone();
        let admin_group = admin_group.clone();
        let uid = peer.uid;
        let connection = async move {
            let session = Session {
                core,
                calls,
                events,
                uid,
                admin: peer.admin().await,
                admin_group,
            };
            let transport = Idle::new(berth_proto::transport::framed(stream), idle);
            BaseChannel::with_defaults(transport)
                .max_concurrent_requests(MAX_CALLS_PER_CONNECTION)
                .execute(session.serve())
                // Each call on the runtime its connection runs on.
                .for_each(|call| async {
                    tokio::spawn(call);
                })
                .await;
            // The peer (and its connection slot) goes only now.
            drop(peer);
            debug!(uid, "control connection closed");
        };
        if uid == 0 {
            tokio::spawn(connection);
        } else {
            clients.spawn(connection);
        }
    }
}

/// One connection's view of the service.
#[derive(Clone)]
struct Session {
    core: CoreHandle,
    /// Calls by method and result, for metrics.
    calls: Arc<ApiCalls>,
    events: Arc<EventLog>,
    uid: u32,
    admin: bool,
    admin_group: String,
}

impl Session {
    /// A read-only call `method`, counted.
    async fn read<T: Send + 'static>(
        &self,
        method: &'static str,
        op: impl FnOnce(&Core, UnixTime) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.calls.count(method, self.core.read(op).await)
    }

    /// A change (`call` as operators name it), refused unless the caller
    /// is an admin; counted as `method`.
    async fn change<T: Send + 'static>(
        &self,
        method: &'static str,
        call: &str,
        op: impl FnOnce(&mut Core, UnixTime) -> OpResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let r = match self.require_admin(call) {
            Ok(()) => self.core.run(op).await,
            Err(e) => Err(e),
        };
        self.calls.count(method, r)
    }

    fn require_admin(&self, call: &str) -> Result<(), ApiError> {
        if self.admin {
            return Ok(());
        }
        warn!(uid = self.uid, call, "control call denied: not an admin");
        Err(ApiError::new(
            ErrorKind::PermissionDenied,
            format!(
                "{call} needs admin rights: run as root or join the `{}` group (uid {} may only read)",
                self.admin_group, self.uid
            ),
        ))
    }
}

impl Control for Session {
    async fn api_version(self, _: Context) -> u32 {
        let _ = self.calls.count("api_version", Ok::<(), ApiError>(()));
        API_VERSION
    }

    async fn status(self, _: Context) -> Result<Status, ApiError> {
        self.read("status", |c, now| Ok(c.status(now))).await
    }

    async fn leases(
        self,
        _: Context,
        filter: LeaseFilter,
        page: PageRequest,
    ) -> Result<Page<LeaseInfo>, ApiError> {
        let req = page.clone();
        let rows = self
            .core
            .read(move |c, now| c.lease_rows(&filter, &req, now))
            .await;
        // Formatting and sizing happen here, off the core.
        self.calls
            .count("leases", rows.map(|rows| rows.page(&page)))
    }

    async fn hosts(self, _: Context, page: PageRequest) -> Result<Page<HostInfo>, ApiError> {
        self.read("hosts", move |c, _| Ok(c.hosts_page(&page)))
            .await
    }

    async fn host_add(self, _: Context, host: HostSpec) -> Result<HostInfo, ApiError> {
        self.change("host_add", "host add", move |c, now| {
            c.host_put(host, None, now)
        })
        .await
    }

    async fn host_update(
        self,
        _: Context,
        name: String,
        host: HostSpec,
    ) -> Result<HostInfo, ApiError> {
        self.change("host_update", "host update", move |c, now| {
            c.host_put(host, Some(name), now)
        })
        .await
    }

    async fn host_remove(self, _: Context, name: String) -> Result<HostInfo, ApiError> {
        self.change("host_remove", "host remove", move |c, _| {
            c.host_remove(&name)
        })
        .await
    }

    async fn hosts_export(self, _: Context) -> Result<String, ApiError> {
        self.read("hosts_export", |c, _| Ok(c.hosts_export())).await
    }

    async fn promote(self, _: Context, req: PromoteRequest) -> Result<PromoteResult, ApiError> {
        self.change("promote", "promote", move |c, now| c.promote(req, now))
            .await
    }

    async fn release(self, _: Context, target: Target) -> Result<LeaseInfo, ApiError> {
        self.change("release", "release", move |c, now| c.release(&target, now))
            .await
    }

    async fn block(
        self,
        _: Context,
        mac: String,
        duration_secs: Option<u64>,
    ) -> Result<BlockInfo, ApiError> {
        self.change("block", "block", move |c, now| {
            c.block(&mac, duration_secs, now)
        })
        .await
    }

    async fn unblock(self, _: Context, mac: String) -> Result<BlockInfo, ApiError> {
        self.change("unblock", "unblock", move |c, _| c.unblock(&mac))
            .await
    }

    async fn blocks(self, _: Context, page: PageRequest) -> Result<Page<BlockInfo>, ApiError> {
        self.read("blocks", move |c, now| c.blocks_page(&page, now))
            .await
    }

    async fn pools(self, _: Context) -> Result<Vec<PoolInfo>, ApiError> {
        self.read("pools", |c, now| Ok(c.pools(now))).await
    }

    async fn reload(self, _: Context) -> Result<ReloadResult, ApiError> {
        self.change("reload", "reload", |c, now| c.reload(now).map(Plan::answer))
            .await
    }

    async fn events_since(
        self,
        _: Context,
        seq: u64,
        wait_ms: u64,
    ) -> Result<EventBatch, ApiError> {
        let wait = Duration::from_millis(wait_ms).min(MAX_EVENT_WAIT);
        let batch = self.events.wait_since(seq, wait).await;
        self.calls.count("events_since", Ok(batch))
    }

    async fn explain(self, _: Context, req: ExplainRequest) -> Result<Explanation, ApiError> {
        self.read("explain", move |c, now| c.explain(&req, now))
            .await
    }

    async fn scan(self, _: Context, range: Option<String>) -> Result<Vec<ScanResult>, ApiError> {
        let r = async {
            self.require_admin("scan")?;
            // The sweeps run off the core; it answers when the last is done.
            let (tx, rx) = oneshot::channel();
            let job: Job = Box::new(move |core, now| core.scan(range.as_deref(), tx, now));
            self.core.jobs.send(job).await.map_err(|_| gone())?;
            rx.await.map_err(|_| gone())?
        }
        .await;
        self.calls.count("scan", r)
    }

    async fn quarantine(
        self,
        _: Context,
        page: PageRequest,
    ) -> Result<Page<QuarantineInfo>, ApiError> {
        let r = self
            .core
            .read(move |c, now| c.quarantine_page(&page, now))
            .await;
        self.calls.count("quarantine", r)
    }

    async fn quarantine_clear(self, _: Context, ip: Ipv4Addr) -> Result<QuarantineInfo, ApiError> {
        let r = async {
            self.require_admin("quarantine clear")?;
            self.core
                .run(move |c, now| c.quarantine_clear(ip, now))
                .await
        }
        .await;
        self.calls.count("quarantine_clear", r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::MacAddr;
    use crate::store::{MemoryStore, Store};

    use crate::server::start::TEST_CONFIG as CONFIG;

    const MAC: &str = "02:00:00:00:00:0b";

    fn core(store: &MemoryStore) -> Core {
        Core::for_test(CONFIG, store.clone()).0
    }

    fn blocked(core: &Core, store: &MemoryStore) -> (bool, usize) {
        let mac: MacAddr = MAC.parse().expect("mac");
        let stored = store.clone().load_blocks().expect("blocks").len();
        (core.blocks.get(&mac).is_some(), stored)
    }

    #[tokio::test]
    async fn root_is_answered_while_the_clients_thread_is_busy() {
        // The lane is picked by the peer's uid: this test must connect as root.
        if !nix::unistd::geteuid().is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the tests as root"
            );
            eprintln!("skipped: needs root");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let store = MemoryStore::new();
        let core = core(&store);
        let mut cfg = core.cfg.server.clone();
        cfg.control_socket = dir.path().join("control.sock");
        let listener = Listener::bind(&cfg).expect("bind");
        let (jobs, _queue) = mpsc::channel(1);
        let service = Service {
            core: CoreHandle::new(jobs),
            calls: core.metrics.api.clone(),
            events: core.events.clone(),
            admin_group: cfg.admin_group.clone(),
            idle: Duration::from_secs(30),
        };
        let control = ControlThread::spawn(listener, service).expect("control thread");
        // Work that holds the clients' thread, as a crowd of followers'
        // calls does: nothing there runs until it ends.
        let (done, hold) = std::sync::mpsc::channel::<()>();
        control.clients.spawn(async move {
            let _ = hold.recv_timeout(Duration::from_secs(30));
        });
        let asked = tokio::time::timeout(Duration::from_secs(5), async {
            let client = berth_proto::transport::connect(&cfg.control_socket).await?;
            client
                .api_version(tarpc::context::current())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .await;
        let _ = done.send(());
        drop(control);
        let version = asked
            .expect("root answered within 5 s although the clients' thread is busy")
            .expect("api_version");
        assert_eq!(version, API_VERSION);
    }

    #[tokio::test]
    async fn a_call_whose_caller_left_before_its_turn_does_nothing() {
        let store = MemoryStore::new();
        let mut core = core(&store);
        let (jobs, mut queue) = mpsc::channel(1);
        let handle = CoreHandle::new(jobs);
        let mut call = Box::pin(handle.run(|c, now| c.block(MAC, None, now)));
        // Polled once: the job is queued. Then the caller goes away.
        assert!(futures::poll!(&mut call).is_pending());
        drop(call);
        let job = queue.recv().await.expect("queued job");
        job(&mut core, 1000);
        core.finish_in_flight().await;
        assert_eq!(
            blocked(&core, &store),
            (false, 0),
            "neither memory nor store"
        );
    }

    #[tokio::test]
    async fn a_call_whose_turn_came_happens_in_memory_and_store() {
        let store = MemoryStore::new();
        let mut core = core(&store);
        let (jobs, mut queue) = mpsc::channel(1);
        let handle = CoreHandle::new(jobs);
        let call = tokio::spawn(async move { handle.run(|c, now| c.block(MAC, None, now)).await });
        let job = queue.recv().await.expect("queued job");
        job(&mut core, 1000);
        // The caller leaves once the change is decided: it still completes.
        call.abort();
        core.finish_in_flight().await;
        assert_eq!(blocked(&core, &store), (true, 1));
    }
}
