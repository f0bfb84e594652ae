/*
 * Card keys and secure channel opening inside tsm-keyd.
 *
 * Card static keys come from the master in the HSM: EMV CPS and VISA2 with
 * CKM_DES3_ECB_ENCRYPT_DATA (a derived session object, sensitive), KDF3
 * with CKM_AES_CMAC signatures by the master (SoftHSMv2 has no SP 800-108
 * KDF mechanism, so the derived blocks come back to keyd's memory and are
 * wiped after the request). Key sets without diversification are three
 * HSM objects used as they are. Session keys and both cryptograms are
 * computed here; only session keys and the host cryptogram leave keyd, and
 * nothing but the error when the card cryptogram is wrong.
 *
 * predict (SCP03 pseudo-random challenge) builds the INITIALIZE UPDATE
 * response a card will give for its next counter and opens it with the
 * same code as open: the card's challenge and cryptogram leave keyd too,
 * as the card itself would send them in clear.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/crypto.h"
#include "gp/err.h"
#include "gp/kdf.h"
#include "gp/putkey.h"
#include "keyd_int.h"

/* A key set: one master (m[0]) or static keys m[1..3]. */
struct keyset {
	struct keyd_obj	*m[4];
	uint8_t		 method;
	uint8_t		 alg;
	size_t		 len;
};

/* A card key: an HSM handle, or a value in keyd memory (soft). */
struct ckey {
	CK_OBJECT_HANDLE h;
	int		 owned;
	int		 soft;
	uint8_t		 v[GP_KEY_MAX];
	size_t		 len;
};

static int
keyset_load(struct keyd *k, const char *label, uint8_t ver, struct keyset *s)
{
	int r, t;

	memset(s, 0, sizeof(*s));
	if (keyd_find(k, label, ver, KEYS_ROLE_MASTER, &s->m[0]) == 0) {
		s->method = s->m[0]->method;
		s->alg = s->m[0]->alg;
		s->len = s->m[0]->len;
		return 0;
	}
	for (t = GP_KEY_ENC; t <= GP_KEY_DEK; t++)
		if ((r = keyd_find(k, label, ver, t, &s->m[t])) != 0)
			return r;
	s->method = GP_DIV_NONE;
	s->alg = s->m[1]->alg;
	s->len = s->m[1]->len;
	if (s->m[2]->alg != s->alg || s->m[3]->alg != s->alg ||
	    s->m[2]->len != s->len || s->m[3]->len != s->len)
		return KEYS_ERR_INVAL;
	return 0;
}

static void
ckey_free(struct keyd *k, struct ckey *c)
{
	if (c->owned)
		keyd_destroy(k, c->h);
	gp_wipe(c, sizeof(*c));
}

static int
derive_des(struct keyd *k, struct keyset *s, const uint8_t dd[16], int soft,
    struct ckey *c)
{
	CK_KEY_DERIVATION_STRING_DATA p = { (CK_BYTE *)(uintptr_t)dd, 16 };
	CK_MECHANISM m = { CKM_DES3_ECB_ENCRYPT_DATA, &p, sizeof(p) };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_DES2;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL sens = soft ? CK_FALSE : CK_TRUE, ext = soft ? CK_TRUE :
	    CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_SENSITIVE, &sens, sizeof(sens) },
		{ CKA_EXTRACTABLE, &ext, sizeof(ext) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
	};
	CK_ATTRIBUTE v = { CKA_VALUE, c->v, 16 };
	int r;

	if ((r = keyd_rv(k->f->C_DeriveKey(k->sh, &m, s->m[0]->ses, t, 6,
	    &c->h))) != 0)
		return r;
	c->owned = 1;
	c->len = 16;
	if (!soft)
		return 0;
	/* PUT KEY needs the value (see docs/keys.md): read and drop it. */
	r = keyd_rv(k->f->C_GetAttributeValue(k->sh, c->h, &v, 1));
	keyd_destroy(k, c->h);
	c->owned = 0;
	c->h = CK_INVALID_HANDLE;
	if (r == 0 && v.ulValueLen != 16)
		r = KEYS_ERR_HSM;
	c->soft = 1;
	return r;
}

/* The card's static key of type t; soft asks for the value (PUT KEY). */
static int
card_key(struct keyd *k, struct keyset *s, const uint8_t kdd[GP_KDD_LEN],
    int t, int soft, struct ckey *c)
{
	uint8_t dd[16], blk[16];
	size_t done;
	int r = 0;

	memset(c, 0, sizeof(*c));
	memset(dd, 0, sizeof(dd));
	switch (s->method) {
	case GP_DIV_NONE:
		if (soft)
			return KEYS_ERR_UNSUPPORTED;
		c->h = s->m[t]->ses;
		c->len = s->len;
		return 0;
	case GP_DIV_EMV:
	case GP_DIV_VISA2:
		if (gp_div_data(s->method, kdd, t, dd) != 0)
			return KEYS_ERR_INVAL;
		return derive_des(k, s, dd, soft, c);
	case GP_DIV_KDF3:
		if (gp_div_data(GP_DIV_KDF3, kdd, t, dd) != 0)
			return KEYS_ERR_INVAL;
		c->soft = 1;
		c->len = s->len;
		for (dd[0] = 1, done = 0; done < s->len; dd[0]++) {
			if ((r = keyd_cmac(k, s->m[0]->ses, dd, 16, blk)) != 0)
				break;
			memcpy(c->v + done, blk, s->len - done < 16 ?
			    s->len - done : 16);
			done += 16;
		}
		gp_wipe(blk, sizeof(blk));
		return r;
	}
	return KEYS_ERR_INVAL;
}

/* 3DES-CBC (IV 0) of 16 bytes under a card key: SCP02 session keys. */
static int
ck_des_cbc(struct keyd *k, struct ckey *c, const uint8_t in[16],
    uint8_t out[16])
{
	struct gp_des3 d;
	uint8_t iv[8] = { 0 };
	int r;

	if (!c->soft)
		return keyd_encrypt(k, c->h, CKM_DES3_CBC, in, 16, out);
	if (gp_des3_init(&d, c->v) != 0)
		return KEYS_ERR_CRYPTO;
	r = gp_des3_cbc_enc(&d, iv, in, 16, out) == 0 ? 0 : KEYS_ERR_CRYPTO;
	gp_des3_free(&d);
	return r;
}

/* SCP03 KDF (FORMAT.md kdf.scp03) with a card key as the CMAC key. */
static int
ck_kdf03(struct keyd *k, struct ckey *c, uint8_t constant,
    const uint8_t *ctx, size_t ctxlen, size_t bits, uint8_t *out)
{
	uint8_t in[16 + 32], blk[16];
	struct gp_aes a;
	size_t n = bits / 8, done;
	int r = 0;

	if (c->soft) {
		if (gp_aes_init(&a, c->v, c->len) != 0)
			return KEYS_ERR_CRYPTO;
		if (gp_kdf_scp03(&a, constant, ctx, ctxlen, bits, out) != 0)
			r = KEYS_ERR_CRYPTO;
		gp_aes_free(&a);
		return r;
	}
	if (ctxlen > 32 || n > 32)
		return KEYS_ERR_INVAL;
	memset(in, 0, 16);
	in[11] = constant;
	in[13] = (uint8_t)(bits >> 8);
	in[14] = (uint8_t)bits;
	memcpy(in + 16, ctx, ctxlen);
	for (in[15] = 1, done = 0; done < n; in[15]++, done += 16) {
		if ((r = keyd_cmac(k, c->h, in, 16 + ctxlen, blk)) != 0)
			break;
		memcpy(out + done, blk, n - done < 16 ? n - done : 16);
	}
	gp_wipe(blk, sizeof(blk));
	return r;
}

static int
open_scp02(struct keyd *k, struct keyset *s, const struct keys_req *q,
    struct ckey *ce, struct ckey *cm, struct gp_wr *w)
{
	uint8_t dd[16], sk[3][16], msg[24], mac[8];
	const uint8_t *seq = q->rsp + 12, *cc = q->rsp + 14;
	static const uint16_t cst[3] = { GP_SCP02_S_ENC, GP_SCP02_C_MAC,
	    GP_SCP02_R_MAC };
	struct gp_des3 d;
	int r, i, have = 0;

	if (q->rsplen != 28 || q->rsp[11] != 0x02 || q->hclen != 8 ||
	    s->alg != KEYS_ALG_DES3)
		return KEYS_ERR_INVAL;
	for (i = 0; i < 3; i++) {
		memset(dd, 0, sizeof(dd));
		dd[0] = (uint8_t)(cst[i] >> 8);
		dd[1] = (uint8_t)cst[i];
		memcpy(dd + 2, seq, 2);
		if ((r = ck_des_cbc(k, i == 0 ? ce : cm, dd, sk[i])) != 0)
			goto out;
	}
	if (gp_des3_init(&d, sk[0]) != 0) {
		r = KEYS_ERR_CRYPTO;
		goto out;
	}
	have = 1;
	memcpy(msg, q->hc, 8);
	memcpy(msg + 8, seq, 2);
	memcpy(msg + 10, cc, 6);
	if (gp_des3_full_mac(&d, msg, 16, mac) != 0) {
		r = KEYS_ERR_CRYPTO;
		goto out;
	}
	if (gp_ct_memcmp(mac, q->rsp + 20, 8) != 0) {
		r = KEYS_ERR_CARD_CRYPTOGRAM;
		goto out;
	}
	memcpy(msg, seq, 2);
	memcpy(msg + 2, cc, 6);
	memcpy(msg + 8, q->hc, 8);
	if (gp_des3_full_mac(&d, msg, 16, mac) != 0) {
		r = KEYS_ERR_CRYPTO;
		goto out;
	}
	if (gp_wr_u8(w, 16) != 0 || gp_wr_put(w, sk, sizeof(sk)) != 0 ||
	    gp_wr_lv(w, mac, 8) != 0)
		r = KEYS_ERR_TOOLARGE;
out:
	if (have)
		gp_des3_free(&d);
	gp_wipe(sk, sizeof(sk));
	gp_wipe(dd, sizeof(dd));
	return r;
}

/* Pseudo-random card challenge: KDF(card K-ENC, 02, seq || SD AID). */
static int
scp03_challenge(struct keyd *k, struct ckey *ce, const uint8_t seq[3],
    const uint8_t *aid, size_t aidlen, size_t sz, uint8_t *out)
{
	uint8_t ctx[3 + 16];

	if (aidlen > 16)
		return KEYS_ERR_INVAL;
	memcpy(ctx, seq, 3);
	if (aidlen > 0)
		memcpy(ctx + 3, aid, aidlen);
	return ck_kdf03(k, ce, GP_KDF_CARD_CHALLENGE, ctx, 3 + aidlen, 8 * sz,
	    out);
}

/* What an SCP03 opening computes; wiped by whoever holds it. */
struct scp03_ses {
	uint8_t	 sk[3][GP_KEY_MAX];	/* S-ENC, S-MAC, S-RMAC */
	uint8_t	 card[16];		/* card cryptogram (the card's own) */
	uint8_t	 host[16];		/* host cryptogram */
};

/*
 * Session keys and both cryptograms from the two challenges (s bytes
 * each). open compares the card cryptogram with the card's, predict puts
 * it in the response it builds: one computation for both.
 */
static int
scp03_session(struct keyd *k, struct keyset *s, struct ckey *ce,
    struct ckey *cm, const uint8_t *hc, const uint8_t *cc, size_t sz,
    struct scp03_ses *o)
{
	uint8_t ctx[32];
	size_t bits = s->len * 8;
	struct gp_aes a;
	int r;

	memcpy(ctx, hc, sz);
	memcpy(ctx + sz, cc, sz);
	if ((r = ck_kdf03(k, ce, GP_KDF_S_ENC, ctx, 2 * sz, bits,
	    o->sk[0])) != 0 ||
	    (r = ck_kdf03(k, cm, GP_KDF_S_MAC, ctx, 2 * sz, bits,
	    o->sk[1])) != 0 ||
	    (r = ck_kdf03(k, cm, GP_KDF_S_RMAC, ctx, 2 * sz, bits,
	    o->sk[2])) != 0)
		return r;
	if (gp_aes_init(&a, o->sk[1], s->len) != 0)
		return KEYS_ERR_CRYPTO;
	if (gp_kdf_scp03(&a, GP_KDF_CARD_CRYPTOGRAM, ctx, 2 * sz, 8 * sz,
	    o->card) != 0 ||
	    gp_kdf_scp03(&a, GP_KDF_HOST_CRYPTOGRAM, ctx, 2 * sz, 8 * sz,
	    o->host) != 0)
		r = KEYS_ERR_CRYPTO;
	gp_aes_free(&a);
	return r;
}

/* The result of open (and predict's tail): klen, keys, lv host crypt. */
static int
scp03_answer(struct gp_wr *w, size_t klen, const struct scp03_ses *o,
    size_t sz)
{
	if (gp_wr_u8(w, (uint8_t)klen) != 0 ||
	    gp_wr_put(w, o->sk[0], klen) != 0 ||
	    gp_wr_put(w, o->sk[1], klen) != 0 ||
	    gp_wr_put(w, o->sk[2], klen) != 0 || gp_wr_lv(w, o->host, sz) != 0)
		return KEYS_ERR_TOOLARGE;
	return 0;
}

static int
open_scp03(struct keyd *k, struct keyset *s, const struct keys_req *q,
    struct ckey *ce, struct ckey *cm, struct gp_wr *w)
{
	struct scp03_ses o;
	uint8_t chal[16];
	const uint8_t *cc = q->rsp + 13;
	size_t sz = q->s, want = 13 + 2 * sz;
	int r;

	if (q->rsplen >= 13 && (q->rsp[12] & GP_SCP03_I_PRAND))
		want += 3;
	if (q->rsplen != want || q->rsp[11] != 0x03 || q->rsp[12] != q->i ||
	    q->hclen != sz || s->alg != KEYS_ALG_AES)
		return KEYS_ERR_INVAL;
	memset(&o, 0, sizeof(o));
	if ((q->i & GP_SCP03_I_PRAND) && q->aidlen > 0) {
		if ((r = scp03_challenge(k, ce, cc + 2 * sz, q->aid,
		    q->aidlen, sz, chal)) != 0)
			goto out;
		if (gp_ct_memcmp(chal, cc, sz) != 0) {
			r = KEYS_ERR_CARD_CHALLENGE;
			goto out;
		}
	}
	if ((r = scp03_session(k, s, ce, cm, q->hc, cc, sz, &o)) != 0)
		goto out;
	if (gp_ct_memcmp(o.card, cc + sz, sz) != 0) {
		r = KEYS_ERR_CARD_CRYPTOGRAM;
		goto out;
	}
	r = scp03_answer(w, s->len, &o, sz);
out:
	gp_wipe(&o, sizeof(o));
	return r;
}

/* The key set and the card's K-ENC, K-MAC for a KDD; free both after. */
static int
channel_keys(struct keyd *k, const struct keys_req *q,
    const uint8_t kdd[GP_KDD_LEN], struct keyset *s, struct ckey *ce,
    struct ckey *cm)
{
	int r;

	memset(ce, 0, sizeof(*ce));
	memset(cm, 0, sizeof(*cm));
	if ((r = keyset_load(k, q->label, q->ver, s)) != 0 ||
	    (r = card_key(k, s, kdd, GP_KEY_ENC, 0, ce)) != 0)
		return r;
	return card_key(k, s, kdd, GP_KEY_MAC, 0, cm);
}

int
keyd_open(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	struct keyset s;
	struct ckey ce, cm;
	int r;

	if (q->rsplen < GP_KDD_LEN + 2)
		return KEYS_ERR_INVAL;
	/* The card's keys come from the KDD its response starts with. */
	if ((r = channel_keys(k, q, q->rsp, &s, &ce, &cm)) != 0)
		goto out;
	if (q->proto == 2)
		r = open_scp02(k, &s, q, &ce, &cm, w);
	else
		r = open_scp03(k, &s, q, &ce, &cm, w);
out:
	ckey_free(k, &ce);
	ckey_free(k, &cm);
	return r;
}

/*
 * predict: the fields keyd itself insists on, whatever the client
 * checked. Only a card whose challenge is pseudo-random (SCP03 i bit 10)
 * has an answer that can be known before it is asked.
 */
static int
predict_check(const struct keys_req *q)
{
	if (q->proto != 3 || !(q->i & GP_SCP03_I_PRAND) ||
	    (q->s != 8 && q->s != 16) || q->hclen != q->s ||
	    q->aidlen < 5 || q->aidlen > 16 || q->ctr > 0xFFFFFF)
		return KEYS_ERR_INVAL;
	return 0;
}

/*
 * The card's INITIALIZE UPDATE response data for the counter ctr: KDD ||
 * key version || 03 || i || challenge || card cryptogram || seq, then
 * the opening of that response as open answers it.
 */
static int
predict_scp03(struct keyd *k, struct keyset *s, const struct keys_req *q,
    struct ckey *ce, struct ckey *cm, struct gp_wr *w)
{
	uint8_t rsp[13 + 2 * 16 + 3], seq[3];
	struct scp03_ses o;
	size_t sz = q->s;
	int r;

	if (s->alg != KEYS_ALG_AES)
		return KEYS_ERR_INVAL;
	memset(&o, 0, sizeof(o));
	seq[0] = (uint8_t)(q->ctr >> 16);
	seq[1] = (uint8_t)(q->ctr >> 8);
	seq[2] = (uint8_t)q->ctr;
	memcpy(rsp, q->kdd, GP_KDD_LEN);
	rsp[GP_KDD_LEN] = q->ver;
	rsp[GP_KDD_LEN + 1] = 0x03;
	rsp[GP_KDD_LEN + 2] = q->i;
	if ((r = scp03_challenge(k, ce, seq, q->aid, q->aidlen, sz,
	    rsp + 13)) != 0 ||
	    (r = scp03_session(k, s, ce, cm, q->hc, rsp + 13, sz, &o)) != 0)
		goto out;
	memcpy(rsp + 13 + sz, o.card, sz);
	memcpy(rsp + 13 + 2 * sz, seq, 3);
	if (gp_wr_lv(w, rsp, 13 + 2 * sz + 3) != 0) {
		r = KEYS_ERR_TOOLARGE;
		goto out;
	}
	r = scp03_answer(w, s->len, &o, sz);
out:
	gp_wipe(&o, sizeof(o));
	return r;
}

int
keyd_predict(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	struct keyset s;
	struct ckey ce, cm;
	int r;

	if ((r = predict_check(q)) != 0)
		return r;
	/* The card keys as keyd_open derives them from the response's KDD. */
	if ((r = channel_keys(k, q, q->kdd, &s, &ce, &cm)) == 0)
		r = predict_scp03(k, &s, q, &ce, &cm, w);
	ckey_free(k, &ce);
	ckey_free(k, &cm);
	return r;
}

int
keyd_card_kcv(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	uint8_t kcv[9], zero[8] = { 0 }, out[8];
	struct keyset s;
	struct ckey c;
	int r = 0, t;

	if ((r = keyset_load(k, q->label, q->ver, &s)) != 0)
		return r;
	for (t = GP_KEY_ENC; t <= GP_KEY_DEK && r == 0; t++) {
		if (s.method == GP_DIV_NONE) {
			memcpy(kcv + 3 * (t - 1), s.m[t]->kcv, 3);
			continue;
		}
		if ((r = card_key(k, &s, q->kdd, t, 0, &c)) != 0)
			break;
		if (c.soft)
			r = keys_kcv(s.alg, c.v, c.len, kcv + 3 * (t - 1));
		else if ((r = keyd_encrypt(k, c.h, CKM_DES3_ECB, zero, 8,
		    out)) == 0)
			memcpy(kcv + 3 * (t - 1), out, 3);
		ckey_free(k, &c);
	}
	if (r == 0 && gp_wr_put(w, kcv, 9) != 0)
		r = KEYS_ERR_TOOLARGE;
	return r;
}

/*
 * The DEK data is encrypted under: SCP02 the session DEK of seq (3DES, in
 * keyd memory for libgp), SCP03 the static DEK, in keyd memory for a KDF3
 * master, else (hsm != NULL allowed) the HSM object itself.
 */
enum { DEK_DES = 1, DEK_AES = 2, DEK_HSM = 3 };

static int
card_dek(struct keyd *k, struct keyset *s, const struct keys_req *q,
    struct gp_des3 *des, struct gp_aes *aes, CK_OBJECT_HANDLE *hsm,
    int *kind)
{
	uint8_t dd[16], sdek[16];
	struct ckey c;
	int r;

	*kind = 0;
	if ((r = card_key(k, s, q->kdd, GP_KEY_DEK, 0, &c)) != 0)
		return r;
	if (q->proto == 2) {
		memset(dd, 0, sizeof(dd));
		dd[0] = (uint8_t)(GP_SCP02_DEK >> 8);
		dd[1] = (uint8_t)GP_SCP02_DEK;
		memcpy(dd + 2, q->seq, 2);
		if ((r = ck_des_cbc(k, &c, dd, sdek)) == 0 &&
		    gp_des3_init(des, sdek) != 0)
			r = KEYS_ERR_CRYPTO;
		if (r == 0)
			*kind = DEK_DES;
	} else if (!c.soft) {
		/* static DEK not diversified: an HSM object (not owned) */
		if (hsm == NULL)
			r = KEYS_ERR_UNSUPPORTED;
		else {
			*hsm = c.h;
			*kind = DEK_HSM;
		}
	} else if (gp_aes_init(aes, c.v, c.len) != 0) {
		r = KEYS_ERR_CRYPTO;
	} else
		*kind = DEK_AES;
	gp_wipe(sdek, sizeof(sdek));
	ckey_free(k, &c);
	return r;
}

static void
dek_free(int kind, struct gp_des3 *des, struct gp_aes *aes)
{
	if (kind == DEK_DES)
		gp_des3_free(des);
	else if (kind == DEK_AES)
		gp_aes_free(aes);
}

/*
 * With a static SCP03 DEK held as an HSM object, the new keys are
 * encrypted by the HSM (AES-CBC, IV 0) and the command built from the
 * ciphertexts.
 */
static int
putkey_hsm(struct keyd *k, CK_OBJECT_HANDLE h, struct gp_putkey *pk,
    uint8_t enc[3][GP_KEY_MAX], const uint8_t (*kcv)[3], struct gp_wr *a)
{
	const uint8_t *clear[3];
	int r, t;

	for (t = 0; t < 3; t++) {
		clear[t] = pk->keys[t];
		if ((r = keyd_encrypt(k, h, CKM_AES_CBC, clear[t], pk->key_len,
		    enc[t])) != 0)
			return r;
		pk->keys[t] = enc[t];
	}
	r = gp_cmd_put_key_enc(pk, 1, kcv, a) != 0 ? KEYS_ERR_INVAL : 0;
	for (t = 0; t < 3; t++)
		pk->keys[t] = clear[t];
	return r;
}

int
keyd_putkey(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	uint8_t apdu[300], kcv[9], enc[3][GP_KEY_MAX];
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct keyset cur, tgt;
	struct ckey nk[3];
	struct gp_putkey pk;
	struct gp_des3 des;
	struct gp_aes aes;
	struct gp_wr a;
	int r, t, kind = 0;

	memset(nk, 0, sizeof(nk));
	memset(&pk, 0, sizeof(pk));
	if ((r = keyset_load(k, q->label, q->ver, &cur)) != 0 ||
	    (r = keyset_load(k, q->label2, q->ver2, &tgt)) != 0)
		return r;
	if (cur.alg != tgt.alg || cur.alg != (q->proto == 2 ?
	    KEYS_ALG_DES3 : KEYS_ALG_AES))
		return KEYS_ERR_INVAL;
	if ((r = card_dek(k, &cur, q, &des, &aes, &h, &kind)) != 0)
		return r;
	for (t = 0; t < 3; t++) {
		if ((r = card_key(k, &tgt, q->kdd, t + 1, 1, &nk[t])) != 0 ||
		    (r = keys_kcv(tgt.alg, nk[t].v, nk[t].len,
		    kcv + 3 * t)) != 0)
			goto out;
		pk.keys[t] = nk[t].v;
	}
	pk.old_kvn = q->old_kvn;
	pk.new_kvn = q->new_kvn;
	pk.key_id = q->key_id;
	pk.nkeys = 3;
	pk.key_len = tgt.len;
	gp_wr_init(&a, apdu, sizeof(apdu));
	if (kind == DEK_HSM) {
		if ((r = putkey_hsm(k, h, &pk, enc,
		    (const uint8_t (*)[3])kcv, &a)) != 0)
			goto out;
	} else if ((q->proto == 2 ? gp_cmd_put_key_scp02(&pk, &des, &a) :
	    gp_cmd_put_key_scp03(&pk, &aes, &a)) != 0) {
		r = KEYS_ERR_INVAL;
		goto out;
	}
	if (gp_wr_u16(w, (uint16_t)a.len) != 0 ||
	    gp_wr_put(w, apdu, a.len) != 0 || gp_wr_put(w, kcv, 9) != 0)
		r = KEYS_ERR_TOOLARGE;
out:
	for (t = 0; t < 3; t++)
		ckey_free(k, &nk[t]);
	dek_free(kind, &des, &aes);
	gp_wipe(apdu, sizeof(apdu));
	gp_wipe(enc, sizeof(enc));
	return r;
}

/* AES-CBC (IV 0) in the HSM, padded as libgp's gp_dgi_put_aes pads. */
static int
dgi_put_hsm(struct keyd *k, CK_OBJECT_HANDLE h, struct gp_wr *w,
    uint16_t tag, const uint8_t *v, size_t n)
{
	uint8_t p[KEYS_DATA_MAX + 16];
	size_t pn;
	int r;

	if (n > KEYS_DATA_MAX)
		return KEYS_ERR_TOOLARGE;
	if (n % 16 == 0 && n > 0) {
		memcpy(p, v, n);
		pn = n;
	} else if ((pn = gp_pad80(v, n, 16, p, sizeof(p))) == 0)
		return KEYS_ERR_TOOLARGE;
	if ((r = keyd_encrypt(k, h, CKM_AES_CBC, p, pn, p)) == 0 &&
	    gp_dgi_put(w, tag, p, pn) != 0)
		r = KEYS_ERR_TOOLARGE;
	gp_wipe(p, pn);
	return r;
}

int
keyd_dgi(struct keyd *k, const struct keys_req *q, struct gp_wr *w)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct keyset s;
	struct gp_des3 des;
	struct gp_aes aes;
	const uint8_t *v;
	struct gp_rd rd;
	uint16_t tag, l16;
	uint8_t l8;
	size_t at, n;
	int r, kind = 0;

	if ((r = keyset_load(k, q->label, q->ver, &s)) != 0)
		return r;
	if (s.alg != (q->proto == 2 ? KEYS_ALG_DES3 : KEYS_ALG_AES))
		return KEYS_ERR_INVAL;
	/* Check the whole stream before any work. */
	gp_rd_init(&rd, q->data, q->datalen);
	while (gp_rd_left(&rd) > 0) {
		if (gp_rd_u16(&rd, &tag) != 0 || gp_rd_u8(&rd, &l8) != 0 ||
		    (l8 == 0xFF && gp_rd_u16(&rd, &l16) != 0))
			return KEYS_ERR_INVAL;
		n = l8 == 0xFF ? l16 : l8;
		if (gp_rd_bytes(&rd, n, &v) != 0)
			return KEYS_ERR_INVAL;
	}
	if ((r = card_dek(k, &s, q, &des, &aes, &h, &kind)) != 0)
		return r;
	at = w->len;
	if (gp_wr_u16(w, 0) != 0) {
		r = KEYS_ERR_TOOLARGE;
		goto out;
	}
	gp_rd_init(&rd, q->data, q->datalen);
	while (r == 0 && gp_rd_left(&rd) > 0) {
		gp_rd_u16(&rd, &tag);
		gp_rd_u8(&rd, &l8);
		l16 = l8;
		if (l8 == 0xFF)
			gp_rd_u16(&rd, &l16);
		gp_rd_bytes(&rd, l16, &v);
		if (kind == DEK_HSM)
			r = dgi_put_hsm(k, h, w, tag, v, l16);
		else if ((kind == DEK_DES ? gp_dgi_put_des3(w, tag, &des, v,
		    l16) : gp_dgi_put_aes(w, tag, &aes, v, l16)) != 0)
			r = KEYS_ERR_TOOLARGE;
	}
	if (r == 0) {
		n = w->len - at - 2;
		w->p[at] = (uint8_t)(n >> 8);
		w->p[at + 1] = (uint8_t)n;
	}
out:
	dek_free(kind, &des, &aes);
	return r;
}
