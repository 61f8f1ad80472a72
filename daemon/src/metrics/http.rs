//! A deliberately small HTTP/1.1 server for one resource: `GET /metrics`.
//!
//! One request per connection (`Connection: close`), the request head
//! bounded in size ([`MAX_REQUEST_BYTES`]) and in time ([`READ_TIMEOUT`]),
//! at most [`MAX_CONNECTIONS`] served at once (more get a 503 and are
//! closed without being read). Bodies are never read: a scrape has none.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::encode::CONTENT_TYPE;

/// The largest request head read; a longer one gets 431.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// How long a client has to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing the answer may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a refused connection is given to take its 503.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 8;

/// What a request head asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /metrics` (a query string is ignored); `head` for HEAD.
    Metrics { head: bool },
    /// Another path.
    NotFound,
    /// Another method.
    MethodNotAllowed,
    /// Not an HTTP/1.x request line.
    BadRequest,
}

/// Routes a complete request head (up to the blank line).
pub fn route(head: &[u8]) -> Route {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Ok(line) = std::str::from_utf8(line) else {
        return Route::BadRequest;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Route::BadRequest;
    }
    let path = target.split('?').next().unwrap_or(target);
    let head = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Route::MethodNotAllowed,
    };
    if path == "/metrics" {
        Route::Metrics { head }
    } else {
        Route::NotFound
    }
}

/// Where the head ends (after `\r\n\r\n` or `\n\n`), if it is complete.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A whole response.
fn response(status: &str, content_type: &str, body: &str, head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

fn plain(status: &str, body: &str) -> Vec<u8> {
    response(status, "text/plain; charset=utf-8", body, false)
}

/// Serves `listener` until the task is aborted. `scrape` makes the body
/// of each `GET /metrics`; `None` (the daemon is stopping) is a 503.
pub async fn serve<F, Fut>(listener: TcpListener, scrape: F)
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(error = %e, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "metrics: too many connections, refused");
            tokio::spawn(async move {
                let busy = plain("503 Service Unavailable", "too many connections\n");
                let _ = tokio::time::timeout(REFUSE_TIMEOUT, async {
                    stream.write_all(&busy).await?;
                    stream.shutdown().await?;
                    // Closing with the request unread would reset the
                    // connection before the client reads the 503.
                    let mut sink = [0u8; 1024];
                    let mut left = MAX_REQUEST_BYTES;
                    while left > 0 {
                        let n = stream.read(&mut sink).await?;
                        if n == 0 {
                            break;
                        }
                        left = left.saturating_sub(n);
                    }
                    Ok::<(), std::io::Error>(())
                })
                .await;
            });
            continue;
        };
        let scrape = scrape.clone();
        tokio::spawn(async move {
            answer(stream, scrape).await;
            drop(permit);
        });
    }
}

/// Reads one request head and answers it.
async fn answer<F, Fut>(mut stream: TcpStream, scrape: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let reply = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Err(_) => return,
        Ok(Err(())) => return,
        Ok(Ok(None)) => plain("431 Request Header Fields Too Large", "request too large\n"),
        Ok(Ok(Some(head))) => match route(&head) {
            Route::Metrics { head } => match scrape().await {
                Some(body) => response("200 OK", CONTENT_TYPE, &body, head),
                None => plain("503 Service Unavailable", "berthd is stopping\n"),
            },
            Route::NotFound => plain("404 Not Found", "only /metrics is served here\n"),
            Route::MethodNotAllowed => plain("405 Method Not Allowed", "use GET\n"),
            Route::BadRequest => plain("400 Bad Request", "not an HTTP/1.x request\n"),
        },
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(&reply).await?;
        stream.shutdown().await
    })
    .await;
}

/// The request head, `None` if it exceeds [`MAX_REQUEST_BYTES`], an error
/// if the peer closed or failed first.
async fn read_head(stream: &mut TcpStream) -> Result<Option<Vec<u8>>, ()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&buf) {
            buf.truncate(end);
            return Ok(Some(buf));
        }
        if buf.len() > MAX_REQUEST_BYTES {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_and_head_of_metrics_are_served() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Metrics { head: false }
        );
        assert_eq!(
            route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Route::Metrics { head: false }
        );
        assert_eq!(
            route(b"HEAD /metrics HTTP/1.1\r\n\r\n"),
            Route::Metrics { head: true }
        );
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Route::MethodNotAllowed
        );
        assert_eq!(route(b"GET /metrics\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics SPDY/3\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"\xff\xfe\r\n\r\n"), Route::BadRequest);
    }

    #[test]
    fn the_head_ends_at_the_first_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }

    async fn get(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(request).await.expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out
    }

    #[tokio::test]
    async fn serves_metrics_404s_the_rest_and_bounds_the_head() {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        let task = tokio::spawn(serve(l, || async { Some("m 1\n".to_string()) }));
        let ok = get(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(
            ok.contains(CONTENT_TYPE) && ok.ends_with("\r\n\r\nm 1\n"),
            "{ok}"
        );
        let head = get(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n").await;
        assert!(head.contains("Content-Length: 4\r\n") && head.ends_with("\r\n\r\n"));
        let missing = get(addr, b"GET /other HTTP/1.1\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
        let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST_BYTES + 10));
        let big = get(addr, &huge).await;
        assert!(big.starts_with("HTTP/1.1 431 "), "{big}");
        task.abort();
    }

    #[tokio::test]
    async fn connections_beyond_the_bound_get_503() {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        let task = tokio::spawn(serve(l, || async { Some(String::new()) }));
        // Silent clients hold every slot until their read timeout.
        let mut idle = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            idle.push(TcpStream::connect(addr).await.expect("connect"));
        }
        // The slots are taken in accept order; give the server a moment to
        // accept them all (not timed: it only has to happen eventually).
        let mut refused = String::new();
        for _ in 0..100 {
            refused = get(addr, b"GET /metrics HTTP/1.1\r\n\r\n").await;
            if refused.starts_with("HTTP/1.1 503 ") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(refused.starts_with("HTTP/1.1 503 "), "{refused}");
        drop(idle);
        task.abort();
    }
}
