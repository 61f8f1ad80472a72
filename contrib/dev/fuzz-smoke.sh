#!/usr/bin/env bash
# Fuzz smoke (a step of contrib/dev/test.sh, so of CI): each cargo-fuzz
# target under libFuzzer for FUZZ_SMOKE_SECS (default 20) seconds, starting
# from the committed corpus. New inputs go to a temporary directory, not
# into fuzz/corpus; a crash is left in fuzz/artifacts/<target>/ and fails
# the step (keep it as fuzz/regressions/<target>/<name> with the fix).
#
# Needs the nightly toolchain and cargo-fuzz. cargo-fuzz is installed from
# crates.io when missing (`cargo +nightly install cargo-fuzz --locked`, a
# few minutes, once per machine). A machine without nightly cannot fetch it:
# there the libFuzzer run is skipped with a loud message, also under CI
# (the corpus replay and the stable mutation runs in
# daemon/tests/fuzz_corpus.rs still run in `cargo test`).
#
# The fuzz build (ASan, release) lives in FUZZ_TARGET_DIR (default
# ~/.cache/berth/fuzz-target) so CI's fresh clones reuse it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

secs=${FUZZ_SMOKE_SECS:-20}
target_dir=${FUZZ_TARGET_DIR:-$HOME/.cache/berth/fuzz-target}
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
	echo "fuzz-smoke: SKIPPED libFuzzer run: no nightly toolchain (none can be fetched on this machine);" \
		"the corpus replay and mutation tests in daemon/tests/fuzz_corpus.rs still run" >&2
	exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
	echo "fuzz-smoke: installing cargo-fuzz"
	cargo +nightly install cargo-fuzz --locked
fi

cd fuzz
targets=$(cargo +nightly fuzz list)
echo "fuzz-smoke: building ${targets//$'\n'/ }"
cargo +nightly fuzz build -O --target-dir "$target_dir"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in $targets; do
	mkdir -p "$scratch/$t" "artifacts/$t"
	echo "fuzz-smoke: $t for ${secs}s"
	# The first directory receives new inputs; the committed corpus is read only.
	if ! cargo +nightly fuzz run -O --target-dir "$target_dir" "$t" "$scratch/$t" "corpus/$t" -- \
		-max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		>"$scratch/$t.log" 2>&1; then
		failed+=("$t")
		tail -40 "$scratch/$t.log" >&2
	fi
	grep -E '^stat::number_of_executed_units|Done [0-9]+ runs' "$scratch/$t.log" | sed "s/^/fuzz-smoke: $t: /" || true
done
if ((${#failed[@]})); then
	echo "fuzz-smoke: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
	exit 1
fi
echo "fuzz-smoke: all targets ran ${secs}s without a crash"
