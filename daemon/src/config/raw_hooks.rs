//! `[[hook]]` and `[hooks]` as written.

use serde::Deserialize;
use toml::Spanned;

use super::raw::RawDuration;

/// `[[hook]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[hook]] table")]
pub(super) struct RawHook {
    pub on: Spanned<Vec<Spanned<String>>>,
    pub run: Spanned<String>,
    pub args: Option<Vec<Spanned<String>>>,
    pub timeout: Option<Spanned<RawDuration>>,
}

/// `[hooks]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [hooks] table")]
pub(super) struct RawHooks {
    pub enter_dir: Option<Spanned<String>>,
    pub exit_dir: Option<Spanned<String>>,
    pub max_concurrent: Option<Spanned<i64>>,
    pub queue: Option<Spanned<i64>>,
    pub user: Option<Spanned<String>>,
    pub dir_timeout: Option<Spanned<RawDuration>>,
}
