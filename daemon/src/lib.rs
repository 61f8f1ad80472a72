//! berthd: a static-first DHCPv4 server.
//!
//! The crate is split by reason to change:
//! - [`addr`]: MAC addresses, CIDR networks and address ranges (a leaf).
//! - [`packet`]: the DHCP wire format (decode, encode, size caps). No policy.
//! - [`options`]: the catalogue of option names, codes and value types.
//! - [`class`]: client classes: which classes a request belongs to (pure).
//! - [`config`]: the TOML configuration, its validation and the runtime snapshot.
//! - [`hooks`]: event hooks: programs run for durable lease events, dhclient-script style.
//! - [`hosts`]: the static host table (config and run-time hosts in one index).
//! - [`blocks`]: blocked client MACs.
//! - [`log`]: where the log goes: stderr, or syslog (`log = "local7"`).
//! - [`metrics`]: the Prometheus endpoint's encoder, histograms and HTTP server (`[metrics]`).
//! - [`lease`]: lease records and the in-memory lease index (the hot path).
//! - [`pool`]: the dynamic pools: may this address go to this client, which address to offer, pool figures.
//! - [`engine`]: the sans-IO protocol core: (request, config, leases, now) -> decision.
//! - [`store`]: the durable lease and host record, with a group-committing writer.
//! - [`net`]: sockets, interface discovery and the reply path.
//! - [`arp`]: ARP sweeps and probes on a thread per served interface (raw socket).
//! - [`control`]: the control socket (binding, permissions) and peer-credential checks.
//! - [`events`]: the event ring buffer behind `events_since`.
//! - [`notify`]: systemd readiness and watchdog notifications.
//! - [`clock`]: the daemon's time: monotonic, anchored to the wall clock; jumps detected.
//! - [`limits`]: flood protection and the renewal limit (pure, bounded state).
//! - [`webhook`]: POSTing events as JSON to `[[webhook]]` receivers, off the hot path.
//! - [`server`]: the async glue: one core task, one commit path, the control API service.

// These docs are for people working on the crate, read with
// `cargo doc --document-private-items`: links into private modules are meant.
#![allow(rustdoc::private_intra_doc_links)]

pub mod addr;
pub mod arp;
pub mod blocks;
pub mod class;
pub mod clock;
pub mod config;
pub mod control;
pub mod engine;
pub mod events;
#[doc(hidden)]
pub mod fuzzing;
pub mod hooks;
pub mod hosts;
pub mod lease;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod net;
pub mod notify;
pub mod options;
pub mod packet;
pub mod pool;
pub mod privilege;
pub mod server;
pub mod store;
pub mod webhook;
