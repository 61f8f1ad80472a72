//! Once a second: blocks that ran out, holds that lapsed, leases that
//! expired and quarantines that ended. They go through the commit path like
//! any other change, so an expiry is announced only once it is recorded.

use berth_proto::EventKind;
use tracing::error;

use super::Core;
use super::commit::{Change, Report, Source, Then};
use super::log::Line;
use crate::engine::{self, Effect};
use crate::events::{Fields, Record};
use crate::lease::UnixTime;

impl Core {
    pub(crate) fn housekeeping(&mut self, at: UnixTime) {
        self.retry_unsaved(at);
        let mut changes = Vec::new();
        let mut report = Report::default();
        for mac in self.blocks.expired(at) {
            report.lines.push(Line::BlockRanOut(mac));
            changes.push(Change::RemoveBlock(mac));
        }
        let grace = self.cfg.server.expiry_grace.into();
        for e in engine::reclaim_after(&self.table, at, grace) {
            match &e {
                Effect::Expire(l) => {
                    report.lines.push(Line::Expired {
                        ip: l.ip,
                        mac: l.mac,
                    });
                    // Built compact from the lease's own strings, as the
                    // packet path builds its events: an expiry storm (a
                    // whole pool at once) allocates one record each.
                    let mac = l.mac.text();
                    let mut ev = Fields::new(EventKind::Expiry);
                    ev.mac = Some(mac.as_str());
                    ev.ip = Some(l.ip);
                    ev.hostname = l.hostname.as_deref();
                    report.events.push(Record::new(ev));
                }
                Effect::Unquarantine(ip) => report.lines.push(Line::Unquarantined(*ip)),
                Effect::Unobserve(ip) => report.lines.push(Line::Unobserved(*ip)),
                _ => {}
            }
            changes.push(Change::Lease(e));
        }
        if changes.is_empty() {
            return;
        }
        match self.stage(changes) {
            Ok(staged) => self.commit(Source::Housekeeping, staged, report, Then::Nothing, at),
            Err(c) => error!("housekeeping change refused: {c}"),
        }
    }
}
