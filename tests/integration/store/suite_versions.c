/*
 * Application versions and their CAP files (ops.h, schema 0005): the file
 * registered with a version reads back byte for byte, but only under the
 * SHA-256 it was registered with; a version registered without its bytes
 * (before 0005) has none to give until it is registered again with them,
 * and then keeps the first bytes; other bytes under the same version
 * number are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "store/ops.h"
#include "suite.h"

static const char sha_a[] =
    "1111111111111111111111111111111111111111111111111111111111111111";
static const char sha_b[] =
    "2222222222222222222222222222222222222222222222222222222222222222";

static void
ref_of(struct tsm_app_ref *r, const char *version, const char *sha,
    const uint8_t *cap, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->provider = "bank";
	r->name = "wallet";
	r->package_aid = "D2760001775453";
	r->version = version;
	r->cap_sha256 = sha;
	r->cap_size = (int64_t)n;
	r->cap = cap;
	r->cap_len = n;
}

static void
assert_cap(struct tsm_store *s, int64_t vid, const char *sha,
    const uint8_t *want, size_t wn)
{
	uint8_t *p = NULL;
	size_t n = 0;

	assert_int_equal(tsm_store_app_version_cap(s, vid, sha, &p, &n), 0);
	assert_int_equal(n, wn);
	assert_memory_equal(p, want, wn);
	free(p);
}

static void
assert_no_cap(struct tsm_store *s, int64_t vid, const char *sha)
{
	uint8_t *p = (uint8_t *)1;
	size_t n = 1;

	assert_int_equal(tsm_store_app_version_cap(s, vid, sha, &p, &n),
	    TSM_STORE_ERR_NOTFOUND);
	assert_null(p);
	assert_int_equal(n, 0);
}

static void
test_version_cap(void **state)
{
	struct tsm_store *s;
	struct tsm_app_ref r;
	char url[512];
	uint8_t *big, other[3] = { 1, 2, 3 };
	size_t i, bn = 70000;	/* past MariaDB's 64 KB TEXT and BLOB */
	int64_t v1 = 0, v1b = 0, v2 = 0, v3 = 0;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	assert_non_null(big = malloc(bn));
	for (i = 0; i < bn; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	ref_of(&r, "1.0", sha_a, big, bn);
	assert_int_equal(tsm_store_app_version_ensure(s, &r, &v1), 0);
	assert_cap(s, v1, sha_a, big, bn);
	assert_no_cap(s, v1, sha_b);		/* not under another hash */
	assert_no_cap(s, v1 + 100, sha_a);	/* no such version */
	/* Same version, same hash: the same row, the first bytes kept. */
	ref_of(&r, "1.0", sha_a, other, sizeof(other));
	assert_int_equal(tsm_store_app_version_ensure(s, &r, &v1b), 0);
	assert_int_equal(v1b, v1);
	assert_cap(s, v1, sha_a, big, bn);
	/* Same version, other bytes: refused. */
	ref_of(&r, "1.0", sha_b, other, sizeof(other));
	assert_int_equal(tsm_store_app_version_ensure(s, &r, &v2),
	    TSM_STORE_ERR_EXISTS);
	/* Registered without its bytes, as before schema 0005; filled by
	 * the next registration that has them. */
	ref_of(&r, "2.0", sha_b, NULL, 0);
	assert_int_equal(tsm_store_app_version_ensure(s, &r, &v3), 0);
	assert_int_not_equal(v3, v1);
	assert_no_cap(s, v3, sha_b);
	ref_of(&r, "2.0", sha_b, other, sizeof(other));
	assert_int_equal(tsm_store_app_version_ensure(s, &r, &v2), 0);
	assert_int_equal(v2, v3);
	assert_cap(s, v3, sha_b, other, sizeof(other));
	free(big);
	assert_int_equal(tsm_store_app_version_cap(s, 0, sha_a, &big, &i),
	    TSM_STORE_ERR_INVAL);
	assert_null(big);
	tsm_store_close(s);
}

const struct CMUnitTest suite_versions[] = {
	cmocka_unit_test(test_version_cap),
};
const size_t suite_versions_n = sizeof(suite_versions) /
    sizeof(suite_versions[0]);
