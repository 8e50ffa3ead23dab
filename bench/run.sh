#!/bin/sh
# make bench: every benchmark of the project, each printing its figures and
# the ratios against the baselines measured in the same run.
set -eu
here=$(dirname "$0")
status=0
for b in "$here"/bench_*.sh; do
	[ -e "$b" ] || continue
	echo "=== $(basename "$b" .sh)"
	sh "$b" || status=1
done
exit $status
