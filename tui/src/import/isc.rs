//! `berth import isc-dhcpd`: dhcpd.conf to Berth TOML.
//!
//! Converted: `authoritative`, `allow/deny bootp`, `log-facility`, lease
//! times, options (checked with berthd's parser), `option space` and
//! option definitions, `next-server`, `filename`, `server-identifier`,
//! subnets with ranges (also inside `pool` and `shared-network`), hosts
//! (`hardware ethernet`, `fixed-address`, `dhcp-client-identifier`),
//! classes matching the vendor class (exact or a `substring(.., 0, N)`
//! prefix), the user class or a MAC prefix, `concat(...)` values as
//! templates, and `on commit/release/expiry { execute(...) }` as
//! `[[hook]]`s. Everything else is a [`Note`] with its line.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use toml::Value;

use super::Imported;
use super::isc_expr::Expr;
use super::isc_lex::{Stmt, Tok, parse};
use super::model::{Berth, Class, Hook, Host, Note, OptionDef, Subnet, check_option};

/// Converts dhcpd.conf `text`; `source` names it in the header comment.
/// `interfaces` are the ones to serve (dhcpd takes them on its command line).
pub fn convert(text: &str, source: &str, interfaces: &[String]) -> Imported {
    let mut c = Converter::default();
    c.out.source = format!("ISC dhcpd configuration {source}");
    match parse(text) {
        Ok(stmts) => c.top(&stmts),
        Err(e) => c.note(
            e.line,
            format!("syntax error, nothing after it converted: {}", e.message),
        ),
    }
    if interfaces.is_empty() {
        c.out.interfaces = vec!["eth0".into()];
        c.note(
            0,
            "interfaces: dhcpd.conf does not say which interfaces dhcpd serves (its command line does); written as [\"eth0\"]: set [server] interfaces (or pass --interface)",
        );
    } else {
        c.out.interfaces = interfaces.to_vec();
    }
    // dhcpd's defaults differ from Berth's: not authoritative, BOOTP allowed.
    if !c.set_authoritative {
        c.out
            .server
            .insert(0, ("authoritative".into(), Value::Boolean(false)));
    }
    if !c.set_bootp {
        c.out.server.push(("bootp".into(), Value::Boolean(true)));
    }
    if let Some(note) = super::model::keep_relays_served(&mut c.out, "dhcpd") {
        c.note(0, note);
    }
    c.out.hooks = super::model::merge_hooks(std::mem::take(&mut c.out.hooks));
    c.notes.sort_by_key(|n| n.line);
    Imported {
        config: c.out,
        notes: c.notes,
    }
}

#[derive(Default)]
struct Converter {
    out: Berth,
    notes: Vec<Note>,
    set_authoritative: bool,
    set_bootp: bool,
}

/// Where an `option` statement is.
enum Scope<'a> {
    Global,
    Subnet(&'a mut Subnet),
    Host(&'a mut Host),
    Class(&'a mut Class),
}

fn words(s: &Stmt) -> Vec<String> {
    s.toks.iter().map(Tok::text).collect()
}

/// Seconds from a lease-time statement's argument.
fn seconds(s: &Stmt) -> Option<i64> {
    s.toks.get(1)?.text().parse().ok().filter(|n: &i64| *n > 0)
}

fn prefix_len(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

/// The ISC type of an option definition as the classes grammar names it.
fn def_kind(toks: &[Tok]) -> Option<&'static str> {
    let t: Vec<String> = toks.iter().map(Tok::text).collect();
    let t: Vec<&str> = t.iter().map(String::as_str).collect();
    Some(match t.as_slice() {
        ["text"] => "text",
        ["ip-address"] => "ip",
        ["array", "of", "ip-address"] => "ip-list",
        ["unsigned", "integer", "8"] => "u8",
        ["unsigned", "integer", "16"] => "u16",
        ["unsigned", "integer", "32"] => "u32",
        ["array", "of", "unsigned", "integer", "8"] => "u8-list",
        ["array", "of", "unsigned", "integer", "16"] => "u16-list",
        ["boolean"] => "bool",
        ["string"] => "hex",
        _ => return None,
    })
}

/// A plain option value: `a, b, c` with strings, words and numbers.
fn plain_value(toks: &[Tok]) -> Option<Value> {
    let mut elements = Vec::new();
    for part in toks.split(|t| *t == Tok::Punct(',')) {
        let one = |t: &Tok| match t {
            Tok::Str(s) => Some(Value::String(s.clone())),
            Tok::Word(w) if w == "true" || w == "on" => Some(Value::Boolean(true)),
            Tok::Word(w) if w == "false" || w == "off" => Some(Value::Boolean(false)),
            Tok::Word(w) => Some(
                w.parse::<i64>()
                    .map_or_else(|_| Value::String(w.clone()), Value::Integer),
            ),
            Tok::Punct(_) => None,
        };
        match part {
            [t] => elements.push(one(t)?),
            // `static-routes 10.0.0.0 192.0.2.1, ...`: pairs.
            [a, b] => elements.push(Value::Array(vec![one(a)?, one(b)?])),
            _ => return None,
        }
    }
    match elements.len() {
        0 => None,
        1 => elements.pop(),
        _ => Some(Value::Array(elements)),
    }
}

impl Converter {
    fn note(&mut self, line: usize, message: impl Into<String>) {
        self.notes.push(Note {
            line,
            message: message.into(),
        });
    }

    fn unconverted(&mut self, s: &Stmt, why: &str) {
        self.note(s.line, format!("not converted: `{}`: {why}", s.text()));
    }

    fn top(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            self.global(s);
        }
    }

    fn global(&mut self, s: &Stmt) {
        let w = words(s);
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["authoritative"] => self.server_bool(s, "authoritative", true),
            ["not", "authoritative"] => self.server_bool(s, "authoritative", false),
            ["allow", "bootp"] => self.server_bool(s, "bootp", true),
            ["deny" | "ignore", "bootp"] => self.server_bool(s, "bootp", false),
            ["log-facility", f] => self
                .out
                .server
                .push(("log".into(), Value::String((*f).into()))),
            ["default-lease-time", _] => self.lease(s, "default_lease"),
            ["max-lease-time", _] => self.lease(s, "max_lease"),
            ["min-lease-time", _] => self.lease(s, "min_lease"),
            ["ddns-update-style", "none"] => {}
            ["server-identifier", ip] => self
                .out
                .server
                .push(("server_id".into(), Value::String((*ip).into()))),
            ["next-server", ip] => self
                .out
                .server
                .push(("next_server".into(), Value::String((*ip).into()))),
            ["filename", f] => self
                .out
                .server
                .push(("filename".into(), Value::String((*f).into()))),
            ["option", "space", _] => {}
            ["option", ..] => self.option(s, &mut Scope::Global),
            ["subnet", ..] => self.subnet(s),
            ["host", ..] => self.host(s),
            ["class", ..] => self.class(s),
            ["shared-network", ..] => {
                self.note(
                    s.line,
                    "shared-network: its subnets are converted one by one (Berth has no shared networks); options set on the shared network itself are not",
                );
                for inner in s.block.iter().flatten() {
                    if inner.toks.first().is_some_and(|t| t.is("subnet")) {
                        self.subnet(inner);
                    } else {
                        self.unconverted(inner, "inside a shared-network");
                    }
                }
            }
            ["on", ..] => self.on(s),
            _ => self.unconverted(s, "Berth has nothing like it"),
        }
    }

    fn server_bool(&mut self, _s: &Stmt, key: &str, v: bool) {
        match key {
            "authoritative" => self.set_authoritative = true,
            "bootp" => self.set_bootp = true,
            _ => {}
        }
        self.out.server.push((key.into(), Value::Boolean(v)));
    }

    fn lease(&mut self, s: &Stmt, key: &str) {
        match seconds(s) {
            Some(n) => self.out.server.push((key.into(), Value::Integer(n))),
            None => self.unconverted(s, "not a number of seconds"),
        }
    }

    /// `option NAME VALUE;`, `option NAME code N = TYPE;`.
    fn option(&mut self, s: &Stmt, scope: &mut Scope<'_>) {
        let Some(name) = s.toks.get(1).map(Tok::text) else {
            return self.unconverted(s, "an option without a name");
        };
        let rest = &s.toks[2..];
        if rest.first().is_some_and(|t| t.is("code")) {
            return self.definition(s, &name, rest);
        }
        let value = if rest.first() == Some(&Tok::Punct('=')) {
            let vars = HashMap::new();
            let mut e = Expr {
                toks: &rest[1..],
                i: 0,
                vars: &vars,
                remarks: Vec::new(),
            };
            match e.expr() {
                Ok(t) if e.i == e.toks.len() => Value::String(t),
                Ok(_) => return self.unconverted(s, "an expression Berth cannot express"),
                Err(why) => return self.unconverted(s, &why),
            }
        } else {
            match plain_value(rest) {
                Some(v) => v,
                None => return self.unconverted(s, "a value Berth cannot read"),
            }
        };
        if name == "dhcp-client-identifier"
            && let Scope::Host(h) = scope
        {
            h.client_id = Some(match &value {
                Value::String(v)
                    if v.contains(':')
                        && s.toks.get(2).is_some_and(|t| matches!(t, Tok::Word(_))) =>
                {
                    v.clone()
                }
                Value::String(v) => v
                    .bytes()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
                _ => return self.unconverted(s, "a client identifier Berth cannot read"),
            });
            return;
        }
        if let Err(why) = check_option(&name, &value) {
            return self.unconverted(s, &why);
        }
        let entry = (name, value);
        match scope {
            Scope::Global => self.out.options.push(entry),
            Scope::Subnet(x) => x.options.push(entry),
            Scope::Host(x) => x.options.push(entry),
            Scope::Class(x) => x.options.push(entry),
        }
    }

    fn definition(&mut self, s: &Stmt, name: &str, rest: &[Tok]) {
        // code N = TYPE
        let code = rest.get(1).and_then(|t| t.text().parse::<u8>().ok());
        let kind = rest
            .get(3..)
            .filter(|_| rest.get(2) == Some(&Tok::Punct('=')))
            .and_then(def_kind);
        let (Some(code), Some(kind)) = (code, kind) else {
            return self.unconverted(s, "an option definition of a type Berth has no name for");
        };
        let (space, name) = match name.split_once('.') {
            Some((sp, n)) => (Some(sp.to_string()), n.to_string()),
            None => (None, name.to_string()),
        };
        self.out.option_defs.push(OptionDef {
            space,
            name,
            code,
            kind: kind.into(),
        });
    }

    fn subnet(&mut self, s: &Stmt) {
        let w = words(s);
        let (Some(net), Some(mask)) = (
            w.get(1).and_then(|n| n.parse::<Ipv4Addr>().ok()),
            w.get(3)
                .filter(|_| w.get(2).is_some_and(|k| k == "netmask"))
                .and_then(|m| m.parse::<Ipv4Addr>().ok())
                .and_then(prefix_len),
        ) else {
            return self.unconverted(s, "a subnet without an address and a contiguous netmask");
        };
        let mut sub = Subnet {
            cidr: format!("{net}/{mask}"),
            ..Subnet::default()
        };
        for inner in s.block.iter().flatten() {
            self.in_subnet(inner, &mut sub);
        }
        self.out.subnets.push(sub);
    }

    fn in_subnet(&mut self, s: &Stmt, sub: &mut Subnet) {
        let w = words(s);
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["range", "dynamic-bootp", a, b] => sub.ranges.push(((*a).into(), (*b).into())),
            ["range", "dynamic-bootp", a] => sub.ranges.push(((*a).into(), (*a).into())),
            ["range", a, b] => sub.ranges.push(((*a).into(), (*b).into())),
            ["range", a] => sub.ranges.push(((*a).into(), (*a).into())),
            ["option", ..] => self.option(s, &mut Scope::Subnet(sub)),
            ["default-lease-time", _] => match seconds(s) {
                Some(n) => sub.default_lease = Some(n),
                None => self.unconverted(s, "not a number of seconds"),
            },
            ["max-lease-time", _] => match seconds(s) {
                Some(n) => sub.max_lease = Some(n),
                None => self.unconverted(s, "not a number of seconds"),
            },
            ["next-server", ip] => sub.next_server = Some((*ip).into()),
            ["filename", f] => sub.filename = Some((*f).into()),
            ["pool"] => {
                self.note(
                    s.line,
                    "pool: its ranges are converted as the subnet's; its other settings are not",
                );
                for p in s.block.iter().flatten() {
                    if p.toks.first().is_some_and(|t| t.is("range")) {
                        self.in_subnet(p, sub);
                    } else {
                        self.unconverted(p, "inside a pool");
                    }
                }
            }
            ["host", ..] => self.host(s),
            ["on", ..] => {
                self.note(
                    s.line,
                    format!("`on {}` in subnet {}: Berth's hooks are global; converted as a [[hook]] for every subnet", w.get(1).unwrap_or(&""), sub.cidr),
                );
                self.on(s);
            }
            _ => self.unconverted(s, "Berth has nothing like it in a subnet"),
        }
    }

    fn host(&mut self, s: &Stmt) {
        let raw_name = s.toks.get(1).map(Tok::text).unwrap_or_default();
        let mut h = Host {
            name: raw_name.clone(),
            line: s.line,
            ..Host::default()
        };
        for inner in s.block.iter().flatten() {
            let w = words(inner);
            let w: Vec<&str> = w.iter().map(String::as_str).collect();
            match w.as_slice() {
                ["hardware", "ethernet", mac] => h.mac = Some((*mac).into()),
                ["fixed-address", ip] if ip.parse::<Ipv4Addr>().is_ok() => h.ip = (*ip).into(),
                ["fixed-address", ..] => {
                    self.unconverted(inner, "Berth needs one IPv4 address, not a name or a list")
                }
                ["option", ..] => self.option(inner, &mut Scope::Host(&mut h)),
                ["next-server", ip] => h.next_server = Some((*ip).into()),
                ["filename", f] => h.filename = Some((*f).into()),
                _ => self.unconverted(inner, "Berth has nothing like it in a host"),
            }
        }
        if h.ip.is_empty() {
            return self.note(
                s.line,
                format!(
                    "not converted: host `{raw_name}`: no fixed-address (a Berth host has one)"
                ),
            );
        }
        if h.mac.is_none() && h.client_id.is_none() {
            return self.note(s.line, format!("not converted: host `{raw_name}`: neither hardware ethernet nor dhcp-client-identifier"));
        }
        if berth_proto::parse::check_hostname(&h.name).is_err() {
            let fixed: String = h
                .name
                .to_ascii_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let fixed = fixed.trim_matches('-').to_string();
            self.note(
                s.line,
                format!("host `{raw_name}`: not a valid host name in Berth; renamed `{fixed}`"),
            );
            h.name = fixed;
        }
        self.out.hosts.push(h);
    }

    fn class(&mut self, s: &Stmt) {
        let name = s.toks.get(1).map(Tok::text).unwrap_or_default();
        let mut c = Class {
            name: name.clone(),
            ..Class::default()
        };
        for inner in s.block.iter().flatten() {
            let w = words(inner);
            let w: Vec<&str> = w.iter().map(String::as_str).collect();
            match w.as_slice() {
                ["match", "if", ..] => match class_match(&inner.toks[2..]) {
                    Some(m) => c.matches = vec![m],
                    None => self.unconverted(inner, "a match Berth's class grammar cannot express"),
                },
                ["vendor-option-space", sp] => c.vendor_space = Some((*sp).into()),
                ["option", ..] => self.option(inner, &mut Scope::Class(&mut c)),
                ["next-server", ip] => c.next_server = Some((*ip).into()),
                ["filename", f] => c.filename = Some((*f).into()),
                _ => self.unconverted(inner, "Berth has nothing like it in a class"),
            }
        }
        if c.matches.is_empty() {
            return self.note(s.line, format!("not converted: class `{name}`: no match Berth can express (its members are unknown)"));
        }
        self.out.classes.push(c);
    }

    /// `on commit|release|expiry { set ...; log(...); execute(...); }`.
    fn on(&mut self, s: &Stmt) {
        let events: Vec<String> = s.toks[1..]
            .iter()
            .filter(|t| !t.is("or"))
            .map(Tok::text)
            .collect();
        if events
            .iter()
            .any(|e| !["commit", "release", "expiry"].contains(&e.as_str()))
        {
            return self.unconverted(
                s,
                "Berth hooks run on commit, release and expiry (and more), not these",
            );
        }
        let mut vars: HashMap<String, String> = HashMap::new();
        for inner in s.block.iter().flatten() {
            let first = inner.toks.first().map(Tok::text).unwrap_or_default();
            match first.as_str() {
                "set" => {
                    let var = inner.toks.get(1).map(Tok::text).unwrap_or_default();
                    let mut e = Expr {
                        toks: inner.toks.get(3..).unwrap_or_default(),
                        i: 0,
                        vars: &vars,
                        remarks: Vec::new(),
                    };
                    match e.expr() {
                        Ok(v) => {
                            for r in std::mem::take(&mut e.remarks) {
                                self.note(inner.line, r);
                            }
                            vars.insert(var, v);
                        }
                        Err(why) => self.unconverted(inner, &why),
                    }
                }
                "execute" => {
                    let mut e = Expr {
                        toks: &inner.toks[1..],
                        i: 0,
                        vars: &vars,
                        remarks: Vec::new(),
                    };
                    match e.args() {
                        Ok(args) if !args.is_empty() => {
                            for r in std::mem::take(&mut e.remarks) {
                                self.note(inner.line, r);
                            }
                            let run = args[0].replace("{{", "{").replace("}}", "}");
                            let args = args[1..].to_vec();
                            if let Some(bad) = args.iter().find(|a| {
                                ["{user_class}", "{circuit_id}", "{remote_id}"]
                                    .iter()
                                    .any(|f| a.contains(f))
                            }) {
                                self.unconverted(
                                    inner,
                                    &format!("hook arguments have no field for `{bad}`"),
                                );
                                continue;
                            }
                            self.out.hooks.push(Hook {
                                on: events.clone(),
                                run,
                                args,
                            });
                        }
                        Ok(_) => self.unconverted(inner, "execute() without a program"),
                        Err(why) => self.unconverted(inner, &why),
                    }
                }
                "log" => self.note(
                    inner.line,
                    format!(
                        "not converted: `{}`: berthd logs every transaction itself",
                        inner.text()
                    ),
                ),
                _ => self.unconverted(inner, "Berth hooks run a program; nothing else"),
            }
        }
    }
}

/// A class's `match if ...` as the classes grammar's `match` entry.
fn class_match(toks: &[Tok]) -> Option<(String, Value)> {
    let t: Vec<String> = toks.iter().map(Tok::text).collect();
    let t: Vec<&str> = t.iter().map(String::as_str).collect();
    match t.as_slice() {
        [
            "substring",
            "(",
            "option",
            "vendor-class-identifier",
            ",",
            "0",
            ",",
            n,
            ")",
            "=",
            s,
        ] if n.parse::<usize>().ok() == Some(s.len()) => {
            Some(("vendor_class_prefix".into(), Value::String((*s).into())))
        }
        ["option", "vendor-class-identifier", "=", s] => {
            Some(("vendor_class".into(), Value::String((*s).into())))
        }
        ["option", "user-class", "=", s] => Some(("user_class".into(), Value::String((*s).into()))),
        [
            "substring",
            "(",
            "hardware",
            ",",
            "1",
            ",",
            n,
            ")",
            "=",
            mac,
        ] if n.parse::<usize>().ok() == Some(mac.split(':').count()) => {
            Some(("mac_prefix".into(), Value::String((*mac).into())))
        }
        _ => None,
    }
}
