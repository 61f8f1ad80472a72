//! Validating `[server] log` and `syslog_socket` into a [`LogTarget`].

use toml::Spanned;

use super::Reporter;
use crate::log::{Facility, LogTarget};

/// The log target; problems are reported.
pub(super) fn build(
    log: Option<&Spanned<String>>,
    socket: Option<&Spanned<String>>,
    report: &mut Reporter<'_>,
) -> LogTarget {
    let socket_path = match socket {
        Some(s) if s.get_ref().starts_with('/') => s.get_ref().into(),
        Some(s) => {
            report.error(
                s.span(),
                format!("syslog_socket: `{}` is not an absolute path", s.get_ref()),
            );
            LogTarget::SYSLOG_SOCKET.into()
        }
        None => LogTarget::SYSLOG_SOCKET.into(),
    };
    let Some(log) = log else {
        if let Some(s) = socket {
            report.error(
                s.span(),
                "syslog_socket: only used with `log = \"<facility>\"`; set `log` too",
            );
        }
        return LogTarget::Stderr;
    };
    let name = log.get_ref().trim();
    if name == "stderr" {
        return LogTarget::Stderr;
    }
    match Facility::parse(name) {
        Some(facility) => LogTarget::Syslog {
            facility,
            socket: socket_path,
        },
        None => {
            let names: Vec<&str> = Facility::names().collect();
            report.error(
                log.span(),
                format!(
                    "log: `{name}` is neither `stderr` nor a syslog facility ({})",
                    names.join(", ")
                ),
            );
            LogTarget::Stderr
        }
    }
}
