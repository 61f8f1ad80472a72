//! Any bytes as what a control client sends (see
//! `berthd::fuzzing::control_frame`): framing and decoding never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berthd::fuzzing::control_frame(data));
