//! The control API: the [`berth_proto::Control`] service on a Unix socket.
//!
//! Who may do what comes from the peer's credentials (SO_PEERCRED): root,
//! the daemon's own user and members of the admin group may change things;
//! anyone else who can open the socket (mode 0660, the control group) may
//! read. Each connection is its own tarpc channel: an oversized or malformed
//! frame ends that connection and nothing else.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use berth_proto::{
    API_VERSION, ApiError, BlockInfo, Control, ErrorKind, EventBatch, HostInfo, HostSpec,
    LeaseFilter, LeaseInfo, PoolInfo, PromoteRequest, PromoteResult, ReloadResult, Status, Target,
};
use futures::StreamExt;
use nix::unistd::{Gid, Group, Uid, User};
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};
use tokio::net::UnixListener;
use tracing::{debug, info, warn};

use crate::config::ServerConfig;
use crate::events::EventLog;
use crate::server::CoreHandle;

/// The longest an `events_since` call waits: below tarpc's default 10 s
/// client deadline, so a long poll never looks like a dead daemon.
const MAX_EVENT_WAIT: Duration = Duration::from_secs(8);

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

    /// Accepts connections until the task is aborted.
    pub(crate) async fn serve(self, core: CoreHandle, events: Arc<EventLog>, admin_group: String) {
        loop {
            let stream = match self.listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let (uid, admin) = match stream.peer_cred() {
                Ok(c) => (c.uid(), is_admin(c.uid(), self.admin_gid)),
                Err(e) => {
                    warn!(error = %e, "cannot read control peer credentials; connection refused");
                    continue;
                }
            };
            debug!(uid, admin, "control connection");
            let session = Session {
                core: core.clone(),
                events: events.clone(),
                uid,
                admin,
                admin_group: admin_group.clone(),
            };
            let channel = BaseChannel::with_defaults(berth_proto::transport::framed(stream));
            tokio::spawn(async move {
                channel
                    .execute(session.serve())
                    .for_each(|call| async {
                        tokio::spawn(call);
                    })
                    .await;
                debug!(uid, "control connection closed");
            });
        }
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

/// One connection's view of the service.
#[derive(Clone)]
struct Session {
    core: CoreHandle,
    events: Arc<EventLog>,
    uid: u32,
    admin: bool,
    admin_group: String,
}

impl Session {
    fn require_admin(&self, call: &str) -> Result<(), ApiError> {
        if self.admin {
            return Ok(());
        }
        warn!(uid = self.uid, call, "control call denied: not an admin");
        Err(ApiError::new(
            ErrorKind::PermissionDenied,
            format!(
                "{call} needs admin rights: run as root or join the `{}` group (uid {} may only read)",
                self.admin_group, self.uid
            ),
        ))
    }
}

impl Control for Session {
    async fn api_version(self, _: Context) -> u32 {
        API_VERSION
    }

    async fn status(self, _: Context) -> Result<Status, ApiError> {
        self.core.read(|c, now| Ok(c.status(now))).await
    }

    async fn leases(self, _: Context, filter: LeaseFilter) -> Result<Vec<LeaseInfo>, ApiError> {
        self.core.read(move |c, now| c.leases(&filter, now)).await
    }

    async fn hosts(self, _: Context) -> Result<Vec<HostInfo>, ApiError> {
        self.core.read(|c, _| Ok(c.hosts_list())).await
    }

    async fn host_add(self, _: Context, host: HostSpec) -> Result<HostInfo, ApiError> {
        self.require_admin("host add")?;
        self.core
            .run(move |c, now| c.host_put(host, None, now))
            .await
    }

    async fn host_update(
        self,
        _: Context,
        name: String,
        host: HostSpec,
    ) -> Result<HostInfo, ApiError> {
        self.require_admin("host update")?;
        self.core
            .run(move |c, now| c.host_put(host, Some(name), now))
            .await
    }

    async fn host_remove(self, _: Context, name: String) -> Result<HostInfo, ApiError> {
        self.require_admin("host remove")?;
        self.core.run(move |c, now| c.host_remove(&name, now)).await
    }

    async fn hosts_export(self, _: Context) -> Result<String, ApiError> {
        self.core.read(|c, _| Ok(c.hosts_export())).await
    }

    async fn promote(self, _: Context, req: PromoteRequest) -> Result<PromoteResult, ApiError> {
        self.require_admin("promote")?;
        self.core.run(move |c, now| c.promote(req, now)).await
    }

    async fn release(self, _: Context, target: Target) -> Result<LeaseInfo, ApiError> {
        self.require_admin("release")?;
        self.core.run(move |c, now| c.release(&target, now)).await
    }

    async fn block(
        self,
        _: Context,
        mac: String,
        duration_secs: Option<u64>,
    ) -> Result<BlockInfo, ApiError> {
        self.require_admin("block")?;
        self.core
            .run(move |c, now| c.block(&mac, duration_secs, now))
            .await
    }

    async fn unblock(self, _: Context, mac: String) -> Result<BlockInfo, ApiError> {
        self.require_admin("unblock")?;
        self.core.run(move |c, now| c.unblock(&mac, now)).await
    }

    async fn blocks(self, _: Context) -> Result<Vec<BlockInfo>, ApiError> {
        self.core.read(|c, now| Ok(c.blocks_list(now))).await
    }

    async fn pools(self, _: Context) -> Result<Vec<PoolInfo>, ApiError> {
        self.core.read(|c, now| Ok(c.pools(now))).await
    }

    async fn reload(self, _: Context) -> Result<ReloadResult, ApiError> {
        self.require_admin("reload")?;
        self.core
            .run(|c, now| c.reload(now).map(|r| (r, Vec::new())))
            .await
    }

    async fn events_since(
        self,
        _: Context,
        seq: u64,
        wait_ms: u64,
    ) -> Result<EventBatch, ApiError> {
        let wait = Duration::from_millis(wait_ms).min(MAX_EVENT_WAIT);
        Ok(self.events.wait_since(seq, wait).await)
    }
}
