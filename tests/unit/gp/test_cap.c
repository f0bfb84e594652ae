/*
 * gp_cap: the real CAP files of the vectors (read in place, never copied),
 * the demo CAP, and hostile archives built in memory with libzip from the
 * demo's components, each with one defect and the error it must give.
 *
 * The demo generator lives in tools/tsmctl; unit tests link only libgp,
 * so its source is compiled into this test directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zip.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "capgen.h"

#define ZMAX	1100

/* Entries of one archive, editable, rebuilt with capgen_zip. */
struct zset {
	char		*name[ZMAX];
	uint8_t		*p[ZMAX];
	size_t		 len[ZMAX];
	size_t		 n;
};

struct vcap {
	const char	*file;
	const char	*pkg;
	const char	*applet;	/* first applet, "" for a library */
	size_t		 nimports;
	const char	*jc;
};

/* From caps.vec (expect.* and info.imports). */
static const struct vcap vcaps[] = {
	{ "gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap", "0102030405",
	    "0102030405060708", 3, "2.2.0" },
	{ "kaoh_helloworld.cap", "D0D1D2D3D4D501", "D0D1D2D3D4D50101", 1,
	    "2.1.x" },
	{ "openjavacard-app-demo.cap", "A00000FFFFF0", "A00000FFFFF001", 5,
	    "2.2.1" },
	{ "openjavacard-lib-ber.cap", "A00000FFFFA0", "", 2, "2.2.1" },
	{ "openjavacard-lib-debug.cap", "A00000FFFFA3", "", 3, "2.2.1" },
	{ "openjavacard-svc-debug.cap", "A00000FFFFA4", "A00000FFFFA401", 4,
	    "2.2.1" },
};

static void
hex(const uint8_t *p, size_t n, char *out)
{
	gp_hex_encode(p, n, out);
}

static void
zset_add(struct zset *z, const char *name, const uint8_t *p, size_t n)
{
	size_t nl = strlen(name) + 1;

	assert_true(z->n < ZMAX);
	assert_non_null(z->name[z->n] = malloc(nl));
	memcpy(z->name[z->n], name, nl);
	assert_non_null(z->p[z->n] = malloc(n > 0 ? n : 1));
	if (n > 0)
		memcpy(z->p[z->n], p, n);
	z->len[z->n++] = n;
}

static void
zset_load(struct zset *z, const uint8_t *buf, size_t len)
{
	zip_source_t *src;
	zip_file_t *zf;
	zip_stat_t st;
	zip_t *za;
	uint8_t *p;
	zip_int64_t i, n;

	memset(z, 0, sizeof(*z));
	assert_non_null(src = zip_source_buffer_create(buf, len, 0, NULL));
	assert_non_null(za = zip_open_from_source(src, ZIP_RDONLY, NULL));
	n = zip_get_num_entries(za, 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(zip_stat_index(za, (zip_uint64_t)i, 0, &st), 0);
		assert_non_null(p = malloc(st.size + 1));
		assert_non_null(zf = zip_fopen_index(za, (zip_uint64_t)i, 0));
		assert_int_equal(zip_fread(zf, p, st.size), (zip_int64_t)st.size);
		zip_fclose(zf);
		zset_add(z, st.name, p, st.size);
		free(p);
	}
	zip_discard(za);
}

static void
zset_free(struct zset *z)
{
	size_t i;

	for (i = 0; i < z->n; i++) {
		free(z->name[i]);
		free(z->p[i]);
	}
	z->n = 0;
}

/* Index of the entry whose name ends with suffix. */
static size_t
zset_find(const struct zset *z, const char *suffix)
{
	size_t i, sl = strlen(suffix), nl;

	for (i = 0; i < z->n; i++) {
		nl = strlen(z->name[i]);
		if (nl >= sl && strcmp(z->name[i] + nl - sl, suffix) == 0)
			return i;
	}
	fail_msg("no entry %s", suffix);
	return 0;
}

static void
zset_del(struct zset *z, const char *suffix)
{
	size_t i = zset_find(z, suffix);

	free(z->name[i]);
	free(z->p[i]);
	z->n--;
	z->name[i] = z->name[z->n];
	z->p[i] = z->p[z->n];
	z->len[i] = z->len[z->n];
}

/* Replaces a component's info and keeps tag, size and Directory right. */
static void
zset_set_info(struct zset *z, int tag, const uint8_t *info, size_t n)
{
	char name[64];
	size_t i, d;

	snprintf(name, sizeof(name), "/%s.cap", gp_cap_comp_name(tag));
	i = zset_find(z, name);
	assert_non_null(z->p[i] = realloc(z->p[i], n + 3));
	z->p[i][0] = (uint8_t)tag;
	z->p[i][1] = (uint8_t)(n >> 8);
	z->p[i][2] = (uint8_t)n;
	memcpy(z->p[i] + 3, info, n);
	z->len[i] = n + 3;
	d = zset_find(z, "/Directory.cap");
	z->p[d][3 + 2 * (tag - 1)] = (uint8_t)(n >> 8);
	z->p[d][3 + 2 * (tag - 1) + 1] = (uint8_t)n;
}

static int
zset_open(const struct zset *z, struct gp_cap **cap)
{
	struct capgen_ent e[ZMAX];
	uint8_t *zip;
	size_t i, zlen;
	int r;

	for (i = 0; i < z->n; i++)
		e[i] = (struct capgen_ent){ z->name[i], z->p[i], z->len[i] };
	assert_int_equal(capgen_zip(e, z->n, &zip, &zlen), 0);
	r = gp_cap_open_mem(zip, zlen, cap);
	free(zip);
	return r;
}

static void
expect_err(const struct zset *z, int want)
{
	struct gp_cap *cap = (struct gp_cap *)1;

	assert_int_equal(zset_open(z, &cap), want);
	assert_null(cap);
}

static void
demo_zset(struct zset *z)
{
	uint8_t *zip;
	size_t zlen;

	assert_int_equal(capgen_demo(NULL, 0, NULL, 0, &zip, &zlen), 0);
	zset_load(z, zip, zlen);
	free(zip);
}

static void
vec_path(const char *file, char *out, size_t cap)
{
	const char *dir = getenv("TSM_VECTORS");

	if (dir == NULL || *dir == '\0')
		dir = TSM_VECTORS_DIR;
	snprintf(out, cap, "%s/cap/%s", dir, file);
}

/* The C4 block is C4, a BER length and the block; components in order. */
static void
check_lfdb(const struct gp_cap *cap, const uint8_t *order, size_t norder)
{
	struct gp_rd rd;
	uint16_t size;
	uint8_t tag;
	size_t i;

	assert_int_equal(cap->c4[0], 0xC4);
	assert_ptr_equal(cap->lfdb + cap->lfdb_len, cap->c4 + cap->c4_len);
	gp_rd_init(&rd, cap->lfdb, cap->lfdb_len);
	for (i = 0; i < norder; i++) {
		assert_int_equal(gp_rd_u8(&rd, &tag), 0);
		assert_int_equal(tag, order[i]);
		assert_int_equal(gp_rd_u16(&rd, &size), 0);
		assert_int_equal(gp_rd_skip(&rd, size), 0);
	}
	assert_int_equal(gp_rd_left(&rd), 0);
}

static void
check_vcap(const struct vcap *vc, const struct gp_cap *cap)
{
	char h[2 * GP_CAP_AID_MAX + 1];

	hex(cap->pkg.b, cap->pkg.len, h);
	assert_string_equal(h, vc->pkg);
	if (*vc->applet == '\0') {
		assert_int_equal(cap->napplets, 0);
	} else {
		assert_true(cap->napplets >= 1);
		hex(cap->applets[0].aid.b, cap->applets[0].aid.len, h);
		assert_string_equal(h, vc->applet);
	}
	assert_int_equal(cap->nimports, vc->nimports);
	assert_string_equal(cap->jc_version, vc->jc);
	assert_int_equal(cap->fmt_major, 2);
	assert_int_equal(cap->fmt_minor, 1);
}

static void
test_vectors(void **state)
{
	static const uint8_t app[] = { 1, 2, 4, 3, 6, 7, 8, 5, 9, 11 };
	static const uint8_t lib[] = { 1, 2, 4, 6, 7, 8, 10, 5, 9, 11 };
	struct gp_cap *cap;
	char path[4096];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vcaps) / sizeof(vcaps[0]); i++) {
		vec_path(vcaps[i].file, path, sizeof(path));
		if (gp_cap_open_file(path, &cap) != 0)
			fail_msg("%s does not open", path);
		check_vcap(&vcaps[i], cap);
		if (cap->napplets > 0)
			check_lfdb(cap, app, sizeof(app));
		else
			check_lfdb(cap, lib, sizeof(lib));
		gp_cap_free(cap);
	}
}

/*
 * gp_cap_open_lfdb on the Load File Data Block of every vector: the same
 * package as the archive gives, down to the rebuilt block's bytes.
 */
static void
test_lfdb_vectors(void **state)
{
	struct gp_cap *cap, *c2;
	char path[4096];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(vcaps) / sizeof(vcaps[0]); i++) {
		vec_path(vcaps[i].file, path, sizeof(path));
		if (gp_cap_open_file(path, &cap) != 0)
			fail_msg("%s does not open", path);
		assert_int_equal(gp_cap_open_lfdb(cap->lfdb, cap->lfdb_len,
		    &c2), 0);
		check_vcap(&vcaps[i], c2);
		assert_null(c2->path);
		assert_int_equal(c2->napplets, cap->napplets);
		for (k = 0; k < cap->napplets; k++) {
			assert_int_equal(c2->applets[k].aid.len,
			    cap->applets[k].aid.len);
			assert_memory_equal(c2->applets[k].aid.b,
			    cap->applets[k].aid.b, cap->applets[k].aid.len);
			assert_int_equal(c2->applets[k].install,
			    cap->applets[k].install);
		}
		assert_int_equal(c2->c4_len, cap->c4_len);
		assert_memory_equal(c2->c4, cap->c4, cap->c4_len);
		gp_cap_free(c2);
		gp_cap_free(cap);
	}
}

/* The demo's block with one defect; want: the error. */
static void
lfdb_expect(const uint8_t *p, size_t n, int want)
{
	struct gp_cap *cap = (struct gp_cap *)&cap;	/* must become NULL */

	assert_int_equal(gp_cap_open_lfdb(p, n, &cap), want);
	assert_null(cap);
}

static void
test_lfdb_hostile(void **state)
{
	struct gp_cap *demo;
	struct gp_rd rd;
	uint8_t *zip, *b, tag;
	uint16_t size;
	size_t zlen, n, i, imp = 0, implen = 0;
	int r;

	(void)state;
	assert_int_equal(capgen_demo(NULL, 0, NULL, 0, &zip, &zlen), 0);
	assert_int_equal(gp_cap_open_mem(zip, zlen, &demo), 0);
	free(zip);
	n = demo->lfdb_len;
	assert_non_null(b = malloc(n + 8));
	memcpy(b, demo->lfdb, n);
	/* Every proper prefix fails: cut inside a component, or short of one. */
	for (i = 0; i < n; i++) {
		struct gp_cap *c = NULL;

		r = gp_cap_open_lfdb(b, i, &c);
		assert_true(r == GP_ERR_TRUNC || r == GP_ERR_NOTFOUND ||
		    r == GP_ERR_FORMAT);
		assert_null(c);
	}
	lfdb_expect(NULL, 3, GP_ERR_INVAL);
	/* A component again (the Header, 3 bytes + its size, at the end). */
	gp_rd_init(&rd, b, n);
	assert_int_equal(gp_rd_u8(&rd, &tag), 0);
	assert_int_equal(gp_rd_u16(&rd, &size), 0);
	{
		uint8_t *d;

		assert_non_null(d = malloc(n + 3u + size));
		memcpy(d, b, n);
		memcpy(d + n, b, 3u + size);
		lfdb_expect(d, n + 3u + size, GP_ERR_FORMAT);
		free(d);
	}
	/* Unknown tags: 0, 13 (past Debug). */
	b[n] = 0x00; b[n + 1] = 0x00; b[n + 2] = 0x00;
	lfdb_expect(b, n + 3, GP_ERR_FORMAT);
	b[n] = 0x0D;
	lfdb_expect(b, n + 3, GP_ERR_FORMAT);
	/* A size past the end. */
	b[n] = GP_CAP_DEBUG; b[n + 1] = 0x00; b[n + 2] = 0x09;
	lfdb_expect(b, n + 3, GP_ERR_TRUNC);
	/* The Import component left out: a mandatory one is missing. */
	gp_rd_init(&rd, b, n);
	while (gp_rd_left(&rd) > 0) {
		size_t at = rd.off;

		assert_int_equal(gp_rd_u8(&rd, &tag), 0);
		assert_int_equal(gp_rd_u16(&rd, &size), 0);
		assert_int_equal(gp_rd_skip(&rd, size), 0);
		if (tag == GP_CAP_IMPORT) {
			imp = at;
			implen = 3u + size;
		}
	}
	assert_true(implen > 0);
	memmove(b + imp, b + imp + implen, n - imp - implen);
	lfdb_expect(b, n - implen, GP_ERR_NOTFOUND);
	free(b);
	gp_cap_free(demo);
}

/* kaoh: the C4 header recorded in the LOAD commands, and both hashes. */
static void
test_kaoh_hashes(void **state)
{
	static const uint8_t head[] = { 0xC4, 0x82, 0x01, 0x57, 0x01, 0x00 };
	struct gp_cap *cap;
	uint8_t md[32];
	char path[4096];
	size_t n;

	(void)state;
	vec_path("kaoh_helloworld.cap", path, sizeof(path));
	assert_int_equal(gp_cap_open_file(path, &cap), 0);
	assert_int_equal(cap->c4_len, 0x157 + 4);
	assert_memory_equal(cap->c4, head, sizeof(head));
	assert_int_equal(gp_cap_lfdb_hash(cap, GP_CAP_SHA1, md, sizeof(md),
	    &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(gp_cap_lfdb_hash(cap, GP_CAP_SHA256, md, sizeof(md),
	    &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(gp_cap_lfdb_hash(cap, GP_CAP_SHA256, md, 20, &n),
	    GP_ERR_SPACE);
	assert_int_equal(gp_cap_lfdb_hash(cap, 7, md, sizeof(md), &n),
	    GP_ERR_INVAL);
	gp_cap_free(cap);
}

static void
test_demo(void **state)
{
	static const uint8_t order[] = { 1, 2, 4, 3, 6, 7, 8, 5, 9, 11 };
	static const uint8_t pkg[] = { 0xA0, 0, 0, 0, 0x77, 0x01 };
	struct gp_cap *cap;
	uint8_t *zip, big[GP_CAP_AID_MAX];
	size_t zlen;
	char h[33];

	(void)state;
	assert_int_equal(capgen_demo(NULL, 0, NULL, 0, &zip, &zlen), 0);
	assert_int_equal(gp_cap_open_mem(zip, zlen, &cap), 0);
	free(zip);
	hex(cap->pkg.b, cap->pkg.len, h);
	assert_string_equal(h, "D27600017754534D01");
	assert_int_equal(cap->napplets, 1);
	hex(cap->applets[0].aid.b, cap->applets[0].aid.len, h);
	assert_string_equal(h, "D27600017754534D0101");
	assert_int_equal(cap->applets[0].install, 8);
	assert_string_equal(cap->jc_version, "2.2.1");
	assert_string_equal(cap->path, "tsm/demo");
	check_lfdb(cap, order, sizeof(order));
	gp_cap_free(cap);

	assert_int_equal(capgen_demo(pkg, sizeof(pkg), NULL, 0, &zip, &zlen), 0);
	assert_int_equal(gp_cap_open_mem(zip, zlen, &cap), 0);
	free(zip);
	hex(cap->applets[0].aid.b, cap->applets[0].aid.len, h);
	assert_string_equal(h, "A0000000770101");
	gp_cap_free(cap);

	memset(big, 0xA0, sizeof(big));
	assert_int_equal(capgen_demo(big, sizeof(big), NULL, 0, &zip, &zlen),
	    GP_ERR_INVAL);
	assert_int_equal(capgen_demo(pkg, 4, NULL, 0, &zip, &zlen),
	    GP_ERR_INVAL);
}

/* CAP 2.2: package name in the Header, a 12th (Debug) Directory size. */
static void
test_format_22(void **state)
{
	static const uint8_t head[] = { 0xDE, 0xCA, 0xFF, 0xED, 0x02, 0x02,
	    0x04, 0x00, 0x01, 0x09, 0xD2, 0x76, 0x00, 0x01, 0x77, 0x54, 0x53,
	    0x4D, 0x01, 0x08, 't', 's', 'm', '.', 'd', 'e', 'm', 'o' };
	uint8_t dir[64];
	struct gp_cap *cap;
	struct zset z;
	size_t d;

	(void)state;
	demo_zset(&z);
	d = zset_find(&z, "/Directory.cap");
	memcpy(dir, z.p[d] + 3, 22);
	dir[22] = dir[23] = 0;
	memcpy(dir + 24, z.p[d] + 3 + 22, 9);
	zset_set_info(&z, GP_CAP_DIRECTORY, dir, 33);
	zset_set_info(&z, GP_CAP_HEADER, head, sizeof(head));
	assert_int_equal(zset_open(&z, &cap), 0);
	assert_string_equal(cap->pkg_name, "tsm.demo");
	assert_int_equal(cap->fmt_minor, 2);
	gp_cap_free(cap);
	/* A 2.1 Directory under a 2.2 Header is two bytes short. */
	memcpy(dir, z.p[d] + 3, 22);
	zset_set_info(&z, GP_CAP_DIRECTORY, dir, 31);
	z.p[d][3 + 2] = 0;
	z.p[d][3 + 3] = 31;
	expect_err(&z, GP_ERR_TRUNC);
	zset_free(&z);
}

static void
test_missing_header(void **state)
{
	struct zset z;

	(void)state;
	demo_zset(&z);
	zset_del(&z, "/Header.cap");
	expect_err(&z, GP_ERR_NOTFOUND);
	zset_free(&z);
}

static void
test_wrong_magic(void **state)
{
	struct zset z;

	(void)state;
	demo_zset(&z);
	z.p[zset_find(&z, "/Header.cap")][6] ^= 0x01;
	expect_err(&z, GP_ERR_FORMAT);
	zset_free(&z);
}

static void
test_wrong_tag(void **state)
{
	struct zset z;

	(void)state;
	demo_zset(&z);
	z.p[zset_find(&z, "/Class.cap")][0] = 0x07;
	expect_err(&z, GP_ERR_FORMAT);
	zset_free(&z);
}

/* The entry holds one byte more than its size field says. */
static void
test_size_mismatch(void **state)
{
	struct zset z;
	size_t i;

	(void)state;
	demo_zset(&z);
	i = zset_find(&z, "/ConstantPool.cap");
	z.p[i][2]--;
	expect_err(&z, GP_ERR_FORMAT);
	zset_free(&z);
}

/* Directory's record of the Method size disagrees with Method itself. */
static void
test_directory_mismatch(void **state)
{
	struct zset z;

	(void)state;
	demo_zset(&z);
	z.p[zset_find(&z, "/Directory.cap")][3 + 2 * 6 + 1]++;
	expect_err(&z, GP_ERR_FORMAT);
	zset_free(&z);
}

static void
test_truncated_component(void **state)
{
	struct zset z;

	(void)state;
	demo_zset(&z);
	z.len[zset_find(&z, "/Method.cap")] -= 2;
	expect_err(&z, GP_ERR_TRUNC);
	z.len[zset_find(&z, "/Method.cap")] = 2;	/* not even a size */
	expect_err(&z, GP_ERR_TRUNC);
	zset_free(&z);
}

static void
header_with_aid(struct zset *z, const uint8_t *aid, size_t n, int want)
{
	uint8_t info[64] = { 0xDE, 0xCA, 0xFF, 0xED, 0x01, 0x02, 0x04,
	    0x00, 0x01 };

	info[9] = (uint8_t)n;
	memcpy(info + 10, aid, n);
	zset_set_info(z, GP_CAP_HEADER, info, 10 + n);
	expect_err(z, want);
}

static void
test_bad_aids(void **state)
{
	uint8_t aid[17];
	struct zset z;

	(void)state;
	memset(aid, 0xA0, sizeof(aid));
	demo_zset(&z);
	header_with_aid(&z, aid, 0, GP_ERR_FORMAT);
	header_with_aid(&z, aid, 4, GP_ERR_FORMAT);
	header_with_aid(&z, aid, 17, GP_ERR_FORMAT);
	zset_free(&z);
}

static void
test_applet_count(void **state)
{
	static const uint8_t three[] = { 0x03, 0x05, 0xA0, 0, 0, 0, 1,
	    0x00, 0x08 };
	static const uint8_t far[] = { 0x01, 0x05, 0xA0, 0, 0, 0, 1,
	    0x00, 0x18 };
	static const uint8_t empty_aid[] = { 0x01, 0x00, 0x00, 0x08 };
	struct zset z;

	(void)state;
	demo_zset(&z);
	zset_set_info(&z, GP_CAP_APPLET, three, sizeof(three));
	expect_err(&z, GP_ERR_TRUNC);
	zset_set_info(&z, GP_CAP_APPLET, far, sizeof(far));
	expect_err(&z, GP_ERR_FORMAT);	/* install beyond Method */
	zset_set_info(&z, GP_CAP_APPLET, empty_aid, sizeof(empty_aid));
	expect_err(&z, GP_ERR_FORMAT);
	zset_free(&z);
}

static void
test_import_count(void **state)
{
	static const uint8_t two[] = { 0x02, 0x03, 0x01, 0x07, 0xA0, 0, 0, 0,
	    0x62, 0x01, 0x01 };
	struct zset z;

	(void)state;
	demo_zset(&z);
	zset_set_info(&z, GP_CAP_IMPORT, two, sizeof(two));
	expect_err(&z, GP_ERR_TRUNC);
	zset_free(&z);
}

/* Header says ACC_APPLET; the Applet component is gone. */
static void
test_flags(void **state)
{
	struct zset z;

	(void)state;
	demo_zset(&z);
	zset_del(&z, "/Applet.cap");
	z.p[zset_find(&z, "/Directory.cap")][3 + 2 * 2 + 1] = 0;
	expect_err(&z, GP_ERR_FORMAT);
	zset_free(&z);
}

static void
test_cap_format(void **state)
{
	struct zset z;

	(void)state;
	demo_zset(&z);
	z.p[zset_find(&z, "/Header.cap")][8] = 3;	/* major 3 */
	expect_err(&z, GP_ERR_UNSUPPORTED);
	zset_free(&z);
}

/* 1 MiB + 1 of zeros: deflates to a few KB, must not be inflated. */
static void
test_component_too_big(void **state)
{
	struct zset z;
	uint8_t *big;
	size_t i;

	(void)state;
	assert_non_null(big = calloc(1, GP_CAP_COMP_MAX + 1));
	demo_zset(&z);
	i = zset_find(&z, "/Method.cap");
	free(z.p[i]);
	z.p[i] = big;
	z.len[i] = GP_CAP_COMP_MAX + 1;
	expect_err(&z, GP_ERR_TOOLARGE);
	zset_free(&z);
}

/* Five components of 1 MiB each: over the 4 MiB total. */
static void
test_total_too_big(void **state)
{
	static const char *names[] = { "/Method.cap", "/Class.cap",
	    "/Descriptor.cap", "/ConstantPool.cap", "/RefLocation.cap" };
	struct zset z;
	size_t i, k;

	(void)state;
	demo_zset(&z);
	for (k = 0; k < 5; k++) {
		i = zset_find(&z, names[k]);
		free(z.p[i]);
		assert_non_null(z.p[i] = calloc(1, GP_CAP_COMP_MAX));
		z.len[i] = GP_CAP_COMP_MAX;
	}
	expect_err(&z, GP_ERR_TOOLARGE);
	zset_free(&z);
}

static void
test_too_many_entries(void **state)
{
	struct zset z;
	char name[32];
	size_t i;

	(void)state;
	demo_zset(&z);
	for (i = 0; z.n <= GP_CAP_ENTRIES_MAX; i++) {
		snprintf(name, sizeof(name), "junk/%zu", i);
		zset_add(&z, name, (const uint8_t *)"x", 1);
	}
	expect_err(&z, GP_ERR_TOOLARGE);
	zset_free(&z);
}

static void
test_two_packages(void **state)
{
	struct zset z;
	size_t i;

	(void)state;
	demo_zset(&z);
	i = zset_find(&z, "/Header.cap");
	zset_add(&z, "other/pkg/javacard/Header.cap", z.p[i], z.len[i]);
	expect_err(&z, GP_ERR_UNSUPPORTED);
	zset_free(&z);
}

static void
test_not_zip(void **state)
{
	static const uint8_t junk[] = "this is not a zip archive at all, "
	    "only some text that goes on for a while";
	static const uint8_t eocd[22] = { 'P', 'K', 5, 6 };
	struct gp_cap *cap;
	struct zset z;

	(void)state;
	assert_int_equal(gp_cap_open_mem(junk, sizeof(junk), &cap),
	    GP_ERR_FORMAT);
	assert_null(cap);
	assert_int_equal(gp_cap_open_mem(eocd, sizeof(eocd), &cap),
	    GP_ERR_NOTFOUND);
	assert_int_equal(gp_cap_open_mem(NULL, 0, &cap), GP_ERR_NOTFOUND);
	assert_int_equal(gp_cap_open_mem(NULL, 3, &cap), GP_ERR_INVAL);
	assert_int_equal(gp_cap_open_file("/nonexistent/x.cap", &cap),
	    GP_ERR_IO);
	memset(&z, 0, sizeof(z));
	zset_add(&z, "META-INF/MANIFEST.MF", (const uint8_t *)"x", 1);
	expect_err(&z, GP_ERR_NOTFOUND);
	zset_free(&z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_kaoh_hashes),
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_format_22),
		cmocka_unit_test(test_missing_header),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_wrong_tag),
		cmocka_unit_test(test_size_mismatch),
		cmocka_unit_test(test_directory_mismatch),
		cmocka_unit_test(test_truncated_component),
		cmocka_unit_test(test_bad_aids),
		cmocka_unit_test(test_applet_count),
		cmocka_unit_test(test_import_count),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_cap_format),
		cmocka_unit_test(test_component_too_big),
		cmocka_unit_test(test_total_too_big),
		cmocka_unit_test(test_too_many_entries),
		cmocka_unit_test(test_two_packages),
		cmocka_unit_test(test_not_zip),
		cmocka_unit_test(test_lfdb_vectors),
		cmocka_unit_test(test_lfdb_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
