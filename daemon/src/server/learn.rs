//! What other daemons sharing the database changed, applied to this
//! daemon's memory by the core that owns it (the lease table, host table
//! and blocks), as plain replacements: nothing learned is written back.
//!
//! A learned record is skipped when this daemon's own change to it is in
//! flight (its outcome, won or lost, settles the record) or became durable
//! after the record was read (the read is older than what memory holds).
//! Offer holds are memory only: a read that lacks one does not drop it;
//! nor does a read replace a renewal ACKed from memory not yet written.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::Instant;

use tracing::{debug, warn};

use super::Core;
use super::commit::Undo;
use crate::addr::MacAddr;
use crate::hosts::{HostEntry, Origin};
use crate::lease::LeaseState;
use crate::store::Learned;

/// A record, by the key the database names it with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Record {
    Lease(Ipv4Addr),
    Host(String),
    Block(MacAddr),
}

impl Record {
    pub(crate) fn of(u: &Undo) -> Record {
        match u {
            Undo::Lease { ip, .. } => Record::Lease(*ip),
            Undo::Host { name, .. } => Record::Host(name.clone()),
            Undo::Block { mac, .. } => Record::Block(*mac),
        }
    }
}

/// When this daemon's own changes to records last became durable, kept
/// only while a read from before then may still arrive.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    at: HashMap<Record, Instant>,
}

impl Recent {
    /// `undo`'s records changed durably now.
    pub(crate) fn touch(&mut self, undo: &[Undo]) {
        let now = Instant::now();
        for u in undo {
            self.at.insert(Record::of(u), now);
        }
    }

    fn newer_than(&self, r: &Record, read_at: Instant) -> bool {
        self.at.get(r).is_some_and(|t| *t >= read_at)
    }

    /// A read from `read_at` was applied: reads arrive in order, so what
    /// became durable before it can no longer matter.
    fn read(&mut self, read_at: Instant) {
        self.at.retain(|_, t| *t >= read_at);
    }
}

/// How many records one learned batch changed, for the debug line.
#[derive(Debug, Default)]
struct Changed {
    leases: usize,
    hosts: usize,
    blocks: usize,
}

impl Core {
    /// Applies what other daemons changed (see the module comment).
    pub(crate) fn learn(&mut self, l: Learned) {
        let busy: HashSet<Record> = self.journal.records().collect();
        let skip = |core: &Core, r: &Record| {
            busy.contains(r)
                || core.recent_newer(r, l.read_at)
                || matches!(r, Record::Lease(ip) if core.unsaved.holds(*ip))
        };
        let mut changed = Changed::default();

        let mut seen_ips = HashSet::new();
        for (ip, rec) in &l.leases {
            seen_ips.insert(*ip);
            if skip(self, &Record::Lease(*ip)) {
                continue;
            }
            let cur = self.table.get(*ip);
            match rec {
                Some(lease) if cur == Some(lease) => {}
                Some(lease) => {
                    self.table.insert(lease.clone());
                    changed.leases += 1;
                }
                None => match cur {
                    Some(c) if c.state != LeaseState::Offered => {
                        self.table.remove(*ip);
                        changed.leases += 1;
                    }
                    _ => {}
                },
            }
        }

        let mut hosts_changed = false;
        let mut seen_hosts = HashSet::new();
        for (name, rec) in &l.hosts {
            seen_hosts.insert(name.clone());
            if skip(self, &Record::Host(name.clone())) {
                continue;
            }
            match rec {
                Some(stored) => match HostEntry::from_stored(stored.clone()) {
                    Ok(entry) if self.hosts.by_name(name) == Some(&entry) => {}
                    Ok(entry) => match self.hosts.upsert_store(entry) {
                        Ok(()) => {
                            hosts_changed = true;
                            changed.hosts += 1;
                        }
                        Err(c) => warn!("host `{name}` from another daemon not used: {c}"),
                    },
                    Err(e) => warn!("host `{name}` from another daemon skipped: {e}"),
                },
                None => {
                    if self.hosts.remove_store(name).is_some() {
                        hosts_changed = true;
                        changed.hosts += 1;
                    }
                }
            }
        }

        let mut seen_blocks = HashSet::new();
        for (mac, rec) in &l.blocks {
            seen_blocks.insert(*mac);
            if skip(self, &Record::Block(*mac)) {
                continue;
            }
            match rec {
                Some(b) if self.blocks.get(mac) == Some(b) => {}
                Some(b) => {
                    self.blocks.insert(*b);
                    changed.blocks += 1;
                }
                None => {
                    if self.blocks.remove(mac).is_some() {
                        changed.blocks += 1;
                    }
                }
            }
        }

        if l.full {
            // What memory has and the database no longer does is gone.
            let gone: Vec<Ipv4Addr> = self
                .table
                .iter()
                .filter(|x| x.state != LeaseState::Offered && !seen_ips.contains(&x.ip))
                .map(|x| x.ip)
                .filter(|ip| !skip(self, &Record::Lease(*ip)))
                .collect();
            for ip in gone {
                self.table.remove(ip);
                changed.leases += 1;
            }
            let gone: Vec<String> = self
                .hosts
                .iter()
                .filter(|e| e.origin == Origin::Store && !seen_hosts.contains(&e.host.name))
                .map(|e| e.host.name.clone())
                .filter(|n| !skip(self, &Record::Host(n.clone())))
                .collect();
            for name in gone {
                self.hosts.remove_store(&name);
                hosts_changed = true;
                changed.hosts += 1;
            }
            let gone: Vec<MacAddr> = self
                .blocks
                .iter()
                .map(|b| b.mac)
                .filter(|m| !seen_blocks.contains(m) && !skip(self, &Record::Block(*m)))
                .collect();
            for mac in gone {
                self.blocks.remove(&mac);
                changed.blocks += 1;
            }
        }
        if hosts_changed {
            self.reindex_pools();
        }
        if let Some(r) = self.recent.as_mut() {
            r.read(l.read_at);
        }
        debug!(
            full = l.full,
            leases = changed.leases,
            hosts = changed.hosts,
            blocks = changed.blocks,
            "learned other daemons' changes"
        );
    }

    fn recent_newer(&self, r: &Record, read_at: Instant) -> bool {
        self.recent
            .as_ref()
            .is_some_and(|x| x.newer_than(r, read_at))
    }
}
