//! Control operations on the core's state: what the control API can read and
//! change. Each runs on the core task, between two packets, so it sees a
//! consistent state. A change is decided here and returned as a [`Plan`]:
//! the answer, the [`Change`]s and their events. The commit path applies
//! the changes, and answers and publishes the events once they are durable.

use std::net::Ipv4Addr;

use berth_proto as proto;
use berth_proto::{ApiError, ErrorKind, EventKind};

use super::Core;
use super::commit::Change;
use crate::addr::MacAddr;
use crate::blocks::Block;
use crate::config::HostId;
use crate::engine::Effect;
use crate::events::new_event;
use crate::hosts::{self, HostEntry, Origin};
use crate::lease::{Lease, LeaseState, UnixTime};
use crate::store::StoredHost;

/// The longest timed block; longer ones are "until unblocked".
const MAX_BLOCK_SECS: u64 = 100 * 365 * 24 * 3600;

/// What an operator's change decided: the answer to give once `changes`
/// are durable, and the events to publish then.
pub(crate) struct Plan<T> {
    pub answer: T,
    pub changes: Vec<Change>,
    pub events: Vec<proto::Event>,
}

impl<T> Plan<T> {
    /// An answer that changes nothing.
    pub fn answer(answer: T) -> Self {
        Plan {
            answer,
            changes: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// A plan, or why the operation is refused (nothing changed).
pub(crate) type OpResult<T> = Result<Plan<T>, ApiError>;

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Invalid, msg)
}

fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Conflict, msg)
}

fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::NotFound, msg)
}

fn parse_mac(s: &str) -> Result<MacAddr, ApiError> {
    s.parse::<MacAddr>().map_err(|e| invalid(e.to_string()))
}

pub(super) fn time(t: UnixTime) -> proto::UnixTime {
    i64::try_from(t).unwrap_or(i64::MAX)
}

pub(super) fn lease_state(s: LeaseState) -> proto::LeaseState {
    match s {
        LeaseState::Offered => proto::LeaseState::Offered,
        LeaseState::Bound => proto::LeaseState::Bound,
        LeaseState::Released => proto::LeaseState::Released,
        LeaseState::Expired => proto::LeaseState::Expired,
        LeaseState::Declined => proto::LeaseState::Declined,
        LeaseState::Observed => proto::LeaseState::Observed,
    }
}

/// A lease's kind, its move target and its subnet, as [`Core::lease_view_facts`]
/// found them.
pub(crate) struct LeaseFacts {
    kind: proto::LeaseKind,
    moving_to: Option<Ipv4Addr>,
    subnet: Option<crate::addr::Cidr>,
}

/// The API's view of a lease.
pub(crate) fn lease_info(l: &Lease, f: LeaseFacts) -> proto::LeaseInfo {
    proto::LeaseInfo {
        ip: l.ip,
        mac: l.mac.to_string(),
        client_id: l.client.to_string(),
        hostname: l.hostname.as_deref().map(str::to_string),
        kind: f.kind,
        state: lease_state(l.state),
        starts: time(l.starts),
        ends: time(l.ends),
        subnet: f.subnet.map(|c| c.to_string()),
        moving_to: f.moving_to,
    }
}

/// A host name operators can type and DNS can carry (berth-proto's rule,
/// shared with the config, the ctl and the TUI).
fn check_hostname(name: &str) -> Result<(), ApiError> {
    proto::parse::check_hostname(name).map_err(|e| invalid(e.to_string()))
}

impl Core {
    /// The static host the lease's client has, if any.
    fn host_for_lease(&self, l: &Lease) -> Option<&HostEntry> {
        self.hosts
            .by_client_id(l.client.as_bytes())
            .or_else(|| self.hosts.by_mac(&l.mac))
    }

    pub(crate) fn lease_info(&self, l: &Lease, now: UnixTime) -> proto::LeaseInfo {
        lease_info(l, self.lease_view_facts(l, now))
    }

    /// What a lease's API view needs from the rest of the state (hosts,
    /// subnets): cheap, so a list page takes these on the core and does
    /// the formatting off it.
    pub(crate) fn lease_view_facts(&self, l: &Lease, now: UnixTime) -> LeaseFacts {
        let host = self.host_for_lease(l);
        let (kind, moving_to) = match (l.state, host) {
            (LeaseState::Declined, _) => (proto::LeaseKind::Quarantined, None),
            (LeaseState::Observed, _) => (proto::LeaseKind::Observed, None),
            (_, Some(h)) if h.host.ip == l.ip => (proto::LeaseKind::Static, None),
            (_, Some(h)) if l.is_active(now) => (proto::LeaseKind::Moving, Some(h.host.ip)),
            _ => (proto::LeaseKind::Dynamic, None),
        };
        LeaseFacts {
            kind,
            moving_to,
            subnet: self.cfg.subnet_containing(l.ip).map(|s| s.cidr),
        }
    }

    pub(super) fn host_info(e: &HostEntry) -> proto::HostInfo {
        let (mac, client_id) = match &e.host.id {
            HostId::Mac(m) => (Some(m.to_string()), None),
            HostId::ClientId(id) => (
                None,
                Some(crate::lease::ClientKey::from(&id[..]).to_string()),
            ),
        };
        proto::HostInfo {
            name: e.host.name.clone(),
            mac,
            client_id,
            ip: e.host.ip,
            origin: match e.origin {
                Origin::Config => proto::Origin::Config,
                Origin::Store => proto::Origin::Store,
            },
            options: e
                .host
                .options
                .entries()
                .map(|(code, v)| {
                    let name = crate::options::by_code(code)
                        .map_or_else(|| format!("option-{code}"), |d| d.name.to_string());
                    (name, crate::options::render(code, &v.encode()))
                })
                .collect(),
            created_at: e.created_at.map(time),
        }
    }

    pub(crate) fn status(&self, now: UnixTime) -> proto::Status {
        proto::Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            api_version: proto::API_VERSION,
            started_at: time(self.started_at),
            uptime_secs: now.saturating_sub(self.started_at),
            config_path: self.config_path.display().to_string(),
            interfaces: self
                .interfaces
                .iter()
                .map(|i| proto::InterfaceStatus {
                    name: i.name.clone(),
                    addr: i.addr,
                })
                .collect(),
            store_backend: self.writer.backend().to_string(),
            store_path: match &self.cfg.server.postgres {
                Some(pg) => pg.display_url(),
                None => self.cfg.server.store.display().to_string(),
            },
            leases_bound: self
                .table
                .iter()
                .filter(|l| l.state == LeaseState::Bound && l.is_active(now))
                .count() as u64,
            leases_total: self.table.len() as u64,
            hosts_config: self.hosts.count(Origin::Config) as u64,
            hosts_store: self.hosts.count(Origin::Store) as u64,
            blocked: self.blocks.iter().filter(|b| b.is_active(now)).count() as u64,
            counters: self
                .counters
                .0
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
            store_health: berth_proto::StoreHealth {
                unsaved_renewals: self.unsaved.len() as u64,
                ..self.health.info(self.in_flight.len())
            },
            arp: self.arp_status(),
            rate_limited_clients: self.limits.flooding(now),
        }
    }

    pub(crate) fn hosts_export(&self) -> String {
        hosts::export_toml(&self.hosts, &self.cfg)
    }

    /// Checks that `ip` can be a static address for `mac`: inside a subnet,
    /// not the network, broadcast or server address, not leased to someone else.
    fn check_static_ip(&self, ip: Ipv4Addr, mac: MacAddr, now: UnixTime) -> Result<(), ApiError> {
        let subnet = self
            .cfg
            .subnet_containing(ip)
            .ok_or_else(|| invalid(format!("{ip} is outside every configured subnet")))?;
        if subnet.cidr.prefix < 31 && (ip == subnet.cidr.network || ip == subnet.cidr.broadcast()) {
            return Err(invalid(format!(
                "{ip} is the network or broadcast address of {}",
                subnet.cidr
            )));
        }
        if self.interfaces.iter().any(|i| i.addr == ip) || self.cfg.server.server_id == Some(ip) {
            return Err(conflict(format!("{ip} is the server's own address")));
        }
        if let Some(l) = self.table.get(ip)
            && l.mac != mac
            && l.is_active(now)
        {
            return Err(conflict(format!(
                "{ip} is {} to {}{} until {}",
                if l.state == LeaseState::Declined {
                    "quarantined after a DECLINE from"
                } else {
                    "leased"
                },
                l.mac,
                l.hostname
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default(),
                l.ends
            )));
        }
        Ok(())
    }

    /// A run-time host entry from operator input, checked.
    fn store_entry(host: StoredHost) -> Result<HostEntry, ApiError> {
        check_hostname(&host.name)?;
        HostEntry::from_stored(host).map_err(invalid)
    }

    /// Adds (`replacing` = None) or replaces a run-time host.
    pub(crate) fn host_put(
        &self,
        spec: proto::HostSpec,
        replacing: Option<String>,
        now: UnixTime,
    ) -> OpResult<proto::HostInfo> {
        let mac = parse_mac(&spec.mac)?;
        let replacing_any = replacing.is_some();
        let created_at = match &replacing {
            Some(old) => {
                let e = self
                    .hosts
                    .by_name(old)
                    .ok_or_else(|| not_found(format!("no host named `{old}`")))?;
                if e.origin == Origin::Config {
                    return Err(ApiError::new(
                        ErrorKind::ReadOnly,
                        format!(
                            "host `{old}` is defined in the config file {}: edit it there and reload",
                            self.config_path.display()
                        ),
                    ));
                }
                e.created_at.unwrap_or(now)
            }
            None => now,
        };
        // Adding under a used name, or renaming onto one, would silently
        // replace that host.
        if replacing.as_deref() != Some(spec.name.as_str())
            && let Some(e) = self.hosts.by_name(&spec.name)
        {
            return Err(conflict(format!(
                "host name `{}` is already used by a {} host at {}",
                spec.name,
                e.origin.as_str(),
                e.host.ip
            )));
        }
        self.check_static_ip(spec.ip, mac, now)?;
        let options_toml = hosts::options_toml_from_pairs(&spec.options).map_err(invalid)?;
        let entry = Self::store_entry(StoredHost {
            name: spec.name.clone(),
            mac,
            ip: spec.ip,
            options: options_toml,
            created_at,
        })?;
        // A rename is a remove and an add; if the new entry does not fit,
        // staging undoes the remove and refuses both.
        let mut changes = Vec::new();
        if let Some(old) = replacing.filter(|old| *old != spec.name) {
            changes.push(Change::RemoveHost(old));
        }
        changes.push(Change::PutHost(entry.clone()));
        let kind = if replacing_any {
            EventKind::HostUpdated
        } else {
            EventKind::HostAdded
        };
        let mut ev = new_event(kind);
        ev.mac = Some(mac.to_string());
        ev.ip = Some(spec.ip);
        ev.hostname = Some(spec.name.clone());
        Ok(Plan {
            answer: Self::host_info(&entry),
            changes,
            events: vec![ev],
        })
    }

    pub(crate) fn host_remove(&self, name: &str) -> OpResult<proto::HostInfo> {
        match self.hosts.by_name(name).map(|e| e.origin) {
            None => return Err(not_found(format!("no host named `{name}`"))),
            Some(Origin::Config) => {
                return Err(ApiError::new(
                    ErrorKind::ReadOnly,
                    format!(
                        "host `{name}` is defined in the config file {}: remove it there and reload",
                        self.config_path.display()
                    ),
                ));
            }
            Some(Origin::Store) => {}
        }
        let e = self
            .hosts
            .by_name(name)
            .ok_or_else(|| not_found(format!("no host named `{name}`")))?;
        let mut ev = new_event(EventKind::HostRemoved);
        ev.ip = Some(e.host.ip);
        ev.hostname = Some(name.to_string());
        Ok(Plan {
            answer: Self::host_info(e),
            changes: vec![Change::RemoveHost(name.to_string())],
            events: vec![ev],
        })
    }

    /// The client's most relevant lease: an active one, else the latest.
    fn lease_of_mac(&self, mac: MacAddr, now: UnixTime) -> Option<&Lease> {
        self.table
            .iter()
            .filter(|l| l.mac == mac && l.state != LeaseState::Declined)
            .max_by_key(|l| (l.is_active(now), l.ends))
    }

    pub(crate) fn promote(
        &self,
        req: proto::PromoteRequest,
        now: UnixTime,
    ) -> OpResult<proto::PromoteResult> {
        let mac = parse_mac(&req.mac)?;
        if let Some(e) = self.hosts.by_mac(&mac) {
            return Err(conflict(format!(
                "{mac} is already static: host `{}` ({}) at {}",
                e.host.name,
                e.origin.as_str(),
                e.host.ip
            )));
        }
        let lease = self.lease_of_mac(mac, now).cloned();
        let ip = match (req.ip, &lease) {
            (Some(ip), _) => ip,
            (None, Some(l)) => l.ip,
            (None, None) => {
                return Err(not_found(format!(
                    "{mac} has no lease to promote: give the static address with --ip"
                )));
            }
        };
        self.check_static_ip(ip, mac, now)?;
        let name = req
            .hostname
            .clone()
            .or_else(|| lease.as_ref()?.hostname.as_deref().map(String::from))
            .unwrap_or_else(|| format!("host-{}", mac.to_string().replace(':', "")));
        if let Some(e) = self.hosts.by_name(&name) {
            return Err(conflict(format!(
                "host name `{name}` is already used ({}, {}): give another with --hostname",
                e.origin.as_str(),
                e.host.ip
            )));
        }
        let entry = Self::store_entry(StoredHost {
            name,
            mac,
            ip,
            options: String::new(),
            created_at: now,
        })?;
        let from = lease.as_ref().filter(|l| l.is_active(now)).map(|l| l.ip);
        let moving = from.is_some_and(|f| f != ip);
        let mut ev = new_event(EventKind::Promote);
        ev.mac = Some(mac.to_string());
        ev.ip = Some(ip);
        ev.hostname = Some(entry.host.name.clone());
        ev.detail = match from {
            Some(f) if moving => format!("moving from {f} to {ip}"),
            _ => format!("static at {ip}"),
        };
        Ok(Plan {
            answer: proto::PromoteResult {
                host: Self::host_info(&entry),
                from,
                moving,
            },
            changes: vec![Change::PutHost(entry)],
            events: vec![ev],
        })
    }

    pub(crate) fn release(
        &self,
        target: &proto::Target,
        now: UnixTime,
    ) -> OpResult<proto::LeaseInfo> {
        let lease = match target {
            proto::Target::Ip(ip) => self.table.get(*ip).cloned(),
            proto::Target::Mac(m) => self.lease_of_mac(parse_mac(m)?, now).cloned(),
        };
        let what = match target {
            proto::Target::Ip(ip) => ip.to_string(),
            proto::Target::Mac(m) => m.clone(),
        };
        let Some(mut l) = lease.filter(|l| l.state == LeaseState::Bound && l.is_active(now)) else {
            return Err(not_found(format!("no active lease for {what}")));
        };
        l.state = LeaseState::Released;
        l.ends = now;
        let mut ev = new_event(EventKind::Release);
        ev.mac = Some(l.mac.to_string());
        ev.ip = Some(l.ip);
        ev.hostname = l.hostname.as_deref().map(str::to_string);
        ev.detail = "released by operator".into();
        Ok(Plan {
            answer: self.lease_info(&l, now),
            changes: vec![Change::Lease(Effect::Release(l))],
            events: vec![ev],
        })
    }

    pub(crate) fn block(
        &self,
        mac: &str,
        duration_secs: Option<u64>,
        now: UnixTime,
    ) -> OpResult<proto::BlockInfo> {
        let mac = parse_mac(mac)?;
        if duration_secs == Some(0) {
            return Err(invalid(
                "a block of 0 seconds blocks nothing; leave out the duration to block until unblocked",
            ));
        }
        if duration_secs.is_some_and(|d| d > MAX_BLOCK_SECS) {
            return Err(invalid(
                "a block of more than 100 years: leave out the duration to block until unblocked",
            ));
        }
        let b = Block {
            mac,
            since: now,
            until: duration_secs.map(|d| now.saturating_add(d)),
        };
        let mut ev = new_event(EventKind::Block);
        ev.mac = Some(mac.to_string());
        ev.detail = match b.until {
            Some(u) => format!("blocked for {}s", u - now),
            None => "blocked until unblocked".into(),
        };
        Ok(Plan {
            answer: block_info(&b),
            changes: vec![Change::PutBlock(b)],
            events: vec![ev],
        })
    }

    pub(crate) fn unblock(&self, mac: &str) -> OpResult<proto::BlockInfo> {
        let mac = parse_mac(mac)?;
        let b = self
            .blocks
            .get(&mac)
            .ok_or_else(|| not_found(format!("{mac} is not blocked")))?;
        let mut ev = new_event(EventKind::Unblock);
        ev.mac = Some(mac.to_string());
        Ok(Plan {
            answer: block_info(b),
            changes: vec![Change::RemoveBlock(mac)],
            events: vec![ev],
        })
    }

    pub(crate) fn pools(&self, now: UnixTime) -> Vec<proto::PoolInfo> {
        crate::pool::usage(&self.cfg, &self.hosts, &self.table, now)
            .into_iter()
            .map(|u| proto::PoolInfo {
                subnet: u.subnet.to_string(),
                start: u.range.start,
                end: u.range.end,
                size: u.size,
                leased: u.leased,
                quarantined: u.quarantined,
                free: u.free,
                observed: u.observed,
                squatters: self.squatters_in(&u.range),
                last_sweep: self.last_sweep_of(&u.range),
            })
            .collect()
    }
}

pub(super) fn block_info(b: &Block) -> proto::BlockInfo {
    proto::BlockInfo {
        mac: b.mac.to_string(),
        since: time(b.since),
        until: b.until.map(time),
    }
}
