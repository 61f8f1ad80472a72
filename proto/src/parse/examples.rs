//! Inputs with their expected outcome under the [rules](crate::parse).
//!
//! berthd's config, its control operations, the ctl and the TUI each test
//! their own entry point against these lists, so a place that stops using
//! the shared parser (or wraps it with a rule of its own) is caught.

/// Durations and their length in seconds; `None` means refused.
pub const DURATIONS: &[(&str, Option<u64>)] = &[
    ("90s", Some(90)),
    ("30m", Some(1_800)),
    ("2h", Some(7_200)),
    ("1d", Some(86_400)),
    ("1w", Some(604_800)),
    ("1h30m", Some(5_400)),
    ("1w2d", Some(777_600)),
    ("1d 2h", Some(93_600)),
    ("1H", Some(3_600)),
    ("3600", Some(3_600)),
    ("0s", Some(0)),
    ("", None),
    ("h", None),
    ("5y", None),
    ("1x", None),
    ("1h30", None),
    ("1m1h", None),
    ("1h1h", None),
    ("30m30m", None),
    ("-5", None),
    ("1.5h", None),
    ("30 seconds", None),
    ("99999999999999999999w", None),
];

/// Host names and whether they are valid.
pub const HOSTNAMES: &[(&str, bool)] = &[
    ("laptop", true),
    ("Laptop-Anna", true),
    ("printer.office.example", true),
    ("3com", true),
    ("host-020000000001", true),
    ("", false),
    ("my_host", false),
    ("a b", false),
    ("-lead", false),
    ("trail-", false),
    ("a..b", false),
    (".a", false),
    ("a.", false),
    ("10.0.0.1", false),
    ("caf\u{e9}", false),
    (
        "a-label-of-sixty-four-characters-is-one-more-than-rfc-1123-allow",
        false,
    ),
];

/// MAC addresses and their normal form; `None` means refused.
pub const MACS: &[(&str, Option<&str>)] = &[
    ("02:00:5e:10:00:01", Some("02:00:5e:10:00:01")),
    ("02-00-5E-10-00-01", Some("02:00:5e:10:00:01")),
    (" 02:00:5e:10:00:01 ", Some("02:00:5e:10:00:01")),
    ("02:00:5e:10:00", None),
    ("02:00:5e:10:00:01:02", None),
    ("02:00:5e:10:00:zz", None),
    ("02:00:5e:10:00:1", None),
    ("0200.5e10.0001", None),
    ("", None),
];
