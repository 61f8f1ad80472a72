//! The static host table: hosts from the config file (read-only at run time)
//! and hosts added at run time (kept in the store), in one index.
//!
//! A MAC, client id, IP or name used twice across both is refused: the
//! config file is validated on its own, and this table checks every run-time
//! host against everything already present.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::addr::MacAddr;
use crate::config::{Config, Host, HostId};
use crate::lease::UnixTime;
use crate::options::{self, OptionError, Options, Value};
use crate::store::StoredHost;

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

impl HostEntry {
    /// A run-time host as the store keeps it, or why its options no longer
    /// encode (say, an option renamed since it was stored).
    pub fn from_stored(s: StoredHost) -> Result<HostEntry, String> {
        let options = options_from_toml(&s.options)?;
        Ok(HostEntry {
            host: Host {
                name: s.name,
                id: HostId::Mac(s.mac),
                ip: s.ip,
                options,
                next_server: None,
                filename: None,
                server_name: None,
                vendor: Default::default(),
            },
            origin: Origin::Store,
            created_at: Some(s.created_at),
            options_toml: s.options,
        })
    }

    /// What the store keeps of a run-time host; `None` for a host the store
    /// cannot hold (one matched by client id: run-time hosts have a MAC).
    pub fn to_stored(&self) -> Option<StoredHost> {
        let HostId::Mac(mac) = self.host.id else {
            return None;
        };
        Some(StoredHost {
            name: self.host.name.clone(),
            mac,
            ip: self.host.ip,
            options: self.options_toml.clone(),
            created_at: self.created_at.unwrap_or(0),
        })
    }
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
            HostId::ClientId(id) => clash(self.by_client_id.get(id)).map(|e| {
                (
                    "client id",
                    crate::lease::ClientKey::from(&id[..]).to_string(),
                    e,
                )
            }),
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

/// Parses a run-time host's options given as a TOML inline table (what the
/// store keeps): `{ routers = ["192.0.2.1"], domain-name = "lab" }`.
pub fn options_from_toml(text: &str) -> Result<Options<Value>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Options::new());
    }
    let table: toml::Table = toml::from_str::<toml::Table>(&format!("o = {text}"))
        .map_err(|e| {
            format!(
                "options `{text}` are not a TOML inline table: {}",
                e.message()
            )
        })?
        .remove("o")
        .and_then(|v| v.as_table().cloned())
        .ok_or_else(|| format!("options `{text}` are not a TOML inline table"))?;
    let mut set = Options::new();
    for (name, value) in &table {
        let (code, parsed) = options::parse_named(name, value).map_err(|e| match e {
            OptionError::Unknown {
                suggestion: Some(s),
            } => format!("unknown option `{name}` (did you mean `{s}`?)"),
            OptionError::Unknown { suggestion: None } => format!("unknown option `{name}`"),
            OptionError::ServerSet(..) => format!("option `{name}` is set by the server itself"),
            OptionError::Value(_, e) => format!("option `{name}`: {}", e.message),
        })?;
        set.set(code, parsed);
    }
    Ok(set)
}

/// Turns operator-given `name=value` pairs into a TOML inline table. A value
/// is read as TOML when it is one (`["a", "b"]`, `42`, `true`, `"text"`); a
/// bare `a, b` is a list of strings; anything else is a string.
pub fn options_toml_from_pairs(pairs: &[(String, String)]) -> Result<String, String> {
    let mut table = toml::Table::new();
    for (name, raw) in pairs {
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("option `{name}={raw}` has no name"));
        }
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(mut t) => t
                .remove("v")
                .unwrap_or_else(|| toml::Value::String(raw.clone())),
            Err(_) if raw.contains(',') => toml::Value::Array(
                raw.split(',')
                    .map(|p| toml::Value::String(p.trim().to_string()))
                    .collect(),
            ),
            Err(_) => toml::Value::String(raw.trim().to_string()),
        };
        table.insert(name.to_string(), value);
    }
    if table.is_empty() {
        return Ok(String::new());
    }
    // A table as a value prints as an inline table.
    let inline = toml::Value::Table(table).to_string();
    options_from_toml(&inline)?;
    Ok(inline)
}

/// The run-time hosts as `[[host]]` config entries, ready to move into the
/// config file. A host promoted in place sits inside a dynamic range, which
/// the config file does not allow (a config host there would be a trap for
/// the next edit of the range): such an entry carries a note saying so.
pub fn export_toml(hosts: &HostTable, cfg: &Config) -> String {
    let mut out = String::from("# Run-time hosts exported from berthd's store.\n");
    for e in hosts.iter().filter(|e| e.origin == Origin::Store) {
        out.push('\n');
        let in_range = cfg.subnets.iter().find_map(|s| {
            s.ranges
                .iter()
                .find(|r| r.contains(e.host.ip))
                .filter(|_| !s.policies.iter().any(|p| p.excludes(e.host.ip)))
                .map(|r| (s.cidr, *r))
        });
        if let Some((cidr, range)) = in_range {
            out.push_str(&format!(
                "# NOTE: {} is inside the dynamic range {range} of {cidr}, which check-config\n\
                 # refuses for config hosts: shrink the range or move the host before adding it.\n",
                e.host.ip
            ));
        }
        out.push_str("[[host]]\n");
        out.push_str(&format!(
            "name = {}\n",
            toml::Value::String(e.host.name.clone())
        ));
        match &e.host.id {
            HostId::Mac(m) => out.push_str(&format!("mac = \"{m}\"\n")),
            HostId::ClientId(id) => out.push_str(&format!(
                "client_id = \"{}\"\n",
                crate::lease::ClientKey::from(&id[..])
            )),
        }
        out.push_str(&format!("ip = \"{}\"\n", e.host.ip));
        if !e.options_toml.trim().is_empty() {
            out.push_str(&format!("options = {}\n", e.options_toml.trim()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, mac: &str, ip: &str) -> Host {
        Host {
            name: name.into(),
            id: HostId::Mac(mac.parse().expect("mac")),
            ip: ip.parse().expect("ip"),
            options: Options::new(),
            next_server: None,
            filename: None,
            server_name: None,
            vendor: Default::default(),
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
        assert!(
            conflicts[0]
                .to_string()
                .contains("MAC 02:00:00:00:00:01 is already used by host `a` (config)")
        );
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
        t.upsert_store(store(host("b", "02:00:00:00:00:02", "192.0.2.2")))
            .expect("added");
        t.upsert_store(store(host("b", "02:00:00:00:00:02", "192.0.2.3")))
            .expect("replaced");
        assert!(t.by_ip("192.0.2.2".parse().expect("ip")).is_none());
        assert_eq!(
            t.by_mac(&"02:00:00:00:00:02".parse().expect("mac"))
                .map(|e| e.host.ip.to_string()),
            Some("192.0.2.3".into())
        );
        assert!(t.remove_store("b").is_some());
        assert!(t.by_name("b").is_none());
    }

    #[test]
    fn operator_option_pairs_become_an_inline_table_and_wire_bytes() {
        let pairs = vec![
            ("routers".to_string(), "192.0.2.1, 192.0.2.2".to_string()),
            ("domain-name".to_string(), "lab".to_string()),
            ("interface-mtu".to_string(), "1400".to_string()),
        ];
        let text = options_toml_from_pairs(&pairs).expect("valid");
        let set = options_from_toml(&text).expect("round trip");
        assert_eq!(
            set.value(3).map(|v| v.encode().into_vec()),
            Some(vec![192, 0, 2, 1, 192, 0, 2, 2])
        );
        assert_eq!(
            set.value(15).map(|v| v.encode().into_vec()),
            Some(b"lab".to_vec())
        );
        assert_eq!(
            set.value(26).map(|v| v.encode().into_vec()),
            Some(vec![5, 120])
        );
    }

    #[test]
    fn bad_option_pairs_are_refused_with_the_reason() {
        let e =
            options_toml_from_pairs(&[("routerz".into(), "192.0.2.1".into())]).expect_err("bad");
        assert!(e.contains("unknown option `routerz`"), "{e}");
        let e =
            options_toml_from_pairs(&[("routers".into(), "not-an-ip".into())]).expect_err("bad");
        assert!(e.contains("routers"), "{e}");
        let e =
            options_toml_from_pairs(&[("dhcp-lease-time".into(), "60".into())]).expect_err("bad");
        assert!(e.contains("set by the server"), "{e}");
    }

    /// Run-time hosts go through the same server-set list as the config file.
    #[test]
    fn run_time_hosts_cannot_set_what_the_server_sets() {
        for name in ["dhcp-message", "subnet-mask", "dhcp-server-identifier"] {
            let e = options_from_toml(&format!("{{ {name} = \"x\" }}")).expect_err("refused");
            assert_eq!(e, format!("option `{name}` is set by the server itself"));
        }
    }

    #[test]
    fn export_prints_store_hosts_as_config_entries() {
        let mut h = store(host("phone-1", "02:00:00:00:00:07", "192.0.2.7"));
        h.options_toml = r#"{ routers = ["192.0.2.1"] }"#.into();
        let (t, _) = HostTable::build(&[host("cfg", "02:00:00:00:00:01", "192.0.2.2")], vec![h]);
        let cfg = crate::config::parse(
            "[server]\ninterfaces = [\"eth0\"]\n[[subnet]]\ncidr = \"192.0.2.0/24\"\nrange = [\"192.0.2.5\", \"192.0.2.9\"]\n",
            std::path::Path::new("t.toml"),
        )
        .expect("config");
        let out = export_toml(&t, &cfg);
        assert!(
            out.contains("# NOTE: 192.0.2.7 is inside the dynamic range"),
            "{out}"
        );
        assert!(!out.contains("cfg"), "config hosts are not exported");
        let parsed: toml::Table = toml::from_str(&out).expect("export is TOML");
        let hosts = parsed["host"].as_array().expect("[[host]]");
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts[0]["mac"].as_str(), Some("02:00:00:00:00:07"));
        assert_eq!(
            hosts[0]["options"]["routers"][0].as_str(),
            Some("192.0.2.1")
        );
    }
}
