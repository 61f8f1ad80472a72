//! The control socket: binding the Unix socket the control API is served
//! on, and telling who is on the other end of each connection.
//!
//! Who may do what comes from the peer's credentials (SO_PEERCRED): root,
//! the daemon's own user and members of the admin group may change things;
//! anyone else who can open the socket (mode 0660, the control group) may
//! read. The service itself (what each call does) is the server's
//! (`server::api`); this module knows nothing of it.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::unistd::{Gid, Group, Uid, User};
use tokio::net::{UnixListener, UnixStream};
use tracing::{debug, info, warn};

use crate::config::ServerConfig;

/// Why the control socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(
        "control socket {0} is in use by a running berthd: stop it first, or set control_socket to another path"
    )]
    InUse(PathBuf),
    #[error("control socket {path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

/// The bound control socket, not yet served: binding needs no runtime, so
/// the socket can be bound on one thread and served on another.
pub struct Listener {
    listener: std::os::unix::net::UnixListener,
    path: PathBuf,
    admin_gid: Option<Gid>,
    slots: Arc<Slots>,
}

/// Removes the socket file at shutdown (best effort).
pub fn remove_socket(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        warn!(path = %path.display(), error = %e, "could not remove the control socket");
    }
}

impl Listener {
    /// Binds the socket: replaces a stale file left by a crash, refuses one
    /// a live daemon answers on, sets mode 0660 and the control group.
    pub fn bind(cfg: &ServerConfig) -> Result<Listener, ControlError> {
        let path = cfg.control_socket.clone();
        let err = |what| {
            let path = path.clone();
            move |source| ControlError::Io { path, what, source }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err("creating its directory"))?;
        }
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(&path).is_ok() {
                return Err(ControlError::InUse(path));
            }
            info!(path = %path.display(), "replacing a stale control socket");
            std::fs::remove_file(&path).map_err(err("removing the stale socket"))?;
        }
        // Created 0660 from the start: with the process umask a window
        // would open between bind and chmod in which anyone may connect.
        let old_mask = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o117));
        let bound = std::os::unix::net::UnixListener::bind(&path);
        nix::sys::stat::umask(old_mask);
        let listener = bound.map_err(err("binding"))?;
        listener
            .set_nonblocking(true)
            .map_err(err("non-blocking mode"))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660))
            .map_err(err("setting mode 0660"))?;
        let current_gid = std::fs::metadata(&path).map(|m| std::os::unix::fs::MetadataExt::gid(&m));
        match Group::from_name(&cfg.control_group) {
            // Already right (systemd's Group= does this, and its syscall
            // filter would refuse the chown).
            Ok(Some(g)) if current_gid.is_ok_and(|gid| gid == g.gid.as_raw()) => {}
            Ok(Some(g)) => {
                if let Err(e) = nix::unistd::chown(&path, None, Some(g.gid)) {
                    warn!(path = %path.display(), group = %cfg.control_group, error = %e,
                        "cannot give the control socket to its group; only the daemon's user can use it");
                }
            }
            _ => info!(group = %cfg.control_group,
                "control group does not exist; the socket keeps the daemon's group"),
        }
        let admin_gid = match Group::from_name(&cfg.admin_group) {
            Ok(Some(g)) => Some(g.gid),
            _ => {
                info!(group = %cfg.admin_group,
                    "admin group does not exist; only root and the daemon's user may change things");
                None
            }
        };
        Ok(Listener {
            listener,
            path,
            admin_gid,
            slots: Arc::new(Slots::new(
                cfg.control_max_connections,
                cfg.control_max_per_user,
            )),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands the socket to the tokio runtime this is called in, to accept
    /// on.
    pub fn register(self) -> Result<Accepting, ControlError> {
        let Listener {
            listener,
            path,
            admin_gid,
            slots,
        } = self;
        let listener = UnixListener::from_std(listener).map_err(|source| ControlError::Io {
            path: path.clone(),
            what: "registering with the runtime",
            source,
        })?;
        Ok(Accepting {
            listener,
            admin_gid,
            slots,
        })
    }
}

/// The control socket, accepting on a runtime.
pub struct Accepting {
    listener: UnixListener,
    admin_gid: Option<Gid>,
    slots: Arc<Slots>,
}

impl Accepting {
    /// Waits for the next connection and says who is on the other end. A
    /// failed accept, a peer whose credentials cannot be read, and a peer
    /// over its connection limit are logged and skipped. Nothing here
    /// blocks: whether the peer is an admin (a user and group look-up,
    /// which may ask a directory service) is answered by [`Peer::admin`].
    pub async fn accept(&self) -> (UnixStream, Peer) {
        loop {
            let stream = match self.listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let uid = match stream.peer_cred() {
                Ok(c) => c.uid(),
                Err(e) => {
                    warn!(error = %e, "cannot read control peer credentials; connection refused");
                    continue;
                }
            };
            match Slots::take(&self.slots, uid) {
                Ok(slot) => {
                    debug!(uid, "control connection");
                    let peer = Peer {
                        uid,
                        admin_gid: self.admin_gid,
                        _slot: slot,
                    };
                    return (stream, peer);
                }
                Err(why) => {
                    // Dropping the stream closes it: the client sees EOF.
                    warn!(uid, "control connection refused: {why}");
                }
            }
        }
    }
}

/// Open control connections, in all and per user: a user who opens
/// connections without end must not lock the others (or root) out.
struct Slots {
    max_total: usize,
    max_per_user: usize,
    open: Mutex<(usize, HashMap<u32, usize>)>,
}

impl Slots {
    fn new(max_total: usize, max_per_user: usize) -> Self {
        Slots {
            max_total,
            max_per_user,
            open: Mutex::new((0, HashMap::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, HashMap<u32, usize>)> {
        // The counts stay consistent under a panic elsewhere: keep going.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(slots: &Arc<Slots>, uid: u32) -> Result<Slot, String> {
        let mut open = slots.lock();
        // Root keeps a way in when everyone else has used up the total.
        if open.0 >= slots.max_total && uid != 0 {
            return Err(format!(
                "{} control connections are open (control_max_connections)",
                open.0
            ));
        }
        let mine = open.1.get(&uid).copied().unwrap_or(0);
        if mine >= slots.max_per_user {
            return Err(format!(
                "uid {uid} has {mine} control connections open (control_max_per_user)"
            ));
        }
        open.0 += 1;
        *open.1.entry(uid).or_default() += 1;
        Ok(Slot {
            slots: Arc::clone(slots),
            uid,
        })
    }
}

/// One open connection's place; given back when the connection ends.
struct Slot {
    slots: Arc<Slots>,
    uid: u32,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.lock();
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.uid) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.1.remove(&self.uid);
            }
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slot(uid {})", self.uid)
    }
}

/// Who is on the other end of a control connection, from SO_PEERCRED. It
/// holds the connection's place under the connection limits: keep it for as
/// long as the connection lives.
#[derive(Debug)]
pub struct Peer {
    /// The peer's user id.
    pub uid: u32,
    admin_gid: Option<Gid>,
    _slot: Slot,
}

impl Peer {
    /// Whether it may change things (root, the daemon's user, the admin
    /// group). The group look-up may block (NSS, a directory service), so
    /// it runs on the blocking pool, off the accept loop.
    pub async fn admin(&self) -> bool {
        let (uid, gid) = (self.uid, self.admin_gid);
        tokio::task::spawn_blocking(move || is_admin(uid, gid))
            .await
            .unwrap_or(false)
    }
}

/// Root, the daemon's own user, or a member of the admin group.
fn is_admin(uid: u32, admin_gid: Option<Gid>) -> bool {
    let uid = Uid::from_raw(uid);
    if uid.is_root() || uid == Uid::effective() {
        return true;
    }
    let Some(admin) = admin_gid else {
        return false;
    };
    let Ok(Some(user)) = User::from_uid(uid) else {
        return false;
    };
    if user.gid == admin {
        return true;
    }
    let Ok(name) = std::ffi::CString::new(user.name.as_bytes()) else {
        return false;
    };
    nix::unistd::getgrouplist(&name, user.gid).is_ok_and(|groups| groups.contains(&admin))
}

/// The most calls one connection may have in flight; more are answered with
/// an error rather than queued (a client pipelining without end cannot pile
/// up work on the core).
pub const MAX_CALLS_PER_CONNECTION: usize = 16;

/// A transport that ends (as if the peer had closed it) when no complete
/// request has arrived for `idle`: a client that connects and sends nothing,
/// or trickles a frame a byte at a time, holds its connection and buffer no
/// longer than that.
pub struct Idle<T> {
    inner: T,
    idle: Duration,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<T> Idle<T> {
    /// Wraps `inner`, whose requests must come at least every `idle`.
    pub fn new(inner: T, idle: Duration) -> Self {
        Idle {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

impl<T: futures::Stream + Unpin> futures::Stream for Idle<T> {
    type Item = T::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        // Decoding a request runs inside this poll. tarpc panics on some
        // frames (a deadline that overflows `Instant`, found by fuzzing
        // `control_frame`): such a frame ends this connection only, as any
        // other malformed frame does, and the next poll is not made.
        let inner = &mut this.inner;
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::pin::Pin::new(inner).poll_next(cx)
        }));
        let Ok(polled) = polled else {
            warn!("control request could not be decoded: connection closed");
            return Poll::Ready(None);
        };
        match polled {
            Poll::Ready(item) => {
                let next = tokio::time::Instant::now() + this.idle;
                this.timer.as_mut().reset(next);
                Poll::Ready(item)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    debug!("control connection idle: closed");
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<T: futures::Sink<I> + Unpin, I> futures::Sink<I> for Idle<T> {
    type Error = T::Error;

    fn poll_ready(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), T::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_ready(cx)
    }

    fn start_send(mut self: std::pin::Pin<&mut Self>, item: I) -> Result<(), T::Error> {
        std::pin::Pin::new(&mut self.inner).start_send(item)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), T::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), T::Error>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
    }
}
