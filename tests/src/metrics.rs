//! Scraping berthd's Prometheus endpoint from a test: a plain HTTP GET
//! (from this process, or from a thread that entered a network namespace
//! first, so the daemon's address inside a lab is reachable), and reading
//! one series' value out of the exposition text.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// An HTTP answer: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// `GET path` from `addr` (one request, `Connection: close`).
pub fn get(addr: SocketAddr, path: &str) -> Result<Answer> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connect to {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).context("read the answer")?;
    let text = String::from_utf8(raw).context("the answer is not UTF-8")?;
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("no end of headers in {text:?}");
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status in {head:?}"))?;
    Ok(Answer {
        status,
        body: body.to_string(),
    })
}

/// [`get`] from inside the network namespace `ns`.
pub fn get_in(ns: &str, addr: SocketAddr, path: &str) -> Result<Answer> {
    let path = path.to_string();
    in_netns(ns, move || get(addr, &path))?
}

/// Runs `f` on a thread of its own that entered the network namespace
/// `ns` (by name, as `ip netns` knows it) first, so nothing else moves.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let file = std::fs::File::open(format!("/run/netns/{ns}"))
        .with_context(|| format!("open netns {ns}"))?;
    std::thread::spawn(move || {
        // SAFETY: setns on a file descriptor held open; it changes only
        // this thread's network namespace, and the thread ends after `f`.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        if rc != 0 {
            bail!("setns: {}", std::io::Error::last_os_error());
        }
        Ok(f())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("thread in netns {ns} panicked"))?
}

/// The value of the sample `series` (name and labels exactly as written,
/// e.g. `berth_requests_total{outcome="acked"}`) in exposition `text`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_found_by_its_exact_name_and_labels() {
        let text = "# HELP a x\n# TYPE a counter\na 1\na{t=\"x\"} 2.5\nab 3\n";
        assert_eq!(sample(text, "a"), Some(1.0));
        assert_eq!(sample(text, "a{t=\"x\"}"), Some(2.5));
        assert_eq!(sample(text, "ab"), Some(3.0));
        assert_eq!(sample(text, "a{t=\"y\"}"), None);
    }
}
