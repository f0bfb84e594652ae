/*
 * The agent script format (tsm/gp/script.c): ETSI TS 102 226 expanded
 * command (AA / 22) and response (AB / 80 / 23 / 90) templates. Expected
 * encodings are written by hand from the clause 5.2 layouts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gp/buf.h"
#include "gp/err.h"
#include "gp/script.h"

#include "testutil.h"

#define BUFSZ	2048

static void
assert_hex(const struct gp_wr *w, const char *hex)
{
	uint8_t want[BUFSZ];
	size_t n = unhex(hex, want, sizeof(want));

	assert_int_equal(w->len, n);
	assert_memory_equal(w->p, want, n);
}

static void
test_encode(void **state)
{
	static const uint8_t sel[5] = { 0x00, 0xA4, 0x04, 0x00, 0x00 };
	static const uint8_t gd[5] = { 0x80, 0xCA, 0x9F, 0x7F, 0x00 };
	static const uint8_t junk[3] = { 0x80, 0xCA, 0x9F };
	struct gp_span a[2] = { { sel, 5 }, { gd, 5 } };
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode(NULL, 0, &w), 0);
	assert_hex(&w, "AA00");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode(a, 2, &w), 0);
	assert_hex(&w, "AA0E" "220500A4040000" "220580CA9F7F00");
	a[1].p = junk;
	a[1].len = 3;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode(a, 2, &w), GP_ERR_INVAL);
}

/* An APDU 80 E8 00 00 Lc + Lc bytes of 5A. */
static size_t
big_apdu(uint8_t *p, size_t lc)
{
	p[0] = 0x80;
	p[1] = 0xE8;
	p[2] = p[3] = 0x00;
	p[4] = (uint8_t)lc;
	memset(p + 5, 0x5A, lc);
	return 5 + lc;
}

static void
test_long_lengths(void **state)
{
	uint8_t ap[300], buf[BUFSZ];
	struct gp_span a = { ap, 0 }, out[2];
	struct gp_wr w;
	size_t n;

	(void)state;
	/* 129-byte APDU: 22 81 81, template 81 84 */
	a.len = big_apdu(ap, 124);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode(&a, 1, &w), 0);
	assert_int_equal(w.len, 3 + 3 + 129);
	assert_memory_equal(buf, "\xAA\x81\x84\x22\x81\x81\x80\xE8", 8);
	/* 260-byte APDU: 22 82 01 04, template 82 01 08 */
	a.len = big_apdu(ap, 255);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode(&a, 1, &w), 0);
	assert_int_equal(w.len, 4 + 4 + 260);
	assert_memory_equal(buf, "\xAA\x82\x01\x08\x22\x82\x01\x04", 8);
	assert_int_equal(gp_script_decode(buf, w.len, out, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].len, 260);
	assert_ptr_equal(out[0].p, buf + 8);
}

struct dec_case {
	const char	*hex;
	size_t		 cap;
	int		 rc;
	size_t		 n;
};

static void
test_decode(void **state)
{
	static const struct dec_case t[] = {
		{ "AA00", 4, 0, 0 },
		{ "AA0E220500A4040000220580CA9F7F00", 4, 0, 2 },
		{ "AA0E220500A4040000220580CA9F7F00", 2, 0, 2 },
		/* too many commands for the capacity */
		{ "AA0E220500A4040000220580CA9F7F00", 1, GP_ERR_SPACE, 1 },
		/* truncated: template, then inner C-APDU */
		{ "AA0E220500A4040000220580CA9F7F", 4, GP_ERR_TRUNC, 0 },
		{ "AA07220600A4040000", 4, GP_ERR_TRUNC, 0 },
		{ "AA", 4, GP_ERR_TRUNC, 0 },
		{ "", 4, GP_ERR_TRUNC, 0 },
		/* indefinite length, either form */
		{ "AE80220500A40400000000", 4, GP_ERR_UNSUPPORTED, 0 },
		{ "AA80220500A40400000000", 4, GP_ERR_UNSUPPORTED, 0 },
		/* script chaining skipped; actions refused */
		{ "AA0A83010122058001020300", 4, 0, 1 },
		{ "AA0A830101220580CA9F7F00", 4, 0, 1 },
		{ "AA0A810101220580CA9F7F00", 4, GP_ERR_UNSUPPORTED, 0 },
		{ "AA0A820101220580CA9F7F00", 4, GP_ERR_UNSUPPORTED, 0 },
		/* unknown child, bad C-APDU, wrong template, trailing byte */
		{ "AA0A240101220580CA9F7F00", 4, GP_ERR_FORMAT, 0 },
		{ "AA05220380CA9F", 4, GP_ERR_FORMAT, 0 },
		{ "AB0780010123026D00", 4, GP_ERR_FORMAT, 0 },
		{ "AA00" "00", 4, GP_ERR_FORMAT, 0 },
	};
	uint8_t in[BUFSZ];
	struct gp_span out[4];
	size_t i, len, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("decode %zu: %s\n", i, t[i].hex);
		len = unhex(t[i].hex, in, sizeof(in));
		assert_int_equal(gp_script_decode(in, len, out, t[i].cap, &n),
		    t[i].rc);
		if (t[i].rc == 0 || t[i].rc == GP_ERR_SPACE)
			assert_int_equal(n, t[i].n);
	}
}

static void
test_rsp_encode(void **state)
{
	static const uint8_t r1[2] = { 0x90, 0x00 };
	static const uint8_t r2[4] = { 0x01, 0x02, 0x90, 0x00 };
	struct gp_span ra[2] = { { r1, 2 }, { r2, 4 } };
	struct gp_script_rsp rsp = { .rapdus = ra, .n = 2, .executed = 2,
	    .bad_format = -1 };
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_rsp_encode(&rsp, &w), 0);
	assert_hex(&w, "AB0D" "800102" "23029000" "230401029000");
	rsp.n = 0;
	rsp.executed = 0;
	rsp.bad_format = GP_SCRIPT_BAD_TAG;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_rsp_encode(&rsp, &w), 0);
	assert_hex(&w, "AB06" "800100" "900101");
	rsp.executed = 256;
	assert_int_equal(gp_script_rsp_encode(&rsp, &w), GP_ERR_INVAL);
}

struct rsp_case {
	const char	*hex;
	int		 rc;
	size_t		 n;
	unsigned	 executed;
	int		 bad;
};

static void
test_rsp_decode(void **state)
{
	static const struct rsp_case t[] = {
		{ "AB0780010123026D00", 0, 1, 1, -1 },
		{ "AB0D80010223029000230401029000", 0, 2, 2, -1 },
		{ "AB03800100", 0, 0, 0, -1 },
		{ "AB06800100900102", 0, 0, 0, 2 },
		{ "AB0423026D00", GP_ERR_FORMAT, 1, 0, -1 },	/* no 80 */
		{ "AB068001008001", GP_ERR_TRUNC, 0, 0, -1 },
		{ "AB06800100800100", GP_ERR_FORMAT, 0, 0, -1 },
		{ "AB06800100230190", GP_ERR_FORMAT, 0, 0, -1 },
		{ "AB0780010190020102", GP_ERR_FORMAT, 0, 0, -1 },
		{ "AF80800101230290000000", GP_ERR_UNSUPPORTED, 0, 0, -1 },
		{ "AB808001012302900000", GP_ERR_UNSUPPORTED, 0, 0, -1 },
		/* three R-APDUs, capacity two */
		{ "AB0F800103230290002302900023029000", GP_ERR_SPACE, 2, 3,
		    -1 },
	};
	uint8_t in[BUFSZ];
	struct gp_span ra[2];
	struct gp_script_rsp rsp;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("rsp %zu: %s\n", i, t[i].hex);
		len = unhex(t[i].hex, in, sizeof(in));
		memset(&rsp, 0, sizeof(rsp));
		rsp.rapdus = ra;
		rsp.cap = 2;
		assert_int_equal(gp_script_rsp_decode(in, len, &rsp), t[i].rc);
		if (t[i].rc != 0 && t[i].rc != GP_ERR_SPACE)
			continue;
		assert_int_equal(rsp.n, t[i].n);
		assert_int_equal(rsp.executed, t[i].executed);
		assert_int_equal(rsp.bad_format, t[i].bad);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_long_lengths),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_rsp_encode),
		cmocka_unit_test(test_rsp_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
