//! "Did you mean" hints for option names.

use super::catalogue::{all, by_name};

/// Names operators commonly reach for that are not ISC names, mapped to the
/// ISC name. Only used to make "did you mean" hints better; never accepted.
const ALIASES: &[(&str, &str)] = &[
    ("dns", "domain-name-servers"),
    ("dns-servers", "domain-name-servers"),
    ("nameservers", "domain-name-servers"),
    ("name-servers", "domain-name-servers"),
    ("gateway", "routers"),
    ("gateways", "routers"),
    ("default-gateway", "routers"),
    ("netmask", "subnet-mask"),
    ("mtu", "interface-mtu"),
    ("search", "domain-search"),
    ("ntp", "ntp-servers"),
    ("tftp-server", "tftp-server-name"),
    ("bootfile", "bootfile-name"),
    ("filename", "bootfile-name"),
    ("wins-servers", "netbios-name-servers"),
    ("rfc3442-classless-static-routes", "classless-static-routes"),
];

/// The known option name closest to `name`, for "did you mean" hints.
pub fn suggest(name: &str) -> Option<&'static str> {
    // Underscores and capitals are the commonest slips (hook variables use
    // underscores), so compare in ISC's own spelling first.
    let normal = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    if let Some(d) = by_name(&normal) {
        return Some(d.name.as_ref());
    }
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == normal) {
        return Some(to);
    }
    let (best, distance) = all()
        .iter()
        .map(|d| (d.name.as_ref(), edit_distance(&normal, &d.name)))
        .min_by_key(|(_, dist)| *dist)?;
    // Beyond about a third of the word the "closest" name is a guess, not a hint.
    if distance <= 2.max(normal.len() / 3) {
        Some(best)
    } else {
        None
    }
}

/// Levenshtein distance over bytes (names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
