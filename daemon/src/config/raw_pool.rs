//! `[[subnet.pool]]` as written: one dynamic range with its own policy.

use toml::Spanned;

use super::raw::{RawDuration, RawOptions, RawRange};

/// One `[[subnet.pool]]` entry.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[subnet.pool]] table")]
pub(super) struct RawPool {
    /// `range = [start, end]`.
    pub range: RawRange,
    /// `"any"` (default), `"known"` or `"unknown"`.
    pub clients: Option<Spanned<String>>,
    /// Open only to members of one of these classes.
    pub classes: Option<Spanned<Vec<Spanned<String>>>>,
    /// The default and longest lease from this range.
    pub lease: Option<Spanned<RawDuration>>,
    /// Options for clients with an address from this range.
    pub options: Option<RawOptions>,
    /// Addresses (`"a"`) and ranges (`["a", "b"]`) never given from it.
    pub exclude: Option<Vec<Spanned<toml::Value>>>,
}
