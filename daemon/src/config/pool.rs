//! `[[subnet.pool]]`: a dynamic range with its own policy (who may draw
//! from it, its lease time, its options, addresses left out of it), and its
//! validation. The plain `range`/`ranges` keys give ranges with the default
//! policy: any client, the subnet's lease times and options, nothing left out.

use std::net::Ipv4Addr;
use std::ops::Range as Span;

use toml::Spanned;

use super::Reporter;
use super::field::{ip, lease, option_set, range};
use super::raw_pool::RawPool;
use crate::addr::{Cidr, Range};
use crate::options::{Catalogue, Options, Value, VendorOptions};

/// Which clients a range is open to, by whether they have a static host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clients {
    /// Everyone (the default).
    #[default]
    Any,
    /// Clients with a host entry (config or store).
    Known,
    /// Clients without one: guests, a registration range.
    Unknown,
}

/// One dynamic range and its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangePolicy {
    /// The range.
    pub range: Range,
    /// Who may draw from it.
    pub clients: Clients,
    /// When not empty: only members of one of these classes may draw from it.
    pub classes: Vec<String>,
    /// The default and longest lease from this range; the subnet's times
    /// when `None`.
    pub lease: Option<u32>,
    /// Options for clients on an address of this range (the `range` scope:
    /// above the subnet's, below classes and hosts).
    pub options: Options<Value>,
    /// Its options in vendor spaces.
    pub vendor: VendorOptions,
    /// Parts of the range never given dynamically (reservations).
    pub exclude: Vec<Range>,
}

impl RangePolicy {
    /// `range` with the default policy.
    pub fn open(range: Range) -> Self {
        RangePolicy {
            range,
            clients: Clients::Any,
            classes: Vec::new(),
            lease: None,
            options: Options::new(),
            vendor: VendorOptions::new(),
            exclude: Vec::new(),
        }
    }

    /// Whether a client that is `known` (has a host entry) and a member of
    /// `classes` may draw from this range.
    pub fn admits(&self, known: bool, classes: &[&str]) -> bool {
        let by_host = match self.clients {
            Clients::Any => true,
            Clients::Known => known,
            Clients::Unknown => !known,
        };
        by_host
            && (self.classes.is_empty()
                || self.classes.iter().any(|c| classes.contains(&c.as_str())))
    }

    /// Whether `ip` is left out of the range.
    pub fn excludes(&self, ip: Ipv4Addr) -> bool {
        self.exclude.iter().any(|r| r.contains(ip))
    }

    /// Whether `ip` is one of the range's dynamic addresses.
    pub fn serves(&self, ip: Ipv4Addr) -> bool {
        self.range.contains(ip) && !self.excludes(ip)
    }
}

/// A validated `[[subnet.pool]]`, with the span of its range.
pub(super) struct Written {
    pub policy: RangePolicy,
    pub span: Span<usize>,
}

/// Validates a subnet's `[[subnet.pool]]` entries (`cidr` is None when the
/// subnet's own CIDR did not parse).
pub(super) fn pools(
    raw: &[Spanned<RawPool>],
    cidr: Option<Cidr>,
    cat: &Catalogue,
    class_names: &[String],
    report: &mut Reporter<'_>,
) -> Vec<Written> {
    raw.iter()
        .filter_map(|p| one(p.get_ref(), cidr, cat, class_names, report))
        .collect()
}

fn one(
    raw: &RawPool,
    cidr: Option<Cidr>,
    cat: &Catalogue,
    class_names: &[String],
    report: &mut Reporter<'_>,
) -> Option<Written> {
    let r = range(report, &raw.range, cidr);
    let clients = match raw.clients.as_ref().map(|c| (c.get_ref().trim(), c.span())) {
        None | Some(("any", _)) => Clients::Any,
        Some(("known", _)) => Clients::Known,
        Some(("unknown", _)) => Clients::Unknown,
        Some((other, span)) => {
            report.error(
                span,
                format!("clients: `{other}` is not one of \"any\", \"known\", \"unknown\""),
            );
            Clients::Any
        }
    };
    let mut classes = Vec::new();
    for c in raw.classes.iter().flat_map(|v| v.get_ref()) {
        let name = c.get_ref().trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            report.error(c.span(), format!("classes: `{name}` is not a class name"));
        } else if !class_names.iter().any(|n| n == name) {
            let defined = if class_names.is_empty() {
                "none".to_string()
            } else {
                class_names.join(", ")
            };
            report.error(
                c.span(),
                format!("classes: no [[class]] is named `{name}` (defined: {defined})"),
            );
        } else {
            classes.push(name.to_string());
        }
    }
    let lease = raw.lease.as_ref().and_then(|v| lease(report, "lease", v));
    let (options, vendor) = option_set(raw.options.as_ref(), cat, report);
    let mut exclude = Vec::new();
    for item in raw.exclude.iter().flatten() {
        if let Some(x) = excluded(report, item, r) {
            exclude.push(x);
        }
    }
    Some(Written {
        policy: RangePolicy {
            range: r?,
            clients,
            classes,
            lease,
            options,
            vendor,
            exclude,
        },
        span: raw.range.span(),
    })
}

/// One `exclude` element: `"a"` or `["a", "b"]`, inside `within`.
fn excluded(
    report: &mut Reporter<'_>,
    item: &Spanned<toml::Value>,
    within: Option<Range>,
) -> Option<Range> {
    let span = item.span();
    let text = |v: &toml::Value| {
        v.as_str()
            .map(|s| Spanned::new(span.clone(), s.to_string()))
    };
    let parsed = match item.get_ref() {
        toml::Value::String(_) => {
            let a = ip(report, "exclude", &text(item.get_ref())?)?;
            Range { start: a, end: a }
        }
        toml::Value::Array(pair) if pair.len() == 2 => {
            let (Some(a), Some(b)) = (text(&pair[0]), text(&pair[1])) else {
                report.error(span, "exclude: a range is [start, end] of two addresses");
                return None;
            };
            let (a, b) = (ip(report, "exclude", &a)?, ip(report, "exclude", &b)?);
            if a > b {
                report.error(span, format!("exclude: start {a} is after end {b}"));
                return None;
            }
            Range { start: a, end: b }
        }
        _ => {
            report.error(
                span,
                "exclude: expected an address (\"a\") or a range ([\"a\", \"b\"])",
            );
            return None;
        }
    };
    if let Some(w) = within
        && !(w.contains(parsed.start) && w.contains(parsed.end))
    {
        let shown = if parsed.start == parsed.end {
            parsed.start.to_string()
        } else {
            parsed.to_string()
        };
        report.error(
            span,
            format!("exclude: {shown} is not inside the pool's range {w}"),
        );
        return None;
    }
    Some(parsed)
}
