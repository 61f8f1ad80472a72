//! The list calls at scale through the real control socket: 10,500 leases
//! whose host names (120 control bytes each) come to about 8 MiB of JSON,
//! walked in pages while DHCP changes the table, each page far below the
//! frame limit.

mod harness;

use std::net::Ipv4Addr;

use berth_proto::page::json_len;
use berth_proto::{ErrorKind, LeaseFilter, MAX_PAGE_BYTES, PageRequest};
use berthd::addr::MacAddr;
use berthd::lease::{ClientKey, Lease, LeaseState};
use berthd::store::MemoryStore;
use harness::{A, Harness, POOL, ctx};

const COUNT: u32 = 10_500;

fn stored_leases() -> Vec<Lease> {
    let name: String = std::iter::repeat_n('\u{1}', 120).collect();
    (0..COUNT)
        .map(|i| {
            let mac = MacAddr([2, 0xaa, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
            Lease {
                ip: Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + i),
                client: ClientKey::from_hw(1, &mac.0),
                mac,
                hostname: Some(name.as_str().into()),
                state: LeaseState::Bound,
                starts: 1_000,
                ends: 4_000_000_000,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_leases_walk_in_pages_while_dhcp_goes_on() {
    let mut h = Harness::start_with_store(MemoryStore::with_leases(stored_leases()), "", "").await;
    let mut req = PageRequest::first();
    let mut seen: Vec<Ipv4Addr> = Vec::new();
    let mut pages = 0;
    loop {
        let page = h
            .api
            .leases(ctx(), LeaseFilter::default(), req.clone())
            .await
            .expect("rpc")
            .expect("page");
        let bytes = json_len(&page);
        assert!(bytes <= MAX_PAGE_BYTES + 256, "page {pages}: {bytes} bytes");
        assert!(!page.items.is_empty());
        seen.extend(page.items.iter().map(|l| l.ip));
        if pages == 1 {
            // A client binds between pages: the walk is not disturbed and
            // the new lease (on an address after the cursor) is listed.
            let ip = h.bind(A).await;
            assert_eq!(ip, POOL);
        }
        pages += 1;
        match page.next_request(0) {
            Some(r) => req = r,
            None => break,
        }
    }
    assert!(pages > 5, "the byte limit made {pages} pages");
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, seen, "by address, none twice");
    assert_eq!(
        seen.len(),
        COUNT as usize + 1,
        "the stored leases and the new one"
    );
    assert!(seen.contains(&POOL));

    // A malformed cursor names itself.
    let err = h
        .api
        .leases(ctx(), LeaseFilter::default(), PageRequest::after("10.1.0"))
        .await
        .expect("rpc")
        .expect_err("bad cursor");
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains("`10.1.0`"), "{}", err.message);

    // The harness's whole-list helper walks the same pages.
    assert_eq!(
        h.leases(LeaseFilter::default()).await.len(),
        COUNT as usize + 1
    );
    h.stop().await;
}
