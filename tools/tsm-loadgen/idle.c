/*
 * Resident memory per connected idle agent: tsmd's VmRSS before and after
 * opening n TLS connections that completed a full handshake with an agent
 * certificate and then sit idle (no request), 250 per loopback source
 * address 127.0.0.2, .3, ... so that the ports suffice. Opened by a few
 * threads; the server's own count (tsmd_connections_active) is read too.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define IDLE_MAX	60000		/* 240 source addresses of 250 */
#define IDLE_PER_SRC	250

struct idle_conn {
	SSL	*ssl;
	int	 fd;
};

struct idle_th {
	SSL_CTX			*ctx;
	int			 port;
	struct idle_conn	*v;
	size_t			 from, to, open;
	pthread_t		 th;
};

static void *
idle_main(void *arg)
{
	struct idle_th *t = arg;
	size_t j;
	int fd;

	for (j = t->from; j < t->to; j++) {
		if ((fd = lg_tcp_connect(t->port, 2 + (int)(j / IDLE_PER_SRC),
		    30000)) < 0)
			continue;
		if (lg_tls_connect(t->ctx, fd, NULL, &t->v[j].ssl) != 0) {
			close(fd);
			continue;
		}
		t->v[j].fd = fd;
		t->open++;
	}
	return NULL;
}

static void
idle_close(struct idle_conn *v, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (v[j].ssl != NULL) {
			SSL_free(v[j].ssl);
			close(v[j].fd);
		}
	free(v);
}

int
lg_idle_run(SSL_CTX *ctx, int port, int mport, pid_t server, size_t n,
    int threads, struct lg_idle *out)
{
	struct timespec settle = { 1, 0 };
	struct idle_conn *v;
	struct idle_th *t;
	double t0;
	size_t per;
	int i, started;

	memset(out, 0, sizeof(*out));
	out->want = n;
	if (n == 0 || n > IDLE_MAX || threads < 1)
		return LG_ERR_INVAL;
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (t = calloc((size_t)threads, sizeof(*t))) == NULL) {
		free(v);
		return LG_ERR_NOMEM;
	}
	out->rss_before_kb = lg_rss_kb(server);
	t0 = lg_now();
	per = (n + (size_t)threads - 1) / (size_t)threads;
	for (started = 0; started < threads; started++) {
		t[started].ctx = ctx;
		t[started].port = port;
		t[started].v = v;
		t[started].from = (size_t)started * per;
		t[started].to = t[started].from + per < n ?
		    t[started].from + per : n;
		if (pthread_create(&t[started].th, NULL, idle_main,
		    &t[started]) != 0)
			break;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i].th, NULL);
		out->open += t[i].open;
	}
	out->secs = lg_now() - t0;
	nanosleep(&settle, NULL);	/* the last handshakes' buffers */
	out->rss_after_kb = lg_rss_kb(server);
	if (lg_metric(mport, "tsmd_connections_active",
	    &out->server_conns) != 0)
		out->server_conns = -1;
	idle_close(v, n);
	free(t);
	return started == threads ? 0 : LG_ERR_NOMEM;
}
