//! The command line: clap definitions and the parsers for values clap cannot
//! check by itself (MACs, durations, CIDRs, `name=value` options).
//!
//! Values are checked here rather than by the daemon so that a typo is a
//! usage error (exit 2) before any connection is made.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use berth_proto::{LeaseState, Target};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Shown after `berth --help`: what scripts can rely on.
const AFTER_HELP: &str = "\
With no subcommand, berth opens the interactive TUI.

Exit status:
  0  success
  1  refused or failed: berthd said no (permission denied, not found,
     conflict, invalid, read-only, internal error) or could not be reached
  2  usage error: unknown subcommand, bad or missing argument

Environment:
  BERTH_SOCKET  control socket when --socket is not given
                (default /run/berth/control.sock)
  TZ            time zone for times in tables; --json times are always UTC";

/// `berth`: talk to berthd, the Berth DHCPv4 server.
#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth DHCPv4 server: live TUI and scriptable control client",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// Control socket of berthd [default: $BERTH_SOCKET, else /run/berth/control.sock]
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Print JSON for scripts (times as RFC 3339 UTC; events as JSON lines)
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do; none opens the TUI.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The socket to use: `--socket`, else `BERTH_SOCKET`, else the default.
    pub fn socket_path(&self) -> PathBuf {
        self.socket.clone().unwrap_or_else(berth_proto::socket_path)
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Daemon version, uptime, interfaces, store and counts
    Status,
    /// List leases, ordered by address
    Leases(LeasesArgs),
    /// List static hosts (config file and store); `hosts export` prints the store's as TOML
    Hosts {
        /// `export`, or nothing to list
        #[command(subcommand)]
        action: Option<HostsAction>,
    },
    /// Add, remove or change a static host in the store
    Host {
        /// `add`, `rm` or `edit`
        #[command(subcommand)]
        action: HostAction,
    },
    /// Turn a dynamic client into a static host and move it there
    Promote(PromoteArgs),
    /// End the lease on an address or of a MAC
    Release {
        /// An IPv4 address or a MAC address
        #[arg(value_name = "IP|MAC", value_parser = parse_target)]
        target: Target,
    },
    /// Ignore a MAC, for a while or until unblocked
    Block {
        /// The client's MAC address
        #[arg(value_parser = parse_mac)]
        mac: String,
        /// How long, e.g. 90s, 30m, 2h, 1d, 1w, 1h30m or plain seconds [default: until unblocked]
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        duration: Option<u64>,
    },
    /// Lift a block
    Unblock {
        /// The client's MAC address
        #[arg(value_parser = parse_mac)]
        mac: String,
    },
    /// List blocked MACs
    Blocks,
    /// Usage of each dynamic range
    Pools,
    /// Print events from the daemon's buffer, or follow them as they happen
    Events(EventsArgs),
    /// Re-read the daemon's configuration (a bad one is refused, the old one stays)
    Reload,
    /// Print a shell completion script to stdout
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout
    Man,
    /// What berthd would do for a client, without doing it: host, subnet,
    /// range, classes, the address, every option with the scope it comes from
    Explain(ExplainArgs),
    /// Convert another server's configuration to Berth TOML (stdout); what
    /// cannot be converted is listed on stderr with its line
    Import(ImportArgs),
    /// ARP-sweep dynamic ranges now and show what answers (admin)
    Scan {
        /// START-END, an address in the range, a subnet (CIDR), or `all`
        #[arg(value_name = "RANGE|all", default_value = "all")]
        range: String,
    },
    /// List quarantined addresses (declined, or answered a probe); `quarantine clear IP` frees one
    Quarantine {
        /// `clear`, or nothing to list
        #[command(subcommand)]
        action: Option<QuarantineAction>,
    },
}

/// `berth quarantine ...`.
#[derive(Debug, Subcommand)]
pub enum QuarantineAction {
    /// End an address's quarantine now: it is free for the pool again (admin)
    Clear {
        /// The quarantined address
        ip: Ipv4Addr,
    },
}

/// `berth explain MAC [...]`: the client as berthd would see its DISCOVER.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The client's MAC address
    #[arg(value_parser = parse_mac)]
    pub mac: String,
    /// Vendor class identifier it sends (option 60), e.g. snom370
    #[arg(long, value_name = "TEXT")]
    pub vendor_class: Option<String>,
    /// User class it sends (option 77), e.g. iPXE
    #[arg(long, value_name = "TEXT")]
    pub user_class: Option<String>,
    /// Address of the relay agent it comes through (giaddr)
    #[arg(long, value_name = "IP")]
    pub relay: Option<Ipv4Addr>,
    /// Relay agent circuit id (option 82)
    #[arg(long, value_name = "TEXT")]
    pub circuit_id: Option<String>,
    /// Relay agent remote id (option 82)
    #[arg(long, value_name = "TEXT")]
    pub remote_id: Option<String>,
    /// Host name it sends (option 12)
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Served interface the request arrives on [default: the first]
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,
}

/// `berth import FORMAT FILE`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The format of FILE
    #[arg(value_enum)]
    pub format: ImportFormat,
    /// dhcpd.conf, dnsmasq.conf, or staticDHCPd's SQLite database
    pub file: PathBuf,
    /// Interfaces to serve ([server] interfaces); repeatable
    // The text is clap's help, where `[server]` is the config section.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long = "interface", value_name = "IFACE")]
    pub interfaces: Vec<String>,
}

/// What `berth import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// ISC dhcpd's dhcpd.conf
    IscDhcpd,
    /// dnsmasq's configuration (its dhcp-* lines)
    Dnsmasq,
    /// staticDHCPd's SQLite database (maps and subnets tables)
    Staticdhcpd,
}

/// `berth leases`: every given filter must match.
#[derive(Debug, Args)]
pub struct LeasesArgs {
    /// Only leases in this subnet, e.g. 192.0.2.0/24
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub subnet: Option<String>,
    /// Only leases in this state
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// Only the lease(s) of this MAC
    #[arg(long, value_parser = parse_mac)]
    pub mac: Option<String>,
    /// Only the lease on this address
    #[arg(long)]
    pub ip: Option<Ipv4Addr>,
    /// Only leases whose hostname contains this (case-insensitive)
    #[arg(long, value_name = "SUBSTR")]
    pub hostname: Option<String>,
}

/// A lease state as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    /// Offered, not yet acknowledged.
    Offered,
    /// Acknowledged and current.
    Bound,
    /// Given back by the client (or released by an operator).
    Released,
    /// Ran out without renewal.
    Expired,
    /// Declined by a client: the address is quarantined.
    Declined,
}

impl From<StateArg> for LeaseState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Offered => LeaseState::Offered,
            StateArg::Bound => LeaseState::Bound,
            StateArg::Released => LeaseState::Released,
            StateArg::Expired => LeaseState::Expired,
            StateArg::Declined => LeaseState::Declined,
        }
    }
}

/// `berth hosts ...`.
#[derive(Debug, Subcommand)]
pub enum HostsAction {
    /// Print the store's hosts as config TOML, ready for config management
    Export,
}

/// `berth host ...`.
#[derive(Debug, Subcommand)]
pub enum HostAction {
    /// Add a static host to the store
    Add(HostAddArgs),
    /// Remove a static host from the store
    #[command(visible_alias = "remove")]
    Rm {
        /// The host's name
        name: String,
    },
    /// Change a store host: fetches it, applies the changes, replaces it
    Edit(HostEditArgs),
}

/// `berth host add`.
#[derive(Debug, Args)]
pub struct HostAddArgs {
    /// The host's name
    #[arg(value_parser = parse_hostname)]
    pub name: String,
    /// Its MAC address
    #[arg(long, value_parser = parse_mac)]
    pub mac: String,
    /// Its static address
    #[arg(long)]
    pub ip: Ipv4Addr,
    /// A DHCP option by ISC name, e.g. --option routers=192.0.2.1 (repeatable)
    #[arg(long = "option", value_name = "NAME=VALUE", value_parser = parse_option)]
    pub options: Vec<(String, String)>,
}

/// `berth host edit`: at least one change is required.
#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["mac", "ip", "options", "remove_options"])
))]
pub struct HostEditArgs {
    /// The host's name
    pub name: String,
    /// A new MAC address
    #[arg(long, value_parser = parse_mac)]
    pub mac: Option<String>,
    /// A new static address
    #[arg(long)]
    pub ip: Option<Ipv4Addr>,
    /// Set an option, replacing one of the same name (repeatable)
    #[arg(long = "option", value_name = "NAME=VALUE", value_parser = parse_option)]
    pub options: Vec<(String, String)>,
    /// Remove an option by name (repeatable)
    #[arg(long = "remove-option", value_name = "NAME")]
    pub remove_options: Vec<String>,
}

/// `berth promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The client's MAC address
    #[arg(value_parser = parse_mac)]
    pub mac: String,
    /// The static address [default: the client's current address]
    #[arg(long)]
    pub ip: Option<Ipv4Addr>,
    /// The host name [default: the client's hostname, or one derived from the MAC]
    #[arg(long, value_name = "NAME", value_parser = parse_hostname)]
    pub hostname: Option<String>,
}

/// `berth events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep running and print events as they happen (survives daemon restarts)
    #[arg(short, long)]
    pub follow: bool,
    /// Start after this sequence number [default: everything the daemon still holds]
    #[arg(long, value_name = "SEQ")]
    pub since: Option<u64>,
}

/// A MAC in any common form, normalised to lowercase colon form.
pub fn parse_mac(s: &str) -> Result<String, String> {
    berth_proto::normalize_mac(s).map_err(|e| e.message)
}

/// An IPv4 address or a MAC address.
pub fn parse_target(s: &str) -> Result<Target, String> {
    if let Ok(ip) = s.parse::<Ipv4Addr>() {
        return Ok(Target::Ip(ip));
    }
    berth_proto::normalize_mac(s)
        .map(Target::Mac)
        .map_err(|_| format!("`{s}` is neither an IPv4 address nor a MAC address"))
}

/// An IPv4 subnet in CIDR form, e.g. `192.0.2.0/24`, passed on as typed.
pub fn parse_cidr(s: &str) -> Result<String, String> {
    let bad = || format!("`{s}` is not a subnet in CIDR form (like 192.0.2.0/24)");
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    addr.parse::<Ipv4Addr>().map_err(|_| bad())?;
    match len.parse::<u8>() {
        Ok(n) if n <= 32 => Ok(s.to_string()),
        _ => Err(bad()),
    }
}

/// An option as `name=value`; the value may be empty or contain `=`.
pub fn parse_option(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("`{s}` is not NAME=VALUE (e.g. routers=192.0.2.1)")),
    }
}

/// A block length in seconds: berth-proto's duration rule (`90s`, `30m`,
/// `2h`, `1d`, `1w`, `1h30m` or plain seconds), and not zero.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    match berth_proto::parse::parse_duration(s) {
        Ok(0) => Err(format!(
            "`{s}` is zero: leave out --for to block until unblocked"
        )),
        Ok(secs) => Ok(secs),
        Err(e) => Err(e.to_string()),
    }
}

/// A host name by berth-proto's rule (the daemon's), passed on as typed.
pub fn parse_hostname(s: &str) -> Result<String, String> {
    berth_proto::parse::check_hostname(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_follow_the_shared_rule() {
        use berth_proto::parse::examples::DURATIONS;
        for (text, want) in DURATIONS {
            // A zero-length block is refused here: it means "leave out --for".
            let want = want.filter(|secs| *secs > 0);
            assert_eq!(parse_duration(text).ok(), want, "{text:?}");
        }
        let err = parse_duration("0s").expect_err("zero");
        assert!(err.contains("leave out --for"), "{err}");
    }

    #[test]
    fn macs_follow_the_shared_rule() {
        use berth_proto::parse::examples::MACS;
        for (text, want) in MACS {
            assert_eq!(parse_mac(text).ok().as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn host_names_follow_the_shared_rule() {
        use berth_proto::parse::examples::HOSTNAMES;
        for (name, valid) in HOSTNAMES {
            let promote =
                Cli::try_parse_from(["berth", "promote", "02:00:5e:10:00:01", "--hostname", name]);
            assert_eq!(promote.is_ok(), *valid, "promote --hostname {name:?}");
            let add = Cli::try_parse_from([
                "berth",
                "host",
                "add",
                name,
                "--mac",
                "02:00:5e:10:00:01",
                "--ip",
                "192.0.2.9",
            ]);
            assert_eq!(add.is_ok(), *valid, "hosts add {name:?}");
        }
    }

    #[test]
    fn targets_macs_cidrs_options() {
        assert_eq!(
            parse_target("192.0.2.7"),
            Ok(Target::Ip(Ipv4Addr::new(192, 0, 2, 7)))
        );
        assert_eq!(
            parse_target("02-00-5E-10-00-01"),
            Ok(Target::Mac("02:00:5e:10:00:01".into()))
        );
        assert!(parse_target("printer").is_err());
        assert_eq!(
            parse_mac("02:00:5E:10:00:01"),
            Ok("02:00:5e:10:00:01".into())
        );
        assert!(parse_mac("02:00:5e:10:00").is_err());
        assert_eq!(parse_cidr("192.0.2.0/24"), Ok("192.0.2.0/24".into()));
        assert!(parse_cidr("192.0.2.0").is_err());
        assert!(parse_cidr("192.0.2.0/33").is_err());
        assert_eq!(
            parse_option("domain-name-servers=192.0.2.1, 192.0.2.2"),
            Ok(("domain-name-servers".into(), "192.0.2.1, 192.0.2.2".into()))
        );
        assert_eq!(
            parse_option("filename=a=b"),
            Ok(("filename".into(), "a=b".into()))
        );
        assert!(parse_option("=x").is_err());
        assert!(parse_option("routers").is_err());
    }

    #[test]
    fn parses_a_full_command_line() {
        let cli = Cli::try_parse_from([
            "berth",
            "leases",
            "--json",
            "--subnet",
            "192.0.2.0/24",
            "--state",
            "bound",
        ])
        .expect("valid command line");
        assert!(cli.json);
        match cli.command {
            Some(Command::Leases(a)) => {
                assert_eq!(a.subnet.as_deref(), Some("192.0.2.0/24"));
                assert_eq!(a.state, Some(StateArg::Bound));
            }
            other => panic!("unexpected {other:?}"),
        }
        let cli = Cli::try_parse_from(["berth", "block", "02:00:5e:10:00:01", "--for", "2h"])
            .expect("valid command line");
        assert!(matches!(
            cli.command,
            Some(Command::Block {
                duration: Some(7200),
                ..
            })
        ));
        assert!(
            Cli::try_parse_from(["berth"])
                .expect("no subcommand")
                .command
                .is_none()
        );
        let err = Cli::try_parse_from(["berth", "block", "nope"]).expect_err("bad MAC");
        assert_eq!(err.exit_code(), 2);
    }
}
