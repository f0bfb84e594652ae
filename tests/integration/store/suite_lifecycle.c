/*
 * Schema migrations, lifecycle transitions (legal, illegal, idempotent,
 * replacement) and cardholder field encryption, on the backend under test.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "suite.h"

static const char q_history[] = "SELECT COUNT(*) FROM card_history";
static const char q_audit[] = "SELECT COUNT(*) FROM audit_log";

static void
test_migrate(void **state)
{
	struct tsm_store *s;
	struct tsm_store_status st;
	char url[512];
	int applied = -1;

	(void)state;
	suite_url(url, sizeof(url));
	suite_open(url, &s);
	assert_int_equal(tsm_store_status(s, &st), 0);
	assert_int_equal(st.version, 0);
	assert_int_equal(st.pending, st.latest);
	assert_int_equal(tsm_store_check_schema(s), TSM_STORE_ERR_SCHEMA);
	assert_int_equal(tsm_store_migrate(s, 0, &applied), 0);
	assert_int_equal(applied, st.latest);
	assert_true(st.latest >= 4);
	assert_int_equal(tsm_store_migrate(s, 0, &applied), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(tsm_store_check_schema(s), 0);
	/* a database from a newer binary is refused, not "repaired" */
	suite_raw(s, "INSERT INTO schema_version (version, name, applied) "
	    "VALUES (9999, 'future', 0)");
	assert_int_equal(tsm_store_migrate(s, 0, &applied),
	    TSM_STORE_ERR_SCHEMA);
	assert_int_equal(tsm_store_check_schema(s), TSM_STORE_ERR_SCHEMA);
	tsm_store_close(s);
}

static void
test_legal_path(void **state)
{
	struct tsm_store *s;
	struct tsm_card c;
	char url[512];
	int64_t h;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "A1", 1);
	suite_move(s, "A100000000", TSM_CARD_IN_STOCK, "depot-1", 0);
	suite_move(s, "A100000000", TSM_CARD_ALLOCATED, "branch-7", 0);
	h = suite_holder(s);
	suite_move(s, "A100000000", TSM_CARD_ISSUED, NULL, h);
	suite_move(s, "A100000000", TSM_CARD_ACTIVE, NULL, 0);
	suite_move(s, "A100000000", TSM_CARD_SUSPENDED, NULL, 0);
	suite_move(s, "A100000000", TSM_CARD_ACTIVE, NULL, 0);
	suite_move(s, "A100000000", TSM_CARD_LOST, NULL, 0);
	suite_move(s, "A100000000", TSM_CARD_TERMINATED, NULL, 0);
	assert_int_equal(tsm_store_card_get(s, "A100000000", &c), 0);
	assert_int_equal(c.state, TSM_CARD_TERMINATED);
	assert_string_equal(c.location, "branch-7");
	assert_int_equal(c.holder_id, h);
	assert_int_equal(suite_count(s, q_history), 8);
	/* import + holder + 8 transitions */
	assert_int_equal(suite_count(s, q_audit), 10);
	tsm_store_close(s);
}

static void
refused(struct tsm_store *s, const char *csn, enum tsm_card_state to,
    const char *loc, int64_t holder, const char *want)
{
	struct tsm_transition t = { to, loc, holder, "suite", NULL };
	char why[200] = "";
	int changed = -1;

	assert_int_equal(tsm_store_card_transition(s, csn, &t, &changed, why,
	    sizeof(why)), TSM_STORE_ERR_TRANSITION);
	assert_int_equal(changed, 0);
	if (strstr(why, want) == NULL)
		fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", why, want);
	assert_non_null(strstr(why, want));
}

static void
test_illegal(void **state)
{
	struct tsm_store *s;
	struct tsm_card c;
	char url[512];
	int64_t h, a;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "B2", 2);
	h = suite_count(s, q_history);
	a = suite_count(s, q_audit);
	refused(s, "B200000000", TSM_CARD_ACTIVE, NULL, 0,
	    "manufactured -> active is not a lifecycle edge");
	refused(s, "B200000000", TSM_CARD_IN_STOCK, NULL, 0,
	    "in_stock needs a location");
	suite_move(s, "B200000000", TSM_CARD_IN_STOCK, "depot", 0);
	suite_move(s, "B200000000", TSM_CARD_ALLOCATED, "branch", 0);
	refused(s, "B200000000", TSM_CARD_ISSUED, NULL, 0,
	    "issued needs a cardholder");
	suite_move(s, "B200000000", TSM_CARD_STOLEN, NULL, 0);
	refused(s, "B200000000", TSM_CARD_ACTIVE, NULL, 0,
	    "stolen -> active is not a lifecycle edge");
	suite_move(s, "B200000000", TSM_CARD_TERMINATED, NULL, 0);
	refused(s, "B200000000", TSM_CARD_IN_STOCK, "depot", 0,
	    "terminated -> in_stock is not a lifecycle edge");
	assert_int_equal(tsm_store_card_get(s, "B200000000", &c), 0);
	assert_int_equal(c.state, TSM_CARD_TERMINATED);
	/* refusals write nothing: 4 moves, 4 history rows and records */
	assert_int_equal(suite_count(s, q_history), h + 4);
	assert_int_equal(suite_count(s, q_audit), a + 4);
	/* the card's GP life cycle vetoes what contradicts it */
	suite_raw(s, "UPDATE cards SET gp_state = 'CARD_LOCKED' "
	    "WHERE csn = 'B200000001'");
	suite_move(s, "B200000001", TSM_CARD_IN_STOCK, "depot", 0);
	suite_move(s, "B200000001", TSM_CARD_ALLOCATED, "branch", 0);
	suite_move(s, "B200000001", TSM_CARD_ISSUED, NULL, suite_holder(s));
	refused(s, "B200000001", TSM_CARD_ACTIVE, NULL, 0, "CARD_LOCKED");
	assert_int_equal(tsm_store_card_get(s, "B2FFFFFFFF", &c),
	    TSM_STORE_ERR_NOTFOUND);
	tsm_store_close(s);
}

static void
test_idempotent(void **state)
{
	struct tsm_store *s;
	struct tsm_transition t = { TSM_CARD_IN_STOCK, "depot", 0, "x", NULL };
	char url[512], why[200];
	int changed = -1;
	int64_t h, a;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C3", 1);
	suite_move(s, "C300000000", TSM_CARD_IN_STOCK, "depot", 0);
	h = suite_count(s, q_history);
	a = suite_count(s, q_audit);
	assert_int_equal(tsm_store_card_transition(s, "C300000000", &t,
	    &changed, why, sizeof(why)), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(suite_count(s, q_history), h);
	assert_int_equal(suite_count(s, q_audit), a);
	refused(s, "C300000000", TSM_CARD_IN_STOCK, "elsewhere", 0,
	    "another location (depot)");
	suite_move(s, "C300000000", TSM_CARD_ALLOCATED, "b", 0);
	t.holder_id = suite_holder(s);
	suite_move(s, "C300000000", TSM_CARD_ISSUED, NULL, t.holder_id);
	t.to = TSM_CARD_ISSUED;
	t.location = NULL;
	assert_int_equal(tsm_store_card_transition(s, "C300000000", &t,
	    &changed, why, sizeof(why)), 0);
	assert_int_equal(changed, 0);
	refused(s, "C300000000", TSM_CARD_ISSUED, NULL, t.holder_id + 1,
	    "another "
	    "cardholder");
	tsm_store_close(s);
}

static void
test_replace(void **state)
{
	struct tsm_store *s;
	struct tsm_card o, n;
	char url[512], why[200] = "";
	int64_t h;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "D4", 3);
	suite_move(s, "D400000000", TSM_CARD_IN_STOCK, "depot", 0);
	suite_move(s, "D400000000", TSM_CARD_ALLOCATED, "branch", 0);
	h = suite_holder(s);
	suite_move(s, "D400000000", TSM_CARD_ISSUED, NULL, h);
	suite_move(s, "D400000000", TSM_CARD_ACTIVE, NULL, 0);
	suite_move(s, "D400000000", TSM_CARD_LOST, NULL, 0);
	suite_move(s, "D400000001", TSM_CARD_IN_STOCK, "depot", 0);
	suite_move(s, "D400000001", TSM_CARD_ALLOCATED, "branch", 0);
	/* a card still manufactured cannot be handed out */
	assert_int_equal(tsm_store_card_replace(s, "D400000000", "D400000002",
	    "op", why, sizeof(why)), TSM_STORE_ERR_TRANSITION);
	assert_int_equal(tsm_store_card_replace(s, "D400000000", "D400000001",
	    "op", why, sizeof(why)), 0);
	assert_int_equal(tsm_store_card_get(s, "D400000000", &o), 0);
	assert_int_equal(tsm_store_card_get(s, "D400000001", &n), 0);
	assert_int_equal(o.state, TSM_CARD_TERMINATED);
	assert_int_equal(o.replaced_by, n.id);
	assert_int_equal(n.state, TSM_CARD_ISSUED);
	assert_int_equal(n.holder_id, h);
	tsm_store_close(s);
}

struct find {
	const void	*needle;
	size_t		 len;
	int		 hits;
	int		 rows;
};

static int
find_row(void *arg, const struct tsm_val *c, size_t n)
{
	struct find *f = arg;
	size_t i;

	f->rows++;
	for (i = 0; i < n; i++)
		if (c[i].n > 0 && memmem(c[i].p, c[i].n, f->needle,
		    f->len) != NULL)
			f->hits++;
	return 0;
}

static void
test_holder_encrypted(void **state)
{
	static const char q_rows[] = "SELECT * FROM cardholders";
	static const char q_keys[] = "SELECT * FROM data_keys";
	struct tsm_store *s, *other;
	struct tsm_holder h, got;
	struct tsm_store_opts o;
	struct find f = { "Zoe Quintana", 12, 0, 0 };
	char url[512], kek[512];
	int64_t id = 0;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "Zoe Quintana");
	snprintf(h.email, sizeof(h.email), "zoe@example.org");
	assert_int_equal(tsm_store_holder_add(s, &h, &id), 0);
	assert_true(id > 0);
	assert_int_equal(s->be->query(s->db, q_rows, NULL, 0, find_row, &f),
	    0);
	assert_int_equal(f.rows, 1);
	assert_int_equal(f.hits, 0);	/* only ciphertext in the row */
	f.needle = "zoe@example.org";
	f.len = 15;
	assert_int_equal(s->be->query(s->db, q_rows, NULL, 0, find_row, &f),
	    0);
	assert_int_equal(f.hits, 0);
	/* the data key is stored wrapped: its plaintext is not in the row */
	f.rows = 0;
	f.needle = s->dek;
	f.len = sizeof(s->dek);
	assert_int_equal(s->be->query(s->db, q_keys, NULL, 0, find_row, &f),
	    0);
	assert_int_equal(f.rows, 1);
	assert_int_equal(f.hits, 0);
	assert_int_equal(tsm_store_holder_get(s, id, &got), 0);
	assert_string_equal(got.name, "Zoe Quintana");
	assert_string_equal(got.email, "zoe@example.org");
	assert_string_equal(got.phone, "");
	/* another KEK cannot open the data key */
	snprintf(kek, sizeof(kek), "%s/other.kek", suite_dir);
	memset(&o, 0, sizeof(o));
	o.key_file = kek;
	assert_int_equal(tsm_store_open(&other, url, &o), 0);
	assert_int_equal(tsm_store_holder_get(other, id, &got),
	    TSM_STORE_ERR_CRYPTO);
	assert_string_equal(got.name, "");
	tsm_store_close(other);
	tsm_store_close(s);
}

const struct CMUnitTest suite_lifecycle[] = {
	cmocka_unit_test(test_migrate),
	cmocka_unit_test(test_legal_path),
	cmocka_unit_test(test_illegal),
	cmocka_unit_test(test_idempotent),
	cmocka_unit_test(test_replace),
	cmocka_unit_test(test_holder_encrypted),
};
const size_t suite_lifecycle_n = sizeof(suite_lifecycle) /
    sizeof(suite_lifecycle[0]);
