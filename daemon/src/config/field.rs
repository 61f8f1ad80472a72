//! The leaves every section shares: addresses, ranges, durations, lease
//! bounds and `options` tables, each parsed or reported at its span.

use std::net::Ipv4Addr;
use std::ops::Range as Span;

use berth_proto::parse;
use toml::Spanned;

use super::Reporter;
use super::raw::{RawDuration, RawOptions, RawRange};
use crate::addr::{Cidr, Range};
use crate::options::{self, Catalogue, OptionError, Options, Space, Value, VendorOptions};

/// Parse an IPv4 address, reporting `field: ...` at its span.
pub(super) fn ip(
    report: &mut Reporter<'_>,
    field: &str,
    value: &Spanned<String>,
) -> Option<Ipv4Addr> {
    match value.get_ref().trim().parse() {
        Ok(ip) => Some(ip),
        Err(_) => {
            report.error(
                value.span(),
                format!("{field}: `{}` is not an IPv4 address", value.get_ref()),
            );
            None
        }
    }
}

/// Parse a duration string (berth-proto's rule, shared with the ctl) into
/// the seconds a config field holds.
pub(super) fn parse_duration(text: &str) -> Result<u32, String> {
    let secs = parse::parse_duration(text).map_err(|e| e.to_string())?;
    u32::try_from(secs).map_err(|_| {
        parse::DurationError::TooLong {
            input: text.to_string(),
            max: u32::MAX.into(),
        }
        .to_string()
    })
}

/// Seconds as the shortest duration string: 5400 -> "1h30m".
pub(super) fn human(secs: u32) -> String {
    parse::format_duration(secs.into())
}

/// Parse a duration field, reporting `field: ...` at its span.
pub(super) fn duration(
    report: &mut Reporter<'_>,
    field: &str,
    value: &Spanned<RawDuration>,
) -> Option<u32> {
    let parsed = match value.get_ref() {
        RawDuration::Seconds(s) if *s < 0 => Err(format!("{s} is negative")),
        RawDuration::Seconds(s) => u32::try_from(*s).map_err(|_| {
            format!("{s} seconds is too long: a duration is at most 4294967295 seconds")
        }),
        RawDuration::Text(t) => parse_duration(t),
    };
    parsed
        .map_err(|e| report.error(value.span(), format!("{field}: {e}")))
        .ok()
}

/// A lease time that must be at least one second.
pub(super) fn lease(
    report: &mut Reporter<'_>,
    field: &str,
    value: &Spanned<RawDuration>,
) -> Option<u32> {
    match duration(report, field, value)? {
        0 => {
            report.error(
                value.span(),
                format!("{field}: a lease must last at least 1s"),
            );
            None
        }
        secs => Some(secs),
    }
}

/// A lease bound in one scope (server or subnet), for the ordering rule.
pub(super) struct Bound {
    pub name: &'static str,
    pub secs: u32,
    /// Where it was set in the scope being checked; None if it is a default
    /// or inherited from `[server]`.
    pub span: Option<Span<usize>>,
    pub inherited: bool,
}

impl Bound {
    fn describe(&self) -> String {
        if self.inherited {
            format!("{} ({}, from [server])", self.name, human(self.secs))
        } else {
            format!("{} ({})", self.name, human(self.secs))
        }
    }
}

/// Report if `lo` > `hi` (min_lease <= default_lease <= max_lease), at
/// whichever of the two was written in this scope. If neither was, the
/// scope that did write them reports it.
pub(super) fn order(report: &mut Reporter<'_>, lo: &Bound, hi: &Bound) {
    if lo.secs <= hi.secs {
        return;
    }
    if let Some(span) = lo.span.clone().or_else(|| hi.span.clone()) {
        report.error(
            span,
            format!("{} is longer than {}", lo.describe(), hi.describe()),
        );
    }
}

/// Parse an `options` table against the catalogue, in file order: DHCP
/// options (built-in and `[[option_def]]`) and, written `space.name`,
/// options in vendor spaces.
pub(super) fn option_set(
    raw: Option<&RawOptions>,
    cat: &Catalogue,
    report: &mut Reporter<'_>,
) -> (Options<Value>, VendorOptions) {
    let mut vendor = VendorOptions::new();
    let Some(raw) = raw else {
        return (Options::new(), vendor);
    };
    let mut entries: Vec<_> = raw.iter().collect();
    // The map is ordered by name; the wire order should follow the file.
    entries.sort_by_key(|(name, _)| name.span().start);
    let mut set = Options::new();
    for (name, value) in entries {
        let value_error = |report: &mut Reporter<'_>, shown: &str, e: options::ParseError| {
            let span = e
                .element
                .and_then(|i| value.get_ref().elements.get(i).cloned())
                .unwrap_or_else(|| value.span());
            report.error(span, format!("option `{shown}`: {}", e.message));
        };
        if let Some((space, def)) = cat.lookup(name.get_ref())
            && (space != Space::Dhcp || options::by_name(name.get_ref()).is_none())
        {
            // A vendor-space option, or a custom DHCP one.
            match options::parse(def, &value.get_ref().value) {
                Ok(parsed) => match space {
                    Space::Dhcp => set.set(def.code, parsed),
                    Space::Vendor(space) => vendor.entry(space).or_default().set(def.code, parsed),
                },
                Err(e) => value_error(report, name.get_ref(), e),
            }
            continue;
        }
        if let Some((space, option)) = name.get_ref().split_once('.') {
            let message = if cat.has_space(space) {
                format!("option space `{space}` has no option `{option}`")
            } else {
                format!("unknown option space `{space}` (define it in [option_space.{space}])")
            };
            report.error(name.span(), message);
            continue;
        }
        match options::parse_named(name.get_ref(), &value.get_ref().value) {
            Ok((code, parsed)) => set.set(code, parsed),
            Err(OptionError::Unknown { suggestion }) => {
                let hint = match suggestion {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None => " (option names follow ISC dhcp-options(5))".to_string(),
                };
                report.error(
                    name.span(),
                    format!("unknown option `{}`{hint}", name.get_ref()),
                );
            }
            Err(OptionError::ServerSet(def, set)) => {
                report.error(name.span(), OptionError::server_set_message(def, set));
            }
            Err(OptionError::Value(def, e)) => value_error(report, &def.name, e),
        }
    }
    (set, vendor)
}

/// Check one `[start, end]`; returns it if it parsed and is in order.
pub(super) fn range(
    report: &mut Reporter<'_>,
    spec: &RawRange,
    cidr: Option<Cidr>,
) -> Option<Range> {
    let [start, end] = spec.get_ref().as_slice() else {
        report.error(
            spec.span(),
            format!(
                "range: expected [start, end] (2 addresses), found {} address{}",
                spec.get_ref().len(),
                if spec.get_ref().len() == 1 { "" } else { "es" }
            ),
        );
        return None;
    };
    let start = ip(report, "range", start);
    let end = ip(report, "range", end);
    let (start, end) = (start?, end?);
    let range = Range { start, end };
    if start > end {
        report.error(
            spec.span(),
            format!("range: start {start} is after end {end}"),
        );
        return None;
    }
    if let Some(cidr) = cidr {
        if !cidr.contains(start) || !cidr.contains(end) {
            report.error(
                spec.span(),
                format!("range {range} is not inside subnet {cidr}"),
            );
        } else if cidr.has_reserved_ends() {
            // Handing out these would break every client on the subnet.
            if range.contains(cidr.network) {
                report.error(
                    spec.span(),
                    format!(
                        "range {range} includes the network address {} of subnet {cidr}",
                        cidr.network
                    ),
                );
            }
            if range.contains(cidr.broadcast()) {
                report.error(
                    spec.span(),
                    format!(
                        "range {range} includes the broadcast address {} of subnet {cidr}",
                        cidr.broadcast()
                    ),
                );
            }
        }
    }
    Some(range)
}
