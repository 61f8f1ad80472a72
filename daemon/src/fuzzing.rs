//! The checks behind the cargo-fuzz targets (`fuzz/`), in the library so
//! that the fuzzers and the corpus replay test (`tests/fuzz_corpus.rs`) run
//! the very same code. Each function takes arbitrary bytes and panics when
//! an invariant breaks; anything else is fine.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::addr::MacAddr;
use crate::blocks::Blocklist;
use crate::engine::{self, Effect, Interface, Request, View};
use crate::hosts::HostTable;
use crate::lease::LeaseTable;
use crate::packet::{MIN_MESSAGE_LEN, MessageType, Packet, code};
use crate::pool;

/// Bytes option 82 takes on the wire. It is echoed whole and the relay
/// strips it before the client sees the reply, so size caps apply to the rest.
fn relay_len(p: &Packet) -> usize {
    p.options
        .get(code::RELAY_AGENT_INFO)
        .map_or(0, |v| v.len() + 2 * v.len().div_ceil(255).max(1))
}

/// Any bytes off the wire: decoding never panics, and whatever decodes
/// encodes again within the size asked for and decodes back.
pub fn packet_decode(data: &[u8]) {
    let Ok(p) = Packet::decode(data) else { return };
    let relay = relay_len(&p);
    for max in [MIN_MESSAGE_LEN, 1500] {
        let (bytes, _dropped) = p.encode(max, &[]);
        assert!(
            bytes.len() <= max + relay,
            "encoded {} bytes, asked for {max} (+{relay} of option 82)",
            bytes.len()
        );
        assert!(
            Packet::decode(&bytes).is_ok(),
            "our own encoding must decode"
        );
    }
}

/// Any text as a config file: parsing never panics, and every error names
/// a line of the file.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = crate::config::parse(text, Path::new("fuzz.toml")) {
        let lines = text.lines().count() + 1;
        for d in e.diagnostics() {
            assert!(
                d.line >= 1 && d.line <= lines,
                "{d} names line {} of {lines}",
                d.line
            );
        }
    }
}

/// Any bytes as what a control client sends: split into frames by the
/// codec the server uses, each frame's JSON decoded as the server decodes a
/// request. Neither step panics, and no frame over the limit gets through.
pub fn control_frame(data: &[u8]) {
    use berth_proto::{ControlRequest, MAX_FRAME_BYTES};
    use tarpc::tokio_util::bytes::BytesMut;
    use tarpc::tokio_util::codec::Decoder;

    let decode = |json: &[u8]| {
        let decoded = std::panic::catch_unwind(|| {
            let _ = serde_json::from_slice::<tarpc::ClientMessage<ControlRequest>>(json);
        });
        // Decoding a request's deadline panics when it overflows (serde's
        // `Duration`, or tarpc adding it to `Instant::now()`); the server
        // (`control::Idle`) ends such a connection. Any other panic is a
        // finding.
        if let Err(payload) = decoded {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            assert!(
                msg.contains("overflow") && (msg.contains("instant") || msg.contains("Duration")),
                "decoding a control frame panicked: {msg}"
            );
        }
    };
    let mut codec = berth_proto::transport::codec();
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        assert!(frame.len() <= MAX_FRAME_BYTES, "{} byte frame", frame.len());
        decode(&frame);
    }
    // The same bytes as one frame's payload, so the JSON decoder sees them
    // even without a valid length in front.
    decode(data);
}

const SEQUENCE_CONFIG: &str = r#"
[server]
interfaces = ["eth0"]
authoritative = true
bootp = true
default_lease = "1h"
max_lease = "2h"
min_lease = "1m"
offer_hold = "30s"
decline_probation = "10m"

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.107"]
options = { routers = ["192.0.2.1"], domain-name = "lab.test" }

[[host]]
name = "printer"
mac = "02:00:00:00:00:01"
ip = "192.0.2.10"
"#;

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const STATIC_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

/// A sequence of requests from eight clients (one of them a static host)
/// against one lease table, five bytes a step: message kind, client,
/// address, seconds to wait first, flags. After every step: no address is
/// given to a client while another holds it, every ACK is for the client's
/// static address or inside the pool, and no reply is larger than allowed.
pub fn engine_sequence(data: &[u8]) {
    let Some((&adopt, steps)) = data.split_first() else {
        return;
    };
    // Parsing the config and laying out the pool cost more than a short
    // sequence does, so each variant is built once per process.
    static BEDS: std::sync::OnceLock<[SequenceBed; 2]> = std::sync::OnceLock::new();
    let beds = BEDS.get_or_init(|| [SequenceBed::new(false), SequenceBed::new(true)]);
    let SequenceBed { cfg, hosts, table } = &beds[usize::from(adopt & 1)];
    let mut table = table.clone();
    let blocks = Blocklist::default();
    let iface = Interface {
        name: "eth0".into(),
        addr: SERVER,
    };
    let interfaces = [iface.clone()];
    let range = |ip: Ipv4Addr| cfg.subnets[0].ranges.iter().any(|r| r.contains(ip));
    let mut now: u64 = 1_800_000_000;
    for (xid, step) in (0u32..).zip(steps.chunks_exact(5)) {
        let &[kind, who, addr, wait, flags] = step else {
            continue;
        };
        now += u64::from(wait) * 30;
        for e in engine::reclaim(&table, now) {
            engine::apply(&mut table, std::slice::from_ref(&e));
        }
        let mac = MacAddr([2, 0, 0, 0, 0, (who % 8) + 1]);
        let ip = Ipv4Addr::new(192, 0, 2, 96 + (addr % 16));
        let kind = match kind % 7 {
            0 => MessageType::Discover,
            1..=3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Release,
            _ => MessageType::Inform,
        };
        let mut p = Packet::request(mac, kind, xid);
        if flags & 1 != 0 {
            p.options.set_bytes(code::SERVER_ID, &SERVER.octets());
        }
        if flags & 2 != 0 {
            p.options.set_bytes(code::REQUESTED_IP, &ip.octets());
        }
        if flags & 4 != 0 {
            p.ciaddr = ip;
        }
        if flags & 8 != 0 {
            p.options
                .set_bytes(code::HOST_NAME, &vec![0x1b; usize::from(addr)]);
        }
        if flags & 16 != 0 {
            p.options
                .set_bytes(code::MAX_MESSAGE_SIZE, &300u16.to_be_bytes());
        }
        let view = View {
            config: cfg,
            hosts,
            leases: &table,
            blocks: &blocks,
            interfaces: &interfaces,
            probe_subnets: &[],
        };
        let d = engine::handle(
            &view,
            &Request {
                packet: &p,
                interface: &iface,
            },
            now,
        );
        for e in &d.effects {
            let Effect::Bind(l) = e else { continue };
            if let Some(held) = table.get(l.ip) {
                assert!(
                    held.client == l.client || !held.is_active(now),
                    "{} bound to {:?} while {:?} holds it ({:?})",
                    l.ip,
                    l.client,
                    held.client,
                    held.state
                );
            }
            assert!(
                range(l.ip) || (l.ip == STATIC_IP && mac.0[5] == 1),
                "{} bound outside the pool to {mac}",
                l.ip
            );
        }
        if let Some(r) = &d.reply {
            let (bytes, _) = r.encode();
            assert!(
                bytes.len() <= r.max_len + relay_len(&p),
                "reply of {} bytes, cap {}",
                bytes.len(),
                r.max_len
            );
            if r.packet.message_type() == Some(Ok(MessageType::Ack)) && kind != MessageType::Inform
            {
                let y = r.packet.yiaddr;
                assert!(
                    range(y) || (y == STATIC_IP && mac.0[5] == 1),
                    "ACK of {y} to {mac}"
                );
            }
        }
        engine::apply(&mut table, &d.effects);
    }
}

/// What every sequence starts from: the parsed config, its hosts and the
/// empty lease table with the pool laid out.
struct SequenceBed {
    cfg: crate::config::Config,
    hosts: HostTable,
    table: LeaseTable,
}

impl SequenceBed {
    fn new(adopt_rebooting: bool) -> Self {
        let text = SEQUENCE_CONFIG.replace(
            "bootp = true",
            if adopt_rebooting {
                "bootp = true\nadopt_rebooting_clients = true"
            } else {
                "bootp = true"
            },
        );
        let Ok(cfg) = crate::config::parse(&text, Path::new("fuzz.toml")) else {
            panic!("the sequence config must parse");
        };
        let (hosts, _) = HostTable::build(&cfg.hosts, Vec::new());
        let mut table = LeaseTable::new();
        pool::Layout::new(&cfg, &hosts).index(&mut table);
        Self { cfg, hosts, table }
    }
}
