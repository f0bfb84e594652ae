/*
 * The import row parsers, table-driven: CSV headers and rows, JSON
 * objects, and the JSON stream splitter on truncated, overlong, nested,
 * zero-length and malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_int.h"

struct csv_case {
	const char	*line;
	int		 rc;
	const char	*want;	/* csn on success, reason fragment else */
};

static const struct csv_case csv_cases[] = {
	{ "0a0b0c0d,P,B,1", 0, "0A0B0C0D" },
	{ "\"0A0B0C0D\",\"P \"\"x\"\"\",B,", 0, "0A0B0C0D" },
	{ " 0A0B0C0D , P , B , 255 ", 0, "0A0B0C0D" },
	{ "", TSM_STORE_ERR_FORMAT, "csn: wrong length" },
	{ "0A0B0C0D,P,B", TSM_STORE_ERR_FORMAT, "3 fields, the header has 4" },
	{ "0A0B0C0D,P,B,1,2", TSM_STORE_ERR_FORMAT, "more than the 4" },
	{ "0A0B0C0,P,B,1", TSM_STORE_ERR_FORMAT, "wrong length" },
	{ "0A0B0C0D0,P,B,1", TSM_STORE_ERR_FORMAT, "odd number" },
	{ "0A0B0C0G,P,B,1", TSM_STORE_ERR_FORMAT, "not hexadecimal" },
	{ "0A0B0C0D,,B,1", TSM_STORE_ERR_FORMAT, "product: empty" },
	{ "0A0B0C0D,P\x01,B,1", TSM_STORE_ERR_FORMAT, "control character" },
	{ "0A0B0C0D,P,B,1000", TSM_STORE_ERR_FORMAT, "not 0..255" },
	{ "0A0B0C0D,P,B,-1", TSM_STORE_ERR_FORMAT, "not a decimal" },
	{ "\"0A0B0C0D,P,B,1", TSM_STORE_ERR_FORMAT, "unterminated quote" },
	{ "\"0A0B0C0D\"x,P,B,1", TSM_STORE_ERR_FORMAT, "after a closing" },
};

static void
test_csv(void **state)
{
	struct tsm_csv_cols cols;
	struct tsm_import_row row;
	char why[200];
	const char *hdr = "csn,product,batch,tkv";
	size_t i;
	int r;

	(void)state;
	assert_int_equal(tsm_csv_header(hdr, strlen(hdr), &cols, why,
	    sizeof(why)), 0);
	assert_int_equal(cols.ncols, 4);
	for (i = 0; i < sizeof(csv_cases) / sizeof(csv_cases[0]); i++) {
		why[0] = '\0';
		r = tsm_csv_row(&cols, csv_cases[i].line,
		    strlen(csv_cases[i].line), &row, why, sizeof(why));
		if (r != csv_cases[i].rc)
			fprintf(stderr, "case %zu: %d %s\n", i, r, why);
		assert_int_equal(r, csv_cases[i].rc);
		if (r == 0)
			assert_string_equal(row.csn, csv_cases[i].want);
		else
			assert_non_null(strstr(why, csv_cases[i].want));
	}
	hdr = "0A0B0C0D,P \"x\",B,";
	assert_int_equal(tsm_csv_row(&cols, hdr, strlen(hdr), &row, why,
	    sizeof(why)), 0);
	assert_string_equal(row.product, "P \"x\"");
}

static void
test_csv_header(void **state)
{
	struct tsm_csv_cols cols;
	char why[200];
	static const char *const bad[] = {
		"product,batch", "csn,csn", "csn,colour", "",
		"csn,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tsm_csv_header(bad[i], strlen(bad[i]), &cols,
		    why, sizeof(why)), TSM_STORE_ERR_FORMAT);
	assert_int_equal(tsm_csv_header("CSN,Transport_Key_Version", 25,
	    &cols, why, sizeof(why)), 0);
	assert_int_equal(cols.map[1], TSM_F_TKV);
}

struct json_case {
	const char	*obj;
	int		 rc;
	const char	*want;
};

static const struct json_case json_cases[] = {
	{ "{\"csn\":\"0a0b0c0d\",\"product\":\"P\",\"batch\":\"B\"}", 0,
	    "0A0B0C0D" },
	{ "{\"csn\":\"0A0B0C0D\",\"product\":\"P\",\"batch\":\"B\","
	    "\"tkv\":32}", 0, "0A0B0C0D" },
	{ "{}", TSM_STORE_ERR_FORMAT, "csn: missing" },
	{ "[]", TSM_STORE_ERR_FORMAT, "not a valid JSON object" },
	{ "{\"csn\":", TSM_STORE_ERR_FORMAT, "not a valid JSON object" },
	{ "{\"csn\":1}", TSM_STORE_ERR_FORMAT, "csn: not a string" },
	{ "{\"csn\":\"0A0B0C0D\",\"csn\":\"0A0B0C0D\"}", TSM_STORE_ERR_FORMAT,
	    "twice" },
	{ "{\"csn\":\"0A0B0C0D\",\"product\":\"P\",\"batch\":\"B\","
	    "\"tkv\":1e9}", TSM_STORE_ERR_FORMAT, "not 0..255" },
	{ "{\"x\":{}}", TSM_STORE_ERR_FORMAT, "unknown key" },
};

static void
test_json_rows(void **state)
{
	struct tsm_import_row row;
	char why[200];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
		why[0] = '\0';
		r = tsm_json_row(json_cases[i].obj, strlen(json_cases[i].obj),
		    &row, why, sizeof(why));
		assert_int_equal(r, json_cases[i].rc);
		if (r == 0)
			assert_string_equal(row.csn, json_cases[i].want);
		else
			assert_non_null(strstr(why, json_cases[i].want));
	}
	assert_int_equal(tsm_json_row("", 0, &row, why, sizeof(why)),
	    TSM_STORE_ERR_FORMAT);
}

/* Feeds text; returns objects found, or the first error. */
static int
split(const char *text, uint64_t *line, char *why, size_t wl)
{
	struct tsm_json_split j;
	int n = 0, r;

	tsm_json_split_init(&j);
	for (; *text != '\0'; text++) {
		if ((r = tsm_json_split_byte(&j, (unsigned char)*text, why,
		    wl)) < 0) {
			*line = j.line;
			return r;
		}
		n += r;
	}
	*line = j.line;
	if ((r = tsm_json_split_end(&j, why, wl)) != 0)
		return r;
	return n;
}

static void
test_split(void **state)
{
	char why[200], big[TSM_LINE_MAX + 64];
	uint64_t line;

	(void)state;
	assert_int_equal(split("[{\"a\":\"}]\"},\n{\"b\":[1,{}]}]", &line,
	    why, sizeof(why)), 2);
	assert_int_equal(split("{}\n{}\n{}\n", &line, why, sizeof(why)), 3);
	assert_int_equal(split("[]", &line, why, sizeof(why)), 0);
	assert_int_equal(split("", &line, why, sizeof(why)),
	    TSM_STORE_ERR_FORMAT);
	assert_int_equal(split("[{},]", &line, why, sizeof(why)),
	    TSM_STORE_ERR_FORMAT);
	assert_int_equal(split("[{}{}]", &line, why, sizeof(why)),
	    TSM_STORE_ERR_FORMAT);
	assert_non_null(strstr(why, "expected , or ]"));
	assert_int_equal(split("[{}]\n\nx", &line, why, sizeof(why)),
	    TSM_STORE_ERR_FORMAT);
	assert_int_equal(line, 3);
	assert_int_equal(split("[{\"a\":\"\\\"}\"}", &line, why, sizeof(why)),
	    TSM_STORE_ERR_FORMAT);
	assert_non_null(strstr(why, "not closed with ]"));
	assert_int_equal(split("[{\"a\":[[[[[[[[[]]]]]]]]]}]", &line, why,
	    sizeof(why)), TSM_STORE_ERR_FORMAT);
	assert_non_null(strstr(why, "nested deeper"));
	memset(big, 'x', sizeof(big));
	big[0] = '{';
	big[1] = '"';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(split(big, &line, why, sizeof(why)),
	    TSM_STORE_ERR_TOOLARGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_header),
		cmocka_unit_test(test_json_rows),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
