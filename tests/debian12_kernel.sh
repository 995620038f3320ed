# SPDX-License-Identifier: GPL-2.0
# Debian 12's kernel image package, for the tests that take the kernel
# users run from the archive (bpf/btf_kernels.sh, nested/run.sh). Sourced.

# debian12_kernel DIR: the newest linux-image-6.1.0-*-amd64 in the archive
# (the number moves with updates), downloaded into DIR once: its name in
# pkg, its kernel release in kver, the file in deb; 1 if there is none
debian12_kernel() {
	local want='^linux-image-6\.1\.0-[0-9]+-amd64$'

	pkg=$(apt-cache search --names-only "$want" 2>/dev/null | awk '{print $1}' |
		sort -t- -k4,4n | tail -1)
	if [ -z "$pkg" ]; then
		apt-get update -qq >/dev/null 2>&1
		pkg=$(apt-cache search --names-only "$want" | awk '{print $1}' |
			sort -t- -k4,4n | tail -1)
	fi
	kver=${pkg#linux-image-}
	deb=$(ls "$1/${pkg:-none}"_*.deb 2>/dev/null | head -1)
	if [ -n "$pkg" ] && [ -z "$deb" ]; then
		mkdir -p "$1"
		(cd "$1" && apt-get download "$pkg" >/dev/null 2>&1)
		deb=$(ls "$1/${pkg}"_*.deb 2>/dev/null | head -1)
	fi
	[ -n "$pkg" ] && [ -s "${deb:-}" ]
}
