//! Classes in the engine: membership, option precedence, option 43, boot
//! fields and options 66/67, class lease times, templates.

use std::path::Path;

use super::tests::{NOW, ip, pkt, reply, run, with_opt};
use super::*;
use crate::config;
use crate::lease::LeaseTable;
use crate::packet::{MessageType, code};

const CONFIG: &str = r#"
[server]
interfaces = ["eth0"]
default_lease = "1h"
max_lease = "12h"
next_server = "192.0.2.250"
server_name = "global-boot"
bootp = true

[options]
ntp-servers = ["192.0.2.9"]
domain-name = "global"

[option_space.snom]
tftp-server-name = { code = 66, type = "text" }
bootfile-name    = { code = 67, type = "text" }
extra            = { code = 5, type = "u8" }

[[class]]
name = "snom"
match = { vendor_class_prefix = "snom" }
vendor_space = "snom"
next_server = "192.0.2.5"
filename = "snom/snom370.cfg"
lease = "30m"
options = { tftp-server-name = "tftp://192.0.2.5", ntp-servers = ["192.0.2.5"], bootfile-name = "snom/{vendor_class}.htm", "snom.tftp-server-name" = "tftp://192.0.2.5", "snom.bootfile-name" = "snom/{vendor_class}.htm" }

[[class]]
name = "lab"
match = { all = [{ vendor_class_prefix = "snom" }, { known = false }] }
filename = "lab/{mac}.cfg"
options = { ntp-servers = ["192.0.2.6"] }

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.102"]
options = { routers = ["192.0.2.1"], domain-name = "lab.test", "snom.extra" = 7 }

[[host]]
name = "phone"
mac = "02:00:00:00:00:01"
ip = "192.0.2.10"
filename = "phone.cfg"
options = { ntp-servers = ["192.0.2.7"] }
"#;

const PHONE: &str = "02:00:00:00:00:01";
const OTHER: &str = "02:00:00:00:00:aa";

fn cfg() -> Config {
    match config::parse(CONFIG, Path::new("test.toml")) {
        Ok(c) => c,
        Err(e) => panic!("test config does not parse:\n{e}"),
    }
}

fn discover(mac: &str, vendor: Option<&str>, prl: &[u8]) -> Packet {
    let mut p = pkt(mac, MessageType::Discover);
    if let Some(v) = vendor {
        p = with_opt(p, code::VENDOR_CLASS, v.as_bytes());
    }
    if !prl.is_empty() {
        p = with_opt(p, code::PARAMETER_REQUEST_LIST, prl);
    }
    p
}

fn text(p: &Packet, code: u8) -> Option<String> {
    p.options
        .get(code)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

const PRL: [u8; 6] = [42, 43, 66, 67, 15, 3];

#[test]
fn a_class_member_gets_the_class_options_boot_fields_and_option_43() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &discover(OTHER, Some("snom370"), &PRL),
    );
    let r = reply(&d);
    // Later classes win: `lab` (also matching) overrides `snom`'s NTP server.
    assert_eq!(r.options.get_ip(42), Some(ip("192.0.2.6")));
    assert_eq!(text(r, 66).as_deref(), Some("tftp://192.0.2.5"));
    assert_eq!(text(r, 67).as_deref(), Some("snom/snom370.htm"));
    assert_eq!(
        text(r, 15).as_deref(),
        Some("lab.test"),
        "subnet over global"
    );
    assert_eq!(r.siaddr, ip("192.0.2.5"));
    assert_eq!(r.file, b"lab/02:00:00:00:00:aa.cfg".to_vec());
    assert_eq!(r.sname, b"global-boot".to_vec());
    // Option 43: the snom space's sub-options from every scope, by code.
    let mut want = vec![5, 1, 7, 66, 16];
    want.extend_from_slice(b"tftp://192.0.2.5");
    want.extend_from_slice(&[67, 16]);
    want.extend_from_slice(b"snom/snom370.htm");
    assert_eq!(r.options.get(43), Some(want.as_slice()));
    // The class's lease time.
    assert_eq!(r.options.get_u32(code::LEASE_TIME), Some(1800));
}

#[test]
fn a_client_outside_the_class_gets_none_of_it() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &discover(OTHER, Some("MSFT 5.0"), &PRL),
    );
    let r = reply(&d);
    assert_eq!(r.options.get_ip(42), Some(ip("192.0.2.9")));
    for c in [43, 67] {
        assert!(!r.options.contains(c), "option {c}");
    }
    // Option 66 only as the server-wide sname, which it asked for.
    assert_eq!(text(r, 66).as_deref(), Some("global-boot"));
    assert_eq!(r.siaddr, ip("192.0.2.250"), "the server's next_server");
    assert!(r.file.is_empty());
    assert_eq!(r.options.get_u32(code::LEASE_TIME), Some(3600));
    let d = run(&cfg(), &LeaseTable::new(), &discover(OTHER, None, &PRL));
    assert!(!reply(&d).options.contains(43));
}

#[test]
fn the_host_scope_is_above_the_classes_and_known_is_matched() {
    let d = run(
        &cfg(),
        &LeaseTable::new(),
        &discover(PHONE, Some("snom320"), &PRL),
    );
    let r = reply(&d);
    assert_eq!(r.yiaddr, ip("192.0.2.10"));
    assert_eq!(
        r.options.get_ip(42),
        Some(ip("192.0.2.7")),
        "host over class"
    );
    assert_eq!(r.file, b"phone.cfg".to_vec(), "host filename over class");
    // `lab` requires an unknown client: the phone's option 67 is snom's.
    assert_eq!(text(r, 67).as_deref(), Some("snom/snom320.htm"));
}

#[test]
fn options_66_and_67_carry_the_header_fields_when_asked_and_not_configured() {
    let text_cfg = CONFIG.replace(
        "options = { tftp-server-name = \"tftp://192.0.2.5\", ntp-servers = [\"192.0.2.5\"], bootfile-name = \"snom/{vendor_class}.htm\", ",
        "options = { ",
    );
    let c = config::parse(&text_cfg, Path::new("t.toml")).expect("parses");
    let d = run(
        &c,
        &LeaseTable::new(),
        &discover(OTHER, Some("snom370"), &PRL),
    );
    let r = reply(&d);
    assert_eq!(text(r, 66).as_deref(), Some("global-boot"));
    assert_eq!(text(r, 67).as_deref(), Some("lab/02:00:00:00:00:aa.cfg"));
    // Not asked: header fields only.
    let d = run(
        &c,
        &LeaseTable::new(),
        &discover(OTHER, Some("snom370"), &[3]),
    );
    let r = reply(&d);
    assert!(!r.options.contains(66) && !r.options.contains(67));
    assert_eq!(r.file, b"lab/02:00:00:00:00:aa.cfg".to_vec());
}

#[test]
fn bootp_clients_get_the_header_fields() {
    let mut p = pkt(PHONE, MessageType::Discover);
    p.options = Default::default();
    let d = run(&cfg(), &LeaseTable::new(), &p);
    let r = reply(&d);
    assert_eq!(d.outcome, Outcome::BootpReply(ip("192.0.2.10")));
    assert_eq!(r.file, b"phone.cfg".to_vec());
    assert_eq!(r.sname, b"global-boot".to_vec());
    assert_eq!(r.siaddr, ip("192.0.2.250"));
}

#[test]
fn a_template_whose_fact_is_missing_leaves_its_field_out() {
    // `{vendor_class}` cannot be missing for a snom member; `{hostname}` can.
    let text_cfg = CONFIG.replace(
        "filename = \"lab/{mac}.cfg\"",
        "filename = \"{hostname}.cfg\"",
    );
    let c = config::parse(&text_cfg, Path::new("t.toml")).expect("parses");
    let d = run(
        &c,
        &LeaseTable::new(),
        &discover(OTHER, Some("snom370"), &PRL),
    );
    assert!(reply(&d).file.is_empty(), "no host name: no file");
    let p = with_opt(
        discover(OTHER, Some("snom370"), &PRL),
        code::HOST_NAME,
        b"desk",
    );
    let d = run(&c, &LeaseTable::new(), &p);
    assert_eq!(reply(&d).file, b"desk.cfg".to_vec());
}

/// A reply that carries a boot file and more options than fit: the file
/// field keeps the file name, option overload borrows only the free sname
/// field, and the client decodes the same file name and every option.
#[test]
fn a_reply_with_a_boot_file_overloads_only_the_free_sname_field() {
    // Six 60-byte texts: more than the main area holds; each fits sname.
    let texts = [
        "merit-dump",
        "root-path",
        "extensions-path",
        "nis-domain",
        "netbios-scope",
        "nisplus-domain",
    ]
    .map(|name| format!("{name} = \"{}\"", "x".repeat(60)))
    .join(", ");
    let text_cfg = CONFIG
        .replace("server_name = \"global-boot\"\n", "")
        .replace(
            "\"snom.extra\" = 7 }",
            &format!("\"snom.extra\" = 7, {texts} }}"),
        );
    let c = config::parse(&text_cfg, Path::new("t.toml")).expect("parses");
    let d = run(
        &c,
        &LeaseTable::new(),
        &discover(OTHER, Some("snom370"), &[]),
    );
    let r = d.reply.as_ref().expect("reply");
    assert_eq!(r.packet.file, b"lab/02:00:00:00:00:aa.cfg".to_vec());
    let (bytes, _) = r.encode();
    assert!(bytes.len() <= r.max_len, "{} > {}", bytes.len(), r.max_len);
    let back = Packet::decode(&bytes).expect("decodes");
    assert_eq!(back.file, b"lab/02:00:00:00:00:aa.cfg".to_vec());
    // The sname field (bytes 44..108) carries options, the file field the name.
    assert!(
        bytes[44..108].iter().any(|b| *b != 0),
        "sname field borrowed: {} bytes, {:?}",
        bytes.len(),
        back.options.codes().collect::<Vec<_>>()
    );
    assert!(back.sname.is_empty(), "and read back as options");
    let (_, dropped) = r.encode();
    let kept = [14, 17, 18, 40, 47, 64]
        .iter()
        .filter(|c| back.options.contains(**c))
        .count();
    assert!(kept >= 1, "one went into sname");
    assert_eq!(
        kept + dropped.len(),
        6,
        "each either sent or reported dropped"
    );
    assert_eq!(back.options.get(43), r.packet.options.get(43));
}

fn explain_of(c: &Config, p: &Packet) -> Explanation {
    let (hosts, _) = crate::hosts::HostTable::build(&c.hosts, Vec::new());
    let leases = LeaseTable::new();
    let blocks = crate::blocks::Blocklist::default();
    let interfaces = [super::tests::iface()];
    let view = View {
        config: c,
        hosts: &hosts,
        leases: &leases,
        blocks: &blocks,
        interfaces: &interfaces,
        probe_subnets: &[],
    };
    explain(
        &view,
        &Request {
            packet: p,
            interface: &interfaces[0],
        },
        NOW,
    )
}

/// `explain` is the resolution printed: the same options a DISCOVER
/// without a request list gets, each with its scope, and option 43's
/// sub-options in their space.
#[test]
fn explain_names_classes_address_and_every_option_with_its_scope() {
    let c = cfg();
    let p = discover(OTHER, Some("snom370"), &[]);
    let e = explain_of(&c, &p);
    assert_eq!(e.classes, ["snom", "lab"]);
    assert_eq!(e.host, None);
    assert_eq!(e.address, Some(ip("192.0.2.100")));
    assert_eq!(
        e.range.map(|r| r.to_string()).as_deref(),
        Some("192.0.2.100-192.0.2.102")
    );
    assert_eq!(e.outcome, "offered 192.0.2.100");
    assert_eq!(e.next_server, Some(ip("192.0.2.5")));
    assert_eq!(e.filename.as_deref(), Some("lab/02:00:00:00:00:aa.cfg"));
    assert_eq!(e.server_name.as_deref(), Some("global-boot"));
    let row = |space: &str, code: u8| {
        e.options
            .iter()
            .find(|o| o.space == space && o.code == code)
            .map(|o| (o.name.as_str(), o.value.as_str(), o.source.as_str()))
    };
    assert_eq!(
        row("dhcp", 42),
        Some(("ntp-servers", "192.0.2.6", "class lab"))
    );
    assert_eq!(
        row("dhcp", 67),
        Some(("bootfile-name", "snom/snom370.htm", "class snom"))
    );
    assert_eq!(row("dhcp", 3), Some(("routers", "192.0.2.1", "subnet")));
    assert_eq!(row("dhcp", 15), Some(("domain-name", "lab.test", "subnet")));
    assert_eq!(
        row("snom", 67),
        Some(("bootfile-name", "snom/snom370.htm", "class snom"))
    );
    assert_eq!(row("snom", 5), Some(("extra", "7", "subnet")));
    assert_eq!(row("dhcp", 43).map(|r| r.2), Some("class snom"));
    // What a DISCOVER gets, and nothing was held.
    let d = run(&c, &LeaseTable::new(), &p);
    let sent: Vec<u8> = e
        .options
        .iter()
        .filter(|o| o.space == "dhcp")
        .map(|o| o.code)
        .collect();
    for code in &sent {
        assert!(reply(&d).options.contains(*code), "option {code} is sent");
    }
}

#[test]
fn explain_of_a_known_client_and_of_one_on_no_served_network() {
    let c = cfg();
    let e = explain_of(&c, &discover(PHONE, Some("snom370"), &[]));
    assert_eq!(e.host.as_deref(), Some("phone"));
    assert_eq!(e.address, Some(ip("192.0.2.10")));
    assert_eq!(e.range, None, "a static address is outside the ranges");
    assert_eq!(e.classes, ["snom"]);
    let mut p = discover(OTHER, None, &[]);
    p.giaddr = ip("198.51.100.1");
    let e = explain_of(&c, &p);
    assert_eq!(e.subnet, None);
    assert_eq!(e.outcome, "ignored: no subnet for this network");
}
