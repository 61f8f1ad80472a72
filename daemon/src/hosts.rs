//! The static host table: hosts from the config file (read-only at run time)
//! and hosts added at run time (kept in the store), in one index.
//!
//! A MAC, client id, IP or name used twice across both is refused: the
//! config file is validated on its own, and this table checks every run-time
//! host against everything already present.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::config::{Host, HostId};
use crate::lease::UnixTime;
use crate::packet::MacAddr;

/// Where a host entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The config file: changed only by editing it and reloading.
    Config,
    /// The store: added at run time (by promotion or `berth host add`).
    Store,
}

/// One static host and where it is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub host: Host,
    pub origin: Origin,
    /// When a run-time host was added.
    pub created_at: Option<UnixTime>,
    /// The host's options as written by the operator (TOML inline table),
    /// for run-time hosts: what the store keeps and `hosts export` prints.
    pub options_toml: String,
}

/// Why a host cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostConflict {
    #[error("host name `{0}` is already used by a {1} host")]
    Name(String, &'static str),
    #[error("{what} {value} is already used by host `{other}` ({origin})")]
    Used {
        what: &'static str,
        value: String,
        other: String,
        origin: &'static str,
    },
}

/// The host index.
#[derive(Debug, Clone, Default)]
pub struct HostTable {
    entries: Vec<HostEntry>,
    by_mac: HashMap<MacAddr, usize>,
    by_client_id: HashMap<Vec<u8>, usize>,
    by_ip: HashMap<Ipv4Addr, usize>,
    by_name: HashMap<String, usize>,
}

impl Origin {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::Store => "store",
        }
    }
}

impl HostTable {
    /// Builds the table from the config's hosts and the store's. A store
    /// host that collides with a config host is left out and reported (the
    /// config file wins; nothing is deleted from the store).
    pub fn build(config_hosts: &[Host], store_hosts: Vec<HostEntry>) -> (Self, Vec<HostConflict>) {
        let mut t = HostTable::default();
        for h in config_hosts {
            // The config was validated: no collisions among its own hosts.
            t.push(HostEntry {
                host: h.clone(),
                origin: Origin::Config,
                created_at: None,
                options_toml: String::new(),
            });
        }
        let mut conflicts = Vec::new();
        for e in store_hosts {
            match t.check(&e.host, None) {
                Ok(()) => t.push(e),
                Err(c) => conflicts.push(c),
            }
        }
        (t, conflicts)
    }

    fn push(&mut self, e: HostEntry) {
        let i = self.entries.len();
        match &e.host.id {
            HostId::Mac(m) => {
                self.by_mac.insert(*m, i);
            }
            HostId::ClientId(id) => {
                self.by_client_id.insert(id.clone(), i);
            }
        }
        self.by_ip.insert(e.host.ip, i);
        self.by_name.insert(e.host.name.clone(), i);
        self.entries.push(e);
    }

    fn reindex(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        *self = HostTable::default();
        for e in entries {
            self.push(e);
        }
    }

    /// Checks that `h` collides with no host other than the one named `replacing`.
    pub fn check(&self, h: &Host, replacing: Option<&str>) -> Result<(), HostConflict> {
        let clash = |i: Option<&usize>| {
            i.map(|&i| &self.entries[i])
                .filter(|e| Some(e.host.name.as_str()) != replacing)
        };
        if let Some(e) = clash(self.by_name.get(&h.name)) {
            return Err(HostConflict::Name(h.name.clone(), e.origin.as_str()));
        }
        let id_clash = match &h.id {
            HostId::Mac(m) => clash(self.by_mac.get(m)).map(|e| ("MAC", m.to_string(), e)),
            HostId::ClientId(id) => clash(self.by_client_id.get(id))
                .map(|e| ("client id", crate::lease::ClientKey(id.clone()).to_string(), e)),
        };
        let ip_clash = || clash(self.by_ip.get(&h.ip)).map(|e| ("IP", h.ip.to_string(), e));
        if let Some((what, value, e)) = id_clash.or_else(ip_clash) {
            return Err(HostConflict::Used {
                what,
                value,
                other: e.host.name.clone(),
                origin: e.origin.as_str(),
            });
        }
        Ok(())
    }

    /// Adds or replaces (by name) a run-time host.
    pub fn upsert_store(&mut self, e: HostEntry) -> Result<(), HostConflict> {
        let replacing = self.by_name.get(&e.host.name).map(|&i| &self.entries[i]);
        if let Some(old) = replacing
            && old.origin == Origin::Config
        {
            return Err(HostConflict::Name(e.host.name.clone(), "config"));
        }
        let name = e.host.name.clone();
        self.check(&e.host, Some(&name))?;
        self.entries.retain(|x| x.host.name != name);
        self.entries.push(e);
        self.reindex();
        Ok(())
    }

    /// Removes a run-time host by name.
    pub fn remove_store(&mut self, name: &str) -> Option<HostEntry> {
        let i = *self.by_name.get(name)?;
        if self.entries[i].origin != Origin::Store {
            return None;
        }
        let e = self.entries.remove(i);
        self.reindex();
        Some(e)
    }

    /// The host with this MAC (matched by chaddr).
    pub fn by_mac(&self, mac: &MacAddr) -> Option<&HostEntry> {
        self.by_mac.get(mac).map(|&i| &self.entries[i])
    }

    /// The host with this client identifier (option 61).
    pub fn by_client_id(&self, id: &[u8]) -> Option<&HostEntry> {
        self.by_client_id.get(id).map(|&i| &self.entries[i])
    }

    /// The host whose static address is `ip`.
    pub fn by_ip(&self, ip: Ipv4Addr) -> Option<&HostEntry> {
        self.by_ip.get(&ip).map(|&i| &self.entries[i])
    }

    /// The host named `name`.
    pub fn by_name(&self, name: &str) -> Option<&HostEntry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// All hosts, config ones first.
    pub fn iter(&self) -> impl Iterator<Item = &HostEntry> {
        self.entries.iter()
    }

    /// Number of hosts of `origin`.
    pub fn count(&self, origin: Origin) -> usize {
        self.entries.iter().filter(|e| e.origin == origin).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OptionSet;

    fn host(name: &str, mac: &str, ip: &str) -> Host {
        Host {
            name: name.into(),
            id: HostId::Mac(mac.parse().expect("mac")),
            ip: ip.parse().expect("ip"),
            options: OptionSet::default(),
            next_server: None,
            filename: None,
        }
    }

    fn store(h: Host) -> HostEntry {
        HostEntry {
            host: h,
            origin: Origin::Store,
            created_at: Some(1),
            options_toml: String::new(),
        }
    }

    #[test]
    fn store_host_colliding_with_config_is_left_out_and_reported() {
        let cfg = [host("a", "02:00:00:00:00:01", "192.0.2.2")];
        let (t, conflicts) = HostTable::build(
            &cfg,
            vec![
                store(host("b", "02:00:00:00:00:01", "192.0.2.3")),
                store(host("c", "02:00:00:00:00:03", "192.0.2.4")),
            ],
        );
        assert_eq!(conflicts.len(), 1);
        assert!(conflicts[0].to_string().contains("MAC 02:00:00:00:00:01 is already used by host `a` (config)"));
        assert!(t.by_name("c").is_some());
        assert_eq!(t.count(Origin::Store), 1);
    }

    #[test]
    fn run_time_host_with_a_used_ip_or_name_is_refused() {
        let cfg = [host("a", "02:00:00:00:00:01", "192.0.2.2")];
        let (mut t, _) = HostTable::build(&cfg, vec![]);
        let e = t.upsert_store(store(host("b", "02:00:00:00:00:02", "192.0.2.2")));
        assert!(matches!(e, Err(HostConflict::Used { what: "IP", .. })));
        let e = t.upsert_store(store(host("a", "02:00:00:00:00:09", "192.0.2.9")));
        assert!(matches!(e, Err(HostConflict::Name(..))));
    }

    #[test]
    fn run_time_host_can_be_replaced_and_removed() {
        let (mut t, _) = HostTable::build(&[], vec![]);
        t.upsert_store(store(host("b", "02:00:00:00:00:02", "192.0.2.2"))).expect("added");
        t.upsert_store(store(host("b", "02:00:00:00:00:02", "192.0.2.3"))).expect("replaced");
        assert!(t.by_ip("192.0.2.2".parse().expect("ip")).is_none());
        assert_eq!(t.by_mac(&"02:00:00:00:00:02".parse().expect("mac")).map(|e| e.host.ip.to_string()), Some("192.0.2.3".into()));
        assert!(t.remove_store("b").is_some());
        assert!(t.by_name("b").is_none());
    }
}
