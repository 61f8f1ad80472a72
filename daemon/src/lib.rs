//! berthd: a static-first DHCPv4 server.
//!
//! The crate is split by reason to change:
//! - [`addr`]: MAC addresses, CIDR networks and address ranges (a leaf).
//! - [`packet`]: the DHCP wire format (decode, encode, size caps). No policy.
//! - [`options`]: the catalogue of option names, codes and value types.
//! - [`config`]: the TOML configuration, its validation and the runtime snapshot.
//! - [`hosts`]: the static host table (config and run-time hosts in one index).
//! - [`blocks`]: blocked client MACs.
//! - [`lease`]: lease records and the in-memory lease index (the hot path).
//! - [`pool`]: the dynamic pools: may this address go to this client, which address to offer, pool figures.
//! - [`engine`]: the sans-IO protocol core: (request, config, leases, now) -> decision.
//! - [`store`]: the durable lease and host record, with a group-committing writer.
//! - [`net`]: sockets, interface discovery and the reply path.
//! - [`arp`]: ARP sweeps and probes on a thread per served interface (raw socket).
//! - [`control`]: the control socket (binding, permissions) and peer-credential checks.
//! - [`events`]: the event ring buffer behind `events_since`.
//! - [`notify`]: systemd readiness and watchdog notifications.
//! - [`server`]: the async glue: one core task, one commit path, the control API service.

pub mod addr;
pub mod arp;
pub mod blocks;
pub mod config;
pub mod control;
pub mod engine;
pub mod events;
pub mod hosts;
pub mod lease;
pub mod net;
pub mod notify;
pub mod options;
pub mod packet;
pub mod pool;
pub mod privilege;
pub mod server;
pub mod store;
