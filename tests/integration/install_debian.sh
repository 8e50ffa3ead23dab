#!/bin/sh
# Debian packages: build (cached by source hash), lintian, install into a
# clean root, run the installed files against swtpm, verify the unit.
# The work is in tests/packaging/debian.sh.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
. "$MEASURED_SRCDIR/tests/packaging/debian.sh"
