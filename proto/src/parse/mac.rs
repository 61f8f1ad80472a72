//! Ethernet hardware addresses.

use std::fmt;
use std::str::FromStr;

/// An Ethernet hardware address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a string is not a MAC address. Every message names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadMac {
    /// Not six parts between `:` or `-`.
    #[error(
        "`{input}` is not a MAC address: {parts} part(s), expected six hex pairs like 02:00:5e:10:00:01"
    )]
    Parts {
        /// The whole input.
        input: String,
        /// How many parts it had.
        parts: usize,
    },
    /// A part that is not two hex digits.
    #[error("`{input}` is not a MAC address: `{part}` is not a hex pair like 5e")]
    Pair {
        /// The whole input.
        input: String,
        /// The offending part.
        part: String,
    },
}

impl FromStr for MacAddr {
    type Err = BadMac;
    /// Accepts `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff`, any case,
    /// surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(BadMac::Parts {
                input: s.to_string(),
                parts: parts.len(),
            });
        }
        let mut out = [0u8; 6];
        for (slot, part) in out.iter_mut().zip(parts) {
            let pair = part.len() == 2 && part.bytes().all(|b| b.is_ascii_hexdigit());
            *slot = pair
                .then(|| u8::from_str_radix(part, 16).ok())
                .flatten()
                .ok_or_else(|| BadMac::Pair {
                    input: s.to_string(),
                    part: part.to_string(),
                })?;
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::examples::MACS;

    #[test]
    fn the_examples_hold() {
        for (text, want) in MACS {
            let got = text.parse::<MacAddr>().ok().map(|m| m.to_string());
            assert_eq!(got.as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_input_and_the_problem() {
        let cases = [
            (
                "02:00:5e:10:00",
                "`02:00:5e:10:00` is not a MAC address: 5 part(s)",
            ),
            ("02:00:5e:10:00:zz", "`zz` is not a hex pair"),
            ("02:00:5e:10:00:+1", "`+1` is not a hex pair"),
            ("02:00:5e:10:00:1", "`1` is not a hex pair"),
        ];
        for (text, want) in cases {
            let got = text.parse::<MacAddr>().unwrap_err().to_string();
            assert!(got.contains(want), "{text:?}: {got}");
        }
    }
}
