/*
 * The agent endpoint, POST /gp/v1/admin over HTTPS (docs/protocol/
 * agent.md), on libevent's evhttp with OpenSSL bufferevents; and the
 * plain-HTTP metrics listener (/healthz, /metrics).
 *
 * libevent parses the request line and headers and caps the body
 * (evhttp_set_max_body_size: 413); the body is read only by libgp's
 * script decoder. A request that needs the store or tsm-keyd is parked
 * and answered when its worker job completes (pool.c).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/evp.h>

#include "server/server_int.h"

#define ADMIN_PATH	"/gp/v1/admin"
#define PROTO_NAME	"globalplatform-remote-admin/1.0"
#define CT_RSP		"application/vnd.globalplatform.card-content-mgt-response;version=1.0"
#define CT_CMD		"application/vnd.globalplatform.card-content-mgt;version=1.0"
#define FROM_PREFIX	"//tsm-agent/"

enum { JOB_IDENTIFY = 1, JOB_RESPONSES, JOB_ABANDON, JOB_PRECOMPUTE };

struct admin_job {
	struct tsm_job		 job;
	struct tsm_loop		*loop;
	struct evhttp_request	*req;
	struct tsm_session	*s;
	int			 kind;
	uint8_t			*body;
	size_t			 len;
	char			 status[24];
	char			 csn[TSM_CSN_MAX + 1];	/* X-Admin-Card */
	uint8_t			 hash[32];
	struct tsm_reply	 reply;
	int64_t			 t0_us;
};

static int ex_conn = -1;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
conn_freed(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct tsm_metrics *m = ptr;

	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (m != NULL)
		atomic_fetch_sub(&m->connections_active, 1);
}

static struct bufferevent *
new_bev(struct event_base *base, void *arg)
{
	struct tsm_loop *l = arg;
	struct tsm_metrics *m = &l->srv->metrics;
	SSL *ssl;

	if ((ssl = tsm_tls_new_ssl(&l->srv->tls)) == NULL)
		return NULL;
	SSL_set_ex_data(ssl, ex_conn, m);
	atomic_fetch_add(&m->connections_active, 1);
	atomic_fetch_add(&m->connections_total, 1);
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/*
 * evhttp_send_reply, then the whole answer (status line, headers, body)
 * made one piece in the connection's output: OpenSSL's bufferevent
 * writes each piece as its own TLS record and write(2), and an answer was
 * two or three of each. Only up to one TLS record's worth (16 KiB):
 * past it OpenSSL splits records anyway and the copy would buy nothing.
 */
#define SEND_PULLUP_MAX	16384

static void
send_now(struct evhttp_request *req, int code, const char *reason)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct evbuffer *out;

	evhttp_send_reply(req, code, reason, NULL);
	if (c == NULL || (bev = evhttp_connection_get_bufferevent(c)) == NULL)
		return;
	out = bufferevent_get_output(bev);
	if (evbuffer_get_length(out) <= SEND_PULLUP_MAX)
		(void)evbuffer_pullup(out, -1);
}

static void
send_text(struct tsm_server *srv, struct evhttp_request *req, int code,
    const char *reason, const char *text)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evhttp_request_get_output_buffer(req);

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(b, "%s\n", text);
	if (code >= 400)
		tsm_metrics_http_error(&srv->metrics, code);
	send_now(req, code, reason);
}

static const char *
reason_of(int code)
{
	switch (code) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* A card hint: the CSN, 20 upper-case hex digits. */
/*
 * Commands per script for the agent: what its X-TSM-Script-Max announces
 * (decimal), at most TSM_CMDS_MAX; 255 without it, or when it is
 * malformed or smaller (any agent of the protocol runs 255).
 */
size_t
tsm_http_script_max(const char *v)
{
	unsigned long n = 0;
	size_t i;

	if (v == NULL || *v == '\0' || strlen(v) > 5)
		return TSM_CMDS_STD;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9')
			return TSM_CMDS_STD;
		n = n * 10 + (unsigned long)(v[i] - '0');
	}
	if (n <= TSM_CMDS_STD)
		return TSM_CMDS_STD;
	return n < TSM_CMDS_MAX ? (size_t)n : TSM_CMDS_MAX;
}

static int
card_hint_ok(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'A' && v[i] <= 'F')))
			return 0;
	return i == 20;
}

/* Sends a session reply (200 script, 204 end, or an error text). */
static void
send_reply(struct tsm_server *srv, struct evhttp_request *req,
    const struct tsm_session *s, const struct tsm_reply *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evhttp_request_get_output_buffer(req);

	if (r->code != 200 && r->code != 204) {
		send_text(srv, req, r->code, reason_of(r->code),
		    r->body != NULL ? (const char *)r->body : "error");
		return;
	}
	evhttp_add_header(h, "X-Admin-Protocol", PROTO_NAME);
	evhttp_add_header(h, "X-Admin-Session", s->id);
	if (r->code == 204) {
		evhttp_add_header(h, "X-Admin-Result", r->result);
		/* The agent names the card next time (precompute.c). */
		if (s->have_card && card_hint_ok(s->csn))
			evhttp_add_header(h, "X-Admin-Card", s->csn);
		send_now(req, 204, "No Content");
		return;
	}
	evhttp_add_header(h, "Content-Type", CT_CMD);
	evbuffer_add(b, r->body, r->len);
	send_now(req, 200, "OK");
}

static void
sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

/* Keeps a copy of the reply for a repeated (resumed) request. */
static void
remember(struct tsm_session *s, const uint8_t hash[32],
    const struct tsm_reply *r)
{
	tsm_reply_clear(&s->last_reply);
	s->last_reply.code = r->code;
	memcpy(s->last_reply.result, r->result, sizeof(r->result));
	if (r->len > 0 && (s->last_reply.body = malloc(r->len)) != NULL) {
		memcpy(s->last_reply.body, r->body, r->len);
		s->last_reply.len = r->len;
	}
	memcpy(s->last_req, hash, 32);
	s->have_last = 1;
}

static void
end_metrics(struct tsm_server *srv, const struct tsm_session *s)
{
	enum tsm_result_kind k = TSM_RES_DONE;

	if (!s->have_card)
		k = TSM_RES_UNKNOWN_CARD;
	else if (s->failed)
		k = TSM_RES_FAILED;
	atomic_fetch_add(&srv->metrics.sessions_ended[k], 1);
	atomic_fetch_sub(&srv->metrics.sessions_active, 1);
}

/* After a reply: a 204 keeps the session a while for a resumed
 * request, then the sweep frees it; otherwise the agent goes on. */
static void
settle_session(struct tsm_server *srv, struct tsm_session *s,
    const uint8_t hash[32], const struct tsm_reply *r)
{
	if (r->code == 200 || r->code == 204)
		remember(s, hash, r);
	if (r->code == 204 && s->state != TSM_SESS_DONE) {
		s->state = TSM_SESS_DONE;
		gp_scp_free(&s->scp);
	}
	if (r->code == 204 && !s->dead) {
		s->dead = 1;
		end_metrics(srv, s);
	}
	tsm_session_release(&srv->sessions, s);
}

static void
job_run(struct tsm_worker *w, struct tsm_job *j)
{
	struct admin_job *a = j->arg;

	switch (a->kind) {
	case JOB_IDENTIFY:
		tsm_engine_identify(w, a->s, &a->reply);
		break;
	case JOB_RESPONSES:
		tsm_engine_responses(w, a->s, a->body, a->len, a->status,
		    &a->reply);
		break;
	case JOB_ABANDON:
		tsm_engine_abandon(w, a->s);
		break;
	case JOB_PRECOMPUTE:
		tsm_engine_precompute(w, a->s, a->csn, &a->reply);
		break;
	}
}

static void
job_free(struct admin_job *a)
{
	if (a->job.ev != NULL)
		event_free(a->job.ev);
	tsm_reply_clear(&a->reply);
	free(a->body);
	free(a);
}

/* Back on the loop that parked the request. */
static void
job_done(evutil_socket_t fd, short what, void *arg)
{
	struct admin_job *a = arg;
	struct tsm_server *srv = a->loop->srv;

	(void)fd; (void)what;
	atomic_fetch_sub(&srv->metrics.jobs_pending, 1);
	if (a->kind == JOB_ABANDON) {
		tsm_session_free(a->s);
		job_free(a);
		return;
	}
	send_reply(srv, a->req, a->s, &a->reply);
	tsm_metrics_exchange(&srv->metrics, (uint64_t)(now_us() - a->t0_us));
	settle_session(srv, a->s, a->hash, &a->reply);
	job_free(a);
}

static int
submit(struct tsm_loop *l, struct admin_job *a)
{
	a->job.run = job_run;
	a->job.arg = a;
	if ((a->job.ev = event_new(l->base, -1, 0, job_done, a)) == NULL)
		return TSM_ERR_NOMEM;
	a->loop = l;
	atomic_fetch_add(&l->srv->metrics.jobs_pending, 1);
	atomic_fetch_add(&l->srv->metrics.jobs_queued, 1);
	tsm_pool_submit(&l->srv->pool, &a->job);
	return 0;
}

void
tsm_http_abandon(struct tsm_loop *l, struct tsm_session *s)
{
	struct admin_job *a;

	if (!s->dead) {
		atomic_fetch_add(&l->srv->metrics.sessions_ended[
		    TSM_RES_EXPIRED], 1);
		atomic_fetch_sub(&l->srv->metrics.sessions_active, 1);
		tsm_log(TSM_LOG_INFO, "session.expired", "sid=%s agent=%s "
		    "csn=%s", s->id, s->agent, s->csn);
	}
	if (s->state == TSM_SESS_DONE || !s->store_session ||
	    (a = calloc(1, sizeof(*a))) == NULL) {
		tsm_session_free(s);
		return;
	}
	a->kind = JOB_ABANDON;
	a->s = s;
	if (submit(l, a) != 0) {
		tsm_session_free(s);
		free(a);
	}
}

static int
hex32(const char *s)
{
	size_t i;

	if (strlen(s) != TSM_SID_LEN)
		return 0;
	for (i = 0; i < TSM_SID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int
status_ok(const char *v)
{
	static const char *const ok[] = { "ok", "security-error",
	    "unknown-application", "card-removed", "link-error",
	    "unexpected-response" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(v, ok[i]) == 0)
			return 1;
	return 0;
}

/* Certificate, method and protocol headers; 0 or an HTTP error. */
static int
check_request(struct evhttp_request *req, char *agent, size_t alen,
    const char **why)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct bufferevent *bev;
	const char *v;
	int code, one = 1;

	bev = ec != NULL ? evhttp_connection_get_bufferevent(ec) : NULL;
	if (bev == NULL)
		return (*why = "no connection", 400);
	if ((code = tsm_tls_peer(bufferevent_openssl_get_ssl(bev), agent,
	    alen, why)) != 0)
		return code;
	(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one));
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST)
		return (*why = "only POST is served here", 405);
	if ((v = evhttp_find_header(in, "X-Admin-Protocol")) == NULL ||
	    strcmp(v, PROTO_NAME) != 0)
		return (*why = "X-Admin-Protocol must be " PROTO_NAME, 400);
	if ((v = evhttp_find_header(in, "Content-Type")) == NULL ||
	    strcmp(v, CT_RSP) != 0)
		return (*why = "Content-Type must be " CT_RSP, 400);
	if ((v = evhttp_find_header(in, "X-Admin-From")) == NULL ||
	    strncmp(v, FROM_PREFIX, strlen(FROM_PREFIX)) != 0)
		return (*why = "X-Admin-From must be //tsm-agent/<id>", 400);
	if (strcmp(v + strlen(FROM_PREFIX), agent) != 0)
		return (*why = "X-Admin-From does not match the certificate",
		    403);
	return 0;
}

static struct admin_job *
job_new(struct tsm_session *s, struct evhttp_request *req,
    struct evbuffer *in, size_t len, const char *status, int64_t t0)
{
	struct admin_job *a;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->body = malloc(len ? len : 1)) == NULL ||
	    evbuffer_copyout(in, a->body, len) != (ev_ssize_t)len) {
		if (a != NULL)
			free(a->body);
		free(a);
		return NULL;
	}
	a->len = len;
	a->s = s;
	a->req = req;
	a->t0_us = t0;
	snprintf(a->status, sizeof(a->status), "%s", status);
	sha256(a->body, len, a->hash);
	return a;
}

/* The first POST: a new session and its discovery script, or, when the
 * agent names its card, a worker tries to pre-compute the whole job. */
static void
admin_new(struct tsm_loop *l, struct evhttp_request *req, const char *agent,
    size_t len, int64_t t0)
{
	struct tsm_server *srv = l->srv;
	struct tsm_session *s;
	struct tsm_reply r = { 0 };
	struct admin_job *a;
	const char *hint;
	uint8_t hash[32];

	if (len != 0) {
		send_text(srv, req, 400, "Bad Request", "the first POST of a "
		    "session has an empty body");
		return;
	}
	if (atomic_load(&srv->draining)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "5");
		send_text(srv, req, 503, "Service Unavailable",
		    "the server is shutting down");
		return;
	}
	hint = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Admin-Card");
	if (hint != NULL && !card_hint_ok(hint))
		hint = NULL;	/* a hint only: ignored when malformed */
	s = NULL;
	if (tsm_session_new(&srv->sessions, agent, &s) != 0 ||
	    (hint == NULL && tsm_engine_discovery(s, &r) != 0)) {
		if (s != NULL)
			tsm_session_end(&srv->sessions, s);
		tsm_reply_clear(&r);
		send_text(srv, req, 503, "Service Unavailable", "no memory");
		return;
	}
	atomic_fetch_add(&srv->metrics.sessions_started, 1);
	atomic_fetch_add(&srv->metrics.sessions_active, 1);
	s->exchanges = 1;
	s->cmds_max = tsm_http_script_max(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "X-TSM-Script-Max"));
	tsm_log(TSM_LOG_INFO, "session.start", "sid=%s agent=%s card=%s",
	    s->id, agent, hint != NULL ? hint : "-");
	if (hint != NULL) {
		if ((a = job_new(s, req, evhttp_request_get_input_buffer(req),
		    0, "", t0)) != NULL) {
			snprintf(a->csn, sizeof(a->csn), "%s", hint);
			a->kind = JOB_PRECOMPUTE;
			if (submit(l, a) == 0)
				return;
			job_free(a);
		}
		atomic_fetch_sub(&srv->metrics.sessions_active, 1);
		tsm_session_end(&srv->sessions, s);
		send_text(srv, req, 503, "Service Unavailable", "no memory");
		return;
	}
	send_reply(srv, req, s, &r);
	sha256(NULL, 0, hash);
	settle_session(srv, s, hash, &r);
	tsm_reply_clear(&r);
}

/* A later POST of a session. */
static void
admin_continue(struct tsm_loop *l, struct evhttp_request *req,
    const char *agent, const char *sid, size_t len, int64_t t0)
{
	struct tsm_server *srv = l->srv;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct tsm_session *s;
	struct admin_job *a;
	const char *status;
	int r;

	status = evhttp_find_header(in, "X-Admin-Script-Status");
	if (!hex32(sid) || status == NULL || !status_ok(status)) {
		send_text(srv, req, 400, "Bad Request", "X-Admin-Session and "
		    "X-Admin-Script-Status are required and well formed");
		return;
	}
	if ((r = tsm_session_take(&srv->sessions, sid, agent, &s)) != 0) {
		send_text(srv, req, 409, "Conflict", r == TSM_ERR_BUSY ?
		    "session busy" : "unknown or finished session");
		return;
	}
	if ((a = job_new(s, req, evhttp_request_get_input_buffer(req), len,
	    status, t0)) == NULL) {
		tsm_session_release(&srv->sessions, s);
		send_text(srv, req, 503, "Service Unavailable", "no memory");
		return;
	}
	/* A repeated request (resume after a lost reply): same answer. */
	if (s->have_last && memcmp(s->last_req, a->hash, 32) == 0) {
		tsm_log(TSM_LOG_INFO, "session.replay", "sid=%s", s->id);
		send_reply(srv, req, s, &s->last_reply);
		tsm_session_release(&srv->sessions, s);
		job_free(a);
		return;
	}
	s->exchanges++;
	if (s->state == TSM_SESS_DONE) {
		tsm_session_release(&srv->sessions, s);
		job_free(a);
		send_text(srv, req, 409, "Conflict", "session finished");
		return;
	}
	if (s->state == TSM_SESS_DISCOVERY) {
		if (tsm_engine_discovered(s, a->body, a->len, status,
		    &a->reply) != 0) {
			send_reply(srv, req, s, &a->reply);
			settle_session(srv, s, a->hash, &a->reply);
			job_free(a);
			return;
		}
		a->kind = JOB_IDENTIFY;
	} else
		a->kind = JOB_RESPONSES;
	if (submit(l, a) != 0) {
		tsm_session_release(&srv->sessions, s);
		job_free(a);
		send_text(srv, req, 503, "Service Unavailable", "no memory");
	}
}

static void
on_admin(struct tsm_loop *l, struct evhttp_request *req)
{
	struct tsm_server *srv = l->srv;
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const char *why, *sid;
	char agent[65];
	int64_t t0 = now_us();
	size_t len;
	int code;

	if ((code = check_request(req, agent, sizeof(agent), &why)) != 0) {
		if (code == 405)
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", "POST");
		tsm_log(TSM_LOG_INFO, "http.refused", "code=%d why=\"%s\"",
		    code, why);
		send_text(srv, req, code, reason_of(code), why);
		return;
	}
	if ((len = evbuffer_get_length(body)) > srv->cfg.body_max) {
		send_text(srv, req, 413, "Payload Too Large", "body over the "
		    "limit");
		return;
	}
	sid = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Admin-Session");
	if (sid == NULL)
		admin_new(l, req, agent, len, t0);
	else
		admin_continue(l, req, agent, sid, len, t0);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct tsm_loop *l = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;

	if (path != NULL && strcmp(path, ADMIN_PATH) == 0)
		on_admin(l, req);
	else
		send_text(l->srv, req, 404, "Not Found", "no such endpoint");
}

static void
on_metrics(struct evhttp_request *req, void *arg)
{
	struct tsm_loop *l = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;
	int draining = atomic_load(&l->srv->draining);
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	char *txt;
	size_t n;

	if (path != NULL && strcmp(path, "/healthz") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain");
		evbuffer_add_printf(b, "%s\n", draining ? "draining" : "ok");
		evhttp_send_reply(req, draining ? 503 : 200, draining ?
		    "Service Unavailable" : "OK", NULL);
		return;
	}
	if (path == NULL || strcmp(path, "/metrics") != 0 ||
	    (txt = tsm_metrics_render(&l->srv->metrics, draining, &n)) ==
	    NULL) {
		evhttp_send_error(req, 404, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evbuffer_add(b, txt, n);
	free(txt);
	evhttp_send_reply(req, 200, "OK", NULL);
}

static struct evhttp *
new_http(struct tsm_loop *l, int fd, int tls, struct evhttp_bound_socket **bs)
{
	struct evhttp *h;

	if ((h = evhttp_new(l->base)) == NULL)
		return NULL;
	evhttp_set_max_headers_size(h, 16 * 1024);
	evhttp_set_timeout(h, 120);
	if (tls) {
		evhttp_set_bevcb(h, new_bev, l);
		evhttp_set_gencb(h, on_request, l);
		evhttp_set_max_body_size(h, (ev_ssize_t)l->srv->cfg.body_max);
		/* Over the limit: read the body away, then answer 413, so
		 * that the agent sees the answer rather than a reset. */
		evhttp_set_flags(h, EVHTTP_SERVER_LINGERING_CLOSE);
		evhttp_set_allowed_methods(h, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	} else {
		evhttp_set_gencb(h, on_metrics, l);
		evhttp_set_max_body_size(h, 0);
		evhttp_set_allowed_methods(h, EVHTTP_REQ_GET);
	}
	if ((*bs = evhttp_accept_socket_with_handle(h, fd)) == NULL) {
		evhttp_free(h);
		return NULL;
	}
	return h;
}

int
tsm_http_setup(struct tsm_loop *l)
{
	int fd;

	if (ex_conn < 0)
		ex_conn = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    conn_freed);
	if (ex_conn < 0 || (fd = dup(l->srv->lfd)) < 0)
		return TSM_ERR_IO;
	evutil_make_socket_nonblocking(fd);
	if ((l->http = new_http(l, fd, 1, &l->bound)) == NULL) {
		close(fd);
		return TSM_ERR_EVENT;
	}
	if (l->idx == 0 && l->srv->mfd >= 0) {
		if ((fd = dup(l->srv->mfd)) < 0)
			return TSM_ERR_IO;
		if ((l->mhttp = new_http(l, fd, 0, &l->mbound)) == NULL) {
			close(fd);
			return TSM_ERR_EVENT;
		}
	}
	return 0;
}

/* Draining: stop accepting on this loop (its own thread). */
void
tsm_http_stop_accepting(struct tsm_loop *l)
{
	if (l->bound != NULL) {
		evhttp_del_accept_socket(l->http, l->bound);
		l->bound = NULL;
	}
}

void
tsm_http_teardown(struct tsm_loop *l)
{
	if (l->http != NULL)
		evhttp_free(l->http);
	if (l->mhttp != NULL)
		evhttp_free(l->mhttp);
	l->http = l->mhttp = NULL;
	l->bound = l->mbound = NULL;
}
