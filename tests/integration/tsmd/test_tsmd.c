/*
 * tsmd end to end on loopback: a real tsmd, tsm-keyd on SoftHSMv2 and a
 * SQLite store, driven by the test's own agent (client.c) over TLS with
 * libcardsim cards. Every session is checked against the protocol's
 * promises (3 exchanges for a provisioning session) and, afterwards,
 * the card's registry (read by the test with its own secure channel)
 * against the store's instances.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "tsmd_env.h"

#define KAOH_APP	"D0D1D2D3D4D50101"
#define DEMO_APP	"D27600017754534D0101"
#define DEMO_PKG	"D27600017754534D01"

static struct tsmd_env env;
static char kaoh[512], demo[256], agent1[256], agent2[256];

static int
setup(void **state)
{
	(void)state;
	if (tenv_vector("cap/kaoh_helloworld.cap", kaoh, sizeof(kaoh)) != 0 ||
	    tenv_start(&env) != 0)
		return -1;
	snprintf(agent1, sizeof(agent1), "%s/kiosk-1", env.dir);
	snprintf(agent2, sizeof(agent2), "%s/kiosk-2", env.dir);
	return tenv_demo_cap(&env, demo, sizeof(demo)) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return tenv_stop(&env);
}

/* Two CAPs (a real one and the project's demo) in one session. */
static void
test_install(void **state)
{
	struct tconn c;
	struct tcard card;
	int64_t a, b;

	(void)state;
	assert_int_equal(tcard_new(&env, 1, 1, NULL, &card), 0);
	a = tenv_queue(&env, card.csn, NULL, "install %s", kaoh);
	b = tenv_queue(&env, card.csn, NULL, "install %s", demo);
	/* Queued twice: the same operation (idempotency key). */
	assert_int_equal(tenv_queue(&env, card.csn, NULL, "install %s", demo),
	    b);
	tconn_agent(&c, &env, "kiosk-1");
	tsession_expect(&c, &card, 3, "Installed 2 applications.");
	tenv_assert_op(&env, a, "done");
	tenv_assert_op(&env, b, "done");
	tenv_assert_agree_check(&env, &card, KAOH_APP ":selectable,"
	    DEMO_APP ":selectable");
	/* Nothing left: identified, answered at once. */
	tsession_expect(&c, &card, 2, "Your card is up to date.");
	tconn_close(&c);
	tcard_free(&card);
}

/* A card known by its KDD only; a card not known at all. */
static void
test_identify(void **state)
{
	struct tconn c;
	struct tcard known, unknown;

	(void)state;
	assert_int_equal(tcard_new(&env, 2, 1, "0102030405060708", &known), 0);
	assert_int_equal(tcard_new(&env, 3, 0, NULL, &unknown), 0);
	tconn_agent(&c, &env, "kiosk-1");
	tsession_expect(&c, &known, 2, "Your card is up to date.");
	tsession_expect(&c, &unknown, 2,
	    "This card is not managed by this service.");
	tconn_close(&c);
	tcard_free(&known);
	tcard_free(&unknown);
}

/* Install, lock, unlock, delete: card and store agree at every step. */
static void
test_lifecycle_ops(void **state)
{
	struct tconn c;
	struct tcard card;
	int64_t id;

	(void)state;
	assert_int_equal(tcard_new(&env, 4, 1, NULL, &card), 0);
	tconn_agent(&c, &env, "kiosk-1");
	tenv_queue(&env, card.csn, NULL, "install %s", demo);
	tsession_expect(&c, &card, 3, "Installed 1 application.");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	id = tenv_queue(&env, card.csn, NULL, "lock " DEMO_APP);
	tsession_expect(&c, &card, 3, "Updated 1 application.");
	tenv_assert_op(&env, id, "done");
	tenv_assert_agree(&env, &card, DEMO_APP ":locked");
	tenv_queue(&env, card.csn, NULL, "unlock " DEMO_APP);
	tsession_expect(&c, &card, 3, "Updated 1 application.");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	id = tenv_queue(&env, card.csn, NULL, "delete " DEMO_PKG " --related");
	tsession_expect(&c, &card, 3, "Removed 1 application.");
	tenv_assert_op(&env, id, "done");
	tenv_assert_agree(&env, &card, "");
	tconn_close(&c);
	tcard_free(&card);
}

/* An operation the card refuses fails, with the status word. */
static void
test_refused_op(void **state)
{
	struct tconn c;
	struct tcard card;
	int64_t id;
	char out[256];

	(void)state;
	assert_int_equal(tcard_new(&env, 5, 1, NULL, &card), 0);
	tconn_agent(&c, &env, "kiosk-1");
	/* Nothing installed. */
	id = tenv_queue(&env, card.csn, NULL, "lock " DEMO_APP);
	tsession_expect(&c, &card, 3, "1 change could not be made.");
	tenv_assert_op(&env, id, "failed");
	assert_int_equal(tenv_tsmctl(&env, out, sizeof(out), "op show %lld",
	    (long long)id), 0);
	assert_non_null(strstr(out, "SET STATUS answered 6A88"));
	tconn_close(&c);
	tcard_free(&card);
}

/*
 * The card is pulled in the middle of the job: the install is uncertain,
 * and the next session reads the registry before finishing it, skipping
 * what the card already holds. before_end: commands left unrun.
 */
static void
removed_then_reconciled(unsigned n, int stop_after)
{
	struct tconn c;
	struct tcard card;
	struct tsess s;
	int64_t id;

	assert_int_equal(tcard_new(&env, n, 1, NULL, &card), 0);
	tconn_agent(&c, &env, "kiosk-1");
	id = tenv_queue(&env, card.csn, NULL, "install %s", demo);
	memset(&s, 0, sizeof(s));
	s.stop_after = stop_after;
	assert_int_equal(tsession_run(&c, &card, &s), 0);
	assert_int_equal(s.exchanges, 3);
	assert_string_equal(s.result, "Your card was removed too early. "
	    "Please present it again.");
	tenv_assert_op(&env, id, "uncertain");
	/* Registry read, then the rest of the job, in one session. */
	tsession_expect(&c, &card, 4, "Installed 1 application.");
	tenv_assert_op(&env, id, "done");
	tenv_assert_agree_check(&env, &card, DEMO_APP ":selectable");
	tconn_close(&c);
	tcard_free(&card);
}

static void
test_removed_before_load(void **state)
{
	(void)state;
	removed_then_reconciled(6, 2);	/* EXTERNAL AUTH, INSTALL [load] */
}

static void
test_removed_after_load(void **state)
{
	(void)state;
	removed_then_reconciled(7, -3);	/* all but INSTALL, GET STATUS x2 */
}

/* The link drops after the card ran the whole job: the next session
 * finds the work done on the card and does not do it twice. */
static void
test_link_lost_after_job(void **state)
{
	struct tconn c;
	struct tcard card;
	struct tsess s;
	int64_t id;

	(void)state;
	assert_int_equal(tcard_new(&env, 8, 1, NULL, &card), 0);
	tconn_agent(&c, &env, "kiosk-1");
	id = tenv_queue(&env, card.csn, NULL, "install %s", demo);
	memset(&s, 0, sizeof(s));
	s.drop_job = 1;
	assert_int_equal(tsession_run(&c, &card, &s), 0);
	tconn_close(&c);
	tenv_assert_op(&env, id, "running");
	tconn_agent(&c, &env, "kiosk-1");
	tsession_expect(&c, &card, 3, "Installed 1 application.");
	tenv_assert_op(&env, id, "done");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	tconn_close(&c);
	tcard_free(&card);
}

/* A request repeated after a lost reply gets the same reply. */
static void
test_resume(void **state)
{
	struct tconn c;
	struct tcard card;
	struct trsp r1, r2, r3, r4;
	uint8_t *body = NULL, *body2 = NULL;
	size_t blen, blen2;
	const char *st;
	int ran;

	(void)state;
	assert_int_equal(tcard_new(&env, 9, 1, NULL, &card), 0);
	tenv_queue(&env, card.csn, NULL, "install %s", demo);
	tconn_agent(&c, &env, "kiosk-1");
	assert_int_equal(tconn_post(&c, NULL, NULL, 0, NULL, 0, &r1), 0);
	assert_int_equal(r1.code, 200);
	assert_string_equal(r1.ctype,
	    "application/vnd.globalplatform.card-content-mgt;version=1.0");
	assert_string_equal(r1.proto, "globalplatform-remote-admin/1.0");
	assert_int_equal(tscript_run(&card, r1.body, r1.len, 0, &body, &blen,
	    &st, &ran), 0);
	assert_int_equal(ran, 3);
	assert_int_equal(tconn_post(&c, r1.sid, st, 0, body, blen, &r2), 0);
	assert_int_equal(r2.code, 200);
	/* The link drops; the agent comes back on a new connection. */
	tconn_close(&c);
	tconn_agent(&c, &env, "kiosk-1");
	assert_int_equal(tconn_post(&c, r1.sid, st, 1, body, blen, &r3), 0);
	assert_int_equal(r3.code, 200);
	assert_int_equal(r3.len, r2.len);
	assert_memory_equal(r3.body, r2.body, r2.len);
	assert_int_equal(tscript_run(&card, r3.body, r3.len, 0, &body2,
	    &blen2, &st, &ran), 0);
	assert_int_equal(tconn_post(&c, r1.sid, st, 0, body2, blen2, &r4), 0);
	assert_int_equal(r4.code, 204);
	assert_string_equal(r4.result, "Installed 1 application.");
	trsp_clear(&r4);
	assert_int_equal(tconn_post(&c, r1.sid, st, 1, body2, blen2, &r4), 0);
	assert_int_equal(r4.code, 204);
	assert_string_equal(r4.result, "Installed 1 application.");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	trsp_clear(&r1);
	trsp_clear(&r2);
	trsp_clear(&r3);
	trsp_clear(&r4);
	free(body);
	free(body2);
	tconn_close(&c);
	tcard_free(&card);
}

static void
expect_code(struct tconn *c, const char *headers, const uint8_t *body,
    size_t len, int code, const char *text)
{
	struct trsp r;

	assert_int_equal(tconn_post_raw(c, headers, body, len, &r), 0);
	assert_int_equal(r.code, code);
	if (text != NULL)
		assert_non_null(strstr((const char *)r.body, text));
	trsp_clear(&r);
}

#define H_OK "X-Admin-Protocol: globalplatform-remote-admin/1.0\r\n" \
    "X-Admin-From: //tsm-agent/kiosk-1\r\n" \
    "Content-Type: application/vnd.globalplatform." \
    "card-content-mgt-response;version=1.0\r\n"

static void
test_bad_requests(void **state)
{
	static const uint8_t junk[] = { 0xAB, 0x05, 0x80, 0x01, 0x01, 0x23,
	    0x09 };
	struct tconn c;
	struct trsp r;
	uint8_t *big;
	char h[512];

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	assert_int_equal(tconn_post(&c, NULL, NULL, 0, NULL, 0, &r), 0);
	assert_int_equal(r.code, 200);
	snprintf(h, sizeof(h), H_OK "X-Admin-Session: %s\r\n"
	    "X-Admin-Script-Status: ok\r\n", r.sid);
	/* Malformed response script: 400, the session goes on. */
	expect_code(&c, h, junk, sizeof(junk), 400, "malformed");
	expect_code(&c, h, (const uint8_t *)"hello", 5, 400, "malformed");
	trsp_clear(&r);
	/* Unknown session; missing protocol header; wrong agent name. */
	expect_code(&c, H_OK "X-Admin-Session: 00112233445566778899AABBCCDDEEFF"
	    "\r\nX-Admin-Script-Status: ok\r\n", junk, sizeof(junk), 409,
	    "unknown");
	expect_code(&c, "X-Admin-From: //tsm-agent/kiosk-1\r\n", NULL, 0, 400,
	    "X-Admin-Protocol");
	expect_code(&c, "X-Admin-Protocol: globalplatform-remote-admin/1.0\r\n"
	    "X-Admin-From: //tsm-agent/kiosk-2\r\nContent-Type: application/"
	    "vnd.globalplatform.card-content-mgt-response;version=1.0\r\n",
	    NULL, 0, 403, "does not match");
	/* A first POST carries no body. */
	expect_code(&c, H_OK, junk, sizeof(junk), 400, "empty body");
	/* Over 1 MiB: 413. */
	assert_non_null(big = calloc(1, 1024 * 1024 + 1));
	assert_int_equal(tconn_post_raw(&c, h, big, 1024 * 1024 + 1, &r), 0);
	assert_int_equal(r.code, 413);
	trsp_clear(&r);
	free(big);
	tconn_close(&c);
}

static void
test_tls_refusals(void **state)
{
	struct tconn c;
	struct trsp r;

	(void)state;
	/* TLS 1.1 (and below) refused at the handshake. */
	assert_int_not_equal(tconn_open(&c, env.port, agent1, agent1,
	    "kiosk-1", TLS1_VERSION, TLS1_1_VERSION), 0);
	tconn_close(&c);
	/* TLS 1.2 and 1.3 both work. */
	assert_int_equal(tconn_open(&c, env.port, agent1, agent1, "kiosk-1",
	    TLS1_2_VERSION, TLS1_2_VERSION), 0);
	assert_int_equal(SSL_version(c.ssl), TLS1_2_VERSION);
	assert_int_equal(tconn_post(&c, NULL, NULL, 0, NULL, 0, &r), 0);
	assert_int_equal(r.code, 200);
	trsp_clear(&r);
	tconn_close(&c);
	tconn_agent(&c, &env, "kiosk-1");
	assert_int_equal(SSL_version(c.ssl), TLS1_3_VERSION);
	tconn_close(&c);
	/* No client certificate: 401. */
	assert_int_equal(tconn_open(&c, env.port, NULL, agent1, "kiosk-1", 0,
	    0), 0);
	expect_code(&c, H_OK, NULL, 0, 401, "certificate");
	tconn_close(&c);
	/* kiosk-2 works, is revoked, and is refused from then on. */
	assert_int_equal(tconn_open(&c, env.port, agent2, agent2, "kiosk-2", 0,
	    0), 0);
	assert_int_equal(tconn_post(&c, NULL, NULL, 0, NULL, 0, &r), 0);
	assert_int_equal(r.code, 200);
	trsp_clear(&r);
	tconn_close(&c);
	assert_int_equal(tenv_tsmctl(&env, NULL, 0, "agent revoke --id kiosk-2"
	    " --ca-dir %s", env.ca), 0);
	sleep(1);	/* the CRL is looked at once a second */
	assert_int_equal(tconn_open(&c, env.port, agent2, agent2, "kiosk-2", 0,
	    0), 0);
	expect_code(&c, "X-Admin-Protocol: globalplatform-remote-admin/1.0\r\n"
	    "X-Admin-From: //tsm-agent/kiosk-2\r\n", NULL, 0, 403, "revoked");
	tconn_close(&c);
	/* The others are still welcome. */
	tconn_agent(&c, &env, "kiosk-1");
	assert_int_equal(tconn_post(&c, NULL, NULL, 0, NULL, 0, &r), 0);
	assert_int_equal(r.code, 200);
	trsp_clear(&r);
	tconn_close(&c);
}

static void
test_metrics(void **state)
{
	char out[16384];
	const char *p;
	unsigned long long v = 0;

	(void)state;
	assert_int_equal(tenv_http_get(&env, "/healthz", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "200 OK"));
	assert_int_equal(tenv_http_get(&env, "/metrics", out, sizeof(out)), 0);
	assert_non_null(p = strstr(out, "\ntsmd_sessions_started_total "));
	assert_int_equal(sscanf(p, "\ntsmd_sessions_started_total %llu", &v),
	    1);
	assert_true(v >= 10);
	assert_non_null(p = strstr(out, "tsmd_http_errors_total{code=\"400\"} "));
	assert_int_equal(sscanf(p, "tsmd_http_errors_total{code=\"400\"} %llu",
	    &v), 1);
	assert_true(v >= 4);
	assert_non_null(strstr(out, "tsmd_exchange_seconds_count "));
	assert_non_null(strstr(out, "tsmd_operations_done_total "));
}

/* SIGTERM: new sessions refused, the one in progress finishes, exit 0. */
static void
test_drain(void **state)
{
	struct tconn a, b;
	struct tcard card;
	struct trsp r;
	uint8_t *body = NULL;
	size_t blen;
	const char *st;
	int ran, status;

	(void)state;
	assert_int_equal(tcard_new(&env, 10, 1, NULL, &card), 0);
	tenv_queue(&env, card.csn, NULL, "install %s", demo);
	tconn_agent(&a, &env, "kiosk-1");
	tconn_agent(&b, &env, "kiosk-1");
	assert_int_equal(sim_card_reset(card.sim), 0);
	assert_int_equal(tconn_post(&a, NULL, NULL, 0, NULL, 0, &r), 0);
	assert_int_equal(r.code, 200);
	kill(env.pid, SIGTERM);
	usleep(300 * 1000);
	expect_code(&b, H_OK, NULL, 0, 503, "shutting down");
	/* The session in progress runs to its end. */
	for (;;) {
		assert_int_equal(tscript_run(&card, r.body, r.len, 0, &body,
		    &blen, &st, &ran), 0);
		char sid[80];

		snprintf(sid, sizeof(sid), "%s", r.sid);
		trsp_clear(&r);
		assert_int_equal(tconn_post(&a, sid, st, 0, body, blen, &r), 0);
		free(body);
		body = NULL;
		if (r.code != 200)
			break;
	}
	assert_int_equal(r.code, 204);
	assert_string_equal(r.result, "Installed 1 application.");
	trsp_clear(&r);
	tconn_close(&a);
	tconn_close(&b);
	status = tenv_tsmd_stop(&env, 8000);
	assert_int_equal(status, 0);
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	tcard_free(&card);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_identify),
		cmocka_unit_test(test_lifecycle_ops),
		cmocka_unit_test(test_refused_op),
		cmocka_unit_test(test_removed_before_load),
		cmocka_unit_test(test_removed_after_load),
		cmocka_unit_test(test_link_lost_after_job),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_tls_refusals),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_drain),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
