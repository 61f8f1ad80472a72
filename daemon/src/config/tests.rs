//! Configuration tests: one per validation rule (message and position), the
//! value types, and a full example.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::field::{human, parse_duration};
use super::*;
use crate::addr::{CidrError, MacAddr};
use crate::options::{Options, Value};

pub(super) const FILE: &str = "berth.toml";

/// Join lines so that line N of the test text is element N-1: positions in
/// the assertions can be read straight off the array.
pub(super) fn doc(lines: &[&str]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// A valid `[server]` on lines 1-2, then `rest` from line 3.
pub(super) fn with_server(rest: &[&str]) -> String {
    let mut lines = vec!["[server]", "interfaces = [\"eth1\"]"];
    lines.extend_from_slice(rest);
    doc(&lines)
}

pub(super) fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn opts<const N: usize>(entries: [(u8, Value); N]) -> Options<Value> {
    entries.into_iter().collect()
}

pub(super) fn ok(text: &str) -> Config {
    match parse(text, Path::new(FILE)) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

/// All diagnostics, as `FILE:LINE:COL: MESSAGE` lines.
pub(super) fn errors(text: &str) -> Vec<String> {
    match parse(text, Path::new(FILE)) {
        Ok(_) => panic!("expected errors, config was valid:\n{text}"),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    }
}

/// Assert that this is the only diagnostic.
#[track_caller]
pub(super) fn assert_only_error(text: &str, line: usize, column: usize, message: &str) {
    let want = format!("{FILE}:{line}:{column}: {message}");
    assert_eq!(errors(text), vec![want]);
}

// ------------------------------------------------------------ full example

const EXAMPLE: &str = r#"[server]
interfaces = ["eth1"]            # required, non-empty
authoritative = true
bootp = false
default_lease = "2h"
max_lease = "12h"
min_lease = "1m"
offer_hold = "30s"
decline_probation = "24h"
server_id = "192.0.2.1"
store = "/var/lib/berth/leases.db"

[options]
domain-name-servers = ["192.0.2.1"]

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.190"]
default_lease = "1h"
max_lease = "4h"
next_server = "192.0.2.1"
filename = "pxelinux.0"
options = { routers = ["192.0.2.1"], domain-name = "home" }

[[subnet]]
cidr = "198.51.100.0/24"
ranges = [["198.51.100.10", "198.51.100.19"], ["198.51.100.30", "198.51.100.39"]]
[subnet.options]
routers = "198.51.100.1"

[[subnet]]
cidr = "203.0.113.0/28"

[[host]]
name = "host1"
mac = "00:23:32:aa:bb:cc"
ip = "192.0.2.2"
options = { host-name = "host1" }
next_server = "192.0.2.5"
filename = "host1.cfg"

[[host]]
name = "phone"
client_id = "01:00:23:32:aa:bb:dd"
ip = "203.0.113.5"
"#;

#[test]
fn full_example_parses_to_expected_structures() {
    let c = ok(EXAMPLE);
    assert_eq!(c.source, PathBuf::from(FILE));
    assert_eq!(
        c.server,
        ServerConfig {
            interfaces: vec!["eth1".to_string()],
            authoritative: true,
            bootp: false,
            adopt_rebooting_clients: false,
            default_lease: 7200,
            max_lease: 43200,
            min_lease: 60,
            offer_hold: 30,
            decline_probation: 86400,
            expiry_grace: 0,
            server_id: Some(ip("192.0.2.1")),
            store: PathBuf::from("/var/lib/berth/leases.db"),
            postgres: None,
            control_socket: PathBuf::from("/run/berth/control.sock"),
            control_group: "berth".into(),
            admin_group: "berth-admin".into(),
            event_buffer: 10_000,
            ..ServerConfig::default()
        }
    );
    assert_eq!(c.options, opts([(6, Value::IpList(vec![ip("192.0.2.1")]))]));
    assert_eq!(
        c.subnets,
        vec![
            Subnet {
                cidr: Cidr {
                    network: ip("192.0.2.0"),
                    prefix: 24
                },
                ranges: vec![Range {
                    start: ip("192.0.2.100"),
                    end: ip("192.0.2.190")
                }],
                // File order: routers before domain-name.
                options: opts([
                    (3, Value::IpList(vec![ip("192.0.2.1")])),
                    (15, Value::Text("home".into())),
                ]),
                default_lease: Some(3600),
                max_lease: Some(4 * 3600),
                next_server: Some(ip("192.0.2.1")),
                filename: Some("pxelinux.0".to_string()),
                server_name: None,
                vendor: Default::default(),
                policies: vec![RangePolicy::open(Range {
                    start: ip("192.0.2.100"),
                    end: ip("192.0.2.190")
                })],
                max_offers: 45,
            },
            Subnet {
                cidr: Cidr {
                    network: ip("198.51.100.0"),
                    prefix: 24
                },
                ranges: vec![
                    Range {
                        start: ip("198.51.100.10"),
                        end: ip("198.51.100.19")
                    },
                    Range {
                        start: ip("198.51.100.30"),
                        end: ip("198.51.100.39")
                    },
                ],
                options: opts([(3, Value::IpList(vec![ip("198.51.100.1")]))]),
                default_lease: None,
                max_lease: None,
                next_server: None,
                filename: None,
                server_name: None,
                vendor: Default::default(),
                policies: vec![
                    RangePolicy::open(Range {
                        start: ip("198.51.100.10"),
                        end: ip("198.51.100.19")
                    }),
                    RangePolicy::open(Range {
                        start: ip("198.51.100.30"),
                        end: ip("198.51.100.39")
                    }),
                ],
                max_offers: 16,
            },
            Subnet {
                cidr: Cidr {
                    network: ip("203.0.113.0"),
                    prefix: 28
                },
                ranges: vec![],
                options: Options::new(),
                default_lease: None,
                max_lease: None,
                next_server: None,
                filename: None,
                server_name: None,
                vendor: Default::default(),
                policies: vec![],
                max_offers: 16,
            },
        ]
    );
    assert_eq!(
        c.hosts,
        vec![
            Host {
                name: "host1".to_string(),
                id: HostId::Mac(MacAddr([0x00, 0x23, 0x32, 0xaa, 0xbb, 0xcc])),
                ip: ip("192.0.2.2"),
                options: opts([(12, Value::Text("host1".into()))]),
                next_server: Some(ip("192.0.2.5")),
                filename: Some("host1.cfg".to_string()),
                server_name: None,
                vendor: Default::default(),
            },
            Host {
                name: "phone".to_string(),
                id: HostId::ClientId(vec![1, 0x00, 0x23, 0x32, 0xaa, 0xbb, 0xdd]),
                ip: ip("203.0.113.5"),
                options: Options::new(),
                next_server: None,
                filename: None,
                server_name: None,
                vendor: Default::default(),
            },
        ]
    );
}

#[test]
fn defaults_apply_when_only_interfaces_given() {
    let c = ok(&with_server(&[]));
    assert_eq!(
        c.server,
        ServerConfig {
            interfaces: vec!["eth1".to_string()],
            ..ServerConfig::default()
        }
    );
    assert_eq!(c.server.default_lease, 2 * 3600);
    assert_eq!(c.server.max_lease, 12 * 3600);
    assert_eq!(c.server.min_lease, 60);
    assert_eq!(c.server.offer_hold, 30);
    assert_eq!(c.server.decline_probation, 24 * 3600);
    assert!(c.server.authoritative);
    assert!(!c.server.bootp);
    assert_eq!(c.server.store, PathBuf::from("/var/lib/berth/leases.db"));
    assert!(c.subnets.is_empty() && c.hosts.is_empty() && c.options.is_empty());
}

#[test]
fn lookups_use_the_indexes() {
    let c = ok(EXAMPLE);
    let mac: MacAddr = "00:23:32:AA:BB:CC".parse().expect("mac");
    assert_eq!(c.host_by_mac(&mac).map(|h| h.name.as_str()), Some("host1"));
    assert!(c.host_by_mac(&MacAddr([0; 6])).is_none());
    assert_eq!(
        c.host_by_client_id(&[1, 0x00, 0x23, 0x32, 0xaa, 0xbb, 0xdd])
            .map(|h| h.name.as_str()),
        Some("phone")
    );
    assert!(c.host_by_client_id(&[1, 2]).is_none());
    assert_eq!(
        c.host_by_ip(ip("203.0.113.5")).map(|h| h.name.as_str()),
        Some("phone")
    );
    assert!(c.host_by_ip(ip("192.0.2.3")).is_none());
    assert_eq!(
        c.subnet_containing(ip("198.51.100.200"))
            .map(|s| s.cidr.to_string()),
        Some("198.51.100.0/24".to_string())
    );
    assert!(c.subnet_containing(ip("10.0.0.1")).is_none());
}

#[test]
fn lease_times_resolve_subnet_over_server() {
    let c = ok(EXAMPLE);
    assert_eq!(c.lease_times(&c.subnets[0]), (3600, 4 * 3600));
    assert_eq!(c.lease_times(&c.subnets[1]), (7200, 12 * 3600));
}

#[test]
fn options_keep_file_order() {
    let c = ok(&with_server(&[
        "[options]",
        "ntp-servers = \"192.0.2.9\"",
        "domain-name = \"b\"",
        "routers = \"192.0.2.1\"",
    ]));
    let codes: Vec<u8> = c.options.codes().collect();
    assert_eq!(codes, [42, 15, 3]);
    assert_eq!(c.options.value(15), Some(&Value::Text("b".into())));
    assert_eq!(c.options.value(6), None);
}

#[test]
fn load_reads_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("berth.toml");
    std::fs::write(&path, EXAMPLE).expect("write");
    let c = load(&path).expect("loads");
    assert_eq!(c.source, path);
    assert_eq!(c.hosts.len(), 2);
}

#[test]
fn io_error_names_the_file() {
    let e = load(Path::new("/nonexistent/berth.toml")).expect_err("missing file");
    assert!(matches!(e, ConfigError::Io { .. }));
    let shown = e.to_string();
    assert!(
        shown.starts_with("/nonexistent/berth.toml: cannot read configuration: "),
        "{shown}"
    );
    assert!(e.diagnostics().is_empty());
}

#[test]
fn display_prints_one_diagnostic_per_line() {
    let text = with_server(&[
        "[[host]]",
        "name = \"a\"",
        "mac = \"zz\"",
        "ip = \"300.0.0.1\"",
    ]);
    let e = parse(&text, Path::new(FILE)).expect_err("invalid");
    assert_eq!(
        e.to_string(),
        "berth.toml:5:7: mac: `zz` is not a MAC address: 1 part(s), expected six hex pairs like 02:00:5e:10:00:01\n\
         berth.toml:6:6: ip: `300.0.0.1` is not an IPv4 address"
    );
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    // A schema error in one entry must not hide errors in the others, nor the
    // semantic errors elsewhere.
    let text = with_server(&[
        "[[subnet]]",                  // 3
        "cidr = \"192.0.2.1/24\"",     // 4
        "[[host]]",                    // 5
        "name = \"a\"",                // 6
        "mac = \"00:00:00:00:00:01\"", // 7
        "ip = \"192.0.2.10\"",         // 8
        "colour = \"red\"",            // 9
        "[[host]]",                    // 10
        "name = \"b\"",                // 11
        "mac = \"nope\"",              // 12
        "ip = \"192.0.2.11\"",         // 13
        "[options]",                   // 14
        "router = \"192.0.2.1\"",      // 15
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:4:8: cidr: `192.0.2.1/24` has host bits set; did you mean `192.0.2.0/24`?",
            "berth.toml:9:1: unknown field `colour`, expected one of `name`, `mac`, `client_id`, `ip`, `next_server`, `filename`, `server_name`, `options`",
            "berth.toml:12:7: mac: `nope` is not a MAC address: 1 part(s), expected six hex pairs like 02:00:5e:10:00:01",
            "berth.toml:15:1: unknown option `router`; did you mean `routers`?",
        ]
    );
}

// ------------------------------------------------------------ one test per rule

#[test]
fn toml_syntax_error_has_line_and_column() {
    // An unclosed array: the parser's recovery finds several errors on line
    // 3; only the first is shown.
    let text = doc(&["[server]", "interfaces = [\"eth1\"", "bootp = true"]);
    let got = errors(&text);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("berth.toml:3:1: "), "{got:?}");
}

#[test]
fn independent_syntax_errors_on_different_lines_are_all_reported() {
    let text = doc(&[
        "[server]",
        "interfaces = [\"eth1\"]",
        "bootp = yes",
        "store = /tmp/x",
    ]);
    let got = errors(&text);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].starts_with("berth.toml:3:9: "), "{got:?}");
    assert!(got[1].starts_with("berth.toml:4:9: "), "{got:?}");
}

#[test]
fn serde_wording_is_translated_to_toml_terms() {
    let text = doc(&["[server]", "interfaces = \"eth1\""]);
    assert_only_error(
        &text,
        2,
        14,
        "invalid type: string \"eth1\", expected an array",
    );
}

#[test]
fn duplicate_key_is_a_syntax_error_with_position() {
    let text = doc(&[
        "[server]",
        "interfaces = [\"eth1\"]",
        "bootp = true",
        "bootp = false",
    ]);
    assert_only_error(&text, 4, 1, "duplicate key");
}

/// The one error of `text`, at `line`:`column`, says `head` and then
/// lists the keys that are allowed, among them `some`. (Not the whole list:
/// each new setting would have to be added here too.)
fn assert_unknown_key(text: &str, line: usize, column: usize, head: &str, some: &[&str]) {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let prefix = format!("{FILE}:{line}:{column}: {head}, expected one of ");
    assert!(errs[0].starts_with(&prefix), "{errs:?}");
    for key in some {
        assert!(
            errs[0].contains(&format!("`{key}`")),
            "{key} not listed: {errs:?}"
        );
    }
}

#[test]
fn unknown_field_in_server() {
    let text = doc(&["[server]", "interfaces = [\"eth1\"]", "authorative = true"]);
    assert_unknown_key(
        &text,
        3,
        1,
        "unknown field `authorative`",
        &[
            "interfaces",
            "authoritative",
            "bootp",
            "default_lease",
            "store",
        ],
    );
}

#[test]
fn unknown_field_in_subnet() {
    let text = with_server(&["[[subnet]]", "cidr = \"192.0.2.0/24\"", "pools = 1"]);
    assert_unknown_key(
        &text,
        5,
        1,
        "unknown field `pools`",
        &["cidr", "range", "ranges", "pool", "options"],
    );
}

#[test]
fn unknown_section() {
    let text = with_server(&["[[hosts]]", "name = \"a\""]);
    assert_unknown_key(
        &text,
        3,
        3,
        "unknown section `hosts`",
        &["server", "options", "subnet", "host", "class"],
    );
}

#[test]
fn missing_server_section() {
    let text = doc(&["[options]", "routers = \"192.0.2.1\""]);
    assert_only_error(
        &text,
        1,
        1,
        "missing [server] section (it must at least list `interfaces`)",
    );
}

#[test]
fn missing_required_field_points_at_the_table() {
    let text = with_server(&["[[subnet]]", "range = [\"192.0.2.1\", \"192.0.2.2\"]"]);
    assert_only_error(&text, 3, 1, "missing field `cidr`");
}

#[test]
fn subnet_written_as_a_table_not_an_array() {
    let text = with_server(&["[subnet]", "cidr = \"192.0.2.0/24\""]);
    assert_only_error(
        &text,
        3,
        2,
        "`subnet` must be an array of tables: write [[subnet]], not [subnet]",
    );
}

#[test]
fn unknown_option_suggests_the_closest_name() {
    let text = with_server(&["[options]", "domain_name_servers = \"192.0.2.1\""]);
    assert_only_error(
        &text,
        4,
        1,
        "unknown option `domain_name_servers`; did you mean `domain-name-servers`?",
    );
    let text = with_server(&["[options]", "frobnicate-the-widgets = 1"]);
    assert_only_error(
        &text,
        4,
        1,
        "unknown option `frobnicate-the-widgets` (option names follow ISC dhcp-options(5))",
    );
}

#[test]
fn unknown_option_in_subnet_inline_table() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "options = { gateway = \"192.0.2.1\" }",
    ]);
    assert_only_error(
        &text,
        5,
        13,
        "unknown option `gateway`; did you mean `routers`?",
    );
}

#[test]
fn wrong_value_type_for_an_option() {
    let text = with_server(&["[options]", "interface-mtu = \"1500\""]);
    assert_only_error(
        &text,
        4,
        17,
        "option `interface-mtu`: expected an integer from 0 to 65535, found string \"1500\"",
    );
}

#[test]
fn integer_option_out_of_range() {
    let text = with_server(&["[options]", "default-ip-ttl = 256"]);
    assert_only_error(
        &text,
        4,
        18,
        "option `default-ip-ttl`: expected an integer from 0 to 255, found integer 256",
    );
}

#[test]
fn wrong_value_type_for_a_field() {
    let text = doc(&["[server]", "interfaces = [\"eth1\"]", "bootp = \"yes\""]);
    assert_only_error(
        &text,
        3,
        9,
        "invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn bad_ip() {
    let text = doc(&[
        "[server]",
        "interfaces = [\"eth1\"]",
        "server_id = \"192.0.2.256\"",
    ]);
    assert_only_error(
        &text,
        3,
        13,
        "server_id: `192.0.2.256` is not an IPv4 address",
    );
}

#[test]
fn bad_ip_in_an_option() {
    let text = with_server(&["[options]", "routers = [\"192.0.2.1\", \"gateway\"]"]);
    assert_only_error(
        &text,
        4,
        25,
        "option `routers`: `gateway` is not an IPv4 address",
    );
}

#[test]
fn bad_element_of_a_multi_line_option_is_pointed_at() {
    let text = with_server(&[
        "[options]",
        "classless-static-routes = [",
        "  [\"10.0.0.0/8\", \"192.0.2.1\"],",
        "  [\"10.1.0.0/8\", \"192.0.2.1\"],",
        "]",
    ]);
    assert_only_error(
        &text,
        6,
        3,
        "option `classless-static-routes`: `10.1.0.0/8` has host bits set; did you mean `10.0.0.0/8`?",
    );
}

#[test]
fn option_value_of_an_unusual_toml_type() {
    let text = with_server(&[
        "[options]",
        "domain-name = 1979-05-27",
        "routers = { a = 1 }",
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:4:15: option `domain-name`: expected a string, found datetime 1979-05-27",
            "berth.toml:5:11: option `routers`: expected an IPv4 address string or an array of them, like [\"192.0.2.1\"], found a table",
        ]
    );
}

#[test]
fn bad_mac() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "[[host]]",
        "name = \"a\"",
        "mac = \"00:23:32:aa:bb\"",
        "ip = \"192.0.2.2\"",
    ]);
    assert_only_error(
        &text,
        7,
        7,
        "mac: `00:23:32:aa:bb` is not a MAC address: 5 part(s), expected six hex pairs like 02:00:5e:10:00:01",
    );
}

#[test]
fn bad_client_id() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "[[host]]",
        "name = \"a\"",
        "client_id = \"01:0g\"",
        "ip = \"192.0.2.2\"",
    ]);
    assert_only_error(
        &text,
        7,
        13,
        "client_id: `01:0g` is not hex bytes (expected pairs of hex digits like \"01:02:ab\")",
    );
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "[[host]]",
        "name = \"a\"",
        "client_id = \"01\"",
        "ip = \"192.0.2.2\"",
    ]);
    assert_only_error(
        &text,
        7,
        13,
        "client_id: must be at least 2 bytes (a type byte and the identifier)",
    );
}

#[test]
fn bad_duration() {
    let text = doc(&[
        "[server]",
        "interfaces = [\"eth1\"]",
        "offer_hold = \"30 seconds\"",
        "decline_probation = -5",
        "default_lease = \"30m1h\"",
        "max_lease = \"1h30\"",
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:3:14: offer_hold: `30 seconds` is not a duration: unknown unit `seconds` (units are w, d, h, m and s; write one like \"90s\", \"30m\", \"2h\", \"1d\", \"1w\", \"1h30m\", or plain seconds)",
            "berth.toml:4:21: decline_probation: -5 is negative",
            "berth.toml:5:17: default_lease: `30m1h` is not a duration: write each unit once, largest first, like \"1h30m\"",
            "berth.toml:6:13: max_lease: `1h30` is not a duration: the number `30` at the end has no unit (like \"1h30m\")",
        ]
    );
}

#[test]
fn duration_of_the_wrong_type() {
    let text = doc(&["[server]", "interfaces = [\"eth1\"]", "offer_hold = true"]);
    assert_only_error(
        &text,
        3,
        14,
        "invalid type: boolean `true`, expected a duration like \"90s\", \"30m\", \"2h\", \"1d\", \"1w\", \"1h30m\", or plain seconds",
    );
}

#[test]
fn zero_lease_is_refused() {
    let text = doc(&["[server]", "interfaces = [\"eth1\"]", "min_lease = 0"]);
    assert_only_error(&text, 3, 13, "min_lease: a lease must last at least 1s");
}

#[test]
fn bad_cidr_prefix() {
    let text = with_server(&["[[subnet]]", "cidr = \"192.0.2.0/33\""]);
    assert_only_error(
        &text,
        4,
        8,
        "cidr: `192.0.2.0/33` has a bad prefix length `33` (expected 0 to 32)",
    );
    let text = with_server(&["[[subnet]]", "cidr = \"192.0.2.0\""]);
    assert_only_error(
        &text,
        4,
        8,
        "cidr: `192.0.2.0` is not a CIDR network (expected address/prefix, like \"192.0.2.0/24\")",
    );
}

#[test]
fn cidr_host_bits_set_suggests_the_network() {
    let text = with_server(&["[[subnet]]", "cidr = \"192.168.1.77/22\""]);
    assert_only_error(
        &text,
        4,
        8,
        "cidr: `192.168.1.77/22` has host bits set; did you mean `192.168.0.0/22`?",
    );
}

#[test]
fn range_start_after_end() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "range = [\"192.0.2.190\", \"192.0.2.100\"]",
    ]);
    assert_only_error(
        &text,
        5,
        9,
        "range: start 192.0.2.190 is after end 192.0.2.100",
    );
}

#[test]
fn range_with_wrong_number_of_addresses() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "range = [\"192.0.2.10\"]",
    ]);
    assert_only_error(
        &text,
        5,
        9,
        "range: expected [start, end] (2 addresses), found 1 address",
    );
}

#[test]
fn range_outside_its_subnet() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "ranges = [[\"192.0.2.10\", \"192.0.2.20\"],",
        "          [\"192.0.2.200\", \"192.0.3.10\"]]",
    ]);
    assert_only_error(
        &text,
        6,
        11,
        "range 192.0.2.200-192.0.3.10 is not inside subnet 192.0.2.0/24",
    );
}

#[test]
fn range_containing_the_network_address() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "range = [\"192.0.2.0\", \"192.0.2.10\"]",
    ]);
    assert_only_error(
        &text,
        5,
        9,
        "range 192.0.2.0-192.0.2.10 includes the network address 192.0.2.0 of subnet 192.0.2.0/24",
    );
}

#[test]
fn range_containing_the_broadcast_address() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "range = [\"192.0.2.200\", \"192.0.2.255\"]",
    ]);
    assert_only_error(
        &text,
        5,
        9,
        "range 192.0.2.200-192.0.2.255 includes the broadcast address 192.0.2.255 of subnet 192.0.2.0/24",
    );
}

#[test]
fn point_to_point_subnet_may_use_both_addresses() {
    // RFC 3021: a /31 has no network or broadcast address.
    let c = ok(&with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/31\"",
        "range = [\"192.0.2.0\", \"192.0.2.1\"]",
    ]));
    assert_eq!(c.subnets[0].ranges[0].len(), 2);
}

#[test]
fn range_and_ranges_both_set() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "range = [\"192.0.2.10\", \"192.0.2.20\"]",
        "ranges = [[\"192.0.2.30\", \"192.0.2.40\"]]",
    ]);
    assert_only_error(&text, 6, 10, "set either `range` or `ranges`, not both");
}

#[test]
fn overlapping_ranges_name_both() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "ranges = [[\"192.0.2.10\", \"192.0.2.50\"],",
        "          [\"192.0.2.60\", \"192.0.2.70\"],",
        "          [\"192.0.2.40\", \"192.0.2.55\"]]",
    ]);
    assert_only_error(
        &text,
        7,
        11,
        "range 192.0.2.40-192.0.2.55 overlaps range 192.0.2.10-192.0.2.50 (line 5)",
    );
}

#[test]
fn overlapping_range_contained_in_an_earlier_wide_one() {
    // The sweep must compare with the furthest-reaching range, not just the
    // previous one.
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "ranges = [[\"192.0.2.10\", \"192.0.2.200\"],",
        "          [\"192.0.2.20\", \"192.0.2.30\"],",
        "          [\"192.0.2.100\", \"192.0.2.110\"]]",
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:6:11: range 192.0.2.20-192.0.2.30 overlaps range 192.0.2.10-192.0.2.200 (line 5)",
            "berth.toml:7:11: range 192.0.2.100-192.0.2.110 overlaps range 192.0.2.10-192.0.2.200 (line 5)",
        ]
    );
}

#[test]
fn overlapping_subnets() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "[[subnet]]",
        "cidr = \"192.0.0.0/22\"",
    ]);
    assert_only_error(
        &text,
        6,
        8,
        "subnet 192.0.0.0/22 overlaps subnet 192.0.2.0/24 (line 4)",
    );
}

const TWO_HOSTS_PREFIX: &[&str] = &[
    "[[subnet]]",                  // 3
    "cidr = \"192.0.2.0/24\"",     // 4
    "[[host]]",                    // 5
    "name = \"alpha\"",            // 6
    "mac = \"00:23:32:aa:bb:cc\"", // 7
    "ip = \"192.0.2.2\"",          // 8
    "[[host]]",                    // 9
];

fn two_hosts(second: &[&str]) -> String {
    let mut lines = TWO_HOSTS_PREFIX.to_vec();
    lines.extend_from_slice(second);
    with_server(&lines)
}

#[test]
fn duplicate_mac_names_both_hosts_and_the_first_line() {
    let text = two_hosts(&[
        "name = \"beta\"",
        "mac = \"00-23-32-AA-BB-CC\"",
        "ip = \"192.0.2.3\"",
    ]);
    assert_only_error(
        &text,
        11,
        7,
        "MAC 00:23:32:aa:bb:cc of host `beta` is already used by host `alpha` (line 7)",
    );
}

#[test]
fn duplicate_ip_names_both_hosts_and_the_first_line() {
    let text = two_hosts(&[
        "name = \"beta\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"192.0.2.2\"",
    ]);
    assert_only_error(
        &text,
        12,
        6,
        "address 192.0.2.2 of host `beta` is already used by host `alpha` (line 8)",
    );
}

#[test]
fn duplicate_client_id_names_both_hosts_and_the_first_line() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "[[host]]",
        "name = \"alpha\"",
        "client_id = \"01:02:03\"",
        "ip = \"192.0.2.2\"",
        "[[host]]",
        "name = \"beta\"",
        "client_id = \"1:2:3\"",
        "ip = \"192.0.2.3\"",
    ]);
    assert_only_error(
        &text,
        11,
        13,
        "client_id 01:02:03 of host `beta` is already used by host `alpha` (line 7)",
    );
}

#[test]
fn duplicate_host_name() {
    let text = two_hosts(&[
        "name = \"alpha\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"192.0.2.3\"",
    ]);
    assert_only_error(
        &text,
        10,
        8,
        "duplicate host name `alpha` (first defined on line 6)",
    );
}

#[test]
fn host_needs_exactly_one_of_mac_and_client_id() {
    let text = two_hosts(&["name = \"beta\"", "ip = \"192.0.2.3\""]);
    assert_only_error(&text, 9, 1, "host `beta` needs a `mac` or a `client_id`");
    let text = two_hosts(&[
        "name = \"beta\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "client_id = \"01:02\"",
        "ip = \"192.0.2.3\"",
    ]);
    assert_only_error(
        &text,
        12,
        13,
        "host `beta` sets both `mac` and `client_id`; set exactly one",
    );
}

#[test]
fn host_ip_outside_every_subnet() {
    let text = two_hosts(&[
        "name = \"beta\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"10.0.0.3\"",
    ]);
    assert_only_error(
        &text,
        12,
        6,
        "host `beta` address 10.0.0.3 is not inside any subnet",
    );
}

#[test]
fn host_ip_outside_subnets_not_reported_when_a_subnet_is_broken() {
    // The broken subnet might have been the one meant; one error is enough.
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"10.0.0.0/33\"",
        "[[host]]",
        "name = \"a\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"10.0.0.3\"",
    ]);
    assert_eq!(errors(&text).len(), 1);
}

#[test]
fn host_ip_inside_a_dynamic_range() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "range = [\"192.0.2.100\", \"192.0.2.190\"]",
        "[[host]]",
        "name = \"a\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"192.0.2.150\"",
    ]);
    assert_only_error(
        &text,
        9,
        6,
        "host `a` address 192.0.2.150 is inside the dynamic range 192.0.2.100-192.0.2.190 (line 5); \
         a static address must be outside the pools",
    );
}

#[test]
fn host_ip_is_the_network_or_broadcast_address() {
    let text = two_hosts(&[
        "name = \"beta\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"192.0.2.255\"",
    ]);
    assert_only_error(
        &text,
        12,
        6,
        "host `beta` address 192.0.2.255 is the broadcast address of subnet 192.0.2.0/24",
    );
    let text = two_hosts(&[
        "name = \"beta\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"192.0.2.0\"",
    ]);
    assert_only_error(
        &text,
        12,
        6,
        "host `beta` address 192.0.2.0 is the network address of subnet 192.0.2.0/24",
    );
}

#[test]
fn min_lease_longer_than_default_lease() {
    let text = doc(&["[server]", "interfaces = [\"eth1\"]", "min_lease = \"3h\""]);
    assert_only_error(
        &text,
        3,
        13,
        "min_lease (3h) is longer than default_lease (2h)",
    );
}

#[test]
fn default_lease_longer_than_max_lease() {
    let text = doc(&[
        "[server]",
        "interfaces = [\"eth1\"]",
        "default_lease = \"1d\"",
        "max_lease = \"1h30m\"",
    ]);
    assert_only_error(
        &text,
        3,
        17,
        "default_lease (1d) is longer than max_lease (1h30m)",
    );
}

#[test]
fn subnet_lease_overrides_are_checked_against_the_server() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "default_lease = \"1d\"",
        "[[subnet]]",
        "cidr = \"198.51.100.0/24\"",
        "max_lease = 30",
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:5:17: default_lease (1d) is longer than max_lease (12h, from [server])",
            "berth.toml:8:13: default_lease (2h, from [server]) is longer than max_lease (30s)",
        ]
    );
}

#[test]
fn empty_interfaces() {
    let text = doc(&["[server]", "interfaces = []"]);
    assert_only_error(
        &text,
        2,
        14,
        "interfaces: is empty; list at least one interface to serve, like [\"eth1\"]",
    );
}

#[test]
fn interface_listed_twice() {
    let text = doc(&["[server]", "interfaces = [\"eth1\", \"eth1\"]"]);
    assert_only_error(
        &text,
        2,
        23,
        "interfaces: `eth1` is listed twice (first on line 2)",
    );
}

#[test]
fn server_controlled_option_is_refused() {
    let text = with_server(&[
        "[options]",
        "dhcp-lease-time = 3600",
        "dhcp-message-type = 5",
    ]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:4:1: option `dhcp-lease-time` (code 51) is set by the server itself and cannot be configured; set default_lease and max_lease instead",
            "berth.toml:5:1: option `dhcp-message-type` (code 53) is set by the server itself and cannot be configured",
        ]
    );
}

/// A configured `dhcp-message` was accepted and then never sent (the reply
/// builder keeps 56 for its own NAK reasons): check-config must refuse it.
#[test]
fn dhcp_message_is_refused_because_the_server_sets_it() {
    let text = with_server(&["[options]", "dhcp-message = \"welcome\""]);
    assert_eq!(
        errors(&text),
        vec![
            "berth.toml:4:1: option `dhcp-message` (code 56) is set by the server itself and cannot be configured; the server sends it only with a NAK, to say why",
        ]
    );
}

/// The reply builder always writes the subnet mask from `cidr`, so a
/// configured one would be dropped without a word: refuse it instead.
#[test]
fn subnet_mask_is_refused_because_it_follows_from_the_cidr() {
    let text = with_server(&[
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "options = { subnet-mask = \"255.255.0.0\" }",
    ]);
    assert_only_error(
        &text,
        5,
        13,
        "option `subnet-mask` (code 1) is set by the server itself and cannot be configured; it follows from the subnet's cidr",
    );
}

#[test]
fn server_controlled_option_is_refused_for_hosts_too() {
    let text = two_hosts(&[
        "name = \"beta\"",
        "mac = \"00:23:32:aa:bb:cd\"",
        "ip = \"192.0.2.3\"",
        "options = { dhcp-server-identifier = \"192.0.2.1\" }",
    ]);
    assert_only_error(
        &text,
        13,
        13,
        "option `dhcp-server-identifier` (code 54) is set by the server itself and cannot be configured; set server_id in [server] instead",
    );
}

#[test]
fn filename_too_long_for_the_bootp_field() {
    let long = format!("filename = \"{}\"", "f".repeat(128));
    let text = with_server(&["[[subnet]]", "cidr = \"192.0.2.0/24\"", &long]);
    assert_only_error(
        &text,
        5,
        12,
        "filename: is 128 bytes; the BOOTP file field holds at most 127",
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = with_server(&["[[host]]", "name = \"café\" ; ip = 1"]);
    // The syntax error after a multi-byte character: column counts chars.
    let got = errors(&text);
    assert!(
        got.iter().any(|e| e.starts_with("berth.toml:4:15:")),
        "{got:?}"
    );
}

// ------------------------------------------------------------ value types

#[test]
fn cidr_parse_display_and_arithmetic() {
    let c: Cidr = "192.0.2.0/24".parse().expect("cidr");
    assert_eq!(c.to_string(), "192.0.2.0/24");
    assert_eq!(c.netmask(), ip("255.255.255.0"));
    assert_eq!(c.broadcast(), ip("192.0.2.255"));
    assert!(c.contains(ip("192.0.2.0")) && c.contains(ip("192.0.2.255")));
    assert!(!c.contains(ip("192.0.3.0")));

    let all: Cidr = "0.0.0.0/0".parse().expect("cidr");
    assert_eq!(all.netmask(), ip("0.0.0.0"));
    assert_eq!(all.broadcast(), ip("255.255.255.255"));
    assert!(all.contains(ip("203.0.113.9")));

    let one: Cidr = "192.0.2.7/32".parse().expect("cidr");
    assert_eq!(one.netmask(), ip("255.255.255.255"));
    assert_eq!(one.broadcast(), ip("192.0.2.7"));
    assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));

    assert!(matches!(
        "192.0.2.0/+24".parse::<Cidr>(),
        Err(CidrError::BadPrefix { .. })
    ));
    assert!(matches!(
        "192.0.2/24".parse::<Cidr>(),
        Err(CidrError::BadAddress { .. })
    ));
    assert_eq!(
        "10.1.2.3/8".parse::<Cidr>(),
        Err(CidrError::HostBitsSet {
            input: "10.1.2.3/8".to_string(),
            meant: Cidr {
                network: ip("10.0.0.0"),
                prefix: 8
            }
        })
    );
    assert!(Cidr::new(ip("10.0.0.0"), 33).is_err());
}

#[test]
fn range_len_contains_and_iter() {
    let r = Range {
        start: ip("192.0.2.254"),
        end: ip("192.0.3.1"),
    };
    assert_eq!(r.len(), 4);
    assert!(!r.is_empty());
    assert!(r.contains(ip("192.0.3.0")) && !r.contains(ip("192.0.3.2")));
    let all: Vec<Ipv4Addr> = r.iter().collect();
    assert_eq!(
        all,
        [
            ip("192.0.2.254"),
            ip("192.0.2.255"),
            ip("192.0.3.0"),
            ip("192.0.3.1")
        ]
    );
    assert_eq!(r.iter().next_back(), Some(ip("192.0.3.1")));
    assert_eq!(r.to_string(), "192.0.2.254-192.0.3.1");

    let everything = Range {
        start: ip("0.0.0.0"),
        end: ip("255.255.255.255"),
    };
    assert_eq!(everything.len(), 1 << 32);
    let reversed = Range {
        start: ip("192.0.2.9"),
        end: ip("192.0.2.1"),
    };
    assert_eq!(reversed.len(), 0);
    assert!(reversed.is_empty());
    assert_eq!(reversed.iter().count(), 0);
    assert!(!reversed.overlaps(&everything));
    assert!(r.overlaps(&everything));
}

#[test]
fn durations_parse_and_print() {
    for (text, secs) in [
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1d 2h", 93600),
        ("1H", 3600),
    ] {
        assert_eq!(parse_duration(text), Ok(secs), "{text}");
    }
    for bad in ["", "h", "1x", "1h30", "1m1h", "1h1h", "99999999999d"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
    assert_eq!(human(0), "0s");
    assert_eq!(human(5400), "1h30m");
    assert_eq!(human(93_601), "1d2h1s");
}

#[test]
fn integer_seconds_are_accepted_as_durations() {
    let c = ok(&doc(&[
        "[server]",
        "interfaces = [\"eth1\"]",
        "offer_hold = 45",
    ]));
    assert_eq!(c.server.offer_hold, 45);
}

#[test]
fn from_parts_builds_indexes_first_wins() {
    let host = |name: &str, last: u8| Host {
        name: name.to_string(),
        id: HostId::Mac(MacAddr([0, 0, 0, 0, 0, 1])),
        ip: Ipv4Addr::new(192, 0, 2, last),
        options: Options::new(),
        next_server: None,
        filename: None,
        server_name: None,
        vendor: Default::default(),
    };
    let c = Config::from_parts(
        PathBuf::from("x"),
        ServerConfig::default(),
        Options::new(),
        vec![],
        vec![host("a", 1), host("b", 2)],
    );
    assert_eq!(
        c.host_by_mac(&MacAddr([0, 0, 0, 0, 0, 1]))
            .map(|h| h.name.as_str()),
        Some("a")
    );
    assert_eq!(
        c.host_by_ip(ip("192.0.2.2")).map(|h| h.name.as_str()),
        Some("b")
    );
}

#[test]
fn control_settings_are_read_and_bad_group_names_refused() {
    let c = ok(
        "[server]\ninterfaces = [\"eth1\"]\ncontrol_socket = \"/tmp/b.sock\"\ncontrol_group = \"ops\"\nadmin_group = \"netadm\"\n",
    );
    assert_eq!(c.server.control_socket, PathBuf::from("/tmp/b.sock"));
    assert_eq!(c.server.control_group, "ops");
    assert_eq!(c.server.admin_group, "netadm");
    let e = parse(
        "[server]\ninterfaces = [\"eth1\"]\nadmin_group = \"net adm\"\n",
        Path::new(FILE),
    )
    .expect_err("refused");
    assert!(
        e.to_string()
            .contains("admin_group: `net adm` is not a group name"),
        "{e}"
    );
}

// ------------------------------------------- the shared parser's examples

#[test]
fn durations_follow_the_shared_rule() {
    use berth_proto::parse::examples::DURATIONS;
    for (text, want) in DURATIONS {
        let text_doc = with_server(&[&format!("decline_probation = {text:?}")]);
        let got = parse(&text_doc, Path::new(FILE))
            .ok()
            .map(|c| u64::from(c.server.decline_probation));
        assert_eq!(got, *want, "{text:?}");
    }
}

#[test]
fn host_names_follow_the_shared_rule() {
    use berth_proto::parse::examples::HOSTNAMES;
    for (name, valid) in HOSTNAMES {
        let text = with_server(&[
            "[[subnet]]",
            "cidr = \"192.0.2.0/24\"",
            "[[host]]",
            &format!("name = {name:?}"),
            "mac = \"00:00:00:00:00:01\"",
            "ip = \"192.0.2.10\"",
        ]);
        let got = parse(&text, Path::new(FILE)).is_ok();
        assert_eq!(got, *valid, "{name:?}");
    }
}

#[test]
fn macs_follow_the_shared_rule() {
    use berth_proto::parse::examples::MACS;
    for (mac, want) in MACS {
        let text = with_server(&[
            "[[subnet]]",
            "cidr = \"192.0.2.0/24\"",
            "[[host]]",
            "name = \"a\"",
            &format!("mac = {mac:?}"),
            "ip = \"192.0.2.10\"",
        ]);
        let got = parse(&text, Path::new(FILE))
            .ok()
            .map(|c| match &c.hosts[0].id {
                HostId::Mac(m) => m.to_string(),
                other => panic!("{other:?}"),
            });
        assert_eq!(got.as_deref(), *want, "{mac:?}");
    }
}

#[test]
fn commit_delay_is_auto_or_microseconds_up_to_a_tenth_of_a_second() {
    use crate::config::CommitDelay;
    assert_eq!(ok(&with_server(&[])).server.commit_delay, CommitDelay::Auto);
    let c = ok(&with_server(&["commit_delay_us = \"auto\""]));
    assert_eq!(c.server.commit_delay, CommitDelay::Auto);
    let c = ok(&with_server(&["commit_delay_us = 2000"]));
    assert_eq!(c.server.commit_delay, CommitDelay::Fixed(2000));
    let c = ok(&with_server(&["commit_delay_us = 0"]));
    assert_eq!(c.server.commit_delay, CommitDelay::Fixed(0));
    assert_only_error(
        &with_server(&["commit_delay_us = \"fast\""]),
        3,
        19,
        "commit_delay_us: \"fast\" is neither \"auto\" nor microseconds (0 to 100000)",
    );
    assert_only_error(
        &with_server(&["commit_delay_us = 100001"]),
        3,
        19,
        "commit_delay_us: 100001 is not between 0 and 100000 (microseconds)",
    );
    assert_only_error(
        &with_server(&["commit_delay_us = -1"]),
        3,
        19,
        "commit_delay_us: -1 is not between 0 and 100000 (microseconds)",
    );
}
