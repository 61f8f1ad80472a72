//! An in-process berthd for tests, without root: the core runs with a
//! [`ChannelSocket`] and a memory store (with failure injection and a gate
//! that holds the writer); the test sends encoded DHCP packets, reads the
//! replies, and calls the control API over the real Unix socket in a
//! temporary directory.
//!
//! Nothing here is timed to pass: waits have generous deadlines and poll
//! for a state the server reports (counters, leases, events).
//!
//! Use from a test file with `mod harness;`.

#![allow(dead_code)] // each test file uses its own part of it

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_proto::page::collect_all;
use berth_proto::{ControlClient, Event, EventKind, LeaseFilter, LeaseState};
use berthd::addr::MacAddr;
use berthd::blocks::Block;
use berthd::clock::{SystemClocks, TimeSource};
use berthd::engine::Interface;
use berthd::lease::Lease;
use berthd::packet::{MessageType, Packet, code};
use berthd::server::{ChannelSocket, ServerError, Wire};
use berthd::store::{MemoryStore, Store, StoreError, StoredHost, Write};
use tarpc::context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The pool's only address.
pub const POOL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// A static address outside the pool.
pub const STATIC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);
pub const A: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa]);
pub const B: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb]);
pub const WAIT: Duration = Duration::from_secs(10);

pub fn config(dir: &Path, hosts: &str) -> String {
    config_with(dir, "", hosts)
}

/// [`config`] with `server_extra` lines added to `[server]`.
pub fn config_with(dir: &Path, server_extra: &str, hosts: &str) -> String {
    format!(
        r#"
[server]
{server_extra}
interfaces = ["test0"]
authoritative = true
default_lease = "1h"
max_lease = "2h"
min_lease = "1s"
store = "{store}"
control_socket = "{sock}"

[[subnet]]
cidr = "192.0.2.0/24"
range = ["{POOL}", "{POOL}"]
options = {{ routers = ["{SERVER}"] }}
{hosts}
"#,
        store = dir.join("unused.db").display(),
        sock = dir.join("control.sock").display(),
    )
}

/// A store that can be held: `apply` waits while the gate is shut, so a
/// test can line up several changes behind one another.
#[derive(Clone)]
pub struct Gated {
    pub inner: MemoryStore,
    shut: Arc<Mutex<bool>>,
    attempts: Arc<AtomicU64>,
}

impl Gated {
    /// How many times the writer has tried to apply a batch.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::SeqCst)
    }
    pub fn shut(&self) {
        *self.shut.lock().expect("gate") = true;
    }
    pub fn open(&self) {
        *self.shut.lock().expect("gate") = false;
    }
}

impl Store for Gated {
    fn backend(&self) -> &'static str {
        "memory"
    }
    fn load_leases(&mut self) -> Result<Vec<Lease>, StoreError> {
        self.inner.load_leases()
    }
    fn load_hosts(&mut self) -> Result<Vec<StoredHost>, StoreError> {
        self.inner.load_hosts()
    }
    fn load_blocks(&mut self) -> Result<Vec<Block>, StoreError> {
        self.inner.load_blocks()
    }
    fn follow(
        &self,
        tx: tokio::sync::mpsc::Sender<berthd::store::Learned>,
    ) -> Option<berthd::store::Follower> {
        self.inner.follow(tx)
    }

    fn apply(&mut self, batch: &[Write]) -> Result<Vec<berthd::store::Lost>, StoreError> {
        while *self.shut.lock().expect("gate") {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.attempts.fetch_add(1, Ordering::SeqCst);
        self.inner.apply(batch)
    }
}

/// A running in-process server.
pub struct Harness {
    pub wire: Wire,
    pub store: Gated,
    pub api: ControlClient,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), ServerError>>,
    xid: u32,
}

impl Harness {
    pub async fn start(hosts: &str) -> Harness {
        Self::start_with("", hosts).await
    }

    /// [`Harness::start`] with `server_extra` lines in `[server]`.
    pub async fn start_with(server_extra: &str, hosts: &str) -> Harness {
        Self::start_full(
            MemoryStore::new(),
            server_extra,
            hosts,
            Arc::new(SystemClocks),
        )
        .await
    }

    /// [`Harness::start_with`] on the clocks of `time` (e.g. a
    /// [`berthd::clock::ManualTime`]).
    pub async fn start_on(server_extra: &str, hosts: &str, time: Arc<dyn TimeSource>) -> Harness {
        Self::start_full(MemoryStore::new(), server_extra, hosts, time).await
    }

    /// [`Harness::start_with`] on a store that already holds records (as
    /// after a restart).
    pub async fn start_with_store(inner: MemoryStore, server_extra: &str, hosts: &str) -> Harness {
        Self::start_full(inner, server_extra, hosts, Arc::new(SystemClocks)).await
    }

    async fn start_full(
        inner: MemoryStore,
        server_extra: &str,
        hosts: &str,
        time: Arc<dyn TimeSource>,
    ) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("berthd.toml");
        std::fs::write(&path, config_with(dir.path(), server_extra, hosts)).expect("write config");
        let cfg = berthd::config::load(&path).expect("config");
        let store = Gated {
            inner,
            shut: Arc::new(Mutex::new(false)),
            attempts: Arc::new(AtomicU64::new(0)),
        };
        let (sock, wire) = ChannelSocket::pair(Interface {
            name: "test0".into(),
            addr: SERVER,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(berthd::server::run_with_time(
            path,
            cfg,
            Box::new(store.clone()),
            vec![sock],
            time,
            async move {
                let _ = stopped.await;
            },
        ));
        let api = connect(&dir.path().join("control.sock")).await;
        Harness {
            wire,
            store,
            api,
            dir,
            stop: Some(stop),
            server,
            xid: 1,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("berthd.toml")
    }

    pub fn mem(&self) -> &MemoryStore {
        &self.store.inner
    }

    pub fn packet(&mut self, mac: MacAddr, kind: MessageType) -> Packet {
        self.xid += 1;
        Packet::request(mac, kind, self.xid)
    }

    /// Sends `p` to the server.
    pub async fn post(&self, p: &Packet) {
        let (bytes, _) = p.encode(576, &[]);
        self.post_bytes(bytes).await;
    }

    /// Sends raw bytes to the server, as if from a client's port 68.
    pub async fn post_bytes(&self, bytes: Vec<u8>) {
        let from: SocketAddr = "0.0.0.0:68".parse().expect("addr");
        self.wire
            .to_server
            .send((bytes, from))
            .await
            .expect("server gone");
    }

    /// Sends `p` and returns the server's reply, if one comes.
    pub async fn send(&mut self, p: &Packet, wait: Duration) -> Option<Packet> {
        self.post(p).await;
        loop {
            let sent = tokio::time::timeout(wait, self.wire.from_server.recv())
                .await
                .ok()??;
            let reply = Packet::decode(&sent.bytes).expect("server sent a valid packet");
            if reply.xid == p.xid {
                return Some(reply);
            }
        }
    }

    pub async fn discover(&mut self, mac: MacAddr) -> Option<Packet> {
        self.discover_within(mac, WAIT).await
    }

    pub async fn discover_within(&mut self, mac: MacAddr, wait: Duration) -> Option<Packet> {
        let p = self.packet(mac, MessageType::Discover);
        self.send(&p, wait).await
    }

    /// A REQUEST in SELECTING state for `ip`, or None for no reply.
    pub async fn select(&mut self, mac: MacAddr, ip: Ipv4Addr, wait: Duration) -> Option<Packet> {
        let mut p = self.packet(mac, MessageType::Request);
        p.options.set_bytes(code::REQUESTED_IP, &ip.octets());
        p.options.set_bytes(code::SERVER_ID, &SERVER.octets());
        self.send(&p, wait).await
    }

    /// A RENEWING REQUEST from a client that holds `ip`.
    pub async fn renew(&mut self, mac: MacAddr, ip: Ipv4Addr, wait: Duration) -> Option<Packet> {
        let mut p = self.packet(mac, MessageType::Request);
        p.ciaddr = ip;
        self.send(&p, wait).await
    }

    /// DISCOVER, OFFER, REQUEST, ACK: the address bound.
    pub async fn bind(&mut self, mac: MacAddr) -> Ipv4Addr {
        let offer = self.discover(mac).await.expect("an offer");
        let ack = self
            .select(mac, offer.yiaddr, WAIT)
            .await
            .expect("an answer to the request");
        assert_eq!(kind(&ack), MessageType::Ack);
        ack.yiaddr
    }

    pub async fn counters(&self) -> HashMap<String, u64> {
        self.api
            .status(ctx())
            .await
            .expect("rpc")
            .expect("status")
            .counters
            .into_iter()
            .collect()
    }

    /// Waits until counter `name` reaches `n`.
    pub async fn counted(&self, name: &str, n: u64) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let c = self.counters().await;
            if c.get(name).copied().unwrap_or(0) >= n {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "counter {name} never reached {n}: {c:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn events(&self) -> Vec<Event> {
        self.api
            .events_since(ctx(), 0, 0)
            .await
            .expect("rpc")
            .expect("events")
            .events
    }

    /// When the lease on `ip` ends, as the server's memory has it.
    pub async fn lease_end(&self, ip: Ipv4Addr) -> Option<i64> {
        let filter = LeaseFilter {
            ip: Some(ip),
            ..LeaseFilter::default()
        };
        let leases = self.leases(filter).await;
        leases.first().map(|l| l.ends)
    }

    /// Waits until the lease on `ip` no longer ends at `ends`.
    pub async fn lease_end_moves(&self, ip: Ipv4Addr, ends: Option<i64>) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.lease_end(ip).await == ends {
            assert!(
                tokio::time::Instant::now() < deadline,
                "lease on {ip} never changed"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every lease matching `filter`, walked page by page.
    pub async fn leases(&self, filter: LeaseFilter) -> Vec<berth_proto::LeaseInfo> {
        collect_all(|p| self.api.leases(ctx(), filter.clone(), p))
            .await
            .expect("rpc")
            .expect("leases")
    }

    pub async fn lease_states(&self) -> Vec<(Ipv4Addr, String, LeaseState)> {
        let leases = self.leases(LeaseFilter::default()).await;
        leases.into_iter().map(|l| (l.ip, l.mac, l.state)).collect()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server
            .await
            .expect("server task")
            .expect("server stopped cleanly");
    }
}

pub fn ctx() -> context::Context {
    let mut c = context::current();
    c.deadline = std::time::Instant::now() + Duration::from_secs(30);
    c
}

pub async fn connect(path: &Path) -> ControlClient {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match berth_proto::transport::connect(path).await {
            Ok(c) => return c,
            Err(e) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "control socket never answered: {e}"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

pub fn kind(p: &Packet) -> MessageType {
    match p.message_type() {
        Some(Ok(t)) => t,
        other => panic!("reply without a message type: {other:?}"),
    }
}

pub fn kinds(events: &[Event]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

/// How long to listen for a reply that must not come. Absence passes on a
/// slow machine too; the counters say when the server has decided.
pub const QUIET: Duration = Duration::from_millis(300);
