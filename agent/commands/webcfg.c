// SPDX-License-Identifier: GPL-2.0
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include "escape.h"
#include "log.h"
#include "readfile.h"
#include "webcfg.h"

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
	return read_whole(path, 1 << 20, NULL);
}

/* "$2a$", "$2b$" or "$2y$", a two-digit cost 04..31, "$", then 53
 * characters of bcrypt's base64: what crypt(3) checks a password with. */
static int bcrypt_hash(const char *h)
{
	static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	int cost, i;

	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || !h[2] ||
	    h[3] != '$' || h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return 0;
	cost = (h[4] - '0') * 10 + h[5] - '0';
	if (cost < 4 || cost > 31)
		return 0;
	for (i = 7; i < 60; i++)
		if (!strchr(b64, h[i]) || !h[i])
			return 0;
	return 1;
}

static int fail(const char *path, const char *what)
{
	pr_err("web config %s: %s", esc_str(path), what);
	return -EINVAL;
}

/* The certificate and key as the TLS library will take them, checked
 * here so that a wrong file is named (libmicrohttpd only fails to listen). */
static int check_tls(const char *path, const char *cert_file, const char *key_file,
		     const char *cert, const char *key)
{
	gnutls_datum_t c = { (unsigned char *)cert, strlen(cert) };
	gnutls_datum_t k = { (unsigned char *)key, strlen(key) };
	gnutls_certificate_credentials_t cred;
	gnutls_x509_privkey_t pk;
	gnutls_x509_crt_t *crts;
	unsigned int n, i;
	int r;

	r = gnutls_x509_crt_list_import2(&crts, &n, &c, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0) {
		pr_err("web config %s: cert_file %s: not a PEM certificate (%s)", esc_str(path),
		       esc_str(cert_file), gnutls_strerror(r));
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (gnutls_x509_privkey_init(&pk) < 0)
		return -ENOMEM;
	r = gnutls_x509_privkey_import2(pk, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_x509_privkey_deinit(pk);
	if (r < 0) {
		pr_err("web config %s: key_file %s: not a PEM private key without a password (%s)",
		       esc_str(path), esc_str(key_file), gnutls_strerror(r));
		return -EINVAL;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return -ENOMEM;
	r = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (r < 0) {
		pr_err("web config %s: key_file %s is not the key of cert_file %s (%s)", esc_str(path),
		       esc_str(key_file), esc_str(cert_file), gnutls_strerror(r));
		return -EINVAL;
	}
	return 0;
}

/* Where a TLS section's files were named, for check_tls's messages (they
 * point into the YAML document). */
struct tls_names {
	const char *cert_file, *key_file;
};

/* One "k: v" of a section (basic_auth_users or tls_server_config). */
static int section_entry(struct webcfg *w, const char *path, const char *section, const char *k,
			 const char *v, struct tls_names *tn)
{
	char **dst;
	int err;

	if (!strcmp(section, "basic_auth_users")) {
		if (w->nusers == WEBCFG_MAX_USERS)
			return fail(path, "too many users");
		if (!bcrypt_hash(v)) {
			pr_err("web config %s: user '%s': not a bcrypt hash ($2y$NN$ and 53 characters)",
			       esc_str(path), esc_str(k));
			return -EINVAL;
		}
		w->user[w->nusers] = strdup(k);
		w->hash[w->nusers++] = strdup(v);
		return 0;
	}
	if (strcmp(k, "cert_file") && strcmp(k, "key_file")) {
		pr_err("web config %s: tls_server_config: '%s' is not supported", esc_str(path),
		       esc_str(k));
		return -EINVAL;
	}
	dst = !strcmp(k, "cert_file") ? &w->cert_pem : &w->key_pem;
	free(*dst);
	*dst = load_rel(path, v);
	if (!*dst) {
		err = -errno;
		pr_err("web config %s: %s %s: %s", esc_str(path), k, esc_str(v), strerror(-err));
		return err;
	}
	if (dst == &w->cert_pem)
		tn->cert_file = v;
	else
		tn->key_file = v;
	return 0;
}

/* One top-level key and its mapping. */
static int section(struct webcfg *w, const char *path, yaml_document_t *d, yaml_node_pair_t *pair,
		   struct tls_names *tn)
{
	const char *key = scalar(d, yaml_document_get_node(d, pair->key));
	yaml_node_t *val = yaml_document_get_node(d, pair->value);
	yaml_node_pair_t *q;
	int err;

	if (!key || !val)
		return fail(path, "bad entry");
	if (!strcmp(key, "http_server_config")) {
		pr_warn("web config %s: http_server_config is not supported, ignored", esc_str(path));
		return 0;
	}
	if (strcmp(key, "tls_server_config") && strcmp(key, "basic_auth_users")) {
		pr_err("web config %s: unknown key '%s'", esc_str(path), esc_str(key));
		return -EINVAL;
	}
	if (val->type != YAML_MAPPING_NODE)
		return fail(path, "expected a mapping");
	for (q = val->data.mapping.pairs.start; q < val->data.mapping.pairs.top; q++) {
		const char *k = scalar(d, yaml_document_get_node(d, q->key));
		const char *v = scalar(d, yaml_document_get_node(d, q->value));

		if (!k || !v)
			return fail(path, "expected key: value");
		err = section_entry(w, path, key, k, v, tn);
		if (err)
			return err;
	}
	return 0;
}

int webcfg_load(struct webcfg *w, const char *path)
{
	struct tls_names tn = { NULL, NULL };
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
		pr_err("open web config %s: %s", esc_str(path), strerror(-err));
		return err;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	if (!yaml_parser_load(&p, &d)) {
		pr_err("web config %s: line %zu: %s", esc_str(path), p.problem_mark.line + 1,
		       p.problem ? p.problem : "invalid YAML");
		yaml_parser_delete(&p);
		fclose(f);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&d);
	if (root && root->type != YAML_MAPPING_NODE)
		err = fail(path, "expected a mapping at the top");
	for (pair = root && !err ? root->data.mapping.pairs.start : NULL;
	     pair && pair < root->data.mapping.pairs.top && !err; pair++)
		err = section(w, path, &d, pair, &tn);
	if (!err && !w->cert_pem != !w->key_pem)
		err = fail(path, "tls_server_config needs both cert_file and key_file");
	else if (!err && w->cert_pem)
		err = check_tls(path, tn.cert_file, tn.key_file, w->cert_pem, w->key_pem);
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
