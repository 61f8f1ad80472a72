//! Reading rows back: the load queries and the decoding of each row, which
//! skips (and logs) a row it cannot read instead of failing the load.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use tokio_postgres::Row;

use super::{pg_err, reason};
use crate::addr::MacAddr;
use crate::blocks::Block;
use crate::lease::{ClientKey, Lease, LeaseState};
use crate::store::StoreError;
use crate::store::StoredHost;

pub(super) const LOAD_LEASES_SQL: &str =
    "SELECT host(ip), client_id, mac::text, hostname, state, starts, ends
     FROM leases ORDER BY ip";

pub(super) const LOAD_HOSTS_SQL: &str =
    "SELECT name, mac::text, host(ip), options, created_at FROM hosts ORDER BY name";

pub(super) const LOAD_BLOCKS_SQL: &str = "SELECT mac::text, since, until FROM blocks ORDER BY mac";

/// [`LOAD_LEASES_SQL`] for some addresses only.
pub(super) const LEASES_AT_SQL: &str =
    "SELECT host(ip), client_id, mac::text, hostname, state, starts, ends
     FROM leases WHERE ip = ANY($1::inet[])";

/// [`LOAD_HOSTS_SQL`] for some names only.
pub(super) const HOSTS_AT_SQL: &str =
    "SELECT name, mac::text, host(ip), options, created_at FROM hosts WHERE name = ANY($1)";

/// [`LOAD_BLOCKS_SQL`] for some MACs only.
pub(super) const BLOCKS_AT_SQL: &str =
    "SELECT mac::text, since, until FROM blocks WHERE mac = ANY($1::text[]::macaddr[])";

/// The leases the database holds now at `ips` (rows that do not decode
/// are left out, as absent).
pub(super) async fn leases_at(
    client: std::sync::Arc<tokio_postgres::Client>,
    ips: Vec<Ipv4Addr>,
    label: String,
) -> Result<HashMap<Ipv4Addr, Lease>, StoreError> {
    let ips: Vec<IpAddr> = ips.into_iter().map(IpAddr::V4).collect();
    let rows = client
        .query(LEASES_AT_SQL, &[&ips])
        .await
        .map_err(|e| pg_err(&label, "reading leases", &e))?;
    Ok(rows
        .iter()
        .filter_map(|r| decode_lease(r).ok())
        .map(|l| (l.ip, l))
        .collect())
}

/// The first column of a row, for naming it in a warning.
pub(super) fn describe(row: &Row) -> String {
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

pub(super) fn decode_lease(row: &Row) -> Result<Lease, String> {
    let state: String = col(row, 4)?;
    Ok(Lease {
        ip: ipv4(&col::<String>(row, 0)?)?,
        client: ClientKey::from(col::<&[u8]>(row, 1)?),
        mac: mac(&col::<String>(row, 2)?)?,
        hostname: col(row, 3)?,
        state: LeaseState::parse(&state).ok_or_else(|| format!("unknown state `{state}`"))?,
        starts: time(row, 5)?,
        ends: time(row, 6)?,
    })
}

pub(super) fn decode_host(row: &Row) -> Result<StoredHost, String> {
    Ok(StoredHost {
        name: col(row, 0)?,
        mac: mac(&col::<String>(row, 1)?)?,
        ip: ipv4(&col::<String>(row, 2)?)?,
        options: col(row, 3)?,
        created_at: time(row, 4)?,
    })
}

pub(super) fn decode_block(row: &Row) -> Result<Block, String> {
    let until: Option<i64> = col(row, 2)?;
    Ok(Block {
        mac: mac(&col::<String>(row, 0)?)?,
        since: time(row, 1)?,
        until: until
            .map(|u| u64::try_from(u).map_err(|_| format!("until is negative ({u})")))
            .transpose()?,
    })
}
