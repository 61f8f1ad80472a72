//! Diagnostics: what is wrong with a configuration file and where (file,
//! line, column), and the `Reporter` that `raw` and `validate` collect them
//! with.

use std::fmt;
use std::ops::Range as Span;
use std::path::{Path, PathBuf};

/// One problem in a configuration file, with a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong, and where possible how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read configuration: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (in the message, not chained: it would
        /// print twice).
        error: std::io::Error,
    },
    /// The file was read but is not a valid configuration. Never empty.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Diagnostic>),
}

impl ConfigError {
    /// Every diagnostic, in file order (empty for an I/O error).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Io { .. } => &[],
            ConfigError::Invalid(d) => d,
        }
    }
}

fn join_lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collects diagnostics, turning byte spans into lines and columns.
pub(super) struct Reporter<'a> {
    text: &'a str,
    source: &'a Path,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    diagnostics: Vec<(usize, Diagnostic)>,
}

impl<'a> Reporter<'a> {
    pub(super) fn new(text: &'a str, source: &'a Path) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Reporter {
            text,
            source,
            line_starts,
            diagnostics: Vec::new(),
        }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line.max(1), column + 1)
    }

    /// The 1-based line of a span's start, for "first defined on line N".
    pub(super) fn line(&self, span: &Span<usize>) -> usize {
        self.position(span.start).0
    }

    /// Record an error at `span`.
    pub(super) fn error(&mut self, span: Span<usize>, message: impl Into<String>) {
        let (line, column) = self.position(span.start);
        self.diagnostics.push((
            span.start,
            Diagnostic {
                file: self.source.to_path_buf(),
                line,
                column,
                message: message.into(),
            },
        ));
    }

    /// Record a toml parse or deserialize error; `fallback` is used when the
    /// error carries no span of its own.
    pub(super) fn toml_error(&mut self, error: &toml::de::Error, fallback: Span<usize>) {
        let span = error.span().unwrap_or(fallback);
        // serde speaks of sequences and maps; the person editing the file
        // sees TOML arrays and tables.
        let message = error
            .message()
            .trim_end()
            .replace("expected a sequence", "expected an array")
            .replace("expected a map", "expected a table");
        self.error(span, message);
    }

    /// The diagnostics in file order, or None if there were none.
    pub(super) fn finish(mut self) -> Option<Vec<Diagnostic>> {
        if self.diagnostics.is_empty() {
            return None;
        }
        // Stable, so two errors at one spot keep the order they were found in.
        self.diagnostics.sort_by_key(|(offset, _)| *offset);
        Some(self.diagnostics.into_iter().map(|(_, d)| d).collect())
    }
}
