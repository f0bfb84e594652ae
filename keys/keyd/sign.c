/*
 * Signing requests of tsm-keyd: HMAC-SHA256 for the audit chain, DAP
 * signatures over a load file data block hash, delegated management
 * tokens, public keys, key pairs (generated in the HSM or imported) and
 * receipt verification.
 *
 * Private keys are token objects, sensitive and not extractable; every
 * signature is C_Sign in the HSM. SoftHSMv2 2.6.1 offers CKM_RSA_PKCS and
 * raw CKM_ECDSA only (no ECDSA-SHA256), so keyd hashes (tokens) and adds
 * the PKCS#1 DigestInfo itself, and the HSM signs.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "gp/err.h"
#include "keyd_int.h"

/* DER of the P-256 OID (CKA_EC_PARAMS). */
static const uint8_t p256_oid[] = { 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE,
    0x3D, 0x03, 0x01, 0x07 };
/* DigestInfo prefixes (RFC 8017 9.2, note 1). */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05,
    0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04, 0x14 };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0D, 0x06, 0x09,
    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
    0x20 };

int
keyd_hmac(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	CK_MECHANISM m = { CKM_SHA256_HMAC, NULL, 0 };
	struct keyd_obj *o;
	uint8_t mac[32];
	CK_ULONG n = sizeof(mac);
	int r;

	if ((r = keyd_find(k, q->label, q->ver, KEYS_ROLE_HMAC, &o)) != 0)
		return r;
	if ((r = keyd_rv(k->f->C_SignInit(k->sh, &m, o->ses))) != 0 ||
	    (r = keyd_rv(k->f->C_Sign(k->sh, (CK_BYTE *)(uintptr_t)q->data,
	    q->datalen, mac, &n))) != 0)
		return r;
	if (n != 32 || gp_wr_put(w, mac, 32) != 0)
		r = KEYS_ERR_HSM;
	return r;
}

/* Signs a hash with key pair o under scheme (AUTO resolved here). */
static int
sign_hash(struct keyd *k, struct keyd_obj *o, int scheme, const uint8_t *h,
    size_t hn, struct gp_wr *w)
{
	uint8_t in[sizeof(di_sha256) + 32], sig[KEYS_SIG_MAX];
	CK_MECHANISM m = { CKM_RSA_PKCS, NULL, 0 };
	CK_ULONG sn = sizeof(sig);
	size_t n;
	int r;

	if (o->alg == KEYS_ALG_RSA) {
		if (scheme == KEYS_SIG_AUTO)
			scheme = hn == 20 ? KEYS_SIG_RSA_SHA1 : KEYS_SIG_RSA_SHA256;
		if (scheme == KEYS_SIG_RSA_SHA1 && hn == 20) {
			memcpy(in, di_sha1, sizeof(di_sha1));
			n = sizeof(di_sha1);
		} else if (scheme == KEYS_SIG_RSA_SHA256 && hn == 32) {
			memcpy(in, di_sha256, sizeof(di_sha256));
			n = sizeof(di_sha256);
		} else
			return KEYS_ERR_INVAL;
		memcpy(in + n, h, hn);
		n += hn;
	} else if (o->alg == KEYS_ALG_EC) {
		if ((scheme != KEYS_SIG_AUTO &&
		    scheme != KEYS_SIG_ECDSA_SHA256) || hn != 32)
			return KEYS_ERR_INVAL;
		m.mechanism = CKM_ECDSA;
		memcpy(in, h, hn);
		n = hn;
	} else
		return KEYS_ERR_INVAL;
	if ((r = keyd_rv(k->f->C_SignInit(k->sh, &m, o->ses))) != 0 ||
	    (r = keyd_rv(k->f->C_Sign(k->sh, in, n, sig, &sn))) != 0)
		return r;
	if (gp_wr_u16(w, (uint16_t)sn) != 0 || gp_wr_put(w, sig, sn) != 0)
		return KEYS_ERR_TOOLARGE;
	return 0;
}

int
keyd_sign(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	struct keyd_obj *o;
	int r;

	if (q->datalen != 20 && q->datalen != 32)
		return KEYS_ERR_INVAL;
	if ((r = keyd_find(k, q->label, q->ver, KEYS_ROLE_DAP, &o)) != 0)
		return r;
	return sign_hash(k, o, q->sigalg, q->data, q->datalen, w);
}

int
keyd_sign_token(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	uint8_t md[32];
	unsigned mdlen = 0;
	struct keyd_obj *o;
	int r;

	/* Token input: P1 P2 Lc and Lc bytes of fields (gp/token.h). */
	if (q->datalen < 3 || q->datalen > 258 ||
	    q->data[2] != q->datalen - 3 || q->sigalg == KEYS_SIG_AUTO)
		return KEYS_ERR_INVAL;
	if ((r = keyd_find(k, q->label, q->ver, KEYS_ROLE_DAP, &o)) != 0)
		return r;
	if (EVP_Digest(q->data, q->datalen, md, &mdlen,
	    q->sigalg == KEYS_SIG_RSA_SHA1 ? EVP_sha1() : EVP_sha256(),
	    NULL) != 1)
		return KEYS_ERR_CRYPTO;
	return sign_hash(k, o, q->sigalg, md, mdlen, w);
}

/* ---- public keys ------------------------------------------------------ */

static int
attr(struct keyd *k, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t, uint8_t *buf,
    size_t cap, size_t *n)
{
	CK_ATTRIBUTE a = { t, buf, cap };

	if (k->f->C_GetAttributeValue(k->sh, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > cap)
		return KEYS_ERR_HSM;
	*n = a.ulValueLen;
	return 0;
}

/* EVP_PKEY of a public key: RSA (n, e) or P-256 (uncompressed point). */
static EVP_PKEY *
pub_pkey(int alg, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *par = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *n = NULL, *e = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	if (alg == KEYS_ALG_RSA) {
		if ((n = BN_bin2bn(a, (int)an, NULL)) == NULL ||
		    (e = BN_bin2bn(b, (int)bn, NULL)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
	} else if (!OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, a,
	    an))
		goto out;
	if ((par = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, alg == KEYS_ALG_RSA ?
	    "RSA" : "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, par) != 1)
		pk = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(par);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

/* DER SubjectPublicKeyInfo of pk into w (u16 length first when lenpfx). */
static int
spki(EVP_PKEY *pk, uint8_t *out, size_t cap, size_t *n)
{
	unsigned char *p = out;
	int len;

	if ((len = i2d_PUBKEY(pk, NULL)) <= 0 || (size_t)len > cap)
		return KEYS_ERR_CRYPTO;
	if (i2d_PUBKEY(pk, &p) != len)
		return KEYS_ERR_CRYPTO;
	*n = (size_t)len;
	return 0;
}

static void
fingerprint(const uint8_t *der, size_t n, uint8_t fpr[3])
{
	uint8_t md[32];
	unsigned mdlen = 0;

	memset(fpr, 0, 3);
	if (EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL) == 1)
		memcpy(fpr, md, 3);
}

/* SPKI of the key pair whose public key object is h. */
static int
pair_spki(struct keyd *k, CK_OBJECT_HANDLE h, int alg, uint8_t *der,
    size_t cap, size_t *dn)
{
	uint8_t a[1024], b[128];
	size_t an = 0, bn = 0;
	const uint8_t *pt = a;
	EVP_PKEY *pk;
	int r;

	if (alg == KEYS_ALG_RSA) {
		if ((r = attr(k, h, CKA_MODULUS, a, sizeof(a), &an)) != 0 ||
		    (r = attr(k, h, CKA_PUBLIC_EXPONENT, b, sizeof(b),
		    &bn)) != 0)
			return r;
	} else {
		/* CKA_EC_POINT: DER OCTET STRING around 04 || X || Y. */
		if ((r = attr(k, h, CKA_EC_POINT, a, sizeof(a), &an)) != 0)
			return r;
		if (an == 67 && a[0] == 0x04 && a[1] == 65) {
			pt = a + 2;
			an = 65;
		}
		if (an != 65 || pt[0] != 0x04)
			return KEYS_ERR_HSM;
	}
	if ((pk = pub_pkey(alg, pt, an, b, bn)) == NULL)
		return KEYS_ERR_CRYPTO;
	r = spki(pk, der, cap, dn);
	EVP_PKEY_free(pk);
	return r;
}

int
keyd_pubkey(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	uint8_t der[1200];
	struct keyd_obj *o;
	size_t n = 0;
	int r;

	if ((r = keyd_find(k, q->label, q->ver, KEYS_ROLE_DAP, &o)) != 0)
		return r;
	if (o->pub == CK_INVALID_HANDLE &&
	    (r = keyd_find_public(k, o)) != 0)
		return r;
	if ((r = pair_spki(k, o->pub, o->alg, der, sizeof(der), &n)) != 0)
		return r;
	if (gp_wr_u16(w, (uint16_t)n) != 0 || gp_wr_put(w, der, n) != 0)
		return KEYS_ERR_TOOLARGE;
	return 0;
}

/* ---- key pairs ---------------------------------------------------------- */

/* Templates of a pair's two token objects; room for 24 attributes. */
struct pair_tmpl {
	CK_ATTRIBUTE	 pri[24], pub[12];
	CK_ULONG	 npri, npub;
	CK_OBJECT_CLASS	 cpri, cpub;
	CK_KEY_TYPE	 kt;
	CK_BBOOL	 yes, no;
	uint8_t		 id[KEYD_ID_LEN];
};

static void
add(CK_ATTRIBUTE *a, CK_ULONG *n, CK_ATTRIBUTE_TYPE t, const void *p,
    size_t len)
{
	a[*n].type = t;
	a[*n].pValue = (void *)(uintptr_t)p;
	a[*n].ulValueLen = len;
	(*n)++;
}

static void
pair_init(struct pair_tmpl *t, const struct keys_req *q, int alg,
    int with_class)
{
	memset(t, 0, sizeof(*t));
	t->cpri = CKO_PRIVATE_KEY;
	t->cpub = CKO_PUBLIC_KEY;
	t->kt = alg == KEYS_ALG_RSA ? CKK_RSA : CKK_EC;
	t->yes = CK_TRUE;
	t->no = CK_FALSE;
	t->id[0] = q->ver;
	t->id[1] = KEYS_ROLE_DAP;
	t->id[2] = GP_DIV_NONE;
	t->id[3] = (uint8_t)alg;
	if (with_class) {
		add(t->pri, &t->npri, CKA_CLASS, &t->cpri, sizeof(t->cpri));
		add(t->pri, &t->npri, CKA_KEY_TYPE, &t->kt, sizeof(t->kt));
		add(t->pub, &t->npub, CKA_CLASS, &t->cpub, sizeof(t->cpub));
		add(t->pub, &t->npub, CKA_KEY_TYPE, &t->kt, sizeof(t->kt));
	}
	add(t->pri, &t->npri, CKA_TOKEN, &t->yes, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_PRIVATE, &t->yes, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_SENSITIVE, &t->yes, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_EXTRACTABLE, &t->no, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_SIGN, &t->yes, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_DECRYPT, &t->no, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_UNWRAP, &t->no, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_DERIVE, &t->no, sizeof(CK_BBOOL));
	add(t->pri, &t->npri, CKA_LABEL, q->label, strlen(q->label));
	add(t->pri, &t->npri, CKA_ID, t->id, sizeof(t->id));
	add(t->pub, &t->npub, CKA_TOKEN, &t->yes, sizeof(CK_BBOOL));
	add(t->pub, &t->npub, CKA_VERIFY, &t->yes, sizeof(CK_BBOOL));
	add(t->pub, &t->npub, CKA_ENCRYPT, &t->no, sizeof(CK_BBOOL));
	add(t->pub, &t->npub, CKA_WRAP, &t->no, sizeof(CK_BBOOL));
	add(t->pub, &t->npub, CKA_LABEL, q->label, strlen(q->label));
	add(t->pub, &t->npub, CKA_ID, t->id, sizeof(t->id));
}

/* The fingerprint into CKA_ID of both objects, once the pair exists. */
static int
pair_finish(struct keyd *k, CK_OBJECT_HANDLE pri, CK_OBJECT_HANDLE pub,
    struct pair_tmpl *t, int alg, uint8_t fpr[3])
{
	uint8_t der[1200];
	CK_ATTRIBUTE a = { CKA_ID, t->id, sizeof(t->id) };
	size_t n = 0;
	int r;

	if ((r = pair_spki(k, pub, alg, der, sizeof(der), &n)) != 0)
		return r;
	fingerprint(der, n, fpr);
	memcpy(t->id + 4, fpr, 3);
	if ((r = keyd_rv(k->f->C_SetAttributeValue(k->sh, pri, &a, 1))) != 0)
		return r;
	return keyd_rv(k->f->C_SetAttributeValue(k->sh, pub, &a, 1));
}

int
keyd_generate_pair(struct keyd *k, const struct keys_req *q, uint8_t fpr[3])
{
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pri = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
	static const uint8_t e65537[3] = { 0x01, 0x00, 0x01 };
	struct pair_tmpl t;
	CK_ULONG bits = (CK_ULONG)q->klen * 64;
	int r;

	if (q->method != GP_DIV_NONE)
		return KEYS_ERR_INVAL;
	if (q->alg == KEYS_ALG_RSA) {
		if (bits < 1024 || bits > 4096 || bits % 256 != 0)
			return KEYS_ERR_INVAL;
	} else if (q->alg != KEYS_ALG_EC || q->klen != 32)
		return KEYS_ERR_INVAL;
	if (keyd_exists(k, q->label, q->ver, KEYS_ROLE_DAP))
		return KEYS_ERR_EXISTS;
	pair_init(&t, q, q->alg, 0);
	if (q->alg == KEYS_ALG_RSA) {
		add(t.pub, &t.npub, CKA_MODULUS_BITS, &bits, sizeof(bits));
		add(t.pub, &t.npub, CKA_PUBLIC_EXPONENT, e65537,
		    sizeof(e65537));
	} else {
		m.mechanism = CKM_EC_KEY_PAIR_GEN;
		add(t.pub, &t.npub, CKA_EC_PARAMS, p256_oid, sizeof(p256_oid));
	}
	if ((r = keyd_rv(k->f->C_GenerateKeyPair(k->sh, &m, t.pub, t.npub,
	    t.pri, t.npri, &pub, &pri))) != 0)
		return r;
	if ((r = pair_finish(k, pri, pub, &t, q->alg, fpr)) != 0) {
		keyd_destroy(k, pri);
		keyd_destroy(k, pub);
	}
	return r;
}

/* Big-endian bytes of an OpenSSL BIGNUM parameter (wiped by the caller). */
static int
bn_param(EVP_PKEY *pk, const char *name, uint8_t *out, size_t cap,
    size_t pad, size_t *n)
{
	BIGNUM *b = NULL;
	int len, r = KEYS_ERR_INVAL;

	if (EVP_PKEY_get_bn_param(pk, name, &b) != 1)
		return KEYS_ERR_INVAL;
	len = pad > 0 ? BN_bn2binpad(b, out, (int)pad) :
	    (BN_num_bytes(b) <= (int)cap ? BN_bn2bin(b, out) : -1);
	if (len > 0 && (size_t)len <= cap) {
		*n = (size_t)len;
		r = 0;
	}
	BN_clear_free(b);
	return r;
}

#define RSA_PARTS	8

int
keyd_import_pair(struct keyd *k, const struct keys_req *q, uint8_t fpr[3])
{
	static const char *const rsa[RSA_PARTS] = { OSSL_PKEY_PARAM_RSA_N,
	    OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
	    OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	    OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	    OSSL_PKEY_PARAM_RSA_COEFFICIENT1 };
	static const CK_ATTRIBUTE_TYPE rsa_at[RSA_PARTS] = { CKA_MODULUS,
	    CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
	    CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT };
	CK_OBJECT_HANDLE pri = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
	uint8_t v[RSA_PARTS][512], pt[67];
	size_t vn[RSA_PARTS], i, ptn = 0;
	const unsigned char *p = q->data;
	struct pair_tmpl t;
	EVP_PKEY *pk;
	char grp[32];
	int r = KEYS_ERR_INVAL, alg;

	memset(vn, 0, sizeof(vn));
	if (q->role != KEYS_ROLE_DAP)
		return KEYS_ERR_INVAL;
	if (keyd_exists(k, q->label, q->ver, KEYS_ROLE_DAP))
		return KEYS_ERR_EXISTS;
	if ((pk = d2i_AutoPrivateKey(NULL, &p, (long)q->datalen)) == NULL)
		return KEYS_ERR_INVAL;
	if (p != q->data + q->datalen)	/* bytes after the key */
		goto out;
	if (EVP_PKEY_is_a(pk, "RSA")) {
		alg = KEYS_ALG_RSA;
		if (EVP_PKEY_get_bits(pk) < 1024 || EVP_PKEY_get_bits(pk) > 4096)
			goto out;
		pair_init(&t, q, alg, 1);
		for (i = 0; i < RSA_PARTS; i++) {
			if ((r = bn_param(pk, rsa[i], v[i], sizeof(v[i]), 0,
			    &vn[i])) != 0)
				goto out;
			add(i < 2 ? t.pub : t.pri, i < 2 ? &t.npub : &t.npri,
			    rsa_at[i], v[i], vn[i]);
		}
		/* The private object carries n and e as well. */
		add(t.pri, &t.npri, CKA_MODULUS, v[0], vn[0]);
		add(t.pri, &t.npri, CKA_PUBLIC_EXPONENT, v[1], vn[1]);
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		alg = KEYS_ALG_EC;
		if (EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL) != 1 ||
		    strcmp(grp, "prime256v1") != 0)
			goto out;
		pair_init(&t, q, alg, 1);
		pt[0] = 0x04;	/* DER OCTET STRING of the point */
		pt[1] = 65;
		if ((r = bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, v[0],
		    sizeof(v[0]), 32, &vn[0])) != 0 ||
		    EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY,
		    pt + 2, 65, &ptn) != 1 || ptn != 65) {
			r = KEYS_ERR_INVAL;
			goto out;
		}
		add(t.pri, &t.npri, CKA_EC_PARAMS, p256_oid, sizeof(p256_oid));
		add(t.pri, &t.npri, CKA_VALUE, v[0], vn[0]);
		add(t.pub, &t.npub, CKA_EC_PARAMS, p256_oid, sizeof(p256_oid));
		add(t.pub, &t.npub, CKA_EC_POINT, pt, sizeof(pt));
	} else
		goto out;
	if ((r = keyd_rv(k->f->C_CreateObject(k->sh, t.pub, t.npub,
	    &pub))) != 0)
		goto out;
	if ((r = keyd_rv(k->f->C_CreateObject(k->sh, t.pri, t.npri,
	    &pri))) != 0) {
		keyd_destroy(k, pub);
		goto out;
	}
	if ((r = pair_finish(k, pri, pub, &t, alg, fpr)) != 0) {
		keyd_destroy(k, pri);
		keyd_destroy(k, pub);
	}
out:
	gp_wipe(v, sizeof(v));
	EVP_PKEY_free(pk);
	return r;
}

/* ---- receipts ------------------------------------------------------------ */

int
keyd_receipt(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	struct keyd_obj *o;
	uint8_t mac[16];
	int r;

	(void)w;
	if ((r = keyd_find(k, q->label, q->ver, KEYS_ROLE_RECEIPT, &o)) != 0)
		return r;
	if (o->alg != KEYS_ALG_AES)
		return KEYS_ERR_UNSUPPORTED;
	if ((r = keyd_cmac(k, o->ses, q->data, q->datalen, mac)) != 0)
		return r;
	r = gp_ct_memcmp(mac, q->mac, q->maclen) == 0 ? 0 : KEYS_ERR_RECEIPT;
	gp_wipe(mac, sizeof(mac));
	return r;
}
