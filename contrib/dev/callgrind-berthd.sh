#!/bin/sh
# berthd under callgrind, for the cost bench's instruction counts
# (`BENCH_CALLGRIND=1 cargo bench -p berth-tests --bench cost`, which points
# BERTHD_BIN here and sets the two variables below). The bench zeroes the
# counters just before perfdhcp starts and dumps them just after it ends.
exec valgrind --tool=callgrind --callgrind-out-file="${CALLGRIND_OUT:?}/berthd.%p" \
	"${CALLGRIND_BERTHD:?}" "$@"
