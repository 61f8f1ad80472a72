//! Floods a DHCP server with DISCOVERs, as a relay or from the link: a
//! bounded count within a bounded time, for the flood-protection and
//! starvation tests.
//!
//! Run it only inside a lab namespace (e2e_policy, e2e_starvation do):
//! `flood --relay 192.0.2.50 --server 192.0.2.1 --mac 02:00:00:00:0f:01
//! --count 2000 --secs 2`. It sends from relay:any-port to server:67 with
//! giaddr = relay, spread evenly over `secs`, and prints `sent N`.
//!
//! Starvation: `--mac random` gives every packet its own random MAC
//! (locally administered, from a fixed seed); `--init-reboot A-B` makes
//! every other packet an INIT-REBOOT REQUEST (option 50, no server id) for
//! a random address in A-B; `--direct` sends as a client on the link
//! (giaddr 0) from the `--relay` address.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use berthd::addr::MacAddr;
use berthd::packet::{MessageType, Packet, code};

/// xorshift64: reproducible randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn mac(&mut self) -> MacAddr {
        let b = self.next().to_be_bytes();
        // Locally administered, unicast.
        MacAddr([(b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5]])
    }
}

fn parse_range(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('-')?;
    let a: Ipv4Addr = a.parse().ok()?;
    let b: Ipv4Addr = b.parse().ok()?;
    (u32::from(a) <= u32::from(b)).then(|| (a.into(), b.into()))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut relay, mut server, mut mac) = (None, None, None);
    let (mut count, mut secs) = (1000u32, 1u64);
    let (mut random, mut direct, mut reboot) = (false, false, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--direct" {
            direct = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value {value:?}");
        match flag.as_str() {
            "--relay" => relay = Some(value.parse::<Ipv4Addr>().with_context(bad)?),
            "--server" => server = Some(value.parse::<Ipv4Addr>().with_context(bad)?),
            "--mac" if value == "random" => random = true,
            "--mac" => mac = Some(value.parse::<MacAddr>().with_context(bad)?),
            "--count" => count = value.parse().with_context(bad)?,
            "--secs" => secs = value.parse().with_context(bad)?,
            "--init-reboot" => reboot = Some(parse_range(value).with_context(bad)?),
            _ => bail!("unknown argument {flag}"),
        }
    }
    let (Some(relay), Some(server)) = (relay, server) else {
        bail!("--relay, --server and --mac are required");
    };
    if mac.is_none() && !random {
        bail!("--relay, --server and --mac are required");
    }
    let sock = UdpSocket::bind((relay, 0)).with_context(|| format!("cannot bind {relay}"))?;
    let to = SocketAddrV4::new(server, 67);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    let gap = Duration::from_secs(secs) / count.max(1);
    let (mut discovers, mut reboots) = (0u32, 0u32);
    for n in 0..count {
        let m = match mac {
            Some(m) if !random => m,
            _ => rng.mac(),
        };
        let mut p = match reboot {
            Some((lo, hi)) if n % 2 == 1 => {
                let mut p = Packet::request(m, MessageType::Request, n);
                let ip = Ipv4Addr::from(lo + (rng.next() % u64::from(hi - lo + 1)) as u32);
                p.options.set_bytes(code::REQUESTED_IP, &ip.octets());
                reboots += 1;
                p
            }
            _ => {
                discovers += 1;
                Packet::request(m, MessageType::Discover, n)
            }
        };
        if !direct {
            p.giaddr = relay;
        }
        let _ = sock.send_to(&p.encode(576, &[]).0, to);
        let due = start + gap * (n + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    println!(
        "sent {count} in {:.2} s ({discovers} DISCOVERs, {reboots} INIT-REBOOT REQUESTs)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
