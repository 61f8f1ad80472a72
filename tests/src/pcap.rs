//! Reading what tcpdump captured: the DHCP messages in a classic pcap file
//! of Ethernet frames (`tcpdump -w`), decoded with berthd's own codec.

use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::{Context, Result, bail};
use berthd::packet::Packet;

use crate::netns::{BRIDGE, netns_command};
use crate::process::Proc;

/// tcpdump on the lab bridge in the server namespace, writing every DHCP
/// packet to a pcap file as it comes (`-U`). Stopped on drop.
#[derive(Debug)]
pub struct Capture {
    proc: Option<Proc>,
    file: std::path::PathBuf,
}

impl Capture {
    /// Starts tcpdump in namespace `ns`, writing `dir/wire.pcap` (its log
    /// in `dir/tcpdump.log`), and gives it half a second to start.
    pub fn start(ns: &str, dir: &Path) -> Result<Capture> {
        let file = dir.join("wire.pcap");
        let mut cmd = netns_command(ns, "tcpdump");
        cmd.args(["-i", BRIDGE, "-U", "-n", "-w"])
            .arg(&file)
            .args(["udp", "port", "67", "or", "udp", "port", "68"]);
        let proc = Proc::spawn("tcpdump", &mut cmd, &dir.join("tcpdump.log"))?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        Ok(Capture {
            proc: Some(proc),
            file,
        })
    }

    /// The pcap file (readable while tcpdump runs).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Stops tcpdump (SIGINT, so it flushes) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = p.signal(nix::sys::signal::Signal::SIGINT);
            let _ = p.wait_exit(std::time::Duration::from_secs(5));
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every UDP payload in the capture that decodes as DHCP. A record cut
/// short at the end (tcpdump still writing) is ignored.
pub fn dhcp_messages(path: &Path) -> Result<Vec<Packet>> {
    Ok(dhcp_messages_at(path)?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// [`dhcp_messages`] with each one's capture time (UTC unix seconds).
pub fn dhcp_messages_at(path: &Path) -> Result<Vec<(f64, Packet)>> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if data.len() < 24 {
        return Ok(Vec::new());
    }
    let le = match data[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => bail!("{} is not a pcap file", path.display()),
    };
    let u32_at = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    if u32_at(&data[20..24]) != 1 {
        bail!("{}: not an Ethernet capture", path.display());
    }
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let secs =
            f64::from(u32_at(&data[at..at + 4])) + f64::from(u32_at(&data[at + 4..at + 8])) / 1e6;
        let len = u32_at(&data[at + 8..at + 12]) as usize;
        let start = at + 16;
        let Some(frame) = data.get(start..start + len) else {
            break;
        };
        at = start + len;
        if let Some(payload) = udp_payload(frame)
            && let Ok(p) = Packet::decode(payload)
        {
            out.push((secs, p));
        }
    }
    Ok(out)
}

/// The UDP payload of an Ethernet/IPv4 frame.
fn udp_payload(frame: &[u8]) -> Option<&[u8]> {
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    if ip.get(9)? != &17 || ihl < 20 {
        return None;
    }
    let udp = ip.get(ihl..)?;
    let len = usize::from(u16::from_be_bytes([*udp.get(4)?, *udp.get(5)?]));
    udp.get(8..len.max(8))
}

/// (client MAC, address) of every DHCPACK in the capture.
pub fn acks(path: &Path) -> Result<Vec<(String, Ipv4Addr)>> {
    Ok(dhcp_messages(path)?
        .into_iter()
        .filter(|p| p.message_type() == Some(Ok(berthd::packet::MessageType::Ack)))
        .filter(|p| !p.yiaddr.is_unspecified())
        .filter_map(|p| Some((p.mac()?.to_string(), p.yiaddr)))
        .collect())
}

/// One DHCPACK seen on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// When tcpdump saw it (UTC unix seconds).
    pub at: f64,
    pub mac: String,
    pub ip: Ipv4Addr,
    /// Option 51, seconds.
    pub lease_secs: Option<u32>,
}

/// Every DHCPACK with an address in the capture, with its time and lease.
pub fn acks_at(path: &Path) -> Result<Vec<Ack>> {
    Ok(dhcp_messages_at(path)?
        .into_iter()
        .filter(|(_, p)| p.message_type() == Some(Ok(berthd::packet::MessageType::Ack)))
        .filter(|(_, p)| !p.yiaddr.is_unspecified())
        .filter_map(|(at, p)| {
            Some(Ack {
                at,
                mac: p.mac()?.to_string(),
                ip: p.yiaddr,
                lease_secs: p.options.get_u32(berthd::options::code::LEASE_TIME),
            })
        })
        .collect())
}
