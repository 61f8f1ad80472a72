//! Ethernet hardware addresses.

use std::fmt;
use std::str::FromStr;

/// An Ethernet hardware address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The text form, `aa:bb:cc:dd:ee:ff`, in a buffer on the stack. Written
    /// by hand rather than with `{:02x}` six times: a DORA shows its MAC
    /// several times (log line, store row, events) and the formatting
    /// machinery cost more than the rest of deciding the reply.
    pub fn text(&self) -> MacText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [b':'; 17];
        for (i, b) in self.0.iter().enumerate() {
            buf[i * 3] = HEX[usize::from(b >> 4)];
            buf[i * 3 + 1] = HEX[usize::from(b & 0xf)];
        }
        MacText(buf)
    }
}

/// A MAC address's text (see [`MacAddr::text`]).
#[derive(Clone, Copy)]
pub struct MacText([u8; 17]);

impl MacText {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and colons are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.text().as_str())
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

    #[test]
    fn the_text_is_lowercase_hex_pairs_for_every_byte_and_pads_as_a_str() {
        for b in 0..=255u8 {
            let m = MacAddr([b, 0, 0x5e, b, 0xff, b]);
            let want = format!("{b:02x}:00:5e:{b:02x}:ff:{b:02x}");
            assert_eq!(m.to_string(), want);
            assert_eq!(m.text().as_str(), want);
            assert_eq!(m.to_string().parse::<MacAddr>(), Ok(m));
        }
        let m = MacAddr([2, 0, 0, 0, 0, 1]);
        assert_eq!(format!("[{m:>19}]"), "[  02:00:00:00:00:01]");
        assert_eq!(format!("[{m:<18}]"), "[02:00:00:00:00:01 ]");
    }
}
