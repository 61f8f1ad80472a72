//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) and any
//! crash inputs kept as regressions (`fuzz/regressions/<target>/`) through
//! the same checks as the cargo-fuzz targets (`berthd::fuzzing`), on stable
//! and in every test run, so a fixed crash stays fixed without nightly.

use std::fs;
use std::path::{Path, PathBuf};

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

/// Runs `check` on every input of `target`. A file that went away meanwhile
/// is skipped (a fuzzer running in the same tree replaces its inputs as it
/// minimises them).
fn replay(target: &str, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no corpus for {target}");
    for f in files {
        let data = match fs::read(&f) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", f.display()),
        };
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{target}: {} fails", f.display());
    }
}

#[test]
fn packet_decode_corpus() {
    replay("packet_decode", berthd::fuzzing::packet_decode);
}

#[test]
fn config_parse_corpus() {
    replay("config_parse", berthd::fuzzing::config_parse);
}

#[test]
fn engine_sequence_corpus() {
    replay("engine_sequence", berthd::fuzzing::engine_sequence);
}

#[test]
fn control_frame_corpus() {
    replay("control_frame", berthd::fuzzing::control_frame);
}
