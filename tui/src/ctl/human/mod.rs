//! Human output: tables and sentences, times in the viewer's time zone.
//!
//! Every function takes the data, a fixed `now` and a time zone and returns
//! the text, so output is tested exactly without a clock or a `TZ`.
//!
//! By subject: `daemon` (status, reload), `clients` (leases, hosts, blocks,
//! explain), `pool` (pools, scan, quarantine), `events`, over the shared
//! cells in `cells`.

mod cells;
mod clients;
mod daemon;
mod events;
mod pool;

pub use cells::{local_time, local_time_zone, remaining, span};
pub use clients::{
    NO_BLOCKS, NO_HOSTS, NO_LEASES, block, blocks, blocks_table, explain, export, host_done, hosts,
    hosts_table, leases, leases_table, promote, release, unblock,
};
pub use daemon::{reload, status};
pub use events::{event_line, events};
pub use pool::{pools, quarantine, quarantine_cleared, scan};
