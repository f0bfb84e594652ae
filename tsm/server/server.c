/*
 * The server: listening sockets, one libevent loop per core (each with its
 * own evhttp accepting on a dup of the listening socket), the worker pool,
 * the session sweep, signals and the drain.
 *
 * SIGTERM / SIGINT: every loop stops accepting, new sessions get 503,
 * sessions in progress run to their end; when none is left (or
 * drain_timeout_ms has passed: the rest are abandoned, their operations
 * left uncertain for the next contact) the loops exit and the workers
 * finish what they hold.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "server/server_int.h"

#define SWEEP_MAX	256

const char *
tsm_strerror(int e)
{
	static const char *const names[] = { "ok", "invalid argument",
	    "out of memory", "I/O error", "TLS error", "event loop error",
	    "store error", "tsm-keyd error", "protocol error", "card error",
	    "authentication failed", "wrong state", "not found", "busy" };

	if (e > 0 || -e >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown error";
	return names[-e];
}

static int
split_hostport(const char *s, char *host, size_t hl, char *port, size_t pl)
{
	const char *c = strrchr(s, ':');

	if (c == NULL || (size_t)(c - s) >= hl || strlen(c + 1) >= pl ||
	    c[1] == '\0')
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	snprintf(port, pl, "%s", c + 1);
	return 0;
}

static int
listen_on(const char *spec, int *port)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[128], serv[16];
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (split_hostport(spec, host, sizeof(host), serv, sizeof(serv)) != 0 ||
	    getaddrinfo(*host ? host : NULL, serv, &hints, &ai) != 0)
		return -1;
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		goto fail;
	/* Accepted sockets inherit it on Linux; http.c sets it again. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);
	return fd;
 fail:
	tsm_log(TSM_LOG_ERR, "listen", "addr=%s err=\"%s\"", spec,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static void
sweep_expired(struct tsm_server *srv, int64_t cutoff)
{
	struct tsm_session *v[SWEEP_MAX];
	size_t n, i;

	n = tsm_sessions_expired(&srv->sessions, cutoff, v, SWEEP_MAX);
	for (i = 0; i < n; i++)
		tsm_http_abandon(&srv->loops[0], v[i]);
}

static void
stop_loops(struct tsm_server *srv)
{
	int i;

	for (i = 0; i < srv->nloops; i++)
		event_base_loopexit(srv->loops[i].base, NULL);
}

/* Loop 0, once a second (every loop: stop accepting when draining). */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct tsm_loop *l = arg;
	struct tsm_server *srv = l->srv;
	int64_t now = tsm_mono_ms();

	(void)fd; (void)what;
	if (atomic_load(&srv->draining))
		tsm_http_stop_accepting(l);
	if (l->idx != 0)
		return;
	sweep_expired(srv, now - srv->cfg.session_timeout_ms);
	if (!atomic_load(&srv->draining))
		return;
	if (now >= srv->drain_deadline)
		sweep_expired(srv, INT64_MAX);	/* abandon what is left */
	if ((atomic_load(&srv->metrics.sessions_active) == 0 &&
	    atomic_load(&srv->metrics.jobs_pending) == 0) ||
	    now >= srv->drain_deadline + 5000) {
		tsm_log(TSM_LOG_INFO, "server.drained", "sessions=%lld",
		    (long long)atomic_load(&srv->metrics.sessions_active));
		stop_loops(srv);
	}
}

static void
begin_drain(struct tsm_server *srv)
{
	if (atomic_exchange(&srv->draining, 1))
		return;
	srv->drain_deadline = tsm_mono_ms() + srv->cfg.drain_timeout_ms;
	tsm_log(TSM_LOG_INFO, "server.draining", "sessions=%lld",
	    (long long)atomic_load(&srv->metrics.sessions_active));
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	tsm_log(TSM_LOG_INFO, "server.signal", "signal=%d", (int)sig);
	begin_drain(arg);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	begin_drain(arg);
}

static int
loop_init(struct tsm_server *srv, struct tsm_loop *l, int idx)
{
	struct timeval tv = { 0, 250 * 1000 };

	l->idx = idx;
	l->srv = srv;
	if ((l->base = event_base_new()) == NULL)
		return TSM_ERR_EVENT;
	if (idx == 0)
		tv.tv_usec = 0, tv.tv_sec = 1;
	if ((l->tick = event_new(l->base, -1, EV_PERSIST, on_tick, l)) ==
	    NULL || event_add(l->tick, &tv) != 0)
		return TSM_ERR_EVENT;
	return tsm_http_setup(l);
}

static void
write_port_file(const struct tsm_server *srv)
{
	char tmp[TSM_PATH_MAX + 8];
	FILE *f;

	if (srv->cfg.port_file[0] == '\0')
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", srv->cfg.port_file);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "%d %d\n", srv->port, srv->mport);
	if (fclose(f) == 0)
		(void)rename(tmp, srv->cfg.port_file);
}

static int
listeners(struct tsm_server *srv)
{
	srv->mfd = -1;
	if ((srv->lfd = listen_on(srv->cfg.listen, &srv->port)) < 0)
		return TSM_ERR_IO;
	if (srv->cfg.metrics_listen[0] != '\0' &&
	    (srv->mfd = listen_on(srv->cfg.metrics_listen, &srv->mport)) < 0)
		return TSM_ERR_IO;
	return 0;
}

int
tsm_server_new(const struct tsm_server_cfg *cfg, struct tsm_server **out)
{
	struct tsm_server *srv;
	long ncpu;
	int i, r;

	*out = NULL;
	if (evthread_use_pthreads() != 0)
		return TSM_ERR_EVENT;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return TSM_ERR_NOMEM;
	srv->cfg = *cfg;
	srv->lfd = srv->mfd = -1;
	tsm_log_set_level(cfg->log_level);
	if ((r = tsm_tls_init(&srv->tls, &srv->cfg)) != 0 ||
	    (r = tsm_sessions_init(&srv->sessions)) != 0 ||
	    (r = tsm_pool_start(&srv->pool, srv, cfg->workers)) != 0 ||
	    (r = listeners(srv)) != 0)
		goto fail;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	srv->nloops = cfg->loops > 0 ? cfg->loops : (ncpu > 0 ? (int)ncpu : 1);
	if ((srv->loops = calloc((size_t)srv->nloops, sizeof(*srv->loops))) ==
	    NULL) {
		r = TSM_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < srv->nloops; i++)
		if ((r = loop_init(srv, &srv->loops[i], i)) != 0)
			goto fail;
	if ((srv->sig_term = evsignal_new(srv->loops[0].base, SIGTERM,
	    on_signal, srv)) == NULL ||
	    (srv->sig_int = evsignal_new(srv->loops[0].base, SIGINT,
	    on_signal, srv)) == NULL ||
	    (srv->stop_ev = event_new(srv->loops[0].base, -1, 0, on_stop,
	    srv)) == NULL ||
	    event_add(srv->sig_term, NULL) != 0 ||
	    event_add(srv->sig_int, NULL) != 0) {
		r = TSM_ERR_EVENT;
		goto fail;
	}
	write_port_file(srv);
	*out = srv;
	return 0;
 fail:
	tsm_server_free(srv);
	return r;
}

static void *
loop_main(void *arg)
{
	struct tsm_loop *l = arg;

	event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
tsm_server_run(struct tsm_server *srv)
{
	int i, started = 1;

	signal(SIGPIPE, SIG_IGN);
	tsm_log(TSM_LOG_INFO, "server.start", "listen=%s port=%d loops=%d "
	    "workers=%d metrics_port=%d", srv->cfg.listen, srv->port,
	    srv->nloops, srv->cfg.workers, srv->mport);
	for (i = 1; i < srv->nloops; i++, started++)
		if (pthread_create(&srv->loops[i].th, NULL, loop_main,
		    &srv->loops[i]) != 0)
			break;
	if (started == srv->nloops)
		event_base_loop(srv->loops[0].base, EVLOOP_NO_EXIT_ON_EMPTY);
	stop_loops(srv);
	for (i = 1; i < started; i++)
		pthread_join(srv->loops[i].th, NULL);
	tsm_pool_stop(&srv->pool);
	tsm_log(TSM_LOG_INFO, "server.stop", "sessions_left=%lld",
	    (long long)atomic_load(&srv->metrics.sessions_active));
	return started == srv->nloops ? 0 : TSM_ERR_NOMEM;
}

void
tsm_server_stop(struct tsm_server *srv)
{
	if (srv->stop_ev != NULL)
		event_active(srv->stop_ev, EV_READ, 0);
}

int
tsm_server_port(const struct tsm_server *srv)
{
	return srv->port;
}

void
tsm_server_free(struct tsm_server *srv)
{
	int i;

	if (srv == NULL)
		return;
	tsm_pool_stop(&srv->pool);
	if (srv->sig_term != NULL)
		event_free(srv->sig_term);
	if (srv->sig_int != NULL)
		event_free(srv->sig_int);
	if (srv->stop_ev != NULL)
		event_free(srv->stop_ev);
	for (i = 0; srv->loops != NULL && i < srv->nloops; i++) {
		tsm_http_teardown(&srv->loops[i]);
		if (srv->loops[i].tick != NULL)
			event_free(srv->loops[i].tick);
		if (srv->loops[i].base != NULL)
			event_base_free(srv->loops[i].base);
	}
	free(srv->loops);
	tsm_sessions_free(&srv->sessions);
	tsm_capv_cache_clear();		/* the workers are gone */
	tsm_tls_free(&srv->tls);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->mfd >= 0)
		close(srv->mfd);
	gp_wipe(srv, sizeof(*srv));
	free(srv);
}
