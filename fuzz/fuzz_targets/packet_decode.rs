//! Any bytes off the wire (see `berthd::fuzzing::packet_decode`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berthd::fuzzing::packet_decode(data));
