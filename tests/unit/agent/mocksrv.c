/*
 * The mock tsmd (see mocksrv.h). Deliberately simple: blocking sockets
 * with short timeouts, requests read whole (head up to 16 KiB, body by
 * Content-Length up to 1 MiB + 1), replies built from mock_reply.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mocksrv.h"

#ifndef AGENT_TEST_DIR
#define AGENT_TEST_DIR "."
#endif

struct mocksrv {
	SSL_CTX		*ctx;
	int		 lfd;
	pthread_t	 th;
	int		 running;
	volatile int	 stop;
	mock_handler	 fn;
	void		*arg;
	pthread_mutex_t	 mu;
	struct mock_req	 reqs[MOCK_REQS_MAX];
	unsigned	 nreq, nconn, hsfail, nreused;
};

static SSL_CTX *
server_ctx(const struct mock_opts *o)
{
	char crt[512], key[512], ca[512];
	const char *c = o->cert != NULL ? o->cert : "server";
	SSL_CTX *ctx;

	snprintf(crt, sizeof(crt), "%s/%s.crt", o->dir, c);
	snprintf(key, sizeof(key), "%s/%s.key", o->dir, c);
	snprintf(ca, sizeof(ca), "%s/ca.crt", o->dir);
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (o->max_version != 0) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(ctx, o->max_version);
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* Resumption with client certificates needs a session id context,
	 * as tsmd sets one. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"mock", 4);
	return ctx;
}

/* Reads one request; 0 ok, -1 closed or malformed. */
static int
read_req(SSL *ssl, struct mock_req *q)
{
	char *buf, *e, *cl;
	size_t len = 0, cap = 16384 + 1048577 + 1, hl, blen = 0, got;

	if ((buf = calloc(1, cap)) == NULL)
		return -1;
	for (;;) {
		if (len >= 16384 || SSL_read_ex(ssl, buf + len, 16384 - len,
		    &got) != 1)
			goto fail;
		len += got;
		if ((e = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	hl = (size_t)(e - buf) + 4;
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < e)
		blen = strtoul(cl + 17, NULL, 10);
	if (blen > 1048577)
		goto fail;
	while (len < hl + blen) {
		if (SSL_read_ex(ssl, buf + len, hl + blen - len, &got) != 1)
			goto fail;
		len += got;
	}
	q->head = strndup(buf, hl);
	q->body = malloc(blen + 1);
	memcpy(q->body, buf + hl, blen);
	q->body_len = blen;
	free(buf);
	return 0;
 fail:
	free(buf);
	return -1;
}

static void
send_reply(SSL *ssl, const struct mock_reply *r)
{
	char head[1024];
	int n;

	if (r->action == MOCK_RAW) {
		SSL_write(ssl, r->raw, (int)r->raw_len);
		return;
	}
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n"
	    "X-Admin-Protocol: globalplatform-remote-admin/1.0\r\n"
	    "%s%s%s%s%s%s%s%s"
	    "Content-Length: %zu\r\n\r\n", r->status,
	    r->status == 200 ? "Content-Type: application/vnd."
	    "globalplatform.card-content-mgt;version=1.0\r\n" : "",
	    r->session[0] ? "X-Admin-Session: " : "", r->session,
	    r->session[0] ? "\r\n" : "",
	    r->result[0] ? "X-Admin-Result: " : "", r->result,
	    r->result[0] ? "\r\n" : "", r->headers, r->body_len);
	SSL_write(ssl, head, n);
	if (r->body_len > 0)
		SSL_write(ssl, r->body, (int)r->body_len);
}

static void
serve_conn(struct mocksrv *m, int fd)
{
	struct timeval tv = { 3, 0 };
	struct mock_reply *rep;
	struct mock_req q;
	SSL *ssl;
	unsigned idx, conn;
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(m->ctx);
	SSL_set_fd(ssl, fd);
	pthread_mutex_lock(&m->mu);
	conn = ++m->nconn;
	pthread_mutex_unlock(&m->mu);
	if (SSL_accept(ssl) != 1) {
		pthread_mutex_lock(&m->mu);
		m->hsfail++;
		pthread_mutex_unlock(&m->mu);
		goto out;
	}
	if (SSL_session_reused(ssl)) {
		pthread_mutex_lock(&m->mu);
		m->nreused++;
		pthread_mutex_unlock(&m->mu);
	}
	rep = calloc(1, sizeof(*rep));
	while (!m->stop) {
		memset(&q, 0, sizeof(q));
		if (read_req(ssl, &q) != 0)
			break;
		q.conn = conn;
		pthread_mutex_lock(&m->mu);
		idx = m->nreq;
		if (m->nreq < MOCK_REQS_MAX)
			m->reqs[m->nreq++] = q;
		pthread_mutex_unlock(&m->mu);
		if (idx >= MOCK_REQS_MAX) {
			free(q.head);
			free(q.body);
			break;
		}
		memset(rep, 0, sizeof(*rep));
		m->fn(m->arg, &m->reqs[idx], idx, rep);
		if (rep->action == MOCK_DROP)
			break;
		send_reply(ssl, rep);
		if (rep->action == MOCK_RAW || rep->close_after)
			break;
	}
	free(rep);
 out:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
}

static void *
loop(void *arg)
{
	struct mocksrv *m = arg;
	struct pollfd p = { .fd = m->lfd, .events = POLLIN };
	int fd;

	while (!m->stop) {
		if (poll(&p, 1, 50) != 1)
			continue;
		if ((fd = accept(m->lfd, NULL, NULL)) >= 0)
			serve_conn(m, fd);
	}
	return NULL;
}

int
mock_start(const struct mock_opts *o, mock_handler fn, void *arg,
    struct mocksrv **out, int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	struct sockaddr *addr = (struct sockaddr *)&sa;
	socklen_t sl = sizeof(sa);
	struct mocksrv *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	pthread_mutex_init(&m->mu, NULL);
	m->fn = fn;
	m->arg = arg;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa6.sin6_addr = in6addr_loopback;
	if (o->ipv6) {
		addr = (struct sockaddr *)&sa6;
		sl = sizeof(sa6);
	}
	if ((m->ctx = server_ctx(o)) == NULL ||
	    (m->lfd = socket(addr->sa_family, SOCK_STREAM, 0)) < 0 ||
	    bind(m->lfd, addr, sl) != 0 ||
	    listen(m->lfd, 16) != 0 ||
	    getsockname(m->lfd, addr, &sl) != 0 ||
	    pthread_create(&m->th, NULL, loop, m) != 0) {
		SSL_CTX_free(m->ctx);
		free(m);
		return -1;
	}
	m->running = 1;
	*port = ntohs(o->ipv6 ? sa6.sin6_port : sa.sin_port);
	*out = m;
	return 0;
}

void
mock_stop(struct mocksrv *m)
{
	if (m == NULL || !m->running)
		return;
	m->stop = 1;
	pthread_join(m->th, NULL);
	m->running = 0;
	close(m->lfd);
}

void
mock_free(struct mocksrv *m)
{
	unsigned i;

	if (m == NULL)
		return;
	mock_stop(m);
	for (i = 0; i < m->nreq; i++) {
		free(m->reqs[i].head);
		free(m->reqs[i].body);
	}
	SSL_CTX_free(m->ctx);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

unsigned
mock_nreq(const struct mocksrv *m)
{
	return m->nreq;
}

const struct mock_req *
mock_get(const struct mocksrv *m, unsigned i)
{
	return i < m->nreq ? &m->reqs[i] : NULL;
}

unsigned
mock_nconn(const struct mocksrv *m)
{
	return m->nconn;
}

unsigned
mock_nreused(const struct mocksrv *m)
{
	return m->nreused;
}

unsigned
mock_handshake_failures(const struct mocksrv *m)
{
	return m->hsfail;
}

int
mock_header(const struct mock_req *q, const char *name, char *buf,
    size_t cap)
{
	const char *p = q->head, *e;
	size_t nl = strlen(name), vl;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			e = strstr(p, "\r\n");
			vl = (size_t)(e - p);
			if (vl >= cap)
				vl = cap - 1;
			memcpy(buf, p, vl);
			buf[vl] = '\0';
			return 0;
		}
	}
	return -1;
}

int
mock_pki(char *dir, size_t cap)
{
	char cmd[1024];

	snprintf(dir, cap, "/tmp/agent-test-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "sh %s/mkcerts.sh %s", AGENT_TEST_DIR,
	    dir);
	return system(cmd) == 0 ? 0 : -1;
}

void
mock_rmdir(const char *dir)
{
	char cmd[1024];

	if (strncmp(dir, "/tmp/agent-test-", 16) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}
