//! Which options go into a reply, and where each value came from.
//!
//! [`resolve`] is the one place that decides. Its input is the ordered list
//! of scopes that apply to a client (global, subnet, range, classes in
//! declaration order, host), least specific first; a value in a later scope
//! overrides the same option in an earlier one. Each chosen value keeps its
//! [`Source`], which is what `berth explain` prints.
//!
//! Vendor spaces resolve the same way, per (space, code), once scopes carry
//! them; the chosen sub-options of the selected space are then encoded into
//! option 43.

use std::fmt;

use super::server_set::is_server_set;
use super::set::{OptionBytes, Options};
use super::template::Facts;
use super::value::Value;
use super::vendor::{NO_VENDOR, VendorOptions};

/// The kind of scope a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source<'a> {
    /// `[options]`.
    Global,
    /// The client's `[[subnet]]`.
    Subnet,
    /// The range the client's address is in.
    Range,
    /// A class the client is a member of, by name.
    Class(&'a str),
    /// The client's static host (its options, and its name as `host-name`).
    Host,
}

impl fmt::Display for Source<'_> {
    /// As `explain` names it: `global`, `subnet`, `range`, `class NAME`, `host`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Global => f.write_str("global"),
            Source::Subnet => f.write_str("subnet"),
            Source::Range => f.write_str("range"),
            Source::Class(name) => write!(f, "class {name}"),
            Source::Host => f.write_str("host"),
        }
    }
}

/// One scope's options.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// What the scope is.
    pub source: Source<'a>,
    /// What it sets.
    pub options: &'a Options<Value>,
    /// What it sets in vendor spaces.
    pub vendor: &'a VendorOptions,
}

impl<'a> Scope<'a> {
    /// A scope of kind `source` setting `options` (and nothing in vendor
    /// spaces).
    pub fn new(source: Source<'a>, options: &'a Options<Value>) -> Self {
        Scope {
            source,
            options,
            vendor: &NO_VENDOR,
        }
    }

    /// The same scope, also setting `vendor` options.
    pub fn with_vendor(self, vendor: &'a VendorOptions) -> Self {
        Scope { vendor, ..self }
    }
}

/// One option a reply carries: the winning value and its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chosen<'a> {
    /// The code (in the DHCP space, or a vendor space's sub-option code).
    pub code: u8,
    /// The value, not yet encoded.
    pub value: &'a Value,
    /// The scope it came from.
    pub source: Source<'a>,
}

impl Chosen<'_> {
    /// The wire bytes for a request with these facts (`None`: a template
    /// whose fact is missing, so the option is not sent).
    pub fn encode(&self, facts: &Facts) -> Option<OptionBytes> {
        self.value.encode_with(facts)
    }
}

/// The options a reply carries, from `scopes` (least specific first).
///
/// With a parameter request list (`requested`), only the options asked for,
/// in the client's order; without one, every configured option, the most
/// specific scope's first, each scope in its own (file) order. Options the
/// server sets itself ([`super::SERVER_SET`]) are never chosen, whatever the
/// scopes or the client say.
pub fn resolve<'a>(scopes: &[Scope<'a>], requested: Option<&[u8]>) -> Vec<Chosen<'a>> {
    let winner = |code: u8| -> Option<Chosen<'a>> {
        scopes.iter().rev().find_map(|s| {
            s.options.value(code).map(|value| Chosen {
                code,
                value,
                source: s.source,
            })
        })
    };
    let mut chosen: Vec<Chosen<'a>> = Vec::new();
    let mut consider = |code: u8| {
        if !is_server_set(code)
            && !chosen.iter().any(|c| c.code == code)
            && let Some(c) = winner(code)
        {
            chosen.push(c);
        }
    };
    match requested {
        Some(codes) => codes.iter().copied().for_each(&mut consider),
        None => scopes
            .iter()
            .rev()
            .flat_map(|s| s.options.codes())
            .for_each(&mut consider),
    }
    chosen
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ip(last: u8) -> Value {
        Value::IpList(vec![Ipv4Addr::new(192, 0, 2, last)])
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    fn summary<'a>(chosen: &[Chosen<'a>]) -> Vec<(u8, Value, Source<'a>)> {
        chosen
            .iter()
            .map(|c| (c.code, c.value.clone(), c.source))
            .collect()
    }

    /// Global < subnet < range < classes in declaration order < host, and
    /// every value says where it came from.
    #[test]
    fn later_scopes_override_earlier_ones_and_keep_their_source() {
        let global: Options<Value> = [(3, ip(1)), (6, ip(53)), (15, text("global"))]
            .into_iter()
            .collect();
        let subnet: Options<Value> = [(3, ip(2)), (42, ip(123))].into_iter().collect();
        let range: Options<Value> = [(42, ip(124))].into_iter().collect();
        let first: Options<Value> = [(66, text("first")), (67, text("a.cfg"))]
            .into_iter()
            .collect();
        let second: Options<Value> = [(66, text("second"))].into_iter().collect();
        let host: Options<Value> = [(15, text("host"))].into_iter().collect();
        let scopes = [
            Scope::new(Source::Global, &global),
            Scope::new(Source::Subnet, &subnet),
            Scope::new(Source::Range, &range),
            Scope::new(Source::Class("first"), &first),
            Scope::new(Source::Class("second"), &second),
            Scope::new(Source::Host, &host),
        ];
        let chosen = resolve(&scopes, Some(&[3, 6, 15, 42, 66, 67]));
        let got: Vec<_> = chosen.iter().map(|c| (c.code, c.source)).collect();
        assert_eq!(
            got,
            vec![
                (3, Source::Subnet),
                (6, Source::Global),
                (15, Source::Host),
                (42, Source::Range),
                (66, Source::Class("second")),
                (67, Source::Class("first")),
            ]
        );
        assert_eq!(chosen[0].value, &ip(2));
        assert_eq!(chosen[4].source.to_string(), "class second");
        assert_eq!(chosen[2].value, &text("host"));
        assert_eq!(chosen[4].value, &text("second"));
    }

    #[test]
    fn request_list_picks_and_orders_and_skips_what_is_not_configured() {
        let global: Options<Value> = [(3, ip(1)), (6, ip(53)), (15, text("x"))]
            .into_iter()
            .collect();
        let scopes = [Scope::new(Source::Global, &global)];
        let codes = |requested: &[u8]| -> Vec<u8> {
            resolve(&scopes, Some(requested))
                .iter()
                .map(|c| c.code)
                .collect()
        };
        assert_eq!(codes(&[15, 200, 3, 15]), [15, 3]);
        assert_eq!(codes(&[]), Vec::<u8>::new());
    }

    #[test]
    fn without_a_request_list_everything_configured_most_specific_first() {
        let global: Options<Value> = [(6, ip(53)), (3, ip(1))].into_iter().collect();
        let subnet: Options<Value> = [(15, text("s")), (3, ip(2))].into_iter().collect();
        let host: Options<Value> = [(42, ip(9))].into_iter().collect();
        let range = Options::new();
        let scopes = [
            Scope::new(Source::Global, &global),
            Scope::new(Source::Subnet, &subnet),
            Scope::new(Source::Range, &range),
            Scope::new(Source::Host, &host),
        ];
        assert_eq!(
            summary(&resolve(&scopes, None)),
            vec![
                (42, ip(9), Source::Host),
                (15, text("s"), Source::Subnet),
                (3, ip(2), Source::Subnet),
                (6, ip(53), Source::Global),
            ]
        );
    }

    /// Whatever a scope holds (a run-time host, a future class), a code the
    /// server sets itself is never chosen, requested or not.
    #[test]
    fn server_set_options_are_never_chosen() {
        let global: Options<Value> = [
            (56, text("configured message")),
            (1, Value::Ip(Ipv4Addr::new(255, 0, 0, 0))),
            (51, Value::U32(5)),
            (3, ip(1)),
        ]
        .into_iter()
        .collect();
        let scopes = [Scope::new(Source::Global, &global)];
        let codes = |chosen: Vec<Chosen<'_>>| chosen.iter().map(|c| c.code).collect::<Vec<_>>();
        assert_eq!(codes(resolve(&scopes, None)), [3]);
        assert_eq!(codes(resolve(&scopes, Some(&[56, 1, 51, 3]))), [3]);
    }
}
