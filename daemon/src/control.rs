//! The control socket: binding the Unix socket the control API is served
//! on, and telling who is on the other end of each connection.
//!
//! Who may do what comes from the peer's credentials (SO_PEERCRED): root,
//! the daemon's own user and members of the admin group may change things;
//! anyone else who can open the socket (mode 0660, the control group) may
//! read. The service itself (what each call does) is the server's
//! (`server::api`); this module knows nothing of it.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
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

/// The bound control socket.
pub struct Listener {
    listener: UnixListener,
    path: PathBuf,
    admin_gid: Option<Gid>,
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
        let listener = UnixListener::bind(&path).map_err(err("binding"))?;
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
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the next connection and says who is on the other end. A
    /// failed accept, or a peer whose credentials cannot be read, is logged
    /// and skipped.
    pub async fn accept(&self) -> (UnixStream, Peer) {
        loop {
            let stream = match self.listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match stream.peer_cred() {
                Ok(c) => {
                    let peer = Peer {
                        uid: c.uid(),
                        admin: is_admin(c.uid(), self.admin_gid),
                    };
                    debug!(uid = peer.uid, admin = peer.admin, "control connection");
                    return (stream, peer);
                }
                Err(e) => {
                    warn!(error = %e, "cannot read control peer credentials; connection refused");
                }
            }
        }
    }
}

/// Who is on the other end of a control connection, from SO_PEERCRED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The peer's user id.
    pub uid: u32,
    /// Whether it may change things (root, the daemon's user, the admin group).
    pub admin: bool,
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
