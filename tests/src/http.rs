//! Just enough HTTP/1.1 for the webhook receivers the tests run: where a
//! request's body is once it has all arrived.

/// The body of the request at the start of `buf` once its headers and
/// `Content-Length` bytes of body are all there; `None` while more is due.
pub fn complete_body(buf: &[u8]) -> Option<&[u8]> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    buf.get(end + 4..end + 4 + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_there_only_once_all_of_it_arrived() {
        let req = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(complete_body(req), Some(&b"hello"[..]));
        assert_eq!(complete_body(&req[..req.len() - 1]), None);
        assert_eq!(complete_body(b"POST / HTTP/1.1\r\nContent-Le"), None);
        assert_eq!(complete_body(b"GET / HTTP/1.1\r\n\r\n"), Some(&b""[..]));
    }
}
