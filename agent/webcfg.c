// SPDX-License-Identifier: GPL-2.0
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "log.h"
#include "webcfg.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		errno = EINVAL;
		return NULL;
	}
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	return buf;
}

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
	(void)d;
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A file named in the config is relative to the config's directory. */
static char *load_rel(const char *cfg, const char *file)
{
	char path[4096];
	const char *slash = strrchr(cfg, '/');

	if (file[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cfg), cfg, file);
	return slurp(path);
}

static int fail(const char *path, const char *what)
{
	pr_err("web config %s: %s", path, what);
	return -EINVAL;
}

int webcfg_load(struct webcfg *w, const char *path)
{
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root;
	yaml_node_pair_t *pair;
	FILE *f;
	int err = 0;

	memset(w, 0, sizeof(*w));
	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		pr_err("open web config %s: %s", path, strerror(-err));
		return err;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	if (!yaml_parser_load(&p, &d)) {
		pr_err("web config %s: line %zu: %s", path, p.problem_mark.line + 1,
		       p.problem ? p.problem : "invalid YAML");
		yaml_parser_delete(&p);
		fclose(f);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&d);
	if (root && root->type != YAML_MAPPING_NODE) {
		err = fail(path, "expected a mapping at the top");
		goto out;
	}
	for (pair = root ? root->data.mapping.pairs.start : NULL; root && pair < root->data.mapping.pairs.top; pair++) {
		const char *key = scalar(&d, yaml_document_get_node(&d, pair->key));
		yaml_node_t *val = yaml_document_get_node(&d, pair->value);
		yaml_node_pair_t *q;

		if (!key || !val) {
			err = fail(path, "bad entry");
			goto out;
		}
		if (!strcmp(key, "tls_server_config") || !strcmp(key, "basic_auth_users")) {
			if (val->type != YAML_MAPPING_NODE) {
				err = fail(path, "expected a mapping");
				goto out;
			}
		} else if (!strcmp(key, "http_server_config")) {
			pr_warn("web config %s: http_server_config is not supported, ignored", path);
			continue;
		} else {
			pr_err("web config %s: unknown key '%s'", path, key);
			err = -EINVAL;
			goto out;
		}
		for (q = val->data.mapping.pairs.start; q < val->data.mapping.pairs.top; q++) {
			const char *k = scalar(&d, yaml_document_get_node(&d, q->key));
			const char *v = scalar(&d, yaml_document_get_node(&d, q->value));

			if (!k || !v) {
				err = fail(path, "expected key: value");
				goto out;
			}
			if (!strcmp(key, "basic_auth_users")) {
				if (w->nusers == WEBCFG_MAX_USERS) {
					err = fail(path, "too many users");
					goto out;
				}
				if (strncmp(v, "$2", 2)) {
					pr_err("web config %s: user '%s': not a bcrypt hash", path, k);
					err = -EINVAL;
					goto out;
				}
				w->user[w->nusers] = strdup(k);
				w->hash[w->nusers++] = strdup(v);
			} else if (!strcmp(k, "cert_file") || !strcmp(k, "key_file")) {
				char **dst = !strcmp(k, "cert_file") ? &w->cert_pem : &w->key_pem;

				free(*dst);
				*dst = load_rel(path, v);
				if (!*dst) {
					err = -errno;
					pr_err("web config %s: read %s: %s", path, v, strerror(-err));
					goto out;
				}
			} else {
				pr_err("web config %s: tls_server_config: '%s' is not supported", path, k);
				err = -EINVAL;
				goto out;
			}
		}
	}
	if (!w->cert_pem != !w->key_pem)
		err = fail(path, "tls_server_config needs both cert_file and key_file");
out:
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	fclose(f);
	if (err)
		webcfg_free(w);
	return err;
}

int webcfg_check(const struct webcfg *w, const char *user, const char *password)
{
	struct crypt_data cd;
	const char *h;
	int i;

	if (!user || !password)
		return 0;
	for (i = 0; i < w->nusers; i++) {
		if (strcmp(w->user[i], user))
			continue;
		memset(&cd, 0, sizeof(cd));
		h = crypt_r(password, w->hash[i], &cd);
		return h && h[0] != '*' && !strcmp(h, w->hash[i]);
	}
	return 0;
}

void webcfg_free(struct webcfg *w)
{
	int i;

	for (i = 0; i < w->nusers; i++) {
		free(w->user[i]);
		free(w->hash[i]);
	}
	free(w->cert_pem);
	free(w->key_pem);
	memset(w, 0, sizeof(*w));
}
