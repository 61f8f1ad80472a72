//! What hooks are told about a durable change: the publish step hands its
//! events (with the request's facts and the records before and after) to
//! [`Core::run_hooks`], which builds each [`HookEvent`] and queues it. Only
//! the commit path calls it, so a hook never hears of what was merely
//! decided.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use berth_proto::EventKind;

use super::Core;
use super::commit::Undo;
use crate::engine::{self, Decision, Outcome};
use crate::events::Record;
use crate::hooks::{HookEvent, HookKind, LeaseFacts, RelayInfo, Submitted};
use crate::lease::{Lease, LeaseState};
use crate::options::{self, Options, Value};
use crate::packet::{Packet, code};

/// User class (RFC 3004); the codec has no use for it otherwise.
const USER_CLASS: u8 = 77;

/// What the request said and what was sent back, kept from the decision
/// until its change is durable (only when a hook wants it).
#[derive(Debug, Default)]
pub(crate) struct RequestFacts {
    client_id: Option<Vec<u8>>,
    client_hostname: Option<String>,
    user_class: Option<String>,
    relay: RelayInfo,
    /// The reply's options, in reply order.
    sent: Option<Vec<(u8, Vec<u8>)>>,
    requested: Vec<u8>,
}

/// The hook kind for an event kind, if hooks run for it.
fn hook_kind(kind: EventKind) -> Option<HookKind> {
    Some(match kind {
        EventKind::Ack => HookKind::Commit,
        EventKind::Renew => HookKind::Renew,
        EventKind::Release => HookKind::Release,
        EventKind::Expiry => HookKind::Expiry,
        EventKind::Decline => HookKind::Decline,
        EventKind::Arrival => HookKind::Arrival,
        EventKind::Promote => HookKind::Promote,
        _ => return None,
    })
}

/// Sub-option `sub` of a relay agent information option (RFC 3046).
fn relay_sub(ri: &[u8], sub: u8) -> Option<Vec<u8>> {
    let mut rest = ri;
    while let [c, len, tail @ ..] = rest {
        let len = usize::from(*len);
        let value = tail.get(..len)?;
        if *c == sub {
            return Some(value.to_vec());
        }
        rest = &tail[len..];
    }
    None
}

fn facts(l: &Lease) -> LeaseFacts {
    LeaseFacts {
        ip: l.ip,
        hostname: l.hostname.as_deref().map(str::to_string),
        lease_time: Some(l.ends.saturating_sub(l.starts)),
        expiry: Some(l.ends),
    }
}

impl Core {
    /// The request's facts for hooks, when the decision leads to a hook
    /// event and some hook wants it. Cheap to skip: the hot path without
    /// hooks pays one check.
    pub(crate) fn request_facts(&self, p: &Packet, d: &Decision) -> Option<Box<RequestFacts>> {
        let kind = match d.outcome {
            Outcome::Acked(_) if !p.ciaddr.is_unspecified() => HookKind::Renew,
            Outcome::Acked(_) | Outcome::BootpReply(_) => HookKind::Commit,
            Outcome::Released(_) => HookKind::Release,
            Outcome::Declined(_) => HookKind::Decline,
            _ => return None,
        };
        if !self.hooks.wants(kind) {
            return None;
        }
        let ri = p.options.get(code::RELAY_AGENT_INFO);
        Some(Box::new(RequestFacts {
            client_id: p.options.get(code::CLIENT_ID).map(<[u8]>::to_vec),
            client_hostname: engine::client_text(p, code::HOST_NAME).map(Cow::into_owned),
            user_class: engine::client_text(p, USER_CLASS).map(Cow::into_owned),
            relay: RelayInfo {
                address: (!p.giaddr.is_unspecified()).then_some(p.giaddr),
                circuit_id: ri.and_then(|r| relay_sub(r, 1)),
                remote_id: ri.and_then(|r| relay_sub(r, 2)),
            },
            sent: d.reply.as_ref().map(|r| {
                r.packet
                    .options
                    .iter()
                    .map(|(c, v)| (c, v.to_vec()))
                    .collect()
            }),
            requested: p
                .options
                .get(code::PARAMETER_REQUEST_LIST)
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
        }))
    }

    /// Queues the hooks for the events of a change that is now durable.
    /// `undo` holds each changed lease record before and after.
    pub(crate) fn run_hooks(
        &mut self,
        events: &[Record],
        request: Option<&RequestFacts>,
        undo: &[Undo],
    ) {
        for e in events {
            let Some(kind) = hook_kind(e.kind()) else {
                continue;
            };
            if !self.hooks.wants(kind) {
                continue;
            }
            let h = self.hook_event(kind, e, request, undo);
            if self.hooks.submit(&h) == Submitted::Dropped {
                self.counters.bump("hook_dropped");
            }
        }
    }

    fn hook_event(
        &self,
        kind: HookKind,
        e: &Record,
        request: Option<&RequestFacts>,
        undo: &[Undo],
    ) -> HookEvent {
        let mut h = HookEvent::new(kind);
        h.mac = e.mac().map(str::to_string);
        h.hostname = e.hostname().map(str::to_string);
        h.vendor_class = e.vendor_class().map(str::to_string);
        // "br0 via 192.0.2.254" in events; the relay has its own variable.
        h.interface = e
            .interface()
            .and_then(|i| i.split_whitespace().next())
            .map(str::to_string);
        if let Some(ip) = e.ip() {
            self.lease_facts(&mut h, ip, undo);
        }
        if let Some(r) = request {
            h.client_id = r.client_id.clone();
            h.client_hostname = r.client_hostname.clone();
            h.user_class = r.user_class.clone();
            h.relay = r.relay.clone();
            h.requested = r.requested.clone();
            if let Some(sent) = &r.sent {
                h.options = sent.clone();
            }
        }
        if h.options.is_empty() && kind != HookKind::Arrival {
            h.options = self.configured_options(h.lease.as_ref().map(|l| l.ip), e);
        }
        h
    }

    /// The lease after the change (and before it, for the same client),
    /// from the change's own records, else the table.
    fn lease_facts(&self, h: &mut HookEvent, ip: Ipv4Addr, undo: &[Undo]) {
        let records = undo.iter().find_map(|u| match u {
            Undo::Lease {
                ip: at,
                before,
                after,
            } if *at == ip => Some((before.as_ref(), after.as_ref())),
            _ => None,
        });
        let (before, after) = match records {
            Some(r) => r,
            None => (None, self.table.get(ip)),
        };
        h.lease = Some(match after {
            Some(l) if Some(l.mac.to_string()) == h.mac => facts(l),
            _ => LeaseFacts {
                ip,
                hostname: h.hostname.clone(),
                lease_time: None,
                expiry: None,
            },
        });
        h.old = match (before, after) {
            (Some(b), Some(a))
                if b.client == a.client
                    && b.state == LeaseState::Bound
                    && matches!(h.kind, HookKind::Commit | HookKind::Renew) =>
            {
                Some(facts(b))
            }
            _ => None,
        };
        h.subnet_mask = self.cfg.subnet_containing(ip).map(|s| s.cidr.netmask());
    }

    /// For an event without a reply (expiry, an operator's release, a
    /// promotion): what the client's scopes configure, as a reply would
    /// have carried it without a parameter request list.
    fn configured_options(&self, ip: Option<Ipv4Addr>, e: &Record) -> Vec<(u8, Vec<u8>)> {
        let Some(ip) = ip else { return Vec::new() };
        let Some(subnet) = self.cfg.subnet_containing(ip) else {
            return Vec::new();
        };
        let host = e
            .mac()
            .and_then(|m| m.parse().ok())
            .and_then(|m| self.hosts.by_mac(&m))
            .map(|entry| &entry.host)
            .filter(|h| subnet.cidr.contains(h.ip));
        let host_name: Options<Value> = host
            .map(|h| (code::HOST_NAME, Value::Text(h.name.clone())))
            .into_iter()
            .collect();
        // Without the request there are no classes to match.
        let scopes = engine::option_scopes(&self.cfg, subnet, ip, &[], host, &host_name);
        options::resolve(&scopes, None)
            .into_iter()
            .map(|c| (c.code, c.value.encode().into_vec()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_sub_options_are_found_and_bounded() {
        let ri = [1, 3, b'a', b'/', b'1', 2, 2, 0xab, 0xcd];
        assert_eq!(relay_sub(&ri, 1), Some(b"a/1".to_vec()));
        assert_eq!(relay_sub(&ri, 2), Some(vec![0xab, 0xcd]));
        assert_eq!(relay_sub(&ri, 5), None);
        assert_eq!(relay_sub(&[1, 9, 0], 1), None, "a length past the end");
    }

    #[test]
    fn hooks_run_for_lease_events_only() {
        assert_eq!(hook_kind(EventKind::Ack), Some(HookKind::Commit));
        assert_eq!(hook_kind(EventKind::Renew), Some(HookKind::Renew));
        assert_eq!(
            hook_kind(EventKind::Offer),
            None,
            "an offer promises nothing"
        );
        assert_eq!(
            hook_kind(EventKind::HookResult),
            None,
            "never a hook for a hook"
        );
    }
}
