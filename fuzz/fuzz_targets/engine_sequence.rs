//! Request sequences against one lease table (see
//! `berthd::fuzzing::engine_sequence`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berthd::fuzzing::engine_sequence(data));
