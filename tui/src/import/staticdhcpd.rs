//! `berth import staticdhcpd`: staticDHCPd's SQLite database, its `subnets`
//! and `maps` tables, as subnets (lease time, gateway, DNS, NTP, domain)
//! and static hosts. A note names the table and row of what did not convert.

use std::net::Ipv4Addr;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use toml::Value;

use super::Imported;
use super::model::{Berth, Host, Note, Subnet, check_option};

/// staticDHCPd's documented SQLite schema (the two tables read here), for
/// building test databases.
pub const SCHEMA: &str = "\
CREATE TABLE subnets (subnet TEXT NOT NULL, serial INTEGER NOT NULL, lease_time INTEGER NOT NULL,
  gateway TEXT, subnet_mask TEXT, broadcast_address TEXT, ntp_servers TEXT,
  domain_name_servers TEXT, domain_name TEXT, PRIMARY KEY(subnet, serial));
CREATE TABLE maps (mac TEXT PRIMARY KEY NOT NULL, ip TEXT NOT NULL, hostname TEXT,
  subnet TEXT NOT NULL, serial INTEGER NOT NULL,
  FOREIGN KEY (subnet, serial) REFERENCES subnets (subnet, serial));
";

/// Why the database could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path)]
pub struct DbError {
    path: String,
    #[source]
    source: rusqlite::Error,
}

fn list(s: &Option<String>) -> Option<Value> {
    let items: Vec<Value> = s
        .as_deref()?
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| Value::String(x.to_string()))
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

struct Row {
    rowid: i64,
    subnet: String,
    serial: i64,
    lease_time: Option<i64>,
    gateway: Option<String>,
    mask: Option<String>,
    broadcast: Option<String>,
    ntp: Option<String>,
    dns: Option<String>,
    domain: Option<String>,
}

/// The network of a subnets row: its label when that is a CIDR, else the
/// gateway (or broadcast address) under the mask.
fn cidr(r: &Row) -> Option<String> {
    if let Some((a, p)) = r.subnet.split_once('/')
        && let (Ok(a), Ok(p)) = (a.parse::<Ipv4Addr>(), p.parse::<u32>())
        && p <= 32
    {
        let net = u32::from(a) & u32::MAX.checked_shl(32 - p).unwrap_or(0);
        return Some(format!("{}/{p}", Ipv4Addr::from(net)));
    }
    let mask: Ipv4Addr = r.mask.as_deref()?.parse().ok()?;
    let m = u32::from(mask);
    if m.leading_ones() + m.trailing_zeros() != 32 {
        return None;
    }
    let any: Ipv4Addr = r
        .gateway
        .as_deref()
        .or(r.broadcast.as_deref())?
        .split(',')
        .next()?
        .trim()
        .parse()
        .ok()?;
    Some(format!(
        "{}/{}",
        Ipv4Addr::from(u32::from(any) & m),
        m.leading_ones()
    ))
}

/// Reads the database at `path`.
pub fn convert(path: &Path, interfaces: &[String]) -> Result<Imported, DbError> {
    let err = |source| DbError {
        path: path.display().to_string(),
        source,
    };
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
    let mut out = Berth {
        source: format!("staticDHCPd database {}", path.display()),
        ..Berth::default()
    };
    let mut notes = Vec::new();
    let mut note = |line: i64, message: String| {
        notes.push(Note {
            line: usize::try_from(line).unwrap_or(0),
            message,
        })
    };
    let mut stmt = db
        .prepare(
            "SELECT rowid, subnet, serial, lease_time, gateway, subnet_mask, broadcast_address, \
             ntp_servers, domain_name_servers, domain_name FROM subnets ORDER BY rowid",
        )
        .map_err(err)?;
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok(Row {
                rowid: r.get(0)?,
                subnet: r.get(1)?,
                serial: r.get(2)?,
                lease_time: r.get(3)?,
                gateway: r.get(4)?,
                mask: r.get(5)?,
                broadcast: r.get(6)?,
                ntp: r.get(7)?,
                dns: r.get(8)?,
                domain: r.get(9)?,
            })
        })
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    // (label, serial) -> index in out.subnets
    let mut index: Vec<((String, i64), usize)> = Vec::new();
    for r in &rows {
        let Some(c) = cidr(r) else {
            note(
                r.rowid,
                format!(
                    "not converted: subnets row {} ({}, serial {}): no network (a CIDR label, or subnet_mask with gateway or broadcast_address)",
                    r.rowid, r.subnet, r.serial
                ),
            );
            continue;
        };
        if let Some(i) = out.subnets.iter().position(|s| s.cidr == c) {
            note(
                r.rowid,
                format!(
                    "subnets row {} ({}, serial {}): {c} again; its hosts join the first row's subnet and its settings are not converted",
                    r.rowid, r.subnet, r.serial
                ),
            );
            index.push(((r.subnet.clone(), r.serial), i));
            continue;
        }
        let mut s = Subnet {
            cidr: c,
            default_lease: r.lease_time.filter(|t| *t > 0),
            ..Subnet::default()
        };
        for (name, v) in [
            ("routers", list(&r.gateway)),
            ("broadcast-address", r.broadcast.clone().map(Value::String)),
            ("ntp-servers", list(&r.ntp)),
            ("domain-name-servers", list(&r.dns)),
            ("domain-name", r.domain.clone().map(Value::String)),
        ] {
            let Some(v) = v else { continue };
            match check_option(name, &v) {
                Ok(()) => s.options.push((name.into(), v)),
                Err(why) => note(
                    r.rowid,
                    format!("not converted: subnets row {} {name} = {v}: {why}", r.rowid),
                ),
            }
        }
        if s.max_lease.is_none() && s.default_lease.is_some_and(|d| d > 12 * 3600) {
            s.max_lease = s.default_lease;
        }
        index.push(((r.subnet.clone(), r.serial), out.subnets.len()));
        out.subnets.push(s);
    }
    let mut stmt = db
        .prepare("SELECT rowid, mac, ip, hostname, subnet, serial FROM maps ORDER BY rowid")
        .map_err(err)?;
    let maps: Vec<(i64, String, String, Option<String>, String, i64)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    for (rowid, mac, ip, hostname, subnet, serial) in maps {
        if !index.iter().any(|(k, _)| *k == (subnet.clone(), serial)) {
            note(
                rowid,
                format!(
                    "not converted: maps row {rowid} ({mac}): its subnet ({subnet}, serial {serial}) was not converted"
                ),
            );
            continue;
        }
        let name = match hostname.filter(|h| berth_proto::parse::check_hostname(h).is_ok()) {
            Some(h) => h,
            None => format!("host-{}", mac.to_ascii_lowercase().replace([':', '-'], "")),
        };
        out.hosts.push(Host {
            name,
            mac: Some(mac),
            ip,
            line: usize::try_from(rowid).unwrap_or(0),
            ..Host::default()
        });
    }
    out.interfaces = if interfaces.is_empty() {
        note(0, "interfaces: the database does not say which interfaces to serve; written as [\"eth0\"]: set [server] interfaces (or pass --interface)".into());
        vec!["eth0".into()]
    } else {
        interfaces.to_vec()
    };
    notes.sort_by_key(|n| n.line);
    Ok(Imported { config: out, notes })
}
