/*
 * Checker of kind cap (FORMAT.md): a real CAP file next to the .vec, its
 * SHA-256, package AID, applet AIDs and Load File Data Block.
 *
 * The file is read once into memory and opened from there
 * (gp_cap_open_mem, the server's path); it is also opened by name
 * (gp_cap_open_file) and both must give the same C4 block.
 *
 * expect.loadfile.sha256 is the SHA-256 of the C4-prefixed block, as
 * FORMAT.md defines it; none of the published vectors uses it (only
 * kaoh_helloworld has expect.loadfile, which matches the C4 form), so
 * the definition comes from FORMAT.md alone. It is not the GP Load File
 * Data Block hash, which gp_cap_lfdb_hash computes without C4 and length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "vec.h"

#define FILE_MAX	(16 * 1024 * 1024)

/* Reads a whole file, up to FILE_MAX bytes. */
static int
slurp(const char *path, uint8_t **out, size_t *outlen)
{
	FILE *f;
	uint8_t *p = NULL;
	long size;
	int r = -1;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    size > FILE_MAX || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((p = malloc(size > 0 ? (size_t)size : 1)) == NULL ||
	    fread(p, 1, (size_t)size, f) != (size_t)size)
		goto out;
	*out = p;
	*outlen = (size_t)size;
	p = NULL;
	r = 0;
 out:
	fclose(f);
	free(p);
	return r;
}

static int
expect_sha256(struct vec *v, const char *key, const uint8_t *p, size_t n)
{
	uint8_t md[32];
	unsigned int mdlen;

	if (!vec_has(v, key))
		return VEC_PASS;
	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL))
		return vec_fail(v, "SHA-256 failed");
	return vec_expect(v, key, md, mdlen);
}

/* "AID1,AID2" in upper-case hex, "" for a library. */
static int
expect_applets(struct vec *v, const struct gp_cap *cap)
{
	char s[256 * (2 * GP_CAP_AID_MAX + 1) + 1];
	size_t i, off = 0;

	s[0] = '\0';
	for (i = 0; i < cap->napplets; i++) {
		if (i > 0)
			s[off++] = ',';
		gp_hex_encode(cap->applets[i].aid.b, cap->applets[i].aid.len,
		    s + off);
		off += 2 * (size_t)cap->applets[i].aid.len;
	}
	return vec_expect_str(v, "expect.applet_aids", s);
}

static int
check(struct vec *v, const char *path, const uint8_t *buf, size_t len)
{
	struct gp_cap *cap = NULL, *fcap = NULL;
	int r;

	if ((r = gp_cap_open_mem(buf, len, &cap)) != 0)
		return vec_fail(v, "%s: %s", path, gp_strerror(r));
	if ((r = gp_cap_open_file(path, &fcap)) != 0) {
		r = vec_fail(v, "%s (by name): %s", path, gp_strerror(r));
		goto out;
	}
	if (fcap->c4_len != cap->c4_len ||
	    memcmp(fcap->c4, cap->c4, cap->c4_len) != 0) {
		r = vec_fail(v, "file and memory opens differ");
		goto out;
	}
	if ((r = vec_expect(v, "expect.package_aid", cap->pkg.b,
	    cap->pkg.len)) != VEC_PASS ||
	    (r = expect_applets(v, cap)) != VEC_PASS ||
	    (r = vec_expect(v, "expect.loadfile", cap->c4,
	    cap->c4_len)) != VEC_PASS ||
	    (r = expect_sha256(v, "expect.loadfile.sha256", cap->c4,
	    cap->c4_len)) != VEC_PASS)
		goto out;
	r = VEC_PASS;
 out:
	gp_cap_free(cap);
	gp_cap_free(fcap);
	return r;
}

int
vec_check_cap(struct vec *v)
{
	const char *file = vec_get(v, "file");
	char path[4096 + 256];
	uint8_t *buf = NULL;
	size_t len;
	int r;

	if (file == NULL || !vec_has(v, "sha256"))
		return vec_fail(v, "cap vector needs file and sha256");
	if (!vec_has(v, "expect.package_aid") ||
	    !vec_has(v, "expect.applet_aids"))
		return vec_fail(v, "cap vector needs expect.package_aid and "
		    "expect.applet_aids");
	vec_path(v, file, path, sizeof(path));
	if (slurp(path, &buf, &len) != 0)
		return vec_fail(v, "cannot read %s", path);
	if ((r = expect_sha256(v, "sha256", buf, len)) == VEC_PASS)
		r = check(v, path, buf, len);
	free(buf);
	return r;
}
