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
        "quarantine" => m.view = View::Quarantine,
        "clear" => {
            m.view = View::Quarantine;
            update(&mut m, ch('c'));
        }
        "hooks" => m.view = View::Hooks,
        "explain" => {
            // phone-desk-2, the snom phone, by its arrival (vendor snom370).
            m.view = View::Leases;
            for _ in 0..1 {
                update(&mut m, ch('j'));
            }
            let cmds = update(&mut m, ch('e'));
            let Some(super::super::model::Command::Explain(req)) = cmds.first() else {
                panic!("no explain command: {cmds:?}");
            };
            let e = super::super::fake::demo_explanation(req);
            update(
                &mut m,
                Msg::Explained {
                    mac: req.mac.clone(),
                    result: Box::new(Ok(e)),
                },
            );
        }
        "history" => {
            m.view = View::Leases;
            update(&mut m, ch('j'));
            update(&mut m, ch('j'));
            update(&mut m, ch('j'));
            update(&mut m, ch('j'));
            update(&mut m, ch('j'));
            let cmds = update(&mut m, key(KeyCode::Enter));
            let Some(super::super::model::Command::History { mac }) = cmds.first() else {
                panic!("no history command: {cmds:?}");
            };
            let evs = super::super::fake::demo_data(now_s())
                .events
                .into_iter()
                .filter(|e| e.mac.as_deref() == Some(mac.as_str()))
                .collect();
            update(
                &mut m,
                Msg::History {
                    mac: mac.clone(),
                    result: Ok(evs),
                },
            );
        }
        "store_failing" => {
            if let Some(s) = &mut m.status {
                s.store_health.ok = false;
                s.store_health.pending_writes = 12;
                s.rate_limited_clients = 3;
                s.arp.enabled = true;
                s.arp.sweep_interval_secs = Some(600);
                s.arp.probe_timeout_ms = Some(200);
            }
        }
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn arrivals_60() {
    assert_screen(
        &render(&screen("arrivals"), 60, 24),
        r#"
 berth  1 Arrivals  2  3  4  5  6             16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn leases_60() {
    assert_screen(
        &render(&screen("leases"), 60, 24),
        r#"
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Hosts 3 ───────────────────────────────────────────────────────────────────────
Name        IP           MAC               Origin Options               Added
phone-lobby 10.20.0.10   00:04:13:2a:3b:4c store  tftp-server-name=tft… 15:46:40
host1       192.168.0.2  00:23:32:aa:bb:cc config
printer     192.168.0.10 00:1b:a9:10:20:30 config domain-name-servers=…
















 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn hosts_60() {
    assert_screen(
        &render(&screen("hosts"), 60, 24),
        r#"
 berth  1  2  3 Hosts  4  5  6                16:00:00 CEST
 Hosts 3 ───────────────────────────────────────────────────
Name        IP           MAC               Origin Options
phone-lobby 10.20.0.10   00:04:13:2a:3b:4c store  tftp-serv…
host1       192.168.0.2  00:23:32:aa:bb:cc config
printer     192.168.0.10 00:1b:a9:10:20:30 config domain-na…















 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Pools 2 ───────────────────────────────────────────────────────────────────────
192.168.0.0/24  192.168.0.100 – 192.168.0.190  (91 addresses)
 █▒░░░░░░░░░░░░░░░░░░░░░░   3%  3 leased · 87 free · 1 quarantined · 1 observed
 last sweep 15:58:00 on eth1: 4 of 91 answered in 1.2 s
 SQUATTER 192.168.0.140 66:77:88:99:aa:bb in use without a lease (15:58:00)

10.20.0.0/24  10.20.0.50 – 10.20.0.250  (201 addresses)
 █░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░   1%  2 leased · 199 free · 0 quarantined
 not swept yet · w sweeps it now












 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn pools_60() {
    assert_screen(
        &render(&screen("pools"), 60, 24),
        r#"
 berth  1  2  3  4 Pools  5  6                16:00:00 CEST
 Pools 2 ───────────────────────────────────────────────────
192.168.0.0/24  192.168.0.100 – 192.168.0.190  (91 addresse…
 █▒░░░░░░░░   3%  3 leased · 87 free · 1 quarantined · 1 ob…
 last sweep 15:58:00 on eth1: 4 of 91 answered in 1.2 s
 SQUATTER 192.168.0.140 66:77:88:99:aa:bb in use without a …

10.20.0.0/24  10.20.0.50 – 10.20.0.250  (201 addresses)
 █░░░░░░░░░░░░░░░   1%  2 leased · 199 free · 0 quarantined
 not swept yet · w sweeps it now











 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Leases 9 · s┌ Keys ──────────────────────────────────────────────┐─────────────
IP▲          │ 1-6 Tab S-Tab switch view                          │    Expires
10.20.0.51   │ ↑ ↓ j k       move                                 │00  16:45:00
10.20.0.52   │ PgUp PgDn g G page, top, bottom                    │00  17:58:00
192.168.0.2  │ /             filter (Enter keeps, Esc clears)     │00  23:00:00
192.168.0.10 │ Esc           clear filter or message              │:05 Sat 02:02
192.168.0.100│ s  S          sort leases: next column, reverse    │00  17:10:00
192.168.0.101│ p             promote a dynamic lease to static    │00  17:50:00
192.168.0.102│ r             release the lease                    │55  16:00:55
192.168.0.103│ b             block the MAC                        │    15:30:00
192.168.0.150│ e             explain: what the client would get   │00  16:55:00
             │ Enter         the client's history, newest first   │
             │ w             sweep the selected range (Pools)     │
             │ c             clear the selected quarantine        │
             │ F5 Ctrl-R     reload now                           │
             │ ?             this help (any key closes)           │
             │ q Ctrl-C      quit                                 │
             │                                                    │
             │ Arrivals: NEW = unknown client, ! = failure.       │
             │ p r b also act on the selected arrival.            │
00:04:13:2a:3│ Times are local (TZ); STALE = not live.            │-05-01 16:45…
 connected │ └────────────────────────────────────────────────────┘
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn help_60() {
    assert_screen(
        &render(&screen("help"), 60, 24),
        r#"
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
 Le┌ Keys ──────────────────────────────────────────────┐───
IP▲│ 1-6 Tab S-Tab switch view                          │s
10.│ ↑ ↓ j k       move                                 │00
10.│ PgUp PgDn g G page, top, bottom                    │00
192│ /             filter (Enter keeps, Esc clears)     │00
192│ Esc           clear filter or message              │:02
192│ s  S          sort leases: next column, reverse    │00
192│ p             promote a dynamic lease to static    │00
192│ r             release the lease                    │55
192│ b             block the MAC                        │00
192│ e             explain: what the client would get   │00
   │ Enter         the client's history, newest first   │
   │ w             sweep the selected range (Pools)     │
   │ c             clear the selected quarantine        │
   │ F5 Ctrl-R     reload now                           │
   │ ?             this help (any key closes)           │
   │ q Ctrl-C      quit                                 │
   │                                                    │
   │ Arrivals: NEW = unknown client, ! = failure.       │
00:│ p r b also act on the selected arrival.            │ e…
 co│ Times are local (TZ); STALE = not live.            │
? k└────────────────────────────────────────────────────┘se
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn promote_60() {
    assert_screen(
        &render(&screen("promote"), 60, 24),
        r#"
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
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
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn confirm_60() {
    assert_screen(
        &render(&screen("confirm"), 60, 24),
        r#"
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
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
 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Leases 2 of 9 · sort ip▲ · filter "phone" ─────────────────────────────────────
IP▲        MAC               Hostname             Kind    State Left    Expires
10.20.0.51 00:04:13:2a:3b:4c phone-lobby          moving  bound 0:45:00 16:45:00
10.20.0.52 00:04:13:2a:3b:4d phone-desk-2         dynamic bound 1:58:00 17:58:00
















00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · ends 2026-05-01 16:45…
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn filtered_60() {
    assert_screen(
        &render(&screen("filtered"), 60, 24),
        r#"
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
 Leases 2 of 9 · sort ip▲ · filter "phone" ─────────────────
IP▲        MAC               Hostname        Kind    Left
10.20.0.51 00:04:13:2a:3b:4c phone-lobby     moving  0:45:00
10.20.0.52 00:04:13:2a:3b:4d phone-desk-2    dynamic 1:58:00















00:04:13:2a:3b:4c · moving to 10.20.0.10 · moving bound · e…
 connected │ HOOK FAILED │ berthd 0.1.0-fake
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
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
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
 berth  1 Arrivals  2  3  4  5  6             16:00:00 CEST
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
            quarantine: None,
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

// The new views, at 80 and 60 columns.

#[test]
fn quarantine_80() {
    assert_screen(
        &render(&screen("quarantine"), 80, 24),
        r#"
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Quarantine 1 ──────────────────────────────────────────────────────────────────
IP            Reason   By MAC            Left    Until    Subnet
192.168.0.150 declined de:ad:be:ef:00:01 0:55:00 16:55:00 192.168.0.0/24

















192.168.0.150 quarantined since 2026-05-01 15:55:00 CEST · c clears it
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn quarantine_60() {
    assert_screen(
        &render(&screen("quarantine"), 60, 24),
        r#"
 berth  1  2  3  4  5 Quarantine  6           16:00:00 CEST
 Quarantine 1 ──────────────────────────────────────────────
IP            Reason   By MAC            Left    Until
192.168.0.150 declined de:ad:be:ef:00:01 0:55:00 16:55:00
















192.168.0.150 quarantined since 2026-05-01 15:55:00 CEST · …
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

#[test]
fn clear_80() {
    assert_screen(
        &render(&screen("clear"), 80, 24),
        r#"
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Quarantine 1 ──────────────────────────────────────────────────────────────────
IP            Reason   By MAC            Left    Until    Subnet
192.168.0.150 declined de:ad:be:ef:00:01 0:55:00 16:55:00 192.168.0.0/24




             ┌ Confirm ───────────────────────────────────────────┐
             │ Clear the quarantine of 192.168.0.150 (declined by │
             │ de:ad:be:ef:00:01)? The pool may offer it again at │
             │ once.                                              │
             │                                                    │
             │ Enter/y confirm · Esc/n cancel                     │
             │                                                    │
             └────────────────────────────────────────────────────┘





192.168.0.150 quarantined since 2026-05-01 15:55:00 CEST · c clears it
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn hooks_80() {
    assert_screen(
        &render(&screen("hooks"), 80, 24),
        r#"
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Hooks 1 ───────────────────────────────────────────────────────────────────────
Time     Result What Client                          Detail
15:56:00 FAILED hook a4:5e:60:11:22:33 192.168.0.101 /etc/berth/dhcp-event exit…

















/etc/berth/dhcp-event exited 1
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn hooks_60() {
    assert_screen(
        &render(&screen("hooks"), 60, 24),
        r#"
 berth  1  2  3  4  5  6 Hooks                16:00:00 CEST
 Hooks 1 ───────────────────────────────────────────────────
Time     Result What Detail
15:56:00 FAILED hook /etc/berth/dhcp-event exited 1
















/etc/berth/dhcp-event exited 1
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

#[test]
fn explain_80() {
    assert_screen(
        &render(&screen("explain"), 80, 24),
        r#"
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────────────────────────
IP▲           MAC               Hostname          Kind        Left     Expires
10┌ Explain 00:04:13:2a:3b:4d ───────────────────────────────────────────────┐0
10│ offered 10.20.0.52                                                       │0
19│ host        -                                                            │0
19│ subnet      10.20.0.0/24                                                 │02
19│ range       10.20.0.50-10.20.0.250                                       │0
19│ classes     snom                                                         │0
19│ interface   eth2                                                         │5
19│ next-server 10.20.0.5                                                    │0
19│ boot file   snom370.htm                                                  │0
  │                                                                          │
  │ Option                   Value        Scope                              │
  │ routers (3)              10.20.0.1    subnet                             │
  │ domain-name-servers (6)  10.20.0.1    global                             │
  │ tftp-server-name (66)    10.20.0.5    class snom                         │
  │ bootfile-name (67)       snom370.htm  class snom                         │
  │ j/k scroll · any other key closes                                        │
  └──────────────────────────────────────────────────────────────────────────┘

00:04:13:2a:3b:4d · dynamic bound · ends 2026-05-01 17:58:00 CEST · 10.20.0.0/2…
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn explain_60() {
    assert_screen(
        &render(&screen("explain"), 60, 24),
        r#"
 berth  1  2 Leases  3  4  5  6               16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────
IP▲           Hostname        Kind        Left     Expires
10┌ Explain 00:04:13:2a:3b:4d ───────────────────────────┐0
10│ offered 10.20.0.52                                   │0
19│ host        -                                        │0
19│ subnet      10.20.0.0/24                             │02
19│ range       10.20.0.50-10.20.0.250                   │0
19│ classes     snom                                     │0
19│ interface   eth2                                     │5
19│ next-server 10.20.0.5                                │0
19│ boot file   snom370.htm                              │0
  │                                                      │
  │ Option                   Value        Scope          │
  │ routers (3)              10.20.0.1    subnet         │
  │ domain-name-servers (6)  10.20.0.1    global         │
  │ tftp-server-name (66)    10.20.0.5    class snom     │
  │ bootfile-name (67)       snom370.htm  class snom     │
  │ j/k scroll · any other key closes                    │
  └──────────────────────────────────────────────────────┘
00:04:13:2a:3b:4d · dynamic bound · ends 2026-05-01 17:58:0…
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release
· b block
"#,
    );
}

#[test]
fn history_80() {
    assert_screen(
        &render(&screen("history"), 80, 24),
        r#"
 1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks    16:00:00 CEST
 Leases 9 · sort ip▲ ───────────────────────────────────────────────────────────
IP▲           MAC               Hostname          Kind        Left     Expires
10.20.0.51    00:04:13:2a:3b:4c phone-lobby       moving      0:45:00  16:45:00
10.20.0.52    00:04:13:2a:3b:4d phone-desk-2      dynamic     1:58:00  17:58:00
192.168.0.2   00:23:32:aa:bb:cc host1             static      7:00:00  23:00:00
192.168.0.10  00:1b:a9:10:20:30 printer           static      10:02:05 Sat 02:02
192.168.0.100 3c:22:fb:01:02:03 laptop-anna       dynamic     1:10:00  17:10:00
192.168.0.101 a4:5e:60:11:22:33 steamdeck         dynamic     1:50:00  17:50:00
19┌ History of a4:5e:60:11:22:33 · 3 events, newest first ───────────────────┐5
19│ 15:56:00 hook_result  192.168.0.101   · /etc/berth/dhcp-event exited 1   │0
19│ 15:50:00 ack          192.168.0.101   steamdeck                          │0
  │ 15:50:00 arrival      steamdeck [android-dhcp-13]                        │
  │ j/k scroll · any other key closes                                        │
  └──────────────────────────────────────────────────────────────────────────┘






a4:5e:60:11:22:33 · dynamic bound · ends 2026-05-01 17:50:00 CEST · 192.168.0.0…
 connected │ HOOK FAILED │ berthd 0.1.0-fake
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn store_failing_120() {
    assert_screen(
        &render(&screen("store_failing"), 120, 24),
        r#"
 berth  1 Arrivals  2 Leases  3 Hosts  4 Pools  5 Quarantine  6 Hooks                                     16:00:00 CEST
 Arrivals 8 ────────────────────────────────────────────────────────────────────────────────────────────────────────────
Time     Event    MAC               IP            Hostname           Vendor          If   Detail
15:59:55 offer    02:00:5e:10:00:01 192.168.0.102                                    eth1
15:58:00 NEW      00:04:13:2a:3b:4d               phone-desk-2       snom370         eth2
15:56:00 !hook    a4:5e:60:11:22:33 192.168.0.101                                         /etc/berth/dhcp-event exited 1
15:55:00 !decline de:ad:be:ef:00:01 192.168.0.150                                    eth1 address in use: quarantined
15:50:00 ack      a4:5e:60:11:22:33 192.168.0.101 steamdeck                          eth1
15:50:00 NEW      a4:5e:60:11:22:33               steamdeck          android-dhcp-13 eth1
15:45:00 promote  00:04:13:2a:3b:4c 10.20.0.51    phone-lobby                        eth1 to 10.20.0.10
15:10:00 ack      3c:22:fb:01:02:03 192.168.0.100 laptop-anna        MSFT 5.0        eth1










offer (unknown client) · 02:00:5e:10:00:01 192.168.0.102 · via eth1 · 2026-05-01 15:59:55 CEST
 connected │ STORE FAILING · 12 pending │ HOOK FAILED │ berthd 0.1.0-fake │ 6/9 leases bound · 2+1 hosts · 0 blocked
? keys · q quit · / filter · s sort · p promote · r release · b block
"#,
    );
}

#[test]
fn status_bar_shows_store_health_sweeps_and_limits_when_wide() {
    let mut m = screen("arrivals");
    if let Some(s) = &mut m.status {
        s.store_health.last_ok = Some(now_s() - 5);
        s.store_health.pending_writes = 2;
        s.rate_limited_clients = 3;
    }
    // A hook that works again is no alarm.
    update(
        &mut m,
        Msg::Events {
            events: vec![berth_proto::Event {
                ok: true,
                detail: "commit /etc/berth/dhcp-event: exited 0".into(),
                ..super::super::fake::event(99, now_s(), berth_proto::EventKind::HookResult)
            }],
            missed: false,
            restarted: false,
        },
    );
    let screen = render(&m, 200, 24);
    let bar = screen.lines().nth(22).expect("status bar");
    assert!(!bar.contains("HOOK FAILED"), "{bar}");
    assert!(
        bar.contains("store ok, last commit 5s ago · 2 pending"),
        "{bar}"
    );
    assert!(bar.contains("sweeps off · probes off"), "{bar}");
    assert!(bar.contains("3 rate-limited"), "{bar}");
}

#[test]
fn hidden_columns_from_the_settings_leave_room_for_the_rest() {
    let mut m = screen("arrivals");
    let before = render(&m, 80, 24);
    assert!(before.lines().nth(2).is_some_and(|l| l.contains("Vendor")));
    m.hidden_columns = vec!["vendor".into(), "ip".into()];
    let after = render(&m, 80, 24);
    let header = after.lines().nth(2).expect("header");
    assert!(
        !header.contains("Vendor") && !header.contains(" IP "),
        "{header}"
    );
    assert!(
        header.contains("Detail"),
        "freed room goes to others: {header}"
    );
}

#[test]
fn a_failing_webhook_is_flagged_as_such_on_the_bar_and_in_the_hooks_view() {
    let mut m = screen("hooks");
    update(
        &mut m,
        Msg::Events {
            events: vec![berth_proto::Event {
                ok: false,
                detail: "webhook http://192.0.2.5:8080/dhcp: delivery failing: connection failed: refused; retrying".into(),
                interface: None,
                ..super::super::fake::event(99, now_s(), berth_proto::EventKind::HookResult)
            }],
            missed: false,
            restarted: false,
        },
    );
    let screen = render(&m, 80, 24);
    let row = screen.lines().nth(3).expect("newest row");
    assert!(row.contains("FAILED webhook"), "{screen}");
    let bar = screen.lines().nth(22).expect("status bar");
    assert!(bar.contains("WEBHOOK FAILING"), "{bar}");
}
