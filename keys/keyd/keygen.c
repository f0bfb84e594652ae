/*
 * Ceremony requests in tsm-keyd: generate a key in the HSM, import one from
 * 2 or 3 clear components (each checked by its KCV), import one wrapped
 * under a transport key. Every key is created sensitive and not
 * extractable, with only the usages its role needs.
 */
#include <string.h>

#include "gp/kdf.h"
#include "keyd_int.h"

static int
check_shape(const struct keys_req *q, size_t len)
{
	if (q->role == KEYS_ROLE_MASTER) {
		if ((q->method == GP_DIV_EMV || q->method == GP_DIV_VISA2) &&
		    q->alg == KEYS_ALG_DES3 && len == 16)
			return 0;
		if (q->method == GP_DIV_KDF3 && q->alg == KEYS_ALG_AES &&
		    (len == 16 || len == 24 || len == 32))
			return 0;
		return KEYS_ERR_INVAL;
	}
	if (q->method != GP_DIV_NONE)
		return KEYS_ERR_INVAL;
	switch (q->role) {
	case KEYS_ROLE_ENC:
	case KEYS_ROLE_MAC:
	case KEYS_ROLE_DEK:
		if (q->alg == KEYS_ALG_DES3 && len == 16)
			return 0;
		__attribute__((fallthrough));	/* or an AES key */
	case KEYS_ROLE_TRANSPORT:
		if (q->alg == KEYS_ALG_AES && (len == 16 || len == 24 ||
		    len == 32))
			return 0;
		return KEYS_ERR_INVAL;
	case KEYS_ROLE_HMAC:
		return q->alg == KEYS_ALG_HMAC && len == 32 ? 0 :
		    KEYS_ERR_INVAL;
	case KEYS_ROLE_RECEIPT:	/* AES CMAC receipts only (docs/keys.md) */
		return q->alg == KEYS_ALG_AES && (len == 16 || len == 24 ||
		    len == 32) ? 0 : KEYS_ERR_UNSUPPORTED;
	default:
		return KEYS_ERR_UNSUPPORTED;
	}
}

/* The attribute template of a new token key; a has room for 16. */
struct tmpl {
	CK_ATTRIBUTE	a[16];
	CK_ULONG	n;
	CK_OBJECT_CLASS	cls;
	CK_KEY_TYPE	kt;
	CK_BBOOL	yes, no, enc, sign, derive, unwrap;
	CK_ULONG	vlen;
	uint8_t		id[KEYD_ID_LEN];
};

static void
add(struct tmpl *t, CK_ATTRIBUTE_TYPE type, void *p, CK_ULONG n)
{
	t->a[t->n].type = type;
	t->a[t->n].pValue = p;
	t->a[t->n].ulValueLen = n;
	t->n++;
}

/* enc_now: CKA_ENCRYPT on for the KCV, taken off after when not needed. */
static void
tmpl_init(struct tmpl *t, const struct keys_req *q, size_t len, int enc_now,
    int with_len)
{
	memset(t, 0, sizeof(*t));
	t->cls = CKO_SECRET_KEY;
	t->kt = q->alg == KEYS_ALG_DES3 ? CKK_DES2 : q->alg == KEYS_ALG_AES ?
	    CKK_AES : CKK_GENERIC_SECRET;
	t->yes = CK_TRUE;
	t->no = CK_FALSE;
	t->sign = q->role == KEYS_ROLE_HMAC || q->role == KEYS_ROLE_RECEIPT ||
	    (q->role == KEYS_ROLE_MASTER && q->method == GP_DIV_KDF3) ||
	    (q->role >= KEYS_ROLE_ENC && q->role <= KEYS_ROLE_DEK &&
	    q->alg == KEYS_ALG_AES);
	t->derive = q->role == KEYS_ROLE_MASTER && q->method != GP_DIV_KDF3;
	t->enc = enc_now || (q->role >= KEYS_ROLE_ENC &&
	    q->role <= KEYS_ROLE_DEK);
	t->unwrap = q->role == KEYS_ROLE_TRANSPORT;
	t->vlen = len;
	t->id[0] = q->ver;
	t->id[1] = q->role;
	t->id[2] = q->method;
	t->id[3] = q->alg;
	add(t, CKA_CLASS, &t->cls, sizeof(t->cls));
	add(t, CKA_KEY_TYPE, &t->kt, sizeof(t->kt));
	add(t, CKA_TOKEN, &t->yes, sizeof(CK_BBOOL));
	add(t, CKA_PRIVATE, &t->yes, sizeof(CK_BBOOL));
	add(t, CKA_SENSITIVE, &t->yes, sizeof(CK_BBOOL));
	add(t, CKA_EXTRACTABLE, &t->no, sizeof(CK_BBOOL));
	add(t, CKA_LABEL, (void *)(uintptr_t)q->label, strlen(q->label));
	add(t, CKA_ID, t->id, sizeof(t->id));
	add(t, CKA_ENCRYPT, &t->enc, sizeof(CK_BBOOL));
	add(t, CKA_SIGN, &t->sign, sizeof(CK_BBOOL));
	add(t, CKA_DERIVE, &t->derive, sizeof(CK_BBOOL));
	add(t, CKA_UNWRAP, &t->unwrap, sizeof(CK_BBOOL));
	add(t, CKA_WRAP, &t->no, sizeof(CK_BBOOL));
	add(t, CKA_DECRYPT, &t->no, sizeof(CK_BBOOL));
	if (with_len && q->alg != KEYS_ALG_DES3)
		add(t, CKA_VALUE_LEN, &t->vlen, sizeof(t->vlen));
}

/* KCV through the HSM, then the final usages and the KCV in CKA_ID. */
static int
finish(struct keyd *k, CK_OBJECT_HANDLE h, const struct keys_req *q,
    struct tmpl *t, uint8_t kcv[3])
{
	uint8_t in[16], out[16];
	CK_BBOOL enc = q->role >= KEYS_ROLE_ENC && q->role <= KEYS_ROLE_DEK;
	CK_ATTRIBUTE a[2] = {
		{ CKA_ID, t->id, sizeof(t->id) },
		{ CKA_ENCRYPT, &enc, sizeof(enc) },
	};
	int r;

	if (q->alg == KEYS_ALG_HMAC) {
		memset(kcv, 0, 3);	/* HMAC keys have no KCV */
	} else {
		memset(in, q->alg == KEYS_ALG_AES ? 0x01 : 0x00, sizeof(in));
		if ((r = keyd_encrypt(k, h, q->alg == KEYS_ALG_AES ?
		    CKM_AES_ECB : CKM_DES3_ECB, in, q->alg == KEYS_ALG_AES ?
		    16 : 8, out)) != 0)
			return r;
		memcpy(kcv, out, 3);
	}
	memcpy(t->id + 4, kcv, 3);
	return keyd_rv(k->f->C_SetAttributeValue(k->sh, h, a,
	    t->enc && !enc ? 2 : 1));
}

int
keyd_generate(struct keyd *k, const struct keys_req *q, uint8_t kcv[3])
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct tmpl t;
	int r;

	if ((r = check_shape(q, q->klen)) != 0)
		return r;
	if (keyd_exists(k, q->label, q->ver, q->role))
		return KEYS_ERR_EXISTS;
	if (q->alg == KEYS_ALG_DES3)
		m.mechanism = CKM_DES2_KEY_GEN;
	else if (q->alg == KEYS_ALG_HMAC)
		m.mechanism = CKM_GENERIC_SECRET_KEY_GEN;
	tmpl_init(&t, q, q->klen, q->alg != KEYS_ALG_HMAC, 1);
	if ((r = keyd_rv(k->f->C_GenerateKey(k->sh, &m, t.a, t.n, &h))) != 0)
		return r;
	if ((r = finish(k, h, q, &t, kcv)) != 0)
		keyd_destroy(k, h);
	return r;
}

int
keyd_import(struct keyd *k, const struct keys_req *q, uint8_t kcv[3])
{
	uint8_t key[GP_KEY_MAX], c[3];
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	size_t len = q->complen[0], i, j;
	struct tmpl t;
	int r;

	memset(key, 0, sizeof(key));
	if ((r = check_shape(q, len)) != 0 || q->alg == KEYS_ALG_HMAC)
		return r != 0 ? r : KEYS_ERR_UNSUPPORTED;
	if (keyd_exists(k, q->label, q->ver, q->role))
		return KEYS_ERR_EXISTS;
	for (i = 0; i < q->ncomp; i++) {
		if (q->complen[i] != len) {
			r = KEYS_ERR_INVAL;
			goto out;
		}
		if ((r = keys_kcv(q->alg, q->comp[i], len, c)) != 0)
			goto out;
		if (gp_ct_memcmp(c, q->kcv[i], 3) != 0) {
			r = KEYS_ERR_KCV;
			goto out;
		}
		for (j = 0; j < len; j++)
			key[j] ^= q->comp[i][j];
	}
	tmpl_init(&t, q, len, 1, 0);
	add(&t, CKA_VALUE, key, len);
	if ((r = keyd_rv(k->f->C_CreateObject(k->sh, t.a, t.n, &h))) != 0)
		goto out;
	if ((r = finish(k, h, q, &t, kcv)) != 0)
		keyd_destroy(k, h);
out:
	gp_wipe(key, sizeof(key));
	gp_wipe(c, sizeof(c));
	return r;
}

int
keyd_import_wrapped(struct keyd *k, const struct keys_req *q, uint8_t kcv[3])
{
	CK_MECHANISM m = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct keyd_obj *tk;
	struct tmpl t;
	int r;

	if ((r = check_shape(q, q->klen)) != 0 || q->alg == KEYS_ALG_HMAC)
		return r != 0 ? r : KEYS_ERR_UNSUPPORTED;
	if (keyd_exists(k, q->label, q->ver, q->role))
		return KEYS_ERR_EXISTS;
	if ((r = keyd_find(k, q->label2, q->ver2, KEYS_ROLE_TRANSPORT,
	    &tk)) != 0)
		return r;
	tmpl_init(&t, q, q->klen, 1, 0);
	if ((r = keyd_rv(k->f->C_UnwrapKey(k->sh, &m, tk->ses,
	    (CK_BYTE *)(uintptr_t)q->blob, q->bloblen, t.a, t.n, &h))) != 0)
		return r == KEYS_ERR_HSM ? KEYS_ERR_KCV : r;
	if ((r = finish(k, h, q, &t, kcv)) == 0 &&
	    gp_ct_memcmp(kcv, q->kcv[0], 3) != 0)
		r = KEYS_ERR_KCV;
	if (r != 0)
		keyd_destroy(k, h);
	return r;
}
