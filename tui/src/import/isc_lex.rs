//! dhcpd.conf as tokens and statements: words, strings and punctuation,
//! grouped into `words ... ;` and `words ... { statements }` with the line
//! each starts on.

/// A token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A bare word: keyword, name, address, number, MAC.
    Word(String),
    /// A quoted string, unescaped.
    Str(String),
    /// One of `( ) , = ! ~`.
    Punct(char),
}

impl Tok {
    /// The text of a word or string.
    pub fn text(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Str(w) => w.clone(),
            Tok::Punct(c) => c.to_string(),
        }
    }

    /// Whether this is the word `w`.
    pub fn is(&self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x == w)
    }
}

/// A statement: its tokens, its block if it has one, and its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    pub toks: Vec<Tok>,
    pub block: Option<Vec<Stmt>>,
    pub line: usize,
}

impl Stmt {
    /// The statement as text (tokens joined by spaces), for notes.
    pub fn text(&self) -> String {
        let mut s = self
            .toks
            .iter()
            .map(|t| match t {
                Tok::Str(x) => format!("{x:?}"),
                t => t.text(),
            })
            .collect::<Vec<_>>()
            .join(" ");
        if self.block.is_some() {
            s.push_str(" { ... }");
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lexeme {
    Tok(Tok),
    Semi,
    Open,
    Close,
}

/// A syntax error, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

fn lex(text: &str) -> Result<Vec<(usize, Lexeme)>, SyntaxError> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            ';' => out.push((line, Lexeme::Semi)),
            '{' => out.push((line, Lexeme::Open)),
            '}' => out.push((line, Lexeme::Close)),
            '(' | ')' | ',' | '=' | '!' | '~' => out.push((line, Lexeme::Tok(Tok::Punct(c)))),
            '"' => {
                let start = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(SyntaxError {
                                line: start,
                                message: "a string is not closed".into(),
                            });
                        }
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(e) = chars.next() {
                                s.push(match e {
                                    'n' => '\n',
                                    't' => '\t',
                                    e => e,
                                });
                            }
                        }
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            s.push(c);
                        }
                    }
                }
                out.push((start, Lexeme::Tok(Tok::Str(s))));
            }
            c => {
                let mut w = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "#;{}(),=!~\"".contains(n) {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                out.push((line, Lexeme::Tok(Tok::Word(w))));
            }
        }
    }
    Ok(out)
}

/// Parses `text` into statements.
pub fn parse(text: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let lexemes = lex(text)?;
    let mut pos = 0;
    let stmts = block(&lexemes, &mut pos, None)?;
    Ok(stmts)
}

fn block(
    lx: &[(usize, Lexeme)],
    pos: &mut usize,
    opened: Option<usize>,
) -> Result<Vec<Stmt>, SyntaxError> {
    let mut stmts = Vec::new();
    let mut toks = Vec::new();
    let mut start = None;
    while let Some((line, l)) = lx.get(*pos) {
        *pos += 1;
        match l {
            Lexeme::Tok(t) => {
                start.get_or_insert(*line);
                toks.push(t.clone());
            }
            Lexeme::Semi => {
                if !toks.is_empty() {
                    stmts.push(Stmt {
                        toks: std::mem::take(&mut toks),
                        block: None,
                        line: start.take().unwrap_or(*line),
                    });
                }
            }
            Lexeme::Open => {
                let first = start.take().unwrap_or(*line);
                let inner = block(lx, pos, Some(*line))?;
                stmts.push(Stmt {
                    toks: std::mem::take(&mut toks),
                    block: Some(inner),
                    line: first,
                });
            }
            Lexeme::Close => {
                if opened.is_none() {
                    return Err(SyntaxError {
                        line: *line,
                        message: "`}` without `{`".into(),
                    });
                }
                if !toks.is_empty() {
                    return Err(SyntaxError {
                        line: start.unwrap_or(*line),
                        message: "a statement is missing its `;`".into(),
                    });
                }
                return Ok(stmts);
            }
        }
    }
    if let Some(line) = opened {
        return Err(SyntaxError {
            line,
            message: "`{` is not closed".into(),
        });
    }
    if !toks.is_empty() {
        return Err(SyntaxError {
            line: start.unwrap_or(0),
            message: "the last statement is missing its `;`".into(),
        });
    }
    Ok(stmts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_blocks_strings_and_lines() {
        let s = parse(
            "authoritative;\n# comment\nsubnet 10.0.0.0 netmask 255.0.0.0 {\n  option domain-name \"a b\";\n}\n",
        )
        .expect("parses");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].toks, [Tok::Word("authoritative".into())]);
        assert_eq!(s[1].line, 3);
        let inner = s[1].block.as_ref().expect("block");
        assert_eq!(inner[0].line, 4);
        assert_eq!(inner[0].toks[2], Tok::Str("a b".into()));
    }

    #[test]
    fn syntax_errors_have_lines() {
        assert_eq!(parse("a {\n b;\n").expect_err("open").line, 1);
        assert_eq!(parse("a;\n}\n").expect_err("close").line, 2);
        assert_eq!(parse("a;\nb\n").expect_err("semi").line, 2);
    }
}
