/*
 * The HTTP response parser, the URL parser and the back-off schedule:
 * table-driven, with truncated, overlong, malformed and oversized input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_int.h"

#define CT "Content-Type: application/vnd.globalplatform.card-content-mgt;" \
	"version=1.0\r\n"
#define PROTO "X-Admin-Protocol: globalplatform-remote-admin/1.0\r\n"

static int
parse(const char *s, struct agent_http_rsp *rsp)
{
	return agent_http_parse((const uint8_t *)s, strlen(s), rsp);
}

static void
test_complete_200(void **st)
{
	const char *m = "HTTP/1.1 200 OK\r\n" PROTO CT
	    "X-Admin-Session: s-42\r\nContent-Length: 4\r\n\r\nAA02";
	struct agent_http_rsp r;
	size_t i;

	assert_int_equal(parse(m, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.proto_ok);
	assert_true(r.ctype_ok);
	assert_string_equal(r.session, "s-42");
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "AA02", 4);
	assert_int_equal(r.total, strlen(m));
	assert_false(r.close);
	/* Every proper prefix asks for more. */
	for (i = 0; i < strlen(m); i++)
		assert_int_equal(agent_http_parse((const uint8_t *)m, i, &r),
		    1);
}

static void
test_204_result(void **st)
{
	struct agent_http_rsp r;

	assert_int_equal(parse("HTTP/1.1 204 No Content\r\n"
	    "X-Admin-Result: Your bank app is installed.\r\n"
	    "Connection: close\r\n\r\n", &r), 0);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.result, "Your bank app is installed.");
	assert_true(r.close);
	assert_int_equal(r.body_len, 0);
	/* Control characters become blanks; the text is capped. */
	assert_int_equal(parse("HTTP/1.1 204 X\r\nX-Admin-Result: a\x01"
	    "b\x7f" "c\r\n\r\n", &r), 0);
	assert_string_equal(r.result, "a b c");
}

static void
test_result_cut_utf8(void **st)
{
	char m[600];
	struct agent_http_rsp r;
	size_t i, n;

	/* 199 'a', then "é" (C3 A9) straddling the 200-byte cap. */
	n = (size_t)snprintf(m, sizeof(m), "HTTP/1.1 204 X\r\nX-Admin-Result: ");
	for (i = 0; i < 199; i++)
		m[n++] = 'a';
	m[n++] = (char)0xC3;
	m[n++] = (char)0xA9;
	memcpy(m + n, "tail\r\n\r\n", 9);
	assert_int_equal(parse(m, &r), 0);
	assert_int_equal(strlen(r.result), 199);
}

static void
test_refused(void **st)
{
	static const struct {
		const char *m;
		int err;
	} t[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n",
		    AGENT_ERR_TOOBIG },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999"
		    "\r\n\r\n", AGENT_ERR_TOOBIG },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		    AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		    "Content-Length: 2\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		    AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
		    AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
		    AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\n: empty\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 20 OK\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 2000 OK\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/2 200 OK\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 099 OK\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 100 Continue\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\rX: y\r\n\r\n", AGENT_ERR_HTTP },
		{ "garbage\r\n\r\n", AGENT_ERR_HTTP },
		{ "HTTP/1.1 200 OK\r\nX-Admin-Session: a b\r\n\r\n",
		    AGENT_ERR_PROTOCOL },
		{ "HTTP/1.1 200 OK\r\nX-Admin-Session:\r\n\r\n",
		    AGENT_ERR_PROTOCOL },
	};
	struct agent_http_rsp r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(parse(t[i].m, &r), t[i].err);
	}
}

static void
test_head_caps(void **st)
{
	struct agent_http_rsp r;
	char *m;
	size_t i, n;

	/* A head that never ends: refused at 16 KiB, not read for ever. */
	m = malloc(AGENT_HEAD_MAX + 10);
	n = (size_t)sprintf(m, "HTTP/1.1 200 OK\r\n");
	for (i = n; i < AGENT_HEAD_MAX + 10; i++)
		m[i] = 'a';
	assert_int_equal(agent_http_parse((uint8_t *)m, AGENT_HEAD_MAX - 1,
	    &r), 1);
	assert_int_equal(agent_http_parse((uint8_t *)m, AGENT_HEAD_MAX + 10,
	    &r), AGENT_ERR_TOOBIG);
	free(m);
	/* Too many header lines. */
	m = malloc(8192);
	n = (size_t)sprintf(m, "HTTP/1.1 204 OK\r\n");
	for (i = 0; i < AGENT_HEADERS_MAX + 1; i++)
		n += (size_t)sprintf(m + n, "X%zu: y\r\n", i);
	n += (size_t)sprintf(m + n, "\r\n");
	assert_int_equal(agent_http_parse((uint8_t *)m, n, &r),
	    AGENT_ERR_TOOBIG);
	free(m);
}

static void
test_ctype_and_proto(void **st)
{
	struct agent_http_rsp r;

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Type: "
	    "APPLICATION/vnd.globalplatform.card-content-mgt; version=1.0\r\n"
	    "X-Admin-Protocol: globalplatform-remote-admin/2.0\r\n"
	    "Content-Length: 0\r\n\r\n", &r), 0);
	assert_true(r.ctype_ok);
	assert_false(r.proto_ok);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain"
	    "\r\nContent-Length: 0\r\n\r\n", &r), 0);
	assert_false(r.ctype_ok);
	/* HTTP/1.0 closes. */
	assert_int_equal(parse("HTTP/1.0 204 OK\r\n\r\n", &r), 0);
	assert_true(r.close);
}

static void
test_card_hint(void **st)
{
	static const struct {
		const char *v;		/* X-Admin-Card lines */
		const char *want;	/* "" dropped */
	} t[] = {
		{ "X-Admin-Card: 4790512345678901ABCD\r\n",
		    "4790512345678901ABCD" },
		{ "x-admin-card:\t0123456789ABCDEF0123 \r\n",
		    "0123456789ABCDEF0123" },
		{ "", "" },
		/* lowercase, 19 and 21 digits, not hex, a blank, 0x */
		{ "X-Admin-Card: 4790512345678901abcd\r\n", "" },
		{ "X-Admin-Card: 4790512345678901ABC\r\n", "" },
		{ "X-Admin-Card: 4790512345678901ABCDE\r\n", "" },
		{ "X-Admin-Card: 4790512345678901ABCG\r\n", "" },
		{ "X-Admin-Card: 47905123 45678901ABCD\r\n", "" },
		{ "X-Admin-Card: 0x790512345678901ABCD\r\n", "" },
		{ "X-Admin-Card:\r\n", "" },
		/* two of them, even the same: neither is believed */
		{ "X-Admin-Card: 4790512345678901ABCD\r\n"
		    "X-Admin-Card: 4790512345678901ABCD\r\n", "" },
		{ "X-Admin-Card: bad\r\n"
		    "X-Admin-Card: 4790512345678901ABCD\r\n", "" },
	};
	char m[512];
	struct agent_http_rsp r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("card hint %zu\n", i);
		snprintf(m, sizeof(m), "HTTP/1.1 204 X\r\n%s"
		    "X-Admin-Result: ok\r\n\r\n", t[i].v);
		/* Never a reason to refuse the response. */
		assert_int_equal(parse(m, &r), 0);
		assert_string_equal(r.card, t[i].want);
		assert_string_equal(r.result, "ok");
	}
	assert_true(agent_csn_ok("4790512345678901ABCD", 20));
	assert_false(agent_csn_ok("4790512345678901ABCD", 19));
	assert_false(agent_csn_ok(NULL, 20));
}

static void
test_url(void **st)
{
	struct agent_url u;

	assert_int_equal(agent_url_parse("https://tsm.example:8443", &u), 0);
	assert_string_equal(u.host, "tsm.example");
	assert_string_equal(u.port, "8443");
	assert_string_equal(u.path, "/gp/v1/admin");
	assert_int_equal(agent_url_parse("https://h/other", &u), 0);
	assert_string_equal(u.port, "443");
	assert_string_equal(u.path, "/other");
	assert_int_equal(agent_url_parse("https://[::1]:9/", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "9");
	assert_string_equal(u.path, "/gp/v1/admin");
	assert_int_equal(agent_url_parse("http://h", &u), AGENT_ERR_CONFIG);
	assert_int_equal(agent_url_parse("https://", &u), AGENT_ERR_CONFIG);
	assert_int_equal(agent_url_parse("https://h:0", &u),
	    AGENT_ERR_CONFIG);
	assert_int_equal(agent_url_parse("https://h:65536", &u),
	    AGENT_ERR_CONFIG);
	assert_int_equal(agent_url_parse("https://h:x1", &u),
	    AGENT_ERR_CONFIG);
	assert_int_equal(agent_url_parse("https://h/a b", &u),
	    AGENT_ERR_CONFIG);
	assert_int_equal(agent_url_parse("https://[::1", &u),
	    AGENT_ERR_CONFIG);
}

static void
test_backoff(void **st)
{
	unsigned k, d;

	/* Nominal 250, 500, 1000, ... capped at 8000; delay in [n/2, n]. */
	for (k = 0; k < 10; k++) {
		unsigned nom = 250u << (k < 5 ? k : 5);

		if (nom > 8000)
			nom = 8000;
		assert_int_equal(agent_backoff_ms(250, 8000, k, 0), nom / 2);
		d = agent_backoff_ms(250, 8000, k, 0xFFFFFFFFu);
		assert_true(d >= nom / 2 && d <= nom);
		assert_int_equal(agent_backoff_ms(250, 8000, k,
		    nom - nom / 2), nom);
	}
	assert_int_equal(agent_backoff_ms(250, 8000, 1000, 0), 4000);
}

static void
test_messages(void **st)
{
	assert_string_equal(agent_strerror(AGENT_ERR_CARD_REMOVED),
	    "card removed");
	assert_non_null(strstr(agent_message(AGENT_ERR_CARD_REMOVED),
	    "hold it to the reader again"));
	assert_string_equal(agent_strerror(12345), "unknown error");
	assert_non_null(strstr(agent_message(AGENT_ERR_HTTP), "try again"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_200),
		cmocka_unit_test(test_204_result),
		cmocka_unit_test(test_result_cut_utf8),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_head_caps),
		cmocka_unit_test(test_ctype_and_proto),
		cmocka_unit_test(test_card_hint),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
