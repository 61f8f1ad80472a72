//! A transaction as events for the control API. The events are built when
//! the decision is made and published with it, once it is durable.

use berth_proto::{Event, EventKind};

use super::Core;
use super::commit::Report;
use crate::addr::Dotted;
use crate::engine::{self, Decision, Outcome};
use crate::events::new_event;
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
    ) -> Option<Event> {
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
        let mut e = self.client_event(kind, p, iface);
        e.ip = match d.outcome {
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
        if let Outcome::Naked(why) = d.outcome {
            e.ok = false;
            e.detail = why.to_string();
        }
        Some(e)
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
            let e = self.client_event(EventKind::Arrival, p, iface);
            self.publish(Report::event(e), at);
        }
    }

    fn client_event(&self, kind: EventKind, p: &Packet, iface: usize) -> Event {
        let mac = p.mac();
        let host = engine::client_host(&self.hosts, p);
        let text = |c: u8| engine::client_text(p, c);
        let mut e = new_event(kind);
        e.mac = mac.map(|m| m.text().as_str().to_string());
        e.hostname = host
            .map(|h| h.name.clone())
            .or_else(|| text(code::HOST_NAME));
        e.vendor_class = text(code::VENDOR_CLASS);
        e.interface = Some(if p.giaddr.is_unspecified() {
            self.interfaces[iface].name.clone()
        } else {
            format!("{} via {}", self.interfaces[iface].name, Dotted(p.giaddr))
        });
        e.unknown = host.is_none();
        e
    }
}
