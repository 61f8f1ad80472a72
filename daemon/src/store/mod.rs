//! The durable record of leases (and, later, run-time hosts).
//!
//! OWNED BY THE STORE HELPER: the public API below is the contract the server
//! uses; bodies are to be implemented.
//!
//! One trait, several backends. The in-memory index in [`crate::lease`] is the
//! hot path; the store is what survives a restart. A single writer thread owns
//! the backend and commits the writes of all concurrent requests in one
//! transaction (group commit), so a reply that promises an address waits for
//! one fsync shared by every request in the batch.

use std::net::Ipv4Addr;

use crate::lease::Lease;

pub mod sqlite;

/// One change to the durable record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Insert or replace the lease for `lease.ip`.
    PutLease(Lease),
    /// Forget the lease for this address.
    DeleteLease(Ipv4Addr),
}

/// A store failure. The message names what failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store {path}: row for {ip}: {reason}")]
    BadRow { path: String, ip: String, reason: String },
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
    /// Apply all writes in one transaction: all or nothing, durable on return.
    fn apply(&mut self, batch: &[Write]) -> Result<(), StoreError>;
}
