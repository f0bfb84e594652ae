/*
 * Checkers of the builder kinds (FORMAT.md): keyenc.scp02, keyenc.scp03,
 * storedata.keys, token.data, token.dm and build.sd_params,
 * build.uicc_params, build.sim_params.
 *
 * token.dm signs with OpenSSL EVP here, in the tool: libgp lays out token
 * data but never holds a signing key (that is key custody's job).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gp/buf.h"
#include "gp/cmd.h"
#include "gp/crypto.h"
#include "gp/err.h"
#include "gp/kdf.h"
#include "gp/params.h"
#include "gp/putkey.h"
#include "gp/token.h"
#include "vec.h"

#define OUT_MAX		4096
#define KEYS_MAX	16
#define RULES_MAX	16
#define FIELD_MAX	256

/* Exactly one hex byte; def when the key is absent. */
static int
hex1(struct vec *v, const char *key, uint8_t *out, uint8_t def)
{
	size_t n;

	*out = def;
	if (!vec_has(v, key))
		return 0;
	if (vec_hex(v, key, out, 1, &n) || n != 1)
		return vec_fail(v, "%s must be one hex byte", key), -1;
	return 0;
}

/* An optional hex field; buf must hold FIELD_MAX bytes. */
static int
opt_hex(struct vec *v, const char *key, uint8_t *buf, struct gp_param *p)
{
	memset(p, 0, sizeof(*p));
	if (!vec_has(v, key))
		return 0;
	if (vec_hex(v, key, buf, FIELD_MAX, &p->len))
		return -1;
	p->p = buf;
	p->set = 1;
	return 0;
}

/* Compares a finished writer with expect and frees it. */
static int
expect_wr(struct vec *v, int rc, struct gp_wr *w)
{
	int r;

	if (rc != 0)
		r = vec_fail(v, "build failed: %s", gp_strerror(rc));
	else if (!vec_has(v, "expect"))
		r = vec_fail(v, "missing expect");
	else
		r = vec_expect(v, "expect", w->p, w->len);
	gp_wr_free(w);
	return r;
}

int
vec_check_keyenc_scp02(struct vec *v)
{
	uint8_t key[16], dek[16], sdek[16], seq[2], out[16];
	size_t kn, dn, sn;
	struct gp_des3 d;
	int r = VEC_FAIL;

	if (vec_hex(v, "key", key, sizeof(key), &kn) || kn != 16) {
		(void)vec_fail(v, "key must be 16 bytes");
		goto out;
	}
	if (vec_has(v, "dek")) {
		if (vec_hex(v, "dek", dek, sizeof(dek), &dn) || dn != 16)
			goto out;
	} else if (vec_hex(v, "key.dek", sdek, sizeof(sdek), &dn) ||
	    dn != 16 || vec_hex(v, "seq", seq, 2, &sn) || sn != 2 ||
	    gp_kdf_scp02(sdek, GP_SCP02_DEK, seq, dek) != 0) {
		(void)vec_fail(v, "need dek, or key.dek (16) and seq (2)");
		goto out;
	}
	if (gp_des3_init(&d, dek) != 0) {
		(void)vec_fail(v, "3DES init failed");
		goto out;
	}
	if ((r = gp_keyenc_scp02(&d, key, out)) != 0)
		r = vec_fail(v, "keyenc: %s", gp_strerror(r));
	else
		r = vec_expect(v, "expect", out, 16);
	gp_des3_free(&d);
 out:
	gp_wipe(key, 16);
	gp_wipe(dek, 16);
	gp_wipe(sdek, 16);
	gp_wipe(out, 16);
	return r;
}

int
vec_check_keyenc_scp03(struct vec *v)
{
	uint8_t key[GP_KEY_MAX], dek[GP_KEY_MAX], buf[1 + GP_KEY_MAX];
	size_t kn, dn;
	struct gp_aes a;
	struct gp_wr w;
	int r;

	if (vec_hex(v, "key", key, sizeof(key), &kn) ||
	    vec_hex(v, "dek", dek, sizeof(dek), &dn)) {
		r = VEC_FAIL;
		goto out;
	}
	if (gp_aes_init(&a, dek, dn) != 0) {
		r = vec_fail(v, "bad DEK length %zu", dn);
		goto out;
	}
	gp_wr_init(&w, buf, sizeof(buf));
	if ((r = gp_keyenc_scp03(&a, key, kn, &w)) != 0)
		r = vec_fail(v, "keyenc: %s", gp_strerror(r));
	else
		r = vec_expect(v, "expect", buf, w.len);
	gp_aes_free(&a);
 out:
	gp_wipe(key, sizeof(key));
	gp_wipe(dek, sizeof(dek));
	gp_wipe(buf, sizeof(buf));
	return r;
}

/* key.N.id / key.N.value for N = 1.. into refs (values in vals). */
static int
sd_keys_read(struct vec *v, uint8_t vals[][GP_KEY_MAX], size_t klen,
    struct gp_key_ref *refs, size_t *n)
{
	char kid[32], kval[32];
	size_t i, vn;

	for (i = 0; i < KEYS_MAX; i++) {
		snprintf(kid, sizeof(kid), "key.%zu.id", i + 1);
		snprintf(kval, sizeof(kval), "key.%zu.value", i + 1);
		if (!vec_has(v, kid))
			break;
		if (hex1(v, kid, &refs[i].id, 0) ||
		    vec_hex(v, kval, vals[i], GP_KEY_MAX, &vn))
			return -1;
		if (vn != klen)
			return vec_fail(v, "%s is not length bytes", kval), -1;
		refs[i].value = vals[i];
	}
	*n = i;
	return i == 0 ? (vec_fail(v, "no keys"), -1) : 0;
}

int
vec_check_storedata_keys(struct vec *v)
{
	uint8_t dek[GP_KEY_MAX], vals[KEYS_MAX][GP_KEY_MAX], pur[2];
	struct gp_key_ref refs[KEYS_MAX];
	struct gp_sd_keys sk;
	struct gp_aes a;
	struct gp_wr w;
	size_t dn, pn;
	long len = vec_int(v, "length", -1);
	int r = VEC_FAIL;

	memset(&sk, 0, sizeof(sk));
	if (len <= 0 || len > GP_KEY_MAX)
		return vec_fail(v, "bad length");
	sk.key_len = (size_t)len;
	if (vec_hex(v, "dek", dek, sizeof(dek), &dn) ||
	    hex1(v, "type", &sk.type, 0) || hex1(v, "kvn", &sk.kvn, 0) ||
	    hex1(v, "access", &sk.access, 0) ||
	    vec_hex(v, "purpose", pur, 2, &pn) || pn != 2 ||
	    sd_keys_read(v, vals, sk.key_len, refs, &sk.nkeys))
		goto out;
	sk.purpose = (uint16_t)(pur[0] << 8 | pur[1]);
	sk.keys = refs;
	if (gp_aes_init(&a, dek, dn) != 0) {
		r = vec_fail(v, "bad DEK length %zu", dn);
		goto out;
	}
	gp_wr_init_dyn(&w, OUT_MAX);
	r = expect_wr(v, gp_storedata_keys(&a, &sk, &w), &w);
	gp_aes_free(&a);
 out:
	gp_wipe(dek, sizeof(dek));
	gp_wipe(vals, sizeof(vals));
	return r;
}

/* Splits "A,B,C" hex AIDs into refs backed by buf. */
static int
aid_list(struct vec *v, const char *s, uint8_t buf[][GP_AID_MAX + 1],
    struct gp_aid_ref *refs, size_t cap, size_t *n)
{
	char tmp[2 * (GP_AID_MAX + 1) + 1];
	size_t k, len;

	for (*n = 0; *s != '\0' && *n < cap; (*n)++) {
		len = strcspn(s, ",");
		if (len >= sizeof(tmp))
			return vec_fail(v, "AID too long"), -1;
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (gp_hex_decode(tmp, buf[*n], GP_AID_MAX + 1, &k) != 0)
			return vec_fail(v, "bad AID %s", tmp), -1;
		refs[*n].p = buf[*n];
		refs[*n].len = k;
		s += len + (s[len] == ',');
	}
	return *s == '\0' ? 0 : (vec_fail(v, "too many AIDs"), -1);
}

/* Field names of token.data (FORMAT.md) into a gp_install. */
static int
token_fields(struct vec *v, uint8_t bufs[5][FIELD_MAX], struct gp_install *in)
{
	static const char *names[5] = { "elf_aid", "sd_aid", "lfdb_hash",
	    "params", "app_aid" };
	const uint8_t **ptr[5] = { &in->elf_aid, &in->sd_aid, &in->hash,
	    &in->params, &in->app_aid };
	size_t *len[5] = { &in->elf_len, &in->sd_len, &in->hash_len,
	    &in->params_len, &in->app_len };
	size_t i;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < 5; i++) {
		if (!vec_has(v, names[i]))
			continue;
		if (vec_hex(v, names[i], bufs[i], FIELD_MAX, len[i]))
			return -1;
		*ptr[i] = bufs[i];
	}
	return 0;
}

/* Rebuilds token data from type + fields; rc is the libgp result. */
static int
token_build(struct vec *v, struct gp_wr *w, int *rc)
{
	const char *type = vec_get(v, "type"), *aids = vec_get(v, "aids");
	uint8_t bufs[5][FIELD_MAX], abuf[16][GP_AID_MAX + 1], p2;
	struct gp_aid_ref refs[16];
	struct gp_install in;
	size_t n;

	if (type == NULL)
		return vec_fail(v, "missing type"), -1;
	if (strcmp(type, "delete") == 0) {
		if (aids == NULL || hex1(v, "p2", &p2, 0) ||
		    aid_list(v, aids, abuf, refs, 16, &n))
			return v->why[0] ? -1 : (vec_fail(v, "missing aids"), -1);
		*rc = gp_token_delete(p2, refs, n, w);
		return 0;
	}
	if (token_fields(v, bufs, &in))
		return -1;
	if (strcmp(type, "load") == 0)
		*rc = gp_token_install(GP_INSTALL_LOAD, &in, w);
	else if (strcmp(type, "extradition") == 0)
		*rc = gp_token_install(GP_INSTALL_EXTRADITION, &in, w);
	else
		return vec_fail(v, "unknown type %s", type), -1;
	return 0;
}

int
vec_check_token_data(struct vec *v)
{
	const char *err = vec_get(v, "expect.error");
	struct gp_wr w;
	int rc = 0, r;

	gp_wr_init_dyn(&w, OUT_MAX);
	if (token_build(v, &w, &rc) != 0) {
		gp_wr_free(&w);
		return VEC_FAIL;
	}
	if (err != NULL) {
		gp_wr_free(&w);
		if (strcmp(err, "too_large") != 0)
			return vec_fail(v, "unknown expect.error %s", err);
		if (rc != GP_ERR_TOOLARGE)
			return vec_fail(v, "want too_large, got %s",
			    gp_strerror(rc));
		return VEC_PASS;
	}
	r = expect_wr(v, rc, &w);
	return r;
}

static EVP_PKEY *
load_pem(struct vec *v, const char *key, int priv)
{
	char path[4096];
	EVP_PKEY *pk;
	FILE *f;

	vec_path(v, vec_get(v, key), path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL) {
		vec_fail(v, "cannot open %s", path);
		return NULL;
	}
	pk = priv ? PEM_read_PrivateKey(f, NULL, NULL, NULL) :
	    PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL)
		vec_fail(v, "cannot read PEM %s", path);
	return pk;
}

/* RSASSA-PKCS1-v1_5 with SHA-1 (deterministic); out holds 1024 bytes. */
static int
dm_sign(EVP_PKEY *pk, const uint8_t *d, size_t n, uint8_t *out, size_t *on)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	*on = 1024;
	ok = EVP_DigestSignInit(ctx, &pctx, EVP_sha1(), NULL, pk) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_get_size(pk) <= 1024 &&
	    EVP_DigestSign(ctx, out, on, d, n) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
dm_verify(EVP_PKEY *pk, const uint8_t *d, size_t n, const uint8_t *sig,
    size_t sn)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha1(), NULL, pk) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_DigestVerify(ctx, sig, sn, d, n) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* With type present, the data must be what token.data rules give. */
static int
dm_data_check(struct vec *v, const uint8_t *d, size_t n)
{
	struct gp_wr w;
	int rc = 0, r = VEC_PASS;

	if (!vec_has(v, "type"))
		return VEC_PASS;
	gp_wr_init_dyn(&w, OUT_MAX);
	if (token_build(v, &w, &rc) != 0)
		r = VEC_FAIL;
	else if (rc != 0)
		r = vec_fail(v, "token data: %s", gp_strerror(rc));
	else if (w.len != n || memcmp(w.p, d, n) != 0)
		r = vec_fail(v, "data differs from the rebuilt token data");
	gp_wr_free(&w);
	return r;
}

int
vec_check_token_dm(struct vec *v)
{
	const char *alg = vec_get(v, "alg");
	EVP_PKEY *pk = NULL, *pub = NULL;
	uint8_t *d = NULL, sig[1024];
	size_t n, sn;
	int r = VEC_FAIL;

	if (alg == NULL || strcmp(alg, "rsa-pkcs1v15-sha1") != 0)
		return vec_fail(v, "alg must be rsa-pkcs1v15-sha1");
	if (!vec_has(v, "key") || vec_hex_alloc(v, "data", &d, &n))
		return v->why[0] ? VEC_FAIL : vec_fail(v, "missing key");
	if ((r = dm_data_check(v, d, n)) != VEC_PASS)
		goto out;
	r = VEC_FAIL;
	if ((pk = load_pem(v, "key", 1)) == NULL)
		goto out;
	if (dm_sign(pk, d, n, sig, &sn) != 0) {
		r = vec_fail(v, "signing failed");
		goto out;
	}
	if ((r = vec_expect(v, "expect.signature", sig, sn)) != VEC_PASS)
		goto out;
	if (vec_has(v, "pubkey") && ((pub = load_pem(v, "pubkey", 0)) == NULL ||
	    dm_verify(pub, d, n, sig, sn) != 0))
		r = pub == NULL ? VEC_FAIL : vec_fail(v, "pubkey rejects it");
 out:
	EVP_PKEY_free(pk);
	EVP_PKEY_free(pub);
	free(d);
	return r;
}

/* "id:i,id:i" (hex bytes) into id ‖ i pairs. */
static int
scp_list(struct vec *v, const char *s, uint8_t *out, size_t *n)
{
	unsigned id, i;
	int used;

	for (*n = 0; *s != '\0'; s += used + (s[used] == ',')) {
		if (*n + 2 > FIELD_MAX ||
		    sscanf(s, "%2x:%2x%n", &id, &i, &used) != 2 ||
		    (s[used] != ',' && s[used] != '\0'))
			return vec_fail(v, "bad scp list"), -1;
		out[(*n)++] = (uint8_t)id;
		out[(*n)++] = (uint8_t)i;
	}
	return 0;
}

int
vec_check_build_sd_params(struct vec *v)
{
	uint8_t b[5][FIELD_MAX];
	const char *scp = vec_get(v, "scp"), *pz = vec_get(v, "personalized");
	struct gp_sd_params sp;
	struct gp_wr w;

	memset(&sp, 0, sizeof(sp));
	if (scp != NULL) {
		if (scp_list(v, scp, b[0], &sp.scp.len))
			return VEC_FAIL;
		sp.scp.p = b[0];
		sp.scp.set = 1;
	}
	if (opt_hex(v, "accept_extradition_here", b[1], &sp.accept_extr_here) ||
	    opt_hex(v, "accept_deletion", b[2], &sp.accept_deletion) ||
	    opt_hex(v, "casd_capability", b[3], &sp.casd_capability) ||
	    opt_hex(v, "accept_extradition_away", b[4], &sp.accept_extr_away))
		return VEC_FAIL;
	sp.personalized = pz != NULL && strcmp(pz, "yes") == 0;
	gp_wr_init_dyn(&w, OUT_MAX);
	return expect_wr(v, gp_params_sd(&sp, &w), &w);
}

/* toolkit.* keys; bufs: menu, msl, tars. */
static int
toolkit_read(struct vec *v, uint8_t bufs[3][FIELD_MAX], struct gp_toolkit *tk)
{
	memset(tk, 0, sizeof(*tk));
	if (hex1(v, "toolkit.priority", &tk->priority, 0) ||
	    hex1(v, "toolkit.max_timers", &tk->max_timers, 0) ||
	    hex1(v, "toolkit.max_text", &tk->max_text, 0) ||
	    hex1(v, "toolkit.max_channels", &tk->max_channels, 0) ||
	    hex1(v, "toolkit.max_services", &tk->max_services, 0))
		return -1;
	if ((vec_has(v, "toolkit.menu") && vec_hex(v, "toolkit.menu", bufs[0],
	    FIELD_MAX, &tk->menu_len)) ||
	    (vec_has(v, "toolkit.msl") && vec_hex(v, "toolkit.msl", bufs[1],
	    FIELD_MAX, &tk->msl_len)) ||
	    (vec_has(v, "toolkit.tars") && vec_hex(v, "toolkit.tars", bufs[2],
	    FIELD_MAX, &tk->tars_len)))
		return -1;
	tk->menu = bufs[0];
	tk->msl = bufs[1];
	tk->tars = bufs[2];
	return 0;
}

/* access.N.aid/domain/dap for N = 1.. */
static int
rules_read(struct vec *v, uint8_t (*b)[3][FIELD_MAX],
    struct gp_uicc_rule *rules, size_t *n)
{
	static const char *f[3] = { "aid", "domain", "dap" };
	char k[48];
	size_t i, j, *lens[3];

	for (i = 0; i < RULES_MAX; i++) {
		snprintf(k, sizeof(k), "access.%zu.aid", i + 1);
		if (!vec_has(v, k))
			break;
		lens[0] = &rules[i].aid_len;
		lens[1] = &rules[i].domain_len;
		lens[2] = &rules[i].dap_len;
		for (j = 0; j < 3; j++) {
			snprintf(k, sizeof(k), "access.%zu.%s", i + 1, f[j]);
			*lens[j] = 0;
			if (vec_has(v, k) &&
			    vec_hex(v, k, b[i][j], FIELD_MAX, lens[j]))
				return -1;
		}
		rules[i].aid = b[i][0];
		rules[i].domain = b[i][1];
		rules[i].dap = b[i][2];
	}
	*n = i;
	return 0;
}

int
vec_check_build_uicc_params(struct vec *v)
{
	uint8_t bufs[3][FIELD_MAX];
	uint8_t (*rb)[3][FIELD_MAX];
	struct gp_uicc_rule rules[RULES_MAX];
	struct gp_toolkit tk;
	struct gp_wr w;
	size_t n = 0;
	int r;

	if ((rb = calloc(RULES_MAX, sizeof(*rb))) == NULL)
		return vec_fail(v, "out of memory");
	memset(rules, 0, sizeof(rules));
	if (toolkit_read(v, bufs, &tk) || rules_read(v, rb, rules, &n)) {
		free(rb);
		return VEC_FAIL;
	}
	gp_wr_init_dyn(&w, OUT_MAX);
	r = expect_wr(v, gp_params_uicc(&tk, rules, n, &w), &w);
	free(rb);
	return r;
}

int
vec_check_build_sim_params(struct vec *v)
{
	uint8_t bufs[3][FIELD_MAX], dom[FIELD_MAX];
	struct gp_toolkit tk;
	struct gp_wr w;
	size_t dn = 0;

	if (toolkit_read(v, bufs, &tk) || (vec_has(v, "access.domain") &&
	    vec_hex(v, "access.domain", dom, sizeof(dom), &dn)))
		return VEC_FAIL;
	gp_wr_init_dyn(&w, OUT_MAX);
	return expect_wr(v, gp_params_sim(dom, dn, &tk, &w), &w);
}
