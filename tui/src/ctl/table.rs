//! A plain text table: a header row and aligned columns separated by two
//! spaces, no trailing blanks (so output diffs and greps cleanly).

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// For text.
    Left,
    /// For numbers, so digits line up.
    Right,
}

/// A table being built.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers, all left-aligned.
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            align: vec![Align::Left; headers.len()],
            rows: Vec::new(),
        }
    }

    /// Right-aligns column `col`.
    pub fn right(mut self, col: usize) -> Self {
        if let Some(a) = self.align.get_mut(col) {
            *a = Align::Right;
        }
        self
    }

    /// Appends a row; missing cells are blank, extra cells are dropped.
    /// Control characters are escaped here, before widths are measured, so
    /// a client's host name can neither drive the terminal nor skew columns.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells
            .into_iter()
            .map(|c| match crate::text::printable(&c) {
                std::borrow::Cow::Borrowed(_) => c,
                std::borrow::Cow::Owned(escaped) => escaped,
            })
            .collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        self.render_lines(&self.widths(), true)
    }

    /// Each column's width: its widest cell or header, in chars.
    pub fn widths(&self) -> Vec<usize> {
        // Width in chars, not bytes: hostnames may be non-ASCII.
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        widths
    }

    /// The rows (after the header when `header`) padded to `widths`, e.g.
    /// a later page of a streamed table with the first page's widths; a
    /// wider cell pushes only its own line out of line.
    pub fn render_lines(&self, widths: &[usize], header: bool) -> String {
        let mut out = String::new();
        let head: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        let head = header.then_some(&head);
        for row in head.into_iter().chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count());
                match self.align[i] {
                    Align::Left => {
                        line.push_str(cell);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A table printed page by page: the first page's widths hold for the
/// rest, widened to `min` when more pages follow (so columns of bounded
/// width, such as addresses, stay in line).
#[derive(Debug, Default)]
pub struct TableStream {
    widths: Option<Vec<usize>>,
    min: Vec<usize>,
}

impl TableStream {
    /// A stream whose columns are at least `min` wide when it has more
    /// than one page.
    pub fn with_min(min: &[usize]) -> Self {
        TableStream {
            widths: None,
            min: min.to_vec(),
        }
    }

    /// The text for the next page's rows (with the header on the first);
    /// `more`: other pages follow.
    pub fn page(&mut self, t: &Table, more: bool) -> String {
        if t.is_empty() {
            return String::new();
        }
        match &self.widths {
            Some(w) => t.render_lines(w, false),
            None => {
                let mut w = t.widths();
                if more {
                    for (w, m) in w.iter_mut().zip(&self.min) {
                        *w = (*w).max(*m);
                    }
                }
                let text = t.render_lines(&w, true);
                self.widths = Some(w);
                text
            }
        }
    }

    /// Whether any row has been printed.
    pub fn started(&self) -> bool {
        self.widths.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_table_keeps_the_first_pages_widths() {
        let mut first = Table::new(&["NAME", "N"]);
        first.row(vec!["alpha".into(), "1".into()]);
        let mut second = Table::new(&["NAME", "N"]);
        second.row(vec!["b".into(), "2".into()]);
        let mut s = TableStream::default();
        let mut out = s.page(&Table::new(&["NAME", "N"]), true);
        assert!(!s.started());
        out += &s.page(&first, true);
        out += &s.page(&second, false);
        assert_eq!(out, "NAME   N\nalpha  1\nb      2\n");
        let mut s = TableStream::with_min(&[7, 0]);
        assert_eq!(s.page(&second, true), "NAME     N\nb        2\n");
        let mut s = TableStream::with_min(&[7, 0]);
        assert_eq!(
            s.page(&second, false),
            "NAME  N\nb     2\n",
            "one page: as Table"
        );
    }

    #[test]
    fn aligns_columns_and_trims() {
        let mut t = Table::new(&["NAME", "N", "NOTE"]).right(1);
        t.row(vec!["a".into(), "1".into(), "".into()]);
        t.row(vec!["längere".into(), "100".into(), "x".into()]);
        assert_eq!(
            t.render(),
            "NAME       N  NOTE\n\
             a          1\n\
             längere  100  x\n"
        );
    }
}
