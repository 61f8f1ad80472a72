//! Any text as a config file: parsing never panics, and every error names a
//! line of the file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = berthd::config::parse(text, Path::new("fuzz.toml")) {
        let lines = text.lines().count() + 1;
        for d in e.diagnostics() {
            assert!(
                d.line >= 1 && d.line <= lines,
                "{d} names line {} of {lines}",
                d.line
            );
        }
    }
});
