//! Engine throughput, without sockets or a store: how many DORA exchanges per
//! second the sans-IO core decides, as the lease table fills a /16 pool.
//! Prints figures; asserts nothing about speed.
//!
//! `cargo bench -p berthd --bench engine` (BENCH_CLIENTS, default 20000).

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Instant;

use berthd::addr::MacAddr;
use berthd::blocks::Blocklist;
use berthd::config;
use berthd::engine::{self, Interface, Request, View};
use berthd::hosts::HostTable;
use berthd::lease::LeaseTable;
use berthd::packet::{MessageType, Packet, code};

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

/// Client `n`'s request: a MAC made from `n`, and the options dhclient asks for.
fn packet(n: u32, mt: MessageType) -> Packet {
    let [a, b, c, d] = n.to_be_bytes();
    let mut p = Packet::request(MacAddr([0x02, 0, a, b, c, d]), mt, n);
    p.options
        .set(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6, 15, 28, 51]);
    p
}

fn main() {
    let clients: u32 = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
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
    let now = 1_800_000_000;
    let started = Instant::now();
    let mut last = started;
    let mut encoded = 0usize;
    for n in 0..clients {
        let view = View {
            config: &cfg,
            hosts: &hosts,
            leases: &table,
            blocks: &blocks,
            interfaces: &iface,
        };
        let d = engine::handle(
            &view,
            &Request {
                packet: &packet(n, MessageType::Discover),
                interface: &iface[0],
            },
            now,
        );
        let offered = d.reply.as_ref().map(|r| r.packet.yiaddr).expect("an offer");
        encoded += d.reply.as_ref().map_or(0, |r| r.encode().0.len());
        engine::apply(&mut table, &d.effects);
        let mut req = packet(n, MessageType::Request);
        req.options
            .set(code::SERVER_ID, iface[0].addr.octets().to_vec());
        req.options
            .set(code::REQUESTED_IP, offered.octets().to_vec());
        let view = View {
            config: &cfg,
            hosts: &hosts,
            leases: &table,
            blocks: &blocks,
            interfaces: &iface,
        };
        let d = engine::handle(
            &view,
            &Request {
                packet: &req,
                interface: &iface[0],
            },
            now,
        );
        encoded += d.reply.as_ref().map_or(0, |r| r.encode().0.len());
        engine::apply(&mut table, &d.effects);
        if (n + 1) % 5000 == 0 {
            let dt = last.elapsed().as_secs_f64();
            println!(
                "engine: leases {:>6}: last 5000 DORA at {:>8.0} DORA/s",
                n + 1,
                5000.0 / dt
            );
            last = Instant::now();
        }
    }
    let total = started.elapsed().as_secs_f64();
    println!(
        "engine: {clients} DORA exchanges decided and encoded in {total:.2} s: {:.0} DORA/s ({encoded} reply bytes)",
        f64::from(clients) / total
    );
}
