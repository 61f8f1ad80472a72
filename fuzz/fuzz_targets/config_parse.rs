//! Any text as a config file (see `berthd::fuzzing::config_parse`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berthd::fuzzing::config_parse(data));
