/*
 * The agent script format (tsm/gp/script.c): ETSI TS 102 226 expanded
 * command (AA / 22) and response (AB / 80 / 23 / 90) templates, and our
 * expected R-APDU extension (DF 20 after a 22). Expected encodings are
 * written by hand from the clause 5.2 layouts.
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

#define SEL	"220500A4040000"	/* 22 { 00 A4 04 00 00 } */
#define GD	"220580CA9F7F00"	/* 22 { 80 CA 9F 7F 00 } */

static void
test_encode_x(void **state)
{
	static const uint8_t sel[5] = { 0x00, 0xA4, 0x04, 0x00, 0x00 };
	static const uint8_t gd[5] = { 0x80, 0xCA, 0x9F, 0x7F, 0x00 };
	static const uint8_t ok[2] = { 0x90, 0x00 };
	static const uint8_t iu[4] = { 0x01, 0x02, 0x63, 0x10 };
	struct gp_span a[2] = { { sel, 5 }, { gd, 5 } };
	struct gp_span e[2] = { { ok, 2 }, { NULL, 0 } };
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	/* NULL expectations: exactly gp_script_encode's bytes. */
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(a, NULL, 2, &w), 0);
	assert_hex(&w, "AA0E" SEL GD);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(NULL, NULL, 0, &w), 0);
	assert_hex(&w, "AA00");
	/* DF 20 right after the command it guards. */
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(a, e, 2, &w), 0);
	assert_hex(&w, "AA13" SEL "DF20029000" GD);
	e[1].p = iu;
	e[1].len = 4;
	/* A length without bytes is a caller's mistake, not "none". */
	e[0].p = NULL;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(a, e, 2, &w), GP_ERR_INVAL);
	e[0].len = 0;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(a, e, 2, &w), 0);
	assert_hex(&w, "AA15" SEL GD "DF200401026310");
	/* len 0 is none whatever p says. */
	e[1].len = 0;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(a, e, 2, &w), 0);
	assert_hex(&w, "AA0E" SEL GD);
}

static void
test_encode_x_refused(void **state)
{
	static const uint8_t sel[5] = { 0x00, 0xA4, 0x04, 0x00, 0x00 };
	static uint8_t big[GP_SCRIPT_EXPECT_MAX + 1];
	struct gp_span a = { sel, 5 }, e;
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	/* Too short, too long, a length without bytes. */
	e = (struct gp_span){ big, 1 };
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(&a, &e, 1, &w), GP_ERR_INVAL);
	e = (struct gp_span){ big, GP_SCRIPT_EXPECT_MAX + 1 };
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(&a, &e, 1, &w), GP_ERR_INVAL);
	e = (struct gp_span){ NULL, 2 };
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(&a, &e, 1, &w), GP_ERR_INVAL);
	/* The largest: DF 20 82 01 02, template 82 01 0E. */
	e = (struct gp_span){ big, GP_SCRIPT_EXPECT_MAX };
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(&a, &e, 1, &w), 0);
	assert_int_equal(w.len, 4 + 7 + 5 + 258);
	assert_memory_equal(buf, "\xAA\x82\x01\x0E", 4);
	assert_memory_equal(buf + 11, "\xDF\x20\x82\x01\x02", 5);
	/* No room: GP_ERR_SPACE from the writer. */
	gp_wr_init(&w, buf, 20);
	assert_int_equal(gp_script_encode_x(&a, &e, 1, &w), GP_ERR_SPACE);
}

struct decx_case {
	const char	*hex;
	size_t		 cap;
	int		 rc;		/* gp_script_decode_x */
	int		 rc_plain;	/* gp_script_decode */
	size_t		 n;
	const char	*e[2];		/* expected R-APDUs, NULL none */
};

static void
test_decode_x(void **state)
{
	static const struct decx_case t[] = {
		{ "AA0E" SEL GD, 2, 0, 0, 2, { NULL, NULL } },
		{ "AA00", 2, 0, 0, 0, { NULL, NULL } },
		{ "AA13" SEL "DF20029000" GD, 2, 0, GP_ERR_UNSUPPORTED, 2,
		    { "9000", NULL } },
		{ "AA13" SEL GD "DF20026A82", 2, 0, GP_ERR_UNSUPPORTED, 2,
		    { NULL, "6A82" } },
		{ "AA1A" SEL "DF20029000" GD "DF200401026310", 2, 0,
		    GP_ERR_UNSUPPORTED, 2, { "9000", "01026310" } },
		/* chaining before the first command is still skipped */
		{ "AA0F830101" SEL "DF20029000", 2, 0, GP_ERR_UNSUPPORTED, 1,
		    { "9000", NULL } },
		/* too many commands: the ones that fit are filled */
		{ "AA13" SEL "DF20029000" GD, 1, GP_ERR_SPACE,
		    GP_ERR_UNSUPPORTED, 1, { "9000", NULL } },
		/* DF 20 first, twice, after 83, after itself */
		{ "AA0C" "DF20029000" SEL, 2, GP_ERR_FORMAT,
		    GP_ERR_UNSUPPORTED, 0, { NULL, NULL } },
		{ "AA11" SEL "DF20029000" "DF20029000", 2, GP_ERR_FORMAT,
		    GP_ERR_UNSUPPORTED, 0, { NULL, NULL } },
		{ "AA0F" SEL "830101" "DF20029000", 2, GP_ERR_FORMAT,
		    GP_ERR_UNSUPPORTED, 0, { NULL, NULL } },
		/* values of 0 and 1 byte: no SW */
		{ "AA0A" SEL "DF2000", 2, GP_ERR_FORMAT, GP_ERR_UNSUPPORTED,
		    0, { NULL, NULL } },
		{ "AA0B" SEL "DF200190", 2, GP_ERR_FORMAT, GP_ERR_UNSUPPORTED,
		    0, { NULL, NULL } },
		/* truncated value, truncated tag */
		{ "AA0C" SEL "DF20059000", 2, GP_ERR_TRUNC, GP_ERR_TRUNC, 0,
		    { NULL, NULL } },
		{ "AA08" SEL "DF", 2, GP_ERR_TRUNC, GP_ERR_TRUNC, 0,
		    { NULL, NULL } },
		/* a neighbouring private tag is still unknown */
		{ "AA0C" SEL "DF21029000", 2, GP_ERR_FORMAT, GP_ERR_FORMAT,
		    0, { NULL, NULL } },
	};
	uint8_t in[BUFSZ];
	struct gp_span a[2], e[2];
	size_t i, j, len, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("decode_x %zu: %s\n", i, t[i].hex);
		len = unhex(t[i].hex, in, sizeof(in));
		assert_int_equal(gp_script_decode(in, len, a, t[i].cap, &n),
		    t[i].rc_plain);
		memset(e, 0xA5, sizeof(e));	/* absent must be written */
		assert_int_equal(gp_script_decode_x(in, len, a, e, t[i].cap,
		    &n), t[i].rc);
		if (t[i].rc != 0 && t[i].rc != GP_ERR_SPACE)
			continue;
		assert_int_equal(n, t[i].n);
		for (j = 0; j < n; j++) {
			if (t[i].e[j] == NULL) {
				assert_null(e[j].p);
				assert_int_equal(e[j].len, 0);
			} else
				assert_span_hex(&e[j], t[i].e[j]);
		}
	}
	/* Arguments. */
	len = unhex("AA0E" SEL GD, in, sizeof(in));
	assert_int_equal(gp_script_decode_x(in, len, a, NULL, 2, &n),
	    GP_ERR_INVAL);
	assert_int_equal(gp_script_decode_x(in, len, NULL, e, 2, &n),
	    GP_ERR_INVAL);
	assert_int_equal(n, 0);
}

/* A script with one 258- or 259-byte expectation, by hand. */
static size_t
long_expect(uint8_t *p, size_t vlen)
{
	static const uint8_t head[] = { 0xAA, 0x82, 0x00, 0x00,
	    0x22, 0x05, 0x00, 0xA4, 0x04, 0x00, 0x00,
	    0xDF, 0x20, 0x82, 0x00, 0x00 };
	size_t n = sizeof(head) + vlen;

	memcpy(p, head, sizeof(head));
	p[2] = (uint8_t)((n - 4) >> 8);
	p[3] = (uint8_t)(n - 4);
	p[14] = (uint8_t)(vlen >> 8);
	p[15] = (uint8_t)vlen;
	memset(p + sizeof(head), 0x3C, vlen - 2);
	p[n - 2] = 0x90;
	p[n - 1] = 0x00;
	return n;
}

static void
test_decode_x_long(void **state)
{
	uint8_t in[BUFSZ];
	struct gp_span a[1], e[1];
	size_t len, n;

	(void)state;
	len = long_expect(in, GP_SCRIPT_EXPECT_MAX);
	assert_int_equal(gp_script_decode_x(in, len, a, e, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(e[0].p, in + 16);
	assert_int_equal(e[0].len, 258);
	len = long_expect(in, GP_SCRIPT_EXPECT_MAX + 1);
	assert_int_equal(gp_script_decode_x(in, len, a, e, 1, &n),
	    GP_ERR_FORMAT);
}

static void
test_round_trip_x(void **state)
{
	static const uint8_t ap[3][5] = {
		{ 0x00, 0xA4, 0x04, 0x00, 0x00 },
		{ 0x80, 0x50, 0x00, 0x00, 0x00 },
		{ 0x84, 0x82, 0x33, 0x00, 0x00 },
	};
	uint8_t iu[32], buf[BUFSZ];
	struct gp_span a[3], e[3], b[3], f[3];
	struct gp_wr w;
	size_t i, n;

	(void)state;
	memset(iu, 0x11, sizeof(iu));
	iu[30] = 0x90;
	iu[31] = 0x00;
	for (i = 0; i < 3; i++) {
		a[i].p = ap[i];
		a[i].len = 5;
		e[i].p = NULL;
		e[i].len = 0;
	}
	e[1].p = iu;		/* the predicted INITIALIZE UPDATE answer */
	e[1].len = sizeof(iu);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_encode_x(a, e, 3, &w), 0);
	assert_int_equal(gp_script_decode_x(w.p, w.len, b, f, 3, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(b[i].len, 5);
		assert_memory_equal(b[i].p, ap[i], 5);
		assert_int_equal(f[i].len, e[i].len);
		if (e[i].len == 0)
			assert_null(f[i].p);
		else
			assert_memory_equal(f[i].p, e[i].p, e[i].len);
	}
	/* An agent without the extension refuses it whole. */
	assert_int_equal(gp_script_decode(w.p, w.len, b, 3, &n),
	    GP_ERR_UNSUPPORTED);
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
	/* Past 255 (a script of more than 255 commands): two bytes. */
	rsp.executed = 256;
	rsp.bad_format = 300;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_rsp_encode(&rsp, &w), 0);
	assert_hex(&w, "AB08" "80020100" "9002012C");
	rsp.executed = 255;
	rsp.bad_format = 255;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_script_rsp_encode(&rsp, &w), 0);
	assert_hex(&w, "AB06" "8001FF" "9001FF");
	rsp.executed = GP_SCRIPT_CMDS_MAX + 1;
	assert_int_equal(gp_script_rsp_encode(&rsp, &w), GP_ERR_INVAL);
	rsp.executed = 0;
	rsp.bad_format = GP_SCRIPT_CMDS_MAX + 1;
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
		{ "AB0780010190020102", 0, 0, 1, 258 },	/* two bytes */
		{ "AF80800101230290000000", GP_ERR_UNSUPPORTED, 0, 0, -1 },
		{ "AB808001012302900000", GP_ERR_UNSUPPORTED, 0, 0, -1 },
		/* two-byte counts, the shortest form only */
		{ "AB0480020100", 0, 0, 256, -1 },
		{ "AB0480020FFF", 0, 0, 4095, -1 },
		{ "AB07800100" "9002012C", 0, 0, 0, 300 },
		{ "AB0480020080", GP_ERR_FORMAT, 0, 0, -1 },
		{ "AB07800100" "900200FF", GP_ERR_FORMAT, 0, 0, -1 },
		{ "AB058003010000", GP_ERR_FORMAT, 0, 0, -1 },
		{ "AB028000", GP_ERR_FORMAT, 0, 0, -1 },
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
		cmocka_unit_test(test_encode_x),
		cmocka_unit_test(test_encode_x_refused),
		cmocka_unit_test(test_decode_x),
		cmocka_unit_test(test_decode_x_long),
		cmocka_unit_test(test_round_trip_x),
		cmocka_unit_test(test_rsp_encode),
		cmocka_unit_test(test_rsp_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
