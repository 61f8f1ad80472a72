//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) and any
//! crash inputs kept as regressions (`fuzz/regressions/<target>/`) through
//! the same checks as the cargo-fuzz targets, on stable and in every test
//! run, so a fixed crash stays fixed without nightly.

use std::fs;
use std::path::{Path, PathBuf};

use berthd::packet::{MIN_MESSAGE_LEN, Packet};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(entries) = fs::read_dir(root.join(dir).join(target)) {
            out.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    out.sort();
    out
}

/// A corpus file's bytes; `None` if it went away meanwhile (a fuzzer running
/// in the same tree replaces its inputs as it minimises them).
fn read(f: &Path) -> Option<Vec<u8>> {
    match fs::read(f) {
        Ok(d) => Some(d),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("{}: {e}", f.display()),
    }
}

#[test]
fn packet_decode_corpus() {
    let files = inputs("packet_decode");
    assert!(!files.is_empty(), "no corpus for packet_decode");
    for f in files {
        let Some(data) = read(&f) else { continue };
        let Ok(p) = Packet::decode(&data) else {
            continue;
        };
        // Option 82 is echoed whole; the relay strips it before the client
        // sees the reply, so the cap applies to the rest.
        let relay = p
            .options
            .get(berthd::packet::code::RELAY_AGENT_INFO)
            .map_or(0, |v| v.len() + 2 * v.len().div_ceil(255).max(1));
        for max in [MIN_MESSAGE_LEN, 1500] {
            let (bytes, _) = p.encode(max, &[]);
            assert!(
                bytes.len() <= max + relay,
                "{}: {} bytes",
                f.display(),
                bytes.len()
            );
            assert!(Packet::decode(&bytes).is_ok(), "{}", f.display());
        }
    }
}

#[test]
fn config_parse_corpus() {
    let files = inputs("config_parse");
    assert!(!files.is_empty(), "no corpus for config_parse");
    for f in files {
        let Some(data) = read(&f) else { continue };
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        if let Err(e) = berthd::config::parse(text, Path::new("fuzz.toml")) {
            let lines = text.lines().count() + 1;
            for d in e.diagnostics() {
                assert!(d.line >= 1 && d.line <= lines, "{}: {d}", f.display());
            }
        }
    }
}
