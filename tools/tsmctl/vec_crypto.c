/*
 * Checkers of the key derivation kinds: kdf.scp03, kdf.scp02, kcv and
 * diversify (FORMAT.md). Every computed key is wiped before returning.
 */
#include <stdio.h>
#include <string.h>

#include "gp/buf.h"
#include "gp/crypto.h"
#include "gp/kdf.h"
#include "vec.h"

static int
expect_kcv(struct vec *v, const char *key, const uint8_t *k, size_t n,
    int aes)
{
	uint8_t kcv[3];

	if (!vec_has(v, key))
		return VEC_PASS;
	if ((aes ? gp_kcv_aes(k, n, kcv) : gp_kcv_des3(k, kcv)) != 0)
		return vec_fail(v, "KCV computation failed");
	return vec_expect(v, key, kcv, 3);
}

int
vec_check_kdf_scp03(struct vec *v)
{
	uint8_t key[32], c, ctx[256], out[64];
	size_t kn, cn, ctxn;
	struct gp_aes a;
	long bits;
	int r;

	if (vec_hex(v, "key", key, sizeof(key), &kn) ||
	    vec_hex(v, "constant", &c, 1, &cn) || cn != 1 ||
	    vec_hex(v, "context", ctx, sizeof(ctx), &ctxn)) {
		r = v->why[0] ? VEC_FAIL : vec_fail(v, "bad constant");
		goto out;
	}
	if ((bits = vec_int(v, "bits", -1)) <= 0 || bits % 8 || bits > 512) {
		r = vec_fail(v, "bad bits");
		goto out;
	}
	if (gp_aes_init(&a, key, kn) != 0) {
		r = vec_fail(v, "bad AES key length %zu", kn);
		goto out;
	}
	r = gp_kdf_scp03(&a, c, ctx, ctxn, (size_t)bits, out);
	gp_aes_free(&a);
	if (r != 0)
		r = vec_fail(v, "kdf failed: %d", r);
	else if ((r = vec_expect(v, "expect", out, (size_t)bits / 8)) == 0)
		r = expect_kcv(v, "expect.kcv", out, (size_t)bits / 8, 1);
out:
	gp_wipe(out, sizeof(out));
	gp_wipe(key, sizeof(key));
	return r;
}

int
vec_check_kdf_scp02(struct vec *v)
{
	uint8_t key[16], c[2], seq[2], out[16];
	size_t kn, cn, sn;
	int r;

	if (vec_hex(v, "key", key, sizeof(key), &kn) ||
	    vec_hex(v, "constant", c, 2, &cn) ||
	    vec_hex(v, "seq", seq, 2, &sn))
		return VEC_FAIL;
	if (kn != 16 || cn != 2 || sn != 2)
		return vec_fail(v, "key/constant/seq sizes");
	if ((r = gp_kdf_scp02(key, (uint16_t)(c[0] << 8 | c[1]), seq,
	    out)) != 0)
		return vec_fail(v, "kdf failed: %d", r);
	if ((r = vec_expect(v, "expect", out, 16)) == VEC_PASS)
		r = expect_kcv(v, "expect.kcv", out, 16, 0);
	gp_wipe(out, sizeof(out));
	gp_wipe(key, sizeof(key));
	return r;
}

int
vec_check_kcv(struct vec *v)
{
	const char *alg = vec_get(v, "alg");
	uint8_t key[32];
	size_t kn;
	int r, aes;

	if (alg == NULL || (strcmp(alg, "des3") && strcmp(alg, "aes")))
		return vec_fail(v, "alg must be des3 or aes");
	if (vec_hex(v, "key", key, sizeof(key), &kn))
		return VEC_FAIL;
	aes = strcmp(alg, "aes") == 0;
	if (!aes && kn != 16)
		return vec_fail(v, "des3 key must be 16 bytes");
	if (!vec_has(v, "expect"))
		return vec_fail(v, "missing expect");
	r = expect_kcv(v, "expect", key, kn, aes);
	gp_wipe(key, sizeof(key));
	return r;
}

int
vec_check_diversify(struct vec *v)
{
	static const char *names[3] = { "enc", "mac", "dek" };
	const char *m = vec_get(v, "method"), *alg = vec_get(v, "alg");
	uint8_t master[32], kdd[16], out[32];
	char key[32];
	enum gp_div_method dm;
	size_t mn, kn;
	int t, r = VEC_PASS;

	if (m == NULL || gp_div_method_parse(m, &dm) != 0 || dm == GP_DIV_NONE)
		return vec_fail(v, "unknown method");
	if (alg != NULL && strcmp(alg, dm == GP_DIV_KDF3 ? "aes" : "des3"))
		return vec_fail(v, "alg %s does not fit method %s", alg, m);
	if (vec_hex(v, "master", master, sizeof(master), &mn) ||
	    vec_hex(v, "kdd", kdd, sizeof(kdd), &kn))
		return VEC_FAIL;
	if (kn != GP_KDD_LEN)
		return vec_fail(v, "kdd must be 10 bytes");
	for (t = 0; t < 3 && r == VEC_PASS; t++) {
		if (gp_diversify(dm, master, mn, kdd, t + 1, out) != 0) {
			r = vec_fail(v, "diversify failed");
			break;
		}
		snprintf(key, sizeof(key), "expect.%s", names[t]);
		if ((r = vec_expect(v, key, out, mn)) != VEC_PASS)
			break;
		snprintf(key, sizeof(key), "expect.kcv.%s", names[t]);
		r = expect_kcv(v, key, out, mn, dm == GP_DIV_KDF3);
	}
	gp_wipe(out, sizeof(out));
	gp_wipe(master, sizeof(master));
	return r;
}
