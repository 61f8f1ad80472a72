//! Where the core's datagrams come from and its replies go: one [`Socket`]
//! per served interface, chosen by the caller of [`super::run`]. berthd
//! passes the real [`InterfaceSocket`]s; tests and tools pass
//! [`ChannelSocket`]s and drive the core in-process, without root.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

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
    /// Appends the datagrams that have arrived (at most [`BURST`]) to
    /// `out`, or, when none has, arranges for `cx` to be woken when one
    /// does: how the core receives. A poll rather than a future, so that
    /// the core's wait (several a DORA) allocates nothing; [`recv_any`]
    /// polls every socket in one wait.
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

/// Datagrams one socket hands over per poll, at most: a burst is served
/// in one turn of the core (one wake-up), and ACKs that became durable
/// meanwhile and control jobs still get their turn soon.
pub const BURST: usize = 32;
const _: () = assert!(crate::net::batch::SLOTS <= BURST);

/// Waits until one of `sockets` has datagrams and moves them into its
/// inbox (`inboxes[i]` for `sockets[i]`): the index of that socket, or its
/// error. A socket with a pause (`paused[i]`, after a failed receive)
/// sits out until it ends, so a broken one cannot spin the core; the end
/// of the earliest pause is an answer of its own, with nothing received,
/// after which the caller lifts it. One poll over every socket and at
/// most one timer: nothing is allocated per wait.
pub(crate) async fn recv_any(
    sockets: &[Arc<dyn Socket>],
    inboxes: &mut [Vec<Datagram>],
    paused: &[Option<Instant>],
) -> (usize, io::Result<()>) {
    let resume = paused
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((p.as_ref()?, i)))
        .min();
    let mut timer = std::pin::pin!(resume.map(|(at, _)| tokio::time::sleep_until((*at).into())));
    std::future::poll_fn(|cx| {
        let ready = sockets.iter().zip(inboxes.iter_mut()).zip(paused);
        for (i, ((sock, inbox), pause)) in ready.enumerate() {
            if pause.is_none()
                && let Poll::Ready(got) = sock.poll_recv_many(cx, inbox)
            {
                return Poll::Ready((i, got));
            }
        }
        if let (Some(t), Some((_, i))) = (timer.as_mut().as_pin_mut(), resume)
            && t.poll(cx).is_ready()
        {
            return Poll::Ready((i, Ok(())));
        }
        Poll::Pending
    })
    .await
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
                while out.len() < BURST {
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;

    fn socket(name: &str) -> (Arc<dyn Socket>, Wire) {
        let (sock, wire) = ChannelSocket::pair(Interface {
            name: name.into(),
            addr: Ipv4Addr::new(192, 0, 2, 1),
        });
        (sock, wire)
    }

    async fn send(wire: &Wire, n: usize) {
        let from = std::net::SocketAddr::from((Ipv4Addr::new(192, 0, 2, 9), 68));
        for i in 0..n {
            wire.to_server
                .send((vec![i as u8], from))
                .await
                .expect("the socket is open");
        }
    }

    async fn wait(
        sockets: &[Arc<dyn Socket>],
        inboxes: &mut [Vec<Datagram>],
        paused: &[Option<Instant>],
    ) -> usize {
        let (i, got) =
            tokio::time::timeout(Duration::from_secs(5), recv_any(sockets, inboxes, paused))
                .await
                .expect("an answer");
        got.expect("a channel socket does not fail");
        i
    }

    #[tokio::test]
    async fn a_paused_socket_sits_out_until_its_pause_ends() {
        let (a, wire_a) = socket("a");
        let (b, wire_b) = socket("b");
        let sockets = [a, b];
        let mut inboxes = [Vec::new(), Vec::new()];
        send(&wire_a, 1).await;
        send(&wire_b, 1).await;
        let pause = Duration::from_millis(50);
        let started = Instant::now();
        let paused = [Some(started + pause), None];

        assert_eq!(wait(&sockets, &mut inboxes, &paused).await, 1);
        assert_eq!((inboxes[0].len(), inboxes[1].len()), (0, 1));
        // Nothing more on b: the end of a's pause is the answer, with
        // nothing received yet.
        assert_eq!(wait(&sockets, &mut inboxes, &paused).await, 0);
        assert!(started.elapsed() >= pause, "{:?}", started.elapsed());
        assert!(inboxes[0].is_empty());
        // Lifted, a hands over what waited.
        assert_eq!(wait(&sockets, &mut inboxes, &[None, None]).await, 0);
        assert_eq!(inboxes[0].len(), 1);
    }

    #[tokio::test]
    async fn a_burst_is_handed_over_at_most_burst_at_a_time() {
        let (a, wire) = socket("a");
        let sockets = [a];
        let mut inboxes = [Vec::new()];
        send(&wire, BURST + 8).await;
        assert_eq!(wait(&sockets, &mut inboxes, &[None]).await, 0);
        assert_eq!(inboxes[0].len(), BURST);
        inboxes[0].clear();
        assert_eq!(wait(&sockets, &mut inboxes, &[None]).await, 0);
        assert_eq!(inboxes[0].len(), 8);
    }
}
