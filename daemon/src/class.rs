//! Client classes: which classes a request belongs to, decided purely from
//! the packet and whether the client is known (has a static host).
//!
//! A [`Match`] is a tree: leaves test the vendor class (option 60), the user
//! class (option 77), the MAC, any option's bytes, the relay agent's circuit
//! and remote ids (option 82) or known-ness; `All`, `Any` and `Not` combine
//! them. The configuration builds the tree (with file:line:col errors); the
//! engine evaluates it per request.

use crate::addr::MacAddr;
use crate::packet::{Packet, code};

/// How an option's bytes are tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// The option is present (`true`) or absent (`false`).
    Present(bool),
    /// The bytes from the offset on are exactly these.
    Equals(Vec<u8>),
    /// The bytes at the offset start with these (ISC `substring(option X,
    /// offset, len) = "..."`).
    Prefix(Vec<u8>),
    /// These bytes occur at or after the offset.
    Contains(Vec<u8>),
}

/// A class's match rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Option 60 is exactly this (trailing NULs ignored).
    VendorClass(Vec<u8>),
    /// Option 60 starts with this.
    VendorClassPrefix(Vec<u8>),
    /// One of the option 77 user classes (RFC 3004), or the whole option
    /// as sent by clients that send plain text, is exactly this.
    UserClass(Vec<u8>),
    /// The client's MAC starts with these bytes.
    MacPrefix(Vec<u8>),
    /// A test on option `code`'s bytes from `offset` on.
    Option { code: u8, offset: usize, test: Test },
    /// The relay agent's circuit id (option 82, sub-option 1) is exactly this.
    CircuitId(Vec<u8>),
    /// The relay agent's remote id (option 82, sub-option 2) is exactly this.
    RemoteId(Vec<u8>),
    /// The client has a static host (`true`) or not (`false`).
    Known(bool),
    /// Every rule holds (an empty list holds).
    All(Vec<Match>),
    /// At least one rule holds (an empty list does not).
    Any(Vec<Match>),
    /// The rule does not hold.
    Not(Box<Match>),
}

/// What a match is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// The request.
    pub packet: &'a Packet,
    /// The client's MAC (chaddr, or from an option 61 of type 1).
    pub mac: Option<MacAddr>,
    /// Whether the client has a static host.
    pub known: bool,
}

/// A text option's bytes without the trailing NULs some clients send.
fn text_bytes(data: &[u8]) -> &[u8] {
    let end = data.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    &data[..end]
}

/// Sub-option `sub` of the relay agent information (option 82).
pub fn relay_sub_option(p: &Packet, sub: u8) -> Option<&[u8]> {
    let mut rest = p.options.get(code::RELAY_AGENT_INFO)?;
    while let [c, len, tail @ ..] = rest {
        let data = tail.get(..usize::from(*len))?;
        if *c == sub {
            return Some(data);
        }
        rest = &tail[usize::from(*len)..];
    }
    None
}

/// The user classes of option 77: RFC 3004 length-prefixed instances when
/// the bytes parse as such exactly, else the whole option as one class
/// (what clients that predate RFC 3004, like udhcpc, send).
pub fn user_classes(p: &Packet) -> Vec<&[u8]> {
    let Some(data) = p.options.get(77) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let mut rest = data;
    while let [len, tail @ ..] = rest {
        match tail.get(..usize::from(*len)) {
            Some(item) if *len > 0 => {
                items.push(item);
                rest = &tail[usize::from(*len)..];
            }
            _ => return vec![text_bytes(data)],
        }
    }
    if items.is_empty() {
        vec![text_bytes(data)]
    } else {
        items
    }
}

impl Test {
    fn holds(&self, data: Option<&[u8]>, offset: usize) -> bool {
        let at = |d: &[u8]| d.get(offset..).map(<[u8]>::to_vec);
        match self {
            Test::Present(want) => data.is_some() == *want,
            Test::Equals(v) => data.and_then(at).is_some_and(|d| d == *v),
            Test::Prefix(v) => data.and_then(at).is_some_and(|d| d.starts_with(v)),
            Test::Contains(v) => data
                .and_then(at)
                .is_some_and(|d| v.is_empty() || d.windows(v.len()).any(|w| w == v.as_slice())),
        }
    }
}

impl Match {
    /// Whether `client` satisfies the rule.
    pub fn matches(&self, client: &Client<'_>) -> bool {
        let p = client.packet;
        let vendor = || p.options.get(code::VENDOR_CLASS).map(text_bytes);
        match self {
            Match::VendorClass(v) => vendor().is_some_and(|d| d == v.as_slice()),
            Match::VendorClassPrefix(v) => vendor().is_some_and(|d| d.starts_with(v)),
            Match::UserClass(v) => user_classes(p).contains(&v.as_slice()),
            Match::MacPrefix(v) => client.mac.is_some_and(|m| m.0.starts_with(v)),
            Match::Option { code, offset, test } => test.holds(p.options.get(*code), *offset),
            Match::CircuitId(v) => relay_sub_option(p, 1) == Some(v.as_slice()),
            Match::RemoteId(v) => relay_sub_option(p, 2) == Some(v.as_slice()),
            Match::Known(want) => client.known == *want,
            Match::All(rules) => rules.iter().all(|r| r.matches(client)),
            Match::Any(rules) => rules.iter().any(|r| r.matches(client)),
            Match::Not(rule) => !rule.matches(client),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::MessageType;

    fn packet(options: &[(u8, &[u8])]) -> Packet {
        let mut p = Packet::request(MacAddr([0, 4, 0x13, 1, 2, 3]), MessageType::Discover, 1);
        for (c, v) in options {
            p.options.set_bytes(*c, v);
        }
        p
    }

    fn client(p: &Packet) -> Client<'_> {
        Client {
            packet: p,
            mac: Some(MacAddr([0x00, 0x04, 0x13, 1, 2, 3])),
            known: false,
        }
    }

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn vendor_class_exact_and_prefix_ignore_trailing_nuls() {
        let p = packet(&[(60, b"snom370\0")]);
        let c = client(&p);
        assert!(Match::VendorClassPrefix(b("snom")).matches(&c));
        assert!(Match::VendorClass(b("snom370")).matches(&c));
        assert!(!Match::VendorClass(b("snom")).matches(&c));
        assert!(!Match::VendorClassPrefix(b("snom")).matches(&client(&packet(&[]))));
    }

    #[test]
    fn user_class_matches_an_rfc3004_instance_or_plain_text() {
        let p = packet(&[(77, &[3, b'a', b'b', b'c', 2, b'x', b'y'])]);
        assert!(Match::UserClass(b("xy")).matches(&client(&p)));
        assert!(Match::UserClass(b("abc")).matches(&client(&p)));
        let plain = packet(&[(77, b"iPXE")]);
        assert!(Match::UserClass(b("iPXE")).matches(&client(&plain)));
        assert!(!Match::UserClass(b("ab")).matches(&client(&p)));
    }

    #[test]
    fn mac_prefix_and_known() {
        let p = packet(&[]);
        let c = client(&p);
        assert!(Match::MacPrefix(vec![0x00, 0x04, 0x13]).matches(&c));
        assert!(!Match::MacPrefix(vec![0x00, 0x04, 0x14]).matches(&c));
        assert!(Match::Known(false).matches(&c));
        assert!(!Match::Known(true).matches(&c));
        let known = Client { known: true, ..c };
        assert!(Match::Known(true).matches(&known));
        let no_mac = Client { mac: None, ..c };
        assert!(!Match::MacPrefix(vec![0x00]).matches(&no_mac));
    }

    /// ISC `substring(option vendor-class-identifier, 0, 4) = "snom"` and
    /// the other byte tests, at an offset.
    #[test]
    fn option_tests_at_an_offset() {
        let p = packet(&[(60, b"PXEClient:Arch:00007")]);
        let c = client(&p);
        let t = |offset, test| Match::Option {
            code: 60,
            offset,
            test,
        };
        assert!(t(0, Test::Prefix(b("PXEClient"))).matches(&c));
        assert!(t(10, Test::Prefix(b("Arch"))).matches(&c));
        assert!(!t(11, Test::Prefix(b("Arch"))).matches(&c));
        assert!(t(0, Test::Contains(b("00007"))).matches(&c));
        assert!(!t(16, Test::Contains(b("00007"))).matches(&c));
        assert!(t(15, Test::Equals(b("00007"))).matches(&c));
        assert!(!t(0, Test::Equals(b("PXEClient"))).matches(&c));
        assert!(t(0, Test::Present(true)).matches(&c));
        assert!(
            !t(99, Test::Prefix(Vec::new())).matches(&c),
            "offset past the end"
        );
        let absent = Match::Option {
            code: 77,
            offset: 0,
            test: Test::Present(false),
        };
        assert!(absent.matches(&c));
    }

    #[test]
    fn relay_agent_circuit_and_remote_ids() {
        let p = packet(&[(82, &[1, 3, b'p', b'1', b'7', 2, 2, b'r', b'x'])]);
        let c = client(&p);
        assert!(Match::CircuitId(b("p17")).matches(&c));
        assert!(Match::RemoteId(b("rx")).matches(&c));
        assert!(!Match::CircuitId(b("rx")).matches(&c));
        let truncated = packet(&[(82, &[1, 9, b'p'])]);
        assert!(!Match::CircuitId(b("p")).matches(&client(&truncated)));
    }

    #[test]
    fn all_any_not_combine() {
        let p = packet(&[(60, b"snom370")]);
        let c = client(&p);
        let snom = Match::VendorClassPrefix(b("snom"));
        let known = Match::Known(true);
        assert!(!Match::All(vec![snom.clone(), known.clone()]).matches(&c));
        assert!(Match::Any(vec![snom.clone(), known.clone()]).matches(&c));
        assert!(Match::All(vec![snom.clone(), Match::Not(Box::new(known))]).matches(&c));
        assert!(Match::All(Vec::new()).matches(&c));
        assert!(!Match::Any(Vec::new()).matches(&c));
    }
}
