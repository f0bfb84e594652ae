/*
 * The test agent (client.h): TLS, HTTP/1.1, scripts on a libcardsim card.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "client.h"
#include "gp/apdu.h"
#include "gp/script.h"

#define HDR_MAX		16384
#define BODY_MAX	(2 * 1024 * 1024)
#define CMDS_MAX	512

int
tconn_open(struct tconn *c, int port, const char *certdir,
    const char *cadir, const char *agent, int minv, int maxv)
{
	struct sockaddr_in sa;
	char f[300], k[300];
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->agent, sizeof(c->agent), "%s", agent);
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	if (minv != 0 || maxv != 0) {
		/* Old versions need the old security level to be offered. */
		SSL_CTX_set_security_level(c->ctx, 0);
		SSL_CTX_set_cipher_list(c->ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(c->ctx, minv);
		SSL_CTX_set_max_proto_version(c->ctx, maxv);
	}
	snprintf(f, sizeof(f), "%s/ca.crt", cadir);
	if (SSL_CTX_load_verify_locations(c->ctx, f, NULL) != 1)
		return -1;
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (certdir != NULL) {
		snprintf(f, sizeof(f), "%s/agent.crt", certdir);
		snprintf(k, sizeof(k), "%s/agent.key", certdir);
		if (SSL_CTX_use_certificate_file(c->ctx, f, SSL_FILETYPE_PEM)
		    != 1 || SSL_CTX_use_PrivateKey_file(c->ctx, k,
		    SSL_FILETYPE_PEM) != 1)
			return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set1_host(c->ssl, "127.0.0.1") != 1 ||
	    SSL_connect(c->ssl) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

void
tconn_close(struct tconn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	SSL_CTX_free(c->ctx);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void
trsp_clear(struct trsp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int
write_all(SSL *ssl, const void *p, size_t n)
{
	const uint8_t *b = p;
	int w;

	while (n > 0) {
		if ((w = SSL_write(ssl, b, n > 65536 ? 65536 : (int)n)) <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
header(const char *line, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
		line += n + 1;
		while (*line == ' ')
			line++;
		snprintf(out, cap, "%s", line);
	}
}

/* Reads one response: status line, headers, Content-Length body. */
static int
read_rsp(SSL *ssl, struct trsp *r)
{
	char hdr[HDR_MAX + 1], *line, *save = NULL, clen[32] = "0";
	size_t n = 0, want;
	int k;

	memset(r, 0, sizeof(*r));
	while (n < HDR_MAX) {
		if ((k = SSL_read(ssl, hdr + n, 1)) <= 0)
			return -1;
		n++;
		if (n >= 4 && memcmp(hdr + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (n >= HDR_MAX)
		return -1;
	hdr[n] = '\0';
	if (sscanf(hdr, "HTTP/1.1 %d", &r->code) != 1)
		return -1;
	for (line = strtok_r(hdr, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		header(line, "X-Admin-Session", r->sid, sizeof(r->sid));
		header(line, "X-Admin-Result", r->result, sizeof(r->result));
		header(line, "X-Admin-Protocol", r->proto, sizeof(r->proto));
		header(line, "Content-Type", r->ctype, sizeof(r->ctype));
		header(line, "X-Admin-Card", r->card, sizeof(r->card));
		header(line, "Content-Length", clen, sizeof(clen));
	}
	want = strtoul(clen, NULL, 10);
	if (want > BODY_MAX || (r->body = malloc(want + 1)) == NULL)
		return -1;
	for (n = 0; n < want; n += (size_t)k)
		if ((k = SSL_read(ssl, r->body + n, (int)(want - n))) <= 0)
			return -1;
	r->body[want] = '\0';
	r->len = want;
	return 0;
}

int
tconn_post_raw(struct tconn *c, const char *headers, const uint8_t *body,
    size_t len, struct trsp *r)
{
	char req[4096];

	snprintf(req, sizeof(req), "POST /gp/v1/admin HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n%sContent-Length: %zu\r\n\r\n",
	    headers != NULL ? headers : "", len);
	if (write_all(c->ssl, req, strlen(req)) != 0 ||
	    (len > 0 && write_all(c->ssl, body, len) != 0))
		return -1;
	return read_rsp(c->ssl, r);
}

/* The protocol's request headers (docs/protocol/agent.md, Requests). */
static void
std_headers(const struct tconn *c, const char *hint, const char *sid,
    const char *status, int resume, char *h, size_t cap)
{
	size_t n;

	snprintf(h, cap, "X-Admin-Protocol: "
	    "globalplatform-remote-admin/1.0\r\n"
	    "X-Admin-From: //tsm-agent/%s\r\n"
	    "Content-Type: application/vnd.globalplatform."
	    "card-content-mgt-response;version=1.0\r\n", c->agent);
	n = strlen(h);
	if (hint != NULL)
		snprintf(h + n, cap - n, "X-Admin-Card: %s\r\n", hint);
	n = strlen(h);
	if (sid != NULL)
		snprintf(h + n, cap - n, "X-Admin-Session: %s\r\n"
		    "X-Admin-Script-Status: %s\r\n", sid, status);
	n = strlen(h);
	if (resume)
		snprintf(h + n, cap - n, "X-Admin-Resume: true\r\n");
}

int
tconn_post_hint(struct tconn *c, const char *hint, const char *sid,
    const char *status, int resume, const uint8_t *body, size_t len,
    struct trsp *r)
{
	char h[1024];

	std_headers(c, hint, sid, status, resume, h, sizeof(h));
	return tconn_post_raw(c, h, body, len, r);
}

int
tconn_post(struct tconn *c, const char *sid, const char *status,
    int resume, const uint8_t *body, size_t len, struct trsp *r)
{
	return tconn_post_hint(c, NULL, sid, status, resume, body, len, r);
}

/* One command to the card with the 61xx and 6Cxx rules. */
static int
card_cmd(struct tcard *card, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t *rlen)
{
	uint8_t again[300], gr[8];
	uint16_t sw;
	size_t ne;
	struct gp_wr w;
	int i;

	if (sim_card_transmit(card->sim, cmd, n, rsp, 258, rlen) != 0 ||
	    *rlen < 2)
		return -1;
	for (i = 0; i < 8; i++) {
		sw = (uint16_t)(rsp[*rlen - 2] << 8 | rsp[*rlen - 1]);
		switch (gp_sw_next(sw, &ne)) {
		case GP_SW_DONE:
			return 0;
		case GP_SW_GET_RESPONSE:
			gp_wr_init(&w, gr, sizeof(gr));
			if (gp_apdu_get_response(ne, &w) != 0 ||
			    sim_card_transmit(card->sim, w.p, w.len, rsp, 258,
			    rlen) != 0)
				return -1;
			break;
		case GP_SW_RESEND:
			if (n > sizeof(again) || n < 5)
				return -1;
			memcpy(again, cmd, n);
			again[n - 1] = (uint8_t)ne;
			if (sim_card_transmit(card->sim, again, n, rsp, 258,
			    rlen) != 0)
				return -1;
			break;
		}
	}
	return -1;
}

/*
 * The agent's run (docs/protocol/agent.md, Running a script): every
 * command in order, stopping after a failing SW or after an R-APDU that
 * is not the expected one (DF 20), or when the card is pulled (stop_after)
 * or loses the power (cut).
 */
int
tscript_exec(struct tcard *card, const uint8_t *script, size_t len,
    struct trun *x, uint8_t **out, size_t *outlen)
{
	struct gp_span cmds[CMDS_MAX], expect[CMDS_MAX], raps[CMDS_MAX];
	uint8_t (*rsp)[260];
	struct gp_script_rsp sr;
	struct gp_wr w;
	size_t n = 0, i, rl;
	uint16_t sw;
	int stop_after = x->stop_after, r = -1;

	x->status = "ok";
	x->ran = 0;
	x->ncmds = 0;
	x->expects = 0;
	x->mismatch = -1;
	if (gp_script_decode_x(script, len, cmds, expect, CMDS_MAX, &n) != 0 ||
	    (rsp = calloc(CMDS_MAX, sizeof(*rsp))) == NULL)
		return -1;
	x->ncmds = n;
	for (i = 0; i < n; i++)
		x->expects += expect[i].len > 0;
	memset(&sr, 0, sizeof(sr));
	sr.rapdus = raps;
	sr.cap = CMDS_MAX;
	sr.bad_format = -1;
	if (stop_after < 0)	/* counted from the end of the script */
		stop_after = (int)n + stop_after;
	for (i = 0; i < n; i++) {
		if (stop_after > 0 && (int)i == stop_after) {
			x->status = "card-removed";
			break;
		}
		if (x->cut >= 0 && (size_t)x->cut == i) {
			/* The power goes while the card runs this one. */
			sim_card_tear(card->sim, 1, x->cut_mode);
			if (sim_card_transmit(card->sim, cmds[i].p, cmds[i].len,
			    rsp[i], 258, &rl) != SIM_ERR_TORN)
				goto out;
			x->status = "card-removed";
			break;
		}
		if (card_cmd(card, cmds[i].p, cmds[i].len, rsp[i], &rl) != 0)
			goto out;
		x->ran++;
		raps[sr.n].p = rsp[i];
		raps[sr.n].len = rl;
		sr.n++;
		if (expect[i].len > 0 && (expect[i].len != rl ||
		    memcmp(expect[i].p, rsp[i], rl) != 0)) {
			/* Not the card the script was computed for. */
			x->status = "unexpected-response";
			x->mismatch = (int)i;
			break;
		}
		sw = (uint16_t)(rsp[i][rl - 2] << 8 | rsp[i][rl - 1]);
		if (sw != 0x9000 && !gp_sw_warning(sw))
			break;
	}
	sr.executed = (unsigned)sr.n;
	gp_wr_init_dyn(&w, BODY_MAX);
	if (gp_script_rsp_encode(&sr, &w) != 0) {
		gp_wr_free(&w);
		goto out;
	}
	*out = gp_wr_steal(&w, outlen);
	r = 0;
 out:
	free(rsp);
	return r;
}

int
tscript_run(struct tcard *card, const uint8_t *script, size_t len,
    int stop_after, uint8_t **out, size_t *outlen, const char **status,
    int *ran)
{
	struct trun x;
	int r;

	memset(&x, 0, sizeof(x));
	x.stop_after = stop_after;
	x.cut = -1;
	r = tscript_exec(card, script, len, &x, out, outlen);
	*status = x.status;
	*ran = x.ran;
	return r;
}

/* Keeps what script k (0-based) did, when there is room. */
static void
keep_run(const struct trun *x, int k, size_t *ncmds, size_t *expects,
    int *ran, const char **statuses)
{
	if (k < 0 || k >= TSESS_SCRIPTS)
		return;
	ncmds[k] = x->ncmds;
	expects[k] = x->expects;
	ran[k] = x->ran;
	statuses[k] = x->status;
}

int
tsession_run(struct tconn *c, struct tcard *card, struct tsess *s)
{
	struct trsp r;
	struct trun x;
	uint8_t *body = NULL;
	size_t blen = 0;
	int rc = -1;

	s->exchanges = 0;
	s->result[0] = s->sid[0] = s->card[0] = '\0';
	s->commands = 0;
	s->scripts = 0;
	memset(s->ncmds, 0, sizeof(s->ncmds));
	memset(s->expects, 0, sizeof(s->expects));
	memset(s->ran, 0, sizeof(s->ran));
	memset(s->statuses, 0, sizeof(s->statuses));
	if (sim_card_reset(card->sim) != 0 ||
	    tconn_post_hint(c, s->hint, NULL, NULL, 0, NULL, 0, &r) != 0)
		return -1;
	for (;;) {
		s->exchanges++;
		if (r.code == 204) {
			snprintf(s->result, sizeof(s->result), "%s", r.result);
			snprintf(s->card, sizeof(s->card), "%s", r.card);
			rc = 0;
			break;
		}
		if (r.code != 200 || r.sid[0] == '\0')
			break;
		snprintf(s->sid, sizeof(s->sid), "%s", r.sid);
		memset(&x, 0, sizeof(x));
		x.stop_after = s->exchanges == 2 ? s->stop_after : 0;
		x.cut = -1;
		free(body);
		body = NULL;
		if (tscript_exec(card, r.body, r.len, &x, &body, &blen) != 0)
			break;
		keep_run(&x, s->scripts, s->ncmds, s->expects, s->ran,
		    s->statuses);
		s->scripts++;
		s->commands += x.ran;
		if (s->exchanges == 2 && s->drop_job) {
			rc = 0;	/* the responses are lost with the link */
			break;
		}
		trsp_clear(&r);
		if (tconn_post(c, s->sid, x.status, 0, body, blen, &r) != 0)
			break;
	}
	trsp_clear(&r);
	free(body);
	return rc;
}

void
tconn_agent(struct tconn *c, const struct tsmd_env *e, const char *id)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/%s", e->dir, id);
	assert_int_equal(tconn_open(c, e->port, dir, dir, id, 0, 0), 0);
}

void
tsession_expect(struct tconn *c, struct tcard *card, int exchanges,
    const char *result)
{
	struct tsess s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(tsession_run(c, card, &s), 0);
	assert_string_equal(s.result, result);
	assert_int_equal(s.exchanges, exchanges);
}

/* ---- Faults: split POSTs, dropped links, power cuts, step by step ---- */

int
tconn_send_hint(struct tconn *c, const char *hint, const char *sid,
    const char *status, int resume, const uint8_t *body, size_t len)
{
	char h[1024], req[4096];

	if (c->ssl == NULL)
		return -1;
	std_headers(c, hint, sid, status, resume, h, sizeof(h));
	snprintf(req, sizeof(req), "POST /gp/v1/admin HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n%sContent-Length: %zu\r\n\r\n", h, len);
	if (write_all(c->ssl, req, strlen(req)) != 0 ||
	    (len > 0 && write_all(c->ssl, body, len) != 0))
		return -1;
	return 0;
}

int
tconn_send(struct tconn *c, const char *sid, const char *status,
    int resume, const uint8_t *body, size_t len)
{
	return tconn_send_hint(c, NULL, sid, status, resume, body, len);
}

int
tconn_recv(struct tconn *c, struct trsp *r)
{
	if (c->ssl == NULL) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return read_rsp(c->ssl, r);
}

/* Application data, not a TLS 1.3 ticket: peeked without blocking. */
int
tconn_wait_reply(struct tconn *c, int ms)
{
	struct pollfd p = { c->fd, POLLIN, 0 };
	char b;
	int fl, k, i;

	if (c->ssl == NULL)
		return -1;
	if ((fl = fcntl(c->fd, F_GETFL)) < 0 ||
	    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	for (i = 0, k = 0; i < ms / 10 + 1; i++) {
		if ((k = SSL_peek(c->ssl, &b, 1)) > 0)
			break;
		ERR_clear_error();
		if (SSL_get_error(c->ssl, k) != SSL_ERROR_WANT_READ)
			break;
		(void)poll(&p, 1, 10);
	}
	(void)fcntl(c->fd, F_SETFL, fl);
	return k > 0 ? 0 : -1;
}

void
tconn_drop(struct tconn *c)
{
	struct linger l = { 1, 0 };

	if (c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	if (c->ssl != NULL) {
		SSL_set_quiet_shutdown(c->ssl, 1);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);	/* RST: whatever was in flight is lost */
	SSL_CTX_free(c->ctx);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int
tscript_run_cut(struct tcard *card, const uint8_t *script, size_t len,
    int cut, int mode, uint8_t **out, size_t *outlen, const char **status,
    int *ran, size_t *ncmds)
{
	struct trun x;
	int r;

	memset(&x, 0, sizeof(x));
	x.cut = cut;
	x.cut_mode = mode;
	r = tscript_exec(card, script, len, &x, out, outlen);
	*status = x.status;
	*ran = x.ran;
	*ncmds = x.ncmds;
	return r;
}

int
tstep_init(struct tstep *st, struct tcard *card)
{
	memset(st, 0, sizeof(*st));
	st->card = card;
	st->cut_index = -1;
	st->cut_mode = SIM_TEAR_AFTER;
	return sim_card_reset(card->sim) == 0 ? 0 : -1;
}

int
tstep_send(struct tconn *c, struct tstep *st, int resume)
{
	if (st->done)
		return -1;
	if (st->exchanges == 0)
		return tconn_send_hint(c, st->hint, NULL, NULL, resume, NULL,
		    0);
	return tconn_send(c, st->sid, st->status, resume, st->body, st->blen);
}

int
tstep_recv(struct tconn *c, struct tstep *st)
{
	struct trsp r;
	struct trun x;
	uint8_t *body = NULL;
	size_t blen = 0;
	int rc = -1;

	if (tconn_recv(c, &r) != 0)
		goto out;
	st->code = r.code;
	if (r.code != 200 && r.code != 204)
		goto out;	/* an error: nothing pending changes */
	st->exchanges++;
	if (r.sid[0] != '\0')
		snprintf(st->sid, sizeof(st->sid), "%s", r.sid);
	if (r.code == 204) {
		st->done = 1;
		snprintf(st->result, sizeof(st->result), "%s", r.result);
		snprintf(st->csn, sizeof(st->csn), "%s", r.card);
		rc = 0;
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.cut = st->cut_script == st->scripts + 1 ? st->cut_index : -1;
	x.cut_mode = st->cut_mode;
	if (tscript_exec(st->card, r.body, r.len, &x, &body, &blen) != 0)
		goto out;
	st->status = x.status;
	keep_run(&x, st->scripts, st->ncmds, st->expects, st->ran,
	    st->statuses);
	st->scripts++;
	st->cut |= strcmp(st->status, "card-removed") == 0;
	free(st->body);
	st->body = body;
	st->blen = blen;
	rc = 0;
 out:
	trsp_clear(&r);
	return rc;
}

int
tstep_finish(struct tconn *c, struct tstep *st)
{
	int i;

	for (i = 0; i < 16 && !st->done; i++)
		if (tstep_send(c, st, 0) != 0 || tstep_recv(c, st) != 0)
			return -1;
	return st->done ? 0 : -1;
}

void
tstep_free(struct tstep *st)
{
	free(st->body);
	st->body = NULL;
	st->blen = 0;
}
