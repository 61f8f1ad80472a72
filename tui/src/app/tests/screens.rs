//! Snapshots of every view at 80x24 and 60x24.

use berth_proto::{ApiError, ErrorKind};
use crossterm::event::KeyCode;
use std::time::Duration;

use super::super::model::{Model, Msg, View};
use super::super::update::update;
use ratatui::style::{Color, Modifier};

use super::{assert_screen, ch, key, loaded, now_s, render, render_buf};

/// Each screen the tests pin down, by name.
pub(super) fn screen(name: &str) -> Model {
    let mut m = loaded(true);
    match name {
        "arrivals" => {}
        "leases" => m.view = View::Leases,
        "hosts" => m.view = View::Hosts,
        "pools" => m.view = View::Pools,
        "help" => {
            m.view = View::Leases;
            update(&mut m, ch('?'));
        }
        "promote" => {
            m.view = View::Leases;
            // The steamdeck's dynamic lease, fifth by address.
            for _ in 0..5 {
                update(&mut m, ch('j'));
            }
            update(&mut m, ch('p'));
        }
        "disconnected" => {
            m.view = View::Leases;
            update(
                &mut m,
                Msg::Disconnected {
                    error: "no berthd control socket at /run/berth/control.sock: is the daemon running?".into(),
                    retry_in: Duration::from_secs(2),
                    at: now_s() - 30,
                },
            );
            update(
                &mut m,
                Msg::Disconnected {
                    error: "no berthd control socket at /run/berth/control.sock: is the daemon running?".into(),
                    retry_in: Duration::from_secs(4),
                    at: now_s() - 1,
                },
            );
        }
        "confirm" => {
            m.view = View::Leases;
            update(&mut m, ch('j'));
            update(&mut m, ch('r'));
        }
        "denied" => {
            m.view = View::Leases;
            update(
                &mut m,
                Msg::ActionDone {
                    what: "release 192.168.0.100".into(),
                    result: Err(ApiError::new(
                        ErrorKind::PermissionDenied,
                        "peer uid 1000 is not an admin",
                    )),
                },
            );
        }
        "filtered" => {
            m.view = View::Leases;
            update(&mut m, ch('/'));
            for c in "phone".chars() {
                update(&mut m, ch(c));
            }
            update(&mut m, key(KeyCode::Enter));
        }
        "connecting" => m = Model::new("/run/berth/control.sock", true),
        _ => panic!("no screen {name}"),
    }
    m
}

// The live feed: NEW for unknown clients, ! for failures, local times.
#[test]
fn arrivals_80() {
    assert_screen(
        &render(&screen("arrivals"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Arrivals 8 ────────────────────────────────────────────────────────────────────
Time     Event    MAC               IP            Hostname     Vendor       If
15:59:55 offer    02:00:5e:10:00:01 192.168.0.102                           eth1
15:58:00 NEW      00:04:13:2a:3b:4d               phone-desk-2 snom370      eth2
15:56:00 !hook    a4:5e:60:11:22:33 192.168.0.101
15:55:00 !decline de:ad:be:ef:00:01 192.168.0.150                           eth1
15:50:00 ack      a4:5e:60:11:22:33 192.168.0.101 steamdeck                 eth1
15:50:00 NEW      a4:5e:60:11:22:33               steamdeck    android-dhc… eth1
15:45:00 promote  00:04:13:2a:3b:4c 10.20.0.51    phone-lobby               eth1
15:10:00 ack      3c:22:fb:01:02:03 192.168.0.100 laptop-anna  MSFT 5.0     eth1










offer (unknown client) · 02:00:5e:10:00:01 192.168.0.102 · via eth1 · 2026-05-0…
 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn arrivals_60() {
    assert_screen(
        &render(&screen("arrivals"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Arrivals 8 ────────────────────────────────────────────────
Time     Event    MAC               IP            Hostname
15:59:55 offer    02:00:5e:10:00:01 192.168.0.102
15:58:00 NEW      00:04:13:2a:3b:4d               phone-des…
15:56:00 !hook    a4:5e:60:11:22:33 192.168.0.101
15:55:00 !decline de:ad:be:ef:00:01 192.168.0.150
15:50:00 ack      a4:5e:60:11:22:33 192.168.0.101 steamdeck
15:50:00 NEW      a4:5e:60:11:22:33               steamdeck
15:45:00 promote  00:04:13:2a:3b:4c 10.20.0.51    phone-lob…
15:10:00 ack      3c:22:fb:01:02:03 192.168.0.100 laptop-an…









offer (unknown client) · 02:00:5e:10:00:01 192.168.0.102 · …
 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// Leases with countdowns and Berlin expiry times; the selected lease detailed at the bottom.
#[test]
fn leases_80() {
    assert_screen(
        &render(&screen("leases"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────────────────────────
IP▲           MAC               Hostname          Kind        Left     Expires
10.20.0.51    00:04:13:2a:3b:4c phone-lobby       moving      0:45:00  16:45:00
10.20.0.52    00:04:13:2a:3b:4d phone-desk-2      dynamic     1:58:00  17:58:00
192.168.0.2   00:23:32:aa:bb:cc host1             static      7:00:00  23:00:00
192.168.0.10  00:1b:a9:10:20:30 printer           static      10:02:05 Sat 02:02
192.168.0.100 3c:22:fb:01:02:03 laptop-anna       dynamic     1:10:00  17:10:00
192.168.0.101 a4:5e:60:11:22:33 steamdeck         dynamic     1:50:00  17:50:00
192.168.0.102 02:00:5e:10:00:01                   dynamic     0:00:55  16:00:55
192.168.0.103 f0:18:98:44:55:66 old-mac           dynamic     -        15:30:00
192.168.0.150 de:ad:be:ef:00:01                   quarantined 0:55:00  16:55:00









00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · ends 2026-05-01 16:45…
 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn leases_60() {
    assert_screen(
        &render(&screen("leases"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Leases 9 · sort ip▲ ───────────────────────────────────────
IP▲           Hostname        Kind        Left     Expires
10.20.0.51    phone-lobby     moving      0:45:00  16:45:00
10.20.0.52    phone-desk-2    dynamic     1:58:00  17:58:00
192.168.0.2   host1           static      7:00:00  23:00:00
192.168.0.10  printer         static      10:02:05 Sat 02:02
192.168.0.100 laptop-anna     dynamic     1:10:00  17:10:00
192.168.0.101 steamdeck       dynamic     1:50:00  17:50:00
192.168.0.102                 dynamic     0:00:55  16:00:55
192.168.0.103 old-mac         dynamic     -        15:30:00
192.168.0.150                 quarantined 0:55:00  16:55:00








00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · e…
 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// Static hosts with their origin.
#[test]
fn hosts_80() {
    assert_screen(
        &render(&screen("hosts"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Hosts 3 ───────────────────────────────────────────────────────────────────────
Name        IP           MAC               Origin Options               Added
phone-lobby 10.20.0.10   00:04:13:2a:3b:4c store  tftp-server-name=tft… 15:46:40
host1       192.168.0.2  00:23:32:aa:bb:cc config
printer     192.168.0.10 00:1b:a9:10:20:30 config domain-name-servers=…
















 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn hosts_60() {
    assert_screen(
        &render(&screen("hosts"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Hosts 3 ───────────────────────────────────────────────────
Name        IP           MAC               Origin Options
phone-lobby 10.20.0.10   00:04:13:2a:3b:4c store  tftp-serv…
host1       192.168.0.2  00:23:32:aa:bb:cc config
printer     192.168.0.10 00:1b:a9:10:20:30 config domain-na…















 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// One gauge per range.
#[test]
fn pools_80() {
    assert_screen(
        &render(&screen("pools"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Pools 2 ───────────────────────────────────────────────────────────────────────
192.168.0.0/24  192.168.0.100 – 192.168.0.190  (91 addresses)
 █▒░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░   3%  3 leased · 87 free · 1 quarantined

10.20.0.0/24  10.20.0.50 – 10.20.0.250  (201 addresses)
 █░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░   1%  2 leased · 199 free · 0 quarantined















 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn pools_60() {
    assert_screen(
        &render(&screen("pools"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Pools 2 ───────────────────────────────────────────────────
192.168.0.0/24  192.168.0.100 – 192.168.0.190  (91 addresse…
 █▒░░░░░░░░░░░░░░░   3%  3 leased · 87 free · 1 quarantined

10.20.0.0/24  10.20.0.50 – 10.20.0.250  (201 addresses)
 █░░░░░░░░░░░░░░░   1%  2 leased · 199 free · 0 quarantined














 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// The key overlay.
#[test]
fn help_80() {
    assert_screen(
        &render(&screen("help"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────────────────────────
IP▲           MAC               Hostname          Kind        Left     Expires
10.20.0.51   ┌ Keys ──────────────────────────────────────────────┐00  16:45:00
10.20.0.52   │ 1-4 Tab S-Tab switch view                          │00  17:58:00
192.168.0.2  │ ↑ ↓ j k       move                                 │00  23:00:00
192.168.0.10 │ PgUp PgDn g G page, top, bottom                    │:05 Sat 02:02
192.168.0.100│ /             filter (Enter keeps, Esc clears)     │00  17:10:00
192.168.0.101│ Esc           clear filter or message              │00  17:50:00
192.168.0.102│ s  S          sort leases: next column, reverse    │55  16:00:55
192.168.0.103│ p             promote a dynamic lease to static    │    15:30:00
192.168.0.150│ r             release the lease                    │00  16:55:00
             │ b             block the MAC                        │
             │ F5 Ctrl-R     reload now                           │
             │ ?             this help (any key closes)           │
             │ q Ctrl-C      quit                                 │
             │                                                    │
             │ Arrivals: NEW = unknown client, ! = failure.       │
             │ p r b also act on the selected arrival.            │
             │ Times are local (TZ); STALE = not live.            │
             └────────────────────────────────────────────────────┘
00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · ends 2026-05-01 16:45…
 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn help_60() {
    assert_screen(
        &render(&screen("help"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Leases 9 · sort ip▲ ───────────────────────────────────────
IP▲           Hostname        Kind        Left     Expires
10.┌ Keys ──────────────────────────────────────────────┐00
10.│ 1-4 Tab S-Tab switch view                          │00
192│ ↑ ↓ j k       move                                 │00
192│ PgUp PgDn g G page, top, bottom                    │:02
192│ /             filter (Enter keeps, Esc clears)     │00
192│ Esc           clear filter or message              │00
192│ s  S          sort leases: next column, reverse    │55
192│ p             promote a dynamic lease to static    │00
192│ r             release the lease                    │00
   │ b             block the MAC                        │
   │ F5 Ctrl-R     reload now                           │
   │ ?             this help (any key closes)           │
   │ q Ctrl-C      quit                                 │
   │                                                    │
   │ Arrivals: NEW = unknown client, ! = failure.       │
   │ p r b also act on the selected arrival.            │
   │ Times are local (TZ); STALE = not live.            │
00:└────────────────────────────────────────────────────┘ e…
 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// The promote dialog, prefilled from the selected dynamic lease.
#[test]
fn promote_80() {
    assert_screen(
        &render(&screen("promote"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────────────────────────
IP▲           MAC               Hostname          Kind        Left     Expires
10.20.0.51    00:04:13:2a:3b:4c phone-lobby       moving      0:45:00  16:45:00
10.20.0.52    00:04:13:2a:3b:4d phone-desk-2      dynamic     1:58:00  17:58:00
192.168.0.2   00:23:32:aa:bb:cc host1             static      7:00:00  23:00:00
192.168.0.10  00:1b:a9:10:20:30 printer           static      10:02:05 Sat 02:02
192.168.0.10┌ Promote to static host ──────────────────────────────┐0  17:10:00
192.168.0.10│ MAC       a4:5e:60:11:22:33                          │0  17:50:00
192.168.0.10│ now at    192.168.0.101 (dynamic)                    │5  16:00:55
192.168.0.10│ static IP 192.168.0.101█                             │   15:30:00
192.168.0.15│ hostname  steamdeck                                  │0  16:55:00
            │                                                      │
            │                                                      │
            │ Enter promote · Tab next field · Esc cancel          │
            └──────────────────────────────────────────────────────┘





a4:5e:60:11:22:33 · dynamic bound · ends 2026-05-01 17:50:00 CEST · 192.168.0.0…
 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn promote_60() {
    assert_screen(
        &render(&screen("promote"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Leases 9 · sort ip▲ ───────────────────────────────────────
IP▲           Hostname        Kind        Left     Expires
10.20.0.51    phone-lobby     moving      0:45:00  16:45:00
10.20.0.52    phone-desk-2    dynamic     1:58:00  17:58:00
192.168.0.2   host1           static      7:00:00  23:00:00
192.168.0.10  printer         static      10:02:05 Sat 02:02
19┌ Promote to static host ──────────────────────────────┐0
19│ MAC       a4:5e:60:11:22:33                          │0
19│ now at    192.168.0.101 (dynamic)                    │5
19│ static IP 192.168.0.101█                             │0
19│ hostname  steamdeck                                  │0
  │                                                      │
  │                                                      │
  │ Enter promote · Tab next field · Esc cancel          │
  └──────────────────────────────────────────────────────┘




a4:5e:60:11:22:33 · dynamic bound · ends 2026-05-01 17:50:0…
 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// Daemon gone: data marked STALE, RECONNECTING with a countdown, the error shown.
#[test]
fn disconnected_80() {
    assert_screen(
        &render(&screen("disconnected"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Leases 9 · sort ip▲ ─────────────────────────── STALE: not live since 15:59:30
IP▲           MAC               Hostname          Kind        Left     Expires
10.20.0.51    00:04:13:2a:3b:4c phone-lobby       moving      0:45:00  16:45:00
10.20.0.52    00:04:13:2a:3b:4d phone-desk-2      dynamic     1:58:00  17:58:00
192.168.0.2   00:23:32:aa:bb:cc host1             static      7:00:00  23:00:00
192.168.0.10  00:1b:a9:10:20:30 printer           static      10:02:05 Sat 02:02
192.168.0.100 3c:22:fb:01:02:03 laptop-anna       dynamic     1:10:00  17:10:00
192.168.0.101 a4:5e:60:11:22:33 steamdeck         dynamic     1:50:00  17:50:00
192.168.0.102 02:00:5e:10:00:01                   dynamic     0:00:55  16:00:55
192.168.0.103 f0:18:98:44:55:66 old-mac           dynamic     -        15:30:00
192.168.0.150 de:ad:be:ef:00:01                   quarantined 0:55:00  16:55:00








00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · ends 2026-05-01 16:45…
 RECONNECTING in 3s │ /run/berth/control.sock │ berthd 0.1.0-fake
last error: no berthd control socket at /run/berth/control.sock: is the daemon
running?
"#,
    );
}

#[test]
fn disconnected_60() {
    assert_screen(
        &render(&screen("disconnected"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Leases 9 · sort ip▲ ─────── STALE: not live since 15:59:30
IP▲           Hostname        Kind        Left     Expires
10.20.0.51    phone-lobby     moving      0:45:00  16:45:00
10.20.0.52    phone-desk-2    dynamic     1:58:00  17:58:00
192.168.0.2   host1           static      7:00:00  23:00:00
192.168.0.10  printer         static      10:02:05 Sat 02:02
192.168.0.100 laptop-anna     dynamic     1:10:00  17:10:00
192.168.0.101 steamdeck       dynamic     1:50:00  17:50:00
192.168.0.102                 dynamic     0:00:55  16:00:55
192.168.0.103 old-mac         dynamic     -        15:30:00
192.168.0.150                 quarantined 0:55:00  16:55:00








00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · e…
 RECONNECTING in 3s │ /run/berth/control.sock
last error: no berthd control socket at
/run/berth/control.sock: is the daemon running?
"#,
    );
}

// Release asks first.
#[test]
fn confirm_80() {
    assert_screen(
        &render(&screen("confirm"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────────────────────────
IP▲           MAC               Hostname          Kind        Left     Expires
10.20.0.51    00:04:13:2a:3b:4c phone-lobby       moving      0:45:00  16:45:00
10.20.0.52    00:04:13:2a:3b:4d phone-desk-2      dynamic     1:58:00  17:58:00
192.168.0.2   00:23:32:aa:bb:cc host1             static      7:00:00  23:00:00
192.168.0.10  00:1b:a9:10:20:30 printer           static      10:02:05 Sat 02:02
192.168.0.100 3c:22:fb:01:02:03 laptop-anna       dynamic     1:10:00  17:10:00
192.168.0.101┌ Confirm ───────────────────────────────────────────┐00  17:50:00
192.168.0.102│ Release 10.20.0.52 (00:04:13:2a:3b:4d,             │55  16:00:55
192.168.0.103│ phone-desk-2)? The client will have to ask again.  │    15:30:00
192.168.0.150│                                                    │00  16:55:00
             │ Enter/y confirm · Esc/n cancel                     │
             │                                                    │
             └────────────────────────────────────────────────────┘






00:04:13:2a:3b:4d · dynamic bound · ends 2026-05-01 17:58:00 CEST · 10.20.0.0/2…
 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn confirm_60() {
    assert_screen(
        &render(&screen("confirm"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Leases 9 · sort ip▲ ───────────────────────────────────────
IP▲           Hostname        Kind        Left     Expires
10.20.0.51    phone-lobby     moving      0:45:00  16:45:00
10.20.0.52    phone-desk-2    dynamic     1:58:00  17:58:00
192.168.0.2   host1           static      7:00:00  23:00:00
192.168.0.10  printer         static      10:02:05 Sat 02:02
192.168.0.100 laptop-anna     dynamic     1:10:00  17:10:00
192┌ Confirm ───────────────────────────────────────────┐00
192│ Release 10.20.0.52 (00:04:13:2a:3b:4d,             │55
192│ phone-desk-2)? The client will have to ask again.  │00
192│                                                    │00
   │ Enter/y confirm · Esc/n cancel                     │
   │                                                    │
   └────────────────────────────────────────────────────┘





00:04:13:2a:3b:4d · dynamic bound · ends 2026-05-01 17:58:0…
 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// A read-only user gets told, in full.
#[test]
fn denied_80() {
    assert_screen(
        &render(&screen("denied"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────────────────────────
IP▲           MAC               Hostname          Kind        Left     Expires
10.20.0.51    00:04:13:2a:3b:4c phone-lobby       moving      0:45:00  16:45:00
10.20.0.52    00:04:13:2a:3b:4d phone-desk-2      dynamic     1:58:00  17:58:00
192.168.0.2   00:23:32:aa:bb:cc host1             static      7:00:00  23:00:00
192.168.0.10  00:1b:a9:10:20:30 printer           static      10:02:05 Sat 02:02
192.168.0.100 3c:22:fb:01:02:03 laptop-anna       dynamic     1:10:00  17:10:00
192.168.0.101 a4:5e:60:11:22:33 steamdeck         dynamic     1:50:00  17:50:00
192.168.0.102 02:00:5e:10:00:01                   dynamic     0:00:55  16:00:55
192.168.0.103 f0:18:98:44:55:66 old-mac           dynamic     -        15:30:00
192.168.0.150 de:ad:be:ef:00:01                   quarantined 0:55:00  16:55:00








00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · ends 2026-05-01 16:45…
 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
read-only: release 192.168.0.100 refused, this user may look but not change
(peer uid 1000 is not an admin)
"#,
    );
}

#[test]
fn denied_60() {
    assert_screen(
        &render(&screen("denied"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Leases 9 · sort ip▲ ───────────────────────────────────────
IP▲           Hostname        Kind        Left     Expires
10.20.0.51    phone-lobby     moving      0:45:00  16:45:00
10.20.0.52    phone-desk-2    dynamic     1:58:00  17:58:00
192.168.0.2   host1           static      7:00:00  23:00:00
192.168.0.10  printer         static      10:02:05 Sat 02:02
192.168.0.100 laptop-anna     dynamic     1:10:00  17:10:00
192.168.0.101 steamdeck       dynamic     1:50:00  17:50:00
192.168.0.102                 dynamic     0:00:55  16:00:55
192.168.0.103 old-mac         dynamic     -        15:30:00
192.168.0.150                 quarantined 0:55:00  16:55:00








00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · e…
 connected │ berthd 0.1.0-fake
read-only: release 192.168.0.100 refused, this user may look
but not change (peer uid 1000 is not an admin)
"#,
    );
}

// Filter applied: the title counts what matches.
#[test]
fn filtered_80() {
    assert_screen(
        &render(&screen("filtered"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Leases 2 of 9 · sort ip▲ · filter "phone" ─────────────────────────────────────
IP▲        MAC               Hostname             Kind    State Left    Expires
10.20.0.51 00:04:13:2a:3b:4c phone-lobby          moving  bound 0:45:00 16:45:00
10.20.0.52 00:04:13:2a:3b:4d phone-desk-2         dynamic bound 1:58:00 17:58:00
















00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · ends 2026-05-01 16:45…
 connected │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn filtered_60() {
    assert_screen(
        &render(&screen("filtered"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Leases 2 of 9 · sort ip▲ · filter "phone" ─────────────────
IP▲        MAC               Hostname        Kind    Left
10.20.0.51 00:04:13:2a:3b:4c phone-lobby     moving  0:45:00
10.20.0.52 00:04:13:2a:3b:4d phone-desk-2    dynamic 1:58:00















00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · e…
 connected │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// Before anything is known.
#[test]
fn connecting_80() {
    assert_screen(
        &render(&screen("connecting"), 80, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools                    16:00:00 CEST
 Arrivals 0 ────────────────────────────────────────────────────────────────────
no data yet: waiting for berthd at /run/berth/control.sock…



















 connecting… │ /run/berth/control.sock
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn connecting_60() {
    assert_screen(
        &render(&screen("connecting"), 60, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools
 Arrivals 0 ────────────────────────────────────────────────
no data yet: waiting for berthd at /run/berth/control.sock…


















 connecting… │ /run/berth/control.sock
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

// Styles.

/// Every cell's colours and modifiers over all screens.
fn styles(color: bool) -> Vec<(String, ratatui::style::Style)> {
    let names = [
        "arrivals",
        "leases",
        "hosts",
        "pools",
        "help",
        "promote",
        "disconnected",
        "confirm",
        "denied",
    ];
    let mut out = Vec::new();
    for name in names {
        let mut m = screen(name);
        m.color = color;
        let buf = render_buf(&m, 80, 24);
        for y in 0..24 {
            for x in 0..80 {
                let c = &buf[(x, y)];
                out.push((format!("{name} ({x},{y}) {:?}", c.symbol()), c.style()));
            }
        }
    }
    out
}

#[test]
fn no_color_means_no_colours_only_bold_and_reverse() {
    let cells = styles(false);
    for (at, style) in &cells {
        let fg = style.fg.unwrap_or(Color::Reset);
        let bg = style.bg.unwrap_or(Color::Reset);
        assert!(
            fg == Color::Reset && bg == Color::Reset,
            "colour at {at}: {style:?}"
        );
    }
    // Emphasis survives without colour.
    let has = |m: Modifier| cells.iter().any(|(_, s)| s.add_modifier.contains(m));
    assert!(has(Modifier::BOLD));
    assert!(has(Modifier::REVERSED));
}

#[test]
fn colours_mark_new_clients_failures_and_staleness() {
    let mut m = screen("arrivals");
    let buf = render_buf(&m, 80, 24);
    // Row 4 is the NEW phone-desk-2 arrival, row 5 the failed hook.
    assert_eq!(buf[(9, 4)].symbol(), "N");
    assert_eq!(buf[(9, 4)].fg, Color::Yellow);
    assert_eq!(buf[(9, 5)].symbol(), "!");
    assert_eq!(buf[(9, 5)].fg, Color::Red);
    // The selected row is reversed across the whole width.
    assert!(buf[(79, 3)].modifier.contains(Modifier::REVERSED));

    m = screen("disconnected");
    let buf = render_buf(&m, 80, 24);
    // Data rows are greyed while stale.
    for x in 0..13 {
        assert_eq!(buf[(x, 4)].fg, Color::DarkGray, "cell ({x},4)");
    }
}

/// Prints every screen; for reviewing and updating the expectations:
/// `cargo test -p berth --lib print_all -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_all() {
    for name in [
        "arrivals",
        "leases",
        "hosts",
        "pools",
        "help",
        "promote",
        "disconnected",
        "confirm",
        "denied",
        "filtered",
        "connecting",
    ] {
        for w in [80u16, 60] {
            println!("=== {name} {w}");
            print!("{}", render(&screen(name), w, 24));
        }
    }
}

/// A client chose this host name and vendor class: an OSC title change, a
/// bell and a CSI screen clear. None of it may reach the terminal.
#[test]
fn client_control_characters_never_reach_the_terminal() {
    const HOSTILE: &str = "pwn\x1b]0;owned\x07\x1b[2J\u{9b}1m";
    let mut m = loaded(true);
    let mut leases: Vec<_> = m.leases.iter().cloned().collect();
    for l in &mut leases {
        l.hostname = Some(HOSTILE.into());
    }
    update(
        &mut m,
        Msg::Snapshot(Box::new(super::super::model::Snapshot {
            status: None,
            leases: Some(leases),
            hosts: None,
            pools: None,
        })),
    );
    update(
        &mut m,
        Msg::Events {
            events: vec![berth_proto::Event {
                seq: 9_999,
                at: now_s(),
                kind: berth_proto::EventKind::Arrival,
                mac: Some("02:00:00:00:99:99".into()),
                ip: None,
                hostname: Some(HOSTILE.into()),
                vendor_class: Some(HOSTILE.into()),
                interface: Some(HOSTILE.into()),
                unknown: true,
                ok: false,
                detail: HOSTILE.into(),
            }],
            missed: false,
            restarted: false,
        },
    );
    for view in [View::Arrivals, View::Leases, View::Hosts, View::Pools] {
        m.view = view;
        let buf = render_buf(&m, 160, 30);
        for cell in buf.content() {
            assert!(
                !cell.symbol().chars().any(char::is_control),
                "{view:?} puts {:?} on the terminal",
                cell.symbol()
            );
        }
        let text = render(&m, 160, 30);
        if view == View::Leases || view == View::Arrivals {
            assert!(text.contains("pwn\\x1b]0;owned"), "{view:?}:\n{text}");
        }
    }
}
