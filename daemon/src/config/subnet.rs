//! `[[subnet]]` entries: their ranges, pools, lease times and options, and
//! the overlaps between them.

use std::ops::Range as Span;

use toml::Spanned;

use super::boot::boot_fields;
use super::field::{Bound, lease, option_set, order, range};
use super::pool::{self, RangePolicy};
use super::raw::{RawDuration, RawRange, RawSubnet};
use super::{Reporter, ServerConfig, Subnet};
use crate::addr::{Cidr, Range};
use crate::options::Catalogue;

/// The subnets that validated, with the spans later checks point at.
pub(super) struct Pools {
    pub subnets: Vec<Subnet>,
    /// Span of each subnet's `cidr`, parallel to `subnets`.
    cidr_spans: Vec<Span<usize>>,
    /// Span of each range, parallel to `subnets[i].ranges`.
    range_spans: Vec<Vec<Span<usize>>>,
    /// False if some subnet's CIDR did not parse: then "outside every subnet"
    /// cannot be decided and is not reported.
    pub complete: bool,
}

impl Pools {
    /// Every dynamic range with its span.
    pub(super) fn ranges(&self) -> impl Iterator<Item = (&Range, &Span<usize>)> {
        self.subnets
            .iter()
            .zip(&self.range_spans)
            .flat_map(|(s, spans)| s.ranges.iter().zip(spans))
    }
}

/// Every `[[subnet]]` entry, then the overlaps between subnets and between
/// ranges.
pub(super) fn subnets(
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
