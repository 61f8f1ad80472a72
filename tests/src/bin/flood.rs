//! Floods a DHCP server with DISCOVERs from one MAC, as a relay: a bounded
//! count within a bounded time, for the flood-protection test.
//!
//! Run it only inside a lab namespace (e2e_policy does):
//! `flood --relay 192.0.2.50 --server 192.0.2.1 --mac 02:00:00:00:0f:01
//! --count 2000 --secs 2`. It sends from relay:any-port to server:67 with
//! giaddr = relay, spread evenly over `secs`, and prints `sent N`.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use berthd::addr::MacAddr;
use berthd::packet::{MessageType, Packet};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut relay, mut server, mut mac) = (None, None, None);
    let (mut count, mut secs) = (1000u32, 1u64);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value {value:?}");
        match flag.as_str() {
            "--relay" => relay = Some(value.parse::<Ipv4Addr>().with_context(bad)?),
            "--server" => server = Some(value.parse::<Ipv4Addr>().with_context(bad)?),
            "--mac" => mac = Some(value.parse::<MacAddr>().with_context(bad)?),
            "--count" => count = value.parse().with_context(bad)?,
            "--secs" => secs = value.parse().with_context(bad)?,
            _ => bail!("unknown argument {flag}"),
        }
    }
    let (Some(relay), Some(server), Some(mac)) = (relay, server, mac) else {
        bail!("--relay, --server and --mac are required");
    };
    let sock = UdpSocket::bind((relay, 0)).with_context(|| format!("cannot bind {relay}"))?;
    let to = SocketAddrV4::new(server, 67);
    let start = Instant::now();
    let gap = Duration::from_secs(secs) / count.max(1);
    for n in 0..count {
        let mut p = Packet::request(mac, MessageType::Discover, n);
        p.giaddr = relay;
        let _ = sock.send_to(&p.encode(576, &[]).0, to);
        let due = start + gap * (n + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    println!("sent {count} in {:.2} s", start.elapsed().as_secs_f64());
    Ok(())
}
