//! `[[webhook]]` as written.

use std::collections::BTreeMap;

use toml::Spanned;

use super::raw::RawDuration;

/// One `[[webhook]]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[webhook]] table")]
pub(super) struct RawWebhook {
    pub url: Spanned<String>,
    pub events: Spanned<Vec<Spanned<String>>>,
    pub headers: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    pub timeout: Option<Spanned<RawDuration>>,
    pub queue: Option<Spanned<i64>>,
    pub retries: Option<Spanned<i64>>,
    pub max_backoff: Option<Spanned<RawDuration>>,
}
