//! Vendor spaces: options in a named space, resolved per (space, code) over
//! the same scopes as the DHCP space, and encapsulated into option 43
//! (RFC 2132 section 8.4) for the space a class selects.

use std::collections::BTreeMap;

use super::resolve::{Chosen, Scope};
use super::set::Options;
use super::template::Facts;
use super::value::Value;

/// One scope's vendor-space options: space name -> its sub-options.
pub type VendorOptions = BTreeMap<String, Options<Value>>;

/// A scope that sets nothing in any vendor space.
pub static NO_VENDOR: VendorOptions = BTreeMap::new();

/// The sub-options of `space` that `scopes` set (least specific first; a
/// later scope overrides the same code), ordered by code, each with the
/// scope it came from.
pub fn resolve_space<'a>(scopes: &[Scope<'a>], space: &str) -> Vec<Chosen<'a>> {
    let mut chosen: BTreeMap<u8, Chosen<'a>> = BTreeMap::new();
    for scope in scopes {
        let Some(options) = scope.vendor.get(space) else {
            continue;
        };
        for (code, value) in options.entries() {
            chosen.insert(
                code,
                Chosen {
                    code,
                    value,
                    source: scope.source,
                },
            );
        }
    }
    chosen.into_values().collect()
}

/// Option 43's value for these sub-options: each as code, length, data.
/// A template whose fact the request lacks is left out; `None` when nothing
/// is left.
pub fn encapsulate(subs: &[Chosen<'_>], facts: &Facts) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for sub in subs {
        let Some(data) = sub.value.encode_with(facts) else {
            continue;
        };
        // One sub-option holds 255 bytes; values were checked to fit when
        // parsed, a filled template is cut rather than corrupting the rest.
        let data = &data[..data.len().min(255)];
        out.push(sub.code);
        out.push(data.len() as u8);
        out.extend_from_slice(data);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::resolve::Source;
    use crate::options::template::Template;

    fn text(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    fn space(entries: &[(u8, Value)]) -> VendorOptions {
        [("snom".to_string(), entries.iter().cloned().collect())]
            .into_iter()
            .collect()
    }

    #[test]
    fn sub_options_resolve_by_precedence_and_encapsulate_in_code_order() {
        let none = Options::new();
        let global = space(&[(67, text("global.htm")), (2, text("g"))]);
        let class = space(&[(67, text("class.htm")), (66, text("tftp://192.0.2.1"))]);
        let scopes = [
            Scope::new(Source::Global, &none).with_vendor(&global),
            Scope::new(Source::Class("snom"), &none).with_vendor(&class),
        ];
        let subs = resolve_space(&scopes, "snom");
        let got: Vec<_> = subs.iter().map(|c| (c.code, c.source)).collect();
        assert_eq!(
            got,
            [
                (2, Source::Global),
                (66, Source::Class("snom")),
                (67, Source::Class("snom"))
            ]
        );
        let bytes = encapsulate(&subs, &Facts::default()).expect("something to send");
        let mut want = vec![2, 1, b'g', 66, 16];
        want.extend_from_slice(b"tftp://192.0.2.1");
        want.extend_from_slice(&[67, 9]);
        want.extend_from_slice(b"class.htm");
        assert_eq!(bytes, want);
        assert!(resolve_space(&scopes, "other").is_empty());
    }

    #[test]
    fn templates_fill_and_an_unfillable_one_is_left_out() {
        let none = Options::new();
        let vendor = space(&[
            (
                67,
                Value::Template(Template::parse("snom/{vendor_class}.htm").expect("parses")),
            ),
            (
                68,
                Value::Template(Template::parse("{circuit_id}").expect("parses")),
            ),
        ]);
        let scopes = [Scope::new(Source::Class("snom"), &none).with_vendor(&vendor)];
        let facts = Facts {
            vendor_class: Some("snom370".into()),
            ..Facts::default()
        };
        let subs = resolve_space(&scopes, "snom");
        let mut want = vec![67, 16];
        want.extend_from_slice(b"snom/snom370.htm");
        assert_eq!(encapsulate(&subs, &facts), Some(want));
        assert_eq!(encapsulate(&subs[1..], &facts), None);
    }
}
