//! `explain` on the core: the operator's description of a client made into
//! a DISCOVER and explained by the engine against the current state.
//! Nothing is held, written or published.

use std::net::Ipv4Addr;

use berth_proto as proto;
use berth_proto::{ApiError, ErrorKind};

use super::Core;
use crate::addr::MacAddr;
use crate::engine;
use crate::lease::UnixTime;
use crate::packet::{MessageType, Packet, code};

/// The DISCOVER `req` describes.
pub(crate) fn packet(req: &proto::ExplainRequest) -> Result<Packet, ApiError> {
    let mac: MacAddr = req
        .mac
        .parse()
        .map_err(|e| ApiError::new(ErrorKind::Invalid, format!("mac: {e}")))?;
    let mut p = Packet::request(mac, MessageType::Discover, 0);
    fn text(s: &Option<String>) -> Option<&[u8]> {
        s.as_ref().filter(|s| !s.is_empty()).map(|s| s.as_bytes())
    }
    let too_long =
        |what: &str| ApiError::new(ErrorKind::Invalid, format!("{what}: over 255 bytes"));
    if let Some(v) = text(&req.vendor_class) {
        p.options.set_bytes(code::VENDOR_CLASS, v);
    }
    if let Some(u) = text(&req.user_class) {
        let len = u8::try_from(u.len()).map_err(|_| too_long("user class"))?;
        let mut data = vec![len];
        data.extend_from_slice(u);
        p.options.set_bytes(77, &data);
    }
    if let Some(h) = text(&req.hostname) {
        p.options.set_bytes(code::HOST_NAME, h);
    }
    let mut relay_info = Vec::new();
    for (sub, value, what) in [
        (1u8, &req.circuit_id, "circuit id"),
        (2u8, &req.remote_id, "remote id"),
    ] {
        if let Some(v) = text(value) {
            relay_info.push(sub);
            relay_info.push(u8::try_from(v.len()).map_err(|_| too_long(what))?);
            relay_info.extend_from_slice(v);
        }
    }
    if !relay_info.is_empty() {
        p.options.set_bytes(code::RELAY_AGENT_INFO, &relay_info);
    }
    if let Some(relay) = req.relay {
        p.giaddr = relay;
        p.hops = 1;
    }
    Ok(p)
}

impl Core {
    /// `explain`: what a DISCOVER from this client would get now.
    pub(crate) fn explain(
        &self,
        req: &proto::ExplainRequest,
        now: UnixTime,
    ) -> Result<proto::Explanation, ApiError> {
        let p = packet(req)?;
        let iface = match &req.interface {
            Some(name) => self.interfaces.iter().find(|i| &i.name == name),
            None => self.interfaces.first(),
        }
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::NotFound,
                match &req.interface {
                    Some(name) => format!("berthd does not serve interface `{name}`"),
                    None => "berthd serves no interface".to_string(),
                },
            )
        })?;
        let e = engine::explain(
            &self.view(),
            &engine::Request {
                packet: &p,
                interface: iface,
            },
            now,
        );
        Ok(answer(&p, &iface.name, e))
    }
}

fn answer(p: &Packet, interface: &str, e: engine::Explanation) -> proto::Explanation {
    proto::Explanation {
        mac: p.mac().map(|m| m.to_string()).unwrap_or_default(),
        interface: interface.to_string(),
        subnet: e.subnet.map(|s| s.to_string()),
        host: e.host,
        classes: e.classes,
        address: e.address,
        range: e.range.map(|r| format!("{}-{}", r.start, r.end)),
        outcome: e.outcome,
        next_server: e.next_server.filter(|ip| *ip != Ipv4Addr::UNSPECIFIED),
        filename: e.filename,
        server_name: e.server_name,
        options: e
            .options
            .into_iter()
            .map(|o| proto::ExplainedOption {
                space: o.space,
                code: o.code,
                name: o.name,
                value: o.value,
                source: o.source,
            })
            .collect(),
    }
}
