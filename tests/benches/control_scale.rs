//! The control plane at scale: with `BENCH_LEASES` (default 100,000)
//! leases in berthd, how long `berth leases --json` takes and how much
//! memory it needs, how soon the TUI shows a full screen and has every
//! lease, and what DHCP latency (REQUEST -> ACK of renewing clients, each
//! ACK durable in SQLite) looks like while both run, against idle.
//!
//! `cargo build --release -p berth && cargo bench -p berth-tests --bench control_scale`
//!
//! No root: berthd runs in this process on an in-process socket (no
//! network at all), its control socket and SQLite store in a temporary
//! directory; the store is filled before start. `berth leases` is the real
//! binary (`BERTH_BIN`, else target/release/berth); the TUI is its real
//! worker, update and view driven here, drawn into a 120x40 memory screen.
//! Prints figures; asserts nothing about speed.

use berth_tests::bench::{STORE_SERVER, fill_store, store_config, store_ip, store_mac};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth::app::{Model, Msg, run_worker, update, view};
use berth_tests::berth_bin;
use berthd::engine::Interface;
use berthd::packet::{MessageType, Packet};
use berthd::server::{ChannelSocket, Wire};
use berthd::store::sqlite::SqliteStore;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

/// Renewing clients per latency sample.
const CLIENTS: u32 = 300;

/// Latency figures in ms: average, median, 99th percentile, worst.
fn summary(mut ms: Vec<f64>) -> String {
    if ms.is_empty() {
        return "no samples".into();
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    let avg = ms.iter().sum::<f64>() / ms.len() as f64;
    format!(
        "{} renewals: avg {avg:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

/// One renewal REQUEST per client, one after another; the time to each ACK.
async fn renewals(wire: &mut Wire, xid: &mut u32, rounds: u32) -> Vec<f64> {
    let from: SocketAddr = "10.0.1.1:68".parse().expect("addr");
    let mut out = Vec::new();
    for r in 0..rounds {
        for n in 0..CLIENTS {
            *xid += 1;
            let mut p = Packet::request(store_mac(n + r * CLIENTS), MessageType::Request, *xid);
            p.ciaddr = store_ip(n + r * CLIENTS);
            let (bytes, _) = p.encode(576, &[]);
            let t = Instant::now();
            wire.to_server
                .send((bytes, from))
                .await
                .expect("server gone");
            loop {
                let sent = tokio::time::timeout(Duration::from_secs(30), wire.from_server.recv())
                    .await
                    .expect("an ACK within 30 s")
                    .expect("server gone");
                if Packet::decode(&sent.bytes).is_ok_and(|a| a.xid == *xid) {
                    break;
                }
            }
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    out
}

/// A process's peak RSS so far (VmHWM, KiB), while it runs.
fn vm_hwm_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix("VmHWM:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

/// `berth --json leases` to /dev/null: wall time, peak RSS (KiB) of the child.
///
/// The peak is read from /proc while it runs: `getrusage` would count this
/// (large) process's memory too, which the child inherits at spawn.
fn ctl_leases(socket: &Path) -> (Duration, i64) {
    let t = Instant::now();
    let mut child = Command::new(berth_bin())
        .args(["--json", "leases"])
        .env("BERTH_SOCKET", socket)
        .stdout(Stdio::null())
        .spawn()
        .expect("run berth");
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait for berth") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(status.success(), "berth leases failed: {status}");
    (t.elapsed(), peak)
}

/// What the TUI took: to a full first screen of leases, to every lease.
struct TuiLoad {
    first_screen: Duration,
    all: Duration,
    frame: Duration,
    sort_and_draw: Duration,
    filter_and_draw: Duration,
}

fn draw(m: &Model, term: &mut Terminal<TestBackend>, tz: &TimeZone) -> String {
    term.draw(|f| view(m, f, Timestamp::now(), tz))
        .expect("draw");
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The TUI's worker against the daemon, its messages through update and
/// view as the real draw loop does, on the leases view.
fn tui_load(socket: &Path, total: usize) -> TuiLoad {
    let tz = TimeZone::UTC;
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("screen");
    let mut m = Model::new(socket.display().to_string(), false);
    m.view = berth::app::model::View::Leases;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cmds, cmd_rx) = mpsc::unbounded_channel();
    let socket: PathBuf = socket.to_path_buf();
    // The worker on a thread of its own, the loop here: as in the TUI,
    // where the draw loop never waits for the worker.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let t = Instant::now();
    let worker = rt.spawn(run_worker(socket, tx, cmd_rx));
    let mut first_screen = None;
    let all = rt.block_on(async {
        loop {
            let msg = rx.recv().await.expect("worker stopped");
            let page = matches!(msg, Msg::LeasesPage { .. });
            update(&mut m, msg);
            // Apply what is queued, then draw, as the draw loop does.
            while let Ok(more) = rx.try_recv() {
                update(&mut m, more);
            }
            if page || first_screen.is_none() {
                let screen = draw(&m, &mut term, &tz);
                // A screenful of rows (the first leases were renewed by
                // the latency probe: they may have no host name now).
                if first_screen.is_none() && m.leases.len() >= 38 && screen.contains("10.0.1.20 ") {
                    first_screen = Some(t.elapsed());
                }
            }
            if m.lease_load.is_none() && m.leases.len() >= total {
                return t.elapsed();
            }
        }
    });
    let f = Instant::now();
    draw(&m, &mut term, &tz);
    let frame = f.elapsed();
    let f = Instant::now();
    update(&mut m, key('s'));
    update(&mut m, key('s'));
    draw(&m, &mut term, &tz);
    let sort_and_draw = f.elapsed();
    let f = Instant::now();
    update(&mut m, key('/'));
    for c in "host-0999".chars() {
        update(&mut m, key(c));
    }
    draw(&m, &mut term, &tz);
    let filter_and_draw = f.elapsed();
    drop(cmds);
    worker.abort();
    TuiLoad {
        first_screen: first_screen.unwrap_or(all),
        all,
        frame,
        sort_and_draw,
        filter_and_draw,
    }
}

fn key(c: char) -> Msg {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn main() {
    let leases: u32 = std::env::var("BENCH_LEASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| (4 * CLIENTS..4_000_000).contains(n))
        .unwrap_or(100_000);
    if !berth_bin().exists() {
        eprintln!(
            "control_scale: {} missing: cargo build --release -p berth first",
            berth_bin().display()
        );
        std::process::exit(1);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg_path = dir.path().join("berthd.toml");
    std::fs::write(&cfg_path, store_config(dir.path())).expect("write config");
    let socket = dir.path().join("control.sock");
    let now = berthd::clock::TimeSource::wall(&berthd::clock::SystemClocks);
    fill_store(&dir.path().join("leases.db"), leases, now, 1).expect("fill store");
    println!("control_scale: {leases} bound leases in the store");

    // berthd on a runtime of its own, as in its own process.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = berthd::config::load(&cfg_path).expect("config");
    let store = SqliteStore::open(&cfg.server.store).expect("reopen store");
    let (sock, mut wire) = ChannelSocket::pair(Interface {
        name: "bench0".into(),
        addr: STORE_SERVER,
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(berthd::server::run(
        cfg_path.clone(),
        cfg,
        Box::new(store),
        vec![sock],
        async move {
            let _ = stopped.await;
        },
    ));
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut xid = 0;
    // Ready once it answers: a first round also warms up the store.
    client_rt.block_on(renewals(&mut wire, &mut xid, 1));
    let idle = client_rt.block_on(renewals(&mut wire, &mut xid, 1));

    let (wall, rss) = ctl_leases(&socket);
    println!(
        "control_scale: berth --json leases: {:.2} s wall, peak RSS {:.1} MiB",
        wall.as_secs_f64(),
        rss as f64 / 1024.0
    );
    let tui = tui_load(&socket, leases as usize);
    println!(
        "control_scale: TUI: first full screen of leases after {:.0} ms, all {leases} after {:.0} ms; \
         then a frame {:.1} ms, sort + frame {:.1} ms, filter (9 keys) + frame {:.1} ms",
        tui.first_screen.as_secs_f64() * 1000.0,
        tui.all.as_secs_f64() * 1000.0,
        tui.frame.as_secs_f64() * 1000.0,
        tui.sort_and_draw.as_secs_f64() * 1000.0,
        tui.filter_and_draw.as_secs_f64() * 1000.0,
    );

    // Renewals while a TUI loads and `berth leases` runs, over and over.
    let busy_sock = socket.clone();
    let total = leases as usize;
    let load = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(3);
        let mut runs = 0;
        while Instant::now() < until || runs == 0 {
            let s2 = busy_sock.clone();
            let tui = std::thread::spawn(move || tui_load(&s2, total));
            ctl_leases(&busy_sock);
            tui.join().expect("tui thread");
            runs += 1;
        }
        runs
    });
    let mut busy = Vec::new();
    while !load.is_finished() {
        busy.extend(client_rt.block_on(renewals(&mut wire, &mut xid, 1)));
    }
    let runs = load.join().expect("load thread");
    println!("control_scale: DHCP idle: {}", summary(idle));
    println!(
        "control_scale: DHCP while {runs}x (TUI full load + berth --json leases) ran: {}",
        summary(busy)
    );
    let _ = stop.send(());
    server_rt
        .block_on(server)
        .expect("server task")
        .expect("server");
}
