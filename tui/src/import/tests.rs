//! Importer tests on real-world-shaped files: what converts, what is
//! reported (by line), and that the output is a configuration berthd's own
//! parser accepts.

use std::path::Path;

use super::*;

const SEED: &str = include_str!("../../../contrib/examples/isc-bundle.dhcpd.conf");
const OFFICE_ISC: &str = include_str!("testdata/office.dhcpd.conf");
const OFFICE_DNSMASQ: &str = include_str!("testdata/office.dnsmasq.conf");

/// Parses `toml` with berthd's configuration parser; panics on any
/// diagnostic.
fn check(toml: &str) {
    if let Err(e) = berthd::config::parse(toml, Path::new("imported.toml")) {
        let bad: Vec<String> = e.diagnostics().iter().map(ToString::to_string).collect();
        assert!(
            bad.is_empty(),
            "berthd refuses the output:\n{}\n{toml}",
            bad.join("\n")
        );
    }
}

/// Strict: berthd accepts it as it is.
fn check_strict(toml: &str) {
    if let Err(e) = berthd::config::parse(toml, Path::new("imported.toml")) {
        panic!("berthd refuses the output:\n{e}\n{toml}");
    }
}

fn lines(i: &Imported) -> Vec<usize> {
    i.notes.iter().map(|n| n.line).collect()
}

#[test]
fn the_seed_converts_whole() {
    let i = isc::convert(SEED, "isc-bundle.dhcpd.conf", &["eth1".into()]);
    let t = i.config.to_toml();
    for want in [
        "authoritative = true",
        "bootp = true",
        "log = \"local7\"",
        "default_lease = 7200",
        "max_lease = 43200",
        "[option_space.snom]\ntftp-server-name = { code = 66, type = \"text\" }\nbootfile-name = { code = 67, type = \"text\" }",
        "match = { vendor_class_prefix = \"snom\" }",
        "vendor_space = \"snom\"",
        "next_server = \"192.168.0.1\"",
        "filename = \"snom/snom370.cfg\"",
        "bootfile-name = \"snom/{vendor_class}.htm\"",
        "\"snom.tftp-server-name\" = \"tftp://192.168.0.1\"",
        "cidr = \"192.168.0.0/24\"\nrange = [\"192.168.0.100\", \"192.168.0.190\"]",
        "routers = \"192.168.0.1\", broadcast-address = \"192.168.0.255\", domain-name = \"home\", domain-name-servers = \"192.168.0.1\"",
        "name = \"host1\"\nmac = \"00:23:32:aa:bb:cc\"\nip = \"192.168.0.2\"\noptions = { host-name = \"host1\" }",
        "name = \"host2\"",
        "[[hook]]\non = [\"commit\", \"release\", \"expiry\"]\nrun = \"/etc/dhcp/dhcp-event\"\nargs = [\"{event}\", \"{ip}\", \"{mac}\", \"{hostname}\", \"auth\"]",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    assert_eq!(
        t.matches("[[hook]]").count(),
        1,
        "the three execute()s are one hook"
    );
    // Every log() is reported, and the release block's `hradware`.
    let notes = i.note_lines("seed");
    assert_eq!(
        notes.iter().filter(|n| n.contains("log (")).count(),
        11,
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("seed:49: `hradware` is not `hardware`")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("seed:36: `on commit` in subnet")),
        "{notes:#?}"
    );
    check(&t);
}

#[test]
fn an_office_dhcpd_conf_reports_what_it_cannot_convert() {
    let i = isc::convert(OFFICE_ISC, "office.dhcpd.conf", &["br0".into()]);
    assert_eq!(
        lines(&i),
        [
            0, 2, 4, 8, 9, 18, 20, 23, 25, 27, 32, 36, 42, 45, 45, 50, 50
        ]
    );
    let notes = i.note_lines("f");
    for want in [
        "f:4: not converted: `option domain-name-servers ns1.example.org , 192.0.2.53`: option `domain-name-servers`: `ns1.example.org` is not an IPv4 address",
        "f:18: not converted: `option subnet-mask 255.255.255.0`: option `subnet-mask` (code 1) is set by the server itself",
        "f:32: not converted: `group { ... }`",
        "f:36: host `laptop_1`: not a valid host name in Berth; renamed `laptop-1`",
        "f:42: not converted: host `ghost`: no fixed-address",
        "f: relays: dhcpd serves packets from any relay",
    ] {
        assert!(
            notes.iter().any(|n| n.starts_with(want)),
            "missing {want:?} in {notes:#?}"
        );
    }
    let t = i.config.to_toml();
    assert!(
        t.contains("authoritative = false"),
        "dhcpd's default is not authoritative:\n{t}"
    );
    assert!(t.contains(
        "ranges = [[\"192.0.2.100\", \"192.0.2.150\"], [\"192.0.2.200\", \"192.0.2.210\"]]"
    ));
    assert!(
        t.contains("cidr = \"198.51.100.0/25\"\nrange = [\"198.51.100.10\", \"198.51.100.20\"]"),
        "{t}"
    );
    assert!(
        t.contains("client_id = \"70:68:6f:6e:65:2d:37\""),
        "a text client id as hex:\n{t}"
    );
    assert!(
        t.contains("[limits]\nrelays = [\"0.0.0.0/0\"]"),
        "several subnets: relays stay served as dhcpd served them:\n{t}"
    );
    check_strict(&t);
}

#[test]
fn without_interfaces_a_placeholder_is_written_and_said() {
    let i = isc::convert("authoritative;\n", "x", &[]);
    assert!(i.config.to_toml().contains("interfaces = [\"eth0\"]"));
    assert_eq!(i.note_lines("x")[0].split(':').next(), Some("x"));
    assert!(i.note_lines("x")[0].starts_with("x: interfaces:"));
}

#[test]
fn a_syntax_error_is_reported_with_its_line() {
    let i = isc::convert(
        "authoritative;\nsubnet 10.0.0.0 netmask 255.0.0.0 {\n",
        "x",
        &["e".into()],
    );
    assert!(
        i.note_lines("x")
            .iter()
            .any(|n| n.starts_with("x:2: syntax error")),
        "{:?}",
        i.notes
    );
}

#[test]
fn a_dnsmasq_conf_converts_hosts_ranges_options_and_tags() {
    let i = dnsmasq::convert(OFFICE_DNSMASQ, "office.dnsmasq.conf", &[]);
    // Line 11 (option 252, wpad) converts: the catalogue knows it.
    assert_eq!(lines(&i), [2, 3, 7, 17, 19, 19, 20, 20, 22]);
    let t = i.config.to_toml();
    for want in [
        "interfaces = [\"br0\"]",
        "authoritative = true",
        "filename = \"pxelinux.0\"",
        "routers = \"192.0.2.1\"",
        "domain-name-servers = [\"192.0.2.1\", \"192.0.2.2\"]",
        "name = \"snom\"\nmatch = { option = { code = 60, contains = \"snom\" } }\nnext_server = \"192.0.2.1\"\nfilename = \"snom/snom370.cfg\"\noptions = { tftp-server-name = \"tftp://192.0.2.1\" }",
        "match = { mac_prefix = \"52:54:00\" }",
        "cidr = \"192.0.2.0/24\"\nrange = [\"192.0.2.50\", \"192.0.2.150\"]\ndefault_lease = 43200\nmax_lease = 43200",
        "name = \"printer\"\nmac = \"02:00:00:00:00:01\"\nip = \"192.0.2.10\"",
        "name = \"nas\"",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    check(&t);
}

#[test]
fn a_staticdhcpd_database_converts_subnets_and_maps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("dhcp.sqlite3");
    let db = rusqlite::Connection::open(&path).expect("db");
    db.execute_batch(staticdhcpd::SCHEMA).expect("schema");
    db.execute_batch(
        "INSERT INTO subnets VALUES ('lan', 0, 14400, '192.0.2.1', '255.255.255.0', '192.0.2.255',
           '192.0.2.1', '192.0.2.1,192.0.2.2', 'example.org');
         INSERT INTO subnets VALUES ('lab', 0, 3600, NULL, NULL, NULL, NULL, NULL, NULL);
         INSERT INTO maps VALUES ('02:00:00:00:00:01', '192.0.2.10', 'printer', 'lan', 0);
         INSERT INTO maps VALUES ('02:00:00:00:00:02', '192.0.2.11', 'bad_name', 'lan', 0);
         INSERT INTO maps VALUES ('02:00:00:00:00:03', '198.51.100.5', 'x', 'lab', 0);",
    )
    .expect("schema");
    drop(db);
    let i = staticdhcpd::convert(&path, &["eth1".into()]).expect("reads");
    let notes = i.note_lines("db");
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(
        notes[0].starts_with("db:2: not converted: subnets row 2 (lab, serial 0): no network"),
        "{notes:#?}"
    );
    assert!(
        notes[1].starts_with("db:3: not converted: maps row 3 (02:00:00:00:00:03)"),
        "{notes:#?}"
    );
    let t = i.config.to_toml();
    for want in [
        "cidr = \"192.0.2.0/24\"\ndefault_lease = 14400\noptions",
        "routers = [\"192.0.2.1\"], broadcast-address = \"192.0.2.255\", ntp-servers = [\"192.0.2.1\"], domain-name-servers = [\"192.0.2.1\", \"192.0.2.2\"], domain-name = \"example.org\"",
        "name = \"printer\"\nmac = \"02:00:00:00:00:01\"\nip = \"192.0.2.10\"",
        "name = \"host-020000000002\"",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    check_strict(&t);
}

#[test]
fn hooks_for_the_events_own_name_merge() {
    let h = |e: &str, a: &str| Hook {
        on: vec![e.into()],
        run: "/x".into(),
        args: vec![a.into(), "{ip}".into()],
    };
    let merged = model::merge_hooks(vec![
        h("commit", "commit"),
        h("release", "release"),
        h("expiry", "gone"),
    ]);
    assert_eq!(merged.len(), 2, "{merged:?}");
    assert_eq!(merged[0].on, ["commit", "release"]);
    assert_eq!(merged[0].args, ["{event}", "{ip}"]);
    assert_eq!(
        merged[1].args,
        ["gone", "{ip}"],
        "not the event's name: kept"
    );
    let kept = model::merge_hooks(vec![h("commit", "a"), h("release", "b")]);
    assert_eq!(kept.len(), 2);
}

#[test]
fn several_dnsmasq_subnets_keep_every_relay_served() {
    let conf = "dhcp-range=192.0.2.50,192.0.2.150,255.255.255.0,12h\n\
                dhcp-range=198.51.100.10,198.51.100.20,255.255.255.0,1h\n";
    let i = dnsmasq::convert(conf, "two.conf", &["br0".into()]);
    let t = i.config.to_toml();
    assert!(t.contains("[limits]\nrelays = [\"0.0.0.0/0\"]"), "{t}");
    assert!(
        i.note_lines("f")
            .iter()
            .any(|n| n.starts_with("f: relays: dnsmasq serves packets from any relay")),
        "{:?}",
        i.note_lines("f")
    );
    check_strict(&t);
    let one = dnsmasq::convert(
        "dhcp-range=192.0.2.50,192.0.2.150,255.255.255.0,12h\n",
        "one.conf",
        &["br0".into()],
    );
    assert!(
        !one.config.to_toml().contains("relays"),
        "one subnet: attached"
    );
}
