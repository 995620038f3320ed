// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "escape.h"

/* Characters that change how a terminal shows the text around them: the
 * bidi controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069)
 * would make a name read backwards, the line and paragraph separators
 * (U+2028, U+2029) break a line. */
static int reorders(unsigned int cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* The length of the UTF-8 character at s (up to n bytes) if it is valid,
 * printable, not a C1 control (U+0080..U+009F) and does not reorder or
 * break the text (reorders), else 0. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (s[0] == 0xc2 && s[1] < 0xa0)
		return 0; /* C1 control */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xf0 && s[1] < 0x90))
		return 0; /* overlong */
	if ((s[0] == 0xed && s[1] >= 0xa0) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0; /* surrogate, beyond U+10FFFF */
	if (len == 2 && reorders((s[0] & 0x1fu) << 6 | (s[1] & 0x3fu)))
		return 0;
	if (len == 3 && reorders((s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu)))
		return 0;
	return len;
}

char *esc(char *out, size_t outlen, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k;

	if (n == (size_t)-1)
		n = strlen(s);
	while (i < n) {
		k = p[i] == '\\' ? 0 : utf8_char(p + i, n - i);
		if (k) {
			if (o + k >= outlen)
				break;
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
			continue;
		}
		if (o + (p[i] == '\\' ? 2 : 4) >= outlen)
			break;
		out[o++] = '\\';
		if (p[i] == '\\') {
			out[o++] = '\\';
		} else {
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
		}
		i++;
	}
	out[o] = 0;
	return out;
}

const char *esc_str_n(const char *s, size_t n)
{
	static __thread char buf[4][257];
	static __thread unsigned int next;

	return esc(buf[next++ % 4], sizeof(buf[0]), s, n);
}

const char *esc_str(const char *s)
{
	return esc_str_n(s ? s : "(null)", (size_t)-1);
}
