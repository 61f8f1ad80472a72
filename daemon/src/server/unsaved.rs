//! `renew_from_memory` (PostgreSQL store only, off by default): while the
//! database cannot be written, a renewal of a lease this daemon already
//! holds (same client, same address, still bound) is ACKed from memory
//! instead of withheld. The trade-off, which the operator opts into: such
//! an ACK is not durable, so should this daemon die before the database is
//! back, another daemon may give the address away once the stored lease
//! (the one before the renewal) ends. New allocations stay paused: they
//! are never ACKed without a durable write.
//!
//! The renewals ACKed this way are kept here, and so are the records a
//! clock jump shifted whose write failed (see `clock_jump`): memory holds
//! what the store does not. They are written again once a second, as
//! memory then holds them (one retry in flight at a time), until the store
//! takes them.

use std::collections::{BTreeSet, HashSet};
use std::net::Ipv4Addr;

use tracing::{info, warn};

use super::Core;
use super::commit::{Report, Source, Staged, Then, Undo};
use super::learn::Record;
use crate::addr::MacAddr;
use crate::engine::Reply;
use crate::lease::{LeaseState, UnixTime};
use crate::packet::MessageType;
use crate::store::{StoreError, Write};

/// Records one retry writes at most.
const RETRY_BATCH: usize = 512;

/// Records memory holds that the store does not, by key.
#[derive(Debug, Default)]
pub(crate) struct Unsaved {
    leases: BTreeSet<Ipv4Addr>,
    blocks: BTreeSet<MacAddr>,
    /// A retry is in flight.
    sending: bool,
}

impl Unsaved {
    /// How many wait to be written.
    pub(crate) fn len(&self) -> usize {
        self.leases.len() + self.blocks.len()
    }

    /// Whether memory's record of `ip` waits to be written: the database's
    /// older record must not replace it in memory.
    pub(crate) fn holds(&self, ip: Ipv4Addr) -> bool {
        self.leases.contains(&ip)
    }

    /// Keeps the records `undo` names (leases and blocks) to be written.
    pub(crate) fn keep(&mut self, undo: &[Undo]) {
        for u in undo {
            match u {
                Undo::Lease { ip, .. } => {
                    self.leases.insert(*ip);
                }
                Undo::Block { mac, .. } => {
                    self.blocks.insert(*mac);
                }
                Undo::Host { .. } => {}
            }
        }
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
        self.unsaved.keep(undo);
        self.counters.bump("renewed_from_memory");
        true
    }

    /// Writes the unsaved records again as memory holds them now, unless a
    /// retry is in flight (once a second, from housekeeping). A record
    /// another change in flight is writing waits for it: should that one
    /// fail and be undone, this write would have saved what memory no
    /// longer holds.
    pub(crate) fn retry_unsaved(&mut self, at: UnixTime) {
        if self.unsaved.sending || self.unsaved.len() == 0 {
            return;
        }
        let busy: HashSet<Record> = self.journal.records().collect();
        let ips = take_ready(&mut self.unsaved.leases, RETRY_BATCH, |ip| {
            busy.contains(&Record::Lease(ip))
        });
        let macs = take_ready(&mut self.unsaved.blocks, RETRY_BATCH - ips.len(), |mac| {
            busy.contains(&Record::Block(mac))
        });
        let (writes, undo): (Vec<Write>, Vec<Undo>) = ips
            .into_iter()
            .map(|ip| self.lease_as_held(ip))
            .chain(macs.into_iter().map(|mac| self.block_as_held(mac)))
            .unzip();
        if writes.is_empty() {
            return;
        }
        self.unsaved.sending = true;
        self.commit(
            Source::Unsaved,
            Staged::rewrite(undo, writes),
            Report::default(),
            Then::Nothing,
            at,
        );
    }

    /// The write of lease `ip` as memory holds it (a delete if it holds
    /// none), and an undo that changes nothing.
    fn lease_as_held(&self, ip: Ipv4Addr) -> (Write, Undo) {
        let now = self.table.get(ip).cloned();
        let write = match &now {
            Some(l) => Write::PutLease(l.clone()),
            None => Write::DeleteLease(ip),
        };
        let undo = Undo::Lease {
            ip,
            before: now.clone(),
            after: now,
        };
        (write, undo)
    }

    /// The write of `mac`'s block as memory holds it, likewise.
    fn block_as_held(&self, mac: MacAddr) -> (Write, Undo) {
        let now = self.blocks.get(&mac).copied();
        let write = match now {
            Some(b) => Write::PutBlock(b),
            None => Write::DeleteBlock(mac),
        };
        let undo = Undo::Block {
            mac,
            before: now,
            after: now,
        };
        (write, undo)
    }

    /// The retry in flight is durable (or settled in a winner's favour).
    pub(crate) fn unsaved_written(&mut self) {
        self.unsaved.sending = false;
        if self.unsaved.len() == 0 {
            info!("records kept in memory while the store failed are all written now");
        }
    }

    /// A change whose records memory keeps failed to be written (a retry,
    /// or a clock shift): they are tried again next time.
    pub(crate) fn unsaved_failed(&mut self, source: Source, undo: &[Undo]) {
        if source == Source::Unsaved {
            self.unsaved.sending = false;
        }
        self.unsaved.keep(undo);
        warn!(
            records = self.unsaved.len(),
            "kept in memory, not in the store: written again each second until the store takes them"
        );
    }
}

/// Takes up to `room` keys that `busy` does not name out of `set`, in
/// order, without copying the rest.
fn take_ready<K: Ord + Copy>(
    set: &mut BTreeSet<K>,
    room: usize,
    busy: impl Fn(K) -> bool,
) -> Vec<K> {
    let picked: Vec<K> = set
        .iter()
        .copied()
        .filter(|&k| !busy(k))
        .take(room)
        .collect();
    for k in &picked {
        set.remove(k);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::MacAddr;
    use crate::engine::Destination;
    use crate::lease::{ClientKey, Lease};
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

    #[test]
    fn a_retry_takes_records_not_busy_up_to_its_room() {
        let mut set: BTreeSet<u32> = (1..=10).collect();
        let taken = take_ready(&mut set, 3, |k| k % 2 == 1);
        assert_eq!(taken, [2, 4, 6], "busy ones skipped, at most the room");
        assert_eq!(set.into_iter().collect::<Vec<_>>(), [1, 3, 5, 7, 8, 9, 10]);
    }
}
