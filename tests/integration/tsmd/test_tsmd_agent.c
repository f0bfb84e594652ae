/*
 * tsmd with the real agent library (libtsmagent, agent/) instead of the
 * test's own client: the same session over the same contract, checked
 * the same way (exchanges, the cardholder's sentence, card == store).
 * The agent announces 1024 commands a script (X-TSM-Script-Max): a load
 * file of 65 KB (273 LOAD commands) installs in one 3-exchange session.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "tsmd_env.h"

#define KAOH_APP	"D0D1D2D3D4D50101"

static struct tsmd_env env;
static char kaoh[512];

/* The card link: a libcardsim card in process. */
static int
c_present(void *ctx, int timeout_ms)
{
	(void)ctx; (void)timeout_ms;
	return 1;
}

static int
c_open(void *ctx)
{
	struct tcard *c = ctx;

	return sim_card_reset(c->sim) == 0 ? 0 : AGENT_ERR_CARD;
}

static int
c_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *rlen)
{
	struct tcard *c = ctx;
	int r = sim_card_transmit(c->sim, cmd, n, rsp, cap, rlen);

	if (r == SIM_ERR_TORN)
		return AGENT_ERR_CARD_REMOVED;
	return r == 0 ? 0 : AGENT_ERR_CARD;
}

static void
c_close(void *ctx)
{
	(void)ctx;
}

static const struct agent_card_ops card_ops = { c_present, c_open,
    c_transmit, c_close };

static int
setup(void **state)
{
	(void)state;
	if (tenv_vector("cap/kaoh_helloworld.cap", kaoh, sizeof(kaoh)) != 0)
		return -1;
	return tenv_start(&env);
}

static int
teardown(void **state)
{
	(void)state;
	return tenv_stop(&env);
}

static struct agent *
new_agent(const char *id)
{
	struct agent_config cfg;
	struct agent *a = NULL;
	char url[64], cert[300], key[300], ca[300];

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/gp/v1/admin",
	    env.port);
	snprintf(cert, sizeof(cert), "%s/%s/agent.crt", env.dir, id);
	snprintf(key, sizeof(key), "%s/%s/agent.key", env.dir, id);
	snprintf(ca, sizeof(ca), "%s/%s/ca.crt", env.dir, id);
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = url;
	cfg.cert = cert;
	cfg.key = key;
	cfg.ca = ca;
	cfg.io_timeout_ms = 10000;
	cfg.retries = 1;
	cfg.backoff_ms = 10;
	assert_int_equal(agent_new(&cfg, &a), 0);
	assert_string_equal(agent_id(a), id);
	return a;
}

static void
test_agent_install(void **state)
{
	struct tcard card;
	struct agent_card link = { &card_ops, &card };
	struct agent_outcome o;
	struct agent *a;
	char out[256];

	(void)state;
	assert_int_equal(tcard_new(&env, 1, 1, NULL, &card), 0);
	assert_int_equal(tenv_tsmctl(&env, out, sizeof(out), "op queue --card "
	    "%s install %s", card.csn, kaoh), 0);
	a = new_agent("kiosk-1");
	memset(&o, 0, sizeof(o));
	assert_int_equal(agent_session(a, &link, &o), 0);
	assert_int_equal(o.exchanges, 3);
	assert_non_null(strstr(o.message, "Installed 1 application."));
	tenv_assert_agree(&env, &card, KAOH_APP ":selectable");
	/* Same connection, next session: nothing to do. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(agent_session(a, &link, &o), 0);
	assert_int_equal(o.exchanges, 2);
	assert_non_null(strstr(o.message, "up to date"));
	agent_free(a);
	tcard_free(&card);
}

static void
test_agent_large_install(void **state)
{
	struct tcard card;
	struct agent_card link = { &card_ops, &card };
	struct agent_outcome o;
	struct agent *a;
	char cap[300], out[256];

	(void)state;
	snprintf(cap, sizeof(cap), "%s/large.cap", env.dir);
	assert_int_equal(tenv_tsmctl(&env, NULL, 0, "cap demo %s "
	    "--package-aid D27600017754534D0A --table 65000", cap), 0);
	assert_int_equal(tcard_new(&env, 3, 1, NULL, &card), 0);
	assert_int_equal(tenv_tsmctl(&env, out, sizeof(out), "op queue --card "
	    "%s install %s", card.csn, cap), 0);
	a = new_agent("kiosk-1");
	memset(&o, 0, sizeof(o));
	assert_int_equal(agent_session(a, &link, &o), 0);
	print_message("large install: %d exchanges, \"%s\"\n", o.exchanges,
	    o.message);
	assert_int_equal(o.exchanges, 3);
	assert_non_null(strstr(o.message, "Installed 1 application."));
	tenv_assert_agree(&env, &card, "D27600017754534D0A01:selectable");
	agent_free(a);
	tcard_free(&card);
}

static void
test_agent_revoked(void **state)
{
	struct tcard card;
	struct agent_card link = { &card_ops, &card };
	struct agent_outcome o;
	struct agent *a;

	(void)state;
	assert_int_equal(tcard_new(&env, 2, 1, NULL, &card), 0);
	assert_int_equal(tenv_tsmctl(&env, NULL, 0, "agent revoke --id kiosk-2"
	    " --ca-dir %s", env.ca), 0);
	sleep(1);	/* tsmd looks at the CRL once a second */
	a = new_agent("kiosk-2");
	memset(&o, 0, sizeof(o));
	assert_int_equal(agent_session(a, &link, &o), AGENT_ERR_REFUSED);
	assert_int_equal(o.http_status, 403);
	agent_free(a);
	tcard_free(&card);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_install),
		cmocka_unit_test(test_agent_large_install),
		cmocka_unit_test(test_agent_revoked),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
