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
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient, NoTls, Row, Statement};

use super::{Store, StoreError, StoredHost, Write};
use crate::addr::MacAddr;
use crate::blocks::Block;
use crate::config::PostgresConfig;
use crate::lease::{ClientKey, Lease, LeaseState};

/// `MIGRATIONS[n]` takes a database from schema version `n` to `n + 1`.
///
/// Append only: a shipped step is never edited, because databases in the
/// field have already run it.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1: leases, run-time hosts and blocks.
    "CREATE TABLE leases (
         ip        inet PRIMARY KEY CHECK (family(ip) = 4 AND masklen(ip) = 32),
         client_id bytea NOT NULL,            -- option 61, or htype + chaddr
         mac       macaddr NOT NULL,
         hostname  text,
         state     text NOT NULL,             -- bound | released | declined | offered
         starts    bigint NOT NULL,           -- UTC unix seconds
         ends      bigint NOT NULL            -- UTC unix seconds
     );
     CREATE TABLE hosts (
         name       text PRIMARY KEY,
         mac        macaddr NOT NULL UNIQUE,
         ip         inet NOT NULL UNIQUE CHECK (family(ip) = 4 AND masklen(ip) = 32),
         options    text NOT NULL DEFAULT '', -- TOML inline table, as in the config file
         created_at bigint NOT NULL           -- UTC unix seconds
     );
     CREATE TABLE blocks (
         mac   macaddr PRIMARY KEY,
         since bigint NOT NULL,               -- UTC unix seconds
         until bigint                         -- UTC unix seconds; NULL: until unblocked
     );",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Serializes schema changes between daemons opening one database at once
/// (`pg_advisory_xact_lock` key; any constant unlikely to clash will do).
const MIGRATION_LOCK: i64 = 0x6265_7274_6864; // "berthd"

/// How long to wait for the server when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const VERSION_TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS schema_version (
         version    integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
     )";

const PUT_LEASE_SQL: &str = "INSERT INTO leases (ip, client_id, mac, hostname, state, starts, ends)
     VALUES ($1, $2, $3::text::macaddr, $4, $5, $6, $7)
     ON CONFLICT (ip) DO UPDATE SET
         client_id = EXCLUDED.client_id, mac = EXCLUDED.mac, hostname = EXCLUDED.hostname,
         state = EXCLUDED.state, starts = EXCLUDED.starts, ends = EXCLUDED.ends";
const DELETE_LEASE_SQL: &str = "DELETE FROM leases WHERE ip = $1";
const PUT_HOST_SQL: &str = "INSERT INTO hosts (name, mac, ip, options, created_at)
     VALUES ($1, $2::text::macaddr, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET
         mac = EXCLUDED.mac, ip = EXCLUDED.ip, options = EXCLUDED.options";
const DELETE_HOST_SQL: &str = "DELETE FROM hosts WHERE name = $1";
const PUT_BLOCK_SQL: &str =
    "INSERT INTO blocks (mac, since, until) VALUES ($1::text::macaddr, $2, $3)
     ON CONFLICT (mac) DO UPDATE SET since = EXCLUDED.since, until = EXCLUDED.until";
const DELETE_BLOCK_SQL: &str = "DELETE FROM blocks WHERE mac = $1::text::macaddr";
const LOAD_LEASES_SQL: &str = "SELECT host(ip), client_id, mac::text, hostname, state, starts, ends
     FROM leases ORDER BY ip";
const LOAD_HOSTS_SQL: &str =
    "SELECT name, mac::text, host(ip), options, created_at FROM hosts ORDER BY name";
const LOAD_BLOCKS_SQL: &str = "SELECT mac::text, since, until FROM blocks ORDER BY mac";

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
        let (client, _conn) = connect(&pg, &label).await?;
        let schema_version = read_version(&client, &label).await?;
        let server_version = client
            .query_one("SHOW server_version", &[])
            .await
            .and_then(|r| r.try_get::<_, String>(0))
            .map_err(pg_err(&label, "reading the server version"))?;
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
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.runner.label)
            .finish()
    }
}

/// A live connection and its prepared statements.
struct Conn {
    client: Arc<Client>,
    stmts: Arc<Statements>,
}

struct Statements {
    put_lease: Statement,
    delete_lease: Statement,
    put_host: Statement,
    delete_host: Statement,
    put_block: Statement,
    delete_block: Statement,
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

fn pg_err(
    label: &str,
    what: impl Into<String>,
) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    let (label, what) = (label.to_string(), what.into());
    move |e| StoreError::Postgres {
        url: label,
        what,
        reason: reason(&e),
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
        .map_err(pg_err(label, "connecting"))?;
    let label = label.to_string();
    let task = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(store = %label, "PostgreSQL connection lost: {}", reason(&e));
        }
    });
    Ok((client, task))
}

/// The schema version, 0 for a database berthd has never touched. Refuses
/// a version newer than this build's.
async fn read_version(client: &impl GenericClient, label: &str) -> Result<i64, StoreError> {
    let what = "reading schema version";
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(pg_err(label, what))?;
    if !exists {
        return Ok(0);
    }
    let found: i64 = client
        .query_one(
            "SELECT coalesce(max(version), 0)::bigint FROM schema_version",
            &[],
        )
        .await
        .and_then(|r| r.try_get(0))
        .map_err(pg_err(label, what))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: label.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Every pending step in one transaction, under an advisory lock so two
/// daemons starting on one new database do not both run a step. A refusal
/// (newer schema) or a failure rolls everything back.
async fn migrate(client: &mut Client, label: &str) -> Result<(), StoreError> {
    let tx = client
        .transaction()
        .await
        .map_err(pg_err(label, "starting schema migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err(label, "locking for schema migration"))?;
    let version = read_version(&tx, label).await?;
    if version == SCHEMA_VERSION {
        return Ok(()); // dropping `tx` rolls back the (empty) transaction
    }
    if version == 0 {
        tx.batch_execute(VERSION_TABLE_SQL)
            .await
            .map_err(pg_err(label, "creating schema_version"))?;
    }
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (i, step) in MIGRATIONS.iter().enumerate().skip(start) {
        let next = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let what = format!("migrating schema to version {next}");
        tx.batch_execute(step)
            .await
            .map_err(pg_err(label, what.as_str()))?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&next])
            .await
            .map_err(pg_err(label, what.as_str()))?;
    }
    tx.commit()
        .await
        .map_err(pg_err(label, "committing schema migration"))?;
    tracing::info!(store = %label, version = SCHEMA_VERSION, "store schema migrated");
    Ok(())
}

async fn prepare(client: &Client, label: &str) -> Result<Statements, StoreError> {
    let p = |sql: &'static str, types: &'static [Type]| async move {
        client
            .prepare_typed(sql, types)
            .await
            .map_err(pg_err(label, "preparing statements"))
    };
    Ok(Statements {
        put_lease: p(
            PUT_LEASE_SQL,
            &[
                Type::INET,
                Type::BYTEA,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::INT8,
            ],
        )
        .await?,
        delete_lease: p(DELETE_LEASE_SQL, &[Type::INET]).await?,
        put_host: p(
            PUT_HOST_SQL,
            &[Type::TEXT, Type::TEXT, Type::INET, Type::TEXT, Type::INT8],
        )
        .await?,
        delete_host: p(DELETE_HOST_SQL, &[Type::TEXT]).await?,
        put_block: p(PUT_BLOCK_SQL, &[Type::TEXT, Type::INT8, Type::INT8]).await?,
        delete_block: p(DELETE_BLOCK_SQL, &[Type::TEXT]).await?,
    })
}

/// Connect, check (and with `migrate_schema`, upgrade) the schema, prepare.
async fn open_conn(
    pg: tokio_postgres::Config,
    label: String,
    migrate_schema: bool,
) -> Result<Conn, StoreError> {
    let (mut client, _task) = connect(&pg, &label).await?;
    if migrate_schema {
        migrate(&mut client, &label).await?;
    } else {
        // A reconnect: the schema may have moved on under us.
        let version = read_version(&client, &label).await?;
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
    let stmts = prepare(&client, &label).await?;
    Ok(Conn {
        client: Arc::new(client),
        stmts: Arc::new(stmts),
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
        let conn = runner.run(open_conn(runner.pg.clone(), runner.label.clone(), true))??;
        Ok(PostgresStore {
            runner,
            conn: Some(conn),
        })
    }

    /// The database, password left out.
    pub fn url(&self) -> &str {
        &self.runner.label
    }

    /// The live connection, reconnecting first if it was lost.
    fn conn(&mut self) -> Result<(Arc<Client>, Arc<Statements>), StoreError> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = None;
            let job = open_conn(self.runner.pg.clone(), self.runner.label.clone(), false);
            let conn = self.runner.run(job)??;
            tracing::info!(store = %self.runner.label, "reconnected to PostgreSQL");
            self.conn = Some(conn);
        }
        match &self.conn {
            Some(c) => Ok((c.client.clone(), c.stmts.clone())),
            None => Err(StoreError::WriterGone), // unreachable: set just above
        }
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
            let rows = client.query(sql, &[]).await.map_err(pg_err(&label, what))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                match decode(row) {
                    Ok(v) => out.push(v),
                    Err(reason) => tracing::warn!(
                        store = %label,
                        row = %describe(row),
                        "{what}: skipping a row that does not decode (left in the database): {reason}"
                    ),
                }
            }
            Ok(out)
        })?
    }
}

/// The first column of a row, for naming it in a warning.
fn describe(row: &Row) -> String {
    row.try_get::<_, Option<String>>(0)
        .ok()
        .flatten()
        .unwrap_or_else(|| "<unreadable>".into())
}

fn col<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, String> {
    row.try_get(i)
        .map_err(|e| format!("column {}: {}", row.columns()[i].name(), reason(&e)))
}

fn time(row: &Row, i: usize) -> Result<u64, String> {
    let v: i64 = col(row, i)?;
    u64::try_from(v).map_err(|_| format!("{} is negative ({v})", row.columns()[i].name()))
}

fn ipv4(text: &str) -> Result<Ipv4Addr, String> {
    text.parse()
        .map_err(|_| format!("ip `{text}` is not an IPv4 address"))
}

fn mac(text: &str) -> Result<MacAddr, String> {
    text.parse().map_err(|e: crate::addr::BadMac| e.to_string())
}

fn decode_lease(row: &Row) -> Result<Lease, String> {
    let state: String = col(row, 4)?;
    Ok(Lease {
        ip: ipv4(&col::<String>(row, 0)?)?,
        client: ClientKey(col(row, 1)?),
        mac: mac(&col::<String>(row, 2)?)?,
        hostname: col(row, 3)?,
        state: LeaseState::parse(&state).ok_or_else(|| format!("unknown state `{state}`"))?,
        starts: time(row, 5)?,
        ends: time(row, 6)?,
    })
}

fn decode_host(row: &Row) -> Result<StoredHost, String> {
    Ok(StoredHost {
        name: col(row, 0)?,
        mac: mac(&col::<String>(row, 1)?)?,
        ip: ipv4(&col::<String>(row, 2)?)?,
        options: col(row, 3)?,
        created_at: time(row, 4)?,
    })
}

fn decode_block(row: &Row) -> Result<Block, String> {
    let until: Option<i64> = col(row, 2)?;
    Ok(Block {
        mac: mac(&col::<String>(row, 0)?)?,
        since: time(row, 1)?,
        until: until
            .map(|u| u64::try_from(u).map_err(|_| format!("until is negative ({u})")))
            .transpose()?,
    })
}

/// One write's statement parameters, owned, so the pipelined futures can
/// borrow them for the life of the batch.
enum Params {
    PutLease {
        ip: IpAddr,
        client: Vec<u8>,
        mac: String,
        hostname: Option<String>,
        state: &'static str,
        starts: i64,
        ends: i64,
    },
    DeleteLease(IpAddr),
    PutHost {
        name: String,
        mac: String,
        ip: IpAddr,
        options: String,
        created_at: i64,
    },
    DeleteHost(String),
    PutBlock {
        mac: String,
        since: i64,
        until: Option<i64>,
    },
    DeleteBlock(String),
}

impl Params {
    /// Converts `w`, refusing times past `i64::MAX` (PostgreSQL's bigint).
    fn of(w: &Write, label: &str) -> Result<Params, StoreError> {
        let int = |subject: &str, col: &str, v: u64| {
            i64::try_from(v).map_err(|_| StoreError::BadRow {
                path: label.to_string(),
                ip: subject.to_string(),
                reason: format!("{col} {v} does not fit in a signed 64-bit integer"),
            })
        };
        Ok(match w {
            Write::PutLease(l) => {
                let subject = l.ip.to_string();
                Params::PutLease {
                    ip: IpAddr::V4(l.ip),
                    client: l.client.0.clone(),
                    mac: l.mac.to_string(),
                    hostname: l.hostname.clone(),
                    state: l.state.as_str(),
                    starts: int(&subject, "starts", l.starts)?,
                    ends: int(&subject, "ends", l.ends)?,
                }
            }
            Write::DeleteLease(ip) => Params::DeleteLease(IpAddr::V4(*ip)),
            Write::PutHost(h) => Params::PutHost {
                name: h.name.clone(),
                mac: h.mac.to_string(),
                ip: IpAddr::V4(h.ip),
                options: h.options.clone(),
                created_at: int(&h.name, "created_at", h.created_at)?,
            },
            Write::DeleteHost(name) => Params::DeleteHost(name.clone()),
            Write::PutBlock(b) => {
                let mac = b.mac.to_string();
                Params::PutBlock {
                    since: int(&mac, "since", b.since)?,
                    until: b.until.map(|u| int(&mac, "until", u)).transpose()?,
                    mac,
                }
            }
            Write::DeleteBlock(mac) => Params::DeleteBlock(mac.to_string()),
        })
    }

    fn statement<'s>(&self, s: &'s Statements) -> &'s Statement {
        match self {
            Params::PutLease { .. } => &s.put_lease,
            Params::DeleteLease(_) => &s.delete_lease,
            Params::PutHost { .. } => &s.put_host,
            Params::DeleteHost(_) => &s.delete_host,
            Params::PutBlock { .. } => &s.put_block,
            Params::DeleteBlock(_) => &s.delete_block,
        }
    }

    fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        match self {
            Params::PutLease {
                ip,
                client,
                mac,
                hostname,
                state,
                starts,
                ends,
            } => vec![ip, client, mac, hostname, state, starts, ends],
            Params::DeleteLease(ip) => vec![ip],
            Params::PutHost {
                name,
                mac,
                ip,
                options,
                created_at,
            } => vec![name, mac, ip, options, created_at],
            Params::DeleteHost(name) => vec![name],
            Params::PutBlock { mac, since, until } => vec![mac, since, until],
            Params::DeleteBlock(mac) => vec![mac],
        }
    }
}

/// A request whose first poll has happened (and so has been queued for the
/// server), awaiting its reply.
enum Sent<F: Future> {
    Waiting(Pin<Box<F>>),
    /// Finished on its first poll: before the server could have answered,
    /// so it was refused on our side (or the connection is gone) and never
    /// reached the server.
    Early(F::Output),
}

impl<F: Future> Sent<F> {
    /// Polls `fut` once: tokio-postgres queues a request on its first poll,
    /// so sending them in order is polling them in order.
    async fn send(fut: F) -> Sent<F> {
        let mut fut = Box::pin(fut);
        match futures::poll!(fut.as_mut()) {
            Poll::Ready(out) => Sent::Early(out),
            Poll::Pending => Sent::Waiting(fut),
        }
    }

    fn is_early(&self) -> bool {
        matches!(self, Sent::Early(_))
    }

    async fn reply(self) -> F::Output {
        match self {
            Sent::Waiting(fut) => fut.await,
            Sent::Early(out) => out,
        }
    }
}

/// BEGIN, every write, COMMIT: all queued before any reply is read, so the
/// batch costs one round trip. Runs on the store's runtime, whose single
/// worker cannot run the connection task between these first polls.
async fn apply_pipelined(
    client: Arc<Client>,
    stmts: Arc<Statements>,
    batch: Vec<(String, Params)>,
    label: String,
) -> Result<(), StoreError> {
    let begin = Sent::send(client.batch_execute("BEGIN")).await;
    let mut writes = Vec::with_capacity(batch.len());
    for (_, params) in &batch {
        writes
            .push(Sent::send(client.execute_raw(params.statement(&stmts), params.values())).await);
    }
    // A write that did not reach the server must not be committed without:
    // end the transaction with ROLLBACK instead of COMMIT.
    let complete = !begin.is_early() && !writes.iter().any(Sent::is_early);
    let end = Sent::send(client.batch_execute(if complete { "COMMIT" } else { "ROLLBACK" })).await;

    // Read every reply (keeping the connection in step); report the first failure.
    let mut failure = begin
        .reply()
        .await
        .err()
        .map(pg_err(&label, "starting transaction"));
    for ((subject, _), write) in batch.iter().zip(writes) {
        if let Err(e) = write.reply().await {
            failure.get_or_insert_with(|| pg_err(&label, subject.as_str())(e));
        }
    }
    let ended = end.reply().await;
    if let Some(failure) = failure {
        return Err(failure);
    }
    ended.map_err(pg_err(&label, "committing"))
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    /// All rows that decode, sorted by address. A row that does not decode
    /// (an unknown state, a negative time) is logged and left in the database.
    fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError> {
        self.load(LOAD_LEASES_SQL, "loading leases", decode_lease)
    }

    fn load_hosts(&mut self) -> Result<Vec<StoredHost>, StoreError> {
        self.load(LOAD_HOSTS_SQL, "loading hosts", decode_host)
    }

    fn load_blocks(&mut self) -> Result<Vec<Block>, StoreError> {
        self.load(LOAD_BLOCKS_SQL, "loading blocks", decode_block)
    }

    fn apply(&mut self, batch: &[Write]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let label = self.runner.label.clone();
        let batch = batch
            .iter()
            .map(|w| Ok((subject(w), Params::of(w, &label)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let (client, stmts) = self.conn()?;
        let result = self
            .runner
            .run(apply_pipelined(client, stmts, batch, label))?;
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.conn = None; // reconnect on the next call
        }
        result
    }
}

/// How a write is named in an error, matching the SQLite backend's wording.
fn subject(w: &Write) -> String {
    match w {
        Write::PutLease(l) => format!("put {}", l.ip),
        Write::DeleteLease(ip) => format!("delete {ip}"),
        Write::PutHost(h) => format!("put host {}", h.name),
        Write::DeleteHost(n) => format!("delete host {n}"),
        Write::PutBlock(b) => format!("put block {}", b.mac),
        Write::DeleteBlock(m) => format!("delete block {m}"),
    }
}
