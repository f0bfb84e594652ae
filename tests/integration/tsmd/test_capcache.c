/*
 * tsmd's table of parsed CAP files (tsm/server/capcache.c), given the CAP
 * in hex as install payloads hold it: what it hands out equals a fresh
 * parse of the same bytes (package AID, LFDB, LFDB hash); the second ask
 * is a hit; a file that differs by one byte is a miss with its own
 * answer; 16 entries at most, the oldest evicted; malformed files and
 * malformed hex are refused and never enter; a caller's copy survives its
 * entry's eviction and the table being cleared. Given the bytes and
 * their SHA-256, as the store keeps them since schema 0005: bytes that do
 * not hash to the SHA-256 asked for are refused and never enter; a put
 * file is then found by its SHA-256, equal to a fresh parse; the two
 * kinds of key never meet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "capgen.h"
#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "server/server_int.h"

/* The demo CAP for package D2 76 00 01 77 54 53 4D n. */
static void
demo(uint8_t n, uint8_t **zip, size_t *zlen)
{
	uint8_t pkg[9] = { 0xD2, 0x76, 0x00, 0x01, 0x77, 0x54, 0x53, 0x4D, n };

	assert_int_equal(capgen_demo(pkg, sizeof(pkg), NULL, 0, zip, zlen), 0);
}

static void
assert_same_as_parse(const uint8_t *zip, size_t zlen,
    const struct tsm_capv *v)
{
	struct gp_cap *cap;
	uint8_t h[32];
	size_t hl;

	assert_int_equal(gp_cap_open_mem(zip, zlen, &cap), 0);
	assert_int_equal(v->pkg_len, cap->pkg.len);
	assert_memory_equal(v->pkg, cap->pkg.b, cap->pkg.len);
	assert_int_equal(v->lfdb_len, cap->lfdb_len);
	assert_memory_equal(v->lfdb, cap->lfdb, cap->lfdb_len);
	assert_int_equal(gp_cap_lfdb_hash(cap, GP_CAP_SHA256, h, sizeof(h),
	    &hl), 0);
	assert_int_equal(v->hash_len, hl);
	assert_memory_equal(v->hash, h, hl);
	gp_cap_free(cap);
}

/* The hex of p[0..n), as an install payload carries a CAP file. */
static char *
hexof(const uint8_t *p, size_t n)
{
	char *h;

	assert_non_null(h = malloc(2 * n + 1));
	gp_hex_encode(p, n, h);
	return h;
}

static int
get_hex(const uint8_t *p, size_t n, struct tsm_capv *v, int *hit)
{
	char *h = hexof(p, n);
	int r = tsm_capv_get(h, strlen(h), v, hit);

	free(h);
	return r;
}

static void
get(const uint8_t *zip, size_t zlen, int want_hit, struct tsm_capv *v)
{
	int hit = -1;

	assert_int_equal(get_hex(zip, zlen, v, &hit), 0);
	assert_int_equal(hit, want_hit);
	assert_same_as_parse(zip, zlen, v);
}

static void
test_hit_and_miss(void **st)
{
	struct tsm_capv a, b, c;
	uint8_t *z1, *z2;
	size_t l1, l2;

	(void)st;
	tsm_capv_cache_clear();
	demo(1, &z1, &l1);
	demo(2, &z2, &l2);
	get(z1, l1, 0, &a);
	get(z1, l1, 1, &b);
	get(z2, l2, 0, &c);	/* another package: its own entry */
	assert_int_not_equal(memcmp(a.pkg, c.pkg, a.pkg_len), 0);
	tsm_capv_free(&a);
	tsm_capv_free(&b);
	tsm_capv_free(&c);
	free(z1);
	free(z2);
}

static void
test_eviction(void **st)
{
	struct tsm_capv v, keep;
	uint8_t *z[17];
	size_t zl[17];
	int i;

	(void)st;
	tsm_capv_cache_clear();
	for (i = 0; i < 17; i++) {
		demo((uint8_t)(0x10 + i), &z[i], &zl[i]);
		get(z[i], zl[i], 0, &v);
		if (i == 0)
			keep = v;	/* a caller's copy outlives its entry */
		else
			tsm_capv_free(&v);
	}
	/* The 17th pushed out the oldest (the first); 2..17 are there. */
	for (i = 16; i >= 1; i--) {
		get(z[i], zl[i], 1, &v);
		tsm_capv_free(&v);
	}
	get(z[0], zl[0], 0, &v);
	tsm_capv_free(&v);
	assert_same_as_parse(z[0], zl[0], &keep);
	tsm_capv_cache_clear();
	assert_same_as_parse(z[0], zl[0], &keep);
	tsm_capv_free(&keep);
	for (i = 0; i < 17; i++)
		free(z[i]);
}

static void
test_malformed(void **st)
{
	struct tsm_capv v;
	uint8_t *z;
	size_t zl;
	int hit = -1;

	(void)st;
	tsm_capv_cache_clear();
	demo(3, &z, &zl);
	/* Cut short, then one byte changed in the ZIP's directory. */
	assert_int_not_equal(get_hex(z, zl / 2, &v, &hit), 0);
	assert_null(v.lfdb);
	assert_int_not_equal(get_hex(z, zl / 2, &v, &hit), 0);
	assert_int_equal(hit, 0);
	z[zl - 10] ^= 0xFF;
	assert_int_not_equal(get_hex(z, zl, &v, &hit), 0);
	z[zl - 10] ^= 0xFF;
	/* Hex that is not: an odd length, a letter past F. */
	{
		char *h = hexof(z, zl);
		size_t hl = strlen(h);

		assert_int_not_equal(tsm_capv_get(h, hl - 1, &v, &hit), 0);
		h[4] = 'G';
		assert_int_not_equal(tsm_capv_get(h, hl, &v, &hit), 0);
		assert_null(v.lfdb);
		free(h);
	}
	get(z, zl, 0, &v);	/* the good file was never shadowed */
	tsm_capv_free(&v);
	free(z);
}

static void
sha256(const void *p, size_t n, uint8_t md[32])
{
	assert_int_equal(EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL), 1);
}

static void
test_by_sha256(void **st)
{
	struct tsm_capv v;
	uint8_t *z1, *z2, md1[32], md2[32], mdh[32];
	size_t l1, l2;
	char *h;
	int hit = -1;

	(void)st;
	tsm_capv_cache_clear();
	demo(3, &z1, &l1);
	demo(4, &z2, &l2);
	sha256(z1, l1, md1);
	sha256(z2, l2, md2);
	assert_int_equal(tsm_capv_find(md1, &v, &hit), 0);
	assert_int_equal(hit, 0);
	assert_null(v.lfdb);
	/* The store's bytes are not the file the payload names. */
	assert_int_equal(tsm_capv_put(md1, z2, l2, &v), GP_ERR_AUTH);
	assert_null(v.lfdb);
	assert_int_equal(tsm_capv_find(md1, &v, &hit), 0);
	assert_int_equal(hit, 0);
	assert_int_equal(tsm_capv_find(md2, &v, &hit), 0);
	assert_int_equal(hit, 0);
	/* The right bytes: parsed, then found. */
	assert_int_equal(tsm_capv_put(md1, z1, l1, &v), 0);
	assert_same_as_parse(z1, l1, &v);
	tsm_capv_free(&v);
	assert_int_equal(tsm_capv_find(md1, &v, &hit), 0);
	assert_int_equal(hit, 1);
	assert_same_as_parse(z1, l1, &v);
	tsm_capv_free(&v);
	/* A malformed file with the right hash: refused, never entered. */
	z2[0] ^= 0xFF;
	sha256(z2, l2, md2);
	assert_int_not_equal(tsm_capv_put(md2, z2, l2, &v), 0);
	assert_null(v.lfdb);
	assert_int_equal(tsm_capv_find(md2, &v, &hit), 0);
	assert_int_equal(hit, 0);
	/* The hex text's key and the bytes' key are apart: the same file
	 * in hex is a miss, and its entry is not found by the text's hash. */
	h = hexof(z1, l1);
	sha256(h, strlen(h), mdh);
	assert_int_equal(tsm_capv_find(mdh, &v, &hit), 0);
	assert_int_equal(hit, 0);
	get(z1, l1, 0, &v);
	tsm_capv_free(&v);
	assert_int_equal(tsm_capv_find(mdh, &v, &hit), 0);
	assert_int_equal(hit, 0);
	free(h);
	free(z1);
	free(z2);
}

/* Not the CAP table, but as small and as alone: the X-TSM-Script-Max
 * parser (http.c). 255 unless a clean decimal above it, 1024 at most. */
static void
test_script_max(void **st)
{
	static const struct { const char *v; size_t want; } t[] = {
		{ NULL, 255 }, { "", 255 }, { "0", 255 }, { "100", 255 },
		{ "255", 255 }, { "256", 256 }, { "300", 300 },
		{ "1024", 1024 }, { "1025", 1024 }, { "65535", 1024 },
		{ "999999", 255 }, { "300 ", 255 }, { " 300", 255 },
		{ "+300", 255 }, { "-300", 255 }, { "0x200", 255 },
		{ "3e2", 255 }, { "00300", 300 },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("%s\n", t[i].v != NULL ? t[i].v : "(none)");
		assert_int_equal(tsm_http_script_max(t[i].v), t[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_miss),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_by_sha256),
		cmocka_unit_test(test_script_max),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	tsm_capv_cache_clear();
	return r;
}
