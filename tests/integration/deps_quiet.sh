#!/bin/sh
# scripts/deps.sh is quiet: the package manager's output goes to a log,
# the console shows one line per step, and the log's tail when a step
# fails.  Run against stand-ins for dpkg-query and apt-get (first on PATH),
# so nothing is installed.
. "$MEASURED_SRCDIR/tests/lib/common.sh"
mkdir -p "$T/bin"
cat > "$T/bin/dpkg-query" <<'X'
#!/bin/sh
# every package installed but make
case "$*" in *" make") echo "unknown ok not-installed" ;; *) echo "install ok installed" ;; esac
X
cat > "$T/bin/apt-get" <<'X'
#!/bin/sh
i=0
while [ $i -lt 200 ]; do echo "apt noise line $i"; i=$((i + 1)); done
case "$*" in *install*) [ -n "${FAKE_APT_FAIL:-}" ] && { echo "E: Unable to locate package make"; exit 100; } ;; esac
exit 0
X
chmod 755 "$T/bin/dpkg-query" "$T/bin/apt-get"
[ "$(id -u)" = 0 ] || die "needs root (deps.sh installs as root)"

PATH="$T/bin:$PATH" MEASURED_DEPS_LOG="$T/log" sh "$MEASURED_SRCDIR/scripts/deps.sh" > "$T/out" 2>&1 ||
	die "deps.sh failed: $(cat "$T/out")"
assert_eq "success: one line per step" "measured: updating the package lists ... done
measured: installing 1 Debian package(s) ... done" "$(cat "$T/out")"
grep -q "apt noise line 199" "$T/log" || die "the package manager's output is not in the log"
ok "deps.sh: two console lines, the package manager's output in the log"

set +e
PATH="$T/bin:$PATH" MEASURED_DEPS_LOG="$T/log" FAKE_APT_FAIL=1 sh "$MEASURED_SRCDIR/scripts/deps.sh" > "$T/out" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || die "deps.sh succeeded although apt-get failed"
grep -q "installing 1 Debian package(s) ... failed (log: $T/log)" "$T/out" || die "no failed step line: $(cat "$T/out")"
grep -q "E: Unable to locate package make" "$T/out" || die "the log's tail is not shown on failure"
[ "$(wc -l < "$T/out")" -le 28 ] || die "failure output is not just the tail: $(wc -l < "$T/out") lines"
ok "deps.sh: a failed step prints its line and the log's tail"
