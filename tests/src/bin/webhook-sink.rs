//! A tiny HTTP receiver for webhook tests: appends each POSTed body as one
//! line to a file, answering 503 to the first `--fail-first` requests and
//! 200 after.
//!
//! Run it only inside a lab namespace (e2e_policy does):
//! `webhook-sink --listen 192.0.2.1:8080 --out FILE [--fail-first N]`.
//! Each request is also counted: `FILE.requests` holds the count so far.

use std::io::{Read, Write};
use std::net::TcpListener;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut listen, mut out, mut fail_first) = (None, None, 0usize);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => listen = Some(value.clone()),
            "--out" => out = Some(value.clone()),
            "--fail-first" => fail_first = value.parse().context("--fail-first")?,
            _ => bail!("unknown argument {flag}"),
        }
    }
    let (Some(listen), Some(out)) = (listen, out) else {
        bail!("--listen and --out are required");
    };
    let l = TcpListener::bind(&listen).with_context(|| format!("cannot listen on {listen}"))?;
    println!("listening on {listen}");
    let mut requests = 0usize;
    for s in l.incoming() {
        let Ok(mut s) = s else { continue };
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let Some(body) = read_body(&mut s) else {
            continue;
        };
        requests += 1;
        std::fs::write(format!("{out}.requests"), requests.to_string())?;
        if requests <= fail_first {
            let _ = s.write_all(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
            continue;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out)?;
        f.write_all(&body)?;
        f.write_all(b"\n")?;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
    Ok(())
}

/// The body of one request: headers, then Content-Length bytes.
fn read_body(s: &mut impl Read) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(body) = berth_tests::http::complete_body(&buf) {
            return Some(body.to_vec());
        }
    }
}
