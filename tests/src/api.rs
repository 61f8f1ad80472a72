//! The control API from a test: a blocking wrapper over the tarpc
//! [`ControlClient`] that `berth_proto::transport::connect` gives, on a
//! runtime of its own.
//!
//! Every call returns the daemon's answer (`Result<T, ApiError>`); a failure
//! below that (the connection broke, the daemon did not answer within the
//! RPC deadline) panics naming the call, as a failing test should.

use std::future::Future;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use berth_proto::page::collect_all;
use berth_proto::transport::connect;
use berth_proto::{
    ApiError, BlockInfo, ControlClient, Event, EventBatch, HostInfo, HostSpec, LeaseFilter,
    LeaseInfo, Page, PageRequest, PoolInfo, PromoteRequest, PromoteResult, ReloadResult, Status,
    Target,
};
use tarpc::client::RpcError;
use tarpc::context;
use tokio::runtime::Runtime;

/// How long connecting (including `api_version`) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A context whose deadline leaves `wait` for the daemon's long poll plus slack.
pub fn ctx_for(wait: Duration) -> context::Context {
    let mut c = context::current();
    c.deadline = std::time::Instant::now() + wait + Duration::from_secs(10);
    c
}

fn ctx() -> context::Context {
    ctx_for(Duration::ZERO)
}

/// A connection to berthd's control socket.
pub struct Api {
    rt: Runtime,
    client: ControlClient,
    path: PathBuf,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("path", &self.path).finish()
    }
}

fn rpc<T>(call: &str, r: Result<T, RpcError>) -> T {
    r.unwrap_or_else(|e| panic!("control API call `{call}` failed below the API: {e:?}"))
}

impl Api {
    /// Connects to the socket at `path` (and checks the API version).
    pub fn connect(path: &Path) -> Result<Api> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start a tokio runtime")?;
        let client = rt
            .block_on(async { tokio::time::timeout(CONNECT_TIMEOUT, connect(path)).await })
            .map_err(|_| {
                anyhow!(
                    "connecting to {} took over {CONNECT_TIMEOUT:?}",
                    path.display()
                )
            })?
            .with_context(|| format!("cannot connect to {}", path.display()))?;
        Ok(Api {
            rt,
            client,
            path: path.to_path_buf(),
        })
    }

    /// The socket this connection talks to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tarpc client (cheap to clone), for calls the wrappers do not cover
    /// (e.g. concurrent calls spawned on [`Api::runtime`]).
    pub fn client(&self) -> ControlClient {
        self.client.clone()
    }

    /// The runtime the client's dispatch task runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Runs `f` to completion on this connection's runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn api_version(&self) -> u32 {
        rpc("api_version", self.block_on(self.client.api_version(ctx())))
    }

    /// One counter of `berth status` (0 when absent); panics when the
    /// call fails.
    pub fn counter(&self, name: &str) -> u64 {
        self.status()
            .expect("status")
            .counters
            .into_iter()
            .find(|(k, _)| k == name)
            .map_or(0, |(_, v)| v)
    }

    pub fn status(&self) -> Result<Status, ApiError> {
        rpc("status", self.block_on(self.client.status(ctx())))
    }

    /// Every lease matching `filter`, all pages.
    pub fn leases(&self, filter: LeaseFilter) -> Result<Vec<LeaseInfo>, ApiError> {
        let walk = collect_all(|p| self.client.leases(ctx(), filter.clone(), p));
        rpc("leases", self.block_on(walk))
    }

    /// One page of leases.
    pub fn leases_page(
        &self,
        filter: LeaseFilter,
        page: PageRequest,
    ) -> Result<Page<LeaseInfo>, ApiError> {
        rpc(
            "leases",
            self.block_on(self.client.leases(ctx(), filter, page)),
        )
    }

    /// Every host, all pages.
    pub fn hosts(&self) -> Result<Vec<HostInfo>, ApiError> {
        let walk = collect_all(|p| self.client.hosts(ctx(), p));
        rpc("hosts", self.block_on(walk))
    }

    pub fn host_add(&self, host: HostSpec) -> Result<HostInfo, ApiError> {
        rpc("host_add", self.block_on(self.client.host_add(ctx(), host)))
    }

    pub fn host_update(&self, name: &str, host: HostSpec) -> Result<HostInfo, ApiError> {
        rpc(
            "host_update",
            self.block_on(self.client.host_update(ctx(), name.to_string(), host)),
        )
    }

    pub fn host_remove(&self, name: &str) -> Result<HostInfo, ApiError> {
        rpc(
            "host_remove",
            self.block_on(self.client.host_remove(ctx(), name.to_string())),
        )
    }

    pub fn hosts_export(&self) -> Result<String, ApiError> {
        rpc(
            "hosts_export",
            self.block_on(self.client.hosts_export(ctx())),
        )
    }

    pub fn promote(&self, req: PromoteRequest) -> Result<PromoteResult, ApiError> {
        rpc("promote", self.block_on(self.client.promote(ctx(), req)))
    }

    /// `promote` of `mac` to `ip` (if given) with `hostname` (if given).
    pub fn promote_to(
        &self,
        mac: &str,
        ip: Option<Ipv4Addr>,
        hostname: Option<&str>,
    ) -> Result<PromoteResult, ApiError> {
        self.promote(PromoteRequest {
            mac: mac.to_string(),
            ip,
            hostname: hostname.map(str::to_string),
        })
    }

    pub fn release(&self, target: Target) -> Result<LeaseInfo, ApiError> {
        rpc("release", self.block_on(self.client.release(ctx(), target)))
    }

    pub fn block(&self, mac: &str, duration_secs: Option<u64>) -> Result<BlockInfo, ApiError> {
        rpc(
            "block",
            self.block_on(self.client.block(ctx(), mac.to_string(), duration_secs)),
        )
    }

    pub fn unblock(&self, mac: &str) -> Result<BlockInfo, ApiError> {
        rpc(
            "unblock",
            self.block_on(self.client.unblock(ctx(), mac.to_string())),
        )
    }

    /// Every block, all pages.
    pub fn blocks(&self) -> Result<Vec<BlockInfo>, ApiError> {
        let walk = collect_all(|p| self.client.blocks(ctx(), p));
        rpc("blocks", self.block_on(walk))
    }

    pub fn pools(&self) -> Result<Vec<PoolInfo>, ApiError> {
        rpc("pools", self.block_on(self.client.pools(ctx())))
    }

    pub fn reload(&self) -> Result<ReloadResult, ApiError> {
        rpc("reload", self.block_on(self.client.reload(ctx())))
    }

    /// Every event the daemon's buffer holds, oldest first.
    pub fn all_events(&self) -> Vec<Event> {
        let mut all = Vec::new();
        let mut seq = 0;
        loop {
            let b = self.events_since(seq, 0).expect("events_since");
            if b.events.is_empty() {
                return all;
            }
            seq = b.last_seq;
            all.extend(b.events);
        }
    }

    /// `events_since(seq, wait_ms)`, with an RPC deadline that covers the wait.
    pub fn events_since(&self, seq: u64, wait_ms: u64) -> Result<EventBatch, ApiError> {
        let c = ctx_for(Duration::from_millis(wait_ms));
        rpc(
            "events_since",
            self.block_on(self.client.events_since(c, seq, wait_ms)),
        )
    }
}
