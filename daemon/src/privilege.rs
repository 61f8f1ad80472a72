//! Dropping root: when started as root (outside systemd, which starts us as
//! `berth` with only the capabilities we need), switch to an unprivileged
//! user keeping only CAP_NET_RAW and CAP_NET_ADMIN ([`KEEP`]).
//!
//! This happens before the async runtime starts: Linux capabilities belong
//! to threads, and threads inherit them from the thread that creates them,
//! so switching while still single-threaded gives every later thread (the
//! socket tasks, the store writer) exactly the kept set. The DHCP sockets
//! are bound before, the only moment CAP_NET_BIND_SERVICE is needed (so an
//! interface added by a reload needs a restart, as the reload says); the
//! directories the daemon writes are created (or handed over) first, while
//! still root. Started without root but with CAP_NET_BIND_SERVICE (systemd's
//! `AmbientCapabilities`), [`drop_bind_service`] gives it up the same way.

use std::path::{Path, PathBuf};

use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Uid, User};

/// The capabilities berthd needs while serving, once its DHCP sockets are
/// bound: raw sockets (ARP) and ARP cache entries (SIOCSARP).
pub const KEEP: [Capability; 2] = [Capability::CAP_NET_RAW, Capability::CAP_NET_ADMIN];

/// Why the switch failed. The daemon stops rather than run with more
/// privilege than asked for.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// The configured user is missing: running on as root would give every
    /// client-facing thread full privilege, so the daemon refuses to start.
    #[error(
        "cannot switch to user `{user}`: {reason}; create it (e.g. with \
         contrib/systemd/berth.sysusers), or pass `--user root` to run with all privileges"
    )]
    NoSuchUser { user: String, reason: String },
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
    let u = match User::from_name(user) {
        Ok(Some(u)) => u,
        Ok(None) => {
            return Err(PrivilegeError::NoSuchUser {
                user: user.to_string(),
                reason: "the user does not exist".into(),
            });
        }
        Err(e) => {
            return Err(PrivilegeError::NoSuchUser {
                user: user.to_string(),
                reason: format!("looking the user up failed: {e}"),
            });
        }
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
            hand_over(dir, u.uid, u.gid);
        }
    }
    for f in files.iter().filter(|f| f.exists()) {
        hand_over(f, u.uid, u.gid);
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
    // Whatever is not kept can never come back, not even through exec.
    for cap in caps::runtime::thread_all_supported()
        .into_iter()
        .filter(|c| !keep.contains(c))
    {
        caps::drop(None, CapSet::Bounding, cap)
            .map_err(|e| fail("clearing the bounding set")(&e))?;
    }
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
        "dropped root; keeping CAP_NET_RAW, CAP_NET_ADMIN"
    );
    Ok(Dropped::To(user.to_string()))
}

/// Gives up CAP_NET_BIND_SERVICE once the DHCP sockets are bound, when not
/// root (as root, [`drop_root`] already kept only [`KEEP`]): from the
/// effective, permitted, inheritable and ambient sets, and from the
/// bounding set where the process may change it. That takes CAP_SETPCAP,
/// which the systemd unit grants for this moment only: it goes too, from
/// every set, bounding included. Call it while single-threaded, so every
/// later thread inherits the smaller sets.
pub fn drop_bind_service() -> Result<(), PrivilegeError> {
    if Uid::effective().is_root() {
        return Ok(());
    }
    let fail = |what: &'static str| {
        move |e: caps::errors::CapsError| PrivilegeError::Switch {
            user: "(current)".into(),
            what,
            reason: e.to_string(),
        }
    };
    let gone = [Capability::CAP_NET_BIND_SERVICE, Capability::CAP_SETPCAP];
    if caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).unwrap_or(false) {
        // CAP_SETPCAP last: dropping from the bounding set needs it effective.
        for cap in gone {
            if caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) {
                caps::drop(None, CapSet::Bounding, cap)
                    .map_err(fail("clearing the bounding set"))?;
            }
        }
    }
    for set in [
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        for cap in gone {
            if caps::has_cap(None, set, cap).unwrap_or(false) {
                caps::drop(None, set, cap)
                    .map_err(fail("dropping CAP_NET_BIND_SERVICE and CAP_SETPCAP"))?;
            }
        }
    }
    Ok(())
}

/// Gives `path` to the daemon's user. Opened with `O_NOFOLLOW` and changed
/// with `fchown`, so a symlink planted where the store or its `-wal`/`-shm`
/// files go cannot make root hand over some other file.
fn hand_over(path: &Path, uid: Uid, gid: nix::unistd::Gid) -> bool {
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::Mode;
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let result = open(path, flags, Mode::empty())
        .and_then(|fd| nix::unistd::fchown(&fd, Some(uid), Some(gid)));
    if let Err(e) = &result {
        tracing::warn!(path = %path.display(), error = %e, "not handed to the daemon's user");
    }
    result.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn hand_over_does_not_follow_symlinks() {
        if !Uid::effective().is_root() {
            eprintln!("SKIPPED (chown to another user needs root)");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("precious");
        std::fs::write(&target, "root's").expect("write");
        let link = dir.path().join("leases.db-wal");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let nobody = (Uid::from_raw(65534), nix::unistd::Gid::from_raw(65534));
        assert!(
            !hand_over(&link, nobody.0, nobody.1),
            "a symlink is refused"
        );
        assert_eq!(std::fs::metadata(&target).expect("stat").uid(), 0);
        let plain = dir.path().join("leases.db");
        std::fs::write(&plain, "").expect("write");
        assert!(hand_over(&plain, nobody.0, nobody.1));
        assert_eq!(std::fs::metadata(&plain).expect("stat").uid(), 65534);
    }

    #[test]
    fn a_missing_user_is_an_error_not_root() {
        if !Uid::effective().is_root() {
            eprintln!("SKIPPED (needs root)");
            return;
        }
        let err = drop_root("no-such-berth-user", &[], &[]).expect_err("must refuse");
        let msg = err.to_string();
        assert!(
            msg.contains("no-such-berth-user") && msg.contains("--user root"),
            "{msg}"
        );
    }
}
