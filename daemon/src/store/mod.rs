//! The durable record of leases (and, later, run-time hosts).
//!
//! One trait, several backends. The in-memory index in [`crate::lease`] is the
//! hot path; the store is what survives a restart. A single writer thread owns
//! the backend and commits the writes of all concurrent requests in one
//! transaction (group commit), so a reply that promises an address waits for
//! one fsync shared by every request in the batch.
//!
//! Typical start-up:
//!
//! ```no_run
//! # async fn start() -> Result<(), berthd::store::StoreError> {
//! use berthd::store::{self, Writer};
//! let cfg = berthd::config::ServerConfig::default();
//! let mut store = store::open(&cfg)?; // the backend the config names
//! let leases = store.load_leases()?; // build the in-memory index from these
//! let writer = Writer::spawn(store);
//! // ... serve; each handler awaits `writer.commit(writes)` before replying ...
//! writer.shutdown().await?; // on SIGTERM: flush what is queued, then stop
//! # let _ = leases; Ok(()) }
//! ```

use std::net::Ipv4Addr;

use crate::addr::MacAddr;
use crate::blocks::Block;
use crate::config::ServerConfig;
use crate::lease::{Lease, UnixTime};

mod checkpoint;
pub mod memory;
pub mod pace;
pub mod postgres;
pub mod sqlite;
pub mod writer;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;
pub use writer::{Writer, WriterStats};

/// The `store` setting that selects the in-memory backend: nothing
/// survives a restart (for demos and tests).
pub const MEMORY: &str = "memory:";

/// Opens the backend the configuration names: [`MEMORY`] for the
/// in-memory store, otherwise the SQLite file at that path.
pub fn open(cfg: &ServerConfig) -> Result<Box<dyn Store>, StoreError> {
    if let Some(pg) = &cfg.postgres {
        return Ok(Box::new(postgres::PostgresStore::open(pg)?));
    }
    if cfg.store.as_os_str() == MEMORY {
        return Ok(Box::new(MemoryStore::new()));
    }
    Ok(Box::new(SqliteStore::open(&cfg.store)?))
}

/// One change to the durable record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Insert or replace the lease for `lease.ip`.
    PutLease(Lease),
    /// Forget the lease for this address.
    DeleteLease(Ipv4Addr),
    /// Insert or replace the run-time host named `host.name`.
    PutHost(StoredHost),
    /// Forget the run-time host with this name.
    DeleteHost(String),
    /// Insert or replace the block on `block.mac`.
    PutBlock(Block),
    /// Lift the block on this MAC.
    DeleteBlock(MacAddr),
}

impl Write {
    /// What the write is about, for messages and failure injection.
    pub fn subject(&self) -> String {
        match self {
            Write::PutLease(l) => l.ip.to_string(),
            Write::DeleteLease(ip) => ip.to_string(),
            Write::PutHost(h) => format!("host {}", h.name),
            Write::DeleteHost(n) => format!("host {n}"),
            Write::PutBlock(b) => format!("block {}", b.mac),
            Write::DeleteBlock(m) => format!("block {m}"),
        }
    }
}

/// A static host added at run time, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHost {
    pub name: String,
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    /// Options as a TOML inline table, as in the config file
    /// (`{ routers = ["192.0.2.1"] }`); empty for none.
    pub options: String,
    pub created_at: UnixTime,
}

/// A store failure. The message names the store and what failed.
///
/// `Clone` so that one failed group commit can be reported to every request
/// that was waiting on it; backend errors are therefore kept as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A file-system operation outside the database engine failed.
    #[error("store {path}: {what}: {reason}")]
    Io {
        /// The store's path, as given.
        path: String,
        /// What was being done, e.g. "creating directory /var/lib/berth".
        what: String,
        /// The operating system's error.
        reason: String,
    },
    /// SQLite refused an operation.
    #[error("store {path}: {what}: {reason}")]
    Sqlite {
        /// The database file.
        path: String,
        /// What was being done, e.g. "put 192.168.0.100".
        what: String,
        /// SQLite's error message.
        reason: String,
    },
    /// PostgreSQL refused an operation, or could not be reached.
    #[error("store {url}: {what}: {reason}")]
    Postgres {
        /// The database's URL, without its password.
        url: String,
        /// What was being done, e.g. "put 192.168.0.100", "connecting".
        what: String,
        /// The server's (or the client library's) error message.
        reason: String,
    },
    /// The database was written by a newer berthd; refusing to touch it.
    #[error(
        "store {path}: schema version {found} is newer than this berthd supports \
         (at most {supported}); refusing to open it: run a newer berthd or use another file"
    )]
    TooNew {
        /// The database file.
        path: String,
        /// `PRAGMA user_version` found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A lease that cannot be represented in the store (or a stored row
    /// that cannot be read back as a lease).
    #[error("store {path}: row for {ip}: {reason}")]
    BadRow {
        /// The store's path.
        path: String,
        /// The row's address, as stored.
        ip: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A failure injected into a [`MemoryStore`] by a test.
    #[error("memory store: {0}")]
    Memory(String),
    /// The writer thread is gone (shut down, or it panicked); nothing was written.
    #[error("store writer has stopped")]
    WriterGone,
}

/// A durable backend. Implementations are synchronous; the [`Writer`] runs
/// them on a dedicated thread.
pub trait Store: Send + 'static {
    /// Short backend name for status output ("sqlite", "postgres").
    fn backend(&self) -> &'static str;
    /// Every stored lease, for building the in-memory index at start.
    fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError>;
    /// Every run-time static host.
    fn load_hosts(&mut self) -> Result<Vec<StoredHost>, StoreError>;
    /// Every block.
    fn load_blocks(&mut self) -> Result<Vec<Block>, StoreError>;
    /// Apply all writes in one transaction: all or nothing, durable on
    /// return. A lease write is a claim that a backend shared by several
    /// daemons may refuse without failing the batch (another daemon holds
    /// the address): those come back as [`Lost`], every other write of the
    /// batch stands. Backends with one writer (SQLite, memory) never refuse.
    fn apply(&mut self, batch: &[Write]) -> Result<Vec<Lost>, StoreError>;

    /// For a database other daemons write too: start following their
    /// changes, sent to `tx` as they are read back, until the returned
    /// [`Follower`] is dropped. `None` (the default) for a backend that has
    /// only this daemon as its writer.
    fn follow(&self, tx: tokio::sync::mpsc::Sender<Learned>) -> Option<Follower> {
        let _ = tx;
        None
    }
}

/// Records other daemons changed in a shared database, as the database
/// holds them now (`None`: gone).
#[derive(Debug, Clone)]
pub struct Learned {
    pub leases: Vec<(Ipv4Addr, Option<Lease>)>,
    pub hosts: Vec<(String, Option<StoredHost>)>,
    pub blocks: Vec<(MacAddr, Option<Block>)>,
    /// Everything the database holds (a resync, or the first read after
    /// connecting): a record this daemon knows and that is not here is gone.
    pub full: bool,
    /// When the read was sent: a change of this daemon's own that became
    /// durable later is newer than what was read.
    pub read_at: std::time::Instant,
}

/// Keeps a [`Store::follow`] running; dropping it stops following.
pub struct Follower(#[allow(dead_code)] Box<dyn Send>);

impl Follower {
    /// Wraps whatever keeps the following alive (a runtime, a task handle).
    pub fn new(guard: impl Send + 'static) -> Follower {
        Follower(Box::new(guard))
    }
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Follower")
    }
}

/// A lease write the database refused because the address is another
/// client's (leased through another daemon sharing the database); nothing
/// was written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The write's position in the batch (or the request) it came in.
    pub index: usize,
    /// The address of the refused write.
    pub ip: Ipv4Addr,
    /// The record as the database holds it after the commit (`None`: no
    /// row any more, or one that does not decode).
    pub holder: Option<Lease>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_picks_the_backend_the_config_names() {
        let mut cfg = ServerConfig {
            store: MEMORY.into(),
            ..ServerConfig::default()
        };
        assert_eq!(open(&cfg).expect("memory").backend(), "memory");
        let dir = tempfile::tempdir().expect("tempdir");
        cfg.store = dir.path().join("leases.db");
        assert_eq!(open(&cfg).expect("sqlite").backend(), "sqlite");
        assert!(cfg.store.exists());
    }
}
