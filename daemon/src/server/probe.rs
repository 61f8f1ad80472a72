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
                let at = super::now();
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
            self.probe_done(probing, &silent, super::now());
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
                events: vec![ev],
                lines: vec![Line::Squatter(squatter)],
                counter: Some("probe_answered"),
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
