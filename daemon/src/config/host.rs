//! `[[host]]` entries: each one's identity and address, unique across
//! hosts and outside the dynamic pools.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::net::Ipv4Addr;
use std::ops::Range as Span;

use berth_proto::parse;

use super::boot::boot_fields;
use super::field::{ip, option_set};
use super::raw::RawHost;
use super::subnet::Pools;
use super::{Host, HostId, Reporter};
use crate::addr::MacAddr;
use crate::options::{self, Catalogue, code};

/// First claimant of a unique value: the host's name and where it claimed it.
type Claims<K> = HashMap<K, (String, Span<usize>)>;

/// Claim `key` for host `name`; if another host has it, report at `span`
/// with `what` (e.g. "MAC 00:..") naming both hosts and the first's line.
fn claim<K: Hash + Eq>(
    report: &mut Reporter<'_>,
    claims: &mut Claims<K>,
    key: K,
    what: &str,
    name: &str,
    span: Span<usize>,
) -> bool {
    match claims.entry(key) {
        Entry::Occupied(first) => {
            let (first_name, first_span) = first.get();
            let line = report.line(first_span);
            report.error(
                span,
                format!(
                    "{what} of host `{name}` is already used by host `{first_name}` (line {line})"
                ),
            );
            false
        }
        Entry::Vacant(slot) => {
            slot.insert((name.to_string(), span));
            true
        }
    }
}

/// Every `[[host]]` entry; names, MACs, client ids and addresses are
/// unique, and an address is a subnet's, outside its pools.
pub(super) fn hosts(
    raw: &[(Span<usize>, RawHost)],
    pools: &Pools,
    cat: &Catalogue,
    report: &mut Reporter<'_>,
) -> Vec<Host> {
    let mut names: HashMap<String, Span<usize>> = HashMap::new();
    let mut macs: Claims<MacAddr> = HashMap::new();
    let mut client_ids: Claims<Vec<u8>> = HashMap::new();
    let mut ips: Claims<Ipv4Addr> = HashMap::new();
    let mut hosts = Vec::new();

    for (entry_span, rh) in raw {
        let name = rh.name.get_ref().trim().to_string();
        if let Err(e) = parse::check_hostname(&name) {
            report.error(rh.name.span(), format!("name: {e}"));
        } else if let Some(first) = names.get(&name) {
            let line = report.line(first);
            report.error(
                rh.name.span(),
                format!("duplicate host name `{name}` (first defined on line {line})"),
            );
        } else {
            names.insert(name.clone(), rh.name.span());
        }

        let id = match (&rh.mac, &rh.client_id) {
            (Some(_), Some(cid)) => {
                report.error(
                    cid.span(),
                    format!("host `{name}` sets both `mac` and `client_id`; set exactly one"),
                );
                None
            }
            (None, None) => {
                report.error(
                    entry_span.clone(),
                    format!("host `{name}` needs a `mac` or a `client_id`"),
                );
                None
            }
            (Some(mac), None) => match mac.get_ref().trim().parse::<MacAddr>() {
                Ok(m) => claim(report, &mut macs, m, &format!("MAC {m}"), &name, mac.span())
                    .then_some(HostId::Mac(m)),
                Err(e) => {
                    report.error(mac.span(), format!("mac: {e}"));
                    None
                }
            },
            (None, Some(cid)) => match options::parse_hex(cid.get_ref()) {
                // RFC 2132 section 9.14: type byte plus at least one byte.
                Ok(bytes) if bytes.len() < 2 => {
                    report.error(
                        cid.span(),
                        "client_id: must be at least 2 bytes (a type byte and the identifier)",
                    );
                    None
                }
                Ok(bytes) => {
                    let shown = options::render(code::CLIENT_ID, &bytes);
                    claim(
                        report,
                        &mut client_ids,
                        bytes.clone(),
                        &format!("client_id {shown}"),
                        &name,
                        cid.span(),
                    )
                    .then_some(HostId::ClientId(bytes))
                }
                Err(e) => {
                    report.error(cid.span(), format!("client_id: {e}"));
                    None
                }
            },
        };

        let address = ip(report, "ip", &rh.ip);
        if let Some(addr) = address {
            check_host_ip(report, pools, &name, addr, rh.ip.span());
            claim(
                report,
                &mut ips,
                addr,
                &format!("address {addr}"),
                &name,
                rh.ip.span(),
            );
        }

        let (next_server, file, server_name) =
            boot_fields(report, [&rh.next_server, &rh.filename, &rh.server_name]);
        let (options, vendor) = option_set(rh.options.as_ref(), cat, report);

        if let (Some(id), Some(ip)) = (id, address) {
            hosts.push(Host {
                name,
                id,
                ip,
                options,
                next_server,
                filename: file,
                server_name,
                vendor,
            });
        }
    }
    hosts
}

/// A static address must be in a subnet we serve, must not be its network
/// or broadcast address, and must not be in a dynamic pool (or it could be
/// leased to someone else).
fn check_host_ip(
    report: &mut Reporter<'_>,
    pools: &Pools,
    name: &str,
    addr: Ipv4Addr,
    span: Span<usize>,
) {
    match pools.subnets.iter().find(|s| s.cidr.contains(addr)) {
        None if pools.complete => report.error(
            span.clone(),
            format!("host `{name}` address {addr} is not inside any subnet"),
        ),
        None => {}
        Some(subnet) if subnet.cidr.has_reserved_ends() && addr == subnet.cidr.network => report
            .error(
                span.clone(),
                format!(
                    "host `{name}` address {addr} is the network address of subnet {}",
                    subnet.cidr
                ),
            ),
        Some(subnet) if subnet.cidr.has_reserved_ends() && addr == subnet.cidr.broadcast() => {
            report.error(
                span.clone(),
                format!(
                    "host `{name}` address {addr} is the broadcast address of subnet {}",
                    subnet.cidr
                ),
            )
        }
        Some(_) => {}
    }
    // An address excluded from its range is not dynamic: a host may have it.
    let excluded = pools
        .subnets
        .iter()
        .flat_map(|s| &s.policies)
        .any(|p| p.excludes(addr));
    if let Some((range, range_span)) = pools
        .ranges()
        .find(|(r, _)| r.contains(addr))
        .filter(|_| !excluded)
    {
        let line = report.line(range_span);
        report.error(
            span,
            format!(
                "host `{name}` address {addr} is inside the dynamic range {range} (line {line}); \
                 a static address must be outside the pools"
            ),
        );
    }
}
