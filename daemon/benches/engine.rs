//! Engine throughput, without sockets or a store: how many DORA exchanges per
//! second the sans-IO core decides, as the lease table fills a /16 pool.
//! Prints figures; asserts nothing about speed. A flat rate from step to
//! step means choosing an address does not slow down as the pool fills.
//!
//! `cargo bench -p berthd --bench engine` (BENCH_CLIENTS, default 60000;
//! BENCH_STEP, default 5000; BENCH_MAX_MESSAGE_SIZE, default none: the
//! option 57 every request carries, as dhcpcd's and Windows' do with 1500).
//! A DORA is two messages (DISCOVER, REQUEST).

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Instant;

use berth_tests::bench::knob;
use berthd::addr::MacAddr;
use berthd::blocks::Blocklist;
use berthd::config;
use berthd::engine::{self, Interface, Request, View};
use berthd::hosts::HostTable;
use berthd::lease::LeaseTable;
use berthd::packet::{MessageType, Packet, code};
use berthd::pool;

const CONFIG: &str = r#"
[server]
interfaces = ["bench0"]
[options]
domain-name-servers = ["198.18.0.1"]
[[subnet]]
cidr = "198.18.0.0/16"
range = ["198.18.1.0", "198.18.255.254"]
options = { routers = ["198.18.0.1"], domain-name = "bench.test" }
"#;

/// Client `n`'s request: a MAC made from `n`, the options dhclient asks
/// for, and option 57 when `max_size` is set.
fn packet(n: u32, mt: MessageType, max_size: Option<u16>) -> Packet {
    let [a, b, c, d] = n.to_be_bytes();
    let mut p = Packet::request(MacAddr([0x02, 0, a, b, c, d]), mt, n);
    p.options
        .set_bytes(code::PARAMETER_REQUEST_LIST, &[1, 3, 6, 15, 28, 51]);
    if let Some(size) = max_size {
        p.options
            .set_bytes(code::MAX_MESSAGE_SIZE, &size.to_be_bytes());
    }
    p
}

/// One line of figures for `dora` exchanges that took `secs`.
fn figures(dora: u32, secs: f64) -> String {
    let rate = f64::from(dora) / secs;
    format!(
        "{rate:>8.0} DORA/s, {:>6.2} us per message",
        secs * 1e6 / (2.0 * f64::from(dora))
    )
}

fn main() {
    let clients = knob("BENCH_CLIENTS", 60_000, 1..=u32::MAX);
    let step = knob("BENCH_STEP", 5_000, 1..=u32::MAX);
    let cfg = match config::parse(CONFIG, Path::new("bench.toml")) {
        Ok(c) => c,
        Err(e) => panic!("bench config: {e}"),
    };
    let (hosts, _) = HostTable::build(&cfg.hosts, Vec::new());
    let blocks = Blocklist::default();
    let iface = [Interface {
        name: "bench0".into(),
        addr: Ipv4Addr::new(198, 18, 0, 1),
    }];
    let mut table = LeaseTable::new();
    pool::Layout::new(&cfg, &hosts).index(&mut table);
    let bench = Bench {
        cfg: &cfg,
        hosts: &hosts,
        blocks: &blocks,
        iface: &iface,
        max_size: u16::try_from(knob("BENCH_MAX_MESSAGE_SIZE", 0, 0..=u16::MAX.into()))
            .ok()
            .filter(|&n| n > 0),
    };
    let now = 1_800_000_000;
    let started = Instant::now();
    let mut last = started;
    let mut encoded = 0usize;
    for n in 0..clients {
        encoded += bench.dora(&mut table, n, now);
        if (n + 1) % step == 0 {
            println!(
                "engine: leases {:>6}: last {step} DORA at {}",
                n + 1,
                figures(step, last.elapsed().as_secs_f64())
            );
            last = Instant::now();
        }
    }
    let total = started.elapsed().as_secs_f64();
    println!(
        "engine: {clients} DORA exchanges decided and encoded in {total:.2} s: {} ({encoded} reply bytes)",
        figures(clients, total)
    );

    // A month later every lease ran out: housekeeping expires them all
    // through the time index, and new clients take the never-used rest of
    // the /16, then the addresses free the longest.
    let later = now + 30 * 86_400;
    let t = Instant::now();
    let effects = engine::reclaim(&table, later);
    engine::apply(&mut table, &effects);
    println!(
        "engine: reclaim: {} expiries found and applied in {:.1} ms",
        effects.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut last = Instant::now();
    for n in clients..clients + 2 * step {
        bench.dora(&mut table, n, later);
        if (n + 1 - clients) % step == 0 {
            println!(
                "engine: new clients {:>6} on a pool of history: last {step} DORA at {}",
                n + 1 - clients,
                figures(step, last.elapsed().as_secs_f64())
            );
            last = Instant::now();
        }
    }
}

/// What every exchange reads besides the lease table.
struct Bench<'a> {
    cfg: &'a config::Config,
    hosts: &'a HostTable,
    blocks: &'a Blocklist,
    iface: &'a [Interface],
    /// Option 57 of every request.
    max_size: Option<u16>,
}

impl Bench<'_> {
    fn decide(&self, table: &mut LeaseTable, p: &Packet, now: u64) -> engine::Decision {
        let view = View {
            config: self.cfg,
            hosts: self.hosts,
            leases: table,
            blocks: self.blocks,
            interfaces: self.iface,
            probe_subnets: &[],
        };
        let d = engine::handle(
            &view,
            &Request {
                packet: p,
                interface: &self.iface[0],
            },
            now,
        );
        engine::apply(table, &d.effects);
        d
    }

    /// Client `n`'s DISCOVER and REQUEST; returns the reply bytes encoded.
    fn dora(&self, table: &mut LeaseTable, n: u32, now: u64) -> usize {
        let d = self.decide(table, &packet(n, MessageType::Discover, self.max_size), now);
        let offered = d.reply.as_ref().map(|r| r.packet.yiaddr).expect("an offer");
        let mut encoded = d.reply.as_ref().map_or(0, |r| r.encode().0.len());
        let mut req = packet(n, MessageType::Request, self.max_size);
        req.options
            .set_bytes(code::SERVER_ID, &self.iface[0].addr.octets());
        req.options.set_bytes(code::REQUESTED_IP, &offered.octets());
        let d = self.decide(table, &req, now);
        assert!(
            matches!(d.outcome, engine::Outcome::Acked(ip) if ip == offered),
            "client {n}: {}",
            d.outcome
        );
        encoded += d.reply.as_ref().map_or(0, |r| r.encode().0.len());
        encoded
    }
}
