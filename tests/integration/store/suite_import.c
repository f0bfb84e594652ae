/*
 * Bulk import on the backend under test: CSV and JSON, bad rows named by
 * line and reason, all-or-nothing by default, per-chunk commits, and a
 * kill -9 in the middle leaving each transaction whole or absent.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"

static const char q_cards[] = "SELECT COUNT(*) FROM cards";

struct bad {
	uint64_t	line[16];
	char		why[16][200];
	int		n;
};

static void
on_bad(void *arg, uint64_t line, const char *why)
{
	struct bad *b = arg;

	if (b->n < 16) {
		b->line[b->n] = line;
		snprintf(b->why[b->n], sizeof(b->why[0]), "%s", why);
	}
	b->n++;
}

static int
import_text(struct tsm_store *s, const char *name, const char *text,
    int skip_bad, struct bad *b, struct tsm_import_result *res)
{
	struct tsm_import_opts o;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", suite_dir, name);
	suite_write(path, text);
	memset(&o, 0, sizeof(o));
	memset(b, 0, sizeof(*b));
	o.skip_bad = skip_bad;
	o.bad_row = on_bad;
	o.arg = b;
	return tsm_store_import_file(s, path, &o, res);
}

static void
expect_bad(const struct bad *b, int i, uint64_t line, const char *frag)
{
	assert_true(i < b->n);
	if (b->line[i] != line || strstr(b->why[i], frag) == NULL)
		fprintf(stderr, "bad row %d: line %llu \"%s\"; want %llu "
		    "\"%s\"\n", i, (unsigned long long)b->line[i], b->why[i],
		    (unsigned long long)line, frag);
	assert_int_equal(b->line[i], line);
	assert_non_null(strstr(b->why[i], frag));
}

/* A fresh store with the product P1 and no card (suite_cards). */
static struct tsm_store *
fresh(const char *prefix)
{
	struct tsm_store *s;
	char url[512];

	s = suite_fresh(url, sizeof(url));
	suite_cards(s, prefix, 0);
	return s;
}

/* A CSV file name in the scratch directory, its path into path: header,
 * then n rows of prefix, the row's number in 8 hex digits, and rest. */
static void
write_rows(char *path, size_t cap, const char *name, const char *header,
    const char *prefix, const char *rest, int n)
{
	FILE *fp;
	int i;

	snprintf(path, cap, "%s/%s", suite_dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "%s\n", header);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%08X%s\n", prefix, i, rest);
	assert_int_equal(fclose(fp), 0);
}

static void
test_csv_good(void **state)
{
	struct tsm_store *s;
	struct tsm_import_result res;
	struct tsm_card c;
	struct bad b;

	(void)state;
	s = fresh("E0");
	assert_int_equal(import_text(s, "good.csv",
	    "# manufacturer file\r\n"
	    "CSN, iin, cin, kdd, product, batch, transport_key_version\r\n"
	    "e5e5e5e5e5e5e5e5,42,4501,aabbccdd,P1,\"Lot, 7\",32\r\n"
	    "\r\n"
	    "\"F5F5F5F5F5F5F5F5\",,,,P1,Lot 8,\r\n", 0, &b, &res), 0);
	assert_int_equal(res.rows, 2);
	assert_int_equal(res.imported, 2);
	assert_int_equal(res.transactions, 1);
	assert_int_equal(b.n, 0);
	assert_int_equal(tsm_store_card_get(s, "E5E5E5E5E5E5E5E5", &c), 0);
	assert_string_equal(c.kdd, "AABBCCDD");
	assert_string_equal(c.cin, "4501");
	assert_string_equal(c.batch, "Lot, 7");
	assert_int_equal(c.transport_kv, 32);
	assert_int_equal(c.state, TSM_CARD_MANUFACTURED);
	assert_int_equal(tsm_store_card_get(s, "F5F5F5F5F5F5F5F5", &c), 0);
	assert_int_equal(c.transport_kv, -1);
	assert_string_equal(c.batch, "Lot 8");
	tsm_store_close(s);
}

static const char bad_csv[] =
    "csn,product,batch,tkv\n"			/* 1 */
    "0A0A0A0A,P1,L1,1\n"			/* 2 good */
    "0A0A0A0A0,P1,L1,1\n"			/* 3 odd hex */
    "0B0B0B0B,P1,L1\n"				/* 4 short */
    "XYZW0C0C,P1,L1,1\n"			/* 5 not hex */
    "0D0D0D0D,P1,L1,256\n"			/* 6 tkv */
    "0E0E0E0E,NOPE,L1,1\n"			/* 7 unknown product */
    "0A0A0A0A,P1,L1,1\n"			/* 8 duplicate */
    "\"0F0F0F0F,P1,L1,1\n"			/* 9 quote */
    "1010101010,P1,,1\n"			/* 10 batch empty */
    "1111111111,P1,L1,1,extra\n"		/* 11 too many */
    "1212121212,P1,L1,7\n";			/* 12 good */

static void
check_bad_csv(const struct bad *b)
{
	assert_int_equal(b->n, 9);
	expect_bad(b, 0, 3, "csn: odd number of hex digits");
	expect_bad(b, 1, 4, "3 fields, the header has 4");
	expect_bad(b, 2, 5, "csn: not hexadecimal");
	expect_bad(b, 3, 6, "transport_key_version: not 0..255");
	expect_bad(b, 4, 7, "unknown product \"NOPE\"");
	expect_bad(b, 5, 8, "csn 0A0A0A0A is already in the store");
	expect_bad(b, 6, 9, "unterminated quote");
	expect_bad(b, 7, 10, "batch: empty");
	expect_bad(b, 8, 11, "more than the 4 fields");
}

static void
test_csv_bad(void **state)
{
	struct tsm_store *s;
	struct tsm_import_result res;
	struct bad b;

	(void)state;
	s = fresh("E1");
	/* all or nothing: every bad row named, nothing imported */
	assert_int_equal(import_text(s, "bad.csv", bad_csv, 0, &b, &res),
	    TSM_STORE_ERR_ROWS);
	assert_int_equal(res.imported, 0);
	assert_int_equal(res.rows, 11);
	assert_int_equal(suite_count(s, q_cards), 0);
	check_bad_csv(&b);
	/* skip_bad: the good rows go in, the bad ones are reported */
	assert_int_equal(import_text(s, "bad.csv", bad_csv, 1, &b, &res),
	    TSM_STORE_ERR_ROWS);
	check_bad_csv(&b);
	assert_int_equal(res.imported, 2);
	assert_int_equal(suite_count(s, q_cards), 2);
	/* a file without a usable header names line 1 */
	assert_int_equal(import_text(s, "hdr.csv", "csn,colour\n0A,P1\n", 0,
	    &b, &res), TSM_STORE_ERR_FORMAT);
	expect_bad(&b, 0, 1, "unknown column \"colour\"");
	tsm_store_close(s);
}

/*
 * Batched inserts (TSM_IMPORT_BATCH rows per INSERT): a duplicate inside
 * a full batch, one in a partial batch flushed by a later bad row, and
 * the reports still in line order with the right lines.
 */
static void
test_csv_batches(void **state)
{
	struct tsm_store *s;
	struct tsm_import_result res;
	struct tsm_audit_report rep;
	struct tsm_card c;
	struct bad b;
	char *text, *p;
	int i;

	(void)state;
	s = fresh("BA");
	assert_int_equal(import_text(s, "pre.csv", "csn,product,batch\n"
	    "BA00000064,P1,PRE\n", 0, &b, &res), 0);
	assert_non_null(text = malloc(240 * 40 + 64));
	p = text + sprintf(text, "csn,product,batch,tkv\n");
	for (i = 0; i < 240; i++) {	/* row i is on line i + 2 */
		if (i == 101)
			p += sprintf(p, "XYZW0000,P1,L,1\n");
		else
			p += sprintf(p, "BA%08X,P1,L,1\n", i == 190 ? 120 : i);
	}
	/* all or nothing: the first two reported, nothing imported */
	assert_int_equal(import_text(s, "batch.csv", text, 0, &b, &res),
	    TSM_STORE_ERR_ROWS);
	assert_int_equal(res.rows, 240);
	assert_int_equal(res.imported, 0);
	assert_int_equal(b.n, 2);
	expect_bad(&b, 0, 102, "csn BA00000064 is already in the store");
	expect_bad(&b, 1, 103, "csn: not hexadecimal");
	assert_int_equal(suite_count(s, q_cards), 1);
	/* skip_bad: the duplicate inside a full batch is found too */
	assert_int_equal(import_text(s, "batch.csv", text, 1, &b, &res),
	    TSM_STORE_ERR_ROWS);
	assert_int_equal(res.imported, 237);
	assert_int_equal(b.n, 3);
	expect_bad(&b, 0, 102, "csn BA00000064 is already in the store");
	expect_bad(&b, 1, 103, "csn: not hexadecimal");
	expect_bad(&b, 2, 192, "csn BA00000078 is already in the store");
	assert_int_equal(suite_count(s, q_cards), 238);
	assert_int_equal(tsm_store_card_get(s, "BA000000BF", &c), 0);
	assert_string_equal(c.batch, "L");
	assert_int_equal(tsm_store_card_get(s, "BA000000EF", &c), 0);
	assert_int_equal(tsm_store_card_get(s, "BA000000BE", &c),
	    TSM_STORE_ERR_NOTFOUND);
	assert_int_equal(tsm_store_card_get(s, "BA00000064", &c), 0);
	assert_string_equal(c.batch, "PRE");
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	assert_int_equal(rep.records, 2);
	free(text);
	tsm_store_close(s);
}

static void
test_json(void **state)
{
	struct tsm_store *s;
	struct tsm_import_result res;
	struct tsm_card c;
	struct bad b;

	(void)state;
	s = fresh("E2");
	assert_int_equal(import_text(s, "good.json",
	    "[\n"
	    "  {\"csn\": \"a1a1a1a1\", \"product\": \"P1\", \"batch\": \"J\",\n"
	    "   \"transport_key_version\": 255, \"kdd\": \"0102\"},\n"
	    "  {\"csn\": \"B1B1B1B1\", \"product\": \"P1\", \"batch\": \"J\","
	    " \"tkv\": \"9\"}\n"
	    "]\n", 0, &b, &res), 0);
	assert_int_equal(res.imported, 2);
	assert_int_equal(tsm_store_card_get(s, "A1A1A1A1", &c), 0);
	assert_int_equal(c.transport_kv, 255);
	assert_string_equal(c.kdd, "0102");
	/* JSON Lines, with bad objects named by the line they start on */
	assert_int_equal(import_text(s, "bad.jsonl",
	    "{\"csn\":\"C1C1C1C1\",\"product\":\"P1\",\"batch\":\"J\"}\n"
	    "{\"csn\":\"C2C2C2C2\",\"product\":\"P1\",\"batch\":7}\n"
	    "{\"csn\":\"C3C3C3C3\",\"product\":\"P1\",\"batch\":\"J\","
	    "\"colour\":\"red\"}\n"
	    "{\"csn\":\"C4C4C4C4\",\n \"product\":\"P1\",\n \"batch\":\"J\","
	    " \"tkv\": 3.5}\n"
	    "{\"csn\":\"C5C5C5C5\",\"product\":\"P1\",\"batch\":\"J\",}\n"
	    "{\"csn\":\"A1A1A1A1\",\"product\":\"P1\",\"batch\":\"J\"}\n",
	    1, &b, &res), TSM_STORE_ERR_ROWS);
	assert_int_equal(b.n, 5);
	expect_bad(&b, 0, 2, "batch: not a string");
	expect_bad(&b, 1, 3, "unknown key \"colour\"");
	expect_bad(&b, 2, 4, "transport_key_version: not 0..255");
	expect_bad(&b, 3, 7, "not a valid JSON object");
	expect_bad(&b, 4, 8, "already in the store");
	assert_int_equal(res.imported, 1);
	/* structure errors stop the file at their line */
	assert_int_equal(import_text(s, "trunc.json",
	    "[{\"csn\":\"D1D1D1D1\",\"product\":\"P1\",\"batch\":\"J\"},\n"
	    " {\"csn\":\"D2D2D2D2\",\n", 0, &b, &res), TSM_STORE_ERR_FORMAT);
	expect_bad(&b, 0, 2, "not closed");
	assert_int_equal(import_text(s, "comma.json",
	    "[{\"csn\":\"D1D1D1D1\",\"product\":\"P1\",\"batch\":\"J\"},\n"
	    "]\n", 0, &b, &res), TSM_STORE_ERR_FORMAT);
	expect_bad(&b, 0, 2, "expected an object");
	assert_int_equal(tsm_store_card_get(s, "D1D1D1D1", &c),
	    TSM_STORE_ERR_NOTFOUND);
	tsm_store_close(s);
}

static void
test_commit_every(void **state)
{
	struct tsm_store *s;
	struct tsm_import_opts o;
	struct tsm_import_result res;
	struct tsm_audit_report rep;
	char path[512];

	(void)state;
	s = fresh("E3");
	write_rows(path, sizeof(path), "every.csv", "csn,product,batch", "E3",
	    ",P1,B", 2500);
	memset(&o, 0, sizeof(o));
	o.commit_every = 1000;
	assert_int_equal(tsm_store_import_file(s, path, &o, &res), 0);
	assert_int_equal(res.transactions, 3);
	assert_int_equal(res.imported, 2500);
	assert_int_equal(suite_count(s, q_cards), 2500);
	/* each chunk left an audit record */
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	assert_int_equal(rep.records, 3);
	tsm_store_close(s);
}

static void
child_progress(void *arg, uint64_t done, uint64_t total, uint64_t rows)
{
	(void)done;
	(void)total;
	if (rows > 0 && write(*(int *)arg, "r", 1) != 1)
		_exit(5);
}

/* Child: imports, signalling through the pipe as rows go by. */
static void
child_import(const char *url, const char *path, uint64_t every, int fd)
{
	struct tsm_store *s;
	struct tsm_import_opts o;
	struct tsm_import_result res;
	char kek[512];
	struct tsm_store_opts so = { kek, 1 };

	snprintf(kek, sizeof(kek), "%s/suite.kek", suite_dir);
	if (tsm_store_open(&s, url, &so) != 0)
		_exit(3);
	memset(&o, 0, sizeof(o));
	o.commit_every = every;
	o.progress = child_progress;
	o.arg = &fd;
	o.bad_row = NULL;
	(void)tsm_store_import_file(s, path, &o, &res);
	_exit(4);	/* finished: the parent was too slow */
}

static void
kill_during(uint64_t every)
{
	struct tsm_store *s;
	struct tsm_audit_report rep;
	char url[512], path[512], c;
	int64_t n;
	pid_t pid;
	int fds[2], st, i;

	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "E4", 0);
	write_rows(path, sizeof(path), "kill.csv", "csn,product,batch,tkv",
	    "E4", ",P1,K,1", 400000);
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		child_import(url, path, every, fds[1]);
	}
	assert_true(pid > 0);
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);	/* rows are going in */
	for (i = 0; i < 2 && read(fds[0], &c, 1) == 1; i++)
		;	/* well past the first chunk when chunked */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(fds[0]);
	assert_true(WIFSIGNALED(st));	/* killed mid-import, not finished */
	n = suite_count(s, q_cards);
	if (every == 0)
		assert_int_equal(n, 0);
	else {
		assert_true(n > 0 && n < 400000);
		assert_int_equal(n % (int64_t)every, 0);
	}
	assert_int_equal(tsm_store_audit_verify(s, &rep), 0);
	assert_int_equal(rep.records, every == 0 ? 0 : n / (int64_t)every);
	tsm_store_close(s);
}

static void
test_kill_whole(void **state)
{
	(void)state;
	kill_during(0);
}

static void
test_kill_chunked(void **state)
{
	(void)state;
	kill_during(5000);
}

const struct CMUnitTest suite_import[] = {
	cmocka_unit_test(test_csv_good),
	cmocka_unit_test(test_csv_bad),
	cmocka_unit_test(test_csv_batches),
	cmocka_unit_test(test_json),
	cmocka_unit_test(test_commit_every),
	cmocka_unit_test(test_kill_whole),
	cmocka_unit_test(test_kill_chunked),
};
const size_t suite_import_n = sizeof(suite_import) / sizeof(suite_import[0]);
