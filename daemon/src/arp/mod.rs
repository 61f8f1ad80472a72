//! ARP on the served interfaces: sweeps of the dynamic ranges and the
//! probe before an address's first offer.
//!
//! One thread per served interface owns a raw datalink channel (pnet; needs
//! `CAP_NET_RAW`). It sends ARP requests for the addresses it is given, at
//! a bounded rate with many in flight ([`schedule`]), and reports what
//! answered as one [`Finished`] per request. It decides nothing: what the
//! answers mean for the lease table is the engine's (`engine::sweep_findings`,
//! `engine::probe_answered`), and which addresses may be asked about is the
//! server's: only addresses in configured dynamic ranges of the
//! interface's own subnets ([`targets`]).
//!
//! Without the capability (or when a channel cannot open) the daemon
//! serves on with ARP off for that interface.

mod frame;
mod schedule;

use std::net::Ipv4Addr;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use pnet::datalink::{self, Channel, DataLinkReceiver, DataLinkSender};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::addr::{MacAddr, Range};
use crate::config::{ArpConfig, Config};
use crate::engine::Interface;

pub use schedule::Schedule;

/// What to ask the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Is this address in use? Done at the first answer.
    Probe(Ipv4Addr),
    /// Who answers for each of these addresses?
    Sweep(Vec<Ipv4Addr>),
}

/// A finished [`Ask`]: what answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The token the request was made with.
    pub token: u64,
    /// Requests sent.
    pub asked: u64,
    /// (address, MAC) for every answer, each pair once.
    pub answers: Vec<(Ipv4Addr, MacAddr)>,
    pub elapsed: Duration,
}

/// A [`Finished`] request and the interface it ran on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub iface: usize,
    pub finished: Finished,
}

/// The dynamic ranges that may be swept or probed from `iface`: those of
/// the subnets the interface's address is in, with their subnet.
pub fn targets(cfg: &Config, iface: &Interface) -> Vec<(crate::addr::Cidr, Range)> {
    cfg.subnets
        .iter()
        .filter(|s| s.cidr.contains(iface.addr))
        .flat_map(|s| s.ranges.iter().map(move |r| (s.cidr, *r)))
        .collect()
}

/// The ARP threads, one per served interface that could open a channel.
pub struct Arp {
    links: Vec<Option<std_mpsc::Sender<(u64, Ask)>>>,
    problems: Vec<String>,
}

impl Arp {
    /// ARP off everywhere, saying why.
    pub fn off(why: impl Into<String>) -> Arp {
        Arp {
            links: Vec::new(),
            problems: vec![why.into()],
        }
    }

    /// Opens a channel on every interface and starts its thread; answers
    /// go to `done`. An interface whose channel cannot open has no ARP
    /// (see [`Arp::problems`]).
    pub fn start(cfg: &ArpConfig, ifaces: &[Interface], done: mpsc::UnboundedSender<Done>) -> Arp {
        let mut arp = Arp {
            links: Vec::new(),
            problems: Vec::new(),
        };
        for (i, iface) in ifaces.iter().enumerate() {
            match Link::open(iface) {
                Ok(link) => {
                    let (tx, rx) = std_mpsc::channel();
                    let (rate, timeout) = (cfg.rate, cfg.probe_timeout);
                    let done = done.clone();
                    let name = iface.name.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("arp-{name}"))
                        .spawn(move || link.run(i, rate, timeout, &rx, &done));
                    match spawned {
                        Ok(_) => arp.links.push(Some(tx)),
                        Err(e) => {
                            arp.problems.push(format!("{name}: no ARP thread: {e}"));
                            arp.links.push(None);
                        }
                    }
                }
                Err(e) => {
                    arp.problems.push(format!("{}: {e}", iface.name));
                    arp.links.push(None);
                }
            }
        }
        arp
    }

    /// "ARP threads" that are the given channels, one per interface (`None`:
    /// no ARP there): what the server asks arrives on their receivers, and
    /// answers are sent to the server as [`Done`]s. For in-process tests.
    pub fn from_channels(links: Vec<Option<std_mpsc::Sender<(u64, Ask)>>>) -> Arp {
        Arp {
            links,
            problems: Vec::new(),
        }
    }

    /// Whether interface `iface` has ARP.
    pub fn is_on(&self, iface: usize) -> bool {
        self.links.get(iface).is_some_and(Option::is_some)
    }

    /// Whether any interface has ARP.
    pub fn any_on(&self) -> bool {
        self.links.iter().any(Option::is_some)
    }

    /// Why ARP is off where it is off.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Queues `ask` on `iface` under `token`; false when that interface has
    /// no ARP (or its thread stopped).
    pub fn ask(&self, iface: usize, token: u64, ask: Ask) -> bool {
        match self.links.get(iface) {
            Some(Some(tx)) => tx.send((token, ask)).is_ok(),
            _ => false,
        }
    }
}

/// One interface's channel.
struct Link {
    tx: Box<dyn DataLinkSender>,
    rx: Box<dyn DataLinkReceiver>,
    mac: MacAddr,
    addr: Ipv4Addr,
    name: String,
}

/// How long one read waits, so sends stay on time while answers come in.
const READ_TIMEOUT: Duration = Duration::from_millis(2);

impl Link {
    fn open(iface: &Interface) -> Result<Link, String> {
        let nic = datalink::interfaces()
            .into_iter()
            .find(|n| n.name == iface.name)
            .ok_or("no such interface")?;
        let mac = nic.mac.ok_or("the interface has no MAC address")?;
        let config = datalink::Config {
            read_timeout: Some(READ_TIMEOUT),
            promiscuous: false,
            ..datalink::Config::default()
        };
        match datalink::channel(&nic, config) {
            Ok(Channel::Ethernet(tx, rx)) => Ok(Link {
                tx,
                rx,
                mac: MacAddr(mac.octets()),
                addr: iface.addr,
                name: iface.name.clone(),
            }),
            Ok(_) => Err("not an Ethernet channel".into()),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(format!(
                "cannot open a raw socket ({e}): berthd needs CAP_NET_RAW for ARP"
            )),
            Err(e) => Err(format!("cannot open a raw socket: {e}")),
        }
    }

    /// Serves requests until the daemon drops its sender.
    fn run(
        mut self,
        iface: usize,
        rate: u32,
        timeout: Duration,
        asks: &std_mpsc::Receiver<(u64, Ask)>,
        done: &mpsc::UnboundedSender<Done>,
    ) {
        let mut s = Schedule::new(rate, timeout, Instant::now());
        loop {
            if s.is_idle() {
                // Nothing in flight: sleep until asked.
                match asks.recv() {
                    Ok((token, ask)) => s.add(token, ask, Instant::now()),
                    Err(_) => return,
                }
            }
            while let Ok((token, ask)) = asks.try_recv() {
                s.add(token, ask, Instant::now());
            }
            while let Some(target) = s.next_send(Instant::now()) {
                let f = frame::request(self.mac, self.addr, target);
                if let Some(Err(e)) = self.tx.send_to(&f, None) {
                    warn!(iface = %self.name, %target, error = %e, "ARP request not sent");
                }
            }
            let until = Instant::now() + s.idle_for(Instant::now()).min(READ_TIMEOUT);
            loop {
                match self.rx.next() {
                    Ok(frame) => {
                        if let Some((ip, mac)) = frame::answer(frame, self.mac) {
                            s.heard(ip, mac);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(e) => {
                        debug!(iface = %self.name, error = %e, "ARP receive failed");
                        std::thread::sleep(READ_TIMEOUT);
                    }
                }
                if Instant::now() >= until {
                    break;
                }
            }
            for finished in s.finished(Instant::now()) {
                if done.send(Done { iface, finished }).is_err() {
                    return;
                }
            }
        }
    }
}
