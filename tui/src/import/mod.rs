//! Importers: other DHCP servers' configurations as Berth TOML.
//!
//! Each importer reads its format into [`Berth`], a plain model of the
//! Berth sections it can fill, and lists every construct it could not
//! convert (or converted with a change of meaning) as a [`Note`] with its
//! line number, so nothing is dropped silently. [`Berth::to_toml`] renders
//! the model; option values are checked with berthd's own option parser
//! before they are kept, so what is written is what `check-config` accepts.
//!
//! - [`isc`]: ISC dhcpd's `dhcpd.conf`.
//! - [`dnsmasq`]: dnsmasq's `dhcp-*` lines.
//! - [`staticdhcpd`]: staticDHCPd's SQLite `maps` and `subnets` tables.

pub mod dnsmasq;
pub mod isc;
mod isc_expr;
mod isc_lex;
pub mod model;
pub mod staticdhcpd;

pub use model::{Berth, Class, Hook, Host, Note, OptionDef, Subnet};

/// What an import produced: the configuration and what did not convert.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub config: Berth,
    pub notes: Vec<Note>,
}

impl Imported {
    /// The notes as stderr lines: `FILE:LINE: message`.
    pub fn note_lines(&self, file: &str) -> Vec<String> {
        self.notes
            .iter()
            .map(|n| match n.line {
                0 => format!("{file}: {}", n.message),
                l => format!("{file}:{l}: {}", n.message),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
