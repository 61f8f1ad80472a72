//! Tests of `[option_space.*]`, `[[option_def]]`, `[[class]]` and the boot
//! fields: what they build, and each refusal's message and position.

use std::net::Ipv4Addr;

use super::super::tests::{assert_only_error, errors, ok, with_server};
use super::*;
use crate::options::{OptionKey, Space, Template};

const SUBNET: [&str; 3] = [
    "[[subnet]]",
    "cidr = \"192.0.2.0/24\"",
    "range = [\"192.0.2.100\", \"192.0.2.190\"]",
];

fn with_subnet(rest: &[&str]) -> String {
    let mut lines = SUBNET.to_vec();
    lines.extend_from_slice(rest);
    with_server(&lines)
}

/// The seed's whole configuration, as contrib/examples ships it.
#[test]
fn the_isc_bundle_example_is_valid_and_builds_the_snom_class() {
    let c = ok(include_str!("../../../contrib/examples/isc-bundle.toml"));
    let snom = Space::Vendor("snom".into());
    assert_eq!(
        c.catalogue
            .get(&OptionKey {
                space: snom.clone(),
                code: 67
            })
            .map(|d| d.name.to_string()),
        Some("bootfile-name".into())
    );
    let [class] = c.classes.as_slice() else {
        panic!("one class: {:?}", c.classes);
    };
    assert_eq!(class.name, "snom");
    assert_eq!(class.matcher, Match::VendorClassPrefix(b"snom".to_vec()));
    assert_eq!(class.vendor_space.as_deref(), Some("snom"));
    assert_eq!(class.next_server, Some(Ipv4Addr::new(192, 168, 0, 1)));
    assert_eq!(class.filename.as_deref(), Some("snom/snom370.cfg"));
    let template = Value::Template(Template::parse("snom/{vendor_class}.htm").expect("parses"));
    assert_eq!(class.options.value(67), Some(&template));
    assert_eq!(
        class.options.value(66),
        Some(&Value::Text("tftp://192.168.0.1".into()))
    );
    assert_eq!(
        class.options.value(42),
        Some(&Value::IpList(vec![Ipv4Addr::new(192, 168, 0, 1)]))
    );
    let sub = &class.vendor["snom"];
    assert_eq!(sub.value(67), Some(&template));
    assert_eq!(
        sub.value(66),
        Some(&Value::Text("tftp://192.168.0.1".into()))
    );
    assert!(c.server.bootp && c.server.authoritative);
    assert_eq!((c.server.default_lease, c.server.max_lease), (7200, 43200));
}

#[test]
fn match_rules_build_their_tree() {
    let c = ok(&with_subnet(&[
        "[[class]]",
        "name = \"pxe\"",
        "match = { option = { code = 60, prefix = \"PXEClient\" }, known = false, not = { mac_prefix = \"00-04-13\" } }",
        "[[class]]",
        "name = \"either\"",
        "match = { any = [{ vendor_class = \"a\" }, { user_class = \"iPXE\" }, { circuit_id = \"p1\" }, { remote_id = \"r\" }] }",
        "[[class]]",
        "name = \"arch\"",
        "match = { option = { code = 93, equals = \"x\", offset = 1 } }",
        "[[class]]",
        "name = \"vc\"",
        "match = { all = [{ option = { code = 77, present = true } }, { option = { code = 60, contains = \"370\" } }] }",
    ]));
    let m: Vec<&Match> = c.classes.iter().map(|k| &k.matcher).collect();
    assert_eq!(
        m[0],
        &Match::All(vec![
            Match::Option {
                code: 60,
                offset: 0,
                test: Test::Prefix(b"PXEClient".to_vec())
            },
            Match::Known(false),
            Match::Not(Box::new(Match::MacPrefix(vec![0, 4, 0x13]))),
        ])
    );
    assert_eq!(
        m[1],
        &Match::Any(vec![
            Match::VendorClass(b"a".to_vec()),
            Match::UserClass(b"iPXE".to_vec()),
            Match::CircuitId(b"p1".to_vec()),
            Match::RemoteId(b"r".to_vec()),
        ])
    );
    assert_eq!(
        m[2],
        &Match::Option {
            code: 93,
            offset: 1,
            test: Test::Equals(b"x".to_vec())
        }
    );
    assert_eq!(
        m[3],
        &Match::All(vec![
            Match::Option {
                code: 77,
                offset: 0,
                test: Test::Present(true)
            },
            Match::Option {
                code: 60,
                offset: 0,
                test: Test::Contains(b"370".to_vec())
            },
        ])
    );
}

#[test]
fn class_fields_and_custom_options() {
    let c = ok(&with_subnet(&[
        "[[option_def]]",
        "name = \"my-option\"",
        "code = 224",
        "type = \"u16-list\"",
        "[[class]]",
        "name = \"phones\"",
        "match = { vendor_class_prefix = \"snom\" }",
        "server_name = \"tftp1\"",
        "lease = \"1h\"",
        "max_lease = \"2h\"",
        "options = { my-option = [1, 2] }",
    ]));
    let k = &c.classes[0];
    assert_eq!(k.server_name.as_deref(), Some("tftp1"));
    assert_eq!((k.lease, k.max_lease), (Some(3600), Some(7200)));
    assert_eq!(k.options.value(224), Some(&Value::U16List(vec![1, 2])));
}

#[test]
fn boot_fields_at_server_subnet_and_host_level() {
    let c = ok(&doc_with(&[
        "[server]",
        "interfaces = [\"eth1\"]",
        "next_server = \"192.0.2.9\"",
        "filename = \"{mac}.cfg\"",
        "server_name = \"boot\"",
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "server_name = \"sub\"",
        "[[host]]",
        "name = \"h\"",
        "mac = \"02:00:00:00:00:01\"",
        "ip = \"192.0.2.5\"",
        "server_name = \"host\"",
    ]));
    assert_eq!(c.server.next_server, Some(Ipv4Addr::new(192, 0, 2, 9)));
    assert_eq!(c.server.filename.as_deref(), Some("{mac}.cfg"));
    assert_eq!(c.server.server_name.as_deref(), Some("boot"));
    assert_eq!(c.subnets[0].server_name.as_deref(), Some("sub"));
    assert_eq!(c.hosts[0].server_name.as_deref(), Some("host"));
}

fn doc_with(lines: &[&str]) -> String {
    let mut t = lines.join("\n");
    t.push('\n');
    t
}

#[test]
fn unknown_template_field_is_reported_at_its_column() {
    let text = with_subnet(&[
        "[[class]]",
        "name = \"snom\"",
        "match = { vendor_class_prefix = \"snom\" }",
        "filename = \"snom/{vendor}.cfg\"",
    ]);
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("berth.toml:9:18: filename: unknown template field `{vendor}`"),
        "{e:?}"
    );
    let text = with_subnet(&[
        "[[class]]",
        "name = \"snom\"",
        "match = { vendor_class_prefix = \"snom\" }",
        "options = { bootfile-name = \"snom/{vendor}.htm\" }",
    ]);
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(
            "berth.toml:9:29: option `bootfile-name`: unknown template field `{vendor}`"
        ),
        "{e:?}"
    );
}

#[test]
fn vendor_space_options_must_name_a_defined_space_and_option() {
    let text = with_subnet(&[
        "[option_space.snom]",
        "tftp-server-name = { code = 66, type = \"text\" }",
        "[options]",
        "\"snom.tftp-server\" = \"x\"",
        "\"polycom.x\" = \"y\"",
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:9:1: option space `snom` has no option `tftp-server`",
            "berth.toml:10:1: unknown option space `polycom` (define it in [option_space.polycom])",
        ]
    );
    let text = with_subnet(&[
        "[option_space.snom]",
        "tftp-server-name = { code = 66, type = \"text\" }",
        "[options]",
        "\"snom.tftp-server-name\" = 5",
    ]);
    assert_only_error(
        &text,
        9,
        27,
        "option `snom.tftp-server-name`: expected a string, found integer 5",
    );
}

#[test]
fn definitions_are_checked() {
    let text = with_subnet(&[
        "[option_space.snom]",
        "a = { code = 66, type = \"text\" }",
        "b = { code = 66, type = \"text\" }",
        "c = { code = 0, type = \"text\" }",
        "d = { code = 7, type = \"string\" }",
    ]);
    let e = errors(&text);
    assert_eq!(
        e,
        vec![
            "berth.toml:8:14: option space `snom`: code 66 is already `a` (line 7)",
            "berth.toml:9:14: code: 0 is not an option code (1 to 254)",
            "berth.toml:10:24: type: unknown option type `string`; expected one of text, ip, ip-list, ip-pairs, classless-routes, u8, u16, u32, i32, bool, hex, u8-list, u16-list, u32-list, domain-list, string-list",
        ]
    );
    let text = with_subnet(&[
        "[[option_def]]",
        "name = \"mine\"",
        "code = 66",
        "type = \"text\"",
    ]);
    assert_only_error(
        &text,
        8,
        8,
        "option_def: code 66 is already the option `tftp-server-name`",
    );
}

#[test]
fn class_refusals() {
    let text = with_subnet(&[
        "[[class]]",
        "name = \"a\"",
        "match = {}",
        "vendor_space = \"nope\"",
        "[[class]]",
        "name = \"a\"",
        "match = { mac_prefix = \"zz\", option = { code = 60 } }",
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:8:9: match: is empty; give a rule like { vendor_class_prefix = \"snom\" }",
            "berth.toml:9:16: vendor_space: no option space `nope` is defined (add [option_space.nope])",
            "berth.toml:11:8: duplicate class name `a` (first defined on line 7)",
            "berth.toml:12:24: mac_prefix: `zz` is not 1 to 6 hex pairs like \"00:04:13\"",
            "berth.toml:12:39: option: give exactly one of `equals`, `prefix`, `contains`, `present`",
        ]
    );
}
