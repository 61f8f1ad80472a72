//! The list calls' pages: leases by address, hosts by name, blocks by MAC,
//! each built by berth-proto's one paging rule ([`build_page`]) from an
//! ordered walk that starts after the cursor, so no page clones the table.
//!
//! A lease page is made in two steps so the core (which also answers DHCP)
//! does only the cheap one: on the core, [`Core::lease_rows`] picks the
//! page's records (one more than fit, to know whether more follow) with
//! what they need from the hosts and subnets; off it, [`LeaseRows::page`]
//! formats them and applies the byte bound.

use std::net::Ipv4Addr;

use berth_proto as proto;
use berth_proto::page::build_page;
use berth_proto::{ApiError, ErrorKind, Page, PageRequest};

use super::Core;
use super::ops::{LeaseFacts, block_info, lease_info, lease_state};
use crate::addr::{Cidr, MacAddr};
use crate::lease::{Lease, UnixTime};

fn bad_cursor(cursor: &str, what: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Invalid,
        format!("page cursor `{cursor}` is not {what}; pass back the `next` of the previous page"),
    )
}

/// A lease filter, parsed once per page.
struct LeaseMatch<'a> {
    f: &'a proto::LeaseFilter,
    subnet: Option<Cidr>,
    mac: Option<MacAddr>,
    needle: Option<String>,
}

impl<'a> LeaseMatch<'a> {
    fn new(f: &'a proto::LeaseFilter) -> Result<Self, ApiError> {
        let subnet = match &f.subnet {
            Some(s) => Some(
                s.parse::<Cidr>()
                    .map_err(|e| ApiError::new(ErrorKind::Invalid, format!("subnet: {e}")))?,
            ),
            None => None,
        };
        let mac = f
            .mac
            .as_deref()
            .map(|m| {
                m.parse::<MacAddr>()
                    .map_err(|e| ApiError::new(ErrorKind::Invalid, e.to_string()))
            })
            .transpose()?;
        Ok(LeaseMatch {
            f,
            subnet,
            mac,
            needle: f.hostname.as_ref().map(|h| h.to_lowercase()),
        })
    }

    fn is_everything(&self) -> bool {
        self.subnet.is_none()
            && self.mac.is_none()
            && self.needle.is_none()
            && self.f.state.is_none()
            && self.f.ip.is_none()
    }

    fn matches(&self, l: &Lease) -> bool {
        self.subnet.is_none_or(|c| c.contains(l.ip))
            && self.f.state.is_none_or(|s| lease_state(l.state) == s)
            && self.mac.is_none_or(|m| l.mac == m)
            && self.f.ip.is_none_or(|ip| l.ip == ip)
            && self.needle.as_ref().is_none_or(|n| {
                l.hostname
                    .as_ref()
                    .is_some_and(|h| h.to_lowercase().contains(n.as_str()))
            })
    }
}

/// A lease page's records as the core picked them.
pub(crate) struct LeaseRows {
    rows: Vec<(Lease, LeaseFacts)>,
    total: u64,
}

impl LeaseRows {
    /// The page for `req`: formatted, cut at the item and byte bounds.
    pub(crate) fn page(self, req: &PageRequest) -> Page<proto::LeaseInfo> {
        let items = self.rows.into_iter().map(|(l, f)| lease_info(&l, f));
        build_page(items, req, self.total, |l| l.ip.to_string())
    }
}

impl Core {
    /// The records of one page of the leases matching `f`, by address (see
    /// the module's doc); [`LeaseRows::page`] makes the page.
    pub(crate) fn lease_rows(
        &self,
        f: &proto::LeaseFilter,
        req: &PageRequest,
        now: UnixTime,
    ) -> Result<LeaseRows, ApiError> {
        let m = LeaseMatch::new(f)?;
        let after = req
            .after
            .as_deref()
            .map(|c| {
                c.parse::<Ipv4Addr>()
                    .map_err(|_| bad_cursor(c, "an address (leases pages are keyed by address)"))
            })
            .transpose()?;
        let row = |l: &Lease| (l.clone(), self.lease_view_facts(l, now));
        // One address is one record: no walk at all.
        if let Some(ip) = f.ip {
            let hit = self
                .table
                .get(ip)
                .filter(|l| m.matches(l) && after.is_none_or(|a| ip > a));
            let rows: Vec<_> = hit.map(row).into_iter().collect();
            return Ok(LeaseRows {
                total: rows.len() as u64,
                rows,
            });
        }
        let total = if m.is_everything() {
            self.table.len() as u64
        } else {
            self.table.iter().filter(|l| m.matches(l)).count() as u64
        };
        let rows = self
            .table
            .after(after)
            .filter(|l| m.matches(l))
            .take(req.effective_limit() + 1)
            .map(row)
            .collect();
        Ok(LeaseRows { rows, total })
    }

    /// One page of the leases matching `f`, by address, made on the spot.
    #[cfg(test)]
    pub(crate) fn leases_page(
        &self,
        f: &proto::LeaseFilter,
        req: &PageRequest,
        now: UnixTime,
    ) -> Result<Page<proto::LeaseInfo>, ApiError> {
        Ok(self.lease_rows(f, req, now)?.page(req))
    }

    /// One page of the static hosts, by name.
    pub(crate) fn hosts_page(&self, req: &PageRequest) -> Page<proto::HostInfo> {
        let after = req.after.as_deref();
        let mut names: Vec<&str> = self
            .hosts
            .iter()
            .map(|e| e.host.name.as_str())
            .filter(|n| after.is_none_or(|a| *n > a))
            .collect();
        // Only the page's names (and one more) need to be in order.
        let keep = req.effective_limit() + 1;
        if names.len() > keep {
            names.select_nth_unstable(keep);
            names.truncate(keep);
        }
        names.sort_unstable();
        let items = names
            .into_iter()
            .filter_map(|n| self.hosts.by_name(n))
            .map(Self::host_info);
        build_page(items, req, self.hosts.iter().count() as u64, |h| {
            h.name.clone()
        })
    }

    /// One page of the active blocks, by MAC.
    pub(crate) fn blocks_page(
        &self,
        req: &PageRequest,
        now: UnixTime,
    ) -> Result<Page<proto::BlockInfo>, ApiError> {
        let after = req
            .after
            .as_deref()
            .map(|c| {
                c.parse::<MacAddr>()
                    .map_err(|_| bad_cursor(c, "a MAC (blocks pages are keyed by MAC)"))
            })
            .transpose()?;
        let mut active: Vec<_> = self.blocks.iter().filter(|b| b.is_active(now)).collect();
        let total = active.len() as u64;
        active.retain(|b| after.is_none_or(|a| b.mac > a));
        active.sort_unstable_by_key(|b| b.mac);
        let items = active.into_iter().map(block_info);
        Ok(build_page(items, req, total, |b| b.mac.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{ClientKey, LeaseState};
    use crate::server::start::TEST_CONFIG as CONFIG;
    use crate::store::MemoryStore;

    fn core_with(n: u32, hostname: impl Fn(u32) -> Option<String>) -> Core {
        let (mut core, _wire) = Core::for_test(CONFIG, MemoryStore::new());
        for i in 0..n {
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 0)) + i);
            let mac = MacAddr([2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
            core.table.insert(Lease {
                ip,
                client: ClientKey::from_hw(1, &mac.0),
                mac,
                hostname: hostname(i).map(Into::into),
                state: LeaseState::Bound,
                starts: 1000,
                ends: 5000,
            });
        }
        core
    }

    fn walk(core: &Core, f: &proto::LeaseFilter) -> Vec<Ipv4Addr> {
        let mut req = PageRequest::first();
        let mut out = Vec::new();
        loop {
            let page = core.leases_page(f, &req, 2000).expect("page");
            out.extend(page.items.iter().map(|l| l.ip));
            match page.next_request(0) {
                Some(r) => req = r,
                None => return out,
            }
        }
    }

    #[test]
    fn lease_pages_walk_by_address_with_the_total() {
        let core = core_with(4_500, |_| None);
        let first = core
            .leases_page(&proto::LeaseFilter::default(), &PageRequest::first(), 2000)
            .expect("page");
        assert_eq!(first.items.len(), 2_000);
        assert_eq!(first.total, 4_500);
        assert_eq!(first.next.as_deref(), Some("10.0.7.207"));
        let all = walk(&core, &proto::LeaseFilter::default());
        assert_eq!(all.len(), 4_500);
        assert!(all.windows(2).all(|w| w[0] < w[1]), "by address");
    }

    #[test]
    fn a_walk_is_stable_while_leases_come_and_go() {
        let mut core = core_with(3_000, |_| None);
        let f = proto::LeaseFilter::default();
        let first = core
            .leases_page(
                &f,
                &PageRequest {
                    after: None,
                    limit: 1000,
                },
                2000,
            )
            .expect("page");
        // Between pages: one sent lease and one unsent lease go, a lease
        // before the cursor and one after it arrive.
        core.table.remove(Ipv4Addr::new(10, 0, 0, 5));
        core.table.remove(Ipv4Addr::new(10, 0, 10, 0));
        let mut moved = core
            .table
            .get(Ipv4Addr::new(10, 0, 0, 6))
            .cloned()
            .expect("lease");
        moved.ip = Ipv4Addr::new(9, 0, 0, 1);
        core.table.insert(moved.clone());
        moved.ip = Ipv4Addr::new(10, 0, 200, 1);
        core.table.insert(moved);
        let mut seen: Vec<Ipv4Addr> = first.items.iter().map(|l| l.ip).collect();
        let mut req = first.next_request(1000);
        while let Some(r) = req {
            let page = core.leases_page(&f, &r, 2000).expect("page");
            seen.extend(page.items.iter().map(|l| l.ip));
            req = page.next_request(1000);
        }
        let mut dedup = seen.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), seen.len(), "none twice");
        assert!(
            seen.contains(&Ipv4Addr::new(10, 0, 200, 1)),
            "new one after the cursor"
        );
        assert!(
            !seen.contains(&Ipv4Addr::new(10, 0, 10, 0)),
            "gone before its page"
        );
        assert!(
            !seen.contains(&Ipv4Addr::new(9, 0, 0, 1)),
            "behind the cursor"
        );
        assert_eq!(seen.len(), 3_000);
    }

    #[test]
    fn pages_of_long_control_byte_hostnames_stay_under_the_byte_limit() {
        let name: String = std::iter::repeat_n('\u{7}', 255).collect();
        let core = core_with(2_000, |_| Some(name.clone()));
        let page = core
            .leases_page(&proto::LeaseFilter::default(), &PageRequest::first(), 2000)
            .expect("page");
        let bytes = berth_proto::page::json_len(&page);
        assert!(bytes <= berth_proto::MAX_PAGE_BYTES + 100, "{bytes} bytes");
        assert!(page.items.len() < 2_000, "the byte limit cut the page");
        assert_eq!(walk(&core, &proto::LeaseFilter::default()).len(), 2_000);
    }

    #[test]
    fn filtered_pages_count_only_matches() {
        let core = core_with(3_000, |i| {
            Some(if i % 3 == 0 {
                "Desk".into()
            } else {
                "x".into()
            })
        });
        let f = proto::LeaseFilter {
            hostname: Some("desk".into()),
            ..Default::default()
        };
        let page = core
            .leases_page(&f, &PageRequest::first(), 2000)
            .expect("page");
        assert_eq!(page.total, 1_000);
        assert_eq!(walk(&core, &f).len(), 1_000);
        let one = proto::LeaseFilter {
            ip: Some(Ipv4Addr::new(10, 0, 0, 3)),
            ..Default::default()
        };
        let page = core
            .leases_page(&one, &PageRequest::first(), 2000)
            .expect("page");
        assert_eq!((page.items.len(), page.next, page.total), (1, None, 1));
    }

    #[test]
    fn a_malformed_cursor_is_invalid_and_named() {
        let core = core_with(3, |_| None);
        let bad = PageRequest::after("not-an-ip");
        let e = core
            .leases_page(&proto::LeaseFilter::default(), &bad, 2000)
            .expect_err("bad cursor");
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.message.contains("`not-an-ip`"), "{}", e.message);
        let e = core.blocks_page(&bad, 2000).expect_err("bad cursor");
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.message.contains("`not-an-ip`"), "{}", e.message);
    }

    #[test]
    fn block_pages_walk_by_mac() {
        let (mut core, _wire) = Core::for_test(CONFIG, MemoryStore::new());
        for i in 0..30u8 {
            core.blocks.insert(crate::blocks::Block {
                mac: MacAddr([2, 0, 0, 0, 0, 29 - i]),
                since: 1,
                until: None,
            });
        }
        let mut req = PageRequest {
            after: None,
            limit: 7,
        };
        let mut macs = Vec::new();
        loop {
            let p = core.blocks_page(&req, 10).expect("page");
            assert_eq!(p.total, 30);
            macs.extend(p.items.into_iter().map(|b| b.mac));
            match p.next {
                Some(c) => {
                    req = PageRequest {
                        after: Some(c),
                        limit: 7,
                    }
                }
                None => break,
            }
        }
        let mut sorted = macs.clone();
        sorted.sort();
        assert_eq!(macs.len(), 30);
        assert_eq!(macs, sorted);
    }
}
