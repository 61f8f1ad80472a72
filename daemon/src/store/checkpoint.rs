//! SQLite WAL checkpoints off the commit path. With SQLite's own
//! auto-checkpoint, every thousandth page makes one commit copy the whole
//! WAL into the database file (and fsync it) before its ACKs may leave.
//! Here a thread of its own, on a connection of its own, does that copy
//! while the writer goes on committing (a PASSIVE checkpoint never blocks
//! a writer), nudged by the writer's WAL hook once the WAL holds
//! [`CHECKPOINT_PAGES`].

use std::path::Path;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};

/// WAL pages that start a checkpoint (SQLite's auto-checkpoint default).
pub const CHECKPOINT_PAGES: i32 = 1000;

/// WAL pages at which the writer checkpoints itself, on the commit path,
/// as SQLite would: the thread has fallen this far behind.
/// (Under a steady stream of writes a concurrent checkpoint can lag the
/// WAL's end, and a WAL only restarts once all of it is copied.)
pub const WAL_BOUND_PAGES: i32 = 4 * CHECKPOINT_PAGES;

/// What the thread is asked.
enum Ask {
    Checkpoint,
    Stop,
}

/// The checkpoint thread. Dropping it stops the thread (after the
/// checkpoint it may be running) and closes its connection.
pub(super) struct Checkpointer {
    tx: SyncSender<Ask>,
    thread: Option<JoinHandle<()>>,
}

/// The writer's end: asks for a checkpoint without ever waiting.
#[derive(Clone)]
pub(super) struct Nudge(SyncSender<Ask>);

impl Nudge {
    /// Asks for a checkpoint unless one is already asked for.
    pub fn nudge(&self) {
        match self.0.try_send(Ask::Checkpoint) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

impl Checkpointer {
    /// Opens a second connection to the database at `path` (in WAL mode
    /// already) and starts the thread; `label` names the store in log lines.
    pub fn start(path: &Path, label: &str) -> Result<(Checkpointer, Nudge), String> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| e.to_string())?;
        // It only copies pages: no cache worth keeping.
        conn.pragma_update(None, "cache_size", -64)
            .map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::sync_channel(1);
        let label = label.to_string();
        let thread = std::thread::Builder::new()
            .name("berth-checkpoint".into())
            .spawn(move || {
                while let Ok(Ask::Checkpoint) = rx.recv() {
                    if let Err(e) = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                        // The next nudge tries again; the WAL only grows meanwhile.
                        tracing::warn!(store = %label, "WAL checkpoint failed: {e}");
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok((
            Checkpointer {
                tx: tx.clone(),
                thread: Some(thread),
            },
            Nudge(tx),
        ))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let _ = self.tx.send(Ask::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::addr::MacAddr;
    use crate::lease::{ClientKey, Lease, LeaseState};
    use crate::store::sqlite::SqliteStore;
    use crate::store::{Store, Write};
    use std::net::Ipv4Addr;

    #[test]
    fn the_wal_is_checkpointed_off_the_commit_path_and_stays_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("leases.db");
        let mut store = SqliteStore::open(&path).expect("open");
        // One transaction per lease, each at least a page in the WAL: far
        // past the checkpoint threshold.
        for n in 0..3 * super::CHECKPOINT_PAGES as u32 {
            let [_, _, hi, lo] = n.to_be_bytes();
            let lease = Lease {
                ip: Ipv4Addr::new(10, 0, hi, lo),
                client: ClientKey::from(vec![1, 2, 0, 0, 0, hi, lo]),
                mac: MacAddr([2, 0, 0, 0, hi, lo]),
                hostname: Some(format!("host-{n}").into()),
                state: LeaseState::Bound,
                starts: 1,
                ends: 2,
            };
            store.apply(&[Write::PutLease(lease)]).expect("apply");
        }
        // Without a checkpoint every page would still be in the WAL and
        // the database file as small as the empty schema made it.
        let db_len = || std::fs::metadata(&path).map_or(0, |m| m.len());
        let copied = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            db_len() > 10 * 4096
        });
        assert!(
            copied,
            "the checkpoint thread copied pages: {} bytes",
            db_len()
        );
        assert_eq!(store.load_leases().expect("load").len(), 3000);
        drop(store);
        assert!(
            !path.with_extension("db-wal").exists(),
            "closing checkpoints and removes the WAL"
        );
    }
}
