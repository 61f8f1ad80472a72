//! Malformed and hostile requests get no reply, do not stop the server,
//! and are counted. In-process: the real server with channel sockets.

mod harness;

use std::collections::HashMap;

use berthd::packet::{MessageType, code};
use harness::{A, B, Harness, WAIT};

/// Wire bytes of a DHCPDISCOVER from `mac` with extra raw option bytes.
fn discover_with(h: &mut Harness, raw_options: &[u8]) -> Vec<u8> {
    let p = h.packet(A, MessageType::Discover);
    let (mut bytes, _) = p.encode(576, &[]);
    // Replace the END (and padding) after the options with ours.
    let end = bytes
        .iter()
        .rposition(|&b| b == code::END)
        .expect("an END option");
    bytes.truncate(end);
    bytes.extend_from_slice(raw_options);
    bytes.push(code::END);
    bytes
}

fn opt(c: u8, v: &[u8]) -> Vec<u8> {
    let mut o = vec![c, u8::try_from(v.len()).expect("short option")];
    o.extend_from_slice(v);
    o
}

fn total(c: &HashMap<String, u64>, keys: &[&str]) -> u64 {
    keys.iter().map(|k| c.get(*k).copied().unwrap_or(0)).sum()
}

#[tokio::test]
async fn malformed_requests_get_no_reply_and_are_counted() {
    let mut h = Harness::start("").await;
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // Off the wire: too short, no cookie, an option running past the end,
    // hlen over 16.
    inputs.push(vec![1, 1, 6, 0]);
    let good = discover_with(&mut h, &[]);
    let mut no_cookie = good.clone();
    no_cookie[236..240].copy_from_slice(&[0, 0, 0, 0]);
    inputs.push(no_cookie);
    let mut overrun = good[..240].to_vec();
    overrun.extend_from_slice(&[53, 1, 1, 12, 200, b'a']);
    inputs.push(overrun);
    let mut hlen = good.clone();
    hlen[2] = 17;
    inputs.push(hlen);
    // Decodable but malformed: zero-length and one-byte client ids, a
    // 1,500-byte parameter request list, option overload inside the fields
    // it overloads, a 255-byte host name of control bytes.
    inputs.push(discover_with(&mut h, &opt(code::CLIENT_ID, &[])));
    inputs.push(discover_with(&mut h, &opt(code::CLIENT_ID, &[1])));
    let prl: Vec<u8> = (0..6)
        .flat_map(|_| opt(code::PARAMETER_REQUEST_LIST, &[3; 250]))
        .collect();
    inputs.push(discover_with(&mut h, &prl));
    let mut looped = discover_with(&mut h, &opt(code::OVERLOAD, &[1]));
    looped[108..111].copy_from_slice(&[code::OVERLOAD, 1, 1]);
    looped[111] = code::END;
    inputs.push(looped);
    inputs.push(discover_with(&mut h, &opt(code::HOST_NAME, &[0x1b; 255])));
    let sent = inputs.len() as u64;
    let before = h.counters().await;
    for bytes in inputs {
        h.post_bytes(bytes).await;
    }
    // A good request behind them: once it is answered, they were all seen.
    let p = h.packet(B, MessageType::Discover);
    h.post(&p).await;
    let first = tokio::time::timeout(WAIT, h.wire.from_server.recv())
        .await
        .expect("the good request is answered")
        .expect("server running");
    let reply = berthd::packet::Packet::decode(&first.bytes).expect("valid reply");
    assert_eq!(
        reply.xid, p.xid,
        "the first reply must be the good request's"
    );
    let after = h.counters().await;
    let drops = [
        "truncated",
        "no_magic_cookie",
        "option_overrun",
        "bad_hlen",
        "bad_overload",
        "nested_overload",
        "dropped",
    ];
    assert_eq!(
        total(&after, &drops) - total(&before, &drops),
        sent,
        "every malformed request counted as a drop: {after:?}"
    );
}
