/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter's web configuration, in the file format Prometheus
 * exporters share (--web.config.file of the exporter toolkit):
 *
 *   tls_server_config:
 *     cert_file: server.crt
 *     key_file: server.key
 *   basic_auth_users:
 *     alice: $2y$10$...      (bcrypt)
 */
#ifndef KVMRT_WEBCFG_H
#define KVMRT_WEBCFG_H

#include <stddef.h>

#define WEBCFG_MAX_USERS 32

struct webcfg {
	char *cert_pem;	/* file contents, NULL without TLS */
	char *key_pem;
	int nusers;
	char *user[WEBCFG_MAX_USERS];
	char *hash[WEBCFG_MAX_USERS];
};

/* 0, or -errno with a one-line message printed. */
int webcfg_load(struct webcfg *w, const char *path);
/* 1 when user/password match a configured bcrypt hash. */
int webcfg_check(const struct webcfg *w, const char *user, const char *password);
void webcfg_free(struct webcfg *w);

#endif
