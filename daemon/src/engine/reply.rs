//! Building replies: header fields, the options to send and their order, and
//! where the reply goes (RFC 2131 section 4.1).

use std::net::Ipv4Addr;

use super::Ctx;
use crate::addr::MacAddr;
use crate::options::{self, ESSENTIAL, Options, Scope, Source, Value};
use crate::packet::{FLAG_BROADCAST, MIN_MESSAGE_LEN, MessageType, Packet, code};

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
        self.packet.encode(self.max_len, &ESSENTIAL)
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
    put(&mut p, code::LEASE_TIME, secs.to_be_bytes().to_vec());
    // T1 at half the lease, T2 at seven eighths (RFC 2131 section 4.4.5).
    put(
        &mut p,
        code::RENEWAL_TIME,
        (secs / 2).to_be_bytes().to_vec(),
    );
    let t2 = (u64::from(secs) * 7 / 8) as u32;
    put(&mut p, code::REBINDING_TIME, t2.to_be_bytes().to_vec());
    subnet_mask(c, &mut p);
    add_configured(c, &mut p);
    finish(c, p, false)
}

/// Builds the ACK to an INFORM: configuration, no address, no lease times.
pub(super) fn inform_ack(c: &Ctx<'_>) -> Reply {
    let mut p = base(c, MessageType::Ack);
    p.ciaddr = c.req.ciaddr;
    boot_fields(c, &mut p);
    subnet_mask(c, &mut p);
    add_configured(c, &mut p);
    finish(c, p, false)
}

/// Builds a NAK explaining `why` (option 56).
pub(super) fn nak(c: &Ctx<'_>, why: &str) -> Reply {
    let mut p = base(c, MessageType::Nak);
    put(&mut p, code::MESSAGE, why.as_bytes().to_vec());
    finish(c, p, true)
}

/// Builds a BOOTP reply: a static address and options, no DHCP options.
pub(super) fn bootp(c: &Ctx<'_>, ip: Ipv4Addr) -> Reply {
    let mut p = Packet::reply_to(c.req);
    p.yiaddr = ip;
    boot_fields(c, &mut p);
    subnet_mask(c, &mut p);
    add_configured(c, &mut p);
    finish(c, p, false)
}

fn base(c: &Ctx<'_>, kind: MessageType) -> Packet {
    let mut p = Packet::reply_to(c.req);
    put(&mut p, code::MESSAGE_TYPE, vec![kind as u8]);
    put(&mut p, code::SERVER_ID, c.server_id.octets().to_vec());
    p
}

/// Sets an option the server decides itself. Every such option is in
/// [`options::SERVER_SET`], which is what keeps the configuration from
/// setting it too (and its value from being silently dropped here).
fn put(p: &mut Packet, code: u8, value: Vec<u8>) {
    debug_assert!(
        options::is_server_set(code),
        "option {code} is set by the server but missing from SERVER_SET"
    );
    p.options.set(code, value);
}

/// The subnet mask follows from the subnet (RFC 2131 section 3.3: servers
/// should send it).
fn subnet_mask(c: &Ctx<'_>, p: &mut Packet) {
    put(
        p,
        code::SUBNET_MASK,
        c.subnet.cidr.netmask().octets().to_vec(),
    );
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

/// The range scope of an address outside every range's policy.
static NO_OPTIONS: Options<Value> = Options::new();

/// A static host's name as its `host-name` scope, below the host's own options.
fn host_name(c: &Ctx<'_>) -> Options<Value> {
    c.host
        .map(|h| (code::HOST_NAME, Value::Text(h.name.clone())))
        .into_iter()
        .collect()
}

/// The client's option scopes for address `ip`, least specific first:
/// global, subnet, the range `ip` is given from, classes (in declaration
/// order), host. Classes carry no options yet; their scopes go here when
/// they do.
fn scopes<'a>(c: &Ctx<'a>, ip: Ipv4Addr, host_name: &'a Options<Value>) -> Vec<Scope<'a>> {
    let range = c.subnet.policy_at(ip).map_or(&NO_OPTIONS, |p| &p.options);
    let mut scopes = vec![
        Scope::new(Source::Global, &c.cfg.options),
        Scope::new(Source::Subnet, &c.subnet.options),
        Scope::new(Source::Range, range),
    ];
    if let Some(h) = c.host {
        scopes.push(Scope::new(Source::Host, host_name));
        scopes.push(Scope::new(Source::Host, &h.options));
    }
    scopes
}

/// Adds the configured options, as [`options::resolve`] chooses them from
/// the client's scopes. With a parameter request list, the requested ones in
/// the client's order; without one, everything configured.
fn add_configured(c: &Ctx<'_>, p: &mut Packet) {
    let host_name = host_name(c);
    let requested = c.req.options.get(code::PARAMETER_REQUEST_LIST);
    // The client's address: the one given, or its own for an INFORM.
    let ip = if p.yiaddr.is_unspecified() {
        c.req.ciaddr
    } else {
        p.yiaddr
    };
    for chosen in options::resolve(&scopes(c, ip, &host_name), requested) {
        // What the server already wrote is server-set, so never chosen; the
        // check guards that invariant rather than relying on it.
        if !p.options.contains(chosen.code) {
            p.options.set(chosen.code, chosen.value.encode());
        }
    }
}

/// Echoes option 82, sets the size cap and picks the destination.
fn finish(c: &Ctx<'_>, mut p: Packet, is_nak: bool) -> Reply {
    // Relay agent information goes back exactly as it came (RFC 3046).
    if let Some(ri) = c.req.options.get(code::RELAY_AGENT_INFO) {
        put(&mut p, code::RELAY_AGENT_INFO, ri.to_vec());
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
