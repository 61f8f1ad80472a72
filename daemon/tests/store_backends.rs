//! The `Store` trait's test suite, run against every backend.
//!
//! Each case is a function over a [`Backend`] fixture; `suite!` makes one
//! `#[test]` per case per backend (`sqlite::case`, `postgres::case`). The
//! PostgreSQL fixture starts its own throw-away cluster (initdb in a temp
//! directory, Unix socket only) and stops it when the test ends, passing or
//! not. Without PostgreSQL installed those tests print SKIPPED, except under
//! CI=true, where they fail.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use berth_tests::postgres::{Cluster, postgres_or_skip};
use berthd::addr::MacAddr;
use berthd::blocks::Block;
use berthd::config::PostgresConfig;
use berthd::lease::{ClientKey, Lease, LeaseState};
use berthd::store::postgres::{self as pg, PostgresStore};
use berthd::store::{SqliteStore, Store, StoreError, StoredHost, Write};

// ------------------------------------------------------------ fixtures

/// A fresh, empty store location of one backend, with raw access for the
/// cases that need to look or reach past the trait.
trait Backend {
    fn open(&self) -> Result<Box<dyn Store>, StoreError>;
    /// How the backend's errors name the store.
    fn name(&self) -> String;
    /// The schema version as the backend records it (0: none).
    fn version(&self) -> i64;
    /// Marks the (already opened) store as written by a newer berthd.
    fn set_version(&self, v: i64);
    /// The schema version this build creates.
    fn supported(&self) -> i64;
}

struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn sqlite() -> Sqlite {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("leases.db");
    Sqlite { _dir: dir, path }
}

impl Backend for Sqlite {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(SqliteStore::open(&self.path)?))
    }
    fn name(&self) -> String {
        self.path.display().to_string()
    }
    fn version(&self) -> i64 {
        let conn = rusqlite::Connection::open(&self.path).expect("raw open");
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("user_version")
    }
    fn set_version(&self, v: i64) {
        let conn = rusqlite::Connection::open(&self.path).expect("raw open");
        conn.pragma_update(None, "user_version", v)
            .expect("user_version");
    }
    fn supported(&self) -> i64 {
        berthd::store::sqlite::SCHEMA_VERSION
    }
}

struct Postgres {
    cluster: Arc<Cluster>,
    db: String,
    cfg: PostgresConfig,
}

/// An empty database of its own in the shared test cluster, or None (after
/// a SKIPPED line) when PostgreSQL is not installed outside CI.
fn postgres(test: &str) -> Option<Postgres> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if !postgres_or_skip(test) {
        return None;
    }
    let cluster = Cluster::shared().expect("start the PostgreSQL test cluster");
    let db = format!("berth{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let url = cluster.create_database(&db).expect("create database");
    Some(Postgres {
        cluster,
        db,
        cfg: PostgresConfig::new(url),
    })
}

impl Postgres {
    fn psql(&self, sql: &str) -> String {
        self.cluster.psql(&self.db, sql).expect("psql")
    }
}

impl Backend for Postgres {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(PostgresStore::open(&self.cfg)?))
    }
    fn name(&self) -> String {
        self.cfg.display_url()
    }
    fn version(&self) -> i64 {
        if self.psql("SELECT to_regclass('schema_version') IS NULL") == "t" {
            return 0;
        }
        let out = self.psql("SELECT coalesce(max(version), 0) FROM schema_version");
        out.parse().expect("version")
    }
    fn set_version(&self, v: i64) {
        self.psql(&format!(
            "INSERT INTO schema_version (version) VALUES ({v})"
        ));
    }
    fn supported(&self) -> i64 {
        pg::SCHEMA_VERSION
    }
}

/// One `#[test]` per case and backend.
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $case() { super::$case(&super::sqlite()); } )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    if let Some(b) = super::postgres(concat!("postgres::", stringify!($case))) {
                        super::$case(&b);
                    }
                }
            )*
        }
    };
}

suite!(
    fresh_store_is_empty_and_at_the_current_version,
    put_load_round_trips_every_field_and_state,
    delete_removes_only_that_address,
    later_write_in_a_batch_wins,
    hosts_and_blocks_round_trip,
    failing_batch_applies_nothing,
    out_of_range_time_fails_the_batch,
    data_survives_reopen,
    newer_schema_is_refused_untouched,
    large_batch_commits,
    writer_group_commits_concurrent_requests,
);

// ------------------------------------------------------------ data

fn lease(last: u8, state: LeaseState) -> Lease {
    Lease {
        ip: Ipv4Addr::new(192, 168, 0, last),
        client: ClientKey::from(vec![1, 0x00, 0x23, 0x32, 0xaa, 0xbb, last]),
        mac: MacAddr([0, 0x23, 0x32, 0xaa, 0xbb, last]),
        hostname: Some(format!("host-{last}").into()),
        state,
        starts: 1_700_000_000 + u64::from(last),
        ends: 1_700_007_200 + u64::from(last),
    }
}

fn host(name: &str, last: u8) -> StoredHost {
    StoredHost {
        name: name.into(),
        mac: MacAddr([2, 0, 0, 0, 0, last]),
        ip: Ipv4Addr::new(192, 0, 2, last),
        options: r#"{ routers = ["192.0.2.1"] }"#.into(),
        created_at: 1_700_000_000,
    }
}

fn block(last: u8, until: Option<u64>) -> Block {
    Block {
        mac: MacAddr([2, 0, 0, 0, 1, last]),
        since: 1_700_000_000,
        until,
    }
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 0, last)
}

// ------------------------------------------------------------ cases

fn fresh_store_is_empty_and_at_the_current_version(b: &impl Backend) {
    assert_eq!(b.version(), 0, "nothing before the first open");
    let mut s = b.open().expect("open migrates an empty store");
    assert!(s.load_leases().expect("leases").is_empty());
    assert!(s.load_hosts().expect("hosts").is_empty());
    assert!(s.load_blocks().expect("blocks").is_empty());
    assert_eq!(b.version(), b.supported());
    drop(s);
    // Opening again is a no-op.
    drop(b.open().expect("second open"));
    assert_eq!(b.version(), b.supported());
}

fn put_load_round_trips_every_field_and_state(b: &impl Backend) {
    use LeaseState::*;
    let mut s = b.open().expect("open");
    let mut no_name = lease(5, Bound);
    no_name.hostname = None;
    no_name.client = ClientKey::from(vec![0xff, 0, 1, 2, 3, 0, 0xfe]); // arbitrary bytes, incl. zero
    let mut far = lease(6, Bound);
    far.starts = 0;
    far.ends = i64::MAX as u64;
    let mut unicode = lease(7, Bound);
    unicode.hostname = Some("drucker-büro".into());
    let mut high = lease(200, Bound); // sorts after .7 by address, not as text
    high.ip = Ipv4Addr::new(192, 168, 0, 200);
    let want = vec![
        lease(1, Offered),
        lease(2, Bound),
        lease(3, Released),
        lease(4, Declined),
        no_name,
        far,
        unicode,
        high,
    ];
    let batch: Vec<Write> = want.iter().cloned().map(Write::PutLease).collect();
    s.apply(&batch).expect("apply");
    assert_eq!(s.load_leases().expect("load"), want);

    // A put on an existing address replaces every field.
    let mut moved = lease(2, Released);
    moved.client = ClientKey::from(vec![9, 9]);
    moved.mac = MacAddr([2, 0, 0, 0, 0, 9]);
    moved.hostname = None;
    s.apply(&[Write::PutLease(moved.clone())]).expect("replace");
    let got = s.load_leases().expect("load");
    assert_eq!(got.len(), want.len());
    assert_eq!(got[1], moved);
}

fn delete_removes_only_that_address(b: &impl Backend) {
    use LeaseState::*;
    let mut s = b.open().expect("open");
    s.apply(&[
        Write::PutLease(lease(1, Bound)),
        Write::PutLease(lease(2, Bound)),
    ])
    .expect("apply");
    s.apply(&[
        Write::DeleteLease(ip(1)),
        Write::DeleteLease(ip(99)), // absent: not an error
    ])
    .expect("delete");
    assert_eq!(s.load_leases().expect("load"), vec![lease(2, Bound)]);
}

fn later_write_in_a_batch_wins(b: &impl Backend) {
    use LeaseState::*;
    let mut s = b.open().expect("open");
    s.apply(&[
        Write::PutLease(lease(1, Bound)),
        Write::DeleteLease(ip(1)),
        Write::PutLease(lease(1, Released)),
        Write::PutHost(host("a", 1)),
        Write::DeleteHost("a".into()),
        Write::PutHost(host("b", 1)), // a's MAC and address, free again
    ])
    .expect("apply");
    assert_eq!(s.load_leases().expect("load"), vec![lease(1, Released)]);
    assert_eq!(s.load_hosts().expect("hosts"), vec![host("b", 1)]);
}

fn hosts_and_blocks_round_trip(b: &impl Backend) {
    let mut s = b.open().expect("open");
    let mut changed = host("phone", 7);
    changed.options = String::new();
    changed.ip = Ipv4Addr::new(192, 0, 2, 70);
    s.apply(&[
        Write::PutHost(host("phone", 7)),
        Write::PutHost(host("laptop", 8)),
        Write::PutBlock(block(1, Some(1_700_003_600))),
        Write::PutBlock(block(2, None)),
    ])
    .expect("apply");
    assert_eq!(
        s.load_hosts().expect("hosts"),
        vec![host("laptop", 8), host("phone", 7)],
        "sorted by name"
    );
    let mut blocks = s.load_blocks().expect("blocks");
    blocks.sort_by_key(|b| b.mac);
    assert_eq!(blocks, vec![block(1, Some(1_700_003_600)), block(2, None)]);

    // Put replaces (the host keeps its created_at), delete removes.
    s.apply(&[
        Write::PutHost(StoredHost {
            created_at: 1,
            ..changed.clone()
        }),
        Write::PutBlock(block(2, Some(5))),
        Write::DeleteHost("laptop".into()),
        Write::DeleteBlock(block(1, None).mac),
        Write::DeleteHost("absent".into()),
    ])
    .expect("apply");
    assert_eq!(s.load_hosts().expect("hosts"), vec![changed]);
    assert_eq!(s.load_blocks().expect("blocks"), vec![block(2, Some(5))]);
}

fn failing_batch_applies_nothing(b: &impl Backend) {
    use LeaseState::*;
    let mut s = b.open().expect("open");
    s.apply(&[
        Write::PutLease(lease(1, Bound)),
        Write::PutHost(host("a", 1)),
    ])
    .expect("seed");
    // The second host takes the first one's MAC: both backends refuse it
    // (hosts.mac is UNIQUE), in the middle of the batch.
    let mut thief = host("b", 2);
    thief.mac = host("a", 1).mac;
    let err = s
        .apply(&[
            Write::DeleteLease(ip(1)),
            Write::PutLease(lease(2, Bound)),
            Write::PutHost(thief),
            Write::PutLease(lease(4, Bound)),
            Write::PutBlock(block(1, None)),
        ])
        .expect_err("batch must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("put host b") && msg.contains(&b.name()),
        "the error names the store and the write: {msg}"
    );
    assert_eq!(s.load_leases().expect("load"), vec![lease(1, Bound)]);
    assert_eq!(s.load_hosts().expect("hosts"), vec![host("a", 1)]);
    assert!(s.load_blocks().expect("blocks").is_empty());
    // The store is still usable afterwards.
    s.apply(&[Write::PutLease(lease(2, Bound))])
        .expect("apply after failure");
    assert_eq!(s.load_leases().expect("load").len(), 2);
}

fn out_of_range_time_fails_the_batch(b: &impl Backend) {
    use LeaseState::*;
    let mut s = b.open().expect("open");
    let mut bad = lease(2, Bound);
    bad.ends = u64::MAX;
    let err = s
        .apply(&[Write::PutLease(lease(1, Bound)), Write::PutLease(bad)])
        .expect_err("must fail");
    assert!(matches!(err, StoreError::BadRow { .. }), "{err:?}");
    assert!(s.load_leases().expect("load").is_empty());
}

fn data_survives_reopen(b: &impl Backend) {
    use LeaseState::*;
    {
        let mut s = b.open().expect("open");
        s.apply(&[
            Write::PutLease(lease(1, Bound)),
            Write::PutLease(lease(2, Declined)),
            Write::PutHost(host("phone", 7)),
            Write::PutBlock(block(1, None)),
        ])
        .expect("apply");
    }
    let mut s = b.open().expect("reopen");
    assert_eq!(
        s.load_leases().expect("load"),
        vec![lease(1, Bound), lease(2, Declined)]
    );
    assert_eq!(s.load_hosts().expect("hosts"), vec![host("phone", 7)]);
    assert_eq!(s.load_blocks().expect("blocks"), vec![block(1, None)]);
    assert_eq!(b.version(), b.supported());
}

fn newer_schema_is_refused_untouched(b: &impl Backend) {
    {
        let mut s = b.open().expect("open");
        s.apply(&[Write::PutLease(lease(1, LeaseState::Bound))])
            .expect("apply");
    }
    b.set_version(99);
    let Err(err) = b.open() else {
        panic!("a newer schema must be refused");
    };
    assert_eq!(
        err,
        StoreError::TooNew {
            path: b.name(),
            found: 99,
            supported: b.supported(),
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("newer") && msg.contains("99"), "{msg}");
    assert_eq!(b.version(), 99, "the version is left as found");
}

fn large_batch_commits(b: &impl Backend) {
    // Thousands of writes in one batch (one pipelined round trip for PostgreSQL).
    let mut s = b.open().expect("open");
    let batch: Vec<Write> = (0..4000u32)
        .map(|i| {
            let [_, _, hi, lo] = i.to_be_bytes();
            let mut l = lease(1, LeaseState::Bound);
            l.ip = Ipv4Addr::new(10, 0, hi, lo);
            Write::PutLease(l)
        })
        .collect();
    s.apply(&batch).expect("apply");
    assert_eq!(s.load_leases().expect("load").len(), 4000);
}

fn writer_group_commits_concurrent_requests(b: &impl Backend) {
    // As the server uses it: opened and loaded from async code, then moved
    // into the writer thread, with many requests committing at once.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut store = b.open().expect("open");
        assert!(store.load_leases().expect("load").is_empty());
        let writer = berthd::store::Writer::spawn(store);
        let commits: Vec<_> = (1..=100u8)
            .map(|last| writer.commit(vec![Write::PutLease(lease(last, LeaseState::Bound))]))
            .collect();
        for result in futures::future::join_all(commits).await {
            result.expect("commit");
        }
        writer.shutdown().await.expect("shutdown");
    });
    let mut s = b.open().expect("reopen");
    assert_eq!(s.load_leases().expect("load").len(), 100);
}

// ------------------------------------------------------------ PostgreSQL only

#[test]
fn postgres_rows_are_readable_with_plain_sql() {
    let Some(b) = postgres("postgres_rows_are_readable_with_plain_sql") else {
        return;
    };
    let mut s = b.open().expect("open");
    s.apply(&[
        Write::PutLease(lease(10, LeaseState::Bound)),
        Write::PutBlock(block(3, None)),
    ])
    .expect("apply");
    assert_eq!(
        b.psql("SELECT ip, mac, state, starts FROM leases"),
        "192.168.0.10|00:23:32:aa:bb:0a|bound|1700000010"
    );
    assert_eq!(
        b.psql("SELECT mac, until IS NULL FROM blocks"),
        "02:00:00:00:01:03|t"
    );
    assert_eq!(
        b.psql("SELECT max(version) FROM schema_version"),
        pg::SCHEMA_VERSION.to_string()
    );
}

#[test]
fn postgres_rows_that_do_not_decode_are_skipped_and_kept() {
    let Some(b) = postgres("postgres_rows_that_do_not_decode_are_skipped_and_kept") else {
        return;
    };
    let mut s = b.open().expect("open");
    s.apply(&[Write::PutLease(lease(1, LeaseState::Bound))])
        .expect("apply");
    b.psql(
        "INSERT INTO leases (ip, client_id, mac, hostname, state, starts, ends) VALUES
           ('10.0.0.3', '\\x01', '00:00:00:00:00:03', NULL, 'haunted', 1, 2),
           ('10.0.0.4', '\\x01', '00:00:00:00:00:04', NULL, 'bound', -5, 2);
         INSERT INTO blocks (mac, since, until) VALUES ('00:00:00:00:00:05', 1, -1)",
    );
    assert_eq!(
        s.load_leases().expect("load"),
        vec![lease(1, LeaseState::Bound)]
    );
    assert!(s.load_blocks().expect("blocks").is_empty());
    assert_eq!(b.psql("SELECT count(*) FROM leases"), "3", "never deleted");
}

#[test]
fn postgres_errors_name_the_database_but_never_the_password() {
    let Some(b) = postgres("postgres_errors_name_the_database_but_never_the_password") else {
        return;
    };
    // Nothing listens on this socket directory.
    let gone = b.cluster.socket_dir().join("nowhere");
    let cfg = PostgresConfig::new(format!(
        "postgresql://berth:s3cret-pw@/x?host={}&connect_timeout=5",
        gone.display()
    ));
    let err = PostgresStore::open(&cfg).expect_err("no server there");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("postgresql://berth@{}", gone.display()))
            && msg.contains("connecting"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "password leaked: {msg}");
    assert!(!format!("{cfg:?}").contains("s3cret"), "password in Debug");

    // A database that does not exist: the server's reason, naming it.
    let mut cfg = b.cfg.clone();
    cfg.url = cfg.url.replace(&format!("/{}?", b.db), "/nosuchdb?");
    let msg = PostgresStore::open(&cfg)
        .expect_err("no such database")
        .to_string();
    assert!(
        msg.contains("/nosuchdb") && msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn postgres_probe_reports_the_schema_version_and_changes_nothing() {
    let Some(b) = postgres("postgres_probe_reports_the_schema_version_and_changes_nothing") else {
        return;
    };
    let p = pg::probe(&b.cfg).expect("probe an empty database");
    assert_eq!(p.schema_version, 0);
    assert_eq!(p.url, b.name());
    assert!(!p.server_version.is_empty());
    assert_eq!(b.version(), 0, "probe creates nothing");
    drop(b.open().expect("open"));
    assert_eq!(
        pg::probe(&b.cfg).expect("probe").schema_version,
        pg::SCHEMA_VERSION
    );
    b.set_version(99);
    assert!(matches!(
        pg::probe(&b.cfg),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}

#[test]
fn postgres_two_stores_opening_one_new_database_both_succeed() {
    let Some(b) = postgres("postgres_two_stores_opening_one_new_database_both_succeed") else {
        return;
    };
    let opened: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| PostgresStore::open(&b.cfg).map(drop)))
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    for r in opened {
        r.expect("thread").expect("open");
    }
    assert_eq!(
        b.psql("SELECT count(*) FROM schema_version"),
        pg::SCHEMA_VERSION.to_string(),
        "each step applied once"
    );
}

#[test]
fn postgres_store_reconnects_after_the_server_restarts() {
    if !postgres_or_skip("postgres_store_reconnects_after_the_server_restarts") {
        return;
    }
    // Its own cluster: this one is stopped and started again.
    let mut cluster = Cluster::start().expect("start the PostgreSQL test cluster");
    let cfg = PostgresConfig::new(cluster.create_database("berth").expect("database"));
    let mut s = PostgresStore::open(&cfg).expect("open");
    s.apply(&[Write::PutLease(lease(1, LeaseState::Bound))])
        .expect("apply");
    cluster.stop().expect("stop server");
    let err = s
        .apply(&[Write::PutLease(lease(2, LeaseState::Bound))])
        .expect_err("no server: the write must fail");
    assert!(err.to_string().contains(&cfg.display_url()), "{err}");
    // While it is away, every call fails at once (reconnects back off).
    let t = std::time::Instant::now();
    for _ in 0..20 {
        s.apply(&[Write::PutLease(lease(2, LeaseState::Bound))])
            .expect_err("still no server");
    }
    println!("20 writes without a server failed in {:?}", t.elapsed());
    cluster.start_server().expect("start server");
    // Back within the longest backoff (4 s); given 10.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match s.apply(&[Write::PutLease(lease(3, LeaseState::Bound))]) {
            Ok(_) => break,
            Err(e) if std::time::Instant::now() < deadline => {
                println!("not yet: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("no reconnect within 10 s: {e}"),
        }
    }
    let ips: Vec<_> = s
        .load_leases()
        .expect("load")
        .into_iter()
        .map(|l| l.ip)
        .collect();
    assert_eq!(ips, vec![ip(1), ip(3)], "the failed write left nothing");
}

#[test]
fn postgres_store_can_be_opened_and_dropped_inside_a_runtime() {
    let Some(b) = postgres("postgres_store_can_be_opened_and_dropped_inside_a_runtime") else {
        return;
    };
    // server::run opens the store from async code; that must not panic.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut s = PostgresStore::open(&b.cfg).expect("open");
        assert!(s.load_leases().expect("load").is_empty());
        drop(s);
    });
}

#[test]
fn postgres_check_config_checks_that_the_database_answers() {
    let Some(b) = postgres("postgres_check_config_checks_that_the_database_answers") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let check = |url: &str| {
        let file = dir.path().join("berthd.toml");
        let text = format!(
            "[server]\ninterfaces = [\"eth1\"]\nstore = {{ backend = \"postgres\", url = \"{url}\" }}\n"
        );
        std::fs::write(&file, text).expect("write config");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_berthd"))
            .arg("check-config")
            .arg(&file)
            .output()
            .expect("run berthd check-config");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = check(&b.cfg.url);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("store {}: ok (PostgreSQL", b.name()))
            && stdout.contains("empty: berthd creates the tables on start"),
        "{stdout}"
    );
    drop(b.open().expect("open"));
    let (ok, stdout, _) = check(&b.cfg.url);
    let current = format!("schema version {})", pg::SCHEMA_VERSION);
    assert!(ok && stdout.contains(&current), "{stdout}");

    b.set_version(99);
    let (ok, _, stderr) = check(&b.cfg.url);
    assert!(
        !ok && stderr.contains("schema version 99 is newer"),
        "{stderr}"
    );

    let gone = b.cluster.socket_dir().join("nowhere");
    let (ok, _, stderr) = check(&format!(
        "postgresql://berth:s3cret@/x?host={}",
        gone.display()
    ));
    assert!(!ok, "no server there");
    assert!(
        stderr.contains("connecting") && stderr.contains(&gone.display().to_string()),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "password leaked: {stderr}");
}

// ------------------------------------------------------------ several daemons, one PostgreSQL

fn now() -> u64 {
    berthd::clock::TimeSource::wall(&berthd::clock::SystemClocks)
}

/// `client`'s lease on 192.168.0.`last`, from `starts` for an hour.
fn claim(last: u8, client: u8, starts: u64) -> Lease {
    Lease {
        ip: ip(last),
        client: ClientKey::from(vec![1, client]),
        mac: MacAddr([2, 0, 0, 0, 0, client]),
        hostname: None,
        state: LeaseState::Bound,
        starts,
        ends: starts + 3600,
    }
}

#[test]
fn postgres_lease_writes_are_claims_the_database_arbitrates() {
    let Some(b) = postgres("postgres_lease_writes_are_claims_the_database_arbitrates") else {
        return;
    };
    let (mut one, mut two) = (b.open().expect("one"), b.open().expect("two"));
    let t = now();
    assert_eq!(one.apply(&[Write::PutLease(claim(1, 7, t))]), Ok(vec![]));

    // Another client's claim on a bound address loses, and says who holds
    // it; the batch's other writes stand.
    let lost = two
        .apply(&[
            Write::PutLease(claim(2, 8, t)),
            Write::PutLease(claim(1, 8, t)),
            Write::PutBlock(block(1, None)),
        ])
        .expect("apply");
    assert_eq!(
        lost,
        vec![berthd::store::Lost {
            index: 1,
            ip: ip(1),
            holder: Some(claim(1, 7, t)),
        }]
    );
    let leases = two.load_leases().expect("load");
    assert_eq!(leases, vec![claim(1, 7, t), claim(2, 8, t)]);
    assert_eq!(two.load_blocks().expect("blocks").len(), 1);

    // The holder renews through either daemon.
    assert_eq!(
        two.apply(&[Write::PutLease(claim(1, 7, t + 10))]),
        Ok(vec![])
    );
    // A stale write of the same client (decided before that renewal, e.g.
    // an expiry) loses to it.
    let mut stale = claim(1, 7, t);
    stale.state = LeaseState::Expired;
    let lost = one.apply(&[Write::PutLease(stale)]).expect("apply");
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0].holder, Some(claim(1, 7, t + 10)));
    // A delete of a bound lease (a stale unquarantine) loses too; of an
    // absent row it is no loss.
    let lost = one
        .apply(&[Write::DeleteLease(ip(1)), Write::DeleteLease(ip(99))])
        .expect("apply");
    assert_eq!(lost.iter().map(|l| l.index).collect::<Vec<_>>(), vec![0]);

    // Released, expired or ended, the address is anyone's.
    let mut released = claim(1, 7, t + 10);
    released.state = LeaseState::Released;
    assert_eq!(one.apply(&[Write::PutLease(released)]), Ok(vec![]));
    assert_eq!(
        two.apply(&[Write::PutLease(claim(1, 8, t + 20))]),
        Ok(vec![])
    );
    let ended = claim(3, 7, t - 7200);
    assert_eq!(one.apply(&[Write::PutLease(ended)]), Ok(vec![]));
    assert_eq!(two.apply(&[Write::PutLease(claim(3, 8, t))]), Ok(vec![]));
}

#[test]
fn postgres_concurrent_claims_on_one_address_have_one_winner() {
    let Some(b) = postgres("postgres_concurrent_claims_on_one_address_have_one_winner") else {
        return;
    };
    // Eight stores race for the same 50 addresses, each in its own order,
    // in batches: every address ends up with exactly one winner, and each
    // store is told exactly which of its claims it lost.
    let t = now();
    let results: Vec<Vec<(u8, bool)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8u8)
            .map(|c| {
                let b = &b;
                scope.spawn(move || {
                    let mut s = b.open().expect("open");
                    let mut order: Vec<u8> = (1..=50).collect();
                    order.rotate_left(usize::from(c) * 6);
                    let mut out = Vec::new();
                    for chunk in order.chunks(10) {
                        let batch: Vec<Write> = chunk
                            .iter()
                            .map(|&last| Write::PutLease(claim(last, 100 + c, t)))
                            .collect();
                        let lost = s.apply(&batch).expect("apply");
                        for (i, &last) in chunk.iter().enumerate() {
                            out.push((last, !lost.iter().any(|l| l.index == i)));
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut s = b.open().expect("open");
    let stored = s.load_leases().expect("load");
    assert_eq!(stored.len(), 50);
    for l in &stored {
        let last = l.ip.octets()[3];
        let winners: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.contains(&(last, true)))
            .map(|(c, _)| c)
            .collect();
        assert_eq!(winners.len(), 1, "{}: winners {winners:?}", l.ip);
        assert_eq!(l.client, ClientKey::from(vec![1, 100 + winners[0] as u8]));
    }
}

#[test]
fn postgres_follower_hears_the_other_daemons_changes_not_its_own() {
    let Some(b) = postgres("postgres_follower_hears_the_other_daemons_changes_not_its_own") else {
        return;
    };
    let mut me = b.open().expect("me");
    let mut other = b.open().expect("other");
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let _follower = me.follow(tx).expect("postgres follows");
    let next = |rx: &mut tokio::sync::mpsc::Receiver<berthd::store::Learned>| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            match rx.try_recv() {
                Ok(l) => return l,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(e) => panic!("nothing learned: {e}"),
            }
        }
    };
    // First everything (empty), then changes as they come.
    let first = next(&mut rx);
    assert!(first.full && first.leases.is_empty());

    let t = now();
    me.apply(&[Write::PutLease(claim(5, 1, t))]).expect("mine");
    other
        .apply(&[
            Write::PutLease(claim(6, 2, t)),
            Write::PutHost(host("printer", 9)),
            Write::PutBlock(block(4, None)),
        ])
        .expect("theirs");
    let mut learned = Vec::new();
    while learned.len() < 3 {
        let l = next(&mut rx);
        assert!(!l.full, "no resync within the default minute");
        learned.extend(
            l.leases
                .into_iter()
                .map(|(ip, l)| format!("{ip} {:?}", l.map(|l| l.client))),
        );
        learned.extend(
            l.hosts
                .into_iter()
                .map(|(n, h)| format!("{n} {:?}", h.map(|h| h.ip))),
        );
        learned.extend(
            l.blocks
                .into_iter()
                .map(|(m, b)| format!("{m} {}", b.is_some())),
        );
    }
    learned.sort();
    assert_eq!(
        learned,
        vec![
            "02:00:00:00:01:04 true".to_string(),
            format!("{} Some(01:02)", ip(6)),
            "printer Some(192.0.2.9)".to_string(),
        ],
        "only the other store's writes, not {} (mine)",
        ip(5)
    );
    other
        .apply(&[Write::DeleteHost("printer".into())])
        .expect("delete");
    let l = next(&mut rx);
    assert_eq!(l.hosts, vec![("printer".to_string(), None)]);
}
