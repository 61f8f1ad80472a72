//! From the raw document to a [`Config`]: parse every leaf, check every rule,
//! and report every problem found (not just the first).
//!
//! Checks that compare entries (duplicates, overlaps) only consider entries
//! whose own values parsed, so one typo does not cascade into a page of
//! follow-on errors; each message about a clash names both parties and the
//! line of the first.
//!
//! The leaves every section shares are in `field`, the `[[subnet]]` and
//! `[[host]]` entries in `subnet` and `host`.

use std::path::Path;

use super::field::option_set;
use super::host::hosts;
use super::raw::RawConfig;
use super::subnet::subnets;
use super::{Config, Reporter, class};

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
