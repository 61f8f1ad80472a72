//! `explain`: what the server would do for a client, without doing it. The
//! same context, address choice and option resolution as a DISCOVER, over
//! the current state, returning what was decided and why instead of
//! effects: which host, subnet, range and classes match, the address it
//! would get, every option with the scope its value came from, and the boot
//! fields.

use std::net::Ipv4Addr;

use super::reply::{boot, scopes, vendor_space, with_vendor_scope};
use super::{Outcome, Request, View, class, context, discover};
use crate::addr::{Cidr, Range};
use crate::lease::UnixTime;
use crate::options::{self, OptionKey, Space};

/// One option the client would get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// `dhcp`, or the vendor space of a sub-option of option 43.
    pub space: String,
    /// The code in that space.
    pub code: u8,
    /// Its catalogue name (`option-N` for one the catalogue lacks).
    pub name: String,
    /// The value as hooks and the ctl show it.
    pub value: String,
    /// The scope it came from: `global`, `subnet`, `class NAME`, `host`.
    pub source: String,
}

/// What the server would do for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The client's subnet, if the server serves it.
    pub subnet: Option<Cidr>,
    /// Its static host, by name.
    pub host: Option<String>,
    /// Its classes, in declaration order.
    pub classes: Vec<String>,
    /// The address it would be offered.
    pub address: Option<Ipv4Addr>,
    /// The dynamic range that address is in.
    pub range: Option<Range>,
    /// What a DISCOVER would come to (`offered 192.0.2.100`, `ignored: ...`).
    pub outcome: String,
    /// siaddr.
    pub next_server: Option<Ipv4Addr>,
    /// The BOOTP `file` field, filled.
    pub filename: Option<String>,
    /// The BOOTP `sname` field, filled.
    pub server_name: Option<String>,
    /// Every option that would be sent with no parameter request list (all
    /// that is configured), most specific scope first; option 43's
    /// sub-options follow it, in their space.
    pub options: Vec<Explained>,
}

/// Explains `req` (a DISCOVER built from what the operator knows of the
/// client) against `view` at `now`. Pure, like [`super::handle`].
pub fn explain(view: &View<'_>, req: &Request<'_>, now: UnixTime) -> Explanation {
    let (ctx, _) = match context(view, req, now) {
        Ok(found) => found,
        Err(outcome) => {
            return Explanation {
                subnet: None,
                host: None,
                classes: Vec::new(),
                address: None,
                range: None,
                outcome: outcome.to_string(),
                next_server: None,
                filename: None,
                server_name: None,
                options: Vec::new(),
            };
        }
    };
    let decision = discover(&ctx);
    // A never-used address is probed before its first offer: it is still
    // the address the client would get (unless the probe is answered).
    let address = match decision.outcome {
        Outcome::Offered(ip) | Outcome::Probe(ip) => Some(ip),
        _ => None,
    };
    let facts = class::facts(&ctx, address);
    let b = boot(&ctx, &facts);
    let cat = &ctx.cfg.catalogue;
    let host_name = super::reply::host_name(&ctx);
    let base = scopes(&ctx, address.unwrap_or(Ipv4Addr::UNSPECIFIED), &host_name);
    let encapsulated = super::reply::vendor_encapsulated(&ctx, &base, &facts);
    let all = with_vendor_scope(&ctx, base.clone(), &encapsulated);
    let mut explained = Vec::new();
    for chosen in options::resolve(&all, None) {
        let Some(data) = chosen.encode(&facts) else {
            continue;
        };
        let def = cat.get(&OptionKey::dhcp(chosen.code));
        explained.push(Explained {
            space: "dhcp".into(),
            code: chosen.code,
            name: def.map_or_else(|| format!("option-{}", chosen.code), |d| d.name.to_string()),
            value: def.map_or_else(
                || options::render(chosen.code, &data),
                |d| options::render_as(d.kind, &data),
            ),
            source: chosen.source.to_string(),
        });
        if chosen.code == options::code::VENDOR_ENCAPSULATED
            && let Some((space, _)) = vendor_space(&ctx)
        {
            for sub in options::resolve_space(&base, space) {
                let Some(data) = sub.encode(&facts) else {
                    continue;
                };
                let key = OptionKey {
                    space: Space::Vendor(space.to_string()),
                    code: sub.code,
                };
                let def = cat.get(&key);
                explained.push(Explained {
                    space: space.to_string(),
                    code: sub.code,
                    name: def
                        .map_or_else(|| format!("option-{}", sub.code), |d| d.name.to_string()),
                    value: def.map_or_else(
                        || options::render_as(options::OptionKind::Hex, &data),
                        |d| options::render_as(d.kind, &data),
                    ),
                    source: sub.source.to_string(),
                });
            }
        }
    }
    Explanation {
        subnet: Some(ctx.subnet.cidr),
        host: ctx.host.map(|h| h.name.clone()),
        classes: ctx.classes.iter().map(|c| c.name.clone()).collect(),
        address,
        range: address.and_then(|ip| ctx.subnet.ranges.iter().find(|r| r.contains(ip)).copied()),
        outcome: decision.outcome.to_string(),
        next_server: b.next_server,
        filename: b.filename,
        server_name: b.server_name,
        options: explained,
    }
}
