//! Fills a DHCP server with exactly N leases: N distinct clients (MACs
//! 02:bf:xx:xx:xx:xx, numbered), each doing one DORA through a relay
//! address, with a bounded window of exchanges in flight (closed loop: as
//! fast as the server answers) and bounded retries. perfdhcp cannot do
//! this: with `-R N` it picks a random client of N for every exchange, so
//! N exchanges reach only about 63 % of them.
//!
//! Run it only inside a lab namespace (the compare bench does):
//! `filler --relay 198.18.0.2 --server 198.18.0.1 --clients 50000
//! [--window 64] [--timeout-ms 1000] [--retries 3] [--max-seconds 300]`.
//! It binds relay:67, sends to server:67 with giaddr = relay, and prints
//! `filled ACKED of N in SECS s (attempts A, naks K)` at the end.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use berthd::addr::MacAddr;
use berthd::packet::{MessageType, Packet, code};

#[derive(Debug, Clone, Copy)]
struct Args {
    relay: Ipv4Addr,
    server: Ipv4Addr,
    clients: u32,
    window: usize,
    timeout: Duration,
    retries: u32,
    max_seconds: u64,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut a = Args {
        relay: Ipv4Addr::UNSPECIFIED,
        server: Ipv4Addr::UNSPECIFIED,
        clients: 0,
        window: 64,
        timeout: Duration::from_millis(1000),
        retries: 3,
        max_seconds: 300,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value {value:?}");
        match flag.as_str() {
            "--relay" => a.relay = value.parse().with_context(bad)?,
            "--server" => a.server = value.parse().with_context(bad)?,
            "--clients" => a.clients = value.parse().with_context(bad)?,
            "--window" => a.window = value.parse().with_context(bad)?,
            "--timeout-ms" => a.timeout = Duration::from_millis(value.parse().with_context(bad)?),
            "--retries" => a.retries = value.parse().with_context(bad)?,
            "--max-seconds" => a.max_seconds = value.parse().with_context(bad)?,
            _ => bail!("unknown argument {flag}"),
        }
    }
    if a.relay.is_unspecified() || a.server.is_unspecified() || a.clients == 0 || a.window == 0 {
        bail!("--relay, --server, --clients (> 0) are required, --window > 0");
    }
    if a.clients > 0x00ff_ffff {
        bail!(
            "--clients: at most {} (MACs are numbered in 24 bits)",
            0x00ff_ffff
        );
    }
    Ok(a)
}

/// Client `i`'s MAC.
fn mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([0x02, 0xbf, 0, b[1], b[2], b[3]])
}

/// Where one client stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Waiting,
    Discovering,
    Requesting,
    Done,
}

/// The fill's bookkeeping: pure, the caller does the sending.
/// The xid of client `i` is `i`, so a reply finds its client directly.
#[derive(Debug)]
struct Fill {
    relay: Ipv4Addr,
    state: Vec<State>,
    attempts: Vec<u32>,
    /// (client, when its current message left), oldest first.
    inflight: VecDeque<(u32, Instant)>,
    next_new: u32,
    retry: VecDeque<u32>,
    acked: u32,
    naks: u32,
    sent_discovers: u64,
}

impl Fill {
    fn new(clients: u32, relay: Ipv4Addr) -> Fill {
        let n = clients as usize;
        Fill {
            relay,
            state: vec![State::Waiting; n],
            attempts: vec![0; n],
            inflight: VecDeque::new(),
            next_new: 0,
            retry: VecDeque::new(),
            acked: 0,
            naks: 0,
            sent_discovers: 0,
        }
    }

    fn clients(&self) -> u32 {
        self.state.len() as u32
    }

    fn finished(&self) -> bool {
        self.inflight.is_empty() && self.retry.is_empty() && self.next_new >= self.clients()
    }

    /// The next DISCOVER to send, if the window has room.
    fn next_discover(&mut self, window: usize, now: Instant) -> Option<Packet> {
        if self.inflight.len() >= window {
            return None;
        }
        let i = match self.retry.pop_front() {
            Some(i) => i,
            None if self.next_new < self.clients() => {
                self.next_new += 1;
                self.next_new - 1
            }
            None => return None,
        };
        self.state[i as usize] = State::Discovering;
        self.attempts[i as usize] += 1;
        self.inflight.push_back((i, now));
        self.sent_discovers += 1;
        let mut p = Packet::request(mac(i), MessageType::Discover, i);
        p.giaddr = self.relay;
        Some(p)
    }

    /// Handles a reply; returns the REQUEST to send for an OFFER.
    fn on_reply(&mut self, rep: &Packet, now: Instant) -> Option<Packet> {
        let i = rep.xid;
        let st = *self.state.get(i as usize)?;
        if rep.chaddr[..6] != mac(i).0 {
            return None;
        }
        match (rep.message_type()?.ok()?, st) {
            (MessageType::Offer, State::Discovering) => {
                let server_id = rep.options.get(code::SERVER_ID)?.to_vec();
                self.state[i as usize] = State::Requesting;
                self.touch(i, now);
                let mut req = Packet::request(mac(i), MessageType::Request, i);
                req.giaddr = self.relay;
                req.options
                    .set(code::REQUESTED_IP, rep.yiaddr.octets().to_vec());
                req.options.set(code::SERVER_ID, server_id);
                Some(req)
            }
            (MessageType::Ack, State::Requesting) => {
                self.state[i as usize] = State::Done;
                self.acked += 1;
                self.inflight.retain(|(c, _)| *c != i);
                None
            }
            (MessageType::Nak, State::Requesting | State::Discovering) => {
                self.naks += 1;
                self.give_up_or_retry(i);
                None
            }
            _ => None,
        }
    }

    /// Exchanges older than `timeout` are retried (or given up).
    fn expire(&mut self, timeout: Duration, retries: u32, now: Instant) {
        while let Some(&(i, at)) = self.inflight.front() {
            if now.duration_since(at) < timeout {
                break;
            }
            if self.attempts[i as usize] > retries {
                self.inflight.pop_front();
                self.state[i as usize] = State::Waiting;
            } else {
                self.give_up_or_retry(i);
            }
        }
    }

    fn give_up_or_retry(&mut self, i: u32) {
        self.inflight.retain(|(c, _)| *c != i);
        self.state[i as usize] = State::Waiting;
        self.retry.push_back(i);
    }

    /// Moves client `i` to the back of the in-flight queue, sent `now`.
    fn touch(&mut self, i: u32, now: Instant) {
        self.inflight.retain(|(c, _)| *c != i);
        self.inflight.push_back((i, now));
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = parse_args(&args)?;
    let sock =
        UdpSocket::bind((a.relay, 67)).with_context(|| format!("cannot bind {}:67", a.relay))?;
    sock.set_read_timeout(Some(Duration::from_millis(2)))
        .context("SO_RCVTIMEO")?;
    let to = SocketAddrV4::new(a.server, 67);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(a.max_seconds);
    let mut fill = Fill::new(a.clients, a.relay);
    let mut buf = [0u8; 1500];
    while !fill.finished() && Instant::now() < deadline {
        let now = Instant::now();
        while let Some(p) = fill.next_discover(a.window, now) {
            // A full socket buffer loses this one; its timeout retries it.
            let _ = sock.send_to(&p.encode(576, &[]).0, to);
        }
        // Drain what has arrived, then look at timeouts.
        while let Ok((n, _)) = sock.recv_from(&mut buf) {
            if let Ok(rep) = Packet::decode(&buf[..n])
                && let Some(req) = fill.on_reply(&rep, Instant::now())
            {
                let _ = sock.send_to(&req.encode(576, &[]).0, to);
            }
        }
        fill.expire(a.timeout, a.retries, Instant::now());
        // Given up: the retry queue only holds clients with attempts left.
        fill.retry
            .retain(|&i| fill.attempts[i as usize] <= a.retries);
    }
    println!(
        "filled {} of {} in {:.2} s (attempts {}, naks {})",
        fill.acked,
        fill.clients(),
        started.elapsed().as_secs_f64(),
        fill.sent_discovers,
        fill.naks
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn answer(req: &Packet, kind: MessageType, ip: Ipv4Addr) -> Packet {
        let mut r = Packet::reply_to(req);
        r.yiaddr = ip;
        r.options.set(code::MESSAGE_TYPE, vec![kind as u8]);
        r.options.set(code::SERVER_ID, vec![198, 18, 0, 1]);
        r
    }

    #[test]
    fn one_client_dora() {
        let now = Instant::now();
        let mut f = Fill::new(1, RELAY);
        let d = f.next_discover(4, now).expect("discover");
        assert_eq!(d.giaddr, RELAY);
        assert_eq!(d.message_type(), Some(Ok(MessageType::Discover)));
        assert!(f.next_discover(4, now).is_none(), "only one client");
        let ip = Ipv4Addr::new(198, 18, 1, 7);
        let r = f
            .on_reply(&answer(&d, MessageType::Offer, ip), now)
            .expect("request");
        assert_eq!(r.options.get_ip(code::REQUESTED_IP), Some(ip));
        assert_eq!(
            r.options.get_ip(code::SERVER_ID),
            Some(Ipv4Addr::new(198, 18, 0, 1))
        );
        // A repeated OFFER is ignored once requesting.
        assert!(
            f.on_reply(&answer(&d, MessageType::Offer, ip), now)
                .is_none()
        );
        assert!(f.on_reply(&answer(&r, MessageType::Ack, ip), now).is_none());
        assert_eq!(f.acked, 1);
        assert!(f.finished());
    }

    #[test]
    fn window_and_timeouts() {
        let t0 = Instant::now();
        let mut f = Fill::new(3, RELAY);
        assert!(f.next_discover(2, t0).is_some());
        assert!(f.next_discover(2, t0).is_some());
        assert!(f.next_discover(2, t0).is_none(), "window full");
        let later = t0 + Duration::from_secs(2);
        f.expire(Duration::from_secs(1), 1, later);
        assert_eq!(f.retry.len(), 2);
        // Retries first, then the third client; after the last retry, give up.
        assert_eq!(f.next_discover(3, later).map(|p| p.xid), Some(0));
        assert_eq!(f.next_discover(3, later).map(|p| p.xid), Some(1));
        assert_eq!(f.next_discover(3, later).map(|p| p.xid), Some(2));
        f.expire(Duration::from_secs(1), 1, later + Duration::from_secs(2));
        assert_eq!(f.retry, VecDeque::from([2]));
        assert!(f.inflight.is_empty());
    }

    #[test]
    fn foreign_replies_are_ignored() {
        let now = Instant::now();
        let mut f = Fill::new(2, RELAY);
        let d = f.next_discover(4, now).expect("discover");
        let mut other = answer(&d, MessageType::Offer, Ipv4Addr::new(198, 18, 1, 1));
        other.chaddr[5] ^= 1;
        assert!(f.on_reply(&other, now).is_none());
        other.xid = 99;
        assert!(f.on_reply(&other, now).is_none());
    }

    #[test]
    fn macs_are_distinct_and_local() {
        assert_ne!(mac(1).0, mac(2).0);
        assert_eq!(mac(0x01_0203).0, [0x02, 0xbf, 0, 1, 2, 3]);
    }

    #[test]
    fn args() {
        let a = parse_args(
            &[
                "--relay",
                "198.18.0.2",
                "--server",
                "198.18.0.1",
                "--clients",
                "10",
            ]
            .map(String::from),
        )
        .expect("args");
        assert_eq!(a.window, 64);
        assert!(parse_args(&[]).is_err());
    }
}
