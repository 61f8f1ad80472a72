//! Address types: hardware addresses, IPv4 networks and address ranges.
//!
//! A leaf module: everything else may use it, it uses nothing of the crate.
//! [`MacAddr`] is berth-proto's, shared with the ctl and the TUI.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

// Hardware addresses are parsed by the ctl and the TUI too, so the type and
// its one parser live in berth-proto; re-exported here for the crate.
pub use berth_proto::parse::{BadMac, MacAddr};

/// An IPv4 address shown as `a.b.c.d`: the same text as `Ipv4Addr`'s
/// `Display`, written with one call instead of one per octet. A DORA shows
/// several addresses (log line, store row, events), and the formatting
/// machinery cost more than deciding the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dotted(pub Ipv4Addr);

impl Dotted {
    /// The text in a buffer on the stack: at most 15 bytes.
    pub fn text(self) -> DottedText {
        let mut buf = [0u8; 15];
        let mut len = 0;
        for (i, o) in self.0.octets().into_iter().enumerate() {
            if i > 0 {
                buf[len] = b'.';
                len += 1;
            }
            if o >= 100 {
                buf[len] = b'0' + o / 100;
                len += 1;
            }
            if o >= 10 {
                buf[len] = b'0' + o / 10 % 10;
                len += 1;
            }
            buf[len] = b'0' + o % 10;
            len += 1;
        }
        DottedText {
            buf,
            len: len as u8,
        }
    }
}

impl fmt::Display for Dotted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.text().as_str())
    }
}

/// An address's dotted text (see [`Dotted::text`]).
#[derive(Clone, Copy)]
pub struct DottedText {
    buf: [u8; 15],
    len: u8,
}

impl DottedText {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and dots are ever written.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// An IPv4 network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The network address (no host bits set).
    pub network: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix: u8,
}

/// Why a string is not a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// No `/prefix` part.
    #[error("`{0}` is not a CIDR network (expected address/prefix, like \"192.0.2.0/24\")")]
    MissingPrefix(String),
    /// The address part is not an IPv4 address.
    #[error("`{input}` is not a CIDR network: `{address}` is not an IPv4 address")]
    BadAddress {
        /// The whole input.
        input: String,
        /// The address part.
        address: String,
    },
    /// The prefix is not a number from 0 to 32.
    #[error("`{input}` has a bad prefix length `{prefix}` (expected 0 to 32)")]
    BadPrefix {
        /// The whole input.
        input: String,
        /// The prefix part.
        prefix: String,
    },
    /// The address has bits set beyond the prefix.
    #[error("`{input}` has host bits set; did you mean `{meant}`?")]
    HostBitsSet {
        /// The whole input.
        input: String,
        /// The network the input probably meant.
        meant: Cidr,
    },
}

impl Cidr {
    /// A network from its address and prefix; the address must have no host bits.
    pub fn new(network: Ipv4Addr, prefix: u8) -> Result<Cidr, CidrError> {
        let input = format!("{network}/{prefix}");
        if prefix > 32 {
            return Err(CidrError::BadPrefix {
                input,
                prefix: prefix.to_string(),
            });
        }
        let meant = Cidr {
            network: Ipv4Addr::from(u32::from(network) & mask_bits(prefix)),
            prefix,
        };
        if meant.network != network {
            return Err(CidrError::HostBitsSet { input, meant });
        }
        Ok(meant)
    }

    /// True if `ip` is inside this network (network and broadcast addresses included).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask_bits(self.prefix) == u32::from(self.network)
    }

    /// The netmask, e.g. 255.255.255.0 for /24.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask_bits(self.prefix))
    }

    /// The broadcast address (the last address of the network).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask_bits(self.prefix))
    }

    /// True if the two networks share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    /// True if the network has distinct network and broadcast addresses that
    /// clients must not be given. /31 (RFC 3021) and /32 use every address.
    pub fn has_reserved_ends(&self) -> bool {
        self.prefix <= 30
    }
}

/// The mask with the top `prefix` bits set. Shifting a u32 by 32 overflows,
/// hence the special case for /0.
fn mask_bits(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p if p >= 32 => u32::MAX,
        p => u32::MAX << (32 - u32::from(p)),
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    /// Parses `192.0.2.0/24`. Host bits must be clear.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let input = s.trim();
        let (address, prefix) = input
            .split_once('/')
            .ok_or_else(|| CidrError::MissingPrefix(input.to_string()))?;
        let network: Ipv4Addr = address.parse().map_err(|_| CidrError::BadAddress {
            input: input.to_string(),
            address: address.to_string(),
        })?;
        let bad_prefix = || CidrError::BadPrefix {
            input: input.to_string(),
            prefix: prefix.to_string(),
        };
        // `u8::from_str` accepts a leading `+`; a prefix is plain digits.
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_prefix());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad_prefix())?;
        if prefix > 32 {
            return Err(bad_prefix());
        }
        Cidr::new(network, prefix).map_err(|e| match e {
            CidrError::HostBitsSet { meant, .. } => CidrError::HostBitsSet {
                input: input.to_string(),
                meant,
            },
            other => other,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// An inclusive address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Range {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address (inclusive).
    pub end: Ipv4Addr,
}

impl Range {
    /// True if `ip` is in the range.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.start <= ip && ip <= self.end
    }

    /// Number of addresses (a u64 because 0.0.0.0-255.255.255.255 has 2^32).
    pub fn len(&self) -> u64 {
        let (start, end) = (
            u64::from(u32::from(self.start)),
            u64::from(u32::from(self.end)),
        );
        if start > end { 0 } else { end - start + 1 }
    }

    /// True if the range holds no address (start after end; never true in a
    /// validated configuration).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if the two ranges share any address.
    pub fn overlaps(&self, other: &Range) -> bool {
        !self.is_empty() && !other.is_empty() && self.start <= other.end && other.start <= self.end
    }

    /// The addresses in order.
    pub fn iter(&self) -> RangeIter {
        let (start, end) = (u32::from(self.start), u32::from(self.end));
        RangeIter {
            // An empty `RangeInclusive` for a reversed range, so it yields nothing.
            inner: start..=end,
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl IntoIterator for &Range {
    type Item = Ipv4Addr;
    type IntoIter = RangeIter;
    fn into_iter(self) -> RangeIter {
        self.iter()
    }
}

/// Iterator over the addresses of a [`Range`].
#[derive(Debug, Clone)]
pub struct RangeIter {
    inner: std::ops::RangeInclusive<u32>,
}

impl Iterator for RangeIter {
    type Item = Ipv4Addr;
    fn next(&mut self) -> Option<Ipv4Addr> {
        self.inner.next().map(Ipv4Addr::from)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for RangeIter {
    fn next_back(&mut self) -> Option<Ipv4Addr> {
        self.inner.next_back().map(Ipv4Addr::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_text_is_what_ipv4addr_shows() {
        let octets = [0u8, 1, 9, 10, 42, 99, 100, 199, 200, 255];
        for a in octets {
            for b in octets {
                let ip = Ipv4Addr::new(a, b, 255 - a, b / 3);
                assert_eq!(Dotted(ip).to_string(), ip.to_string());
                assert_eq!(Dotted(ip).text().as_str(), ip.to_string());
            }
        }
        let ip = Ipv4Addr::new(192, 0, 2, 1);
        assert_eq!(format!("[{:>12}]", Dotted(ip)), format!("[{ip:>12}]"));
    }
}
