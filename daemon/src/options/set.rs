//! [`Options`]: options in order, one entry per code. The one container for
//! option values: a packet holds wire bytes (`Options<OptionBytes>`, the
//! default), a configuration scope holds typed values (`Options<Value>`,
//! encoded when a reply is built).

use std::net::Ipv4Addr;

use smallvec::SmallVec;

/// One option's wire bytes. Nearly every option (addresses, times, masks,
/// a message type, a short name) fits in the inline 16 bytes, so decoding
/// a request and building a reply allocate nothing per option.
pub type OptionBytes = SmallVec<[u8; 16]>;

/// Options in order, one entry per code.
///
/// For a packet, the order is wire order (decoding concatenates split
/// options, RFC 3396, so each code appears once); for a configuration scope
/// it is file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options<V = OptionBytes>(Vec<(u8, V)>);

impl<V> Default for Options<V> {
    fn default() -> Self {
        Options(Vec::new())
    }
}

impl<V> Options<V> {
    /// An empty option list.
    pub const fn new() -> Self {
        Options(Vec::new())
    }

    /// An empty option list with room for `n` options, for a message being
    /// decoded or built: one allocation instead of one per doubling.
    pub fn with_capacity(n: usize) -> Self {
        Options(Vec::with_capacity(n))
    }

    /// The value of `code`, if present.
    pub fn value(&self, code: u8) -> Option<&V> {
        self.0.iter().find(|(c, _)| *c == code).map(|(_, v)| v)
    }

    /// Sets `code` to `value`, replacing an earlier value in place or
    /// appending at the end.
    pub fn set(&mut self, code: u8, value: V) {
        match self.0.iter_mut().find(|(c, _)| *c == code) {
            Some(slot) => slot.1 = value,
            None => self.0.push((code, value)),
        }
    }

    /// Removes `code`, returning its value.
    pub fn remove(&mut self, code: u8) -> Option<V> {
        let pos = self.0.iter().position(|(c, _)| *c == code)?;
        Some(self.0.remove(pos).1)
    }

    /// Whether `code` is present.
    pub fn contains(&self, code: u8) -> bool {
        self.0.iter().any(|(c, _)| *c == code)
    }

    /// The codes in order.
    pub fn codes(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().map(|(c, _)| *c)
    }

    /// (code, value) in order.
    pub fn entries(&self) -> impl Iterator<Item = (u8, &V)> {
        self.0.iter().map(|(c, v)| (*c, v))
    }

    /// Number of distinct options.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> FromIterator<(u8, V)> for Options<V> {
    /// In order; a code given twice keeps its first place and its last value.
    fn from_iter<I: IntoIterator<Item = (u8, V)>>(iter: I) -> Self {
        let mut options = Options::new();
        for (code, value) in iter {
            options.set(code, value);
        }
        options
    }
}

/// Wire bytes: what a packet carries.
impl Options<OptionBytes> {
    /// The value of `code`, if present.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.value(code).map(|v| v.as_slice())
    }

    /// Sets `code` to a copy of `bytes` (see [`Options::set`]).
    pub fn set_bytes(&mut self, code: u8, bytes: &[u8]) {
        self.set(code, OptionBytes::from_slice(bytes));
    }

    /// Options in order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &[u8])> {
        self.0.iter().map(|(c, v)| (*c, v.as_slice()))
    }

    /// Appends to an existing value (RFC 3396 concatenation) or adds it.
    pub fn append(&mut self, code: u8, data: &[u8]) {
        match self.0.iter_mut().find(|(c, _)| *c == code) {
            Some(slot) => slot.1.extend_from_slice(data),
            None => self.0.push((code, OptionBytes::from_slice(data))),
        }
    }

    /// A single-byte option (e.g. 53).
    pub fn get_u8(&self, code: u8) -> Option<u8> {
        match self.get(code)? {
            [b] => Some(*b),
            _ => None,
        }
    }

    /// A 16-bit option (e.g. 57).
    pub fn get_u16(&self, code: u8) -> Option<u16> {
        let v: [u8; 2] = self.get(code)?.try_into().ok()?;
        Some(u16::from_be_bytes(v))
    }

    /// A 32-bit option (e.g. 51).
    pub fn get_u32(&self, code: u8) -> Option<u32> {
        let v: [u8; 4] = self.get(code)?.try_into().ok()?;
        Some(u32::from_be_bytes(v))
    }

    /// A single-address option (e.g. 50, 54).
    pub fn get_ip(&self, code: u8) -> Option<Ipv4Addr> {
        let v: [u8; 4] = self.get(code)?.try_into().ok()?;
        Some(Ipv4Addr::from(v))
    }
}
