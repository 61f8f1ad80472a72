//! Durations: plain seconds or `1h30m`-style strings.

/// What a duration looks like, for error messages and help texts.
pub const DURATION_HELP: &str =
    "like \"90s\", \"30m\", \"2h\", \"1d\", \"1w\", \"1h30m\", or plain seconds";

/// The units, largest first, with their length in seconds.
const UNITS: [(char, u64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Why a string is not a duration. Every message names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but spaces.
    #[error("a duration must not be empty (write one {DURATION_HELP})")]
    Empty,
    /// A leading minus sign.
    #[error("`{input}` is not a duration: it is negative")]
    Negative {
        /// The whole input.
        input: String,
    },
    /// A decimal point or comma, as in `1.5h`.
    #[error("`{input}` is not a duration: use whole numbers, like \"1h30m\" for 1.5h")]
    Fraction {
        /// The whole input.
        input: String,
    },
    /// A unit other than w, d, h, m, s, or some other character.
    #[error(
        "`{input}` is not a duration: unknown unit `{unit}` (units are w, d, h, m and s; write one {DURATION_HELP})"
    )]
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The unit as written.
        unit: String,
    },
    /// A unit with no number before it, as in `h` or `1hm`.
    #[error("`{input}` is not a duration: the unit `{unit}` has no number before it")]
    MissingNumber {
        /// The whole input.
        input: String,
        /// The unit as written.
        unit: String,
    },
    /// A number after the first part with no unit, as in `1h30`.
    #[error(
        "`{input}` is not a duration: the number `{number}` at the end has no unit (like \"1h30m\")"
    )]
    MissingUnit {
        /// The whole input.
        input: String,
        /// The number without a unit.
        number: String,
    },
    /// A unit repeated or out of order, as in `1m30m` or `30m1h`.
    #[error("`{input}` is not a duration: write each unit once, largest first, like \"1h30m\"")]
    Order {
        /// The whole input.
        input: String,
    },
    /// More seconds than the caller can keep.
    #[error("`{input}` is too long: a duration is at most {max} seconds")]
    TooLong {
        /// The whole input.
        input: String,
        /// The longest duration the caller accepts, in seconds.
        max: u64,
    },
}

/// Parses a duration (see the [module rules](crate::parse)) into seconds.
pub fn parse_duration(input: &str) -> Result<u64, DurationError> {
    let too_long = || DurationError::TooLong {
        input: input.to_string(),
        max: u64::MAX,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative {
            input: input.to_string(),
        });
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| too_long());
    }
    let mut total: u64 = 0;
    let mut last_rank: Option<usize> = None;
    let mut rest = text;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, after) = rest.split_at(digits_end);
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        rest = after.trim_start();
        if unit.is_empty() {
            return Err(DurationError::MissingUnit {
                input: input.to_string(),
                number: digits.to_string(),
            });
        }
        if unit.starts_with(['.', ',']) {
            return Err(DurationError::Fraction {
                input: input.to_string(),
            });
        }
        let rank = single_char(unit)
            .and_then(|c| UNITS.iter().position(|(u, _)| *u == c.to_ascii_lowercase()))
            .ok_or_else(|| DurationError::UnknownUnit {
                input: input.to_string(),
                unit: unit.to_string(),
            })?;
        if digits.is_empty() {
            return Err(DurationError::MissingNumber {
                input: input.to_string(),
                unit: unit.to_string(),
            });
        }
        if last_rank.is_some_and(|last| rank <= last) {
            return Err(DurationError::Order {
                input: input.to_string(),
            });
        }
        let n: u64 = digits.parse().map_err(|_| too_long())?;
        total = n
            .checked_mul(UNITS[rank].1)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(too_long)?;
        last_rank = Some(rank);
    }
    Ok(total)
}

fn single_char(s: &str) -> Option<char> {
    let mut chars = s.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

/// Seconds as the shortest duration string [`parse_duration`] reads back:
/// 5400 -> "1h30m", 0 -> "0s". Weeks are not used (an operator reads "8d"
/// faster than "1w1d").
pub fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in &UNITS[1..] {
        if rest >= *size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::examples::DURATIONS;

    #[test]
    fn the_examples_hold() {
        for (text, want) in DURATIONS {
            assert_eq!(parse_duration(text).ok(), *want, "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_input_and_the_problem() {
        let cases = [
            ("", "a duration must not be empty"),
            ("-5", "`-5` is not a duration: it is negative"),
            ("1.5h", "`1.5h` is not a duration: use whole numbers"),
            ("5y", "`5y` is not a duration: unknown unit `y`"),
            ("30 seconds", "unknown unit `seconds`"),
            (
                "h",
                "`h` is not a duration: the unit `h` has no number before it",
            ),
            ("1h30", "the number `30` at the end has no unit"),
            ("1m1h", "write each unit once, largest first"),
            ("1h1h", "write each unit once, largest first"),
            (
                "99999999999999999999w",
                "`99999999999999999999w` is too long",
            ),
            ("99999999999999999999", "is too long"),
        ];
        for (text, want) in cases {
            let got = parse_duration(text).map(|_| ()).unwrap_err().to_string();
            assert!(got.contains(want), "{text:?}: {got}");
        }
    }

    #[test]
    fn format_reads_back() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(93_601), "1d2h1s");
        assert_eq!(format_duration(604_800), "7d");
        for secs in [
            0,
            1,
            59,
            60,
            61,
            3599,
            3600,
            86_399,
            86_400,
            1_000_000,
            u64::from(u32::MAX),
        ] {
            assert_eq!(parse_duration(&format_duration(secs)), Ok(secs));
        }
    }
}
