//! Building replies: header fields, the options to send and their order, and
//! where the reply goes (RFC 2131 section 4.1).

use std::net::Ipv4Addr;

use super::Ctx;
use super::class::facts;
use crate::addr::MacAddr;
use crate::config::{Class, Config, Host, Subnet};
use crate::options::template::fill_text;
use crate::options::{self, ESSENTIAL, Facts, Options, Scope, Source, Value};
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
    let facts = facts(c, Some(ip));
    boot_fields(c, &mut p, &facts);
    put(&mut p, code::LEASE_TIME, &secs.to_be_bytes());
    // T1 at half the lease, T2 at seven eighths (RFC 2131 section 4.4.5).
    put(&mut p, code::RENEWAL_TIME, &(secs / 2).to_be_bytes());
    let t2 = (u64::from(secs) * 7 / 8) as u32;
    put(&mut p, code::REBINDING_TIME, &t2.to_be_bytes());
    subnet_mask(c, &mut p);
    add_configured(c, &mut p, &facts);
    finish(c, p, false)
}

/// Builds the ACK to an INFORM: configuration, no address, no lease times.
pub(super) fn inform_ack(c: &Ctx<'_>) -> Reply {
    let mut p = base(c, MessageType::Ack);
    p.ciaddr = c.req.ciaddr;
    let facts = facts(c, Some(c.req.ciaddr));
    boot_fields(c, &mut p, &facts);
    subnet_mask(c, &mut p);
    add_configured(c, &mut p, &facts);
    finish(c, p, false)
}

/// Builds a NAK explaining `why` (option 56).
pub(super) fn nak(c: &Ctx<'_>, why: &str) -> Reply {
    let mut p = base(c, MessageType::Nak);
    put(&mut p, code::MESSAGE, why.as_bytes());
    finish(c, p, true)
}

/// The NAK to send instead of `ack` when the address it promises could not
/// be made this client's after all (another server sharing the database
/// holds it): RFC 2131 4.3.2, a server that cannot satisfy a REQUEST (the
/// address is already allocated) should NAK it, and the client starts over
/// with a DISCOVER at once instead of retrying its REQUEST for seconds.
/// Same transaction, server identifier and relay information as `ack`;
/// broadcast, or through the relay with the broadcast bit (RFC 2131 4.1).
pub fn nak_instead_of(ack: &Reply, why: &str) -> Reply {
    let mut p = ack.packet.clone();
    p.ciaddr = Ipv4Addr::UNSPECIFIED;
    p.yiaddr = Ipv4Addr::UNSPECIFIED;
    p.siaddr = Ipv4Addr::UNSPECIFIED;
    p.sname.clear();
    p.file.clear();
    p.options = Options::new();
    put(&mut p, code::MESSAGE_TYPE, &[MessageType::Nak as u8]);
    for c in [code::SERVER_ID, code::RELAY_AGENT_INFO] {
        if let Some(v) = ack.packet.options.get(c) {
            put(&mut p, c, v);
        }
    }
    put(&mut p, code::MESSAGE, why.as_bytes());
    let dest = match ack.dest {
        Destination::Relay(giaddr) => {
            p.flags |= FLAG_BROADCAST;
            Destination::Relay(giaddr)
        }
        _ => Destination::Broadcast,
    };
    Reply {
        packet: p,
        dest,
        max_len: ack.max_len,
    }
}

/// Builds a BOOTP reply: a static address and options, no DHCP options.
pub(super) fn bootp(c: &Ctx<'_>, ip: Ipv4Addr) -> Reply {
    let mut p = Packet::reply_to(c.req);
    p.yiaddr = ip;
    let facts = facts(c, Some(ip));
    boot_fields(c, &mut p, &facts);
    subnet_mask(c, &mut p);
    add_configured(c, &mut p, &facts);
    finish(c, p, false)
}

fn base(c: &Ctx<'_>, kind: MessageType) -> Packet {
    let mut p = Packet::reply_to(c.req);
    put(&mut p, code::MESSAGE_TYPE, &[kind as u8]);
    put(&mut p, code::SERVER_ID, &c.server_id.octets());
    p
}

/// Sets an option the server decides itself. Every such option is in
/// [`options::SERVER_SET`], which is what keeps the configuration from
/// setting it too (and its value from being silently dropped here).
fn put(p: &mut Packet, code: u8, value: &[u8]) {
    debug_assert!(
        options::is_server_set(code),
        "option {code} is set by the server but missing from SERVER_SET"
    );
    p.options.set_bytes(code, value);
}

/// The subnet mask follows from the subnet (RFC 2131 section 3.3: servers
/// should send it).
fn subnet_mask(c: &Ctx<'_>, p: &mut Packet) {
    put(p, code::SUBNET_MASK, &c.subnet.cidr.netmask().octets());
}

/// The boot fields a client gets: next-server (siaddr), file and sname,
/// each from the most specific scope that sets it: host over classes (the
/// last matching one first) over subnet over `[server]`. Texts are filled
/// from the request; one whose fact is missing is left out.
pub(super) struct Boot {
    pub next_server: Option<Ipv4Addr>,
    pub filename: Option<String>,
    pub server_name: Option<String>,
}

pub(super) fn boot(c: &Ctx<'_>, facts: &Facts) -> Boot {
    let server = &c.cfg.server;
    let pick = |host: Option<&'_ Option<String>>,
                class: fn(&crate::config::Class) -> &Option<String>,
                subnet: &Option<String>,
                server: &Option<String>| {
        host.and_then(Option::as_deref)
            .or_else(|| c.classes.iter().rev().find_map(|k| class(k).as_deref()))
            .or(subnet.as_deref())
            .or(server.as_deref())
            .and_then(|t| fill_text(t, facts))
    };
    Boot {
        next_server: c
            .host
            .and_then(|h| h.next_server)
            .or_else(|| c.classes.iter().rev().find_map(|k| k.next_server))
            .or(c.subnet.next_server)
            .or(server.next_server),
        filename: pick(
            c.host.map(|h| &h.filename),
            |k| &k.filename,
            &c.subnet.filename,
            &server.filename,
        ),
        server_name: pick(
            c.host.map(|h| &h.server_name),
            |k| &k.server_name,
            &c.subnet.server_name,
            &server.server_name,
        ),
    }
}

fn boot_fields(c: &Ctx<'_>, p: &mut Packet, facts: &Facts) {
    let b = boot(c, facts);
    if let Some(ip) = b.next_server {
        p.siaddr = ip;
    }
    if let Some(f) = b.filename {
        p.file = f.into_bytes();
    }
    if let Some(s) = b.server_name {
        p.sname = s.into_bytes();
    }
}

/// The range scope of an address outside every range's policy.
static NO_OPTIONS: Options<Value> = Options::new();

/// A static host's name as its `host-name` scope, below the host's own options.
pub(super) fn host_name(c: &Ctx<'_>) -> Options<Value> {
    c.host
        .map(|h| (code::HOST_NAME, Value::Text(h.name.clone())))
        .into_iter()
        .collect()
}

/// The client's option scopes for address `ip` (see [`option_scopes`]).
pub(super) fn scopes<'a>(
    c: &Ctx<'a>,
    ip: Ipv4Addr,
    host_name: &'a Options<Value>,
) -> Vec<Scope<'a>> {
    option_scopes(c.cfg, c.subnet, ip, &c.classes, c.host, host_name)
}

/// A client's option scopes for address `ip`, least specific first:
/// global, subnet, the range `ip` is given from, `classes` (in declaration
/// order), `host` (its name as `host_name`, then its options). The one
/// place that orders them: replies, `explain` and hooks all use it.
pub fn option_scopes<'a>(
    cfg: &'a Config,
    subnet: &'a Subnet,
    ip: Ipv4Addr,
    classes: &[&'a Class],
    host: Option<&'a Host>,
    host_name: &'a Options<Value>,
) -> Vec<Scope<'a>> {
    let policy = subnet.policy_at(ip);
    let range = policy.map_or(&NO_OPTIONS, |p| &p.options);
    let mut range_scope = Scope::new(Source::Range, range);
    if let Some(p) = policy {
        range_scope = range_scope.with_vendor(&p.vendor);
    }
    let mut scopes = vec![
        Scope::new(Source::Global, &cfg.options).with_vendor(&cfg.vendor),
        Scope::new(Source::Subnet, &subnet.options).with_vendor(&subnet.vendor),
        range_scope,
    ];
    for class in classes {
        scopes.push(
            Scope::new(Source::Class(&class.name), &class.options).with_vendor(&class.vendor),
        );
    }
    if let Some(h) = host {
        scopes.push(Scope::new(Source::Host, host_name));
        scopes.push(Scope::new(Source::Host, &h.options).with_vendor(&h.vendor));
    }
    scopes
}

/// The vendor space a client's option 43 carries: the last of its classes
/// that selects one. With the class's name, which is where the option
/// comes from.
pub(super) fn vendor_space<'a>(c: &Ctx<'a>) -> Option<(&'a str, &'a str)> {
    c.classes.iter().rev().find_map(|k| {
        k.vendor_space
            .as_deref()
            .map(|space| (space, k.name.as_str()))
    })
}

/// Option 43 for the selected vendor space, encapsulated from the
/// sub-options the client's scopes set, as a scope of its own; empty when no
/// space is selected or nothing in it is set.
pub(super) fn vendor_encapsulated(
    c: &Ctx<'_>,
    scopes: &[Scope<'_>],
    facts: &Facts,
) -> Options<Value> {
    vendor_space(c)
        .and_then(|(space, _)| options::encapsulate(&options::resolve_space(scopes, space), facts))
        .map(|bytes| (code::VENDOR_ENCAPSULATED, Value::Hex(bytes)))
        .into_iter()
        .collect()
}

/// The scopes with option 43's own scope right after the class that
/// selected the space (so a more specific scope's explicit option 43 still
/// wins).
pub(super) fn with_vendor_scope<'a>(
    c: &Ctx<'a>,
    mut scopes: Vec<Scope<'a>>,
    encapsulated: &'a Options<Value>,
) -> Vec<Scope<'a>> {
    if let Some((_, class)) = vendor_space(c)
        && !encapsulated.is_empty()
    {
        let at = scopes
            .iter()
            .position(|s| s.source == Source::Class(class))
            .map_or(scopes.len(), |i| i + 1);
        scopes.insert(at, Scope::new(Source::Class(class), encapsulated));
    }
    scopes
}

/// Adds the configured options, as [`options::resolve`](mod@options::resolve) chooses them from
/// the client's scopes, filled from the request. With a parameter request
/// list, the requested ones in the client's order; without one, everything
/// configured. A client that asks for options 66 or 67 and has no such
/// option configured gets the server name and file name in them.
fn add_configured(c: &Ctx<'_>, p: &mut Packet, facts: &Facts) {
    let host_name = host_name(c);
    // The client's address: the one given, or its own for an INFORM.
    let ip = if p.yiaddr.is_unspecified() {
        c.req.ciaddr
    } else {
        p.yiaddr
    };
    let base = scopes(c, ip, &host_name);
    let encapsulated = vendor_encapsulated(c, &base, facts);
    let scopes = with_vendor_scope(c, base, &encapsulated);
    let requested = c.req.options.get(code::PARAMETER_REQUEST_LIST);
    for chosen in options::resolve(&scopes, requested) {
        // What the server already wrote is server-set, so never chosen; the
        // check guards that invariant rather than relying on it.
        if !p.options.contains(chosen.code)
            && let Some(bytes) = chosen.encode(facts)
        {
            p.options.set(chosen.code, bytes);
        }
    }
    let asked = |code: u8| requested.is_some_and(|r| r.contains(&code));
    for (code, field) in [
        (code::TFTP_SERVER_NAME, p.sname.clone()),
        (code::BOOTFILE_NAME, p.file.clone()),
    ] {
        if asked(code) && !field.is_empty() && !p.options.contains(code) {
            p.options.set_bytes(code, &field);
        }
    }
}

/// Echoes option 82, sets the size cap and picks the destination.
fn finish(c: &Ctx<'_>, mut p: Packet, is_nak: bool) -> Reply {
    // Relay agent information goes back exactly as it came (RFC 3046).
    if let Some(ri) = c.req.options.get(code::RELAY_AGENT_INFO) {
        put(&mut p, code::RELAY_AGENT_INFO, ri);
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
