/*
 * The inventory state machine, exhaustively: every (from, to) pair is
 * checked against the edge list of docs/store.md, written out here
 * independently of lifecycle.c's table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

static const char *const edges[] = {
	"manufactured>in_stock", "manufactured>terminated",
	"in_stock>allocated", "in_stock>lost", "in_stock>stolen",
	"in_stock>terminated", "allocated>in_stock", "allocated>issued",
	"allocated>lost", "allocated>stolen", "allocated>terminated",
	"issued>active", "issued>lost", "issued>stolen", "issued>terminated",
	"active>suspended", "active>lost", "active>stolen",
	"active>terminated", "suspended>active", "suspended>lost",
	"suspended>stolen", "suspended>terminated", "lost>active",
	"lost>terminated", "stolen>terminated",
};

static int
is_edge(int from, int to)
{
	char e[64];
	size_t i;

	snprintf(e, sizeof(e), "%s>%s", tsm_card_state_name(from),
	    tsm_card_state_name(to));
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		if (strcmp(edges[i], e) == 0)
			return 1;
	return 0;
}

static void
test_all_pairs(void **state)
{
	struct tsm_card c;
	struct tsm_transition t;
	char why[200];
	int from, to, noop, r;

	(void)state;
	for (from = 0; from < TSM_CARD_NSTATES; from++) {
		for (to = 0; to < TSM_CARD_NSTATES; to++) {
			memset(&c, 0, sizeof(c));
			c.state = from;
			snprintf(c.location, sizeof(c.location), "here");
			c.holder_id = 1;
			memset(&t, 0, sizeof(t));
			t.to = to;
			t.location = "here";
			r = tsm_lifecycle_check(&c, &t, &noop, why,
			    sizeof(why));
			if (from == to) {
				assert_int_equal(r, 0);
				assert_int_equal(noop, 1);
			} else if (is_edge(from, to)) {
				assert_int_equal(r, 0);
				assert_int_equal(noop, 0);
			} else {
				assert_int_equal(r, TSM_STORE_ERR_TRANSITION);
				assert_non_null(strstr(why, "not a lifecycle "
				    "edge"));
			}
		}
	}
}

static void
test_names(void **state)
{
	enum tsm_card_state s;
	int i;

	(void)state;
	for (i = 0; i < TSM_CARD_NSTATES; i++) {
		assert_int_equal(tsm_card_state_parse(tsm_card_state_name(i),
		    &s), 0);
		assert_int_equal((int)s, i);
	}
	assert_int_equal(tsm_card_state_parse("Active", &s),
	    TSM_STORE_ERR_INVAL);
	assert_int_equal(tsm_card_state_parse("", &s), TSM_STORE_ERR_INVAL);
	assert_string_equal(tsm_card_state_name(TSM_CARD_NSTATES), "unknown");
	assert_string_equal(tsm_store_strerror(TSM_STORE_ERR_TAMPER),
	    "audit chain broken");
	assert_string_equal(tsm_store_strerror(-999), "unknown store error");
}

static void
test_gp_veto(void **state)
{
	struct tsm_card c;
	struct tsm_transition t;
	char why[200];
	int noop;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	c.state = TSM_CARD_SUSPENDED;
	snprintf(c.gp_state, sizeof(c.gp_state), "TERMINATED");
	t.to = TSM_CARD_ACTIVE;
	assert_int_equal(tsm_lifecycle_check(&c, &t, &noop, why, sizeof(why)),
	    TSM_STORE_ERR_TRANSITION);
	assert_non_null(strstr(why, "GP life cycle TERMINATED"));
	t.to = TSM_CARD_TERMINATED;
	assert_int_equal(tsm_lifecycle_check(&c, &t, &noop, why, sizeof(why)),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_pairs),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_gp_veto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
