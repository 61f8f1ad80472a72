//! Where the core's datagrams come from and its replies go: one [`Socket`]
//! per served interface, chosen by the caller of [`super::run`]. berthd
//! passes the real [`InterfaceSocket`]s; tests and tools pass
//! [`ChannelSocket`]s and drive the core in-process, without root.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tracing::warn;

use crate::engine::{Destination, Interface, Reply};
use crate::net::InterfaceSocket;

/// A boxed future, so that [`Socket`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One served interface's DHCP socket, as the core uses it.
pub trait Socket: Send + Sync + 'static {
    /// The interface as the engine sees it (name and the server's address).
    fn interface(&self) -> Interface;
    /// Appends the datagrams that have arrived to `out`, or, when none
    /// has, arranges for `cx` to be woken when one does: how the core
    /// receives. A poll rather than a future, so that the core's wait
    /// (several a DORA) allocates nothing; [`recv_many`] awaits it.
    fn poll_recv_many(&self, cx: &mut Context<'_>, out: &mut Vec<Datagram>)
    -> Poll<io::Result<()>>;
    /// Sends one encoded reply to `dest`.
    fn send<'a>(&'a self, bytes: &'a [u8], dest: Destination) -> BoxFuture<'a, io::Result<()>>;
    /// Sends one encoded reply to `dest` now, without waiting: the hot
    /// path's way, which needs no task. `ErrorKind::WouldBlock` (the
    /// default, for sockets that cannot) means "use [`Socket::send`]".
    fn try_send(&self, bytes: &[u8], dest: Destination) -> io::Result<()> {
        let _ = (bytes, dest);
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Socket for InterfaceSocket {
    fn interface(&self) -> Interface {
        Interface {
            name: self.info.name.clone(),
            addr: self.info.addr,
        }
    }

    fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<Datagram>,
    ) -> Poll<io::Result<()>> {
        InterfaceSocket::poll_recv_many(self, cx, out)
    }

    fn send<'a>(&'a self, bytes: &'a [u8], dest: Destination) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let to = InterfaceSocket::send(self, bytes, dest).await?;
            tracing::debug!(iface = %self.info.name, %to, len = bytes.len(), "reply sent");
            Ok(())
        })
    }

    fn try_send(&self, bytes: &[u8], dest: Destination) -> io::Result<()> {
        let to = InterfaceSocket::try_send(self, bytes, dest)?;
        tracing::debug!(iface = %self.info.name, %to, len = bytes.len(), "reply sent");
        Ok(())
    }
}

/// A datagram for the server: its bytes and where it came from.
pub type Datagram = (Vec<u8>, std::net::SocketAddr);

/// Waits until `sock` has datagrams and appends them to `out`.
pub async fn recv_many(sock: &dyn Socket, out: &mut Vec<Datagram>) -> io::Result<()> {
    std::future::poll_fn(|cx| sock.poll_recv_many(cx, out)).await
}

/// A reply the server sent through a [`ChannelSocket`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The encoded DHCP message.
    pub bytes: Vec<u8>,
    /// Where the server sent it.
    pub dest: Destination,
}

/// An in-process socket: datagrams arrive from a channel and replies go to
/// one. The other end is a [`Wire`].
pub struct ChannelSocket {
    iface: Interface,
    inbound: Mutex<mpsc::Receiver<Datagram>>,
    outbound: mpsc::UnboundedSender<Sent>,
}

/// The far end of a [`ChannelSocket`]: what a test sends to the server and
/// receives from it.
#[derive(Debug)]
pub struct Wire {
    /// Datagrams for the server.
    pub to_server: mpsc::Sender<Datagram>,
    /// Replies from the server, in the order they were sent.
    pub from_server: mpsc::UnboundedReceiver<Sent>,
}

impl ChannelSocket {
    /// A socket for `iface` and the wire that feeds and drains it.
    pub fn pair(iface: Interface) -> (Arc<ChannelSocket>, Wire) {
        let (to_server, inbound) = mpsc::channel(1024);
        let (outbound, from_server) = mpsc::unbounded_channel();
        let sock = ChannelSocket {
            iface,
            inbound: Mutex::new(inbound),
            outbound,
        };
        (
            Arc::new(sock),
            Wire {
                to_server,
                from_server,
            },
        )
    }
}

impl Socket for ChannelSocket {
    fn interface(&self) -> Interface {
        self.iface.clone()
    }

    fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<Datagram>,
    ) -> Poll<io::Result<()>> {
        let mut inbound = self.inbound.lock().unwrap_or_else(PoisonError::into_inner);
        match inbound.poll_recv(cx) {
            Poll::Ready(Some(first)) => {
                out.push(first);
                while out.len() < 32 {
                    let Ok(more) = inbound.try_recv() else { break };
                    out.push(more);
                }
                Poll::Ready(Ok(()))
            }
            // The wire is gone: nothing more will arrive, and nothing
            // will wake this poll again.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }

    fn send<'a>(&'a self, bytes: &'a [u8], dest: Destination) -> BoxFuture<'a, io::Result<()>> {
        let result = self.try_send(bytes, dest);
        Box::pin(async move { result })
    }

    fn try_send(&self, bytes: &[u8], dest: Destination) -> io::Result<()> {
        let sent = Sent {
            bytes: bytes.to_vec(),
            dest,
        };
        self.outbound
            .send(sent)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the wire is gone"))
    }
}

/// Encodes and sends a reply now; only a socket that cannot take it at
/// once (a full send buffer) gets a task that waits.
pub(crate) fn send_now(sock: Arc<dyn Socket>, reply: &Reply) {
    let (bytes, dropped) = reply.encode();
    if !dropped.is_empty() {
        tracing::debug!(
            ?dropped,
            max = reply.max_len,
            "options dropped to fit the reply size"
        );
    }
    let dest = reply.dest;
    match sock.try_send(&bytes, dest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            tokio::spawn(async move {
                if let Err(e) = sock.send(&bytes, dest).await {
                    not_sent(sock.as_ref(), dest, &e);
                }
            });
        }
        Err(e) => not_sent(sock.as_ref(), dest, &e),
    }
}

fn not_sent(sock: &dyn Socket, dest: Destination, e: &io::Error) {
    warn!(iface = %sock.interface().name, ?dest, error = %e, "reply not sent");
}
