//! End-to-end: classes, vendor spaces and boot fields with real clients
//! (issue 9): the seed's snom class served to a busybox udhcpc that sends
//! vendor class `snom370`, and nothing of it to a client that does not.

use std::path::Path;
use std::time::Duration;

use berth_tests::{
    Daemon, Lab, Record, ServerConfig, Udhcpc, UdhcpcOptions, check_config, require_tools,
    root_or_skip,
};
use serde_json::Value;

const LEASE_WAIT: Duration = Duration::from_secs(20);

/// The seed's class, on the lab's network (192.0.2.0/24, server .1). The
/// DHCP option 66 holds a bare address rather than the seed's
/// `tftp://192.168.0.1`: udhcpc checks option 66 as a host name and exports
/// anything else as `bad`. The snom space keeps the URL (option 43 is
/// exported as hex, unchecked).
const SNOM: &str = r#"
[option_space.snom]
tftp-server-name = { code = 66, type = "text" }
bootfile-name    = { code = 67, type = "text" }

[[class]]
name = "snom"
match = { vendor_class_prefix = "snom" }
vendor_space = "snom"
next_server = "192.0.2.1"
filename = "snom/snom370.cfg"
[class.options]
tftp-server-name = "192.0.2.1"
"snom.tftp-server-name" = "tftp://192.0.2.1"
ntp-servers = ["192.0.2.1"]
bootfile-name = "snom/{vendor_class}.htm"
"snom.bootfile-name" = "snom/{vendor_class}.htm"
"#;

/// What udhcpc is asked to request besides its defaults: NTP servers (42),
/// vendor-encapsulated options (43), TFTP server (66) and bootfile (67).
const ASK: [u8; 4] = [42, 43, 66, 67];

fn udhcpc(lab: &Lab, vendor: Option<&str>) -> (Udhcpc, Record) {
    let c = lab.add_client(None).expect("client ns");
    let u = Udhcpc::start_with(
        &c,
        UdhcpcOptions {
            vendor_class: vendor.map(str::to_string),
            request: ASK.to_vec(),
            ..UdhcpcOptions::default()
        },
    )
    .expect("udhcpc starts");
    u.wait_bound(LEASE_WAIT).expect("udhcpc gets a lease");
    let r = u
        .records()
        .into_iter()
        .rev()
        .find(|r| r.reason() == "bound")
        .expect("a bound record");
    (u, r)
}

/// Option 43 as udhcpc exports an option it has no name for: hex.
fn snom_space_hex() -> String {
    let mut bytes = vec![66u8, 16];
    bytes.extend_from_slice(b"tftp://192.0.2.1");
    bytes.push(67);
    bytes.push(16);
    bytes.extend_from_slice(b"snom/snom370.htm");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_snom_phone_gets_the_class_and_another_client_none_of_it() {
    if !root_or_skip("a_snom_phone_gets_the_class_and_another_client_none_of_it") {
        return;
    }
    require_tools(&["udhcpc", "ip"]);
    let lab = Lab::new().expect("lab");
    let mut cfg = ServerConfig::lab();
    cfg.extra = SNOM.to_string();
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let (_phone, r) = udhcpc(&lab, Some("snom370"));
    let all = format!("{r:?}");
    assert_eq!(r.get("tftp"), Some("192.0.2.1"), "option 66: {all}");
    assert_eq!(
        r.get("bootfile"),
        Some("snom/snom370.htm"),
        "option 67: {all}"
    );
    assert_eq!(r.get("ntpsrv"), Some("192.0.2.1"), "option 42: {all}");
    assert_eq!(r.get("siaddr"), Some("192.0.2.1"), "next-server: {all}");
    assert_eq!(
        r.get("boot_file"),
        Some("snom/snom370.cfg"),
        "filename: {all}"
    );
    assert_eq!(
        r.get("opt43"),
        Some(snom_space_hex().as_str()),
        "option 43 with the snom space: {all}"
    );

    let (_other, r) = udhcpc(&lab, Some("udhcp 1.35.0"));
    let all = format!("{r:?}");
    for key in ["tftp", "bootfile", "ntpsrv", "opt43", "boot_file"] {
        assert_eq!(
            r.get(key),
            None,
            "{key} for a client outside the class: {all}"
        );
    }
    assert_ne!(r.get("siaddr"), Some("192.0.2.1"), "no next-server: {all}");
    assert!(r.get("ip").is_some(), "still gets a lease: {all}");
}

/// The seed's whole configuration, as contrib/examples ships it, passes
/// `berthd check-config`.
#[test]
fn the_isc_bundle_example_passes_check_config() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/examples/isc-bundle.toml");
    let out = check_config(&file).expect("check-config runs");
    assert!(
        out.status.success(),
        "check-config failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `berth explain` against the real berthd: the snom phone's classes,
/// address and options with their scopes, and nothing allocated.
#[test]
fn berth_explain_shows_the_class_and_each_option_scope() {
    if !root_or_skip("berth_explain_shows_the_class_and_each_option_scope") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let mut cfg = ServerConfig::lab();
    cfg.extra = SNOM.to_string();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    let mac = "02:00:00:00:00:5e";

    let text = berthd.ctl(&["--json", "explain", mac, "--vendor-class", "snom370"]);
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    assert_eq!(v["classes"], serde_json::json!(["snom"]), "{text}");
    assert_eq!(v["subnet"], "192.0.2.0/24", "{text}");
    assert_eq!(v["address"], "192.0.2.100", "{text}");
    assert_eq!(v["range"], "192.0.2.100-192.0.2.102", "{text}");
    assert_eq!(v["next_server"], "192.0.2.1", "{text}");
    assert_eq!(v["filename"], "snom/snom370.cfg", "{text}");
    let option = |space: &str, name: &str| -> (String, String) {
        let o = v["options"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["space"] == space && o["name"] == name))
            .unwrap_or_else(|| panic!("no {space} option {name}:\n{text}"));
        (
            o["value"].as_str().unwrap_or_default().to_string(),
            o["source"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(
        option("dhcp", "bootfile-name"),
        ("snom/snom370.htm".into(), "class snom".into())
    );
    assert_eq!(
        option("dhcp", "routers"),
        ("192.0.2.1".into(), "subnet".into())
    );
    assert_eq!(
        option("dhcp", "domain-name-servers"),
        ("192.0.2.1".into(), "global".into())
    );
    assert_eq!(
        option("snom", "tftp-server-name"),
        ("tftp://192.0.2.1".into(), "class snom".into())
    );

    let human = berthd.ctl(&["explain", mac]);
    assert!(
        human.contains("classes      -\n"),
        "no class without the vendor class:\n{human}"
    );
    assert!(!human.contains("bootfile-name"), "{human}");

    // Explaining allocated nothing.
    let leases = berthd.ctl(&["--json", "leases"]);
    assert_eq!(leases.trim(), "[]", "{leases}");
}
