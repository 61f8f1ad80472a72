//! The request's classes and the facts templates are filled with: both
//! computed from the packet and the client's standing, nothing else.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use super::{Ctx, client_text};
use crate::addr::MacAddr;
use crate::class::{Client, relay_sub_option, user_classes};
use crate::config::{Class, Config};
use crate::options::Facts;
use crate::packet::{Packet, code};

/// The classes `p` belongs to, in declaration order (the order their option
/// scopes apply in). `known`: the client has a static host.
pub(super) fn classes_of<'a>(
    cfg: &'a Config,
    p: &Packet,
    mac: Option<MacAddr>,
    known: bool,
) -> Vec<&'a Class> {
    if cfg.classes.is_empty() {
        return Vec::new();
    }
    let client = Client {
        packet: p,
        mac,
        known,
    };
    cfg.classes
        .iter()
        .filter(|c| c.matcher.matches(&client))
        .collect()
}

/// Bytes as text for a template: lossy UTF-8, trailing NULs and blanks cut.
fn text(bytes: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim_end_matches('\0').trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// What templates in this reply are filled with; `ip` is the address the
/// reply gives.
pub(super) fn facts(c: &Ctx<'_>, ip: Option<Ipv4Addr>) -> Facts {
    let p = c.req;
    let user = user_classes(p);
    Facts {
        vendor_class: client_text(p, code::VENDOR_CLASS).map(Cow::into_owned),
        user_class: (!user.is_empty())
            .then(|| {
                user.iter()
                    .filter_map(|u| text(u))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|s| !s.is_empty()),
        mac: super::client_mac(p),
        hostname: c.hostname().map(String::from),
        ip: ip.filter(|ip| !ip.is_unspecified()),
        circuit_id: relay_sub_option(p, 1).and_then(text),
        remote_id: relay_sub_option(p, 2).and_then(text),
    }
}
