# Debian's kernel for boot tests (sourced).  kernel_fetch sets KERNEL_VER,
# KERNEL_IMAGE (the vmlinuz) and KERNEL_MODDIR (lib/modules/VER with a
# modules.dep made by `depmod -b`), downloading the package once into
# $MEASURED_CACHE (default /var/cache/measured-test) so reruns are fast.
#
# The package name is the exact ABI name that linux-image-amd64 depends on:
# a wildcard would fetch every ABI version (about 1.7 GB).  The package has
# no modules.dep, so one is generated in the extracted tree.  Another test
# area (svirt) shares this cache: everything lives under kernel-VER/ and is
# created through a temporary directory renamed into place, so two users
# never see a half-extracted tree.

MEASURED_CACHE=${MEASURED_CACHE:-/var/cache/measured-test}

kernel_fetch() {
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		# Offline: use what is already cached, newest first.
		pkg=$(ls -d "$MEASURED_CACHE"/kernel-*/ 2>/dev/null | sort -V | tail -n 1 |
			sed 's,.*/kernel-\(.*\)/$,linux-image-\1,')
	fi
	[ -n "$pkg" ] || { echo "kernel_fetch: cannot name the kernel package" >&2; return 1; }
	KERNEL_VER=${pkg#linux-image-}
	kdir=$MEASURED_CACHE/kernel-$KERNEL_VER
	if [ ! -f "$kdir/root/lib/modules/$KERNEL_VER/modules.dep" ]; then
		mkdir -p "$MEASURED_CACHE" || return 1
		tmp=$(mktemp -d "$MEASURED_CACHE/.kernel.XXXXXX") || return 1
		( cd "$tmp" && apt-get download "$pkg" >/dev/null ) || { rm -rf "$tmp"; echo "kernel_fetch: apt-get download $pkg failed" >&2; return 1; }
		dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root" || { rm -rf "$tmp"; return 1; }
		rm -f "$tmp"/*.deb
		depmod -b "$tmp/root" "$KERNEL_VER" || { rm -rf "$tmp"; return 1; }
		if ! mv -T "$tmp" "$kdir" 2>/dev/null; then
			# Someone else finished first: theirs is as good as ours.
			rm -rf "$tmp"
		fi
	fi
	KERNEL_IMAGE=$kdir/root/boot/vmlinuz-$KERNEL_VER
	KERNEL_MODDIR=$kdir/root/lib/modules/$KERNEL_VER
	[ -f "$KERNEL_IMAGE" ] && [ -f "$KERNEL_MODDIR/modules.dep" ] ||
		{ echo "kernel_fetch: incomplete cache $kdir" >&2; return 1; }
	export KERNEL_VER KERNEL_IMAGE KERNEL_MODDIR
}
