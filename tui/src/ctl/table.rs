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

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        // Width in chars, not bytes: hostnames may be non-ASCII.
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
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

#[cfg(test)]
mod tests {
    use super::*;

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
