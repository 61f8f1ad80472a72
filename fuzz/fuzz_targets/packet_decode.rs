//! Any bytes off the wire: decoding never panics, and whatever decodes
//! encodes again within the size asked for and decodes back.
#![no_main]

use berthd::packet::{MIN_MESSAGE_LEN, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::decode(data) else { return };
    // Option 82 is echoed whole and the relay strips it before the client
    // sees the reply, so the cap applies to the rest.
    let relay = relay_len(&p);
    for max in [MIN_MESSAGE_LEN, 1500] {
        let (bytes, _dropped) = p.encode(max, &[]);
        assert!(
            bytes.len() <= max + relay,
            "encoded {} bytes, asked for {max} (+{relay} of option 82)",
            bytes.len()
        );
        assert!(
            Packet::decode(&bytes).is_ok(),
            "our own encoding must decode"
        );
    }
});

/// Bytes option 82 takes on the wire, split into 255-byte pieces.
fn relay_len(p: &Packet) -> usize {
    p.options
        .get(berthd::packet::code::RELAY_AGENT_INFO)
        .map_or(0, |v| v.len() + 2 * v.len().div_ceil(255).max(1))
}
