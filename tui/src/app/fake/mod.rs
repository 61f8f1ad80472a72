//! A small in-memory `Control` server with believable data: for trying the
//! TUI without a real `berthd` (`cargo run -p berth --features fake --example fake_daemon`),
//! for the worker's tests, and as the sample data of the view snapshots.
//! `berth` itself never uses it.
//!
//! `demo` holds the sample data, `daemon` the fake's state and what it does
//! by itself, `control` its answers to the API; this module serves it on a
//! socket.

mod control;
mod daemon;
mod demo;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use berth_proto::Control;
use futures::StreamExt;
use tarpc::server::{BaseChannel, Channel};
use tokio::net::UnixListener;
use tokio::task::JoinHandle;

pub use daemon::FakeDaemon;
pub use demo::{
    DemoData, demo_data, demo_explanation, event, many_leases, quarantine_of, status_of,
};

/// A fake daemon listening on a socket.
pub struct Server {
    path: PathBuf,
    accept: JoinHandle<()>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Server {
    /// Stops listening, drops every connection and removes the socket, as
    /// a daemon that died would.
    pub fn stop(self) {
        self.accept.abort();
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()));
        for c in conns {
            c.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves `daemon` on a Unix socket at `path` (replacing a stale socket
/// file). Must be called inside a tokio runtime.
pub fn serve(path: &Path, daemon: FakeDaemon) -> io::Result<Server> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
    let conns2 = Arc::clone(&conns);
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let transport = berth_proto::transport::framed(stream);
            let d = daemon.clone();
            let task = tokio::spawn(
                BaseChannel::with_defaults(transport)
                    .execute(d.serve())
                    .for_each(|fut| async {
                        tokio::spawn(fut);
                    }),
            );
            let mut c = conns2.lock().unwrap_or_else(|p| p.into_inner());
            c.retain(|h| !h.is_finished());
            c.push(task);
        }
    });
    Ok(Server {
        path: path.to_path_buf(),
        accept,
        conns,
    })
}
