//! `[option_space.NAME]`, `[[option_def]]` and `[[class]]`: from the raw
//! document to the catalogue and the classes, with every problem reported
//! at its file, line and column.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::ops::Range as Span;

use toml::Spanned;

use super::Reporter;
use super::boot::boot_fields;
use super::field::{lease, option_set};
use super::raw_class::{RawClass, RawMatch, RawOptionDef, RawOptionTest, RawSpaces};
use crate::class::{Match, Test};
use crate::options::{
    self, Catalogue, CatalogueError, OptionDef, OptionKind, Options, Value, VendorOptions,
};

/// `[[class]]`: who belongs (the match rule) and what members get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// Unique name; what `explain`, events and range restrictions call it.
    pub name: String,
    /// Who is a member.
    pub matcher: Match,
    /// Options for members (over subnet, under host).
    pub options: Options<Value>,
    /// Vendor-space options for members.
    pub vendor: VendorOptions,
    /// The vendor space encapsulated into option 43 for members.
    pub vendor_space: Option<String>,
    /// `siaddr` for members.
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field for members (a template).
    pub filename: Option<String>,
    /// The BOOTP `sname` field for members (a template).
    pub server_name: Option<String>,
    /// The lease time members get when they ask for none (seconds).
    pub lease: Option<u32>,
    /// The longest lease members get (seconds).
    pub max_lease: Option<u32>,
}

/// A code as written: 1 to 254 (0 and 255 are framing).
fn option_code(report: &mut Reporter<'_>, field: &str, code: &Spanned<i64>) -> Option<u8> {
    match u8::try_from(*code.get_ref()) {
        Ok(c) if (1..=254).contains(&c) => Some(c),
        _ => {
            report.error(
                code.span(),
                format!(
                    "{field}: {} is not an option code (1 to 254)",
                    code.get_ref()
                ),
            );
            None
        }
    }
}

fn kind(report: &mut Reporter<'_>, name: &Spanned<String>) -> Option<OptionKind> {
    let kind = OptionKind::from_name(name.get_ref());
    if kind.is_none() {
        report.error(
            name.span(),
            format!(
                "type: unknown option type `{}`; expected one of {}",
                name.get_ref(),
                OptionKind::names().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    kind
}

/// The catalogue: the built-in options, then `[[option_def]]` entries,
/// then the vendor spaces.
pub(super) fn catalogue(
    spaces: Option<&RawSpaces>,
    defs: &[(Span<usize>, RawOptionDef)],
    report: &mut Reporter<'_>,
) -> Catalogue {
    let mut cat = Catalogue::builtin();
    for (_, raw) in defs {
        let code = option_code(report, "code", &raw.code);
        let kind = kind(report, &raw.kind);
        let (Some(code), Some(kind)) = (code, kind) else {
            continue;
        };
        let def = OptionDef::new(code, raw.name.get_ref().clone(), kind);
        if let Err(e) = cat.define(def) {
            let span = match e {
                CatalogueError::CodeTaken { .. } => raw.code.span(),
                _ => raw.name.span(),
            };
            report.error(span, format!("option_def: {e}"));
        }
    }
    for (space, entries) in spaces.into_iter().flatten() {
        let mut defs = Vec::new();
        let mut codes: HashMap<u8, &Spanned<String>> = HashMap::new();
        for (name, def) in entries.get_ref() {
            let def = def.get_ref();
            let code = option_code(report, "code", &def.code);
            let kind = kind(report, &def.kind);
            if let Some(code) = code
                && let Some(first) = codes.insert(code, name)
            {
                let line = report.line(&first.span());
                report.error(
                    def.code.span(),
                    format!(
                        "option space `{}`: code {code} is already `{}` (line {line})",
                        space.get_ref(),
                        first.get_ref()
                    ),
                );
                continue;
            }
            if let (Some(code), Some(kind)) = (code, kind) {
                defs.push(OptionDef::new(code, name.get_ref().clone(), kind));
            }
        }
        if let Err(e) = cat.define_space(space.get_ref(), defs) {
            report.error(space.span(), e.to_string());
        }
    }
    cat
}

/// Text to match: the bytes of a non-empty string.
fn bytes(report: &mut Reporter<'_>, field: &str, value: &Spanned<String>) -> Option<Vec<u8>> {
    if value.get_ref().is_empty() {
        report.error(value.span(), format!("{field}: must not be empty"));
        return None;
    }
    Some(value.get_ref().as_bytes().to_vec())
}

fn option_test(report: &mut Reporter<'_>, raw: &Spanned<RawOptionTest>) -> Option<Match> {
    let t = raw.get_ref();
    let code = option_code(report, "option: code", &t.code);
    let offset = match &t.offset {
        None => Some(0),
        Some(o) => match usize::try_from(*o.get_ref()) {
            Ok(v) if v <= 255 => Some(v),
            _ => {
                report.error(
                    o.span(),
                    format!("option: offset {} is not between 0 and 255", o.get_ref()),
                );
                None
            }
        },
    };
    let mut tests = Vec::new();
    if let Some(v) = &t.equals {
        tests.push(Some(Test::Equals(v.get_ref().as_bytes().to_vec())));
    }
    if let Some(v) = &t.prefix {
        tests.push(bytes(report, "option: prefix", v).map(Test::Prefix));
    }
    if let Some(v) = &t.contains {
        tests.push(bytes(report, "option: contains", v).map(Test::Contains));
    }
    if let Some(v) = &t.present {
        tests.push(Some(Test::Present(*v.get_ref())));
    }
    let test = match tests.len() {
        1 => tests.pop().flatten(),
        _ => {
            report.error(
                raw.span(),
                "option: give exactly one of `equals`, `prefix`, `contains`, `present`",
            );
            None
        }
    };
    Some(Match::Option {
        code: code?,
        offset: offset?,
        test: test?,
    })
}

/// A match table: every key given must hold. `None` if something in it is
/// wrong (reported).
fn matcher(report: &mut Reporter<'_>, m: &RawMatch, span: Span<usize>) -> Option<Match> {
    let mut rules: Vec<Option<Match>> = Vec::new();
    if let Some(v) = &m.vendor_class {
        rules.push(bytes(report, "vendor_class", v).map(Match::VendorClass));
    }
    if let Some(v) = &m.vendor_class_prefix {
        rules.push(bytes(report, "vendor_class_prefix", v).map(Match::VendorClassPrefix));
    }
    if let Some(v) = &m.user_class {
        rules.push(bytes(report, "user_class", v).map(Match::UserClass));
    }
    if let Some(v) = &m.mac_prefix {
        let parsed = options::parse_hex(&v.get_ref().replace('-', ":"));
        rules.push(match parsed {
            Ok(b) if b.len() <= 6 => Some(Match::MacPrefix(b)),
            _ => {
                report.error(
                    v.span(),
                    format!(
                        "mac_prefix: `{}` is not 1 to 6 hex pairs like \"00:04:13\"",
                        v.get_ref()
                    ),
                );
                None
            }
        });
    }
    if let Some(t) = &m.option {
        rules.push(option_test(report, t));
    }
    if let Some(v) = &m.circuit_id {
        rules.push(bytes(report, "circuit_id", v).map(Match::CircuitId));
    }
    if let Some(v) = &m.remote_id {
        rules.push(bytes(report, "remote_id", v).map(Match::RemoteId));
    }
    if let Some(v) = &m.known {
        rules.push(Some(Match::Known(*v.get_ref())));
    }
    for (list, all) in [(&m.all, true), (&m.any, false)] {
        if let Some(items) = list {
            if items.get_ref().is_empty() {
                report.error(
                    items.span(),
                    format!(
                        "{}: list at least one rule",
                        if all { "all" } else { "any" }
                    ),
                );
                rules.push(None);
                continue;
            }
            let parsed: Vec<Option<Match>> = items
                .get_ref()
                .iter()
                .map(|i| matcher(report, i.get_ref(), i.span()))
                .collect();
            let parsed: Option<Vec<Match>> = parsed.into_iter().collect();
            rules.push(parsed.map(|p| if all { Match::All(p) } else { Match::Any(p) }));
        }
    }
    if let Some(n) = &m.not {
        rules.push(matcher(report, n.get_ref(), n.span()).map(|r| Match::Not(Box::new(r))));
    }
    if rules.is_empty() {
        report.error(
            span,
            "match: is empty; give a rule like { vendor_class_prefix = \"snom\" }",
        );
        return None;
    }
    let rules: Option<Vec<Match>> = rules.into_iter().collect();
    let mut rules = rules?;
    Some(if rules.len() == 1 {
        rules.remove(0)
    } else {
        Match::All(rules)
    })
}

/// The `[[class]]` entries, in declaration order.
pub(super) fn classes(
    raw: &[(Span<usize>, RawClass)],
    cat: &Catalogue,
    report: &mut Reporter<'_>,
) -> Vec<Class> {
    let mut names: HashMap<String, Span<usize>> = HashMap::new();
    let mut out = Vec::new();
    for (_, rc) in raw {
        let name = rc.name.get_ref().trim().to_string();
        if !options::valid_name(&name) {
            report.error(
                rc.name.span(),
                format!(
                    "name: `{name}` is not a class name (letters, digits, `-` and `_`, starting with a letter)"
                ),
            );
        } else if let Some(first) = names.get(&name) {
            let line = report.line(first);
            report.error(
                rc.name.span(),
                format!("duplicate class name `{name}` (first defined on line {line})"),
            );
        } else {
            names.insert(name.clone(), rc.name.span());
        }
        let matcher = matcher(report, rc.matcher.get_ref(), rc.matcher.span());
        let vendor_space = rc.vendor_space.as_ref().and_then(|v| {
            if cat.has_space(v.get_ref()) {
                Some(v.get_ref().clone())
            } else {
                report.error(
                    v.span(),
                    format!(
                        "vendor_space: no option space `{}` is defined (add [option_space.{}])",
                        v.get_ref(),
                        v.get_ref()
                    ),
                );
                None
            }
        });
        let (next_server, filename, server_name) =
            boot_fields(report, [&rc.next_server, &rc.filename, &rc.server_name]);
        let lease_secs = rc.lease.as_ref().and_then(|v| lease(report, "lease", v));
        let max_lease = rc
            .max_lease
            .as_ref()
            .and_then(|v| lease(report, "max_lease", v));
        if let (Some(l), Some(m), Some(span)) =
            (lease_secs, max_lease, rc.lease.as_ref().map(Spanned::span))
            && l > m
        {
            report.error(span, "lease: is longer than the class's max_lease");
        }
        let (options, vendor) = option_set(rc.options.as_ref(), cat, report);
        if let Some(matcher) = matcher {
            out.push(Class {
                name,
                matcher,
                options,
                vendor,
                vendor_space,
                next_server,
                filename,
                server_name,
                lease: lease_secs,
                max_lease,
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "class_tests.rs"]
mod tests;
