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

/// xorshift64*: a fixed seed, so a failure here happens again on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four of: flip a bit, set a byte to an edge value, insert or
/// delete a run, or splice in part of another input.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = [0, 1, 0x7f, 0x80, 0xff, b'"', b'[', b'='][rng.below(8)];
            }
            2 => {
                let run = vec![rng.next() as u8; 1 + rng.below(16)];
                v.splice(at..at, run);
            }
            3 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            _ if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                v.splice(at..at, other[from..end].iter().copied());
            }
            _ => {}
        }
    }
    v
}

/// The fuzz smoke that needs no nightly: `rounds` mutations of the corpus
/// through the same check. Not coverage-guided like libFuzzer, but it runs
/// everywhere the tests run. A failing input is written out to be kept as
/// a regression (`fuzz/regressions/<target>/`).
fn mutated(target: &str, rounds: usize, check: fn(&[u8])) {
    let corpus: Vec<Vec<u8>> = inputs(target)
        .iter()
        .filter_map(|f| fs::read(f).ok())
        .collect();
    assert!(!corpus.is_empty(), "no corpus for {target}");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    for round in 0..rounds {
        let a = &corpus[rng.below(corpus.len())];
        let b = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, a, b);
        if std::panic::catch_unwind(|| check(&input)).is_err() {
            let out = std::env::temp_dir().join(format!("berth-fuzz-{target}-{round}"));
            let _ = fs::write(&out, &input);
            panic!(
                "{target}: mutation {round} fails; input kept in {}",
                out.display()
            );
        }
    }
}

#[test]
fn packet_decode_mutations() {
    mutated("packet_decode", 20_000, berthd::fuzzing::packet_decode);
}

#[test]
fn config_parse_mutations() {
    mutated("config_parse", 3_000, berthd::fuzzing::config_parse);
}

#[test]
fn engine_sequence_mutations() {
    mutated("engine_sequence", 3_000, berthd::fuzzing::engine_sequence);
}

#[test]
fn control_frame_mutations() {
    mutated("control_frame", 20_000, berthd::fuzzing::control_frame);
}
