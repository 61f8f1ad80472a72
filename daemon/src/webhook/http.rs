//! One HTTP/1.1 POST over a plain TCP connection (no TLS), bounded in time
//! and in what is read back: just enough for a webhook.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Webhook;

/// How much of the response is read, at most, to find its status line.
const MAX_HEAD: usize = 8192;

/// Why a delivery attempt failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PostError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("connection failed: {0}")]
    Io(String),
    #[error("no answer within {0}s")]
    Timeout(u32),
    #[error("not an HTTP response")]
    BadResponse,
    #[error("HTTP status {0}")]
    Status(u16),
}

impl PostError {
    /// Whether trying again later may succeed: not when the receiver said
    /// the request itself is wrong (4xx other than 408 and 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            PostError::Status(s) => !(400..500).contains(s) || *s == 408 || *s == 429,
            _ => true,
        }
    }
}

/// The request bytes for `body` to `hook`.
pub fn request(hook: &Webhook, body: &[u8]) -> Vec<u8> {
    let host = if hook.host.contains(':') {
        format!("[{}]", hook.host)
    } else {
        hook.host.clone()
    };
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}:{}\r\nUser-Agent: berthd/{}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        hook.path,
        hook.port,
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    for (k, v) in &hook.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The status code of a response that starts with `head`, once its status
/// line is complete.
pub fn status(head: &[u8]) -> Option<Result<u16, PostError>> {
    let end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&head[..end]).map_err(|_| PostError::BadResponse);
    Some(line.and_then(|l| {
        let mut parts = l.split(' ');
        match (parts.next(), parts.next()) {
            (Some(v), Some(code)) if v.starts_with("HTTP/1.") => {
                code.parse().map_err(|_| PostError::BadResponse)
            }
            _ => Err(PostError::BadResponse),
        }
    }))
}

/// POSTs `body` to `hook` within its timeout; Ok for a 2xx answer.
pub async fn post(hook: &Webhook, body: &[u8]) -> Result<(), PostError> {
    let attempt = async {
        let mut s = TcpStream::connect((hook.host.as_str(), hook.port))
            .await
            .map_err(|e| PostError::Connect(e.to_string()))?;
        s.write_all(&request(hook, body))
            .await
            .map_err(|e| PostError::Io(e.to_string()))?;
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 1024];
        loop {
            if let Some(code) = status(&head) {
                let code = code?;
                return if (200..300).contains(&code) {
                    Ok(())
                } else {
                    Err(PostError::Status(code))
                };
            }
            if head.len() >= MAX_HEAD {
                return Err(PostError::BadResponse);
            }
            let n = s
                .read(&mut buf)
                .await
                .map_err(|e| PostError::Io(e.to_string()))?;
            if n == 0 {
                return Err(PostError::BadResponse);
            }
            head.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(hook.timeout.into()), attempt)
        .await
        .unwrap_or(Err(PostError::Timeout(hook.timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> Webhook {
        Webhook {
            url: "http://127.0.0.1:9/x".into(),
            host: "127.0.0.1".into(),
            port: 9,
            path: "/x?y=1".into(),
            events: vec![],
            headers: vec![("Authorization".into(), "Bearer t".into())],
            timeout: 1,
            queue: 1,
            retries: None,
            max_backoff: 1,
        }
    }

    #[test]
    fn the_request_is_http_1_1_with_length_and_extra_headers() {
        let r = String::from_utf8(request(&hook(), b"{}")).expect("utf8");
        assert!(
            r.starts_with("POST /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"),
            "{r}"
        );
        assert!(r.contains("\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"));
        assert!(r.ends_with("\r\nAuthorization: Bearer t\r\n\r\n{}"), "{r}");
    }

    #[test]
    fn status_lines() {
        assert_eq!(status(b"HTTP/1.1 204 No Content\r\n"), Some(Ok(204)));
        assert_eq!(status(b"HTTP/1.0 503\r\n"), Some(Ok(503)));
        assert_eq!(status(b"HTTP/1.1 2"), None, "incomplete");
        assert_eq!(status(b"SSH-2.0\r\n"), Some(Err(PostError::BadResponse)));
    }

    #[test]
    fn client_errors_are_not_retried_but_server_errors_are() {
        assert!(!PostError::Status(400).is_retryable());
        assert!(PostError::Status(429).is_retryable());
        assert!(PostError::Status(503).is_retryable());
        assert!(PostError::Timeout(5).is_retryable());
    }

    #[tokio::test]
    async fn posts_to_a_listener_and_reads_its_status() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = l.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.expect("accept");
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"{\"a\":1}") {
                let n = s.read(&mut buf).await.expect("read");
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .await
                .expect("write");
            got
        });
        let h = Webhook { port, ..hook() };
        assert_eq!(post(&h, b"{\"a\":1}").await, Ok(()));
        let got = server.await.expect("server");
        assert!(got.starts_with(b"POST /x?y=1 HTTP/1.1\r\n"));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_retryable_connect_error() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        let e = post(&Webhook { port, ..hook() }, b"{}")
            .await
            .expect_err("refused");
        assert!(
            matches!(e, PostError::Connect(_)) && e.is_retryable(),
            "{e:?}"
        );
    }
}
