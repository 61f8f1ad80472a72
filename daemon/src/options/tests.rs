//! The catalogue, value parsing and encoding, and rendering, together:
//! most tests here go from TOML to wire bytes and back to text.

use super::*;
use catalogue::OptionKind as K;

fn val(src: &str) -> toml::Value {
    let table: toml::Table = toml::from_str(&format!("v = {src}")).expect("test TOML");
    table["v"].clone()
}

/// Parse and encode, as a configuration value then a reply would.
fn encode(def: &OptionDef, value: &toml::Value) -> Result<Vec<u8>, String> {
    parse(def, value)
        .map(|v| v.encode().into_vec())
        .map_err(|e| e.message)
}

fn enc(name: &str, src: &str) -> Result<Vec<u8>, String> {
    encode(by_name(name).expect("known option"), &val(src))
}

/// Encode, render, and check both the bytes and the rendering.
fn round_trip(name: &str, src: &str, bytes: &[u8], rendered: &str) {
    let def = by_name(name).expect("known option");
    let got = encode(def, &val(src)).expect("encodes");
    assert_eq!(got, bytes, "{name} = {src}");
    assert_eq!(render(def.code, &got), rendered, "{name}");
}

#[test]
fn catalogue_is_sorted_unique_and_consistent() {
    for pair in all().windows(2) {
        assert!(pair[0].code < pair[1].code, "{pair:?}");
    }
    let catalogue = Catalogue::builtin();
    for d in all() {
        assert_eq!(by_code(d.code), Some(d));
        assert_eq!(by_name(&d.name), Some(d));
        assert_eq!(catalogue.get(&OptionKey::dhcp(d.code)), Some(d));
        assert_eq!(catalogue.lookup(&d.name), Some((Space::Dhcp, d)));
    }
    let configurable = all().iter().filter(|d| !is_server_set(d.code)).count();
    assert!(
        configurable >= 40,
        "only {configurable} configurable options"
    );
}

#[test]
fn names_follow_isc() {
    for (name, code) in [
        ("subnet-mask", 1),
        ("time-offset", 2),
        ("routers", 3),
        ("time-servers", 4),
        ("domain-name-servers", 6),
        ("log-servers", 7),
        ("host-name", 12),
        ("domain-name", 15),
        ("interface-mtu", 26),
        ("broadcast-address", 28),
        ("static-routes", 33),
        ("ntp-servers", 42),
        ("vendor-encapsulated-options", 43),
        ("netbios-name-servers", 44),
        ("tftp-server-name", 66),
        ("bootfile-name", 67),
        ("domain-search", 119),
        ("classless-static-routes", 121),
    ] {
        assert_eq!(by_name(name).map(|d| d.code), Some(code), "{name}");
    }
    assert!(by_name("router").is_none());
    assert!(by_code(200).is_none());
}

/// Every server-set code has a catalogue name, so that a configuration
/// naming it is told "the server sets this", not "unknown option".
#[test]
fn server_set_codes_are_named_in_the_catalogue() {
    for s in SERVER_SET {
        assert!(by_code(s.code).is_some(), "{}", s.code);
    }
    let def = by_name("dhcp-message").expect("known");
    assert!(matches!(
        parse_named("dhcp-message", &val("\"hi\"")),
        Err(OptionError::ServerSet(d, _)) if d == def
    ));
}

/// Vendor spaces are looked up like the DHCP space: by (space, code) and
/// by a qualified name.
#[test]
fn vendor_spaces_are_keyed_by_space_and_code() {
    let mut catalogue = Catalogue::builtin();
    catalogue
        .define_space(
            "snom",
            vec![
                OptionDef::new(67, "bootfile-name", K::Text),
                OptionDef::new(66, "tftp-server-name", K::Text),
            ],
        )
        .expect("defines");
    let snom = Space::Vendor("snom".to_string());
    let key = OptionKey {
        space: snom.clone(),
        code: 66,
    };
    assert_eq!(
        catalogue.get(&key).map(|d| d.name.as_ref()),
        Some("tftp-server-name")
    );
    let (space, def) = catalogue.lookup("snom.bootfile-name").expect("found");
    assert_eq!((space, def.code), (snom.clone(), 67));
    // The same code in the DHCP space is a different option.
    assert_eq!(
        catalogue.get(&OptionKey::dhcp(66)).map(|d| d.kind),
        Some(K::Text)
    );
    assert!(catalogue.lookup("snom.routers").is_none());
    assert!(catalogue.lookup("other.bootfile-name").is_none());
    assert_eq!(
        catalogue.define_space("snom", vec![]),
        Err(CatalogueError::DuplicateSpace("snom".to_string()))
    );
    assert_eq!(
        catalogue.define_space(
            "twice",
            vec![
                OptionDef::new(1, "a", K::Text),
                OptionDef::new(1, "b", K::Text)
            ]
        ),
        Err(CatalogueError::DuplicateCode {
            space: "twice".to_string(),
            code: 1
        })
    );
    assert!(matches!(
        catalogue.define_space("framing", vec![OptionDef::new(0, "pad", K::Hex)]),
        Err(CatalogueError::Reserved { code: 0, .. })
    ));
}

#[test]
fn suggest_finds_close_names() {
    assert_eq!(suggest("router"), Some("routers"));
    assert_eq!(suggest("domain_name_servers"), Some("domain-name-servers"));
    assert_eq!(suggest("Domain-Name"), Some("domain-name"));
    assert_eq!(suggest("dns"), Some("domain-name-servers"));
    assert_eq!(suggest("ntp-server"), Some("ntp-servers"));
    assert_eq!(suggest("completely-unrelated-thing"), None);
}

#[test]
fn round_trip_ip() {
    round_trip(
        "subnet-mask",
        r#""255.255.255.0""#,
        &[255, 255, 255, 0],
        "255.255.255.0",
    );
}

#[test]
fn round_trip_ip_list_single_and_array() {
    round_trip("routers", r#""192.0.2.1""#, &[192, 0, 2, 1], "192.0.2.1");
    round_trip(
        "domain-name-servers",
        r#"["192.0.2.1", "192.0.2.2"]"#,
        &[192, 0, 2, 1, 192, 0, 2, 2],
        "192.0.2.1 192.0.2.2",
    );
}

#[test]
fn round_trip_ip_pairs() {
    round_trip(
        "static-routes",
        r#"[["10.0.0.0", "192.0.2.1"], ["10.1.0.0", "192.0.2.2"]]"#,
        &[10, 0, 0, 0, 192, 0, 2, 1, 10, 1, 0, 0, 192, 0, 2, 2],
        "10.0.0.0 192.0.2.1 10.1.0.0 192.0.2.2",
    );
}

#[test]
fn round_trip_classless_routes() {
    round_trip(
        "classless-static-routes",
        r#"[["10.0.0.0/8", "192.0.2.1"], ["0.0.0.0/0", "192.0.2.1"], ["192.168.1.128/25", "192.0.2.2"]]"#,
        &[
            8, 10, 192, 0, 2, 1, //
            0, 192, 0, 2, 1, //
            25, 192, 168, 1, 128, 192, 0, 2, 2,
        ],
        "10.0.0.0/8 192.0.2.1 0.0.0.0/0 192.0.2.1 192.168.1.128/25 192.0.2.2",
    );
}

#[test]
fn round_trip_integers() {
    round_trip("default-ip-ttl", "64", &[64], "64");
    round_trip("interface-mtu", "1500", &[0x05, 0xdc], "1500");
    round_trip(
        "arp-cache-timeout",
        "4294967295",
        &[0xff, 0xff, 0xff, 0xff],
        "4294967295",
    );
    round_trip("time-offset", "-3600", &(-3600i32).to_be_bytes(), "-3600");
}

#[test]
fn round_trip_bool() {
    round_trip("ip-forwarding", "true", &[1], "true");
    round_trip("ip-forwarding", "false", &[0], "false");
}

#[test]
fn round_trip_text() {
    round_trip(
        "domain-name",
        r#""home.example""#,
        b"home.example",
        "home.example",
    );
}

#[test]
fn round_trip_hex() {
    round_trip(
        "vendor-encapsulated-options",
        r#""01:04:c0:a8:0:1""#,
        &[1, 4, 0xc0, 0xa8, 0, 1],
        "01:04:c0:a8:00:01",
    );
}

#[test]
fn round_trip_u16_list() {
    round_trip(
        "path-mtu-plateau-table",
        "[68, 1500]",
        &[0, 68, 0x05, 0xdc],
        "68 1500",
    );
    round_trip("name-service-search", "6", &[0, 6], "6");
}

#[test]
fn round_trip_u8_list() {
    let def = OptionDef::new(55, "dhcp-parameter-request-list", K::U8List);
    let bytes = encode(&def, &val("[1, 3, 6]")).expect("encodes");
    assert_eq!(bytes, [1, 3, 6]);
    assert_eq!(render(55, &bytes), "1 3 6");
}

#[test]
fn round_trip_domain_search_uses_rfc3397_compression() {
    // The RFC 3397 section 2 example: eng.apple.com and marketing.apple.com.
    let mut expected = Vec::new();
    expected.extend_from_slice(b"\x03eng\x05apple\x03com\x00");
    expected.extend_from_slice(b"\x09marketing\xc0\x04");
    round_trip(
        "domain-search",
        r#"["eng.apple.com", "marketing.apple.com."]"#,
        &expected,
        "eng.apple.com marketing.apple.com",
    );
    round_trip(
        "domain-search",
        r#""example.org""#,
        b"\x07example\x03org\x00",
        "example.org",
    );
}

#[test]
fn encode_type_errors_say_expected_and_found() {
    assert_eq!(
        enc("default-ip-ttl", "300"),
        Err("expected an integer from 0 to 255, found integer 300".to_string())
    );
    assert_eq!(
        enc("interface-mtu", r#""1500""#),
        Err(r#"expected an integer from 0 to 65535, found string "1500""#.to_string())
    );
    assert_eq!(
        enc("ip-forwarding", "1"),
        Err("expected a boolean (true or false), found integer 1".to_string())
    );
    assert_eq!(
        enc("domain-name", r#"["a"]"#),
        Err("expected a string, found an array".to_string())
    );
    assert_eq!(
        enc("routers", "[]"),
        Err(
            "expected an IPv4 address string or an array of them, like [\"192.0.2.1\"], found an empty array"
                .to_string()
        )
    );
    assert_eq!(
        enc("routers", r#"["192.0.2.300"]"#),
        Err("`192.0.2.300` is not an IPv4 address".to_string())
    );
    assert_eq!(
        enc("vendor-encapsulated-options", r#""zz""#),
        Err("`zz` is not hex bytes (expected pairs of hex digits like \"01:02:ab\")".to_string())
    );
    assert!(
        enc(
            "classless-static-routes",
            r#"[["10.0.0.1/8", "192.0.2.1"]]"#
        )
        .is_err_and(|e| e.contains("did you mean `10.0.0.0/8`"))
    );
    assert!(
        enc("static-routes", r#"["10.0.0.0", "192.0.2.1"]"#)
            .is_err_and(|e| e.contains("found string"))
    );
}

#[test]
fn encode_located_names_the_element_at_fault() {
    let routers = by_name("routers").expect("known");
    assert_eq!(
        parse(routers, &val(r#"["192.0.2.1", "x", "192.0.2.3"]"#)),
        Err(ParseError {
            element: Some(1),
            message: "`x` is not an IPv4 address".to_string()
        })
    );
    // A lone value has no element to point at.
    assert_eq!(
        parse(routers, &val(r#""x""#)).map_err(|e| e.element),
        Err(None)
    );
    let search = by_name("domain-search").expect("known");
    assert_eq!(
        parse(search, &val(r#"["a.example", "b..example"]"#)).map_err(|e| e.element),
        Err(Some(1))
    );
}

#[test]
fn encode_refuses_values_longer_than_one_option() {
    let long = format!("\"{}\"", "x".repeat(256));
    assert_eq!(
        enc("root-path", &long),
        Err("value is 256 bytes on the wire; one DHCP option holds at most 255".to_string())
    );
}

#[test]
fn render_each_kind() {
    assert_eq!(render(1, &[255, 255, 255, 0]), "255.255.255.0");
    assert_eq!(render(6, &[1, 1, 1, 1, 8, 8, 8, 8]), "1.1.1.1 8.8.8.8");
    assert_eq!(
        render(33, &[10, 0, 0, 0, 192, 0, 2, 1]),
        "10.0.0.0 192.0.2.1"
    );
    assert_eq!(
        render(121, &[24, 10, 1, 2, 192, 0, 2, 1]),
        "10.1.2.0/24 192.0.2.1"
    );
    assert_eq!(render(23, &[64]), "64");
    assert_eq!(render(57, &[2, 64]), "576");
    assert_eq!(render(51, &[0, 0, 0x0e, 0x10]), "3600");
    assert_eq!(render(2, &[0xff, 0xff, 0xff, 0xff]), "-1");
    assert_eq!(render(19, &[1]), "true");
    assert_eq!(render(12, b"host1\0"), "host1");
    assert_eq!(render(12, b"a\nb\xff"), "a\\x0ab\\xff");
    assert_eq!(render(61, &[1, 0, 0x23]), "01:00:23");
    assert_eq!(render(55, &[1, 3, 6]), "1 3 6");
    assert_eq!(render(25, &[0, 68, 5, 0xdc]), "68 1500");
    assert_eq!(
        render(119, b"\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04"),
        "eng.apple.com marketing.apple.com"
    );
}

#[test]
fn render_falls_back_to_hex_for_unknown_or_malformed() {
    assert_eq!(render(200, &[1, 2, 0xab]), "01:02:ab");
    assert_eq!(render(1, &[1, 2, 3]), "01:02:03");
    assert_eq!(render(19, &[2]), "02");
    assert_eq!(render(121, &[33, 1]), "21:01");
    // A compression pointer that points forwards (or at itself) would loop.
    assert_eq!(render(119, &[0xc0, 0x00]), "c0:00");
    assert_eq!(render(200, &[]), "");
}

#[test]
fn round_trip_u32_list_and_string_list() {
    let u32s = OptionDef::new(224, "x", K::U32List);
    assert_eq!(
        encode(&u32s, &val("[1, 4294967295]")),
        Ok(vec![0, 0, 0, 1, 255, 255, 255, 255])
    );
    round_trip(
        "user-class",
        r#"["ab", "c"]"#,
        &[2, b'a', b'b', 1, b'c'],
        "ab,c",
    );
    assert!(enc("user-class", r#"[""]"#).is_err());
}

#[test]
fn a_text_value_with_braces_is_a_template_and_an_unknown_field_is_refused() {
    let def = by_name("bootfile-name").expect("known");
    let v = parse(def, &val(r#""snom/{vendor_class}.htm""#)).expect("template");
    let facts = Facts {
        vendor_class: Some("snom370".into()),
        ..Facts::default()
    };
    assert_eq!(
        v.encode_with(&facts).map(|b| b.into_vec()),
        Some(b"snom/snom370.htm".to_vec())
    );
    assert_eq!(v.encode_with(&Facts::default()), None);
    let e = parse(def, &val(r#""{vendor}""#)).expect_err("unknown field");
    assert!(
        e.message.contains("unknown template field `{vendor}`"),
        "{e}"
    );
}

#[test]
fn kind_names_round_trip() {
    for name in OptionKind::names() {
        let kind = OptionKind::from_name(name).expect("known");
        assert_eq!(kind.name(), name);
    }
    assert_eq!(OptionKind::from_name("u16-list"), Some(K::U16List));
    assert_eq!(OptionKind::from_name("string"), None);
}

#[test]
fn custom_dhcp_options_take_new_codes_and_names_only() {
    let mut c = Catalogue::builtin();
    c.define(OptionDef::new(224, "my-option", K::Text))
        .expect("new code");
    assert_eq!(
        c.lookup("my-option").map(|(s, d)| (s, d.code)),
        Some((Space::Dhcp, 224))
    );
    assert_eq!(c.get(&OptionKey::dhcp(224)).map(|d| d.kind), Some(K::Text));
    assert_eq!(
        c.define(OptionDef::new(66, "mine", K::Text)),
        Err(CatalogueError::CodeTaken {
            code: 66,
            name: "tftp-server-name".into()
        })
    );
    assert_eq!(
        c.define(OptionDef::new(225, "routers", K::Text)),
        Err(CatalogueError::NameTaken("routers".into()))
    );
    assert!(matches!(
        c.define(OptionDef::new(226, "a.b", K::Text)),
        Err(CatalogueError::BadName(_))
    ));
}

#[test]
fn the_later_rfc_options_are_named() {
    for (name, code) in [
        ("user-class", 77),
        ("fqdn", 81),
        ("pxe-system-type", 93),
        ("pxe-interface-id", 94),
        ("pxe-client-id", 97),
        ("vendor-class-identifier", 60),
        ("vivco", 124),
        ("vivso", 125),
    ] {
        assert_eq!(by_name(name).map(|d| d.code), Some(code), "{name}");
    }
}
