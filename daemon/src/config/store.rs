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
}

impl PostgresConfig {
    /// Default `pool`.
    pub const POOL: u32 = 4;
    /// Largest `pool` accepted.
    pub const MAX_POOL: u32 = 64;

    /// A settings with the default pool size.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            pool: Self::POOL,
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
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = c.get_ports().iter().map(u16::to_string).collect();
    let mut s = String::from("postgresql://");
    if let Some(user) = c.get_user() {
        s.push_str(user);
        s.push('@');
    }
    s.push_str(&hosts.join(","));
    if !ports.is_empty() {
        s.push(':');
        s.push_str(&ports.join(","));
    }
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
            report.error(
                url.span(),
                format!("store: url is not a PostgreSQL URL: {e}"),
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
    })
}
