/*
 * Whole sessions against the mock tsmd (mocksrv.c) over real TLS on
 * loopback, with the card-link stub: the contract's headers and bodies,
 * the stop rule, card removal, keep-alive, resume after a dropped link
 * with the same body, the back-off schedule, certificates from the wrong
 * CA or for another host (by IP address and by name), TLS 1.1, hostile
 * responses, and the card hint (X-Admin-Card) kept from one session's 204
 * for the next session's first POST. Built once per TLS library of
 * libtsmagent (OpenSSL, wolfSSL); the mock server is OpenSSL in both.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "agent_int.h"
#include "cardstub.h"
#include "gp/buf.h"
#include "mocksrv.h"

#define SCRIPT1	"AA16" "220D00A4040008A000000151000000" "220580CA9F7F00"
#define SCRIPT2	"AA15" "220580CA006600" "220580CA9F7F00" "220580CA006600"
#define RSP1	"AB11800102" "23046F009000" "23069F7F01AA9000"
#define RSP2	"AB17800103" "230466009000" "23069F7F01AA9000" "230466009000"
#define RESULT	"Your card is ready: the transit app is installed."

static char pki[64];

/* The mock tsmd's behaviour for one test. */
struct tsmd {
	int		 step;		/* replies given in the session */
	unsigned	 sessions;
	unsigned	 drop_at;	/* request index + 1 to drop, 0 none */
	int		 drop_all;	/* drop every request of a session */
	int		 close_after_204;
	const char	*raw;		/* answer the first POST with this */
	int		 status;	/* answer the first POST with this */
	const char	*card[4];	/* X-Admin-Card lines of each 204 */
	struct mock_reply last;
};

struct sleeps {
	unsigned	 n;
	unsigned	 ms[16];
};

static void
hex_body(struct mock_reply *o, const char *hex)
{
	assert_int_equal(gp_hex_decode(hex, o->body, sizeof(o->body),
	    &o->body_len), 0);
}

static void
tsmd_handler(void *arg, const struct mock_req *q, unsigned idx,
    struct mock_reply *o)
{
	struct tsmd *t = arg;
	char v[64];

	if (mock_header(q, "X-Admin-Resume", v, sizeof(v)) == 0) {
		*o = t->last;		/* replay the lost answer */
		if (t->drop_all)
			o->action = MOCK_DROP;
		return;
	}
	if (t->raw != NULL) {
		o->action = MOCK_RAW;
		o->raw = (const uint8_t *)t->raw;
		o->raw_len = strlen(t->raw);
		return;
	}
	if (t->status != 0) {
		o->status = t->status;
		return;
	}
	if (q->body_len == 0) {
		t->step = 0;
		t->sessions++;
	}
	o->status = 200;
	snprintf(o->session, sizeof(o->session), "S%u", t->sessions);
	if (t->step == 0)
		hex_body(o, SCRIPT1);
	else if (t->step == 1)
		hex_body(o, SCRIPT2);
	else {
		o->status = 204;
		o->session[0] = '\0';
		strcpy(o->result, RESULT);
		if (t->sessions <= 4 && t->card[t->sessions - 1] != NULL)
			snprintf(o->headers, sizeof(o->headers), "%s",
			    t->card[t->sessions - 1]);
		o->close_after = t->close_after_204;
	}
	t->step++;
	t->last = *o;
	if (t->drop_at == idx + 1 || (t->drop_all && q->body_len > 0))
		o->action = MOCK_DROP;
}

static void
rec_sleep(void *arg, unsigned ms)
{
	struct sleeps *s = arg;

	if (s->n < 16)
		s->ms[s->n++] = ms;
}

struct fx {
	struct tsmd	 t;
	struct mocksrv	*m;
	struct agent	*a;
	struct cardstub	 stub;
	struct agent_card card;
	struct sleeps	 sl;
	struct agent_outcome o;
	int		 port;
	const char	*host;		/* the URL's host, 127.0.0.1 if NULL */
	int		 ipv6;		/* the mock listens on [::1] */
	const char	*hint;		/* agent_config.card_hint */
	int		 no_hint;	/* agent_config.no_card_hint */
};

static int
fx_start(struct fx *f, const char *cert, int maxver)
{
	struct mock_opts mo = { .dir = pki, .cert = cert,
	    .max_version = maxver, .ipv6 = f->ipv6 };
	char url[64], crt[128], key[128], ca[128];
	struct agent_config c = { 0 };

	assert_int_equal(mock_start(&mo, tsmd_handler, &f->t, &f->m,
	    &f->port), 0);
	if (f->ipv6)
		snprintf(url, sizeof(url), "https://[%s]:%d", f->host,
		    f->port);
	else
		snprintf(url, sizeof(url), "https://%s:%d",
		    f->host != NULL ? f->host : "127.0.0.1", f->port);
	snprintf(crt, sizeof(crt), "%s/agent.crt", pki);
	snprintf(key, sizeof(key), "%s/agent.key", pki);
	snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
	c.server = url;
	c.cert = crt;
	c.key = key;
	c.ca = ca;
	c.io_timeout_ms = 5000;
	c.retries = 4;
	c.backoff_ms = 100;
	c.backoff_max_ms = 1600;
	c.sleep_ms = rec_sleep;
	c.arg = &f->sl;
	c.card_hint = f->hint;
	c.no_card_hint = f->no_hint;
	assert_int_equal(agent_new(&c, &f->a), 0);
	f->stub.rules[0] = (struct stub_rule){ "00A404", "6F009000", 0 };
	f->stub.rules[1] = (struct stub_rule){ "80CA9F7F", "9F7F01AA9000", 0 };
	f->stub.rules[2] = (struct stub_rule){ "80CA0066", "66009000", 0 };
	stub_card(&f->stub, &f->card);
	return 0;
}

static void
fx_stop(struct fx *f)
{
	agent_free(f->a);
	mock_stop(f->m);
}

static void
assert_hdr(const struct mock_req *q, const char *name, const char *want)
{
	char v[256];

	assert_int_equal(mock_header(q, name, v, sizeof(v)), 0);
	assert_string_equal(v, want);
}

static void
assert_no_hdr(const struct mock_req *q, const char *name)
{
	char v[256];

	assert_int_equal(mock_header(q, name, v, sizeof(v)), -1);
}

static void
assert_body(const struct mock_req *q, const char *hex)
{
	char got[1024];

	assert_true(q->body_len * 2 < sizeof(got));
	gp_hex_encode(q->body, q->body_len, got);
	assert_string_equal(got, hex);
}

static void
test_contract(void **st)
{
	struct fx f;
	const struct mock_req *q;
	char host[64];
	int one = 0;
	socklen_t ol = sizeof(one);

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	assert_int_equal(f.o.exchanges, 3);
	assert_int_equal(f.o.commands, 5);
	assert_int_equal(f.o.resumes, 0);
	assert_string_equal(f.o.message, RESULT);
	assert_int_equal(f.stub.opened, 1);
	assert_int_equal(f.stub.closed, 1);
	/* TCP_NODELAY on the agent's socket, kept alive. */
	assert_true(f.a->conn.fd >= 0);
	assert_int_equal(getsockopt(f.a->conn.fd, IPPROTO_TCP, TCP_NODELAY,
	    &one, &ol), 0);
	assert_int_equal(one, 1);
	/* A second session on the same connection. */
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	fx_stop(&f);

	assert_int_equal(mock_nreq(f.m), 6);
	assert_int_equal(mock_nconn(f.m), 1);
	snprintf(host, sizeof(host), "127.0.0.1:%d", f.port);
	q = mock_get(f.m, 0);
	assert_memory_equal(q->head, "POST /gp/v1/admin HTTP/1.1\r\n", 28);
	assert_hdr(q, "Host", host);
	assert_hdr(q, "X-Admin-Protocol", "globalplatform-remote-admin/1.0");
	assert_hdr(q, "X-Admin-From", "//tsm-agent/agent-0001");
	assert_hdr(q, "Content-Type", "application/vnd.globalplatform."
	    "card-content-mgt-response;version=1.0");
	assert_hdr(q, "Content-Length", "0");
	assert_no_hdr(q, "X-Admin-Session");
	assert_no_hdr(q, "X-Admin-Script-Status");
	assert_no_hdr(q, "X-Admin-Resume");
	assert_int_equal(q->body_len, 0);
	q = mock_get(f.m, 1);
	assert_hdr(q, "X-Admin-Session", "S1");
	assert_hdr(q, "X-Admin-Script-Status", "ok");
	assert_no_hdr(q, "X-Admin-Resume");
	assert_body(q, RSP1);
	q = mock_get(f.m, 2);
	assert_hdr(q, "X-Admin-Session", "S1");
	assert_body(q, RSP2);
	q = mock_get(f.m, 4);
	assert_hdr(q, "X-Admin-Session", "S2");
	assert_int_equal(f.stub.ntx, 10);
	assert_string_equal(f.stub.log[0], "00A4040008A000000151000000");
	assert_string_equal(f.stub.log[1], "80CA9F7F00");
	assert_string_equal(f.stub.log[2], "80CA006600");
	assert_int_equal(f.sl.n, 0);
	mock_free(f.m);
}

static void
test_stop_count(void **st)
{
	struct fx f;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	/* Second script: GET CRD ok, GET CPLC 6A88: stop, 2 executed. */
	f.stub.rules[1] = (struct stub_rule){ "80CA9F7F", "9F7F01AA9000", 1 };
	f.stub.rules[3] = (struct stub_rule){ "80CA9F7F", "6A88", 0 };
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	fx_stop(&f);
	assert_int_equal(f.o.commands, 4);
	assert_body(mock_get(f.m, 2), "AB0D800102" "230466009000" "23026A88");
	assert_hdr(mock_get(f.m, 2), "X-Admin-Script-Status", "ok");
	assert_int_equal(f.stub.ntx, 4);
	mock_free(f.m);
}

static void
test_card_removed(void **st)
{
	struct fx f;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	f.stub.remove_at = 4;	/* second command of the second script */
	assert_int_equal(agent_session(f.a, &f.card, &f.o),
	    AGENT_ERR_CARD_REMOVED);
	fx_stop(&f);
	assert_int_equal(f.o.err, AGENT_ERR_CARD_REMOVED);
	assert_int_equal(f.o.exchanges, 3);
	assert_string_equal(f.o.message,
	    agent_message(AGENT_ERR_CARD_REMOVED));
	assert_hdr(mock_get(f.m, 2), "X-Admin-Script-Status", "card-removed");
	assert_body(mock_get(f.m, 2), "AB09800101" "230466009000");
	assert_int_equal(f.stub.closed, 1);
	mock_free(f.m);
}

static void
test_resume(void **st)
{
	struct fx f;
	const struct mock_req *a, *b;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	f.t.drop_at = 2;	/* the answer to the second POST is lost */
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	fx_stop(&f);
	assert_int_equal(f.o.resumes, 1);
	assert_int_equal(f.o.exchanges, 3);
	assert_int_equal(mock_nreq(f.m), 4);
	assert_int_equal(mock_nconn(f.m), 2);
	a = mock_get(f.m, 1);
	b = mock_get(f.m, 2);
	assert_no_hdr(a, "X-Admin-Resume");
	assert_hdr(b, "X-Admin-Resume", "true");
	assert_hdr(b, "X-Admin-Session", "S1");
	assert_hdr(b, "X-Admin-Script-Status", "ok");
	assert_int_equal(a->body_len, b->body_len);
	assert_memory_equal(a->body, b->body, a->body_len);
	assert_int_equal(b->conn, 2);
	/* One back-off, within [100/2, 100] ms; the script ran once. */
	assert_int_equal(f.sl.n, 1);
	assert_true(f.sl.ms[0] >= 50 && f.sl.ms[0] <= 100);
	assert_int_equal(f.stub.ntx, 5);
	assert_no_hdr(mock_get(f.m, 3), "X-Admin-Resume");
	mock_free(f.m);
}

static void
test_backoff_give_up(void **st)
{
	struct fx f;
	unsigned i, nom;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	f.t.drop_all = 1;
	assert_int_equal(agent_session(f.a, &f.card, &f.o), AGENT_ERR_LINK);
	fx_stop(&f);
	assert_non_null(strstr(f.o.message, "could not reach"));
	/* 4 retries: 100, 200, 400, 800 nominal, each in [n/2, n]. */
	assert_int_equal(f.sl.n, 4);
	for (i = 0, nom = 100; i < 4; i++, nom *= 2) {
		print_message("sleep %u: %u ms\n", i, f.sl.ms[i]);
		assert_true(f.sl.ms[i] >= nom / 2 && f.sl.ms[i] <= nom);
	}
	assert_int_equal(mock_nreq(f.m), 6);	/* first + 1 + 4 resumes */
	for (i = 2; i < 6; i++) {
		assert_hdr(mock_get(f.m, i), "X-Admin-Resume", "true");
		assert_body(mock_get(f.m, i), RSP1);
	}
	assert_int_equal(f.o.resumes, 4);
	mock_free(f.m);
}

static void
test_stale_keepalive(void **st)
{
	struct fx f;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	f.t.close_after_204 = 1;
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	/* The server closed the kept-alive connection: retried at once. */
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	fx_stop(&f);
	assert_int_equal(f.sl.n, 0);
	assert_int_equal(mock_nconn(f.m), 2);
	/* The reconnection resumed the first connection's TLS session. */
	assert_int_equal(mock_nreused(f.m), 1);
	assert_int_equal(f.o.exchanges, 3);
	assert_no_hdr(mock_get(f.m, 3), "X-Admin-Resume");
	mock_free(f.m);
}

/* The same over TLS 1.2: the session resumes there too. */
static void
test_resume_tls12(void **st)
{
	struct fx f;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, TLS1_2_VERSION);
	f.t.close_after_204 = 1;
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	fx_stop(&f);
	assert_int_equal(mock_nconn(f.m), 2);
	assert_int_equal(mock_nreused(f.m), 1);
	assert_int_equal(mock_handshake_failures(f.m), 0);
	mock_free(f.m);
}

/* A session against the server certificate cert, at host (NULL:
 * 127.0.0.1): the handshake fails and no request is made. */
static void
refused(struct fx *f, const char *cert, const char *host, int ipv6)
{
	memset(f, 0, sizeof(*f));
	f->host = host;
	f->ipv6 = ipv6;
	fx_start(f, cert, 0);
	assert_int_equal(agent_session(f->a, &f->card, &f->o), AGENT_ERR_TLS);
	fx_stop(f);
	assert_int_equal(mock_nreq(f->m), 0);
	assert_int_equal(mock_handshake_failures(f->m), 1);
}

static void
test_wrong_ca(void **st)
{
	struct fx f;

	refused(&f, "other-server", NULL, 0);
	assert_int_equal(f.sl.n, 0);		/* not retried */
	assert_non_null(strstr(f.o.message, "not allowed"));
	mock_free(f.m);
}

/* A certificate from the right CA, for another host: refused. */
static void
wrong_host(const char *host, int ipv6)
{
	struct fx f;

	refused(&f, "wrong-host", host, ipv6);
	mock_free(f.m);
}

static void
test_wrong_host(void **st)
{
	wrong_host("127.0.0.1", 0);
	wrong_host("localhost", 0);
	wrong_host("::1", 1);
}

/* By name (the name check and SNI) and by IPv6 address ([::1]): the
 * right certificate passes. */
static void
right_host(const char *host, int ipv6)
{
	struct fx f;

	memset(&f, 0, sizeof(f));
	f.host = host;
	f.ipv6 = ipv6;
	fx_start(&f, NULL, 0);
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	assert_string_equal(f.o.message, RESULT);
	fx_stop(&f);
	assert_int_equal(mock_handshake_failures(f.m), 0);
	mock_free(f.m);
}

static void
test_host_name(void **st)
{
	right_host("localhost", 0);
	right_host("::1", 1);
}

static void
test_tls11_refused(void **st)
{
	struct fx f;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, TLS1_1_VERSION);
	assert_int_equal(agent_session(f.a, &f.card, &f.o), AGENT_ERR_TLS);
	fx_stop(&f);
	assert_int_equal(mock_nreq(f.m), 0);
	assert_int_equal(mock_handshake_failures(f.m), 1);
	mock_free(f.m);
}

static void
hostile(const char *raw, int status, int want)
{
	struct fx f;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	f.t.raw = raw;
	f.t.status = status;
	assert_int_equal(agent_session(f.a, &f.card, &f.o), want);
	fx_stop(&f);
	assert_int_equal(f.o.err, want);
	assert_int_equal(mock_nreq(f.m), 1);	/* never retried */
	assert_int_equal(f.stub.ntx, 0);	/* nothing reached the card */
	assert_true(strlen(f.o.message) > 10);
	mock_free(f.m);
}

static void
test_hostile_responses(void **st)
{
	hostile("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\nAA",
	    0, AGENT_ERR_TOOBIG);
	hostile("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nAA\r\n0\r\n\r\n", 0, AGENT_ERR_HTTP);
	hostile("\x16\x03\x01 not http at all\r\n\r\n", 0, AGENT_ERR_HTTP);
	/* A 200 without the protocol headers or a session id. */
	hostile("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\xAA", 0,
	    AGENT_ERR_PROTOCOL);
	hostile(NULL, 403, AGENT_ERR_REFUSED);
	hostile(NULL, 409, AGENT_ERR_SESSION);
	hostile(NULL, 500, AGENT_ERR_SERVER);
}

static void
test_huge_head(void **st)
{
	static char raw[40000];
	size_t n;

	n = (size_t)snprintf(raw, sizeof(raw), "HTTP/1.1 200 OK\r\nX: ");
	memset(raw + n, 'a', sizeof(raw) - n - 1);
	hostile(raw, 0, AGENT_ERR_TOOBIG);
}

#define CSN1	"4790512345678901ABCD"
#define CSN2	"4790512345678901ABCE"

static void
test_card_hint(void **st)
{
	struct fx f;
	unsigned i;

	memset(&f, 0, sizeof(f));
	fx_start(&f, NULL, 0);
	f.t.card[0] = "X-Admin-Card: " CSN1 "\r\n";
	f.t.card[1] = "X-Admin-Card: 4790512345678901abcd\r\n";	/* dropped */
	f.t.card[2] = "X-Admin-Card: " CSN2 "\r\n";
	assert_null(agent_card_hint(f.a));
	for (i = 0; i < 4; i++)
		assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	assert_string_equal(agent_card_hint(f.a), CSN2);
	fx_stop(&f);
	assert_int_equal(mock_nreq(f.m), 12);
	/* None before the TSM named the card; then on first POSTs only. */
	assert_no_hdr(mock_get(f.m, 0), "X-Admin-Card");
	assert_hdr(mock_get(f.m, 3), "X-Admin-Card", CSN1);
	assert_hdr(mock_get(f.m, 6), "X-Admin-Card", CSN1);	/* kept */
	assert_hdr(mock_get(f.m, 9), "X-Admin-Card", CSN2);
	for (i = 0; i < 12; i++)
		if (i % 3 != 0)
			assert_no_hdr(mock_get(f.m, i), "X-Admin-Card");
	assert_int_equal(mock_get(f.m, 3)->body_len, 0);
	mock_free(f.m);
}

static void
test_card_hint_config(void **st)
{
	struct fx f;
	struct agent_config c = { .server = "https://127.0.0.1:1",
	    .cert = "x", .key = "x", .ca = "x", .card_hint = "47905" };
	struct agent *a;

	/* Preset: sent on the very first POST. */
	memset(&f, 0, sizeof(f));
	f.hint = CSN2;
	fx_start(&f, NULL, 0);
	assert_string_equal(agent_card_hint(f.a), CSN2);
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	fx_stop(&f);
	assert_hdr(mock_get(f.m, 0), "X-Admin-Card", CSN2);
	mock_free(f.m);

	/* Turned off: neither sent nor kept, preset or not. */
	memset(&f, 0, sizeof(f));
	f.hint = CSN2;
	f.no_hint = 1;
	fx_start(&f, NULL, 0);
	f.t.card[0] = "X-Admin-Card: " CSN1 "\r\n";
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	assert_int_equal(agent_session(f.a, &f.card, &f.o), 0);
	assert_null(agent_card_hint(f.a));
	fx_stop(&f);
	assert_int_equal(mock_nreq(f.m), 6);
	assert_no_hdr(mock_get(f.m, 0), "X-Admin-Card");
	assert_no_hdr(mock_get(f.m, 3), "X-Admin-Card");
	mock_free(f.m);

	/* A preset that is not a CSN is a configuration error. */
	assert_int_equal(agent_new(&c, &a), AGENT_ERR_CONFIG);
	assert_null(a);
	c.card_hint = CSN1 "0";
	assert_int_equal(agent_new(&c, &a), AGENT_ERR_CONFIG);
}

static int
setup(void **st)
{
	signal(SIGPIPE, SIG_IGN);	/* the mock writes to dropped links */
	return mock_pki(pki, sizeof(pki));
}

static int
teardown(void **st)
{
	mock_rmdir(pki);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract),
		cmocka_unit_test(test_stop_count),
		cmocka_unit_test(test_card_removed),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_backoff_give_up),
		cmocka_unit_test(test_stale_keepalive),
		cmocka_unit_test(test_resume_tls12),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_wrong_host),
		cmocka_unit_test(test_host_name),
		cmocka_unit_test(test_tls11_refused),
		cmocka_unit_test(test_hostile_responses),
		cmocka_unit_test(test_huge_head),
		cmocka_unit_test(test_card_hint),
		cmocka_unit_test(test_card_hint_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
