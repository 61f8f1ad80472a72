//! [`Value`]: a configured option value, typed, and its wire encoding.
//!
//! The configuration keeps values in this form and the reply builder encodes
//! them, so that a value can be a template filled from the request (vendor
//! class, MAC, host name) just before it is encoded: [`Value::Template`],
//! encoded with [`Value::encode_with`].

use std::net::Ipv4Addr;

use super::set::OptionBytes;
use super::template::{Facts, Template};
use crate::addr::Cidr;

/// A typed option value, one variant per [`super::OptionKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One IPv4 address.
    Ip(Ipv4Addr),
    /// One or more addresses.
    IpList(Vec<Ipv4Addr>),
    /// Address pairs.
    IpPairs(Vec<(Ipv4Addr, Ipv4Addr)>),
    /// RFC 3442 (destination, router) pairs.
    ClasslessRoutes(Vec<(Cidr, Ipv4Addr)>),
    /// An unsigned 8-bit integer.
    U8(u8),
    /// An unsigned 16-bit integer.
    U16(u16),
    /// An unsigned 32-bit integer.
    U32(u32),
    /// A signed 32-bit integer.
    I32(i32),
    /// A flag.
    Bool(bool),
    /// Text.
    Text(String),
    /// Opaque bytes.
    Hex(Vec<u8>),
    /// One or more 8-bit integers.
    U8List(Vec<u8>),
    /// One or more 16-bit integers.
    U16List(Vec<u16>),
    /// Domain names, already checked against RFC 1035's lengths.
    DomainList(Vec<String>),
    /// One or more unsigned 32-bit integers.
    U32List(Vec<u32>),
    /// Strings, each preceded by its length (RFC 3004 user classes).
    StringList(Vec<String>),
    /// Text filled from the request when the reply is built.
    Template(Template),
}

impl Value {
    /// The wire bytes of the value for a request with these facts; `None`
    /// for a template naming a fact the request does not carry.
    pub fn encode_with(&self, facts: &Facts) -> Option<OptionBytes> {
        match self {
            Value::Template(t) => t.fill(facts).map(|s| OptionBytes::from_vec(s.into_bytes())),
            other => Some(other.encode()),
        }
    }

    /// The wire bytes of the value (without code and length). A template
    /// encodes as written (what its size is checked with); replies use
    /// [`Value::encode_with`].
    pub fn encode(&self) -> OptionBytes {
        match self {
            Value::Ip(ip) => OptionBytes::from_slice(&ip.octets()),
            Value::IpList(ips) => ips.iter().flat_map(|ip| ip.octets()).collect(),
            Value::IpPairs(pairs) => pairs
                .iter()
                .flat_map(|(a, b)| a.octets().into_iter().chain(b.octets()))
                .collect(),
            Value::ClasslessRoutes(routes) => {
                let mut out = OptionBytes::new();
                for (dest, router) in routes {
                    // RFC 3442: the prefix length, then only the significant octets.
                    let significant = usize::from(dest.prefix.min(32)).div_ceil(8);
                    out.push(dest.prefix);
                    out.extend_from_slice(&dest.network.octets()[..significant]);
                    out.extend_from_slice(&router.octets());
                }
                out
            }
            Value::U8(v) => OptionBytes::from_slice(&[*v]),
            Value::U16(v) => OptionBytes::from_slice(&v.to_be_bytes()),
            Value::U32(v) => OptionBytes::from_slice(&v.to_be_bytes()),
            Value::I32(v) => OptionBytes::from_slice(&v.to_be_bytes()),
            Value::Bool(b) => OptionBytes::from_slice(&[u8::from(*b)]),
            Value::Text(s) => OptionBytes::from_slice(s.as_bytes()),
            Value::Hex(bytes) | Value::U8List(bytes) => OptionBytes::from_slice(bytes),
            Value::U16List(items) => items.iter().flat_map(|v| v.to_be_bytes()).collect(),
            Value::DomainList(names) => OptionBytes::from_vec(encode_domains(names)),
            Value::U32List(items) => items.iter().flat_map(|v| v.to_be_bytes()).collect(),
            Value::StringList(items) => items
                .iter()
                .flat_map(|s| {
                    // Each item was checked to fit its length byte when parsed.
                    let bytes = &s.as_bytes()[..s.len().min(255)];
                    std::iter::once(bytes.len() as u8).chain(bytes.iter().copied())
                })
                .collect(),
            Value::Template(t) => OptionBytes::from_vec(t.to_string().into_bytes()),
        }
    }
}

/// RFC 1035 names with RFC 3397 compression: a suffix already written is
/// replaced by a pointer to its offset within the option data.
fn encode_domains(names: &[String]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    // (suffix in lower case, offset where it starts)
    let mut seen: Vec<(String, usize)> = Vec::new();
    for name in names {
        let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
        let suffix = |i: usize| labels[i..].join(".").to_ascii_lowercase();
        let pointer = (0..labels.len()).find_map(|i| {
            let wanted = suffix(i);
            seen.iter()
                .find(|(s, _)| *s == wanted)
                .map(|(_, offset)| (i, *offset))
        });
        let literal = pointer.map_or(labels.len(), |(i, _)| i);
        for (i, label) in labels.iter().enumerate().take(literal) {
            // Pointers hold 14 bits; later suffixes simply are not offered for reuse.
            if out.len() < 0x4000 {
                seen.push((suffix(i), out.len()));
            }
            // Labels are at most 63 bytes (checked when the value was parsed).
            out.push(label.len().min(63) as u8);
            out.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
        }
        match pointer {
            Some((_, offset)) => out.extend_from_slice(&(0xc000 | offset as u16).to_be_bytes()),
            None => out.push(0),
        }
    }
    out
}
