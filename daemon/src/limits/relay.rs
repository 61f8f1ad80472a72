//! The relay allow-list: a relayed packet (giaddr set) is served only when
//! its giaddr is in `[limits] relays`, so a client cannot forge a giaddr to
//! reach another subnet's pool. Checked before the engine, O(list) per
//! relayed packet; refusals are logged at most once a minute per relay.

use std::net::Ipv4Addr;

use super::window::Windows;
use crate::addr::Cidr;
use crate::lease::UnixTime;

/// Seconds between two log lines about the same refused relay.
const LOG_EVERY: u64 = 60;
/// Bound on the refused relays remembered for the log's rate limit.
const TRACKED: usize = 4096;

/// A refused relayed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayRefused {
    /// The giaddr that is not in the list.
    pub relay: Ipv4Addr,
    /// Whether this refusal should be logged: the first for this relay in
    /// a minute (or when too many relays are refused to remember them all).
    pub log: bool,
}

/// The allow-list and when each refused relay was last logged.
#[derive(Debug, Clone)]
pub struct RelayGate {
    allow: Vec<Cidr>,
    logged: Windows<Ipv4Addr>,
}

impl RelayGate {
    /// A gate that lets through relays inside `allow` (none when empty).
    pub fn new(allow: Vec<Cidr>) -> Self {
        RelayGate {
            allow,
            logged: Windows::new(LOG_EVERY, TRACKED),
        }
    }

    /// The list this gate enforces.
    pub fn allow(&self) -> &[Cidr] {
        &self.allow
    }

    /// Whether a packet with `giaddr` (unspecified: not relayed) passes.
    pub fn check(&mut self, giaddr: Ipv4Addr, now: UnixTime) -> Result<(), RelayRefused> {
        if giaddr.is_unspecified() || self.allow.iter().any(|c| c.contains(giaddr)) {
            return Ok(());
        }
        // Untracked (the map is full of live relays): log rather than hide.
        let log = self.logged.hit(&giaddr, now).is_none_or(|n| n == 1);
        Err(RelayRefused { relay: giaddr, log })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    #[test]
    fn without_a_list_no_relay_is_served_but_direct_clients_are() {
        let mut g = RelayGate::new(Vec::new());
        assert_eq!(g.check(Ipv4Addr::UNSPECIFIED, 100), Ok(()));
        assert_eq!(
            g.check(RELAY, 100),
            Err(RelayRefused {
                relay: RELAY,
                log: true
            })
        );
    }

    #[test]
    fn only_listed_relays_are_served() {
        let mut g = RelayGate::new(vec!["10.0.0.0/30".parse().expect("cidr")]);
        assert_eq!(g.check(RELAY, 100), Ok(()));
        let other = Ipv4Addr::new(10, 0, 0, 9);
        assert!(g.check(other, 100).is_err());
    }

    #[test]
    fn any_relay_is_spelled_explicitly() {
        let mut g = RelayGate::new(vec!["0.0.0.0/0".parse().expect("cidr")]);
        assert_eq!(g.check(RELAY, 100), Ok(()));
    }

    #[test]
    fn a_refused_relay_is_logged_once_a_minute() {
        let mut g = RelayGate::new(Vec::new());
        let log = |g: &mut RelayGate, ip, at| g.check(ip, at).map_err(|r| r.log);
        assert_eq!(log(&mut g, RELAY, 100), Err(true));
        assert_eq!(log(&mut g, RELAY, 101), Err(false));
        assert_eq!(log(&mut g, RELAY, 159), Err(false));
        let other = Ipv4Addr::new(10, 0, 0, 9);
        assert_eq!(log(&mut g, other, 120), Err(true), "per relay");
        assert_eq!(log(&mut g, RELAY, 160), Err(true), "a minute later");
    }
}
