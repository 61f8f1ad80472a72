//! From the raw document to a [`Config`]: parse every leaf, check every rule,
//! and report every problem found (not just the first).
//!
//! Checks that compare entries (duplicates, overlaps) only consider entries
//! whose own values parsed, so one typo does not cascade into a page of
//! follow-on errors; each message about a clash names both parties and the
//! line of the first.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::net::Ipv4Addr;
use std::ops::Range as Span;
use std::path::Path;

use berth_proto::parse;
use toml::Spanned;

use super::boot::boot_fields;
use super::class;
use super::pool::{self, RangePolicy};
use super::raw::{RawConfig, RawDuration, RawHost, RawOptions, RawRange, RawSubnet};
use super::{Config, Host, HostId, Reporter, ServerConfig, Subnet};
use crate::addr::MacAddr;
use crate::addr::{Cidr, Range};
use crate::options::code;
use crate::options::{self, Catalogue, OptionError, Options, Space, Value, VendorOptions};

/// Build the validated configuration. The result is only meaningful if
/// nothing was reported.
pub(super) fn build(raw: RawConfig, source: &Path, report: &mut Reporter<'_>) -> Config {
    let log = raw.server.as_ref().map_or_else(Default::default, |s| {
        super::log::build(s.log.as_ref(), s.syslog_socket.as_ref(), report)
    });
    let hook_config = super::hooks::build(&raw.hook, raw.hooks.as_ref(), report);
    let catalogue = class::catalogue(raw.option_spaces.as_ref(), &raw.option_defs, report);
    let server = super::server::build(raw.server, report);
    let (options, vendor) = option_set(raw.options.as_ref(), &catalogue, report);
    // Pools name classes before `[[class]]` entries are validated: the
    // names as written are enough to check against.
    let class_names: Vec<String> = raw
        .classes
        .iter()
        .map(|(_, c)| c.name.get_ref().trim().to_string())
        .collect();
    let pools = subnets(&raw.subnets, &server, &catalogue, &class_names, report);
    let hosts = hosts(&raw.hosts, &pools, &catalogue, report);
    let classes = class::classes(&raw.classes, &catalogue, report);
    let mut config =
        Config::from_parts(source.to_path_buf(), server, options, pools.subnets, hosts);
    config.catalogue = catalogue;
    config.vendor = vendor;
    config.classes = classes;
    config.limits = super::limits::build(raw.limits.as_ref(), report);
    config.webhooks = super::webhook::build(&raw.webhooks, report);
    config.hooks = hook_config;
    config.metrics = super::metrics::build(raw.metrics.as_ref(), report);
    config.log = log;
    config
}

// ---------------------------------------------------------------- leaves

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

// ---------------------------------------------------------------- [[subnet]]

/// The subnets that validated, with the spans later checks point at.
struct Pools {
    subnets: Vec<Subnet>,
    /// Span of each subnet's `cidr`, parallel to `subnets`.
    cidr_spans: Vec<Span<usize>>,
    /// Span of each range, parallel to `subnets[i].ranges`.
    range_spans: Vec<Vec<Span<usize>>>,
    /// False if some subnet's CIDR did not parse: then "outside every subnet"
    /// cannot be decided and is not reported.
    complete: bool,
}

impl Pools {
    /// Every dynamic range with its span.
    fn ranges(&self) -> impl Iterator<Item = (&Range, &Span<usize>)> {
        self.subnets
            .iter()
            .zip(&self.range_spans)
            .flat_map(|(s, spans)| s.ranges.iter().zip(spans))
    }
}

fn subnets(
    raw: &[(Span<usize>, RawSubnet)],
    server: &ServerConfig,
    cat: &Catalogue,
    class_names: &[String],
    report: &mut Reporter<'_>,
) -> Pools {
    let mut pools = Pools {
        subnets: Vec::new(),
        cidr_spans: Vec::new(),
        range_spans: Vec::new(),
        complete: true,
    };
    for (_, rs) in raw {
        let cidr = match rs.cidr.get_ref().parse::<Cidr>() {
            Ok(cidr) => Some(cidr),
            Err(e) => {
                report.error(rs.cidr.span(), format!("cidr: {e}"));
                pools.complete = false;
                None
            }
        };

        // `range` is sugar for a one-element `ranges`.
        let mut written: Vec<&RawRange> = Vec::new();
        if let Some(r) = &rs.range {
            written.push(r);
        }
        if let Some(rs_) = &rs.ranges {
            if rs.range.is_some() {
                report.error(rs_.span(), "set either `range` or `ranges`, not both");
            }
            written.extend(rs_.get_ref());
        }
        let mut ranges = Vec::new();
        let mut spans = Vec::new();
        let mut policies = Vec::new();
        for spec in written {
            if let Some(r) = range(report, spec, cidr) {
                ranges.push(r);
                spans.push(spec.span());
                policies.push(RangePolicy::open(r));
            }
        }
        let raw_pools = rs.pool.as_deref().unwrap_or_default();
        for w in pool::pools(raw_pools, cidr, cat, class_names, report) {
            ranges.push(w.policy.range);
            spans.push(w.span);
            policies.push(w.policy);
        }

        let default_lease = rs
            .default_lease
            .as_ref()
            .and_then(|v| lease(report, "default_lease", v));
        let max_lease = rs
            .max_lease
            .as_ref()
            .and_then(|v| lease(report, "max_lease", v));
        let min = Bound {
            name: "min_lease",
            secs: server.min_lease,
            span: None,
            inherited: true,
        };
        let scoped =
            |name, own: Option<u32>, field: &Option<Spanned<RawDuration>>, inherit| Bound {
                name,
                secs: own.unwrap_or(inherit),
                span: own.and(field.as_ref().map(Spanned::span)),
                inherited: own.is_none(),
            };
        let default = scoped(
            "default_lease",
            default_lease,
            &rs.default_lease,
            server.default_lease,
        );
        let max = scoped("max_lease", max_lease, &rs.max_lease, server.max_lease);
        order(report, &min, &default);
        order(report, &default, &max);

        let (next_server, file, server_name) =
            boot_fields(report, [&rs.next_server, &rs.filename, &rs.server_name]);
        let (options, vendor) = option_set(rs.options.as_ref(), cat, report);

        let max_offers = super::offers::max_offers(rs.max_offers.as_ref(), &ranges, report);
        if let Some(cidr) = cidr {
            pools.subnets.push(Subnet {
                cidr,
                ranges,
                options,
                default_lease,
                max_lease,
                next_server,
                filename: file,
                server_name,
                vendor,
                policies,
                max_offers,
            });
            pools.cidr_spans.push(rs.cidr.span());
            pools.range_spans.push(spans);
        }
    }

    // Overlapping subnets: pairwise, reported at the later one. Configs have
    // few subnets, so quadratic is fine.
    for j in 0..pools.subnets.len() {
        for i in 0..j {
            let (a, b) = (&pools.subnets[i], &pools.subnets[j]);
            if a.cidr.overlaps(&b.cidr) {
                let line = report.line(&pools.cidr_spans[i]);
                report.error(
                    pools.cidr_spans[j].clone(),
                    format!("subnet {} overlaps subnet {} (line {line})", b.cidr, a.cidr),
                );
            }
        }
    }

    // Overlapping ranges, across all subnets: sort by start and sweep,
    // comparing each range with the furthest-reaching one before it.
    let mut all: Vec<(Range, Span<usize>)> = pools.ranges().map(|(r, s)| (*r, s.clone())).collect();
    all.sort_by_key(|(r, s)| (r.start, s.start));
    let mut reach: Option<&(Range, Span<usize>)> = None;
    for current in &all {
        if let Some(widest) = reach {
            if current.0.start <= widest.0.end {
                // Report at whichever comes later in the file.
                let (first, later) = if widest.1.start < current.1.start {
                    (widest, current)
                } else {
                    (current, widest)
                };
                let line = report.line(&first.1);
                report.error(
                    later.1.clone(),
                    format!("range {} overlaps range {} (line {line})", later.0, first.0),
                );
            }
            if current.0.end > widest.0.end {
                reach = Some(current);
            }
        } else {
            reach = Some(current);
        }
    }
    pools
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

// ---------------------------------------------------------------- [[host]]

/// First claimant of a unique value: the host's name and where it claimed it.
type Claims<K> = HashMap<K, (String, Span<usize>)>;

/// Claim `key` for host `name`; if another host has it, report at `span`
/// with `what` (e.g. "MAC 00:..") naming both hosts and the first's line.
fn claim<K: Hash + Eq>(
    report: &mut Reporter<'_>,
    claims: &mut Claims<K>,
    key: K,
    what: &str,
    name: &str,
    span: Span<usize>,
) -> bool {
    match claims.entry(key) {
        Entry::Occupied(first) => {
            let (first_name, first_span) = first.get();
            let line = report.line(first_span);
            report.error(
                span,
                format!(
                    "{what} of host `{name}` is already used by host `{first_name}` (line {line})"
                ),
            );
            false
        }
        Entry::Vacant(slot) => {
            slot.insert((name.to_string(), span));
            true
        }
    }
}

fn hosts(
    raw: &[(Span<usize>, RawHost)],
    pools: &Pools,
    cat: &Catalogue,
    report: &mut Reporter<'_>,
) -> Vec<Host> {
    let mut names: HashMap<String, Span<usize>> = HashMap::new();
    let mut macs: Claims<MacAddr> = HashMap::new();
    let mut client_ids: Claims<Vec<u8>> = HashMap::new();
    let mut ips: Claims<Ipv4Addr> = HashMap::new();
    let mut hosts = Vec::new();

    for (entry_span, rh) in raw {
        let name = rh.name.get_ref().trim().to_string();
        if let Err(e) = parse::check_hostname(&name) {
            report.error(rh.name.span(), format!("name: {e}"));
        } else if let Some(first) = names.get(&name) {
            let line = report.line(first);
            report.error(
                rh.name.span(),
                format!("duplicate host name `{name}` (first defined on line {line})"),
            );
        } else {
            names.insert(name.clone(), rh.name.span());
        }

        let id = match (&rh.mac, &rh.client_id) {
            (Some(_), Some(cid)) => {
                report.error(
                    cid.span(),
                    format!("host `{name}` sets both `mac` and `client_id`; set exactly one"),
                );
                None
            }
            (None, None) => {
                report.error(
                    entry_span.clone(),
                    format!("host `{name}` needs a `mac` or a `client_id`"),
                );
                None
            }
            (Some(mac), None) => match mac.get_ref().trim().parse::<MacAddr>() {
                Ok(m) => claim(report, &mut macs, m, &format!("MAC {m}"), &name, mac.span())
                    .then_some(HostId::Mac(m)),
                Err(e) => {
                    report.error(mac.span(), format!("mac: {e}"));
                    None
                }
            },
            (None, Some(cid)) => match options::parse_hex(cid.get_ref()) {
                // RFC 2132 section 9.14: type byte plus at least one byte.
                Ok(bytes) if bytes.len() < 2 => {
                    report.error(
                        cid.span(),
                        "client_id: must be at least 2 bytes (a type byte and the identifier)",
                    );
                    None
                }
                Ok(bytes) => {
                    let shown = options::render(code::CLIENT_ID, &bytes);
                    claim(
                        report,
                        &mut client_ids,
                        bytes.clone(),
                        &format!("client_id {shown}"),
                        &name,
                        cid.span(),
                    )
                    .then_some(HostId::ClientId(bytes))
                }
                Err(e) => {
                    report.error(cid.span(), format!("client_id: {e}"));
                    None
                }
            },
        };

        let address = ip(report, "ip", &rh.ip);
        if let Some(addr) = address {
            check_host_ip(report, pools, &name, addr, rh.ip.span());
            claim(
                report,
                &mut ips,
                addr,
                &format!("address {addr}"),
                &name,
                rh.ip.span(),
            );
        }

        let (next_server, file, server_name) =
            boot_fields(report, [&rh.next_server, &rh.filename, &rh.server_name]);
        let (options, vendor) = option_set(rh.options.as_ref(), cat, report);

        if let (Some(id), Some(ip)) = (id, address) {
            hosts.push(Host {
                name,
                id,
                ip,
                options,
                next_server,
                filename: file,
                server_name,
                vendor,
            });
        }
    }
    hosts
}

/// A static address must be in a subnet we serve, must not be its network
/// or broadcast address, and must not be in a dynamic pool (or it could be
/// leased to someone else).
fn check_host_ip(
    report: &mut Reporter<'_>,
    pools: &Pools,
    name: &str,
    addr: Ipv4Addr,
    span: Span<usize>,
) {
    match pools.subnets.iter().find(|s| s.cidr.contains(addr)) {
        None if pools.complete => report.error(
            span.clone(),
            format!("host `{name}` address {addr} is not inside any subnet"),
        ),
        None => {}
        Some(subnet) if subnet.cidr.has_reserved_ends() && addr == subnet.cidr.network => report
            .error(
                span.clone(),
                format!(
                    "host `{name}` address {addr} is the network address of subnet {}",
                    subnet.cidr
                ),
            ),
        Some(subnet) if subnet.cidr.has_reserved_ends() && addr == subnet.cidr.broadcast() => {
            report.error(
                span.clone(),
                format!(
                    "host `{name}` address {addr} is the broadcast address of subnet {}",
                    subnet.cidr
                ),
            )
        }
        Some(_) => {}
    }
    // An address excluded from its range is not dynamic: a host may have it.
    let excluded = pools
        .subnets
        .iter()
        .flat_map(|s| &s.policies)
        .any(|p| p.excludes(addr));
    if let Some((range, range_span)) = pools
        .ranges()
        .find(|(r, _)| r.contains(addr))
        .filter(|_| !excluded)
    {
        let line = report.line(range_span);
        report.error(
            span,
            format!(
                "host `{name}` address {addr} is inside the dynamic range {range} (line {line}); \
                 a static address must be outside the pools"
            ),
        );
    }
}
