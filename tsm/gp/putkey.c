/*
 * PUT KEY and STORE DATA key loading. Layouts: GP Card Specification
 * 2.3.1 11.8.2.3 (key data field: type, LV key data, LV check value),
 * Amendment D 7.2 (AES key data = key length ‖ encrypted key) and the
 * DGI 00B9/8113 layout of FORMAT.md (storedata.keys).
 */
#include <string.h>

#include "gp/apdu.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/putkey.h"

int
gp_keyenc_scp02(struct gp_des3 *dek, const uint8_t key[16], uint8_t out[16])
{
	if (dek == NULL || key == NULL)
		return GP_ERR_INVAL;
	return gp_des3_ecb_enc(dek, key, 16, out);
}

int
gp_keyenc_scp03(struct gp_aes *dek, const uint8_t *key, size_t n,
    struct gp_wr *w)
{
	static const uint8_t iv[GP_AES_BLOCK];
	uint8_t c[GP_KEY_MAX];
	int r;

	if (dek == NULL || key == NULL || (n != 16 && n != 32))
		return GP_ERR_INVAL;
	if ((r = gp_aes_cbc_enc(dek, iv, key, n, c)) != 0)
		goto out;
	if ((r = gp_wr_reserve(w, 1 + n)) != 0 ||
	    (r = gp_wr_u8(w, (uint8_t)n)) != 0)
		goto out;
	r = gp_wr_put(w, c, n);
 out:
	gp_wipe(c, sizeof(c));
	return r;
}

static int
putkey_check(const struct gp_putkey *pk, int aes)
{
	size_t i;

	if (pk->nkeys == 0 || pk->nkeys > GP_PUTKEY_MAX ||
	    (pk->old_kvn & 0x80) || (pk->key_id & 0x80) || pk->new_kvn == 0)
		return GP_ERR_INVAL;
	if (aes ? pk->key_len != 16 && pk->key_len != 32 : pk->key_len != 16)
		return GP_ERR_INVAL;
	for (i = 0; i < pk->nkeys; i++)
		if (pk->keys[i] == NULL)
			return GP_ERR_INVAL;
	return 0;
}

static int
kcv(const uint8_t *key, size_t n, int aes, uint8_t out[3])
{
	return aes ? gp_kcv_aes(key, n, out) : gp_kcv_des3(key, out);
}

/* type ‖ LV(key data) ‖ LV(KCV): SCP03 key data is length ‖ ciphertext. */
static int
put_key_write(struct gp_wr *d, int aes, const uint8_t *enc, size_t n,
    const uint8_t k[3])
{
	int r;

	if ((r = gp_wr_u8(d, aes ? GP_KEYTYPE_AES : GP_KEYTYPE_DES)) != 0)
		return r;
	if (aes && ((r = gp_wr_u8(d, (uint8_t)(n + 1))) != 0 ||
	    (r = gp_wr_u8(d, (uint8_t)n)) != 0 || (r = gp_wr_put(d, enc, n))))
		return r;
	if (!aes && (r = gp_wr_lv(d, enc, n)) != 0)
		return r;
	return gp_wr_lv(d, k, 3);
}

/* Encrypts one clear key under the DEK, then writes its field. */
static int
put_key_field(struct gp_wr *d, const uint8_t *key, size_t n,
    struct gp_des3 *des, struct gp_aes *aes)
{
	uint8_t buf[1 + GP_KEY_MAX], k[3];
	struct gp_wr e;
	int r;

	gp_wr_init(&e, buf, sizeof(buf));
	if (aes != NULL)
		r = gp_keyenc_scp03(aes, key, n, &e);	/* length ‖ cipher */
	else if ((r = gp_keyenc_scp02(des, key, buf + 1)) == 0)
		e.len = 1 + 16;
	if (r == 0 && (r = kcv(key, n, aes != NULL, k)) == 0)
		r = put_key_write(d, aes != NULL, buf + 1, e.len - 1, k);
	gp_wipe(buf, sizeof(buf));
	return r;
}

/* One PUT KEY: new KVN then a field per key (clear keys encrypted here
 * with des/aes, or already encrypted when kcvs is given). */
static int
put_key(const struct gp_putkey *pk, struct gp_des3 *des, struct gp_aes *aes,
    int is_aes, const uint8_t (*kcvs)[3], struct gp_wr *w)
{
	uint8_t buf[GP_APDU_SHORT_MAX];
	struct gp_wr d;
	struct gp_apdu a;
	size_t i;
	int r;

	if ((r = putkey_check(pk, is_aes)) != 0)
		return r;
	gp_wr_init(&d, buf, sizeof(buf));
	if ((r = gp_wr_u8(&d, pk->new_kvn)) != 0)
		goto out;
	for (i = 0; i < pk->nkeys; i++) {
		if (kcvs != NULL)
			r = put_key_write(&d, is_aes, pk->keys[i], pk->key_len,
			    kcvs[i]);
		else
			r = put_key_field(&d, pk->keys[i], pk->key_len, des,
			    aes);
		if (r != 0)
			goto out;
	}
	memset(&a, 0, sizeof(a));
	a.cla = GP_CLA_GP;
	a.ins = GP_INS_PUT_KEY;
	a.p1 = pk->old_kvn;	/* b8 = 0: the last (only) PUT KEY */
	a.p2 = pk->key_id | (pk->nkeys > 1 ? 0x80 : 0x00);
	a.data = buf;
	a.lc = d.len;
	a.ne = 256;
	r = gp_apdu_encode(&a, w);
 out:
	gp_wipe(buf, sizeof(buf));
	return r;
}

int
gp_cmd_put_key_scp02(const struct gp_putkey *pk, struct gp_des3 *dek,
    struct gp_wr *w)
{
	if (dek == NULL)
		return GP_ERR_INVAL;
	return put_key(pk, dek, NULL, 0, NULL, w);
}

int
gp_cmd_put_key_scp03(const struct gp_putkey *pk, struct gp_aes *dek,
    struct gp_wr *w)
{
	if (dek == NULL)
		return GP_ERR_INVAL;
	return put_key(pk, NULL, dek, 1, NULL, w);
}

int
gp_cmd_put_key_enc(const struct gp_putkey *pk, int aes,
    const uint8_t (*kcv)[3], struct gp_wr *w)
{
	if (kcv == NULL)
		return GP_ERR_INVAL;
	return put_key(pk, NULL, NULL, aes, kcv, w);
}

int
gp_put_key_verify(const struct gp_putkey *pk, int aes, const uint8_t *rsp,
    size_t n)
{
	uint8_t k[3];
	size_t i;
	int r, bad = 0;

	if ((r = putkey_check(pk, aes)) != 0)
		return r;
	if (rsp == NULL || n != 1 + 3 * pk->nkeys)
		return GP_ERR_FORMAT;
	if (rsp[0] != pk->new_kvn)
		return GP_ERR_AUTH;
	for (i = 0; i < pk->nkeys; i++) {
		if ((r = kcv(pk->keys[i], pk->key_len, aes, k)) != 0)
			return r;
		bad |= gp_ct_memcmp(k, rsp + 1 + 3 * i, 3) != 0;
	}
	return bad ? GP_ERR_AUTH : 0;
}

/* DGI 00B9: B7 key attributes, then B9 {82 id, 84 KCV} per key. */
static int
sd_keys_attrs(const struct gp_sd_keys *sk, struct gp_wr *v)
{
	uint8_t k[3];
	size_t i;
	int r;

	const uint8_t b7[18] = { 0xB7, 0x10, 0x80, 0x01, sk->type,
	    0x81, 0x01, (uint8_t)sk->key_len, 0x83, 0x01, sk->kvn,
	    0x96, 0x01, sk->access, 0x97, 0x02, (uint8_t)(sk->purpose >> 8),
	    (uint8_t)sk->purpose };

	if ((r = gp_wr_put(v, b7, sizeof(b7))) != 0)
		return r;
	for (i = 0; i < sk->nkeys; i++) {
		if ((r = gp_kcv_aes(sk->keys[i].value, sk->key_len, k)) != 0)
			return r;
		const uint8_t b9[10] = { 0xB9, 0x08, 0x82, 0x01,
		    sk->keys[i].id, 0x84, 0x03, k[0], k[1], k[2] };
		if ((r = gp_wr_put(v, b9, sizeof(b9))) != 0)
			return r;
	}
	return 0;
}

int
gp_storedata_keys(struct gp_aes *dek, const struct gp_sd_keys *sk,
    struct gp_wr *w)
{
	struct gp_wr v;
	size_t i;
	int r;

	if (dek == NULL || sk->type != GP_KEYTYPE_AES || sk->nkeys == 0 ||
	    sk->keys == NULL || (sk->key_len != 16 && sk->key_len != 24 &&
	    sk->key_len != 32))
		return GP_ERR_INVAL;
	for (i = 0; i < sk->nkeys; i++)
		if (sk->keys[i].value == NULL)
			return GP_ERR_INVAL;
	gp_wr_init_dyn(&v, GP_DGI_MAX);
	if ((r = sd_keys_attrs(sk, &v)) != 0 ||
	    (r = gp_dgi_put(w, 0x00B9, v.p, v.len)) != 0)
		goto out;
	for (i = 0; i < sk->nkeys; i++)
		if ((r = gp_dgi_put_aes(w, 0x8113, dek, sk->keys[i].value,
		    sk->key_len)) != 0)
			goto out;
 out:
	gp_wr_free(&v);
	return r;
}
