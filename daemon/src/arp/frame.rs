//! ARP frames on Ethernet: the request the daemon sends and what it takes
//! as an answer. Pure byte work, no sockets.

use std::net::Ipv4Addr;

use pnet::packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet::packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet::packet::{MutablePacket, Packet};
use pnet::util::MacAddr as PnetMac;

use crate::addr::MacAddr;

/// Ethernet header + ARP for IPv4 over Ethernet.
pub const REQUEST_LEN: usize = 14 + 28;

fn pnet_mac(m: MacAddr) -> PnetMac {
    let [a, b, c, d, e, f] = m.0;
    PnetMac::new(a, b, c, d, e, f)
}

/// A broadcast "who has `target`? tell `sender_ip`" from `sender_mac`.
pub fn request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target: Ipv4Addr) -> [u8; REQUEST_LEN] {
    let mut buf = [0u8; REQUEST_LEN];
    // The buffer is sized for both headers, so neither constructor fails.
    if let Some(mut eth) = MutableEthernetPacket::new(&mut buf) {
        eth.set_destination(PnetMac::broadcast());
        eth.set_source(pnet_mac(sender_mac));
        eth.set_ethertype(EtherTypes::Arp);
        if let Some(mut arp) = MutableArpPacket::new(eth.payload_mut()) {
            arp.set_hardware_type(ArpHardwareTypes::Ethernet);
            arp.set_protocol_type(EtherTypes::Ipv4);
            arp.set_hw_addr_len(6);
            arp.set_proto_addr_len(4);
            arp.set_operation(ArpOperations::Request);
            arp.set_sender_hw_addr(pnet_mac(sender_mac));
            arp.set_sender_proto_addr(sender_ip);
            arp.set_target_hw_addr(PnetMac::zero());
            arp.set_target_proto_addr(target);
        }
    }
    buf
}

/// Who a received frame says holds which address: any ARP packet (reply,
/// or a request the holder sends itself) from another host, giving its
/// sender address and MAC. Probes with sender 0.0.0.0 (RFC 5227) claim
/// nothing yet and are not answers.
pub fn answer(frame: &[u8], own_mac: MacAddr) -> Option<(Ipv4Addr, MacAddr)> {
    let eth = EthernetPacket::new(frame)?;
    if eth.get_ethertype() != EtherTypes::Arp {
        return None;
    }
    let arp = ArpPacket::new(eth.payload())?;
    if arp.get_hardware_type() != ArpHardwareTypes::Ethernet
        || arp.get_protocol_type() != EtherTypes::Ipv4
        || arp.get_hw_addr_len() != 6
        || arp.get_proto_addr_len() != 4
    {
        return None;
    }
    let ip = arp.get_sender_proto_addr();
    let mac = MacAddr(arp.get_sender_hw_addr().octets());
    (mac != own_mac && !ip.is_unspecified() && mac != MacAddr([0; 6])).then_some((ip, mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const THEIRS: MacAddr = MacAddr([2, 0, 0, 0, 0, 9]);

    #[test]
    fn a_request_is_a_broadcast_who_has() {
        let f = request(
            OURS,
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(192, 0, 2, 7),
        );
        assert_eq!(&f[..6], &[0xff; 6], "broadcast");
        assert_eq!(&f[6..12], &OURS.0);
        assert_eq!(&f[12..14], &[0x08, 0x06], "ethertype ARP");
        assert_eq!(&f[20..22], &[0, 1], "operation request");
        assert_eq!(&f[28..32], &[192, 0, 2, 1], "sender address");
        assert_eq!(&f[38..42], &[192, 0, 2, 7], "target address");
        // Our own request, seen on the socket, is no answer.
        assert_eq!(answer(&f, OURS), None);
        // Another host's request names that host as the address's holder.
        let theirs = request(
            THEIRS,
            Ipv4Addr::new(192, 0, 2, 7),
            Ipv4Addr::new(192, 0, 2, 1),
        );
        assert_eq!(
            answer(&theirs, OURS),
            Some((Ipv4Addr::new(192, 0, 2, 7), THEIRS))
        );
    }

    #[test]
    fn probes_and_other_frames_are_not_answers() {
        let probe = request(THEIRS, Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(192, 0, 2, 7));
        assert_eq!(answer(&probe, OURS), None);
        let mut ip = request(
            THEIRS,
            Ipv4Addr::new(192, 0, 2, 7),
            Ipv4Addr::new(192, 0, 2, 1),
        );
        ip[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(answer(&ip, OURS), None);
        assert_eq!(answer(&ip[..20], OURS), None);
        assert_eq!(answer(&[], OURS), None);
    }
}
