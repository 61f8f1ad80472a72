//! The rows each view shows, after filtering and sorting. Shared by the
//! update function (cursor movement, the target of an action) and the views,
//! so both always agree on what row N is.
use berth_proto::{EventKind, HostInfo, LeaseInfo, Origin, PoolInfo, QuarantineInfo};

use super::model::{FeedEntry, FeedItem, Model, View};

/// Whether any of `fields` contains `filter`, ignoring case. An empty filter
/// matches everything.
pub fn matches<'a>(filter: &str, fields: impl IntoIterator<Item = &'a str>) -> bool {
    if filter.is_empty() {
        return true;
    }
    let needle = filter.to_lowercase();
    fields
        .into_iter()
        .any(|f| f.to_lowercase().contains(&needle))
}

/// The leases view's rows (cached by [`super::lease_set::LeaseSet`]
/// until the leases, the filter or the sort change).
pub fn leases(m: &Model) -> Vec<&LeaseInfo> {
    m.leases.view(&m.filter, m.sort, m.sort_desc)
}

/// The hosts view's rows, by address.
pub fn hosts(m: &Model) -> Vec<&HostInfo> {
    let mut rows: Vec<&HostInfo> = m
        .hosts
        .iter()
        .filter(|h| {
            let ip = h.ip.to_string();
            let opts: Vec<String> = h.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
            matches(
                &m.filter,
                [
                    h.name.as_str(),
                    h.mac.as_deref().unwrap_or(""),
                    h.client_id.as_deref().unwrap_or(""),
                    ip.as_str(),
                    origin_name(h.origin),
                ]
                .into_iter()
                .chain(opts.iter().map(String::as_str)),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.ip.cmp(&b.ip).then(a.name.cmp(&b.name)));
    rows
}

/// The pools view's rows, as the daemon ordered them.
pub fn pools(m: &Model) -> Vec<&PoolInfo> {
    m.pools
        .iter()
        .filter(|p| {
            let start = p.start.to_string();
            let end = p.end.to_string();
            matches(&m.filter, [p.subnet.as_str(), start.as_str(), end.as_str()])
        })
        .collect()
}

/// The arrivals feed's rows, newest first.
pub fn feed(m: &Model) -> Vec<&FeedItem> {
    m.feed
        .iter()
        .filter(|item| match &item.entry {
            FeedEntry::Note { text, .. } => matches(&m.filter, [text.as_str()]),
            FeedEntry::Event(e) => {
                let ip = e.ip.map(|a| a.to_string()).unwrap_or_default();
                matches(
                    &m.filter,
                    [
                        e.kind.as_str(),
                        e.mac.as_deref().unwrap_or(""),
                        ip.as_str(),
                        e.hostname.as_deref().unwrap_or(""),
                        e.vendor_class.as_deref().unwrap_or(""),
                        e.interface.as_deref().unwrap_or(""),
                        e.detail.as_str(),
                    ],
                )
            }
        })
        .collect()
}

/// The quarantine view's rows, by address.
pub fn quarantine(m: &Model) -> Vec<&QuarantineInfo> {
    m.quarantine
        .iter()
        .filter(|q| {
            let ip = q.ip.to_string();
            matches(
                &m.filter,
                [
                    ip.as_str(),
                    q.reason.as_str(),
                    q.mac.as_deref().unwrap_or(""),
                    q.subnet.as_deref().unwrap_or(""),
                ],
            )
        })
        .collect()
}

/// Whether an event is a hook's or a webhook's outcome.
pub fn is_hook_outcome(kind: EventKind) -> bool {
    matches!(kind, EventKind::HookResult | EventKind::WebhookDropped)
}

/// The hooks view's rows: hook results and webhook drops from the feed,
/// newest first.
pub fn hooks(m: &Model) -> Vec<&FeedItem> {
    feed(m)
        .into_iter()
        .filter(|i| matches!(&i.entry, FeedEntry::Event(e) if is_hook_outcome(e.kind)))
        .collect()
}

/// How a host's origin is written.
pub fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::Config => "config",
        Origin::Store => "store",
    }
}

/// Index of the selected row in the current rows of `view` (0 when the
/// selection is unset or no longer visible).
pub fn selected_index(m: &Model, view: View) -> usize {
    let found = match view {
        View::Arrivals => m
            .sel_feed
            .and_then(|id| feed(m).iter().position(|i| i.id == id)),
        View::Leases => m.sel_lease.as_ref().and_then(|(ip, mac)| {
            let rows = leases(m);
            rows.iter()
                .position(|l| l.ip == *ip && l.mac == *mac)
                .or_else(|| rows.iter().position(|l| l.mac == *mac))
        }),
        View::Hosts => m
            .sel_host
            .as_ref()
            .and_then(|n| hosts(m).iter().position(|h| &h.name == n)),
        View::Pools => m
            .sel_pool
            .and_then(|s| pools(m).iter().position(|p| p.start == s)),
        View::Quarantine => m
            .sel_quarantine
            .and_then(|a| quarantine(m).iter().position(|q| q.ip == a)),
        View::Hooks => m
            .sel_hook
            .and_then(|id| hooks(m).iter().position(|i| i.id == id)),
    };
    found.unwrap_or(0)
}

/// Number of rows `view` shows.
pub fn row_count(m: &Model, view: View) -> usize {
    match view {
        View::Arrivals => feed(m).len(),
        View::Leases => leases(m).len(),
        View::Hosts => hosts(m).len(),
        View::Pools => pools(m).len(),
        View::Quarantine => quarantine(m).len(),
        View::Hooks => hooks(m).len(),
    }
}
