//! `[limits]` as written.

use toml::Spanned;

use super::raw::RawDuration;

/// `[limits]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [limits] table")]
pub(super) struct RawLimits {
    pub flood: Option<RawFlood>,
    pub renewal: Option<RawRenewal>,
    pub rate: Option<RawRate>,
    /// Relays (giaddr) whose packets are served: addresses or CIDRs; none
    /// when absent.
    pub relays: Option<Vec<Spanned<String>>>,
    /// Whether option 118 (subnet selection) picks the subnet.
    pub subnet_selection: Option<bool>,
}

/// `[limits.rate]`: packets per second.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [limits.rate] table")]
pub(super) struct RawRate {
    pub per_interface: Option<Spanned<i64>>,
    pub per_relay: Option<Spanned<i64>>,
    pub per_circuit: Option<Spanned<i64>>,
}

/// `[limits.flood]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [limits.flood] table")]
pub(super) struct RawFlood {
    pub packets: Spanned<i64>,
    pub window: Spanned<RawDuration>,
    pub ignore: Spanned<RawDuration>,
    pub track: Option<Spanned<i64>>,
}

/// `[limits.renewal]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [limits.renewal] table")]
pub(super) struct RawRenewal {
    pub renewals: Spanned<i64>,
    pub window: Spanned<RawDuration>,
    pub block: Spanned<RawDuration>,
}
