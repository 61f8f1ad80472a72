//! Quarantined addresses for operators: `quarantine` lists them (paged, by
//! address), `quarantine_clear` frees one now. A clear is an
//! [`Effect::Unquarantine`] on the commit path, the same change the
//! housekeeping makes when a probation ends: durable before it is answered,
//! announced as a `quarantine_cleared` event once it is.

use std::net::Ipv4Addr;

use berth_proto::{self as proto, ApiError, ErrorKind, EventKind, Page, PageRequest};

use super::Core;
use super::commit::Change;
use super::ops::{OpResult, Plan, time};
use crate::engine::{Effect, is_probe_hit};
use crate::events::new_event;
use crate::lease::{Lease, LeaseState, UnixTime};

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Invalid, msg)
}

impl Core {
    fn quarantine_info(&self, l: &Lease) -> proto::QuarantineInfo {
        let probe = is_probe_hit(l);
        proto::QuarantineInfo {
            ip: l.ip,
            reason: if probe {
                proto::QuarantineReason::ProbeHit
            } else {
                proto::QuarantineReason::Declined
            },
            // A DECLINE's MAC is the decliner's; a probe hit's the answerer's.
            mac: Some(l.mac.to_string()),
            since: time(l.starts),
            until: time(l.ends),
            subnet: self.cfg.subnet_containing(l.ip).map(|s| s.cidr.to_string()),
        }
    }

    /// Whether `l` is a quarantine still in force at `now`.
    fn in_quarantine(l: &Lease, now: UnixTime) -> bool {
        l.state == LeaseState::Declined && l.is_active(now)
    }

    /// `quarantine`: the page of quarantined addresses after `req.after`
    /// (an address), by address. Items are small and fixed in size, so the
    /// item limit keeps a page far below the byte limit.
    pub(crate) fn quarantine_page(
        &self,
        req: &PageRequest,
        now: UnixTime,
    ) -> Result<Page<proto::QuarantineInfo>, ApiError> {
        let after: Option<Ipv4Addr> = match &req.after {
            Some(a) => Some(
                a.parse()
                    .map_err(|_| invalid(format!("page cursor `{a}` is not an address")))?,
            ),
            None => None,
        };
        let mut all: Vec<&Lease> = self
            .table
            .iter()
            .filter(|l| Self::in_quarantine(l, now))
            .collect();
        all.sort_by_key(|l| l.ip);
        let total = all.len() as u64;
        let limit = req.effective_limit();
        let rest: Vec<&Lease> = all
            .into_iter()
            .filter(|l| after.is_none_or(|a| l.ip > a))
            .collect();
        let more = rest.len() > limit;
        let items: Vec<proto::QuarantineInfo> = rest
            .into_iter()
            .take(limit)
            .map(|l| self.quarantine_info(l))
            .collect();
        let next = if more {
            items.last().map(|i| i.ip.to_string())
        } else {
            None
        };
        Ok(Page { items, next, total })
    }

    /// `quarantine_clear`: frees `ip` now if it is quarantined.
    pub(crate) fn quarantine_clear(
        &self,
        ip: Ipv4Addr,
        now: UnixTime,
    ) -> OpResult<proto::QuarantineInfo> {
        let Some(l) = self.table.get(ip).filter(|l| Self::in_quarantine(l, now)) else {
            return Err(ApiError::new(
                ErrorKind::NotFound,
                format!("{ip} is not quarantined"),
            ));
        };
        let info = self.quarantine_info(l);
        let mut ev = new_event(EventKind::QuarantineCleared);
        ev.ip = Some(ip);
        ev.mac = info.mac.clone();
        ev.detail = format!(
            "quarantine ({}) cleared by operator; free again",
            info.reason.as_str()
        );
        Ok(Plan {
            answer: info,
            changes: vec![Change::Lease(Effect::Unquarantine(ip))],
            events: vec![ev],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::MacAddr;
    use crate::lease::ClientKey;
    use crate::server::start::TEST_CONFIG as CONFIG;
    use crate::store::MemoryStore;

    const NOW: UnixTime = 1_800_000_000;

    fn quarantined(last: u8, probe: bool) -> Lease {
        let mac: MacAddr = format!("02:00:00:00:00:{last:02x}").parse().expect("mac");
        Lease {
            ip: Ipv4Addr::new(192, 0, 2, last),
            client: if probe {
                crate::engine::probe_hit_client()
            } else {
                ClientKey::from_hw(1, &mac.0)
            },
            mac,
            hostname: None,
            state: LeaseState::Declined,
            starts: NOW - 10,
            ends: NOW + 600,
        }
    }

    fn core_with(leases: &[Lease]) -> Core {
        let (mut core, _) = Core::for_test(CONFIG, MemoryStore::new());
        let effects: Vec<Effect> = leases.iter().cloned().map(Effect::Decline).collect();
        crate::engine::apply(&mut core.table, &effects);
        core
    }

    #[test]
    fn lists_quarantines_by_address_with_their_reason_in_pages() {
        let mut ended = quarantined(120, false);
        ended.ends = NOW - 1;
        let core = core_with(&[
            quarantined(130, true),
            quarantined(110, false),
            ended,
            quarantined(140, false),
        ]);
        let first = core
            .quarantine_page(
                &PageRequest {
                    after: None,
                    limit: 2,
                },
                NOW,
            )
            .expect("page");
        let ips: Vec<String> = first.items.iter().map(|q| q.ip.to_string()).collect();
        assert_eq!(ips, ["192.0.2.110", "192.0.2.130"], "ended one left out");
        assert_eq!(first.total, 3);
        assert_eq!(first.items[0].reason, proto::QuarantineReason::Declined);
        assert_eq!(first.items[1].reason, proto::QuarantineReason::ProbeHit);
        assert_eq!(first.items[0].mac.as_deref(), Some("02:00:00:00:00:6e"));
        assert_eq!(first.items[0].until, (NOW + 600) as i64);
        let next = first.next.expect("more");
        let second = core
            .quarantine_page(&PageRequest::after(next), NOW)
            .expect("page");
        let ips: Vec<String> = second.items.iter().map(|q| q.ip.to_string()).collect();
        assert_eq!(ips, ["192.0.2.140"]);
        assert_eq!(second.next, None);
        let bad = core.quarantine_page(&PageRequest::after("x"), NOW);
        assert_eq!(bad.map(|_| ()).map_err(|e| e.kind), Err(ErrorKind::Invalid));
    }

    #[test]
    fn clearing_unquarantines_and_announces_it() {
        let core = core_with(&[quarantined(110, false)]);
        let plan = core
            .quarantine_clear(Ipv4Addr::new(192, 0, 2, 110), NOW)
            .expect("plan");
        assert_eq!(
            plan.changes,
            vec![Change::Lease(Effect::Unquarantine(Ipv4Addr::new(
                192, 0, 2, 110
            )))]
        );
        assert_eq!(plan.events[0].kind, EventKind::QuarantineCleared);
        let missing = core.quarantine_clear(Ipv4Addr::new(192, 0, 2, 111), NOW);
        assert_eq!(
            missing.map(|_| ()).map_err(|e| e.kind),
            Err(ErrorKind::NotFound)
        );
    }
}
