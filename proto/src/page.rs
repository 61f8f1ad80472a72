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

#[cfg(test)]
mod tests {
    use super::*;

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
