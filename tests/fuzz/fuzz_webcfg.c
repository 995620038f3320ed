// SPDX-License-Identifier: GPL-2.0
/* kvmrt export --web-config: the YAML, and the certificate and key it
 * names. The input is "YAML\0CERT\0KEY": the three files are written next
 * to each other, as cert.pem and key.pem (the seeds name those). */
#include "fuzz.h"
#include "webcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_dir("webcfg"), *end = (const char *)data + size;
	const char *part[3] = { (const char *)data, NULL, NULL };
	size_t len[3];
	struct webcfg w;
	char cfg[256];
	int i;

	fuzz_quiet();
	for (i = 0; i < 3; i++) {
		const char *nul = part[i] ? memchr(part[i], 0, end - part[i]) : NULL;

		len[i] = part[i] ? (size_t)((nul ? nul : end) - part[i]) : 0;
		if (i < 2)
			part[i + 1] = nul ? nul + 1 : NULL;
	}
	fuzz_file(dir, "cert.pem", part[1] ? part[1] : "", len[1]);
	fuzz_file(dir, "key.pem", part[2] ? part[2] : "", len[2]);
	snprintf(cfg, sizeof(cfg), "%s", fuzz_file(dir, "web.yml", part[0], len[0]));
	if (!webcfg_load(&w, cfg)) {
		/* loaded: TLS needs both halves, users a bcrypt hash each (not
		 * checked against a password here: a hash's cost is its own) */
		if (!w.cert_pem != !w.key_pem)
			abort();
		for (i = 0; i < w.nusers; i++)
			if (strncmp(w.hash[i], "$2", 2))
				abort();
		webcfg_free(&w);
	}
	return 0;
}
