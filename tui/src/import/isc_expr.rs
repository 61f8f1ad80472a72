//! ISC dhcpd data expressions (`concat(...)`, `option vendor-class-identifier`,
//! `binary-to-ascii(..., leased-address)`, `set` variables) as Berth
//! template text: what option values and `execute()` arguments become.

use std::collections::HashMap;

use super::isc_lex::Tok;

/// A template field for an ISC data expression naming client data.
fn field_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "vendor-class-identifier" => "{vendor_class}",
        "user-class" => "{user_class}",
        "host-name" | "fqdn.hostname" => "{hostname}",
        "agent.circuit-id" => "{circuit_id}",
        "agent.remote-id" => "{remote_id}",
        _ => return None,
    })
}

/// Whether `w` is `hardware` misspelt (same letters), as in the seed's
/// `substring(hradware, 1, 6)`.
fn hardware_typo(w: &str) -> bool {
    let mut a: Vec<char> = w.chars().collect();
    let mut b: Vec<char> = "hardware".chars().collect();
    a.sort_unstable();
    b.sort_unstable();
    w != "hardware" && a == b
}

/// Translates ISC data expressions into template text.
pub(super) struct Expr<'a> {
    pub toks: &'a [Tok],
    pub i: usize,
    pub vars: &'a HashMap<String, String>,
    /// Remarks for notes (e.g. a typo that was read as meant).
    pub remarks: Vec<String>,
}

impl Expr<'_> {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next() {
            Some(Tok::Punct(p)) if p == c => Ok(()),
            other => Err(format!(
                "expected `{c}`, found {}",
                other.map_or("the end".into(), |t| format!("`{}`", t.text()))
            )),
        }
    }

    /// The arguments of a call, after its name.
    pub fn args(&mut self) -> Result<Vec<String>, String> {
        self.expect('(')?;
        let mut out = Vec::new();
        loop {
            out.push(self.expr()?);
            match self.next() {
                Some(Tok::Punct(',')) => continue,
                Some(Tok::Punct(')')) => return Ok(out),
                other => {
                    return Err(format!(
                        "expected `,` or `)`, found {}",
                        other.map_or("the end".into(), |t| format!("`{}`", t.text()))
                    ));
                }
            }
        }
    }

    /// One expression as template text. Literal braces are doubled.
    pub fn expr(&mut self) -> Result<String, String> {
        let t = self.next().ok_or("an expression is missing")?;
        match t {
            Tok::Str(s) => Ok(s.replace('{', "{{").replace('}', "}}")),
            Tok::Word(w) => match w.as_str() {
                "concat" => Ok(self.args()?.concat()),
                "option" => {
                    let name = self.next().map(|t| t.text()).unwrap_or_default();
                    field_of(&name)
                        .map(str::to_string)
                        .ok_or_else(|| format!("`option {name}` has no Berth template field"))
                }
                "leased-address" => Ok("{ip}".into()),
                "hardware" => Ok("{mac}".into()),
                "host-decl-name" | "ddns-hostname" => Ok("{hostname}".into()),
                "binary-to-ascii" => {
                    let a = self.args()?;
                    match a.last().map(String::as_str) {
                        Some("{ip}") => Ok("{ip}".into()),
                        Some("{mac}") => Ok("{mac}".into()),
                        _ => Err(
                            "binary-to-ascii of something other than the address or the MAC".into(),
                        ),
                    }
                }
                "substring" => {
                    let start = self.i;
                    let a = self.args()?;
                    // substring(hardware, 1, 6): the MAC without the type byte.
                    let of_hardware = matches!(self.toks.get(start + 1), Some(Tok::Word(w)) if w == "hardware" || hardware_typo(w));
                    if of_hardware && a.get(1).map(String::as_str) == Some("1") {
                        Ok("{mac}".into())
                    } else {
                        Err("substring() other than substring(hardware, 1, 6)".into())
                    }
                }
                "pick-first-value" => {
                    let a = self.args()?;
                    a.into_iter()
                        .next()
                        .ok_or_else(|| "pick-first-value() of nothing".to_string())
                }
                w if hardware_typo(w) => {
                    self.remarks.push(format!(
                        "`{w}` is not `hardware` (dhcpd would pass an empty value here); converted as the MAC"
                    ));
                    Ok("{mac}".into())
                }
                w if self.vars.contains_key(w) => Ok(self.vars[w].clone()),
                w if w.chars().all(|c| c.is_ascii_digit()) => Ok(w.to_string()),
                w => Err(format!("`{w}` cannot be converted")),
            },
            Tok::Punct(p) => Err(format!("unexpected `{p}`")),
        }
    }
}
