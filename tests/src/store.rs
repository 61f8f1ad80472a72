//! Reading a berthd SQLite store from a test, after the fact: its leases
//! by address and its integrity check.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::{Context, Result};

/// One row of the `leases` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLease {
    pub mac: String,
    /// `bound`, `released`, `declined`, `offered`, ...
    pub state: String,
    /// UTC unix seconds.
    pub ends: i64,
}

/// The store's leases by address, and `PRAGMA integrity_check`'s verdict
/// (`"ok"` when sound).
pub fn leases(path: &Path) -> Result<(BTreeMap<Ipv4Addr, StoredLease>, String)> {
    let db = rusqlite::Connection::open(path)
        .with_context(|| format!("opening the store {}", path.display()))?;
    let verdict: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let mut stmt = db.prepare("SELECT ip, mac, state, ends FROM leases")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            StoredLease {
                mac: r.get(1)?,
                state: r.get(2)?,
                ends: r.get(3)?,
            },
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (ip, lease) = row?;
        if let Ok(ip) = ip.parse() {
            out.insert(ip, lease);
        }
    }
    Ok((out, verdict))
}
