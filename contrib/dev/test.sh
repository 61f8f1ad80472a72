#!/usr/bin/env bash
# Berth's test runner (what CI runs, through .ci/run):
#   1. installs the tools the end-to-end tests drive, if missing
#      (isc-dhcp-client, udhcpc, kea-admin for perfdhcp, iproute2, tmux, tcpdump,
#      systemd for systemd-analyze, postgresql for the PostgreSQL store's tests,
#      which run their own throw-away cluster);
#   2. checks formatting, builds every binary, lints (warnings are errors);
#   3. runs every test of the workspace;
#   4. runs the fuzz smoke (contrib/dev/fuzz-smoke.sh: each cargo-fuzz target
#      for FUZZ_SMOKE_SECS, default 20 s, when the nightly toolchain is there).
# The end-to-end tests need root (network namespaces). Without root they
# print SKIPPED, except under CI=true, where they fail.
#
# Environment: TEST_THREADS (default 2), passed to the test harness.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export PATH="$PATH:/usr/sbin:/sbin"

# --- tools ---------------------------------------------------------------------
missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have dhclient || missing+=(isc-dhcp-client)
have udhcpc || missing+=(udhcpc)
[[ -x /usr/sbin/perfdhcp ]] || missing+=(kea-admin)
have ip || missing+=(iproute2)
have tmux || missing+=(tmux)
have tcpdump || missing+=(tcpdump)
have systemd-analyze || missing+=(systemd)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
	echo "test.sh: installing ${missing[*]}"
	SUDO=()
	if [[ $EUID -ne 0 ]]; then
		if have sudo && sudo -n true 2>/dev/null; then
			SUDO=(sudo -n)
		else
			echo "test.sh: cannot install ${missing[*]} (not root, no sudo); end-to-end tests may fail" >&2
			SUDO=(false)
		fi
	fi
	if [[ ${SUDO[0]:-} != false ]]; then
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
fi

# --- format, build, lint, test ---------------------------------------------------
# Every step runs, so one run shows all that is wrong; the script fails if any did.
failed=()
step() {
	local name=$1
	shift
	echo "test.sh: $*"
	if ! "$@"; then
		failed+=("$name")
		echo "test.sh: FAILED: $*" >&2
	fi
}

step fmt cargo fmt --all --check
step build cargo build --workspace --bins
step clippy cargo clippy --workspace --all-targets -- -D warnings
step doc env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items
step test cargo test --workspace --no-fail-fast -- --test-threads="${TEST_THREADS:-2}"
step fuzz contrib/dev/fuzz-smoke.sh

if ((${#failed[@]})); then
	echo "test.sh: failed steps: ${failed[*]}" >&2
	exit 1
fi
echo "test.sh: all steps passed"
