//! The raw (as written) forms of `[option_space.NAME]`, `[[option_def]]` and
//! `[[class]]`; their meaning is checked in [`super::class`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::raw::{RawDuration, RawOptions};

/// One option inside `[option_space.NAME]`: `name = { code = 66, type = "text" }`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an option definition like { code = 66, type = \"text\" }"
)]
pub(super) struct RawSubDef {
    pub code: Spanned<i64>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
}

/// `[option_space.NAME]`: option name -> definition.
pub(super) type RawSpace = BTreeMap<Spanned<String>, Spanned<RawSubDef>>;

/// `[option_space]`: space name -> its options.
pub(super) type RawSpaces = BTreeMap<Spanned<String>, Spanned<RawSpace>>;

/// `[[option_def]]`: a custom option in the DHCP space.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [[option_def]] table")]
pub(super) struct RawOptionDef {
    pub name: Spanned<String>,
    pub code: Spanned<i64>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
}

/// `option = { code = 60, prefix = "PXE", offset = 0 }` inside a match.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an option test like { code = 60, prefix = \"PXEClient\" }"
)]
pub(super) struct RawOptionTest {
    pub code: Spanned<i64>,
    pub equals: Option<Spanned<String>>,
    pub prefix: Option<Spanned<String>>,
    pub contains: Option<Spanned<String>>,
    pub present: Option<Spanned<bool>>,
    pub offset: Option<Spanned<i64>>,
}

/// A match rule as written: every key given must hold.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a match table like { vendor_class_prefix = \"snom\" }"
)]
pub(super) struct RawMatch {
    pub vendor_class: Option<Spanned<String>>,
    pub vendor_class_prefix: Option<Spanned<String>>,
    pub user_class: Option<Spanned<String>>,
    pub mac_prefix: Option<Spanned<String>>,
    pub option: Option<Spanned<RawOptionTest>>,
    pub circuit_id: Option<Spanned<String>>,
    pub remote_id: Option<Spanned<String>>,
    pub known: Option<Spanned<bool>>,
    pub all: Option<Spanned<Vec<Spanned<RawMatch>>>>,
    pub any: Option<Spanned<Vec<Spanned<RawMatch>>>>,
    pub not: Option<Spanned<Box<RawMatch>>>,
}

/// `[[class]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[class]] table")]
pub(super) struct RawClass {
    pub name: Spanned<String>,
    #[serde(rename = "match")]
    pub matcher: Spanned<RawMatch>,
    pub vendor_space: Option<Spanned<String>>,
    pub next_server: Option<Spanned<String>>,
    pub filename: Option<Spanned<String>>,
    pub server_name: Option<Spanned<String>>,
    pub lease: Option<Spanned<RawDuration>>,
    pub max_lease: Option<Spanned<RawDuration>>,
    pub options: Option<RawOptions>,
}
