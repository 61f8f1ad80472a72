//! systemd's notify protocol (sd_notify(3)): READY, RELOADING, STOPPING and
//! WATCHDOG datagrams to `$NOTIFY_SOCKET`. A no-op when not run by systemd.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Talks to the service manager, if there is one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<SocketAddr>,
    socket: Option<UnixDatagram>,
    /// Half the manager's watchdog timeout, when it asked for pings.
    watchdog: Option<Duration>,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET` and `WATCHDOG_USEC`/`WATCHDOG_PID`.
    pub fn from_env() -> Self {
        let target = std::env::var("NOTIFY_SOCKET").ok().and_then(|p| {
            let addr = match p.strip_prefix('@') {
                Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
                None => SocketAddr::from_pathname(&p),
            };
            addr.map_err(|e| tracing::warn!(socket = %p, error = %e, "NOTIFY_SOCKET unusable"))
                .ok()
        });
        let for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            .is_none_or(|pid| pid == std::process::id());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.parse::<u64>().ok())
            .filter(|&u| u > 0 && for_us)
            .map(|u| Duration::from_micros(u / 2));
        let socket = target.as_ref().and_then(|_| UnixDatagram::unbound().ok());
        Notifier {
            target,
            socket,
            watchdog,
        }
    }

    fn send(&self, msg: &str) {
        if let (Some(sock), Some(to)) = (&self.socket, &self.target)
            && let Err(e) = sock.send_to_addr(msg.as_bytes(), to)
        {
            tracing::warn!(error = %e, "cannot notify the service manager");
        }
    }

    /// Serving.
    pub fn ready(&self) {
        self.send("READY=1\nSTATUS=serving DHCP");
    }

    /// Re-reading the configuration (`Type=notify-reload` wants the
    /// monotonic time with it).
    pub fn reloading(&self) {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid timespec to fill in.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        let usec = ts.tv_sec as i128 * 1_000_000 + ts.tv_nsec as i128 / 1000;
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }

    /// What the daemon is doing, for `systemctl status`.
    pub fn status(&self, text: &str) {
        self.send(&format!("STATUS={text}"));
    }

    /// Shutting down.
    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// Alive.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Whether the manager wants watchdog pings.
    pub fn watchdog_enabled(&self) -> bool {
        self.watchdog.is_some() && self.target.is_some()
    }

    /// How often to ping (a long interval when disabled, to keep timers cheap).
    pub fn watchdog_interval(&self) -> Duration {
        self.watchdog.unwrap_or(Duration::from_secs(3600))
    }
}
