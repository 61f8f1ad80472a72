//! Validating `[[hook]]` and `[hooks]` into a [`HookConfig`].

use std::ops::Range as Span;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::Reporter;
use super::field::duration;
use super::raw::RawDuration;
use super::raw_hooks::{RawHook, RawHooks};
use crate::hooks::{HookConfig, HookKind, HookSettings, HookSpec, Template};

/// The hook configuration; problems are reported.
pub(super) fn build(
    hooks: &[(Span<usize>, RawHook)],
    settings: Option<&RawHooks>,
    report: &mut Reporter<'_>,
) -> HookConfig {
    HookConfig {
        hooks: hooks.iter().filter_map(|(_, h)| hook(h, report)).collect(),
        settings: settings.map_or_else(HookSettings::default, |s| self::settings(s, report)),
    }
}

/// An absolute path, or an error at its span.
fn absolute(report: &mut Reporter<'_>, field: &str, v: &Spanned<String>) -> Option<PathBuf> {
    let p = PathBuf::from(v.get_ref());
    if p.is_absolute() {
        Some(p)
    } else {
        report.error(
            v.span(),
            format!(
                "{field}: `{}` is not an absolute path (hooks are run directly, never looked up in PATH)",
                v.get_ref()
            ),
        );
        None
    }
}

/// A timeout of at least one second.
fn timeout(report: &mut Reporter<'_>, field: &str, v: &Spanned<RawDuration>) -> Option<Duration> {
    match duration(report, field, v)? {
        0 => {
            report.error(v.span(), format!("{field}: must be at least 1s"));
            None
        }
        s => Some(Duration::from_secs(s.into())),
    }
}

fn hook(raw: &RawHook, report: &mut Reporter<'_>) -> Option<HookSpec> {
    let mut ok = true;
    let mut on = Vec::new();
    if raw.on.get_ref().is_empty() {
        report.error(
            raw.on.span(),
            "on: is empty; list the events to run for, like [\"commit\", \"release\", \"expiry\"]",
        );
        ok = false;
    }
    for name in raw.on.get_ref() {
        match HookKind::parse(name.get_ref()) {
            Some(k) if on.contains(&k) => {
                report.error(
                    name.span(),
                    format!("on: `{}` is listed twice", name.get_ref()),
                );
                ok = false;
            }
            Some(k) => on.push(k),
            None => {
                let known: Vec<String> = HookKind::ALL
                    .iter()
                    .map(|k| format!("`{}`", k.as_str()))
                    .collect();
                report.error(
                    name.span(),
                    format!(
                        "on: unknown event `{}`, expected one of {}",
                        name.get_ref(),
                        known.join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    let run = absolute(report, "run", &raw.run);
    let mut args = Vec::new();
    for a in raw.args.iter().flatten() {
        match Template::parse(a.get_ref()) {
            Ok(t) => args.push(t),
            Err(e) => {
                // Past the opening quote to the offending brace (exact for
                // strings without escapes, the usual case).
                let at = a.span().start + 1 + e.offset();
                report.error(at..at, format!("args: {e}"));
                ok = false;
            }
        }
    }
    let timeout = match &raw.timeout {
        Some(t) => timeout(report, "timeout", t),
        None => Some(HookSpec::TIMEOUT),
    };
    match (ok, run, timeout) {
        (true, Some(run), Some(timeout)) => Some(HookSpec {
            on,
            run,
            args,
            timeout,
        }),
        _ => None,
    }
}

/// A count between 1 and `max`.
fn count(report: &mut Reporter<'_>, field: &str, v: &Spanned<i64>, max: usize) -> Option<usize> {
    match usize::try_from(*v.get_ref()) {
        Ok(n) if (1..=max).contains(&n) => Some(n),
        _ => {
            report.error(
                v.span(),
                format!("{field}: {} is not between 1 and {max}", v.get_ref()),
            );
            None
        }
    }
}

fn settings(raw: &RawHooks, report: &mut Reporter<'_>) -> HookSettings {
    let mut s = HookSettings {
        enter_dir: raw
            .enter_dir
            .as_ref()
            .and_then(|d| absolute(report, "enter_dir", d)),
        exit_dir: raw
            .exit_dir
            .as_ref()
            .and_then(|d| absolute(report, "exit_dir", d)),
        ..HookSettings::default()
    };
    if let Some(n) = &raw.max_concurrent {
        s.max_concurrent = count(report, "max_concurrent", n, 256).unwrap_or(s.max_concurrent);
    }
    if let Some(n) = &raw.queue {
        s.queue = count(report, "queue", n, 100_000).unwrap_or(s.queue);
    }
    if let Some(u) = &raw.user {
        let name = u.get_ref().trim();
        if name.is_empty() || name.contains(char::is_whitespace) || name == "root" {
            report.error(
                u.span(),
                format!("user: `{name}` cannot be used: hooks run as an unprivileged user"),
            );
        } else {
            s.user = name.to_string();
        }
    }
    if let Some(t) = &raw.dir_timeout {
        s.dir_timeout = timeout(report, "dir_timeout", t).unwrap_or(s.dir_timeout);
    }
    s
}
