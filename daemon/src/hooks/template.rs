//! Hook arguments as templates over the event: `"{ip}"`, `"lease-{mac}"`.
//! `{{` and `}}` are literal braces. A field that is not known is an error
//! when the configuration is checked, never a surprise at run time.

use std::fmt;

use super::{HookEvent, hex};

/// A field an argument can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Event,
    Ip,
    Mac,
    Hostname,
    ClientId,
    VendorClass,
    Interface,
}

impl Field {
    /// Every field, as written between braces.
    pub const ALL: [(&'static str, Field); 7] = [
        ("event", Field::Event),
        ("ip", Field::Ip),
        ("mac", Field::Mac),
        ("hostname", Field::Hostname),
        ("client_id", Field::ClientId),
        ("vendor_class", Field::VendorClass),
        ("interface", Field::Interface),
    ];

    fn parse(name: &str) -> Option<Field> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The field's value for `e`; empty when the event has none.
    fn value(self, e: &HookEvent) -> String {
        match self {
            Field::Event => e.kind.as_str().to_string(),
            Field::Ip => e
                .lease
                .as_ref()
                .map(|l| l.ip.to_string())
                .unwrap_or_default(),
            Field::Mac => e.mac.clone().unwrap_or_default(),
            Field::Hostname => e.hostname.clone().unwrap_or_default(),
            Field::ClientId => e.client_id.as_deref().map(hex).unwrap_or_default(),
            Field::VendorClass => e.vendor_class.clone().unwrap_or_default(),
            Field::Interface => e.interface.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// A parsed argument template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

/// Why a template does not parse; `offset` is the byte offset in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown field `{{{name}}}`, expected one of {}", field_list())]
    UnknownField { name: String, offset: usize },
    #[error("`{{` is not closed (write `{{{{` for a literal brace)")]
    Unclosed { offset: usize },
    #[error("`}}` without `{{` (write `}}}}` for a literal brace)")]
    Stray { offset: usize },
}

impl TemplateError {
    /// Where in the template the problem starts.
    pub fn offset(&self) -> usize {
        match self {
            TemplateError::UnknownField { offset, .. }
            | TemplateError::Unclosed { offset }
            | TemplateError::Stray { offset } => *offset,
        }
    }
}

fn field_list() -> String {
    Field::ALL
        .iter()
        .map(|(n, _)| format!("`{{{n}}}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text.char_indices().peekable();
        while let Some((i, c)) = rest.next() {
            match c {
                '{' if rest.peek().map(|p| p.1) == Some('{') => {
                    rest.next();
                    lit.push('{');
                }
                '}' if rest.peek().map(|p| p.1) == Some('}') => {
                    rest.next();
                    lit.push('}');
                }
                '}' => return Err(TemplateError::Stray { offset: i }),
                '{' => {
                    let body = &text[i + 1..];
                    let Some(end) = body.find('}') else {
                        return Err(TemplateError::Unclosed { offset: i });
                    };
                    let name = &body[..end];
                    let field = Field::parse(name).ok_or_else(|| TemplateError::UnknownField {
                        name: name.to_string(),
                        offset: i,
                    })?;
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Field(field));
                    // Skip the name and the closing brace.
                    for _ in 0..=name.chars().count() {
                        rest.next();
                    }
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template(parts))
    }

    /// The argument for event `e`: the fields' values put in as they are,
    /// whatever characters they hold (no shell ever reads them).
    pub fn render(&self, e: &HookEvent) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Field(f) => f.value(e),
            })
            .collect()
    }
}

impl fmt::Display for Template {
    /// As written (braces in text doubled again).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            match p {
                Part::Text(t) => f.write_str(&t.replace('{', "{{").replace('}', "}}"))?,
                Part::Field(field) => {
                    let name = Field::ALL
                        .iter()
                        .find(|(_, x)| x == field)
                        .map_or("?", |(n, _)| n);
                    write!(f, "{{{name}}}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::hooks::{HookKind, LeaseFacts};

    fn event() -> HookEvent {
        let mut e = HookEvent::new(HookKind::Commit);
        e.lease = Some(LeaseFacts {
            ip: Ipv4Addr::new(192, 0, 2, 100),
            hostname: Some("vm".into()),
            lease_time: Some(3600),
            expiry: Some(1000),
        });
        e.mac = Some("02:00:00:00:00:aa".into());
        e.hostname = Some("$(reboot);x".into());
        e.client_id = Some(vec![1, 2, 0, 0, 0, 0, 0xaa]);
        e.interface = Some("br0".into());
        e
    }

    #[test]
    fn fields_are_filled_from_the_event() {
        let e = event();
        let render = |t: &str| Template::parse(t).expect(t).render(&e);
        assert_eq!(render("{event}"), "commit");
        assert_eq!(render("{ip}"), "192.0.2.100");
        assert_eq!(render("{mac}"), "02:00:00:00:00:aa");
        assert_eq!(render("id={client_id}"), "id=01:02:00:00:00:00:aa");
        assert_eq!(render("{interface}/{vendor_class}."), "br0/.");
        assert_eq!(render("auth"), "auth");
    }

    #[test]
    fn client_text_is_put_in_verbatim() {
        let t = Template::parse("{hostname}").expect("parses");
        assert_eq!(t.render(&event()), "$(reboot);x");
    }

    #[test]
    fn doubled_braces_are_literal() {
        let t = Template::parse("{{ip}} {ip} }}").expect("parses");
        assert_eq!(t.render(&event()), "{ip} 192.0.2.100 }");
        assert_eq!(t.to_string(), "{{ip}} {ip} }}");
    }

    #[test]
    fn unknown_and_malformed_fields_are_errors_with_their_offset() {
        let e = Template::parse("x-{ipaddr}").expect_err("unknown");
        assert_eq!(e.offset(), 2);
        assert!(e.to_string().contains("unknown field `{ipaddr}`"), "{e}");
        assert!(
            e.to_string().contains("`{hostname}`"),
            "lists the fields: {e}"
        );
        assert_eq!(
            Template::parse("ab{ip").expect_err("unclosed"),
            TemplateError::Unclosed { offset: 2 }
        );
        assert_eq!(
            Template::parse("a}b").expect_err("stray"),
            TemplateError::Stray { offset: 1 }
        );
    }
}
