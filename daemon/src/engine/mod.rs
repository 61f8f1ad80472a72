//! The sans-IO protocol core (RFC 2131).
//!
//! [`handle`] is a pure function of (request, config, lease view, now). It
//! returns a [`Decision`]: the reply to send (if any), where to send it, and
//! the [`Effect`]s on the lease table (which of them must be durable is
//! [`Effect::is_durable`]; the server maps them to store writes). No sockets,
//! clocks or files are touched here, so every rule is a unit test.
//!
//! The server applies the effects to the in-memory table at once (so the
//! next request sees them) and sends a reply that promises an address only
//! after the store has made its lease durable.

mod class;
mod explain;
mod reply;
mod sweep;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod class_tests;

use std::borrow::Cow;
use std::net::Ipv4Addr;

use crate::addr::{Cidr, Dotted, MacAddr};
use crate::blocks::Blocklist;
use crate::config::{Class, Config, Host, Subnet};
use crate::hosts::HostTable;
use crate::lease::{ClientKey, Lease, LeaseState, LeaseTable, UnixTime};
use crate::packet::{BOOTREQUEST, MessageType, Packet, code};
use crate::pool::Pool;

pub use explain::{Explained, Explanation, explain};
pub use reply::{Destination, Reply, nak_instead_of, option_scopes};
pub use sweep::{
    Findings, Squatter, is_probe_hit, probe_answered, probe_hit_client, sweep_findings,
};

/// The interface a request arrived on, as the engine needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface name, for logs.
    pub name: String,
    /// The server's address on it: the default server identifier, and how a
    /// directly attached client's subnet is chosen.
    pub addr: Ipv4Addr,
}

/// What the engine may read: the server's state at the time of a request.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub config: &'a Config,
    pub hosts: &'a HostTable,
    pub leases: &'a LeaseTable,
    pub blocks: &'a Blocklist,
    /// Every served interface: which subnets are directly attached.
    pub interfaces: &'a [Interface],
    /// Subnets whose never-used addresses are ARP-probed before their
    /// first offer (attached to an interface the server can ARP on);
    /// empty when probes are off.
    pub probe_subnets: &'a [Cidr],
}

/// One received message and where it came from.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub packet: &'a Packet,
    pub interface: &'a Interface,
}

/// A change the server must make to its lease state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Hold an offered address for the client (memory only: an offer
    /// promises nothing that must survive a restart).
    Hold(Lease),
    /// Grant or extend a lease. Durable before the reply goes out.
    Bind(Lease),
    /// The client gave its lease back.
    Release(Lease),
    /// The client found the address in use: quarantine it.
    Decline(Lease),
    /// Drop a hold (the client chose another server's offer, or the hold
    /// ran out).
    Forget(Ipv4Addr),
    /// A bound lease ran out without renewal.
    Expire(Lease),
    /// A quarantined address has served its probation: free it.
    Unquarantine(Ipv4Addr),
    /// An ARP sweep heard the address answered by a MAC without a lease:
    /// record (or extend) the observed binding.
    Observe(Lease),
    /// An observed address stopped answering (or its record ran out):
    /// drop the observed binding.
    Unobserve(Ipv4Addr),
}

impl Effect {
    /// Whether the store must record this effect.
    pub fn is_durable(&self) -> bool {
        !matches!(self, Effect::Hold(_) | Effect::Forget(_))
    }
}

/// What the engine decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub reply: Option<Reply>,
    pub effects: Vec<Effect>,
    /// What to tell the operator in the one-line transaction log.
    pub outcome: Outcome,
}

/// The result of a transaction, for logs and counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Offered(Ipv4Addr),
    Acked(Ipv4Addr),
    Informed,
    Naked(&'static str),
    Released(Ipv4Addr),
    Declined(Ipv4Addr),
    BootpReply(Ipv4Addr),
    /// A client that should be served got nothing: no free address in its
    /// pool, or no pool at all. Silence to the client, but news for the
    /// operator.
    NoAddress(&'static str),
    /// Not for us, or nothing to say: silence is the correct answer.
    Ignored(&'static str),
    /// Malformed or unacceptable: counted as a drop.
    Dropped(&'static str),
    /// The address is held for the client, but nobody has used it yet: the
    /// server ARP-probes it and handles the request again once the wire
    /// has answered (a conflict is quarantined first) or stayed silent.
    Probe(Ipv4Addr),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Offered(ip) => write!(f, "offered {}", Dotted(*ip)),
            Outcome::Acked(ip) => write!(f, "acked {}", Dotted(*ip)),
            Outcome::Informed => f.write_str("informed"),
            Outcome::Naked(why) => write!(f, "naked: {why}"),
            Outcome::Released(ip) => write!(f, "released {}", Dotted(*ip)),
            Outcome::Declined(ip) => write!(f, "declined {ip}, quarantined"),
            Outcome::BootpReply(ip) => write!(f, "bootp reply {ip}"),
            Outcome::NoAddress(why) => write!(f, "no address: {why}"),
            Outcome::Ignored(why) => write!(f, "ignored: {why}"),
            Outcome::Dropped(why) => write!(f, "dropped: {why}"),
            Outcome::Probe(ip) => write!(f, "probing {ip} before offering it"),
        }
    }
}

impl Outcome {
    /// A short stable name, for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Offered(_) => "offered",
            Outcome::Acked(_) => "acked",
            Outcome::Informed => "informed",
            Outcome::Naked(_) => "naked",
            Outcome::Released(_) => "released",
            Outcome::Declined(_) => "declined",
            Outcome::BootpReply(_) => "bootp",
            Outcome::NoAddress(_) => "no_address",
            Outcome::Ignored(_) => "ignored",
            Outcome::Dropped(_) => "dropped",
            Outcome::Probe(_) => "probe",
        }
    }
}

impl Decision {
    fn silent(outcome: Outcome) -> Self {
        Decision {
            reply: None,
            effects: Vec::new(),
            outcome,
        }
    }
}

/// Everything about the client and its network that every rule needs.
struct Ctx<'a> {
    cfg: &'a Config,
    hosts: &'a HostTable,
    leases: &'a LeaseTable,
    req: &'a Packet,
    now: UnixTime,
    client: ClientKey,
    mac: MacAddr,
    subnet: &'a Subnet,
    /// The static host for this client, if it has one on this subnet.
    host: Option<&'a Host>,
    /// The classes the client belongs to, in declaration order.
    classes: Vec<&'a Class>,
    /// Their names, for the pool's range restrictions.
    class_names: Vec<&'a str>,
    /// Whether the client has a host entry anywhere (for range policies).
    known: bool,
    server_id: Ipv4Addr,
    /// Whether a never-used address is ARP-probed before it is offered.
    probe: bool,
}

/// The most bytes of client-supplied text (host name, vendor class, user
/// class) the server keeps: the most one option can carry. Options
/// concatenate (RFC 3396), so a client could otherwise send kilobytes into
/// leases, the store and every event.
pub const MAX_CLIENT_TEXT: usize = 255;

/// The most bytes of a client identifier (option 61) the server accepts; a
/// longer one is dropped rather than cut, as cutting could merge two clients.
pub const MAX_CLIENT_ID: usize = 255;

/// Option `code` as text the server may keep: lossy UTF-8 with trailing
/// NULs and surrounding blanks removed, cut to [`MAX_CLIENT_TEXT`] bytes on a
/// character boundary; `None` when absent or empty.
pub fn client_text(p: &Packet, code: u8) -> Option<Cow<'_, str>> {
    let raw = p.options.get(code)?;
    let raw = &raw[..raw.len().min(MAX_CLIENT_TEXT)];
    // Borrowed from the packet when it is valid UTF-8, as it nearly always is.
    match String::from_utf8_lossy(raw) {
        Cow::Borrowed(s) => tidy_text(s).map(Cow::Borrowed),
        Cow::Owned(s) => tidy_text(&s).map(|t| Cow::Owned(t.to_string())),
    }
}

/// `s` without trailing NULs and replacement characters and surrounding
/// blanks, cut to [`MAX_CLIENT_TEXT`] bytes on a character boundary.
fn tidy_text(s: &str) -> Option<&str> {
    let s = s.trim_end_matches(['\0', '\u{fffd}']).trim();
    let mut end = s.len().min(MAX_CLIENT_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let s = &s[..end];
    (!s.is_empty()).then_some(s)
}

/// What no well-behaved client sends, found before any rule runs: such a
/// request is dropped and counted, never answered.
fn malformed(p: &Packet) -> Option<&'static str> {
    let o = &p.options;
    if let Some(id) = o.get(code::CLIENT_ID) {
        // RFC 2132 9.14: a type and at least one byte. A longer one is not
        // cut, as cutting could merge two clients.
        if id.len() < 2 {
            return Some("client identifier shorter than 2 bytes");
        }
        if id.len() > MAX_CLIENT_ID {
            return Some("client identifier over 255 bytes");
        }
    }
    if o.get(code::PARAMETER_REQUEST_LIST)
        .is_some_and(|l| l.len() > 255)
    {
        return Some("parameter request list over 255 codes");
    }
    if o.get(code::HOST_NAME).is_some_and(|h| {
        h.iter()
            .rposition(|&b| b != 0)
            .is_some_and(|end| h[..=end].iter().any(|&b| b < 0x20 || b == 0x7f))
    }) {
        return Some("host name with control characters");
    }
    None
}

/// Decides what to do with one request. Pure: no I/O, no clock.
pub fn handle(view: &View<'_>, req: &Request<'_>, now: UnixTime) -> Decision {
    let (ctx, msg) = match context(view, req, now) {
        Ok(found) => found,
        Err(outcome) => return Decision::silent(outcome),
    };
    match msg {
        None => bootp(&ctx),
        Some(MessageType::Discover) => discover(&ctx),
        Some(MessageType::Request) => request(&ctx),
        Some(MessageType::Decline) => decline(&ctx),
        Some(MessageType::Release) => release(&ctx),
        Some(MessageType::Inform) => inform(&ctx),
        Some(MessageType::Offer | MessageType::Ack | MessageType::Nak) => {
            Decision::silent(Outcome::Dropped("server message sent to the server port"))
        }
    }
}

/// The checks every request passes and the client's context (subnet, host,
/// classes), or the outcome of the silence that ends it here.
fn context<'a>(
    view: &View<'a>,
    req: &Request<'a>,
    now: UnixTime,
) -> Result<(Ctx<'a>, Option<MessageType>), Outcome> {
    let View {
        config: cfg,
        hosts,
        leases,
        blocks,
        interfaces,
        probe_subnets,
    } = *view;
    let p = req.packet;
    if p.op != BOOTREQUEST {
        return Err(Outcome::Dropped("not a BOOTREQUEST"));
    }
    if p.hlen == 0 && !p.options.contains(code::CLIENT_ID) {
        return Err(Outcome::Dropped("no hardware address or client id"));
    }
    if let Some(why) = malformed(p) {
        return Err(Outcome::Dropped(why));
    }
    let msg = match p.message_type() {
        None if cfg.server.bootp => None,
        None => {
            return Err(Outcome::Dropped("BOOTP request and bootp is off"));
        }
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return Err(Outcome::Dropped("unknown message type")),
    };
    let Some(subnet) = select_subnet(cfg, interfaces, req, msg) else {
        return Err(Outcome::Ignored("no subnet for this network"));
    };
    let client = client_key(p);
    let mac = client_mac(p);
    if mac.is_some_and(|m| blocks.is_blocked(&m, now)) {
        return Err(Outcome::Ignored("client is blocked"));
    }
    let any_host = client_host(hosts, p);
    let host = any_host.filter(|h| subnet.cidr.contains(h.ip));
    let classes = class::classes_of(cfg, p, mac, host.is_some());
    let class_names = classes.iter().map(|c| c.name.as_str()).collect();
    let server_id = cfg.server.server_id.unwrap_or(req.interface.addr);
    let ctx = Ctx {
        cfg,
        hosts,
        leases,
        req: p,
        now,
        client,
        mac: mac.unwrap_or_default(),
        subnet,
        host,
        classes,
        class_names,
        known: any_host.is_some(),
        server_id,
        probe: probe_subnets.contains(&subnet.cidr),
    };
    Ok((ctx, msg))
}

/// The client's identity: option 61 when present, else chaddr.
pub fn client_key(p: &Packet) -> ClientKey {
    match p.options.get(code::CLIENT_ID) {
        Some(id) if !id.is_empty() => ClientKey::from(id),
        _ => {
            let n = usize::from(p.hlen.min(16));
            ClientKey::from_hw(p.htype, &p.chaddr[..n])
        }
    }
}

/// The client's hardware address: chaddr when it holds an Ethernet address,
/// else the one inside an option 61 of hardware type 1 (RFC 2132 9.14), so
/// a client that sends hlen 0 and a client id is still the same client to
/// blocks and lease records.
pub fn client_mac(p: &Packet) -> Option<MacAddr> {
    p.mac().or_else(|| match p.options.get(code::CLIENT_ID)? {
        [1, hw @ ..] => Some(MacAddr(hw.try_into().ok()?)),
        _ => None,
    })
}

/// The static host entry for the client: by client id first, then by MAC.
pub fn client_host<'a>(hosts: &'a HostTable, p: &Packet) -> Option<&'a Host> {
    if let Some(id) = p.options.get(code::CLIENT_ID)
        && let Some(e) = hosts.by_client_id(id)
    {
        return Some(&e.host);
    }
    hosts.by_mac(&p.mac()?).map(|e| &e.host)
}

/// Which subnet the client is on: the subnet-selection option (RFC 3011),
/// else the relay's address, else the receiving interface's subnet. The
/// client's own address (ciaddr of a RENEW, REBIND, RELEASE or INFORM) picks
/// the subnet instead only when that subnet is attached to no served
/// interface: a relayed client renewing by unicast. A ciaddr on another
/// attached network means the client moved, and it must hear so.
fn select_subnet<'a>(
    cfg: &'a Config,
    interfaces: &[Interface],
    req: &Request<'_>,
    msg: Option<MessageType>,
) -> Option<&'a Subnet> {
    let p = req.packet;
    // `[limits] subnet_selection = false`: a client cannot name a subnet.
    if cfg.limits.subnet_selection
        && let Some(ip) = p.options.get_ip(code::SUBNET_SELECTION)
    {
        return cfg.subnet_containing(ip);
    }
    if !p.giaddr.is_unspecified() {
        return cfg.subnet_containing(p.giaddr);
    }
    let uses_ciaddr = matches!(
        msg,
        Some(MessageType::Request | MessageType::Inform | MessageType::Release)
    );
    let local = cfg.subnet_containing(req.interface.addr);
    if uses_ciaddr
        && !p.ciaddr.is_unspecified()
        && local.is_none_or(|l| !l.cidr.contains(p.ciaddr))
        && let Some(s) = cfg.subnet_containing(p.ciaddr)
        && !interfaces.iter().any(|i| s.cidr.contains(i.addr))
    {
        return Some(s);
    }
    local
}

impl Ctx<'_> {
    /// Lease time for this client on `ip`: its request (option 51) clamped
    /// to the configured bounds, else the default. A range's `lease` is both
    /// the default and the longest for its addresses; a class's lease times
    /// override those (later classes win), as class scopes do.
    fn lease_time(&self, ip: Ipv4Addr) -> u32 {
        let (mut default, mut max) = match self.pool().policy_at(ip).and_then(|p| p.lease) {
            Some(secs) => (secs, secs),
            None => self.cfg.lease_times(self.subnet),
        };
        for class in &self.classes {
            default = class.lease.unwrap_or(default);
            max = class.max_lease.unwrap_or(max);
        }
        let min = self.cfg.server.min_lease.min(max);
        match self.req.options.get_u32(code::LEASE_TIME) {
            Some(asked) => asked.clamp(min, max),
            None => default.min(max),
        }
    }

    /// This client's view of its subnet's pool.
    fn pool(&self) -> Pool<'_> {
        Pool {
            subnet: self.subnet,
            hosts: self.hosts,
            leases: self.leases,
            server_id: self.server_id,
            client: &self.client,
            known: self.known,
            classes: &self.class_names,
            grace: self.cfg.server.expiry_grace.into(),
            now: self.now,
            spread: self.cfg.server.postgres.is_some(),
        }
    }

    /// Whether `ip` may be given to this client dynamically now.
    fn available(&self, ip: Ipv4Addr) -> bool {
        self.pool().may_give(ip)
    }

    fn hostname(&self) -> Option<Box<str>> {
        if let Some(h) = self.host {
            return Some(h.name.as_str().into());
        }
        client_text(self.req, code::HOST_NAME).map(Into::into)
    }

    fn lease(&self, ip: Ipv4Addr, state: LeaseState, secs: u32) -> Lease {
        Lease {
            ip,
            client: self.client.clone(),
            mac: self.mac,
            hostname: self.hostname(),
            state,
            starts: self.now,
            ends: self.now.saturating_add(u64::from(secs)),
        }
    }

    /// The server identifier (option 54) the client addressed, if any.
    fn addressed_server(&self) -> Option<Ipv4Addr> {
        self.req.options.get_ip(code::SERVER_ID)
    }

    fn nak(&self, why: &'static str) -> Decision {
        Decision {
            reply: Some(reply::nak(self, why)),
            effects: Vec::new(),
            outcome: Outcome::Naked(why),
        }
    }

    /// NAK when authoritative for the network, silence otherwise (RFC 2131
    /// section 4.3.2: non-authoritative servers must not NAK).
    fn nak_if_authoritative(&self, why: &'static str) -> Decision {
        if self.cfg.server.authoritative {
            self.nak(why)
        } else {
            Decision::silent(Outcome::Ignored(why))
        }
    }

    fn ack(&self, ip: Ipv4Addr) -> Decision {
        let secs = self.lease_time(ip);
        let mut effects = Vec::with_capacity(2);
        // A promoted client arriving on its static address has moved: its
        // old dynamic lease goes back to the pool.
        if self.host.is_some()
            && let Some(old) = self.leases.for_client(&self.client)
            && old.ip != ip
            && old.is_active(self.now)
        {
            let mut gone = old.clone();
            gone.state = LeaseState::Released;
            gone.ends = self.now;
            effects.push(Effect::Release(gone));
        }
        effects.push(Effect::Bind(self.lease(ip, LeaseState::Bound, secs)));
        Decision {
            reply: Some(reply::offer_or_ack(self, MessageType::Ack, ip, secs)),
            effects,
            outcome: Outcome::Acked(ip),
        }
    }
}

fn discover(c: &Ctx<'_>) -> Decision {
    if let Some(h) = c.host {
        let secs = c.lease_time(h.ip);
        return Decision {
            reply: Some(reply::offer_or_ack(c, MessageType::Offer, h.ip, secs)),
            effects: Vec::new(),
            outcome: Outcome::Offered(h.ip),
        };
    }
    let Some(ip) = c.pool().choose(c.req.options.get_ip(code::REQUESTED_IP)) else {
        let why = if c.subnet.ranges.is_empty() {
            "unknown client and no dynamic range on this subnet"
        } else if c.pool().ranges().next().is_none() {
            "no range on this subnet is open to this client"
        } else {
            "pool exhausted"
        };
        return Decision::silent(Outcome::NoAddress(why));
    };
    let secs = c.lease_time(ip);
    // `max_offers` reached: the oldest offer gives way to this one.
    let room = c.pool().make_room(ip).map(Effect::Forget);
    let hold = || {
        let h = Effect::Hold(c.lease(ip, LeaseState::Offered, c.cfg.server.offer_hold));
        room.clone().into_iter().chain([h]).collect::<Vec<_>>()
    };
    // An address no record names has never been seen in use: before its
    // first offer the wire is asked (the hold keeps it from other clients
    // meanwhile, and makes the second pass offer it).
    if c.probe && c.leases.get(ip).is_none() {
        return Decision {
            reply: None,
            effects: hold(),
            outcome: Outcome::Probe(ip),
        };
    }
    // A client re-DISCOVERing its own bound address keeps the binding; only
    // a free address needs a hold.
    let bound = c.leases.get(ip).is_some_and(|l| {
        l.client == c.client && l.state == LeaseState::Bound && l.is_active(c.now)
    });
    let effects = if bound { Vec::new() } else { hold() };
    Decision {
        reply: Some(reply::offer_or_ack(c, MessageType::Offer, ip, secs)),
        effects,
        outcome: Outcome::Offered(ip),
    }
}

fn request(c: &Ctx<'_>) -> Decision {
    let p = c.req;
    let requested = p.options.get_ip(code::REQUESTED_IP);
    match (c.addressed_server(), requested) {
        // SELECTING: the client answers an offer.
        (Some(sid), _) if sid != c.server_id => {
            let ours = c
                .leases
                .for_client(&c.client)
                .filter(|l| l.state == LeaseState::Offered);
            Decision {
                reply: None,
                effects: ours.map(|l| Effect::Forget(l.ip)).into_iter().collect(),
                outcome: Outcome::Ignored("client chose another server"),
            }
        }
        (Some(_), None) if p.ciaddr.is_unspecified() => Decision::silent(Outcome::Dropped(
            "REQUEST with server id but no requested address",
        )),
        (Some(_), requested) => {
            let ip = requested.unwrap_or(p.ciaddr);
            if c.host.is_some() {
                return verify_static(c, ip, true);
            }
            let offered_to_client = c.leases.get(ip).is_some_and(|l| l.client == c.client);
            if offered_to_client && c.available(ip) {
                c.ack(ip)
            } else {
                c.nak("requested address was not offered to this client")
            }
        }
        // INIT-REBOOT: a client that remembers an address asks to keep it.
        (None, Some(ip)) if p.ciaddr.is_unspecified() => verify(c, ip),
        // RENEWING (unicast) or REBINDING (broadcast): extend the lease on ciaddr.
        (None, _) if !p.ciaddr.is_unspecified() => verify(c, p.ciaddr),
        (None, _) => Decision::silent(Outcome::Dropped(
            "REQUEST without ciaddr or requested address",
        )),
    }
}

/// A static host asks for `ip`: right address -> ACK, wrong -> NAK, so that a
/// client that became static moves to its address instead of keeping the old
/// one until it expires. `ours` says the server is known to be the one the
/// client is talking to (it selected us, or we leased it the address).
fn verify_static(c: &Ctx<'_>, ip: Ipv4Addr, ours: bool) -> Decision {
    let Some(h) = c.host else {
        return Decision::silent(Outcome::Dropped("no host"));
    };
    let ours = ours || c.leases.get(ip).is_some_and(|l| l.client == c.client);
    if ip == h.ip {
        c.ack(ip)
    } else if ours || c.cfg.server.authoritative {
        c.nak("client has a static address elsewhere")
    } else {
        Decision::silent(Outcome::Ignored("static client asked for another address"))
    }
}

/// INIT-REBOOT, RENEWING and REBINDING: is `ip` right for this client here?
fn verify(c: &Ctx<'_>, ip: Ipv4Addr) -> Decision {
    if !c.subnet.cidr.contains(ip) {
        return c.nak_if_authoritative("requested address is on the wrong network");
    }
    if c.host.is_some() {
        return verify_static(c, ip, false);
    }
    let record = c.leases.get(ip);
    let ours = record.is_some_and(|l| l.client == c.client && l.state != LeaseState::Declined);
    if ours && c.available(ip) {
        return c.ack(ip);
    }
    if record.is_some_and(|l| l.client != c.client && l.is_active(c.now)) {
        return c.nak_if_authoritative("address is leased to another client");
    }
    if c.leases.for_client(&c.client).is_none() {
        // No record of this client. RFC 2131 4.3.2: stay silent, so that a
        // flood of INIT-REBOOTs from random MACs cannot take the pool. A
        // server taking over from another one may adopt such clients on
        // their old addresses (`adopt_rebooting_clients`), but only where it
        // owns the network.
        let adopt = c.cfg.server.authoritative && c.cfg.server.adopt_rebooting_clients;
        return if adopt && c.available(ip) {
            c.ack(ip)
        } else {
            Decision::silent(Outcome::Ignored("no record of this client"))
        };
    }
    c.nak_if_authoritative("address is not available to this client")
}

fn decline(c: &Ctx<'_>) -> Decision {
    if c.addressed_server().is_some_and(|s| s != c.server_id) {
        return Decision::silent(Outcome::Ignored("DECLINE for another server"));
    }
    let Some(ip) = c.req.options.get_ip(code::REQUESTED_IP) else {
        return Decision::silent(Outcome::Dropped("DECLINE without requested address"));
    };
    // RFC 2131 4.3.3: a DECLINE reports that an address the client was
    // ACKed is in use. Only its bound holder may say so: a DECLINE for a
    // mere offer would let two packets quarantine any address.
    let bound_here = c.leases.get(ip).is_some_and(|l| {
        l.client == c.client && l.state == LeaseState::Bound && l.is_active(c.now)
    });
    if !bound_here && c.host.is_none_or(|h| h.ip != ip) {
        return Decision::silent(Outcome::Ignored(
            "DECLINE for an address not bound to this client",
        ));
    }
    if c.host.is_some() {
        // A static address cannot be moved; quarantining it would only lock
        // the host out. The conflict is for the operator to resolve.
        return Decision::silent(Outcome::Declined(ip));
    }
    let mut lease = c.lease(ip, LeaseState::Declined, c.cfg.server.decline_probation);
    lease.hostname = None;
    Decision {
        reply: None,
        effects: vec![Effect::Decline(lease)],
        outcome: Outcome::Declined(ip),
    }
}

fn release(c: &Ctx<'_>) -> Decision {
    if c.addressed_server().is_some_and(|s| s != c.server_id) {
        return Decision::silent(Outcome::Ignored("RELEASE for another server"));
    }
    let ip = c.req.ciaddr;
    match c.leases.get(ip) {
        Some(l) if l.client == c.client && l.state == LeaseState::Bound => {
            let mut gone = l.clone();
            gone.state = LeaseState::Released;
            gone.ends = c.now;
            Decision {
                reply: None,
                effects: vec![Effect::Release(gone)],
                outcome: Outcome::Released(ip),
            }
        }
        _ => Decision::silent(Outcome::Ignored(
            "RELEASE for an address not leased to this client",
        )),
    }
}

fn inform(c: &Ctx<'_>) -> Decision {
    Decision {
        reply: Some(reply::inform_ack(c)),
        effects: Vec::new(),
        outcome: Outcome::Informed,
    }
}

fn bootp(c: &Ctx<'_>) -> Decision {
    // BOOTP has no lease: only clients with a static address are answered.
    match c.host {
        Some(h) => Decision {
            reply: Some(reply::bootp(c, h.ip)),
            effects: Vec::new(),
            outcome: Outcome::BootpReply(h.ip),
        },
        None => Decision::silent(Outcome::Ignored("BOOTP from an unknown client")),
    }
}

/// Lease housekeeping at `now`: holds that ran out are forgotten, bound
/// leases that ran out expire (kept as history so the client gets the same
/// address back), quarantined addresses past probation are freed, observed
/// bindings no sweep renewed are dropped.
pub fn reclaim(leases: &LeaseTable, now: UnixTime) -> Vec<Effect> {
    reclaim_after(leases, now, 0)
}

/// [`reclaim`], with bound leases expiring only once `grace` seconds past
/// their end (`expiry_grace`): until then the address is still the
/// client's.
pub fn reclaim_after(leases: &LeaseTable, now: UnixTime, grace: u64) -> Vec<Effect> {
    // The table's time index yields only what ran out: no full scan (a
    // lease in its grace is looked at again each time until it expires).
    leases
        .ending_by(now)
        .filter_map(|l| match l.state {
            LeaseState::Offered => Some(Effect::Forget(l.ip)),
            LeaseState::Bound if now < l.ends.saturating_add(grace) => None,
            LeaseState::Bound => {
                let mut e = l.clone();
                e.state = LeaseState::Expired;
                Some(Effect::Expire(e))
            }
            LeaseState::Declined => Some(Effect::Unquarantine(l.ip)),
            LeaseState::Observed => Some(Effect::Unobserve(l.ip)),
            LeaseState::Released | LeaseState::Expired => None,
        })
        .collect()
}

/// Applies effects to the in-memory table, in order. Which of them the store
/// must record is the commit path's business ([`Effect::is_durable`]).
pub fn apply(table: &mut LeaseTable, effects: &[Effect]) {
    for e in effects {
        match e {
            Effect::Hold(l)
            | Effect::Bind(l)
            | Effect::Release(l)
            | Effect::Decline(l)
            | Effect::Expire(l)
            | Effect::Observe(l) => table.insert(l.clone()),
            Effect::Forget(ip) => {
                if table
                    .get(*ip)
                    .is_some_and(|l| l.state == LeaseState::Offered)
                {
                    table.remove(*ip);
                }
            }
            Effect::Unquarantine(ip) => {
                table.remove(*ip);
            }
            Effect::Unobserve(ip) => {
                if table
                    .get(*ip)
                    .is_some_and(|l| l.state == LeaseState::Observed)
                {
                    table.remove(*ip);
                }
            }
        }
    }
}
