/*
 * The audit chain on the backend under test: intact after normal work,
 * append-only for plain SQL, and every tampering (edit, deletion,
 * truncation, a forged link) found with the first broken record named.
 */
#include <stdio.h>
#include <string.h>

#include "suite.h"

static struct tsm_store *
chain(char *url, size_t len, int n)
{
	struct tsm_store *s;
	char obj[32];
	int i;

	s = suite_fresh(url, len);
	for (i = 1; i <= n; i++) {
		snprintf(obj, sizeof(obj), "obj-%d", i);
		assert_int_equal(tsm_store_audit_append(s, "tester", "test.op",
		    obj, "{\"n\":1}"), 0);
	}
	return s;
}

static void
expect_broken(struct tsm_store *s, int64_t seq, int64_t good,
    const char *frag)
{
	struct tsm_audit_report rep;

	assert_int_equal(tsm_store_audit_verify(s, &rep),
	    TSM_STORE_ERR_TAMPER);
	if (rep.first_bad != seq || strstr(rep.why, frag) == NULL)
		fprintf(stderr, "first_bad %lld \"%s\"\n",
		    (long long)rep.first_bad, rep.why);
	assert_int_equal(rep.first_bad, seq);
	assert_int_equal(rep.records, good);
	assert_non_null(strstr(rep.why, frag));
}

static void
drop_guards(struct tsm_store *s)
{
	suite_raw(s, "DROP TRIGGER audit_log_no_update");
	suite_raw(s, "DROP TRIGGER audit_log_no_delete");
}

static void
test_intact(void **state)
{
	struct tsm_store *s;
	struct tsm_audit_report rep;
	char url[512];

	(void)state;
	s = chain(url, sizeof(url), 6);
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	assert_int_equal(rep.records, 6);
	assert_int_equal(rep.first_bad, 0);
	/* plain SQL cannot rewrite or delete a record */
	assert_int_not_equal(s->be->script(s->db, "UPDATE audit_log SET "
	    "actor = 'mallory' WHERE seq = 2"), 0);
	assert_int_not_equal(s->be->script(s->db, "DELETE FROM audit_log "
	    "WHERE seq = 2"), 0);
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	tsm_store_close(s);
}

static void
test_edit(void **state)
{
	struct tsm_store *s;
	char url[512];

	(void)state;
	s = chain(url, sizeof(url), 6);
	drop_guards(s);
	suite_raw(s, "UPDATE audit_log SET detail = '{\"n\":2}' WHERE seq = 4");
	expect_broken(s, 4, 3, "edited");
	tsm_store_close(s);
}

static void
test_delete_middle(void **state)
{
	struct tsm_store *s;
	char url[512];

	(void)state;
	s = chain(url, sizeof(url), 6);
	drop_guards(s);
	suite_raw(s, "DELETE FROM audit_log WHERE seq = 3");
	expect_broken(s, 3, 2, "sequence gap");
	tsm_store_close(s);
}

static void
test_truncate_tail(void **state)
{
	struct tsm_store *s;
	char url[512];

	(void)state;
	s = chain(url, sizeof(url), 6);
	drop_guards(s);
	suite_raw(s, "DELETE FROM audit_log WHERE seq >= 5");
	expect_broken(s, 5, 4, "removed");
	tsm_store_close(s);
}

static void
test_forged_link(void **state)
{
	struct tsm_store *s;
	char url[512];

	(void)state;
	s = chain(url, sizeof(url), 6);
	drop_guards(s);
	/* the attacker rewrites record 2 and recomputes nothing else:
	 * moving record 5's links onto 2 still breaks at 2 */
	suite_raw(s, "UPDATE audit_log SET hash = (SELECT h FROM (SELECT hash "
	    "AS h FROM audit_log WHERE seq = 5) AS x) WHERE seq = 2");
	expect_broken(s, 2, 1, "edited");
	tsm_store_close(s);
}

const struct CMUnitTest suite_audit[] = {
	cmocka_unit_test(test_intact),
	cmocka_unit_test(test_edit),
	cmocka_unit_test(test_delete_middle),
	cmocka_unit_test(test_truncate_tail),
	cmocka_unit_test(test_forged_link),
};
const size_t suite_audit_n = sizeof(suite_audit) / sizeof(suite_audit[0]);
