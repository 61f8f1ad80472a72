//! Any bytes off the wire: decoding never panics, and whatever decodes
//! encodes again within the size asked for and decodes back.
#![no_main]

use berthd::packet::{MIN_MESSAGE_LEN, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::decode(data) else { return };
    for max in [MIN_MESSAGE_LEN, 1500] {
        let (bytes, _dropped) = p.encode(max, &[]);
        assert!(bytes.len() <= max, "encoded {} bytes, asked for {max}", bytes.len());
        assert!(Packet::decode(&bytes).is_ok(), "our own encoding must decode");
    }
});
