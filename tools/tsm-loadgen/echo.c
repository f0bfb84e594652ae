/*
 * The bare TLS baseline: a minimal TLS echo server in a child process
 * (libevent with OpenSSL bufferevents, one loop per thread, each accepting
 * on a dup of the listening socket, TLS set up as tsmd's: 1.2 and 1.3,
 * client certificate asked for, SSL_MODE_RELEASE_BUFFERS), and the loop
 * against it: connect, resumed handshake, one 1 KiB request and its reply,
 * close; nothing else.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <openssl/err.h>

#include "loadgen.h"

#define ECHO_LOOPS_MAX	16

struct echo_loop {
	struct event_base	*base;
	struct evconnlistener	*lis;
	SSL_CTX			*ctx;
	pthread_t		 th;
};

static int
accept_any(int ok, X509_STORE_CTX *x)
{
	return 1;	/* tsmd too lets the handshake finish */
}

static SSL_CTX *
echo_ctx(const char *cert, const char *key, const char *ca)
{
	static const unsigned char sid_ctx[] = "tsm-loadgen-echo";
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid_ctx,
	    sizeof(sid_ctx) - 1) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE,
	    accept_any);
	return ctx;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	while (evbuffer_get_length(in) >= LG_ECHO_LEN)
		evbuffer_remove_buffer(in, bufferevent_get_output(bev),
		    LG_ECHO_LEN);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		bufferevent_free(bev);
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct echo_loop *l = arg;
	struct bufferevent *bev;
	SSL *ssl;
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((ssl = SSL_new(l->ctx)) == NULL) {
		close(fd);
		return;
	}
	if ((bev = bufferevent_openssl_socket_new(l->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		SSL_free(ssl);
		close(fd);
		return;
	}
	bufferevent_setcb(bev, on_read, NULL, on_event, l);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void *
loop_main(void *arg)
{
	struct echo_loop *l = arg;

	event_base_dispatch(l->base);
	return NULL;
}

static int
listen_any(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The child: never returns. */
static void
echo_child(int lfd, SSL_CTX *ctx, int loops)
{
	static struct echo_loop l[ECHO_LOOPS_MAX];
	int i, fd;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (evthread_use_pthreads() != 0)
		_exit(1);
	for (i = 0; i < loops; i++) {
		l[i].ctx = ctx;
		if ((fd = i == 0 ? lfd : dup(lfd)) < 0 ||
		    (l[i].base = event_base_new()) == NULL ||
		    (l[i].lis = evconnlistener_new(l[i].base, on_accept, &l[i],
		    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL)
			_exit(1);
	}
	for (i = 1; i < loops; i++)
		if (pthread_create(&l[i].th, NULL, loop_main, &l[i]) != 0)
			_exit(1);
	loop_main(&l[0]);
	_exit(0);
}

int
lg_echo_start(struct lg_echo *e, const char *cert, const char *key,
    const char *ca, int loops)
{
	SSL_CTX *ctx;
	int lfd;

	memset(e, 0, sizeof(*e));
	if (loops < 1 || loops > ECHO_LOOPS_MAX)
		return LG_ERR_INVAL;
	if ((ctx = echo_ctx(cert, key, ca)) == NULL) {
		ERR_clear_error();
		return LG_ERR_TLS;
	}
	if ((lfd = listen_any(&e->port)) < 0) {
		SSL_CTX_free(ctx);
		return LG_ERR_IO;
	}
	if ((e->pid = fork()) == 0)
		echo_child(lfd, ctx, loops);
	close(lfd);
	SSL_CTX_free(ctx);
	return e->pid > 0 ? 0 : LG_ERR_IO;
}

void
lg_echo_stop(struct lg_echo *e)
{
	if (e->pid <= 0)
		return;
	kill(e->pid, SIGTERM);
	waitpid(e->pid, NULL, 0);
	e->pid = 0;
}

/* ---- the loop ---- */

struct bare_th {
	SSL_CTX		*ctx;
	int		 port, src;
	double		 secs;
	pthread_barrier_t *bar;
	size_t		 loops, fails, resumed;
	struct lg_lat	 hs, rr;
	pthread_t	 th;
};

/* One loop; hs and rr get its two times (us). */
static int
bare_once(struct bare_th *b, SSL_SESSION **sess, double *hs, double *rr,
    int *resumed)
{
	uint8_t buf[LG_ECHO_LEN];
	double t0 = lg_now(), t1;
	SSL *ssl = NULL;
	int fd, r;

	memset(buf, 'x', sizeof(buf));
	if ((fd = lg_tcp_connect(b->port, b->src, 10000)) < 0)
		return LG_ERR_IO;
	if ((r = lg_tls_connect(b->ctx, fd, sess, &ssl)) != 0)
		goto out;
	t1 = lg_now();
	*resumed = SSL_session_reused(ssl);
	if ((r = lg_tls_write(ssl, buf, sizeof(buf))) != 0 ||
	    (r = lg_tls_read_n(ssl, buf, sizeof(buf))) != 0)
		goto out;
	*rr = (lg_now() - t1) * 1e6;
	*hs = (t1 - t0) * 1e6;
	lg_tls_keep(ssl, sess);
 out:
	lg_tls_close(ssl, r == 0);
	close(fd);
	return r;
}

static void *
bare_main(void *arg)
{
	struct bare_th *b = arg;
	SSL_SESSION *sess = NULL;
	double hs, rr, until;
	int resumed;

	/* Warm-up: the full handshake that gives the session to resume. */
	if (bare_once(b, &sess, &hs, &rr, &resumed) != 0)
		b->fails++;
	pthread_barrier_wait(b->bar);
	until = lg_now() + b->secs;
	while (lg_now() < until) {
		if (bare_once(b, &sess, &hs, &rr, &resumed) != 0) {
			b->fails++;
			continue;
		}
		b->loops++;
		b->resumed += resumed != 0;
		if (lg_lat_add(&b->hs, hs) != 0 || lg_lat_add(&b->rr, rr) != 0)
			break;
	}
	SSL_SESSION_free(sess);
	return NULL;
}

int
lg_bare_run(SSL_CTX *ctx, int port, int threads, double secs,
    struct lg_bare *out)
{
	pthread_barrier_t bar;
	struct bare_th *t;
	double t0;
	int i, r = 0;

	memset(out, 0, sizeof(*out));
	if (threads < 1 || (t = calloc((size_t)threads, sizeof(*t))) == NULL)
		return LG_ERR_NOMEM;
	if (pthread_barrier_init(&bar, NULL, (unsigned)threads + 1) != 0) {
		free(t);
		return LG_ERR_NOMEM;
	}
	for (i = 0; i < threads; i++) {
		t[i].ctx = ctx;
		t[i].port = port;
		t[i].src = 100 + i % 100;
		t[i].secs = secs;
		t[i].bar = &bar;
		if (pthread_create(&t[i].th, NULL, bare_main, &t[i]) != 0)
			abort();	/* the barrier would never open */
	}
	pthread_barrier_wait(&bar);
	t0 = lg_now();
	for (i = 0; i < threads; i++) {
		pthread_join(t[i].th, NULL);
		out->loops += t[i].loops;
		out->fails += t[i].fails;
		out->resumed += t[i].resumed;
		if (lg_lat_merge(&out->hs, &t[i].hs) != 0 ||
		    lg_lat_merge(&out->rr, &t[i].rr) != 0)
			r = LG_ERR_NOMEM;
		lg_lat_free(&t[i].hs);
		lg_lat_free(&t[i].rr);
	}
	out->rate = (double)out->loops / (lg_now() - t0);
	pthread_barrier_destroy(&bar);
	free(t);
	return r;
}
