/*
 * The agent object and the session loop: POST (empty at first), run the
 * script the TSM answers with, POST the responses, until 204. A dropped
 * link is resumed: reconnect after a back-off and send the same body
 * again with X-Admin-Resume: true. The CSN a 204 names (X-Admin-Card) is
 * kept and offered on the next session's first POST.
 */
#include <sys/random.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"

struct sess {
	char		 id[AGENT_SESSION_MAX + 1];
	const char	*status;	/* X-Admin-Script-Status, NULL first */
	struct gp_wr	 req;		/* the HTTP request */
	struct gp_wr	 rbuf;		/* the HTTP response */
	struct gp_wr	 body;		/* our response script */
};

void
agent_logf(const struct agent *a, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (a->cfg.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->cfg.log(a->cfg.arg, level, msg);
}

static void
sleep_ms(const struct agent *a, unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	if (a->cfg.sleep_ms != NULL)
		a->cfg.sleep_ms(a->cfg.arg, ms);
	else
		while (nanosleep(&ts, &ts) != 0)
			;
}

/* Copied: the caller's string need not outlive agent_new. */
static int
card_hint_preset(struct agent *a, const char *csn)
{
	a->cfg.card_hint = NULL;
	if (csn == NULL)
		return 0;
	if (!agent_csn_ok(csn, strlen(csn)))
		return AGENT_ERR_CONFIG;
	if (!a->cfg.no_card_hint)
		memcpy(a->card_hint, csn, AGENT_CSN_LEN + 1);
	return 0;
}

int
agent_new(const struct agent_config *cfg, struct agent **out)
{
	struct agent *a;
	int r;

	*out = NULL;
	if (cfg == NULL || cfg->server == NULL || cfg->cert == NULL ||
	    cfg->key == NULL || cfg->ca == NULL)
		return AGENT_ERR_INVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return AGENT_ERR_NOMEM;
	a->cfg = *cfg;
	a->conn.fd = -1;
	if (a->cfg.io_timeout_ms <= 0)
		a->cfg.io_timeout_ms = 30000;
	if (a->cfg.retries == 0)
		a->cfg.retries = 5;
	if (a->cfg.backoff_ms == 0)
		a->cfg.backoff_ms = 250;
	if (a->cfg.backoff_max_ms < a->cfg.backoff_ms)
		a->cfg.backoff_max_ms = a->cfg.backoff_ms > 8000 ?
		    a->cfg.backoff_ms : 8000;
	if ((r = card_hint_preset(a, cfg->card_hint)) != 0 ||
	    (r = agent_url_parse(cfg->server, &a->url)) != 0 ||
	    (r = agent_tls_new(cfg, &a->conn.tls)) != 0 ||
	    (r = agent_cert_cn(cfg->cert, a->id, sizeof(a->id))) != 0) {
		agent_free(a);
		return r;
	}
	*out = a;
	return 0;
}

void
agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	agent_conn_close(&a->conn);
	agent_tls_free(a->conn.tls);
	free(a);
}

const char *
agent_id(const struct agent *a)
{
	return a->id;
}

const char *
agent_card_hint(const struct agent *a)
{
	return a->card_hint[0] != '\0' ? a->card_hint : NULL;
}

static int
put_str(struct gp_wr *w, const char *s)
{
	return gp_wr_put(w, s, strlen(s));
}

static int
build_request(const struct agent *a, const struct sess *s, int resume,
    struct gp_wr *w)
{
	char head[1024];
	int n, v6 = strchr(a->url.host, ':') != NULL;

	n = snprintf(head, sizeof(head),
	    "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n"
	    "X-Admin-Protocol: " AGENT_PROTOCOL "\r\n"
	    "X-Admin-From: //tsm-agent/%s\r\n"
	    "Content-Type: " AGENT_CT_REQUEST "\r\n"
	    "Accept: " AGENT_CT_RESPONSE "\r\n"
	    "X-TSM-Script-Max: %d\r\n"
	    "Content-Length: %zu\r\n",
	    a->url.path, v6 ? "[" : "", a->url.host, v6 ? "]" : "",
	    strcmp(a->url.port, "443") != 0 ? ":" : "",
	    strcmp(a->url.port, "443") != 0 ? a->url.port : "",
	    a->id, AGENT_SCRIPT_MAX, s->body.len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return AGENT_ERR_INVAL;
	gp_wr_reset(w);
	if (put_str(w, head) != 0 ||
	    (s->id[0] == '\0' && a->card_hint[0] != '\0' &&
	    (put_str(w, "X-Admin-Card: ") != 0 ||
	    put_str(w, a->card_hint) != 0 || put_str(w, "\r\n") != 0)) ||
	    (s->id[0] != '\0' && (put_str(w, "X-Admin-Session: ") != 0 ||
	    put_str(w, s->id) != 0 ||
	    put_str(w, "\r\nX-Admin-Script-Status: ") != 0 ||
	    put_str(w, s->status != NULL ? s->status : "ok") != 0 ||
	    put_str(w, "\r\n") != 0)) ||
	    (resume && s->id[0] != '\0' &&
	    put_str(w, "X-Admin-Resume: true\r\n") != 0) ||
	    put_str(w, "\r\n") != 0 ||
	    gp_wr_put(w, s->body.p, s->body.len) != 0)
		return AGENT_ERR_NOMEM;
	return 0;
}

/* One try on the current or a new connection. */
static int
post_once(struct agent *a, struct sess *s, struct agent_http_rsp *rsp,
    int *reused)
{
	int r;

	*reused = a->conn.ssl != NULL;
	if (!*reused) {
		if ((r = agent_conn_open(&a->conn, &a->url,
		    a->cfg.io_timeout_ms)) != 0)
			return r;
		agent_logf(a, AGENT_LOG_DEBUG, "connected: %s, %s",
		    agent_tls_resumed(a->conn.ssl) ? "TLS session resumed" :
		    "full TLS handshake", agent_tls_library());
	}
	if ((r = agent_conn_write(&a->conn, s->req.p, s->req.len)) != 0 ||
	    (r = agent_conn_read(&a->conn, &s->rbuf, rsp)) != 0)
		agent_conn_close(&a->conn);
	return r;
}

/*
 * Sends s->body until a response comes, resuming after link drops. A
 * kept-alive connection the server closed while it was idle between
 * sessions is retried at once; every other drop waits for the back-off.
 */
static int
post(struct agent *a, struct sess *s, struct agent_http_rsp *rsp,
    struct agent_outcome *o)
{
	unsigned attempt = 0, ms;
	uint32_t rnd = 0;
	int r, reused, resume = 0;
	/* Only a session's first POST can meet a connection that went
	 * stale while idle; later ones follow an answer at once. */
	int stale_ok = s->id[0] == '\0';

	for (;;) {
		if ((r = build_request(a, s, resume, &s->req)) != 0)
			return r;
		if ((r = post_once(a, s, rsp, &reused)) == 0)
			return 0;
		if (r != AGENT_ERR_LINK && r != AGENT_ERR_CONNECT)
			return r;
		agent_logf(a, AGENT_LOG_INFO, "link: %s%s",
		    agent_strerror(r), reused ? " (kept-alive)" : "");
		if (!(reused && stale_ok)) {
			if (attempt >= a->cfg.retries)
				return r;
			/* Jitter only: without entropy yet, an LCG step will do. */
			if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) !=
			    (ssize_t)sizeof(rnd))
				rnd = rnd * 1103515245u + 12345u;
			ms = agent_backoff_ms(a->cfg.backoff_ms,
			    a->cfg.backoff_max_ms, attempt++, rnd);
			agent_logf(a, AGENT_LOG_INFO, "retry in %u ms", ms);
			sleep_ms(a, ms);
		}
		stale_ok = 0;
		if (s->id[0] != '\0') {
			resume = 1;
			o->resumes++;
		}
	}
}

static int
status_err(int status)
{
	switch (status) {
	case 400:
		return AGENT_ERR_PROTOCOL;
	case 401:
	case 403:
		return AGENT_ERR_REFUSED;
	case 409:
		return AGENT_ERR_SESSION;
	}
	return AGENT_ERR_SERVER;
}

/* A 200 must carry the protocol, the media type and one session id. */
static int
check_script_rsp(struct sess *s, const struct agent_http_rsp *rsp)
{
	if (!rsp->proto_ok || !rsp->ctype_ok || rsp->session[0] == '\0')
		return AGENT_ERR_PROTOCOL;
	if (s->id[0] == '\0')
		memcpy(s->id, rsp->session, sizeof(s->id));
	else if (strcmp(s->id, rsp->session) != 0)
		return AGENT_ERR_PROTOCOL;
	return 0;
}

static void
finish(struct agent_outcome *o, int err, const char *said)
{
	o->err = err;
	snprintf(o->message, sizeof(o->message), "%s",
	    err == 0 && said != NULL && said[0] != '\0' ? said :
	    agent_message(err));
}

/* The TSM's word on which card this was: only a 204 may give it. */
static void
keep_card_hint(struct agent *a, const struct agent_http_rsp *rsp)
{
	if (a->cfg.no_card_hint || rsp->card[0] == '\0')
		return;
	memcpy(a->card_hint, rsp->card, sizeof(a->card_hint));
	agent_logf(a, AGENT_LOG_DEBUG, "card hint kept for the next session");
}

static int
exchanges(struct agent *a, const struct agent_card *card, struct sess *s,
    struct agent_outcome *o)
{
	struct agent_http_rsp rsp;
	struct agent_exec ex;
	int r, card_err = 0;

	for (;;) {
		if (o->exchanges >= AGENT_EXCHANGES_MAX)
			return AGENT_ERR_PROTOCOL;
		if ((r = post(a, s, &rsp, o)) != 0)
			return r;
		o->exchanges++;
		o->http_status = rsp.status;
		agent_logf(a, AGENT_LOG_DEBUG, "exchange %u: HTTP %d, %zu "
		    "bytes", o->exchanges, rsp.status, rsp.body_len);
		if (rsp.status == 204) {
			keep_card_hint(a, &rsp);
			finish(o, card_err, rsp.result);
			return card_err;
		}
		if (rsp.status != 200)
			return status_err(rsp.status);
		if ((r = check_script_rsp(s, &rsp)) != 0)
			return r;
		if (card_err != 0)	/* a new script, but no card to run it */
			return card_err;
		if ((r = agent_exec_script(card, rsp.body, rsp.body_len,
		    &s->body, &ex)) != 0)
			return r;
		o->commands += ex.executed;
		s->status = agent_script_status_name(ex.status);
		card_err = ex.card_err;
		agent_logf(a, AGENT_LOG_DEBUG, "script: %u command(s), last "
		    "SW %04X, %s", ex.executed, ex.last_sw, s->status);
	}
}

int
agent_session(struct agent *a, const struct agent_card *card,
    struct agent_outcome *o)
{
	struct sess s;
	int r;

	memset(o, 0, sizeof(*o));
	memset(&s, 0, sizeof(s));
	gp_wr_init_dyn(&s.req, AGENT_BODY_MAX + 2048);
	gp_wr_init_dyn(&s.rbuf, AGENT_HEAD_MAX + AGENT_BODY_MAX);
	gp_wr_init_dyn(&s.body, AGENT_BODY_MAX);
	if (card == NULL || card->ops == NULL)
		r = AGENT_ERR_INVAL;
	else if ((r = card->ops->open(card->ctx)) == 0) {
		r = exchanges(a, card, &s, o);
		card->ops->close(card->ctx);
	}
	if (r != 0 || o->message[0] == '\0')
		finish(o, r, NULL);
	agent_logf(a, r == 0 ? AGENT_LOG_INFO : AGENT_LOG_ERROR,
	    "session %s: %s after %u exchange(s), %u command(s), %u "
	    "resume(s)", s.id[0] != '\0' ? s.id : "-", agent_strerror(r),
	    o->exchanges, o->commands, o->resumes);
	gp_wr_free(&s.req);
	gp_wr_free(&s.rbuf);
	gp_wr_free(&s.body);
	return r;
}

int
agent_serve_card(struct agent *a, const struct agent_card *card,
    int timeout_ms, struct agent_outcome *o)
{
	int r;

	memset(o, 0, sizeof(*o));
	if (card == NULL || card->ops == NULL)
		return AGENT_ERR_INVAL;
	if ((r = card->ops->present(card->ctx, timeout_ms)) <= 0) {
		finish(o, r == 0 ? AGENT_ERR_TIMEOUT : r, NULL);
		return o->err;
	}
	return agent_session(a, card, o);
}
