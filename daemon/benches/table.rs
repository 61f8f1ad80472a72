//! The lease table's memory: heap bytes per lease, counted by a wrapping
//! allocator, for `BENCH_LEASES` (default 50,000) bound leases in one
//! dynamic range of 60,000 addresses on a /16 (the compare bench's pool),
//! inserted one by one in address order as a fill does, then after a
//! renewal of every lease (each moves to a later end), then built in bulk
//! from the same records as at start-up. Exact and steady, unlike RSS:
//! the figure to track when a record or an index changes shape. Prints
//! the figures; asserts nothing.
//!
//! `cargo bench -p berthd --bench table`

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

use berth_tests::bench::knob;
use berthd::addr::{MacAddr, Range};
use berthd::lease::{ClientKey, Lease, LeaseState, LeaseTable};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only the
// counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const START: u32 = u32::from_be_bytes([198, 18, 1, 0]);
const POOL: u32 = 60_000;
const T0: u64 = 1_800_000_000;

fn lease(i: u32, starts: u64) -> Lease {
    let [a, b, c, d] = i.to_be_bytes();
    let mac = MacAddr([2, 0, a, b, c, d]);
    Lease {
        ip: Ipv4Addr::from(START + i),
        client: ClientKey::from_hw(1, &mac.0),
        mac,
        hostname: None,
        state: LeaseState::Bound,
        starts,
        ends: starts + 3600,
    }
}

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn report(what: &str, n: u32, before: usize) {
    let bytes = live().saturating_sub(before);
    println!(
        "table: {what:<44} {:>7.2} MiB, {:>6.1} bytes per lease",
        bytes as f64 / (1024.0 * 1024.0),
        bytes as f64 / f64::from(n.max(1))
    );
}

fn main() {
    let n = knob("BENCH_LEASES", 50_000, 1..=POOL);
    let range = Range {
        start: Ipv4Addr::from(START),
        end: Ipv4Addr::from(START + POOL - 1),
    };
    println!(
        "table: {n} bound leases (of {POOL} addresses in one range); size_of::<Lease>() = {}",
        size_of::<Lease>()
    );

    let before = live();
    let mut t = LeaseTable::new();
    t.index_ranges([range], []);
    // Fill order: one client after the other, each a second apart at most.
    for i in 0..n {
        t.insert(lease(i, T0 + u64::from(i) / 5_000));
    }
    report("inserted one by one (a fill)", n, before);
    for i in 0..n {
        t.insert(lease(i, T0 + 1_800 + u64::from(i) / 800));
    }
    report("after every lease renewed once", n, before);
    drop(t);

    let before = live();
    let mut t = LeaseTable::from_leases((0..n).map(|i| lease(i, T0)));
    t.index_ranges([range], []);
    report("built in bulk (start-up)", n, before);
    drop(t);
}
