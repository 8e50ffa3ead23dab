#!/bin/sh
# Run each libFuzzer harness in DIR for SECONDS, seeded from its corpus
# (tests/fuzz/seeds.sh NAME lists the seed files).  A crash is a failure.
dir=$1
secs=$2
here=$(dirname "$0")
failed=0
for f in "$dir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="build-fuzz/corpus-$name"
	mkdir -p "$corpus"
	sh "$here/seeds.sh" "$name" | while read -r s; do
		[ -f "$s" ] && cp "$s" "$corpus/" 2>/dev/null
	done
	if "$f" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 \
		-artifact_prefix="build-fuzz/$name-" "$corpus" > "build-fuzz/$name.log" 2>&1; then
		res=PASS
	else
		res=FAIL
		failed=1
		tail -40 "build-fuzz/$name.log"
	fi
	runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "build-fuzz/$name.log" | awk '{print $2}')
	[ -z "$runs" ] && runs=$(grep -Eo '^#[0-9]+' "build-fuzz/$name.log" | tail -1 | tr -d '#')
	echo "$res fuzz $name (${secs}s, ${runs:-?} runs)"
	[ -n "${MEASURED_RESULTS:-}" ] && echo "$res fuzz $name" >> "$MEASURED_RESULTS"
done
exit $failed
