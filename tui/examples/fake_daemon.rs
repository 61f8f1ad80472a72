//! A fake `berthd` control socket with sample data, for trying the TUI by
//! hand: `cargo run -p berth --features fake --example fake_daemon -- /tmp/berth-fake.sock
//! [--simulate] [--read-only] [--move-after SECS] [--leases N]`.
//!
//! `--simulate` brings a new unknown client every few seconds;
//! `--move-after` lets promoted clients come back on their static address
//! after that many seconds; `--leases N` adds N leases in 10.0.0.0/8, to
//! see the TUI at scale. Stop it with Ctrl-C; start it again to see the
//! TUI reconnect to a restarted daemon.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth::app::fake::{self, FakeDaemon};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut socket = PathBuf::from("/tmp/berth-fake.sock");
    let mut simulate = false;
    let mut read_only = false;
    let mut move_after = Some(Duration::from_secs(8));
    let mut extra_leases = 0u32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--simulate" => simulate = true,
            "--read-only" => read_only = true,
            "--move-after" => {
                let secs: u64 = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--move-after needs seconds"))?
                    .parse()?;
                move_after = Some(Duration::from_secs(secs));
            }
            "--no-move" => move_after = None,
            "--leases" => {
                extra_leases = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--leases needs a count"))?
                    .parse()?;
            }
            other if other.starts_with('-') => anyhow::bail!("unknown option {other}"),
            other => socket = PathBuf::from(other),
        }
    }
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
    let mut data = fake::demo_data(now);
    data.leases.extend(fake::many_leases(extra_leases, now));
    data.leases.sort_by_key(|l| l.ip);
    let daemon = FakeDaemon::new(data);
    daemon.set_read_only(read_only);
    daemon.set_move_after(move_after);
    let server = fake::serve(&socket, daemon.clone())?;
    eprintln!("fake berthd on {}", socket.display());
    if simulate {
        let d = daemon.clone();
        tokio::spawn(async move {
            let guests = [
                (Some("switch-lan"), Some("nintendo")),
                (Some("pc-bob"), Some("MSFT 5.0")),
                (None, Some("udhcp 1.36.1")),
                (Some("phone-lobby-3"), Some("snom370")),
                (Some("iphone"), None),
            ];
            for (i, (host, vendor)) in guests.iter().cycle().enumerate() {
                tokio::time::sleep(Duration::from_secs(6)).await;
                d.arrive(*host, *vendor);
                if i % 4 == 3 {
                    let mut e = fake::event(0, now_secs(), berth_proto::EventKind::HookResult);
                    e.ok = false;
                    e.detail = "webhook http://inventory.lan/dhcp: 503".into();
                    d.push(e);
                }
            }
        });
    }
    tokio::signal::ctrl_c().await?;
    server.stop();
    Ok(())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
