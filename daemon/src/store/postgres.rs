//! PostgreSQL backend: for several daemons sharing one database (phase 1:
//! one daemon, behind the same [`Store`] trait as SQLite).
//!
//! Tables mirror the SQLite ones and stay readable with `psql`: addresses as
//! `inet`, MACs as `macaddr`, times as UTC unix seconds (`bigint`), one row
//! per address in `leases`. The schema is versioned in `schema_version` (one
//! row per applied step) and upgraded on open by the append-only
//! [`MIGRATIONS`] list, all pending steps in one transaction; a database
//! from a newer berthd is refused untouched.
//!
//! [`Store::apply`] is one transaction sent in one round trip: BEGIN, one
//! prepared statement per write and COMMIT are pipelined on the connection,
//! and the replies read afterwards. A commit returns once PostgreSQL has
//! flushed its WAL (the server's default `synchronous_commit = on`).
//!
//! Connections are plain (`NoTls`): use a Unix socket or a trusted network;
//! `sslmode=require` is refused when the configuration is read. The URL's
//! password never appears in a message or a log line (see
//! [`PostgresConfig::display_url`]).
//!
//! The trait is synchronous; tokio-postgres is not. The store owns a small
//! runtime (one worker thread) that drives the connection, and each call
//! waits for its job on a plain channel, so it may be called from the writer
//! thread or from inside another runtime alike.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{Client, NoTls, Row};

use super::{Learned, Lost, Store, StoreError, StoredHost, Write};
use crate::blocks::Block;
use crate::config::PostgresConfig;
use crate::lease::Lease;
use batch::Statements;

mod batch;
mod follow;
mod rows;
mod schema;

pub use schema::{MIGRATIONS, SCHEMA_VERSION};

/// How long to wait for the server when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`probe`] found: the database answers, at this schema version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The database, password left out.
    pub url: String,
    /// `SHOW server_version`.
    pub server_version: String,
    /// The schema version found (0: empty, berthd will create the tables).
    pub schema_version: i64,
}

/// For `berthd check-config`: connect, read the schema version, change nothing.
/// A schema newer than this build is an error ([`StoreError::TooNew`]).
pub fn probe(cfg: &PostgresConfig) -> Result<Probe, StoreError> {
    let store = Runner::new(cfg)?;
    let (pg, label) = (store.pg.clone(), store.label.clone());
    store.run(async move {
        let (client, task) = connect(&pg, &label).await?;
        let schema_version = schema::read_version(&client, &label).await?;
        let server_version = client
            .query_one("SHOW server_version", &[])
            .await
            .and_then(|r| r.try_get::<_, String>(0))
            .map_err(|e| pg_err(&label, "reading the server version", &e))?;
        drop(client); // ends the connection politely
        let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        Ok(Probe {
            url: label,
            server_version,
            schema_version,
        })
    })?
}

/// The PostgreSQL store. Owns one connection (re-opened on the next call if
/// it was lost); meant to be moved into a [`super::Writer`] after the loads.
pub struct PostgresStore {
    runner: Runner,
    /// `None` after the connection was lost.
    conn: Option<Conn>,
    /// How this store's writes are named on the change channel.
    origin: String,
    /// The settings, for the change follower's own connection.
    cfg: PostgresConfig,
    /// After a failed reconnect: not before this, and the wait after the
    /// next failure (doubling up to [`RECONNECT_MAX`]).
    retry: Option<(std::time::Instant, Duration, StoreError)>,
}

/// The first wait after a failed reconnect; it doubles up to [`RECONNECT_MAX`].
const RECONNECT_MIN: Duration = Duration::from_millis(250);
/// The longest wait between reconnects: how long after the database is
/// back a daemon may still refuse writes at most.
const RECONNECT_MAX: Duration = Duration::from_secs(4);

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.runner.label)
            .finish()
    }
}

/// This process's name on the change channel: a daemon skips the
/// notifications of its own writes. Unique per store opened (host, process,
/// and a counter), so two daemons on one machine, or two stores in one test
/// process, tell each other apart.
fn new_origin() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    format!(
        "{host}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A live connection and its prepared statements.
struct Conn {
    client: Arc<Client>,
    stmts: Arc<Statements>,
    /// Drives the connection; ends (after sending Terminate) once every
    /// handle on `client` is dropped.
    task: tokio::task::JoinHandle<()>,
}

/// The runtime that drives tokio-postgres, and the database's name for messages.
struct Runner {
    /// Always `Some` until dropped.
    rt: Option<tokio::runtime::Runtime>,
    pg: tokio_postgres::Config,
    label: String,
}

impl Runner {
    fn new(cfg: &PostgresConfig) -> Result<Runner, StoreError> {
        let label = cfg.display_url();
        let mut pg =
            tokio_postgres::Config::from_str(&cfg.url).map_err(|e| StoreError::Postgres {
                url: label.clone(),
                what: "reading the url".into(),
                reason: e.to_string(),
            })?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(CONNECT_TIMEOUT);
        }
        if pg.get_application_name().is_none() {
            pg.application_name("berthd");
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("berthd-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io {
                path: label.clone(),
                what: "starting the PostgreSQL client runtime".into(),
                reason: e.to_string(),
            })?;
        Ok(Runner {
            rt: Some(rt),
            pg,
            label,
        })
    }

    /// Runs `job` on the store's runtime and waits for it. A plain channel,
    /// not `block_on`, so that this also works when called from async code.
    fn run<T: Send + 'static>(
        &self,
        job: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        if let Some(rt) = &self.rt {
            rt.spawn(async move {
                let _ = tx.send(job.await);
            });
        }
        rx.recv().map_err(|_| StoreError::Postgres {
            url: self.label.clone(),
            what: "running a query".into(),
            reason: "the PostgreSQL client runtime stopped".into(),
        })
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        // A plain drop waits for the worker, which panics when the store
        // is dropped inside another runtime.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The store error for `e`, met doing `what` on the database `label`.
/// Called from `map_err` closures, so nothing is built unless it failed.
fn pg_err(label: &str, what: impl Into<String>, e: &tokio_postgres::Error) -> StoreError {
    StoreError::Postgres {
        url: label.to_string(),
        what: what.into(),
        reason: reason(e),
    }
}

/// The server's message when there is one (with its detail), else the
/// client's error and its cause ("error connecting to server: No such file ...").
fn reason(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.to_string().replace('\n', "; ");
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

async fn connect(
    pg: &tokio_postgres::Config,
    label: &str,
) -> Result<(Client, tokio::task::JoinHandle<()>), StoreError> {
    let (client, connection) = pg
        .connect(NoTls)
        .await
        .map_err(|e| pg_err(label, "connecting", &e))?;
    let label = label.to_string();
    let task = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(store = %label, "PostgreSQL connection lost: {}", reason(&e));
        }
    });
    Ok((client, task))
}

/// Connect, check (and with `migrate_schema`, upgrade) the schema, prepare
/// the statements; the connection's writes are announced as `origin`'s.
async fn open_conn(
    pg: tokio_postgres::Config,
    label: String,
    origin: String,
    migrate_schema: bool,
) -> Result<Conn, StoreError> {
    let (mut client, task) = connect(&pg, &label).await?;
    client
        .execute("SELECT set_config('berth.origin', $1, false)", &[&origin])
        .await
        .map_err(|e| pg_err(&label, "setting berth.origin", &e))?;
    if migrate_schema {
        schema::migrate(&mut client, &label).await?;
    } else {
        // A reconnect: the schema may have moved on under us.
        let version = schema::read_version(&client, &label).await?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::Postgres {
                url: label,
                what: "reconnecting".into(),
                reason: format!(
                    "schema version is now {version}, expected {SCHEMA_VERSION}: restart berthd"
                ),
            });
        }
    }
    let stmts = batch::prepare(&client, &label).await?;
    Ok(Conn {
        client: Arc::new(client),
        stmts: Arc::new(stmts),
        task,
    })
}

impl PostgresStore {
    /// Connect to the database, bring its schema up to [`SCHEMA_VERSION`]
    /// and prepare the statements.
    ///
    /// Fails, naming the database (never its password), if it does not
    /// answer, refuses the login, or holds a schema newer than this build (in
    /// which case nothing in it is changed).
    pub fn open(cfg: &PostgresConfig) -> Result<PostgresStore, StoreError> {
        let runner = Runner::new(cfg)?;
        let origin = new_origin();
        let job = open_conn(
            runner.pg.clone(),
            runner.label.clone(),
            origin.clone(),
            true,
        );
        let conn = runner.run(job)??;
        Ok(PostgresStore {
            runner,
            conn: Some(conn),
            origin,
            cfg: cfg.clone(),
            retry: None,
        })
    }

    /// How this store's writes are named on the change channel.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The database, password left out.
    pub fn url(&self) -> &str {
        &self.runner.label
    }

    /// The live connection, reconnecting first if it was lost. While the
    /// database is away, reconnects are tried with backoff and the calls in
    /// between fail at once with the last error (the writer thread must
    /// not wait out a connect timeout for every batch).
    fn conn(&mut self) -> Result<(Arc<Client>, Arc<Statements>), StoreError> {
        let conn = match self.conn.take().filter(|c| !c.client.is_closed()) {
            Some(c) => c,
            None => {
                if let Some((at, _, e)) = &self.retry
                    && std::time::Instant::now() < *at
                {
                    return Err(e.clone());
                }
                let job = open_conn(
                    self.runner.pg.clone(),
                    self.runner.label.clone(),
                    self.origin.clone(),
                    false,
                );
                match self.runner.run(job)? {
                    Ok(c) => {
                        self.retry = None;
                        tracing::info!(store = %self.runner.label, "reconnected to PostgreSQL");
                        c
                    }
                    Err(e) => {
                        let wait = self
                            .retry
                            .as_ref()
                            .map_or(RECONNECT_MIN, |(_, w, _)| (*w * 2).min(RECONNECT_MAX));
                        self.retry = Some((std::time::Instant::now() + wait, wait, e.clone()));
                        return Err(e);
                    }
                }
            }
        };
        let handles = (conn.client.clone(), conn.stmts.clone());
        self.conn = Some(conn);
        Ok(handles)
    }

    fn load<T: Send + 'static>(
        &mut self,
        sql: &'static str,
        what: &'static str,
        decode: fn(&Row) -> Result<T, String>,
    ) -> Result<Vec<T>, StoreError> {
        let (client, _) = self.conn()?;
        let label = self.runner.label.clone();
        self.runner.run(async move {
            let rows = client.query(sql, &[]).await.map_err(|e| pg_err(&label, what, &e))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                match decode(row) {
                    Ok(v) => out.push(v),
                    Err(reason) => tracing::warn!(
                        store = %label,
                        row = %rows::describe(row),
                        "{what}: skipping a row that does not decode (left in the database): {reason}"
                    ),
                }
            }
            Ok(out)
        })?
    }
}

impl Drop for PostgresStore {
    /// Closes the connection politely (Terminate, so the server does not log
    /// an unexpected EOF), waiting at most a second for it.
    fn drop(&mut self) {
        if let Some(Conn { client, task, .. }) = self.conn.take() {
            drop(client);
            let _ = self.runner.run(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
            });
        }
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    /// All rows that decode, sorted by address. A row that does not decode
    /// (an unknown state, a negative time) is logged and left in the database.
    fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError> {
        self.load(rows::LOAD_LEASES_SQL, "loading leases", rows::decode_lease)
    }

    fn load_hosts(&mut self) -> Result<Vec<StoredHost>, StoreError> {
        self.load(rows::LOAD_HOSTS_SQL, "loading hosts", rows::decode_host)
    }

    fn load_blocks(&mut self) -> Result<Vec<Block>, StoreError> {
        self.load(rows::LOAD_BLOCKS_SQL, "loading blocks", rows::decode_block)
    }

    /// Other daemons' changes, through LISTEN/NOTIFY and periodic re-reads
    /// (see [`follow`]).
    fn follow(&self, tx: tokio::sync::mpsc::Sender<Learned>) -> Option<super::Follower> {
        match follow::start(&self.cfg, self.origin.clone(), tx) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(store = %self.runner.label, "cannot follow other daemons' changes: {e}");
                None
            }
        }
    }

    /// One transaction in one round trip; a second query, after the
    /// commit, only when claims were lost: it reads who holds those addresses.
    fn apply(&mut self, batch: &[Write]) -> Result<Vec<Lost>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let label = self.runner.label.clone();
        let params = batch
            .iter()
            .map(|w| Ok((batch::subject(w), batch::Params::of(w, &label)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let (client, stmts) = self.conn()?;
        let result = self.runner.run(batch::apply_pipelined(
            client.clone(),
            stmts,
            params,
            label.clone(),
        ))?;
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.conn = None; // reconnect on the next call
        }
        let affected = result?;
        // A put that changed no row lost its claim; a delete that changed
        // none lost only if a row is still there (else it was already gone).
        let refused: Vec<(usize, std::net::Ipv4Addr)> = batch
            .iter()
            .zip(&affected)
            .enumerate()
            .filter(|(_, (_, n))| **n == 0)
            .filter_map(|(i, (w, _))| match w {
                Write::PutLease(l) => Some((i, l.ip)),
                Write::DeleteLease(ip) => Some((i, *ip)),
                _ => None,
            })
            .collect();
        if refused.is_empty() {
            return Ok(Vec::new());
        }
        let ips: Vec<std::net::Ipv4Addr> = refused.iter().map(|&(_, ip)| ip).collect();
        let holders = match self
            .runner
            .run(rows::leases_at(client, ips, label.clone()))?
        {
            Ok(h) => h,
            Err(e) => {
                // The batch is committed; only who won is unknown. The
                // change feed tells it soon.
                tracing::warn!(store = %label, "reading the holders of lost claims: {e}");
                Default::default()
            }
        };
        Ok(refused
            .into_iter()
            .filter_map(|(index, ip)| {
                let holder = holders.get(&ip).cloned();
                let lost = matches!(batch[index], Write::PutLease(_)) || holder.is_some();
                lost.then_some(Lost { index, ip, holder })
            })
            .collect())
    }
}
