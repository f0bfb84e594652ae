/*
 * Unit tests of tsm/gp/apdu.c: ISO 7816-4 cases 1 to 4 in short and
 * extended form, rejection of inconsistent lengths, chaining pieces,
 * the 61xx / 6Cxx rules, GET RESPONSE and R-APDUs. Expected bytes are
 * written out by hand from ISO 7816-4 5.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/err.h"

#include "testutil.h"

struct parse_case {
	const char	*name;
	const char	*hex;
	int		 rc;
	int		 apdu_case;
	size_t		 lc;
	size_t		 ne;
	int		 ext;
	size_t		 data_off;
};

static const struct parse_case parse_cases[] = {
	{ "case 1", "00A40400", 0, 1, 0, 0, 0, 0 },
	{ "case 2S", "00C0000010", 0, 2, 0, 16, 0, 0 },
	{ "case 2S, Le 00 = 256", "00C0000000", 0, 2, 0, 256, 0, 0 },
	{ "case 3S", "80E2900003AABBCC", 0, 3, 3, 0, 0, 5 },
	{ "case 4S, Le 00", "00A4040005A00000000300", 0, 4, 5, 256, 0, 5 },
	{ "case 4S, Le 10", "00A4040001AA10", 0, 4, 1, 16, 0, 5 },
	{ "case 2E", "00B00000000100", 0, 2, 0, 256, 1, 0 },
	{ "case 2E, Le 0000 = 65536", "00B00000000000", 0, 2, 0, 65536, 1,
	    0 },
	{ "case 3E", "80E20000000003AABBCC", 0, 3, 3, 0, 1, 7 },
	{ "case 4E, Le 0000", "80E20000000003AABBCC0000", 0, 4, 3, 65536, 1,
	    7 },
	{ "case 4E, Le 0102", "80E20000000003AABBCC0102", 0, 4, 3, 258, 1, 7 },
	{ "empty", "", GP_ERR_TRUNC, 0, 0, 0, 0, 0 },
	{ "3-byte header", "00A404", GP_ERR_TRUNC, 0, 0, 0, 0, 0 },
	{ "3S data short", "00A4040005A000", GP_ERR_TRUNC, 0, 0, 0, 0, 0 },
	{ "3S data long", "00A4040002AABBCCDD", GP_ERR_FORMAT, 0, 0, 0, 0,
	    0 },
	{ "00 then one byte", "80E200000000", GP_ERR_FORMAT, 0, 0, 0, 0, 0 },
	{ "extended Lc 0000", "80E20000000000AA", GP_ERR_FORMAT, 0, 0, 0, 0,
	    0 },
	{ "3E data short", "80E20000000005AABB", GP_ERR_TRUNC, 0, 0, 0, 0,
	    0 },
	{ "4E with one Le byte", "80E20000000001AA00", GP_ERR_FORMAT, 0, 0,
	    0, 0, 0 },
	{ "4E with three Le bytes", "80E20000000001AA000000", GP_ERR_FORMAT,
	    0, 0, 0, 0, 0 },
};

static void
test_parse_table(void **state)
{
	const struct parse_case *c;
	struct gp_apdu a;
	uint8_t b[64];
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		c = &parse_cases[i];
		n = unhex(c->hex, b, sizeof(b));
		rc = gp_apdu_parse(b, n, &a);
		if (rc != c->rc)
			fail_msg("%s: rc %d want %d", c->name, rc, c->rc);
		if (rc != 0)
			continue;
		if (gp_apdu_case(&a) != c->apdu_case || a.lc != c->lc ||
		    a.ne != c->ne || a.ext != c->ext)
			fail_msg("%s: case %d lc %zu ne %zu ext %d", c->name,
			    gp_apdu_case(&a), a.lc, a.ne, a.ext);
		assert_int_equal(a.cla, b[0]);
		assert_int_equal(a.ins, b[1]);
		assert_int_equal(a.p1, b[2]);
		assert_int_equal(a.p2, b[3]);
		if (c->lc > 0)
			assert_ptr_equal(a.data, b + c->data_off);
	}
}

static const uint8_t abc[] = { 0xAA, 0xBB, 0xCC };

struct enc_case {
	const char	*name;
	uint8_t		 cla, ins, p1, p2;
	size_t		 lc;	/* of abc */
	size_t		 ne;
	int		 ext;
	const char	*hex;
};

static const struct enc_case enc_cases[] = {
	{ "case 1", 0x80, 0xF2, 0x80, 0x02, 0, 0, 0, "80F28002" },
	{ "case 2S, 256", 0x80, 0xCA, 0x00, 0x66, 0, 256, 0, "80CA006600" },
	{ "case 2S, 16", 0x80, 0xCA, 0x00, 0x66, 0, 16, 0, "80CA006610" },
	{ "case 3S", 0x80, 0xE2, 0x90, 0x00, 3, 0, 0, "80E2900003AABBCC" },
	{ "case 4S", 0x00, 0xA4, 0x04, 0x00, 3, 256, 0,
	    "00A4040003AABBCC00" },
	{ "case 2E forced", 0x80, 0xCA, 0x00, 0x66, 0, 256, 1,
	    "80CA0066000100" },
	{ "case 2E for Ne 257", 0x80, 0xCA, 0x00, 0x66, 0, 257, 0,
	    "80CA0066000101" },
	{ "case 2E for Ne 65536", 0x80, 0xCA, 0x00, 0x66, 0, 65536, 0,
	    "80CA0066000000" },
	{ "case 3E forced", 0x80, 0xE2, 0x90, 0x00, 3, 0, 1,
	    "80E29000000003AABBCC" },
	{ "case 4E for Ne 65536", 0x80, 0xE2, 0x90, 0x00, 3, 65536, 0,
	    "80E29000000003AABBCC0000" },
	{ "case 1 with ext set", 0x00, 0x70, 0x00, 0x00, 0, 0, 1, "00700000" },
};

/* Each encoding is what ISO says, and parses back to the same command. */
static void
test_encode_table(void **state)
{
	const struct enc_case *c;
	struct gp_apdu a, back;
	uint8_t out[128], want[64];
	struct gp_wr w;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		c = &enc_cases[i];
		memset(&a, 0, sizeof(a));
		a.cla = c->cla;
		a.ins = c->ins;
		a.p1 = c->p1;
		a.p2 = c->p2;
		a.data = c->lc ? abc : NULL;
		a.lc = c->lc;
		a.ne = c->ne;
		a.ext = c->ext;
		n = unhex(c->hex, want, sizeof(want));
		gp_wr_init(&w, out, sizeof(out));
		assert_int_equal(gp_apdu_encode(&a, &w), 0);
		if (w.len != n || memcmp(out, want, n) != 0)
			fail_msg("%s: encoding differs", c->name);
		assert_int_equal(gp_apdu_parse(out, w.len, &back), 0);
		assert_int_equal(back.lc, a.lc);
		assert_int_equal(back.ne, a.ne);
		assert_int_equal(gp_apdu_case(&back), gp_apdu_case(&a));
		if (a.lc)
			assert_memory_equal(back.data, abc, a.lc);
	}
}

static void
test_encode_long(void **state)
{
	uint8_t *d = malloc(65535), *out = malloc(GP_APDU_WIRE_MAX + 16);
	struct gp_apdu a = { .cla = 0x80, .ins = 0xE8, .p1 = 0, .p2 = 1 };
	struct gp_apdu back;
	struct gp_wr w;

	(void)state;
	assert_non_null(d);
	assert_non_null(out);
	memset(d, 0x5A, 65535);
	/* 256 bytes of data switch to extended: 00 0100. */
	a.data = d;
	a.lc = 256;
	gp_wr_init(&w, out, GP_APDU_WIRE_MAX + 16);
	assert_int_equal(gp_apdu_encode(&a, &w), 0);
	assert_int_equal(w.len, 4 + 3 + 256);
	assert_memory_equal(out, "\x80\xE8\x00\x01\x00\x01\x00", 7);
	/* The longest command: 65535 bytes and Le 0000. */
	a.lc = 65535;
	a.ne = 65536;
	gp_wr_init(&w, out, GP_APDU_WIRE_MAX + 16);
	assert_int_equal(gp_apdu_encode(&a, &w), 0);
	assert_int_equal(w.len, GP_APDU_WIRE_MAX);
	assert_memory_equal(out + 4, "\x00\xFF\xFF", 3);
	assert_int_equal(out[w.len - 2], 0x00);
	assert_int_equal(out[w.len - 1], 0x00);
	assert_int_equal(gp_apdu_parse(out, w.len, &back), 0);
	assert_int_equal(back.lc, 65535);
	assert_int_equal(back.ne, 65536);
	free(d);
	free(out);
}

static void
test_encode_errors(void **state)
{
	static uint8_t d[4];
	struct gp_apdu a = { .cla = 0x80, .ins = 0xE2 };
	uint8_t out[32];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, out, sizeof(out));
	a.data = d;
	a.lc = 65536;
	assert_int_equal(gp_apdu_encode(&a, &w), GP_ERR_INVAL);
	a.lc = 0;
	a.ne = 65537;
	assert_int_equal(gp_apdu_encode(&a, &w), GP_ERR_INVAL);
	a.ne = 0;
	a.lc = 1;
	a.data = NULL;
	assert_int_equal(gp_apdu_encode(&a, &w), GP_ERR_INVAL);
	assert_int_equal(w.len, 0);
	/* Data that cannot fit: nothing written. */
	a.data = d;
	a.lc = 4;
	gp_wr_init(&w, out, 6);
	assert_int_equal(gp_apdu_encode(&a, &w), GP_ERR_SPACE);
	assert_int_equal(w.len, 0);
}

/*
 * A buffer of exactly the encoded size must do (buf.h: "a write that does
 * not fit fails whole", so one that fits must succeed), up to the longest
 * command in GP_APDU_WIRE_MAX bytes.
 */
static void
test_encode_exact_fit(void **state)
{
	struct gp_apdu a = { .cla = 0x00, .ins = 0xA4, .p1 = 4, .p2 = 0 };
	static uint8_t big[GP_APDU_WIRE_MAX], data[65535];
	uint8_t out[5];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, out, 4);
	assert_int_equal(gp_apdu_encode(&a, &w), 0);
	assert_int_equal(w.len, 4);
	a.ne = 256;
	gp_wr_init(&w, out, 5);
	assert_int_equal(gp_apdu_encode(&a, &w), 0);
	assert_int_equal(out[4], 0x00);
	gp_wr_init(&w, out, 5);
	assert_int_equal(gp_apdu_get_response(16, &w), 0);
	assert_memory_equal(out, "\x00\xC0\x00\x00\x10", 5);
	/* Case 4E at its limits: 4 + 00 Lc1 Lc2 + 65535 + Le1 Le2. */
	a.data = data;
	a.lc = sizeof(data);
	a.ne = 65536;
	gp_wr_init(&w, big, sizeof(big));
	assert_int_equal(gp_apdu_encode(&a, &w), 0);
	assert_int_equal(w.len, GP_APDU_WIRE_MAX);
	assert_memory_equal(big + 4, "\x00\xFF\xFF", 3);
	assert_memory_equal(big + GP_APDU_WIRE_MAX - 2, "\x00\x00", 2);
	gp_wr_init(&w, big, sizeof(big) - 1);
	assert_int_equal(gp_apdu_encode(&a, &w), GP_ERR_SPACE);
	assert_int_equal(w.len, 0);
}

/* 600 bytes in pieces of 255: 255 + 255 + 90, chain bit on all but last. */
static void
test_chain(void **state)
{
	uint8_t d[600], out[300];
	struct gp_apdu a = { .cla = 0x80, .ins = 0xE2, .p1 = 0, .p2 = 0 };
	struct gp_apdu p;
	struct gp_wr w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)i;
	a.data = d;
	a.lc = sizeof(d);
	a.ne = 256;
	assert_int_equal(gp_apdu_chain_count(600, 255), 3);
	assert_int_equal(gp_apdu_chain_count(0, 255), 1);
	assert_int_equal(gp_apdu_chain_count(255, 255), 1);
	assert_int_equal(gp_apdu_chain_count(256, 255), 2);
	assert_int_equal(gp_apdu_chain_count(10, 0), 0);
	assert_int_equal(gp_apdu_chain_piece(&a, 255, 0, &p), 0);
	assert_int_equal(p.cla, 0x90);
	assert_int_equal(p.lc, 255);
	assert_ptr_equal(p.data, d);
	assert_int_equal(p.ne, 0);
	assert_int_equal(gp_apdu_chain_piece(&a, 255, 1, &p), 0);
	assert_int_equal(p.cla, 0x90);
	assert_ptr_equal(p.data, d + 255);
	assert_int_equal(gp_apdu_chain_piece(&a, 255, 2, &p), 0);
	assert_int_equal(p.cla, 0x80);
	assert_int_equal(p.lc, 90);
	assert_ptr_equal(p.data, d + 510);
	assert_int_equal(p.ne, 256);
	gp_wr_init(&w, out, sizeof(out));
	assert_int_equal(gp_apdu_encode(&p, &w), 0);
	assert_int_equal(w.len, 4 + 1 + 90 + 1);
	assert_memory_equal(out, "\x80\xE2\x00\x00\x5A", 5);
	assert_int_equal(out[5], 510 & 0xFF);
	assert_int_equal(out[w.len - 1], 0x00);
	assert_int_equal(gp_apdu_chain_piece(&a, 255, 3, &p), GP_ERR_INVAL);
	assert_int_equal(gp_apdu_chain_piece(&a, 0, 0, &p), GP_ERR_INVAL);
	/* No data: one piece, the command itself. */
	a.data = NULL;
	a.lc = 0;
	assert_int_equal(gp_apdu_chain_piece(&a, 255, 0, &p), 0);
	assert_int_equal(p.cla, 0x80);
	assert_int_equal(p.lc, 0);
	assert_null(p.data);
	assert_int_equal(p.ne, 256);
}

struct sw_case {
	uint16_t	 sw;
	enum gp_sw_next	 next;
	size_t		 ne;
	int		 ok;
	int		 warn;
};

static const struct sw_case sw_cases[] = {
	{ 0x9000, GP_SW_DONE, 0, 1, 0 },
	{ 0x6110, GP_SW_GET_RESPONSE, 16, 1, 0 },
	{ 0x6100, GP_SW_GET_RESPONSE, 256, 1, 0 },
	{ 0x6C20, GP_SW_RESEND, 32, 0, 0 },
	{ 0x6C00, GP_SW_RESEND, 256, 0, 0 },
	{ 0x6283, GP_SW_DONE, 0, 0, 1 },
	{ 0x6310, GP_SW_DONE, 0, 0, 1 },
	{ 0x6300, GP_SW_DONE, 0, 0, 1 },	/* a refused cryptogram */
	{ 0x63C2, GP_SW_DONE, 0, 0, 1 },
	{ 0x6A82, GP_SW_DONE, 0, 0, 0 },
	{ 0x6982, GP_SW_DONE, 0, 0, 0 },
	{ 0x9100, GP_SW_DONE, 0, 0, 0 },
};

static void
test_sw_rules(void **state)
{
	const struct sw_case *c;
	size_t i, ne;

	(void)state;
	for (i = 0; i < sizeof(sw_cases) / sizeof(sw_cases[0]); i++) {
		c = &sw_cases[i];
		ne = 0;
		if (gp_sw_next(c->sw, &ne) != c->next)
			fail_msg("%04X: next", c->sw);
		if (c->next != GP_SW_DONE && ne != c->ne)
			fail_msg("%04X: ne %zu want %zu", c->sw, ne, c->ne);
		if (gp_sw_ok(c->sw) != c->ok)
			fail_msg("%04X: ok", c->sw);
		if (gp_sw_warning(c->sw) != c->warn)
			fail_msg("%04X: warning", c->sw);
	}
}

static void
test_get_response(void **state)
{
	uint8_t out[32];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, out, sizeof(out));
	assert_int_equal(gp_apdu_get_response(16, &w), 0);
	assert_int_equal(w.len, 5);
	assert_memory_equal(out, "\x00\xC0\x00\x00\x10", 5);
	gp_wr_init(&w, out, sizeof(out));
	assert_int_equal(gp_apdu_get_response(256, &w), 0);
	assert_memory_equal(out, "\x00\xC0\x00\x00\x00", 5);
	assert_int_equal(gp_apdu_get_response(0, &w), GP_ERR_INVAL);
	assert_int_equal(gp_apdu_get_response(257, &w), GP_ERR_INVAL);
}

static void
test_rapdu(void **state)
{
	static const uint8_t r1[] = { 0x90, 0x00 };
	static const uint8_t r2[] = { 0xAA, 0xBB, 0x61, 0x10 };
	struct gp_rapdu r;
	uint8_t out[8];
	struct gp_wr w;

	(void)state;
	assert_int_equal(gp_rapdu_parse(r1, 2, &r), 0);
	assert_int_equal(r.sw, 0x9000);
	assert_int_equal(r.len, 0);
	assert_null(r.data);
	assert_int_equal(gp_rapdu_parse(r2, 4, &r), 0);
	assert_int_equal(r.sw, 0x6110);
	assert_int_equal(r.len, 2);
	assert_ptr_equal(r.data, r2);
	assert_int_equal(gp_rapdu_parse(r1, 1, &r), GP_ERR_TRUNC);
	assert_int_equal(gp_rapdu_parse(NULL, 0, &r), GP_ERR_TRUNC);
	gp_wr_init(&w, out, sizeof(out));
	assert_int_equal(gp_rapdu_encode(r2, 2, 0x6A82, &w), 0);
	assert_int_equal(w.len, 4);
	assert_memory_equal(out, "\xAA\xBB\x6A\x82", 4);
	gp_wr_init(&w, out, 3);
	assert_int_equal(gp_rapdu_encode(r2, 2, 0x9000, &w), GP_ERR_SPACE);
	assert_int_equal(w.len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_long),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_encode_exact_fit),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_sw_rules),
		cmocka_unit_test(test_get_response),
		cmocka_unit_test(test_rapdu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
