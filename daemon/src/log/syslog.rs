//! A small syslog sink (under [`super::held`]): each log line is one
//! datagram to the local syslog socket (`/dev/log`), framed as RFC 3164's
//! local form, `<PRI>TIMESTAMP berthd[PID]: message`, which rsyslog,
//! syslog-ng and journald's syslog socket all accept.
//!
//! The socket is connected once and again after a send fails (the syslog
//! daemon restarted). When there is no syslog daemon the line goes to
//! stderr, so nothing is lost silently.

use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use tracing::Level;

use super::sink::{Batch, Sink};

/// A syslog facility (RFC 5424 section 6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(u8);

/// The facilities by name, as syslog.conf and ISC dhcpd's `log-facility` write them.
const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

impl Facility {
    /// The facility called `name`.
    pub fn parse(name: &str) -> Option<Facility> {
        FACILITIES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| Facility(*c))
    }

    /// Every name, for messages.
    pub fn names() -> impl Iterator<Item = &'static str> {
        FACILITIES.iter().map(|(n, _)| *n)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        FACILITIES
            .iter()
            .find(|(_, c)| *c == self.0)
            .map_or("user", |(n, _)| n)
    }
}

/// Syslog severity for a tracing level.
fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// One datagram: `<PRI>Mmm dd hh:mm:ss berthd[PID]: line`. The timestamp is
/// the local form RFC 3164 asks for, in UTC (what berthd keeps).
pub fn frame(
    facility: Facility,
    level: &Level,
    now: jiff::Timestamp,
    pid: u32,
    line: &str,
) -> Vec<u8> {
    let pri = u16::from(facility.0) * 8 + u16::from(severity(level));
    let stamp = now.strftime("%b %e %H:%M:%S");
    let line = line.trim_end_matches('\n');
    format!("<{pri}>{stamp} berthd[{pid}]: {line}").into_bytes()
}

/// The syslog [`Sink`]: each line one datagram to the socket at its path.
#[derive(Debug)]
pub struct Syslog {
    facility: Facility,
    path: PathBuf,
    sock: Option<UnixDatagram>,
}

impl Syslog {
    /// A sink to the datagram socket at `path` with `facility`. It
    /// connects now (before berthd drops root, should the socket need it).
    pub fn new(facility: Facility, path: &Path) -> Syslog {
        Syslog {
            facility,
            path: path.to_path_buf(),
            sock: Self::connect(path),
        }
    }

    fn connect(path: &Path) -> Option<UnixDatagram> {
        let s = UnixDatagram::unbound().ok()?;
        s.connect(path).ok()?;
        Some(s)
    }

    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        if self.sock.is_none() {
            self.sock = Self::connect(&self.path);
        }
        if let Some(s) = &self.sock
            && s.send(msg).is_ok()
        {
            return Ok(());
        }
        // Once more on a fresh connection: syslogd may have restarted.
        self.sock = Self::connect(&self.path);
        match &self.sock {
            Some(s) => s.send(msg).map(drop),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "no syslog socket",
            )),
        }
    }
}

impl Sink for Syslog {
    fn write(&mut self, batch: &Batch) {
        let pid = std::process::id();
        for line in batch.entries() {
            let text = String::from_utf8_lossy(line.text);
            let at = line.at.unwrap_or_else(jiff::Timestamp::now);
            let msg = frame(self.facility, &line.level, at, pid, &text);
            if self.send(&msg).is_err() {
                // Not lost silently.
                let _ = io::stderr().write_all(line.text);
            }
        }
    }

    /// Lines are stamped when logged, not when a held batch is sent.
    fn stamps(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::held::Held;
    use super::super::held::tests::{line, log};
    use super::*;

    #[test]
    fn facilities_by_name() {
        assert_eq!(Facility::parse("local7"), Some(Facility(23)));
        assert_eq!(Facility::parse("daemon"), Some(Facility(3)));
        assert_eq!(Facility::parse("local8"), None);
        assert_eq!(Facility(23).name(), "local7");
        assert_eq!(Facility::names().count(), 20);
    }

    #[test]
    fn frames_are_rfc3164_local_form() {
        let at: jiff::Timestamp = "2026-03-05T07:08:09Z".parse().expect("time");
        let f = frame(
            Facility(23),
            &Level::INFO,
            at,
            42,
            "REQUEST from x: acked y\n",
        );
        assert_eq!(
            String::from_utf8(f).expect("utf8"),
            "<190>Mar  5 07:08:09 berthd[42]: REQUEST from x: acked y"
        );
        let f = frame(Facility(3), &Level::ERROR, at, 1, "bad");
        assert!(f.starts_with(b"<27>"), "daemon.err is 3*8+3");
    }

    /// A socket in a temp dir standing in for syslogd, and a layer over
    /// a sink to it.
    fn syslogd() -> (tempfile::TempDir, UnixDatagram, Held) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).expect("bind");
        server.set_nonblocking(true).expect("nonblocking");
        let facility = Facility::parse("local7").expect("facility");
        (dir, server, Held::new(Syslog::new(facility, &path)))
    }

    /// The datagrams waiting on `server`.
    fn received(server: &UnixDatagram) -> Vec<String> {
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        while let Ok(n) = server.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got
    }

    #[test]
    fn lines_arrive_on_the_socket_one_datagram_each() {
        let (_dir, server, held) = syslogd();
        {
            let mut w = line(&held, Level::WARN);
            write!(w, "first part, ").expect("write");
            writeln!(w, "second part").expect("write");
        }
        let got = received(&server);
        assert_eq!(got.len(), 1, "one datagram: {got:?}");
        assert!(got[0].starts_with("<188>"), "local7.warning: {got:?}");
        let pid = std::process::id();
        assert!(
            got[0].ends_with(&format!(" berthd[{pid}]: first part, second part")),
            "one datagram, no newline: {got:?}"
        );
    }

    #[test]
    fn lines_are_held_over_syslog_too() {
        let (_dir, server, held) = syslogd();
        held.hold(true);
        log(&held, Level::INFO, "one\n");
        log(&held, Level::DEBUG, "two\n");
        assert!(received(&server).is_empty(), "held, not sent yet");
        assert!(held.due().is_some());

        log(&held, Level::WARN, "a warning\n");
        let got = received(&server);
        let tails: Vec<_> = got
            .iter()
            .map(|d| d.rsplit_once(": ").expect("framed").1)
            .collect();
        assert_eq!(
            tails,
            ["one", "two", "a warning"],
            "in order, a datagram each"
        );
        assert!(got[0].starts_with("<190>") && got[1].starts_with("<191>"));
        assert!(got[2].starts_with("<188>"), "each with its own severity");

        log(&held, Level::INFO, "three\n");
        assert!(received(&server).is_empty());
        held.hold(false);
        assert_eq!(received(&server).len(), 1, "stopping sends what is held");
        log(&held, Level::INFO, "four\n");
        assert_eq!(received(&server).len(), 1, "not holding: sent at once");
    }
}
