//! Configuration tests for pool policies, limits and webhooks: what each
//! setting becomes, and each refusal's message and position.

use super::tests::{assert_only_error, doc, errors, ip, ok};
use super::*;

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
    doc(&lines)
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
        "[[class]]",
        "name = \"snom\"",
        "match = { vendor_class_prefix = \"snom\" }",
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
fn a_pool_class_no_class_defines_is_refused() {
    let text = with_subnet(&[
        "[[subnet.pool]]",
        "range = [\"192.0.2.100\", \"192.0.2.150\"]",
        "classes = [\"snom\", \"polycom\"]",
        "[[class]]",
        "name = \"snom\"",
        "match = { vendor_class_prefix = \"snom\" }",
    ]);
    assert_only_error(
        &text,
        8,
        20,
        "classes: no [[class]] is named `polycom` (defined: snom)",
    );
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

// ------------------------------------------------------------ [limits]

#[test]
fn limits_are_off_unless_configured() {
    assert_eq!(ok(&with_subnet(&[])).limits, Limits::default());
}

#[test]
fn limits_parse() {
    let c = ok(&with_subnet(&[
        "[limits.flood]",
        "packets = 20",
        "window = \"10s\"",
        "ignore = \"1m\"",
        "[limits.renewal]",
        "renewals = 5",
        "window = \"1h\"",
        "block = \"2h\"",
    ]));
    assert_eq!(
        c.limits,
        Limits {
            flood: Some(FloodLimit {
                packets: 20,
                window: 10,
                ignore: 60,
                track: FloodLimit::TRACK
            }),
            renewal: Some(RenewalLimit {
                renewals: 5,
                window: 3600,
                block: 7200
            }),
            rate: None,
            relays: Vec::new(),
            subnet_selection: false,
        }
    );
}

#[test]
fn relays_and_option_118_are_refused_unless_configured() {
    let c = ok(&with_subnet(&[]));
    assert!(c.limits.relays.is_empty(), "no relay by default");
    assert!(!c.limits.subnet_selection, "option 118 off by default");
    let c = ok(&with_subnet(&[
        "[limits]",
        "relays = [\"0.0.0.0/0\"]",
        "subnet_selection = true",
    ]));
    assert_eq!(c.limits.relays, vec!["0.0.0.0/0".parse().expect("cidr")]);
    assert!(c.limits.subnet_selection);
}

#[test]
fn max_offers_is_per_subnet_and_at_least_one() {
    let c = ok(&with_subnet(&[]));
    assert_eq!(c.subnets[0].max_offers, crate::config::MIN_DEFAULT_OFFERS);
    let toml = with_subnet(&[]).replacen("[[subnet]]", "[[subnet]]\nmax_offers = 3", 1);
    assert_eq!(ok(&toml).subnets[0].max_offers, 3);
    let toml = with_subnet(&[]).replacen("[[subnet]]", "[[subnet]]\nmax_offers = 0", 1);
    let e = errors(&toml);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].ends_with("max_offers: 0 is not between 1 and 4294967295"),
        "{e:?}"
    );
}

#[test]
fn rates_relays_and_subnet_selection_parse() {
    let c = ok(&with_subnet(&[
        "[limits]",
        "relays = [\"10.0.0.1\", \"10.1.0.0/16\"]",
        "subnet_selection = false",
        "[limits.rate]",
        "per_relay = 500",
        "per_circuit = 20",
    ]));
    assert_eq!(
        c.limits.rate,
        Some(RateLimit {
            per_interface: None,
            per_relay: Some(500),
            per_circuit: Some(20),
        })
    );
    assert_eq!(
        c.limits.relays,
        vec![
            "10.0.0.1/32".parse().expect("cidr"),
            "10.1.0.0/16".parse().expect("cidr")
        ]
    );
    assert!(!c.limits.subnet_selection);
    let e = errors(&with_subnet(&[
        "[limits]",
        "relays = [\"10.0.0.x\"]",
        "[limits.rate]",
        "per_interface = 0",
    ]));
    assert_eq!(
        e,
        vec![
            "berth.toml:7:11: relays: `10.0.0.x` is not an IPv4 address or CIDR",
            "berth.toml:9:17: per_interface: 0 is not between 1 and 4294967295",
        ]
    );
}

#[test]
fn bad_limits_are_refused_where_written() {
    let e = errors(&with_subnet(&[
        "[limits.flood]",
        "packets = 0",
        "window = \"0s\"",
        "ignore = \"1x\"",
        "track = 0",
    ]));
    assert_eq!(e.len(), 4, "{e:?}");
    assert_eq!(
        e[0],
        "berth.toml:7:11: packets: 0 is not between 1 and 4294967295"
    );
    assert_eq!(e[1], "berth.toml:8:10: window: must be at least 1s");
    assert!(e[2].starts_with("berth.toml:9:10: ignore: "), "{e:?}");
    assert_eq!(
        e[3],
        "berth.toml:10:9: track: 0 is not between 1 and 10000000"
    );
    let e = errors(&with_subnet(&[
        "[limits.renewal]",
        "renewals = 5",
        "window = \"1h\"",
    ]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("missing field `block`"), "{e:?}");
}

// ------------------------------------------------------------ [[webhook]]

#[test]
fn a_webhook_parses_with_defaults() {
    let c = ok(&with_subnet(&[
        "[[webhook]]",
        "url = \"http://192.0.2.5:8080/hooks/dhcp?site=1\"",
        "events = [\"arrival\", \"commit\", \"arrival\"]",
        "headers = { Authorization = \"Bearer s3cret\", X-Site = \"lab\" }",
    ]));
    let w = &c.webhooks[0];
    assert_eq!(
        (w.host.as_str(), w.port, w.path.as_str()),
        ("192.0.2.5", 8080, "/hooks/dhcp?site=1")
    );
    assert_eq!(
        w.events,
        vec![
            berth_proto::EventKind::Arrival,
            berth_proto::EventKind::Ack,
            berth_proto::EventKind::Renew
        ]
    );
    assert_eq!(
        w.headers,
        vec![
            ("Authorization".to_string(), "Bearer s3cret".to_string()),
            ("X-Site".to_string(), "lab".to_string())
        ]
    );
    assert_eq!(
        (w.timeout, w.queue, w.retries, w.max_backoff),
        (Webhook::TIMEOUT, Webhook::QUEUE, None, Webhook::MAX_BACKOFF)
    );
}

#[test]
fn an_https_webhook_is_refused_with_the_reason() {
    assert_only_error(
        &with_subnet(&[
            "[[webhook]]",
            "url = \"https://hooks.example/x\"",
            "events = [\"arrival\"]",
        ]),
        7,
        7,
        "url: https:// is not supported: berthd's webhooks speak plain HTTP/1.1 without TLS; \
         use http:// (for example to a TLS-terminating proxy on the same host)",
    );
}

#[test]
fn bad_webhook_settings_are_refused_where_written() {
    let e = errors(&with_subnet(&[
        "[[webhook]]",
        "url = \"http://192.0.2.5:99999/\"",
        "events = [\"arival\"]",
        "headers = { Content-Length = \"1\", X-Bad = \"a\\nb\" }",
        "timeout = 0",
        "queue = 0",
        "retries = 0",
    ]));
    assert_eq!(e.len(), 7, "{e:?}");
    assert_eq!(e[0], "berth.toml:7:7: url: `99999` is not a port");
    assert!(
        e[1].starts_with("berth.toml:8:11: events: unknown event `arival`; known: commit, arrival"),
        "{e:?}"
    );
    assert_eq!(
        e[2],
        "berth.toml:9:13: headers: `Content-Length` is set by berthd itself"
    );
    assert_eq!(
        e[3],
        "berth.toml:9:43: headers: the value of `X-Bad` holds a control character"
    );
    assert_eq!(e[4], "berth.toml:10:11: timeout: must be at least 1s");
    assert_eq!(
        e[5],
        "berth.toml:11:9: queue: 0 is not between 1 and 1000000"
    );
    assert_eq!(
        e[6],
        "berth.toml:12:11: retries: 0 is not a number of attempts (1 or more)"
    );
}

#[test]
fn webhook_urls() {
    use super::webhook::parse_url;
    assert_eq!(parse_url("http://h"), Ok(("h".into(), 80, "/".into())));
    assert_eq!(
        parse_url("HTTP://h:81/a b").map(|_| ()),
        Err("the path holds spaces or control characters".into())
    );
    assert_eq!(
        parse_url("http://[::1]:81/x"),
        Ok(("::1".into(), 81, "/x".into()))
    );
    assert_eq!(
        parse_url("http://h?x=1"),
        Ok(("h".into(), 80, "/?x=1".into()))
    );
    assert!(parse_url("http://u:p@h/").is_err());
    assert!(parse_url("ftp://h/").is_err());
    assert!(parse_url("http:///x").is_err());
}
