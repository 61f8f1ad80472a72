//! Writing a batch: one prepared statement per kind of write, and the
//! pipelined transaction that sends a whole batch in one round trip.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Statement};

use super::pg_err;
use crate::store::{StoreError, Write};

/// A lease write is a claim the database arbitrates between daemons: it
/// takes the address only if it is free (no row; released or expired;
/// ended by the database's clock) or already this client's and not renewed
/// since the write was decided (a stale expiry or release loses to a newer
/// renewal through another daemon). A refused claim changes nothing and
/// affects no row, which is how it is told from a won one.
const PUT_LEASE_SQL: &str =
    "INSERT INTO leases AS l (ip, client_id, mac, hostname, state, starts, ends)
     VALUES ($1, $2, $3::text::macaddr, $4, $5, $6, $7)
     ON CONFLICT (ip) DO UPDATE SET
         client_id = EXCLUDED.client_id, mac = EXCLUDED.mac, hostname = EXCLUDED.hostname,
         state = EXCLUDED.state, starts = EXCLUDED.starts, ends = EXCLUDED.ends
     WHERE (l.client_id = EXCLUDED.client_id AND l.starts <= EXCLUDED.starts)
        OR l.state IN ('released', 'expired')
        OR l.ends <= extract(epoch FROM now())::bigint";

/// Deletes free quarantines and observations; never a lease that is still
/// bound (another daemon renewed it): that delete is a lost claim.
const DELETE_LEASE_SQL: &str = "DELETE FROM leases
     WHERE ip = $1 AND (state <> 'bound' OR ends <= extract(epoch FROM now())::bigint)";

const PUT_HOST_SQL: &str = "INSERT INTO hosts (name, mac, ip, options, created_at)
     VALUES ($1, $2::text::macaddr, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET
         mac = EXCLUDED.mac, ip = EXCLUDED.ip, options = EXCLUDED.options";

const DELETE_HOST_SQL: &str = "DELETE FROM hosts WHERE name = $1";

const PUT_BLOCK_SQL: &str =
    "INSERT INTO blocks (mac, since, until) VALUES ($1::text::macaddr, $2, $3)
     ON CONFLICT (mac) DO UPDATE SET since = EXCLUDED.since, until = EXCLUDED.until";

const DELETE_BLOCK_SQL: &str = "DELETE FROM blocks WHERE mac = $1::text::macaddr";

/// The write statements, prepared once per connection with explicit
/// parameter types (so a parameter of the wrong type fails before sending).
pub(super) struct Statements {
    put_lease: Statement,
    delete_lease: Statement,
    put_host: Statement,
    delete_host: Statement,
    put_block: Statement,
    delete_block: Statement,
}

/// Prepares [`Statements`] on a new connection.
pub(super) async fn prepare(client: &Client, label: &str) -> Result<Statements, StoreError> {
    let p = |sql: &'static str, types: &'static [Type]| async move {
        client
            .prepare_typed(sql, types)
            .await
            .map_err(|e| pg_err(label, "preparing statements", &e))
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

/// One write's statement parameters, owned, so the pipelined futures can
/// borrow them for the life of the batch.
pub(super) enum Params {
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
    pub(super) fn of(w: &Write, label: &str) -> Result<Params, StoreError> {
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
                    client: l.client.as_bytes().to_vec(),
                    mac: l.mac.to_string(),
                    hostname: l.hostname.as_deref().map(str::to_string),
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

    /// The address of a lease write: the writes that are claims.
    pub(super) fn claim(&self) -> Option<IpAddr> {
        match self {
            Params::PutLease { ip, .. } | Params::DeleteLease(ip) => Some(*ip),
            _ => None,
        }
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

/// The order to send a batch's writes in: lease writes sorted by address
/// among the positions lease writes hold (stable, so writes to one address
/// keep their order), everything else where it was. Two daemons' batches
/// then lock the rows they share in the same order and cannot deadlock on
/// them. Other tables keep their order: their unique constraints make it
/// matter.
pub(super) fn send_order(batch: &[(String, Params)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..batch.len()).collect();
    let slots: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| batch[i].1.claim().is_some())
        .collect();
    let mut sorted = slots.clone();
    sorted.sort_by_key(|&i| batch[i].1.claim());
    for (slot, i) in slots.into_iter().zip(sorted) {
        order[slot] = i;
    }
    order
}

/// BEGIN, every write, COMMIT: all queued before any reply is read, so the
/// batch costs one round trip. Runs on the store's runtime, whose single
/// worker cannot run the connection task between these first polls.
///
/// Returns, for each write (in batch order), the rows it affected: 0 for a
/// refused claim (or a delete of an absent row).
pub(super) async fn apply_pipelined(
    client: Arc<Client>,
    stmts: Arc<Statements>,
    batch: Vec<(String, Params)>,
    label: String,
) -> Result<Vec<u64>, StoreError> {
    let order = send_order(&batch);
    let begin = Sent::send(client.batch_execute("BEGIN")).await;
    let mut writes = Vec::with_capacity(batch.len());
    for &i in &order {
        let params = &batch[i].1;
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
        .map(|e| pg_err(&label, "starting transaction", &e));
    let mut affected = vec![0; batch.len()];
    for (&i, write) in order.iter().zip(writes) {
        match write.reply().await {
            Ok(n) => affected[i] = n,
            Err(e) => {
                failure.get_or_insert_with(|| pg_err(&label, batch[i].0.as_str(), &e));
            }
        }
    }
    let ended = end.reply().await;
    if let Some(failure) = failure {
        return Err(failure);
    }
    if !complete {
        // Not expected (an early finish is a failure), but never report a
        // rolled-back batch as written.
        return Err(StoreError::Postgres {
            url: label,
            what: "sending the batch".into(),
            reason: "a request finished before it was sent; the batch was rolled back".into(),
        });
    }
    ended.map_err(|e| pg_err(&label, "committing", &e))?;
    Ok(affected)
}

/// How a write is named in an error, matching the SQLite backend's wording.
pub(super) fn subject(w: &Write) -> String {
    match w {
        Write::PutLease(l) => format!("put {}", l.ip),
        Write::DeleteLease(ip) => format!("delete {ip}"),
        Write::PutHost(h) => format!("put host {}", h.name),
        Write::DeleteHost(n) => format!("delete host {n}"),
        Write::PutBlock(b) => format!("put block {}", b.mac),
        Write::DeleteBlock(m) => format!("delete block {m}"),
    }
}
