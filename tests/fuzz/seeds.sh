#!/bin/sh
# Seed files for a fuzz harness: the fixtures that harness's format comes in.
FIX=$(cd "$(dirname "$0")/../data" && pwd)
E=$FIX/eventlogs
case "$1" in
fuzz_tcg*|fuzz_eventlog*)
	ls "$E"/tpm2-tools/*.bin "$E"/go-attestation/*eventlog* "$E"/keylime/binary_bios_measurements* ;;
fuzz_ima*)
	ls "$E"/keylime/ima-log-* "$E"/measured-boot-tools/binary_runtime_measurements ;;
fuzz_cel*)
	ls "$(dirname "$0")"/../data/cel/* 2>/dev/null ;;
fuzz_pe)
	ls /var/cache/measured-test/kernel-*/root/boot/vmlinuz-* 2>/dev/null ;;
fuzz_tbpolicy)
	ls "$(dirname "$0")"/../data/tboot/* 2>/dev/null ;;
fuzz_init_tpm)
	ls "$(dirname "$0")"/../data/init/tpm-* ;;
fuzz_initparams)
	ls "$(dirname "$0")"/../data/init/cmdline-* ;;
fuzz_verity_sb)
	ls "$(dirname "$0")"/../data/verity/sb-* ;;
fuzz_moddep)
	ls "$(dirname "$0")"/../data/init/moddep-* ;;
fuzz_elfdeps)
	ls /usr/bin/sha1sum /usr/sbin/tpm_version /usr/lib/x86_64-linux-gnu/libz.so.1 /usr/lib/x86_64-linux-gnu/libtss2-rc.so.0 2>/dev/null ;;
fuzz_tpm12)
	ls "$(dirname "$0")"/../data/tpm12/*.bin "$(dirname "$0")"/../data/tpm12/*.der "$(dirname "$0")"/../data/tpm12/*.txt ;;
fuzz_evidence|fuzz_json)
	ls "$(dirname "$0")"/../data/evidence/*.json ;;
fuzz_grub_script)
	ls "$(dirname "$0")"/../data/grub/*grub.cfg* ;;
fuzz_ustar)
	ls "$(dirname "$0")"/../data/ustar/*.tar ;;
esac
