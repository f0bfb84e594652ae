/*
 * gp_rd / gp_wr / hex / gp_ct_memcmp / gp_strerror.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gp/buf.h"
#include "gp/err.h"

static const uint8_t src[] = { 0x01, 0x02, 0x03, 0x04, 0x05 };

/* Every fixed-size read at the end and one byte short of it. */
static void
test_rd_ends(void **state)
{
	struct gp_rd r;
	uint8_t v8, cp[8];
	uint16_t v16;
	uint32_t v24;
	const uint8_t *p;

	(void)state;
	gp_rd_init(&r, src, sizeof(src));
	assert_int_equal(gp_rd_left(&r), 5);
	assert_ptr_equal(gp_rd_ptr(&r), src);
	assert_int_equal(gp_rd_u24(&r, &v24), 0);
	assert_int_equal(v24, 0x010203);
	/* 2 left: u24 fails, u16 fits exactly. */
	v24 = 0xdeadbeef;
	assert_int_equal(gp_rd_u24(&r, &v24), GP_ERR_TRUNC);
	assert_int_equal(v24, 0xdeadbeef);
	assert_int_equal(r.off, 3);
	assert_int_equal(gp_rd_copy(&r, cp, 3), GP_ERR_TRUNC);
	assert_int_equal(gp_rd_skip(&r, 3), GP_ERR_TRUNC);
	p = NULL;
	assert_int_equal(gp_rd_bytes(&r, 3, &p), GP_ERR_TRUNC);
	assert_null(p);
	assert_int_equal(r.off, 3);
	assert_int_equal(gp_rd_u16(&r, &v16), 0);
	assert_int_equal(v16, 0x0405);
	assert_int_equal(gp_rd_left(&r), 0);
	/* At the end: every read but a zero-length one fails. */
	assert_int_equal(gp_rd_u8(&r, &v8), GP_ERR_TRUNC);
	assert_int_equal(gp_rd_u16(&r, &v16), GP_ERR_TRUNC);
	assert_int_equal(gp_rd_u24(&r, &v24), GP_ERR_TRUNC);
	assert_int_equal(gp_rd_skip(&r, 1), GP_ERR_TRUNC);
	assert_int_equal(gp_rd_copy(&r, cp, 1), GP_ERR_TRUNC);
	assert_int_equal(gp_rd_bytes(&r, 0, &p), 0);
	assert_ptr_equal(p, src + 5);
	assert_int_equal(gp_rd_copy(&r, cp, 0), 0);
	assert_int_equal(gp_rd_skip(&r, 0), 0);
	assert_int_equal(r.off, 5);
	/* A huge length must not wrap around. */
	assert_int_equal(gp_rd_skip(&r, SIZE_MAX), GP_ERR_TRUNC);
	assert_int_equal(r.off, 5);
}

static void
test_rd_byte_by_byte(void **state)
{
	struct gp_rd r;
	uint8_t v, cp[5];
	uint16_t v16;
	size_t i;

	(void)state;
	gp_rd_init(&r, src, sizeof(src));
	for (i = 0; i < sizeof(src); i++) {
		assert_int_equal(gp_rd_u8(&r, &v), 0);
		assert_int_equal(v, src[i]);
		assert_int_equal(gp_rd_left(&r), sizeof(src) - i - 1);
	}
	assert_int_equal(gp_rd_u8(&r, &v), GP_ERR_TRUNC);
	assert_int_equal(v, 0x05);

	gp_rd_init(&r, src, sizeof(src));
	assert_int_equal(gp_rd_skip(&r, 4), 0);
	assert_int_equal(gp_rd_u16(&r, &v16), GP_ERR_TRUNC);
	assert_int_equal(r.off, 4);
	gp_rd_init(&r, src, sizeof(src));
	assert_int_equal(gp_rd_copy(&r, cp, 5), 0);
	assert_memory_equal(cp, src, 5);
	assert_int_equal(gp_rd_left(&r), 0);
	gp_rd_init(&r, src, sizeof(src));
	assert_int_equal(gp_rd_copy(&r, cp, 6), GP_ERR_TRUNC);
	assert_int_equal(r.off, 0);

	/* NULL input is an empty reader whatever the length says. */
	gp_rd_init(&r, NULL, 10);
	assert_int_equal(gp_rd_left(&r), 0);
	assert_int_equal(gp_rd_u8(&r, &v), GP_ERR_TRUNC);
}

static void
test_rd_lv(void **state)
{
	static const uint8_t ok[] = { 0x02, 0xaa, 0xbb, 0x00, 0x03, 0x11 };
	static const uint8_t full[] = { 0xff };
	struct gp_rd r;
	const uint8_t *v;
	size_t n;

	(void)state;
	gp_rd_init(&r, ok, sizeof(ok));
	assert_int_equal(gp_rd_lv(&r, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(v, ok + 1);
	/* Zero-length value. */
	n = 99;
	assert_int_equal(gp_rd_lv(&r, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(r.off, 4);
	/* Length 3 but only 1 byte follows: cursor stays before the L. */
	n = 77;
	v = NULL;
	assert_int_equal(gp_rd_lv(&r, &v, &n), GP_ERR_TRUNC);
	assert_int_equal(r.off, 4);
	assert_int_equal(n, 77);
	assert_null(v);
	assert_int_equal(gp_rd_left(&r), 2);
	/* The bytes are still readable after the failed lv. */
	assert_int_equal(gp_rd_skip(&r, 2), 0);
	/* At the end: no length byte. */
	assert_int_equal(gp_rd_lv(&r, &v, &n), GP_ERR_TRUNC);
	assert_int_equal(r.off, 6);
	/* L = 255 with nothing after it. */
	gp_rd_init(&r, full, sizeof(full));
	assert_int_equal(gp_rd_lv(&r, &v, &n), GP_ERR_TRUNC);
	assert_int_equal(r.off, 0);
}

static void
test_wr_fixed(void **state)
{
	uint8_t buf[8], big[300];
	struct gp_wr w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	memset(big, 0x5a, sizeof(big));
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(w.cap, 8);
	assert_int_equal(w.max, 8);
	assert_int_equal(gp_wr_u8(&w, 0x01), 0);
	assert_int_equal(gp_wr_u16(&w, 0x0203), 0);
	assert_int_equal(gp_wr_put(&w, "\x04\x05\x06\x07", 4), 0);
	assert_int_equal(w.len, 7);
	/* 2 bytes do not fit in the 1 left: nothing is written. */
	assert_int_equal(gp_wr_u16(&w, 0xaabb), GP_ERR_SPACE);
	assert_int_equal(w.len, 7);
	assert_int_equal(buf[7], 0xee);
	assert_int_equal(gp_wr_put(&w, "\x01\x02", 2), GP_ERR_SPACE);
	assert_int_equal(gp_wr_lv(&w, "\x01", 1), GP_ERR_SPACE);
	assert_int_equal(gp_wr_reserve(&w, 2), GP_ERR_SPACE);
	assert_int_equal(gp_wr_reserve(&w, SIZE_MAX), GP_ERR_SPACE);
	assert_int_equal(w.len, 7);
	assert_int_equal(buf[7], 0xee);
	/* Zero-length put always succeeds. */
	assert_int_equal(gp_wr_put(&w, NULL, 0), 0);
	assert_int_equal(gp_wr_u8(&w, 0x08), 0);
	assert_int_equal(w.len, 8);
	assert_memory_equal(buf, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(gp_wr_u8(&w, 0x09), GP_ERR_SPACE);
	assert_int_equal(w.len, 8);
	/* Reset wipes and keeps the storage. */
	gp_wr_reset(&w);
	assert_int_equal(w.len, 0);
	assert_ptr_equal(w.p, buf);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
	/* lv: length byte then value; > 255 is a protocol error. */
	assert_int_equal(gp_wr_lv(&w, "\xaa\xbb", 2), 0);
	assert_memory_equal(buf, "\x02\xaa\xbb", 3);
	assert_int_equal(gp_wr_lv(&w, big, 256), GP_ERR_TOOLARGE);
	assert_int_equal(w.len, 3);
	/* NULL storage: capacity zero. */
	gp_wr_init(&w, NULL, 100);
	assert_int_equal(w.cap, 0);
	assert_int_equal(gp_wr_u8(&w, 1), GP_ERR_SPACE);
	assert_int_equal(w.len, 0);
}

static void
test_wr_dyn(void **state)
{
	uint8_t chunk[100], *p;
	struct gp_wr w;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	gp_wr_init_dyn(&w, 1000);
	assert_null(w.p);
	for (i = 0; i < 10; i++) {
		assert_int_equal(gp_wr_put(&w, chunk, sizeof(chunk)), 0);
		assert_int_equal(w.len, (i + 1) * 100);
		assert_true(w.cap >= w.len);
		assert_true(w.cap <= 1000);
	}
	/* At max: one more byte fails whole. */
	assert_int_equal(gp_wr_u8(&w, 0xff), GP_ERR_SPACE);
	assert_int_equal(w.len, 1000);
	assert_int_equal(w.cap, 1000);
	for (i = 0; i < 10; i++)
		assert_memory_equal(w.p + 100 * i, chunk, 100);
	gp_wr_free(&w);
	assert_null(w.p);
	assert_int_equal(w.len, 0);

	gp_wr_init_dyn(&w, 150);
	assert_int_equal(gp_wr_put(&w, chunk, 100), 0);
	assert_int_equal(gp_wr_put(&w, chunk, 51), GP_ERR_SPACE);
	assert_int_equal(w.len, 100);
	assert_int_equal(gp_wr_put(&w, chunk, 50), 0);
	assert_int_equal(w.len, 150);
	assert_memory_equal(w.p + 100, chunk, 50);

	/* Steal: the caller owns the block, the writer is empty and usable. */
	p = gp_wr_steal(&w, &n);
	assert_non_null(p);
	assert_int_equal(n, 150);
	assert_memory_equal(p, chunk, 100);
	assert_memory_equal(p + 100, chunk, 50);
	assert_null(w.p);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.cap, 0);
	free(p);
	assert_int_equal(gp_wr_u16(&w, 0x1234), 0);
	assert_int_equal(w.len, 2);
	assert_memory_equal(w.p, "\x12\x34", 2);
	gp_wr_free(&w);

	/* Steal of an empty dynamic writer. */
	gp_wr_init_dyn(&w, 10);
	p = gp_wr_steal(&w, &n);
	assert_null(p);
	assert_int_equal(n, 0);
	gp_wr_free(&w);
}

struct hexcase {
	const char	*in;
	size_t		 cap;
	int		 rc;
	size_t		 outlen;
	const char	*out;
};

static void
test_hex(void **state)
{
	static const struct hexcase cases[] = {
		{ "", 4, 0, 0, "" },
		{ "00", 1, 0, 1, "\x00" },
		{ "A0ff", 2, 0, 2, "\xa0\xff" },
		{ "deadBEEF", 4, 0, 4, "\xde\xad\xbe\xef" },
		{ "0123456789abcdefABCDEF", 11, 0, 11,
		    "\x01\x23\x45\x67\x89\xab\xcd\xef\xab\xcd\xef" },
		{ "ABC", 4, GP_ERR_FORMAT, 99, NULL },	/* odd length */
		{ "0G", 4, GP_ERR_FORMAT, 99, NULL },	/* bad digit */
		{ "G0", 4, GP_ERR_FORMAT, 99, NULL },
		{ "00 1", 4, GP_ERR_FORMAT, 99, NULL },	/* space */
		{ "0x12", 4, GP_ERR_FORMAT, 99, NULL },
		{ "001122", 2, GP_ERR_SPACE, 99, NULL },	/* too long */
		{ "00", 0, GP_ERR_SPACE, 99, NULL },
	};
	uint8_t out[16];
	char enc[33];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = 99;
		assert_int_equal(gp_hex_decode(cases[i].in, out, cases[i].cap,
		    &n), cases[i].rc);
		assert_int_equal(n, cases[i].outlen);
		if (cases[i].out != NULL && n > 0)
			assert_memory_equal(out, cases[i].out, n);
	}
	gp_hex_encode((const uint8_t *)"\x00\x9f\xa5\xff", 4, enc);
	assert_string_equal(enc, "009FA5FF");
	gp_hex_encode(out, 0, enc);
	assert_string_equal(enc, "");
}

static void
test_ct_memcmp(void **state)
{
	uint8_t a[32], b[32];
	size_t i;
	int bit;

	(void)state;
	for (i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)(i * 7);
	assert_int_equal(gp_ct_memcmp(a, b, sizeof(a)), 0);
	assert_int_equal(gp_ct_memcmp(a, b, 0), 0);
	for (i = 0; i < sizeof(a); i++) {
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1 << bit);
			assert_int_not_equal(gp_ct_memcmp(a, b, sizeof(a)), 0);
			/* A difference past n is not seen. */
			assert_int_equal(gp_ct_memcmp(a, b, i), 0);
			b[i] ^= (uint8_t)(1 << bit);
		}
	}
}

static void
test_wipe(void **state)
{
	uint8_t k[24];

	(void)state;
	memset(k, 0xa5, sizeof(k));
	gp_wipe(k, 16);
	assert_memory_equal(k, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(k[16], 0xa5);
	gp_wipe(NULL, 10);	/* must not crash */
	gp_wipe(k, 0);
	assert_int_equal(k[16], 0xa5);
}

static void
test_strerror(void **state)
{
	static const int codes[] = { GP_OK, GP_ERR_INVAL, GP_ERR_TRUNC,
	    GP_ERR_SPACE, GP_ERR_FORMAT, GP_ERR_CRYPTO, GP_ERR_AUTH,
	    GP_ERR_NOMEM, GP_ERR_DEPTH, GP_ERR_UNSUPPORTED, GP_ERR_NOTFOUND,
	    GP_ERR_STATE, GP_ERR_IO, GP_ERR_TOOLARGE };
	const size_t nc = sizeof(codes) / sizeof(codes[0]);
	const char *unknown = gp_strerror(-1000);
	size_t i, j;

	(void)state;
	assert_int_equal(nc, 14);
	assert_non_null(unknown);
	assert_true(strlen(unknown) > 0);
	assert_string_equal(gp_strerror(1), unknown);
	assert_string_equal(gp_strerror(GP_ERR_TOOLARGE - 1), unknown);
	for (i = 0; i < nc; i++) {
		const char *s = gp_strerror(codes[i]);

		assert_int_equal(codes[i], -(int)i);	/* numbers are stable */
		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, unknown);
		for (j = 0; j < i; j++)
			assert_string_not_equal(s, gp_strerror(codes[j]));
	}
}

/* gp_wr_put from inside the writer itself, across a reallocation. */
static void
test_wr_put_self(void **state)
{
	struct gp_wr w;
	uint8_t fixed[8], *p;
	size_t i, n;

	(void)state;
	gp_wr_init_dyn(&w, 4096);
	for (i = 0; i < 64; i++)
		assert_int_equal(gp_wr_u8(&w, (uint8_t)i), 0);
	assert_int_equal(w.cap, 64);
	/* The copy forces growth; the source lives in the old block. */
	assert_int_equal(gp_wr_put(&w, w.p, 64), 0);
	assert_int_equal(w.len, 128);
	for (i = 0; i < 128; i++)
		assert_int_equal(w.p[i], (uint8_t)(i % 64));
	p = gp_wr_steal(&w, &n);
	assert_non_null(p);
	assert_int_equal(n, 128);
	free(p);
	/* A fixed writer's memory is never handed out as the caller's. */
	gp_wr_init(&w, fixed, sizeof(fixed));
	assert_int_equal(gp_wr_u8(&w, 1), 0);
	assert_null(gp_wr_steal(&w, &n));
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wr_put_self),
		cmocka_unit_test(test_rd_ends),
		cmocka_unit_test(test_rd_byte_by_byte),
		cmocka_unit_test(test_rd_lv),
		cmocka_unit_test(test_wr_fixed),
		cmocka_unit_test(test_wr_dyn),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_ct_memcmp),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
