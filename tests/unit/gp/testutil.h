/*
 * Helpers the libgp unit tests share. Include after <cmocka.h> and the
 * libgp headers (gp/buf.h, gp/tlv.h for assert_span_hex).
 */
#ifndef TESTS_UNIT_GP_TESTUTIL_H
#define TESTS_UNIT_GP_TESTUTIL_H

/* Decodes hex that the test itself wrote: any error fails the test. */
static inline size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n;

	assert_int_equal(gp_hex_decode(hex, out, cap, &n), 0);
	return n;
}

#ifdef GP_TLV_H
/* A present span holding exactly the bytes of hex. */
static inline void
assert_span_hex(const struct gp_span *s, const char *hex)
{
	uint8_t b[256];
	size_t n = unhex(hex, b, sizeof(b));

	assert_non_null(s->p);
	assert_int_equal(s->len, n);
	assert_memory_equal(s->p, b, n);
}
#endif

#endif
