//! The DHCP option catalogue: names, codes and value types.
//!
//! Names follow ISC dhcpd's dhcp-options(5), so operators can carry their
//! configuration (and their hook scripts, which see the same names with dashes
//! turned into underscores) across. [`encode`] turns a TOML value into wire
//! bytes for the configuration; [`render`] turns wire bytes back into the
//! human, dhclient-script style text that hooks and the control API show.
//!
//! Some options are the server's own business (message type, server
//! identifier, lease and renewal times, ...). They are in the catalogue so
//! that they have a name and can be rendered, but [`is_server_controlled`]
//! says the configuration must not set them.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::addr::Cidr;
use crate::packet::code;

/// The value type of an option: how a configuration value is encoded and how
/// wire bytes are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionKind {
    /// One IPv4 address.
    Ip,
    /// One or more IPv4 addresses.
    IpList,
    /// Pairs of IPv4 addresses, e.g. (destination, router) for `static-routes`
    /// (33) or (address, mask) for `policy-filter` (21).
    IpPairs,
    /// RFC 3442 classless static routes (121): (destination CIDR, router) pairs.
    ClasslessRoutes,
    /// An unsigned 8-bit integer.
    U8,
    /// An unsigned 16-bit integer, network byte order.
    U16,
    /// An unsigned 32-bit integer, network byte order.
    U32,
    /// A signed 32-bit integer, network byte order (`time-offset`).
    I32,
    /// A flag: one octet, 0 or 1.
    Bool,
    /// Text (NVT ASCII in the RFCs; we pass UTF-8 through).
    Text,
    /// Opaque bytes, written `"01:02:ab"` in the configuration.
    Hex,
    /// One or more unsigned 8-bit integers.
    U8List,
    /// One or more unsigned 16-bit integers.
    U16List,
    /// A list of domain names in RFC 1035 wire format with compression
    /// (RFC 3397, `domain-search`).
    DomainList,
}

impl OptionKind {
    /// What a configuration value of this kind looks like, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            OptionKind::Ip => "an IPv4 address string like \"192.0.2.1\"",
            OptionKind::IpList => {
                "an IPv4 address string or an array of them, like [\"192.0.2.1\"]"
            }
            OptionKind::IpPairs => {
                "an array of address pairs, like [[\"10.0.0.0\", \"192.0.2.1\"]]"
            }
            OptionKind::ClasslessRoutes => {
                "an array of [destination CIDR, router] pairs, like [[\"10.0.0.0/8\", \"192.0.2.1\"]]"
            }
            OptionKind::U8 => "an integer from 0 to 255",
            OptionKind::U16 => "an integer from 0 to 65535",
            OptionKind::U32 => "an integer from 0 to 4294967295",
            OptionKind::I32 => "an integer from -2147483648 to 2147483647",
            OptionKind::Bool => "a boolean (true or false)",
            OptionKind::Text => "a string",
            OptionKind::Hex => "a string of hex bytes like \"01:02:ab\"",
            OptionKind::U8List => "an integer from 0 to 255 or an array of them",
            OptionKind::U16List => "an integer from 0 to 65535 or an array of them",
            OptionKind::DomainList => {
                "a domain name string or an array of them, like [\"example.com\"]"
            }
        }
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionDef {
    /// The option code on the wire.
    pub code: u8,
    /// The ISC dhcpd name (dhcp-options(5)).
    pub name: &'static str,
    /// The value type.
    pub kind: OptionKind,
}

const fn def(code: u8, name: &'static str, kind: OptionKind) -> OptionDef {
    OptionDef { code, name, kind }
}

use OptionKind as K;

/// The catalogue, ordered by code. `by_code` relies on the order (binary search).
static CATALOGUE: &[OptionDef] = &[
    // 0 and 255 are framing, not options; they are named here only so that a
    // configuration that says `pad` or `end` gets "the server sets this"
    // rather than "unknown option".
    def(code::PAD, "pad", K::Hex),
    def(code::SUBNET_MASK, "subnet-mask", K::Ip),
    def(2, "time-offset", K::I32),
    def(code::ROUTERS, "routers", K::IpList),
    def(4, "time-servers", K::IpList),
    def(5, "ien116-name-servers", K::IpList),
    def(code::DOMAIN_NAME_SERVERS, "domain-name-servers", K::IpList),
    def(7, "log-servers", K::IpList),
    def(8, "cookie-servers", K::IpList),
    def(9, "lpr-servers", K::IpList),
    def(10, "impress-servers", K::IpList),
    def(11, "resource-location-servers", K::IpList),
    def(code::HOST_NAME, "host-name", K::Text),
    def(13, "boot-size", K::U16),
    def(14, "merit-dump", K::Text),
    def(code::DOMAIN_NAME, "domain-name", K::Text),
    def(16, "swap-server", K::Ip),
    def(17, "root-path", K::Text),
    def(18, "extensions-path", K::Text),
    def(19, "ip-forwarding", K::Bool),
    def(20, "non-local-source-routing", K::Bool),
    def(21, "policy-filter", K::IpPairs),
    def(22, "max-dgram-reassembly", K::U16),
    def(23, "default-ip-ttl", K::U8),
    def(24, "path-mtu-aging-timeout", K::U32),
    def(25, "path-mtu-plateau-table", K::U16List),
    def(26, "interface-mtu", K::U16),
    def(27, "all-subnets-local", K::Bool),
    def(code::BROADCAST_ADDRESS, "broadcast-address", K::Ip),
    def(29, "perform-mask-discovery", K::Bool),
    def(30, "mask-supplier", K::Bool),
    def(31, "router-discovery", K::Bool),
    def(32, "router-solicitation-address", K::Ip),
    def(33, "static-routes", K::IpPairs),
    def(34, "trailer-encapsulation", K::Bool),
    def(35, "arp-cache-timeout", K::U32),
    def(36, "ieee802-3-encapsulation", K::Bool),
    def(37, "default-tcp-ttl", K::U8),
    def(38, "tcp-keepalive-interval", K::U32),
    def(39, "tcp-keepalive-garbage", K::Bool),
    def(40, "nis-domain", K::Text),
    def(41, "nis-servers", K::IpList),
    def(42, "ntp-servers", K::IpList),
    def(
        code::VENDOR_ENCAPSULATED,
        "vendor-encapsulated-options",
        K::Hex,
    ),
    def(44, "netbios-name-servers", K::IpList),
    def(45, "netbios-dd-server", K::IpList),
    def(46, "netbios-node-type", K::U8),
    def(47, "netbios-scope", K::Text),
    def(48, "font-servers", K::IpList),
    def(49, "x-display-manager", K::IpList),
    def(code::REQUESTED_IP, "dhcp-requested-address", K::Ip),
    def(code::LEASE_TIME, "dhcp-lease-time", K::U32),
    def(code::OVERLOAD, "dhcp-option-overload", K::U8),
    def(code::MESSAGE_TYPE, "dhcp-message-type", K::U8),
    def(code::SERVER_ID, "dhcp-server-identifier", K::Ip),
    def(
        code::PARAMETER_REQUEST_LIST,
        "dhcp-parameter-request-list",
        K::U8List,
    ),
    def(code::MESSAGE, "dhcp-message", K::Text),
    def(code::MAX_MESSAGE_SIZE, "dhcp-max-message-size", K::U16),
    def(code::RENEWAL_TIME, "dhcp-renewal-time", K::U32),
    def(code::REBINDING_TIME, "dhcp-rebinding-time", K::U32),
    def(code::VENDOR_CLASS, "vendor-class-identifier", K::Text),
    def(code::CLIENT_ID, "dhcp-client-identifier", K::Hex),
    def(62, "nwip-domain", K::Text),
    def(63, "nwip-suboptions", K::Hex),
    def(64, "nisplus-domain", K::Text),
    def(65, "nisplus-servers", K::IpList),
    def(code::TFTP_SERVER_NAME, "tftp-server-name", K::Text),
    def(code::BOOTFILE_NAME, "bootfile-name", K::Text),
    def(68, "mobile-ip-home-agent", K::IpList),
    def(69, "smtp-server", K::IpList),
    def(70, "pop-server", K::IpList),
    def(71, "nntp-server", K::IpList),
    def(72, "www-server", K::IpList),
    def(73, "finger-server", K::IpList),
    def(74, "irc-server", K::IpList),
    def(75, "streettalk-server", K::IpList),
    def(76, "streettalk-directory-assistance-server", K::IpList),
    def(code::RELAY_AGENT_INFO, "relay-agent-information", K::Hex),
    def(85, "nds-servers", K::IpList),
    def(86, "nds-tree-name", K::Text),
    def(87, "nds-context", K::Text),
    def(88, "bcms-controller-names", K::DomainList),
    def(89, "bcms-controller-address", K::IpList),
    def(100, "pcode", K::Text),
    def(101, "tcode", K::Text),
    def(108, "v6-only-preferred", K::U32),
    def(112, "netinfo-server-address", K::IpList),
    def(113, "netinfo-server-tag", K::Text),
    def(114, "default-url", K::Text),
    def(116, "auto-config", K::U8),
    def(117, "name-service-search", K::U16List),
    def(119, "domain-search", K::DomainList),
    def(121, "classless-static-routes", K::ClasslessRoutes),
    def(code::END, "end", K::Hex),
];

/// Codes the server sets itself (or that are framing), which a configuration
/// must not set: a configured value would contradict what the engine decides.
const SERVER_CONTROLLED: &[u8] = &[
    code::PAD,
    code::REQUESTED_IP,
    code::LEASE_TIME,
    code::OVERLOAD,
    code::MESSAGE_TYPE,
    code::SERVER_ID,
    code::PARAMETER_REQUEST_LIST,
    code::MAX_MESSAGE_SIZE,
    code::RENEWAL_TIME,
    code::REBINDING_TIME,
    code::CLIENT_ID,
    code::RELAY_AGENT_INFO,
    code::END,
];

/// Every catalogue entry, ordered by code.
pub fn all() -> &'static [OptionDef] {
    CATALOGUE
}

/// The entry named `name` (ISC spelling, exact match).
pub fn by_name(name: &str) -> Option<&'static OptionDef> {
    CATALOGUE.iter().find(|d| d.name == name)
}

/// The entry for `code`.
pub fn by_code(code: u8) -> Option<&'static OptionDef> {
    CATALOGUE
        .binary_search_by_key(&code, |d| d.code)
        .ok()
        .and_then(|i| CATALOGUE.get(i))
}

/// True for codes the server sets itself; the configuration may not set them.
pub fn is_server_controlled(code: u8) -> bool {
    SERVER_CONTROLLED.contains(&code)
}

/// Names operators commonly reach for that are not ISC names, mapped to the
/// ISC name. Only used to make "did you mean" hints better; never accepted.
const ALIASES: &[(&str, &str)] = &[
    ("dns", "domain-name-servers"),
    ("dns-servers", "domain-name-servers"),
    ("nameservers", "domain-name-servers"),
    ("name-servers", "domain-name-servers"),
    ("gateway", "routers"),
    ("gateways", "routers"),
    ("default-gateway", "routers"),
    ("netmask", "subnet-mask"),
    ("mtu", "interface-mtu"),
    ("search", "domain-search"),
    ("ntp", "ntp-servers"),
    ("tftp-server", "tftp-server-name"),
    ("bootfile", "bootfile-name"),
    ("filename", "bootfile-name"),
    ("wins-servers", "netbios-name-servers"),
    ("rfc3442-classless-static-routes", "classless-static-routes"),
];

/// The known option name closest to `name`, for "did you mean" hints.
pub fn suggest(name: &str) -> Option<&'static str> {
    // Underscores and capitals are the commonest slips (hook variables use
    // underscores), so compare in ISC's own spelling first.
    let normal = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    if let Some(d) = by_name(&normal) {
        return Some(d.name);
    }
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == normal) {
        return Some(to);
    }
    let (best, distance) = CATALOGUE
        .iter()
        .map(|d| (d.name, edit_distance(&normal, d.name)))
        .min_by_key(|(_, dist)| *dist)?;
    // Beyond about a third of the word the "closest" name is a guess, not a hint.
    if distance <= 2.max(normal.len() / 3) {
        Some(best)
    } else {
        None
    }
}

/// Levenshtein distance over bytes (names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The largest payload one option can carry without RFC 3396 splitting.
const MAX_OPTION_LEN: usize = 255;

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    /// For an array value, the index of the element at fault, so that the
    /// configuration can point at it rather than at the whole array.
    pub element: Option<usize>,
    /// What was expected and what was found.
    pub message: String,
}

impl From<String> for EncodeError {
    fn from(message: String) -> Self {
        EncodeError {
            element: None,
            message,
        }
    }
}

/// Encode a configuration value for `def` into wire bytes.
///
/// The error says what was expected and what was found, e.g.
/// `expected an integer from 0 to 255, found string "x"`.
pub fn encode(def: &OptionDef, value: &toml::Value) -> Result<Vec<u8>, String> {
    encode_located(def, value).map_err(|e| e.message)
}

/// [`encode`], also saying which element of an array value was at fault.
pub fn encode_located(def: &OptionDef, value: &toml::Value) -> Result<Vec<u8>, EncodeError> {
    let bytes = encode_kind(def.kind, value)?;
    if bytes.len() > MAX_OPTION_LEN {
        return Err(format!(
            "value is {} bytes on the wire; one DHCP option holds at most {MAX_OPTION_LEN}",
            bytes.len()
        )
        .into());
    }
    Ok(bytes)
}

/// Attributes an error to element `i` of `value`, if `value` is an array
/// (a lone scalar given where a list is allowed has no elements to point at).
fn element(value: &toml::Value, i: usize) -> impl Fn(String) -> EncodeError {
    let element = value.is_array().then_some(i);
    move |message| EncodeError { element, message }
}

/// `found string "x"`, `found integer 5`, `found array`: the tail of a type error.
fn found(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("found string {s:?}"),
        toml::Value::Integer(i) => format!("found integer {i}"),
        toml::Value::Float(f) => format!("found float {f}"),
        toml::Value::Boolean(b) => format!("found boolean {b}"),
        toml::Value::Datetime(d) => format!("found datetime {d}"),
        toml::Value::Array(_) => "found an array".to_string(),
        toml::Value::Table(_) => "found a table".to_string(),
    }
}

fn mismatch(kind: OptionKind, value: &toml::Value) -> String {
    format!("expected {}, {}", kind.expected(), found(value))
}

/// A single value, or the elements of an array: list kinds accept both.
fn one_or_many(value: &toml::Value) -> &[toml::Value] {
    match value {
        toml::Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn parse_ip(kind: OptionKind, value: &toml::Value) -> Result<Ipv4Addr, String> {
    match value {
        toml::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IPv4 address")),
        other => Err(mismatch(kind, other)),
    }
}

fn parse_int(kind: OptionKind, value: &toml::Value, min: i64, max: i64) -> Result<i64, String> {
    match value {
        toml::Value::Integer(i) if (min..=max).contains(i) => Ok(*i),
        other => Err(mismatch(kind, other)),
    }
}

/// A two-element array of strings, for the pair kinds.
fn pair(kind: OptionKind, value: &toml::Value) -> Result<(String, String), String> {
    match value {
        toml::Value::Array(items) => match items.as_slice() {
            [toml::Value::String(a), toml::Value::String(b)] => Ok((a.clone(), b.clone())),
            _ => Err(format!(
                "expected {}, found an element that is not a pair of strings",
                kind.expected()
            )),
        },
        other => Err(format!(
            "expected {}, found an element that is not a pair: {}",
            kind.expected(),
            found(other)
        )),
    }
}

fn non_empty_list(kind: OptionKind, value: &toml::Value) -> Result<(), String> {
    match value {
        toml::Value::Array(items) if items.is_empty() => Err(format!(
            "expected {}, found an empty array",
            kind.expected()
        )),
        _ => Ok(()),
    }
}

fn encode_kind(kind: OptionKind, value: &toml::Value) -> Result<Vec<u8>, EncodeError> {
    match kind {
        K::Ip => Ok(parse_ip(kind, value)?.octets().to_vec()),
        K::IpList => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                let ip = parse_ip(kind, item).map_err(element(value, i))?;
                out.extend_from_slice(&ip.octets());
            }
            Ok(out)
        }
        K::IpPairs => {
            let items = match value {
                toml::Value::Array(items) if !items.is_empty() => items,
                other => return Err(mismatch(kind, other).into()),
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let (a, b) = pair(kind, item).map_err(element(value, i))?;
                for s in [a, b] {
                    let ip: Ipv4Addr = s
                        .trim()
                        .parse()
                        .map_err(|_| format!("`{s}` is not an IPv4 address"))
                        .map_err(element(value, i))?;
                    out.extend_from_slice(&ip.octets());
                }
            }
            Ok(out)
        }
        K::ClasslessRoutes => {
            let items = match value {
                toml::Value::Array(items) if !items.is_empty() => items,
                other => return Err(mismatch(kind, other).into()),
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let (dest, router) = pair(kind, item).map_err(element(value, i))?;
                let cidr: Cidr = dest
                    .trim()
                    .parse()
                    .map_err(|e| format!("{e}"))
                    .map_err(element(value, i))?;
                let router: Ipv4Addr = router
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{router}` is not an IPv4 address"))
                    .map_err(element(value, i))?;
                // RFC 3442: the prefix length, then only the significant octets.
                out.push(cidr.prefix);
                let significant = usize::from(cidr.prefix).div_ceil(8);
                out.extend_from_slice(&cidr.network.octets()[..significant]);
                out.extend_from_slice(&router.octets());
            }
            Ok(out)
        }
        K::U8 => Ok(vec![parse_int(kind, value, 0, 0xff)? as u8]),
        K::U16 => Ok((parse_int(kind, value, 0, 0xffff)? as u16)
            .to_be_bytes()
            .to_vec()),
        K::U32 => Ok((parse_int(kind, value, 0, u32::MAX.into())? as u32)
            .to_be_bytes()
            .to_vec()),
        K::I32 => Ok(
            (parse_int(kind, value, i32::MIN.into(), i32::MAX.into())? as i32)
                .to_be_bytes()
                .to_vec(),
        ),
        K::Bool => match value {
            toml::Value::Boolean(b) => Ok(vec![u8::from(*b)]),
            other => Err(mismatch(kind, other).into()),
        },
        K::Text => match value {
            // RFC 2132 gives text options a minimum length of 1.
            toml::Value::String(s) if s.is_empty() => {
                Err("expected a non-empty string, found an empty string"
                    .to_string()
                    .into())
            }
            toml::Value::String(s) => Ok(s.as_bytes().to_vec()),
            other => Err(mismatch(kind, other).into()),
        },
        K::Hex => match value {
            toml::Value::String(s) => Ok(parse_hex(s)?),
            other => Err(mismatch(kind, other).into()),
        },
        K::U8List => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                out.push(parse_int(kind, item, 0, 0xff).map_err(element(value, i))? as u8);
            }
            Ok(out)
        }
        K::U16List => {
            non_empty_list(kind, value)?;
            let mut out = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                let n = parse_int(kind, item, 0, 0xffff).map_err(element(value, i))?;
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            Ok(out)
        }
        K::DomainList => {
            non_empty_list(kind, value)?;
            let mut names = Vec::new();
            for (i, item) in one_or_many(value).iter().enumerate() {
                let name = match item {
                    toml::Value::String(s) => domain_labels(s),
                    other => Err(mismatch(kind, other)),
                };
                names.push(name.map_err(element(value, i))?);
            }
            Ok(encode_domains(&names))
        }
    }
}

/// Parse `"01:02:ab"` (ISC also allows one digit per octet, `"1:2:ab"`).
/// Shared with the configuration's `client_id`.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("`{s}` is not hex bytes (expected pairs of hex digits like \"01:02:ab\")");
    if s.trim().is_empty() {
        return Err(bad());
    }
    s.trim()
        .split(':')
        .map(|part| {
            if part.is_empty() || part.len() > 2 {
                return Err(bad());
            }
            u8::from_str_radix(part, 16).map_err(|_| bad())
        })
        .collect()
}

/// Split a domain name into labels, checking RFC 1035 lengths. A trailing
/// dot (fully qualified form) is allowed.
fn domain_labels(name: &str) -> Result<Vec<&str>, String> {
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(format!("`{name}` is not a domain name"));
    }
    if trimmed.len() > 253 {
        return Err(format!(
            "domain name `{name}` is longer than 253 characters"
        ));
    }
    let labels: Vec<&str> = trimmed.split('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.len() > 63 || l.chars().any(char::is_whitespace))
    {
        return Err(format!(
            "`{name}` is not a domain name (each label must be 1 to 63 characters, no spaces)"
        ));
    }
    Ok(labels)
}

/// RFC 1035 names with RFC 3397 compression: a suffix already written is
/// replaced by a pointer to its offset within the option data.
fn encode_domains(names: &[Vec<&str>]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    // (suffix in lower case, offset where it starts)
    let mut seen: Vec<(String, usize)> = Vec::new();
    for labels in names {
        let suffix = |i: usize| labels[i..].join(".").to_ascii_lowercase();
        let pointer = (0..labels.len()).find_map(|i| {
            let wanted = suffix(i);
            seen.iter()
                .find(|(s, _)| *s == wanted)
                .map(|(_, offset)| (i, *offset))
        });
        let literal = pointer.map_or(labels.len(), |(i, _)| i);
        for (i, label) in labels.iter().enumerate().take(literal) {
            // Pointers hold 14 bits; later suffixes simply are not offered for reuse.
            if out.len() < 0x4000 {
                seen.push((suffix(i), out.len()));
            }
            // Labels are at most 63 bytes (checked by `domain_labels`).
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        match pointer {
            Some((_, offset)) => out.extend_from_slice(&(0xc000 | offset as u16).to_be_bytes()),
            None => out.push(0),
        }
    }
    out
}

/// Decode RFC 1035 names (with compression pointers) from a whole option.
/// `None` if the data is malformed.
fn decode_domains(data: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let mut labels: Vec<String> = Vec::new();
        let mut cursor = pos;
        let mut jumped = false;
        // Every jump must go strictly backwards, so this terminates; the
        // bound is belt and braces against hostile data.
        let mut jumps = 0;
        loop {
            let len = *data.get(cursor)?;
            if len == 0 {
                if !jumped {
                    pos = cursor + 1;
                }
                break;
            }
            if len & 0xc0 == 0xc0 {
                let low = *data.get(cursor + 1)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                if target >= cursor || jumps > 128 {
                    return None;
                }
                if !jumped {
                    pos = cursor + 2;
                }
                jumped = true;
                jumps += 1;
                cursor = target;
                continue;
            }
            if len & 0xc0 != 0 {
                return None;
            }
            let label = data.get(cursor + 1..cursor + 1 + usize::from(len))?;
            labels.push(String::from_utf8_lossy(label).into_owned());
            cursor += 1 + usize::from(len);
        }
        names.push(labels.join("."));
    }
    Some(names)
}

/// Render wire bytes as the human, dhclient-script style value hooks see:
/// addresses dotted and space-separated, text as text, numbers in decimal,
/// flags as `true`/`false`, routes as `dest/len router`, and anything unknown
/// or malformed as colon-separated hex.
pub fn render(code: u8, data: &[u8]) -> String {
    by_code(code)
        .and_then(|d| render_kind(d.kind, data))
        .unwrap_or_else(|| hex(data))
}

/// Colon-separated lower-case hex, the same form the configuration accepts.
fn hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 3);
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn ips(data: &[u8]) -> Option<Vec<Ipv4Addr>> {
    if data.is_empty() || data.len() % 4 != 0 {
        return None;
    }
    Some(
        data.chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect(),
    )
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text for an environment variable: trailing NULs (some clients send them)
/// dropped, control characters and invalid UTF-8 escaped as `\xNN`.
fn text(data: &[u8]) -> String {
    let data = data.strip_suffix(&[0]).unwrap_or(data);
    let mut out = String::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn render_kind(kind: OptionKind, data: &[u8]) -> Option<String> {
    match kind {
        K::Ip => match data {
            [a, b, c, d] => Some(Ipv4Addr::new(*a, *b, *c, *d).to_string()),
            _ => None,
        },
        K::IpList | K::IpPairs => {
            if kind == K::IpPairs && data.len() % 8 != 0 {
                return None;
            }
            ips(data).map(join)
        }
        K::ClasslessRoutes => {
            let mut parts = Vec::new();
            let mut rest = data;
            while let Some((&prefix, tail)) = rest.split_first() {
                if prefix > 32 {
                    return None;
                }
                let significant = usize::from(prefix).div_ceil(8);
                let dest = tail.get(..significant)?;
                let router = tail.get(significant..significant + 4)?;
                let mut net = [0u8; 4];
                net[..significant].copy_from_slice(dest);
                parts.push(format!("{}/{prefix}", Ipv4Addr::from(net)));
                parts.push(Ipv4Addr::new(router[0], router[1], router[2], router[3]).to_string());
                rest = &tail[significant + 4..];
            }
            if parts.is_empty() {
                None
            } else {
                Some(parts.join(" "))
            }
        }
        K::U8 => match data {
            [v] => Some(v.to_string()),
            _ => None,
        },
        K::U16 => <[u8; 2]>::try_from(data)
            .ok()
            .map(|b| u16::from_be_bytes(b).to_string()),
        K::U32 => <[u8; 4]>::try_from(data)
            .ok()
            .map(|b| u32::from_be_bytes(b).to_string()),
        K::I32 => <[u8; 4]>::try_from(data)
            .ok()
            .map(|b| i32::from_be_bytes(b).to_string()),
        K::Bool => match data {
            [0] => Some("false".to_string()),
            [1] => Some("true".to_string()),
            _ => None,
        },
        K::Text => Some(text(data)),
        K::Hex => Some(hex(data)),
        K::U8List if !data.is_empty() => Some(join(data)),
        K::U16List if !data.is_empty() && data.len() % 2 == 0 => Some(join(
            data.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )),
        K::U8List | K::U16List => None,
        K::DomainList => decode_domains(data).map(|names| names.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(src: &str) -> toml::Value {
        let table: toml::Table = toml::from_str(&format!("v = {src}")).expect("test TOML");
        table["v"].clone()
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
        for pair in CATALOGUE.windows(2) {
            assert!(pair[0].code < pair[1].code, "{pair:?}");
        }
        for d in CATALOGUE {
            assert_eq!(by_code(d.code), Some(d));
            assert_eq!(by_name(d.name), Some(d));
        }
        let configurable = CATALOGUE
            .iter()
            .filter(|d| !is_server_controlled(d.code))
            .count();
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

    #[test]
    fn server_controlled_codes() {
        for c in [0, 50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 82, 255] {
            assert!(is_server_controlled(c), "{c}");
        }
        for c in [1, 3, 6, 15, 56, 60, 66, 67, 119, 121] {
            assert!(!is_server_controlled(c), "{c}");
        }
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
        let def = OptionDef {
            code: 55,
            name: "dhcp-parameter-request-list",
            kind: K::U8List,
        };
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
            Err(
                "`zz` is not hex bytes (expected pairs of hex digits like \"01:02:ab\")"
                    .to_string()
            )
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
            encode_located(routers, &val(r#"["192.0.2.1", "x", "192.0.2.3"]"#)),
            Err(EncodeError {
                element: Some(1),
                message: "`x` is not an IPv4 address".to_string()
            })
        );
        // A lone value has no element to point at.
        assert_eq!(
            encode_located(routers, &val(r#""x""#)).map_err(|e| e.element),
            Err(None)
        );
        let search = by_name("domain-search").expect("known");
        assert_eq!(
            encode_located(search, &val(r#"["a.example", "b..example"]"#)).map_err(|e| e.element),
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
}
