//! The list subcommands (`leases`, `hosts`, `blocks`): the daemon's pages
//! walked one after another and printed as each arrives, so memory stays
//! bounded by a page whatever the table's size. The human table keeps the
//! first page's column widths; `--json` is one array written in pieces.

use std::future::Future;
use std::path::Path;

use berth_proto::{ApiError, Page, PageRequest};
use tarpc::client::RpcError;

use super::json::ArrayStream;
use super::table::{Table, TableStream};
use super::{CtlError, call, to_terminal, write_stdout};

/// Fetches page after page from the first and hands each to `each`, until
/// the last (or `each` says it has seen enough by returning `false`).
pub async fn walk<T, Fut>(
    socket: &Path,
    mut fetch: impl FnMut(PageRequest) -> Fut,
    mut each: impl FnMut(Page<T>) -> Result<bool, CtlError>,
) -> Result<(), CtlError>
where
    Fut: Future<Output = Result<Result<Page<T>, ApiError>, RpcError>>,
{
    let mut req = PageRequest::first();
    loop {
        let page = call(socket, fetch(req)).await?;
        let next = page.next_request(0);
        if !each(page)? {
            return Ok(());
        }
        match next {
            Some(r) => req = r,
            None => return Ok(()),
        }
    }
}

/// How one list prints: its JSON item and its table, and the text for none.
pub struct Printer<'a, T> {
    /// `--json`.
    pub json: bool,
    /// A page as the next piece of the JSON array.
    pub to_json: &'a dyn Fn(&mut ArrayStream, &[T]) -> String,
    /// A page as table rows.
    pub table: &'a dyn Fn(&[T]) -> Table,
    /// What the table prints when there are no items.
    pub none: &'static str,
    /// Least column widths when the list has several pages (for columns
    /// of bounded width: addresses, MACs).
    pub min_widths: &'static [usize],
}

/// Walks the list with `fetch` and prints it page by page.
pub async fn stream<T, Fut>(
    socket: &Path,
    fetch: impl FnMut(PageRequest) -> Fut,
    p: Printer<'_, T>,
) -> Result<(), CtlError>
where
    Fut: Future<Output = Result<Result<Page<T>, ApiError>, RpcError>>,
{
    let mut array = ArrayStream::default();
    let mut table = TableStream::with_min(p.min_widths);
    walk(socket, fetch, |page| {
        let text = if p.json {
            (p.to_json)(&mut array, &page.items)
        } else {
            let more = page.next.is_some();
            to_terminal(&table.page(&(p.table)(&page.items), more)).into_owned()
        };
        write_stdout(text.as_bytes())?;
        Ok(true)
    })
    .await?;
    let end = if p.json {
        array.end()
    } else if table.started() {
        ""
    } else {
        p.none
    };
    write_stdout(end.as_bytes())?;
    Ok(())
}
