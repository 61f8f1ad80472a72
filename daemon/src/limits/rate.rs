//! Rate limits per interface, per relay and per relay circuit (option 82
//! sub-option 1): checked before the engine, so a flood through one relay
//! or one switch port cannot crowd out the rest.

use std::net::Ipv4Addr;

use super::window::Windows;
use crate::config::RateLimit;
use crate::lease::UnixTime;

/// Bound on the relays and circuits counted at once.
const TRACKED: usize = 65_536;

/// What a rate is counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// The receiving interface, by index.
    Interface(usize),
    /// The relay, by giaddr.
    Relay(Ipv4Addr),
    /// A relay's circuit: giaddr and the circuit id's bytes.
    Circuit(Ipv4Addr, Vec<u8>),
}

impl std::fmt::Display for RateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RateKey::Interface(i) => write!(f, "interface #{i}"),
            RateKey::Relay(ip) => write!(f, "relay {ip}"),
            RateKey::Circuit(ip, id) => {
                write!(f, "circuit ")?;
                for (n, b) in id.iter().enumerate() {
                    write!(f, "{}{b:02x}", if n == 0 { "" } else { ":" })?;
                }
                write!(f, " of relay {ip}")
            }
        }
    }
}

/// A packet over its rate; `first` for the first one over in this second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: RateKey,
    pub first: bool,
}

/// The circuit id (sub-option 1) inside an option 82 value, if any.
pub fn circuit_id(option82: &[u8]) -> Option<&[u8]> {
    let mut rest = option82;
    while let [code, len, tail @ ..] = rest {
        let len = usize::from(*len);
        let value = tail.get(..len)?;
        if *code == 1 {
            return Some(value);
        }
        rest = &tail[len..];
    }
    None
}

/// The rate counts.
#[derive(Debug, Clone)]
pub struct Rates {
    limit: RateLimit,
    counts: Windows<RateKey>,
}

impl Rates {
    /// Empty counts for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Rates {
            limit: limit.clone(),
            counts: Windows::new(1, TRACKED),
        }
    }

    /// The limits these counts enforce.
    pub fn limit(&self) -> &RateLimit {
        &self.limit
    }

    /// Moves every window by `delta` seconds (a wall-clock jump).
    pub fn shift(&mut self, delta: i64) {
        self.counts.shift(delta);
    }

    /// Counts one packet that came in on interface `iface`, relayed by
    /// `giaddr` (unspecified when not relayed) with option 82 value
    /// `option82`, at `now`. O(1).
    pub fn check(
        &mut self,
        iface: usize,
        giaddr: Ipv4Addr,
        option82: Option<&[u8]>,
        now: UnixTime,
    ) -> Result<(), Refusal> {
        let relayed = !giaddr.is_unspecified();
        let mut keys = Vec::with_capacity(3);
        if let Some(n) = self.limit.per_interface {
            keys.push((RateKey::Interface(iface), n));
        }
        if relayed && let Some(n) = self.limit.per_relay {
            keys.push((RateKey::Relay(giaddr), n));
        }
        if relayed
            && let Some(n) = self.limit.per_circuit
            && let Some(id) = option82.and_then(circuit_id)
        {
            keys.push((RateKey::Circuit(giaddr, id.to_vec()), n));
        }
        for (key, n) in keys {
            match self.counts.hit(&key, now) {
                Some(c) if c > n => {
                    let first = c == n + 1;
                    return Err(Refusal { key, first });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn limit() -> RateLimit {
        RateLimit {
            per_interface: Some(100),
            per_relay: Some(10),
            per_circuit: Some(2),
        }
    }

    #[test]
    fn the_circuit_id_is_found_among_the_sub_options() {
        assert_eq!(
            circuit_id(&[2, 1, 9, 1, 2, 0xab, 0xcd]),
            Some(&[0xab, 0xcd][..])
        );
        assert_eq!(circuit_id(&[2, 1, 9]), None);
        assert_eq!(circuit_id(&[1, 5, 1]), None, "truncated");
    }

    #[test]
    fn a_circuit_over_its_rate_is_refused_and_others_on_the_relay_are_not() {
        let mut r = Rates::new(limit());
        let port = |n: u8| vec![1, 1, n];
        for _ in 0..2 {
            assert_eq!(r.check(0, RELAY, Some(&port(1)), 100), Ok(()));
        }
        assert!(matches!(
            r.check(0, RELAY, Some(&port(1)), 100),
            Err(Refusal {
                key: RateKey::Circuit(_, _),
                first: true
            })
        ));
        assert!(matches!(
            r.check(0, RELAY, Some(&port(1)), 100),
            Err(Refusal { first: false, .. })
        ));
        assert_eq!(r.check(0, RELAY, Some(&port(2)), 100), Ok(()));
        assert_eq!(
            r.check(0, RELAY, Some(&port(1)), 101),
            Ok(()),
            "a new second"
        );
    }

    #[test]
    fn a_relay_over_its_rate_is_refused_and_direct_clients_are_not() {
        let mut r = Rates::new(limit());
        for _ in 0..10 {
            assert_eq!(r.check(0, RELAY, None, 100), Ok(()));
        }
        assert!(matches!(
            r.check(0, RELAY, None, 100),
            Err(Refusal {
                key: RateKey::Relay(RELAY),
                ..
            })
        ));
        assert_eq!(r.check(0, Ipv4Addr::UNSPECIFIED, None, 100), Ok(()));
    }

    #[test]
    fn an_interface_over_its_rate_is_refused() {
        let mut r = Rates::new(RateLimit {
            per_interface: Some(3),
            ..limit()
        });
        for _ in 0..3 {
            assert_eq!(r.check(1, Ipv4Addr::UNSPECIFIED, None, 100), Ok(()));
        }
        assert!(r.check(1, Ipv4Addr::UNSPECIFIED, None, 100).is_err());
        assert_eq!(r.check(0, Ipv4Addr::UNSPECIFIED, None, 100), Ok(()));
    }
}
