//! The leases copy at scale: loaded by pages, kept current by the worker's
//! refetches, its rows filtered and sorted once per change.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use berth_proto::EventKind;
use crossterm::event::KeyCode;

use super::super::fake;
use super::super::model::{LeaseSort, Model, Msg, View};
use super::super::rows;
use super::super::update::update;
use super::super::worker::{Touched, clusters};
use super::{key, now_s, render, typed};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn connected() -> Model {
    let mut m = Model::new("/run/berth/control.sock", false);
    update(&mut m, Msg::Connected);
    m
}

fn page(m: &mut Model, items: &[berth_proto::LeaseInfo], first: bool, total: u64, done: bool) {
    update(
        m,
        Msg::LeasesPage {
            first,
            items: items.to_vec(),
            total,
            done,
        },
    );
}

#[test]
fn the_first_load_shows_each_page_as_it_arrives() {
    let all = fake::many_leases(5_000, now_s());
    let mut m = connected();
    m.view = View::Leases;
    page(&mut m, &all[..2_000], true, 5_000, false);
    assert_eq!(m.leases.len(), 2_000);
    let screen = render(&m, 100, 12);
    assert!(screen.contains("loading 2000/5000"), "{screen}");
    assert!(screen.contains("10.0.0.1 "), "{screen}");
    page(&mut m, &all[2_000..4_000], false, 5_000, false);
    page(&mut m, &all[4_000..], false, 5_000, true);
    assert_eq!(m.leases.len(), 5_000);
    assert!(m.lease_load.is_none());
    assert!(
        !render(&m, 100, 12).contains("/5000"),
        "no progress once done"
    );
}

#[test]
fn a_reload_keeps_the_old_copy_until_it_is_complete() {
    let now = now_s();
    let mut m = connected();
    let old = fake::many_leases(3_000, now);
    page(&mut m, &old, true, 3_000, true);
    let mut new = fake::many_leases(2_000, now);
    new[0].hostname = Some("renamed".into());
    page(&mut m, &new[..1_000], true, 2_000, false);
    assert_eq!(m.leases.len(), 3_000, "the old copy while loading");
    page(&mut m, &new[1_000..], false, 2_000, true);
    assert_eq!(m.leases.len(), 2_000);
    assert_eq!(
        m.leases
            .get(ip("10.0.0.1"))
            .and_then(|l| l.hostname.as_deref()),
        Some("renamed")
    );
}

#[test]
fn refetched_ranges_replace_in_place_add_and_remove() {
    let now = now_s();
    let mut m = connected();
    page(&mut m, &fake::many_leases(100, now), true, 100, true);
    // A renewal: same address, new end.
    let mut renewed = m.leases.get(ip("10.0.0.5")).cloned().expect("lease");
    renewed.ends += 3600;
    update(
        &mut m,
        Msg::LeasesChanged {
            from: ip("10.0.0.5"),
            to: ip("10.0.0.5"),
            items: vec![renewed.clone()],
        },
    );
    assert_eq!(m.leases.get(ip("10.0.0.5")), Some(&renewed));
    assert_eq!(m.leases.len(), 100);
    // A range where one lease went and a new address appeared.
    let mut fresh = renewed.clone();
    fresh.ip = ip("10.0.0.200");
    let kept: Vec<_> = m
        .leases
        .iter()
        .filter(|l| l.ip >= ip("10.0.0.50") && l.ip != ip("10.0.0.60"))
        .cloned()
        .chain([fresh])
        .collect();
    update(
        &mut m,
        Msg::LeasesChanged {
            from: ip("10.0.0.50"),
            to: ip("10.0.0.255"),
            items: kept,
        },
    );
    assert_eq!(m.leases.len(), 100);
    assert!(m.leases.get(ip("10.0.0.60")).is_none());
    assert!(m.leases.get(ip("10.0.0.200")).is_some());
    let ips: Vec<Ipv4Addr> = m.leases.iter().map(|l| l.ip).collect();
    assert!(ips.windows(2).all(|w| w[0] < w[1]), "still by address");
}

#[test]
fn a_clients_leases_are_replaced_by_mac() {
    let now = now_s();
    let mut m = connected();
    page(&mut m, &fake::many_leases(10, now), true, 10, true);
    let mut moved = m.leases.get(ip("10.0.0.3")).cloned().expect("lease");
    let mac = moved.mac.clone();
    moved.ip = ip("10.0.1.1");
    moved.kind = berth_proto::LeaseKind::Static;
    update(
        &mut m,
        Msg::LeasesOfMac {
            mac: mac.clone(),
            items: vec![moved],
        },
    );
    let of_mac: Vec<Ipv4Addr> = m
        .leases
        .iter()
        .filter(|l| l.mac == mac)
        .map(|l| l.ip)
        .collect();
    assert_eq!(of_mac, vec![ip("10.0.1.1")]);
    assert_eq!(m.leases.len(), 10);
}

#[test]
fn client_text_from_refetches_is_made_printable() {
    let mut m = connected();
    let mut l = fake::many_leases(1, now_s()).remove(0);
    l.hostname = Some("evil\u{1b}[2J".into());
    update(
        &mut m,
        Msg::LeasesChanged {
            from: l.ip,
            to: l.ip,
            items: vec![l.clone()],
        },
    );
    let shown = m
        .leases
        .get(l.ip)
        .and_then(|l| l.hostname.clone())
        .expect("name");
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
}

#[test]
fn a_hundred_thousand_leases_filter_sort_and_scroll() {
    let now = now_s();
    let mut m = connected();
    let all = fake::many_leases(100_000, now);
    for (i, chunk) in all.chunks(2_000).enumerate() {
        page(&mut m, chunk, i == 0, 100_000, (i + 1) * 2_000 == 100_000);
    }
    m.view = View::Leases;
    assert_eq!(rows::leases(&m).len(), 100_000);
    let screen = render(&m, 120, 30);
    assert!(screen.contains("Leases 100000"), "{screen}");
    // Scrolling to the end and back.
    update(&mut m, key(KeyCode::End));
    assert_eq!(rows::selected_index(&m, View::Leases), 99_999);
    assert!(render(&m, 120, 30).contains("host-099999"));
    update(&mut m, key(KeyCode::Home));
    // Sorted by time left, descending: the latest end first.
    while m.sort != LeaseSort::Ends {
        update(&mut m, super::ch('s'));
    }
    update(&mut m, super::ch('S'));
    let first = rows::leases(&m)[0].clone();
    assert!(rows::leases(&m).iter().all(|l| l.ends <= first.ends));
    // Filtering: a prefix of names.
    update(&mut m, super::ch('/'));
    typed(&mut m, "host-09999");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(rows::leases(&m).len(), 10);
    // A change invalidates the cached rows.
    let mut l = m.leases.get(ip("10.0.0.1")).cloned().expect("lease");
    l.hostname = Some("host-099990-bis".into());
    update(
        &mut m,
        Msg::LeasesChanged {
            from: l.ip,
            to: l.ip,
            items: vec![l],
        },
    );
    assert_eq!(rows::leases(&m).len(), 11);
}

fn event(kind: EventKind, ip_s: Option<&str>, mac: Option<&str>) -> berth_proto::Event {
    let mut e = fake::event(1, 0, kind);
    e.mac = mac.map(Into::into);
    e.ip = ip_s.map(ip);
    e
}

#[test]
fn events_name_the_leases_to_refetch() {
    let t = Touched::of(&[
        event(EventKind::Arrival, None, Some("02:00:00:00:00:01")),
        event(
            EventKind::Offer,
            Some("10.0.0.9"),
            Some("02:00:00:00:00:01"),
        ),
        event(EventKind::Ack, Some("10.0.0.9"), Some("02:00:00:00:00:01")),
        event(EventKind::Expiry, Some("10.0.0.40"), None),
        event(
            EventKind::Promote,
            Some("10.0.0.7"),
            Some("02:00:00:00:00:02"),
        ),
        event(EventKind::HookResult, Some("10.0.0.99"), None),
    ]);
    assert!(!t.all);
    assert_eq!(
        t.ips,
        BTreeSet::from([ip("10.0.0.7"), ip("10.0.0.9"), ip("10.0.0.40")])
    );
    assert_eq!(t.macs, BTreeSet::from(["02:00:00:00:00:02".to_string()]));
    assert!(Touched::of(&[event(EventKind::Reload, None, None)]).all);
    assert!(Touched::of(&[event(EventKind::HostRemoved, Some("10.0.0.1"), None)]).all);
    assert_eq!(
        Touched::of(&[event(EventKind::Block, None, Some("02:00:00:00:00:03"))]),
        Touched::default()
    );
}

#[test]
fn nearby_addresses_are_refetched_as_one_range() {
    let ips = BTreeSet::from([
        ip("10.0.0.1"),
        ip("10.0.0.30"),
        ip("10.0.0.90"),
        ip("10.0.5.0"),
        ip("192.0.2.1"),
    ]);
    assert_eq!(
        clusters(&ips),
        vec![
            (ip("10.0.0.1"), ip("10.0.0.90")),
            (ip("10.0.5.0"), ip("10.0.5.0")),
            (ip("192.0.2.1"), ip("192.0.2.1")),
        ]
    );
}
