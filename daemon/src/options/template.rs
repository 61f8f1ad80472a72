//! Templates: text values with fields filled from the request at reply time,
//! like `"snom/{vendor_class}.htm"` (ISC's `concat("snom/", option
//! vendor-class-identifier, ".htm")`).
//!
//! A template is parsed once, when the configuration is read, so an unknown
//! field is a configuration error; filling it is a pure function of the
//! [`Facts`] the engine gathers from the request. A template whose field the
//! request does not supply yields nothing (ISC: a `concat` with a null
//! operand is null), so the option, or the boot field, is left out rather
//! than sent half filled.

use std::fmt;
use std::net::Ipv4Addr;

use crate::addr::{Dotted, MacAddr};

/// A field a template can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Option 60, as text.
    VendorClass,
    /// Option 77, as text (RFC 3004 instances joined with `,`).
    UserClass,
    /// The client's MAC, `aa:bb:cc:dd:ee:ff`.
    Mac,
    /// The client's host name: its static host's name, else option 12.
    Hostname,
    /// The address the reply gives (yiaddr, or ciaddr for an INFORM).
    Ip,
    /// Relay agent circuit id (option 82 sub-option 1), as text.
    CircuitId,
    /// Relay agent remote id (option 82 sub-option 2), as text.
    RemoteId,
}

impl Field {
    /// Every field, for messages.
    pub const ALL: [Field; 7] = [
        Field::VendorClass,
        Field::UserClass,
        Field::Mac,
        Field::Hostname,
        Field::Ip,
        Field::CircuitId,
        Field::RemoteId,
    ];

    /// Its name inside braces.
    pub fn name(self) -> &'static str {
        match self {
            Field::VendorClass => "vendor_class",
            Field::UserClass => "user_class",
            Field::Mac => "mac",
            Field::Hostname => "hostname",
            Field::Ip => "ip",
            Field::CircuitId => "circuit_id",
            Field::RemoteId => "remote_id",
        }
    }

    fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What a template may be filled with: the request's facts, each absent when
/// the request does not carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `{vendor_class}`: option 60.
    pub vendor_class: Option<String>,
    /// `{user_class}`: option 77's classes joined with `,`.
    pub user_class: Option<String>,
    /// `{mac}`: the client's MAC (shown only when a template names it).
    pub mac: Option<MacAddr>,
    /// `{hostname}`: the static host's name, else option 12.
    pub hostname: Option<String>,
    /// `{ip}`: the address the reply gives (shown only when a template
    /// names it).
    pub ip: Option<Ipv4Addr>,
    /// `{circuit_id}`: option 82 sub-option 1.
    pub circuit_id: Option<String>,
    /// `{remote_id}`: option 82 sub-option 2.
    pub remote_id: Option<String>,
}

impl Facts {
    /// Appends the value of `field` to `out`; `None` if the request did
    /// not supply it.
    pub fn push(&self, field: Field, out: &mut String) -> Option<()> {
        fn text(s: &Option<String>) -> Option<&str> {
            s.as_deref()
        }
        match field {
            Field::VendorClass => out.push_str(text(&self.vendor_class)?),
            Field::UserClass => out.push_str(text(&self.user_class)?),
            Field::Mac => out.push_str(self.mac?.text().as_str()),
            Field::Hostname => out.push_str(text(&self.hostname)?),
            Field::Ip => out.push_str(Dotted(self.ip?).text().as_str()),
            Field::CircuitId => out.push_str(text(&self.circuit_id)?),
            Field::RemoteId => out.push_str(text(&self.remote_id)?),
        }
        Some(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    Text(String),
    Field(Field),
}

/// A parsed template. `{{` and `}}` stand for literal braces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template was refused, and at which byte of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// Byte offset inside the template text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Whether `text` uses template syntax at all (a plain string stays plain).
pub fn is_template(text: &str) -> bool {
    text.contains('{') || text.contains('}')
}

impl Template {
    /// Parses `text`; every `{name}` must be a known [`Field`].
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text.char_indices().peekable();
        while let Some((i, c)) = rest.next() {
            match c {
                '{' if rest.peek().is_some_and(|(_, n)| *n == '{') => {
                    rest.next();
                    literal.push('{');
                }
                '}' if rest.peek().is_some_and(|(_, n)| *n == '}') => {
                    rest.next();
                    literal.push('}');
                }
                '{' => {
                    let Some(len) = text[i + 1..].find('}') else {
                        return Err(TemplateError {
                            offset: i,
                            message: "unclosed `{` in template (write `{{` for a literal brace)"
                                .to_string(),
                        });
                    };
                    let name = &text[i + 1..i + 1 + len];
                    let field = Field::from_name(name.trim()).ok_or_else(|| TemplateError {
                        offset: i,
                        message: format!(
                            "unknown template field `{{{name}}}`; known fields: {}",
                            Field::ALL
                                .iter()
                                .map(|f| format!("{{{}}}", f.name()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })?;
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Field(field));
                    // Skip the name and the closing brace.
                    for _ in 0..name.chars().count() + 1 {
                        rest.next();
                    }
                }
                '}' => {
                    return Err(TemplateError {
                        offset: i,
                        message: "unmatched `}` in template (write `}}` for a literal brace)"
                            .to_string(),
                    });
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The fields it names, in order.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Field(f) => Some(*f),
            Part::Text(_) => None,
        })
    }

    /// The filled text; `None` if a field it names is absent or the result
    /// is empty.
    pub fn fill(&self, facts: &Facts) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => facts.push(*f, &mut out)?,
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

impl fmt::Display for Template {
    /// The template as written (braces in literal text doubled again).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(t) => f.write_str(&t.replace('{', "{{").replace('}', "}}"))?,
                Part::Field(field) => write!(f, "{{{}}}", field.name())?,
            }
        }
        Ok(())
    }
}

/// Fills a configured text (a boot field such as `filename`): a plain string
/// as it is, a template with the request's facts. The text was checked when
/// the configuration was read; should it not parse, it is used as written.
pub fn fill_text(text: &str, facts: &Facts) -> Option<String> {
    if !is_template(text) {
        return Some(text.to_string());
    }
    match Template::parse(text) {
        Ok(t) => t.fill(facts),
        Err(_) => Some(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            vendor_class: Some("snom370".into()),
            mac: Some(MacAddr([2, 0, 0, 0, 0, 1])),
            ip: Some(Ipv4Addr::new(192, 0, 2, 100)),
            ..Facts::default()
        }
    }

    /// The seed's `concat("snom/", option vendor-class-identifier, ".htm")`.
    #[test]
    fn the_isc_concat_case_fills_from_the_vendor_class() {
        let t = Template::parse("snom/{vendor_class}.htm").expect("parses");
        assert_eq!(t.fill(&facts()).as_deref(), Some("snom/snom370.htm"));
        assert_eq!(t.to_string(), "snom/{vendor_class}.htm");
        assert_eq!(t.fields().collect::<Vec<_>>(), [Field::VendorClass]);
    }

    #[test]
    fn every_field_fills_and_an_absent_one_yields_nothing() {
        let all = Facts {
            vendor_class: Some("v".into()),
            user_class: Some("u".into()),
            mac: Some(MacAddr([2, 0, 0, 0, 0, 1])),
            hostname: Some("h".into()),
            ip: Some(Ipv4Addr::new(192, 0, 2, 100)),
            circuit_id: Some("c".into()),
            remote_id: Some("r".into()),
        };
        let t =
            Template::parse("{vendor_class}{user_class}{mac}{hostname}{ip}{circuit_id}{remote_id}")
                .expect("parses");
        assert_eq!(
            t.fill(&all).as_deref(),
            Some("vu02:00:00:00:00:01h192.0.2.100cr")
        );
        assert_eq!(t.fill(&facts()), None, "user_class is absent");
        assert_eq!(
            Template::parse("{ip}-{mac}")
                .expect("parses")
                .fill(&facts())
                .as_deref(),
            Some("192.0.2.100-02:00:00:00:00:01")
        );
    }

    #[test]
    fn doubled_braces_are_literal() {
        let t = Template::parse("a{{b}}{mac}").expect("parses");
        assert_eq!(t.fill(&facts()).as_deref(), Some("a{b}02:00:00:00:00:01"));
        assert_eq!(t.to_string(), "a{{b}}{mac}");
    }

    #[test]
    fn unknown_fields_and_stray_braces_are_refused_with_their_offset() {
        let e = Template::parse("snom/{vendor}.htm").expect_err("unknown field");
        assert_eq!(e.offset, 5);
        assert!(
            e.message.contains("unknown template field `{vendor}`"),
            "{e}"
        );
        assert!(e.message.contains("{vendor_class}"), "{e}");
        assert_eq!(Template::parse("x{mac").expect_err("unclosed").offset, 1);
        assert_eq!(Template::parse("x}").expect_err("unmatched").offset, 1);
    }

    #[test]
    fn plain_text_is_not_a_template() {
        assert!(!is_template("snom/snom370.cfg"));
        assert_eq!(
            fill_text("snom/snom370.cfg", &Facts::default()).as_deref(),
            Some("snom/snom370.cfg")
        );
        assert_eq!(
            fill_text("{vendor_class}.cfg", &facts()).as_deref(),
            Some("snom370.cfg")
        );
        assert_eq!(fill_text("{vendor_class}.cfg", &Facts::default()), None);
    }
}
