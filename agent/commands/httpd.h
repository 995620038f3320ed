/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics endpoint (libmicrohttpd): /metrics serves the last published
 * text, / a landing page. Publishing swaps a pointer under a mutex;
 * requests copy the text and never wait on whoever publishes. Bounded
 * connections, idle timeout, optional TLS and basic auth (webcfg.h).
 */
#ifndef KVMRT_HTTPD_H
#define KVMRT_HTTPD_H

#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include "webcfg.h"

/* Unallocated in Prometheus's default port allocation list as far as we
 * could check (the 9100-9999 exporter range is nearly full): see docs/top-and-export.md. */
#define HTTPD_DEFAULT_LISTEN "127.0.0.1:9976"

struct httpd {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *text;
	size_t len;
	struct webcfg web;
	int have_web;
};

/* ADDR:PORT, [v6]:PORT; numeric. 0 or -EINVAL (message printed). */
int httpd_parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *sl);
/* 0, or -errno with a one-line message printed. */
int httpd_start(struct httpd *h, const char *listen, const char *web_config);
/* Serve text (malloc'd; the server takes it) from now on. */
void httpd_publish(struct httpd *h, char *text, size_t len);
void httpd_stop(struct httpd *h);

#endif
