//! The DHCP/BOOTP wire format (RFC 2131, RFC 2132, RFC 3396).
//!
//! Decoding never panics on hostile input; encoding caps the message at the
//! size the caller allows. Policy (which options to send, to whom) lives in
//! the engine, not here.

use std::fmt;
use std::net::Ipv4Addr;

use crate::addr::MacAddr;

/// The option container; a packet holds wire bytes.
pub use crate::options::Options;
/// Well-known option codes (they live with the catalogue).
pub use crate::options::code;

/// BOOTP op codes.
pub const BOOTREQUEST: u8 = 1;
/// BOOTP op codes.
pub const BOOTREPLY: u8 = 2;
/// The DHCP magic cookie (RFC 2131 section 3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Length of the fixed BOOTP header, before the cookie.
pub const HEADER_LEN: usize = 236;
/// The smallest message every client must accept (576-byte IP datagram
/// minus IP and UDP headers).
pub const MIN_MESSAGE_LEN: usize = 576 - 28;
/// The broadcast bit of the flags field.
pub const FLAG_BROADCAST: u16 = 0x8000;

const SNAME_LEN: usize = 64;
/// Options a request or reply usually carries, at most: what an option
/// list is given room for at once (a dhclient DISCOVER has 7, an ACK about
/// a dozen).
const TYPICAL_OPTIONS: usize = 16;
const FILE_LEN: usize = 128;

/// DHCP message types (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
}

impl MessageType {
    /// The type for an option-53 value, if it is one of RFC 2132's eight.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Discover,
            2 => Self::Offer,
            3 => Self::Request,
            4 => Self::Decline,
            5 => Self::Ack,
            6 => Self::Nak,
            7 => Self::Release,
            8 => Self::Inform,
            _ => return None,
        })
    }

    /// Upper-case name as operators read it in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discover => "DISCOVER",
            Self::Offer => "OFFER",
            Self::Request => "REQUEST",
            Self::Decline => "DECLINE",
            Self::Ack => "ACK",
            Self::Nak => "NAK",
            Self::Release => "RELEASE",
            Self::Inform => "INFORM",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why bytes off the wire are not a DHCP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated: {0} bytes is shorter than the 240-byte BOOTP header and cookie")]
    Truncated(usize),
    #[error("no DHCP magic cookie")]
    NoMagicCookie,
    #[error("option {code} at offset {offset} runs past the end of its field")]
    OptionOverrun { code: u8, offset: usize },
    #[error("hardware address length {0} is more than 16")]
    BadHlen(u8),
    #[error("option overload value {0} is not 1, 2 or 3")]
    BadOverload(u8),
    #[error("option overload (52) inside the fields it overloads")]
    NestedOverload,
}

impl DecodeError {
    /// A short stable name, for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Truncated(_) => "truncated",
            DecodeError::NoMagicCookie => "no_magic_cookie",
            DecodeError::OptionOverrun { .. } => "option_overrun",
            DecodeError::BadHlen(_) => "bad_hlen",
            DecodeError::BadOverload(_) => "bad_overload",
            DecodeError::NestedOverload => "nested_overload",
        }
    }
}

/// A DHCP (or BOOTP) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    /// Server host name field; empty when unused. At most 63 bytes are sent.
    pub sname: Vec<u8>,
    /// Boot file name field; empty when unused. At most 127 bytes are sent.
    pub file: Vec<u8>,
    pub options: Options,
}

impl Packet {
    /// Decodes one message. Never panics: every length is checked.
    pub fn decode(buf: &[u8]) -> Result<Packet, DecodeError> {
        if buf.len() < HEADER_LEN + 4 {
            return Err(DecodeError::Truncated(buf.len()));
        }
        let hlen = buf[2];
        if hlen > 16 {
            return Err(DecodeError::BadHlen(hlen));
        }
        if buf[HEADER_LEN..HEADER_LEN + 4] != MAGIC_COOKIE {
            return Err(DecodeError::NoMagicCookie);
        }
        let ip = |at: usize| Ipv4Addr::new(buf[at], buf[at + 1], buf[at + 2], buf[at + 3]);
        let mut chaddr = [0u8; 16];
        chaddr.copy_from_slice(&buf[28..44]);
        let sname_field = &buf[44..44 + SNAME_LEN];
        let file_field = &buf[108..108 + FILE_LEN];

        let mut options = Options::with_capacity(TYPICAL_OPTIONS);
        parse_options(&buf[HEADER_LEN + 4..], HEADER_LEN + 4, &mut options)?;
        // Option overload (52): more options live in file and/or sname, in
        // that order (RFC 2131 section 4.1).
        let overload = match options.get(code::OVERLOAD) {
            None => 0,
            Some([v @ 1..=3]) => *v,
            Some([v]) => return Err(DecodeError::BadOverload(*v)),
            Some(_) => return Err(DecodeError::BadOverload(0)),
        };
        if overload & 1 != 0 {
            parse_options(file_field, 108, &mut options)?;
        }
        if overload & 2 != 0 {
            parse_options(sname_field, 44, &mut options)?;
        }
        // Option 52 again inside the fields it overloads: a loop that asks
        // for those fields to be read again. Refused, not followed.
        if options.get(code::OVERLOAD).is_some_and(|v| v.len() != 1) {
            return Err(DecodeError::NestedOverload);
        }
        options.remove(code::OVERLOAD);

        Ok(Packet {
            op: buf[0],
            htype: buf[1],
            hlen,
            hops: buf[3],
            xid: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            secs: u16::from_be_bytes([buf[8], buf[9]]),
            flags: u16::from_be_bytes([buf[10], buf[11]]),
            ciaddr: ip(12),
            yiaddr: ip(16),
            siaddr: ip(20),
            giaddr: ip(24),
            chaddr,
            sname: if overload & 2 != 0 {
                Vec::new()
            } else {
                c_string(sname_field)
            },
            file: if overload & 1 != 0 {
                Vec::new()
            } else {
                c_string(file_field)
            },
            options,
        })
    }

    /// The DHCP message type, or `None` for a BOOTP message (no option 53).
    /// `Some(Err(v))` is an option 53 with an unknown value.
    pub fn message_type(&self) -> Option<Result<MessageType, u8>> {
        let v = self.options.get(code::MESSAGE_TYPE)?;
        match v {
            [b] => Some(MessageType::from_u8(*b).ok_or(*b)),
            _ => Some(Err(0)),
        }
    }

    /// The client's Ethernet address, when chaddr holds one.
    pub fn mac(&self) -> Option<MacAddr> {
        if self.hlen != 6 {
            return None;
        }
        let mut m = [0u8; 6];
        m.copy_from_slice(&self.chaddr[..6]);
        Some(MacAddr(m))
    }

    /// Whether the client asked for broadcast replies.
    pub fn broadcast(&self) -> bool {
        self.flags & FLAG_BROADCAST != 0
    }

    /// A request of type `kind` from an Ethernet client `mac` with transaction
    /// id `xid`, as a client in INIT state sends it: no addresses, option 53
    /// only. For tests, benchmarks and tools.
    pub fn request(mac: MacAddr, kind: MessageType, xid: u32) -> Packet {
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&mac.0);
        let mut options = Options::new();
        options.set_bytes(code::MESSAGE_TYPE, &[kind as u8]);
        Packet {
            op: BOOTREQUEST,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: Vec::new(),
            file: Vec::new(),
            options,
        }
    }

    /// A reply skeleton for this request: same xid, flags, giaddr, chaddr.
    pub fn reply_to(req: &Packet) -> Packet {
        Packet {
            op: BOOTREPLY,
            htype: req.htype,
            hlen: req.hlen,
            hops: 0,
            xid: req.xid,
            secs: 0,
            flags: req.flags,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: req.giaddr,
            chaddr: req.chaddr,
            sname: Vec::new(),
            file: Vec::new(),
            options: Options::with_capacity(TYPICAL_OPTIONS),
        }
    }

    /// Encodes the message in at most `max_len` bytes (clamped to at least
    /// [`MIN_MESSAGE_LEN`]).
    ///
    /// Options are written in order. When they do not fit, the `file` and
    /// then `sname` fields are used for overflow (option overload) if the
    /// message does not use them itself; options that still do not fit are
    /// dropped from the end of the list, except those in `keep`, which the
    /// caller marks as essential. Option 82 is always written last (RFC 3046).
    /// Returns the bytes and the codes that were dropped.
    pub fn encode(&self, max_len: usize, keep: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let max_len = max_len.max(MIN_MESSAGE_LEN);
        // Options go essential ones first, each group in list order, so
        // that dropping from the end never drops them; 82 goes last of all.
        let in_body = |c: u8| c != code::RELAY_AGENT_INFO && c != code::PAD && c != code::END;
        let relay = self.options.get(code::RELAY_AGENT_INFO);
        let total: usize = self
            .options
            .iter()
            .filter(|&(c, _)| in_body(c))
            .map(|(_, v)| encoded_len(v))
            .sum();
        // Room in the options field: all but the END byte (and option 82).
        let reserved = 1 + relay.map_or(0, encoded_len);
        // Sized for the reply as nearly every one is written (everything
        // fits, padded to the BOOTP minimum): a few hundred bytes, which
        // the allocator hands out from its per-thread cache, where a
        // buffer of `max_len` (often 1,500) takes its slow path twice a
        // DORA. Overflow grows it.
        let fits = (HEADER_LEN + MAGIC_COOKIE.len() + total + reserved).max(BOOTP_MIN_LEN);
        let mut out = Vec::with_capacity(fits.min(max_len));
        out.push(self.op);
        out.push(self.htype);
        out.push(self.hlen);
        out.push(self.hops);
        out.extend_from_slice(&self.xid.to_be_bytes());
        out.extend_from_slice(&self.secs.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        for a in [self.ciaddr, self.yiaddr, self.siaddr, self.giaddr] {
            out.extend_from_slice(&a.octets());
        }
        out.extend_from_slice(&self.chaddr);
        let sname_at = out.len();
        out.resize(sname_at + SNAME_LEN, 0);
        copy_c_string(&mut out[sname_at..sname_at + SNAME_LEN], &self.sname);
        let file_at = out.len();
        out.resize(file_at + FILE_LEN, 0);
        copy_c_string(&mut out[file_at..file_at + FILE_LEN], &self.file);
        out.extend_from_slice(&MAGIC_COOKIE);
        let main_room = max_len.saturating_sub(out.len() + reserved);
        if total <= main_room {
            // Everything fits (nearly every reply): written in place.
            for essential in [true, false] {
                for (c, v) in self.options.iter() {
                    if in_body(c) && keep.contains(&c) == essential {
                        put_option(&mut out, c, v);
                    }
                }
            }
            if let Some(r) = relay {
                put_option(&mut out, code::RELAY_AGENT_INFO, r);
            }
            return (finish_reply(out), Vec::new());
        }
        let mut items: Vec<(u8, Vec<u8>)> = Vec::with_capacity(self.options.len());
        for (c, v) in self.options.iter() {
            if in_body(c) {
                items.push((c, encode_option(c, v)));
            }
        }
        items.sort_by_key(|(c, _)| !keep.contains(c));
        let relay = relay.map(|v| encode_option(code::RELAY_AGENT_INFO, v));
        let mut main: Vec<u8> = Vec::new();
        let mut file_area: Vec<u8> = Vec::new();
        let mut sname_area: Vec<u8> = Vec::new();
        let mut dropped = Vec::new();
        let mut overload = 0u8;
        // Overflow: option 52 itself takes 3 bytes of the main area; the
        // fixed fields can be borrowed only when the reply leaves them
        // empty. Each overflow area keeps a byte for its own END.
        let main_room = main_room.saturating_sub(3);
        let file_room = if self.file.is_empty() {
            FILE_LEN - 1
        } else {
            0
        };
        let sname_room = if self.sname.is_empty() {
            SNAME_LEN - 1
        } else {
            0
        };
        for (c, bytes) in items {
            if main.len() + bytes.len() <= main_room {
                main.extend_from_slice(&bytes);
            } else if file_area.len() + bytes.len() <= file_room {
                overload |= 1;
                file_area.extend_from_slice(&bytes);
            } else if sname_area.len() + bytes.len() <= sname_room {
                overload |= 2;
                sname_area.extend_from_slice(&bytes);
            } else if keep.contains(&c) {
                // Essential options always go in: a reply without them
                // is useless, and the cap is only a courtesy.
                main.extend_from_slice(&bytes);
            } else {
                dropped.push(c);
            }
        }
        if overload != 0 {
            out.extend_from_slice(&[code::OVERLOAD, 1, overload]);
            if overload & 1 != 0 {
                file_area.push(code::END);
                out[file_at..file_at + FILE_LEN].fill(0);
                out[file_at..file_at + file_area.len()].copy_from_slice(&file_area);
            }
            if overload & 2 != 0 {
                sname_area.push(code::END);
                out[sname_at..sname_at + SNAME_LEN].fill(0);
                out[sname_at..sname_at + sname_area.len()].copy_from_slice(&sname_area);
            }
        }
        out.extend_from_slice(&main);
        if let Some(r) = relay {
            out.extend_from_slice(&r);
        }
        (finish_reply(out), dropped)
    }
}

/// Ends the options with END and pads to the BOOTP minimum of 300 bytes:
/// some old clients and relays drop shorter replies.
fn finish_reply(mut out: Vec<u8>) -> Vec<u8> {
    out.push(code::END);
    if out.len() < BOOTP_MIN_LEN {
        out.resize(BOOTP_MIN_LEN, 0);
    }
    out
}

/// The shortest BOOTP message (RFC 951's 300 bytes).
const BOOTP_MIN_LEN: usize = 300;

/// Bytes option value `v` takes on the wire, split as [`put_option`] does.
fn encoded_len(v: &[u8]) -> usize {
    v.len() + 2 * v.len().div_ceil(255).max(1)
}

/// Appends one option, splitting values over 255 bytes (RFC 3396).
fn put_option(out: &mut Vec<u8>, c: u8, v: &[u8]) {
    if v.is_empty() {
        out.extend_from_slice(&[c, 0]);
        return;
    }
    for chunk in v.chunks(255) {
        out.push(c);
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
}

/// One option on its own, for the overflow path that places options one
/// by one.
fn encode_option(c: u8, v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(v));
    put_option(&mut out, c, v);
    out
}

/// Parses an options area; `base` is its offset in the message, for errors.
fn parse_options(area: &[u8], base: usize, into: &mut Options) -> Result<(), DecodeError> {
    let mut i = 0;
    while i < area.len() {
        let c = area[i];
        match c {
            code::PAD => i += 1,
            code::END => return Ok(()),
            _ => {
                let Some(&len) = area.get(i + 1) else {
                    return Err(DecodeError::OptionOverrun {
                        code: c,
                        offset: base + i,
                    });
                };
                let start = i + 2;
                let end = start + len as usize;
                let Some(data) = area.get(start..end) else {
                    return Err(DecodeError::OptionOverrun {
                        code: c,
                        offset: base + i,
                    });
                };
                into.append(c, data);
                i = end;
            }
        }
    }
    // Some clients omit END; what was read is still well-formed.
    Ok(())
}

/// The bytes of a NUL-terminated fixed field.
fn c_string(field: &[u8]) -> Vec<u8> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field[..end].to_vec()
}

/// Writes `s` into a fixed field, always leaving a terminating NUL.
fn copy_c_string(field: &mut [u8], s: &[u8]) {
    let n = s.len().min(field.len() - 1);
    field[..n].copy_from_slice(&s[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Packet {
        let mut options = Options::new();
        options.set_bytes(code::MESSAGE_TYPE, &[MessageType::Discover as u8]);
        options.set_bytes(code::PARAMETER_REQUEST_LIST, &[1, 3, 6]);
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        Packet {
            op: BOOTREQUEST,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid: 42,
            secs: 3,
            flags: FLAG_BROADCAST,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::new(198, 51, 100, 1),
            chaddr,
            sname: Vec::new(),
            file: b"boot.img".to_vec(),
            options,
        }
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let p = sample();
        let (bytes, dropped) = p.encode(MIN_MESSAGE_LEN, &[]);
        assert!(dropped.is_empty());
        assert_eq!(Packet::decode(&bytes), Ok(p));
    }

    #[test]
    fn a_reply_that_fits_is_allocated_at_its_length() {
        // Not at the client's maximum: a 1,500-byte buffer per reply misses
        // the allocator's per-thread cache.
        let mut p = sample();
        for (n, max) in [(0, 1500), (100, 1500), (100, MIN_MESSAGE_LEN)] {
            p.options.set_bytes(code::HOST_NAME, &vec![b'h'; n]);
            let (bytes, dropped) = p.encode(max, &[]);
            assert!(dropped.is_empty());
            assert_eq!(
                bytes.capacity(),
                bytes.len(),
                "{n} bytes of host name, max {max}"
            );
        }
    }

    #[test]
    fn truncated_packet_is_an_error() {
        let (bytes, _) = sample().encode(MIN_MESSAGE_LEN, &[]);
        for n in [0, 1, 100, 239] {
            assert_eq!(Packet::decode(&bytes[..n]), Err(DecodeError::Truncated(n)));
        }
    }

    #[test]
    fn missing_magic_cookie_is_an_error() {
        let (mut bytes, _) = sample().encode(MIN_MESSAGE_LEN, &[]);
        bytes[HEADER_LEN] = 0;
        assert_eq!(Packet::decode(&bytes), Err(DecodeError::NoMagicCookie));
    }

    #[test]
    fn option_running_past_the_end_is_an_error() {
        let (bytes, _) = sample().encode(MIN_MESSAGE_LEN, &[]);
        let mut short = bytes[..HEADER_LEN + 4].to_vec();
        short.extend_from_slice(&[code::HOST_NAME, 10, b'a', b'b']);
        assert!(matches!(
            Packet::decode(&short),
            Err(DecodeError::OptionOverrun { code: 12, .. })
        ));
        let mut no_len = bytes[..HEADER_LEN + 4].to_vec();
        no_len.push(code::HOST_NAME);
        assert!(Packet::decode(&no_len).is_err());
    }

    #[test]
    fn hardware_address_longer_than_16_is_an_error() {
        let (mut bytes, _) = sample().encode(MIN_MESSAGE_LEN, &[]);
        bytes[2] = 17;
        assert_eq!(Packet::decode(&bytes), Err(DecodeError::BadHlen(17)));
    }

    #[test]
    fn split_options_are_concatenated_and_long_ones_split_again() {
        let mut p = sample();
        let long: Vec<u8> = (0..=255u8).chain(0..100).collect();
        p.options.set_bytes(code::VENDOR_ENCAPSULATED, &long);
        let (bytes, _) = p.encode(1400, &[]);
        let back = Packet::decode(&bytes).expect("decodes");
        assert_eq!(back.options.get(code::VENDOR_ENCAPSULATED), Some(&long[..]));
    }

    #[test]
    fn overloaded_file_and_sname_fields_are_read_as_options() {
        let (mut bytes, _) = sample().encode(MIN_MESSAGE_LEN, &[]);
        // Put option 52 = 3 (both fields) in the main area, host name in
        // file and domain name in sname.
        let end = bytes.iter().rposition(|&b| b == code::END).expect("END");
        bytes.truncate(end);
        bytes.extend_from_slice(&[code::OVERLOAD, 1, 3, code::END]);
        bytes[108..128].fill(0);
        bytes[108..113].copy_from_slice(&[code::HOST_NAME, 2, b'h', b'i', code::END]);
        bytes[44..51].copy_from_slice(&[code::DOMAIN_NAME, 4, b'l', b'a', b'b', b'z', code::END]);
        let p = Packet::decode(&bytes).expect("decodes");
        assert_eq!(p.options.get(code::HOST_NAME), Some(&b"hi"[..]));
        assert_eq!(p.options.get(code::DOMAIN_NAME), Some(&b"labz"[..]));
        assert!(p.file.is_empty() && p.sname.is_empty());
        assert!(!p.options.contains(code::OVERLOAD));
    }

    #[test]
    fn encoder_overloads_into_free_fields_before_dropping() {
        let mut p = sample();
        p.file.clear();
        for c in 100..110u8 {
            p.options.set_bytes(c, &[c; 40]);
        }
        let (bytes, dropped) = p.encode(MIN_MESSAGE_LEN, &[code::MESSAGE_TYPE]);
        assert!(bytes.len() <= MIN_MESSAGE_LEN);
        let back = Packet::decode(&bytes).expect("decodes");
        let kept = (100..110u8).filter(|c| back.options.contains(*c)).count();
        assert_eq!(kept + dropped.len(), 10);
        assert!(kept >= 7, "file and sname fields used: kept {kept}");
        assert!(back.options.contains(code::MESSAGE_TYPE));
    }

    #[test]
    fn options_go_essential_first_in_list_order_with_82_last() {
        let mut p = Packet::request(MacAddr([2, 0, 0, 0, 0, 1]), MessageType::Ack, 1);
        p.options = Options::new();
        p.options
            .set_bytes(code::RELAY_AGENT_INFO, &[1, 2, 0xaa, 0xbb]);
        p.options.set_bytes(code::ROUTERS, &[192, 0, 2, 1]);
        p.options
            .set_bytes(code::MESSAGE_TYPE, &[MessageType::Ack as u8]);
        p.options.set_bytes(code::HOST_NAME, &vec![b'x'; 300]);
        p.options.set_bytes(code::SERVER_ID, &[192, 0, 2, 1]);
        let (bytes, dropped) = p.encode(1500, &[code::SERVER_ID, code::MESSAGE_TYPE]);
        assert!(dropped.is_empty());
        let mut want = vec![code::MESSAGE_TYPE, 1, MessageType::Ack as u8];
        want.extend([code::SERVER_ID, 4, 192, 0, 2, 1]);
        want.extend([code::ROUTERS, 4, 192, 0, 2, 1]);
        want.extend([code::HOST_NAME, 255]);
        want.extend([b'x'; 255]);
        want.extend([code::HOST_NAME, 45]);
        want.extend([b'x'; 45]);
        want.extend([code::RELAY_AGENT_INFO, 4, 1, 2, 0xaa, 0xbb, code::END]);
        assert_eq!(&bytes[240..240 + want.len()], &want[..]);
        assert!(bytes[240 + want.len()..].iter().all(|&b| b == 0), "padding");
    }

    #[test]
    fn mac_parses_and_prints() {
        let m: MacAddr = "00:23:32:AA:bb:cc".parse().expect("valid");
        assert_eq!(m.to_string(), "00:23:32:aa:bb:cc");
        assert!("00:23:32:aa:bb".parse::<MacAddr>().is_err());
        assert!("00:23:32:aa:bb:zz".parse::<MacAddr>().is_err());
    }

    #[test]
    fn decoding_never_panics_on_arbitrary_bytes() {
        // A cheap deterministic fuzz: xorshift bytes after a valid header.
        let (base, _) = sample().encode(MIN_MESSAGE_LEN, &[]);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut b = base.clone();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x as usize) % b.len();
            for i in 0..8 {
                let at = (n + i * 37) % b.len();
                b[at] = (x >> (i * 8)) as u8;
            }
            b.truncate(HEADER_LEN + 4 + (x as usize >> 20) % 300);
            let _ = Packet::decode(&b);
        }
    }
}
