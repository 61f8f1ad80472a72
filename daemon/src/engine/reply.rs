//! Building replies: header fields, the options to send and their order, and
//! where the reply goes (RFC 2131 section 4.1).

use std::net::Ipv4Addr;

use super::Ctx;
use crate::addr::MacAddr;
use crate::packet::{FLAG_BROADCAST, MIN_MESSAGE_LEN, MessageType, Packet, code};

/// Options never dropped to make a reply fit: without them it is useless.
pub const ESSENTIAL: &[u8] = &[
    code::MESSAGE_TYPE,
    code::SERVER_ID,
    code::LEASE_TIME,
    code::RENEWAL_TIME,
    code::REBINDING_TIME,
    code::SUBNET_MASK,
    code::MESSAGE,
];

/// The largest reply we send even when a client allows more: one Ethernet
/// frame, since replies to clients without an address cannot be fragmented
/// sensibly.
const MAX_REPLY_LEN: usize = 1500 - 28;

/// Where a reply goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// 255.255.255.255:68 on the receiving interface.
    Broadcast,
    /// To a relay agent, port 67.
    Relay(Ipv4Addr),
    /// To a client that has its address configured (ciaddr), port 68.
    Unicast(Ipv4Addr),
    /// To a client that has no address yet: unicast to `ip` at hardware
    /// address `mac`, which needs the ARP cache primed (or a broadcast when
    /// that is not possible).
    Hardware { ip: Ipv4Addr, mac: MacAddr },
}

/// A reply ready to encode and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub packet: Packet,
    pub dest: Destination,
    /// Size cap: 576 bytes or the client's option 57, less IP and UDP headers.
    pub max_len: usize,
}

impl Reply {
    /// Wire bytes, capped at `max_len`; also the codes dropped to fit.
    pub fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        self.packet.encode(self.max_len, ESSENTIAL)
    }
}

/// Builds an OFFER or ACK for `ip` with a lease of `secs` seconds.
pub(super) fn offer_or_ack(c: &Ctx<'_>, kind: MessageType, ip: Ipv4Addr, secs: u32) -> Reply {
    let mut p = base(c, kind);
    p.yiaddr = ip;
    if kind == MessageType::Ack {
        p.ciaddr = c.req.ciaddr;
    }
    boot_fields(c, &mut p);
    p.options.set(code::LEASE_TIME, secs.to_be_bytes().to_vec());
    // T1 at half the lease, T2 at seven eighths (RFC 2131 section 4.4.5).
    p.options
        .set(code::RENEWAL_TIME, (secs / 2).to_be_bytes().to_vec());
    let t2 = (u64::from(secs) * 7 / 8) as u32;
    p.options
        .set(code::REBINDING_TIME, t2.to_be_bytes().to_vec());
    p.options
        .set(code::SUBNET_MASK, c.subnet.cidr.netmask().octets().to_vec());
    add_configured(c, &mut p);
    finish(c, p, false)
}

/// Builds the ACK to an INFORM: configuration, no address, no lease times.
pub(super) fn inform_ack(c: &Ctx<'_>) -> Reply {
    let mut p = base(c, MessageType::Ack);
    p.ciaddr = c.req.ciaddr;
    boot_fields(c, &mut p);
    p.options
        .set(code::SUBNET_MASK, c.subnet.cidr.netmask().octets().to_vec());
    add_configured(c, &mut p);
    finish(c, p, false)
}

/// Builds a NAK explaining `why` (option 56).
pub(super) fn nak(c: &Ctx<'_>, why: &str) -> Reply {
    let mut p = base(c, MessageType::Nak);
    p.options.set(code::MESSAGE, why.as_bytes().to_vec());
    finish(c, p, true)
}

/// Builds a BOOTP reply: a static address and options, no DHCP options.
pub(super) fn bootp(c: &Ctx<'_>, ip: Ipv4Addr) -> Reply {
    let mut p = Packet::reply_to(c.req);
    p.yiaddr = ip;
    boot_fields(c, &mut p);
    p.options
        .set(code::SUBNET_MASK, c.subnet.cidr.netmask().octets().to_vec());
    add_configured(c, &mut p);
    finish(c, p, false)
}

fn base(c: &Ctx<'_>, kind: MessageType) -> Packet {
    let mut p = Packet::reply_to(c.req);
    p.options.set(code::MESSAGE_TYPE, vec![kind as u8]);
    p.options
        .set(code::SERVER_ID, c.server_id.octets().to_vec());
    p
}

/// next-server (siaddr) and filename, host settings over subnet settings.
fn boot_fields(c: &Ctx<'_>, p: &mut Packet) {
    let next = c.host.and_then(|h| h.next_server).or(c.subnet.next_server);
    if let Some(ip) = next {
        p.siaddr = ip;
    }
    let file = c
        .host
        .and_then(|h| h.filename.as_deref())
        .or(c.subnet.filename.as_deref());
    if let Some(f) = file {
        p.file = f.as_bytes().to_vec();
    }
}

/// Adds the configured options: host over subnet over global. With a
/// parameter request list, the requested ones in the client's order; without
/// one, everything configured.
fn add_configured(c: &Ctx<'_>, p: &mut Packet) {
    let host_opts = c.host.map(|h| &h.options);
    let lookup = |code: u8| -> Option<Vec<u8>> {
        if let Some(v) = host_opts.and_then(|o| o.get(code)) {
            return Some(v.to_vec());
        }
        if code == code::HOST_NAME
            && let Some(h) = c.host
        {
            return Some(h.name.as_bytes().to_vec());
        }
        c.subnet
            .options
            .get(code)
            .or_else(|| c.cfg.options.get(code))
            .map(<[u8]>::to_vec)
    };
    match c.req.options.get(code::PARAMETER_REQUEST_LIST) {
        Some(prl) => {
            for &code in prl {
                if p.options.contains(code) || is_server_controlled(code) {
                    continue;
                }
                if let Some(v) = lookup(code) {
                    p.options.set(code, v);
                }
            }
        }
        None => {
            let all = host_opts
                .into_iter()
                .flat_map(|o| o.0.iter())
                .chain(c.subnet.options.0.iter())
                .chain(c.cfg.options.0.iter())
                .map(|(code, _)| *code);
            let host_name = c.host.map(|_| code::HOST_NAME);
            for code in all.chain(host_name) {
                if !p.options.contains(code)
                    && !is_server_controlled(code)
                    && let Some(v) = lookup(code)
                {
                    p.options.set(code, v);
                }
            }
        }
    }
}

/// Codes only the protocol machinery sets; a client asking for them in its
/// request list gets what the server decided, not a configured value.
fn is_server_controlled(code: u8) -> bool {
    matches!(
        code,
        code::PAD
            | code::END
            | code::REQUESTED_IP
            | code::LEASE_TIME
            | code::OVERLOAD
            | code::MESSAGE_TYPE
            | code::SERVER_ID
            | code::PARAMETER_REQUEST_LIST
            | code::MESSAGE
            | code::MAX_MESSAGE_SIZE
            | code::RENEWAL_TIME
            | code::REBINDING_TIME
            | code::CLIENT_ID
            | code::RELAY_AGENT_INFO
    )
}

/// Echoes option 82, sets the size cap and picks the destination.
fn finish(c: &Ctx<'_>, mut p: Packet, is_nak: bool) -> Reply {
    // Relay agent information goes back exactly as it came (RFC 3046).
    if let Some(ri) = c.req.options.get(code::RELAY_AGENT_INFO) {
        p.options.set(code::RELAY_AGENT_INFO, ri.to_vec());
    }
    let max_len = c
        .req
        .options
        .get_u16(code::MAX_MESSAGE_SIZE)
        .map_or(MIN_MESSAGE_LEN, |m| usize::from(m).saturating_sub(28))
        .clamp(MIN_MESSAGE_LEN, MAX_REPLY_LEN);
    let dest = destination(c.req, &mut p, is_nak);
    Reply {
        packet: p,
        dest,
        max_len,
    }
}

/// RFC 2131 section 4.1: relay first; a NAK is broadcast when not relayed;
/// a client with ciaddr gets unicast; the broadcast bit asks for broadcast;
/// otherwise unicast to the offered address at the client's hardware address.
fn destination(req: &Packet, reply: &mut Packet, is_nak: bool) -> Destination {
    if !req.giaddr.is_unspecified() {
        if is_nak {
            reply.flags |= FLAG_BROADCAST;
        }
        return Destination::Relay(req.giaddr);
    }
    if is_nak {
        return Destination::Broadcast;
    }
    if !req.ciaddr.is_unspecified() {
        return Destination::Unicast(req.ciaddr);
    }
    if req.broadcast() || reply.yiaddr.is_unspecified() {
        return Destination::Broadcast;
    }
    match req.mac() {
        Some(mac) => Destination::Hardware {
            ip: reply.yiaddr,
            mac,
        },
        None => Destination::Broadcast,
    }
}
