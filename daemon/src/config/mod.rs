//! The TOML configuration: schema, validation and the runtime snapshot.
//!
//! Loading happens in two layers, so that later sections (option spaces,
//! classes, hooks) slot in without disturbing the rest:
//! - `raw`: the document as written. Serde structs with
//!   `deny_unknown_fields` whose leaves are `toml::Spanned`, so every later
//!   complaint can point at a line and column. Each section and each
//!   `[[subnet]]` / `[[host]]` entry is deserialized on its own, so a typo in
//!   one entry does not hide the errors in the others.
//! - `validate`: turns the raw document into a [`Config`], collecting every
//!   problem it finds rather than stopping at the first.
//!
//! The result is an immutable snapshot with lookup indexes built; a reload
//! builds a new one and swaps it in only if it is valid.

mod raw;
mod validate;

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range as Span;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::packet::MacAddr;

/// Option values ready for the wire, in configuration order: (code, bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionSet(pub Vec<(u8, Vec<u8>)>);

impl OptionSet {
    /// The value of `code`, if set.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }
}

/// A validated configuration, with lookup indexes built.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from (for messages).
    pub source: PathBuf,
    /// `[server]`: daemon-wide settings.
    pub server: ServerConfig,
    /// Global options, sent to every client unless a subnet or host overrides them.
    pub options: OptionSet,
    /// `[[subnet]]` entries, in file order.
    pub subnets: Vec<Subnet>,
    /// `[[host]]` entries, in file order.
    pub hosts: Vec<Host>,
    host_by_mac: HashMap<MacAddr, usize>,
    host_by_client_id: HashMap<Vec<u8>, usize>,
    host_by_ip: HashMap<Ipv4Addr, usize>,
}

impl Config {
    /// Assemble a snapshot from parts and build its indexes, without
    /// validation. For tests and tools that build a configuration in code;
    /// files go through [`parse`]/[`load`], which reject duplicates. Should
    /// duplicates get in this way, the first host wins each lookup.
    pub fn from_parts(
        source: PathBuf,
        server: ServerConfig,
        options: OptionSet,
        subnets: Vec<Subnet>,
        hosts: Vec<Host>,
    ) -> Config {
        let mut host_by_mac = HashMap::new();
        let mut host_by_client_id = HashMap::new();
        let mut host_by_ip = HashMap::new();
        for (i, host) in hosts.iter().enumerate() {
            match &host.id {
                HostId::Mac(mac) => {
                    host_by_mac.entry(*mac).or_insert(i);
                }
                HostId::ClientId(id) => {
                    host_by_client_id.entry(id.clone()).or_insert(i);
                }
            }
            host_by_ip.entry(host.ip).or_insert(i);
        }
        Config {
            source,
            server,
            options,
            subnets,
            hosts,
            host_by_mac,
            host_by_client_id,
            host_by_ip,
        }
    }

    /// The static host with this hardware address.
    pub fn host_by_mac(&self, mac: &MacAddr) -> Option<&Host> {
        self.host_by_mac.get(mac).and_then(|&i| self.hosts.get(i))
    }

    /// The static host with this client identifier (option 61, whole value
    /// including the type byte).
    pub fn host_by_client_id(&self, client_id: &[u8]) -> Option<&Host> {
        self.host_by_client_id
            .get(client_id)
            .and_then(|&i| self.hosts.get(i))
    }

    /// The static host that owns this address.
    pub fn host_by_ip(&self, ip: Ipv4Addr) -> Option<&Host> {
        self.host_by_ip.get(&ip).and_then(|&i| self.hosts.get(i))
    }

    /// The subnet containing `ip`. Subnets never overlap in a validated
    /// configuration, so there is at most one.
    pub fn subnet_containing(&self, ip: Ipv4Addr) -> Option<&Subnet> {
        // A linear scan: a server has few subnets and this runs once per request.
        self.subnets.iter().find(|s| s.cidr.contains(ip))
    }

    /// (default, max) lease time in seconds for `subnet`: its own values
    /// where set, the server's otherwise.
    pub fn lease_times(&self, subnet: &Subnet) -> (u32, u32) {
        (
            subnet.default_lease.unwrap_or(self.server.default_lease),
            subnet.max_lease.unwrap_or(self.server.max_lease),
        )
    }
}

/// `[server]`: daemon-wide settings. Times are seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Interfaces to serve on (required, non-empty in a file).
    pub interfaces: Vec<String>,
    /// Answer with NAK for addresses we know are wrong (ISC `authoritative`).
    pub authoritative: bool,
    /// Also answer BOOTP (non-DHCP) requests.
    pub bootp: bool,
    /// Lease time when the client asks for none.
    pub default_lease: u32,
    /// Upper bound on any lease.
    pub max_lease: u32,
    /// Lower bound on a lease the client asks for.
    pub min_lease: u32,
    /// How long an offered address is held for the client that was offered it.
    pub offer_hold: u32,
    /// How long a DECLINEd address is quarantined.
    pub decline_probation: u32,
    /// Explicit server identifier; defaults to the receiving interface's address.
    pub server_id: Option<Ipv4Addr>,
    /// SQLite store path.
    pub store: PathBuf,
    /// The control API's Unix socket.
    pub control_socket: PathBuf,
    /// Group that owns the control socket: its members may read.
    pub control_group: String,
    /// Group whose members (with root) may change things over the control API.
    pub admin_group: String,
    /// How many events the control API keeps for `events_since`.
    pub event_buffer: usize,
}

impl ServerConfig {
    /// Default `control_socket`.
    pub const CONTROL_SOCKET: &'static str = "/run/berth/control.sock";
    /// Default `control_group`.
    pub const CONTROL_GROUP: &'static str = "berth";
    /// Default `admin_group`.
    pub const ADMIN_GROUP: &'static str = "berth-admin";
    /// Default `event_buffer`.
    pub const EVENT_BUFFER: usize = 10_000;
    /// Default `default_lease`: 2h.
    pub const DEFAULT_LEASE: u32 = 2 * 3600;
    /// Default `max_lease`: 12h.
    pub const MAX_LEASE: u32 = 12 * 3600;
    /// Default `min_lease`: 60s.
    pub const MIN_LEASE: u32 = 60;
    /// Default `offer_hold`: 30s.
    pub const OFFER_HOLD: u32 = 30;
    /// Default `decline_probation`: 24h.
    pub const DECLINE_PROBATION: u32 = 24 * 3600;
    /// Default `store`.
    pub const STORE: &'static str = "/var/lib/berth/leases.db";
}

impl Default for ServerConfig {
    /// The documented defaults, with no interfaces.
    fn default() -> Self {
        ServerConfig {
            interfaces: Vec::new(),
            authoritative: true,
            bootp: false,
            default_lease: Self::DEFAULT_LEASE,
            max_lease: Self::MAX_LEASE,
            min_lease: Self::MIN_LEASE,
            offer_hold: Self::OFFER_HOLD,
            decline_probation: Self::DECLINE_PROBATION,
            server_id: None,
            store: PathBuf::from(Self::STORE),
            control_socket: PathBuf::from(Self::CONTROL_SOCKET),
            control_group: Self::CONTROL_GROUP.to_string(),
            admin_group: Self::ADMIN_GROUP.to_string(),
            event_buffer: Self::EVENT_BUFFER,
        }
    }
}

/// An IPv4 network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The network address (no host bits set).
    pub network: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix: u8,
}

/// Why a string is not a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// No `/prefix` part.
    #[error("`{0}` is not a CIDR network (expected address/prefix, like \"192.0.2.0/24\")")]
    MissingPrefix(String),
    /// The address part is not an IPv4 address.
    #[error("`{input}` is not a CIDR network: `{address}` is not an IPv4 address")]
    BadAddress {
        /// The whole input.
        input: String,
        /// The address part.
        address: String,
    },
    /// The prefix is not a number from 0 to 32.
    #[error("`{input}` has a bad prefix length `{prefix}` (expected 0 to 32)")]
    BadPrefix {
        /// The whole input.
        input: String,
        /// The prefix part.
        prefix: String,
    },
    /// The address has bits set beyond the prefix.
    #[error("`{input}` has host bits set; did you mean `{meant}`?")]
    HostBitsSet {
        /// The whole input.
        input: String,
        /// The network the input probably meant.
        meant: Cidr,
    },
}

impl Cidr {
    /// A network from its address and prefix; the address must have no host bits.
    pub fn new(network: Ipv4Addr, prefix: u8) -> Result<Cidr, CidrError> {
        let input = format!("{network}/{prefix}");
        if prefix > 32 {
            return Err(CidrError::BadPrefix {
                input,
                prefix: prefix.to_string(),
            });
        }
        let meant = Cidr {
            network: Ipv4Addr::from(u32::from(network) & mask_bits(prefix)),
            prefix,
        };
        if meant.network != network {
            return Err(CidrError::HostBitsSet { input, meant });
        }
        Ok(meant)
    }

    /// True if `ip` is inside this network (network and broadcast addresses included).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask_bits(self.prefix) == u32::from(self.network)
    }

    /// The netmask, e.g. 255.255.255.0 for /24.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask_bits(self.prefix))
    }

    /// The broadcast address (the last address of the network).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask_bits(self.prefix))
    }

    /// True if the two networks share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    /// True if the network has distinct network and broadcast addresses that
    /// clients must not be given. /31 (RFC 3021) and /32 use every address.
    pub fn has_reserved_ends(&self) -> bool {
        self.prefix <= 30
    }
}

/// The mask with the top `prefix` bits set. Shifting a u32 by 32 overflows,
/// hence the special case for /0.
fn mask_bits(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p if p >= 32 => u32::MAX,
        p => u32::MAX << (32 - u32::from(p)),
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    /// Parses `192.0.2.0/24`. Host bits must be clear.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let input = s.trim();
        let (address, prefix) = input
            .split_once('/')
            .ok_or_else(|| CidrError::MissingPrefix(input.to_string()))?;
        let network: Ipv4Addr = address.parse().map_err(|_| CidrError::BadAddress {
            input: input.to_string(),
            address: address.to_string(),
        })?;
        let bad_prefix = || CidrError::BadPrefix {
            input: input.to_string(),
            prefix: prefix.to_string(),
        };
        // `u8::from_str` accepts a leading `+`; a prefix is plain digits.
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_prefix());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad_prefix())?;
        if prefix > 32 {
            return Err(bad_prefix());
        }
        Cidr::new(network, prefix).map_err(|e| match e {
            CidrError::HostBitsSet { meant, .. } => CidrError::HostBitsSet {
                input: input.to_string(),
                meant,
            },
            other => other,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// An inclusive address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Range {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address (inclusive).
    pub end: Ipv4Addr,
}

impl Range {
    /// True if `ip` is in the range.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.start <= ip && ip <= self.end
    }

    /// Number of addresses (a u64 because 0.0.0.0-255.255.255.255 has 2^32).
    pub fn len(&self) -> u64 {
        let (start, end) = (
            u64::from(u32::from(self.start)),
            u64::from(u32::from(self.end)),
        );
        if start > end { 0 } else { end - start + 1 }
    }

    /// True if the range holds no address (start after end; never true in a
    /// validated configuration).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if the two ranges share any address.
    pub fn overlaps(&self, other: &Range) -> bool {
        !self.is_empty() && !other.is_empty() && self.start <= other.end && other.start <= self.end
    }

    /// The addresses in order.
    pub fn iter(&self) -> RangeIter {
        let (start, end) = (u32::from(self.start), u32::from(self.end));
        RangeIter {
            // An empty `RangeInclusive` for a reversed range, so it yields nothing.
            inner: start..=end,
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl IntoIterator for &Range {
    type Item = Ipv4Addr;
    type IntoIter = RangeIter;
    fn into_iter(self) -> RangeIter {
        self.iter()
    }
}

/// Iterator over the addresses of a [`Range`].
#[derive(Debug, Clone)]
pub struct RangeIter {
    inner: std::ops::RangeInclusive<u32>,
}

impl Iterator for RangeIter {
    type Item = Ipv4Addr;
    fn next(&mut self) -> Option<Ipv4Addr> {
        self.inner.next().map(Ipv4Addr::from)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for RangeIter {
    fn next_back(&mut self) -> Option<Ipv4Addr> {
        self.inner.next_back().map(Ipv4Addr::from)
    }
}

/// `[[subnet]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// The network.
    pub cidr: Cidr,
    /// Dynamic pools; empty for a subnet of static hosts only.
    pub ranges: Vec<Range>,
    /// Options for clients in this subnet (override the global ones).
    pub options: OptionSet,
    /// Overrides `[server] default_lease`.
    pub default_lease: Option<u32>,
    /// Overrides `[server] max_lease`.
    pub max_lease: Option<u32>,
    /// `siaddr`: the boot (TFTP) server.
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field.
    pub filename: Option<String>,
}

/// How a static host is recognised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostId {
    /// By hardware address (chaddr).
    Mac(MacAddr),
    /// By client identifier (option 61), type byte included.
    ClientId(Vec<u8>),
}

/// `[[host]]`: a static mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Unique name (also what hooks see as the host name).
    pub name: String,
    /// How the client is recognised.
    pub id: HostId,
    /// The fixed address.
    pub ip: Ipv4Addr,
    /// Options for this host (override subnet and global ones).
    pub options: OptionSet,
    /// `siaddr` for this host.
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field for this host.
    pub filename: Option<String>,
}

/// One problem in a configuration file, with a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong, and where possible how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read configuration: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (in the message, not chained: it would
        /// print twice).
        error: std::io::Error,
    },
    /// The file was read but is not a valid configuration. Never empty.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Diagnostic>),
}

impl ConfigError {
    /// Every diagnostic, in file order (empty for an I/O error).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Io { .. } => &[],
            ConfigError::Invalid(d) => d,
        }
    }
}

fn join_lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Read and validate the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text, path)
}

/// Validate configuration `text`; `source` names the file in diagnostics.
pub fn parse(text: &str, source: &Path) -> Result<Config, ConfigError> {
    let mut report = Reporter::new(text, source);
    let config = raw::read(text, &mut report).map(|raw| validate::build(raw, source, &mut report));
    match (config, report.finish()) {
        (Some(config), None) => Ok(config),
        (_, Some(diagnostics)) => Err(ConfigError::Invalid(diagnostics)),
        // `read` only returns None after reporting why; this arm is for safety.
        (None, None) => Err(ConfigError::Invalid(vec![Diagnostic {
            file: source.to_path_buf(),
            line: 1,
            column: 1,
            message: "configuration could not be read".to_string(),
        }])),
    }
}

/// Collects diagnostics, turning byte spans into lines and columns.
struct Reporter<'a> {
    text: &'a str,
    source: &'a Path,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    diagnostics: Vec<(usize, Diagnostic)>,
}

impl<'a> Reporter<'a> {
    fn new(text: &'a str, source: &'a Path) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Reporter {
            text,
            source,
            line_starts,
            diagnostics: Vec::new(),
        }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line.max(1), column + 1)
    }

    /// The 1-based line of a span's start, for "first defined on line N".
    fn line(&self, span: &Span<usize>) -> usize {
        self.position(span.start).0
    }

    /// Record an error at `span`.
    fn error(&mut self, span: Span<usize>, message: impl Into<String>) {
        let (line, column) = self.position(span.start);
        self.diagnostics.push((
            span.start,
            Diagnostic {
                file: self.source.to_path_buf(),
                line,
                column,
                message: message.into(),
            },
        ));
    }

    /// Record a toml parse or deserialize error; `fallback` is used when the
    /// error carries no span of its own.
    fn toml_error(&mut self, error: &toml::de::Error, fallback: Span<usize>) {
        let span = error.span().unwrap_or(fallback);
        // serde speaks of sequences and maps; the person editing the file
        // sees TOML arrays and tables.
        let message = error
            .message()
            .trim_end()
            .replace("expected a sequence", "expected an array")
            .replace("expected a map", "expected a table");
        self.error(span, message);
    }

    /// The diagnostics in file order, or None if there were none.
    fn finish(mut self) -> Option<Vec<Diagnostic>> {
        if self.diagnostics.is_empty() {
            return None;
        }
        // Stable, so two errors at one spot keep the order they were found in.
        self.diagnostics.sort_by_key(|(offset, _)| *offset);
        Some(self.diagnostics.into_iter().map(|(_, d)| d).collect())
    }
}

#[cfg(test)]
mod tests;
