/*
 * The agents: threads that each play one device after another, running
 * install sessions against tsmd with libcardsim cards. The protocol
 * pieces are libtsmagent's own (agent_int.h: the bounded HTTP response
 * parser and the script runner with its 61xx/6Cxx and stop rules); the
 * connection handling is the load generator's, so that every exchange is
 * timed alone and the two modes are exact: a new resumed TLS connection
 * per session, or one connection kept for every session.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"
#include "loadgen.h"

struct ag_th {
	const struct lg_sess_cfg *cfg;
	atomic_size_t		*next;		/* next card to serve */
	pthread_barrier_t	*bar;
	int			 src;
	SSL_SESSION		*sess;
	SSL			*ssl;
	int			 fd;
	struct gp_wr		 req, rbuf, body;
	struct lg_sess		 out;
	pthread_t		 th;
};

/* ---- the card link over a libcardsim card ---- */

static int
card_present(void *ctx, int timeout_ms)
{
	return 1;
}

static int
card_open(void *ctx)
{
	struct lg_card *c = ctx;

	return sim_card_reset(c->sim) == 0 ? 0 : AGENT_ERR_CARD;
}

static int
card_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *rlen)
{
	struct lg_card *c = ctx;
	int r;

	if ((r = sim_card_transmit(c->sim, cmd, n, rsp, cap, rlen)) == 0)
		return 0;
	return r == SIM_ERR_TORN ? AGENT_ERR_CARD_REMOVED : AGENT_ERR_CARD;
}

static void
card_close(void *ctx)
{
}

static const struct agent_card_ops card_ops = {
	card_present, card_open, card_transmit, card_close,
};

/* ---- the connection ---- */

static void
conn_close(struct ag_th *a, int clean)
{
	lg_tls_close(a->ssl, clean);
	a->ssl = NULL;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static int
conn_open(struct ag_th *a)
{
	double t0 = lg_now();
	int r;

	conn_close(a, 0);
	if ((a->fd = lg_tcp_connect(a->cfg->port, a->src, 30000)) < 0)
		return LG_ERR_IO;
	if ((r = lg_tls_connect(a->cfg->ctx, a->fd, &a->sess, &a->ssl)) != 0) {
		conn_close(a, 0);
		return r;
	}
	a->out.resumed += SSL_session_reused(a->ssl) != 0;
	return lg_lat_add(&a->out.hs, (lg_now() - t0) * 1e6);
}

/* Reads one whole response (bounded by the parser's caps). */
static int
read_rsp(struct ag_th *a, struct agent_http_rsp *rsp)
{
	size_t got, room;
	int r;

	gp_wr_reset(&a->rbuf);
	for (;;) {
		room = a->rbuf.max - a->rbuf.len;
		if (room == 0)
			return LG_ERR_PROTO;
		if (room > 16384)
			room = 16384;
		if (gp_wr_reserve(&a->rbuf, room) != 0)
			return LG_ERR_NOMEM;
		if (SSL_read_ex(a->ssl, a->rbuf.p + a->rbuf.len, room,
		    &got) != 1)
			return LG_ERR_IO;
		a->rbuf.len += got;
		if ((r = agent_http_parse(a->rbuf.p, a->rbuf.len, rsp)) < 0)
			return LG_ERR_PROTO;
		if (r == 0)
			break;
	}
	if (rsp->total != a->rbuf.len)	/* nothing was pipelined */
		return LG_ERR_PROTO;
	lg_tls_keep(a->ssl, &a->sess);
	if (rsp->close)
		conn_close(a, 1);
	return 0;
}

static int
put_str(struct gp_wr *w, const char *s)
{
	return gp_wr_put(w, s, strlen(s));
}

/* The request of docs/protocol/agent.md; sid "" for the first, which
 * names the card when hint is not NULL. */
static int
build_req(struct ag_th *a, const char *sid, const char *status,
    const char *hint)
{
	char head[768];
	int n;

	n = snprintf(head, sizeof(head), "POST " AGENT_PATH_DEFAULT
	    " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "X-Admin-Protocol: " AGENT_PROTOCOL "\r\n"
	    "X-Admin-From: //tsm-agent/%s\r\n"
	    "Content-Type: " AGENT_CT_REQUEST "\r\n"
	    "Accept: " AGENT_CT_RESPONSE "\r\n"
	    "Content-Length: %zu\r\n", a->cfg->port, a->cfg->agent_id,
	    a->body.len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return LG_ERR_INVAL;
	gp_wr_reset(&a->req);
	if (put_str(&a->req, head) != 0 ||
	    (*sid != '\0' && (put_str(&a->req, "X-Admin-Session: ") != 0 ||
	    put_str(&a->req, sid) != 0 ||
	    put_str(&a->req, "\r\nX-Admin-Script-Status: ") != 0 ||
	    put_str(&a->req, status) != 0 ||
	    put_str(&a->req, "\r\n") != 0)) ||
	    (*sid == '\0' && hint != NULL &&
	    (put_str(&a->req, "X-Admin-Card: ") != 0 ||
	    put_str(&a->req, hint) != 0 || put_str(&a->req, "\r\n") != 0)) ||
	    put_str(&a->req, "\r\n") != 0 ||
	    gp_wr_put(&a->req, a->body.p, a->body.len) != 0)
		return LG_ERR_NOMEM;
	return 0;
}

/* Warm-up: a full handshake and one reply (404), so that every timed
 * connection resumes and every TLS 1.3 ticket has arrived. */
static int
warm_up(struct ag_th *a)
{
	static const char get[] = "GET /loadgen-warm-up HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
	struct agent_http_rsp rsp;
	int r;

	if ((r = conn_open(a)) != 0 ||
	    (r = lg_tls_write(a->ssl, (const uint8_t *)get,
	    sizeof(get) - 1)) != 0 || (r = read_rsp(a, &rsp)) != 0)
		return r;
	a->out.hs.n = 0;	/* the full handshake is not a figure */
	a->out.resumed = 0;
	if (a->cfg->reconnect)
		conn_close(a, 1);
	return 0;
}

static int fail(struct ag_th *, const struct lg_card *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct ag_th *a, const struct lg_card *c, const char *fmt, ...)
{
	char why[120];
	va_list ap;

	a->out.failed++;
	if (a->out.first_err[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(a->out.first_err, sizeof(a->out.first_err), "card %s: %s",
	    c->csn, why);
	return -1;
}

/* One exchange: returns the HTTP status, or an lg_err. */
static int
exchange(struct ag_th *a, unsigned k, const char *sid, const char *status,
    const char *hint, struct agent_http_rsp *rsp)
{
	double t0;
	int r;

	if (a->ssl == NULL && (r = conn_open(a)) != 0)
		return r;
	if ((r = build_req(a, sid, status, hint)) != 0)
		return r;
	t0 = lg_now();
	if ((r = lg_tls_write(a->ssl, a->req.p, a->req.len)) != 0 ||
	    (r = read_rsp(a, rsp)) != 0) {
		conn_close(a, 0);
		return r;
	}
	t0 = (lg_now() - t0) * 1e6;
	if (lg_lat_add(&a->out.ex, t0) != 0 ||
	    lg_lat_add(&a->out.by_ex[k < 3 ? k : 2], t0) != 0)
		return LG_ERR_NOMEM;
	return rsp->status;
}

/* One session with card c, to its 204; 0 or -1 (a->out.first_err). */
static int
session(struct ag_th *a, struct lg_card *c)
{
	struct agent_card card = { &card_ops, c };
	struct agent_http_rsp rsp;
	struct agent_exec ex;
	char sid[AGENT_SESSION_MAX + 1] = "";
	const char *status = "ok";
	unsigned k;
	int r;

	gp_wr_reset(&a->body);
	if (card_open(c) != 0)
		return fail(a, c, "card reset failed");
	memset(&rsp, 0, sizeof(rsp));
	for (k = 0; k < LG_EXCH_MAX; k++) {
		if ((r = exchange(a, k, sid, status, a->cfg->hint ? c->csn :
		    NULL, &rsp)) < 0)
			return fail(a, c, "exchange: error %d (%s)", r,
			    lg_strerror(r));
		if (r == 204)
			break;
		if (r != 200 || rsp.session[0] == '\0')
			return fail(a, c, "HTTP %d %s", r, rsp.result);
		if (sid[0] == '\0')
			memcpy(sid, rsp.session, sizeof(sid));
		if ((r = agent_exec_script(&card, rsp.body, rsp.body_len,
		    &a->body, &ex)) != 0)
			return fail(a, c, "script: %d %s", r,
			    agent_strerror(r));
		status = agent_script_status_name(ex.status);
	}
	if (k == LG_EXCH_MAX || strncmp(rsp.result, a->cfg->expect,
	    strlen(a->cfg->expect)) != 0)
		return fail(a, c, "%d exchanges, result \"%s\"", (int)k + 1,
		    rsp.result);
	a->out.ok++;
	a->out.exchanges += k + 1;
	if (k + 1 > a->out.max_exchanges)
		a->out.max_exchanges = k + 1;
	return 0;
}

static void *
ag_main(void *arg)
{
	struct ag_th *a = arg;
	size_t i;
	int r;

	if ((r = warm_up(a)) != 0)
		snprintf(a->out.first_err, sizeof(a->out.first_err),
		    "warm-up: %s", lg_strerror(r));
	pthread_barrier_wait(a->bar);
	if (r != 0)
		return NULL;
	while ((i = atomic_fetch_add(a->next, 1)) < a->cfg->ncards) {
		r = session(a, &a->cfg->cards[i]);
		if (a->cfg->reconnect)
			conn_close(a, r == 0);
	}
	conn_close(a, 1);
	return NULL;
}

static int
collect(struct lg_sess *o, struct ag_th *a)
{
	int r = 0, k;

	o->ok += a->out.ok;
	o->failed += a->out.failed;
	o->exchanges += a->out.exchanges;
	o->resumed += a->out.resumed;
	if (a->out.max_exchanges > o->max_exchanges)
		o->max_exchanges = a->out.max_exchanges;
	if (o->first_err[0] == '\0')
		memcpy(o->first_err, a->out.first_err, sizeof(o->first_err));
	if (lg_lat_merge(&o->ex, &a->out.ex) != 0 ||
	    lg_lat_merge(&o->hs, &a->out.hs) != 0)
		r = LG_ERR_NOMEM;
	for (k = 0; k < 3; k++)
		if (lg_lat_merge(&o->by_ex[k], &a->out.by_ex[k]) != 0)
			r = LG_ERR_NOMEM;
	lg_sess_free(&a->out);
	SSL_SESSION_free(a->sess);
	gp_wr_free(&a->req);
	gp_wr_free(&a->rbuf);
	gp_wr_free(&a->body);
	return r;
}

int
lg_sessions_run(const struct lg_sess_cfg *cfg, struct lg_sess *out)
{
	pthread_barrier_t bar;
	atomic_size_t next = 0;
	struct ag_th *t;
	double t0;
	int i, r = 0;

	memset(out, 0, sizeof(*out));
	if (cfg->threads < 1 ||
	    (t = calloc((size_t)cfg->threads, sizeof(*t))) == NULL)
		return LG_ERR_NOMEM;
	if (pthread_barrier_init(&bar, NULL, (unsigned)cfg->threads + 1) != 0) {
		free(t);
		return LG_ERR_NOMEM;
	}
	for (i = 0; i < cfg->threads; i++) {
		t[i].cfg = cfg;
		t[i].next = &next;
		t[i].bar = &bar;
		t[i].src = 100 + i % 100;
		t[i].fd = -1;
		gp_wr_init_dyn(&t[i].req, AGENT_BODY_MAX + 2048);
		gp_wr_init_dyn(&t[i].rbuf, AGENT_HEAD_MAX + AGENT_BODY_MAX);
		gp_wr_init_dyn(&t[i].body, AGENT_BODY_MAX);
		if (pthread_create(&t[i].th, NULL, ag_main, &t[i]) != 0)
			abort();	/* the barrier would never open */
	}
	pthread_barrier_wait(&bar);
	t0 = lg_now();
	for (i = 0; i < cfg->threads; i++)
		pthread_join(t[i].th, NULL);
	out->secs = lg_now() - t0;
	for (i = 0; i < cfg->threads; i++)
		if (collect(out, &t[i]) != 0)
			r = LG_ERR_NOMEM;
	out->rate = (double)out->ok / out->secs;
	pthread_barrier_destroy(&bar);
	free(t);
	return r;
}

void
lg_sess_free(struct lg_sess *s)
{
	int k;

	lg_lat_free(&s->ex);
	lg_lat_free(&s->hs);
	for (k = 0; k < 3; k++)
		lg_lat_free(&s->by_ex[k]);
}
