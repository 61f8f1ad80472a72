//! The Prometheus endpoint's listener (`[metrics] listen`): started with
//! the daemon, moved or removed by a reload, stopped at shutdown. Each
//! scrape is a read job on the core ([`super::scrape`]).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tracing::info;

use super::api::CoreHandle;
use super::scrape::ApiCalls;

/// Why the endpoint could not listen.
#[derive(Debug, thiserror::Error)]
#[error("[metrics] listen = \"{addr}\": cannot listen there: {error}")]
pub struct BindError {
    pub addr: SocketAddr,
    pub error: std::io::Error,
}

/// The endpoint's state on the core: the API counters, how to reach the
/// core from a scrape, and the listener task (stopped when dropped).
#[derive(Default)]
pub(crate) struct Metrics {
    pub(crate) api: Arc<ApiCalls>,
    handle: Option<CoreHandle>,
    endpoint: Option<Endpoint>,
}

/// A bound listener and its task.
struct Endpoint {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A listener bound for a reload, not yet serving.
pub(crate) struct Prepared(Option<Option<std::net::TcpListener>>);

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, BindError> {
    let l = std::net::TcpListener::bind(addr).map_err(|error| BindError { addr, error })?;
    l.set_nonblocking(true)
        .map_err(|error| BindError { addr, error })?;
    Ok(l)
}

impl Metrics {
    /// Starts serving on `listen`, if set; scrapes reach the core through
    /// `handle`. Must be called inside the runtime.
    pub(crate) fn start(
        &mut self,
        handle: CoreHandle,
        listen: Option<SocketAddr>,
    ) -> Result<(), BindError> {
        self.handle = Some(handle);
        let listener = listen.map(bind).transpose()?;
        self.serve(listener);
        Ok(())
    }

    /// Binds what a new `listen` needs, changing nothing yet: a reload
    /// that cannot bind is refused whole.
    pub(crate) fn prepare(&self, listen: Option<SocketAddr>) -> Result<Prepared, BindError> {
        if self.handle.is_none() || self.endpoint.as_ref().map(|e| e.addr) == listen {
            return Ok(Prepared(None));
        }
        Ok(Prepared(Some(listen.map(bind).transpose()?)))
    }

    /// Switches to what [`Metrics::prepare`] bound.
    pub(crate) fn apply(&mut self, prepared: Prepared) {
        if let Some(listener) = prepared.0 {
            self.serve(listener);
        }
    }

    /// Stops serving (at shutdown).
    pub(crate) fn stop(&mut self) {
        self.endpoint = None;
    }

    fn serve(&mut self, listener: Option<std::net::TcpListener>) {
        // The old endpoint stops (its listener closes as its task is
        // dropped); scrapes it already took finish on their own timeouts.
        self.endpoint = None;
        let (Some(listener), Some(handle)) = (listener, self.handle.clone()) else {
            return;
        };
        let Ok(addr) = listener.local_addr() else {
            return;
        };
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(%addr, error = %e, "metrics: cannot serve the listener");
                return;
            }
        };
        let scrape = move || {
            let handle = handle.clone();
            async move {
                let snapshot = handle
                    .read(|c, now| Ok(c.metrics_snapshot(now)))
                    .await
                    .ok()?;
                Some(snapshot.encode())
            }
        };
        let task = tokio::spawn(crate::metrics::http::serve(listener, scrape));
        info!("metrics: serving http://{addr}/metrics");
        self.endpoint = Some(Endpoint { addr, task });
    }
}
