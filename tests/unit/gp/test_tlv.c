/*
 * Unit tests of tsm/gp/tlv.c: strict BER-TLV parsing, walking, finding,
 * iterating and minimal encoding. Expected bytes are derived by hand.
 *
 * Encodings deliberately accepted: non-minimal long lengths (81 05,
 * 82 0005, 84 00000005: BER allows them and cards send them) and tag
 * numbers below 31 in two bytes (EMV's 9F02). Rejected: indefinite
 * length 80, length forms 85..FF, tags of more than 4 bytes, a tag whose
 * first subsequent byte is 80, a first tag byte of 00, and any length
 * running past its buffer.
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
#include "gp/tlv.h"

#define BIG	(70000 + 16)

/* Decodes hex then appends pad bytes of value 5A; returns the length. */
static size_t
unhex_pad(const char *hex, size_t pad, uint8_t *out, size_t cap)
{
	size_t n;

	assert_int_equal(gp_hex_decode(hex, out, cap, &n), 0);
	assert_true(n + pad <= cap);
	memset(out + n, 0x5a, pad);
	return n + pad;
}

struct parse_case {
	const char	*name;
	const char	*hex;
	size_t		 pad;
	int		 rc;
	uint32_t	 tag;
	size_t		 len;
	size_t		 rawlen;
};

static const struct parse_case parse_cases[] = {
	{ "short", "4F02A000", 0, 0, 0x4F, 2, 4 },
	{ "empty value", "8400", 0, 0, 0x84, 0, 2 },
	{ "two-byte tag", "9F700107", 0, 0, 0x9F70, 1, 4 },
	{ "two-byte tag, number < 31 (EMV)", "9F020100", 0, 0, 0x9F02, 1, 4 },
	{ "three-byte tag", "DF810101AA", 0, 0, 0xDF8101, 1, 5 },
	{ "four-byte tag", "5F81820300", 0, 0, 0x5F818203, 0, 5 },
	{ "five-byte tag", "5F8182830400", 0, GP_ERR_FORMAT, 0, 0, 0 },
	{ "tag with leading 80", "9F800100", 0, GP_ERR_FORMAT, 0, 0, 0 },
	{ "tag 00 (padding)", "0000", 0, GP_ERR_FORMAT, 0, 0, 0 },
	{ "tag truncated", "9F", 0, GP_ERR_TRUNC, 0, 0, 0 },
	{ "tag continuation truncated", "9F81", 0, GP_ERR_TRUNC, 0, 0, 0 },
	{ "no length", "4F", 0, GP_ERR_TRUNC, 0, 0, 0 },
	{ "81 form", "538180", 128, 0, 0x53, 128, 131 },
	{ "81 non-minimal (accepted)", "538105", 5, 0, 0x53, 5, 8 },
	{ "82 non-minimal (accepted)", "53820005", 5, 0, 0x53, 5, 9 },
	{ "82 form", "53820100", 256, 0, 0x53, 256, 260 },
	{ "83 form", "5383010000", 65536, 0, 0x53, 65536, 65541 },
	{ "84 form, 4-byte length", "538400010000", 65536, 0, 0x53, 65536,
	    65542 },
	{ "84 non-minimal (accepted)", "538400000005", 5, 0, 0x53, 5, 11 },
	{ "84 FFFFFFFF overflow", "5384FFFFFFFF00", 0, GP_ERR_TRUNC, 0, 0, 0 },
	{ "85 form", "53850000000001AA", 0, GP_ERR_FORMAT, 0, 0, 0 },
	{ "80 indefinite", "73804F0000000000", 0, GP_ERR_FORMAT, 0, 0, 0 },
	{ "FF length", "53FF", 0, GP_ERR_FORMAT, 0, 0, 0 },
	{ "value past buffer", "4F05A00000", 0, GP_ERR_TRUNC, 0, 0, 0 },
	{ "82 one byte past", "53820003AABB", 0, GP_ERR_TRUNC, 0, 0, 0 },
	{ "long length truncated", "538201", 0, GP_ERR_TRUNC, 0, 0, 0 },
	{ "empty input", "", 0, GP_ERR_TRUNC, 0, 0, 0 },
};

static void
test_parse_table(void **state)
{
	uint8_t *buf = malloc(BIG);
	const struct parse_case *c;
	struct gp_tlv t;
	struct gp_rd rd;
	size_t i, n;
	int rc;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		c = &parse_cases[i];
		n = unhex_pad(c->hex, c->pad, buf, BIG);
		gp_rd_init(&rd, buf, n);
		rc = gp_tlv_read(&rd, &t);
		if (rc != c->rc)
			fail_msg("%s: rc %d want %d", c->name, rc, c->rc);
		if (rc != 0) {
			/* A failed read leaves the cursor where it was. */
			assert_int_equal(rd.off, 0);
			continue;
		}
		assert_int_equal(t.tag, c->tag);
		assert_int_equal(t.len, c->len);
		assert_int_equal(t.rawlen, c->rawlen);
		assert_ptr_equal(t.raw, buf);
		assert_ptr_equal(t.v, buf + c->rawlen - c->len);
		assert_int_equal(rd.off, c->rawlen);
	}
	free(buf);
}

static void
test_parse_one(void **state)
{
	uint8_t b[16];
	struct gp_tlv t;
	size_t n;

	(void)state;
	n = unhex_pad("4201AA", 0, b, sizeof(b));
	assert_int_equal(gp_tlv_parse_one(b, n, 0x42, &t), 0);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.v[0], 0xAA);
	/* Wrong tag, trailing byte, truncation. */
	assert_int_equal(gp_tlv_parse_one(b, n, 0x45, &t), GP_ERR_FORMAT);
	n = unhex_pad("4201AA00", 0, b, sizeof(b));
	assert_int_equal(gp_tlv_parse_one(b, n, 0x42, &t), GP_ERR_FORMAT);
	n = unhex_pad("4202AA", 0, b, sizeof(b));
	assert_int_equal(gp_tlv_parse_one(b, n, 0x42, &t), GP_ERR_TRUNC);
	assert_int_equal(gp_tlv_parse_one(NULL, 0, 0x42, &t), GP_ERR_TRUNC);
}

static void
test_constructed(void **state)
{
	(void)state;
	assert_true(gp_tlv_constructed(0x73));
	assert_true(gp_tlv_constructed(0xE3));
	assert_true(gp_tlv_constructed(0xFF21));
	assert_true(gp_tlv_constructed(0xBF0C));
	assert_false(gp_tlv_constructed(0x4F));
	assert_false(gp_tlv_constructed(0x9F70));
	assert_false(gp_tlv_constructed(0xDF8101));
	assert_int_equal(gp_tlv_tag_size(0x4F), 1);
	assert_int_equal(gp_tlv_tag_size(0x9F7F), 2);
	assert_int_equal(gp_tlv_tag_size(0xDF8101), 3);
	assert_int_equal(gp_tlv_tag_size(0x5F818203), 4);
	assert_int_equal(gp_tlv_tag_size(0), 0);
	assert_int_equal(gp_tlv_tag_size(0x1F), 0);	/* needs more bytes */
	assert_int_equal(gp_tlv_tag_size(0x4F01), 0);	/* 4F is one byte */
	assert_int_equal(gp_tlv_tag_size(0x9F80), 0);	/* leading zero group */
	assert_int_equal(gp_tlv_tag_size(0x9F81), 0);	/* last byte 8x */
	assert_int_equal(gp_tlv_tag_size(0x9F0181), 0);	/* middle byte 0x */
}

/* n levels of 73 around an empty 73: the innermost TLV is at depth n. */
static size_t
nest(uint8_t *out, size_t cap, int n)
{
	struct gp_wr w;
	size_t marks[64];
	int i;

	assert_true(n >= 1 && n <= 64);
	gp_wr_init(&w, out, cap);
	for (i = 0; i < n; i++)
		assert_int_equal(gp_tlv_open(&w, 0x73, &marks[i]), 0);
	for (i = n - 1; i >= 0; i--)
		assert_int_equal(gp_tlv_close(&w, marks[i]), 0);
	return w.len;
}

static void
test_depth(void **state)
{
	uint8_t b[256];
	size_t n;

	(void)state;
	n = nest(b, sizeof(b), GP_TLV_DEPTH_MAX);
	assert_int_equal(n, 2 * GP_TLV_DEPTH_MAX);
	/* 73 1E 73 1C ... 73 00 */
	assert_int_equal(b[0], 0x73);
	assert_int_equal(b[1], 2 * GP_TLV_DEPTH_MAX - 2);
	assert_int_equal(b[n - 1], 0x00);
	assert_int_equal(gp_tlv_check(b, n, GP_TLV_RECURSE), 0);
	n = nest(b, sizeof(b), GP_TLV_DEPTH_MAX + 1);
	assert_int_equal(gp_tlv_check(b, n, GP_TLV_RECURSE), GP_ERR_DEPTH);
	/* Without recursion only the top level is looked at. */
	assert_int_equal(gp_tlv_check(b, n, 0), 0);
}

/* Thousands of nested 73 with long-form lengths: a bounded error. */
static void
test_depth_bomb(void **state)
{
	uint8_t *b = malloc(BIG);
	size_t i, n = 0, len;

	(void)state;
	assert_non_null(b);
	/* Built from the inside out: each level adds 73 82 hi lo. */
	for (i = 0; i < 4000; i++) {
		len = n;
		memmove(b + 4, b, n);
		b[0] = 0x73;
		b[1] = 0x82;
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
		n += 4;
	}
	assert_int_equal(gp_tlv_check(b, n, GP_TLV_RECURSE), GP_ERR_DEPTH);
	assert_int_equal(gp_tlv_check(b, n, 0), 0);
	free(b);
}

/* GPPro TestParseTags card recognition data (13 TLVs, 4 levels). */
static const char crd_hex[] =
    "664C734A06072A864886FC6B01600C060A2A864886FC6B02020101630906072A8648"
    "86FC6B03640B06092A864886FC6B040215650B06092B8510864864020103660C060A"
    "2B060104012A026E0102";

struct walk_stat {
	int	n;
	int	maxdepth;
	int	stop_at;
};

static int
count_visit(void *arg, const struct gp_tlv *t, int depth)
{
	struct walk_stat *s = arg;

	(void)t;
	s->n++;
	if (depth > s->maxdepth)
		s->maxdepth = depth;
	return s->n == s->stop_at ? 7 : 0;
}

static void
test_walk(void **state)
{
	struct walk_stat s = { 0, 0, 0 };
	uint8_t b[128];
	size_t n;

	(void)state;
	n = unhex_pad(crd_hex, 0, b, sizeof(b));
	assert_int_equal(n, 78);
	assert_int_equal(gp_tlv_walk(b, n, GP_TLV_RECURSE, count_visit, &s), 0);
	assert_int_equal(s.n, 13);
	assert_int_equal(s.maxdepth, 4);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gp_tlv_walk(b, n, 0, count_visit, &s), 0);
	assert_int_equal(s.n, 1);
	/* A visitor's non-zero return stops the walk and is returned. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 5;
	assert_int_equal(gp_tlv_walk(b, n, GP_TLV_RECURSE, count_visit, &s),
	    7);
	assert_int_equal(s.n, 5);
	/* A primitive 06 holding garbage is not descended into. */
	assert_int_equal(gp_tlv_check(b, n, GP_TLV_RECURSE), 0);
	/* Cut the last byte: the outer length runs past the buffer. */
	assert_int_equal(gp_tlv_check(b, n - 1, GP_TLV_RECURSE), GP_ERR_TRUNC);
}

static void
test_find(void **state)
{
	static const uint32_t p_version[] = { 0x66, 0x73, 0x60, 0x06 };
	static const uint32_t p_scp[] = { 0x66, 0x73, 0x64, 0x06 };
	static const uint32_t p_none[] = { 0x66, 0x73, 0x67 };
	static const uint8_t ver[] = { 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B,
	    0x02, 0x02, 0x01, 0x01 };
	uint8_t b[128];
	struct gp_tlv t;
	size_t n;

	(void)state;
	n = unhex_pad(crd_hex, 0, b, sizeof(b));
	assert_int_equal(gp_tlv_find_path(b, n, p_version, 4, &t), 0);
	assert_int_equal(t.tag, 0x06);
	assert_int_equal(t.len, sizeof(ver));
	assert_memory_equal(t.v, ver, sizeof(ver));
	assert_ptr_equal(t.v, b + 2 + 2 + 9 + 2 + 2);
	assert_int_equal(gp_tlv_find_path(b, n, p_scp, 4, &t), 0);
	assert_int_equal(t.len, 9);
	assert_int_equal(t.v[8], 0x15);
	assert_int_equal(gp_tlv_find_path(b, n, p_none, 3, &t),
	    GP_ERR_NOTFOUND);
	assert_int_equal(gp_tlv_find_path(b, n, p_none, 0, &t), GP_ERR_INVAL);
	/* find: first match; malformed input before a match is an error. */
	n = unhex_pad("4F01AA8400C50180C50104", 0, b, sizeof(b));
	assert_int_equal(gp_tlv_find(b, n, 0xC5, &t), 0);
	assert_int_equal(t.v[0], 0x80);
	n = unhex_pad("4F05AA", 0, b, sizeof(b));
	assert_int_equal(gp_tlv_find(b, n, 0x84, &t), GP_ERR_TRUNC);
	/* The sequence is checked up to the match only (documented). */
	n = unhex_pad("4F01AA84", 0, b, sizeof(b));
	assert_int_equal(gp_tlv_find(b, n, 0x4F, &t), 0);
}

static void
test_iterator(void **state)
{
	static const uint32_t tags[] = { 0x4F, 0x84, 0x9F70 };
	struct gp_tlv_it it;
	struct gp_tlv t;
	uint8_t b[32];
	size_t n, i = 0;
	int r;

	(void)state;
	n = unhex_pad("4F01AA84009F700107", 0, b, sizeof(b));
	gp_tlv_it_init(&it, b, n);
	while ((r = gp_tlv_next(&it, &t)) == 1) {
		assert_true(i < 3);
		assert_int_equal(t.tag, tags[i]);
		i++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(i, 3);
	assert_int_equal(gp_tlv_next(&it, &t), 0);	/* stays at the end */
	n = unhex_pad("4F01AA84", 0, b, sizeof(b));
	gp_tlv_it_init(&it, b, n);
	assert_int_equal(gp_tlv_next(&it, &t), 1);
	assert_int_equal(gp_tlv_next(&it, &t), GP_ERR_TRUNC);
	gp_tlv_it_init(&it, NULL, 0);
	assert_int_equal(gp_tlv_next(&it, &t), 0);
}

struct enc_case {
	uint32_t	 tag;
	size_t		 len;
	const char	*hdr;	/* expected tag and length bytes */
};

static const struct enc_case enc_cases[] = {
	{ 0x4F, 0, "4F00" },
	{ 0x4F, 127, "4F7F" },
	{ 0x4F, 128, "4F8180" },
	{ 0x4F, 255, "4F81FF" },
	{ 0x4F, 256, "4F820100" },
	{ 0xFF21, 3, "FF2103" },
	{ 0x9F70, 65535, "9F7082FFFF" },
	{ 0xDF8101, 65536, "DF810183010000" },
	{ 0x5F818203, 1, "5F81820301" },
};

/* Every encoding parses back to the same tag, length and value. */
static void
test_encode_roundtrip(void **state)
{
	uint8_t *val = malloc(BIG), *out = malloc(BIG), hdr[16];
	const struct enc_case *c;
	struct gp_wr w;
	struct gp_tlv t;
	size_t i, i2, hn;

	(void)state;
	assert_non_null(val);
	assert_non_null(out);
	for (i = 0; i < BIG; i++)
		val[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		c = &enc_cases[i];
		hn = unhex_pad(c->hdr, 0, hdr, sizeof(hdr));
		gp_wr_init(&w, out, BIG);
		assert_int_equal(gp_tlv_put(&w, c->tag, val, c->len), 0);
		assert_int_equal(w.len, hn + c->len);
		assert_memory_equal(out, hdr, hn);
		assert_int_equal(gp_tlv_parse_one(out, w.len, c->tag, &t), 0);
		assert_int_equal(t.len, c->len);
		assert_ptr_equal(t.v, out + hn);
		assert_memory_equal(t.v, val, c->len);
		/* The separate tag and length writers agree. */
		gp_wr_init(&w, out, BIG);
		assert_int_equal(gp_tlv_put_tag(&w, c->tag), 0);
		assert_int_equal(gp_tlv_put_len(&w, c->len), 0);
		assert_int_equal(w.len, hn);
		for (i2 = 0; i2 < hn; i2++)
			assert_int_equal(out[i2], hdr[i2]);
	}
	free(val);
	free(out);
}

static void
test_encode_errors(void **state)
{
	static const uint32_t bad[] = { 0, 0x1F, 0x9F, 0x4F01, 0x9F80,
	    0x9F81, 0x9F0181 };
	uint8_t b[8], v[8] = { 0 }, lb[8];
	struct gp_wr w;
	size_t i, mark;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gp_wr_init(&w, b, sizeof(b));
		assert_int_equal(gp_tlv_put(&w, bad[i], v, 1), GP_ERR_INVAL);
		assert_int_equal(gp_tlv_open(&w, bad[i], &mark), GP_ERR_INVAL);
		assert_int_equal(w.len, 0);
	}
	/* Too long for the buffer: nothing is written. */
	gp_wr_init(&w, b, sizeof(b));
	assert_int_equal(gp_tlv_put(&w, 0x4F, v, 7), GP_ERR_SPACE);
	assert_int_equal(w.len, 0);
	assert_int_equal(gp_tlv_put(&w, 0x4F, v, 6), 0);
	assert_int_equal(w.len, 8);
	assert_int_equal(gp_tlv_put(&w, 0x4F, NULL, 1), GP_ERR_INVAL);
	/* Four length bytes and the largest length. */
	gp_wr_init(&w, lb, sizeof(lb));
	assert_int_equal(gp_tlv_put_len(&w, 0x1000000), 0);
	assert_int_equal(w.len, 5);
	assert_int_equal(lb[0], 0x84);
	assert_int_equal(lb[1], 0x01);
	assert_int_equal(lb[4], 0x00);
	gp_wr_init(&w, lb, sizeof(lb));
	assert_int_equal(gp_tlv_put_len(&w, 0xFFFFFF), 0);
	assert_int_equal(w.len, 4);
	assert_int_equal(lb[0], 0x83);
}

static void
test_open_close(void **state)
{
	uint8_t b[512], child[200];
	struct gp_wr w;
	size_t outer, inner, i;
	struct gp_tlv t;

	(void)state;
	for (i = 0; i < sizeof(child); i++)
		child[i] = (uint8_t)i;
	/* Short: 66 { E3 { 4F 02 A0 00, 9F70 01 07 } } */
	gp_wr_init(&w, b, sizeof(b));
	assert_int_equal(gp_tlv_open(&w, 0x66, &outer), 0);
	assert_int_equal(gp_tlv_open(&w, 0xE3, &inner), 0);
	assert_int_equal(gp_tlv_put(&w, 0x4F, "\xA0\x00", 2), 0);
	assert_int_equal(gp_tlv_put(&w, 0x9F70, "\x07", 1), 0);
	assert_int_equal(gp_tlv_close(&w, inner), 0);
	assert_int_equal(gp_tlv_close(&w, outer), 0);
	assert_int_equal(w.len, 12);
	assert_memory_equal(b, "\x66\x0A\xE3\x08\x4F\x02\xA0\x00\x9F\x70\x01"
	    "\x07", 12);
	/* Long: the children move right to make room for 81 CB. */
	gp_wr_init(&w, b, sizeof(b));
	assert_int_equal(gp_tlv_open(&w, 0xE3, &outer), 0);
	assert_int_equal(outer, 1);
	assert_int_equal(gp_tlv_put(&w, 0x4F, child, sizeof(child)), 0);
	assert_int_equal(gp_tlv_close(&w, outer), 0);
	assert_int_equal(w.len, 3 + 3 + 200);
	assert_memory_equal(b, "\xE3\x81\xCB\x4F\x81\xC8", 6);
	assert_memory_equal(b + 6, child, sizeof(child));
	assert_int_equal(gp_tlv_parse_one(b, w.len, 0xE3, &t), 0);
	assert_int_equal(gp_tlv_check(b, w.len, GP_TLV_RECURSE), 0);
	/* Bad mark; no room to grow the length. */
	assert_int_equal(gp_tlv_close(&w, w.len), GP_ERR_INVAL);
	gp_wr_init(&w, b, 2 + 130);
	assert_int_equal(gp_tlv_open(&w, 0x73, &outer), 0);
	assert_int_equal(gp_wr_put(&w, child, 130), 0);
	assert_int_equal(gp_tlv_close(&w, outer), GP_ERR_SPACE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_one),
		cmocka_unit_test(test_constructed),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_depth_bomb),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_iterator),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_open_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
