//! Start-up with a large store: how long from opening a SQLite store that
//! holds `BENCH_LEASES` (default 1,000,000) bound leases to answering the
//! first DISCOVER, in process (a [`ChannelSocket`], no root). Prints the
//! figures (and the process's memory); asserts nothing about speed.
//!
//! `cargo bench -p berthd --bench startup`. The store is filled once per
//! run, in one transaction, in a temporary directory. `BENCH_VERBOSE=1`
//! prints the daemon's log (with times: where start-up spends them).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use berth_tests::bench::{STORE_SERVER, fill_store, knob, store_config};
use berthd::addr::MacAddr;
use berthd::engine::Interface;
use berthd::packet::{MessageType, Packet};
use berthd::server::ChannelSocket;
use berthd::store::sqlite::SqliteStore;

/// A line of /proc/self/status (VmRSS, VmHWM), in MiB.
fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User plus system CPU time of this process so far (all threads).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given; all-zero is valid.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn main() {
    let leases = knob("BENCH_LEASES", 1_000_000, 1..=15_999_999);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg_path = dir.path().join("berthd.toml");
    std::fs::write(&cfg_path, store_config(dir.path())).expect("write config");
    let now = berthd::clock::TimeSource::wall(&berthd::clock::SystemClocks);

    let t = Instant::now();
    fill_store(&dir.path().join("leases.db"), leases, now, 4).expect("fill store");
    println!(
        "startup: {leases} bound leases written in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    if std::env::var_os("BENCH_VERBOSE").is_some() {
        tracing_subscriber::fmt().init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let cfg = berthd::config::load(&cfg_path).expect("config");
        let start = Instant::now();
        let cpu0 = cpu_seconds();
        let store = SqliteStore::open(&cfg.server.store).expect("reopen store");
        let (sock, mut wire) = ChannelSocket::pair(Interface {
            name: "bench0".into(),
            addr: STORE_SERVER,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(berthd::server::run(
            cfg_path.clone(),
            cfg,
            Box::new(store),
            vec![sock],
            async move {
                let _ = stopped.await;
            },
        ));
        // A client the store does not know: served once the core is up.
        let discover = Packet::request(MacAddr([0x06, 0, 0, 0, 0, 1]), MessageType::Discover, 7);
        let (bytes, _) = discover.encode(576, &[]);
        let from: SocketAddr = "0.0.0.0:68".parse().expect("addr");
        wire.to_server
            .send((bytes, from))
            .await
            .expect("server gone");
        let offer = tokio::time::timeout(Duration::from_secs(600), wire.from_server.recv())
            .await
            .expect("no OFFER within 10 minutes")
            .expect("server gone");
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
        let offer = Packet::decode(&offer.bytes).expect("valid OFFER");
        println!(
            "startup: {leases} leases in the store: first OFFER ({}) {secs:.3} s after opening it \
             ({cpu:.3} s of CPU: the figure a busy machine moves least)",
            offer.yiaddr
        );
        println!(
            "startup: memory: VmRSS {:.1} MiB, VmHWM {:.1} MiB (the whole bench process)",
            status_mib("VmRSS:"),
            status_mib("VmHWM:")
        );
        let _ = stop.send(());
        server.await.expect("server task").expect("server");
    });
}
