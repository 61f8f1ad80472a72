//! The Prometheus text exposition format, version 0.0.4: a `# HELP` and a
//! `# TYPE` line per family, then one line per sample.
//!
//! Label values are escaped (`\`, `"`, newline), but only fixed sets ever
//! become labels (message types, ranges from the config, reasons named in
//! the code): nothing a client sends is a label.

use std::fmt::Write as _;

use super::histogram::HistogramSnapshot;

/// The content type of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A scrape's text, built family by family.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
    /// The family the next samples belong to.
    name: &'static str,
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the family `name`; its samples follow.
    pub fn family(&mut self, name: &'static str, kind: Kind, help: &str) -> &mut Self {
        self.name = name;
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
        self
    }

    /// One sample of the current family.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: impl Into<Value>) -> &mut Self {
        let name = self.name;
        self.line(name, "", labels, None, value.into());
        self
    }

    /// A histogram's samples (`_bucket`, `_sum`, `_count`) for the current
    /// family, which must be [`Kind::Histogram`].
    pub fn histogram(&mut self, labels: &[(&str, &str)], h: &HistogramSnapshot) -> &mut Self {
        let name = self.name;
        let mut le = String::new();
        for (bound, count) in h.buckets() {
            le.clear();
            match bound {
                Some(b) => {
                    let _ = write!(le, "{}", Value::Float(b));
                }
                None => le.push_str("+Inf"),
            }
            self.line(name, "_bucket", labels, Some(&le), Value::Int(count));
        }
        self.line(name, "_sum", labels, None, Value::Float(h.sum()));
        self.line(name, "_count", labels, None, Value::Int(h.count()));
        self
    }

    fn line(
        &mut self,
        name: &str,
        suffix: &str,
        labels: &[(&str, &str)],
        le: Option<&str>,
        value: Value,
    ) {
        self.out.push_str(name);
        self.out.push_str(suffix);
        let mut all = labels
            .iter()
            .copied()
            .chain(le.map(|v| ("le", v)))
            .peekable();
        if all.peek().is_some() {
            self.out.push('{');
            for (i, (k, v)) in all.enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_label_into(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A sample's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(u64::from(v))
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) if v.is_nan() => f.write_str("NaN"),
            Value::Float(v) if v.is_infinite() => {
                f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" })
            }
            // Rust's shortest round-trip form (`0.005`, `1`, `1e-7`) is
            // what Prometheus parses.
            Value::Float(v) => write!(f, "{v}"),
        }
    }
}

/// A label value as the format wants it: backslash, double quote and
/// newline escaped.
fn escape_label_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text: backslash and newline escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Histogram;

    #[test]
    fn a_family_has_help_type_and_samples() {
        let mut e = Exposition::new();
        e.family("berth_x_total", Kind::Counter, "Things.")
            .sample(&[], 3u64)
            .sample(&[("type", "discover")], 7u64);
        e.family("berth_up", Kind::Gauge, "Up.").sample(&[], true);
        assert_eq!(
            e.finish(),
            "# HELP berth_x_total Things.\n# TYPE berth_x_total counter\nberth_x_total 3\n\
             berth_x_total{type=\"discover\"} 7\n\
             # HELP berth_up Up.\n# TYPE berth_up gauge\nberth_up 1\n"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut e = Exposition::new();
        e.family("m", Kind::Gauge, "back\\slash\nnewline").sample(
            &[("a", "q\"uote"), ("b", "back\\slash"), ("c", "new\nline")],
            1u64,
        );
        let text = e.finish();
        assert!(
            text.starts_with("# HELP m back\\\\slash\\nnewline\n"),
            "{text}"
        );
        assert!(
            text.contains("m{a=\"q\\\"uote\",b=\"back\\\\slash\",c=\"new\\nline\"} 1\n"),
            "{text}"
        );
        // Every sample stays on one line whatever its labels hold.
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn floats_and_specials() {
        assert_eq!(Value::Float(0.005).to_string(), "0.005");
        assert_eq!(Value::Float(1.0).to_string(), "1");
        assert_eq!(Value::Float(f64::INFINITY).to_string(), "+Inf");
        assert_eq!(Value::Float(f64::NEG_INFINITY).to_string(), "-Inf");
        assert_eq!(Value::Float(f64::NAN).to_string(), "NaN");
    }

    #[test]
    fn histograms_are_cumulative_with_inf_sum_and_count() {
        let h = Histogram::new(&[1, 10], 0.001);
        for v in [0, 1, 5, 50] {
            h.observe(v);
        }
        let mut e = Exposition::new();
        e.family("lat_seconds", Kind::Histogram, "Latency.")
            .histogram(&[("store", "sqlite")], &h.snapshot());
        let text = e.finish();
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            [
                "lat_seconds_bucket{store=\"sqlite\",le=\"0.001\"} 2",
                "lat_seconds_bucket{store=\"sqlite\",le=\"0.01\"} 3",
                "lat_seconds_bucket{store=\"sqlite\",le=\"+Inf\"} 4",
                "lat_seconds_sum{store=\"sqlite\"} 0.056",
                "lat_seconds_count{store=\"sqlite\"} 4",
            ]
        );
    }
}
