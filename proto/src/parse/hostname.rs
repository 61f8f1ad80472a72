//! Host names: RFC 952 as relaxed by RFC 1123 section 2.1.

/// The longest host name, in characters (255 octets on the wire, less the
/// length byte of the first label and the root's zero byte).
pub const MAX_HOSTNAME_LEN: usize = 253;

/// The longest label (the part between two dots), in characters.
pub const MAX_LABEL_LEN: usize = 63;

/// Why a string is not a host name. Every message names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
    /// Nothing at all.
    #[error("a host name must not be empty")]
    Empty,
    /// Longer than [`MAX_HOSTNAME_LEN`].
    #[error("host name `{name}` is too long: {len} characters, at most {MAX_HOSTNAME_LEN}")]
    TooLong {
        /// The name.
        name: String,
        /// Its length in characters.
        len: usize,
    },
    /// A character other than a letter, digit, `-` or `.`.
    #[error(
        "host name `{name}` contains {shown}: a host name holds only letters, digits, `-` and `.`"
    )]
    BadChar {
        /// The name.
        name: String,
        /// The character, quoted for the message (`_`, or U+0009 for a tab).
        shown: String,
    },
    /// Two dots in a row, or a dot at either end.
    #[error("host name `{name}` has an empty label: dots go only between labels")]
    EmptyLabel {
        /// The name.
        name: String,
    },
    /// A label longer than [`MAX_LABEL_LEN`].
    #[error(
        "host name `{name}` has a label of {len} characters (`{label}`), at most {MAX_LABEL_LEN}"
    )]
    LongLabel {
        /// The name.
        name: String,
        /// The label.
        label: String,
        /// Its length.
        len: usize,
    },
    /// A label that starts or ends with `-`.
    #[error("host name `{name}` has the label `{label}`, which {edge} with `-`")]
    Hyphen {
        /// The name.
        name: String,
        /// The label.
        label: String,
        /// "starts" or "ends".
        edge: &'static str,
    },
    /// A last label of digits only, which reads like an address.
    #[error(
        "host name `{name}` ends in the all-digit label `{label}`, which reads like an address"
    )]
    NumericLast {
        /// The name.
        name: String,
        /// The last label.
        label: String,
    },
}

/// Checks a host name against the [module rules](crate::parse). The name is
/// taken as given: callers trim operator input first if they want to.
pub fn check_hostname(name: &str) -> Result<(), HostnameError> {
    let owned = || name.to_string();
    if name.is_empty() {
        return Err(HostnameError::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        let shown = if c.is_control() || c.is_whitespace() {
            format!("U+{:04X}", u32::from(c))
        } else {
            format!("`{c}`")
        };
        return Err(HostnameError::BadChar {
            name: owned(),
            shown,
        });
    }
    // Only ASCII is left, so bytes are characters.
    if name.len() > MAX_HOSTNAME_LEN {
        return Err(HostnameError::TooLong {
            name: owned(),
            len: name.len(),
        });
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(HostnameError::EmptyLabel { name: owned() });
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(HostnameError::LongLabel {
                name: owned(),
                label: label.to_string(),
                len: label.len(),
            });
        }
        let edge = if label.starts_with('-') {
            Some("starts")
        } else if label.ends_with('-') {
            Some("ends")
        } else {
            None
        };
        if let Some(edge) = edge {
            return Err(HostnameError::Hyphen {
                name: owned(),
                label: label.to_string(),
                edge,
            });
        }
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HostnameError::NumericLast {
            name: owned(),
            label: last.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::examples::HOSTNAMES;

    #[test]
    fn the_examples_hold() {
        for (name, ok) in HOSTNAMES {
            assert_eq!(check_hostname(name).is_ok(), *ok, "{name:?}");
        }
    }

    #[test]
    fn errors_name_the_input_and_the_problem() {
        let long_label = "a".repeat(64);
        let long_name = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
        ]
        .join(".");
        let cases = [
            ("", "a host name must not be empty".to_string()),
            ("my_host", "host name `my_host` contains `_`".to_string()),
            ("a b", "host name `a b` contains U+0020".to_string()),
            ("a..b", "host name `a..b` has an empty label".to_string()),
            (".a", "has an empty label".to_string()),
            ("a.", "has an empty label".to_string()),
            ("-a", "the label `-a`, which starts with `-`".to_string()),
            ("a.b-", "the label `b-`, which ends with `-`".to_string()),
            (&long_label, "has a label of 64 characters".to_string()),
            (
                &long_name,
                "is too long: 255 characters, at most 253".to_string(),
            ),
            ("10.0.0.1", "ends in the all-digit label `1`".to_string()),
        ];
        for (name, want) in cases {
            let got = check_hostname(name).unwrap_err().to_string();
            assert!(got.contains(&want), "{name:?}: {got}");
        }
    }

    #[test]
    fn limits_are_inclusive() {
        assert_eq!(check_hostname(&"a".repeat(MAX_LABEL_LEN)), Ok(()));
        let name = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(name.len(), MAX_HOSTNAME_LEN);
        assert_eq!(check_hostname(&name), Ok(()));
    }
}
