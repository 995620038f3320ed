// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "httpd.h"
#include "log.h"

#define HTTPD_MAX_CONNECTIONS 64
#define HTTPD_CONN_TIMEOUT_S 10
#define HTTPD_CONN_MEMORY (32 * 1024)

static const char landing[] =
	"<html><head><title>kvmrt exporter</title></head><body>"
	"<h1>kvmrt exporter</h1><p>Guest interrupt latency on KVM, per VM and vCPU.</p>"
	"<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     const void *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req_cls)
{
	struct httpd *e = cls;
	static int first_call;
	enum MHD_Result ret;

	if (*req_cls != &first_call) {
		/* headers only so far: wait for the whole request */
		*req_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_len)
		return MHD_NO; /* no request bodies here */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
	if (e->have_web && e->web.nusers) {
		char *pass = NULL, *user = MHD_basic_auth_get_username_password(conn, &pass);
		int ok = webcfg_check(&e->web, user, pass);

		if (user)
			MHD_free(user);
		if (pass)
			MHD_free(pass);
		if (!ok) {
			struct MHD_Response *r = MHD_create_response_from_buffer(
				13, (void *)"Unauthorized\n", MHD_RESPMEM_PERSISTENT);

			ret = MHD_queue_basic_auth_fail_response(conn, "kvmrt", r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	if (!strcmp(url, "/metrics")) {
		char *copy;
		size_t len;

		pthread_mutex_lock(&e->lock);
		len = e->len;
		copy = malloc(len ? len : 1);
		if (copy)
			memcpy(copy, e->text, len);
		pthread_mutex_unlock(&e->lock);
		if (!copy)
			return MHD_NO;
		{
			struct MHD_Response *r =
				MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);

			if (!r) {
				free(copy);
				return MHD_NO;
			}
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						"text/plain; version=0.0.4; charset=utf-8");
			ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", landing,
			     sizeof(landing) - 1);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "Not Found\n", 10);
}


int httpd_parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256];
	const char *colon = strrchr(arg, ':');
	struct addrinfo hints = { 0 }, *res;
	char *end;
	long port;

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(host))
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	memcpy(host, arg, colon - arg);
	host[colon - arg] = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = 0;
	}
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res))
		goto bad;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
	return 0;
bad:
	pr_err("invalid --listen '%s': expected ADDR:PORT (numeric address, [v6]:port)", esc_str(arg));
	return -EINVAL;
}


static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	if (log_level >= LOG_INFO)
		vfprintf(stderr, fmt, ap);
}


int httpd_start(struct httpd *h, const char *listen, const char *web_config)
{
	struct sockaddr_storage ss;
	unsigned int flags;
	socklen_t sl;
	int err;

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	err = httpd_parse_listen(listen, &ss, &sl);
	if (err)
		return err;
	if (web_config) {
		err = webcfg_load(&h->web, web_config);
		if (err)
			return err;
		h->have_web = 1;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (h->have_web && h->web.cert_pem)
		flags |= MHD_USE_TLS;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_CONN_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONN_MEMORY,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_HTTPS_MEM_CERT, h->web.cert_pem,
				MHD_OPTION_HTTPS_MEM_KEY, h->web.key_pem, MHD_OPTION_END);
	if (!h->d) {
		err = errno ? -errno : -EADDRINUSE;
		pr_err("listen on %s: %s", listen, strerror(-err));
		webcfg_free(&h->web);
		return err;
	}
	return 0;
}

void httpd_publish(struct httpd *h, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&h->lock);
	old = h->text;
	h->text = text;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
	free(old);
}

void httpd_stop(struct httpd *h)
{
	if (h->d)
		MHD_stop_daemon(h->d);
	h->d = NULL;
	free(h->text);
	h->text = NULL;
	webcfg_free(&h->web);
}
