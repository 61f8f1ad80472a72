//! Any bytes as a control-API frame (what a connecting client may send):
//! decoding a request never panics.
#![no_main]

use berth_proto::ControlRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<tarpc::ClientMessage<ControlRequest>>(data);
});
