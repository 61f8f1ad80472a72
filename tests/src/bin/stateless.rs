//! A stateless DHCPv4 responder: the benchmark's floor for "what answering
//! costs on this bed". It answers DISCOVER with OFFER and REQUEST with ACK,
//! computing the address from the client's MAC (or taking the requested
//! address when it is in the pool), and keeps no state at all. It uses
//! berthd's own packet codec so decode and encode cost the same as in berthd.
//!
//! Run it only inside a lab namespace (the compare bench does):
//! `stateless --server-id 198.18.0.1 --netmask 255.255.0.0 --pool-start 198.18.1.0
//! --pool-size 60000 [--lease 3600] [--max-seconds 3600]`.
//! It binds 0.0.0.0:67 and replies to giaddr:67 for relayed requests (what
//! perfdhcp sends), else to ciaddr:68 or broadcast :68. It prints `listening`
//! once bound and exits by itself after `--max-seconds`, so a forgotten one
//! cannot run on.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use berthd::packet::{MessageType, Packet, code};

/// What the responder hands out.
#[derive(Debug, Clone, Copy)]
struct Config {
    server_id: Ipv4Addr,
    netmask: Ipv4Addr,
    pool_start: Ipv4Addr,
    pool_size: u32,
    lease_secs: u32,
    max_seconds: u64,
}

fn parse_args(args: &[String]) -> Result<Config> {
    let mut cfg = Config {
        server_id: Ipv4Addr::UNSPECIFIED,
        netmask: Ipv4Addr::new(255, 255, 0, 0),
        pool_start: Ipv4Addr::UNSPECIFIED,
        pool_size: 0,
        lease_secs: 3600,
        max_seconds: 3600,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value {value:?}");
        match flag.as_str() {
            "--server-id" => cfg.server_id = value.parse().with_context(bad)?,
            "--netmask" => cfg.netmask = value.parse().with_context(bad)?,
            "--pool-start" => cfg.pool_start = value.parse().with_context(bad)?,
            "--pool-size" => cfg.pool_size = value.parse().with_context(bad)?,
            "--lease" => cfg.lease_secs = value.parse().with_context(bad)?,
            "--max-seconds" => cfg.max_seconds = value.parse().with_context(bad)?,
            _ => bail!("unknown argument {flag}"),
        }
    }
    if cfg.server_id.is_unspecified() || cfg.pool_start.is_unspecified() || cfg.pool_size == 0 {
        bail!("--server-id, --pool-start and --pool-size are required");
    }
    Ok(cfg)
}

/// The pool address for a client: the requested one if it is in the pool,
/// else one derived from chaddr (FNV-1a), so the same client always gets the
/// same address without anything being remembered.
fn address_for(req: &Packet, cfg: &Config) -> Ipv4Addr {
    let start = u32::from(cfg.pool_start);
    if let Some(ip) = req.options.get_ip(code::REQUESTED_IP) {
        let off = u32::from(ip).wrapping_sub(start);
        if off < cfg.pool_size {
            return ip;
        }
    }
    let hlen = usize::from(req.hlen).min(req.chaddr.len());
    let mut h: u32 = 0x811c_9dc5;
    for b in &req.chaddr[..hlen] {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    Ipv4Addr::from(start.wrapping_add(h % cfg.pool_size))
}

/// The reply to `req`, if it is a DISCOVER or a REQUEST; pure.
fn reply(req: &Packet, cfg: &Config) -> Option<Packet> {
    if req.op != berthd::packet::BOOTREQUEST {
        return None;
    }
    let kind = match req.message_type()? {
        Ok(MessageType::Discover) => MessageType::Offer,
        Ok(MessageType::Request) => MessageType::Ack,
        _ => return None,
    };
    let mut r = Packet::reply_to(req);
    r.yiaddr = address_for(req, cfg);
    let o = &mut r.options;
    o.set_bytes(code::MESSAGE_TYPE, &[kind as u8]);
    o.set_bytes(code::SERVER_ID, &cfg.server_id.octets());
    o.set_bytes(code::LEASE_TIME, &cfg.lease_secs.to_be_bytes());
    o.set_bytes(code::RENEWAL_TIME, &(cfg.lease_secs / 2).to_be_bytes());
    o.set_bytes(
        code::REBINDING_TIME,
        &(cfg.lease_secs / 8 * 7).to_be_bytes(),
    );
    o.set_bytes(code::SUBNET_MASK, &cfg.netmask.octets());
    o.set_bytes(code::ROUTERS, &cfg.server_id.octets());
    o.set_bytes(code::DOMAIN_NAME_SERVERS, &cfg.server_id.octets());
    Some(r)
}

/// Where the reply to `req` goes (RFC 2131 section 4.1, without the
/// unicast-to-yiaddr case, which needs an ARP entry the responder cannot set).
fn destination(req: &Packet) -> SocketAddrV4 {
    if !req.giaddr.is_unspecified() {
        SocketAddrV4::new(req.giaddr, 67)
    } else if !req.ciaddr.is_unspecified() {
        SocketAddrV4::new(req.ciaddr, 68)
    } else {
        SocketAddrV4::new(Ipv4Addr::BROADCAST, 68)
    }
}

fn serve(cfg: &Config) -> Result<()> {
    let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 67)).context("cannot bind 0.0.0.0:67")?;
    sock.set_broadcast(true).context("SO_BROADCAST")?;
    sock.set_read_timeout(Some(Duration::from_secs(1)))
        .context("SO_RCVTIMEO")?;
    println!("stateless: listening on 0.0.0.0:67");
    let deadline = Instant::now() + Duration::from_secs(cfg.max_seconds);
    let mut buf = [0u8; 1500];
    let (mut answered, mut ignored) = (0u64, 0u64);
    while Instant::now() < deadline {
        let n = match sock.recv_from(&mut buf) {
            Ok((n, _)) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e).context("recv"),
        };
        let Some((req, rep)) = Packet::decode(&buf[..n])
            .ok()
            .and_then(|req| reply(&req, cfg).map(|rep| (req, rep)))
        else {
            ignored += 1;
            continue;
        };
        let max = req
            .options
            .get_u16(code::MAX_MESSAGE_SIZE)
            .map_or(576, usize::from);
        let (bytes, _) = rep.encode(max, &[]);
        // A full socket buffer drops this reply; the client counts it.
        if sock.send_to(&bytes, destination(&req)).is_ok() {
            answered += 1;
        }
    }
    println!("stateless: max-seconds reached; answered {answered}, ignored {ignored}");
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = parse_args(&args)?;
    serve(&cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berthd::addr::MacAddr;

    fn cfg() -> Config {
        parse_args(
            &[
                "--server-id",
                "198.18.0.1",
                "--pool-start",
                "198.18.1.0",
                "--pool-size",
                "60000",
            ]
            .map(String::from),
        )
        .expect("args")
    }

    fn relayed(kind: MessageType, mac: [u8; 6]) -> Packet {
        let mut p = Packet::request(MacAddr(mac), kind, 7);
        p.giaddr = Ipv4Addr::new(198, 18, 0, 2);
        p
    }

    #[test]
    fn offers_and_acks_the_same_address_without_state() {
        let c = cfg();
        let mac = [2, 0, 0, 0, 0, 9];
        let offer = reply(&relayed(MessageType::Discover, mac), &c).expect("offer");
        assert_eq!(
            offer.message_type(),
            Some(Ok(MessageType::Offer)),
            "{offer:?}"
        );
        let off = u32::from(offer.yiaddr) - u32::from(c.pool_start);
        assert!(off < c.pool_size);
        let ack = reply(&relayed(MessageType::Request, mac), &c).expect("ack");
        assert_eq!(ack.message_type(), Some(Ok(MessageType::Ack)));
        assert_eq!(ack.yiaddr, offer.yiaddr);
        assert_eq!(ack.xid, 7);
        assert_eq!(
            ack.options.get_ip(code::SERVER_ID),
            Some(Ipv4Addr::new(198, 18, 0, 1))
        );
    }

    #[test]
    fn takes_a_requested_address_in_the_pool_only() {
        let c = cfg();
        let mut req = relayed(MessageType::Request, [2, 0, 0, 0, 0, 1]);
        req.options
            .set_bytes(code::REQUESTED_IP, &[198, 18, 200, 200]);
        assert_eq!(
            reply(&req, &c).expect("ack").yiaddr,
            Ipv4Addr::new(198, 18, 200, 200)
        );
        req.options.set_bytes(code::REQUESTED_IP, &[10, 0, 0, 1]);
        assert_ne!(
            reply(&req, &c).expect("ack").yiaddr,
            Ipv4Addr::new(10, 0, 0, 1)
        );
    }

    #[test]
    fn ignores_other_messages_and_replies() {
        let c = cfg();
        assert!(reply(&relayed(MessageType::Release, [2, 0, 0, 0, 0, 1]), &c).is_none());
        let mut p = relayed(MessageType::Discover, [2, 0, 0, 0, 0, 1]);
        p.op = berthd::packet::BOOTREPLY;
        assert!(reply(&p, &c).is_none());
    }

    #[test]
    fn relayed_replies_go_to_the_relay() {
        let p = relayed(MessageType::Discover, [2, 0, 0, 0, 0, 1]);
        assert_eq!(
            destination(&p),
            SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 2), 67)
        );
        let direct = Packet::request(MacAddr([2, 0, 0, 0, 0, 1]), MessageType::Discover, 1);
        assert_eq!(
            destination(&direct),
            SocketAddrV4::new(Ipv4Addr::BROADCAST, 68)
        );
    }

    #[test]
    fn rejects_incomplete_args() {
        assert!(parse_args(&["--server-id".to_string()]).is_err());
        assert!(parse_args(&[]).is_err());
        assert!(parse_args(&["--bogus", "1"].map(String::from)).is_err());
    }
}
