//! A transaction as events for the control API. The events are built when
//! the decision is made and published with it, once it is durable.

use berth_proto::EventKind;

use super::Core;
use super::commit::Report;
use crate::engine::{self, Decision, Outcome};
use crate::events::{Fields, Record};
use crate::lease::UnixTime;
use crate::packet::{MessageType, Packet, code};

impl Core {
    /// The event a transaction produces, if any. A first sighting of a MAC
    /// is published at once: it is news even when the answer is silence,
    /// and it promises nothing that must be durable.
    pub(crate) fn transaction_event(
        &mut self,
        p: &Packet,
        iface: usize,
        d: &Decision,
        at: UnixTime,
    ) -> Option<Record> {
        if matches!(d.outcome, Outcome::Dropped(_)) {
            return None;
        }
        self.arrival(p, iface, at);
        let kind = match &d.outcome {
            Outcome::Offered(_) => EventKind::Offer,
            Outcome::Acked(_) if !p.ciaddr.is_unspecified() => EventKind::Renew,
            Outcome::Acked(_) | Outcome::BootpReply(_) => EventKind::Ack,
            Outcome::Naked(_) => EventKind::Nak,
            Outcome::Released(_) => EventKind::Release,
            Outcome::Declined(_) => EventKind::Decline,
            Outcome::Informed
            | Outcome::NoAddress(_)
            | Outcome::Ignored(_)
            | Outcome::Dropped(_)
            | Outcome::Probe(_) => {
                return None;
            }
        };
        let ip = match d.outcome {
            Outcome::Offered(ip)
            | Outcome::Acked(ip)
            | Outcome::Released(ip)
            | Outcome::Declined(ip)
            | Outcome::BootpReply(ip) => Some(ip),
            _ => p
                .options
                .get_ip(code::REQUESTED_IP)
                .or(Some(p.ciaddr))
                .filter(|ip| !ip.is_unspecified()),
        };
        Some(self.client_event(kind, p, iface, |f| {
            f.ip = ip;
            if let Outcome::Naked(why) = d.outcome {
                f.ok = false;
                f.detail = why;
            }
        }))
    }

    /// An "arrival" event for a client never seen before ([`super::arrival`]).
    fn arrival(&mut self, p: &Packet, iface: usize, at: UnixTime) {
        if p.mac().is_none() {
            return;
        }
        if matches!(
            p.message_type(),
            Some(Ok(MessageType::Release | MessageType::Decline))
        ) {
            return;
        }
        if self.arrivals.arrives(&engine::client_key(p), &self.table) {
            let e = self.client_event(EventKind::Arrival, p, iface, |_| {});
            self.publish(Report::event(e), at);
        }
    }

    /// An event about the client that sent `p`, with what `fill` adds: its
    /// strings borrowed from the packet and the tables until the record
    /// copies them.
    fn client_event(
        &self,
        kind: EventKind,
        p: &Packet,
        iface: usize,
        fill: impl FnOnce(&mut Fields<'_>),
    ) -> Record {
        let mac = p.mac().map(|m| m.text());
        let host = engine::client_host(&self.hosts, p);
        let client_name = match host {
            Some(_) => None,
            None => engine::client_text(p, code::HOST_NAME),
        };
        let vendor_class = engine::client_text(p, code::VENDOR_CLASS);
        let mut f = Fields::new(kind);
        f.mac = mac.as_ref().map(|m| m.as_str());
        f.hostname = host.map(|h| h.name.as_str()).or(client_name.as_deref());
        f.vendor_class = vendor_class.as_deref();
        f.interface = Some(self.interfaces[iface].name.as_str());
        f.relay = (!p.giaddr.is_unspecified()).then_some(p.giaddr);
        f.unknown = host.is_none();
        fill(&mut f);
        Record::new(f)
    }
}
