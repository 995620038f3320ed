#!/usr/bin/env python3
"""The vmlinux ELF (with its .BTF section) inside an x86 bzImage.

usage: btf_vmlinux.py VMLINUZ OUT

Debian's /boot/vmlinuz-* carries the kernel compressed (xz for Debian 12)
after the real-mode setup code. The boot protocol header says where
(Documentation/arch/x86/boot.rst: setup_sects at 0x1f1, "HdrS" at 0x202,
version at 0x206, payload_offset and payload_length at 0x248, counted from
the protected-mode code at (setup_sects + 1) * 512). libbpf reads the BTF
out of the ELF itself (btf__parse).
"""
import gzip
import lzma
import struct
import sys


def payload(img):
    if img[0x202:0x206] != b"HdrS":
        sys.exit("btf_vmlinux: not a bzImage (no HdrS boot header)")
    version = struct.unpack_from("<H", img, 0x206)[0]
    if version < 0x208:
        sys.exit(f"btf_vmlinux: boot protocol {version:#x} has no payload_offset")
    setup_sects = img[0x1F1] or 4
    off, length = struct.unpack_from("<II", img, 0x248)
    start = (setup_sects + 1) * 512 + off
    return img[start:start + length]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: btf_vmlinux.py VMLINUZ OUT")
    blob = payload(open(sys.argv[1], "rb").read())
    if blob.startswith(b"\xfd7zXZ\x00"):
        # one xz stream, then the size the decompressor appends: not xz
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob)
    elif blob.startswith(b"\x1f\x8b"):
        elf = gzip.GzipFile(fileobj=__import__("io").BytesIO(blob)).read()
    else:
        sys.exit(f"btf_vmlinux: payload compressed as {blob[:4].hex()}: only xz and gzip here")
    if elf[:4] != b"\x7fELF":
        sys.exit("btf_vmlinux: the payload is not an ELF")
    with open(sys.argv[2], "wb") as f:
        f.write(elf)
    print(f"vmlinux: {len(elf)} bytes from {sys.argv[1]}")


if __name__ == "__main__":
    main()
