#!/bin/sh
# measured-init is static and at most 1.5 MiB (the footprint target).
. "$MEASURED_SRCDIR/tests/lib/common.sh"
size=$(stat -c %s "$MEASURED_INIT")
[ "$size" -le $((1536 * 1024)) ] || die "measured-init is $size bytes, over 1.5 MiB"
file "$MEASURED_INIT" 2>/dev/null | grep -q 'statically linked' || ! readelf -l "$MEASURED_INIT" | grep -q INTERP ||
	die "measured-init is not static"
readelf -d "$MEASURED_INIT" 2>/dev/null | grep -q NEEDED && die "measured-init needs shared libraries"
ok "measured-init: $size bytes, static"
