//! Receiving several datagrams in one system call (`recvmmsg`), into
//! buffers allocated once per socket.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::RawFd;

/// Datagrams one call takes at most.
pub const SLOTS: usize = 16;
/// The largest datagram kept whole; a longer one is marked truncated. A
/// DHCP message over a relay fits in an Ethernet frame, far below this.
pub const SLOT_BYTES: usize = 4096;

/// One received datagram, borrowed from the buffers.
#[derive(Debug)]
pub struct Received<'a> {
    pub bytes: &'a [u8],
    pub from: SocketAddr,
    /// It was longer than [`SLOT_BYTES`]; `bytes` holds its start.
    pub truncated: bool,
}

/// Buffers for [`RecvBufs::recv`]; one per socket, reused for every call.
pub struct RecvBufs {
    data: Box<[[u8; SLOT_BYTES]; SLOTS]>,
    addrs: [libc::sockaddr_in; SLOTS],
    lens: [usize; SLOTS],
    flags: [libc::c_int; SLOTS],
    count: usize,
}

// SAFETY: the raw pointers recvmmsg needs are built on the stack inside
// `recv` and never stored; the struct itself holds plain data.
unsafe impl Send for RecvBufs {}

impl Default for RecvBufs {
    fn default() -> Self {
        RecvBufs {
            data: Box::new([[0; SLOT_BYTES]; SLOTS]),
            // SAFETY: sockaddr_in is plain old data; all-zero is valid.
            addrs: unsafe { std::mem::zeroed() },
            lens: [0; SLOTS],
            flags: [0; SLOTS],
            count: 0,
        }
    }
}

impl std::fmt::Debug for RecvBufs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBufs")
            .field("count", &self.count)
            .finish()
    }
}

impl RecvBufs {
    /// Receives what is waiting on the non-blocking socket `fd`, up to
    /// [`SLOTS`] datagrams: how many (at least one), or `WouldBlock`.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        self.count = 0;
        let mut iov: [libc::iovec; SLOTS] = std::array::from_fn(|i| libc::iovec {
            iov_base: self.data[i].as_mut_ptr().cast(),
            iov_len: SLOT_BYTES,
        });
        // SAFETY: mmsghdr is plain old data; all-zero is valid.
        let mut msgs: [libc::mmsghdr; SLOTS] = unsafe { std::mem::zeroed() };
        for (i, m) in msgs.iter_mut().enumerate() {
            m.msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_in).cast();
            m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            m.msg_hdr.msg_iov = &mut iov[i];
            m.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every pointer in `msgs` points into `self` or `iov`,
        // both alive and not otherwise borrowed for the whole call; the
        // lengths given are those of the buffers.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                msgs.as_mut_ptr(),
                SLOTS as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = usize::try_from(n).unwrap_or(0).min(SLOTS);
        for (i, m) in msgs.iter().enumerate().take(n) {
            self.lens[i] = m.msg_len as usize;
            self.flags[i] = m.msg_hdr.msg_flags;
        }
        self.count = n;
        Ok(n)
    }

    /// The datagrams the last [`RecvBufs::recv`] took.
    pub fn received(&self) -> impl Iterator<Item = Received<'_>> {
        (0..self.count).map(|i| {
            let a = &self.addrs[i];
            let from = SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            );
            Received {
                bytes: &self.data[i][..self.lens[i].min(SLOT_BYTES)],
                from: SocketAddr::V4(from),
                truncated: self.flags[i] & libc::MSG_TRUNC != 0,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn several_datagrams_in_one_call() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        rx.set_nonblocking(true).expect("nonblocking");
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut bufs = RecvBufs::default();
        assert_eq!(
            bufs.recv(rx.as_raw_fd()).map_err(|e| e.kind()),
            Err(io::ErrorKind::WouldBlock)
        );
        let to = rx.local_addr().expect("addr");
        for i in 0..3u8 {
            tx.send_to(&[i; 10], to).expect("send");
        }
        tx.send_to(&vec![7; SLOT_BYTES + 1], to).expect("send");
        // Loopback delivers at once; allow the odd scheduling delay.
        let mut got = Vec::new();
        for _ in 0..100 {
            if let Ok(n) = bufs.recv(rx.as_raw_fd()) {
                assert!(n >= 1);
                got.extend(
                    bufs.received()
                        .map(|r| (r.bytes.to_vec(), r.from, r.truncated)),
                );
            }
            if got.len() == 4 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(got.len(), 4);
        let me = tx.local_addr().expect("addr");
        for (i, (bytes, from, truncated)) in got.iter().take(3).enumerate() {
            assert_eq!(bytes, &vec![i as u8; 10]);
            assert_eq!(*from, me);
            assert!(!truncated);
        }
        assert_eq!(got[3].0.len(), SLOT_BYTES);
        assert!(got[3].2, "a longer datagram is marked truncated");
    }
}
