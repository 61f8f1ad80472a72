//! The catalogue: which options exist in which space, their names and value
//! types, keyed by (space, code).
//!
//! The DHCP space is built in (RFC 2132 and later, ISC names). Named vendor
//! spaces, whose options are encapsulated into option 43, are added with
//! [`Catalogue::define_space`] and looked up the same way, so they need no
//! special cases downstream.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::code;

/// An option space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    /// The DHCP options themselves (RFC 2132).
    Dhcp,
    /// A named vendor space, encapsulated into option 43 when selected.
    Vendor(String),
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Dhcp => f.write_str("dhcp"),
            Space::Vendor(name) => f.write_str(name),
        }
    }
}

/// What identifies an option: its space and its code within it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OptionKey {
    /// The space.
    pub space: Space,
    /// The code within the space.
    pub code: u8,
}

impl OptionKey {
    /// An option of the DHCP space.
    pub fn dhcp(code: u8) -> Self {
        OptionKey {
            space: Space::Dhcp,
            code,
        }
    }
}

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
    /// One or more unsigned 32-bit integers.
    U32List,
    /// One or more strings, each preceded by its length (RFC 3004).
    StringList,
}

/// The type names an `[[option_def]]` or `[option_space.*]` entry uses.
const KIND_NAMES: &[(&str, OptionKind)] = &[
    ("text", OptionKind::Text),
    ("ip", OptionKind::Ip),
    ("ip-list", OptionKind::IpList),
    ("ip-pairs", OptionKind::IpPairs),
    ("classless-routes", OptionKind::ClasslessRoutes),
    ("u8", OptionKind::U8),
    ("u16", OptionKind::U16),
    ("u32", OptionKind::U32),
    ("i32", OptionKind::I32),
    ("bool", OptionKind::Bool),
    ("hex", OptionKind::Hex),
    ("u8-list", OptionKind::U8List),
    ("u16-list", OptionKind::U16List),
    ("u32-list", OptionKind::U32List),
    ("domain-list", OptionKind::DomainList),
    ("string-list", OptionKind::StringList),
];

impl OptionKind {
    /// The kind a definition names, like `"ip-list"`.
    pub fn from_name(name: &str) -> Option<OptionKind> {
        KIND_NAMES.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }

    /// The name definitions use for it.
    pub fn name(self) -> &'static str {
        KIND_NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("hex", |(n, _)| n)
    }

    /// Every type name, for messages.
    pub fn names() -> impl Iterator<Item = &'static str> {
        KIND_NAMES.iter().map(|(n, _)| *n)
    }

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
            OptionKind::U32List => "an integer from 0 to 4294967295 or an array of them",
            OptionKind::StringList => "a string or an array of strings",
        }
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OptionDef {
    /// The option code on the wire (within its space).
    pub code: u8,
    /// The ISC dhcpd name (dhcp-options(5)); for a vendor space, the name
    /// its definition gives.
    pub name: Cow<'static, str>,
    /// The value type.
    pub kind: OptionKind,
}

impl OptionDef {
    /// A definition, e.g. of an option in a vendor space.
    pub fn new(code: u8, name: impl Into<Cow<'static, str>>, kind: OptionKind) -> Self {
        OptionDef {
            code,
            name: name.into(),
            kind,
        }
    }
}

const fn def(code: u8, name: &'static str, kind: OptionKind) -> OptionDef {
    OptionDef {
        code,
        name: Cow::Borrowed(name),
        kind,
    }
}

use OptionKind as K;

/// The DHCP space, ordered by code. `by_code` relies on the order (binary search).
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
    def(77, "user-class", K::StringList),
    def(code::CLIENT_FQDN, "fqdn", K::Hex),
    def(code::RELAY_AGENT_INFO, "relay-agent-information", K::Hex),
    def(85, "nds-servers", K::IpList),
    def(86, "nds-tree-name", K::Text),
    def(87, "nds-context", K::Text),
    def(88, "bcms-controller-names", K::DomainList),
    def(89, "bcms-controller-address", K::IpList),
    def(91, "client-last-transaction-time", K::U32),
    def(92, "associated-ip", K::IpList),
    // PXE (RFC 4578): architecture, network interface, machine identifier.
    def(93, "pxe-system-type", K::U16List),
    def(94, "pxe-interface-id", K::Hex),
    def(97, "pxe-client-id", K::Hex),
    def(98, "uap-servers", K::Text),
    def(100, "pcode", K::Text),
    def(101, "tcode", K::Text),
    def(108, "v6-only-preferred", K::U32),
    def(112, "netinfo-server-address", K::IpList),
    def(113, "netinfo-server-tag", K::Text),
    def(114, "default-url", K::Text),
    def(116, "auto-config", K::U8),
    def(117, "name-service-search", K::U16List),
    def(119, "domain-search", K::DomainList),
    def(120, "sip-servers", K::Hex),
    def(121, "classless-static-routes", K::ClasslessRoutes),
    // Vendor-identifying vendor class and vendor-specific information (RFC 3925).
    def(124, "vivco", K::Hex),
    def(125, "vivso", K::Hex),
    def(150, "tftp-server-address", K::IpList),
    // PXELINUX (RFC 5071).
    def(208, "pxelinux-magic", K::Hex),
    def(209, "pxelinux-configfile", K::Text),
    def(210, "pxelinux-pathprefix", K::Text),
    def(211, "pxelinux-reboottime", K::U32),
    def(252, "wpad-url", K::Text),
    def(code::END, "end", K::Hex),
];

/// Every DHCP-space entry, ordered by code.
pub fn all() -> &'static [OptionDef] {
    CATALOGUE
}

/// The DHCP-space entry named `name` (ISC spelling, exact match).
pub fn by_name(name: &str) -> Option<&'static OptionDef> {
    CATALOGUE.iter().find(|d| d.name == name)
}

/// The DHCP-space entry for `code`.
pub fn by_code(code: u8) -> Option<&'static OptionDef> {
    CATALOGUE
        .binary_search_by_key(&code, |d| d.code)
        .ok()
        .and_then(|i| CATALOGUE.get(i))
}

/// Why a definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// Two definitions in one space share a code.
    #[error("option space `{space}` defines code {code} twice")]
    DuplicateCode { space: String, code: u8 },
    /// Two definitions in one space share a name.
    #[error("option space `{space}` defines `{name}` twice")]
    DuplicateName { space: String, name: String },
    /// The space name is taken (or is the DHCP space's own).
    #[error("option space `{0}` is already defined")]
    DuplicateSpace(String),
    /// Codes 0 and 255 frame sub-options; they cannot be defined.
    #[error("option space `{space}`: code {code} is reserved for framing")]
    Reserved { space: String, code: u8 },
    /// A custom DHCP-space option reuses a code the catalogue already names.
    #[error("code {code} is already the option `{name}`")]
    CodeTaken { code: u8, name: String },
    /// A custom DHCP-space option reuses a name already defined.
    #[error("an option named `{0}` already exists")]
    NameTaken(String),
    /// A name that cannot be written unambiguously in an `options` table.
    #[error("`{0}` is not an option name (letters, digits and `-`, no `.`)")]
    BadName(String),
}

/// Whether `name` can name an option or a space: ISC style, letters,
/// digits, `-` and `_`, starting with a letter (a `.` separates space and
/// option when they are written together).
pub fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Every option known, keyed by (space, code): the built-in DHCP space plus
/// the vendor spaces a configuration defines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    /// Custom DHCP-space options (`[[option_def]]`), ordered by code.
    custom: Vec<OptionDef>,
    /// Vendor spaces by name, each ordered by code.
    vendor: BTreeMap<String, Vec<OptionDef>>,
}

impl Catalogue {
    /// The built-in DHCP space and no vendor spaces.
    pub fn builtin() -> Self {
        Catalogue::default()
    }

    /// Adds a custom option to the DHCP space; its code and name must be
    /// new (site-specific codes are 224 to 254, RFC 3942).
    pub fn define(&mut self, def: OptionDef) -> Result<(), CatalogueError> {
        if !valid_name(&def.name) {
            return Err(CatalogueError::BadName(def.name.to_string()));
        }
        if let Some(old) = self.get(&OptionKey::dhcp(def.code)) {
            return Err(CatalogueError::CodeTaken {
                code: def.code,
                name: old.name.to_string(),
            });
        }
        if self.by_name(&Space::Dhcp, &def.name).is_some() {
            return Err(CatalogueError::NameTaken(def.name.to_string()));
        }
        let at = self.custom.partition_point(|d| d.code < def.code);
        self.custom.insert(at, def);
        Ok(())
    }

    /// Whether a vendor space of this name is defined.
    pub fn has_space(&self, name: &str) -> bool {
        self.vendor.contains_key(name)
    }

    /// Adds a vendor space.
    pub fn define_space(
        &mut self,
        name: &str,
        mut defs: Vec<OptionDef>,
    ) -> Result<(), CatalogueError> {
        if name == "dhcp" || self.vendor.contains_key(name) {
            return Err(CatalogueError::DuplicateSpace(name.to_string()));
        }
        if let Some(d) = std::iter::once(name)
            .chain(defs.iter().map(|d| d.name.as_ref()))
            .find(|n| !valid_name(n))
        {
            return Err(CatalogueError::BadName(d.to_string()));
        }
        let space = || name.to_string();
        if let Some(d) = defs
            .iter()
            .find(|d| matches!(d.code, code::PAD | code::END))
        {
            return Err(CatalogueError::Reserved {
                space: space(),
                code: d.code,
            });
        }
        defs.sort_by_key(|d| d.code);
        if let Some(pair) = defs.windows(2).find(|p| p[0].code == p[1].code) {
            return Err(CatalogueError::DuplicateCode {
                space: space(),
                code: pair[0].code,
            });
        }
        for (i, d) in defs.iter().enumerate() {
            if defs[..i].iter().any(|e| e.name == d.name) {
                return Err(CatalogueError::DuplicateName {
                    space: space(),
                    name: d.name.to_string(),
                });
            }
        }
        self.vendor.insert(name.to_string(), defs);
        Ok(())
    }

    /// The definitions of `space`: for the DHCP space the built-in ones
    /// and then the custom ones, each ordered by code.
    fn space(&self, space: &Space) -> Option<[&[OptionDef]; 2]> {
        match space {
            Space::Dhcp => Some([CATALOGUE, &self.custom]),
            Space::Vendor(name) => self.vendor.get(name).map(|d| [d.as_slice(), &[]]),
        }
    }

    /// The entry for `key`.
    pub fn get(&self, key: &OptionKey) -> Option<&OptionDef> {
        self.space(&key.space)?.into_iter().find_map(|defs| {
            defs.binary_search_by_key(&key.code, |d| d.code)
                .ok()
                .and_then(|i| defs.get(i))
        })
    }

    /// The entry named `name` in `space`.
    pub fn by_name(&self, space: &Space, name: &str) -> Option<&OptionDef> {
        self.space(space)?
            .into_iter()
            .flatten()
            .find(|d| d.name == name)
    }

    /// The definitions of vendor space `name`, ordered by code.
    pub fn space_defs(&self, name: &str) -> &[OptionDef] {
        self.vendor.get(name).map_or(&[], Vec::as_slice)
    }

    /// A name as a configuration writes it: `routers` in the DHCP space,
    /// `snom.tftp-server-name` in the vendor space `snom`.
    pub fn lookup(&self, qualified: &str) -> Option<(Space, &OptionDef)> {
        match qualified.split_once('.') {
            Some((space, name)) => {
                let space = Space::Vendor(space.to_string());
                let def = self.by_name(&space, name)?;
                Some((space, def))
            }
            None => self
                .by_name(&Space::Dhcp, qualified)
                .map(|d| (Space::Dhcp, d)),
        }
    }
}
