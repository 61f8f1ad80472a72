//! `[metrics]` as written.

use toml::Spanned;

/// `[metrics]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [metrics] table")]
pub(super) struct RawMetrics {
    /// `address:port` of the Prometheus endpoint.
    pub listen: Option<Spanned<String>>,
}
