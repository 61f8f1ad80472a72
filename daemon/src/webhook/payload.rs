//! The JSON a webhook receives: one object per event.
//!
//! ```json
//! {"event": "arrival", "seq": 12, "time": "2026-12-01T10:00:00Z",
//!  "daemon": "gw1", "mac": "02:00:00:00:00:aa", "ip": "192.0.2.151",
//!  "hostname": "laptop", "vendor_class": "MSFT 5.0", "interface": "br0",
//!  "relay": null, "known": false, "ok": true, "detail": ""}
//! ```

use berth_proto::Event;
use serde_json::{Value, json};

/// An event's time as RFC 3339 UTC (`2026-12-01T10:00:00Z`).
pub fn rfc3339(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| at.to_string(), |t| t.to_string())
}

/// The body POSTed for `e`, from the daemon called `daemon`.
pub fn body(e: &Event, daemon: &str) -> Vec<u8> {
    // The event log names a relayed client's interface "br0 via 10.0.0.1".
    let (interface, relay) = match e.interface.as_deref().map(|i| i.split_once(" via ")) {
        Some(Some((iface, relay))) => (Some(iface), Some(relay)),
        Some(None) => (e.interface.as_deref(), None),
        None => (None, None),
    };
    let v: Value = json!({
        "event": e.kind.as_str(),
        "seq": e.seq,
        "time": rfc3339(e.at),
        "daemon": daemon,
        "mac": e.mac,
        "ip": e.ip.map(|ip| ip.to_string()),
        "hostname": e.hostname,
        "vendor_class": e.vendor_class,
        "interface": interface,
        "relay": relay,
        "known": !e.unknown,
        "ok": e.ok,
        "detail": e.detail,
    });
    v.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::new_event;
    use berth_proto::EventKind;

    #[test]
    fn the_body_carries_every_documented_field() {
        let mut e = new_event(EventKind::Arrival);
        e.seq = 7;
        e.at = 1_800_000_000;
        e.mac = Some("02:00:00:00:00:aa".into());
        e.ip = Some("192.0.2.151".parse().expect("ip"));
        e.hostname = Some("lap\"top".into());
        e.vendor_class = Some("MSFT 5.0".into());
        e.interface = Some("br0 via 10.0.0.1".into());
        e.unknown = true;
        let v: Value = serde_json::from_slice(&body(&e, "gw1")).expect("json");
        assert_eq!(
            v,
            json!({
                "event": "arrival", "seq": 7, "time": "2027-01-15T08:00:00Z",
                "daemon": "gw1", "mac": "02:00:00:00:00:aa", "ip": "192.0.2.151",
                "hostname": "lap\"top", "vendor_class": "MSFT 5.0",
                "interface": "br0", "relay": "10.0.0.1", "known": false,
                "ok": true, "detail": ""
            })
        );
    }

    #[test]
    fn absent_fields_are_null() {
        let mut e = new_event(EventKind::Expiry);
        e.interface = Some("br0".into());
        let v: Value = serde_json::from_slice(&body(&e, "d")).expect("json");
        assert_eq!(v["mac"], Value::Null);
        assert_eq!(v["interface"], "br0");
        assert_eq!(v["relay"], Value::Null);
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
    }
}
