//! `[server] store`: which durable backend, and its settings.
//!
//! `store = "/path/leases.db"` keeps meaning the SQLite file it always has;
//! `store = { backend = "postgres", url = "postgresql://...", pool = N }`
//! selects PostgreSQL (and `{ backend = "sqlite", path = "..." }` spells the
//! default out).

use std::fmt;
use std::str::FromStr;

use toml::Spanned;

use super::raw::{RawStore, RawStoreTable};
use super::{Reporter, ServerConfig};

/// `store = { backend = "postgres", ... }`.
///
/// `Debug` leaves the URL out: it may hold a password. Use
/// [`PostgresConfig::display_url`] in messages.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// A libpq-style URL or key=value string, as accepted by tokio-postgres
    /// (`postgresql://berth@/berth?host=/run/postgresql` for a Unix socket).
    pub url: String,
    /// Connections to keep open. Phase 1 uses one, on the writer thread;
    /// the setting is validated now so configurations stay valid later.
    pub pool: u32,
    /// Seconds between full re-reads of the database, on top of the change
    /// notifications: bounds how stale the daemon's view of other daemons'
    /// changes can get should a notification be missed.
    pub resync: u32,
    /// While the database is unreachable, ACK renewals of leases this
    /// daemon already holds from memory (their writes are retried when it
    /// is back). Off by default: such an ACK is not durable.
    pub renew_from_memory: bool,
}

impl PostgresConfig {
    /// Default `pool`.
    pub const POOL: u32 = 4;
    /// Largest `pool` accepted.
    pub const MAX_POOL: u32 = 64;
    /// Default `resync`, seconds.
    pub const RESYNC: u32 = 60;

    /// Settings with the defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            pool: Self::POOL,
            resync: Self::RESYNC,
            renew_from_memory: false,
        }
    }

    /// The URL for messages and logs: user, hosts, ports and database, never
    /// the password.
    pub fn display_url(&self) -> String {
        match tokio_postgres::Config::from_str(&self.url) {
            Ok(c) => display(&c),
            Err(_) => "postgresql://<unreadable url>".to_string(),
        }
    }
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.display_url())
            .field("pool", &self.pool)
            .finish()
    }
}

/// `postgresql://user@host1,host2:port/db` from a parsed config, password left out.
pub(crate) fn display(c: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let ports = c.get_ports();
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            // One port for all hosts, or one per host (as libpq reads them).
            match ports.get(i).or(ports.first().filter(|_| ports.len() == 1)) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    let mut s = String::from("postgresql://");
    if let Some(user) = c.get_user() {
        s.push_str(user);
        s.push('@');
    }
    s.push_str(&hosts.join(","));
    s.push('/');
    s.push_str(c.get_dbname().unwrap_or(""));
    s
}

/// Validate `store` into `server.store` / `server.postgres`.
pub(super) fn store(report: &mut Reporter<'_>, raw: &Spanned<RawStore>, server: &mut ServerConfig) {
    match raw.get_ref() {
        RawStore::Path(path) => sqlite_path(report, raw.span(), path, server),
        RawStore::Table(table) => match table.backend.get_ref().as_str() {
            "sqlite" => {
                no_key(
                    report,
                    "sqlite",
                    "url",
                    table.url.as_ref().map(Spanned::span),
                );
                no_key(
                    report,
                    "sqlite",
                    "pool",
                    table.pool.as_ref().map(Spanned::span),
                );
                no_key(
                    report,
                    "sqlite",
                    "resync",
                    table.resync.as_ref().map(Spanned::span),
                );
                no_key(
                    report,
                    "sqlite",
                    "renew_from_memory",
                    table.renew_from_memory.as_ref().map(Spanned::span),
                );
                match &table.path {
                    Some(p) => sqlite_path(report, p.span(), p.get_ref(), server),
                    None => report.error(
                        raw.span(),
                        "store: backend \"sqlite\" needs `path` (the database file)",
                    ),
                }
            }
            "postgres" => {
                no_key(
                    report,
                    "postgres",
                    "path",
                    table.path.as_ref().map(Spanned::span),
                );
                server.postgres = postgres(report, raw.span(), table);
            }
            other => report.error(
                table.backend.span(),
                format!("store: unknown backend `{other}`, expected \"sqlite\" or \"postgres\""),
            ),
        },
    }
}

fn sqlite_path(
    report: &mut Reporter<'_>,
    span: std::ops::Range<usize>,
    path: &str,
    server: &mut ServerConfig,
) {
    if path.trim().is_empty() {
        report.error(span, "store: must be a file path");
    } else {
        server.store = path.into();
    }
}

fn no_key(
    report: &mut Reporter<'_>,
    backend: &str,
    key: &str,
    span: Option<std::ops::Range<usize>>,
) {
    if let Some(span) = span {
        report.error(
            span,
            format!("store: `{key}` does not apply to backend \"{backend}\""),
        );
    }
}

fn postgres(
    report: &mut Reporter<'_>,
    table_span: std::ops::Range<usize>,
    table: &RawStoreTable,
) -> Option<PostgresConfig> {
    let pool = match &table.pool {
        None => Some(PostgresConfig::POOL),
        Some(n) => match u32::try_from(*n.get_ref()) {
            Ok(p @ 1..=PostgresConfig::MAX_POOL) => Some(p),
            _ => {
                report.error(
                    n.span(),
                    format!(
                        "store: pool must be between 1 and {} connections",
                        PostgresConfig::MAX_POOL
                    ),
                );
                None
            }
        },
    };
    let resync = match &table.resync {
        None => Some(PostgresConfig::RESYNC),
        Some(d) => match super::field::duration(report, "store: resync", d)? {
            0 => {
                report.error(d.span(), "store: resync must be at least 1s");
                None
            }
            s => Some(s),
        },
    };
    let renew_from_memory = table
        .renew_from_memory
        .as_ref()
        .is_some_and(|b| *b.get_ref());
    let Some(url) = &table.url else {
        report.error(
            table_span,
            "store: backend \"postgres\" needs `url` \
             (e.g. \"postgresql://berth@/berth?host=/run/postgresql\")",
        );
        return None;
    };
    let parsed = match tokio_postgres::Config::from_str(url.get_ref()) {
        Ok(c) => c,
        Err(e) => {
            // tokio-postgres's parse errors name the offending key, not the
            // value, so no password can leak through them.
            let cause = std::error::Error::source(&e)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            report.error(
                url.span(),
                format!("store: url is not a PostgreSQL URL: {e}{cause}"),
            );
            return None;
        }
    };
    if parsed.get_hosts().is_empty() {
        report.error(
            url.span(),
            "store: url names no host (for a Unix socket: \
             \"postgresql://berth@/berth?host=/run/postgresql\")",
        );
        return None;
    }
    if parsed.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        report.error(
            url.span(),
            "store: sslmode=require is not supported yet (berthd connects without TLS): \
             use a Unix socket or a trusted network",
        );
        return None;
    }
    Some(PostgresConfig {
        url: url.get_ref().clone(),
        pool: pool?,
        resync: resync?,
        renew_from_memory,
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::PostgresConfig;
    use crate::config::{Config, parse};

    /// `[server]` on lines 1-2, then `store = ...` on line 3.
    fn with_store(value: &str) -> String {
        format!("[server]\ninterfaces = [\"eth1\"]\nstore = {value}\n")
    }

    fn ok(value: &str) -> Config {
        match parse(&with_store(value), Path::new("berth.toml")) {
            Ok(c) => c,
            Err(e) => panic!("expected a valid config, got:\n{e}"),
        }
    }

    fn errors(value: &str) -> Vec<String> {
        match parse(&with_store(value), Path::new("berth.toml")) {
            Ok(_) => panic!("expected errors for store = {value}"),
            Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_string_is_still_a_sqlite_path() {
        let c = ok(r#""/srv/berth/leases.db""#);
        assert_eq!(c.server.store, PathBuf::from("/srv/berth/leases.db"));
        assert_eq!(c.server.postgres, None);
    }

    #[test]
    fn sqlite_table_form() {
        let c = ok(r#"{ backend = "sqlite", path = "/srv/l.db" }"#);
        assert_eq!(c.server.store, PathBuf::from("/srv/l.db"));
        assert_eq!(c.server.postgres, None);
    }

    #[test]
    fn postgres_table_with_and_without_pool() {
        let url = "postgresql://berth@/berth?host=/run/postgresql";
        let c = ok(&format!(
            r#"{{ backend = "postgres", url = "{url}", pool = 8 }}"#
        ));
        assert_eq!(
            c.server.postgres,
            Some(PostgresConfig {
                pool: 8,
                ..PostgresConfig::new(url)
            })
        );
        let c = ok(&format!(
            r#"{{ backend = "postgres", url = "{url}", resync = "5s", renew_from_memory = true }}"#
        ));
        let pg = c.server.postgres.expect("postgres");
        assert_eq!((pg.resync, pg.renew_from_memory), (5, true));
        let c = ok(&format!(r#"{{ backend = "postgres", url = "{url}" }}"#));
        assert_eq!(
            c.server.postgres.map(|p| p.pool),
            Some(PostgresConfig::POOL)
        );
        // Key=value connection strings are accepted too.
        ok(r#"{ backend = "postgres", url = "host=/run/postgresql user=berth dbname=berth" }"#);
    }

    #[test]
    fn bad_tables_point_at_the_problem() {
        assert_eq!(
            errors(r#"{ backend = "mysql", url = "x" }"#),
            [r#"berth.toml:3:21: store: unknown backend `mysql`, expected "sqlite" or "postgres""#]
        );
        let got = errors(r#"{ backend = "postgres" }"#);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("berth.toml:3:9: store: backend \"postgres\" needs `url`"),
            "{got:?}"
        );
        assert_eq!(
            errors(r#"{ backend = "postgres", url = "postgresql://h/db", pool = 0 }"#),
            ["berth.toml:3:67: store: pool must be between 1 and 64 connections"]
        );
        assert_eq!(
            errors(r#"{ backend = "postgres", url = "postgresql://h/db", resync = "0s" }"#),
            ["berth.toml:3:69: store: resync must be at least 1s"]
        );
        assert_eq!(
            errors(r#"{ backend = "sqlite", path = "/x.db", resync = "1m" }"#),
            [r#"berth.toml:3:56: store: `resync` does not apply to backend "sqlite""#]
        );
        assert_eq!(
            errors(r#"{ backend = "sqlite", path = "/x.db", url = "postgresql://h/db" }"#),
            [r#"berth.toml:3:53: store: `url` does not apply to backend "sqlite""#]
        );
        let got = errors(r#"{ backend = "postgres", url = "postgresql://h/db", user = "x" }"#);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("berth.toml:3:") && got[0].contains("unknown field `user`"),
            "{got:?}"
        );
        let got = errors("{ url = \"postgresql://h/db\" }");
        assert!(got[0].contains("missing field `backend`"), "{got:?}");
        let got = errors("42");
        assert!(
            got[0].starts_with("berth.toml:3:9: ") && got[0].contains("a SQLite file path"),
            "{got:?}"
        );
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        let got =
            errors(r#"{ backend = "postgres", url = "postgresql://u:pw@h/db?frobnicate=1" }"#);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with(
                "berth.toml:3:39: store: url is not a PostgreSQL URL: \
                 invalid connection string: unknown option `frobnicate`"
            ),
            "{got:?}"
        );
        assert!(!got[0].contains("pw@"), "{got:?}");
        let got = errors(r#"{ backend = "postgres", url = "postgresql://h/db?sslmode=require" }"#);
        assert!(
            got[0].contains("sslmode=require is not supported"),
            "{got:?}"
        );
        let got = errors(r#"{ backend = "postgres", url = "dbname=berth" }"#);
        assert!(got[0].contains("names no host"), "{got:?}");
    }

    #[test]
    fn display_url_and_debug_leave_the_password_out() {
        let pg = PostgresConfig::new("postgresql://berth:hunter2@db1,db2:5433/leases");
        assert_eq!(
            pg.display_url(),
            "postgresql://berth@db1:5432,db2:5433/leases"
        );
        assert!(!format!("{pg:?}").contains("hunter2"));
        let pg = PostgresConfig::new("postgresql://berth@/berth?host=/run/postgresql");
        assert_eq!(pg.display_url(), "postgresql://berth@/run/postgresql/berth");
    }
}
