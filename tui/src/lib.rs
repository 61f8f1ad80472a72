//! `berth`: the Berth TUI and scriptable control client, over the control
//! API in `berth-proto`.
//!
//! - [`ctl`]: the subcommands (`berth leases --json`, `berth promote MAC`, ...).
//! - [`text`]: client-supplied strings made safe for a terminal.
//! - [`time`]: the daemon's UTC instants in the viewer's time zone.
//! - [`app`]: the interactive TUI, opened when no subcommand is given.

// These docs are for people working on the crate, read with
// `cargo doc --document-private-items`: links into private modules are meant.
#![allow(rustdoc::private_intra_doc_links)]

pub mod app;
pub mod ctl;
pub mod import;
pub mod text;
pub mod time;
