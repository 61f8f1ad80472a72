//! Paging for list calls: no reply comes near [`crate::MAX_FRAME_BYTES`],
//! whatever the size of the table behind it.
//!
//! A caller asks for a [`PageRequest`] and gets a [`Page`]; it passes the
//! page's `next` cursor back as `after` until `next` is `None`. Cursors are
//! opaque strings the daemon makes (typically the sort key of the last item
//! sent), so a page boundary stays right while the table changes between
//! calls: an item is never sent twice, and an item present for the whole
//! walk is always sent once.

use serde::{Deserialize, Serialize};

/// Most items one page holds, whatever the caller asks.
pub const MAX_PAGE_ITEMS: u32 = 2_000;

/// Bytes of JSON a page stops at (before the item that would cross it), so a
/// page of long client strings stays far below the frame limit too.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Which page of a list to send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// The `next` cursor of the previous page; `None` for the first page.
    pub after: Option<String>,
    /// Most items wanted; 0 or more than [`MAX_PAGE_ITEMS`] means that maximum.
    pub limit: u32,
}

impl PageRequest {
    /// The first page, as large as the daemon allows.
    pub fn first() -> Self {
        PageRequest::default()
    }

    /// The page after `cursor`.
    pub fn after(cursor: impl Into<String>) -> Self {
        PageRequest {
            after: Some(cursor.into()),
            limit: 0,
        }
    }

    /// The item count the daemon sends at most for this request.
    pub fn effective_limit(&self) -> usize {
        match self.limit {
            0 => MAX_PAGE_ITEMS as usize,
            n => n.min(MAX_PAGE_ITEMS) as usize,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back as [`PageRequest::after`] for the rest; `None` on the last page.
    pub next: Option<String>,
    /// How many items the whole list held when this page was made (all
    /// pages, after filtering), for progress and scroll bars.
    pub total: u64,
}

impl<T> Page<T> {
    /// The request for the page after this one; `None` on the last page.
    pub fn next_request(&self, limit: u32) -> Option<PageRequest> {
        self.next.as_ref().map(|c| PageRequest {
            after: Some(c.clone()),
            limit,
        })
    }

    /// A page that is the whole list.
    pub fn whole(items: Vec<T>) -> Self {
        let total = items.len() as u64;
        Page {
            items,
            next: None,
            total,
        }
    }
}

/// Every item of a paged list, walked from the first page with `fetch`
/// (a call such as `|p| client.hosts(ctx, p)`): for lists a caller needs
/// whole (a MAC's leases, the hosts); large lists are better streamed page
/// by page. The outer error is the transport's, the inner the daemon's.
pub async fn collect_all<T, E, Fut>(
    mut fetch: impl FnMut(PageRequest) -> Fut,
) -> Result<Result<Vec<T>, crate::ApiError>, E>
where
    Fut: std::future::Future<Output = Result<Result<Page<T>, crate::ApiError>, E>>,
{
    let mut out = Vec::new();
    let mut req = PageRequest::first();
    loop {
        let page = match fetch(req).await? {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let next = page.next_request(0);
        out.extend(page.items);
        match next {
            Some(r) => req = r,
            None => return Ok(Ok(out)),
        }
    }
}

/// Counts the bytes serde_json would write, without keeping them.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `item` as JSON (0 if it cannot be written, which no list
/// item of this API does).
pub fn json_len<T: Serialize>(item: &T) -> usize {
    let mut n = ByteCount(0);
    match serde_json::to_writer(&mut n, item) {
        Ok(()) => n.0,
        Err(_) => 0,
    }
}

/// Builds one page: the one rule for every list call, shared by the daemon
/// and the TUI's fake daemon.
///
/// `items` are the list's items after `req.after`, in cursor order (the
/// caller seeks past the cursor, e.g. with a range over an ordered index,
/// so nothing before it is touched). The page takes up to
/// [`PageRequest::effective_limit`] of them and stops before the one that
/// would take it past [`MAX_PAGE_BYTES`] of JSON; it holds at least one
/// item, so a walk always progresses. `next` is `cursor` of its last item
/// when anything follows it. Only one item past the page is looked at.
pub fn build_page<T: Serialize>(
    items: impl IntoIterator<Item = T>,
    req: &PageRequest,
    total: u64,
    cursor: impl Fn(&T) -> String,
) -> Page<T> {
    let limit = req.effective_limit();
    let mut items = items.into_iter().peekable();
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while out.len() < limit {
        let Some(item) = items.peek() else { break };
        // One separator per item after the first.
        let size = json_len(item) + 1;
        if !out.is_empty() && bytes + size > MAX_PAGE_BYTES {
            break;
        }
        bytes += size;
        if let Some(item) = items.next() {
            out.push(item);
        }
    }
    let more = items.peek().is_some();
    let next = match out.last() {
        Some(last) if more => Some(cursor(last)),
        _ => None,
    };
    Page {
        items: out,
        next,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn page_of(
        table: &BTreeMap<u32, String>,
        req: &PageRequest,
    ) -> Result<Page<(u32, String)>, std::num::ParseIntError> {
        let after = req.after.as_deref().map(str::parse::<u32>).transpose()?;
        let from = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let items = table
            .range((from, std::ops::Bound::Unbounded))
            .map(|(k, v)| (*k, v.clone()));
        Ok(build_page(items, req, table.len() as u64, |(k, _)| {
            k.to_string()
        }))
    }

    fn walk(
        table: &mut BTreeMap<u32, String>,
        limit: u32,
        mut between: impl FnMut(&mut BTreeMap<u32, String>),
    ) -> Vec<u32> {
        let mut req = PageRequest { after: None, limit };
        let mut seen = Vec::new();
        loop {
            let page = page_of(table, &req).expect("cursor");
            seen.extend(page.items.iter().map(|(k, _)| *k));
            match page.next_request(limit) {
                Some(r) => req = r,
                None => return seen,
            }
            between(table);
        }
    }

    #[test]
    fn a_walk_sends_each_item_once_in_order() {
        let mut t: BTreeMap<u32, String> = (0..25).map(|k| (k * 2, "x".into())).collect();
        let seen = walk(&mut t, 10, |_| {});
        assert_eq!(seen, (0..25).map(|k| k * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_last_page_has_no_next() {
        let t: BTreeMap<u32, String> = (0..10).map(|k| (k, "x".into())).collect();
        let p = page_of(
            &t,
            &PageRequest {
                after: None,
                limit: 10,
            },
        )
        .expect("page");
        assert_eq!((p.items.len(), p.next, p.total), (10, None, 10));
        let p = page_of(
            &t,
            &PageRequest {
                after: None,
                limit: 9,
            },
        )
        .expect("page");
        assert_eq!(p.next.as_deref(), Some("8"));
    }

    #[test]
    fn items_added_and_removed_between_pages_do_not_disturb_the_walk() {
        let mut t: BTreeMap<u32, String> = (0..100).map(|k| (k * 10, "x".into())).collect();
        let mut round = 0;
        let seen = walk(&mut t, 7, |t| {
            round += 1;
            // Remove an item already sent and one not sent yet, add some
            // before and after the cursor.
            t.remove(&(round * 70 - 70));
            t.remove(&(round * 70 + 500));
            t.insert(round * 70 - 65, "new behind".into());
            t.insert(round * 70 + 995, "new ahead".into());
        });
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, seen, "in order, none twice");
        // Every original item that stayed for the whole walk was sent.
        for k in (0..100).map(|k| k * 10) {
            if t.contains_key(&k) {
                assert!(seen.contains(&k), "{k} present throughout but not sent");
            }
        }
    }

    #[test]
    fn a_page_stops_at_the_byte_limit_with_long_strings() {
        // 255-byte client strings of control bytes: six JSON bytes each.
        let long: String = std::iter::repeat_n('\u{1}', 255).collect();
        let t: BTreeMap<u32, String> = (0..2_000).map(|k| (k, long.clone())).collect();
        let first = page_of(&t, &PageRequest::first()).expect("page");
        let size = json_len(&first.items);
        assert!(size <= MAX_PAGE_BYTES, "{size} bytes");
        assert!(first.items.len() < 2_000 && first.items.len() > 500);
        let cursor = first.next.clone().expect("more follow");
        assert_eq!(
            cursor,
            first
                .items
                .last()
                .map(|(k, _)| k.to_string())
                .expect("item")
        );
        let all = walk(&mut t.clone(), 0, |_| {});
        assert_eq!(all.len(), 2_000);
    }

    #[test]
    fn one_oversized_item_still_makes_a_page() {
        let huge = "x".repeat(MAX_PAGE_BYTES + 10);
        let t: BTreeMap<u32, String> = [(1, huge.clone()), (2, huge)].into();
        let p = page_of(&t, &PageRequest::first()).expect("page");
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.next.as_deref(), Some("1"));
    }

    #[test]
    fn limit_zero_and_oversized_limits_mean_the_maximum() {
        assert_eq!(PageRequest::first().effective_limit(), 2_000);
        let big = PageRequest {
            after: None,
            limit: 1_000_000,
        };
        assert_eq!(big.effective_limit(), 2_000);
        let small = PageRequest {
            after: None,
            limit: 10,
        };
        assert_eq!(small.effective_limit(), 10);
    }
}
