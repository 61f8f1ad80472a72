//! `berth import dnsmasq`: the DHCP lines of a dnsmasq configuration.
//!
//! Converted: `interface`, `dhcp-authoritative`, `dhcp-range` (with its
//! netmask and lease time), `dhcp-host` with an address, `dhcp-option`
//! (by number or `option:` name), `dhcp-boot`, and tags set by
//! `dhcp-vendorclass` or `dhcp-mac` (MAC prefixes) as classes carrying the
//! tagged options and boot file. Everything else is a [`Note`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use toml::Value;

use super::Imported;
use super::model::{Berth, Class, Host, Note, Subnet, check_option};

/// dnsmasq's `option:` names that differ from the ISC names Berth uses.
const NAMES: &[(&str, &str)] = &[
    ("router", "routers"),
    ("dns-server", "domain-name-servers"),
    ("ntp-server", "ntp-servers"),
    ("netbios-ns", "netbios-name-servers"),
    ("tftp-server", "tftp-server-name"),
    ("broadcast", "broadcast-address"),
    ("mtu", "interface-mtu"),
    ("static-route", "static-routes"),
    ("hostname", "host-name"),
    ("log-server", "log-servers"),
    ("lpr-server", "lpr-servers"),
    ("time-offset", "time-offset"),
];

fn option_name(opt: &str) -> Option<String> {
    if let Some(n) = opt.strip_prefix("option:") {
        return Some(
            NAMES
                .iter()
                .find(|(d, _)| *d == n)
                .map_or(n, |(_, i)| i)
                .to_string(),
        );
    }
    let code: u8 = opt.parse().ok()?;
    berthd::options::by_code(code).map(|d| d.name.to_string())
}

fn value(parts: &[&str]) -> Value {
    let one = |p: &str| {
        p.parse::<i64>().map_or_else(
            |_| Value::String(p.trim_matches('"').to_string()),
            Value::Integer,
        )
    };
    match parts {
        [p] => one(p),
        many => Value::Array(many.iter().map(|p| one(p)).collect()),
    }
}

/// dnsmasq lease times: `45m`, `12h`, `infinite`, seconds.
fn lease(s: &str) -> Option<i64> {
    let (n, mult) = match s.chars().last()? {
        'm' => (&s[..s.len() - 1], 60),
        'h' => (&s[..s.len() - 1], 3600),
        'd' => (&s[..s.len() - 1], 86400),
        'w' => (&s[..s.len() - 1], 7 * 86400),
        _ => (s, 1),
    };
    n.parse::<i64>().ok().map(|n| n * mult).filter(|n| *n > 0)
}

fn is_mac(s: &str) -> bool {
    s.split(':').count() == 6
        && s.split(':')
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[derive(Default)]
struct Conv {
    out: Berth,
    notes: Vec<Note>,
    /// Tag -> class index.
    tags: BTreeMap<String, usize>,
    authoritative: bool,
}

impl Conv {
    fn note(&mut self, line: usize, text: &str, why: &str) {
        self.notes.push(Note {
            line,
            message: format!("not converted: `{text}`: {why}"),
        });
    }

    fn class_for(&mut self, tag: &str, matches: Option<(String, Value)>) -> usize {
        if let Some(&i) = self.tags.get(tag) {
            if let Some(m) = matches {
                // Several vendor classes or MACs for one tag: any of them.
                let c = &mut self.out.classes[i];
                let prev = std::mem::take(&mut c.matches);
                let mut any: Vec<Value> = prev
                    .into_iter()
                    .flat_map(|(k, v)| match (k.as_str(), v) {
                        ("any", Value::Array(a)) => a,
                        (k, v) => vec![Value::Table([(k.to_string(), v)].into_iter().collect())],
                    })
                    .collect();
                any.push(Value::Table([m].into_iter().collect()));
                c.matches = vec![("any".into(), Value::Array(any))];
            }
            return i;
        }
        self.out.classes.push(Class {
            name: tag.to_string(),
            matches: matches.into_iter().collect(),
            ..Class::default()
        });
        self.tags
            .insert(tag.to_string(), self.out.classes.len() - 1);
        self.out.classes.len() - 1
    }

    /// Splits off leading `tag:`/`set:` parts.
    fn tags_of<'a>(parts: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>, Vec<&'a str>) {
        let mut tag = Vec::new();
        let mut set = Vec::new();
        let mut rest = Vec::new();
        for p in parts {
            if let Some(t) = p.strip_prefix("tag:") {
                tag.push(t);
            } else if let Some(t) = p.strip_prefix("set:") {
                set.push(t);
            } else {
                rest.push(*p);
            }
        }
        (tag, set, rest)
    }

    fn line(&mut self, n: usize, raw: &str) {
        let text = raw.trim().trim_start_matches("--");
        let (key, val) = text.split_once('=').unwrap_or((text, ""));
        let parts: Vec<&str> = val
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        match key.trim() {
            "interface" => self
                .out
                .interfaces
                .extend(parts.iter().map(|p| p.to_string())),
            "dhcp-authoritative" => self.authoritative = true,
            "dhcp-range" => self.range(n, text, &parts),
            "dhcp-host" => self.host(n, text, &parts),
            "dhcp-option" | "dhcp-option-force" => self.option(n, text, &parts),
            // Positions matter here (`file,,server-address`): empties stay.
            "dhcp-boot" => self.boot(n, text, &val.split(',').map(str::trim).collect::<Vec<_>>()),
            "dhcp-vendorclass" => {
                let (_, set, rest) = Self::tags_of(&parts);
                match (set.as_slice(), rest.as_slice()) {
                    ([tag], [vc]) => {
                        let m = Value::Table(
                            [
                                ("code".to_string(), Value::Integer(60)),
                                ("contains".to_string(), Value::String((*vc).into())),
                            ]
                            .into_iter()
                            .collect(),
                        );
                        self.class_for(tag, Some(("option".into(), m)));
                    }
                    _ => self.note(n, text, "one set:TAG and one vendor class expected"),
                }
            }
            "dhcp-mac" => {
                let (_, set, rest) = Self::tags_of(&parts);
                let prefix = rest
                    .first()
                    .map(|m| m.split(':').take_while(|p| *p != "*").collect::<Vec<_>>());
                match (set.as_slice(), prefix) {
                    ([tag], Some(p))
                        if !p.is_empty()
                            && p.iter().all(|x| {
                                x.len() == 2 && x.chars().all(|c| c.is_ascii_hexdigit())
                            })
                            && rest[0].split(':').skip(p.len()).all(|x| x == "*") =>
                    {
                        self.class_for(
                            tag,
                            Some(("mac_prefix".into(), Value::String(p.join(":")))),
                        );
                    }
                    _ => self.note(n, text, "only MAC prefixes (aa:bb:cc:*:*:*) map to classes"),
                }
            }
            _ => self.note(n, text, "not a DHCP setting Berth has"),
        }
    }

    fn range(&mut self, n: usize, text: &str, parts: &[&str]) {
        let (tag, set, rest) = Self::tags_of(parts);
        if !tag.is_empty() || !set.is_empty() {
            return self.note(n, text, "tagged ranges have no Berth equivalent yet");
        }
        let ips: Vec<Ipv4Addr> = rest.iter().filter_map(|p| p.parse().ok()).collect();
        let (Some(&a), Some(&b)) = (ips.first(), ips.get(1)) else {
            return self.note(n, text, "a range needs a start and an end address");
        };
        let mask = ips.get(2).copied();
        let prefix = match mask {
            Some(m) if u32::from(m).leading_ones() + u32::from(m).trailing_zeros() == 32 => {
                u32::from(m).leading_ones()
            }
            Some(_) => return self.note(n, text, "the netmask is not contiguous"),
            None => {
                self.notes.push(Note {
                    line: n,
                    message: format!("dhcp-range without a netmask: assumed /24 for {a}"),
                });
                24
            }
        };
        let net = u32::from(a) & u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        let cidr = format!("{}/{prefix}", Ipv4Addr::from(net));
        let default_lease = rest
            .last()
            .filter(|l| l.parse::<Ipv4Addr>().is_err())
            .and_then(|l| if *l == "infinite" { None } else { lease(l) });
        let sub = match self.out.subnets.iter_mut().position(|s| s.cidr == cidr) {
            Some(i) => &mut self.out.subnets[i],
            None => {
                self.out.subnets.push(Subnet {
                    cidr,
                    ..Subnet::default()
                });
                self.out.subnets.last_mut().expect("just pushed")
            }
        };
        sub.ranges.push((a.to_string(), b.to_string()));
        if default_lease.is_some() {
            // dnsmasq's range lease time is every lease's, asked for or not.
            sub.default_lease = default_lease;
            sub.max_lease = default_lease;
        }
    }

    fn host(&mut self, n: usize, text: &str, parts: &[&str]) {
        let mut h = Host {
            line: n,
            ..Host::default()
        };
        for p in parts {
            if is_mac(p) {
                if h.mac.is_some() {
                    self.notes.push(Note {
                        line: n,
                        message: format!("dhcp-host: only the first MAC is converted, not {p}"),
                    });
                } else {
                    h.mac = Some((*p).into());
                }
            } else if let Some(id) = p.strip_prefix("id:") {
                h.client_id = Some(id.into());
            } else if p.parse::<Ipv4Addr>().is_ok() {
                h.ip = (*p).into();
            } else if p.starts_with("set:")
                || p.starts_with("tag:")
                || *p == "ignore"
                || lease(p).is_some()
                || *p == "infinite"
            {
                self.notes.push(Note {
                    line: n,
                    message: format!("dhcp-host: `{p}` is not converted"),
                });
            } else {
                h.name = (*p).into();
            }
        }
        if h.ip.is_empty() {
            return self.note(n, text, "a Berth host needs an address");
        }
        if h.mac.is_none() && h.client_id.is_none() {
            return self.note(n, text, "neither a MAC nor id:");
        }
        if h.name.is_empty() {
            h.name = format!("host-{}", h.ip.replace('.', "-"));
        }
        self.out.hosts.push(h);
    }

    fn option(&mut self, n: usize, text: &str, parts: &[&str]) {
        let (tag, _set, rest) = Self::tags_of(parts);
        let Some((opt, vals)) = rest.split_first() else {
            return self.note(n, text, "no option");
        };
        let Some(name) = option_name(opt) else {
            return self.note(n, text, "an option Berth has no name for");
        };
        if vals.is_empty() {
            return self.note(
                n,
                text,
                "an option without a value (dnsmasq: do not send it)",
            );
        }
        let v = value(vals);
        if let Err(why) = check_option(&name, &v) {
            return self.note(n, text, &why);
        }
        match tag.as_slice() {
            [] => self.out.options.push((name, v)),
            [t] if self.tags.contains_key(*t) => {
                let i = self.tags[*t];
                self.out.classes[i].options.push((name, v));
            }
            _ => self.note(
                n,
                text,
                "its tag is not set by a dhcp-vendorclass or dhcp-mac line before it",
            ),
        }
    }

    fn boot(&mut self, n: usize, text: &str, parts: &[&str]) {
        let (tag, _set, rest) = Self::tags_of(parts);
        let Some(file) = rest.first().filter(|f| !f.is_empty()) else {
            return self.note(n, text, "no file name");
        };
        let server = rest.get(2).filter(|s| s.parse::<Ipv4Addr>().is_ok());
        match tag.as_slice() {
            [] => {
                self.out
                    .server
                    .push(("filename".into(), Value::String((*file).into())));
                if let Some(s) = server {
                    self.out
                        .server
                        .push(("next_server".into(), Value::String((*s).into())));
                }
            }
            [t] if self.tags.contains_key(*t) => {
                let i = self.tags[*t];
                self.out.classes[i].filename = Some((*file).into());
                self.out.classes[i].next_server = server.map(|s| s.to_string());
            }
            _ => self.note(
                n,
                text,
                "its tag is not set by a dhcp-vendorclass or dhcp-mac line before it",
            ),
        }
    }
}

/// Converts a dnsmasq configuration.
pub fn convert(text: &str, source: &str, interfaces: &[String]) -> Imported {
    let mut c = Conv::default();
    c.out.source = format!("dnsmasq configuration {source}");
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        c.line(i + 1, l);
    }
    if !interfaces.is_empty() {
        c.out.interfaces = interfaces.to_vec();
    } else if c.out.interfaces.is_empty() {
        c.out.interfaces = vec!["eth0".into()];
        c.notes.push(Note {
            line: 0,
            message: "interfaces: no interface= line; written as [\"eth0\"]: set [server] interfaces (or pass --interface)".into(),
        });
    }
    if let Some(message) = super::model::keep_relays_served(&mut c.out, "dnsmasq") {
        c.notes.push(Note { line: 0, message });
    }
    let auth = c.authoritative;
    c.out
        .server
        .insert(0, ("authoritative".into(), Value::Boolean(auth)));
    c.notes.sort_by_key(|n| n.line);
    Imported {
        config: c.out,
        notes: c.notes,
    }
}
