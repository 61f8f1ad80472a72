//! Lost claims: lease writes a database shared with other daemons refused
//! because another daemon holds the address (see [`crate::store::Lost`]).

use berth_proto::{ApiError, ErrorKind};
use tracing::warn;

use super::Core;
use super::commit::{InFlight, Source, Undo};
use super::transport::send_now;
use crate::engine;
use crate::store::Lost;

impl Core {
    /// A change of which the shared database refused some lease writes
    /// (another daemon holds those addresses): for those, as for a failed
    /// write, what the change did in memory is undone, but what comes back
    /// is the winner's record, so the next offer picks another address. The
    /// change's other writes are durable and stay. Nothing of it is
    /// announced; an ACK becomes a NAK (see [`engine::nak_instead_of`]), an
    /// operator hears of the conflict.
    pub(crate) fn lost_claims(&mut self, flight: InFlight, undo: Vec<Undo>, lost: Vec<Lost>) {
        let (mut back, mut kept): (Vec<Undo>, Vec<Undo>) = (Vec::new(), Vec::new());
        for u in undo {
            match &u {
                Undo::Lease { ip, .. } if lost.iter().any(|l| l.ip == *ip) => back.push(u),
                _ => kept.push(u),
            }
        }
        for u in &mut back {
            if let Undo::Lease { ip, before, .. } = u {
                *before = lost
                    .iter()
                    .find(|l| l.ip == *ip)
                    .and_then(|l| l.holder.clone());
            }
        }
        if let Some(r) = self.recent.as_mut() {
            // Both are durable now: the kept writes, and the winners' records.
            r.touch(&kept);
            r.touch(&back);
        }
        if flight.source == Source::Unsaved {
            self.unsaved_written(); // durable, or settled in the winner's favour
        }
        // A lost write with nothing to undo (a renewal written again): the
        // winner's record is learned directly.
        for l in &lost {
            if !back
                .iter()
                .any(|u| matches!(u, Undo::Lease { ip, .. } if *ip == l.ip))
            {
                match &l.holder {
                    Some(h) => self.table.insert(h.clone()),
                    None => {
                        self.table.remove(l.ip);
                    }
                }
            }
        }
        let ips: Vec<String> = lost.iter().map(|l| l.ip.to_string()).collect();
        let ips = ips.join(", ");
        self.counters.bump("claim_lost");
        warn!(addresses = %ips, "lease claim lost: another daemon holds the address");
        self.roll_back(flight.seq, back);
        if let Some((sock, ack)) = flight.reply {
            send_now(sock, &engine::nak_instead_of(&ack, "address taken"));
        }
        if let Some(answer) = flight.answer {
            answer(Err(ApiError::new(
                ErrorKind::Conflict,
                format!("{ips}: held by another daemon sharing the database; not changed"),
            )));
        }
    }
}
