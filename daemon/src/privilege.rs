//! Dropping root: when started as root (outside systemd, which starts us as
//! `berth` with only the capabilities we need), switch to an unprivileged
//! user keeping only CAP_NET_BIND_SERVICE, CAP_NET_RAW and CAP_NET_ADMIN.
//!
//! This happens before the async runtime starts: Linux capabilities belong
//! to threads, and threads inherit them from the thread that creates them,
//! so switching while still single-threaded gives every later thread (the
//! socket tasks, the store writer) exactly the kept set. The sockets are
//! bound afterwards with those capabilities; the directories the daemon
//! writes are created (or handed over) first, while still root.

use std::path::{Path, PathBuf};

use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Uid, User};

/// The capabilities berthd needs while serving: port 67, raw sockets and
/// SO_BINDTODEVICE, ARP cache entries.
pub const KEEP: [Capability; 3] = [
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_NET_RAW,
    Capability::CAP_NET_ADMIN,
];

/// Why the switch failed. The daemon stops rather than run with more
/// privilege than asked for.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error("cannot switch to user `{user}`: {what}: {reason}")]
    Switch {
        user: String,
        what: &'static str,
        reason: String,
    },
}

/// What happened.
#[derive(Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Not root: nothing to do.
    NotRoot,
    /// No such user: still root (warned).
    NoSuchUser,
    /// Asked to stay root (`--user root`).
    StayRoot,
    /// Now running as this user with [`KEEP`] only.
    To(String),
}

/// Switches to `user` if running as root. `dirs` are directories the daemon
/// must write (created and given to the user when missing); `files` are
/// files it must write (given to the user when they exist).
pub fn drop_root(user: &str, dirs: &[&Path], files: &[PathBuf]) -> Result<Dropped, PrivilegeError> {
    if !Uid::effective().is_root() {
        return Ok(Dropped::NotRoot);
    }
    let Ok(Some(u)) = User::from_name(user) else {
        tracing::warn!(
            user,
            "running as root: user does not exist, so privileges are not dropped (create it, e.g. with contrib/systemd/berth.sysusers)"
        );
        return Ok(Dropped::NoSuchUser);
    };
    if u.uid.is_root() {
        tracing::warn!("running as root with all privileges (--user {user})");
        return Ok(Dropped::StayRoot);
    }
    for dir in dirs {
        // Only directories we create are handed over: an existing one
        // (say /tmp) is the operator's to own.
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|e| PrivilegeError::Switch {
                user: user.to_string(),
                what: "creating a state directory",
                reason: format!("{}: {e}", dir.display()),
            })?;
            let _ = nix::unistd::chown(*dir, Some(u.uid), Some(u.gid));
        }
    }
    for f in files.iter().filter(|f| f.exists()) {
        let _ = nix::unistd::chown(f.as_path(), Some(u.uid), Some(u.gid));
    }
    let fail = |what: &'static str| {
        let user = user.to_string();
        move |e: &dyn std::fmt::Display| PrivilegeError::Switch {
            user,
            what,
            reason: e.to_string(),
        }
    };
    let keep: CapsHashSet = KEEP.into_iter().collect();
    // Keep the permitted set across setuid, then narrow it.
    caps::securebits::set_keepcaps(true).map_err(|e| fail("keeping capabilities")(&e))?;
    nix::unistd::setgroups(&[u.gid]).map_err(|e| fail("setting groups")(&e))?;
    nix::unistd::setgid(u.gid).map_err(|e| fail("setting gid")(&e))?;
    nix::unistd::setuid(u.uid).map_err(|e| fail("setting uid")(&e))?;
    caps::set(None, CapSet::Permitted, &keep)
        .map_err(|e| fail("narrowing permitted capabilities")(&e))?;
    caps::set(None, CapSet::Effective, &keep)
        .map_err(|e| fail("raising effective capabilities")(&e))?;
    caps::clear(None, CapSet::Inheritable)
        .map_err(|e| fail("clearing inheritable capabilities")(&e))?;
    caps::securebits::set_keepcaps(false).map_err(|e| fail("resetting keepcaps")(&e))?;
    tracing::info!(
        user,
        uid = u.uid.as_raw(),
        "dropped root; keeping CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_NET_ADMIN"
    );
    Ok(Dropped::To(user.to_string()))
}
