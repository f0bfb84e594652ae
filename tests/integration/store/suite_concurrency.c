/*
 * Two writers at once, each on its own handle (thread): no lost update,
 * no broken chain, and a race on the same card has exactly one winner.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "suite.h"

#define PER_WRITER	60

struct writer {
	const char	*url;
	const char	*prefix;
	const char	*loc;	/* for the race */
	int		 ok;
	int		 refused;
	int		 errors;
};

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	struct tsm_store *s = NULL;
	struct tsm_transition t = { TSM_CARD_IN_STOCK, "depot", 0, "w", NULL };
	char csn[32], why[200];
	int i, r;

	suite_open(w->url, &s);
	for (i = 0; i < PER_WRITER; i++) {
		snprintf(csn, sizeof(csn), "%s%08X", w->prefix, i);
		r = tsm_store_card_transition(s, csn, &t, NULL, why,
		    sizeof(why));
		w->errors += r != 0;
		r = tsm_store_audit_append(s, "w", "test.tick", csn, "{}");
		w->errors += r != 0;
	}
	tsm_store_close(s);
	return NULL;
}

static void *
racer_run(void *arg)
{
	struct writer *w = arg;
	struct tsm_store *s = NULL;
	struct tsm_transition t = { TSM_CARD_ALLOCATED, w->loc, 0, "w", NULL };
	char why[200];
	int changed = 0, r;

	suite_open(w->url, &s);
	r = tsm_store_card_transition(s, "F0F0F0F000000000", &t, &changed,
	    why, sizeof(why));
	w->ok += r == 0 && changed;
	w->refused += r == TSM_STORE_ERR_TRANSITION;
	w->errors += r != 0 && r != TSM_STORE_ERR_TRANSITION;
	tsm_store_close(s);
	return NULL;
}

static void
test_two_writers(void **state)
{
	struct tsm_store *s;
	struct tsm_audit_report rep;
	struct writer w[2];
	pthread_t th[2];
	char url[512];
	int i;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "AA", PER_WRITER);
	suite_cards(s, "BB", PER_WRITER);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		w[i].url = url;
		w[i].prefix = i == 0 ? "AA" : "BB";
		assert_int_equal(pthread_create(&th[i], NULL, writer_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(w[0].errors + w[1].errors, 0);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM cards WHERE "
	    "state = 'in_stock'"), 2 * PER_WRITER);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_history"),
	    2 * PER_WRITER);
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	/* 2 imports + 2 x (transition + tick) per card */
	assert_int_equal(rep.records, 2 + 4 * PER_WRITER);
	tsm_store_close(s);
}

static void
test_race_same_card(void **state)
{
	struct tsm_store *s;
	struct tsm_card c;
	struct writer w[2];
	pthread_t th[2];
	char url[512];
	int i;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "F0F0F0F0", 1);
	suite_move(s, "F0F0F0F000000000", TSM_CARD_IN_STOCK, "depot", 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		w[i].url = url;
		w[i].loc = i == 0 ? "branch-north" : "branch-south";
		assert_int_equal(pthread_create(&th[i], NULL, racer_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(w[0].errors + w[1].errors, 0);
	assert_int_equal(w[0].ok + w[1].ok, 1);
	assert_int_equal(w[0].refused + w[1].refused, 1);
	assert_int_equal(tsm_store_card_get(s, "F0F0F0F000000000", &c), 0);
	assert_string_equal(c.location, w[0].ok ? "branch-north" :
	    "branch-south");
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_history"),
	    2);
	tsm_store_close(s);
}

const struct CMUnitTest suite_concurrency[] = {
	cmocka_unit_test(test_two_writers),
	cmocka_unit_test(test_race_same_card),
};
const size_t suite_concurrency_n = sizeof(suite_concurrency) /
    sizeof(suite_concurrency[0]);
