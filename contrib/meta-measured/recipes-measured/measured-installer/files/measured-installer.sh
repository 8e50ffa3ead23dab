#!/bin/sh
# SPDX-License-Identifier: MIT
# measured-installer: run at boot of the installer image.  Proves this
# machine's measured state to the verifier (measured attest: enrolment,
# quote, event logs) and receives the install payload, which the verifier
# releases only to a machine in the predicted state.  MODE=install (the
# default): measured attest installs it on the disk itself (--install:
# written, read back against the verifier's digest, made bootable last)
# and reboots into it; MODE=file: it is written to OUTPUT and handed to
# the configured install step THEN.  A refusal prints the verifier's
# reason on the console and installs nothing.
#
# Settings: /etc/measured/installer.conf (written at image build from
# MEASURED_VERIFIER_URL, MEASURED_VERIFIER_CA, MEASURED_INSTALLER_PAYLOAD,
# MEASURED_INSTALLER_MODE, MEASURED_INSTALLER_TARGET, MEASURED_INSTALLER_THEN);
# the kernel parameter measured.machine= names the machine, else its DMI
# product UUID does; the target disk is TARGET, else the kernel parameter
# measured.install.target=, else the verifier's (measured-attest(1)).
CONF=${MEASURED_INSTALLER_CONF:-/etc/measured/installer.conf}
CMDLINE=${MEASURED_INSTALLER_CMDLINE:-/proc/cmdline}

case ${1:-start} in
start) ;;
stop|status) exit 0 ;;
*) echo "usage: $0 [start]" >&2; exit 2 ;;
esac

. "$CONF" || { echo "measured-installer: cannot read $CONF" >&2; exit 3; }

machine=
for w in $(cat "$CMDLINE"); do
	case $w in measured.machine=*) machine=${w#measured.machine=} ;; esac
done
if [ -z "$machine" ] && [ -r /sys/class/dmi/id/product_uuid ]; then
	machine=$(cat /sys/class/dmi/id/product_uuid)
fi
[ -n "$machine" ] || { echo "measured-installer: no measured.machine= and no DMI product UUID" >&2; exit 3; }

echo "measured-installer: attesting as $machine to $VERIFIER_URL"
case ${MODE:-install} in
install)
	# shellcheck disable=SC2086 # ${TARGET:+...} is empty or two words
	if ! measured attest --server "$VERIFIER_URL" --ca-cert "$CA_CERT" --machine "$machine" \
		--payload "$PAYLOAD" --install ${TARGET:+--target "$TARGET"} --reboot; then
		echo "measured-installer: '$PAYLOAD' was not installed (the reason is above)" >&2
		exit 1
	fi
	;;
file)
	mkdir -p "$(dirname "$OUTPUT")"
	rm -f "$OUTPUT"
	if ! measured attest --server "$VERIFIER_URL" --ca-cert "$CA_CERT" --machine "$machine" \
		--payload "$PAYLOAD" -o "$OUTPUT"; then
		echo "measured-installer: the verifier did not release '$PAYLOAD'; nothing installed" >&2
		exit 1
	fi
	echo "measured-installer: payload '$PAYLOAD' received ($OUTPUT)"
	if [ -n "$THEN" ]; then
		# shellcheck disable=SC2086 # THEN is a command line by design
		exec $THEN "$OUTPUT"
	fi
	;;
*)
	echo "measured-installer: MODE must be install or file, not '$MODE'" >&2
	exit 3
	;;
esac
