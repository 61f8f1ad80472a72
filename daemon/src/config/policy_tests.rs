//! Configuration tests for pool policies, limits and webhooks: what each
//! setting becomes, and each refusal's message and position.

use std::path::Path;

use super::*;

const FILE: &str = "berth.toml";

/// `[server]` on lines 1-2, a subnet on lines 3-5, then `rest` from line 6.
fn with_subnet(rest: &[&str]) -> String {
    let mut lines = vec![
        "[server]",
        "interfaces = [\"eth1\"]",
        "[[subnet]]",
        "cidr = \"192.0.2.0/24\"",
        "range = [\"192.0.2.10\", \"192.0.2.20\"]",
    ];
    lines.extend_from_slice(rest);
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn ok(text: &str) -> Config {
    match parse(text, Path::new(FILE)) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match parse(text, Path::new(FILE)) {
        Ok(_) => panic!("expected errors, config was valid:\n{text}"),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    }
}

#[track_caller]
fn assert_only_error(text: &str, line: usize, column: usize, message: &str) {
    assert_eq!(
        errors(text),
        vec![format!("{FILE}:{line}:{column}: {message}")]
    );
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

// ------------------------------------------------------------ [[subnet.pool]]

#[test]
fn a_pool_table_adds_a_range_with_its_policy() {
    let c = ok(&with_subnet(&[
        "[[subnet.pool]]",
        "range = [\"192.0.2.100\", \"192.0.2.150\"]",
        "clients = \"unknown\"",
        "classes = [\"snom\"]",
        "lease = \"5m\"",
        "options = { domain-name = \"register.test\" }",
        "exclude = [\"192.0.2.120\", [\"192.0.2.130\", \"192.0.2.135\"]]",
    ]));
    let s = &c.subnets[0];
    assert_eq!(s.ranges.len(), 2, "the plain range and the pool's");
    assert_eq!(s.policies.len(), 2);
    assert_eq!(s.policies[0], RangePolicy::open(s.ranges[0]));
    let p = &s.policies[1];
    assert_eq!(p.range, s.ranges[1]);
    assert_eq!(p.clients, Clients::Unknown);
    assert_eq!(p.classes, vec!["snom".to_string()]);
    assert_eq!(p.lease, Some(300));
    assert_eq!(p.options.len(), 1);
    assert_eq!(
        p.exclude,
        vec![
            Range {
                start: ip("192.0.2.120"),
                end: ip("192.0.2.120")
            },
            Range {
                start: ip("192.0.2.130"),
                end: ip("192.0.2.135")
            },
        ]
    );
    assert!(s.policy_at(ip("192.0.2.120")).is_none());
    assert!(s.policy_at(ip("192.0.2.121")).is_some());
}

#[test]
fn a_pool_range_overlapping_another_range_is_refused() {
    assert_only_error(
        &with_subnet(&[
            "[[subnet.pool]]",
            "range = [\"192.0.2.20\", \"192.0.2.30\"]",
        ]),
        7,
        9,
        "range 192.0.2.20-192.0.2.30 overlaps range 192.0.2.10-192.0.2.20 (line 5)",
    );
}

#[test]
fn a_pool_range_outside_the_subnet_is_refused() {
    assert_only_error(
        &with_subnet(&["[[subnet.pool]]", "range = [\"10.0.0.1\", \"10.0.0.2\"]"]),
        7,
        9,
        "range 10.0.0.1-10.0.0.2 is not inside subnet 192.0.2.0/24",
    );
}

#[test]
fn unknown_clients_value_is_refused() {
    assert_only_error(
        &with_subnet(&[
            "[[subnet.pool]]",
            "range = [\"192.0.2.100\", \"192.0.2.110\"]",
            "clients = \"guests\"",
        ]),
        8,
        11,
        "clients: `guests` is not one of \"any\", \"known\", \"unknown\"",
    );
}

#[test]
fn an_exclusion_outside_the_range_is_refused() {
    assert_only_error(
        &with_subnet(&[
            "[[subnet.pool]]",
            "range = [\"192.0.2.100\", \"192.0.2.110\"]",
            "exclude = [\"192.0.2.120\"]",
        ]),
        8,
        12,
        "exclude: 192.0.2.120 is not inside the pool's range 192.0.2.100-192.0.2.110",
    );
}

#[test]
fn a_malformed_exclusion_is_refused() {
    assert_only_error(
        &with_subnet(&[
            "[[subnet.pool]]",
            "range = [\"192.0.2.100\", \"192.0.2.110\"]",
            "exclude = [[\"192.0.2.105\"]]",
        ]),
        8,
        12,
        "exclude: expected an address (\"a\") or a range ([\"a\", \"b\"])",
    );
    assert_only_error(
        &with_subnet(&[
            "[[subnet.pool]]",
            "range = [\"192.0.2.100\", \"192.0.2.110\"]",
            "exclude = [\"nope\"]",
        ]),
        8,
        12,
        "exclude: `nope` is not an IPv4 address",
    );
}

#[test]
fn a_zero_pool_lease_is_refused() {
    assert_only_error(
        &with_subnet(&[
            "[[subnet.pool]]",
            "range = [\"192.0.2.100\", \"192.0.2.110\"]",
            "lease = 0",
        ]),
        8,
        9,
        "lease: a lease must last at least 1s",
    );
}

#[test]
fn an_unknown_pool_option_and_an_unknown_key_are_refused() {
    let e = errors(&with_subnet(&[
        "[[subnet.pool]]",
        "range = [\"192.0.2.100\", \"192.0.2.110\"]",
        "options = { routrs = [\"192.0.2.1\"] }",
    ]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("berth.toml:8:13: unknown option `routrs`"),
        "{e:?}"
    );
    let e = errors(&with_subnet(&[
        "[[subnet.pool]]",
        "range = [\"192.0.2.100\", \"192.0.2.110\"]",
        "leases = \"5m\"",
    ]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("unknown field `leases`"), "{e:?}");
}

#[test]
fn a_host_may_sit_on_an_excluded_address_but_not_elsewhere_in_the_range() {
    let text = with_subnet(&[
        "[[subnet.pool]]",
        "range = [\"192.0.2.100\", \"192.0.2.110\"]",
        "exclude = [\"192.0.2.105\"]",
        "[[host]]",
        "name = \"printer\"",
        "mac = \"02:00:00:00:00:01\"",
        "ip = \"192.0.2.105\"",
    ]);
    ok(&text);
    let e = errors(&text.replace("\"192.0.2.105\"\n", "\"192.0.2.106\"\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("is inside the dynamic range 192.0.2.100-192.0.2.110"));
}
