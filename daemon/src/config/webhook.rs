//! `[[webhook]]`: where to POST which events, and its validation. Plain
//! HTTP/1.1 only: an `https://` URL is refused with a clear message.

use berth_proto::EventKind;

use super::Reporter;
use super::field::duration;
use super::raw_webhook::RawWebhook;

/// One validated `[[webhook]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The URL as written (for messages).
    pub url: String,
    /// Host name or address to connect to.
    pub host: String,
    pub port: u16,
    /// Request target, starting with `/`.
    pub path: String,
    /// The events it is told about.
    pub events: Vec<EventKind>,
    /// Extra request headers, in file order of names.
    pub headers: Vec<(String, String)>,
    /// Seconds one delivery attempt may take, connect to response.
    pub timeout: u32,
    /// Notifications waiting at most; beyond it the oldest are dropped.
    pub queue: usize,
    /// Attempts per notification before it is dropped; `None`: retried
    /// until it is delivered or pushed out of the queue.
    pub retries: Option<u32>,
    /// The longest wait between two attempts (the backoff doubles from 1s).
    pub max_backoff: u32,
}

impl Webhook {
    /// Default `timeout`: 5s.
    pub const TIMEOUT: u32 = 5;
    /// Default `queue`.
    pub const QUEUE: usize = 10_000;
    /// Default `max_backoff`: 1m.
    pub const MAX_BACKOFF: u32 = 60;

    /// Whether it wants events of `kind`.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.contains(&kind)
    }
}

/// The event names a webhook accepts: every event kind, and `commit` for
/// both `ack` and `renew` (ISC's "on commit").
fn kinds(name: &str) -> Option<Vec<EventKind>> {
    if name == "commit" {
        return Some(vec![EventKind::Ack, EventKind::Renew]);
    }
    ALL.iter().find(|k| k.as_str() == name).map(|k| vec![*k])
}

/// Every event kind a webhook may ask for.
const ALL: &[EventKind] = &[
    EventKind::Arrival,
    EventKind::Offer,
    EventKind::Ack,
    EventKind::Renew,
    EventKind::Nak,
    EventKind::Decline,
    EventKind::Release,
    EventKind::Expiry,
    EventKind::Promote,
    EventKind::Block,
    EventKind::Unblock,
    EventKind::HostAdded,
    EventKind::HostUpdated,
    EventKind::HostRemoved,
    EventKind::Reload,
    EventKind::HookResult,
    EventKind::Flood,
    EventKind::WebhookDropped,
    EventKind::ClockJump,
];

/// Headers the delivery writes itself.
const OWN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "connection",
    "transfer-encoding",
];

/// Validates the `[[webhook]]` entries.
pub(super) fn build(
    raw: &[(std::ops::Range<usize>, RawWebhook)],
    report: &mut Reporter<'_>,
) -> Vec<Webhook> {
    raw.iter().filter_map(|(_, w)| one(w, report)).collect()
}

fn one(raw: &RawWebhook, report: &mut Reporter<'_>) -> Option<Webhook> {
    let target = parse_url(raw.url.get_ref())
        .map_err(|e| report.error(raw.url.span(), format!("url: {e}")))
        .ok();
    let mut events = Vec::new();
    if raw.events.get_ref().is_empty() {
        report.error(
            raw.events.span(),
            "events: is empty; list the events to send, like [\"arrival\"]",
        );
    }
    for name in raw.events.get_ref() {
        match kinds(name.get_ref().trim()) {
            Some(ks) => {
                for k in ks {
                    if !events.contains(&k) {
                        events.push(k);
                    }
                }
            }
            None => report.error(
                name.span(),
                format!(
                    "events: unknown event `{}`; known: commit, {}",
                    name.get_ref(),
                    ALL.iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    let mut headers = Vec::new();
    let mut entries: Vec<_> = raw.headers.iter().flatten().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (name, value) in entries {
        let n = name.get_ref();
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if n.is_empty() || !n.chars().all(token) {
            report.error(name.span(), format!("headers: `{n}` is not a header name"));
        } else if OWN_HEADERS.contains(&n.to_ascii_lowercase().as_str()) {
            report.error(
                name.span(),
                format!("headers: `{n}` is set by berthd itself"),
            );
        } else if value.get_ref().chars().any(|c| c.is_control() && c != '\t') {
            report.error(
                value.span(),
                format!("headers: the value of `{n}` holds a control character"),
            );
        } else {
            headers.push((n.clone(), value.get_ref().clone()));
        }
    }
    let secs = |report: &mut Reporter<'_>, field, v: &Option<_>, default| match v {
        Some(v) => match duration(report, field, v) {
            Some(0) => {
                report.error(v.span(), format!("{field}: must be at least 1s"));
                None
            }
            other => other,
        },
        None => Some(default),
    };
    let timeout = secs(report, "timeout", &raw.timeout, Webhook::TIMEOUT);
    let max_backoff = secs(
        report,
        "max_backoff",
        &raw.max_backoff,
        Webhook::MAX_BACKOFF,
    );
    let queue = match &raw.queue {
        None => Some(Webhook::QUEUE),
        Some(q) => match usize::try_from(*q.get_ref()) {
            Ok(n) if (1..=1_000_000).contains(&n) => Some(n),
            _ => {
                report.error(
                    q.span(),
                    format!("queue: {} is not between 1 and 1000000", q.get_ref()),
                );
                None
            }
        },
    };
    let retries = match &raw.retries {
        None => Some(None),
        Some(r) => match u32::try_from(*r.get_ref()) {
            Ok(n) if n >= 1 => Some(Some(n)),
            _ => {
                report.error(
                    r.span(),
                    format!(
                        "retries: {} is not a number of attempts (1 or more)",
                        r.get_ref()
                    ),
                );
                None
            }
        },
    };
    let (host, port, path) = target?;
    Some(Webhook {
        url: raw.url.get_ref().clone(),
        host,
        port,
        path,
        events,
        headers,
        timeout: timeout?,
        queue: queue?,
        retries: retries?,
        max_backoff: max_backoff?,
    })
}

/// `http://host[:port][/path]` as (host, port, path).
pub(crate) fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(
            "https:// is not supported: berthd's webhooks speak plain HTTP/1.1 without TLS; \
             use http:// (for example to a TLS-terminating proxy on the same host)"
                .to_string(),
        );
    }
    let Some(rest) = lower.starts_with("http://").then(|| &url[7..]) else {
        return Err(format!("`{url}` is not an http:// URL"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.contains('@') {
        return Err("user information in the URL is not supported; use `headers`".to_string());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6.split_once(']').ok_or("unclosed `[` in the host")?;
        (h.to_string(), tail.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    let port = match port {
        None => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("`{p}` is not a port"))?,
    };
    if path.chars().any(|c| c.is_control() || c == ' ') {
        return Err("the path holds spaces or control characters".to_string());
    }
    Ok((host, port, path))
}
