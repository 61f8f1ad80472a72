//! How a log line reads: `2026-12-01T15:40:00.123456Z  INFO target: span:
//! message key=value`, the layout of tracing-subscriber's default format,
//! written in one pass.
//!
//! The default formatter cost more per DORA than deciding the reply: it
//! formats the date from scratch for every line and writes the message one
//! character at a time through its escaping writer. Here the date part is
//! formatted once per second, and each value is formatted whole into a
//! buffer and copied out, escaping only when it holds a control character.
//!
//! Escaping: client strings reach the log (host names, vendor classes), so
//! a line must not carry terminal escapes. Every control character but
//! newline and tab (C0, DEL, C1) is written as `\xNN` or `\u{NN}`.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// berthd's log line format (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct LineFormat {
    time: bool,
}

impl LineFormat {
    /// Lines with a UTC timestamp first.
    pub fn new() -> Self {
        LineFormat { time: true }
    }

    /// Lines without the timestamp (syslog stamps them itself).
    pub fn without_time() -> Self {
        LineFormat { time: false }
    }
}

impl Default for LineFormat {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    /// The second the cached date text is for, and that text
    /// (`2026-12-01T15:40:00`).
    static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    /// Where one value is formatted before it is copied out escaped.
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ansi = w.has_ansi_escapes();
        if self.time {
            write_time(&mut w, SystemTime::now(), ansi)?;
        }
        let meta = event.metadata();
        write_level(&mut w, *meta.level(), ansi)?;
        if ansi {
            write!(w, "\x1b[2m{}:\x1b[0m ", meta.target())?;
        } else {
            write!(w, "{}: ", meta.target())?;
        }
        if let Some(scope) = ctx.event_scope() {
            let mut any = false;
            for span in scope.from_root() {
                w.write_str(span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(w, "{{{fields}}}")?;
                }
                w.write_char(':')?;
                any = true;
            }
            if any {
                w.write_char(' ')?;
            }
        }
        let mut fields = Fields {
            w: &mut w,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        w.write_char('\n')
    }
}

/// `2026-12-01T15:40:00.123456Z ` (dimmed with ANSI).
fn write_time(w: &mut Writer<'_>, now: SystemTime, ansi: bool) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    if ansi {
        w.write_str("\x1b[2m")?;
    }
    DATE.with(|d| {
        let Ok(mut d) = d.try_borrow_mut() else {
            return w.write_str(&date_text(secs));
        };
        if d.0 != secs {
            *d = (secs, date_text(secs));
        }
        w.write_str(&d.1)
    })?;
    write!(w, ".{:06}Z", since.subsec_micros())?;
    if ansi {
        w.write_str("\x1b[0m")?;
    }
    w.write_char(' ')
}

/// `2026-12-01T15:40:00` for `secs` since the epoch, UTC.
fn date_text(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok());
    match t {
        Some(t) => t.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        None => secs.to_string(),
    }
}

/// The level padded to five, then a space; coloured with ANSI.
fn write_level(w: &mut Writer<'_>, level: Level, ansi: bool) -> fmt::Result {
    let (text, colour) = match level {
        Level::TRACE => ("TRACE", "35"),
        Level::DEBUG => ("DEBUG", "34"),
        Level::INFO => (" INFO", "32"),
        Level::WARN => (" WARN", "33"),
        Level::ERROR => ("ERROR", "31"),
    };
    if ansi {
        write!(w, "\x1b[{colour}m{text}\x1b[0m ")
    } else {
        write!(w, "{text} ")
    }
}

/// Writes an event's fields: the message as it is, the others as
/// `name=value`, separated by spaces.
struct Fields<'a, 'w> {
    w: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn put(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        self.result = self.put_inner(field, value);
    }

    fn put_inner(&mut self, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
        if !self.first {
            self.w.write_char(' ')?;
        }
        self.first = false;
        let name = field.name();
        if name != "message" {
            // `r#type` and the like: the name without its raw prefix.
            self.w.write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.w.write_char('=')?;
        }
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => {
                s.clear();
                write!(s, "{value:?}")?;
                write_escaped(self.w, &s)
            }
            // Formatting a value logged something itself: no shared buffer.
            Err(_) => write_escaped(self.w, &format!("{value:?}")),
        })
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.put(field, &format_args!("{value}"));
        } else {
            self.put(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, value);
    }
}

/// Copies `s` out, control characters but newline and tab escaped.
fn write_escaped(w: &mut impl Write, s: &str) -> fmt::Result {
    // Bytes first, without decoding: no C0 control, DEL or 0xC2 (the lead
    // byte of every C1 control) means nothing to escape, as in nearly
    // every line.
    let plain_byte = |b: u8| (b >= 0x20 && b != 0x7f && b != 0xc2) || b == b'\n' || b == b'\t';
    if s.bytes().all(plain_byte) {
        return w.write_str(s);
    }
    let plain = |c: char| !c.is_control() || c == '\n' || c == '\t';
    let mut rest = s;
    while let Some((i, c)) = rest.char_indices().find(|&(_, c)| !plain(c)) {
        w.write_str(&rest[..i])?;
        if (c as u32) < 0x80 {
            write!(w, "\\x{:02x}", c as u32)?;
        } else {
            write!(w, "\\u{{{:x}}}", c as u32)?;
        }
        rest = &rest[i + c.len_utf8()..];
    }
    w.write_str(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    fn logged(format: LineFormat, ansi: bool, f: impl FnOnce()) -> String {
        let out = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(ansi)
            .with_max_level(Level::TRACE)
            .event_format(format)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = out.0.lock().map(|v| v.clone()).unwrap_or_default();
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn a_line_has_time_level_target_message_and_fields() {
        let text = logged(LineFormat::new(), false, || {
            tracing::info!(ip = %"192.0.2.1", n = 3, "lease expired");
        });
        // 2026-12-01T15:40:00.123456Z
        let (time, rest) = text.split_at(27);
        assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{text}");
        assert_eq!(
            rest,
            "  INFO berthd::log::format::tests: lease expired ip=192.0.2.1 n=3\n"
        );
    }

    #[test]
    fn the_date_matches_the_clock() {
        let mut out = String::new();
        let mut w = Writer::new(&mut out);
        let at = UNIX_EPOCH + std::time::Duration::from_micros(1_800_000_000_000_042);
        write_time(&mut w, at, false).expect("writes");
        assert_eq!(out, "2027-01-15T08:00:00.000042Z ");
    }

    #[test]
    fn without_time_and_with_spans_and_levels() {
        let text = logged(LineFormat::without_time(), false, || {
            let span = tracing::info_span!("rpc", id = 7);
            let _g = span.enter();
            tracing::warn!("slow");
            tracing::error!(kind = "x", "failed");
        });
        assert_eq!(
            text,
            " WARN berthd::log::format::tests: rpc{id=7}: slow\n\
             ERROR berthd::log::format::tests: rpc{id=7}: failed kind=\"x\"\n"
        );
    }

    #[test]
    fn control_characters_from_clients_are_escaped_but_newlines_kept() {
        let hostile = "evil\x1b[2J\x07\r\u{9b}31m";
        let text = logged(LineFormat::without_time(), false, || {
            tracing::info!("REQUEST from {hostile}\nsecond line\ttab");
            tracing::info!(hostname = hostile, "seen");
        });
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
        assert!(
            text.contains("REQUEST from evil\\x1b[2J\\x07\\x0d\\u{9b}31m\nsecond line\ttab"),
            "{text}"
        );
        // A Debug-formatted string field is escaped by Debug already.
        assert!(text.contains("seen hostname=\"evil\\u{1b}[2J"), "{text}");
    }

    #[test]
    fn printable_text_beyond_ascii_is_kept_and_only_c1_controls_escaped() {
        let mut out = String::new();
        // U+00A1 shares its lead byte (0xC2) with the C1 controls.
        write_escaped(&mut out, "caf\u{e9} \u{a1}hola \u{85}end \u{9f}").expect("write");
        assert_eq!(out, "caf\u{e9} \u{a1}hola \\u{85}end \\u{9f}");
        out.clear();
        write_escaped(&mut out, "plain\tline\n").expect("write");
        assert_eq!(out, "plain\tline\n");
        out.clear();
        write_escaped(&mut out, "del\x7f").expect("write");
        assert_eq!(out, "del\\x7f");
    }

    #[test]
    fn ansi_colours_the_level_and_dims_the_rest() {
        let text = logged(LineFormat::without_time(), true, || tracing::info!("hi"));
        assert_eq!(
            text,
            "\x1b[32m INFO\x1b[0m \x1b[2mberthd::log::format::tests:\x1b[0m hi\n"
        );
    }
}
