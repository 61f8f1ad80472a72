//! SQLite backend: the embedded default.
//!
//! One file, WAL journal, `synchronous=FULL`: a commit returns only after the
//! WAL has been fsynced, so an acknowledged lease survives a power cut. The
//! schema is versioned with `PRAGMA user_version` and upgraded by the append-only
//! `MIGRATIONS` list; a file from a newer berthd is refused untouched.
//!
//! Columns are chosen to be readable with the `sqlite3` shell: addresses and
//! MACs as text, times as UTC unix seconds.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{CachedStatement, Connection, Row, TransactionBehavior, params};

use super::StoredHost;
use super::checkpoint::{CHECKPOINT_PAGES, Checkpointer, WAL_BOUND_PAGES};
use super::{Lost, Store, StoreError, Write};
use crate::addr::{Dotted, MacAddr};
use crate::blocks::Block;
use crate::lease::{ClientKey, Lease, LeaseState};

/// `MIGRATIONS[n]` takes a database from schema version `n` to `n + 1`.
///
/// Append only: a shipped step is never edited, because files in the field
/// have already run it. Later steps (run-time static hosts, a block list)
/// go at the end.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: leases, keyed by address.
    "CREATE TABLE leases (
         ip        TEXT PRIMARY KEY NOT NULL, -- dotted quad
         client_id BLOB NOT NULL,             -- option 61, or htype + chaddr
         mac       TEXT NOT NULL,             -- aa:bb:cc:dd:ee:ff
         hostname  TEXT,
         state     TEXT NOT NULL,             -- bound | released | declined | offered
         starts    INTEGER NOT NULL,          -- UTC unix seconds
         ends      INTEGER NOT NULL           -- UTC unix seconds
     ) WITHOUT ROWID;",
    // 1 -> 2: static hosts added at run time, and blocked MACs.
    "CREATE TABLE hosts (
         name       TEXT PRIMARY KEY NOT NULL,
         mac        TEXT NOT NULL UNIQUE,     -- aa:bb:cc:dd:ee:ff
         ip         TEXT NOT NULL UNIQUE,     -- dotted quad
         options    TEXT NOT NULL DEFAULT '', -- TOML inline table, as in the config file
         created_at INTEGER NOT NULL          -- UTC unix seconds
     ) WITHOUT ROWID;
     CREATE TABLE blocks (
         mac   TEXT PRIMARY KEY NOT NULL,
         since INTEGER NOT NULL,              -- UTC unix seconds
         until INTEGER                        -- UTC unix seconds; NULL: until unblocked
     ) WITHOUT ROWID;",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long to wait for a lock held by another connection (e.g. an operator's
/// `sqlite3` shell) before a write fails instead of hanging a commit forever.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The writer connection's page cache, as SQLite's `cache_size` takes it
/// (negative: KiB). SQLite's default is 2000 KiB.
const CACHE_KIB: i64 = -1024;

const PUT_SQL: &str = "INSERT INTO leases (ip, client_id, mac, hostname, state, starts, ends)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT(ip) DO UPDATE SET
         client_id = excluded.client_id, mac = excluded.mac, hostname = excluded.hostname,
         state = excluded.state, starts = excluded.starts, ends = excluded.ends";
const DELETE_SQL: &str = "DELETE FROM leases WHERE ip = ?1";
const PUT_HOST_SQL: &str = "INSERT INTO hosts (name, mac, ip, options, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT(name) DO UPDATE SET
         mac = excluded.mac, ip = excluded.ip, options = excluded.options";
const DELETE_HOST_SQL: &str = "DELETE FROM hosts WHERE name = ?1";
const LOAD_HOSTS_SQL: &str = "SELECT name, mac, ip, options, created_at FROM hosts ORDER BY name";
const PUT_BLOCK_SQL: &str = "INSERT INTO blocks (mac, since, until) VALUES (?1, ?2, ?3)
     ON CONFLICT(mac) DO UPDATE SET since = excluded.since, until = excluded.until";
const DELETE_BLOCK_SQL: &str = "DELETE FROM blocks WHERE mac = ?1";
const LOAD_BLOCKS_SQL: &str = "SELECT mac, since, until FROM blocks";
const LOAD_SQL: &str = "SELECT ip, client_id, mac, hostname, state, starts, ends FROM leases";

/// The SQLite lease store. Owns one connection; meant to be moved into a
/// [`super::Writer`] after [`Store::load_leases`] has filled the index.
pub struct SqliteStore {
    /// Declared first so it stops (and closes its connection) before
    /// `conn` closes: the last connection to close checkpoints the WAL
    /// and removes it.
    _checkpointer: Option<Checkpointer>,
    conn: Connection,
    path: PathBuf,
    /// `path` for messages, computed once.
    label: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// The store error for `e`, met doing `what` to the database at `path`.
/// Called from `map_err` closures, so nothing is built unless it failed.
fn sql_err(path: &str, what: impl Into<String>, e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_string(),
        what: what.into(),
        reason: e.to_string(),
    }
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and bring its schema
    /// up to [`SCHEMA_VERSION`].
    ///
    /// Creates the parent directory if it is missing. Fails, naming the path,
    /// if the directory cannot be created, the file is not a database, or the
    /// file's schema is newer than this build (in which case it is not modified).
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let label = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                path: label.clone(),
                what: format!("creating directory {}", dir.display()),
                reason: e.to_string(),
            })?;
        }
        let mut conn = Connection::open(path).map_err(|e| sql_err(&label, "opening", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_err(&label, "setting busy timeout", e))?;

        // Refuse a newer file before changing anything in it (switching the
        // journal mode below already writes to the header).
        check_version(&conn, &label)?;

        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| sql_err(&label, "enabling WAL", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Still durable with synchronous=FULL, just slower; not worth refusing to start.
            tracing::warn!(store = %label, mode = %mode, "could not enable WAL journal; continuing");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| sql_err(&label, "setting synchronous=FULL", e))?;
        // SQLite ignores pragmas it does not like without an error: check that
        // the setting durability depends on actually took.
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .map_err(|e| sql_err(&label, "reading synchronous", e))?;
        if sync != 2 {
            return Err(StoreError::Sqlite {
                path: label,
                what: "setting synchronous=FULL".into(),
                reason: format!("synchronous is {sync} after setting it to FULL (2)"),
            });
        }

        migrate(&mut conn, &label)?;
        // The writer's page cache: the pages a commit touches (the
        // database's inner pages, mostly); the OS caches the rest.
        conn.pragma_update(None, "cache_size", CACHE_KIB)
            .map_err(|e| sql_err(&label, "setting cache_size", e))?;
        let checkpointer = match Checkpointer::start(path, &label) {
            Ok((c, nudge)) => {
                // Replaces SQLite's auto-checkpoint on this connection.
                conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
                    if pages >= WAL_BOUND_PAGES {
                        // The thread never caught up (a WAL only restarts
                        // after a complete checkpoint): bound it here.
                        let _ = wal.checkpoint();
                    } else if pages >= CHECKPOINT_PAGES {
                        nudge.nudge();
                    }
                    Ok(())
                }))
                .map_err(|e| sql_err(&label, "setting the WAL hook", e))?;
                Some(c)
            }
            Err(e) => {
                tracing::warn!(store = %label, "no checkpoint thread ({e}); SQLite checkpoints on commit");
                None
            }
        };
        Ok(SqliteStore {
            _checkpointer: checkpointer,
            conn,
            path: path.to_path_buf(),
            label,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn user_version(conn: &Connection, label: &str) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| sql_err(label, "reading schema version", e))
}

fn check_version(conn: &Connection, label: &str) -> Result<i64, StoreError> {
    let found = user_version(conn, label)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: label.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Run every migration step the file has not had yet, each in its own
/// transaction together with its `user_version` bump, so a crash mid-upgrade
/// leaves the file at a consistent earlier version.
fn migrate(conn: &mut Connection, label: &str) -> Result<(), StoreError> {
    loop {
        // IMMEDIATE takes the write lock up front, and the version is re-read
        // under it, so two daemons opening one new file cannot both run a step.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(label, "starting schema migration", e))?;
        let version = check_version(&tx, label)?;
        let Some(step) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            // Up to date (a negative user_version, set by hand, is treated as
            // unknown rather than guessed at).
            if version < 0 {
                return Err(StoreError::Sqlite {
                    path: label.to_string(),
                    what: "reading schema version".into(),
                    reason: format!("user_version is {version}, which no berthd writes"),
                });
            }
            return Ok(());
        };
        let next = version + 1;
        let what = format!("migrating schema to version {next}");
        tx.execute_batch(step)
            .map_err(|e| sql_err(label, &what, e))?;
        tx.pragma_update(None, "user_version", next)
            .map_err(|e| sql_err(label, &what, e))?;
        tx.commit().map_err(|e| sql_err(label, &what, e))?;
        tracing::info!(store = %label, version = next, "store schema migrated");
    }
}

fn text<'a>(v: ValueRef<'a>, col: &str) -> Result<&'a str, String> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|_| format!("{col} is not UTF-8")),
        other => Err(format!("{col} is {:?}, expected text", other.data_type())),
    }
}

fn time(v: ValueRef<'_>, col: &str) -> Result<u64, String> {
    match v {
        ValueRef::Integer(i) => u64::try_from(i).map_err(|_| format!("{col} is negative ({i})")),
        other => Err(format!(
            "{col} is {:?}, expected integer",
            other.data_type()
        )),
    }
}

/// Decode one row, or say what is wrong with it. Column access goes through
/// `ValueRef` so a wrong type is a per-row problem, not a failed query.
fn decode(row: &Row<'_>) -> Result<Lease, String> {
    let get = |i: usize| row.get_ref(i).map_err(|e| e.to_string());
    let ip_text = text(get(0)?, "ip")?;
    let ip: Ipv4Addr = ip_text
        .parse()
        .map_err(|_| format!("ip `{ip_text}` is not an IPv4 address"))?;
    let client = match get(1)? {
        ValueRef::Blob(b) => ClientKey::from(b.to_vec()),
        other => {
            return Err(format!(
                "client_id is {:?}, expected blob",
                other.data_type()
            ));
        }
    };
    let mac: MacAddr = text(get(2)?, "mac")?
        .parse()
        .map_err(|e: crate::addr::BadMac| e.to_string())?;
    let hostname = match get(3)? {
        ValueRef::Null => None,
        v => Some(text(v, "hostname")?.into()),
    };
    let state_text = text(get(4)?, "state")?;
    let state =
        LeaseState::parse(state_text).ok_or_else(|| format!("unknown state `{state_text}`"))?;
    Ok(Lease {
        ip,
        client,
        mac,
        hostname,
        state,
        starts: time(get(5)?, "starts")?,
        ends: time(get(6)?, "ends")?,
    })
}

/// How to name a row in a warning when it may not even have a readable address.
fn describe_ip(row: &Row<'_>) -> String {
    match row.get_ref(0) {
        Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("<unreadable: {e}>"),
    }
}

fn to_i64(label: &str, what: &str, col: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::BadRow {
        path: label.to_string(),
        ip: what.to_string(),
        reason: format!("{col} {v} does not fit in a signed 64-bit integer"),
    })
}

fn decode_host(row: &Row<'_>) -> Result<StoredHost, String> {
    let get = |i: usize| row.get_ref(i).map_err(|e| e.to_string());
    let ip_text = text(get(2)?, "ip")?;
    Ok(StoredHost {
        name: text(get(0)?, "name")?.to_string(),
        mac: text(get(1)?, "mac")?
            .parse()
            .map_err(|e: crate::addr::BadMac| e.to_string())?,
        ip: ip_text
            .parse()
            .map_err(|_| format!("ip `{ip_text}` is not an IPv4 address"))?,
        options: text(get(3)?, "options")?.to_string(),
        created_at: time(get(4)?, "created_at")?,
    })
}

fn decode_block(row: &Row<'_>) -> Result<Block, String> {
    let get = |i: usize| row.get_ref(i).map_err(|e| e.to_string());
    Ok(Block {
        mac: text(get(0)?, "mac")?
            .parse()
            .map_err(|e: crate::addr::BadMac| e.to_string())?,
        since: time(get(1)?, "since")?,
        until: match get(2)? {
            ValueRef::Null => None,
            v => Some(time(v, "until")?),
        },
    })
}

impl SqliteStore {
    /// Loads every row of a table that decodes; a row that does not is
    /// logged and left in the file, like a bad lease row.
    fn load_rows<T>(
        &mut self,
        sql: &str,
        what: &str,
        decode: fn(&Row<'_>) -> Result<T, String>,
    ) -> Result<Vec<T>, StoreError> {
        let label = &self.label;
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| sql_err(label, what, e))?;
        let mut rows = stmt.query([]).map_err(|e| sql_err(label, what, e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sql_err(label, what, e))? {
            match decode(row) {
                Ok(v) => out.push(v),
                Err(reason) => tracing::warn!(
                    store = %label,
                    row = %describe_ip(row),
                    "{what}: skipping a row that does not decode (left in the file): {reason}"
                ),
            }
        }
        Ok(out)
    }
}

impl Store for SqliteStore {
    fn load_hosts(&mut self) -> Result<Vec<StoredHost>, StoreError> {
        self.load_rows(LOAD_HOSTS_SQL, "loading hosts", decode_host)
    }

    fn load_blocks(&mut self) -> Result<Vec<Block>, StoreError> {
        self.load_rows(LOAD_BLOCKS_SQL, "loading blocks", decode_block)
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// All rows that decode, sorted by address. A row that does not decode is
    /// logged and skipped but left in the file: it may be a newer berthd's
    /// data or something an operator wants to inspect, never ours to destroy.
    fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError> {
        let label = &self.label;
        let mut stmt = self
            .conn
            .prepare(LOAD_SQL)
            .map_err(|e| sql_err(label, "loading leases", e))?;
        let mut rows = stmt
            .query([])
            .map_err(|e| sql_err(label, "loading leases", e))?;
        let mut out = Vec::new();
        while let Some(row) = rows
            .next()
            .map_err(|e| sql_err(label, "loading leases", e))?
        {
            match decode(row) {
                Ok(lease) => out.push(lease),
                Err(reason) => {
                    let bad = StoreError::BadRow {
                        path: label.clone(),
                        ip: describe_ip(row),
                        reason,
                    };
                    tracing::warn!("skipping lease row (left in the file): {bad}");
                }
            }
        }
        // Addresses are the primary key: no two rows tie.
        out.sort_unstable_by_key(|l| l.ip);
        Ok(out)
    }

    /// One writer per file: no claim is ever lost.
    fn apply(&mut self, batch: &[Write]) -> Result<Vec<Lost>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let (conn, label) = (&self.conn, &self.label);
        // IMMEDIATE: take the write lock now (honouring the busy timeout)
        // rather than failing to upgrade a read lock halfway through. BEGIN
        // and COMMIT are prepared once, like the writes: at a low rate a
        // batch is one lease, and parsing them cost as much as the write.
        conn.prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut st| st.execute([]))
            .map_err(|e| sql_err(label, "starting transaction", e))?;
        let done = write_batch(conn, label, batch).and_then(|()| {
            conn.prepare_cached("COMMIT")
                .and_then(|mut st| st.execute([]))
                .map(drop)
                .map_err(|e| sql_err(label, "committing", e))
        });
        if done.is_err() {
            // Nothing of the batch stays: the caller treats it all as unwritten.
            let _ = conn.execute_batch("ROLLBACK");
        }
        done.map(|()| Vec::new())
    }
}

/// The statement in `slot`, fetched from the connection's cache first if
/// the slot is empty.
fn cached<'s, 'c>(
    conn: &'c Connection,
    slot: &'s mut Option<CachedStatement<'c>>,
    sql: &str,
) -> rusqlite::Result<&'s mut CachedStatement<'c>> {
    if slot.is_none() {
        *slot = Some(conn.prepare_cached(sql)?);
    }
    // Filled just above.
    slot.as_mut().ok_or(rusqlite::Error::InvalidQuery)
}

/// The statements for `batch`, inside the open transaction.
fn write_batch(conn: &Connection, label: &str, batch: &[Write]) -> Result<(), StoreError> {
    // Each fetched from the cache once per batch, and only if the batch
    // needs it: a fetch hashes the statement's text, and a lone ACK's
    // batch has no delete.
    let mut put = None;
    let mut delete = None;
    for w in batch {
        match w {
            Write::PutLease(l) => {
                let ip = Dotted(l.ip).text();
                let ip = ip.as_str();
                let range = |col: &str, v: u64| {
                    i64::try_from(v).map_err(|_| StoreError::BadRow {
                        path: label.to_string(),
                        ip: ip.to_string(),
                        reason: format!("{col} {v} does not fit in a signed 64-bit integer"),
                    })
                };
                let starts = range("starts", l.starts)?;
                let ends = range("ends", l.ends)?;
                cached(conn, &mut put, PUT_SQL)
                    .map_err(|e| sql_err(label, "preparing put", e))?
                    .execute(params![
                        ip,
                        l.client.as_bytes(),
                        l.mac.text().as_str(),
                        l.hostname,
                        l.state.as_str(),
                        starts,
                        ends,
                    ])
                    .map_err(|e| sql_err(label, format!("put {ip}"), e))?;
            }
            Write::DeleteLease(ip) => {
                cached(conn, &mut delete, DELETE_SQL)
                    .map_err(|e| sql_err(label, "preparing delete", e))?
                    .execute([Dotted(*ip).text().as_str()])
                    .map_err(|e| sql_err(label, format!("delete {ip}"), e))?;
            }
            Write::PutHost(h) => {
                let created = to_i64(label, &h.name, "created_at", h.created_at)?;
                conn.prepare_cached(PUT_HOST_SQL)
                    .and_then(|mut st| {
                        st.execute(params![
                            h.name,
                            h.mac.to_string(),
                            h.ip.to_string(),
                            h.options,
                            created
                        ])
                    })
                    .map_err(|e| sql_err(label, format!("put host {}", h.name), e))?;
            }
            Write::DeleteHost(name) => {
                conn.prepare_cached(DELETE_HOST_SQL)
                    .and_then(|mut st| st.execute([name]))
                    .map_err(|e| sql_err(label, format!("delete host {name}"), e))?;
            }
            Write::PutBlock(b) => {
                let mac = b.mac.to_string();
                let since = to_i64(label, &mac, "since", b.since)?;
                let until = b
                    .until
                    .map(|u| to_i64(label, &mac, "until", u))
                    .transpose()?;
                conn.prepare_cached(PUT_BLOCK_SQL)
                    .and_then(|mut st| st.execute(params![mac, since, until]))
                    .map_err(|e| sql_err(label, format!("put block {}", b.mac), e))?;
            }
            Write::DeleteBlock(mac) => {
                conn.prepare_cached(DELETE_BLOCK_SQL)
                    .and_then(|mut st| st.execute([mac.to_string()]))
                    .map_err(|e| sql_err(label, format!("delete block {mac}"), e))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::LeaseState::*;

    fn lease(last: u8, state: LeaseState) -> Lease {
        Lease {
            ip: Ipv4Addr::new(192, 168, 0, last),
            client: ClientKey::from(vec![1, 0, 0x23, 0x32, 0xaa, 0xbb, last]),
            mac: MacAddr([0, 0x23, 0x32, 0xaa, 0xbb, last]),
            hostname: Some(format!("host-{last}").into()),
            state,
            starts: 1_700_000_000 + u64::from(last),
            ends: 1_700_007_200 + u64::from(last),
        }
    }

    fn db() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("leases.db");
        (dir, path)
    }

    #[test]
    fn open_creates_directory_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/leases.db");
        let store = SqliteStore::open(&path).expect("open");
        assert!(path.exists());
        assert_eq!(store.path(), path);
        assert_eq!(store.backend(), "sqlite");
        let v = user_version(&store.conn, "t").expect("version");
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn open_names_path_when_directory_cannot_be_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"not a directory").expect("write");
        let path = blocker.join("leases.db");
        let err = SqliteStore::open(&path).expect_err("must fail");
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert!(msg.contains(&blocker.display().to_string()), "{msg}");
        assert!(msg.contains("creating directory"), "{msg}");
    }

    #[test]
    fn open_refuses_a_file_that_is_not_a_database() {
        let (_dir, path) = db();
        fs::write(&path, vec![0x42u8; 4096]).expect("write");
        let err = SqliteStore::open(&path).expect_err("must fail");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn wal_and_synchronous_full_are_set() {
        let (_dir, path) = db();
        let store = SqliteStore::open(&path).expect("open");
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        let sync: i64 = store
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .expect("synchronous");
        assert_eq!(sync, 2, "synchronous=FULL");
        let busy: i64 = store
            .conn
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .expect("busy_timeout");
        assert_eq!(busy, 5000);
    }

    #[test]
    fn put_load_round_trips_every_field_and_state() {
        let (_dir, path) = db();
        let mut store = SqliteStore::open(&path).expect("open");
        let mut no_name = lease(5, Bound);
        no_name.hostname = None;
        no_name.client = ClientKey::from(vec![0xff, 0, 1, 2, 3, 0, 0xfe]); // arbitrary bytes, incl. zero
        let mut far = lease(6, Bound);
        far.starts = 0;
        far.ends = i64::MAX as u64;
        let mut unicode = lease(7, Bound);
        unicode.hostname = Some("drucker-büro".into());
        let want = vec![
            lease(1, Offered),
            lease(2, Bound),
            lease(3, Released),
            lease(4, Declined),
            no_name,
            far,
            unicode,
        ];
        let batch: Vec<Write> = want.iter().cloned().map(Write::PutLease).collect();
        store.apply(&batch).expect("apply");
        assert_eq!(store.load_leases().expect("load"), want);

        // Put on an existing address replaces every field.
        let mut moved = lease(2, Released);
        moved.client = ClientKey::from(vec![9, 9]);
        moved.mac = MacAddr([2, 0, 0, 0, 0, 9]);
        moved.hostname = None;
        store
            .apply(&[Write::PutLease(moved.clone())])
            .expect("replace");
        let got = store.load_leases().expect("load");
        assert_eq!(got.len(), want.len());
        assert_eq!(got[1], moved);
    }

    #[test]
    fn rows_are_readable_with_plain_sql() {
        let (_dir, path) = db();
        let mut store = SqliteStore::open(&path).expect("open");
        store
            .apply(&[Write::PutLease(lease(10, Bound))])
            .expect("apply");
        let (ip, mac, state): (String, String, String) = store
            .conn
            .query_row("SELECT ip, mac, state FROM leases", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("select");
        assert_eq!(
            (ip.as_str(), mac.as_str(), state.as_str()),
            ("192.168.0.10", "00:23:32:aa:bb:0a", "bound")
        );
    }

    #[test]
    fn delete_removes_only_that_address() {
        let (_dir, path) = db();
        let mut store = SqliteStore::open(&path).expect("open");
        store
            .apply(&[
                Write::PutLease(lease(1, Bound)),
                Write::PutLease(lease(2, Bound)),
            ])
            .expect("apply");
        store
            .apply(&[
                Write::DeleteLease(Ipv4Addr::new(192, 168, 0, 1)),
                Write::DeleteLease(Ipv4Addr::new(192, 168, 0, 99)), // absent: not an error
            ])
            .expect("delete");
        assert_eq!(store.load_leases().expect("load"), vec![lease(2, Bound)]);
    }

    #[test]
    fn later_write_in_a_batch_wins() {
        let (_dir, path) = db();
        let mut store = SqliteStore::open(&path).expect("open");
        let ip = Ipv4Addr::new(192, 168, 0, 1);
        store
            .apply(&[
                Write::PutLease(lease(1, Bound)),
                Write::DeleteLease(ip),
                Write::PutLease(lease(1, Released)),
            ])
            .expect("apply");
        assert_eq!(store.load_leases().expect("load"), vec![lease(1, Released)]);
    }

    #[test]
    fn failing_batch_applies_nothing() {
        let (_dir, path) = db();
        let mut store = SqliteStore::open(&path).expect("open");
        store
            .apply(&[Write::PutLease(lease(1, Bound))])
            .expect("seed");
        // Inject a failure in the middle of a batch.
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER poison BEFORE INSERT ON leases WHEN NEW.hostname = 'poison'
                 BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;",
            )
            .expect("trigger");
        let mut bad = lease(3, Bound);
        bad.hostname = Some("poison".into());
        let err = store
            .apply(&[
                Write::DeleteLease(Ipv4Addr::new(192, 168, 0, 1)),
                Write::PutLease(lease(2, Bound)),
                Write::PutLease(bad),
                Write::PutLease(lease(4, Bound)),
            ])
            .expect_err("batch must fail");
        let msg = err.to_string();
        assert!(
            msg.contains("put 192.168.0.3") && msg.contains("poisoned row"),
            "{msg}"
        );
        assert_eq!(store.load_leases().expect("load"), vec![lease(1, Bound)]);
        // The store is still usable afterwards.
        store
            .apply(&[Write::PutLease(lease(2, Bound))])
            .expect("apply after failure");
        assert_eq!(store.load_leases().expect("load").len(), 2);
    }

    #[test]
    fn out_of_range_time_fails_the_batch() {
        let (_dir, path) = db();
        let mut store = SqliteStore::open(&path).expect("open");
        let mut bad = lease(2, Bound);
        bad.ends = u64::MAX;
        let err = store
            .apply(&[Write::PutLease(lease(1, Bound)), Write::PutLease(bad)])
            .expect_err("must fail");
        assert!(matches!(err, StoreError::BadRow { .. }), "{err:?}");
        assert!(store.load_leases().expect("load").is_empty());
    }

    #[test]
    fn corrupt_rows_are_skipped_and_kept() {
        let (_dir, path) = db();
        let mut store = SqliteStore::open(&path).expect("open");
        store
            .apply(&[Write::PutLease(lease(1, Bound))])
            .expect("apply");
        let bad_rows = [
            "('not-an-ip', x'01', '00:00:00:00:00:01', NULL, 'bound', 1, 2)",
            "('10.0.0.2', x'01', 'zz:zz', NULL, 'bound', 1, 2)",
            "('10.0.0.3', x'01', '00:00:00:00:00:03', NULL, 'haunted', 1, 2)",
            "('10.0.0.4', x'01', '00:00:00:00:00:04', NULL, 'bound', -5, 2)",
            "('10.0.0.5', 'text-id', '00:00:00:00:00:05', NULL, 'bound', 1, 2)",
            "('10.0.0.6', x'01', '00:00:00:00:00:06', x'ff', 'bound', 1, 2)",
            "('10.0.0.7', x'01', '00:00:00:00:00:07', NULL, 'bound', 'soon', 2)",
        ];
        for values in bad_rows {
            store
                .conn
                .execute(
                    &format!(
                        "INSERT INTO leases (ip, client_id, mac, hostname, state, starts, ends) \
                         VALUES {values}"
                    ),
                    [],
                )
                .expect("raw insert");
        }
        assert_eq!(store.load_leases().expect("load"), vec![lease(1, Bound)]);
        drop(store);

        // Still there after load and after a reopen: never deleted or rewritten.
        let mut store = SqliteStore::open(&path).expect("reopen");
        let n: i64 = store
            .conn
            .query_row("SELECT count(*) FROM leases", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 1 + bad_rows.len() as i64);
        let state: String = store
            .conn
            .query_row("SELECT state FROM leases WHERE ip = '10.0.0.3'", [], |r| {
                r.get(0)
            })
            .expect("row");
        assert_eq!(state, "haunted");
        assert_eq!(store.load_leases().expect("load"), vec![lease(1, Bound)]);
    }

    #[test]
    fn data_survives_reopen() {
        let (_dir, path) = db();
        {
            let mut store = SqliteStore::open(&path).expect("open");
            store
                .apply(&[
                    Write::PutLease(lease(1, Bound)),
                    Write::PutLease(lease(2, Declined)),
                ])
                .expect("apply");
        }
        let mut store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            store.load_leases().expect("load"),
            vec![lease(1, Bound), lease(2, Declined)]
        );
        assert_eq!(user_version(&store.conn, "t").expect("v"), SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_is_refused_and_untouched() {
        let (_dir, path) = db();
        {
            let conn = Connection::open(&path).expect("raw open");
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
                .expect("future schema");
        }
        let err = SqliteStore::open(&path).expect_err("must refuse");
        assert_eq!(
            err,
            StoreError::TooNew {
                path: path.display().to_string(),
                found: 99,
                supported: SCHEMA_VERSION,
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("newer") && msg.contains("99"), "{msg}");
        let conn = Connection::open(&path).expect("raw open");
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "delete", "journal mode must not have been switched");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("v");
        assert_eq!(v, 99);
    }

    #[test]
    fn migration_is_idempotent_and_starts_from_zero() {
        let (_dir, path) = db();
        // An empty pre-existing file at version 0 is migrated.
        Connection::open(&path).expect("raw open");
        drop(SqliteStore::open(&path).expect("first"));
        drop(SqliteStore::open(&path).expect("second"));
        let conn = Connection::open(&path).expect("raw open");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'leases'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(tables, 1);
    }

    #[test]
    fn hosts_and_blocks_round_trip_and_survive_reopen() {
        let (_dir, path) = db();
        let host = StoredHost {
            name: "phone-1".into(),
            mac: "02:00:00:00:00:07".parse().expect("mac"),
            ip: Ipv4Addr::new(192, 0, 2, 7),
            options: r#"{ routers = ["192.0.2.1"] }"#.into(),
            created_at: 1_700_000_000,
        };
        let block = Block {
            mac: "02:00:00:00:00:08".parse().expect("mac"),
            since: 1_700_000_000,
            until: Some(1_700_003_600),
        };
        {
            let mut s = SqliteStore::open(&path).expect("open");
            s.apply(&[Write::PutHost(host.clone()), Write::PutBlock(block)])
                .expect("apply");
        }
        let mut s = SqliteStore::open(&path).expect("reopen");
        assert_eq!(s.load_hosts().expect("hosts"), vec![host.clone()]);
        assert_eq!(s.load_blocks().expect("blocks"), vec![block]);
        s.apply(&[
            Write::DeleteHost(host.name.clone()),
            Write::DeleteBlock(block.mac),
        ])
        .expect("delete");
        assert!(s.load_hosts().expect("hosts").is_empty());
        assert!(s.load_blocks().expect("blocks").is_empty());
    }

    #[test]
    fn version_1_file_is_migrated_keeping_its_leases() {
        let (_dir, path) = db();
        {
            let conn = Connection::open(&path).expect("raw open");
            conn.execute_batch(MIGRATIONS[0]).expect("v1 schema");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
            conn.execute(
                "INSERT INTO leases VALUES ('192.0.2.9', x'01020000000009', '02:00:00:00:00:09', NULL, 'bound', 1, 2)",
                [],
            )
            .expect("row");
        }
        let mut s = SqliteStore::open(&path).expect("open migrates");
        assert_eq!(s.load_leases().expect("leases").len(), 1);
        assert!(s.load_hosts().expect("hosts table exists").is_empty());
    }
}
