//! The update function: keys and worker reports in, model changes and
//! commands out.

use std::net::Ipv4Addr;
use std::time::Duration;

use berth_proto::{ApiError, ErrorKind, LeaseKind, PromoteRequest, Target};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::model::{
    Command, Conn, Dialog, FEED_CAP, FeedEntry, LeaseSort, Level, Model, Msg, PromoteField,
    Snapshot, View,
};
use super::super::rows;
use super::super::update::{target_lease, update};
use super::{ch, key, loaded, now_s, render, typed};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

/// Puts the cursor of the leases view on `addr`.
fn select_lease(m: &mut Model, addr: &str) {
    m.view = View::Leases;
    update(m, key(KeyCode::Home));
    for _ in 0..m.leases.len() {
        if target_lease(m).is_some_and(|l| l.ip == ip(addr)) {
            return;
        }
        update(m, ch('j'));
    }
    panic!("{addr} not in the leases view");
}

fn notice(m: &Model) -> (Level, String) {
    let n = m.notice.as_ref().expect("a notice");
    (n.level, n.text.clone())
}

fn disconnect(m: &mut Model) {
    update(
        m,
        Msg::Disconnected {
            error: "lost connection to berthd: the connection to the server was already shutdown"
                .into(),
            retry_in: Duration::from_millis(500),
            at: now_s(),
        },
    );
}

// Promotion.

#[test]
fn promote_opens_a_prefilled_dialog_and_enter_sends_the_edited_request() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.101");
    assert!(update(&mut m, ch('p')).is_empty());
    let Some(Dialog::Promote(form)) = &m.dialog else {
        panic!("no promote dialog: {:?}", m.dialog);
    };
    assert_eq!(form.mac, "a4:5e:60:11:22:33");
    assert_eq!(form.ip, "192.168.0.101");
    assert_eq!(form.hostname, "steamdeck");
    assert_eq!(form.focus, PromoteField::Ip);

    // Edit the address: drop "101", type "200"; then the hostname.
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Backspace));
    }
    assert!(typed(&mut m, "200").is_empty());
    update(&mut m, key(KeyCode::Tab));
    // Keys that mean something elsewhere ('q', 'p', 'r') are just text here.
    assert!(typed(&mut m, "-qpr").is_empty());
    assert!(m.dialog.is_some());

    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Command::Promote(PromoteRequest {
            mac: "a4:5e:60:11:22:33".into(),
            ip: Some(ip("192.168.0.200")),
            hostname: Some("steamdeck-qpr".into()),
        })]
    );
    assert!(m.dialog.is_none());
}

#[test]
fn promote_esc_cancels_without_a_command() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.100");
    update(&mut m, ch('p'));
    assert!(matches!(m.dialog, Some(Dialog::Promote(_))));
    typed(&mut m, "x");
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert!(m.dialog.is_none());
}

#[test]
fn promote_empty_hostname_lets_the_daemon_choose() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.102"); // sent no hostname
    update(&mut m, ch('p'));
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Command::Promote(PromoteRequest {
            mac: "02:00:5e:10:00:01".into(),
            ip: Some(ip("192.168.0.102")),
            hostname: None,
        })]
    );
}

#[test]
fn promote_refuses_a_bad_address_and_keeps_the_dialog() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.100");
    update(&mut m, ch('p'));
    typed(&mut m, "9");
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    let Some(Dialog::Promote(form)) = &m.dialog else {
        panic!("dialog closed");
    };
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("192.168.0.1009"))
    );
    // The error shows in the dialog.
    assert!(render(&m, 80, 24).contains("is not an IPv4 address"));
    // Fixing it clears the error and Enter goes through.
    update(&mut m, key(KeyCode::Backspace));
    assert_eq!(update(&mut m, key(KeyCode::Enter)).len(), 1);
}

#[test]
fn promote_is_refused_for_leases_that_are_not_dynamic() {
    let mut m = loaded(true);
    for (addr, says) in [
        ("192.168.0.2", "already a static host"),
        ("10.20.0.51", "moving to 10.20.0.10"),
        ("192.168.0.150", "quarantined"),
    ] {
        select_lease(&mut m, addr);
        update(&mut m, ch('p'));
        assert!(m.dialog.is_none(), "{addr}");
        let (level, text) = notice(&m);
        assert_eq!(level, Level::Error);
        assert!(text.contains(says), "{addr}: {text}");
    }
}

#[test]
fn promote_from_the_arrivals_view_uses_the_events_mac() {
    let mut m = loaded(true);
    assert_eq!(m.view, View::Arrivals);
    // Newest first: the offer to 02:00:5e:10:00:01, then phone-desk-2.
    update(&mut m, ch('j'));
    update(&mut m, ch('p'));
    let Some(Dialog::Promote(form)) = &m.dialog else {
        panic!("no dialog");
    };
    assert_eq!(form.mac, "00:04:13:2a:3b:4d");
    assert_eq!(form.ip, "10.20.0.52");
}

#[test]
fn moving_is_what_the_daemon_says_after_a_refresh() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.101");
    let mut leases: Vec<_> = m.leases.iter().cloned().collect();
    let l = leases
        .iter_mut()
        .find(|l| l.ip == ip("192.168.0.101"))
        .expect("lease");
    l.kind = LeaseKind::Moving;
    l.moving_to = Some(ip("192.168.0.200"));
    update(
        &mut m,
        Msg::Snapshot(Box::new(Snapshot {
            leases: Some(leases.clone()),
            ..Snapshot::default()
        })),
    );
    let screen = render(&m, 80, 24);
    assert!(screen.contains("192.168.0.101 a4:5e:60:11:22:33 steamdeck         moving"));
    assert!(screen.contains("moving to 192.168.0.200"));
    // Back on its static address: the cursor follows the MAC to the new row.
    let l = leases
        .iter_mut()
        .find(|l| l.mac == "a4:5e:60:11:22:33")
        .expect("lease");
    l.ip = ip("192.168.0.200");
    l.kind = LeaseKind::Static;
    l.moving_to = None;
    update(
        &mut m,
        Msg::Snapshot(Box::new(Snapshot {
            leases: Some(leases),
            ..Snapshot::default()
        })),
    );
    let sel = target_lease(&m).expect("selection");
    assert_eq!((sel.ip, sel.kind), (ip("192.168.0.200"), LeaseKind::Static));
}

// Release and block.

#[test]
fn release_and_block_ask_first() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.100");
    update(&mut m, ch('r'));
    let Some(Dialog::Confirm(c)) = &m.dialog else {
        panic!("no confirm");
    };
    assert!(c.question.contains("192.168.0.100"));
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert!(m.dialog.is_none());

    update(&mut m, ch('r'));
    // Unrelated keys leave the question open.
    assert!(update(&mut m, ch('x')).is_empty());
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Command::Release(Target::Ip(ip("192.168.0.100")))]
    );

    update(&mut m, ch('b'));
    assert!(matches!(m.dialog, Some(Dialog::Confirm(_))));
    assert_eq!(
        update(&mut m, ch('y')),
        vec![Command::Block {
            mac: "3c:22:fb:01:02:03".into()
        }]
    );
    update(&mut m, ch('b'));
    assert!(update(&mut m, ch('n')).is_empty());
}

#[test]
fn actions_need_a_lease_view() {
    let mut m = loaded(true);
    update(&mut m, ch('3'));
    assert_eq!(m.view, View::Hosts);
    update(&mut m, ch('r'));
    assert!(m.dialog.is_none());
    assert!(notice(&m).1.contains("Leases (2)"));
}

// Read-only users.

#[test]
fn permission_denied_says_read_only() {
    let mut m = loaded(true);
    update(
        &mut m,
        Msg::ActionDone {
            what: "promote a4:5e:60:11:22:33".into(),
            result: Err(ApiError::new(
                ErrorKind::PermissionDenied,
                "peer uid 1000 is not an admin",
            )),
        },
    );
    let (level, text) = notice(&m);
    assert_eq!(level, Level::Error);
    assert!(text.starts_with("read-only: promote a4:5e:60:11:22:33 refused"));
    assert!(text.contains("peer uid 1000 is not an admin"));
    // Data stays, connection is fine: only the change was refused.
    assert!(m.live());

    update(
        &mut m,
        Msg::ActionDone {
            what: "release 192.168.0.100".into(),
            result: Ok("released 192.168.0.100 (3c:22:fb:01:02:03)".into()),
        },
    );
    assert_eq!(notice(&m).0, Level::Info);
}

#[test]
fn read_failures_are_reported() {
    let mut m = loaded(true);
    update(
        &mut m,
        Msg::ReadFailed {
            what: "hosts".into(),
            error: ApiError::new(ErrorKind::PermissionDenied, "not in group berth"),
        },
    );
    assert!(
        notice(&m)
            .1
            .contains("cannot read hosts: permission denied")
    );
}

// Filtering and sorting.

#[test]
fn filter_narrows_every_view_and_esc_clears_it() {
    let mut m = loaded(true);
    update(&mut m, ch('2'));
    update(&mut m, ch('/'));
    assert!(m.filter_editing);
    // While typing, letters are text, not commands.
    assert!(typed(&mut m, "PHONE").is_empty());
    assert!(m.dialog.is_none());
    assert_eq!(m.filter, "PHONE");
    let ips: Vec<String> = rows::leases(&m).iter().map(|l| l.ip.to_string()).collect();
    assert_eq!(ips, ["10.20.0.51", "10.20.0.52"]);
    // The same filter applies to hosts and the feed.
    assert_eq!(rows::hosts(&m).len(), 1);
    assert_eq!(rows::feed(&m).len(), 2);

    update(&mut m, key(KeyCode::Backspace));
    assert_eq!(m.filter, "PHON");
    update(&mut m, key(KeyCode::Enter));
    assert!(!m.filter_editing);
    assert_eq!(m.filter, "PHON");
    // Now keys are commands again; j moves within the filtered rows.
    update(&mut m, ch('j'));
    assert_eq!(target_lease(&m).map(|l| l.ip), Some(ip("10.20.0.52")));
    update(&mut m, key(KeyCode::Esc));
    assert!(m.filter.is_empty());
    assert_eq!(rows::leases(&m).len(), 9);

    // Esc while typing clears and stops typing.
    update(&mut m, ch('/'));
    typed(&mut m, "zzz");
    assert_eq!(rows::leases(&m).len(), 0);
    assert!(render(&m, 80, 24).contains("no leases match \"zzz\""));
    update(&mut m, key(KeyCode::Esc));
    assert!(!m.filter_editing && m.filter.is_empty());
}

#[test]
fn filter_matches_kind_state_and_mac() {
    let mut m = loaded(true);
    m.filter = "moving".into();
    assert_eq!(rows::leases(&m).len(), 1);
    m.filter = "released".into();
    assert_eq!(rows::leases(&m).len(), 1);
    m.filter = "DE:AD".into();
    assert_eq!(rows::leases(&m)[0].ip, ip("192.168.0.150"));
}

#[test]
fn s_cycles_the_sort_column_and_shift_s_reverses() {
    let mut m = loaded(true);
    update(&mut m, ch('2'));
    let order =
        |m: &Model| -> Vec<String> { rows::leases(m).iter().map(|l| l.ip.to_string()).collect() };
    assert_eq!(m.sort, LeaseSort::Ip);
    assert_eq!(order(&m)[0], "10.20.0.51");
    assert_eq!(order(&m)[8], "192.168.0.150");

    let seen: Vec<LeaseSort> = (0..6)
        .map(|_| {
            update(&mut m, ch('s'));
            m.sort
        })
        .collect();
    assert_eq!(
        seen,
        [
            LeaseSort::Mac,
            LeaseSort::Hostname,
            LeaseSort::Kind,
            LeaseSort::State,
            LeaseSort::Ends,
            LeaseSort::Ip
        ]
    );

    m.sort = LeaseSort::Ends;
    // Soonest end first: the released lease ended half an hour ago.
    assert_eq!(order(&m)[0], "192.168.0.103");
    assert_eq!(order(&m)[1], "192.168.0.102");
    update(&mut m, ch('S'));
    assert!(m.sort_desc);
    assert_eq!(order(&m)[0], "192.168.0.10");
    assert!(render(&m, 80, 24).contains("sort time left▼"));

    m.sort = LeaseSort::Hostname;
    m.sort_desc = false;
    // No hostname sorts first, then by name.
    assert_eq!(
        &order(&m)[..3],
        ["192.168.0.102", "192.168.0.150", "192.168.0.2"]
    );
}

// Connection.

#[test]
fn disconnect_marks_data_stale_and_reconnect_plus_reload_clears_it() {
    let mut m = loaded(true);
    assert!(m.live());
    disconnect(&mut m);
    assert!(m.stale);
    assert!(!m.live());
    assert!(matches!(m.conn, Conn::Reconnecting { .. }));
    let screen = render(&m, 80, 24);
    assert!(screen.contains("RECONNECTING"));
    assert!(screen.contains("STALE"));
    // Data is kept (greyed), not thrown away.
    assert!(screen.contains("steamdeck"));

    // Actions are refused while stale.
    m.view = View::Leases;
    update(&mut m, ch('p'));
    assert!(m.dialog.is_none());
    assert!(notice(&m).1.contains("not connected"));

    // A new attempt does not hide that we are reconnecting.
    update(&mut m, Msg::Connecting { attempt: 2 });
    assert!(render(&m, 80, 24).contains("RECONNECTING"));

    update(&mut m, Msg::Connected);
    assert_eq!(m.conn, Conn::Connected);
    assert!(m.stale, "still stale until the reload arrives");
    assert!(render(&m, 80, 24).contains("STALE"));

    update(&mut m, Msg::Snapshot(Box::default()));
    assert!(!m.stale);
    assert!(m.live());
    let screen = render(&m, 80, 24);
    assert!(!screen.contains("STALE"));
    assert!(screen.contains(" connected │"));
}

#[test]
fn disconnect_keeps_the_time_it_was_first_lost() {
    let mut m = loaded(true);
    disconnect(&mut m);
    let first = match m.conn {
        Conn::Reconnecting { since, .. } => since,
        _ => panic!("not reconnecting"),
    };
    update(
        &mut m,
        Msg::Disconnected {
            error: "still gone".into(),
            retry_in: Duration::from_secs(2),
            at: now_s() + 10,
        },
    );
    let Conn::Reconnecting {
        since, retry_at, ..
    } = m.conn
    else {
        panic!("not reconnecting");
    };
    assert_eq!(since, first);
    assert_eq!(retry_at, now_s() + 12);
}

#[test]
fn restart_and_gap_leave_a_note_in_the_feed() {
    let mut m = loaded(true);
    update(
        &mut m,
        Msg::Events {
            events: Vec::new(),
            missed: true,
            restarted: true,
        },
    );
    let texts: Vec<String> = m
        .feed
        .iter()
        .take(2)
        .filter_map(|i| match &i.entry {
            FeedEntry::Note { text, .. } => Some(text.clone()),
            FeedEntry::Event(_) => None,
        })
        .collect();
    assert_eq!(texts.len(), 2);
    assert!(texts.iter().any(|t| t.contains("restarted")));
    assert!(texts.iter().any(|t| t.contains("events were lost")));
}

#[test]
fn the_feed_is_newest_first_and_bounded() {
    let mut m = loaded(true);
    let mut e = m
        .feed
        .iter()
        .find_map(|i| match &i.entry {
            FeedEntry::Event(e) => Some(e.clone()),
            FeedEntry::Note { .. } => None,
        })
        .expect("an event");
    let events: Vec<_> = (0..FEED_CAP + 10)
        .map(|i| {
            e.seq = 100 + i as u64;
            e.clone()
        })
        .collect();
    update(
        &mut m,
        Msg::Events {
            events,
            missed: false,
            restarted: false,
        },
    );
    assert_eq!(m.feed.len(), FEED_CAP);
    let FeedEntry::Event(first) = &m.feed[0].entry else {
        panic!("note first");
    };
    assert_eq!(first.seq, 100 + FEED_CAP as u64 + 9);
}

#[test]
fn feed_selection_stays_on_its_event_as_new_ones_arrive() {
    let mut m = loaded(true);
    update(&mut m, ch('j'));
    update(&mut m, ch('j'));
    let before = m.sel_feed;
    let e = match &m.feed[0].entry {
        FeedEntry::Event(e) => e.clone(),
        FeedEntry::Note { .. } => panic!("note"),
    };
    update(
        &mut m,
        Msg::Events {
            events: vec![e],
            missed: false,
            restarted: false,
        },
    );
    assert_eq!(m.sel_feed, before);
    assert_eq!(rows::selected_index(&m, View::Arrivals), 3);
    // Home goes back to following the newest.
    update(&mut m, key(KeyCode::Home));
    assert_eq!(m.sel_feed, None);
}

// Keys.

#[test]
fn views_switch_with_tab_and_numbers() {
    let mut m = loaded(true);
    update(&mut m, key(KeyCode::Tab));
    assert_eq!(m.view, View::Leases);
    update(&mut m, key(KeyCode::BackTab));
    update(&mut m, key(KeyCode::BackTab));
    assert_eq!(m.view, View::Hooks);
    update(&mut m, ch('5'));
    assert_eq!(m.view, View::Quarantine);
    update(&mut m, ch('4'));
    assert_eq!(m.view, View::Pools);
    update(&mut m, ch('3'));
    assert_eq!(m.view, View::Hosts);
    update(&mut m, ch('1'));
    assert_eq!(m.view, View::Arrivals);
}

#[test]
fn arrows_and_jk_move_and_clamp() {
    let mut m = loaded(true);
    update(&mut m, ch('2'));
    update(&mut m, ch('k'));
    assert_eq!(rows::selected_index(&m, View::Leases), 0);
    update(&mut m, key(KeyCode::Down));
    update(&mut m, ch('j'));
    assert_eq!(rows::selected_index(&m, View::Leases), 2);
    update(&mut m, key(KeyCode::Up));
    assert_eq!(rows::selected_index(&m, View::Leases), 1);
    update(&mut m, key(KeyCode::End));
    assert_eq!(rows::selected_index(&m, View::Leases), 8);
    update(&mut m, key(KeyCode::PageDown));
    assert_eq!(rows::selected_index(&m, View::Leases), 8);
    update(&mut m, key(KeyCode::PageUp));
    assert_eq!(rows::selected_index(&m, View::Leases), 0);
}

#[test]
fn q_and_ctrl_c_quit_help_closes_on_any_key() {
    let mut m = loaded(true);
    update(&mut m, ch('?'));
    assert_eq!(m.dialog, Some(Dialog::Help));
    // q closes the help rather than quitting from under it.
    assert!(update(&mut m, ch('q')).is_empty());
    assert!(m.dialog.is_none());
    assert_eq!(update(&mut m, ch('q')), vec![Command::Quit]);

    // Ctrl-C quits from anywhere, even mid-edit.
    update(&mut m, ch('2'));
    select_lease(&mut m, "192.168.0.100");
    update(&mut m, ch('p'));
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut m, ctrl_c), vec![Command::Quit]);
}

#[test]
fn f5_and_ctrl_r_reload() {
    let mut m = loaded(true);
    assert_eq!(update(&mut m, key(KeyCode::F(5))), vec![Command::Refresh]);
    let ctrl_r = Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut m, ctrl_r), vec![Command::Refresh]);
    assert!(m.dialog.is_none(), "Ctrl-R is not r");
}

#[test]
fn promote_dialog_tab_switches_fields() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.100");
    update(&mut m, ch('p'));
    update(&mut m, key(KeyCode::Down));
    let Some(Dialog::Promote(form)) = &m.dialog else {
        panic!("no dialog");
    };
    assert_eq!(form.focus, PromoteField::Hostname);
    update(&mut m, key(KeyCode::BackTab));
    let Some(Dialog::Promote(form)) = &m.dialog else {
        panic!("no dialog");
    };
    assert_eq!(form.focus, PromoteField::Ip);
}

#[test]
fn promote_rejects_odd_hostnames() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.100");
    update(&mut m, ch('p'));
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, " x");
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(matches!(&m.dialog, Some(Dialog::Promote(f)) if f.error.is_some()));
}

#[test]
fn promote_host_names_follow_the_shared_rule() {
    use berth_proto::parse::examples::HOSTNAMES;
    // An empty name means "let the daemon choose", so it is not checked here.
    for (name, valid) in HOSTNAMES.iter().filter(|(n, _)| !n.is_empty()) {
        let mut m = loaded(true);
        select_lease(&mut m, "192.168.0.100");
        update(&mut m, ch('p'));
        update(&mut m, key(KeyCode::Tab));
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
        );
        typed(&mut m, name);
        let sent = !update(&mut m, key(KeyCode::Enter)).is_empty();
        assert_eq!(sent, *valid, "{name:?}");
        if !valid {
            let Some(Dialog::Promote(form)) = &m.dialog else {
                panic!("{name:?}: the dialog closed");
            };
            let error = form.error.as_deref().unwrap_or_default();
            assert!(error.contains(&format!("`{name}`")), "{name:?}: {error}");
        }
    }
}

#[test]
fn empty_model_does_not_panic_on_keys() {
    let mut m = Model::new("/x", false);
    for k in [
        ch('j'),
        ch('k'),
        ch('p'),
        ch('r'),
        ch('b'),
        ch('s'),
        key(KeyCode::End),
        ch('2'),
        ch('j'),
        ch('p'),
        ch('4'),
        key(KeyCode::PageDown),
    ] {
        update(&mut m, k);
    }
    let mut full = loaded(false);
    for (w, h) in [(1, 1), (20, 3), (40, 10), (60, 24), (80, 24), (120, 40)] {
        for v in ['1', '2', '3', '4', '?'] {
            update(&mut m, ch(v));
            update(&mut full, ch(v));
            render(&m, w, h);
            render(&full, w, h);
            update(&mut full, key(KeyCode::Esc));
        }
    }
}

// Explain, history, sweep and quarantine keys.

#[test]
fn e_explains_the_selected_lease_with_the_vendor_class_it_sends() {
    let mut m = loaded(true);
    select_lease(&mut m, "10.20.0.52");
    let cmds = update(&mut m, ch('e'));
    let [Command::Explain(req)] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(req.mac, "00:04:13:2a:3b:4d");
    assert_eq!(
        req.vendor_class.as_deref(),
        Some("snom370"),
        "from its arrival"
    );
    assert_eq!(req.interface.as_deref(), Some("eth2"));
    assert_eq!(req.hostname.as_deref(), Some("phone-desk-2"));
    let Some(Dialog::Explain(p)) = &m.dialog else {
        panic!("no explain window: {:?}", m.dialog);
    };
    assert_eq!((p.mac.as_str(), &p.data), ("00:04:13:2a:3b:4d", &None));
    // An answer about someone else is not this window's.
    update(
        &mut m,
        Msg::Explained {
            mac: "02:00:00:00:00:01".into(),
            result: Box::new(Err(ApiError::new(ErrorKind::Internal, "x"))),
        },
    );
    assert!(matches!(&m.dialog, Some(Dialog::Explain(p)) if p.data.is_none()));
    update(
        &mut m,
        Msg::Explained {
            mac: "00:04:13:2a:3b:4d".into(),
            result: Box::new(Err(ApiError::new(ErrorKind::Invalid, "no such interface"))),
        },
    );
    assert!(
        matches!(&m.dialog, Some(Dialog::Explain(p)) if p.data == Some(Err("no such interface".into())))
    );
    // j scrolls, any other key closes.
    update(&mut m, ch('j'));
    assert!(matches!(&m.dialog, Some(Dialog::Explain(p)) if p.scroll == 1));
    update(&mut m, ch('k'));
    update(&mut m, ch('k'));
    assert!(matches!(&m.dialog, Some(Dialog::Explain(p)) if p.scroll == 0));
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert_eq!(m.dialog, None);
}

#[test]
fn e_works_on_hosts_arrivals_and_hooks_and_says_why_not_on_pools() {
    let mut m = loaded(true);
    m.view = View::Hosts;
    let cmds = update(&mut m, ch('e'));
    assert!(
        matches!(cmds.as_slice(), [Command::Explain(r)] if r.mac == "00:04:13:2a:3b:4c"),
        "{cmds:?}"
    );
    m.dialog = None;
    m.view = View::Arrivals;
    let cmds = update(&mut m, ch('e'));
    assert!(
        matches!(cmds.as_slice(), [Command::Explain(r)] if r.mac == "02:00:5e:10:00:01"),
        "{cmds:?}"
    );
    m.dialog = None;
    m.view = View::Hooks;
    let cmds = update(&mut m, ch('e'));
    assert!(
        matches!(cmds.as_slice(), [Command::Explain(r)] if r.mac == "a4:5e:60:11:22:33"),
        "{cmds:?}"
    );
    m.dialog = None;
    m.view = View::Pools;
    assert!(update(&mut m, ch('e')).is_empty());
    assert_eq!(m.dialog, None);
    assert_eq!(notice(&m).0, Level::Error);
    assert!(
        notice(&m).1.contains("e (explain) works on a client"),
        "{:?}",
        m.notice
    );
}

#[test]
fn enter_shows_the_clients_history_newest_first() {
    let mut m = loaded(true);
    select_lease(&mut m, "192.168.0.101");
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Command::History {
            mac: "a4:5e:60:11:22:33".into()
        }]
    );
    let evs: Vec<berth_proto::Event> = super::super::fake::demo_data(now_s())
        .events
        .into_iter()
        .filter(|e| e.mac.as_deref() == Some("a4:5e:60:11:22:33"))
        .collect();
    let oldest = evs.first().map(|e| e.seq);
    update(
        &mut m,
        Msg::History {
            mac: "a4:5e:60:11:22:33".into(),
            result: Ok(evs),
        },
    );
    let Some(Dialog::History(p)) = &m.dialog else {
        panic!("no history window: {:?}", m.dialog);
    };
    let shown = p.data.clone().expect("filled").expect("events");
    assert_eq!(shown.last().map(|e| e.seq), oldest, "oldest last");
    assert!(shown.windows(2).all(|w| w[0].seq > w[1].seq));
    update(&mut m, key(KeyCode::PageDown));
    assert!(matches!(&m.dialog, Some(Dialog::History(p)) if p.scroll == 10));
    update(&mut m, key(KeyCode::Home));
    assert!(matches!(&m.dialog, Some(Dialog::History(p)) if p.scroll == 0));
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.dialog, None, "Enter closes it");
}

#[test]
fn w_sweeps_the_selected_range_only_on_the_pools_view_and_only_live() {
    let mut m = loaded(true);
    m.view = View::Pools;
    update(&mut m, ch('j'));
    assert_eq!(
        update(&mut m, ch('w')),
        vec![Command::Scan {
            range: "10.20.0.50-10.20.0.250".into()
        }]
    );
    assert_eq!(
        notice(&m),
        (Level::Info, "sweeping 10.20.0.50-10.20.0.250…".into())
    );
    m.view = View::Leases;
    assert!(update(&mut m, ch('w')).is_empty());
    assert_eq!(notice(&m).0, Level::Error);
    m.view = View::Pools;
    disconnect(&mut m);
    assert!(update(&mut m, ch('w')).is_empty(), "not from stale data");
}

#[test]
fn c_clears_the_selected_quarantine_after_a_confirm() {
    let mut m = loaded(true);
    m.view = View::Quarantine;
    assert!(update(&mut m, ch('c')).is_empty());
    let Some(Dialog::Confirm(c)) = &m.dialog else {
        panic!("no confirm: {:?}", m.dialog);
    };
    assert!(c.question.contains("192.168.0.150"), "{}", c.question);
    // Esc cancels.
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert_eq!(m.dialog, None);
    update(&mut m, ch('c'));
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Command::ClearQuarantine(ip("192.168.0.150"))]
    );
    // Elsewhere c says where it works.
    m.view = View::Leases;
    assert!(update(&mut m, ch('c')).is_empty());
    assert_eq!(m.dialog, None);
    assert!(notice(&m).1.contains("Quarantine view"), "{:?}", m.notice);
    // Nothing quarantined: nothing to clear.
    m.view = View::Quarantine;
    update(
        &mut m,
        Msg::Snapshot(Box::new(Snapshot {
            quarantine: Some(Vec::new()),
            ..Snapshot::default()
        })),
    );
    assert_eq!(rows::row_count(&m, View::Quarantine), 0);
    assert!(update(&mut m, ch('c')).is_empty());
    assert_eq!(m.dialog, None);
}

#[test]
fn the_cursor_moves_on_the_quarantine_and_hooks_views() {
    let mut m = loaded(true);
    let mut q = m.quarantine[0].clone();
    q.ip = ip("192.168.0.160");
    m.quarantine.push(q);
    m.view = View::Quarantine;
    update(&mut m, ch('j'));
    assert_eq!(m.sel_quarantine, Some(ip("192.168.0.160")));
    update(&mut m, ch('k'));
    assert_eq!(m.sel_quarantine, Some(ip("192.168.0.150")));
    m.view = View::Hooks;
    assert_eq!(rows::row_count(&m, View::Hooks), 1);
    update(&mut m, ch('j'));
    assert_eq!(m.sel_hook, None, "one row: still the newest");
}
