//! The PostgreSQL schema: the append-only migration list, the version
//! recorded in `schema_version`, and the upgrade run on open.

use tokio_postgres::{Client, GenericClient};

use super::pg_err;
use crate::store::StoreError;

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
    // 1 -> 2: every change is announced to the other daemons on the
    // `berth_changes` channel as "<table> <origin> <key>", where origin is
    // the writing daemon's `berth.origin` setting (so it can skip its own)
    // and key the row's address, host name or MAC.
    "CREATE FUNCTION berth_notify() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE
         row_json jsonb;
     BEGIN
         IF TG_OP = 'DELETE' THEN row_json := to_jsonb(OLD); ELSE row_json := to_jsonb(NEW); END IF;
         PERFORM pg_notify('berth_changes', TG_TABLE_NAME || ' '
             || coalesce(current_setting('berth.origin', true), '') || ' '
             || (row_json ->> TG_ARGV[0]));
         RETURN NULL;
     END $$;
     CREATE TRIGGER leases_notify AFTER INSERT OR UPDATE OR DELETE ON leases
         FOR EACH ROW EXECUTE FUNCTION berth_notify('ip');
     CREATE TRIGGER hosts_notify AFTER INSERT OR UPDATE OR DELETE ON hosts
         FOR EACH ROW EXECUTE FUNCTION berth_notify('name');
     CREATE TRIGGER blocks_notify AFTER INSERT OR UPDATE OR DELETE ON blocks
         FOR EACH ROW EXECUTE FUNCTION berth_notify('mac');",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Serializes schema changes between daemons opening one database at once
/// (`pg_advisory_xact_lock` key; any constant unlikely to clash will do).
const MIGRATION_LOCK: i64 = 0x6265_7274_6864; // "berthd"

const VERSION_TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS schema_version (
         version    integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
     )";

/// The schema version, 0 for a database berthd has never touched. Refuses
/// a version newer than this build's.
pub(super) async fn read_version(
    client: &impl GenericClient,
    label: &str,
) -> Result<i64, StoreError> {
    let what = "reading schema version";
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| pg_err(label, what, &e))?;
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
        .map_err(|e| pg_err(label, what, &e))?;
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
pub(super) async fn migrate(client: &mut Client, label: &str) -> Result<(), StoreError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg_err(label, "starting schema migration", &e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| pg_err(label, "locking for schema migration", &e))?;
    let version = read_version(&tx, label).await?;
    if version == SCHEMA_VERSION {
        return Ok(()); // dropping `tx` rolls back the (empty) transaction
    }
    if version == 0 {
        tx.batch_execute(VERSION_TABLE_SQL)
            .await
            .map_err(|e| pg_err(label, "creating schema_version", &e))?;
    }
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (i, step) in MIGRATIONS.iter().enumerate().skip(start) {
        let next = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let what = format!("migrating schema to version {next}");
        tx.batch_execute(step)
            .await
            .map_err(|e| pg_err(label, what.as_str(), &e))?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&next])
            .await
            .map_err(|e| pg_err(label, what.as_str(), &e))?;
    }
    tx.commit()
        .await
        .map_err(|e| pg_err(label, "committing schema migration", &e))?;
    tracing::info!(store = %label, version = SCHEMA_VERSION, "store schema migrated");
    Ok(())
}
