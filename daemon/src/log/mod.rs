//! Where berthd's log goes: stderr (the default; journald picks it up under
//! systemd), or syslog for operators whose tooling expects it
//! (`[server] log = "local7"`). Either sink sits under [`held`], which
//! gathers lines while the core serves.

pub mod format;
pub mod held;
pub mod sink;
pub mod syslog;

use std::path::PathBuf;

pub use format::LineFormat;
pub use held::Held;
pub use sink::{Sink, Stderr};
pub use syslog::{Facility, Syslog};

/// The log's destination.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LogTarget {
    /// Standard error.
    #[default]
    Stderr,
    /// The local syslog socket, with this facility.
    Syslog {
        facility: Facility,
        /// The datagram socket (`/dev/log` unless `syslog_socket` says).
        socket: PathBuf,
    },
}

impl LogTarget {
    /// Default `syslog_socket`.
    pub const SYSLOG_SOCKET: &'static str = "/dev/log";
}
