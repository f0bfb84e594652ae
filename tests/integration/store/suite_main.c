/*
 * The store suite: the same tests on every backend. argv[1] is a URL
 * template ("sqlite:/tmp/d/%s.db", "mariadb://root@h/%s?socket=..&
 * create=1"), argv[2] a scratch directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite.h"

const char *suite_template;
const char *suite_dir;
static int counter;

void
suite_url(char *url, size_t len)
{
	const char *p = strstr(suite_template, "%s");
	char name[64];

	assert_non_null(p);
	snprintf(name, sizeof(name), "t%ld_%d", (long)getpid(), ++counter);
	snprintf(url, len, "%.*s%s%s", (int)(p - suite_template),
	    suite_template, name, p + 2);
}

void
suite_open(const char *url, struct tsm_store **s)
{
	char kek[512];
	struct tsm_store_opts o = { kek, 2 };
	int r;

	snprintf(kek, sizeof(kek), "%s/suite.kek", suite_dir);
	r = tsm_store_open(s, url, &o);
	if (r != 0)
		fprintf(stderr, "open %s: %s\n", url, tsm_store_strerror(r));
	assert_int_equal(r, 0);
}

struct tsm_store *
suite_fresh(char *url, size_t len)
{
	struct tsm_store *s;
	int applied = -1;

	suite_url(url, len);
	suite_open(url, &s);
	assert_int_equal(tsm_store_migrate(s, 0, &applied), 0);
	assert_true(applied >= 2);
	return s;
}

void
suite_write(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

void
suite_cards(struct tsm_store *s, const char *prefix, int n)
{
	struct tsm_product p = { "P1", "2.3.1", "3.0.4", 3, 0x70, "kdf3",
	    "1", 0 };
	struct tsm_import_opts o;
	struct tsm_import_result res;
	char path[512];
	FILE *fp;
	int i, r;

	r = tsm_store_product_add(s, &p, NULL);
	assert_true(r == 0 || r == TSM_STORE_ERR_EXISTS);
	snprintf(path, sizeof(path), "%s/cards_%s.csv", suite_dir, prefix);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "csn,product,batch,tkv\n");
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%08X,P1,B-%s,255\n", prefix, i, prefix);
	assert_int_equal(fclose(fp), 0);
	memset(&o, 0, sizeof(o));
	assert_int_equal(tsm_store_import_file(s, path, &o, &res), 0);
	assert_int_equal(res.imported, (uint64_t)n);
}

static int
count_row(void *arg, const struct tsm_val *c, size_t n)
{
	assert_true(n >= 1);
	assert_int_equal(c[0].t, TSM_V_INT);
	*(int64_t *)arg = c[0].i;
	return 0;
}

int64_t
suite_count(struct tsm_store *s, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(s->be->query(s->db, sql, NULL, 0, count_row, &n), 0);
	return n;
}

int64_t
suite_holder(struct tsm_store *s)
{
	struct tsm_holder h;
	int64_t id = 0;

	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "Holder %d", ++counter);
	assert_int_equal(tsm_store_holder_add(s, &h, &id), 0);
	assert_true(id > 0);
	return id;
}

void
suite_raw(struct tsm_store *s, const char *sql)
{
	int r = s->be->script(s->db, sql);

	if (r != 0)
		fprintf(stderr, "%s: %s\n", sql, tsm_store_errmsg(s));
	assert_int_equal(r, 0);
}

void
suite_move(struct tsm_store *s, const char *csn, enum tsm_card_state to,
    const char *loc, int64_t holder)
{
	struct tsm_transition t = { to, loc, holder, "suite", NULL };
	char why[200] = "";
	int changed = 0, r;

	r = tsm_store_card_transition(s, csn, &t, &changed, why, sizeof(why));
	if (r != 0)
		fprintf(stderr, "%s -> %s: %s\n", csn, tsm_card_state_name(to),
		    why);
	assert_int_equal(r, 0);
	assert_int_equal(changed, 1);
}

static int
run(const char *name, const struct CMUnitTest *t, size_t n)
{
	return _cmocka_run_group_tests(name, t, n, NULL, NULL);
}

int
main(int argc, char **argv)
{
	int fails = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s URL-TEMPLATE SCRATCH-DIR\n", argv[0]);
		return 2;
	}
	suite_template = argv[1];
	suite_dir = argv[2];
	fails += run("lifecycle", suite_lifecycle, suite_lifecycle_n);
	fails += run("import", suite_import, suite_import_n);
	fails += run("audit", suite_audit, suite_audit_n);
	fails += run("concurrency", suite_concurrency, suite_concurrency_n);
	fails += run("channel", suite_channel, suite_channel_n);
	fails += run("versions", suite_versions, suite_versions_n);
	if (strncmp(suite_template, "mariadb://", 10) == 0 &&
	    suite_mariadb_n > 0)
		fails += run("mariadb", suite_mariadb, suite_mariadb_n);
	return fails == 0 ? 0 : 1;
}
