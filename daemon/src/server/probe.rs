//! Pre-offer probes: the engine said "probe this, then decide"
//! ([`Outcome::Probe`]) and held the address for the client. The probe runs
//! on the interface's ARP thread, not on the core, so nobody else waits;
//! when it finishes the request is handled again with the answer in the
//! lease table: an answered address is quarantined (durably, through the
//! commit path, with a squatter event) and the engine moves on to the next
//! candidate; a silent one is offered.

use std::net::Ipv4Addr;

use berth_proto::EventKind;
use tracing::{debug, warn};

use super::Core;
use super::commit::{Change, Report, Source, Then};
use super::core::Inbound;
use super::log::Line;
use crate::addr::MacAddr;
use crate::arp::{Ask, Finished};
use crate::engine::{self, Outcome, Squatter};
use crate::events::new_event;
use crate::lease::{ClientKey, UnixTime};
use crate::packet::{MessageType, Packet};

/// Candidates probed for one DISCOVER before the server gives up on it
/// (the client asks again): a bound on the work a crowded pool can cause.
const MAX_PROBES: u32 = 8;

/// A request waiting for its probe.
pub(crate) struct Probing {
    pub inbound: Inbound,
    pub client: ClientKey,
    /// The client's own MAC: its answer is no conflict (a client that
    /// still has the address it asks for).
    pub mac: Option<MacAddr>,
    pub ip: Ipv4Addr,
    /// Probes made for this request so far, this one included.
    pub attempt: u32,
}

impl Core {
    /// Whether `p` is a DISCOVER from a client whose probe is out: its
    /// first DISCOVER is answered when the probe is done.
    pub(crate) fn waits_for_probe(&self, p: &Packet) -> bool {
        !self.arp.probing.is_empty()
            && matches!(p.message_type(), Some(Ok(MessageType::Discover)))
            && self.arp.probing.contains(&engine::client_key(p))
    }

    /// Starts the probe of `ip` for the request `inbound` (its hold is
    /// already made). Without an ARP thread to ask, the probe counts as
    /// silent.
    pub(crate) fn start_probe(&mut self, inbound: Inbound, p: &Packet, ip: Ipv4Addr, attempt: u32) {
        let client = engine::client_key(p);
        if attempt >= MAX_PROBES {
            warn!(%ip, "{MAX_PROBES} addresses in a row answered ARP; the client must ask again");
            // The hold was made for a probe that never ran: no offer may
            // come of it.
            let forget = vec![Change::Lease(engine::Effect::Forget(ip))];
            if let Ok(staged) = self.stage(forget) {
                let at = self.now();
                self.commit(Source::Packet, staged, Report::default(), Then::Nothing, at);
            }
            return;
        }
        let token = self.arp.token();
        let asked = self
            .arp
            .iface_for(&self.cfg, &self.interfaces, ip)
            .is_some_and(|i| self.arp.ask(i, token, Ask::Probe(ip)));
        let probing = Probing {
            inbound,
            client,
            mac: engine::client_mac(p),
            ip,
            attempt: attempt + 1,
        };
        if asked {
            self.arp.probing.insert(probing.client.clone());
            self.arp.probes.insert(token, probing);
        } else {
            debug!(%ip, "no ARP thread for the probe; offering without it");
            let silent = Finished {
                token,
                asked: 0,
                answers: Vec::new(),
                elapsed: std::time::Duration::ZERO,
            };
            let at = self.now();
            self.probe_done(probing, &silent, at);
        }
    }

    /// The probe for `p` finished: quarantine the address if it answered,
    /// then handle the request again.
    pub(crate) fn probe_done(&mut self, p: Probing, f: &Finished, at: UnixTime) {
        self.arp.probing.remove(&p.client);
        let conflict = f
            .answers
            .iter()
            .find(|&&(ip, mac)| ip == p.ip && Some(mac) != p.mac);
        if let Some(&(_, mac)) = conflict {
            let squatter = Squatter {
                ip: p.ip,
                mac,
                holder: None,
                why: "answered the pre-offer probe; quarantined",
                news: true,
            };
            let mut ev = new_event(EventKind::Squatter);
            ev.mac = Some(mac.to_string());
            ev.ip = Some(p.ip);
            ev.interface = self.interfaces.get(p.inbound.iface).map(|i| i.name.clone());
            ev.unknown = true;
            ev.ok = false;
            ev.detail = format!("{}: {}", p.ip, squatter.why);
            let report = Report {
                events: vec![ev.into()],
                lines: vec![Line::Squatter(squatter)],
                counter: Some("probe_answered"),
                ..Report::default()
            };
            let quarantine = engine::probe_answered(&self.cfg, p.ip, mac, at);
            match self.stage(vec![Change::Lease(quarantine)]) {
                Ok(staged) => self.commit(Source::Housekeeping, staged, report, Then::Nothing, at),
                Err(c) => warn!("probe quarantine refused: {c}"),
            }
        }
        self.handle_inbound(p.inbound, p.attempt);
    }

    /// What to do after the engine decided `outcome` for `inbound`.
    pub(crate) fn after_decision(
        &mut self,
        outcome: &Outcome,
        inbound: Inbound,
        p: &Packet,
        attempt: u32,
    ) {
        if let Outcome::Probe(ip) = *outcome {
            self.start_probe(inbound, p, ip, attempt);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    use super::*;
    use crate::arp::{Arp, Done};
    use crate::lease::LeaseState;
    use crate::server::transport::Wire;
    use crate::store::MemoryStore;

    use crate::server::start::TEST_CONFIG as CONFIG;

    const CLIENT: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x0c]);
    const SQUATTER: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x99]);

    /// A core on one channel socket whose ARP "thread" is a channel.
    fn core() -> (Core, Wire, std_mpsc::Receiver<(u64, Ask)>) {
        let (mut core, wire) = Core::for_test(CONFIG, MemoryStore::new());
        let (tx, rx) = std_mpsc::channel();
        core.arp.arp = Arp::from_channels(vec![Some(tx)]);
        core.arp.probe_subnets = vec!["192.0.2.0/24".parse().expect("cidr")];
        (core, wire, rx)
    }

    fn discover(core: &mut Core, xid: u32) {
        let p = Packet::request(CLIENT, MessageType::Discover, xid);
        let (bytes, _) = p.encode(576, &[]);
        let from: SocketAddr = "0.0.0.0:68".parse().expect("addr");
        core.handle_inbound(
            Inbound {
                iface: 0,
                bytes,
                from,
            },
            0,
        );
    }

    fn finished(token: u64, answers: Vec<(Ipv4Addr, MacAddr)>) -> Done {
        Done {
            iface: 0,
            finished: Finished {
                token,
                asked: 1,
                answers,
                elapsed: Duration::from_millis(200),
            },
        }
    }

    #[tokio::test]
    async fn an_answered_probe_quarantines_and_the_client_is_offered_the_next_silent_address() {
        let (mut core, mut wire, asks) = core();
        discover(&mut core, 1);
        let (t1, ask) = asks.try_recv().expect("a probe");
        assert_eq!(ask, Ask::Probe(Ipv4Addr::new(192, 0, 2, 10)));
        // Its retransmission waits for the probe: no second probe, no reply.
        discover(&mut core, 2);
        assert!(asks.try_recv().is_err());
        tokio::task::yield_now().await;
        assert!(wire.from_server.try_recv().is_err(), "nothing offered yet");

        // .10 answers: quarantined under the squatter, .11 probed next.
        let at = core.now();
        core.on_arp(
            finished(t1, vec![(Ipv4Addr::new(192, 0, 2, 10), SQUATTER)]),
            at,
        );
        let q = core
            .table
            .get(Ipv4Addr::new(192, 0, 2, 10))
            .expect("record");
        assert_eq!((q.state, q.mac), (LeaseState::Declined, SQUATTER));
        let (t2, ask) = asks.try_recv().expect("the next probe");
        assert_eq!(ask, Ask::Probe(Ipv4Addr::new(192, 0, 2, 11)));

        // .11 is silent: offered.
        let at = core.now();
        core.on_arp(finished(t2, Vec::new()), at);
        let sent = tokio::time::timeout(Duration::from_secs(5), wire.from_server.recv())
            .await
            .expect("an offer in time")
            .expect("wire open");
        let offer = Packet::decode(&sent.bytes).expect("offer");
        assert_eq!(offer.yiaddr, Ipv4Addr::new(192, 0, 2, 11));
        assert_eq!(offer.xid, 1, "the DISCOVER that asked first");
        core.finish_in_flight().await;
        let ev = core.events.wait_since(0, Duration::ZERO).await;
        let squatters: Vec<_> = ev
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Squatter)
            .collect();
        assert_eq!(squatters.len(), 1, "{:?}", ev.events);
        assert_eq!(squatters[0].ip, Some(Ipv4Addr::new(192, 0, 2, 10)));
    }

    #[tokio::test]
    async fn the_clients_own_answer_is_no_conflict() {
        let (mut core, mut wire, asks) = core();
        discover(&mut core, 7);
        let (t, _) = asks.try_recv().expect("a probe");
        let at = core.now();
        core.on_arp(
            finished(t, vec![(Ipv4Addr::new(192, 0, 2, 10), CLIENT)]),
            at,
        );
        let sent = tokio::time::timeout(Duration::from_secs(5), wire.from_server.recv())
            .await
            .expect("an offer in time")
            .expect("wire open");
        let offer = Packet::decode(&sent.bytes).expect("offer");
        assert_eq!(offer.yiaddr, Ipv4Addr::new(192, 0, 2, 10));
    }

    #[tokio::test]
    async fn without_an_arp_thread_the_probe_counts_as_silent() {
        let (mut core, mut wire, _asks) = core();
        core.arp.arp = Arp::from_channels(vec![None]);
        discover(&mut core, 9);
        let sent = tokio::time::timeout(Duration::from_secs(5), wire.from_server.recv())
            .await
            .expect("an offer in time")
            .expect("wire open");
        assert_eq!(
            Packet::decode(&sent.bytes).expect("offer").yiaddr,
            Ipv4Addr::new(192, 0, 2, 10)
        );
    }
}
