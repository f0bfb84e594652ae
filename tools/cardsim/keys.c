/*
 * The ISD's key sets: lookup, key information (E0), and PUT KEY on the
 * card side (GP 2.3.1 11.8; Amendment D 7.2 for AES): the key components
 * arrive encrypted under the DEK (SCP02: session DEK, 3DES-ECB; SCP03:
 * static DEK, AES-CBC IV 0) and are checked against their KCVs before
 * anything is stored. Clear keys live in wiped locals only.
 */
#include <string.h>

#include "gp/cmd.h"
#include "gp/putkey.h"
#include "gp/tlv.h"
#include "sim_int.h"

struct sim_keyset *
sim_ks_find(struct sim_state *st, uint8_t kvn)
{
	size_t k;

	for (k = 0; k < st->nks; k++)
		if (st->ks[k].kvn == kvn)
			return &st->ks[k];
	return NULL;
}

int
sim_ks_to_gp(const struct sim_keyset *ks, struct gp_keyset *g)
{
	memset(g, 0, sizeof(*g));
	memcpy(g->enc, ks->enc, ks->len);
	memcpy(g->mac, ks->mac, ks->len);
	memcpy(g->dek, ks->dek, ks->len);
	g->len = ks->len;
	g->kvn = ks->kvn;
	return 0;
}

/* E0 { C0 04 id kvn type len } per key, ids 1 (ENC), 2 (MAC), 3 (DEK). */
int
sim_key_info(const struct sim_state *st, struct gp_wr *w)
{
	uint8_t c0[4];
	size_t mark, k, id;
	int r;

	if ((r = gp_tlv_open(w, 0xE0, &mark)) != 0)
		return r;
	for (k = 0; k < st->nks; k++)
		for (id = 1; id <= 3; id++) {
			c0[0] = (uint8_t)id;
			c0[1] = st->ks[k].kvn;
			c0[2] = st->ks[k].type;
			c0[3] = (uint8_t)st->ks[k].len;
			if ((r = gp_tlv_put(w, 0xC0, c0, sizeof(c0))) != 0)
				return r;
		}
	return gp_tlv_close(w, mark);
}

/* Decrypts n bytes (a multiple of the block) under the session's DEK. */
int
sim_dek_decrypt(struct sim_card *c, const uint8_t *in, size_t n, uint8_t *out)
{
	static const uint8_t iv[16];
	struct gp_des3 des;
	struct gp_aes aes;
	int r;

	memset(&des, 0, sizeof(des));
	memset(&aes, 0, sizeof(aes));
	if (c->scp.proto == 3) {
		if (n % 16 != 0 || (r = gp_aes_init(&aes, c->scp.dek,
		    c->scp.klen)) != 0)
			return GP_ERR_FORMAT;
		r = gp_aes_cbc_dec(&aes, iv, in, n, out);
		gp_aes_free(&aes);
		return r;
	}
	if (n % 8 != 0 || (r = gp_des3_init(&des, c->scp.dek)) != 0)
		return GP_ERR_FORMAT;
	r = gp_des3_ecb_dec(&des, in, n, out);
	gp_des3_free(&des);
	return r;
}

/* type ‖ LV(key data) ‖ LV(KCV) -> clear key in key[], length in *klen. */
static int
put_key_one(struct sim_card *c, struct gp_rd *rd, uint8_t *key, size_t *klen,
    uint8_t kcv[3])
{
	const uint8_t *kd, *cv;
	size_t kdn, cvn, n;
	uint8_t type, calc[3];
	int aes = c->st.proto == 3, r;

	if (gp_rd_u8(rd, &type) || gp_rd_lv(rd, &kd, &kdn) ||
	    gp_rd_lv(rd, &cv, &cvn) || (cvn != 0 && cvn != 3))
		return GP_ERR_FORMAT;
	if (type != (aes ? GP_KEYTYPE_AES : GP_KEYTYPE_DES))
		return GP_ERR_FORMAT;
	if (aes) {	/* key length ‖ ciphertext */
		if (kdn < 17 || (n = kd[0]) > kdn - 1 || (n != 16 && n != 24 &&
		    n != 32) || kdn - 1 > 32)
			return GP_ERR_FORMAT;
		r = sim_dek_decrypt(c, kd + 1, kdn - 1, key);
	} else {
		if ((n = kdn) != 16)
			return GP_ERR_FORMAT;
		r = sim_dek_decrypt(c, kd, kdn, key);
	}
	if (r != 0)
		return GP_ERR_FORMAT;
	r = aes ? gp_kcv_aes(key, n, calc) : gp_kcv_des3(key, calc);
	if (r != 0 || (cvn == 3 && gp_ct_memcmp(calc, cv, 3) != 0))
		return GP_ERR_AUTH;
	memcpy(kcv, calc, 3);
	*klen = n;
	return 0;
}

/* Which key set PUT KEY writes: a new one (P1 00) or the one named. */
static uint16_t
put_key_target(struct sim_card *c, uint8_t p1, uint8_t newkvn,
    struct sim_keyset **ks)
{
	struct sim_keyset *other = sim_ks_find(&c->st, newkvn);

	if (newkvn == 0 || newkvn > 0x7F)
		return SW_WRONG_DATA;
	if (p1 == 0) {
		if (other != NULL)
			return SW_WRONG_DATA;	/* version already present */
		if (c->st.nks == SIM_KS_MAX)
			return SW_NO_MEMORY;
		*ks = &c->st.ks[c->st.nks];
		return SW_OK;
	}
	if ((*ks = sim_ks_find(&c->st, p1)) == NULL)
		return SW_REF_NOT_FOUND;
	if (other != NULL && other != *ks)
		return SW_WRONG_DATA;
	return SW_OK;
}

static void
put_key_store(struct sim_card *c, struct sim_keyset *ks, uint8_t kvn,
    uint8_t id, size_t nkeys, uint8_t keys[3][32], size_t klen)
{
	uint8_t *dst[3] = { ks->enc, ks->mac, ks->dek };
	size_t k;

	if (ks == &c->st.ks[c->st.nks]) {
		memset(ks, 0, sizeof(*ks));
		ks->seq = c->st.proto == 3 ? 0 : 1;
		c->st.nks++;
	}
	ks->kvn = kvn;
	ks->type = c->st.proto == 3 ? GP_KEYTYPE_AES : GP_KEYTYPE_DES;
	ks->len = klen;
	ks->fails = 0;
	for (k = 0; k < nkeys; k++)
		memcpy(dst[id - 1 + k], keys[k], klen);
	c->dirty = 1;
}

static uint16_t
put_key_parse(struct sim_card *c, struct gp_rd *rd, size_t max,
    uint8_t keys[3][32], size_t *nkeys, size_t *klen, uint8_t kcv[3][3])
{
	size_t k, n;

	for (k = 0; k < max && gp_rd_left(rd) > 0; k++) {
		if (put_key_one(c, rd, keys[k], &n, kcv[k]) != 0)
			return SW_WRONG_DATA;
		if (k > 0 && n != *klen)
			return SW_WRONG_DATA;
		*klen = n;
	}
	*nkeys = k;
	return k > 0 && gp_rd_left(rd) == 0 ? SW_OK : SW_WRONG_DATA;
}

static uint16_t
put_key_reply(struct sim_card *c, struct sim_keyset *ks, uint8_t newkvn,
    uint8_t id, size_t nkeys, uint8_t keys[3][32], size_t klen,
    uint8_t kcv[3][3], struct gp_wr *o)
{
	size_t k;

	if (c->st.proto == 3 && nkeys < 3 && ks != &c->st.ks[c->st.nks] &&
	    klen != ks->len)
		return SW_WRONG_DATA;	/* one key of another length */
	if (gp_wr_u8(o, newkvn) != 0)
		return SW_NO_MEMORY;
	for (k = 0; k < nkeys; k++)
		if (gp_wr_put(o, kcv[k], 3) != 0)
			return SW_NO_MEMORY;
	put_key_store(c, ks, newkvn, id, nkeys, keys, klen);
	return SW_OK;
}

uint16_t
sim_put_key(struct sim_card *c, const struct gp_apdu *a, struct gp_wr *o)
{
	uint8_t keys[3][32], kcv[3][3], id = a->p2 & 0x7F, newkvn;
	struct sim_keyset *ks = NULL;
	size_t nkeys = 0, klen = 0;
	struct gp_rd rd;
	uint16_t sw;

	if ((a->p1 & 0x80) || id < 1 || id > 3)
		return SW_WRONG_P1P2;
	gp_rd_init(&rd, a->data, a->lc);
	if (gp_rd_u8(&rd, &newkvn) != 0)
		return SW_WRONG_LEN;
	if ((sw = put_key_target(c, a->p1, newkvn, &ks)) != SW_OK)
		return sw;
	sw = put_key_parse(c, &rd, (a->p2 & 0x80) ? 4u - id : 1, keys,
	    &nkeys, &klen, kcv);
	if (sw == SW_OK && a->p1 == 0 && (id != 1 || nkeys != 3))
		sw = SW_WRONG_DATA;	/* a new key set comes whole */
	if (sw == SW_OK)
		sw = put_key_reply(c, ks, newkvn, id, nkeys, keys, klen, kcv,
		    o);
	gp_wipe(keys, sizeof(keys));
	return sw;
}
