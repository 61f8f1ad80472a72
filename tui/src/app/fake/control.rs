//! The fake's answers to the control API, from its in-memory state.

use std::net::Ipv4Addr;
use std::time::Duration;

use berth_proto::page::build_page;
use berth_proto::{
    ApiError, BlockInfo, Control, ErrorKind, Event, EventBatch, EventKind, Gap, HostInfo, HostSpec,
    LeaseFilter, LeaseInfo, LeaseKind, LeaseState, Origin, Page, PageRequest, PoolInfo,
    PromoteRequest, PromoteResult, ReloadResult, Status, Target,
};
use tarpc::context::Context;

use super::daemon::{FakeDaemon, checked_name, unix_now};
use super::demo::{demo_explanation, event, quarantine_entry, quarantine_of, status_of};

/// The page of `items` after the cursor, ordered by the string `key` (as
/// the daemon orders hosts by name and blocks by MAC).
fn page_by<T: Clone + serde::Serialize>(
    items: &[T],
    page: &PageRequest,
    key: impl Fn(&T) -> &String,
) -> Page<T> {
    let mut after: Vec<&T> = items
        .iter()
        .filter(|i| page.after.as_ref().is_none_or(|a| key(i) > a))
        .collect();
    after.sort_by(|a, b| key(a).cmp(key(b)));
    build_page(after.into_iter().cloned(), page, items.len() as u64, |i| {
        key(i).clone()
    })
}

impl Control for FakeDaemon {
    async fn api_version(self, _: Context) -> u32 {
        berth_proto::API_VERSION
    }

    async fn status(self, _: Context) -> Result<Status, ApiError> {
        Ok(status_of(&self.lock().data, unix_now()))
    }

    async fn leases(
        self,
        _: Context,
        filter: LeaseFilter,
        page: PageRequest,
    ) -> Result<Page<LeaseInfo>, ApiError> {
        let after = match page.after.as_deref() {
            None => None,
            Some(c) => Some(c.parse::<Ipv4Addr>().map_err(|_| {
                ApiError::new(
                    ErrorKind::Invalid,
                    format!("page cursor `{c}` is not an address"),
                )
            })?),
        };
        let s = self.lock();
        let wanted = |l: &&LeaseInfo| {
            filter.state.is_none_or(|st| st == l.state)
                && filter.mac.as_ref().is_none_or(|m| *m == l.mac)
                && filter.ip.is_none_or(|a| a == l.ip)
        };
        let total = s.data.leases.iter().filter(wanted).count() as u64;
        // The leases are kept by address: seek past the cursor.
        let from = after.map_or(0, |a| s.data.leases.partition_point(|l| l.ip <= a));
        let items = s.data.leases[from..].iter().filter(wanted).cloned();
        Ok(build_page(items, &page, total, |l| l.ip.to_string()))
    }

    async fn hosts(self, _: Context, page: PageRequest) -> Result<Page<HostInfo>, ApiError> {
        Ok(page_by(&self.lock().data.hosts, &page, |h| &h.name))
    }

    async fn host_add(self, _: Context, spec: HostSpec) -> Result<HostInfo, ApiError> {
        self.check_admin()?;
        checked_name(&spec.name)?;
        let info = HostInfo {
            name: spec.name,
            mac: Some(spec.mac),
            client_id: None,
            ip: spec.ip,
            origin: Origin::Store,
            options: spec.options,
            created_at: Some(unix_now()),
        };
        self.lock().data.hosts.push(info.clone());
        Ok(info)
    }

    async fn host_update(
        self,
        _: Context,
        name: String,
        spec: HostSpec,
    ) -> Result<HostInfo, ApiError> {
        self.check_admin()?;
        checked_name(&spec.name)?;
        let mut s = self.lock();
        let h = s
            .data
            .hosts
            .iter_mut()
            .find(|h| h.name == name)
            .ok_or_else(|| ApiError::new(ErrorKind::NotFound, format!("no host {name}")))?;
        if h.origin == Origin::Config {
            return Err(ApiError::new(
                ErrorKind::ReadOnly,
                format!("host {name} is in the config file"),
            ));
        }
        h.name = spec.name;
        h.mac = Some(spec.mac);
        h.ip = spec.ip;
        h.options = spec.options;
        Ok(h.clone())
    }

    async fn host_remove(self, _: Context, name: String) -> Result<HostInfo, ApiError> {
        self.check_admin()?;
        let mut s = self.lock();
        let i = s
            .data
            .hosts
            .iter()
            .position(|h| h.name == name && h.origin == Origin::Store)
            .ok_or_else(|| ApiError::new(ErrorKind::NotFound, format!("no store host {name}")))?;
        Ok(s.data.hosts.remove(i))
    }

    async fn hosts_export(self, _: Context) -> Result<String, ApiError> {
        Ok(String::new())
    }

    async fn promote(self, _: Context, req: PromoteRequest) -> Result<PromoteResult, ApiError> {
        self.check_admin()?;
        let now = unix_now();
        let (result, ev, move_after) = {
            let mut s = self.lock();
            let taken_by_host = |a: Ipv4Addr| s.data.hosts.iter().any(|h| h.ip == a);
            let lease = s
                .data
                .leases
                .iter()
                .find(|l| l.mac == req.mac && l.kind == LeaseKind::Dynamic)
                .cloned()
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorKind::NotFound,
                        format!("no dynamic lease for {}", req.mac),
                    )
                })?;
            let to = req.ip.unwrap_or(lease.ip);
            let in_use =
                taken_by_host(to) || s.data.leases.iter().any(|l| l.ip == to && l.mac != req.mac);
            if in_use {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("{to} is already in use"),
                ));
            }
            let name = req
                .hostname
                .clone()
                .or(lease.hostname.clone())
                .unwrap_or_else(|| format!("host-{}", req.mac.replace(':', "")));
            checked_name(&name)?;
            if s.data.hosts.iter().any(|h| h.name == name) {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("a host named {name} exists"),
                ));
            }
            let info = HostInfo {
                name: name.clone(),
                mac: Some(req.mac.clone()),
                client_id: None,
                ip: to,
                origin: Origin::Store,
                options: Vec::new(),
                created_at: Some(now),
            };
            s.data.hosts.push(info.clone());
            let moving = to != lease.ip;
            if let Some(l) = s.data.leases.iter_mut().find(|l| l.mac == req.mac) {
                l.hostname = Some(name.clone());
                if moving {
                    l.kind = LeaseKind::Moving;
                    l.moving_to = Some(to);
                } else {
                    l.kind = LeaseKind::Static;
                }
            }
            let mut e = event(0, now, EventKind::Promote);
            e.mac = Some(req.mac.clone());
            e.ip = Some(lease.ip);
            e.hostname = Some(name);
            e.detail = format!("to {to}");
            let result = PromoteResult {
                host: info,
                from: Some(lease.ip),
                moving,
            };
            (result, e, if moving { s.move_after } else { None })
        };
        self.push(ev);
        if let Some(after) = move_after {
            let me = self.clone();
            let mac = req.mac.clone();
            let to = result.host.ip;
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                me.finish_move(mac, to);
            });
        }
        Ok(result)
    }

    async fn release(self, _: Context, target: Target) -> Result<LeaseInfo, ApiError> {
        self.check_admin()?;
        let info = {
            let mut s = self.lock();
            let l = s
                .data
                .leases
                .iter_mut()
                .find(|l| match &target {
                    Target::Ip(a) => l.ip == *a,
                    Target::Mac(m) => l.mac == *m,
                })
                .ok_or_else(|| ApiError::new(ErrorKind::NotFound, "no such lease"))?;
            l.state = LeaseState::Released;
            l.ends = unix_now();
            l.clone()
        };
        let mut e = event(0, unix_now(), EventKind::Release);
        e.mac = Some(info.mac.clone());
        e.ip = Some(info.ip);
        e.hostname = info.hostname.clone();
        e.detail = "released by operator".into();
        self.push(e);
        Ok(info)
    }

    async fn block(
        self,
        _: Context,
        mac: String,
        duration_secs: Option<u64>,
    ) -> Result<BlockInfo, ApiError> {
        self.check_admin()?;
        let now = unix_now();
        let info = BlockInfo {
            mac: mac.clone(),
            since: now,
            until: duration_secs.map(|d| now + i64::try_from(d).unwrap_or(i64::MAX / 2)),
        };
        self.lock().data.blocks.push(info.clone());
        let mut e = event(0, now, EventKind::Block);
        e.mac = Some(mac);
        self.push(e);
        Ok(info)
    }

    async fn unblock(self, _: Context, mac: String) -> Result<BlockInfo, ApiError> {
        self.check_admin()?;
        let mut s = self.lock();
        let i = s
            .data
            .blocks
            .iter()
            .position(|b| b.mac == mac)
            .ok_or_else(|| ApiError::new(ErrorKind::NotFound, format!("{mac} is not blocked")))?;
        Ok(s.data.blocks.remove(i))
    }

    async fn blocks(self, _: Context, page: PageRequest) -> Result<Page<BlockInfo>, ApiError> {
        Ok(page_by(&self.lock().data.blocks, &page, |b| &b.mac))
    }

    async fn pools(self, _: Context) -> Result<Vec<PoolInfo>, ApiError> {
        let s = self.lock();
        Ok(s.data.pools.clone())
    }

    async fn reload(self, _: Context) -> Result<ReloadResult, ApiError> {
        self.check_admin()?;
        Ok(ReloadResult {
            config_path: "/etc/berth/berth.toml".into(),
            subnets: 2,
            hosts: 2,
            warnings: Vec::new(),
        })
    }

    async fn events_since(
        self,
        _: Context,
        seq: u64,
        wait_ms: u64,
    ) -> Result<EventBatch, ApiError> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms.min(30_000));
        loop {
            // Register for news before looking, so an event pushed in
            // between is not missed.
            let news = self.news.notified();
            tokio::pin!(news);
            news.as_mut().enable();
            {
                let s = self.lock();
                let events: Vec<Event> = s.ring.iter().filter(|e| e.seq > seq).cloned().collect();
                let gap = s
                    .ring
                    .front()
                    .filter(|first| first.seq > seq + 1)
                    .map(|first| Gap {
                        oldest_seq: first.seq,
                    });
                if !events.is_empty() || tokio::time::Instant::now() >= deadline {
                    return Ok(EventBatch {
                        last_seq: events.last().map_or(seq, |e| e.seq),
                        events,
                        gap,
                        epoch: s.data.started_at,
                    });
                }
            }
            let _ = tokio::time::timeout_at(deadline, news).await;
        }
    }

    async fn explain(
        self,
        _: Context,
        req: berth_proto::ExplainRequest,
    ) -> Result<berth_proto::Explanation, ApiError> {
        Ok(demo_explanation(&req))
    }

    async fn scan(
        self,
        _: Context,
        range: Option<String>,
    ) -> Result<Vec<berth_proto::ScanResult>, ApiError> {
        // A canned sweep of the asked range (`START-END`) that hears nobody.
        let now = unix_now();
        let s = self.lock();
        let swept: Vec<berth_proto::ScanResult> = s
            .data
            .pools
            .iter()
            .filter(|p| {
                range
                    .as_deref()
                    .is_none_or(|r| r == "all" || r == format!("{}-{}", p.start, p.end))
            })
            .map(|p| berth_proto::ScanResult {
                subnet: p.subnet.clone(),
                start: p.start,
                end: p.end,
                interface: "eth1".into(),
                probed: p.size,
                answered: 0,
                observed: p.observed,
                squatters: Vec::new(),
                finished_at: now,
                duration_ms: 200,
            })
            .collect();
        if swept.is_empty() {
            return Err(ApiError::new(
                ErrorKind::NotFound,
                "no dynamic range matches",
            ));
        }
        Ok(swept)
    }

    async fn quarantine(
        self,
        _: Context,
        page: berth_proto::PageRequest,
    ) -> Result<berth_proto::Page<berth_proto::QuarantineInfo>, ApiError> {
        // The demo holds a handful: one page, whatever was asked.
        let _ = page;
        Ok(berth_proto::Page::whole(quarantine_of(
            &self.lock().data,
            unix_now(),
        )))
    }

    async fn quarantine_clear(
        self,
        _: Context,
        addr: Ipv4Addr,
    ) -> Result<berth_proto::QuarantineInfo, ApiError> {
        self.check_admin()?;
        let info = {
            let mut s = self.lock();
            let i = s
                .data
                .leases
                .iter()
                .position(|l| l.ip == addr && l.state == LeaseState::Declined)
                .ok_or_else(|| {
                    ApiError::new(ErrorKind::NotFound, format!("{addr} is not quarantined"))
                })?;
            let l = s.data.leases.remove(i);
            if let Some(p) = s
                .data
                .pools
                .iter_mut()
                .find(|p| p.start <= addr && addr <= p.end)
            {
                p.quarantined = p.quarantined.saturating_sub(1);
                p.free += 1;
            }
            quarantine_entry(&l)
        };
        let mut e = event(0, unix_now(), EventKind::QuarantineCleared);
        e.ip = Some(addr);
        e.mac = info.mac.clone();
        e.detail = "quarantine (declined) cleared by operator; free again".into();
        self.push(e);
        Ok(info)
    }
}
