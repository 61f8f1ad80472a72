//! The environment a hook gets, after dhclient-script(8): `reason`, the
//! lease and every option sent as `new_<name>` (dashes as underscores),
//! `old_*` for what a renewal replaced, and the client's own fields.
//!
//! Nothing else from berthd's environment is passed on, only a fixed `PATH`.

use std::collections::BTreeMap;

use super::{HookEvent, LeaseFacts, hex};
use crate::options::{by_code, render};
use crate::packet::code;

/// The `PATH` hooks run with.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An option's variable suffix: its catalogue name with dashes as
/// underscores, or `option_N` for a code the catalogue does not name.
fn option_var(c: u8) -> String {
    by_code(c).map_or_else(|| format!("option_{c}"), |d| d.name.replace('-', "_"))
}

/// Text as an environment value: a NUL cannot be passed, so it becomes `?`.
fn clean(s: &str) -> String {
    s.replace('\0', "?")
}

/// Relay fields are often text (a port name) but need not be.
fn text_or_hex(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) if !s.is_empty() && s.chars().all(|c| !c.is_control()) => s.to_string(),
        _ => hex(data),
    }
}

fn lease_vars(vars: &mut BTreeMap<String, String>, prefix: &str, l: &LeaseFacts) {
    vars.insert(format!("{prefix}_ip_address"), l.ip.to_string());
    if let Some(h) = &l.hostname {
        vars.entry(format!("{prefix}_host_name"))
            .or_insert_with(|| clean(h));
    }
    if let Some(t) = l.lease_time {
        vars.entry(format!("{prefix}_dhcp_lease_time"))
            .or_insert_with(|| t.to_string());
    }
    if let Some(x) = l.expiry {
        vars.insert(format!("{prefix}_expiry"), x.to_string());
    }
}

/// The environment for `e`, sorted by name.
pub fn build(e: &HookEvent) -> Vec<(String, String)> {
    let mut vars = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        vars.insert(k.to_string(), v);
    };
    put("PATH", PATH.to_string());
    put("reason", e.kind.reason().to_string());
    if let Some(m) = &e.mac {
        put("client_mac", m.clone());
    }
    if let Some(id) = &e.client_id {
        put("client_id", hex(id));
    }
    if let Some(h) = &e.client_hostname {
        put("client_hostname", clean(h));
    }
    if let Some(v) = &e.vendor_class {
        put("vendor_class_identifier", clean(v));
    }
    if let Some(u) = &e.user_class {
        put("user_class", clean(u));
    }
    if let Some(i) = &e.interface {
        put("interface", clean(i));
    }
    if let Some(a) = e.relay.address {
        put("relay_address", a.to_string());
    }
    if let Some(c) = &e.relay.circuit_id {
        put("relay_agent_circuit_id", clean(&text_or_hex(c)));
    }
    if let Some(r) = &e.relay.remote_id {
        put("relay_agent_remote_id", clean(&text_or_hex(r)));
    }
    // Options first, so that the lease's own facts only fill what no option
    // said (an option's value is what the client was told).
    for (c, data) in &e.options {
        if matches!(*c, code::RELAY_AGENT_INFO) {
            continue;
        }
        vars.insert(format!("new_{}", option_var(*c)), clean(&render(*c, data)));
    }
    if let Some(mask) = e.subnet_mask {
        vars.entry("new_subnet_mask".to_string())
            .or_insert_with(|| mask.to_string());
    }
    for c in &e.requested {
        vars.insert(format!("requested_{}", option_var(*c)), "1".to_string());
    }
    if let Some(l) = &e.lease {
        lease_vars(&mut vars, "new", l);
    }
    if let Some(l) = &e.old {
        lease_vars(&mut vars, "old", l);
    }
    vars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::hooks::{HookKind, RelayInfo};

    fn get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    fn commit() -> HookEvent {
        let mut e = HookEvent::new(HookKind::Commit);
        e.lease = Some(LeaseFacts {
            ip: Ipv4Addr::new(192, 0, 2, 100),
            hostname: Some("vm".into()),
            lease_time: Some(9999),
            expiry: Some(1_700_003_600),
        });
        e.mac = Some("02:00:00:00:00:aa".into());
        e.client_id = Some(vec![1, 2, 0, 0, 0, 0, 0xaa]);
        e.client_hostname = Some("vm".into());
        e.vendor_class = Some("snom370".into());
        e.user_class = Some("lab".into());
        e.interface = Some("br0".into());
        e.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
        e.options = vec![
            (code::MESSAGE_TYPE, vec![5]),
            (code::LEASE_TIME, 3600u32.to_be_bytes().to_vec()),
            (code::ROUTERS, vec![192, 0, 2, 1]),
            (code::DOMAIN_NAME_SERVERS, vec![192, 0, 2, 1, 192, 0, 2, 2]),
            (code::DOMAIN_NAME, b"lab.test".to_vec()),
            (code::RELAY_AGENT_INFO, vec![1, 1, b'x']),
            (240, vec![0xde, 0xad]),
        ];
        e.requested = vec![code::ROUTERS];
        e
    }

    #[test]
    fn a_commit_speaks_dhclient_script() {
        let env = build(&commit());
        let want = [
            ("reason", "COMMIT"),
            ("new_ip_address", "192.0.2.100"),
            ("new_subnet_mask", "255.255.255.0"),
            ("new_routers", "192.0.2.1"),
            ("new_domain_name_servers", "192.0.2.1 192.0.2.2"),
            ("new_domain_name", "lab.test"),
            ("new_host_name", "vm"),
            // The option sent wins over the record's own arithmetic.
            ("new_dhcp_lease_time", "3600"),
            ("new_dhcp_message_type", "5"),
            ("new_expiry", "1700003600"),
            ("new_option_240", "de:ad"),
            ("requested_routers", "1"),
            ("client_mac", "02:00:00:00:00:aa"),
            ("client_id", "01:02:00:00:00:00:aa"),
            ("client_hostname", "vm"),
            ("vendor_class_identifier", "snom370"),
            ("user_class", "lab"),
            ("interface", "br0"),
            ("PATH", PATH),
        ];
        for (k, v) in want {
            assert_eq!(get(&env, k), Some(v), "{k} in {env:?}");
        }
        assert_eq!(get(&env, "new_relay_agent_information"), None);
        assert!(
            get(&env, "old_ip_address").is_none(),
            "no old_* on a commit"
        );
        let mut names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), env.len(), "each name once");
    }

    #[test]
    fn a_renewal_has_old_values_too() {
        let mut e = commit();
        e.kind = HookKind::Renew;
        e.old = Some(LeaseFacts {
            ip: Ipv4Addr::new(192, 0, 2, 100),
            hostname: Some("old-name".into()),
            lease_time: Some(600),
            expiry: Some(1_700_000_600),
        });
        let env = build(&e);
        assert_eq!(get(&env, "reason"), Some("RENEW"));
        assert_eq!(get(&env, "old_ip_address"), Some("192.0.2.100"));
        assert_eq!(get(&env, "old_host_name"), Some("old-name"));
        assert_eq!(get(&env, "old_expiry"), Some("1700000600"));
        assert_eq!(get(&env, "old_dhcp_lease_time"), Some("600"));
    }

    #[test]
    fn an_expiry_without_options_still_has_the_lease() {
        let mut e = HookEvent::new(HookKind::Expiry);
        e.lease = Some(LeaseFacts {
            ip: Ipv4Addr::new(192, 0, 2, 7),
            hostname: None,
            lease_time: Some(10),
            expiry: Some(42),
        });
        let env = build(&e);
        assert_eq!(get(&env, "reason"), Some("EXPIRY"));
        assert_eq!(get(&env, "new_ip_address"), Some("192.0.2.7"));
        assert_eq!(get(&env, "new_dhcp_lease_time"), Some("10"));
        assert_eq!(get(&env, "new_expiry"), Some("42"));
    }

    #[test]
    fn client_text_is_data_and_nuls_are_replaced() {
        let mut e = commit();
        e.client_hostname = Some("$(touch /tmp/x);`id`\0y".into());
        e.relay = RelayInfo {
            address: Some(Ipv4Addr::new(192, 0, 2, 254)),
            circuit_id: Some(b"eth0/1".to_vec()),
            remote_id: Some(vec![0, 1, 2]),
        };
        let env = build(&e);
        assert_eq!(get(&env, "client_hostname"), Some("$(touch /tmp/x);`id`?y"));
        assert_eq!(get(&env, "relay_address"), Some("192.0.2.254"));
        assert_eq!(get(&env, "relay_agent_circuit_id"), Some("eth0/1"));
        assert_eq!(get(&env, "relay_agent_remote_id"), Some("00:01:02"));
    }
}
