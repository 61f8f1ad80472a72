//! An event as the ring keeps it: the fixed fields inline and every string
//! back to back in one allocation. A DORA's events take about 100 bytes
//! each this way instead of about 220 as [`Event`]s (five `String`s, most
//! of them empty or a few bytes, each its own allocation), and the ring
//! holds 10,000 of them. The packet path builds its events this way from
//! the start ([`Fields`]), borrowing the request's strings: one allocation
//! per event instead of one per string and another to pack them.

use std::net::Ipv4Addr;

use berth_proto::{Event, EventKind, UnixTime};

use crate::addr::Dotted;

/// The strings of an event, in the order they are stored.
const MAC: usize = 0;
const HOSTNAME: usize = 1;
const VENDOR: usize = 2;
const INTERFACE: usize = 3;
const DETAIL: usize = 4;
const STRINGS: usize = 5;

/// An event's fields, borrowed, for [`Record::new`].
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub kind: EventKind,
    pub ip: Option<Ipv4Addr>,
    pub mac: Option<&'a str>,
    pub hostname: Option<&'a str>,
    pub vendor_class: Option<&'a str>,
    /// The receiving interface's name.
    pub interface: Option<&'a str>,
    /// The relay the request came through: the interface reads
    /// "eth0 via 192.0.2.1".
    pub relay: Option<Ipv4Addr>,
    pub unknown: bool,
    pub ok: bool,
    pub detail: &'a str,
}

impl<'a> Fields<'a> {
    /// An event of `kind` with nothing else filled in.
    pub fn new(kind: EventKind) -> Fields<'a> {
        Fields {
            kind,
            ip: None,
            mac: None,
            hostname: None,
            vendor_class: None,
            interface: None,
            relay: None,
            unknown: false,
            ok: true,
            detail: "",
        }
    }
}

/// One event, from the moment it is decided until the ring drops it; its
/// seq and time are set when it is pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub(super) seq: u64,
    pub(super) at: UnixTime,
    ip: Option<Ipv4Addr>,
    kind: EventKind,
    unknown: bool,
    ok: bool,
    /// Which of the optional strings (mac, hostname, vendor class,
    /// interface) are present, one bit each.
    present: u8,
    /// Where each string ends in `text`.
    ends: [u32; STRINGS],
    text: Box<str>,
}

/// " via " and a dotted quad.
const VIA: &str = " via ";

impl Record {
    /// The event `f` describes, its strings copied into one allocation of
    /// exactly their length.
    pub fn new(f: Fields<'_>) -> Record {
        let relay = f.relay.map(|r| Dotted(r).text());
        let interface_len = f.interface.map_or(0, |i| {
            i.len() + relay.as_ref().map_or(0, |r| VIA.len() + r.as_str().len())
        });
        let len = [f.mac, f.hostname, f.vendor_class, Some(f.detail)]
            .iter()
            .flatten()
            .map(|s| s.len())
            .sum::<usize>()
            + interface_len;
        let mut text = String::with_capacity(len);
        let mut ends = [0; STRINGS];
        let mut present = 0;
        let mut end = |i: usize, text: &String| {
            // Past u32::MAX bytes of text the event could not be sent anyway.
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        };
        for (i, part) in [
            (MAC, f.mac),
            (HOSTNAME, f.hostname),
            (VENDOR, f.vendor_class),
        ] {
            if let Some(s) = part {
                text.push_str(s);
                present |= 1 << i;
            }
            end(i, &text);
        }
        if let Some(name) = f.interface {
            text.push_str(name);
            if let Some(r) = &relay {
                text.push_str(VIA);
                text.push_str(r.as_str());
            }
            present |= 1 << INTERFACE;
        }
        end(INTERFACE, &text);
        text.push_str(f.detail);
        end(DETAIL, &text);
        Record {
            seq: 0,
            at: 0,
            ip: f.ip,
            kind: f.kind,
            unknown: f.unknown,
            ok: f.ok,
            present,
            ends,
            text: text.into_boxed_str(),
        }
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    fn optional(&self, i: usize) -> Option<&str> {
        (self.present & (1 << i) != 0).then(|| self.part(i))
    }

    /// The bytes of all its strings.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    pub fn kind(&self) -> EventKind {
        self.kind
    }

    pub fn ip(&self) -> Option<Ipv4Addr> {
        self.ip
    }

    pub fn mac(&self) -> Option<&str> {
        self.optional(MAC)
    }

    pub fn hostname(&self) -> Option<&str> {
        self.optional(HOSTNAME)
    }

    pub fn vendor_class(&self) -> Option<&str> {
        self.optional(VENDOR)
    }

    /// The interface, with " via " and the relay's address when relayed.
    pub fn interface(&self) -> Option<&str> {
        self.optional(INTERFACE)
    }

    /// False for failures (a failed hook, a NAK).
    pub fn ok(&self) -> bool {
        self.ok
    }

    /// The event, as the control API sends it.
    pub fn event(&self) -> Event {
        Event {
            seq: self.seq,
            at: self.at,
            kind: self.kind,
            mac: self.mac().map(str::to_string),
            ip: self.ip,
            hostname: self.hostname().map(str::to_string),
            vendor_class: self.vendor_class().map(str::to_string),
            interface: self.interface().map(str::to_string),
            unknown: self.unknown,
            ok: self.ok,
            detail: self.part(DETAIL).to_string(),
        }
    }
}

impl From<&Event> for Record {
    /// `e`'s fields; its seq and time too.
    fn from(e: &Event) -> Record {
        let mut r = Record::new(Fields {
            kind: e.kind,
            ip: e.ip,
            mac: e.mac.as_deref(),
            hostname: e.hostname.as_deref(),
            vendor_class: e.vendor_class.as_deref(),
            interface: e.interface.as_deref(),
            relay: None,
            unknown: e.unknown,
            ok: e.ok,
            detail: &e.detail,
        });
        r.seq = e.seq;
        r.at = e.at;
        r
    }
}

impl From<Event> for Record {
    fn from(e: Event) -> Record {
        Record::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_comes_back_as_it_was_stored() {
        let mut e = crate::events::new_event(EventKind::Ack);
        e.seq = 7;
        e.at = 9;
        assert_eq!(Record::from(&e).event(), e, "all empty");
        e.mac = Some("02:00:00:00:00:01".into());
        e.ip = Some(Ipv4Addr::new(192, 0, 2, 10));
        e.hostname = Some(String::new());
        e.interface = Some("eth0".into());
        e.unknown = true;
        e.ok = false;
        e.detail = "no such lease ✓".into();
        let s = Record::from(&e);
        assert_eq!(s.event(), e, "an empty string stays Some(\"\")");
        assert_eq!(s.text_len(), 17 + 4 + "no such lease ✓".len());
        e.vendor_class = Some("MSFT 5.0".into());
        e.mac = None;
        assert_eq!(Record::from(&e).event(), e);
    }

    #[test]
    fn fields_come_back_as_given_and_a_relay_joins_the_interface() {
        let mut f = Fields::new(EventKind::Offer);
        f.mac = Some("02:00:00:00:00:01");
        f.interface = Some("br0");
        f.relay = Some(Ipv4Addr::new(10, 255, 0, 1));
        f.ip = Some(Ipv4Addr::new(10, 0, 0, 9));
        f.unknown = true;
        let r = Record::new(f);
        assert_eq!(r.kind(), EventKind::Offer);
        assert_eq!(r.mac(), Some("02:00:00:00:00:01"));
        assert_eq!(r.hostname(), None);
        assert_eq!(r.vendor_class(), None);
        assert_eq!(r.interface(), Some("br0 via 10.255.0.1"));
        assert_eq!(r.ip(), Some(Ipv4Addr::new(10, 0, 0, 9)));
        assert!(r.ok());
        assert_eq!(
            r.text.len(),
            17 + "br0 via 10.255.0.1".len(),
            "exactly sized"
        );
        f.relay = None;
        f.hostname = Some("");
        f.detail = "why";
        let r = Record::new(f);
        assert_eq!(r.interface(), Some("br0"));
        assert_eq!(r.hostname(), Some(""), "an empty string stays present");
        assert_eq!(r.event().detail, "why");
    }
}
