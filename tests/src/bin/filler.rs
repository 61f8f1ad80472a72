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
//!
//! `--renew-secs S` then makes a renew storm: every filled client renews
//! once (REQUEST with ciaddr, as in RENEWING, through the relay), spread
//! evenly over S seconds, open loop and without retries, and it prints
//! `renewed ACKED of SENT in SECS s (naks K)`.

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
    renew_secs: u64,
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
        renew_secs: 0,
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
            "--renew-secs" => a.renew_secs = value.parse().with_context(bad)?,
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
    /// The address each client was ACKed.
    bound: Vec<Option<Ipv4Addr>>,
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
            bound: vec![None; n],
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
                    .set_bytes(code::REQUESTED_IP, &rep.yiaddr.octets());
                req.options.set_bytes(code::SERVER_ID, &server_id);
                Some(req)
            }
            (MessageType::Ack, State::Requesting) => {
                self.state[i as usize] = State::Done;
                self.bound[i as usize] = Some(rep.yiaddr);
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

/// Renewals' xids are the client's number with this bit set, so a late
/// reply of the fill is not taken for one.
const RENEW_XID: u32 = 0x0100_0000;

/// The renew storm's bookkeeping: one renewal per bound client.
#[derive(Debug)]
struct Renew {
    relay: Ipv4Addr,
    /// (client, its address), in sending order.
    todo: Vec<(u32, Ipv4Addr)>,
    sent: usize,
    answered: Vec<bool>,
    acked: u32,
    naks: u32,
}

impl Renew {
    fn new(fill: &Fill) -> Renew {
        let todo: Vec<(u32, Ipv4Addr)> = (0..fill.clients())
            .filter_map(|i| Some((i, fill.bound[i as usize]?)))
            .collect();
        Renew {
            relay: fill.relay,
            todo,
            sent: 0,
            answered: vec![false; fill.clients() as usize],
            acked: 0,
            naks: 0,
        }
    }

    /// The renewals due by `elapsed` of a storm spread over `secs`.
    fn due(&mut self, elapsed: Duration, secs: f64) -> Vec<Packet> {
        let total = self.todo.len();
        let share = if secs > 0.0 {
            (elapsed.as_secs_f64() / secs).min(1.0)
        } else {
            1.0
        };
        let until = ((total as f64 * share).ceil() as usize).min(total);
        let out = self.todo[self.sent..until]
            .iter()
            .map(|&(i, ip)| {
                let mut p = Packet::request(mac(i), MessageType::Request, i | RENEW_XID);
                p.giaddr = self.relay;
                p.ciaddr = ip;
                p
            })
            .collect();
        self.sent = until;
        out
    }

    fn done_sending(&self) -> bool {
        self.sent == self.todo.len()
    }

    fn on_reply(&mut self, rep: &Packet) {
        if rep.xid & RENEW_XID == 0 {
            return;
        }
        let i = rep.xid & !RENEW_XID;
        let Some(seen) = self.answered.get_mut(i as usize) else {
            return;
        };
        if *seen || rep.chaddr[..6] != mac(i).0 {
            return;
        }
        *seen = true;
        match rep.message_type() {
            Some(Ok(MessageType::Ack)) => self.acked += 1,
            Some(Ok(MessageType::Nak)) => self.naks += 1,
            _ => *seen = false,
        }
    }
}

/// Runs the renew storm over `secs` and prints its line.
fn renew_storm(sock: &UdpSocket, to: SocketAddrV4, fill: &Fill, secs: u64) {
    let mut r = Renew::new(fill);
    let mut buf = [0u8; 1500];
    let started = Instant::now();
    let mut last_sent = None;
    loop {
        for p in r.due(started.elapsed(), secs as f64) {
            let _ = sock.send_to(&p.encode(576, &[]).0, to);
        }
        while let Ok((n, _)) = sock.recv_from(&mut buf) {
            if let Ok(rep) = Packet::decode(&buf[..n]) {
                r.on_reply(&rep);
            }
        }
        if r.done_sending() {
            let at = *last_sent.get_or_insert_with(Instant::now);
            // A renewal not answered a second after the last one left is lost.
            if r.acked as usize + r.naks as usize == r.todo.len()
                || at.elapsed() > Duration::from_secs(1)
            {
                break;
            }
        }
    }
    println!(
        "renewed {} of {} in {:.2} s (naks {})",
        r.acked,
        r.todo.len(),
        started.elapsed().as_secs_f64(),
        r.naks
    );
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
    if a.renew_secs > 0 {
        renew_storm(&sock, to, &fill, a.renew_secs);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn answer(req: &Packet, kind: MessageType, ip: Ipv4Addr) -> Packet {
        let mut r = Packet::reply_to(req);
        r.yiaddr = ip;
        r.options.set_bytes(code::MESSAGE_TYPE, &[kind as u8]);
        r.options.set_bytes(code::SERVER_ID, &[198, 18, 0, 1]);
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
    fn renewals_are_spread_and_counted() {
        let now = Instant::now();
        let mut f = Fill::new(4, RELAY);
        let ip = Ipv4Addr::new(198, 18, 1, 9);
        for _ in 0..4 {
            let d = f.next_discover(4, now).expect("discover");
            let r = f
                .on_reply(&answer(&d, MessageType::Offer, ip), now)
                .expect("request");
            f.on_reply(&answer(&r, MessageType::Ack, ip), now);
        }
        let mut r = Renew::new(&f);
        let first = r.due(Duration::from_secs(1), 4.0);
        assert_eq!(
            first.len(),
            1,
            "a quarter of the clients after a quarter of the time"
        );
        assert_eq!(first[0].ciaddr, ip);
        assert_eq!(first[0].giaddr, RELAY);
        assert!(first[0].options.get(code::REQUESTED_IP).is_none());
        assert_eq!(r.due(Duration::from_secs(9), 4.0).len(), 3);
        assert!(r.done_sending());
        let ack = answer(&first[0], MessageType::Ack, ip);
        r.on_reply(&ack);
        r.on_reply(&ack);
        assert_eq!(r.acked, 1, "a repeated ACK counts once");
        // A late reply of the fill (plain xid) is not a renewal's.
        let mut late = ack.clone();
        late.xid &= !RENEW_XID;
        r.on_reply(&late);
        assert_eq!(r.acked, 1);
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
