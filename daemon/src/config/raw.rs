//! The configuration as written: serde structs with spans, no meaning yet.
//!
//! Every struct denies unknown fields. Leaves that need checking beyond their
//! TOML type (addresses, MACs, durations, CIDRs) are kept as spanned strings
//! here and parsed in [`super::validate`], so that all of them are checked
//! and reported together instead of serde stopping at the first.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range as Span;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::Reporter;
use super::raw_class::{RawClass, RawOptionDef, RawSpaces};
use super::raw_hooks::{RawHook, RawHooks};

/// An `options` table: option name -> value, each with its span. Decoded in
/// validation against the catalogue; the order of entries there follows the
/// key spans, i.e. the order in the file.
pub(super) type RawOptions = BTreeMap<Spanned<String>, Spanned<RawValue>>;

/// An option value as written, with the span of each element when it is an
/// array, so that a bad address in a list is pointed at, not the list.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RawValue {
    pub value: toml::Value,
    /// One span per element of an array value; empty otherwise.
    pub elements: Vec<Span<usize>>,
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        fn plain(value: toml::Value) -> RawValue {
            RawValue {
                value,
                elements: Vec::new(),
            }
        }
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an option value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
                Ok(plain(toml::Value::Boolean(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
                Ok(plain(toml::Value::Integer(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
                i64::try_from(v)
                    .map(|v| plain(toml::Value::Integer(v)))
                    .map_err(|_| E::custom("integer is too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
                Ok(plain(toml::Value::Float(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
                Ok(plain(toml::Value::String(v.to_string())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
                let mut items = Vec::new();
                let mut elements = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<toml::Value>>()? {
                    elements.push(item.span());
                    items.push(item.into_inner());
                }
                Ok(RawValue {
                    value: toml::Value::Array(items),
                    elements,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawValue, A::Error> {
                // Tables, and datetimes (which toml hands over as a special
                // map): toml::Value knows how to read both.
                toml::Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(plain)
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// A range as written: `[start, end]` (the length is checked in validation,
/// so that a wrong count gets a message about ranges, not arrays).
pub(super) type RawRange = Spanned<Vec<Spanned<String>>>;

/// A duration as written: integer seconds or a string like "1h30m"
/// (parsed by berth-proto's shared rule in `validate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RawDuration {
    Seconds(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expecting = |f: &mut fmt::Formatter<'_>| {
            write!(f, "a duration {}", berth_proto::parse::DURATION_HELP)
        };
        Ok(match deserializer.deserialize_any(IntOrWord(expecting))? {
            RawIntOrWord::Int(n) => RawDuration::Seconds(n),
            RawIntOrWord::Word(w) => RawDuration::Text(w),
        })
    }
}

/// An integer or a word (`commit_delay_us = 500` or `"auto"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RawIntOrWord {
    Int(i64),
    Word(String),
}

impl<'de> Deserialize<'de> for RawIntOrWord {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntOrWord(|f| f.write_str("an integer or a string")))
    }
}

/// Takes an integer or a string; what a wrong type is told it should be
/// is the field's own (`.0`).
struct IntOrWord(fn(&mut fmt::Formatter<'_>) -> fmt::Result);

impl Visitor<'_> for IntOrWord {
    type Value = RawIntOrWord;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawIntOrWord, E> {
        Ok(RawIntOrWord::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawIntOrWord, E> {
        // Out of i64 range is out of any range validation allows.
        Ok(RawIntOrWord::Int(i64::try_from(v).unwrap_or(i64::MAX)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawIntOrWord, E> {
        Ok(RawIntOrWord::Word(v.to_string()))
    }
}

/// `store`: a string is a SQLite file path (the original form); a table
/// names the backend: `{ backend = "postgres", url = "...", pool = N }` or
/// `{ backend = "sqlite", path = "..." }`. Which keys a backend needs is
/// checked in validation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RawStore {
    Path(String),
    Table(RawStoreTable),
}

/// `store = { ... }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a store table")]
pub(super) struct RawStoreTable {
    pub backend: Spanned<String>,
    pub path: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub pool: Option<Spanned<i64>>,
    pub resync: Option<Spanned<RawDuration>>,
    pub renew_from_memory: Option<Spanned<bool>>,
}

impl<'de> Deserialize<'de> for RawStore {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // By hand rather than `#[serde(untagged)]`, so that a mistake inside
        // the table (an unknown key, a missing `backend`) is reported as
        // itself instead of as "did not match any variant".
        struct StoreVisitor;
        impl<'de> Visitor<'de> for StoreVisitor {
            type Value = RawStore;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a SQLite file path, or a table like \
                     { backend = \"postgres\", url = \"postgresql://...\" }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawStore, E> {
                Ok(RawStore::Path(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawStore, A::Error> {
                RawStoreTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawStore::Table)
            }
        }
        deserializer.deserialize_any(StoreVisitor)
    }
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [server] table")]
pub(super) struct RawServer {
    pub interfaces: Spanned<Vec<Spanned<String>>>,
    pub authoritative: Option<bool>,
    pub bootp: Option<bool>,
    pub adopt_rebooting_clients: Option<bool>,
    pub default_lease: Option<Spanned<RawDuration>>,
    pub max_lease: Option<Spanned<RawDuration>>,
    pub min_lease: Option<Spanned<RawDuration>>,
    pub offer_hold: Option<Spanned<RawDuration>>,
    pub decline_probation: Option<Spanned<RawDuration>>,
    pub expiry_grace: Option<Spanned<RawDuration>>,
    pub server_id: Option<Spanned<String>>,
    pub store: Option<Spanned<RawStore>>,
    pub control_socket: Option<Spanned<String>>,
    pub control_group: Option<Spanned<String>>,
    pub admin_group: Option<Spanned<String>>,
    pub event_buffer: Option<Spanned<i64>>,
    pub store_stall_timeout: Option<Spanned<RawDuration>>,
    pub commit_delay_us: Option<Spanned<RawIntOrWord>>,
    pub control_max_connections: Option<Spanned<i64>>,
    pub control_max_per_user: Option<Spanned<i64>>,
    pub control_idle_timeout: Option<Spanned<RawDuration>>,
    pub next_server: Option<Spanned<String>>,
    pub filename: Option<Spanned<String>>,
    pub server_name: Option<Spanned<String>>,
    /// `stderr` or a syslog facility.
    pub log: Option<Spanned<String>>,
    pub syslog_socket: Option<Spanned<String>>,
    pub arp: Option<bool>,
    pub arp_sweep_interval: Option<Spanned<RawDuration>>,
    pub arp_probe_timeout: Option<Spanned<RawDuration>>,
    pub arp_rate: Option<Spanned<i64>>,
}

/// `[[subnet]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[subnet]] table")]
pub(super) struct RawSubnet {
    pub cidr: Spanned<String>,
    /// `range = [start, end]`.
    pub range: Option<RawRange>,
    /// `ranges = [[start, end], ...]`.
    pub ranges: Option<Spanned<Vec<RawRange>>>,
    /// `[[subnet.pool]]`: ranges with their own policy.
    pub pool: Option<Vec<Spanned<super::raw_pool::RawPool>>>,
    pub default_lease: Option<Spanned<RawDuration>>,
    pub max_lease: Option<Spanned<RawDuration>>,
    pub next_server: Option<Spanned<String>>,
    pub filename: Option<Spanned<String>>,
    pub server_name: Option<Spanned<String>>,
    pub options: Option<RawOptions>,
    pub max_offers: Option<Spanned<i64>>,
}

/// `[[host]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[host]] table")]
pub(super) struct RawHost {
    pub name: Spanned<String>,
    pub mac: Option<Spanned<String>>,
    pub client_id: Option<Spanned<String>>,
    pub ip: Spanned<String>,
    pub next_server: Option<Spanned<String>>,
    pub filename: Option<Spanned<String>>,
    pub server_name: Option<Spanned<String>>,
    pub options: Option<RawOptions>,
}

/// The whole document. Entries that failed to deserialize are absent (their
/// errors are already reported); the span of each entry is kept for messages
/// about the entry as a whole.
#[derive(Debug, Default)]
pub(super) struct RawConfig {
    pub server: Option<RawServer>,
    pub options: Option<RawOptions>,
    pub subnets: Vec<(Span<usize>, RawSubnet)>,
    pub hosts: Vec<(Span<usize>, RawHost)>,
    pub option_spaces: Option<RawSpaces>,
    pub option_defs: Vec<(Span<usize>, RawOptionDef)>,
    pub classes: Vec<(Span<usize>, RawClass)>,
    pub limits: Option<super::raw_limits::RawLimits>,
    pub webhooks: Vec<(Span<usize>, super::raw_webhook::RawWebhook)>,
    pub hook: Vec<(Span<usize>, RawHook)>,
    pub hooks: Option<RawHooks>,
    pub metrics: Option<super::raw_metrics::RawMetrics>,
}

/// The top-level keys we know.
const SECTIONS: &[&str] = &[
    "server",
    "options",
    "subnet",
    "host",
    "option_space",
    "option_def",
    "class",
    "limits",
    "webhook",
    "hook",
    "hooks",
    "metrics",
];

/// Parse `text` and deserialize each section and entry separately.
///
/// Returns None if the text is not TOML at all (the syntax errors are
/// reported); otherwise the parts that deserialized, with the errors of the
/// rest reported.
pub(super) fn read(text: &str, report: &mut Reporter<'_>) -> Option<RawConfig> {
    let (document, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // Meaning cannot be checked on a document that is not TOML, so stop
        // here. The parser's recovery turns one slip into a burst of errors
        // on the same line (an unclosed array yields four or five); the first
        // on each line is the one worth reading.
        let mut errors: Vec<_> = errors
            .iter()
            .map(|e| (e.span().map_or(0, |s| s.start), e))
            .collect();
        errors.sort_by_key(|(offset, _)| *offset);
        let mut last_line = None;
        for (offset, error) in errors {
            let line = report.line(&(offset..offset));
            if last_line != Some(line) {
                report.toml_error(error, 0..0);
                last_line = Some(line);
            }
        }
        return None;
    }
    let mut raw = RawConfig::default();
    let mut saw_server = false;
    for (key, value) in document.into_inner() {
        let key_span = key.span();
        match key.get_ref().as_ref() {
            "server" => {
                saw_server = true;
                raw.server = entry(value, report);
            }
            "options" => raw.options = entry(value, report),
            "subnet" => raw.subnets = entries("subnet", key_span, value, report),
            "host" => raw.hosts = entries("host", key_span, value, report),
            "option_space" => raw.option_spaces = entry(value, report),
            "option_def" => raw.option_defs = entries("option_def", key_span, value, report),
            "class" => raw.classes = entries("class", key_span, value, report),
            "limits" => raw.limits = entry(value, report),
            "webhook" => raw.webhooks = entries("webhook", key_span, value, report),
            "hook" => raw.hook = entries("hook", key_span, value, report),
            "hooks" => raw.hooks = entry(value, report),
            "metrics" => raw.metrics = entry(value, report),
            other => report.error(
                key_span,
                format!(
                    "unknown section `{other}`, expected one of {}",
                    SECTIONS
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    if !saw_server {
        report.error(
            0..0,
            "missing [server] section (it must at least list `interfaces`)",
        );
    }
    Some(raw)
}

/// Deserialize one value, reporting the error if it does not fit `T`.
fn entry<T: DeserializeOwned>(value: Spanned<DeValue<'_>>, report: &mut Reporter<'_>) -> Option<T> {
    let span = value.span();
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(t) => Some(t),
        Err(error) => {
            report.toml_error(&error, span);
            None
        }
    }
}

/// Deserialize each element of an array of tables on its own.
fn entries<T: DeserializeOwned>(
    name: &str,
    key_span: Span<usize>,
    value: Spanned<DeValue<'_>>,
    report: &mut Reporter<'_>,
) -> Vec<(Span<usize>, T)> {
    match value.into_inner() {
        DeValue::Array(items) => items
            .into_iter()
            .filter_map(|item| {
                let span = item.span();
                entry(item, report).map(|t| (span, t))
            })
            .collect(),
        _ => {
            report.error(
                key_span,
                format!("`{name}` must be an array of tables: write [[{name}]], not [{name}]"),
            );
            Vec::new()
        }
    }
}
