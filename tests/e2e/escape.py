# SPDX-License-Identifier: GPL-2.0
"""kvmrt's escaping (agent/lib/escape.c), written again from its rule, for the
tests to say what a hostile name must look like in every output: valid
UTF-8 that is not a control character (C0, C1, bidi, line separator) is kept, a backslash is doubled,
any other byte is \\xNN; cut at a character's boundary to fit `room`
bytes (VMREG_NAME_LEN - 1 for a VM name)."""


def _utf8_len(b, i):
    c = b[i]
    if 0x20 <= c < 0x7f:
        return 1
    n = 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
    if not n or i + n > len(b):
        return 0
    try:
        ch = b[i:i + n].decode("utf-8")
    except UnicodeDecodeError:
        return 0
    cp = ord(ch)
    # C1 controls; bidi controls and line separators (they reorder or break
    # what a terminal shows)
    if 0x80 <= cp <= 0x9f or cp in (0x061c, 0x200e, 0x200f) or 0x2028 <= cp <= 0x202e \
            or 0x2066 <= cp <= 0x2069:
        return 0
    return n


def kvmrt_escape(b, room=255):
    out = b""
    i = 0
    while i < len(b):
        if b[i] == 0x5c:
            piece, k = b"\\\\", 1
        else:
            k = _utf8_len(b, i)
            piece = b[i:i + k] if k else b"\\x%02x" % b[i]
            k = k or 1
        if len(out) + len(piece) > room:
            break
        out += piece
        i += k
    return out.decode("utf-8")
