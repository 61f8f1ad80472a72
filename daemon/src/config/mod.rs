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
//!   problem it finds rather than stopping at the first. Each section has
//!   its module (`subnet`, `host`, `server`, `class`, ...) over the shared
//!   leaves in `field`.
//!
//! Both report through `diagnostic`'s `Reporter`, which turns byte spans
//! into the file, line and column of a [`Diagnostic`].
//!
//! The result is an immutable snapshot with lookup indexes built; a reload
//! builds a new one and swaps it in only if it is valid.

mod arp;
mod boot;
mod class;
mod diagnostic;
mod field;
mod hooks;
mod host;
mod limits;
mod log;
mod metrics;
mod offers;
mod pool;
mod raw;
mod raw_class;
mod raw_hooks;
mod raw_limits;
mod raw_metrics;
mod raw_pool;
mod raw_webhook;
mod server;
mod store;
mod subnet;
mod validate;
mod webhook;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

pub use arp::ArpConfig;
pub use class::Class;
use diagnostic::Reporter;
pub use diagnostic::{ConfigError, Diagnostic};
pub use limits::{FloodLimit, Limits, RateLimit, RenewalLimit};
pub use metrics::MetricsConfig;
pub use offers::{MIN_DEFAULT_OFFERS, default_max_offers};
pub use pool::{Clients, RangePolicy};
pub use store::PostgresConfig;
pub use webhook::Webhook;

use crate::addr::{AddrHash, Cidr, MacAddr, Range};
use crate::hooks::HookConfig;
use crate::log::LogTarget;
use crate::options::{Catalogue, Options, Value, VendorOptions};

/// A validated configuration, with lookup indexes built.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from (for messages).
    pub source: PathBuf,
    /// `[server]`: daemon-wide settings.
    pub server: ServerConfig,
    /// Global options, sent to every client unless a subnet or host overrides them.
    pub options: Options<Value>,
    /// `[[subnet]]` entries, in file order.
    pub subnets: Vec<Subnet>,
    /// `[[host]]` entries, in file order.
    pub hosts: Vec<Host>,
    /// Every option known: the built-in ones, `[[option_def]]` and the
    /// `[option_space.*]` vendor spaces.
    pub catalogue: Catalogue,
    /// Global options in vendor spaces (`"snom.tftp-server-name" = ...`).
    pub vendor: VendorOptions,
    /// `[[class]]` entries, in declaration order (the order their scopes
    /// apply in).
    pub classes: Vec<Class>,
    /// `[limits]`: flood protection and the renewal limit.
    pub limits: Limits,
    /// `[[webhook]]` entries, in file order.
    pub webhooks: Vec<Webhook>,
    /// `[[hook]]` entries and `[hooks]`.
    pub hooks: HookConfig,
    /// `[server] log` (and `syslog_socket`): where the log goes.
    pub log: LogTarget,
    /// `[metrics]`: the Prometheus endpoint.
    pub metrics: MetricsConfig,
    host_by_mac: HashMap<MacAddr, usize>,
    host_by_client_id: HashMap<Vec<u8>, usize>,
    host_by_ip: HashMap<Ipv4Addr, usize, AddrHash>,
}

impl Config {
    /// Assemble a snapshot from parts and build its indexes, without
    /// validation. For tests and tools that build a configuration in code;
    /// files go through [`parse`]/[`load`], which reject duplicates. Should
    /// duplicates get in this way, the first host wins each lookup.
    pub fn from_parts(
        source: PathBuf,
        server: ServerConfig,
        options: Options<Value>,
        subnets: Vec<Subnet>,
        hosts: Vec<Host>,
    ) -> Config {
        let mut host_by_mac = HashMap::new();
        let mut host_by_client_id = HashMap::new();
        let mut host_by_ip = HashMap::with_hasher(AddrHash);
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
            catalogue: Catalogue::builtin(),
            vendor: VendorOptions::new(),
            classes: Vec::new(),
            limits: Limits::default(),
            webhooks: Vec::new(),
            hooks: HookConfig::default(),
            log: LogTarget::default(),
            metrics: MetricsConfig::default(),
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
    /// ACK an INIT-REBOOT from a client with no lease record for the free
    /// pool address it asks for. Off by default (RFC 2131 4.3.2 says stay
    /// silent); a migration aid for taking over from another server.
    pub adopt_rebooting_clients: bool,
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
    /// How long a bound lease that ran out stays its client's (not offered
    /// to anyone else, still renewable) before it is reclaimed and expires.
    pub expiry_grace: u32,
    /// Explicit server identifier; defaults to the receiving interface's address.
    pub server_id: Option<Ipv4Addr>,
    /// SQLite store path: where leases are kept unless `postgres` is set.
    pub store: PathBuf,
    /// `store = { backend = "postgres", ... }`: keep leases in PostgreSQL
    /// instead (`store` is then unused and keeps its default).
    pub postgres: Option<PostgresConfig>,
    /// The control API's Unix socket.
    pub control_socket: PathBuf,
    /// Group that owns the control socket: its members may read.
    pub control_group: String,
    /// Group whose members (with root) may change things over the control API.
    pub admin_group: String,
    /// How many events the control API keeps for `events_since`.
    pub event_buffer: usize,
    /// Seconds of failing writes, with none succeeding, after which the
    /// watchdog is no longer pinged (systemd then restarts the daemon).
    pub store_stall_timeout: u32,
    /// How long the store writer holds a batch open after its first write
    /// for more to share its transaction and flush.
    pub commit_delay: CommitDelay,
    /// Control connections open at once, over all users.
    pub control_max_connections: usize,
    /// Control connections open at once by one user (uid).
    pub control_max_per_user: usize,
    /// A control connection that sends no complete request for this long
    /// is closed (seconds); long polls wait far less, so live clients never
    /// hit it.
    pub control_idle_timeout: u32,
    /// `siaddr` for every client unless a subnet, class or host says otherwise.
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field (a template), likewise.
    pub filename: Option<String>,
    /// The BOOTP `sname` field (a template), likewise.
    pub server_name: Option<String>,
    /// ARP sweeps and pre-offer probes (`arp*` keys).
    pub arp: ArpConfig,
}

/// `commit_delay_us`: how long the store writer holds a batch open for
/// company, trading ACK latency for fewer flushes per lease (like
/// PostgreSQL's `commit_delay`). Nothing is ACKed before it is durable
/// either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitDelay {
    /// `"auto"` (the default): only while requests come fast enough that
    /// another is expected within the wait, and no longer than a recent
    /// transaction took (see `store::pace`).
    #[default]
    Auto,
    /// Always this many microseconds (0: never wait).
    Fixed(u32),
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
    /// Largest `commit_delay_us`: 100 ms.
    pub const MAX_COMMIT_DELAY_US: u32 = 100_000;
    /// Default `store_stall_timeout`: 2m.
    pub const STORE_STALL_TIMEOUT: u32 = 120;
    /// Default `control_max_connections`.
    pub const CONTROL_MAX_CONNECTIONS: usize = 256;
    /// Default `control_max_per_user`.
    pub const CONTROL_MAX_PER_USER: usize = 32;
    /// Default `control_idle_timeout`: 60s.
    pub const CONTROL_IDLE_TIMEOUT: u32 = 60;
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
            adopt_rebooting_clients: false,
            default_lease: Self::DEFAULT_LEASE,
            max_lease: Self::MAX_LEASE,
            min_lease: Self::MIN_LEASE,
            offer_hold: Self::OFFER_HOLD,
            decline_probation: Self::DECLINE_PROBATION,
            expiry_grace: 0,
            server_id: None,
            store: PathBuf::from(Self::STORE),
            postgres: None,
            control_socket: PathBuf::from(Self::CONTROL_SOCKET),
            control_group: Self::CONTROL_GROUP.to_string(),
            admin_group: Self::ADMIN_GROUP.to_string(),
            event_buffer: Self::EVENT_BUFFER,
            store_stall_timeout: Self::STORE_STALL_TIMEOUT,
            commit_delay: CommitDelay::Auto,
            control_max_connections: Self::CONTROL_MAX_CONNECTIONS,
            control_max_per_user: Self::CONTROL_MAX_PER_USER,
            control_idle_timeout: Self::CONTROL_IDLE_TIMEOUT,
            next_server: None,
            filename: None,
            server_name: None,
            arp: ArpConfig::default(),
        }
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
    pub options: Options<Value>,
    /// Overrides `[server] default_lease`.
    pub default_lease: Option<u32>,
    /// Overrides `[server] max_lease`.
    pub max_lease: Option<u32>,
    /// `siaddr`: the boot (TFTP) server.
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field (a template).
    pub filename: Option<String>,
    /// The BOOTP `sname` field (a template).
    pub server_name: Option<String>,
    /// Options in vendor spaces for clients in this subnet.
    pub vendor: VendorOptions,
    /// Each range's policy (`[[subnet.pool]]`); a range without one is
    /// open to any client with the subnet's settings.
    pub policies: Vec<RangePolicy>,
    /// `max_offers`: offers held at once; beyond it a new client's offer
    /// takes the place of the oldest (see `pool::Pool::make_room`).
    pub max_offers: u32,
}

impl Subnet {
    /// The policy of range `r`, if it has one.
    pub fn policy(&self, r: &Range) -> Option<&RangePolicy> {
        self.policies.iter().find(|p| p.range == *r)
    }

    /// The policy of the range that serves `ip` dynamically (inside it and
    /// not excluded).
    pub fn policy_at(&self, ip: Ipv4Addr) -> Option<&RangePolicy> {
        self.policies.iter().find(|p| p.serves(ip))
    }
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
    pub options: Options<Value>,
    /// `siaddr` for this host.
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field for this host (a template).
    pub filename: Option<String>,
    /// The BOOTP `sname` field for this host (a template).
    pub server_name: Option<String>,
    /// Options in vendor spaces for this host.
    pub vendor: VendorOptions,
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

#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod hooks_tests;
