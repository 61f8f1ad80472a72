//! Following the other daemons' changes to a shared database: a dedicated
//! connection LISTENs on `berth_changes` (the triggers of schema step 2),
//! reads back the records named by each burst of notifications in one
//! query per table, and re-reads everything on connecting and every
//! `resync` seconds, which bounds staleness should a notification be lost.
//! Notifications of this store's own writes (its origin) are skipped, so
//! nothing it learned is written back.
//!
//! The connection is re-opened with backoff (0.5 s doubling to 10 s) when
//! lost; the re-read on reconnect covers what happened meanwhile.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::{Runner, pg_err, reason, rows};
use crate::addr::MacAddr;
use crate::config::PostgresConfig;
use crate::store::{Follower, Learned, StoreError};

/// The notification channel the triggers send on.
pub(super) const CHANNEL: &str = "berth_changes";

const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Starts following on a runtime of its own; stops when the follower is
/// dropped or `tx` is closed.
pub(super) fn start(
    cfg: &PostgresConfig,
    origin: String,
    tx: mpsc::Sender<Learned>,
) -> Result<Follower, StoreError> {
    let runner = Runner::new(cfg)?;
    let resync = Duration::from_secs(u64::from(cfg.resync.max(1)));
    let (pg, label) = (runner.pg.clone(), runner.label.clone());
    if let Some(rt) = &runner.rt {
        rt.spawn(follow(pg, label, origin, resync, tx));
    }
    Ok(Follower::new(runner))
}

async fn follow(
    pg: tokio_postgres::Config,
    label: String,
    origin: String,
    resync: Duration,
    tx: mpsc::Sender<Learned>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let started = Instant::now();
        match session(&pg, &label, &origin, resync, &tx).await {
            Ok(()) => return, // the daemon stopped listening
            Err(e) => {
                if tx.is_closed() {
                    return;
                }
                if started.elapsed() > BACKOFF_MAX {
                    backoff = BACKOFF_MIN; // it worked for a while
                }
                tracing::warn!(
                    store = %label,
                    retry_in = ?backoff,
                    "following other daemons' changes stopped: {e}"
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// One connection's life: LISTEN, read everything, then follow. `Ok` once
/// `tx` is closed; `Err` when the connection fails.
async fn session(
    pg: &tokio_postgres::Config,
    label: &str,
    origin: &str,
    resync: Duration,
    tx: &mpsc::Sender<Learned>,
) -> Result<(), StoreError> {
    let (client, mut connection) = pg
        .connect(NoTls)
        .await
        .map_err(|e| pg_err(label, "connecting to follow changes", &e))?;
    let (ntx, mut nrx) = mpsc::unbounded_channel::<String>();
    let driver_label = label.to_string();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(AsyncMessage::Notification(n)) => {
                    if ntx.send(n.payload().to_string()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(store = %driver_label, "change feed connection: {}", reason(&e));
                    return;
                }
            }
        }
    });
    let result = async {
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .map_err(|e| pg_err(label, "listening for changes", &e))?;
        tracing::info!(store = %label, "following other daemons' changes");
        let mut tick = tokio::time::interval(resync);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let learned = tokio::select! {
                // The first tick is at once: everything, after LISTEN, so
                // nothing between the two is missed.
                _ = tick.tick() => everything(&client, label).await?,
                payload = nrx.recv() => {
                    let Some(payload) = payload else {
                        return Err(StoreError::Postgres {
                            url: label.to_string(),
                            what: "following changes".into(),
                            reason: "connection closed".into(),
                        });
                    };
                    let mut keys = Keys::default();
                    keys.add(&payload, origin);
                    // A burst is read back in one query per table.
                    while let Ok(p) = nrx.try_recv() {
                        keys.add(&p, origin);
                    }
                    if keys.is_empty() {
                        continue;
                    }
                    keys.read(&client, label).await?
                }
                () = tx.closed() => return Ok(()),
            };
            if tx.send(learned).await.is_err() {
                return Ok(());
            }
        }
    }
    .await;
    drop(client);
    driver.abort();
    result
}

/// The records a burst of notifications names, by table.
#[derive(Debug, Default, PartialEq, Eq)]
struct Keys {
    leases: Vec<Ipv4Addr>,
    hosts: Vec<String>,
    blocks: Vec<MacAddr>,
}

impl Keys {
    /// Adds what `payload` (`"<table> <origin> <key>"`) names, unless this
    /// store wrote it (`own`) or it cannot be read.
    fn add(&mut self, payload: &str, own: &str) {
        let mut parts = payload.splitn(3, ' ');
        let (Some(table), Some(origin), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        if origin == own {
            return;
        }
        match table {
            "leases" => self.leases.extend(key.parse::<Ipv4Addr>().ok()),
            "hosts" => self.hosts.push(key.to_string()),
            "blocks" => self.blocks.extend(key.parse::<MacAddr>().ok()),
            _ => {}
        }
    }

    fn is_empty(&self) -> bool {
        self.leases.is_empty() && self.hosts.is_empty() && self.blocks.is_empty()
    }

    /// The records as the database holds them now; absent ones as `None`.
    async fn read(mut self, client: &Client, label: &str) -> Result<Learned, StoreError> {
        let read_at = Instant::now();
        self.leases.sort_unstable();
        self.leases.dedup();
        self.hosts.sort_unstable();
        self.hosts.dedup();
        self.blocks.sort_unstable();
        self.blocks.dedup();
        let mut learned = Learned {
            leases: Vec::new(),
            hosts: Vec::new(),
            blocks: Vec::new(),
            full: false,
            read_at,
        };
        if !self.leases.is_empty() {
            let ips: Vec<IpAddr> = self.leases.iter().map(|ip| IpAddr::V4(*ip)).collect();
            let found: HashMap<Ipv4Addr, _> =
                query(client, label, rows::LEASES_AT_SQL, &ips, rows::decode_lease)
                    .await?
                    .into_iter()
                    .map(|l| (l.ip, l))
                    .collect();
            learned.leases = self
                .leases
                .into_iter()
                .map(|ip| (ip, found.get(&ip).cloned()))
                .collect();
        }
        if !self.hosts.is_empty() {
            let found: HashMap<String, _> = query(
                client,
                label,
                rows::HOSTS_AT_SQL,
                &self.hosts,
                rows::decode_host,
            )
            .await?
            .into_iter()
            .map(|h| (h.name.clone(), h))
            .collect();
            learned.hosts = self
                .hosts
                .into_iter()
                .map(|n| {
                    let h = found.get(&n).cloned();
                    (n, h)
                })
                .collect();
        }
        if !self.blocks.is_empty() {
            let macs: Vec<String> = self.blocks.iter().map(ToString::to_string).collect();
            let found: HashMap<MacAddr, _> = query(
                client,
                label,
                rows::BLOCKS_AT_SQL,
                &macs,
                rows::decode_block,
            )
            .await?
            .into_iter()
            .map(|b| (b.mac, b))
            .collect();
            learned.blocks = self
                .blocks
                .into_iter()
                .map(|m| (m, found.get(&m).copied()))
                .collect();
        }
        Ok(learned)
    }
}

async fn query<P, T>(
    client: &Client,
    label: &str,
    sql: &str,
    keys: &P,
    decode: fn(&tokio_postgres::Row) -> Result<T, String>,
) -> Result<Vec<T>, StoreError>
where
    P: tokio_postgres::types::ToSql + Sync,
{
    let rows = client
        .query(sql, &[keys])
        .await
        .map_err(|e| pg_err(label, "reading changed records", &e))?;
    Ok(decoded(&rows, decode))
}

/// Everything, for a resync.
async fn everything(client: &Client, label: &str) -> Result<Learned, StoreError> {
    let read_at = Instant::now();
    let all = |sql| async move {
        client
            .query(sql, &[])
            .await
            .map_err(|e| pg_err(label, "re-reading the database", &e))
    };
    let leases = all(rows::LOAD_LEASES_SQL).await?;
    let hosts = all(rows::LOAD_HOSTS_SQL).await?;
    let blocks = all(rows::LOAD_BLOCKS_SQL).await?;
    let leases = decoded(&leases, rows::decode_lease);
    let hosts = decoded(&hosts, rows::decode_host);
    let blocks = decoded(&blocks, rows::decode_block);
    Ok(Learned {
        leases: leases.into_iter().map(|l| (l.ip, Some(l))).collect(),
        hosts: hosts
            .into_iter()
            .map(|h| (h.name.clone(), Some(h)))
            .collect(),
        blocks: blocks.into_iter().map(|b| (b.mac, Some(b))).collect(),
        full: true,
        read_at,
    })
}

/// The rows that decode (the others are skipped, as at start-up).
fn decoded<T>(
    rows: &[tokio_postgres::Row],
    f: fn(&tokio_postgres::Row) -> Result<T, String>,
) -> Vec<T> {
    rows.iter().filter_map(|r| f(r).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_records_and_own_writes_are_skipped() {
        let mut k = Keys::default();
        k.add("leases other-1 10.0.0.5", "me-1");
        k.add("leases me-1 10.0.0.6", "me-1");
        k.add("hosts other-1 printer in hall", "me-1");
        k.add("blocks  02:00:00:00:00:01", "me-1"); // no origin set
        k.add("leases other-1 not-an-ip", "me-1");
        k.add("garbage", "me-1");
        assert_eq!(
            k,
            Keys {
                leases: vec![Ipv4Addr::new(10, 0, 0, 5)],
                hosts: vec!["printer in hall".into()],
                blocks: vec![MacAddr([2, 0, 0, 0, 0, 1])],
            }
        );
    }
}
