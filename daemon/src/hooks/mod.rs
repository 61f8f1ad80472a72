//! Event hooks: programs run for lease events, dhclient-script style.
//!
//! The server hands over a [`HookEvent`] once a change is durable (the
//! commit path's publish step); this module turns it into argument lists
//! ([`template`]) and an environment ([`env`](mod@env)), and runs the programs off
//! the core task ([`queue`], [`run`]): directly (never through a shell), in
//! their own process group, as an unprivileged user when berthd is root,
//! with a timeout that kills the whole group, a bound on how many run at
//! once and on how much output is kept. Each run's exit status and the tail
//! of its stderr become a `hook_result` event.
//!
//! It knows nothing of the configuration file or the server: `config`
//! builds its [`HookSpec`]s and [`HookSettings`], `server` its events.

pub mod env;
pub mod queue;
pub mod run;
pub mod template;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

pub use queue::{Dispatcher, Submitted};
pub use template::{Field, Template, TemplateError};

/// What a hook can be run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookKind {
    /// A new lease was acknowledged (and is durable).
    Commit,
    /// A client renewed (or rebound) its lease.
    Renew,
    /// A lease was given back (by the client or an operator).
    Release,
    /// A lease ran out.
    Expiry,
    /// A client declined its address (now quarantined).
    Decline,
    /// A MAC never seen before.
    Arrival,
    /// A dynamic client was made a static host.
    Promote,
}

impl HookKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [HookKind; 7] = [
        HookKind::Commit,
        HookKind::Renew,
        HookKind::Release,
        HookKind::Expiry,
        HookKind::Decline,
        HookKind::Arrival,
        HookKind::Promote,
    ];

    /// The name in `on = [...]` and `{event}`: `commit`, `renew`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Commit => "commit",
            HookKind::Renew => "renew",
            HookKind::Release => "release",
            HookKind::Expiry => "expiry",
            HookKind::Decline => "decline",
            HookKind::Arrival => "arrival",
            HookKind::Promote => "promote",
        }
    }

    /// `$reason`: the name in capitals, as dhclient-script has it.
    pub fn reason(self) -> &'static str {
        match self {
            HookKind::Commit => "COMMIT",
            HookKind::Renew => "RENEW",
            HookKind::Release => "RELEASE",
            HookKind::Expiry => "EXPIRY",
            HookKind::Decline => "DECLINE",
            HookKind::Arrival => "ARRIVAL",
            HookKind::Promote => "PROMOTE",
        }
    }

    /// The kind named `name` (as in `on = [...]`).
    pub fn parse(name: &str) -> Option<HookKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One `[[hook]]`: which events, which program, its arguments, its timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSpec {
    /// The events it runs for.
    pub on: Vec<HookKind>,
    /// The program, run directly (an absolute path).
    pub run: PathBuf,
    /// Its arguments, filled from the event.
    pub args: Vec<Template>,
    /// How long it (and everything it started) may run before its process
    /// group is killed.
    pub timeout: Duration,
}

impl HookSpec {
    /// Default `timeout`: 10 s.
    pub const TIMEOUT: Duration = Duration::from_secs(10);
}

/// `[hooks]`: what applies to every hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSettings {
    /// Executables run before each event's hooks, in name order.
    pub enter_dir: Option<PathBuf>,
    /// Executables run after them, in name order, with `exit_status`.
    pub exit_dir: Option<PathBuf>,
    /// How many events' hooks run at once.
    pub max_concurrent: usize,
    /// How many events may wait for their turn; more are dropped (and
    /// counted, with an event).
    pub queue: usize,
    /// Who hooks run as when berthd is root.
    pub user: String,
    /// Timeout of each enter and exit program.
    pub dir_timeout: Duration,
}

impl HookSettings {
    /// Default `max_concurrent`.
    pub const MAX_CONCURRENT: usize = 4;
    /// Default `queue`.
    pub const QUEUE: usize = 64;
    /// Default `user`.
    pub const USER: &'static str = "nobody";
}

impl Default for HookSettings {
    fn default() -> Self {
        HookSettings {
            enter_dir: None,
            exit_dir: None,
            max_concurrent: Self::MAX_CONCURRENT,
            queue: Self::QUEUE,
            user: Self::USER.to_string(),
            dir_timeout: HookSpec::TIMEOUT,
        }
    }
}

/// The whole hook configuration: `[[hook]]` entries and `[hooks]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookConfig {
    /// `[[hook]]` entries, in file order.
    pub hooks: Vec<HookSpec>,
    /// `[hooks]`.
    pub settings: HookSettings,
}

impl HookConfig {
    /// Whether an event of `kind` runs anything.
    pub fn wants(&self, kind: HookKind) -> bool {
        self.settings.enter_dir.is_some()
            || self.settings.exit_dir.is_some()
            || self.hooks.iter().any(|h| h.on.contains(&kind))
    }

    /// Whether any event runs anything.
    pub fn any(&self) -> bool {
        HookKind::ALL.into_iter().any(|k| self.wants(k))
    }
}

/// A relay agent's view of the client (giaddr and option 82).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayInfo {
    /// The relay's address (giaddr).
    pub address: Option<Ipv4Addr>,
    /// Sub-option 1, the agent circuit id.
    pub circuit_id: Option<Vec<u8>>,
    /// Sub-option 2, the agent remote id.
    pub remote_id: Option<Vec<u8>>,
}

/// The lease as a hook sees it: address, times, name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseFacts {
    pub ip: Ipv4Addr,
    pub hostname: Option<String>,
    /// Lease length in seconds.
    pub lease_time: Option<u64>,
    /// When it ends (UTC epoch seconds).
    pub expiry: Option<u64>,
}

/// One durable event, as hooks see it. Client-supplied text is data: it is
/// only ever passed as an argument or environment value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    pub kind: HookKind,
    /// The lease after the change (for an arrival, just the address if any).
    pub lease: Option<LeaseFacts>,
    /// The same client's lease before it, when the change replaced one.
    pub old: Option<LeaseFacts>,
    pub mac: Option<String>,
    /// Option 61 as sent, type byte included.
    pub client_id: Option<Vec<u8>>,
    /// The host name the client sent (option 12).
    pub client_hostname: Option<String>,
    /// The name Berth knows it by: its static host's, else what it sent.
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    pub user_class: Option<String>,
    pub relay: RelayInfo,
    /// The receiving interface.
    pub interface: Option<String>,
    /// The subnet's mask, when the address is in a configured subnet.
    pub subnet_mask: Option<Ipv4Addr>,
    /// The options sent (or, for events without a reply, that the client's
    /// scopes give), as (code, wire bytes), in reply order.
    pub options: Vec<(u8, Vec<u8>)>,
    /// The codes the client asked for (option 55).
    pub requested: Vec<u8>,
}

impl HookEvent {
    /// An event of `kind` with nothing known yet.
    pub fn new(kind: HookKind) -> Self {
        HookEvent {
            kind,
            lease: None,
            old: None,
            mac: None,
            client_id: None,
            client_hostname: None,
            hostname: None,
            vendor_class: None,
            user_class: None,
            relay: RelayInfo::default(),
            interface: None,
            subnet_mask: None,
            options: Vec::new(),
            requested: Vec::new(),
        }
    }
}

/// Colon-separated lower-case hex, as `client_id` and unprintable relay
/// fields are shown.
pub(crate) fn hex(data: &[u8]) -> String {
    data.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
