//! What the benches share: their settings from the environment, and the
//! large store of bound leases the in-process benches start from.

use std::net::Ipv4Addr;
use std::ops::RangeInclusive;
use std::path::Path;

use anyhow::{Context, Result, bail};
use berthd::addr::MacAddr;
use berthd::lease::{ClientKey, Lease, LeaseState};
use berthd::store::sqlite::SqliteStore;
use berthd::store::{Store, Write};

/// `name` from the environment as a number, `default` when unset.
pub fn env_u32(name: &str, default: u32) -> Result<u32> {
    env_u32_within(name, default, 0..=u32::MAX)
}

/// [`env_u32`], refusing a value outside `range`.
pub fn env_u32_within(name: &str, default: u32, range: RangeInclusive<u32>) -> Result<u32> {
    let Ok(v) = std::env::var(name) else {
        return Ok(default);
    };
    let n: u32 = v
        .trim()
        .parse()
        .with_context(|| format!("{name}={v:?} is not a number"))?;
    if !range.contains(&n) {
        bail!(
            "{name}={n} is out of range {}..={}",
            range.start(),
            range.end()
        );
    }
    Ok(n)
}

/// [`env_u32_within`] for a bench whose `main` returns nothing: a bad
/// value ends the bench, saying what was wrong.
pub fn knob(name: &str, default: u32, range: RangeInclusive<u32>) -> u32 {
    env_u32_within(name, default, range).unwrap_or_else(|e| panic!("{e:#}"))
}

/// The server address of the large store's subnet, 10.0.0.0/8.
pub const STORE_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// A berthd config serving the large store's subnet on interface `bench0`,
/// store and control socket in `dir`.
pub fn store_config(dir: &Path) -> String {
    format!(
        r#"
[server]
interfaces = ["bench0"]
store = "{store}"
control_socket = "{sock}"
[[subnet]]
cidr = "10.0.0.0/8"
range = ["10.0.1.0", "10.255.255.254"]
options = {{ routers = ["{STORE_SERVER}"] }}
"#,
        store = dir.join("leases.db").display(),
        sock = dir.join("control.sock").display(),
    )
}

/// Client `n`'s MAC.
pub fn store_mac(n: u32) -> MacAddr {
    let [a, b, c, d] = n.to_be_bytes();
    MacAddr([0x02, 0, a, b, c, d])
}

/// Client `n`'s address: 10.0.1.0 + n.
pub fn store_ip(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 1, 0)) + n)
}

/// Lease `n`: bound on [`store_ip`] for [`store_mac`], for a day from `now`.
/// Every fourth has a host name when `names` is 4, every one when 1.
pub fn store_lease(n: u32, now: u64, names: u32) -> Lease {
    let m = store_mac(n);
    let mut client = vec![1];
    client.extend_from_slice(&m.0);
    Lease {
        ip: store_ip(n),
        client: ClientKey::from(client),
        mac: m,
        hostname: (n % names.max(1) == 0).then(|| format!("host-{n:06}").into()),
        state: LeaseState::Bound,
        starts: now,
        ends: now + 86_400,
    }
}

/// Writes `count` leases ([`store_lease`]) into a new SQLite store at
/// `path`, in one transaction.
pub fn fill_store(path: &Path, count: u32, now: u64, names: u32) -> Result<()> {
    let mut store = SqliteStore::open(path).context("open store")?;
    let writes: Vec<Write> = (0..count)
        .map(|n| Write::PutLease(store_lease(n, now, names)))
        .collect();
    store.apply(&writes).context("fill store")?;
    Ok(())
}
