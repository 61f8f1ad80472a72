//! Parsing configuration values (TOML) against the catalogue into typed
//! [`Value`]s, with messages that say what was expected and what was found.

use std::net::Ipv4Addr;

use super::catalogue::{OptionDef, OptionKind, OptionKind as K, by_name};
use super::server_set::{ServerSet, server_set};
use super::suggest::suggest;
use super::template::{Template, is_template};
use super::value::Value;
use crate::addr::Cidr;

/// The largest payload one option can carry without RFC 3396 splitting.
const MAX_OPTION_LEN: usize = 255;

/// Why a value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// For an array value, the index of the element at fault, so that the
    /// configuration can point at it rather than at the whole array.
    pub element: Option<usize>,
    /// What was expected and what was found.
    pub message: String,
}

impl From<String> for ParseError {
    fn from(message: String) -> Self {
        ParseError {
            element: None,
            message,
        }
    }
}

/// Parse a configuration value for `def`, checking that it fits one option.
///
/// The error says what was expected and what was found, e.g.
/// `expected an integer from 0 to 255, found string "x"`, and for an array
/// value which element was at fault, so that the configuration can point at
/// it rather than at the whole array.
pub fn parse(def: &OptionDef, value: &toml::Value) -> Result<Value, ParseError> {
    let parsed = parse_kind(def.kind, value)?;
    let len = parsed.encode().len();
    if len > MAX_OPTION_LEN {
        return Err(format!(
            "value is {len} bytes on the wire; one DHCP option holds at most {MAX_OPTION_LEN}"
        )
        .into());
    }
    Ok(parsed)
}

/// Attributes an error to element `i` of `value`, if `value` is an array
/// (a lone scalar given where a list is allowed has no elements to point at).
fn element(value: &toml::Value, i: usize) -> impl Fn(String) -> ParseError {
    let element = value.is_array().then_some(i);
    move |message| ParseError { element, message }
}

/// `found string "x"`, `found integer 5`, `found array`: the tail of a type error.
fn found(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("found string {s:?}"),
        toml::Value::Integer(i) => format!("found integer {i}"),
        toml::Value::Float(f) => format!("found float {f}"),
        toml::Value::Boolean(b) => format!("found boolean {b}"),
        toml::Value::Datetime(d) => format!("found datetime {d}"),
        toml::Value::Array(_) => "found an array".to_string(),
        toml::Value::Table(_) => "found a table".to_string(),
    }
}

fn mismatch(kind: OptionKind, value: &toml::Value) -> String {
    format!("expected {}, {}", kind.expected(), found(value))
}

/// A single value, or the elements of an array: list kinds accept both.
fn one_or_many(value: &toml::Value) -> &[toml::Value] {
    match value {
        toml::Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn parse_ip(kind: OptionKind, value: &toml::Value) -> Result<Ipv4Addr, String> {
    match value {
        toml::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IPv4 address")),
        other => Err(mismatch(kind, other)),
    }
}

fn parse_int(kind: OptionKind, value: &toml::Value, min: i64, max: i64) -> Result<i64, String> {
    match value {
        toml::Value::Integer(i) if (min..=max).contains(i) => Ok(*i),
        other => Err(mismatch(kind, other)),
    }
}

/// A two-element array of strings, for the pair kinds.
fn pair(kind: OptionKind, value: &toml::Value) -> Result<(String, String), String> {
    match value {
        toml::Value::Array(items) => match items.as_slice() {
            [toml::Value::String(a), toml::Value::String(b)] => Ok((a.clone(), b.clone())),
            _ => Err(format!(
                "expected {}, found an element that is not a pair of strings",
                kind.expected()
            )),
        },
        other => Err(format!(
            "expected {}, found an element that is not a pair: {}",
            kind.expected(),
            found(other)
        )),
    }
}

fn non_empty_list(kind: OptionKind, value: &toml::Value) -> Result<(), String> {
    match value {
        toml::Value::Array(items) if items.is_empty() => Err(format!(
            "expected {}, found an empty array",
            kind.expected()
        )),
        _ => Ok(()),
    }
}

fn parse_kind(kind: OptionKind, value: &toml::Value) -> Result<Value, ParseError> {
    match kind {
        K::Ip => Ok(Value::Ip(parse_ip(kind, value)?)),
        K::IpList => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                out.push(parse_ip(kind, item).map_err(element(value, i))?);
            }
            Ok(Value::IpList(out))
        }
        K::IpPairs => {
            let items = match value {
                toml::Value::Array(items) if !items.is_empty() => items,
                other => return Err(mismatch(kind, other).into()),
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let (a, b) = pair(kind, item).map_err(element(value, i))?;
                let [a, b] = [a, b].map(|s| {
                    s.trim()
                        .parse::<Ipv4Addr>()
                        .map_err(|_| format!("`{s}` is not an IPv4 address"))
                });
                out.push((a.map_err(element(value, i))?, b.map_err(element(value, i))?));
            }
            Ok(Value::IpPairs(out))
        }
        K::ClasslessRoutes => {
            let items = match value {
                toml::Value::Array(items) if !items.is_empty() => items,
                other => return Err(mismatch(kind, other).into()),
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let (dest, router) = pair(kind, item).map_err(element(value, i))?;
                let cidr: Cidr = dest
                    .trim()
                    .parse()
                    .map_err(|e| format!("{e}"))
                    .map_err(element(value, i))?;
                let router: Ipv4Addr = router
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{router}` is not an IPv4 address"))
                    .map_err(element(value, i))?;
                out.push((cidr, router));
            }
            Ok(Value::ClasslessRoutes(out))
        }
        K::U8 => Ok(Value::U8(parse_int(kind, value, 0, 0xff)? as u8)),
        K::U16 => Ok(Value::U16(parse_int(kind, value, 0, 0xffff)? as u16)),
        K::U32 => Ok(Value::U32(
            parse_int(kind, value, 0, u32::MAX.into())? as u32
        )),
        K::I32 => Ok(Value::I32(
            parse_int(kind, value, i32::MIN.into(), i32::MAX.into())? as i32,
        )),
        K::Bool => match value {
            toml::Value::Boolean(b) => Ok(Value::Bool(*b)),
            other => Err(mismatch(kind, other).into()),
        },
        K::Text => match value {
            // RFC 2132 gives text options a minimum length of 1.
            toml::Value::String(s) if s.is_empty() => {
                Err("expected a non-empty string, found an empty string"
                    .to_string()
                    .into())
            }
            // Braces make a template, filled from the request at reply time.
            toml::Value::String(s) if is_template(s) => Template::parse(s)
                .map(Value::Template)
                .map_err(|e| e.message.into()),
            toml::Value::String(s) => Ok(Value::Text(s.clone())),
            other => Err(mismatch(kind, other).into()),
        },
        K::Hex => match value {
            toml::Value::String(s) => Ok(Value::Hex(parse_hex(s)?)),
            other => Err(mismatch(kind, other).into()),
        },
        K::U8List => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                out.push(parse_int(kind, item, 0, 0xff).map_err(element(value, i))? as u8);
            }
            Ok(Value::U8List(out))
        }
        K::U16List => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                out.push(parse_int(kind, item, 0, 0xffff).map_err(element(value, i))? as u16);
            }
            Ok(Value::U16List(out))
        }
        K::U32List => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                out.push(
                    parse_int(kind, item, 0, u32::MAX.into()).map_err(element(value, i))? as u32,
                );
            }
            Ok(Value::U32List(out))
        }
        K::StringList => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                let s = match item {
                    toml::Value::String(s) if s.is_empty() || s.len() > 255 => Err(format!(
                        "each string must be 1 to 255 bytes, found {} bytes",
                        s.len()
                    )),
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(mismatch(kind, other)),
                };
                out.push(s.map_err(element(value, i))?);
            }
            Ok(Value::StringList(out))
        }
        K::DomainList => {
            non_empty_list(kind, value)?;
            let mut names = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                let name = match item {
                    toml::Value::String(s) => domain_name(s),
                    other => Err(mismatch(kind, other)),
                };
                names.push(name.map_err(element(value, i))?);
            }
            Ok(Value::DomainList(names))
        }
    }
}

/// Parse `"01:02:ab"` (ISC also allows one digit per octet, `"1:2:ab"`).
/// Shared with the configuration's `client_id`.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("`{s}` is not hex bytes (expected pairs of hex digits like \"01:02:ab\")");
    if s.trim().is_empty() {
        return Err(bad());
    }
    s.trim()
        .split(':')
        .map(|part| {
            if part.is_empty() || part.len() > 2 {
                return Err(bad());
            }
            u8::from_str_radix(part, 16).map_err(|_| bad())
        })
        .collect()
}

/// Check a domain name against RFC 1035 lengths; returns it without
/// surrounding space or a trailing dot (the fully qualified form is allowed).
fn domain_name(name: &str) -> Result<String, String> {
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(format!("`{name}` is not a domain name"));
    }
    if trimmed.len() > 253 {
        return Err(format!(
            "domain name `{name}` is longer than 253 characters"
        ));
    }
    let labels: Vec<&str> = trimmed.split('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.len() > 63 || l.chars().any(char::is_whitespace))
    {
        return Err(format!(
            "`{name}` is not a domain name (each label must be 1 to 63 characters, no spaces)"
        ));
    }
    Ok(trimmed.to_string())
}

/// Why a named option from a configuration or a run-time host was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionError {
    /// No option has this name; the closest known name, if any is close.
    Unknown { suggestion: Option<&'static str> },
    /// The server sets this option itself ([`super::SERVER_SET`]).
    ServerSet(&'static OptionDef, &'static ServerSet),
    /// The value does not fit the option's type.
    Value(&'static OptionDef, ParseError),
}

impl OptionError {
    /// The refusal of a server-set option, with what to do instead:
    /// "option `dhcp-lease-time` (code 51) is set by the server itself ...".
    pub fn server_set_message(def: &OptionDef, set: &ServerSet) -> String {
        format!(
            "option `{}` (code {}) is set by the server itself and cannot be configured{}",
            def.name, def.code, set.instead
        )
    }
}

/// Look `name` up in the DHCP space, refuse it if the server sets it, and
/// parse `value` for it: what every `options` table goes through.
pub fn parse_named(name: &str, value: &toml::Value) -> Result<(u8, Value), OptionError> {
    let def = by_name(name).ok_or_else(|| OptionError::Unknown {
        suggestion: suggest(name),
    })?;
    if let Some(set) = server_set(def.code) {
        return Err(OptionError::ServerSet(def, set));
    }
    let value = parse(def, value).map_err(|e| OptionError::Value(def, e))?;
    Ok((def.code, value))
}
