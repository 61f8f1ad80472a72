//! Choosing an address for a client that has no static host entry.

use std::net::Ipv4Addr;

use super::Ctx;
use crate::lease::LeaseState;
use crate::packet::code;

/// The address to offer, in order of preference: the client's current (or
/// last) address, the address it asks for (option 50), an address nobody
/// has used yet, then the address whose last lease ended longest ago.
/// Returning clients keep their address as long as the pool allows.
pub(super) fn choose(c: &Ctx<'_>) -> Option<Ipv4Addr> {
    if let Some(l) = c.leases.for_client(&c.client)
        && l.state != LeaseState::Declined
        && c.available(l.ip)
    {
        return Some(l.ip);
    }
    if let Some(ip) = c.req.options.get_ip(code::REQUESTED_IP)
        && c.available(ip)
    {
        return Some(ip);
    }
    let mut oldest: Option<(u64, Ipv4Addr)> = None;
    for range in &c.subnet.ranges {
        for ip in range.iter() {
            match c.leases.get(ip) {
                None => {
                    if c.available(ip) {
                        return Some(ip);
                    }
                }
                Some(l) => {
                    if oldest.is_none_or(|(ends, _)| l.ends < ends) && c.available(ip) {
                        oldest = Some((l.ends, ip));
                    }
                }
            }
        }
    }
    oldest.map(|(_, ip)| ip)
}
