//! Client-supplied text made safe for a terminal.
//!
//! Host names, vendor classes and event details come from DHCP clients
//! nobody vetted. Printed raw, an escape sequence in a host name could
//! retitle, recolour or rewrite the operator's terminal. Human output (ctl
//! tables and the TUI) shows control characters as visible `\xNN` escapes
//! instead; `--json` keeps the exact text (JSON escapes them itself).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character (C0, DEL, C1) written as `\xNN` (or
/// `\u{NNNN}` for C1), so the text cannot drive the terminal.
pub fn printable(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// [`printable`], but line breaks stay: for whole blocks of output.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// [`printable`] in place, for text kept to be shown later.
pub fn make_printable(s: &mut String) {
    if let Cow::Owned(escaped) = printable(s) {
        *s = escaped;
    }
}

/// [`make_printable`] on an optional field.
pub fn make_printable_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        make_printable(s);
    }
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if u32::from(c) < 0x80 {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            printable("laptop-anna"),
            Cow::Borrowed("laptop-anna")
        ));
        assert_eq!(printable("café"), "café");
    }

    #[test]
    fn escapes_become_visible() {
        assert_eq!(printable("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(printable("x\u{9b}31m"), "x\\u{009b}31m");
        assert_eq!(
            printable("tab\there\nline\x7f"),
            "tab\\x09here\\x0aline\\x7f"
        );
    }

    #[test]
    fn printable_lines_keeps_line_breaks_only() {
        assert_eq!(
            printable_lines("one\x1b[2J\ntwo\r\n"),
            "one\\x1b[2J\ntwo\\x0d\n"
        );
    }
}
