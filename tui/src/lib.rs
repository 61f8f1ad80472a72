//! `berth`: the Berth TUI and scriptable control client, over the control
//! API in `berth-proto`.
//!
//! - [`ctl`]: the subcommands (`berth leases --json`, `berth promote MAC`, ...).
//! - [`text`]: client-supplied strings made safe for a terminal.
//! - [`time`]: the daemon's UTC instants in the viewer's time zone.
//! - [`app`]: the interactive TUI, opened when no subcommand is given.

pub mod app;
pub mod ctl;
pub mod import;
pub mod text;
pub mod time;
