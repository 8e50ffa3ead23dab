#!/bin/sh
# The tree stands on its own: no test, script, benchmark or build file
# reads from beside the tree (the folder of shared fixtures next to a checkout, or any
# other path outside it), and every folder of test data says where its files come from.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
cd "$MEASURED_SRCDIR"
# the pattern is put together here so that this file does not match it
up='\.\./'
dir=sha'red'
grep -rnE "$up$dir|$dir/fix""tures|$up$up$up" tests scripts bench init lib cmd server agent svirt \
	Makefile --include='*.sh' --include='*.c' --include='*.h' --include='*.py' --include='*.mk' \
	--include=Makefile > "$T/hits" || true
[ ! -s "$T/hits" ] || die "files read from outside the tree: $(cat "$T/hits")"
ok "nothing reads test data from beside the tree"

# the unit tests' data path is the tree's own
assert_eq "MEASURED_FIXTURES is tests/data" "$(cd "$MEASURED_SRCDIR/tests/data" && pwd -P)" \
	"$(cd "$MEASURED_FIXTURES" && pwd -P)"

# every data folder has a README (origin, licence or how it was made)
for d in tests/data/*/; do
	ls "$d" | grep -qiE '^readme' || die "$d has no README saying where its files come from"
done
ok "every tests/data folder has a README"
