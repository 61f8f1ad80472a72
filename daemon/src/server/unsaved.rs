//! `renew_from_memory` (PostgreSQL store only, off by default): while the
//! database cannot be written, a renewal of a lease this daemon already
//! holds (same client, same address, still bound) is ACKed from memory
//! instead of withheld. The trade-off, which the operator opts into: such
//! an ACK is not durable, so should this daemon die before the database is
//! back, another daemon may give the address away once the stored lease
//! (the one before the renewal) ends. New allocations stay paused: they
//! are never ACKed without a durable write.
//!
//! The renewals ACKed this way are kept here and written again once a
//! second (one retry in flight at a time) until the database takes them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use tracing::{info, warn};

use super::Core;
use super::commit::{Report, Source, Staged, Then, Undo};
use crate::engine::Reply;
use crate::lease::{Lease, LeaseState, UnixTime};
use crate::packet::MessageType;
use crate::store::{StoreError, Write};

/// Renewals ACKed from memory and not yet written.
#[derive(Debug, Default)]
pub(crate) struct Unsaved {
    leases: BTreeMap<Ipv4Addr, Lease>,
    /// What the retry in flight writes, if one is.
    sending: Option<Vec<Lease>>,
}

impl Unsaved {
    /// How many wait to be written.
    pub(crate) fn len(&self) -> usize {
        self.leases.len()
    }

    /// Whether a renewal of `ip` ACKed from memory waits to be written:
    /// the database's older record must not replace it in memory.
    pub(crate) fn holds(&self, ip: Ipv4Addr) -> bool {
        self.leases.contains_key(&ip)
    }
}

/// Whether a change whose writes failed is a renewal `renew_from_memory`
/// lets through: an ACK, and every record it changed a bound lease of the
/// same client on the same address, still running at `at`.
fn is_renewal(reply: &Reply, undo: &[Undo], at: UnixTime) -> bool {
    reply.packet.message_type() == Some(Ok(MessageType::Ack))
        && !undo.is_empty()
        && undo.iter().all(|u| match u {
            Undo::Lease {
                before: Some(b),
                after: Some(a),
                ..
            } => {
                b.ip == a.ip
                    && b.client == a.client
                    && b.state == LeaseState::Bound
                    && a.state == LeaseState::Bound
                    && b.ends > at
            }
            _ => false,
        })
}

impl Core {
    /// For a packet's change whose writes failed with `e`: whether its ACK
    /// goes out anyway (see the module comment); if so, its leases are
    /// kept to be written later.
    pub(crate) fn renews_from_memory(
        &mut self,
        e: &StoreError,
        reply: &Reply,
        undo: &[Undo],
        at: UnixTime,
    ) -> bool {
        let allowed = self
            .cfg
            .server
            .postgres
            .as_ref()
            .is_some_and(|p| p.renew_from_memory);
        // Only when the database cannot be reached or refuses to work,
        // never for a write it refused as such (a bad row).
        if !allowed || !matches!(e, StoreError::Postgres { .. }) || !is_renewal(reply, undo, at) {
            return false;
        }
        if self.unsaved.leases.is_empty() {
            warn!(
                "store failing: ACKing renewals of leases this daemon holds from memory \
                 (renew_from_memory); new clients wait for the database"
            );
        }
        for u in undo {
            if let Undo::Lease { after: Some(a), .. } = u {
                self.unsaved.leases.insert(a.ip, a.clone());
            }
        }
        self.counters.bump("renewed_from_memory");
        true
    }

    /// Writes the renewals ACKed from memory again, unless a retry is in
    /// flight (once a second, from housekeeping).
    pub(crate) fn retry_unsaved(&mut self, at: UnixTime) {
        if self.unsaved.leases.is_empty() || self.unsaved.sending.is_some() {
            return;
        }
        let leases: Vec<Lease> = self.unsaved.leases.values().cloned().collect();
        let writes = leases.iter().cloned().map(Write::PutLease).collect();
        self.unsaved.sending = Some(leases);
        let staged = Staged::writes_only(writes);
        self.commit(
            Source::Unsaved,
            staged,
            Report::default(),
            Then::Nothing,
            at,
        );
    }

    /// The retry in flight is durable: what it wrote is saved (a renewal
    /// ACKed since, on the same address, stays to be written).
    pub(crate) fn unsaved_written(&mut self) {
        let Some(sent) = self.unsaved.sending.take() else {
            return;
        };
        for l in sent {
            if self.unsaved.leases.get(&l.ip) == Some(&l) {
                self.unsaved.leases.remove(&l.ip);
            }
        }
        if self.unsaved.leases.is_empty() {
            info!("renewals ACKed from memory are all written now");
        }
    }

    /// The retry in flight failed: tried again next time.
    pub(crate) fn unsaved_failed(&mut self) {
        self.unsaved.sending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::MacAddr;
    use crate::engine::Destination;
    use crate::lease::ClientKey;
    use crate::packet::{Packet, code};

    fn lease(client: u8, ends: UnixTime) -> Lease {
        Lease {
            ip: Ipv4Addr::new(192, 0, 2, 10),
            client: ClientKey::from(vec![1, client]),
            mac: MacAddr([2, 0, 0, 0, 0, client]),
            hostname: None,
            state: LeaseState::Bound,
            starts: 1,
            ends,
        }
    }

    fn reply(kind: MessageType) -> Reply {
        let mut p = Packet::request(MacAddr([2, 0, 0, 0, 0, 1]), kind, 7);
        p.options.set_bytes(code::MESSAGE_TYPE, &[kind as u8]);
        Reply {
            packet: p,
            dest: Destination::Broadcast,
            max_len: 576,
        }
    }

    fn undo(before: Option<Lease>, after: Lease) -> Vec<Undo> {
        vec![Undo::Lease {
            ip: after.ip,
            before,
            after: Some(after),
        }]
    }

    #[test]
    fn only_renewals_of_running_leases_of_the_same_client_qualify() {
        let ack = reply(MessageType::Ack);
        let held = lease(1, 100);
        let renewed = lease(1, 200);
        assert!(is_renewal(
            &ack,
            &undo(Some(held.clone()), renewed.clone()),
            50
        ));
        // A new allocation: nothing before.
        assert!(!is_renewal(&ack, &undo(None, renewed.clone()), 50));
        // Another client's address.
        assert!(!is_renewal(
            &ack,
            &undo(Some(lease(2, 100)), renewed.clone()),
            50
        ));
        // The lease had ended: the address may be someone else's by now.
        assert!(!is_renewal(
            &ack,
            &undo(Some(held.clone()), renewed.clone()),
            100
        ));
        // Not an ACK.
        let offer = reply(MessageType::Offer);
        assert!(!is_renewal(&offer, &undo(Some(held), renewed), 50));
    }
}
