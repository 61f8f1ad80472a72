//! End-to-end: an ACK is sent only once its lease is durable. With the
//! store locked by another connection, berthd still OFFERs (an offer
//! promises nothing that must survive a restart) but withholds the ACK;
//! once the lock is gone the client is ACKed and its lease is in the file.

use std::time::Duration;

use berth_tests::{Daemon, Dhclient, Lab, ServerConfig, root_or_skip, wait_until};
use rusqlite::Connection;

#[test]
fn ack_waits_until_the_lease_is_durable() {
    if !root_or_skip("ack_waits_until_the_lease_is_durable") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start(&lab, &ServerConfig::lab()).expect("berthd");

    // Take the store's write lock the way any other writer would.
    let lock = Connection::open(berthd.store_path()).expect("open the store");
    lock.execute_batch("BEGIN EXCLUSIVE").expect("write lock");

    let client = lab.add_client(None).expect("client");
    let dh = Dhclient::start(&client).expect("dhclient");
    let withheld = wait_until(Duration::from_secs(30), || {
        berthd
            .log()
            .contains("lease write failed; reply withheld")
            .then_some(())
    });
    assert!(
        withheld.is_some(),
        "berthd never reported a withheld ACK while its store was locked:\n{}",
        berthd.log()
    );
    let log = berthd.log();
    assert!(
        log.contains("offered 192.0.2.10"),
        "offers need no write:\n{log}"
    );
    assert!(
        dh.records().iter().all(|r| r.reason() != "BOUND"),
        "the client was bound although its lease was not durable:\n{log}"
    );

    lock.execute_batch("ROLLBACK").expect("release the lock");
    drop(lock);
    let lease = dh.wait_bound(Duration::from_secs(40)).unwrap_or_else(|e| {
        panic!(
            "no lease once the store was writable: {e}\n{}",
            berthd.log()
        )
    });

    let db = Connection::open(berthd.store_path()).expect("reopen the store");
    let state: String = db
        .query_row(
            "SELECT state FROM leases WHERE ip = ?1 AND mac = ?2",
            [lease.ip.to_string(), client.mac().to_lowercase()],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("the ACKed lease {} is not in the store: {e}", lease.ip));
    assert_eq!(state, "bound");
}
