//! Sockets and the reply path.
//!
//! One UDP socket per served interface, bound to port 67 and to the device
//! (SO_BINDTODEVICE), so a request's interface is known without packet info
//! and a reply leaves on the interface its request came in on.

pub mod batch;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use batch::RecvBufs;

use crate::addr::MacAddr;
use crate::engine::Destination;

/// The DHCP server port.
pub const SERVER_PORT: u16 = 67;
/// The DHCP client port.
pub const CLIENT_PORT: u16 = 68;

/// A network failure, naming the interface it concerns.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("interface {0} does not exist")]
    NoSuchInterface(String),
    #[error("interface {0} has no IPv4 address: give it one, or serve it through a relay")]
    NoAddress(String),
    #[error("interface {iface}: {what}: {source}")]
    Io {
        iface: String,
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

/// A served interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: String,
    pub index: u32,
    /// The interface's first IPv4 address.
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

/// Looks up `name`'s index and first IPv4 address.
pub fn interface_info(name: &str) -> Result<InterfaceInfo, NetError> {
    let index = nix::net::if_::if_nametoindex(name)
        .map_err(|_| NetError::NoSuchInterface(name.to_string()))?;
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| NetError::Io {
        iface: name.to_string(),
        what: "listing addresses",
        source: e.into(),
    })?;
    for ifa in addrs.filter(|a| a.interface_name == name) {
        let Some(addr) = ifa.address.as_ref().and_then(|a| a.as_sockaddr_in()) else {
            continue;
        };
        let prefix = ifa
            .netmask
            .as_ref()
            .and_then(|m| m.as_sockaddr_in())
            .map_or(32, |m| u32::from(m.ip()).count_ones() as u8);
        return Ok(InterfaceInfo {
            name: name.to_string(),
            index,
            addr: addr.ip(),
            prefix,
        });
    }
    Err(NetError::NoAddress(name.to_string()))
}

/// The receive buffer asked for, so a burst waits in the kernel rather
/// than being dropped while the core is busy (needs CAP_NET_ADMIN above
/// `net.core.rmem_max`; otherwise the kernel's maximum).
const RECV_BUFFER: usize = 4 << 20;

/// How long [`InterfaceSocket::send`] keeps retrying a full send buffer.
const SEND_RETRY: Duration = Duration::from_millis(1);
const SEND_RETRIES: u32 = 200;

/// Asks for a receive buffer of `bytes`: forced past the system's maximum
/// when allowed, else as much as it grants.
fn set_recv_buffer(s: &Socket, bytes: usize) {
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: a valid socket fd and a c_int option value of the right size.
    let forced = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    } == 0;
    if !forced {
        // Capped at net.core.rmem_max; the default is still usable.
        let _ = s.set_recv_buffer_size(bytes);
    }
}

/// A DHCP socket on one interface, bound but not yet registered with a
/// runtime: binding port 67 needs CAP_NET_BIND_SERVICE, which the daemon
/// drops once every socket is bound, before its runtime starts.
#[derive(Debug)]
pub struct BoundSocket {
    pub info: InterfaceInfo,
    socket: UdpSocket,
}

impl BoundSocket {
    /// Binds 0.0.0.0:`port` to the interface (non-blocking). No runtime
    /// needed.
    pub fn bind(info: InterfaceInfo, port: u16) -> Result<Self, NetError> {
        let err = |what| {
            let iface = info.name.clone();
            move |source| NetError::Io {
                iface,
                what,
                source,
            }
        };
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
            .map_err(err("creating socket"))?;
        s.set_reuse_address(true).map_err(err("SO_REUSEADDR"))?;
        s.set_broadcast(true).map_err(err("SO_BROADCAST"))?;
        s.bind_device(Some(info.name.as_bytes()))
            .map_err(err("binding to device (needs CAP_NET_RAW)"))?;
        s.set_nonblocking(true).map_err(err("non-blocking mode"))?;
        set_recv_buffer(&s, RECV_BUFFER);
        let addr = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        s.bind(&addr.into())
            .map_err(err("binding port 67 (needs CAP_NET_BIND_SERVICE)"))?;
        Ok(BoundSocket {
            info,
            socket: s.into(),
        })
    }

    /// Registers the socket with the current tokio runtime. Must be called
    /// inside one.
    pub fn register(self) -> Result<InterfaceSocket, NetError> {
        let BoundSocket { info, socket } = self;
        // SAFETY: the UdpSocket owns its fd, which is neither replaced nor
        // closed while the AsyncFd owns it.
        let socket = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(io::Error::from)
            .map_err(|source| NetError::Io {
                iface: info.name.clone(),
                what: "registering with tokio",
                source,
            })?;
        Ok(InterfaceSocket {
            info,
            socket,
            bufs: Mutex::new(RecvBufs::default()),
        })
    }
}

/// A DHCP socket on one interface.
///
/// Registered with the runtime for reading only: replies are sent without
/// waiting (a datagram socket's buffer is almost never full), so the
/// "writable again" edge after each send wakes nobody.
#[derive(Debug)]
pub struct InterfaceSocket {
    pub info: InterfaceInfo,
    socket: AsyncFd<UdpSocket>,
    bufs: Mutex<RecvBufs>,
}

impl InterfaceSocket {
    /// Opens 0.0.0.0:`port` bound to the interface: [`BoundSocket::bind`]
    /// then [`BoundSocket::register`]. Must be called inside a tokio
    /// runtime.
    pub fn open(info: InterfaceInfo, port: u16) -> Result<Self, NetError> {
        BoundSocket::bind(info, port)?.register()
    }

    /// Appends every datagram waiting (up to [`batch::SLOTS`]) to `out`,
    /// or registers `cx` for the next: one system call for a burst, and
    /// none that only learns the queue is empty.
    pub fn poll_recv_many(
        &self,
        cx: &mut std::task::Context<'_>,
        out: &mut Vec<(Vec<u8>, SocketAddr)>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::{Poll, ready};
        loop {
            let mut ready = ready!(self.socket.poll_read_ready(cx))?;
            let mut bufs = self.bufs.lock().unwrap_or_else(PoisonError::into_inner);
            match bufs.recv(self.socket.get_ref().as_raw_fd()) {
                Ok(n) => {
                    if n < batch::SLOTS {
                        // Fewer than asked for: the queue was empty, and
                        // the next datagram's arrival marks it ready again.
                        ready.clear_ready();
                    }
                    for r in bufs.received() {
                        if r.truncated {
                            tracing::debug!(iface = %self.info.name, from = %r.from,
                                "dropped a datagram longer than {} bytes", batch::SLOT_BYTES);
                            continue;
                        }
                        out.push((r.bytes.to_vec(), r.from));
                    }
                    if !out.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready.clear_ready(),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Sends a reply to `dest`. A unicast to a client without an address
    /// needs its hardware address in the ARP cache first; when that cannot
    /// be arranged (no CAP_NET_ADMIN), the reply is broadcast instead, which
    /// every client accepts. A full send buffer is retried for a while.
    pub async fn send(&self, bytes: &[u8], dest: Destination) -> io::Result<SocketAddrV4> {
        let mut tries = 0;
        loop {
            match self.try_send(bytes, dest) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < SEND_RETRIES => {
                    tries += 1;
                    tokio::time::sleep(SEND_RETRY).await;
                }
                other => return other,
            }
        }
    }

    /// [`InterfaceSocket::send`] without waiting: `ErrorKind::WouldBlock`
    /// when the socket's send buffer is full.
    pub fn try_send(&self, bytes: &[u8], dest: Destination) -> io::Result<SocketAddrV4> {
        let to = self.target(dest);
        self.socket.get_ref().send_to(bytes, to)?;
        Ok(to)
    }

    /// Where a reply to `dest` is sent (priming the ARP cache for a
    /// hardware unicast).
    fn target(&self, dest: Destination) -> SocketAddrV4 {
        match dest {
            Destination::Broadcast => SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT),
            Destination::Relay(ip) => SocketAddrV4::new(ip, SERVER_PORT),
            Destination::Unicast(ip) => SocketAddrV4::new(ip, CLIENT_PORT),
            Destination::Hardware { ip, mac } => match self.prime_arp(ip, mac) {
                Ok(()) => SocketAddrV4::new(ip, CLIENT_PORT),
                Err(e) => {
                    tracing::debug!(iface = %self.info.name, %ip, %mac, error = %e,
                        "cannot prime ARP cache; broadcasting instead");
                    SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT)
                }
            },
        }
    }

    /// Adds a completed ARP entry ip -> mac on this interface (SIOCSARP), as
    /// dnsmasq and ISC dhcpd do, so the kernel can unicast to a client that
    /// cannot answer ARP yet.
    fn prime_arp(&self, ip: Ipv4Addr, mac: MacAddr) -> io::Result<()> {
        // SAFETY: arpreq is plain old data; all-zero is a valid value.
        let mut req: libc::arpreq = unsafe { std::mem::zeroed() };
        let pa = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: sockaddr_in fits in sockaddr (both 16 bytes); we copy bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&pa as *const libc::sockaddr_in).cast::<u8>(),
                (&mut req.arp_pa as *mut libc::sockaddr).cast::<u8>(),
                std::mem::size_of::<libc::sockaddr_in>(),
            );
        }
        req.arp_ha.sa_family = libc::ARPHRD_ETHER;
        for (dst, src) in req.arp_ha.sa_data.iter_mut().zip(mac.0) {
            *dst = src as libc::c_char;
        }
        req.arp_flags = libc::ATF_COM;
        for (dst, src) in req.arp_dev.iter_mut().zip(self.info.name.bytes().take(15)) {
            *dst = src as libc::c_char;
        }
        // SAFETY: a valid socket fd and a fully initialised arpreq.
        let rc = unsafe { libc::ioctl(self.socket.as_raw_fd(), libc::SIOCSARP, &req) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
