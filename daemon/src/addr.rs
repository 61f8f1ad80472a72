//! Address types: hardware addresses, IPv4 networks and address ranges.
//!
//! A leaf module: everything else may use it, it uses nothing of the crate.
//! [`MacAddr`] is berth-proto's, shared with the ctl and the TUI.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
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

/// Hashing for maps keyed by addresses the server picks itself: pool and
/// host addresses from the configuration, and leases on them. Two
/// multiplications and folds instead of SipHash, which resists keys chosen
/// to collide and costs a DORA's address lookups some 1-2 % of its
/// instructions for it; keys here come from configured ranges, not from
/// what clients send. Maps keyed by what clients send (client ids, MACs)
/// keep a seeded SipHash.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddrHash;

/// The hasher of [`AddrHash`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AddrHasher(u64);

/// An odd 64-bit constant (2^64 / the golden ratio): the product's high
/// half depends on every bit of the key.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl AddrHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(29) ^ word).wrapping_mul(GOLDEN);
    }
}

impl BuildHasher for AddrHash {
    type Hasher = AddrHasher;
    fn build_hasher(&self) -> AddrHasher {
        AddrHasher(0)
    }
}

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, v: u32) {
        // `Ipv4Addr` hashes its octets as one native-endian u32.
        self.mix(u64::from(v));
    }

    fn finish(&self) -> u64 {
        // hashbrown picks the bucket by the low bits and tags it with the
        // top seven, so every output bit must depend on every key bit: one
        // fold and multiplication more spread a range's neighbours as a
        // random function would (the test below).
        let h = (self.0 ^ (self.0 >> 32)).wrapping_mul(GOLDEN);
        h ^ (h >> 32)
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

    #[test]
    fn addresses_of_a_range_spread_over_buckets_and_tags() {
        // A /16 in a table of 65,536 buckets (hashbrown takes the low bits):
        // as many distinct buckets as a random function gives (1 - 1/e of
        // them, 63 %), whichever way the octets reach the hasher.
        let spread = |hash: &dyn Fn(u8, u8) -> u64| {
            let mut buckets = std::collections::HashSet::new();
            let mut tags = std::collections::HashSet::new();
            for n in 0..=u16::MAX {
                let [hi, lo] = n.to_be_bytes();
                let h = hash(hi, lo);
                buckets.insert(h & 0xffff);
                tags.insert(h >> 57);
            }
            (buckets.len(), tags.len())
        };
        let by_addr = |hi, lo| AddrHash.hash_one(Ipv4Addr::new(10, 20, hi, lo));
        let by_number = |hi, lo| AddrHash.hash_one(u32::from(Ipv4Addr::new(10, 20, hi, lo)));
        let by_bytes = |hi, lo| {
            let mut h = AddrHash.build_hasher();
            h.write(&[10, 20, hi, lo]);
            h.finish()
        };
        for (name, hash) in [
            ("Ipv4Addr", &by_addr as &dyn Fn(u8, u8) -> u64),
            ("u32", &by_number),
            ("bytes", &by_bytes),
        ] {
            let (buckets, tags) = spread(hash);
            assert!(buckets > 62 * 65_536 / 100, "{name}: {buckets} buckets");
            assert_eq!(tags, 128, "{name}: {tags} of 128 tags");
        }
    }
}
