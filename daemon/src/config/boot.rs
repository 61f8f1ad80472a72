//! The boot fields every scope can set (`next_server`, `filename`,
//! `server_name`), checked the same way everywhere: the BOOTP field sizes,
//! and templates whose unknown fields are reported at their own column.

use std::net::Ipv4Addr;

use toml::Spanned;

use super::Reporter;
use super::field::ip;
use crate::options;

/// Check a BOOTP header text (`filename`: 128 bytes, `server_name`: 64,
/// NUL-terminated, so `max` is one less) that may be a template: an unknown
/// field is reported at its own column.
fn template_text(
    report: &mut Reporter<'_>,
    field: &str,
    value: &Spanned<String>,
    max: usize,
) -> Option<String> {
    let text = value.get_ref();
    if text.is_empty() {
        report.error(value.span(), format!("{field}: must not be empty"));
        return None;
    }
    if text.len() > max {
        report.error(
            value.span(),
            format!(
                "{field}: is {} bytes; the BOOTP {} field holds at most {max}",
                text.len(),
                if field == "filename" { "file" } else { "sname" }
            ),
        );
        return None;
    }
    if options::template::is_template(text)
        && let Err(e) = options::Template::parse(text)
    {
        // Past the opening quote; exact for strings without escapes.
        let at = value.span().start + 1 + e.offset;
        report.error(at..at, format!("{field}: {}", e.message));
        return None;
    }
    Some(text.clone())
}

fn filename(report: &mut Reporter<'_>, value: &Spanned<String>) -> Option<String> {
    template_text(report, "filename", value, 127)
}

/// A scope's boot fields as written: `next_server`, `filename`, `server_name`.
pub(super) type RawBoot<'a> = [&'a Option<Spanned<String>>; 3];

/// A scope's boot fields checked: (next-server, file, sname).
pub(super) fn boot_fields(
    report: &mut Reporter<'_>,
    [next_server, file, sname]: RawBoot<'_>,
) -> (Option<Ipv4Addr>, Option<String>, Option<String>) {
    (
        next_server
            .as_ref()
            .and_then(|v| ip(report, "next_server", v)),
        file.as_ref().and_then(|v| filename(report, v)),
        sname
            .as_ref()
            .and_then(|v| template_text(report, "server_name", v, 63)),
    )
}
