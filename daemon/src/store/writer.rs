//! The group-commit writer.
//!
//! One std thread owns the [`Store`]. Request handlers queue their writes with
//! [`Writer::commit`] and await the result. The thread blocks for the first
//! request, takes whatever else is already queued (up to
//! [`MAX_BATCH_WRITES`]), applies it all in one transaction and answers every
//! waiter. While that transaction's fsync runs, new requests pile up and form
//! the next batch, so under load many requests share one fsync and at low load
//! a lone request is not delayed waiting for company, unless a commit delay
//! is set ([`Writer::set_commit_delay`]): then the thread waits that long
//! after the first request of a batch for others to share it.
//!
//! Requests are applied in the order [`Writer::commit`] was called.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::pace::Pace;
use super::{Lost, Store, StoreError, Write};
use crate::config::CommitDelay;
use crate::metrics::{Histogram, HistogramSnapshot};

/// Upper bound on the writes gathered from several requests into one
/// transaction, so a large backlog does not become one huge transaction. A
/// single larger request is still applied whole (it must be atomic).
pub const MAX_BATCH_WRITES: usize = 4096;

/// What one request hears: its writes are durable, except the lost
/// claims listed (indexes into the request's writes), or nothing was written.
pub type Committed = Result<Vec<Lost>, StoreError>;

type Reply = oneshot::Sender<Committed>;

enum Msg {
    Commit { writes: Vec<Write>, reply: Reply },
    Shutdown(oneshot::Sender<()>),
}

struct Shared {
    batches: AtomicU64,
    writes: AtomicU64,
    failures: AtomicU64,
    /// How long each transaction took, in microseconds.
    commit_micros: Histogram,
    /// Writes per group transaction.
    batch_writes: Histogram,
    /// Set once the thread has flushed and exited cleanly (not after a panic).
    stopped: AtomicBool,
    /// How long a batch waits for company after its first request, µs,
    /// or [`AUTO`].
    commit_delay_us: AtomicU64,
}

/// `commit_delay_us` for [`CommitDelay::Auto`].
const AUTO: u64 = u64::MAX;

/// Transaction times' bucket bounds (µs): 100 µs to 10 s.
const COMMIT_MICROS: &[u64] = &[
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];
/// Batch sizes' bucket bounds: powers of two up to [`MAX_BATCH_WRITES`].
const BATCH_WRITES: &[u64] = &[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

impl Default for Shared {
    fn default() -> Self {
        Shared {
            batches: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            commit_micros: Histogram::new(COMMIT_MICROS, 1e-6),
            batch_writes: Histogram::new(BATCH_WRITES, 1.0),
            stopped: AtomicBool::new(false),
            commit_delay_us: AtomicU64::new(AUTO),
        }
    }
}

impl Shared {
    /// Applies `batch` as one transaction, timing it.
    fn apply(&self, store: &mut dyn Store, batch: &[Write]) -> Result<Vec<Lost>, StoreError> {
        let started = Instant::now();
        let result = store.apply(batch);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.commit_micros.observe(micros);
        result
    }
}

/// The writer's histograms since it started.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterHistograms {
    /// Seconds per store transaction (group commits and their retries).
    pub commit_seconds: HistogramSnapshot,
    /// Writes per group transaction.
    pub batch_writes: HistogramSnapshot,
}

/// Counters since the writer started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Group transactions attempted: one per drain of the queue. (The
    /// per-request retries after a failed group are not counted here.)
    pub batches: u64,
    /// Writes made durable.
    pub writes: u64,
    /// Requests answered with an error.
    pub failures: u64,
}

/// Handle to the writer thread. Cheap to clone; every clone feeds the same
/// thread. Dropping the last handle stops the thread after it has applied
/// everything queued; [`Writer::shutdown`] does the same and waits for it.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    shared: Arc<Shared>,
    backend: &'static str,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("backend", &self.backend)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Writer {
    /// Start the writer thread, which takes ownership of `store`.
    ///
    /// # Panics
    /// If the operating system cannot create a thread, like
    /// [`std::thread::spawn`]; see [`Writer::try_spawn`].
    pub fn spawn(store: Box<dyn Store>) -> Writer {
        match Self::try_spawn(store) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`Writer::spawn`], returning an error if the thread cannot be created.
    pub fn try_spawn(store: Box<dyn Store>) -> Result<Writer, StoreError> {
        let backend = store.backend();
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("berth-store".into())
            .spawn(move || run(store, rx, thread_shared))
            .map_err(|e| StoreError::Io {
                path: backend.to_string(),
                what: "starting the store writer thread".into(),
                reason: e.to_string(),
            })?;
        Ok(Writer {
            tx,
            shared,
            backend,
        })
    }

    /// Queue `writes` to be applied atomically and resolve once they are
    /// durable (but for the lost claims listed, see [`Store::apply`]), or
    /// with the error that prevented it.
    ///
    /// The writes are queued when this is *called*, not when the future is
    /// first polled, so commit order is call order. Dropping the future does
    /// not cancel the writes; it only stops listening for the result. Never
    /// blocks: safe to call from async tasks. An empty `writes` resolves once
    /// everything queued before it has been applied (a barrier).
    pub fn commit(&self, writes: Vec<Write>) -> impl Future<Output = Committed> + Send + 'static {
        let (reply, rx) = oneshot::channel();
        let sent = self.tx.send(Msg::Commit { writes, reply }).is_ok();
        async move {
            if !sent {
                return Err(StoreError::WriterGone);
            }
            // A dropped reply means the request was never answered: the thread
            // died (a backend panic) or had already stopped when it arrived.
            rx.await.unwrap_or(Err(StoreError::WriterGone))
        }
    }

    /// How long the thread waits, after the first request of a batch, for
    /// more to share its transaction and flush ([`CommitDelay::Auto`] by
    /// default: see [`super::pace`]). Takes effect from the next batch.
    pub fn set_commit_delay(&self, delay: CommitDelay) {
        let us = match delay {
            CommitDelay::Auto => AUTO,
            CommitDelay::Fixed(us) => u64::from(us),
        };
        self.shared.commit_delay_us.store(us, Ordering::Relaxed);
    }

    /// Counters since the writer started.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.shared.batches.load(Ordering::Relaxed),
            writes: self.shared.writes.load(Ordering::Relaxed),
            failures: self.shared.failures.load(Ordering::Relaxed),
        }
    }

    /// Transaction times and batch sizes since the writer started.
    pub fn histograms(&self) -> WriterHistograms {
        WriterHistograms {
            commit_seconds: self.shared.commit_micros.snapshot(),
            batch_writes: self.shared.batch_writes.snapshot(),
        }
    }

    /// The backend's name ("sqlite", "memory", ...), for status output.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Apply everything queued so far (each waiter gets its result), close the
    /// store and stop the thread. Commits made afterwards through other clones
    /// fail with [`StoreError::WriterGone`].
    ///
    /// Returns `Err(WriterGone)` if the thread had already died without a
    /// clean shutdown, i.e. queued writes may have been lost. Calling it again
    /// after a clean shutdown returns `Ok`.
    ///
    /// Like [`Writer::commit`], the request is queued when this is called.
    pub fn shutdown(self) -> impl Future<Output = Result<(), StoreError>> + Send + 'static {
        let (ack, done) = oneshot::channel();
        let sent = self.tx.send(Msg::Shutdown(ack)).is_ok();
        let shared = self.shared;
        async move {
            let acked = sent && done.await.is_ok();
            if acked || shared.stopped.load(Ordering::Acquire) {
                Ok(())
            } else {
                Err(StoreError::WriterGone)
            }
        }
    }
}

/// The writes of one drain of the queue, and who is waiting for which.
#[derive(Default)]
struct Group {
    batch: Vec<Write>,
    waiters: Vec<(Range<usize>, Reply)>,
}

impl Group {
    fn push(&mut self, writes: Vec<Write>, reply: Reply) {
        let start = self.batch.len();
        self.batch.extend(writes);
        self.waiters.push((start..self.batch.len(), reply));
    }

    fn commit(self, store: &mut dyn Store, shared: &Shared) {
        let Group { batch, waiters } = self;
        if waiters.is_empty() {
            return;
        }
        if batch.is_empty() {
            for (_, reply) in waiters {
                let _ = reply.send(Ok(Vec::new()));
            }
            return;
        }
        shared.batches.fetch_add(1, Ordering::Relaxed);
        shared.batch_writes.observe(count(batch.len()));
        match shared.apply(store, &batch) {
            Ok(lost) => {
                shared.writes.fetch_add(
                    count(batch.len().saturating_sub(lost.len())),
                    Ordering::Relaxed,
                );
                let mut lost = lost.into_iter().peekable();
                for (range, reply) in waiters {
                    // Lost claims come in batch order, as the ranges do.
                    let mut mine = Vec::new();
                    while let Some(l) = lost.next_if(|l| l.index < range.end) {
                        mine.push(Lost {
                            index: l.index - range.start,
                            ..l
                        });
                    }
                    // The waiter may have stopped listening; the write stands regardless.
                    let _ = reply.send(Ok(mine));
                }
            }
            Err(e) if waiters.len() == 1 => {
                shared.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("store commit failed: {e}");
                for (_, reply) in waiters {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            Err(e) => {
                // One bad request must not sink the others: give each its own
                // transaction, in the original order, and its own answer.
                tracing::warn!(
                    requests = waiters.len(),
                    writes = batch.len(),
                    "group commit failed, retrying each request alone: {e}"
                );
                for (range, reply) in waiters {
                    let n = range.len();
                    let result = shared.apply(store, &batch[range]);
                    match &result {
                        Ok(lost) => {
                            shared
                                .writes
                                .fetch_add(count(n - lost.len()), Ordering::Relaxed);
                        }
                        Err(e) => {
                            shared.failures.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!("store commit failed: {e}");
                        }
                    }
                    let _ = reply.send(result);
                }
            }
        }
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The writer thread's loop.
fn run(mut store: Box<dyn Store>, rx: mpsc::Receiver<Msg>, shared: Arc<Shared>) {
    // A batch held for company sleeps 50 us or more: the default
    // 50 us of timer slack would add as much again.
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and only
    // affects the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong);
    }
    let mut acks = Vec::new();
    let mut stopping = false;
    // A request that would have pushed the last group over the bound; it
    // starts the next group.
    let mut carry: Option<Msg> = None;
    let mut pace = Pace::new(Instant::now());
    loop {
        // Block for work until asked to stop; after that, only drain what is
        // already queued. `recv` fails once every handle is dropped and the
        // queue is empty, which is also a clean stop.
        let first = match carry.take() {
            Some(msg) => Some(msg),
            None if stopping => rx.try_recv().ok(),
            None => rx.recv().ok(),
        };
        let Some(first) = first else { break };
        let opened = Instant::now();
        let delay = match shared.commit_delay_us.load(Ordering::Relaxed) {
            AUTO => pace.window(opened),
            0 => None,
            us => Some(Duration::from_micros(us)),
        };
        let mut company_until = delay.map(|d| opened + d);
        let mut group = Group::default();
        let mut next = Some(first);
        loop {
            let Some(msg) = next.take().or_else(|| {
                // The queue is empty: wait for company until the delay is up
                // (not while stopping), asleep rather than in `recv`, so
                // the requests that come meanwhile do not each wake us.
                let until = company_until.take().filter(|_| !stopping)?;
                if let Some(left) = until.checked_duration_since(Instant::now()) {
                    std::thread::sleep(left);
                }
                rx.try_recv().ok()
            }) else {
                break;
            };
            match msg {
                Msg::Commit { writes, reply } => {
                    if !group.batch.is_empty()
                        && group.batch.len() + writes.len() > MAX_BATCH_WRITES
                    {
                        carry = Some(Msg::Commit { writes, reply });
                        break;
                    }
                    group.push(writes, reply);
                }
                Msg::Shutdown(ack) => {
                    acks.push(ack);
                    stopping = true;
                }
            }
            next = rx.try_recv().ok();
        }
        let closed = Instant::now();
        pace.closed(closed, group.waiters.len());
        let applies = !group.batch.is_empty();
        group.commit(store.as_mut(), &shared);
        if applies {
            pace.committed(closed.elapsed());
        }
    }
    // Close the queue first so late commits fail fast instead of waiting
    // forever, then close the store so the file is checkpointed and released
    // before shutdown() returns.
    drop(rx);
    drop(store);
    shared.stopped.store(true, Ordering::Release);
    for ack in acks {
        let _ = ack.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::MacAddr;
    use crate::lease::{ClientKey, Lease, LeaseState};
    use crate::store::MemoryStore;
    use crate::store::sqlite::SqliteStore;
    use std::net::Ipv4Addr;
    use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

    fn lease(n: u16) -> Lease {
        let [hi, lo] = n.to_be_bytes();
        Lease {
            ip: Ipv4Addr::new(10, 1, hi, lo),
            client: ClientKey::from(vec![1, 2, 0, 0, 0, hi, lo]),
            mac: MacAddr([2, 0, 0, 0, hi, lo]),
            hostname: Some(format!("h{n}").into()),
            state: LeaseState::Bound,
            starts: 1_700_000_000,
            ends: 1_700_003_600,
        }
    }

    /// Wraps a store and holds its first `apply` until released, so a test
    /// can queue requests behind it and know they will form one group.
    struct Gated<S> {
        inner: S,
        entered: Option<SyncSender<()>>,
        release: Option<Receiver<()>>,
    }

    struct Gate {
        entered: Receiver<()>,
        release: SyncSender<()>,
    }

    impl Gate {
        fn wait_entered(&self) {
            self.entered.recv().expect("first apply reached");
        }
        fn open(&self) {
            self.release.send(()).expect("release");
        }
    }

    fn gated<S: Store>(inner: S) -> (Gated<S>, Gate) {
        let (entered_tx, entered_rx) = sync_channel(1);
        let (release_tx, release_rx) = sync_channel(1);
        (
            Gated {
                inner,
                entered: Some(entered_tx),
                release: Some(release_rx),
            },
            Gate {
                entered: entered_rx,
                release: release_tx,
            },
        )
    }

    impl<S: Store> Store for Gated<S> {
        fn backend(&self) -> &'static str {
            self.inner.backend()
        }
        fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError> {
            self.inner.load_leases()
        }
        fn load_hosts(&mut self) -> Result<Vec<crate::store::StoredHost>, StoreError> {
            self.inner.load_hosts()
        }
        fn load_blocks(&mut self) -> Result<Vec<crate::blocks::Block>, StoreError> {
            self.inner.load_blocks()
        }
        fn apply(&mut self, batch: &[Write]) -> Result<Vec<Lost>, StoreError> {
            if let (Some(entered), Some(release)) = (self.entered.take(), self.release.take()) {
                entered.send(()).expect("signal entered");
                release.recv().expect("wait for release");
            }
            self.inner.apply(batch)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_delay_lets_a_later_request_share_the_batch() {
        let mem = MemoryStore::new();
        let writer = Writer::spawn(Box::new(mem.clone()));
        writer.set_commit_delay(CommitDelay::Fixed(1_000_000));
        let started = Instant::now();
        let first = tokio::spawn(writer.commit(vec![Write::PutLease(lease(1))]));
        // Well inside the delay: the writer holds the first batch open.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = writer.commit(vec![Write::PutLease(lease(2))]);
        second.await.expect("second commit");
        first.await.expect("task").expect("first commit");
        assert!(started.elapsed() >= Duration::from_secs(1));
        let stats = writer.stats();
        assert_eq!((stats.batches, stats.writes), (1, 2), "{stats:?}");

        // Back to no delay: a lone request goes at once, in a batch of its own.
        writer.set_commit_delay(CommitDelay::Fixed(0));
        writer
            .commit(vec![Write::PutLease(lease(3))])
            .await
            .expect("third commit");
        assert_eq!(writer.stats().batches, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_share_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("leases.db");
        let store = SqliteStore::open(&path).expect("open");
        let writer = Writer::spawn(Box::new(store));
        assert_eq!(writer.backend(), "sqlite");

        // 200 concurrent commits.
        let tasks: Vec<_> = (0..200u16)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move { w.commit(vec![Write::PutLease(lease(i))]).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("task").expect("commit");
        }
        let stats = writer.stats();
        println!(
            "200 concurrent commits: {} batches, {} writes, {} failures",
            stats.batches, stats.writes, stats.failures
        );
        assert_eq!(stats.writes, 200);
        assert_eq!(stats.failures, 0);
        assert!(stats.batches < stats.writes, "{stats:?}");

        // Then 200 clients that each wait for one commit before the next, as
        // a DHCP exchange does: batching now comes from requests arriving
        // during another batch's fsync.
        let tasks: Vec<_> = (0..200u16)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move {
                    for round in 0..5u16 {
                        w.commit(vec![Write::PutLease(lease(200 + i * 5 + round))])
                            .await?;
                    }
                    Ok::<(), StoreError>(())
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task").expect("commit");
        }
        let total = writer.stats();
        let (batches, writes) = (total.batches - stats.batches, total.writes - stats.writes);
        println!(
            "200 clients x 5 sequential commits: {batches} batches for {writes} writes \
             ({:.1} writes per fsync)",
            writes as f64 / batches as f64
        );
        assert_eq!(writes, 1000);
        assert!(batches < writes, "{total:?}");
        writer.shutdown().await.expect("shutdown");

        let mut reopened = SqliteStore::open(&path).expect("reopen");
        assert_eq!(reopened.load_leases().expect("load").len(), 1200);
    }

    fn put(n: u16) -> Write {
        Write::PutLease(lease(n))
    }

    /// Queue three requests behind a held first batch so they form one
    /// group, where the middle one touches lease(2), which `make_bad` makes
    /// fail.
    async fn failing_request_in_a_group<S: Store>(store: S, make_bad: impl FnOnce()) {
        let (store, gate) = gated(store);
        let writer = Writer::spawn(Box::new(store));

        let first = writer.commit(vec![put(0)]);
        gate.wait_entered();
        make_bad();
        let a = writer.commit(vec![put(1)]);
        let bad = writer.commit(vec![put(3), put(2)]);
        let c = writer.commit(vec![put(4), Write::DeleteLease(lease(0).ip)]);
        gate.open();

        first.await.expect("first");
        a.await.expect("a");
        let err = bad.await.expect_err("bad request must fail");
        println!("bad request failed with: {err}");
        c.await.expect("c");
        assert_eq!(
            writer.stats(),
            WriterStats {
                batches: 2,
                writes: 1 + 1 + 2,
                failures: 1
            }
        );
        writer.shutdown().await.expect("shutdown");
    }

    #[tokio::test]
    async fn failing_request_does_not_fail_the_others_memory() {
        let mem = MemoryStore::new();
        let handle = mem.clone();
        failing_request_in_a_group(mem, || handle.reject_ip(lease(2).ip)).await;
        // lease(3) shared a request with the bad write, so it is absent too.
        assert_eq!(handle.leases(), vec![lease(1), lease(4)]);
    }

    #[tokio::test]
    async fn failing_request_does_not_fail_the_others_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("leases.db");
        let store = SqliteStore::open(&path).expect("open");
        let raw = rusqlite::Connection::open(&path).expect("raw open");
        failing_request_in_a_group(store, || {
            raw.execute_batch(
                "CREATE TRIGGER poison BEFORE INSERT ON leases WHEN NEW.hostname = 'h2'
                 BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;",
            )
            .expect("trigger");
        })
        .await;
        drop(raw);
        let mut reopened = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            reopened.load_leases().expect("load"),
            vec![lease(1), lease(4)]
        );
    }

    #[tokio::test]
    async fn each_request_hears_of_its_own_lost_claims() {
        let mem = MemoryStore::new();
        let (store, gate) = gated(mem.clone());
        let writer = Writer::spawn(Box::new(store));
        let first = writer.commit(vec![put(0)]);
        gate.wait_entered();
        let mut theirs = lease(3);
        theirs.client = ClientKey::from(vec![9]);
        mem.taken_by_another(theirs.clone());
        let a = writer.commit(vec![put(1)]);
        let b = writer.commit(vec![put(2), put(3)]);
        let c = writer.commit(vec![put(4)]);
        gate.open();
        first.await.expect("first");
        assert_eq!(a.await, Ok(vec![]));
        assert_eq!(
            b.await,
            Ok(vec![Lost {
                index: 1,
                ip: theirs.ip,
                holder: Some(theirs.clone()),
            }]),
            "the index is into the request's own writes"
        );
        assert_eq!(c.await, Ok(vec![]));
        assert_eq!(writer.stats().batches, 2, "one group");
        assert_eq!(writer.stats().writes, 1 + 3, "lost claims are not counted");
    }

    #[tokio::test]
    async fn single_failed_request_gets_its_error_and_writer_carries_on() {
        let mem = MemoryStore::new();
        let writer = Writer::spawn(Box::new(mem.clone()));
        mem.fail_next_apply();
        let err = writer.commit(vec![put(1)]).await.expect_err("injected");
        assert!(matches!(err, StoreError::Memory(_)), "{err:?}");
        writer.commit(vec![put(2)]).await.expect("next commit");
        assert_eq!(mem.leases(), vec![lease(2)]);
        assert_eq!(
            writer.stats(),
            WriterStats {
                batches: 2,
                writes: 1,
                failures: 1
            }
        );
    }

    #[tokio::test]
    async fn shutdown_flushes_queued_writes() {
        let mem = MemoryStore::new();
        let (store, gate) = gated(mem.clone());
        let writer = Writer::spawn(Box::new(store));
        let other = writer.clone();

        let first = writer.commit(vec![put(0)]);
        gate.wait_entered();
        let queued: Vec<_> = (1..=50).map(|i| writer.commit(vec![put(i)])).collect();
        let stop = writer.shutdown();
        // Queued after the shutdown request but before the thread exits: still applied.
        let late = other.commit(vec![put(99)]);
        gate.open();
        stop.await.expect("shutdown");

        // Durable before shutdown returned, whether or not anyone awaits the results.
        assert_eq!(mem.leases().len(), 52);
        first.await.expect("first");
        for q in queued {
            q.await.expect("queued commit");
        }
        late.await.expect("late commit");

        // After the thread is gone: commits fail, a second shutdown is harmless.
        assert_eq!(
            other.commit(vec![put(100)]).await,
            Err(StoreError::WriterGone)
        );
        assert_eq!(other.stats().writes, 52);
        other.shutdown().await.expect("second shutdown");
    }

    #[tokio::test]
    async fn dropping_every_handle_still_applies_queued_writes() {
        let mem = MemoryStore::new();
        let writer = Writer::spawn(Box::new(mem.clone()));
        let pending = writer.commit(vec![put(1), put(2)]);
        drop(writer);
        pending.await.expect("commit");
        assert_eq!(mem.leases().len(), 2);
    }

    #[tokio::test]
    async fn empty_commit_is_a_barrier() {
        let mem = MemoryStore::new();
        let writer = Writer::spawn(Box::new(mem.clone()));
        let a = writer.commit(vec![put(1)]);
        writer.commit(Vec::new()).await.expect("barrier");
        assert_eq!(mem.leases(), vec![lease(1)]);
        a.await.expect("a");
    }

    #[tokio::test]
    async fn groups_are_bounded() {
        let mem = MemoryStore::new();
        let (store, gate) = gated(mem.clone());
        let writer = Writer::spawn(Box::new(store));
        let big = |from: u16, n: u16| (from..from + n).map(put).collect::<Vec<_>>();

        let first = writer.commit(vec![put(0)]);
        gate.wait_entered();
        // Groups: [2000 + 2000], [2000], [5000 alone: one request is never split], [10].
        let reqs = vec![
            writer.commit(big(1, 2000)),
            writer.commit(big(2001, 2000)),
            writer.commit(big(4001, 2000)),
            writer.commit(big(6001, 5000)),
            writer.commit(big(11001, 10)),
        ];
        gate.open();
        first.await.expect("first");
        for r in reqs {
            r.await.expect("commit");
        }
        let stats = writer.stats();
        assert_eq!(stats.batches, 5, "{stats:?}");
        assert_eq!(stats.writes, 1 + 2000 * 3 + 5000 + 10);
        assert_eq!(mem.applied_batches(), 5);
    }

    #[tokio::test]
    async fn every_transaction_is_timed_and_every_group_sized() {
        let mem = MemoryStore::new();
        let writer = Writer::spawn(Box::new(mem.clone()));
        writer
            .commit(vec![put(1), put(2), put(3)])
            .await
            .expect("a");
        mem.fail_next_apply();
        writer.commit(vec![put(4)]).await.expect_err("injected");
        let h = writer.histograms();
        assert_eq!(h.commit_seconds.count(), 2, "failed ones are timed too");
        assert_eq!(h.batch_writes.count(), 2);
        assert_eq!(h.batch_writes.sum(), 4.0);
        let le4: Vec<_> = h
            .batch_writes
            .buckets()
            .filter(|(b, _)| *b == Some(4.0))
            .collect();
        assert_eq!(le4, [(Some(4.0), 2)]);
    }

    struct Panicking;
    impl Store for Panicking {
        fn backend(&self) -> &'static str {
            "panicking"
        }
        fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError> {
            Ok(Vec::new())
        }
        fn load_hosts(&mut self) -> Result<Vec<crate::store::StoredHost>, StoreError> {
            Ok(Vec::new())
        }
        fn load_blocks(&mut self) -> Result<Vec<crate::blocks::Block>, StoreError> {
            Ok(Vec::new())
        }
        fn apply(&mut self, _: &[Write]) -> Result<Vec<Lost>, StoreError> {
            panic!("backend bug (expected in this test)");
        }
    }

    #[tokio::test]
    async fn a_dead_thread_reports_writer_gone() {
        let writer = Writer::spawn(Box::new(Panicking));
        assert_eq!(
            writer.commit(vec![put(1)]).await,
            Err(StoreError::WriterGone)
        );
        assert_eq!(
            writer.commit(vec![put(2)]).await,
            Err(StoreError::WriterGone)
        );
        assert_eq!(writer.shutdown().await, Err(StoreError::WriterGone));
    }
}
