//! Wire bytes back to text: the human, dhclient-script style values that
//! hooks and the control API show.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::catalogue::{OptionKind, OptionKind as K, by_code};

/// Render wire bytes as the human, dhclient-script style value hooks see:
/// addresses dotted and space-separated, text as text, numbers in decimal,
/// flags as `true`/`false`, routes as `dest/len router`, and anything unknown
/// or malformed as colon-separated hex.
pub fn render(code: u8, data: &[u8]) -> String {
    by_code(code)
        .and_then(|d| render_kind(d.kind, data))
        .unwrap_or_else(|| hex(data))
}

/// Render wire bytes as a value of `kind` (a custom or vendor-space
/// option's type), hex when they do not fit it.
pub fn render_as(kind: OptionKind, data: &[u8]) -> String {
    render_kind(kind, data).unwrap_or_else(|| hex(data))
}

/// Colon-separated lower-case hex, the same form the configuration accepts.
fn hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 3);
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn ips(data: &[u8]) -> Option<Vec<Ipv4Addr>> {
    if data.is_empty() || data.len() % 4 != 0 {
        return None;
    }
    Some(
        data.chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect(),
    )
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text for an environment variable: trailing NULs (some clients send them)
/// dropped, control characters and invalid UTF-8 escaped as `\xNN`.
fn text(data: &[u8]) -> String {
    let data = data.strip_suffix(&[0]).unwrap_or(data);
    let mut out = String::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn render_kind(kind: OptionKind, data: &[u8]) -> Option<String> {
    match kind {
        K::Ip => match data {
            [a, b, c, d] => Some(Ipv4Addr::new(*a, *b, *c, *d).to_string()),
            _ => None,
        },
        K::IpList | K::IpPairs => {
            if kind == K::IpPairs && data.len() % 8 != 0 {
                return None;
            }
            ips(data).map(join)
        }
        K::ClasslessRoutes => {
            let mut parts = Vec::new();
            let mut rest = data;
            while let Some((&prefix, tail)) = rest.split_first() {
                if prefix > 32 {
                    return None;
                }
                let significant = usize::from(prefix).div_ceil(8);
                let dest = tail.get(..significant)?;
                let router = tail.get(significant..significant + 4)?;
                let mut net = [0u8; 4];
                net[..significant].copy_from_slice(dest);
                parts.push(format!("{}/{prefix}", Ipv4Addr::from(net)));
                parts.push(Ipv4Addr::new(router[0], router[1], router[2], router[3]).to_string());
                rest = &tail[significant + 4..];
            }
            if parts.is_empty() {
                None
            } else {
                Some(parts.join(" "))
            }
        }
        K::U8 => match data {
            [v] => Some(v.to_string()),
            _ => None,
        },
        K::U16 => <[u8; 2]>::try_from(data)
            .ok()
            .map(|b| u16::from_be_bytes(b).to_string()),
        K::U32 => <[u8; 4]>::try_from(data)
            .ok()
            .map(|b| u32::from_be_bytes(b).to_string()),
        K::I32 => <[u8; 4]>::try_from(data)
            .ok()
            .map(|b| i32::from_be_bytes(b).to_string()),
        K::Bool => match data {
            [0] => Some("false".to_string()),
            [1] => Some("true".to_string()),
            _ => None,
        },
        K::Text => Some(text(data)),
        K::Hex => Some(hex(data)),
        K::U8List if !data.is_empty() => Some(join(data)),
        K::U16List if !data.is_empty() && data.len() % 2 == 0 => Some(join(
            data.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )),
        K::U32List if !data.is_empty() && data.len() % 4 == 0 => Some(join(
            data.chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
        )),
        K::U8List | K::U16List | K::U32List => None,
        K::StringList => {
            let mut items = Vec::new();
            let mut rest = data;
            while let Some((&len, tail)) = rest.split_first() {
                let item = tail.get(..usize::from(len))?;
                items.push(text(item));
                rest = &tail[usize::from(len)..];
            }
            (!items.is_empty()).then(|| items.join(","))
        }
        K::DomainList => decode_domains(data).map(|names| names.join(" ")),
    }
}

/// Decode RFC 1035 names (with compression pointers) from a whole option.
/// `None` if the data is malformed.
fn decode_domains(data: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let mut labels: Vec<String> = Vec::new();
        let mut cursor = pos;
        let mut jumped = false;
        // Every jump must go strictly backwards, so this terminates; the
        // bound is belt and braces against hostile data.
        let mut jumps = 0;
        loop {
            let len = *data.get(cursor)?;
            if len == 0 {
                if !jumped {
                    pos = cursor + 1;
                }
                break;
            }
            if len & 0xc0 == 0xc0 {
                let low = *data.get(cursor + 1)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                if target >= cursor || jumps > 128 {
                    return None;
                }
                if !jumped {
                    pos = cursor + 2;
                }
                jumped = true;
                jumps += 1;
                cursor = target;
                continue;
            }
            if len & 0xc0 != 0 {
                return None;
            }
            let label = data.get(cursor + 1..cursor + 1 + usize::from(len))?;
            labels.push(String::from_utf8_lossy(label).into_owned());
            cursor += 1 + usize::from(len);
        }
        names.push(labels.join("."));
    }
    Some(names)
}
