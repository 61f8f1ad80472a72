//! The Berth configuration as importers fill it, and its TOML rendering.

use std::fmt::Write as _;

use toml::Value;

/// Something an importer could not convert, or converted with a change of
/// meaning: its line in the source and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub line: usize,
    pub message: String,
}

/// `[[subnet]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subnet {
    pub cidr: String,
    pub ranges: Vec<(String, String)>,
    pub options: Vec<(String, Value)>,
    pub default_lease: Option<i64>,
    pub max_lease: Option<i64>,
    pub next_server: Option<String>,
    pub filename: Option<String>,
}

/// `[[host]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Host {
    pub name: String,
    pub mac: Option<String>,
    pub client_id: Option<String>,
    pub ip: String,
    pub options: Vec<(String, Value)>,
    pub next_server: Option<String>,
    pub filename: Option<String>,
    /// The source line, for notes about the host as a whole.
    pub line: usize,
}

/// `[[class]]` (the classes grammar).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Class {
    pub name: String,
    /// The `match` table, e.g. `vendor_class_prefix = "snom"`.
    pub matches: Vec<(String, Value)>,
    pub vendor_space: Option<String>,
    pub next_server: Option<String>,
    pub filename: Option<String>,
    pub options: Vec<(String, Value)>,
}

/// An option definition: `[[option_def]]` without a space, an entry of
/// `[option_space.NAME]` with one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDef {
    pub space: Option<String>,
    pub name: String,
    pub code: u8,
    pub kind: String,
}

/// `[[hook]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub on: Vec<String>,
    pub run: String,
    pub args: Vec<String>,
}

/// A whole configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Berth {
    /// Source of the conversion, for the header comment.
    pub source: String,
    pub interfaces: Vec<String>,
    /// Other `[server]` keys, in order.
    pub server: Vec<(String, Value)>,
    pub options: Vec<(String, Value)>,
    pub option_defs: Vec<OptionDef>,
    pub classes: Vec<Class>,
    pub subnets: Vec<Subnet>,
    pub hosts: Vec<Host>,
    pub hooks: Vec<Hook>,
    /// `[limits] relays`: the relays served (none when empty).
    pub relays: Vec<String>,
}

/// dhcpd and dnsmasq answer every relay; Berth only the relays in
/// `[limits] relays`. Several subnets usually mean some sit behind relays,
/// so then every relay stays served (`0.0.0.0/0`); the note to report, if
/// so. `server` names the source's server.
pub fn keep_relays_served(out: &mut Berth, server: &str) -> Option<String> {
    if out.subnets.len() < 2 {
        return None;
    }
    out.relays = vec!["0.0.0.0/0".into()];
    Some(format!(
        "relays: {server} serves packets from any relay, Berth only from [limits] relays; written as [\"0.0.0.0/0\"] (any relay): list your relays' addresses instead, or remove it when no subnet is behind a relay"
    ))
}

/// Merges hooks that run the same program with the same arguments but for
/// the event's own name (`execute("x", "commit", ...)` on commit, `"release"`
/// on release): one hook on all their events, with `{event}` for the name.
pub fn merge_hooks(hooks: Vec<Hook>) -> Vec<Hook> {
    let general = |h: &Hook| -> Vec<String> {
        h.args
            .iter()
            .map(|a| match h.on.as_slice() {
                [e] if a == e => "{event}".to_string(),
                _ => a.clone(),
            })
            .collect()
    };
    let mut out: Vec<Hook> = Vec::new();
    for h in hooks {
        let args = general(&h);
        match out
            .iter_mut()
            .find(|o| o.run == h.run && general(o) == args)
        {
            Some(o) => {
                o.args = args;
                for e in h.on {
                    if !o.on.contains(&e) {
                        o.on.push(e);
                    }
                }
            }
            None => out.push(h),
        }
    }
    out
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
pub fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

fn string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn inline(entries: &[(String, Value)]) -> String {
    let parts: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{} = {v}", key(k)))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

fn opt_line(out: &mut String, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        let _ = writeln!(out, "{k} = {}", string(v));
    }
}

impl Berth {
    /// The configuration as TOML.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Converted by `berth import` from {}.", self.source);
        let _ = writeln!(
            out,
            "# What could not be converted was listed on stderr; check with `berthd check-config`."
        );
        let _ = writeln!(out, "\n[server]");
        let ifaces: Vec<Value> = self
            .interfaces
            .iter()
            .map(|i| Value::String(i.clone()))
            .collect();
        let _ = writeln!(out, "interfaces = {}", Value::Array(ifaces));
        for (k, v) in &self.server {
            let _ = writeln!(out, "{} = {v}", key(k));
        }
        if !self.options.is_empty() {
            let _ = writeln!(out, "\n[options]");
            for (k, v) in &self.options {
                let _ = writeln!(out, "{} = {v}", key(k));
            }
        }
        let mut spaces: Vec<&str> = Vec::new();
        for d in &self.option_defs {
            if let Some(s) = &d.space
                && !spaces.contains(&s.as_str())
            {
                spaces.push(s);
            }
        }
        for s in spaces {
            let _ = writeln!(out, "\n[option_space.{}]", key(s));
            for d in self
                .option_defs
                .iter()
                .filter(|d| d.space.as_deref() == Some(s))
            {
                let _ = writeln!(
                    out,
                    "{} = {{ code = {}, type = {} }}",
                    key(&d.name),
                    d.code,
                    string(&d.kind)
                );
            }
        }
        for d in self.option_defs.iter().filter(|d| d.space.is_none()) {
            let _ = writeln!(out, "\n[[option_def]]");
            let _ = writeln!(out, "name = {}", string(&d.name));
            let _ = writeln!(out, "code = {}", d.code);
            let _ = writeln!(out, "type = {}", string(&d.kind));
        }
        for c in &self.classes {
            let _ = writeln!(out, "\n[[class]]");
            let _ = writeln!(out, "name = {}", string(&c.name));
            let _ = writeln!(out, "match = {}", inline(&c.matches));
            opt_line(&mut out, "vendor_space", &c.vendor_space);
            opt_line(&mut out, "next_server", &c.next_server);
            opt_line(&mut out, "filename", &c.filename);
            if !c.options.is_empty() {
                let _ = writeln!(out, "options = {}", inline(&c.options));
            }
        }
        for s in &self.subnets {
            let _ = writeln!(out, "\n[[subnet]]");
            let _ = writeln!(out, "cidr = {}", string(&s.cidr));
            match s.ranges.as_slice() {
                [] => {}
                [(a, b)] => {
                    let _ = writeln!(out, "range = [{}, {}]", string(a), string(b));
                }
                many => {
                    let rs: Vec<String> = many
                        .iter()
                        .map(|(a, b)| format!("[{}, {}]", string(a), string(b)))
                        .collect();
                    let _ = writeln!(out, "ranges = [{}]", rs.join(", "));
                }
            }
            if let Some(d) = s.default_lease {
                let _ = writeln!(out, "default_lease = {d}");
            }
            if let Some(m) = s.max_lease {
                let _ = writeln!(out, "max_lease = {m}");
            }
            opt_line(&mut out, "next_server", &s.next_server);
            opt_line(&mut out, "filename", &s.filename);
            if !s.options.is_empty() {
                let _ = writeln!(out, "options = {}", inline(&s.options));
            }
        }
        for h in &self.hosts {
            let _ = writeln!(out, "\n[[host]]");
            let _ = writeln!(out, "name = {}", string(&h.name));
            opt_line(&mut out, "mac", &h.mac);
            opt_line(&mut out, "client_id", &h.client_id);
            let _ = writeln!(out, "ip = {}", string(&h.ip));
            opt_line(&mut out, "next_server", &h.next_server);
            opt_line(&mut out, "filename", &h.filename);
            if !h.options.is_empty() {
                let _ = writeln!(out, "options = {}", inline(&h.options));
            }
        }
        for h in &self.hooks {
            let _ = writeln!(out, "\n[[hook]]");
            let on: Vec<Value> = h.on.iter().map(|e| Value::String(e.clone())).collect();
            let _ = writeln!(out, "on = {}", Value::Array(on));
            let _ = writeln!(out, "run = {}", string(&h.run));
            let args: Vec<Value> = h.args.iter().map(|a| Value::String(a.clone())).collect();
            let _ = writeln!(out, "args = {}", Value::Array(args));
        }
        if !self.relays.is_empty() {
            let relays: Vec<Value> = self
                .relays
                .iter()
                .map(|r| Value::String(r.clone()))
                .collect();
            let _ = writeln!(out, "\n[limits]");
            let _ = writeln!(out, "relays = {}", Value::Array(relays));
        }
        out
    }
}

/// Checks an option value with berthd's parser (DHCP space only; a
/// qualified `space.name` is left to `check-config`, which knows the
/// spaces the file defines). Err is why it does not fit.
pub fn check_option(name: &str, value: &Value) -> Result<(), String> {
    if name.contains('.') {
        return Ok(());
    }
    use berthd::options::OptionError;
    berthd::options::parse_named(name, value)
        .map(drop)
        .map_err(|e| match e {
            OptionError::Unknown {
                suggestion: Some(s),
            } => {
                format!("Berth knows no option `{name}` (did you mean `{s}`?)")
            }
            OptionError::Unknown { suggestion: None } => format!("Berth knows no option `{name}`"),
            OptionError::ServerSet(def, set) => OptionError::server_set_message(def, set),
            OptionError::Value(def, e) => format!("option `{}`: {e}", def.name),
        })
}
